"""Holders keep their own keys (issue #11 §3, done when): a TJIFA registration's life over HTTP in which the holder
and the transferee sign every consent with their own keystores (``ledger wallet``) — the registry knows them by
address only, and no dev key of theirs exists here."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.context import Ledger
from ledger.indexer.sync import wait_for
from ledger.tokens import create_token
from tests.api.live_server import live_server
from tests.conftest import start_chain
from tests.content import USCC
from tests.wallet_support import cli_of, waiting_for_consent, wallet_party

pytestmark = [pytest.mark.chain, pytest.mark.slow]
DAY = 86_400


def digest() -> str:
    return "0x" + os.urandom(32).hex()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    settings, node, _ = start_chain(tmp_path / "home")
    run = cli_of(settings.home)
    wallets = {}
    for name in ("holder-x", "buyer-x"):  # their keystores live with them, not in the registry's accounts file
        keystore = tmp_path / f"{name}.json"
        wallets[name] = {"keystore": keystore, "address": wallet_party(run, keystore, name)}
    served = Ledger(settings.model_copy(update={"duties_interval": 0, "checkpoint_interval": 0}))
    today = [date(2024, 9, 27)]
    served.workflow.clock = lambda: today[0]
    tokens = {name: create_token(served.engine, served.accounts, name, f"test-{name}")
              for name in ("registrar", "holder-x", "buyer-x")}
    with TestClient(create_app(ledger=served)) as client:
        yield {"client": client, "ledger": served, "tokens": tokens, "today": today, "wallets": wallets,
               "run": run, "tmp": tmp_path}
    node.stop()


def test_holder_and_transferee_sign_with_their_own_keystores(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    ledger: Ledger = world["ledger"]
    today: list[date] = world["today"]
    tmp: Path = world["tmp"]
    for name in ("holder-x", "buyer-x"):
        assert not ledger.accounts.get(name).holds_key  # known by address only: no key of theirs here

    def post(who: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return client.post(path, json=body or {}, headers={"Authorization": f"Bearer {world['tokens'][who]}"})

    def sign_in_wallet(name: str, consents: list[dict[str, Any]]) -> None:
        """The party fetches what to sign, signs it on its own machine, and posts the signatures."""
        requested = tmp / f"{name}-consents.json"
        requested.write_text(json.dumps([c for c in consents if c["signer"] == world["wallets"][name]["address"]]))
        signed = json.loads(world["run"]("wallet", "sign", str(world["wallets"][name]["keystore"]),
                                         "--typed-data", str(requested)))
        assert signed
        for item in signed:
            reply = client.post(f"/applications/{app_id}/consents/{item['id']}", json={"signature": item["signature"]})
            assert reply.status_code == 200 and reply.json()["signed"], reply.text

    def register(application: str) -> dict[str, Any]:
        """Registers, signing in the wallets whatever consents the registration asks for."""
        reply = post("registrar", f"/applications/{application}/register")
        if reply.status_code == 409 and reply.json()["error"]["code"] == "consent_required":
            consents = reply.json()["error"]["consents"]
            for name in ("holder-x", "buyer-x"):
                if any(c["signer"] == world["wallets"][name]["address"] for c in consents):
                    sign_in_wallet(name, consents)
            reply = post("registrar", f"/applications/{application}/register")
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        assert body["state"] == "registered"
        return body

    filed = post("holder-x", "/applications", {
        "profile": "TJIFA", "holder": "holder-x", "object_type": "data_asset",
        "holder_identity": {"legal_name": "某数据科技有限公司", "uscc": USCC},
        "asset": {"name": "港口集装箱物流数据集", "form": "dataset", "acquisition": "original", "update_cycle": "daily",
                  "scenarios": ["交通调度"], "scope": "仅限本省使用"}, "document_hash": digest()})
    assert filed.status_code == 201, filed.text
    app_id = filed.json()["id"]
    for step in ("accept", "approve", "notice"):
        assert post("registrar", f"/applications/{app_id}/{step}").status_code == 200
    today[0] = date(2024, 10, 9)
    first = post("registrar", f"/applications/{app_id}/register")
    assert first.status_code == 409 and first.json()["error"]["code"] == "consent_required"
    [consent] = first.json()["error"]["consents"]
    assert consent["signer"] == world["wallets"]["holder-x"]["address"]
    assert consent["typed_data"]["primaryType"] == "Consent"
    # a signature by anyone else is refused, naming whose consent is asked
    stranger = Account.create()
    forged = "0x" + bytes(Account.sign_typed_data(stranger.key, full_message=consent["typed_data"]).signature).hex()
    refused = client.post(f"/applications/{app_id}/consents/{consent['id']}", json={"signature": forged})
    assert refused.status_code == 403 and "holder-x" in refused.json()["error"]["message"]
    assert client.post(f"/applications/{app_id}/consents/{consent['id']}",
                       json={"signature": "0x1234"}).status_code == 422
    number = register(app_id)["registration_number"]
    wait_for(ledger.indexer, ledger.client.block_number())
    own = {"Authorization": f"Bearer {world['tokens']['holder-x']}"}
    unit = client.get(f"/registrations/{number}", headers=own).json()
    assert unit["holder"] == world["wallets"]["holder-x"]["address"]
    history = client.get(f"/applications/{app_id}", headers={"Authorization": f"Bearer {world['tokens']['registrar']}"})
    assert [e["action"] for e in history.json()["history"]].count("consent") == 1

    # a joint transfer (TJIFA §6.4.3.3): the holder and the transferee both sign, each with its own keystore
    transfer = post("registrar", f"/registrations/{number}/transfers", {
        "to": "buyer-x", "new_holder": {"legal_name": "乙方数据有限公司", "uscc": USCC}, "document_hash": digest()})
    assert transfer.status_code == 201 and transfer.json()["waiting_for"] == "notice"
    app_id = transfer.json()["id"]
    today[0] = date.fromisoformat(transfer.json()["notice_end"]) + timedelta(days=1)
    register(app_id)
    assert client.get(f"/applications/{app_id}/consents").status_code == 401  # they name the parties: not public
    registrar = {"Authorization": f"Bearer {world['tokens']['registrar']}"}
    signers = {c["signer_name"] for c in client.get(f"/applications/{app_id}/consents", headers=registrar).json()}
    assert signers == {"holder-x", "buyer-x"}
    wait_for(ledger.indexer, ledger.client.block_number())
    mine = {"Authorization": f"Bearer {world['tokens']['buyer-x']}"}
    now_held = client.get(f"/registrations/{number}", headers=mine).json()
    assert now_held["holder"] == world["wallets"]["buyer-x"]["address"]

    # renewal in the last month of the 3 years (TJIFA §8.3.3): the new holder signs
    ledger.client.request("evm_increaseTime", [3 * 365 * DAY - 20 * DAY])
    ledger.client.request("evm_mine", [])
    today[0] += timedelta(days=3 * 365 - 20)
    renewal = post("registrar", f"/registrations/{number}/renewals", {})
    assert renewal.status_code == 201, renewal.text
    app_id = renewal.json()["id"]
    today[0] = date.fromisoformat(renewal.json()["notice_end"]) + timedelta(days=1)
    register(app_id)
    wait_for(ledger.indexer, ledger.client.block_number())
    versions = client.get(f"/registrations/{number}/certificates").json()
    assert len(versions) == 3 and versions[-1]["status"] == "current"


def test_ledger_wallet_sign_fetches_and_posts_over_http(tmp_path: Path) -> None:
    """``ledger wallet sign --api URL --application ID``: the party reads its consents with a request signed by its
    own key (they are not public), signs them on its machine and posts the signatures to a served registry."""
    settings, node, ledger = start_chain(tmp_path / "home")
    run = cli_of(settings.home)
    keystore = tmp_path / "holder-s.json"
    address = wallet_party(run, keystore, "holder-s")
    workflow = ledger.workflow
    today = [date(2024, 9, 27)]
    workflow.clock = lambda: today[0]
    app = waiting_for_consent(workflow, today, "holder-s", "签名测试数据集")
    try:
        with live_server(ledger, tmp_path) as server:
            signed = run("wallet", "sign", str(keystore), "--api", server.url, "--application", app.id)
            assert f"signed by {address} and posted" in signed
        assert workflow.register(app.id, "registrar").state == "registered"
    finally:
        node.stop()
