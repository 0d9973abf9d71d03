"""Mutual recognition use cases (互认, TJIFA §6.4.1.4; REGISTRATION_RULES §7): export a registration as a recognition
package on the platform that holds it; verify and import it on another platform, which files an initial
registration whose review is waived on the strength of the verified package.

- ``export_package``: the current certificate, its court bundle with the unit's state proof, the evidence report
  and the bundles of the evidence it cites, in one canonical-JSON file sealed by the evidence provider
  (``ledger.proofs.recognition``).
- ``import_package``: verifies the package offline against the trust list of the peer platform it comes from —
  configured here (``Settings.peers_path``), never taken from the package — and refuses it, naming the failing
  check, unless it is VERIFIED: authentic, a registration that is valid now (not superseded, cancelled, expired,
  suspended, revoked or under objection), proven recently enough to rely on (``Settings.recognition_max_age``),
  held by an account of this platform. Then it files the initial registration with the source platform, the
  source registration number and the package hash in its payload (and so on its certificate,
  ``ledger.certificate/3``; the package hash is its governing document on chain), keeps the package — which holds
  the proofs of the evidence the source certificate cites: the new certificate cites none of its own, since this
  chain does not anchor them — and takes the steps the rules allow: acceptance, review waived where the profile
  says so (``recognition_waives_review``), public notice.
- ``peers`` / ``add_peer``: the trusted peer platforms; ``recognised``: the registrations recognised here.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from eth_account import Account
from sqlmodel import Session, col, select

from ledger.accounts import ROLE_WORDS
from ledger.context import Ledger
from ledger.db import session_scope
from ledger.document_schemas import RECOGNITION_RULE, RecognisedFrom, parse_recognition
from ledger.errors import (
    ConfigurationError,
    ConsentRequiredError,
    ForbiddenError,
    LedgerValueError,
    NotFoundError,
    RecognitionRefused,
)
from ledger.hashing import canonical_json, digest_bytes, parse_digest, to_hex
from ledger.lifecycle import Right
from ledger.models import Application, StoredDocument
from ledger.numbering import validate_number
from ledger.profiles import ObjectType
from ledger.proofs.recognition import (
    CERTIFICATE,
    CERTIFICATE_BUNDLE,
    EVIDENCE_REPORT,
    PACKAGE_FORMAT,
    PackageVerification,
    Peer,
    evidence_part,
    inspect_package,
    load_peers,
    package_chain,
    part_hash,
    peer_for,
    seal_text,
)
from ledger.proofs.signatures import personal_message_hash
from ledger.proofs.trust import parse_trust_list
from ledger.proofs.verify import Verdict
from ledger.services.documents import certificate_bundle, certificate_evidence_report
from ledger.services.proofs import export_evidence_bundle, trust_list
from ledger.workflow import RECOGNITION_PACKAGE, State

#: The largest package this platform reads (a certificate bundle is ~16 KB; each cited evidence adds a bundle).
MAX_PACKAGE_BYTES = 4 << 20
PEER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
RIGHT_KEYS = {Right.HOLDING: "holding", Right.PROCESSING_USE: "processing_use",
              Right.PRODUCT_OPERATION: "product_operation"}
Waiting = Literal["review", "notice", "consent"]


# --- export (the platform that holds the registration) -------------------------------------------------------------


@dataclass(frozen=True)
class ExportedPackage:
    """A recognition package, and how this platform's own trust list verifies it now."""

    data: bytes
    registration_number: str
    verification: PackageVerification

    @property
    def sha256(self) -> str:
        return to_hex(digest_bytes(self.data))


def _stored(ledger: Ledger, digest: str) -> dict[str, Any] | None:
    with Session(ledger.engine) as session:
        row = session.get(StoredDocument, digest.lower())
    return json.loads(row.body) if row is not None else None


def _report(ledger: Ledger, document: dict[str, Any], bundle: dict[str, Any]) -> dict[str, Any]:
    """The evidence report (存证报告书, TJIFA §7.3) the package carries: the one the certificate annexes, or else the
    report of the certificate's own anchoring as evidence (TJIFA §8.2.3), stated from the bundle's anchor."""
    linked = (document.get("annexes") or {}).get("evidence_report")
    if linked:
        report = _stored(ledger, linked)
        if report is None:
            raise NotFoundError(f"this registry does not hold evidence report {linked}, which the certificate annexes")
        return report
    return certificate_evidence_report(ledger, document, bundle["anchor"])


def _seal(ledger: Ledger, package: dict[str, Any], submitter: str) -> None:
    """Seals the package head with the key of the evidence provider that anchored the certificate."""
    account = next((a for a in ledger.accounts if a.address.lower() == submitter.lower()), None)
    if account is None:
        raise ConfigurationError(f"the certificate was anchored by {submitter}, whose key is not in this accounts "
                                 "file: only it can seal the package")
    signature = Account.unsafe_sign_hash(personal_message_hash(seal_text(package)), account.signer.key).signature
    package["seal"] = {"signer": account.address, "signature": to_hex(bytes(signature))}


def export_package(ledger: Ledger, number: str, requested_by: str = "") -> ExportedPackage:
    """The recognition package of registration ``number`` (TJIFA §6.4.1.4): its current certificate with the court
    bundle proving it and its unit's registry state at a block signed now, the evidence report, and a court bundle
    for each filed-evidence digest the certificate cites — which must therefore be anchored here. Written whatever
    the registration's status (the package proves it as it is; a platform importing it refuses what is not valid),
    and checked against this platform's own trust list, so the caller sees what the other platform will."""
    number = validate_number(number)
    document, bundle = certificate_bundle(ledger, number, ledger.settings.public_url, requested_by)
    parts: dict[str, dict[str, Any]] = {CERTIFICATE: document, CERTIFICATE_BUNDLE: bundle,
                                        EVIDENCE_REPORT: _report(ledger, document, bundle)}
    for cited in (document.get("annexes") or {}).get("evidence_digests", []):
        digest = parse_digest(cited)
        found = ledger.evidence.verify(digest)
        if not found.anchored:
            raise NotFoundError(f"certificate {number} cites evidence {to_hex(digest)}, which is not anchored on this "
                                "platform: nothing would prove it to another platform")
        parts[evidence_part(to_hex(digest))] = export_evidence_bundle(
            ledger, digest, found.anchors[0].algorithm, original_name=f"evidence cited by certificate of {number}",
            requested_by=requested_by)
    package: dict[str, Any] = {"format": PACKAGE_FORMAT, "platform": ledger.settings.registry_name,
                               "registration_number": number,
                               "manifest": {name: part_hash(part) for name, part in parts.items()}, "parts": parts}
    _seal(ledger, package, str(bundle["anchor"]["submitter"]))
    data = canonical_json(package)
    own = Peer("self", trust_list(ledger))
    checked = inspect_package(data, own.roots(), now=int(time.time()),
                              max_age_days=ledger.settings.recognition_max_age)
    return ExportedPackage(data, number, checked)


# --- trusted peers --------------------------------------------------------------------------------------------------


def peers(ledger: Ledger) -> list[Peer]:
    """The peer platforms this one trusts (``<peers dir>/<name>.json``: their trust lists). Two lists for one chain
    would make the choice ambiguous: refused."""
    found = load_peers(ledger.settings.peers_path)
    seen: dict[tuple[int, str], str] = {}
    for peer in found:
        key = (peer.trust_list.chain_id, peer.trust_list.genesis_hash)
        if key in seen:
            raise ConfigurationError(f"peers {seen[key]} and {peer.name} in {ledger.settings.peers_path} both name "
                                     f"chain {key[0]} with genesis {key[1]}: keep one")
        seen[key] = peer.name
    return found


def _own_chain(ledger: Ledger) -> tuple[int, str]:
    return ledger.client.chain_id, ledger.deployment.genesis_hash.lower()


def add_peer(ledger: Ledger, trust_list_file: Path, name: str, tsa_root: Path | None = None,
             rpc_url: str | None = None) -> Peer:
    """Trusts a peer platform: copies its trust list (as it publishes it — compare its SHA-256 with what the peer
    states out of band) into the peers directory as ``<name>.json``, with its TSA root and chain URL if given."""
    if not PEER_NAME.fullmatch(name):
        raise LedgerValueError(f"peer name {name!r}: lower-case letters, digits, '-' and '_' (a file name)")
    try:
        listed = parse_trust_list(json.loads(trust_list_file.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise LedgerValueError(f"cannot read a trust list from {trust_list_file}: "
                               f"{getattr(exc, 'user_message', exc)}") from None
    if (listed.chain_id, listed.genesis_hash) == _own_chain(ledger):
        raise LedgerValueError("that is this platform's own trust list: a platform does not recognise itself")
    clash = next((p for p in peers(ledger) if p.name != name and (p.trust_list.chain_id, p.trust_list.genesis_hash)
                  == (listed.chain_id, listed.genesis_hash)), None)
    if clash is not None:
        raise LedgerValueError(f"peer {clash.name} already names chain {listed.chain_id} with that genesis")
    directory = ledger.settings.peers_path
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{name}.json"
    target.write_text(json.dumps(listed.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n",
                      encoding="utf-8")
    for suffix, value in ((".tsa.pem", tsa_root), (".rpc", rpc_url)):
        path = target.with_suffix(suffix)
        if value is None:
            path.unlink(missing_ok=True)
        elif isinstance(value, Path):
            shutil.copyfile(value, path)
        else:
            path.write_text(value.strip() + "\n", encoding="utf-8")
    return next(p for p in peers(ledger) if p.name == name)


# --- import (the recognising platform) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recognised:
    """A verified package filed here as an initial registration, and where that registration waits."""

    application: Application
    peer: Peer
    verification: PackageVerification
    source: RecognisedFrom
    waiting_for: Waiting | None  # None: registered


def verify_package(ledger: Ledger, raw: bytes, rpc_url: str | None = None,
                   now: int | None = None) -> tuple[Peer, PackageVerification]:
    """The package checked as ``import_package`` checks it, without filing anything: against the trusted peer
    its chain belongs to; RecognitionRefused when no configured peer runs that chain."""
    if len(raw) > MAX_PACKAGE_BYTES:
        raise RecognitionRefused(f"the package has {len(raw):,} bytes, more than the {MAX_PACKAGE_BYTES:,} this "
                                 "platform reads", "package format")
    try:
        claimed = json.loads(raw)
    except ValueError:
        claimed = None
    if not isinstance(claimed, dict) or claimed.get("format") != PACKAGE_FORMAT:
        raise RecognitionRefused(f"refused: package format failed: not a {PACKAGE_FORMAT}", "package format")
    chain_id, genesis = package_chain(claimed)
    if (chain_id, genesis) == _own_chain(ledger):
        raise RecognitionRefused("refused: the package comes from this platform's own chain: a registration is not "
                                 "recognised from the platform that holds it", "trusted platform")
    peer = peer_for(claimed, peers(ledger))
    if peer is None:
        raise RecognitionRefused(
            f"refused: untrusted platform — no trusted peer runs chain {chain_id} with genesis {genesis or '(none)'}: "
            f"put that platform's trust list in {ledger.settings.peers_path} (`ledger recognition trust`) to "
            "recognise its registrations", "trusted platform")
    checked = inspect_package(raw, peer.roots(), tsa_roots=peer.tsa_roots or None, rpc_url=rpc_url or peer.rpc_url,
                              now=int(time.time()) if now is None else now,
                              max_age_days=ledger.settings.recognition_max_age)
    return peer, checked


def import_package(ledger: Ledger, raw: bytes, *, actor: str = "registrar", profile: str | None = None,
                   rpc_url: str | None = None, now: int | None = None) -> Recognised:
    """Verifies a recognition package and files the initial registration it supports (TJIFA §6.4.1.4), as far as
    the rules go without waiting: accepted; review waived where the profile says so, else left to review; public
    notice started where the profile gives one, else registered. RecognitionRefused names the failing check."""
    account = ledger.accounts.get(actor)
    if "registrar" not in account.roles:
        held = ", ".join(ROLE_WORDS.get(r, r) for r in account.roles) or "no role"
        raise ForbiddenError(f"filing a recognised registration needs the {ROLE_WORDS['registrar']}; {actor} holds "
                             f"{held}")
    peer, checked = verify_package(ledger, raw, rpc_url, now)
    failing, reason = checked.failing(), checked.refusal()
    if failing is not None and reason is not None:
        raise RecognitionRefused(f"refused: {reason}", failing.name)
    document, view = checked.certificate, checked.unit
    assert document is not None and view is not None
    workflow = ledger.workflow
    holder = workflow.account_of(view.unit.holder)
    if holder is None:
        raise RecognitionRefused(f"refused: the registration's holder {view.unit.holder} has no account on this "
                                 "platform: the holder applies with the same account (`ledger accounts add-party`), "
                                 "whose consent — signed here or in its own wallet — registers it", "holder")
    rights = sum(int(r) for r, key in RIGHT_KEYS.items()
                 if (view.right_holders.get(key) or "").lower() == view.unit.holder.lower())
    code = (profile or str(document.get("jurisdiction", ""))).upper()
    rules = workflow.profiles.get(code)
    if rules is None:
        raise LedgerValueError(f"this platform has no {code or 'such'} profile: name the one to register under "
                               f"(known: {', '.join(workflow.profiles)})")
    if document["schema"] == "ledger.certificate/1":
        raise RecognitionRefused("refused: the certificate is a ledger.certificate/1, which does not carry the content "
                                 "TJIFA §8.2.1 requires: the source platform reissues it first", "certificate")
    number = str(document["registration_number"])
    source = parse_recognition({
        "platform": peer.trust_list.platform, "trust_list_sha256": peer.fingerprint, "registration_number": number,
        "certificate_sha256": part_hash(document), "certificate_version": document["certificate_version"],
        "proven_at_block": view.block_number, "package_sha256": checked.package_sha256,
        "review_waived": rules.recognition_waives_review, "rule": RECOGNITION_RULE})
    held = document["holder"]
    payload: dict[str, Any] = {
        "content": {"holder": {k: held[k] for k in ("legal_name", "kind", "uscc")}, "asset": document["asset"]},
        "recognition": source.model_dump(),
        # recognising the same source registration twice is registering the same data twice (issue #9 §3)
        "content_fingerprint": to_hex(digest_bytes(canonical_json(
            {"recognised_from": [peer.trust_list.chain_id, peer.trust_list.genesis_hash], "registration": number}))),
    }
    with session_scope(ledger.engine) as session:  # kept first: the waiver needs it (Workflow.waive_review)
        if session.get(StoredDocument, checked.package_sha256) is None:
            session.add(StoredDocument(sha256=checked.package_sha256, kind=RECOGNITION_PACKAGE, body=raw.decode()))
    application = workflow.apply(kind="initial", profile=rules.code, holder=holder, actor=actor,
                                 object_type=ObjectType(view.unit.object_type), rights=rights, payload=payload,
                                 document=parse_digest(checked.package_sha256))
    application = workflow.accept(application.id, actor)
    waiting: Waiting | None
    if rules.recognition_waives_review:
        application = workflow.waive_review(application.id, actor)
        if workflow.needs_notice(application):
            application, waiting = workflow.start_notice(application.id, actor), "notice"
        else:
            try:
                application, waiting = workflow.register(application.id, actor), None
            except ConsentRequiredError:  # the holder signs in its own wallet (issue #11 §3): it waits for that
                application, waiting = workflow.get(application.id), "consent"
    else:
        application, waiting = workflow.begin_review(application.id, actor), "review"
        if rules.needs_review("initial"):
            application = workflow.pass_formal_review(application.id, actor)
    return Recognised(application, peer, checked, source, waiting)


# --- what was recognised here -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecognisedRegistration:
    """An initial registration filed here on a recognition package, with where it comes from."""

    application_id: str
    state: str
    registration_number: str | None
    holder: str
    source: RecognisedFrom

    def as_dict(self) -> dict[str, Any]:
        return {"application_id": self.application_id, "state": self.state,
                "registration_number": self.registration_number, "holder": self.holder,
                "recognised_from": self.source.model_dump()}


def recognised(ledger: Ledger, registered_only: bool = False) -> list[RecognisedRegistration]:
    """The registrations recognised from other platforms on this one, newest first (all, or only those registered)."""
    query = select(Application).where(Application.deployment == ledger.deployment.deployment_id,
                                      Application.kind == "initial")
    if registered_only:
        query = query.where(col(Application.state).in_([State.REGISTERED.value, State.ARCHIVED.value]))
    with Session(ledger.engine) as session:
        rows = session.exec(query.order_by(col(Application.created_at).desc())).all()
    out = []
    for row in rows:
        record = json.loads(row.payload).get("recognition")
        if record is not None:
            out.append(RecognisedRegistration(row.id, row.state, row.registration_number, row.holder,
                                              parse_recognition(record)))
    return out


def recognised_from(ledger: Ledger, number: str) -> RecognisedFrom | None:
    """Where registration ``number`` of this platform was recognised from, or None if it was registered here."""
    number = validate_number(number)
    found = next((r for r in recognised(ledger) if r.registration_number == number), None)
    return found.source if found else None


__all__ = ["MAX_PACKAGE_BYTES", "ExportedPackage", "Recognised", "RecognisedRegistration", "Verdict", "add_peer",
           "export_package", "import_package", "peers", "recognised", "recognised_from", "verify_package"]
