"""Registration look-ups for exchanges, banks and rights holders (核验, BJ-Op §(六); DL art. 27): the unit as
the chain holds it — status, rights holders, certificate versions, objections, rights-page entries, history —
served from the index (ledger.services.registrations). Public, read only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from api.deps import LedgerDep, ViewerDep
from api.routes.evidence import ERRORS
from ledger.services import registrations as service
from ledger.services.registrations import (
    CertificatePublic,
    HistoryEventPublic,
    Page,
    RegistrationPublic,
    RegistrationSummary,
    RightsEntryPublic,
)

router = APIRouter(prefix="/registrations", tags=["registrations"])


@router.get("", response_model=Page[RegistrationSummary], responses=ERRORS)
async def list_registrations(
    ledger: LedgerDep, viewer: ViewerDep,
    holder: Annotated[str, Query(description="Account holding a right (any of the three).")],
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[RegistrationSummary]:
    """The registrations in which an account holds a right, newest first."""
    return await run_in_threadpool(lambda: service.by_holder(ledger, holder, offset, limit, viewer=viewer))


@router.get("/{number}", response_model=RegistrationPublic, responses=ERRORS)
async def get_registration(number: str, ledger: LedgerDep, viewer: ViewerDep) -> RegistrationPublic:
    """Check a registration before a trade or a pledge: is it active, who holds which right, is it encumbered
    or under objection, and which certificate is current."""
    return await run_in_threadpool(lambda: service.registration(ledger, number, viewer=viewer))


@router.get("/{number}/rights-page", response_model=list[RightsEntryPublic], responses=ERRORS)
async def get_rights_page(number: str, ledger: LedgerDep, viewer: ViewerDep) -> list[RightsEntryPublic]:
    """The additional-rights page (他项权益页): pledges and licences, released ones kept."""
    return await run_in_threadpool(lambda: service.rights_page(ledger, number, viewer=viewer))


@router.get("/{number}/certificates", response_model=list[CertificatePublic], responses=ERRORS)
async def get_certificates(number: str, ledger: LedgerDep) -> list[CertificatePublic]:
    """Every certificate version, the last one current."""
    return await run_in_threadpool(service.certificates, ledger, number)


@router.get("/{number}/history", response_model=list[HistoryEventPublic], responses=ERRORS)
async def get_history(number: str, ledger: LedgerDep, viewer: ViewerDep) -> list[HistoryEventPublic]:
    """Every recorded transition with its governing document's hash."""
    return await run_in_threadpool(lambda: service.history(ledger, number, viewer=viewer))
