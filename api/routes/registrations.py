"""Registration look-ups for exchanges, banks and rights holders (核验, BJ-Op §(六); DL art. 27): the unit as
the chain holds it — status, rights holders, certificate, objections, rights-page entries. Public, read only."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlmodel import Session

from api.deps import LedgerDep
from api.routes.evidence import ERRORS
from ledger.context import Ledger
from ledger.errors import NotFoundError
from ledger.hashing import to_hex
from ledger.lifecycle import Right, UnitStatus
from ledger.models import StoredDocument
from ledger.numbering import unit_id, validate_number
from ledger.workflow import CHINA

router = APIRouter(prefix="/registrations", tags=["registrations"])
RIGHTS = {"holding": Right.HOLDING, "processing_use": Right.PROCESSING_USE,
          "product_operation": Right.PRODUCT_OPERATION}


class RegistrationPublic(BaseModel):
    """A registration unit as the chain holds it."""

    registration_number: str
    unit_id: str
    status: str  # active, suspended, expired, cancelled, revoked
    jurisdiction: str | None
    object_type: int
    certificate_hash: str
    certificate_version: int
    holder: str
    right_holders: dict[str, str]
    valid_until: str | None
    open_objections: int
    active_rights_entries: int
    certificate: dict[str, Any] | None  # the certificate document, when this registry stored it


def _lookup(ledger: Ledger, number: str) -> dict[str, Any]:
    number = validate_number(number)
    uid = unit_id(number)
    unit = ledger.assets.unit(uid)
    if unit["status"] is UnitStatus.NONE:
        raise NotFoundError(f"no registration unit {number}")
    with Session(ledger.engine) as session:
        stored = session.get(StoredDocument, to_hex(unit["certificate_hash"]))
    profile = next((p.code for p in ledger.workflow.profiles.values() if p.id == unit["profile_id"]), None)
    return {
        "registration_number": number, "unit_id": to_hex(uid),
        "status": ledger.assets.status(uid).name.lower(), "jurisdiction": profile,
        "object_type": unit["object_type"], "certificate_hash": to_hex(unit["certificate_hash"]),
        "certificate_version": unit["certificate_version"], "holder": unit["holder"],
        "right_holders": {name: ledger.assets.right_holder(uid, right) for name, right in RIGHTS.items()
                          if unit["rights"] & right},
        "valid_until": datetime.fromtimestamp(unit["valid_until"], CHINA).isoformat() if unit["valid_until"] else None,
        "open_objections": unit["open_objections"], "active_rights_entries": ledger.assets.active_entries(uid),
        "certificate": json.loads(stored.body) if stored else None,
    }


@router.get("/{number}", response_model=RegistrationPublic, responses=ERRORS)
async def get_registration(number: str, ledger: LedgerDep) -> dict[str, Any]:
    """Check a registration before a trade or a pledge: is it active, who holds which right, is it encumbered
    or under objection, and which certificate is current."""
    return await run_in_threadpool(_lookup, ledger, number)
