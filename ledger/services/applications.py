"""Filing use cases (登记申请): the workflow driven as far as the rules allow, for every shell.

The CLI, the API and the scheduled duties call these; none of them drives the state machine step by step
itself (issue #11). A filing on a registered unit is accepted and its review opened by the registry, then stops
where the profile makes it wait — a third-party review (SZ art. 16(4), 17(3)–(4); GZ art. 24–27; DL art. 20), a
public notice (GD art. 11; DL art. 23; GZ art. 19) — or is registered on chain at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from ledger.context import Ledger
from ledger.errors import LedgerValueError, NotFoundError
from ledger.hashing import parse_digest
from ledger.indexer.read_models import IxUnit
from ledger.lifecycle import Right
from ledger.models import Application
from ledger.numbering import unit_id, validate_number
from ledger.profiles import JurisdictionProfile
from ledger.workflow import State


@dataclass(frozen=True)
class Filed:
    """Where a filing stands after the steps that need no waiting, and what it waits for, in words."""

    application: Application
    waiting_for: str | None = None

    @property
    def next_step(self) -> str:
        app = self.application
        if self.waiting_for == "review":
            return (f"a third-party review: `ledger registry review {app.id[:12]} --report FILE --as reviewer`, "
                    "then approve and register")
        if self.waiting_for == "notice":
            return f"the public notice to end ({app.notice_end}); the registry then registers it"
        return ""


def registrar_of(ledger: Ledger, actor: str | None = None) -> str:
    """The registry account that runs the registry's own steps: ``actor`` if it is a registrar, else the first
    registrar this installation holds a key for."""
    names = [a.name for a in ledger.accounts.with_role("registrar")]
    if actor in names:
        return actor
    if not names:
        raise LedgerValueError("this installation holds no registrar key: the registry's steps cannot run here")
    return names[0]


def unit_profile(ledger: Ledger, number: str) -> tuple[IxUnit, JurisdictionProfile]:
    """A registered unit as the index holds it (brought up to the chain's head first: a filing must not rest on
    a stale view), with its jurisdiction profile."""
    ledger.indexer.run_once()
    number = validate_number(number)
    with Session(ledger.engine) as session:
        unit = session.get(IxUnit, (ledger.deployment.deployment_id, "0x" + unit_id(number).hex()))
    if unit is None:
        raise NotFoundError(f"no registration unit {number}")
    profile = next((p for p in ledger.profiles.values() if p.id == unit.profile_id), None)
    if profile is None:
        raise LedgerValueError(f"registration {number} is under profile {unit.profile_id}, unknown here")
    return unit, profile


def file_on_unit(ledger: Ledger, kind: str, number: str, actor: str, *, counterparty: str | None = None,
                 rights: int = Right.ALL, payload: dict[str, Any] | None = None, document: bytes | None = None,
                 filer: str | None = None) -> Filed:
    """Files a post-registration application (licence, pledge, release, transfer, change, cancellation,
    renewal, suspension, reinstatement, revocation) and runs it as far as the rules allow without waiting.
    ``actor`` acts for the registry where the registry acts (or registers, for an authority's act); ``filer``
    files it (default: ``actor``)."""
    unit, profile = unit_profile(ledger, number)
    workflow = ledger.workflow
    owner = workflow.account_of(unit.holder)
    if owner is None:
        raise LedgerValueError("the unit's holder is not in the accounts file")
    application = workflow.apply(kind=kind, profile=profile.code, holder=owner, actor=filer or actor,
                                 number=validate_number(number), counterparty=counterparty, rights=rights,
                                 payload=dict(payload or {}), document=document)
    registrar = registrar_of(ledger, actor)
    for step in (workflow.accept, workflow.begin_review):
        application = step(application.id, registrar)
    if profile.needs_review(kind):
        return Filed(workflow.pass_formal_review(application.id, registrar), "review")
    application = workflow.approve(application.id, registrar)
    if workflow.needs_notice(application):
        return Filed(workflow.start_notice(application.id, registrar), "notice")
    return Filed(workflow.register(application.id, actor))


def digest_or_none(value: str | None) -> bytes | None:
    """A 0x-digest given as text, or None."""
    return parse_digest(value) if value else None


def in_notice(application: Application) -> bool:
    return application.state == State.IN_PUBLIC_NOTICE.value
