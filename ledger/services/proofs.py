"""Proof use cases: the platform's trust list, authority checkpoints, court bundles and online verification.

- ``trust_list``: what the platform publishes for offline verifiers (``ledger.proofs.trust``).
- ``ensure_checkpoint``: a bundle needs a signed block at or after the one it proves; an export finishes in
  one call (issue #7) — it signs with the endorser keys this installation holds, or waits for the
  authorities' next checkpoint.
- ``export_evidence_bundle``: the court bundle of an anchored digest, with the time service's RFC 3161 tokens
  over its checkpoints (and, on request, over the digest) when a TSA is configured (issue #13).
- ``stamp_checkpoint``: the time service's token over a checkpoint, as soon as it is signed.
- ``verify_evidence``: "is this digest anchored?" — and, for a certificate, is it still the valid one
  (REGISTRATION_RULES §3.8, §5.3): the same assessment the offline verifier makes, on the chain's state now.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlmodel import Session

from ledger.context import Ledger
from ledger.errors import ConfigurationError, NotFoundError
from ledger.evidence import ENDORSER_ROLE, EndorserKind, Verification
from ledger.hashing import HashAlgorithm, parse_digest, to_hex
from ledger.indexer.read_models import IxUnit
from ledger.lifecycle import UnitStatus
from ledger.models import StoredDocument
from ledger.proofs import qbft
from ledger.proofs.bundle import export_bundle, is_qbft
from ledger.proofs.state import CertificateStatus, UnitState, assess_certificate
from ledger.proofs.timestamps import digest_imprint
from ledger.proofs.trust import TRUST_LIST_FORMAT, TrustedAuthority, TrustList
from ledger.services.registrations import freshness

TRUST_LIST_PATH = "/trust-list.json"


def trust_list(ledger: Ledger) -> TrustList:
    """The platform's trust roots: its chain, registry contracts and the authorities that attest its blocks —
    the endorsers registered on EvidenceRegistry that still hold the role (dev chain), or the QBFT validators
    the latest header names (Besu)."""
    deployment, client = ledger.deployment, ledger.client
    head = client.block("latest")
    authorities: list[TrustedAuthority] = []
    if is_qbft(head):
        validators = qbft.decode_extra(bytes.fromhex(head["extraData"][2:])).validators
        authorities = [TrustedAuthority(address=client.w3.to_checksum_address(v), name=f"validator {i + 1}",
                                        kind="validator") for i, v in enumerate(validators)]
        consensus, threshold = "qbft", qbft.quorum(len(validators))
    else:
        registry = ledger.contract("EvidenceRegistry")
        names = {a.address.lower(): a.display_name or a.name for a in ledger.accounts}
        seen: dict[str, int] = {}
        for log in client.get_logs(registry.address, [registry.topic("EndorserRegistered")],
                                   deployment.contracts["EvidenceRegistry"].deploy_block):
            args = registry.decode_log("EndorserRegistered", log)
            seen[str(args["account"])] = int(args["endorserKind"])
        for address, kind in seen.items():
            if registry.call("hasRole", ENDORSER_ROLE, address):
                label = EndorserKind(kind).name.lower() if kind in EndorserKind._value2member_map_ else str(kind)
                authorities.append(TrustedAuthority(address=address, name=names.get(address.lower(), address),
                                                    kind=label))
        if not authorities:
            raise NotFoundError("no authority holds the endorser role yet: there is nothing to trust")
        consensus, threshold = "checkpoint", min(ledger.settings.trust_threshold, len(authorities))
    return TrustList(format=TRUST_LIST_FORMAT, platform=ledger.settings.registry_name, chain_id=client.chain_id,
                     genesis_hash=deployment.genesis_hash.lower(),
                     contracts={n: r.address for n, r in deployment.contracts.items()}, consensus=consensus,
                     authorities=sorted(authorities, key=lambda a: a.address.lower()), threshold=threshold)


def ensure_checkpoint(ledger: Ledger, at_least: int) -> None:
    """Makes sure authorities signed a block at or after ``at_least``: signs the head with the endorser keys
    this installation holds, or waits up to ``checkpoint_wait`` seconds for the authorities' next checkpoint.
    QBFT blocks carry their own seals and need none."""
    store = ledger.checkpoints
    try:
        store.covering(at_least)
        return
    except NotFoundError:
        pass
    if is_qbft(ledger.client.block("latest")):
        return
    held = ledger.accounts.with_role("endorser")
    if held:
        for account in held:
            store.sign_latest(account.signer)
        return
    deadline = time.monotonic() + ledger.settings.checkpoint_wait
    while time.monotonic() < deadline:
        time.sleep(1.0)
        try:
            store.covering(at_least)
            return
        except NotFoundError:
            continue
    raise NotFoundError(f"no authority has signed block {at_least} or later within "
                        f"{ledger.settings.checkpoint_wait:.0f} s; try again once they have (`ledger checkpoint sign` "
                        "by an authority, or POST /checkpoints)")


def _key_of(ledger: Ledger, address: str) -> LocalAccount | None:
    account = next((a for a in ledger.accounts if a.address.lower() == address.lower()), None)
    return account.signer if account else None


def stamp_checkpoint(ledger: Ledger, block_number: int, block_hash: str) -> bytes | None:
    """The time service's RFC 3161 token over the checkpoint of ``block_number`` (obtained from the TSA unless it
    was already), or None when no TSA is configured."""
    service = ledger.time_service
    if service is None:
        return None
    return service.checkpoint_token(ledger.client.chain_id, block_number, parse_digest(block_hash),
                                    ledger.checkpoints.contracts)


def export_evidence_bundle(ledger: Ledger, digest: bytes, algorithm: HashAlgorithm, *,
                           original_name: str | None = None, requested_by: str = "",
                           presentation: dict[str, Any] | None = None, note: str = "",
                           timestamp: bool = False) -> dict[str, Any]:
    """The court bundle of an anchored digest, in one call: checkpoints are made sure of first (a certificate's
    registry status is proven at a block signed now, so it shows the registry as it stands). With a time
    service, each checkpoint the bundle rests on carries its RFC 3161 token; ``timestamp`` also asks the TSA for
    a token over the (SHA-256) digest itself."""
    found = ledger.evidence.verify(digest, algorithm)
    if not found.anchored:
        raise NotFoundError(f"{to_hex(digest)} ({algorithm.label}) is not anchored: there is nothing to prove")
    service = ledger.time_service
    if timestamp and service is None:
        raise ConfigurationError("no time-stamping authority is configured: set LEDGER_TSA_URL, or start the "
                                 "development TSA with `ledger tsa up`")
    if timestamp:
        digest_imprint(digest, algorithm)  # refuses a digest RFC 3161 cannot carry, before anything is signed
    anchor = found.anchors[0]
    ensure_checkpoint(ledger, ledger.client.block_number() if anchor.certificate_unit else anchor.block_number)
    digest_token = service.digest_token(digest, algorithm) if timestamp and service is not None else None
    return export_bundle(client=ledger.client, deployment=ledger.deployment, evidence=ledger.evidence,
                         checkpoints=ledger.checkpoints, keys=lambda a: _key_of(ledger, a), digest=digest,
                         algorithm=algorithm, original_name=original_name, requested_by=requested_by,
                         presentation={**(presentation or {}), **trust_presentation(ledger)}, note=note,
                         stamp=(lambda number, block_hash: stamp_checkpoint(ledger, number, to_hex(block_hash)))
                         if service is not None else None, digest_token=digest_token)


def trust_presentation(ledger: Ledger) -> dict[str, Any]:
    """Where a verifier gets the platform's trust list, and its fingerprint (printed on certificates)."""
    return {"trust_list_url": ledger.settings.public_url.rstrip("/") + TRUST_LIST_PATH,
            "trust_list_sha256": trust_list(ledger).fingerprint()}


@dataclass(frozen=True)
class CertificateView:
    """An anchored certificate and what the registry holds of it now (the QR page, the verify API)."""

    registration_number: str | None
    certificate_version: int | None  # of the certificate asked about, when this registry stored it
    unit_id: str
    status: CertificateStatus

    def as_dict(self) -> dict[str, Any]:
        return {"registration_number": self.registration_number, "certificate_version": self.certificate_version,
                "unit_id": self.unit_id, **self.status.as_dict()}


def certificate_view(ledger: Ledger, digest: bytes, result: Verification) -> CertificateView | None:
    """The certificate status of an anchored certificate digest (None for other evidence)."""
    unit_id = next((a.certificate_unit for a in result.anchors if a.certificate_unit is not None), None)
    if unit_id is None:
        return None
    return certificate_status(ledger, unit_id, digest)


def certificate_status(ledger: Ledger, unit_id: bytes, digest: bytes) -> CertificateView:
    """Whether certificate ``digest`` of unit ``unit_id`` is the valid one now, from the index (``assess_certificate``:
    the same rule the offline verifier applies). A unit the index does not hold yet is "unknown", never valid."""
    fresh = freshness(ledger)
    with Session(ledger.engine) as session:
        unit = session.get(IxUnit, (ledger.deployment.deployment_id, to_hex(unit_id)))
    if unit is None:  # not indexed yet: "unknown" (never valid), and the answer says how far behind the index is
        state = UnitState(unit_id=unit_id, certificate_hash=bytes(32), holder="", valid_until=0,
                          certificate_version=0, status=UnitStatus.NONE, object_type=0, profile_id=0, rights_mask=0,
                          open_objections=0)
    else:
        state = UnitState(unit_id=unit_id, certificate_hash=parse_digest(unit.certificate_hash), holder=unit.holder,
                          valid_until=unit.valid_until, certificate_version=unit.certificate_version,
                          status=UnitStatus(unit.status), object_type=unit.object_type, profile_id=unit.profile_id,
                          rights_mask=unit.rights_mask, open_objections=unit.open_objections)
    now = fresh.as_of_time
    number = version = None
    with Session(ledger.engine) as session:
        stored = session.get(StoredDocument, to_hex(digest))
        if stored is not None and stored.kind == "certificate":
            body = json.loads(stored.body)
            number, version = body.get("registration_number"), body.get("certificate_version")
    return CertificateView(number, version, to_hex(unit_id), assess_certificate(state, digest, now))


def verify_evidence(ledger: Ledger, digest: bytes, algorithm: HashAlgorithm | None = None,
                    root: bytes | None = None, proof: list[bytes] | None = None,
                    confirm: bool = False) -> tuple[Verification, CertificateView | None]:
    """Whether ``digest`` is anchored, and — for a certificate — whether it is still the valid one. Read from the
    index (a miss while it lags says by how many blocks); ``confirm`` also asks the contract."""
    result = ledger.evidence.verify(digest, algorithm, root, proof, confirm=confirm)
    return result, certificate_view(ledger, digest, result)
