"""Registry acts (issue #10 §4, issue #11): what the registry did on a unit outside the filing workflow — a duty
time made due, an objection registered or disposed of, an order recorded — with the rule key it applied.

Below the context so that the outbox can record an act in the same database transaction that records its chain
transaction mined (``act_completed``): done on chain and recorded, or neither. The duties are in
``ledger.services.duties``; the authorities' acts in ``ledger.services.applications``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass

from sqlmodel import Session, select

from ledger.chain.outbox import Completion, Outcome
from ledger.models import RegistryAct

log = logging.getLogger(__name__)
#: The outbox ref kind of a transaction that carries an act.
REF_KIND = "act"


@dataclass(frozen=True)
class Act:
    """An act as the outbox carries it with its transaction (``ref = "act:" + JSON``)."""

    kind: str
    subject: str
    due_at: int
    rule: str
    detail: str
    unit_id: str | None = None
    registration_number: str | None = None
    actor: str = "system"
    document_hash: str | None = None

    def ref(self) -> str:
        return f"{REF_KIND}:" + json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)


def record_act(session: Session, deployment: str, act: Act, tx_hash: str | None = None) -> None:
    """Adds the act's record to ``session`` unless it is recorded already (an act is recorded once)."""
    exists = session.exec(select(RegistryAct.id).where(
        RegistryAct.deployment == deployment, RegistryAct.kind == act.kind, RegistryAct.subject == act.subject,
        RegistryAct.due_at == act.due_at)).first()
    if exists is None:
        session.add(RegistryAct(deployment=deployment, kind=act.kind, subject=act.subject, unit_id=act.unit_id,
                                registration_number=act.registration_number, rule=act.rule, due_at=act.due_at,
                                actor=act.actor, document_hash=act.document_hash, detail=act.detail,
                                tx_hash=tx_hash))


def act_completed(deployment: str) -> Completion:
    """The outbox completion of ``act:`` transactions: records the act when its transaction is mined."""

    def complete(session: Session, outcome: Outcome) -> None:
        if not outcome.ok:
            log.warning("registry act %s did not succeed: %s", outcome.intent.tx_hash, outcome.error or "reverted")
            return
        act = Act(**json.loads(outcome.intent.ref.removeprefix(f"{REF_KIND}:")))
        record_act(session, deployment, act, outcome.intent.tx_hash)

    return complete
