"""Duty records (issue #10 §4): what the registry did when time made a duty due, with the rule key it applied.

Below the context so that the outbox can record a duty in the same database transaction that records its chain
transaction mined (``duty_completed``): done on chain and recorded, or neither. The duties themselves are in
``ledger.services.duties``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass

from sqlmodel import Session, select

from ledger.chain.outbox import Completion, Outcome
from ledger.models import DutyRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Duty:
    """A duty as the outbox carries it with its transaction (``ref = "duty:" + JSON``)."""

    kind: str
    subject: str
    due_at: int
    rule: str
    detail: str
    unit_id: str | None = None
    registration_number: str | None = None

    def ref(self) -> str:
        return "duty:" + json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)


def record_duty(session: Session, deployment: str, duty: Duty, tx_hash: str | None = None) -> None:
    """Adds the duty's record to ``session`` unless it is recorded already (a duty is done once)."""
    exists = session.exec(select(DutyRecord.id).where(
        DutyRecord.deployment == deployment, DutyRecord.kind == duty.kind, DutyRecord.subject == duty.subject,
        DutyRecord.due_at == duty.due_at)).first()
    if exists is None:
        session.add(DutyRecord(deployment=deployment, kind=duty.kind, subject=duty.subject, unit_id=duty.unit_id,
                               registration_number=duty.registration_number, rule=duty.rule, due_at=duty.due_at,
                               detail=duty.detail, tx_hash=tx_hash))


def duty_completed(deployment: str) -> Completion:
    """The outbox completion of ``duty:`` transactions: records the duty when its transaction is mined."""

    def complete(session: Session, outcome: Outcome) -> None:
        if not outcome.ok:
            log.warning("duty transaction %s did not succeed: %s", outcome.intent.tx_hash, outcome.error or "reverted")
            return
        duty = Duty(**json.loads(outcome.intent.ref.removeprefix("duty:")))
        record_duty(session, deployment, duty, outcome.intent.tx_hash)

    return complete
