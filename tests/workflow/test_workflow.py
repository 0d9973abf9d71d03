"""The registration workflow on a real Anvil node, persisted in SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ledger.context import Ledger
from ledger.errors import LedgerValueError, NotFoundError
from ledger.hashing import to_hex
from ledger.lifecycle import UnitStatus
from ledger.models import StoredDocument
from ledger.numbering import registration_number, unit_id, validate_number
from ledger.profiles import ObjectType
from ledger.workflow import TRANSITIONS, State, Workflow, WorkflowError
from tests.content import USCC, content

pytestmark = pytest.mark.chain


class Clock:
    """The workflow's calendar date, moved by the test (chain time is not involved in notice periods)."""

    def __init__(self, today: date) -> None:
        self.today = today

    def __call__(self) -> date:
        return self.today


@pytest.fixture
def clock() -> Clock:
    return Clock(date(2024, 9, 27))  # a Friday before the National Day holiday


@pytest.fixture
def workflow(chain: Ledger, engine: Engine, clock: Clock) -> Workflow:
    return Workflow(engine, chain.assets, chain.accounts, chain.deployment.deployment_id, chain.sender,
                    clock=clock)


def initial(workflow: Workflow, profile: str = "SZ", holder: str = "holder-a") -> str:
    kind = {"SZ": ObjectType.DATA_RESOURCE, "TJIFA": ObjectType.DATA_ASSET}[profile]
    app = workflow.apply(kind="initial", profile=profile, holder=holder, actor=holder, object_type=kind,
                         payload={"content": content("城市交通流量数据集", "深圳某交通数据有限公司")},
                         document=os.urandom(32))
    return app.id


def through_notice(workflow: Workflow, clock: Clock) -> str:
    """An SZ initial application taken through review and a public notice that has ended."""
    app_id = initial(workflow, "SZ")
    for step in (workflow.accept, workflow.begin_review, workflow.pass_formal_review):
        step(app_id, "registrar")
    workflow.file_review(app_id, "reviewer", os.urandom(32))
    workflow.approve(app_id, "registrar")
    workflow.start_notice(app_id, "registrar")
    clock.today += timedelta(days=30)
    return app_id


def test_initial_registration_with_review_notice_and_objection(workflow: Workflow, clock: Clock,
                                                               chain: Ledger, engine: Engine) -> None:
    app_id = initial(workflow, "SZ")
    workflow.accept(app_id, "registrar")
    workflow.begin_review(app_id, "registrar")
    with pytest.raises(WorkflowError, match="review report"):
        workflow.approve(app_id, "registrar")
    workflow.pass_formal_review(app_id, "registrar")
    report = os.urandom(32)
    workflow.file_review(app_id, "reviewer", report)
    assert chain.assets.handle.call("reviewOf", workflow.application_key(workflow.get(app_id))) == report
    approved = workflow.approve(app_id, "registrar")
    assert approved.registration_number and validate_number(approved.registration_number)
    with pytest.raises(WorkflowError, match="public notice"):
        workflow.register(app_id, "registrar")
    notice = workflow.start_notice(app_id, "registrar")
    assert notice.notice_end == "2024-10-10"  # 5 working days after Fri Sep 27: Sun 29 (调休), 30, Oct 8, 9, 10
    workflow.object(app_id, "outsider", "the data were collected without authorisation")
    with pytest.raises(WorkflowError, match="cannot register"):
        workflow.register(app_id, "registrar")
    workflow.resolve_objection(app_id, "registrar", upheld=False, note="authorisation shown")
    clock.today = date(2024, 10, 10)
    with pytest.raises(WorkflowError, match="runs until 2024-10-10"):
        workflow.register(app_id, "registrar")
    clock.today = date(2024, 10, 11)
    registered = workflow.register(app_id, "registrar")
    assert registered.state == State.REGISTERED and registered.tx_hash
    number = registered.registration_number
    assert number is not None
    unit = chain.assets.unit(unit_id(number))
    assert unit["status"] is UnitStatus.ACTIVE and to_hex(unit["certificate_hash"]) == registered.certificate_hash
    with Session(engine) as session:
        stored = session.get(StoredDocument, registered.certificate_hash)
    assert stored is not None and json.loads(stored.body)["registration_number"] == number
    actions = [e.action for e in workflow.history(app_id)]
    assert actions == ["submit", "accept", "begin_review", "pass_formal", "file_review", "approve", "start_notice",
                       "object", "resolve_objection", "stage", "register"]
    assert [o.status for o in workflow.objections(app_id)] == ["dismissed"]


def test_upheld_objection_terminates(workflow: Workflow) -> None:
    app_id = initial(workflow, "TJIFA")
    for step in (workflow.accept, workflow.begin_review, workflow.approve, workflow.start_notice):
        step(app_id, "registrar")
    workflow.object(app_id, "holder-b", "I hold this data")
    assert workflow.resolve_objection(app_id, "registrar", upheld=True).state == State.TERMINATED
    with pytest.raises(WorkflowError):
        workflow.register(app_id, "registrar")


def test_supplement_withdraw_and_reject(workflow: Workflow) -> None:
    app_id = initial(workflow, "TJIFA")
    workflow.accept(app_id, "registrar")
    workflow.begin_review(app_id, "registrar")
    with pytest.raises(LedgerValueError):
        workflow.request_supplement(app_id, "registrar", " ")
    workflow.request_supplement(app_id, "registrar", "anonymisation voucher missing (TJIFA §6.1.2)")
    workflow.resubmit(app_id, "holder-a", os.urandom(32))
    assert workflow.begin_review(app_id, "registrar").state == State.UNDER_FORMAL_REVIEW
    assert workflow.withdraw(app_id, "holder-a").state == State.WITHDRAWN
    with pytest.raises(WorkflowError, match="needs"):
        workflow.accept(app_id, "registrar")
    other = initial(workflow, "TJIFA")
    assert workflow.reject(other, "registrar", "on the prohibited-trading list (GD art. 23)").state == State.REJECTED
    approved = initial(workflow, "TJIFA")
    for step in (workflow.accept, workflow.begin_review, workflow.approve):
        step(approved, "registrar")
    with pytest.raises(WorkflowError):
        workflow.withdraw(approved, "holder-a")  # DL art. 17: only before approval


@pytest.mark.parametrize("action", sorted(a for a, (allowed, _) in TRANSITIONS.items()
                                           if State.SUBMITTED not in allowed))
def test_every_step_is_refused_from_a_state_it_does_not_start_from(workflow: Workflow, action: str) -> None:
    app_id = initial(workflow, "TJIFA")  # SUBMITTED
    calls = {
        "accept": lambda: workflow.accept(app_id, "registrar"),
        "begin_review": lambda: workflow.begin_review(app_id, "registrar"),
        "pass_formal": lambda: workflow._step(app_id, "pass_formal", "registrar"),
        "file_review": lambda: workflow.file_review(app_id, "reviewer", os.urandom(32)),
        "request_supplement": lambda: workflow.request_supplement(app_id, "registrar", "x"),
        "resubmit": lambda: workflow.resubmit(app_id, "holder-a"),
        "approve": lambda: workflow.approve(app_id, "registrar"),
        "start_notice": lambda: workflow.start_notice(app_id, "registrar"),
        "object": lambda: workflow.object(app_id, "outsider", "x"),
        "resolve_objection": lambda: workflow.resolve_objection(app_id, "registrar", upheld=False),
        "register": lambda: workflow.register(app_id, "registrar"),
        "archive": lambda: workflow.archive(app_id, "registrar"),
        "waive_review": lambda: workflow.waive_review(app_id, "registrar"),
    }
    with pytest.raises(WorkflowError):
        calls[action]()
    assert workflow.get(app_id).state == State.SUBMITTED


def test_restart_resumes_a_stored_transaction(workflow: Workflow, chain: Ledger, engine: Engine,
                                              clock: Clock) -> None:
    """Crash after the signed transaction was stored (sent or not): a new process finishes it once."""
    for sent in (False, True):
        app_id = through_notice(workflow, clock)
        intent = workflow.stage(workflow.get(app_id), "registrar")
        staged = workflow.get(app_id)
        assert staged.state == State.IN_PUBLIC_NOTICE and staged.tx_hash == intent.tx_hash
        if sent:
            chain.client.send_raw([bytes(intent.raw_tx)])
            chain.client.wait_for_receipts([intent.tx_hash])
        restarted = Workflow(engine, chain.assets, chain.accounts, chain.deployment.deployment_id, chain.sender,
                             clock=clock)
        restarted.resume()  # sends it if the chain lacks it; the next pass sees it mined
        restarted.outbox.wait([intent.tx_hash], 30)
        done = restarted.get(app_id)
        assert done.state == State.REGISTERED and done.tx_hash == staged.tx_hash
        assert chain.assets.status(unit_id(done.registration_number or "")) is UnitStatus.ACTIVE
        assert restarted.resume() == 0 and not [i for i in restarted.outbox.pending() if i.id == intent.id]
        assert restarted.register(app_id, "registrar").state == State.REGISTERED  # re-running it: a no-op


def test_post_registration_kinds_without_notice_register_directly(workflow: Workflow, chain: Ledger,
                                                                  clock: Clock) -> None:
    number = workflow.register(through_notice(workflow, clock), "registrar").registration_number
    assert number is not None
    # SZ art. 16-17: licence and transfer get no notice; the licensee/transferee files alone, with evidence and
    # a third-party review (SZ art. 16(4), 17(3)-(4))
    for kind, counterparty in (("licence", "bank"), ("transfer", "holder-b")):
        app = workflow.apply(kind=kind, profile="SZ", holder="holder-a", counterparty=counterparty,
                             actor=counterparty, number=number, document=os.urandom(32),
                             payload={"new_holder": {"legal_name": "乙方数据有限公司", "uscc": USCC}})
        workflow.accept(app.id, "registrar")
        workflow.begin_review(app.id, "registrar")
        with pytest.raises(WorkflowError, match=r"review report before approving a .*SZ art. 16\(4\)"):
            workflow.approve(app.id, "registrar")
        workflow.pass_formal_review(app.id, "registrar")
        workflow.file_review(app.id, "reviewer", os.urandom(32))
        workflow.approve(app.id, "registrar")
        with pytest.raises(WorkflowError, match="no public notice"):
            workflow.start_notice(app.id, "registrar")
        assert workflow.register(app.id, "registrar").state == State.REGISTERED
    unit = chain.assets.unit(unit_id(number))
    assert unit["holder"] == chain.accounts.get("holder-b").address and unit["certificate_version"] == 2
    assert chain.assets.active_entries(unit_id(number)) == 1


def test_bad_applications_are_refused_clearly(workflow: Workflow) -> None:
    me = "holder-a"
    with pytest.raises(LedgerValueError, match="registers data_asset"):
        workflow.apply(kind="initial", profile="TJIFA", holder=me, actor=me, object_type=ObjectType.DATA_RESOURCE)
    with pytest.raises(LedgerValueError, match="unknown jurisdiction"):
        workflow.apply(kind="initial", profile="XX", holder=me, actor=me, object_type=ObjectType.DATA_ASSET)
    with pytest.raises(LedgerValueError, match="unknown registration kind"):
        workflow.apply(kind="gift", profile="SZ", holder=me, actor=me)
    with pytest.raises(LedgerValueError, match="check character"):
        workflow.apply(kind="change", profile="SZ", holder=me, actor=me, number="SZ-2026-000001-0")
    with pytest.raises(NotFoundError, match="no registration unit"):
        workflow.apply(kind="change", profile="SZ", holder=me, actor=me,
                       number=registration_number("SZ", 2099, 999_999))
    with pytest.raises(LedgerValueError, match="registration number"):
        workflow.apply(kind="transfer", profile="SZ", holder=me, actor=me, counterparty="holder-b")
    with pytest.raises(LedgerValueError, match="no account named"):
        workflow.apply(kind="initial", profile="SZ", holder="nobody", actor=me, object_type=ObjectType.DATA_RESOURCE)
    with pytest.raises(LedgerValueError, match="no account named 'x'"):  # an unknown actor
        workflow.apply(kind="initial", profile="SZ", holder=me, actor="x", object_type=ObjectType.DATA_RESOURCE)
    with pytest.raises(LedgerValueError, match="GD has no transfer registration"):  # GD art. 17-22
        workflow.apply(kind="transfer", profile="GD", holder=me, actor=me, counterparty="holder-b",
                       number=registration_number("GD", 2099, 1))
    with pytest.raises(LedgerValueError, match="holder"):  # TJIFA §8.2.1: the certificate's content, declared
        workflow.apply(kind="initial", profile="SZ", holder=me, actor=me, object_type=ObjectType.DATA_RESOURCE,
                       payload={"asset": {"name": "x"}})
    with pytest.raises(LedgerValueError, match="not an application id"):
        workflow.get("'; drop table application; --")
    with pytest.raises(NotFoundError):
        workflow.get("abcd1234")
