"""A TJIFA registration's whole life over HTTP alone (issue #11 §2): application, acceptance, approval, notice,
registration; a pledge and a licence on its rights page; a transfer the pledgee consents to; a change; a
renewal in its window; a release; a cancellation — each by the account whose token makes the request, and every
refusal a 4xx with a stable code, never a 500."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.context import Ledger
from ledger.indexer.sync import wait_for
from ledger.tokens import create_token
from tests.conftest import start_chain
from tests.content import USCC

pytestmark = [pytest.mark.chain, pytest.mark.slow]
DAY = 86_400


def digest() -> str:
    return "0x" + os.urandom(32).hex()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    settings, node, _ = start_chain(tmp_path / "home")
    served = Ledger(settings.model_copy(update={"duties_interval": 0, "checkpoint_interval": 0}))
    today = [date(2024, 9, 27)]
    served.workflow.clock = lambda: today[0]
    tokens = {name: create_token(served.engine, served.accounts, name, f"test-{name}")
              for name in ("registrar", "reviewer", "holder-a", "holder-b", "bank", "court", "outsider")}
    with TestClient(create_app(ledger=served)) as client:
        yield {"client": client, "ledger": served, "tokens": tokens, "today": today}
    node.stop()


def test_a_tjifa_registration_from_application_to_renewal_over_http(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    ledger: Ledger = world["ledger"]
    today: list[date] = world["today"]

    def call(who: str, path: str, body: dict[str, Any] | None = None, expect: int = 200) -> dict[str, Any]:
        reply = client.post(path, json=body or {}, headers={"Authorization": f"Bearer {world['tokens'][who]}"})
        assert reply.status_code == expect, f"{who} {path}: {reply.status_code} {reply.text}"
        result: dict[str, Any] = reply.json()
        return result

    def completed(filed: dict[str, Any]) -> dict[str, Any]:
        """A filing run to its registration: after its public notice (TJIFA §8.1), if it has one."""
        if filed["waiting_for"] == "notice":
            today[0] = date.fromisoformat(filed["notice_end"]) + timedelta(days=1)
            filed = call("registrar", f"/applications/{filed['id']}/register")
        assert filed["state"] == "registered", filed
        return filed

    def get(path: str, who: str = "registrar") -> Any:
        reply = client.get(path, headers={"Authorization": f"Bearer {world['tokens'][who]}"})
        assert reply.status_code == 200, reply.text
        return reply.json()

    application = {"profile": "TJIFA", "holder": "holder-a", "object_type": "data_asset",
                   "holder_identity": {"legal_name": "某数据科技有限公司", "uscc": USCC},
                   "asset": {"name": "港口集装箱物流数据集", "form": "dataset", "acquisition": "original",
                             "update_cycle": "daily", "scenarios": ["交通调度"], "scope": "仅限本省使用"},
                   "document_hash": digest()}
    app = call("holder-a", "/applications", application, expect=201)
    assert app["state"] == "submitted" and app["payload"]["content"]["asset"]["name"] == "港口集装箱物流数据集"
    # the holder cannot accept its own application: 403, the role named in words
    refused = client.post(f"/applications/{app['id']}/accept",
                          headers={"Authorization": f"Bearer {world['tokens']['holder-a']}"})
    assert refused.status_code == 403 and "registration authority" in refused.json()["error"]["message"]
    assert client.post(f"/applications/{app['id']}/accept").status_code == 401  # no token
    call("registrar", f"/applications/{app['id']}/accept")
    call("registrar", f"/applications/{app['id']}/approve")
    noticed = call("registrar", f"/applications/{app['id']}/notice")
    assert noticed["state"] == "in_public_notice" and noticed["notice_end"] == "2024-10-08"  # TJIFA §8.1: 3 wd
    early = client.post(f"/applications/{app['id']}/register",
                        headers={"Authorization": f"Bearer {world['tokens']['registrar']}"})
    assert early.status_code == 409 and early.json()["error"]["code"] == "workflow_refused"
    today[0] = date(2024, 10, 9)
    registered = call("registrar", f"/applications/{app['id']}/register")
    number = registered["registration_number"]
    assert registered["state"] == "registered" and number
    again = call("registrar", f"/applications/{app['id']}/register")  # idempotent
    assert again["tx_hash"] == registered["tx_hash"]
    history = get(f"/applications/{app['id']}")["history"]
    assert [e["action"] for e in history][:3] == ["submit", "accept", "begin_review"]

    # the rights page: a pledge to the bank (both sign), a licence to holder-b
    pledge = call("registrar", f"/registrations/{number}/pledges",
                  {"counterparty": "bank", "rights": ["holding", "processing_use", "product_operation"],
                   "document_hash": digest()}, expect=201)
    assert pledge["state"] == "registered" and pledge["waiting_for"] is None
    licence = call("registrar", f"/registrations/{number}/licences",
                   {"counterparty": "holder-b", "rights": ["processing_use"], "valid_until": "2099-12-31",
                    "document_hash": digest()}, expect=201)
    assert licence["waiting_for"] == "notice"  # TJIFA: licences are announced too
    completed(licence)
    wait_for(ledger.indexer, ledger.client.block_number())
    page = get(f"/registrations/{number}/rights-page")
    assert [(e["kind"], e["status"]) for e in page] == [("pledge", "active"), ("licence", "active")]
    pledge_id = page[0]["entry_id"]
    # bad input: a 4xx with a stable code, never a 500
    bad = client.post(f"/registrations/{number}/pledges", json={"counterparty": "bank", "rights": ["nothing"]},
                      headers={"Authorization": f"Bearer {world['tokens']['registrar']}"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
    unknown = client.post(f"/registrations/{number}/releases", json={"entry_id": 999},
                          headers={"Authorization": f"Bearer {world['tokens']['registrar']}"})
    assert 400 <= unknown.status_code < 500, unknown.text
    # a transfer: joint (TJIFA §6.4.3.3), the pledgee consents; the new holder is named on the new certificate
    completed(call("registrar", f"/registrations/{number}/transfers",
                   {"to": "holder-b", "new_holder": {"legal_name": "乙方数据有限公司", "uscc": USCC},
                    "document_hash": digest()}, expect=201))
    # a change: only the name changes; the certificate is reissued
    renamed = {"asset": {"name": "港口集装箱物流数据集（第二版）"}}
    completed(call("registrar", f"/registrations/{number}/changes", renamed, expect=201))
    wait_for(ledger.indexer, ledger.client.block_number())
    unit = get(f"/registrations/{number}")
    assert unit["holder"] == ledger.accounts.get("holder-b").address and unit["certificate_version"] == 3
    assert unit["certificate"]["asset"]["name"] == "港口集装箱物流数据集（第二版）"
    # renewal only in the last month of the 3 years (TJIFA §8.3.3)
    early_renewal = client.post(f"/registrations/{number}/renewals", json={},
                                headers={"Authorization": f"Bearer {world['tokens']['registrar']}"})
    assert early_renewal.status_code == 409 and "TJIFA §8.3.3" in early_renewal.json()["error"]["message"]
    ledger.client.request("evm_increaseTime", [3 * 365 * DAY - 20 * DAY])
    ledger.client.request("evm_mine", [])
    today[0] += timedelta(days=3 * 365 - 20)
    completed(call("registrar", f"/registrations/{number}/renewals", {}, expect=201))
    # the pledge is released; then the holder cancels
    completed(call("registrar", f"/registrations/{number}/releases", {"entry_id": pledge_id}, expect=201))
    completed(call("registrar", f"/registrations/{number}/cancellations", {"document_hash": digest()}, expect=201))
    wait_for(ledger.indexer, ledger.client.block_number())
    versions = get(f"/registrations/{number}/certificates")
    assert [c["status"] for c in versions][-1] == "current" and len(versions) == 4  # initial, transfer, change, renewal
    assert get(f"/registrations/{number}")["status"] == "cancelled"
    listed = get("/applications?limit=500")
    assert listed["count"] == len(listed["data"]) >= 8


def test_objection_registration_and_its_court_path_over_http(world: dict[str, Any]) -> None:
    """SZ art. 20 over HTTP: registered with its proof and deadline; the court's acceptance recorded; the court
    disposes of it — each a registry act in the unit's history, with its rule key."""
    client: TestClient = world["client"]
    ledger: Ledger = world["ledger"]
    headers = {name: {"Authorization": f"Bearer {token}"} for name, token in world["tokens"].items()}
    application = {"profile": "SZ", "holder": "holder-a", "object_type": "data_resource",
                   "holder_identity": {"legal_name": "某数据科技有限公司", "uscc": USCC},
                   "asset": {"name": "城市交通流量数据集", "form": "dataset", "acquisition": "original",
                             "update_cycle": "daily", "scenarios": ["交通调度"], "scope": "仅限本市使用"}}
    app = client.post("/applications", json=application, headers=headers["holder-a"]).json()
    for step in ("accept",):
        assert client.post(f"/applications/{app['id']}/{step}", headers=headers["registrar"]).status_code == 200
    assert client.post(f"/applications/{app['id']}/review", json={"decision": "pass"},
                       headers=headers["registrar"]).status_code == 200
    assert client.post(f"/applications/{app['id']}/review", json={"decision": "report", "report_hash": digest()},
                       headers=headers["reviewer"]).status_code == 200
    bad = client.post(f"/applications/{app['id']}/review", json={"decision": "report"}, headers=headers["reviewer"])
    assert bad.status_code == 422
    for step in ("approve", "notice"):
        assert client.post(f"/applications/{app['id']}/{step}", headers=headers["registrar"]).status_code == 200
    world["today"][0] = date(2024, 10, 20)
    number = client.post(f"/applications/{app['id']}/register", headers=headers["registrar"]).json()[
        "registration_number"]
    objection = {"objector": "outsider", "objector_name": "某异议人公司", "objector_id": USCC,
                 "grounds": "数据来源属于我方", "evidence_hash": digest()}
    registered = client.post(f"/registrations/{number}/objections", json=objection, headers=headers["registrar"])
    assert registered.status_code == 201, registered.text
    body = registered.json()
    assert body["deadline"].endswith("24:00 China time") and body["proof"]["title"] == "异议登记证明"
    oid = body["objection_id"]
    again = client.post(f"/registrations/{number}/objections", json=objection, headers=headers["registrar"])
    assert again.status_code == 409 and again.json()["error"]["refusal"] == "ObjectionAlreadyOpen"
    lodged = client.post(f"/registrations/{number}/objections/{oid}/litigation",
                         json={"document_hash": digest()}, headers=headers["registrar"])
    assert lodged.status_code == 200, lodged.text
    not_court = client.post(f"/registrations/{number}/objections/{oid}/resolution",
                            json={"upheld": False, "document_hash": digest()}, headers=headers["registrar"])
    assert not_court.status_code == 403 and not_court.json()["error"]["code"] == "forbidden"  # before anything is sent
    disposed = client.post(f"/registrations/{number}/objections/{oid}/resolution",
                           json={"upheld": False, "document_hash": digest()}, headers=headers["court"])
    assert disposed.status_code == 200, disposed.text
    wait_for(ledger.indexer, ledger.client.block_number())
    acts = [e for e in client.get(f"/registrations/{number}/history", headers=headers["registrar"]).json()
            if e["source"] == "registry"]
    assert [(a["action"], a["rule"]) for a in acts] == [
        ("objection", "SZ art. 20"), ("objection_litigation", "SZ art. 20"), ("objection_resolution", "SZ art. 20")]
    assert acts[1]["actor"] == "registrar" and acts[2]["actor"] == "court" and all(a["tx_hash"] for a in acts)
