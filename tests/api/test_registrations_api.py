"""Registration look-ups over HTTP, on a real chain: what a bank checks before taking a pledge."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.context import Ledger
from ledger.numbering import registration_number
from ledger.profiles import ObjectType
from ledger.workflow import Workflow

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def client(chain: Ledger) -> Iterator[TestClient]:
    with TestClient(create_app(ledger=chain)) as test_client:
        yield test_client


def test_registered_unit_is_visible_with_its_rights_and_certificate(chain: Ledger, client: TestClient) -> None:
    today = [date(2024, 9, 27)]
    workflow = Workflow(chain.engine, chain.assets, chain.accounts, chain.deployment.deployment_id, chain.sender,
                        clock=lambda: today[0])
    app = workflow.apply(kind="initial", profile="TJIFA", holder="holder-a", actor="holder-a",
                         object_type=ObjectType.DATA_ASSET, payload={"asset": {"name": "气象观测数据"}},
                         document=os.urandom(32))
    for step in (workflow.accept, workflow.begin_review, workflow.approve, workflow.start_notice):
        step(app.id, "registrar")
    today[0] += timedelta(days=20)
    number = workflow.register(app.id, "registrar").registration_number
    assert number is not None
    body = client.get(f"/registrations/{number}").json()
    assert body["status"] == "active" and body["jurisdiction"] == "TJIFA"
    assert body["right_holders"]["holding"] == chain.accounts.get("holder-a").address
    assert body["certificate"]["registration_number"] == number
    assert body["certificate"]["asset"]["name"] == "气象观测数据"
    assert body["open_objections"] == 0 and body["active_rights_entries"] == 0


def test_bad_or_unknown_numbers(client: TestClient) -> None:
    wrong = client.get("/registrations/TJ-2024-000001-0")
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "invalid_input"
    assert client.get("/registrations/nonsense").status_code == 422
    unknown = client.get(f"/registrations/{registration_number('GD', 2099, 424242)}")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
