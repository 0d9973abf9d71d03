"""Duties that time makes due, done by the registry itself (issue #10 §4): nobody has to run a command.

``ledger serve`` runs ``run_duties`` every ``LEDGER_DUTIES_INTERVAL`` seconds (``ledger registry duties`` runs it
once). Each duty reads the index (what is due), acts through the workflow and the outbox, and is recorded as a
history event with the rule key it applies (``RegistryAct``; the unit's history shows it):

- an objection registration whose objector lodged no court or arbitration acceptance within 15 days lapses
  (SZ art. 20) — ``lapseObjection`` on chain, recorded when it is mined (the outbox's completion);
- a registration past its validity is recorded expired (``markExpired``; TJIFA §8.3.3, DL art. 30, GZ art. 35);
  under a profile whose expiry leads to cancellation (GZ art. 35: "cancelled and announced") the registry then
  cancels it ex officio, grounded on its announcement (注销公告, stored; its hash recorded on chain);
- a public notice that ended without a pending objection: the application is registered (DL art. 25, GD art. 11,
  GZ art. 19, AH art. 19(4), TJIFA §8.1);
- a renewal reminder is issued when the renewal window opens, the last month (TJIFA §8.3.3, GZ art. 35);
- an objection during notice not resolved in time ends the application (AH art. 22, GD art. 23:
  ``Workflow.enforce_deadlines``).

Time: the later of the wall clock and the chain's head (a development chain may have been moved forward); the
chain's own checks (``block.timestamp``) still decide — a duty the chain refuses as not yet due is tried again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import and_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ledger.context import Ledger
from ledger.db import session_scope
from ledger.documents import document_hash, expiry_announcement
from ledger.errors import LedgerError
from ledger.hashing import canonical_json, parse_digest, to_hex
from ledger.indexer.read_models import IxObjection, IxUnit
from ledger.lifecycle import ObjectionStatus, UnitStatus
from ledger.models import RegistryAct, StoredDocument
from ledger.profiles import JurisdictionProfile
from ledger.registry_acts import Act, record_act
from ledger.services.applications import file_on_unit, registrar_of
from ledger.services.registrations import freshness
from ledger.workdays import china_date, end_of_day, last_day
from ledger.workflow import State

log = logging.getLogger(__name__)
DAY = 86_400
#: The rule each profile's validity and renewal rest on (REGISTRATION_RULES §5.5).
EXPIRY_RULE = {"TJIFA": "TJIFA §8.3.3", "GZ": "GZ art. 35", "DL": "DL art. 30"}
#: The rule that makes a registration effective when its public notice ends (REGISTRATION_RULES §3.5).
NOTICE_RULE = {"TJIFA": "TJIFA §8.1", "GD": "GD art. 11", "AH": "AH art. 19(4)", "DL": "DL art. 25",
               "GZ": "GZ art. 19", "SZ": "SZ art. 15"}
_FINAL = {State.WITHDRAWN.value, State.REJECTED.value, State.TERMINATED.value}


def _recorded(ledger: Ledger, kind: str, subject: str, due_at: int) -> bool:
    with Session(ledger.engine) as session:
        return session.exec(select(RegistryAct.id).where(
            RegistryAct.deployment == ledger.deployment.deployment_id, RegistryAct.kind == kind,
            RegistryAct.subject == subject, RegistryAct.due_at == due_at)).first() is not None


def _record_now(ledger: Ledger, duty: Act) -> None:
    try:
        with session_scope(ledger.engine) as session:
            record_act(session, ledger.deployment.deployment_id, duty)
    except IntegrityError:  # another process recorded it first
        pass


def _act_on_chain(ledger: Ledger, registrar: str, duty: Act, function: str, *args: object) -> bool:
    """Sends the duty's transaction with the duty in its outbox ref; a refusal (not yet due by the chain's
    clock, or already done) is logged and tried again on a later pass."""
    handle = ledger.assets.handle
    sender = ledger.sender(registrar)
    try:
        request = handle.request(sender, function, *args)  # a refusal surfaces here, nothing sent
        tx_hash = sender.send(request, ref=duty.ref())
        receipt = sender.wait([tx_hash])[0]
        handle.raise_for_status(receipt, sender.address)
    except LedgerError as exc:
        log.info("%s of %s not done now: %s", duty.kind, duty.subject, exc.user_message)
        return False
    return True


# --- the duties ------------------------------------------------------------------------------------------------


def _units(ledger: Ledger, *where: object) -> list[IxUnit]:
    with Session(ledger.engine) as session:
        return list(session.exec(select(IxUnit).where(IxUnit.deployment == ledger.deployment.deployment_id,
                                                      *where)).all())  # type: ignore[arg-type]


def _profile(ledger: Ledger, profile_id: int) -> JurisdictionProfile | None:
    return next((p for p in ledger.profiles.values() if p.id == profile_id), None)


def lapse_objections(ledger: Ledger, now: int, registrar: str) -> int:
    """SZ art. 20: an objection registration lapses when its filing deadline (24:00 China time of the 15th day)
    passed without the court's or arbitral body's acceptance being recorded."""
    key = ledger.deployment.deployment_id
    with Session(ledger.engine) as session:
        due = session.exec(select(IxObjection, IxUnit.registration_number).join(IxUnit, and_(
            col(IxUnit.deployment) == col(IxObjection.deployment), col(IxUnit.unit_id) == col(IxObjection.unit_id)))
            .where(IxObjection.deployment == key, IxObjection.status == int(ObjectionStatus.PENDING),
                   IxObjection.deadline != 0, col(IxObjection.deadline) <= now)).all()
    done = 0
    for objection, number in due:
        duty = Act("objection_lapse", objection.objection_id, objection.deadline, "SZ art. 20",
                    f"no court or arbitration acceptance lodged by {last_day(objection.deadline).isoformat()} "
                    "24:00 China time: the objection registration lapsed", objection.unit_id, number)
        done += _act_on_chain(ledger, registrar, duty, "lapseObjection", parse_digest(objection.objection_id))
    return done


def expire_units(ledger: Ledger, now: int, registrar: str) -> int:
    """A registration past its validity is recorded expired on chain (TJIFA §8.3.3; DL art. 30; GZ art. 35)."""
    done = 0
    for unit in _units(ledger, IxUnit.status == int(UnitStatus.ACTIVE), IxUnit.valid_until != 0,
                       col(IxUnit.valid_until) <= now):
        profile = _profile(ledger, unit.profile_id)
        rule = EXPIRY_RULE.get(profile.code if profile else "", "REGISTRATION_RULES §5.5")
        duty = Act("expiry", unit.unit_id, unit.valid_until, rule,
                    f"the validity ended {last_day(unit.valid_until).isoformat()} 24:00 China time without renewal",
                    unit.unit_id, unit.registration_number)
        done += _act_on_chain(ledger, registrar, duty, "markExpired", parse_digest(unit.unit_id))
    return done


def cancel_expired(ledger: Ledger, registrar: str) -> int:
    """GZ art. 35: a registration not renewed is cancelled by the registry and the cancellation announced — the
    announcement is stored and its hash grounds the ex-officio cancellation (an act of the registry: no notice
    period, ``Workflow.needs_notice``)."""
    done = 0
    gz = {p.id for p in ledger.profiles.values() if p.expiry == "cancel_with_notice"}
    if not gz:
        return 0
    open_cancellations = {a.registration_number for a in ledger.workflow.applications(kind="cancellation")
                          if a.state not in _FINAL}
    for unit in _units(ledger, IxUnit.status == int(UnitStatus.EXPIRED), col(IxUnit.profile_id).in_(gz)):
        if unit.registration_number in open_cancellations or \
                _recorded(ledger, "expiry_cancellation", unit.unit_id, unit.valid_until):
            continue
        announcement = expiry_announcement(registry=ledger.settings.registry_name,
                                           registration_number=unit.registration_number,
                                           valid_until=last_day(unit.valid_until),
                                           announced_on=ledger.workflow.chain_date())
        digest = document_hash(announcement)
        with session_scope(ledger.engine) as session:
            if session.get(StoredDocument, to_hex(digest)) is None:
                session.add(StoredDocument(sha256=to_hex(digest), kind="expiry-announcement",
                                           body=canonical_json(announcement).decode()))
        try:
            filed = file_on_unit(ledger, "cancellation", unit.registration_number, registrar,
                                 payload={"ground": "expired"}, document=digest)
        except LedgerError as exc:
            log.warning("cancelling expired %s failed: %s", unit.registration_number, exc.user_message)
            continue
        app = filed.application
        _record_now(ledger, Act("expiry_cancellation", unit.unit_id, unit.valid_until, "GZ art. 35",
                                 f"not renewed: cancellation filed ex officio (application {app.id[:12]}, "
                                 f"{app.state}), announcement {to_hex(digest)}", unit.unit_id,
                                 unit.registration_number))
        done += 1
    return done


def end_notices(ledger: Ledger, registrar: str) -> int:
    """A public notice that ended with no objection pending: the registration becomes effective and is recorded
    on chain (DL art. 25; GD art. 11; GZ art. 19; AH art. 19(4); TJIFA §8.1)."""
    workflow = ledger.workflow
    today = workflow.clock()
    done = 0
    for app in workflow.applications(state=State.IN_PUBLIC_NOTICE.value):
        end = workflow.notice_end(app)
        if end is None or today <= end:
            continue
        due_at = end_of_day(end)
        if not _recorded(ledger, "notice_end", app.id, due_at):  # the fact first: the notice ended
            _record_now(ledger, Act("notice_end", app.id, due_at, NOTICE_RULE.get(app.profile, "REGISTRATION_RULES "
                                     "§3.5"), f"public notice of the {app.kind} application ended {end.isoformat()} "
                                     "with no objection pending: registered",
                                     registration_number=app.registration_number))
        try:
            workflow.register(app.id, registrar)
            done += 1
        except LedgerError as exc:
            log.warning("registering %s after its notice failed: %s", app.id[:12], exc.user_message)
    return done


def remind_renewals(ledger: Ledger, now: int) -> int:
    """A renewal reminder when the renewal window opens: the last month before the validity ends (TJIFA §8.3.3;
    GZ art. 35; DL art. 30's annual review)."""
    done = 0
    for unit in _units(ledger, IxUnit.status == int(UnitStatus.ACTIVE), IxUnit.valid_until != 0,
                       col(IxUnit.valid_until) > now):
        profile = _profile(ledger, unit.profile_id)
        if profile is None or not profile.renewal_window_days:
            continue
        opens = unit.valid_until - profile.renewal_window_days * DAY
        if now < opens or _recorded(ledger, "renewal_reminder", unit.unit_id, opens):
            continue
        ends = last_day(unit.valid_until)
        _record_now(ledger, Act(
            "renewal_reminder", unit.unit_id, opens, EXPIRY_RULE.get(profile.code, "REGISTRATION_RULES §5.5"),
            f"{profile.renewal_label} is open until {ends.isoformat()} 24:00 China time (opened "
            f"{china_date(opens).isoformat()}); not renewed, the registration expires"
            + (" and is cancelled" if profile.expiry == "cancel_with_notice" else ""),
            unit.unit_id, unit.registration_number))
        done += 1
    return done


@dataclass(frozen=True)
class DutyPass:
    """What one pass did."""

    lapsed: int
    expired: int
    cancelled: int
    registered: int
    reminded: int
    ended_by_deadline: int

    def total(self) -> int:
        return self.lapsed + self.expired + self.cancelled + self.registered + self.reminded + self.ended_by_deadline


def run_duties(ledger: Ledger, actor: str | None = None) -> DutyPass:
    """One pass over every duty that is due. The index is brought to the chain's head first (what is due is
    read from it); duties on chain are sent by ``actor`` or the first registrar key this installation holds."""
    ledger.indexer.run_once()
    now = freshness(ledger, settle=0).as_of_time
    registrar = registrar_of(ledger, actor)
    moved = ledger.workflow.enforce_deadlines()
    lapsed = lapse_objections(ledger, now, registrar)
    expired = expire_units(ledger, now, registrar)
    if lapsed or expired:
        ledger.indexer.run_once()
    outcome = DutyPass(lapsed=lapsed, expired=expired, cancelled=cancel_expired(ledger, registrar),
                       registered=end_notices(ledger, registrar), reminded=remind_renewals(ledger, now),
                       ended_by_deadline=len(moved))
    if outcome.total():
        ledger.indexer.run_once()  # what the pass did is visible to the next read
    return outcome
