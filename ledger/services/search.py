"""Registration search (登记查询): by registration number or by the asset's name (REGISTRATION_RULES §8 item 1;
TJIFA §8.1.1: convenient query entries for publishable registration information; DL art. 27: validity checks by
number).

Units come from the indexer's read models (``IxUnit``: status, version, validity); names from the certificate
documents this registry stores (``StoredDocument`` of kind certificate, by the hash the chain records for each
version, ``IxCertificate``). A name matches any version's asset name, so an old certificate's name still finds
its unit, and the hit says the unit is now called otherwise. Only publishable fields are returned: number, asset
name, holder's legal name, object type, jurisdiction, status, version and validity — no accounts, contracts or
documents. The status is the effective one (an active unit past its validity is expired).

Reads never write. A search while the index lags says so (``index``): a miss is never silent.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from ledger.context import Ledger
from ledger.errors import LedgerValueError
from ledger.indexer.read_models import IxCertificate, IxUnit
from ledger.lifecycle import UnitStatus, effective_status
from ledger.models import StoredDocument
from ledger.numbering import validate_number
from ledger.services.registrations import IndexFreshness, freshness, unit_key
from ledger.workdays import last_day

MAX_QUERY = 100
#: Characters canonical JSON escapes: a name holding one is not looked for in the raw document text.
_ESCAPED = frozenset('"\\') | frozenset(chr(c) for c in range(0x20))


class RegistrationHit(BaseModel):
    """A registration unit found, with its publishable fields."""

    registration_number: str
    asset_name: str | None = Field(description="the asset's name on the current certificate")
    holder_name: str | None = Field(description="the holder's legal name on the current certificate")
    object_type: str | None
    jurisdiction: str | None
    status: str = Field(description="active, expired, suspended, cancelled or revoked (effective now)")
    under_objection: bool
    certificate_version: int
    valid_until: str | None = Field(description="the validity's last day (ends 24:00 China time)")
    matched_name: str | None = Field(description="a former name of the asset that matched the query, if the current "
                                     "one did not")


class SearchResult(BaseModel):
    """A page of hits, how many there are in all, what the query was taken as, and how fresh the index is."""

    query: str
    by: str = Field(description="number or name")
    data: list[RegistrationHit]
    count: int
    index: IndexFreshness


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _name(document: dict[str, Any] | None) -> str | None:
    name = ((document or {}).get("asset") or {}).get("name")
    return name if isinstance(name, str) else None


def _hit(ledger: Ledger, session: Session, unit: IxUnit, now: int, matched: str | None) -> RegistrationHit:
    stored = session.get(StoredDocument, unit.certificate_hash)
    document = json.loads(stored.body) if stored is not None and stored.kind == "certificate" else {}
    jurisdiction = next((p.code for p in ledger.profiles.values() if p.id == unit.profile_id), None)
    current = _name(document)
    return RegistrationHit(
        registration_number=unit.registration_number, asset_name=current,
        holder_name=(document.get("holder") or {}).get("legal_name"), object_type=document.get("object_type"),
        jurisdiction=jurisdiction, status=effective_status(UnitStatus(unit.status), unit.valid_until, now).name.lower(),
        under_objection=unit.open_objections > 0, certificate_version=unit.certificate_version,
        valid_until=last_day(unit.valid_until).isoformat() if unit.valid_until else None,
        matched_name=matched if matched is not None and matched != current else None)


def search(ledger: Ledger, query: str, offset: int = 0, limit: int = 20) -> SearchResult:
    """Registration units by number (an exact, check-character-valid number) or by asset name (a case-insensitive
    substring of any certificate version's asset name), the most recently registered first."""
    text = " ".join(query.split())
    if not text:
        raise LedgerValueError("search for a registration number or a name")
    if len(text) > MAX_QUERY:
        raise LedgerValueError(f"a search is at most {MAX_QUERY} characters")
    if offset < 0 or not 1 <= limit <= 100:
        raise LedgerValueError("offset must be >= 0 and limit between 1 and 100")
    fresh = freshness(ledger)
    key = ledger.deployment.deployment_id
    try:
        number = validate_number(text)
    except LedgerValueError:
        number = None
    with Session(ledger.engine) as session:
        if number is not None:
            unit = session.get(IxUnit, (key, unit_key(number)))
            hits = [_hit(ledger, session, unit, fresh.as_of_time, None)] if unit is not None else []
            return SearchResult(query=text, by="number", data=hits, count=len(hits), index=fresh)
        wanted = text.casefold()
        rows = select(IxUnit, StoredDocument.body, IxCertificate.version).join(
            IxCertificate, (col(IxCertificate.deployment) == col(IxUnit.deployment))
            & (col(IxCertificate.unit_id) == col(IxUnit.unit_id))).join(
            StoredDocument, col(StoredDocument.sha256) == col(IxCertificate.certificate_hash)).where(
            IxUnit.deployment == key, StoredDocument.kind == "certificate")
        if not _ESCAPED & set(text):  # narrow in SQL first; the name itself is checked below
            rows = rows.where(col(StoredDocument.body).ilike(_like(text), escape="\\"))
        found: dict[str, tuple[IxUnit, int, str | None]] = {}  # unit id -> (unit, best version, name matched)
        for unit, body, version in session.exec(rows).all():
            name = _name(json.loads(body))
            if name is None or wanted not in name.casefold():
                continue
            best = found.get(unit.unit_id)
            if best is None or version > best[1]:
                found[unit.unit_id] = (unit, version, name)
        ordered = sorted(found.values(), key=lambda f: (-f[0].registered_block, f[0].registration_number))
        hits = [_hit(ledger, session, unit, fresh.as_of_time, name)
                for unit, _, name in ordered[offset:offset + limit]]
        return SearchResult(query=text, by="name", data=hits, count=len(found), index=fresh)
