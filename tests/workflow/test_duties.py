"""Duties that time makes due, done by the registry itself (issue #10 §4), on a real Anvil node whose clock the
tests move forward: nobody runs a command, and each duty is recorded with the rule key it applied."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.main import create_app
from ledger.context import Ledger
from ledger.hashing import to_hex
from ledger.lifecycle import Action, ObjectionStatus
from ledger.models import RegistryAct
from ledger.profiles import ObjectType
from ledger.registry import AssetRegistryClient, objection_id
from ledger.services.duties import run_duties
from ledger.services.registrations import history, registration
from tests.conftest import start_chain
from tests.content import content
from tests.contracts.registry_env import RegistryEnv, h

pytestmark = [pytest.mark.chain, pytest.mark.slow]
DAY = 86_400


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    settings, node, ledger = start_chain(tmp_path / "home")
    handle = ledger.contract("AssetRegistry")
    env = RegistryEnv(ledger, AssetRegistryClient(handle), handle)
    yield {"settings": settings, "ledger": ledger, "env": env}
    node.stop()


def number_of(env: RegistryEnv, uid: bytes) -> str:
    logs = env.ledger.client.get_logs(env.handle.address, [env.handle.topic("UnitRegistered"), to_hex(uid)])
    return str(env.handle.decode_log("UnitRegistered", logs[0])["registrationNumber"])


def duties_of(ledger: Ledger, kind: str) -> list[RegistryAct]:
    with Session(ledger.engine) as session:
        return list(session.exec(select(RegistryAct).where(RegistryAct.kind == kind)).all())


def test_an_sz_objection_lapses_on_day_16_with_nobody_running_a_command(world: dict[str, Any]) -> None:
    """Done when (issue #10): the API's duty pass lapses it once the 15 days (SZ art. 20) have run out."""
    env: RegistryEnv = world["env"]
    uid = env.register("SZ")
    matter = h()
    env.registry.transact(env.sender("registrar"), "fileObjection", uid, env.address("outsider"), matter, h())
    oid = objection_id(uid, matter)
    served = Ledger(world["settings"].model_copy(update={"duties_interval": 0.2, "index_interval": 0.2}))
    with TestClient(create_app(ledger=served)) as client:
        env.travel(14 * DAY)  # day 15: the objector may still lodge the court's acceptance
        time.sleep(1.5)  # several duty passes
        assert env.registry.objection(oid)["status"] is ObjectionStatus.PENDING
        assert not duties_of(served, "objection_lapse")
        env.travel(2 * DAY)  # day 16
        deadline = time.monotonic() + 60
        while env.registry.objection(oid)["status"] is not ObjectionStatus.LAPSED:
            assert time.monotonic() < deadline, "the objection did not lapse by itself"
            time.sleep(0.1)
        while not duties_of(served, "objection_lapse"):  # recorded with its transaction, in one DB transaction
            assert time.monotonic() < deadline
            time.sleep(0.05)
        [record] = duties_of(served, "objection_lapse")
        assert record.rule == "SZ art. 20" and record.subject == to_hex(oid) and record.tx_hash
        number = number_of(env, uid)
        events = client.get(f"/registrations/{number}/history").json()
        lapse = [e for e in events if e["action"] == "objection_lapse"]
        assert lapse and lapse[0]["source"] == "registry" and lapse[0]["rule"] == "SZ art. 20"
        assert client.get(f"/registrations/{number}").json()["open_objections"] == 0
    run_duties(served)  # a second pass does nothing twice
    assert len(duties_of(served, "objection_lapse")) == 1


def test_reminders_expiry_and_gz_cancellation_with_notice(world: dict[str, Any]) -> None:
    env: RegistryEnv = world["env"]
    ledger: Ledger = world["ledger"]
    tj, gz = env.register("TJIFA"), env.register("GZ")
    tj_number, gz_number = number_of(env, tj), number_of(env, gz)
    assert run_duties(ledger).total() == 0  # nothing is due yet
    # GZ art. 35: the renewal window opens a month before the end of the 2-year validity
    env.travel(2 * 365 * DAY - 20 * DAY)
    assert run_duties(ledger).reminded == 1
    [reminder] = duties_of(ledger, "renewal_reminder")
    assert reminder.registration_number == gz_number and reminder.rule == "GZ art. 35"
    assert "cancelled" in reminder.detail
    assert run_duties(ledger).reminded == 0  # once per validity
    # past its validity: recorded expired on chain, then cancelled ex officio and announced (GZ art. 35)
    env.travel(40 * DAY)
    done = run_duties(ledger)
    assert (done.expired, done.cancelled) == (1, 1)
    assert [d.rule for d in duties_of(ledger, "expiry")] == ["GZ art. 35"]
    cancellation = next(a for a in ledger.workflow.applications(kind="cancellation")
                        if a.registration_number == gz_number)
    assert cancellation.state == "registered"  # an act of the registry: announced, no notice period
    view = registration(ledger, gz_number)
    assert view.status == "cancelled" and view.cancellation_ground == "expired"
    chain_events = [e for e in history(ledger, gz_number) if e.source == "chain"]
    assert chain_events[-1].action == Action.CANCELLATION.name.lower()
    announcement = ledger.workflow.history(cancellation.id)  # its grounds: the stored announcement's hash
    assert chain_events[-1].document_hash and any("registered" in e.to_state for e in announcement)
    assert [e.rule for e in history(ledger, gz_number) if e.source == "registry"] == [
        "GZ art. 35", "GZ art. 35", "GZ art. 35"]  # reminder, expiry, cancellation
    assert run_duties(ledger).cancelled == 0  # done once
    # TJIFA: 3 years; the reminder in its last month (TJIFA §8.3.3), then recorded expired, not cancelled
    env.travel(366 * DAY - 30 * DAY)
    assert run_duties(ledger).reminded == 1
    env.travel(40 * DAY)
    done = run_duties(ledger)
    assert (done.expired, done.cancelled) == (1, 0)
    assert registration(ledger, tj_number).stored_status == "expired"
    assert [d.rule for d in duties_of(ledger, "expiry")] == ["GZ art. 35", "TJIFA §8.3.3"]


def test_a_notice_that_ended_without_objection_is_registered(world: dict[str, Any]) -> None:
    """DL art. 25: the registration takes effect when its notice expires with no objection — the duty pass
    registers it; an application whose notice has not ended is left alone."""
    ledger: Ledger = world["ledger"]
    start = Ledger(world["settings"].model_copy(update={"today": date(2024, 9, 27)}))
    workflow = start.workflow
    app = workflow.apply(kind="initial", profile="DL", holder="holder-a", actor="holder-a",
                         object_type=ObjectType.DATA_PRODUCT, payload={"content": content("大理旅游数据")},
                         document=h())
    for step in (workflow.accept, workflow.begin_review, workflow.pass_formal_review):
        step(app.id, "registrar")
    workflow.file_review(app.id, "reviewer", h())
    workflow.approve(app.id, "registrar")
    noticed = workflow.start_notice(app.id, "registrar")
    assert noticed.notice_end == "2024-10-04"  # 7 calendar days (DL art. 23)
    assert run_duties(start).registered == 0
    assert run_duties(Ledger(world["settings"].model_copy(update={"today": date(2024, 10, 4)}))).registered == 0
    after = Ledger(world["settings"].model_copy(update={"today": date(2024, 10, 5)}))
    assert run_duties(after).registered == 1
    registered = after.workflow.get(app.id)
    assert registered.state == "registered" and registered.registration_number
    [ended] = duties_of(after, "notice_end")
    assert ended.rule == "DL art. 25" and ended.subject == app.id
    assert registration(ledger, registered.registration_number).status == "active"
