"""Document use cases: registration documents as PDFs that verify offline.

``certificate_pdf``: the registration certificate (确权证书, TJIFA §8.2.1) with its court bundle attached. On
request the certificate is itself stored as on-chain evidence (TJIFA §8.2.3): it is anchored here by the evidence
provider if it is not yet, and the bundle proves both the anchor and the unit's registry status, so a PDF of a
certificate that was later superseded or cancelled says so when verified (issue #7).
"""

from __future__ import annotations

import json

from sqlmodel import Session

from ledger.context import Ledger
from ledger.errors import LedgerValueError, NotFoundError
from ledger.evidence import EvidenceKind
from ledger.hashing import HashAlgorithm, canonical_json, digest_bytes, to_hex
from ledger.lifecycle import UnitStatus
from ledger.models import StoredDocument
from ledger.numbering import unit_id, validate_number
from ledger.pdf import render_pdf
from ledger.services.proofs import export_evidence_bundle


def certificate_pdf(ledger: Ledger, number: str, base_url: str, requested_by: str = "") -> bytes:
    """The current certificate of registration unit ``number`` as a PDF that verifies offline."""
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
    bundle = export_evidence_bundle(
        ledger, cert_hash, HashAlgorithm.SHA256, original_name=f"{number} certificate v{version}",
        requested_by=requested_by,
        presentation={"verify_base_url": base_url, "registration_number": number, "certificate_version": version},
        note=f"It is the SHA-256 of certificate version {version} of registration unit {number}.")
    return render_pdf(document, bundle)
