"""A rights holder's own records (权益人查询): the units it holds, its applications and what they wait for, the
consents it still has to sign in its wallet, and its renewal reminders — one view for the holder's pages and any
other shell (TJIFA §6.2 account book; §6.3.4 a holder sees and prints everything of its own; §8.3.3 renewal in the
last month).

Reads only: every part comes from the read models and the workflow's tables, through the services that already
decide who may read what (``registrations.by_holder``, ``applications.applications``); nothing here grants access
of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from ledger.context import Ledger
from ledger.errors import ForbiddenError
from ledger.models import Application, ConsentRequest, RegistryAct
from ledger.services import applications as application_service
from ledger.services import registrations
from ledger.services.access import Viewer
from ledger.services.registrations import RegistrationSummary
from ledger.services.schemas import ApplicationPublic, ConsentRequestPublic
from ledger.workflow import State

#: How many of a holder's units and applications one overview lists (its pages page through the API beyond).
OVERVIEW_LIMIT = 200


class PendingConsent(BaseModel):
    """A consent the holder has not signed yet, with the application it is for."""

    application_id: str
    application_kind: str
    registration_number: str | None
    consent: ConsentRequestPublic
    expired: bool = Field(description="its deadline has passed: the registry asks again when it registers")


class RenewalReminder(BaseModel):
    """A renewal window that opened for one of the holder's units (TJIFA §8.3.3; recorded by the registry's duties
    with the rule it applies)."""

    registration_number: str | None
    unit_id: str
    rule: str
    detail: str
    opened_at: datetime


class HolderOverview(BaseModel):
    """Everything of a holder's own, as of the index's freshness."""

    account: str
    address: str
    units: list[RegistrationSummary]
    units_count: int
    applications: list[ApplicationPublic]
    supplement_requests: list[ApplicationPublic] = Field(description="applications waiting for the holder to "
                                                         "supplement them (补正, TJIFA §6.2.3)")
    pending_consents: list[PendingConsent]
    reminders: list[RenewalReminder]


def _holder(viewer: Viewer) -> tuple[str, str]:
    if viewer.public or viewer.account is None or viewer.address is None:
        raise ForbiddenError("a holder's records are its own: sign in with its token or its key")
    return viewer.account, viewer.address


def pending_consents(ledger: Ledger, viewer: Viewer) -> list[PendingConsent]:
    """The consents requested of the viewer's address and not signed yet, oldest first."""
    _, address = _holder(viewer)
    now = datetime.now(UTC).timestamp()
    with Session(ledger.engine) as session:
        rows = session.exec(
            select(ConsentRequest, Application)
            .join(Application, col(Application.id) == col(ConsentRequest.application_id))
            .where(col(ConsentRequest.signature).is_(None), func.lower(ConsentRequest.signer) == address.lower(),
                   Application.deployment == ledger.deployment.deployment_id)
            .order_by(col(ConsentRequest.id))).all()
        return [PendingConsent(application_id=app.id, application_kind=app.kind,
                               registration_number=app.registration_number, consent=ConsentRequestPublic.of(row),
                               expired=row.deadline < now)
                for row, app in rows if app.state not in (State.WITHDRAWN, State.REJECTED, State.TERMINATED)]


def reminders(ledger: Ledger, unit_ids: list[str]) -> list[RenewalReminder]:
    """The renewal reminders the registry's duties issued for these units, newest first."""
    if not unit_ids:
        return []
    with Session(ledger.engine) as session:
        rows = session.exec(select(RegistryAct).where(
            RegistryAct.deployment == ledger.deployment.deployment_id, RegistryAct.kind == "renewal_reminder",
            col(RegistryAct.unit_id).in_(unit_ids)).order_by(col(RegistryAct.due_at).desc())).all()
        return [RenewalReminder(registration_number=r.registration_number, unit_id=r.unit_id or r.subject,
                                rule=r.rule, detail=r.detail, opened_at=datetime.fromtimestamp(r.due_at, UTC))
                for r in rows]


def overview(ledger: Ledger, viewer: Viewer) -> HolderOverview:
    """The viewer's own units, applications, consents to sign and renewal reminders (TJIFA §6.2, §6.3.4)."""
    account, address = _holder(viewer)
    units = registrations.by_holder(ledger, address, 0, OVERVIEW_LIMIT, viewer=viewer)
    own = application_service.applications(ledger, None, None, 0, OVERVIEW_LIMIT, viewer=viewer, own=True)
    supplements = [a for a in own.data if a.state == State.SUPPLEMENT_REQUESTED]
    return HolderOverview(account=account, address=address, units=units.data, units_count=units.count,
                          applications=own.data, supplement_requests=supplements,
                          pending_consents=pending_consents(ledger, viewer),
                          reminders=reminders(ledger, [u.unit_id for u in units.data]))
