"""Document use cases: registration documents as PDFs that verify offline, and the dispute evidence package.

Each document is one function here, shared by ``ledger registry document``, ``GET /registrations/{number}/
documents/{kind}``, ``GET /applications/{id}/documents/supplement-notice`` and the pages:

- ``certificate_pdf``: the registration certificate (确权证书, TJIFA §8.2.1) with its court bundle attached. On request
  the certificate is itself stored as on-chain evidence (TJIFA §8.2.3): it is anchored here by the evidence provider
  if it is not yet, and the bundle proves both the anchor and the unit's registry status, so a PDF of a certificate
  that was later superseded or cancelled says so when verified (issue #7);
- the other-rights page (他项权益页, TJIFA §8.2.2), the evidence report (存证报告书, TJIFA §7.3), the cancellation
  proof (注销证明, AH art. 25) and the supplementary-registration notice (补充登记通知, TJIFA §6.4.2, App. 7): issuing
  one (出证, TJIFA App. 4 §3) keeps it and anchors its SHA-256 the first time, so its PDF carries a court bundle
  proving it and verifies offline like the certificate;
- ``dispute_package``: the dispute evidence package for a court (司法存证包, TJIFA §9.2, App. 4;
  ``ledger.proofs.dispute``), on the legal document the request rests on, written to the access log.

Who may print what (REGISTRATION_RULES §6.2): the certificate is publishable; the other documents are the holder's
to print (TJIFA §6.3.4), and the registry's, an exchange's, a bank's or a court's (with its document) to read — each
such read in the access log (``ledger.services.access``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, col, select

from ledger import __version__
from ledger.context import Ledger
from ledger.db import session_scope
from ledger.documents import cancellation_proof, certificate_annexes, document_hash, evidence_report, rights_page
from ledger.errors import (
    AlreadyAnchoredError,
    ForbiddenError,
    LedgerError,
    LedgerValueError,
    NotFoundError,
    UnauthorizedError,
)
from ledger.evidence import EvidenceKind
from ledger.hashing import HashAlgorithm, canonical_json, digest_bytes, to_hex
from ledger.indexer.read_models import IxHistory, IxUnit
from ledger.lifecycle import Action, CancellationGround, UnitStatus
from ledger.models import AccessLogEntry, Application, ApplicationEvent, StoredDocument
from ledger.numbering import unit_id, validate_number
from ledger.pdf import inspect_pdf, render_pdf
from ledger.proofs.dispute import (
    CERTIFICATE,
    COURT_BUNDLE,
    EVIDENCE_REPORT,
    EXTRACTION,
    EXTRACTION_FORMAT,
    MANIFEST,
    MANIFEST_BUNDLE,
    PACKAGE_FORMAT,
    manifest_parts,
    render_package,
)
from ledger.proofs.recognition import block_time_text
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import headline
from ledger.services import applications, registrations
from ledger.services.access import Grant, Viewer, record_read
from ledger.services.proofs import export_evidence_bundle, trust_list
from ledger.workdays import CHINA

#: The documents of a registration unit, by their names in URLs and on the command line.
REGISTRATION_DOCUMENTS = ("certificate", "rights-page", "evidence-report", "cancellation-proof")
#: What anyone may download: nothing. The certificate's content is publishable (TJIFA §8.1.1: its QR page shows it),
#: but its PDF carries the court bundle, whose state proof holds the unit's whole registry state — right holders,
#: pledgees and licensees, contract hashes — which REGISTRATION_RULES §6.2 keeps from the public.
PUBLIC_DOCUMENTS: frozenset[str] = frozenset()
TITLES = {"certificate": "the certificate", "rights-page": "the additional-rights page (他项权益页)",
          "evidence-report": "the evidence report (存证报告书)",
          "cancellation-proof": "the cancellation proof (注销证明)",
          "supplement-notice": "the supplementary-registration notice (补充登记通知)"}


@dataclass(frozen=True)
class DocumentFile:
    """A document as a file: what to call it and its bytes (a PDF)."""

    kind: str
    filename: str
    body: bytes
    media_type: str = "application/pdf"


def certificate_pdf(ledger: Ledger, number: str, base_url: str, requested_by: str = "",
                    timestamp: bool = False) -> bytes:
    """The current certificate of registration unit ``number`` as a PDF that verifies offline."""
    return render_pdf(*certificate_bundle(ledger, number, base_url, requested_by, timestamp))


def certificate_bundle(ledger: Ledger, number: str, base_url: str, requested_by: str = "",
                       timestamp: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """The current certificate of registration unit ``number`` and its court bundle: the anchor of its hash, and
    its unit's registry state at a block signed now — status, right holders, active pledges and licences, open
    objections (issue #13) — with RFC 3161 tokens when a TSA is configured (``timestamp``: over the
    certificate's hash too). What ``ledger proof export NUMBER --state`` writes, and a certificate PDF carries."""
    number = validate_number(number)
    uid, cert_hash, document = _current_certificate(ledger, number)
    _anchored(ledger, cert_hash, EvidenceKind.CERTIFICATE, uid)
    version = document.get("certificate_version")
    presentation: dict[str, Any] = {"verify_base_url": base_url, "registration_number": number,
                                    "certificate_version": version}
    annexes = certificate_annexes(rights_page=rights_page_of(ledger, number))
    if annexes:  # TJIFA §8.2.2: the other-rights page is annexed when it has entries (sealed with the bundle)
        presentation["annexes"] = annexes
    bundle = export_evidence_bundle(
        ledger, cert_hash, HashAlgorithm.SHA256, original_name=f"{number} certificate v{version}",
        requested_by=requested_by, presentation=presentation,
        note=f"It is the SHA-256 of certificate version {version} of registration unit {number}.", timestamp=timestamp)
    return document, bundle


def rights_page_of(ledger: Ledger, number: str) -> dict[str, Any]:
    """The additional-rights page (他项权益页, TJIFA §8.2.2) of a unit as of today: every entry, released ones
    kept, each with its id — from the index, brought up to the chain's head first (a sealed document must not
    miss an entry the chain already holds)."""
    ledger.indexer.run_once()
    entries = registrations.rights_page(ledger, validate_number(number), viewer=None)  # the registry's own
    return rights_page(number, ledger.workflow.chain_date(), [
        {"entry_id": e.entry_id, "kind": e.kind, "counterparty": e.counterparty, "rights": e.rights_mask,
         "valid_until": date.fromisoformat(e.valid_until) if e.valid_until else None,
         "active": e.status == "active", "contract_hash": e.contract_hash} for e in entries])


# --- who may print what -------------------------------------------------------------------------------------------


def _not_public(kind: str) -> UnauthorizedError:
    return UnauthorizedError(f"{TITLES[kind]} is not public: the holder prints its own (TJIFA §6.3.4), the registry, "
                             "an exchange, a bank or a court with its document may read it — sign in with a token")


def may_print(ledger: Ledger, viewer: Viewer, number: str, kind: str) -> Grant | None:
    """Anyone may download a publishable document; the others need a grant (the read is logged). The grant, or
    None for a publishable document."""
    if kind in PUBLIC_DOCUMENTS:
        return None
    if viewer.public:
        raise _not_public(kind)
    granted = registrations.read_grant(ledger, viewer, number, f"document:{kind}")
    if granted is None:
        raise ForbiddenError(f"{TITLES[kind]} of {number} is not public: its holder, the registry, an exchange, a "
                             "bank or a court with its document may read it (REGISTRATION_RULES §6.2)")
    return granted


@contextmanager
def _delivered(ledger: Ledger, viewer: Viewer, granted: Grant | None, action: str, subject: str) -> Iterator[None]:
    """The access log is written before a non-public document is made (a package names its entry); when making it
    fails, a second entry says it was not delivered, so the log never shows a read that did not happen."""
    try:
        yield
    except LedgerError as exc:
        if granted is not None:
            record_read(ledger, viewer, granted, f"{action}:not_delivered", f"{subject} ({exc.code})")
        raise


# --- issuing documents ------------------------------------------------------------------------------------------


def _keep(ledger: Ledger, kind: str, document: dict[str, Any]) -> None:
    """Keeps an issued document (SZ art. 10: registration files are kept), once."""
    digest = to_hex(document_hash(document))
    with session_scope(ledger.engine) as session:
        if session.get(StoredDocument, digest) is None:
            session.add(StoredDocument(sha256=digest, kind=kind, body=canonical_json(document).decode()))


def _anchored(ledger: Ledger, digest: bytes, kind: EvidenceKind, ref: bytes) -> None:
    """Anchors ``digest`` by the evidence provider unless it is already (a concurrent issue may have been first)."""
    if ledger.evidence.verify(digest, HashAlgorithm.SHA256).anchored:
        return
    provider = ledger.accounts.first_with_role("evidence_provider").name
    with suppress(AlreadyAnchoredError):
        ledger.evidence.anchor(ledger.sender(provider), digest, HashAlgorithm.SHA256, kind, ref)


def _proven(ledger: Ledger, document: dict[str, Any], *, store_kind: str, evidence_kind: EvidenceKind, ref: bytes,
            name: str, base_url: str, requested_by: str) -> dict[str, Any]:
    """Issues ``document`` (出证, TJIFA App. 4 §3): kept, its SHA-256 anchored the first time, and the court bundle
    proving it exported — what its PDF carries so that it verifies offline."""
    _keep(ledger, store_kind, document)
    digest = document_hash(document)
    _anchored(ledger, digest, evidence_kind, ref)
    return export_evidence_bundle(ledger, digest, HashAlgorithm.SHA256, original_name=name, requested_by=requested_by,
                                  presentation={"verify_base_url": base_url},
                                  note=f"It is the SHA-256 of {name}.")


def _current_certificate(ledger: Ledger, number: str) -> tuple[bytes, bytes, dict[str, Any]]:
    """(unit id, certificate hash, certificate) of the unit's current certificate, as this registry holds it."""
    uid = unit_id(number)
    unit = ledger.assets.unit(uid)
    if unit["status"] is UnitStatus.NONE:
        raise NotFoundError(f"no registration unit {number}")
    cert_hash = unit["certificate_hash"]
    with Session(ledger.engine) as session:
        stored = session.get(StoredDocument, to_hex(cert_hash))
    if stored is None:
        raise NotFoundError(f"this registry does not hold certificate {to_hex(cert_hash)} of {number}")
    document: dict[str, Any] = json.loads(stored.body)
    if digest_bytes(canonical_json(document)) != cert_hash:
        raise LedgerValueError(f"the stored certificate of {number} does not hash to the one on chain")
    return uid, cert_hash, document


def certificate_evidence_report(ledger: Ledger, document: dict[str, Any], anchor: dict[str, Any]) -> dict[str, Any]:
    """The evidence report (存证报告书, TJIFA §7.3) of a certificate's own anchoring as evidence (TJIFA §8.2.3), stated
    from its ``anchor`` (tx_hash, block_number, block_time, submitter): what a certificate that annexes no report of
    its own is reported by. Deterministic: the same anchoring gives the same report (and hash)."""
    holder = document["holder"]
    serial = document.get("serial") or f"{document['registration_number']}-V{document['certificate_version']:02d}"
    submitter = str(anchor["submitter"])
    provider = next((a.display_name or a.name for a in ledger.accounts
                     if a.address.lower() == submitter.lower()), submitter)
    return evidence_report(
        report_number=f"{serial}-E", provider=f"{provider} ({submitter})",
        holder_name=holder.get("legal_name", holder.get("name")), holder_address=holder["account"],
        holder_id=holder.get("uscc"),
        summary=f"证书 {serial} 的 SHA-256 已由存证服务商上链存证（TJIFA §8.2.3），区块链多节点共识固化，可离线核验。"
                f"The SHA-256 of certificate {serial} is anchored on chain as electronic evidence (TJIFA §8.2.3).",
        digests=[{"name": f"certificate {serial}", "hash_algorithm": "sha256",
                  "digest": to_hex(document_hash(document))}],
        chain_id=ledger.client.chain_id, contract=ledger.deployment.contracts["EvidenceRegistry"].address,
        tx_hash=str(anchor["tx_hash"]), block_number=int(anchor["block_number"]),
        block_time=block_time_text(int(anchor["block_time"])),
        issued_on=datetime.fromtimestamp(int(anchor["block_time"]), CHINA).date())


def evidence_report_of(ledger: Ledger, number: str) -> dict[str, Any]:
    """The evidence report of a unit's current certificate: the one it annexes (by hash), or else the report of the
    certificate's own anchoring (the certificate is anchored first if it is not yet, TJIFA §8.2.3)."""
    uid, cert_hash, document = _current_certificate(ledger, validate_number(number))
    linked = (document.get("annexes") or {}).get("evidence_report")
    if linked:
        with Session(ledger.engine) as session:
            stored = session.get(StoredDocument, str(linked).lower())
        if stored is None:
            raise NotFoundError(f"this registry does not hold evidence report {linked}, which the certificate annexes")
        report: dict[str, Any] = json.loads(stored.body)
        return report
    _anchored(ledger, cert_hash, EvidenceKind.CERTIFICATE, uid)
    anchor = ledger.evidence.verify(cert_hash, HashAlgorithm.SHA256).anchors[0]
    return certificate_evidence_report(ledger, document, {
        "tx_hash": anchor.tx_hash, "block_number": anchor.block_number, "block_time": anchor.block_time,
        "submitter": anchor.submitter})


def cancellation_proof_of(ledger: Ledger, number: str) -> dict[str, Any]:
    """The cancellation proof (注销证明, AH art. 25) of a cancelled unit: the one the workflow issued when the
    cancellation was registered, or — for a cancellation it did not file (a court order or an expiry executed ex
    officio) — the proof stated from the chain's cancellation record (ground, governing document, day)."""
    number = validate_number(number)
    key, uid = ledger.deployment.deployment_id, to_hex(unit_id(number))
    with Session(ledger.engine) as session:
        unit = session.get(IxUnit, (key, uid))
        if unit is None:
            raise NotFoundError(f"no registration unit {number}{registrations.behind(ledger)}")
        if UnitStatus(unit.status) is not UnitStatus.CANCELLED:
            raise NotFoundError(f"registration {number} is not cancelled (status "
                                f"{UnitStatus(unit.status).name.lower()}): it has no cancellation proof")
        issued = session.exec(
            select(StoredDocument).join(ApplicationEvent, col(ApplicationEvent.document_hash) == StoredDocument.sha256)
            .join(Application, col(Application.id) == ApplicationEvent.application_id)
            .where(Application.kind == "cancellation", Application.registration_number == number,
                   ApplicationEvent.action == "register", StoredDocument.kind == "cancellation-proof")
            .order_by(col(ApplicationEvent.id).desc())).first()
        if issued is not None:
            proof: dict[str, Any] = json.loads(issued.body)
            return proof
        record = session.exec(select(IxHistory).where(IxHistory.deployment == key, IxHistory.unit_id == uid,
                                                      IxHistory.action == int(Action.CANCELLATION))
                              .order_by(col(IxHistory.block_number).desc())).first()
        if record is None:
            raise NotFoundError(f"the index holds no cancellation record of {number}{registrations.behind(ledger)}")
        return cancellation_proof(
            registration_number=number, registry=ledger.settings.registry_name,
            ground=CancellationGround(unit.cancellation_ground).name.lower() if unit.cancellation_ground else "holder",
            governing_document_hash=record.document_hash,
            cancelled_on=datetime.fromtimestamp(record.block_time, CHINA).date())


def registration_document(ledger: Ledger, number: str, kind: str, *, viewer: Viewer, base_url: str | None = None,
                          requested_by: str = "") -> DocumentFile:
    """A document of registration unit ``number`` as a PDF that verifies offline (``ledger proof verify``): the
    ``certificate``, the ``rights-page``, the ``evidence-report`` or the ``cancellation-proof`` (of a cancelled unit).
    Each — the certificate's PDF too: its bundle proves the unit's whole registry state — for the holder (TJIFA
    §6.3.4) and those REGISTRATION_RULES §6.2 lets read
    them — unauthorised (public) or forbidden otherwise, and the read is in the access log."""
    if kind not in REGISTRATION_DOCUMENTS:
        raise NotFoundError(f"no document {kind!r}: a registration has {', '.join(REGISTRATION_DOCUMENTS)}")
    number = validate_number(number)
    granted = may_print(ledger, viewer, number, kind)
    with _delivered(ledger, viewer, granted, f"document:{kind}", number):
        body = _issue(ledger, number, kind, base_url or ledger.settings.public_url,
                      requested_by or viewer.account or "public")
    return DocumentFile(kind, f"{number}.{kind}.pdf", body)


def _issue(ledger: Ledger, number: str, kind: str, base: str, who: str) -> bytes:
    """The PDF of document ``kind`` of unit ``number`` (issued: kept and anchored the first time)."""
    uid = unit_id(number)
    if kind == "certificate":
        body = certificate_pdf(ledger, number, base, who)
    elif kind == "rights-page":
        page = rights_page_of(ledger, number)
        body = render_pdf(page, _proven(ledger, page, store_kind="rights-page", evidence_kind=EvidenceKind.DOCUMENT,
                                        ref=uid, name=f"the rights page of {number} as of {page['as_of']}",
                                        base_url=base, requested_by=who))
    elif kind == "evidence-report":
        report = evidence_report_of(ledger, number)
        body = render_pdf(report, _proven(ledger, report, store_kind="evidence-report",
                                          evidence_kind=EvidenceKind.EVIDENCE_REPORT, ref=uid,
                                          name=f"evidence report {report['report_number']}", base_url=base,
                                          requested_by=who))
    else:
        proof = cancellation_proof_of(ledger, number)
        body = render_pdf(proof, _proven(ledger, proof, store_kind="cancellation-proof",
                                         evidence_kind=EvidenceKind.DOCUMENT, ref=uid,
                                         name=f"the cancellation proof of {number}", base_url=base, requested_by=who))
    return body


def supplement_notice(ledger: Ledger, application_id: str, *, viewer: Viewer, base_url: str | None = None,
                      requested_by: str = "") -> DocumentFile:
    """The supplementary-registration notice (补充登记通知, TJIFA §6.4.2, App. 7) of an application — the latest one
    the registry issued when it requested a supplement — as a PDF that verifies offline. For the application's
    parties, the registry, or a court with its document (the read is logged)."""
    if viewer.public:
        raise _not_public("supplement-notice")
    app = ledger.workflow.get(application_id)
    applications.may_read(ledger, viewer, app, "document:supplement-notice")
    notices = [e.document_hash for e in ledger.workflow.history(app.id)
               if e.action == "request_supplement" and e.document_hash]
    if not notices:
        raise NotFoundError(f"application {app.id[:8]} has no supplement request, so no supplementary notice")
    with Session(ledger.engine) as session:
        stored = session.get(StoredDocument, str(notices[-1]).lower())
    if stored is None:
        raise NotFoundError(f"this registry does not hold the supplementary notice {notices[-1]}")
    notice: dict[str, Any] = json.loads(stored.body)
    body = render_pdf(notice, _proven(ledger, notice, store_kind="supplementary-notice",
                                      evidence_kind=EvidenceKind.DOCUMENT, ref=ledger.workflow.application_key(app),
                                      name=f"the supplementary notice of application {app.id}",
                                      base_url=base_url or ledger.settings.public_url,
                                      requested_by=requested_by or viewer.account or ""))
    return DocumentFile("supplement-notice", f"{app.id[:12]}.supplement-notice.pdf", body)


# --- the dispute evidence package (TJIFA §9.2, App. 4) ------------------------------------------------------------


@dataclass(frozen=True)
class DisputePackage:
    """A dispute evidence package as made: the file, what its manifest says, and the access-log entry the request
    wrote."""

    registration_number: str
    filename: str
    body: bytes
    manifest: dict[str, Any]
    entry: AccessLogEntry
    conclusion: str
    media_type: str = "application/pdf"


def package_grant(viewer: Viewer) -> Grant:
    """Who may have a dispute package, and on what: a court, procuratorate or police (judicial role) or the
    registry's staff answering one — always on the legal document the request rests on (TJIFA §6.3.5, §9.2; SZ art.
    12(3)), whose SHA-256 the access log records."""
    if viewer.public:
        raise UnauthorizedError("a dispute evidence package is for courts and arbitrators: sign in with a court "
                                "token and give the legal document it rests on")
    if "judicial" not in viewer.roles and not viewer.staff:
        raise ForbiddenError("a dispute evidence package is for courts, procuratorates and police, or the registry "
                             "answering them (TJIFA §9.2; SZ art. 12(3))")
    if viewer.legal_document is None:
        raise ForbiddenError("a dispute evidence package rests on a legal document: send its SHA-256 in "
                             "X-Legal-Document and its number in X-Legal-Reference (TJIFA §6.3.5; SZ art. 12(3))")
    reference = f" {viewer.legal_reference}" if viewer.legal_reference else ""
    role = "judicial" if "judicial" in viewer.roles else sorted(viewer.roles & {"registrar", "reviewer", "admin"})[0]
    return Grant(role, f"dispute evidence package on legal document{reference} (TJIFA §9.2, §6.3.5; SZ art. 12(3))",
                 legal_document=viewer.legal_document)


def dispute_package(ledger: Ledger, number: str, *, viewer: Viewer, network_address: str | None = None,
                    base_url: str | None = None) -> DisputePackage:
    """The dispute evidence package of registration ``number`` for a court (``ledger.proofs.dispute``): its current
    certificate PDF with the court bundle (the unit's registry state proven at a block signed now), the evidence
    report PDF, the replayable extraction record (App. 4 §3: participants, times, network addresses — the
    requester's ``network_address`` too —, steps, conclusion) and a manifest of their SHA-256 anchored on chain.
    The request is written to the access log first, with its legal document; the package names that entry (and a
    package that could not be made is logged as not delivered)."""
    number = validate_number(number)
    granted = package_grant(viewer)
    uid, cert_hash, _ = _current_certificate(ledger, number)
    entry = record_read(ledger, viewer, granted, "dispute_package", number)
    with _delivered(ledger, viewer, granted, "dispute_package", number):
        return _make_package(ledger, number, (uid, cert_hash), viewer, granted, entry, network_address, base_url)


def _make_package(ledger: Ledger, number: str, certificate_of: tuple[bytes, bytes], viewer: Viewer, granted: Grant,
                  entry: AccessLogEntry, network_address: str | None, base_url: str | None) -> DisputePackage:
    """The package itself, for the logged request ``entry`` (``certificate_of``: unit id, certificate hash)."""
    uid, cert_hash = certificate_of
    base = base_url or ledger.settings.public_url
    requester = {"account": viewer.account, "address": viewer.address, "role": granted.role,
                 "legal_document_sha256": viewer.legal_document, "legal_reference": viewer.legal_reference}
    asked = f"{viewer.account} ({granted.role}), legal document {viewer.legal_reference or viewer.legal_document}"
    cert_document, bundle = certificate_bundle(ledger, number, base, asked)
    certificate = render_pdf(cert_document, bundle)
    report = evidence_report_of(ledger, number)
    report_bundle = _proven(ledger, report, store_kind="evidence-report", evidence_kind=EvidenceKind.EVIDENCE_REPORT,
                            ref=uid, name=f"evidence report {report['report_number']}", base_url=base,
                            requested_by=asked)
    report_pdf = render_pdf(report, report_bundle)
    listed = trust_list(ledger)
    checked = inspect_pdf(certificate, TrustRoots.of_list(listed))
    conclusion = headline(checked.checks)
    extraction = bundle["extraction_record"]
    state = bundle.get("registry_state") or {}
    log = {"deployment": entry.deployment, "seq": entry.seq, "entry_hash": entry.entry_hash,
           "prev_hash": entry.prev_hash}
    anchor = bundle["anchor"]
    record = {
        "format": EXTRACTION_FORMAT, "registration_number": number, "platform": ledger.settings.registry_name,
        "original_evidence": {"certificate_sha256": to_hex(cert_hash),
                              "certificate_version": cert_document.get("certificate_version"),
                              "unit_id": to_hex(uid), "evidence_report_sha256": to_hex(document_hash(report)),
                              "anchor_tx": anchor["tx_hash"], "anchor_block": anchor["block_number"]},
        "participants": {"requester": requester, "registry": ledger.settings.registry_name,
                         "evidence_provider": anchor["submitter"],
                         "checkpoint_signers": extraction["participants"].get("checkpoint_signers", []),
                         "endorsements": extraction["participants"].get("endorsements", [])},
        "times": {"requested_at": entry.at, "certificate_anchored_at": extraction["times"]["anchored_at"],
                  "extracted_at": datetime.now(UTC).isoformat(),
                  "state_proven_at_block": state.get("block_number", bundle["authority"]["block_number"])},
        "network": {"requester_address": network_address or "command line (no network address)",
                    **extraction["network"]},
        "steps": [
            f"read certificate version {cert_document.get('certificate_version')} of {number} from the registry's "
            f"store; its SHA-256 {to_hex(cert_hash)} is the certificate hash AssetRegistry holds for unit "
            f"{to_hex(uid)}",
            f"proved its anchoring on EvidenceRegistry {anchor['contract']}: transaction {anchor['tx_hash']} in block "
            f"{anchor['block_number']} by evidence provider {anchor['submitter']} (receipt proof, block headers up "
            f"to block {bundle['authority']['block_number']}, signed by the platform's authorities)",
            f"proved the unit's registry state (status, right holders, pledges, licences, objections) at block "
            f"{state.get('block_number', bundle['authority']['block_number'])} (eth_getProof against its stateRoot)",
            f"issued evidence report {report['report_number']} (SHA-256 {to_hex(document_hash(report))}), anchored "
            f"in transaction {report_bundle['anchor']['tx_hash']}",
            f"verified the certificate PDF offline against the platform's trust list (SHA-256 {listed.fingerprint()})",
            f"recorded the request in the access log: entry {entry.seq} ({entry.entry_hash}), following "
            f"{entry.prev_hash}",
            "anchored the SHA-256 of the manifest naming these files (manifest.bundle.json proves it)",
        ],
        "conclusion": conclusion,
        "access_log": log,
        "tool": f"data-asset-ledger {__version__}",
    }
    files = {CERTIFICATE: certificate, COURT_BUNDLE: canonical_json(bundle), EVIDENCE_REPORT: report_pdf,
             EXTRACTION: canonical_json(record)}
    manifest = {
        "format": PACKAGE_FORMAT, "platform": ledger.settings.registry_name, "registration_number": number,
        "certificate_sha256": to_hex(cert_hash),
        "request": {"requested_by": viewer.account, "address": viewer.address, "role": granted.role,
                    "legal_document_sha256": viewer.legal_document, "legal_reference": viewer.legal_reference,
                    "requested_at": entry.at, "network_address": network_address},
        "access_log": log, "parts": manifest_parts(files),
    }
    files[MANIFEST] = canonical_json(manifest)
    manifest_hash = digest_bytes(files[MANIFEST])
    _anchored(ledger, manifest_hash, EvidenceKind.DOCUMENT, uid)
    files[MANIFEST_BUNDLE] = canonical_json(export_evidence_bundle(
        ledger, manifest_hash, HashAlgorithm.SHA256, original_name=f"dispute package manifest of {number}",
        requested_by=asked, note=f"It is the SHA-256 of the manifest of the dispute package of {number}."))
    stamp = date.fromisoformat(entry.at[:10]).strftime("%Y%m%d")
    return DisputePackage(number, f"{number}.dispute-package.{stamp}-{entry.seq}.pdf", render_package(files),
                          manifest, entry, conclusion)
