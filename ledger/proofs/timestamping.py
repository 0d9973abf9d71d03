"""The time service (授时服务, TJIFA §7.1.4): RFC 3161 tokens from a time-stamping authority, kept per deployment.

The platform's time-service role asks the configured TSA (``LEDGER_TSA_URL``; in development the local OpenSSL
TSA of ``ledger tsa up``, :mod:`ledger.devtsa`) for a token over each checkpoint it signs — imprint: SHA-256 of
the checkpoint text — and, on request, over a certificate's or a piece of evidence's SHA-256 digest. Tokens are
stored (``time_stamp_token``) so every bundle that rests on a checkpoint carries the same token. A reply is
checked before it is stored: it parses, was granted, covers exactly the imprint asked for and echoes the
request's nonce (whether the TSA is *trusted* is for the verifier and its ``--tsa-root`` to say).

The request is built here (DER of RFC 3161 ``TimeStampReq``: version 1, SHA-256 imprint, nonce, certReq) so
that a digest can be stamped as itself; replies are parsed with rfc3161-client.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

import requests
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ledger.db import session_scope
from ledger.errors import LedgerValueError, TimeStampError
from ledger.hashing import HashAlgorithm, to_hex
from ledger.models import TimeStampToken
from ledger.proofs.timestamps import Subject, checkpoint_imprint, digest_imprint, parse_token, token_info

#: DER of AlgorithmIdentifier { id-sha256, NULL }.
SHA256_ALGORITHM = bytes.fromhex("300d06096086480165030402010500")
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
MAX_REPLY_BYTES = 64 * 1024


def _tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _integer(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")  # a leading zero byte keeps it positive
    while len(body) > 1 and body[0] == 0 and body[1] < 0x80:
        body = body[1:]
    return _tlv(0x02, body)


def timestamp_request(imprint: bytes, nonce: int) -> bytes:
    """DER of a ``TimeStampReq`` for a SHA-256 ``imprint``, asking for the TSA's certificate (RFC 3161 §2.4.1)."""
    if len(imprint) != 32:
        raise LedgerValueError("an RFC 3161 request needs a 32-byte SHA-256 imprint")
    message_imprint = _tlv(0x30, SHA256_ALGORITHM + _tlv(0x04, imprint))
    return _tlv(0x30, _integer(1) + message_imprint + _integer(nonce) + _tlv(0x01, b"\xff"))


def request_token(url: str, imprint: bytes, timeout: float = 20.0) -> bytes:
    """The TSA's ``TimeStampResp`` (DER) over ``imprint``, checked to answer this very request."""
    nonce = secrets.randbits(63)
    try:
        reply = requests.post(url, data=timestamp_request(imprint, nonce), headers={"Content-Type": QUERY_TYPE},
                              timeout=timeout)
    except requests.RequestException as exc:
        raise TimeStampError(f"the time-stamping authority at {url} did not answer: {exc.__class__.__name__}") from exc
    if reply.status_code != 200 or len(reply.content) > MAX_REPLY_BYTES:
        raise TimeStampError(f"the time-stamping authority at {url} answered HTTP {reply.status_code} "
                             f"({len(reply.content)} bytes), not a time-stamp reply")
    try:
        response = parse_token(reply.content)
    except LedgerValueError as exc:
        raise TimeStampError(f"the time-stamping authority at {url} sent no usable token: {exc.user_message}") from exc
    info = response.tst_info
    if bytes(info.message_imprint.message) != imprint or info.nonce != nonce:
        raise TimeStampError(f"the time-stamping authority at {url} answered another request (imprint or nonce "
                             "differs)")
    return bytes(reply.content)


class TimeService:
    """The time-service role of one deployment: obtains and keeps RFC 3161 tokens from the TSA at ``tsa_url``."""

    def __init__(self, engine: Engine, deployment_id: str, tsa_url: str) -> None:
        self.engine = engine
        self.deployment_id = deployment_id
        self.tsa_url = tsa_url

    def stored(self, subject: Subject, ref: str) -> bytes | None:
        with Session(self.engine) as session:
            row = session.exec(select(TimeStampToken).where(
                TimeStampToken.deployment == self.deployment_id, TimeStampToken.subject == subject,
                TimeStampToken.ref == ref)).first()
            return bytes(row.token) if row is not None else None

    def _obtain(self, subject: Subject, ref: str, imprint: bytes) -> bytes:
        existing = self.stored(subject, ref)
        if existing is not None:
            return existing
        token = request_token(self.tsa_url, imprint)
        try:
            with session_scope(self.engine) as session:
                session.add(TimeStampToken(deployment=self.deployment_id, subject=subject, ref=ref,
                                           imprint=to_hex(imprint), tsa_url=self.tsa_url, token=token,
                                           gen_time=token_info(parse_token(token)).gen_time))
        except IntegrityError:  # another process stamped it meanwhile: keep the first token
            pass
        stored = self.stored(subject, ref)
        return stored if stored is not None else token

    def checkpoint_token(self, chain_id: int, block_number: int, block_hash: bytes,
                         contracts: Mapping[str, str]) -> bytes:
        """The token over the checkpoint text of ``block_number`` (obtained now if there is none yet)."""
        return self._obtain("checkpoint", str(block_number),
                            checkpoint_imprint(chain_id, block_number, block_hash, contracts))

    def digest_token(self, digest: bytes, algorithm: HashAlgorithm = HashAlgorithm.SHA256) -> bytes:
        """The token over a SHA-256 digest (a certificate's or a piece of evidence's), on request."""
        return self._obtain("digest", to_hex(digest), digest_imprint(digest, algorithm))
