"""Registration applications over HTTP (登记申请): file, review, notice, object, register — every step of the
workflow, for the registry's operators, the holders and the public (objections during notice).

The account a request acts as is its token's; the workflow checks the role each step needs and names it when it
refuses (403). Thin: each route calls one function of ``ledger.services.applications``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import ActorDep, LedgerDep, ViewerDep
from api.routes.evidence import ERRORS
from api.routes.registrations import PDF, pdf_file
from ledger.services import applications as service
from ledger.services import documents
from ledger.services.registrations import Page
from ledger.services.schemas import (
    ApplicationPublic,
    ConsentRequestPublic,
    ConsentSignature,
    DocumentRef,
    InitialApplicationCreate,
    NoticeObjectionCreate,
    NoticeObjectionResolution,
    ReviewDecision,
)

router = APIRouter(prefix="/applications", tags=["applications"])


@router.post("", response_model=ApplicationPublic, status_code=status.HTTP_201_CREATED, responses=ERRORS)
async def apply(body: InitialApplicationCreate, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """File an initial registration application (首次登记申请): the holder, or a registrar as agent."""
    return ApplicationPublic.of(await run_in_threadpool(service.apply_initial, ledger, body, actor))


@router.get("", response_model=Page[ApplicationPublic], responses=ERRORS)
async def list_applications(
    ledger: LedgerDep, viewer: ViewerDep,
    state: Annotated[str | None, Query(description="submitted, in_review, in_public_notice, registered ...")] = None,
    kind: Annotated[str | None, Query(description="initial, licence, pledge, transfer ...")] = None,
    offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[ApplicationPublic]:
    """Applications by state and kind, newest first."""
    return await run_in_threadpool(lambda: service.applications(ledger, state, kind, offset, limit, viewer=viewer))


@router.get("/{application_id}", response_model=ApplicationPublic, responses=ERRORS)
async def get_application(application_id: str, ledger: LedgerDep, viewer: ViewerDep) -> ApplicationPublic:
    """An application with its history (every step: who, when, what) and its notice objections."""
    return await run_in_threadpool(lambda: service.application(ledger, application_id, viewer=viewer))


@router.post("/{application_id}/accept", response_model=ApplicationPublic, responses=ERRORS)
async def accept(application_id: str, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """受理: the registry accepts the application and its formal review begins."""
    return ApplicationPublic.of(await run_in_threadpool(service.accept, ledger, application_id, actor))


@router.post("/{application_id}/review", response_model=ApplicationPublic, responses=ERRORS)
async def review(application_id: str, body: ReviewDecision, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """Pass the formal review, file the third-party report (the reviewer), request a supplement, or reject."""
    return ApplicationPublic.of(await run_in_threadpool(service.review, ledger, application_id, actor, body))


@router.post("/{application_id}/resubmit", response_model=ApplicationPublic, responses=ERRORS)
async def resubmit(application_id: str, body: DocumentRef, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """Resubmit after a supplement request, with the corrected materials' digest."""
    return ApplicationPublic.of(await run_in_threadpool(service.resubmit, ledger, application_id, actor,
                                                        body.document_hash))


@router.post("/{application_id}/withdraw", response_model=ApplicationPublic, responses=ERRORS)
async def withdraw(application_id: str, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """Withdraw before approval (撤回, DL art. 17): the applicant, or the registry."""
    return ApplicationPublic.of(await run_in_threadpool(service.withdraw, ledger, application_id, actor))


@router.post("/{application_id}/approve", response_model=ApplicationPublic, responses=ERRORS)
async def approve(application_id: str, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """Approve (the registration number is allocated now)."""
    return ApplicationPublic.of(await run_in_threadpool(service.approve, ledger, application_id, actor))


@router.post("/{application_id}/notice", response_model=ApplicationPublic, responses=ERRORS)
async def notice(application_id: str, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """Start the public notice (公示) for the profile's period."""
    return ApplicationPublic.of(await run_in_threadpool(service.start_notice, ledger, application_id, actor))


@router.post("/{application_id}/register", response_model=ApplicationPublic, responses=ERRORS)
async def register(application_id: str, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """Record the registration on chain (idempotent: a registered application is returned as it is)."""
    return ApplicationPublic.of(await run_in_threadpool(service.register, ledger, application_id, actor))


@router.post("/{application_id}/objections", response_model=ApplicationPublic, responses=ERRORS)
async def object_to_notice(application_id: str, body: NoticeObjectionCreate, ledger: LedgerDep,
                           actor: ActorDep) -> ApplicationPublic:
    """Object during public notice (GD art. 11; DL art. 23; GZ art. 19), with identity and evidence."""
    return ApplicationPublic.of(await run_in_threadpool(service.object_to_notice, ledger, application_id, actor,
                                                        body))


@router.post("/{application_id}/objections/resolution", response_model=ApplicationPublic, responses=ERRORS)
async def resolve_notice_objection(application_id: str, body: NoticeObjectionResolution, ledger: LedgerDep,
                                   actor: ActorDep) -> ApplicationPublic:
    """Decide a notice objection (the registry): upheld ends the application; dismissed, the notice goes on."""
    return ApplicationPublic.of(await run_in_threadpool(service.resolve_notice_objection, ledger, application_id,
                                                        actor, body))


@router.get("/{application_id}/consents", response_model=list[ConsentRequestPublic], responses=ERRORS)
async def list_consents(application_id: str, ledger: LedgerDep, viewer: ViewerDep) -> list[ConsentRequestPublic]:
    """The consents this application waits for from parties who sign in their own wallets: the EIP-712 typed
    data to sign (eth_signTypedData_v4, or `ledger wallet sign`). For its parties (a request signed with the
    party's key: X-Ledger-Address, -Timestamp, -Signature), the registry and a court with its document."""
    return await run_in_threadpool(lambda: service.consents(ledger, application_id, viewer=viewer))


@router.post("/{application_id}/consents/{consent_id}", response_model=ConsentRequestPublic, responses=ERRORS)
async def submit_consent(application_id: str, consent_id: int, body: ConsentSignature,
                         ledger: LedgerDep) -> ConsentRequestPublic:
    """A party's signature over its consent, posted by the party or relayed: accepted only if it is the party's
    own over exactly the requested message (403 otherwise). The registry sends it when it registers."""
    return await run_in_threadpool(service.submit_consent, ledger, application_id, consent_id, body)


@router.post("/{application_id}/documents/supplement-notice", response_class=Response, responses=PDF)
async def get_supplement_notice(application_id: str, ledger: LedgerDep, viewer: ViewerDep) -> Response:
    """The supplementary-registration notice (补充登记通知, TJIFA §6.4.2, App. 7) of an application with a supplement
    request, as a PDF that verifies offline: for its parties, the registry, a court with its document (logged)."""
    made = await run_in_threadpool(lambda: documents.supplement_notice(ledger, application_id, viewer=viewer))
    return pdf_file(made.body, made.filename)
