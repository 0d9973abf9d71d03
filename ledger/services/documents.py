"""Document use cases: registration documents as PDFs that verify offline.

``certificate_pdf``: the registration certificate (确权证书, TJIFA §8.2.1) with its court bundle attached. On
request the certificate is itself stored as on-chain evidence (TJIFA §8.2.3): it is anchored here by the evidence
provider if it is not yet, and the bundle proves both the anchor and the unit's registry status, so a PDF of a
certificate that was later superseded or cancelled says so when verified (issue #7).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlmodel import Session

from ledger.context import Ledger
from ledger.documents import certificate_annexes, rights_page
from ledger.errors import LedgerValueError, NotFoundError
from ledger.evidence import EvidenceKind
from ledger.hashing import HashAlgorithm, canonical_json, digest_bytes, to_hex
from ledger.lifecycle import UnitStatus
from ledger.models import StoredDocument
from ledger.numbering import unit_id, validate_number
from ledger.pdf import render_pdf
from ledger.services import registrations
from ledger.services.proofs import export_evidence_bundle


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
    uid = unit_id(number)
    unit = ledger.assets.unit(uid)
    if unit["status"] is UnitStatus.NONE:
        raise NotFoundError(f"no registration unit {number}")
    cert_hash = unit["certificate_hash"]
    with Session(ledger.engine) as session:
        stored = session.get(StoredDocument, to_hex(cert_hash))
    if stored is None:
        raise NotFoundError(f"this registry does not hold certificate {to_hex(cert_hash)} of {number}")
    document = json.loads(stored.body)
    if digest_bytes(canonical_json(document)) != cert_hash:
        raise LedgerValueError(f"the stored certificate of {number} does not hash to the one on chain")
    if not ledger.evidence.verify(cert_hash, HashAlgorithm.SHA256).anchored:
        provider = ledger.accounts.first_with_role("evidence_provider").name
        ledger.evidence.anchor(ledger.sender(provider), cert_hash, HashAlgorithm.SHA256, EvidenceKind.CERTIFICATE, uid)
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
    entries = registrations.rights_page(ledger, validate_number(number))
    return rights_page(number, ledger.workflow.chain_date(), [
        {"entry_id": e.entry_id, "kind": e.kind, "counterparty": e.counterparty, "rights": e.rights_mask,
         "valid_until": date.fromisoformat(e.valid_until) if e.valid_until else None,
         "active": e.status == "active", "contract_hash": e.contract_hash} for e in entries])
