"""Filings on a registered unit over HTTP: licence, pledge, release, transfer, change, cancellation, renewal,
suspension, reinstatement, revocation; objection registrations and their court filing, disposal and lapse;
judicial orders. Each runs as far as the rules allow and says what it waits for (a review, a notice).

Thin: each route calls one function of ``ledger.services.applications``; the account is the token's.
"""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.concurrency import run_in_threadpool

from api.deps import ActorDep, LedgerDep
from api.routes.evidence import ERRORS
from ledger.context import Ledger
from ledger.services import applications as service
from ledger.services.applications import Filed
from ledger.services.schemas import (
    ActPublic,
    ApplicationPublic,
    AuthorityActCreate,
    CancellationCreate,
    ChangeCreate,
    EntryCreate,
    ObjectionDisposal,
    ObjectionRegistrationCreate,
    ObjectionRegistrationPublic,
    OrderCreate,
    ReleaseCreate,
    RenewalCreate,
    TransferCreate,
)

router = APIRouter(prefix="/registrations", tags=["filings"])


def _public(ledger: Ledger, filed: Filed) -> ApplicationPublic:
    return service.filed_view(ledger, filed)


@router.post("/{number}/licences", response_model=ApplicationPublic, status_code=status.HTTP_201_CREATED,
             responses=ERRORS)
async def licence(number: str, body: EntryCreate, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """Licence registration (许可登记): an entry on the rights page."""
    return _public(ledger, await run_in_threadpool(service.file_entry, ledger, "licence", number, actor, body))


@router.post("/{number}/pledges", response_model=ApplicationPublic, status_code=status.HTTP_201_CREATED,
             responses=ERRORS)
async def pledge(number: str, body: EntryCreate, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """Pledge (质押) on the additional-rights page; pledgor and pledgee both consent (TJIFA §8.2.2)."""
    return _public(ledger, await run_in_threadpool(service.file_entry, ledger, "pledge", number, actor, body))


@router.post("/{number}/releases", response_model=ApplicationPublic, status_code=status.HTTP_201_CREATED,
             responses=ERRORS)
async def release(number: str, body: ReleaseCreate, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """Release a pledge or licence entry of this unit."""
    return _public(ledger, await run_in_threadpool(service.file_release, ledger, number, actor, body))


@router.post("/{number}/transfers", response_model=ApplicationPublic, status_code=status.HTTP_201_CREATED,
             responses=ERRORS)
async def transfer(number: str, body: TransferCreate, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """Transfer registration (转移登记); a pledged unit needs its pledgees' consent."""
    return _public(ledger, await run_in_threadpool(service.file_transfer, ledger, number, actor, body))


@router.post("/{number}/changes", response_model=ApplicationPublic, status_code=status.HTTP_201_CREATED,
             responses=ERRORS)
async def change(number: str, body: ChangeCreate, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """Change registration (变更登记): the certificate is reissued with only the given fields changed."""
    return _public(ledger, await run_in_threadpool(service.file_change, ledger, number, actor, body))


@router.post("/{number}/cancellations", response_model=ApplicationPublic, status_code=status.HTTP_201_CREATED,
             responses=ERRORS)
async def cancellation(number: str, body: CancellationCreate, ledger: LedgerDep,
                       actor: ActorDep) -> ApplicationPublic:
    """Cancellation (注销登记): by the holder, by a court or arbitration order, or ex officio."""
    return _public(ledger, await run_in_threadpool(service.file_cancellation, ledger, number, actor, body))


@router.post("/{number}/renewals", response_model=ApplicationPublic, status_code=status.HTTP_201_CREATED,
             responses=ERRORS)
async def renewal(number: str, body: RenewalCreate, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """Renewal (续期; DL's annual review) in the window before expiry."""
    return _public(ledger, await run_in_threadpool(service.file_renewal, ledger, number, actor, body))


@router.post("/{number}/suspensions", response_model=ApplicationPublic, status_code=status.HTTP_201_CREATED,
             responses=ERRORS)
async def suspension(number: str, body: AuthorityActCreate, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """Suspension (中止, DL art. 22): by the registry, or a court."""
    filed = await run_in_threadpool(service.file_authority_act, ledger, "suspension", number, actor, body)
    return _public(ledger, filed)


@router.post("/{number}/reinstatements", response_model=ApplicationPublic, status_code=status.HTTP_201_CREATED,
             responses=ERRORS)
async def reinstatement(number: str, body: AuthorityActCreate, ledger: LedgerDep,
                        actor: ActorDep) -> ApplicationPublic:
    """Lift a suspension (a court's only by the court)."""
    filed = await run_in_threadpool(service.file_authority_act, ledger, "reinstatement", number, actor, body)
    return _public(ledger, filed)


@router.post("/{number}/revocations", response_model=ApplicationPublic, status_code=status.HTTP_201_CREATED,
             responses=ERRORS)
async def revocation(number: str, body: AuthorityActCreate, ledger: LedgerDep, actor: ActorDep) -> ApplicationPublic:
    """Revocation (撤销, AH art. 23; GD art. 22; GZ art. 34) with the decision that grounds it."""
    filed = await run_in_threadpool(service.file_authority_act, ledger, "revocation", number, actor, body)
    return _public(ledger, filed)


@router.post("/{number}/objections", response_model=ObjectionRegistrationPublic, status_code=status.HTTP_201_CREATED,
             responses=ERRORS)
async def register_objection(number: str, body: ObjectionRegistrationCreate, ledger: LedgerDep,
                             actor: ActorDep) -> ObjectionRegistrationPublic:
    """Objection registration (异议登记, SZ art. 20): with its proof and the court filing deadline."""
    return await run_in_threadpool(service.register_objection, ledger, number, actor, body)


@router.post("/{number}/objections/{objection}/litigation", response_model=ActPublic, responses=ERRORS)
async def litigation(number: str, objection: str, body: OrderCreate, ledger: LedgerDep,
                     actor: ActorDep) -> ActPublic:
    """The court's or arbitral body's acceptance notice, lodged in time: the objection does not lapse."""
    return await run_in_threadpool(service.record_litigation, ledger, number, objection, actor, body.document_hash)


@router.post("/{number}/objections/{objection}/resolution", response_model=ActPublic, responses=ERRORS)
async def dispose(number: str, objection: str, body: ObjectionDisposal, ledger: LedgerDep,
                  actor: ActorDep) -> ActPublic:
    """The court's disposal of an objection registration (upheld or dismissed)."""
    return await run_in_threadpool(service.dispose_of_objection, ledger, number, objection, actor, body)


@router.post("/{number}/objections/{objection}/lapse", response_model=ActPublic, responses=ERRORS)
async def lapse(number: str, objection: str, ledger: LedgerDep, actor: ActorDep) -> ActPublic:
    """Lapse an objection registration whose filing deadline passed (the duty pass does it by itself)."""
    return await run_in_threadpool(service.lapse_objection, ledger, number, objection, actor)


@router.post("/{number}/orders", response_model=ActPublic, status_code=status.HTTP_201_CREATED,
             responses=ERRORS)
async def order(number: str, body: OrderCreate, ledger: LedgerDep, actor: ActorDep) -> ActPublic:
    """A court or arbitration order concerning the unit (the judicial role)."""
    return await run_in_threadpool(service.record_order, ledger, number, actor, body)
