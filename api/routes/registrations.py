"""Registration look-ups for exchanges, banks and rights holders (核验, BJ-Op §(六); DL art. 27): the unit as
the chain holds it — status, rights holders, certificate versions, objections, rights-page entries, history —
served from the index (ledger.services.registrations); the public sees publishable information only.

Its documents as PDFs that verify offline (``ledger.services.documents``): the certificate, the rights
page, the evidence report and the cancellation proof for the holder (TJIFA §6.3.4) and whom REGISTRATION_RULES §6.2
lets read them; and the dispute evidence package for a court with its legal document (TJIFA §9.2)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import LedgerDep, ViewerDep
from api.routes.evidence import ERRORS
from ledger.services import documents
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


PDF: dict[int | str, dict[str, Any]] = {**ERRORS, 200: {"content": {"application/pdf": {}},
                                                       "description": "the PDF"}}


def pdf_file(body: bytes, filename: str, headers: dict[str, str] | None = None) -> Response:
    """A PDF download."""
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', **(headers or {})})


@router.post("/{number}/documents/{kind}", response_class=Response, responses=PDF)
async def get_document(number: str, kind: str, ledger: LedgerDep, viewer: ViewerDep) -> Response:
    """Issues (出证) a document of the registration as a PDF that verifies offline (``ledger proof verify``) — a
    POST: the first issue of a document keeps it and anchors its hash (TJIFA §8.2.3). ``certificate`` (its bundle
    proves the whole registry state), ``rights-page`` (他项权益页), ``evidence-report`` (存证报告书),
    ``cancellation-proof`` (注销证明, of a cancelled unit) — the holder prints its own (TJIFA §6.3.4); the
    registry, an exchange, a bank, a court with its document may read them (logged); the public 401, others 403."""
    made = await run_in_threadpool(lambda: documents.registration_document(ledger, number, kind, viewer=viewer))
    return pdf_file(made.body, made.filename)


@router.post("/{number}/dispute-package", response_class=Response, responses=PDF)
async def make_dispute_package(number: str, request: Request, ledger: LedgerDep, viewer: ViewerDep) -> Response:
    """The dispute evidence package (司法存证包, TJIFA §9.2, App. 4) for a court: certificate, evidence report,
    replayable extraction record and court bundle in one PDF that ``ledger proof verify`` checks offline. A court
    token (judicial role) with its legal document's SHA-256 in ``X-Legal-Document`` and its number in
    ``X-Legal-Reference``; the request is in the access log (``X-Access-Log-Seq`` names its entry)."""
    address = request.client.host if request.client else None
    made = await run_in_threadpool(lambda: documents.dispute_package(ledger, number, viewer=viewer,
                                                                     network_address=address))
    return pdf_file(made.body, made.filename, {"X-Access-Log-Seq": str(made.entry.seq),
                                               "X-Access-Log-Entry": made.entry.entry_hash})
