"""Trusted time (可信时间戳): RFC 3161 time-stamp tokens in court bundles, checked offline.

A block's timestamp is whatever its proposer wrote. An RFC 3161 token is a time-stamping authority's (TSA)
signed statement that a hash existed at its ``genTime``; Chinese courts routinely accept such trusted
timestamps. The platform's time service (授时服务机构, TJIFA §7.1.4) obtains one

- over each **checkpoint** — its message imprint is SHA-256 of the checkpoint text (``ledger checkpoint/2``:
  chain, block number, block hash, registry contracts), so the token says the signed block, and every block
  its header chain links back to, existed no later than ``genTime``;
- on request over a **digest** (a certificate's or a piece of evidence's SHA-256): the imprint is the digest
  itself, so ``openssl ts -verify -digest`` checks it too.

``check_token`` recomputes the imprint from what the bundle proves, then — only with TSA roots the verifier
brings (``--tsa-root``), never roots from the bundle — checks the token's signature, its certificate chain to
one of those roots at ``genTime``, and the TSA certificate's critical ``timeStamping`` extended key usage
(rfc3161-client). Without roots the time is reported *unverified*, never verified.

This module needs only rfc3161-client, cryptography and hashing: the offline verifier imports it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from rfc3161_client import PKIStatus, TimeStampResponse, VerificationError, VerifierBuilder, decode_timestamp_response

from ledger.errors import LedgerValueError
from ledger.hashing import HashAlgorithm, digest_bytes, to_hex
from ledger.proofs.authority import checkpoint_text

SHA256_OID = "2.16.840.1.101.3.4.2.1"
_OPENSSL_REASON = re.compile(r'(?:data|reason): "([^"]+)"')
CHINA = timezone(timedelta(hours=8))
Subject = Literal["checkpoint", "digest"]
SUBJECTS: tuple[Subject, ...] = ("checkpoint", "digest")


def checkpoint_imprint(chain_id: int, block_number: int, block_hash: bytes, contracts: Mapping[str, str]) -> bytes:
    """The message imprint of a checkpoint's token: SHA-256 of the checkpoint text the authorities sign."""
    return digest_bytes(checkpoint_text(chain_id, block_number, block_hash, contracts).encode())


def digest_imprint(digest: bytes, algorithm: HashAlgorithm) -> bytes:
    """The message imprint of a digest's token: the SHA-256 digest itself (RFC 3161 names no OID for Keccak-256,
    and a token over a hash of a hash would not verify with standard tools against the original file)."""
    if algorithm is not HashAlgorithm.SHA256:
        raise LedgerValueError(f"an RFC 3161 token is taken over a SHA-256 digest, not {algorithm.label}: anchor the "
                               "file's SHA-256 too, or rely on the checkpoint's token")
    return digest


def encode_token(der: bytes) -> str:
    return base64.b64encode(der).decode("ascii")


def decode_token(text: Any) -> bytes:
    if not isinstance(text, str):
        raise LedgerValueError("a time-stamp token is not base64 text")
    try:
        der = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise LedgerValueError("a time-stamp token is not base64") from None
    if encode_token(der) != text:  # one spelling only: a changed padding bit is a changed byte
        raise LedgerValueError("a time-stamp token is not in canonical base64")
    return der


def parse_token(der: bytes) -> TimeStampResponse:
    """The RFC 3161 ``TimeStampResp`` in ``der`` (refused unless it parses and was granted)."""
    try:
        response = decode_timestamp_response(der)
    except (ValueError, TypeError) as exc:
        raise LedgerValueError(f"not an RFC 3161 time-stamp response: {exc}") from None
    if response.status != PKIStatus.GRANTED:
        raise LedgerValueError(f"the TSA did not grant the time stamp (status {response.status})")
    if response.as_bytes() != der:
        raise LedgerValueError("the time-stamp response is not in its DER encoding")
    return response


def _leaf(response: TimeStampResponse) -> x509.Certificate | None:
    signers = list(response.signed_data.signer_infos)
    if len(signers) != 1:
        return None
    for raw in response.signed_data.certificates:
        cert = x509.load_der_x509_certificate(raw)
        if cert.issuer == signers[0].issuer and cert.serial_number == signers[0].serial_number:
            return cert
    return None


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER encoding (what a report prints for a TSA root)."""
    return to_hex(digest_bytes(cert.public_bytes(Encoding.DER)))


@dataclass(frozen=True)
class TokenInfo:
    """What a time-stamp token states (read from it; true only once ``check_token`` verified it)."""

    gen_time: datetime  # UTC
    serial_number: int
    policy: str
    imprint: bytes
    hash_algorithm: str
    tsa: str  # the TSA's certificate subject (or its name in the token)
    issuer: str
    signature_algorithm: str
    accuracy_seconds: int | None

    def when(self) -> str:
        """genTime in UTC and Beijing time."""
        utc = self.gen_time.astimezone(UTC)
        return (f"{utc.strftime('%Y-%m-%dT%H:%M:%SZ')} (北京时间 {utc.astimezone(CHINA).strftime('%Y-%m-%d %H:%M:%S')})"
                + (f" ±{self.accuracy_seconds} s" if self.accuracy_seconds else ""))

    def as_dict(self) -> dict[str, Any]:
        return {"gen_time": self.gen_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "serial_number": str(self.serial_number), "policy": self.policy, "imprint": to_hex(self.imprint),
                "hash_algorithm": self.hash_algorithm, "tsa": self.tsa, "issuer": self.issuer,
                "signature_algorithm": self.signature_algorithm, "accuracy_seconds": self.accuracy_seconds}


def token_info(response: TimeStampResponse) -> TokenInfo:
    info = response.tst_info
    leaf = _leaf(response)
    algorithm = info.message_imprint.hash_algorithm
    try:
        accuracy: int | None = info.accuracy.seconds
    except Exception:  # the accuracy field is optional
        accuracy = None
    gen_time = info.gen_time if info.gen_time.tzinfo else info.gen_time.replace(tzinfo=UTC)
    signature = "unknown"
    if leaf is not None and leaf.signature_algorithm_oid is not None:
        signature = getattr(leaf.signature_algorithm_oid, "_name", None) or leaf.signature_algorithm_oid.dotted_string
    return TokenInfo(
        gen_time=gen_time, serial_number=info.serial_number, policy=info.policy.dotted_string,
        imprint=bytes(info.message_imprint.message),
        hash_algorithm="sha256" if algorithm.dotted_string == SHA256_OID else algorithm.dotted_string,
        tsa=leaf.subject.rfc4514_string() if leaf is not None else "(no TSA certificate in the token)",
        issuer=leaf.issuer.rfc4514_string() if leaf is not None else "",
        signature_algorithm=signature, accuracy_seconds=accuracy)


def load_tsa_roots(path: Path) -> list[x509.Certificate]:
    """Trusted TSA root certificates from a PEM file (one or more certificates) or a DER file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LedgerValueError(f"cannot read TSA roots from {path}: {exc.strerror}") from exc
    try:
        roots = x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data else [x509.load_der_x509_certificate(
            data)]
    except ValueError as exc:
        raise LedgerValueError(f"{path} holds no X.509 certificate (PEM or DER): {exc}") from None
    if not roots:
        raise LedgerValueError(f"{path} holds no X.509 certificate")
    return roots


@dataclass(frozen=True)
class TokenCheck:
    """The outcome of checking one token: ``status`` is ``verified`` (signature and chain reach a given root),
    ``unverified`` (consistent, but no TSA root was given) or ``failed``."""

    subject: Subject
    status: Literal["verified", "unverified", "failed"]
    detail: str
    info: TokenInfo | None = None
    root: str | None = None  # subject and SHA-256 of the root the chain reached
    block_number: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "block_number": self.block_number, "status": self.status,
                "detail": self.detail, "root": self.root, "token": self.info.as_dict() if self.info else None}


def check_token(der: bytes, expected_imprint: bytes, subject: Subject, what: str,
                roots: Sequence[x509.Certificate] | None, block_number: int | None = None) -> TokenCheck:
    """Checks a token whose imprint must be ``expected_imprint`` (over ``what``, in words) against ``roots``."""
    def failed(detail: str, info: TokenInfo | None = None) -> TokenCheck:
        return TokenCheck(subject, "failed", detail, info, block_number=block_number)

    try:
        response = parse_token(der)
        info = token_info(response)
    except LedgerValueError as exc:
        return failed(exc.user_message)
    if info.hash_algorithm != "sha256":
        return failed(f"the token's imprint is hashed with {info.hash_algorithm}, not SHA-256", info)
    if info.imprint != expected_imprint:
        return failed(f"the token is over {to_hex(info.imprint)}, not over {what} ({to_hex(expected_imprint)}): it "
                      "does not time-stamp this bundle", info)
    claim = f"{info.tsa} states that {what} existed at {info.when()} (token serial {info.serial_number})"
    if not roots:
        return TokenCheck(subject, "unverified", f"{claim}; no TSA root was given (--tsa-root), so this time is NOT "
                          "verified", info, block_number=block_number)
    reasons = []
    for root in roots:
        try:
            VerifierBuilder().add_root_certificate(root).build().verify(response, expected_imprint)
        except (VerificationError, ValueError) as exc:
            found = _OPENSSL_REASON.findall(str(exc))  # OpenSSL's error stack: its own words, not the dump
            reasons.append(found[-1] if found else str(exc))
            continue
        name = f"{root.subject.rfc4514_string()} (SHA-256 {fingerprint(root)})"
        return TokenCheck(subject, "verified", f"{claim}; signature and certificate chain verified to TSA root "
                          f"{name}", info, root=name, block_number=block_number)
    return failed(f"{claim}, but its signature or certificate chain does not verify to the given TSA root(s): "
                  f"{reasons[-1] if reasons else 'no root'} — the time is NOT verified", info)
