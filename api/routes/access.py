"""The access log over HTTP (issue #11 §4): who read which non-public record, when, on what legal basis — for
auditors and the registry's staff; its verification against the heads anchored on chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.deps import LedgerDep, ViewerDep
from api.routes.evidence import ERRORS
from ledger.services import access as service
from ledger.services.registrations import Page

router = APIRouter(prefix="/access-log", tags=["access log"])


class AccessLogEntryPublic(BaseModel):
    seq: int
    at: str
    principal: str
    address: str | None
    role: str
    action: str
    subject: str
    legal_basis: str
    legal_document_hash: str | None
    prev_hash: str
    entry_hash: str


class AccessLogCheckPublic(BaseModel):
    intact: bool
    entries: int
    anchors: int
    problems: list[str]


class AccessLogAnchorPublic(BaseModel):
    seq: int
    head_hash: str
    tx_hash: str
    block_number: int


@router.get("", response_model=Page[AccessLogEntryPublic], responses=ERRORS)
async def read_log(ledger: LedgerDep, viewer: ViewerDep, offset: Annotated[int, Query(ge=0)] = 0,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Page[AccessLogEntryPublic]:
    """The log, oldest first (auditors and the registry's staff)."""
    service.auditor_or_staff(viewer, "the access log")
    rows, count = await run_in_threadpool(service.access_log, ledger, offset, limit)
    return Page[AccessLogEntryPublic](data=[AccessLogEntryPublic.model_validate(r, from_attributes=True)
                                            for r in rows], count=count)


@router.get("/verification", response_model=AccessLogCheckPublic, responses=ERRORS)
async def verify_log(ledger: LedgerDep, viewer: ViewerDep) -> AccessLogCheckPublic:
    """Recomputes the hash chain and checks it against every head anchored on chain."""
    service.auditor_or_staff(viewer, "the access log")
    check = await run_in_threadpool(service.verify_access_log, ledger)
    return AccessLogCheckPublic(intact=check.intact, entries=check.entries, anchors=check.anchors,
                                problems=check.problems)


@router.post("/anchors", response_model=AccessLogAnchorPublic | None, status_code=status.HTTP_201_CREATED,
             responses=ERRORS)
async def anchor_log(ledger: LedgerDep, viewer: ViewerDep) -> AccessLogAnchorPublic | None:
    """Anchors the log's head now (``ledger serve`` does it periodically); null when nothing is new."""
    service.require_registry(viewer, "anchoring the access log")
    anchor = await run_in_threadpool(service.anchor_access_log, ledger)
    return AccessLogAnchorPublic.model_validate(anchor, from_attributes=True) if anchor else None
