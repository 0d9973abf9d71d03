"""The running API follows the chain it serves (real Anvil nodes): it follows the node to another port
without a restart, says "degraded" while the chain does not answer, and refuses a reset chain with 503
chain_reset — never a 200 "ok" from a chain without our contracts, never a 500."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.chain.node import LocalNode, free_port, rpc_ready
from ledger.chain.persistence import META_NAME, STATE_NAME
from ledger.config import Settings
from ledger.context import Ledger
from ledger.tokens import create_token
from tests.conftest import start_chain

pytestmark = [pytest.mark.chain, pytest.mark.slow]


def wait_for(condition: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@contextmanager
def serve(home: Path, check_interval: float) -> Iterator[tuple[Settings, LocalNode, TestClient, str]]:
    settings, node, _ = start_chain(home)
    settings = settings.model_copy(update={"chain_check_interval": check_interval, "checkpoint_interval": 0})
    ledger = Ledger(settings)
    token = create_token(ledger.engine, ledger.accounts, "provider", "follow-test")
    try:
        with TestClient(create_app(ledger=ledger), raise_server_exceptions=False) as client:
            yield settings, node, client, token
    finally:
        node.stop()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Settings, LocalNode, TestClient, str]]:
    with serve(tmp_path / "home", check_interval=0.2) as parts:
        yield parts


@contextmanager
def fresh_anvil_with_our_genesis(settings: Settings, node: LocalNode, port: str) -> Iterator[None]:
    """The worst reset: a fresh Anvil on the same port with the same genesis hash, our contracts gone."""
    genesis_timestamp = str(json.loads((node.chain_dir / META_NAME).read_text())["genesis_timestamp"])
    anvil = settings.project_root / "node_modules" / ".bin" / "anvil"
    fresh = subprocess.Popen([str(anvil), "--port", port, "--chain-id", "31337", "--hardfork", "cancun",
                              "--timestamp", genesis_timestamp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: rpc_ready(f"http://127.0.0.1:{port}"), "the fresh node")
        yield
    finally:
        fresh.send_signal(signal.SIGINT)
        fresh.wait(timeout=60)


def anchor(client: TestClient, token: str) -> tuple[int, str]:
    digest = "0x" + os.urandom(32).hex()
    reply = client.post("/evidence/anchors", json={"digest": digest, "mode": "single", "kind": "proof"},
                        headers={"Authorization": f"Bearer {token}"})
    return reply.status_code, digest


def test_api_follows_the_node_to_another_port_and_reports_degraded_meanwhile(
        served: tuple[Settings, LocalNode, TestClient, str]) -> None:
    _, node, client, token = served
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    first_url, genesis = health.json()["rpc_url"], health.json()["genesis_hash"]
    status, digest = anchor(client, token)
    assert status == 201

    node.stop()
    down = client.get("/health")
    assert down.status_code == 503
    assert down.json()["status"] == "degraded" and down.json()["code"] == "chain_unavailable"
    refused = client.get(f"/evidence/verify/{digest}")
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "chain_unavailable"
    assert refused.headers["retry-after"] == "5"
    page = client.get("/search?q=x", headers={"Accept": "text/html,application/xhtml+xml"})  # a browser
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert "区块链暂不可用" in page.text and 'lang="zh-CN"' in page.text

    moved = node.start(port=free_port())  # `ledger chain up` on another port
    assert moved.rpc_url != first_url
    app_watch = client.app.state.watch  # type: ignore[attr-defined]
    wait_for(lambda: app_watch.last is not None and app_watch.last.ok, "the periodic check to follow the node")
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["rpc_url"] == moved.rpc_url and health["genesis_hash"] == genesis
    verified = client.get(f"/evidence/verify/{digest}")
    assert verified.status_code == 200 and verified.json()["anchored"]
    assert anchor(client, token)[0] == 201  # writes too (nonces asked again)


def test_api_refuses_a_reset_chain_on_the_same_port_and_serves_again_once_restored(
        served: tuple[Settings, LocalNode, TestClient, str], tmp_path: Path) -> None:
    settings, node, client, token = served
    status, digest = anchor(client, token)
    assert status == 201
    port = client.get("/health").json()["rpc_url"].rsplit(":", 1)[1]
    node.stop()
    with fresh_anvil_with_our_genesis(settings, node, port):
        health = client.get("/health")
        assert health.status_code == 503, health.text
        assert health.json()["status"] == "refused" and health.json()["code"] == "chain_reset"
        for reply in (client.get(f"/evidence/verify/{digest}"), client.post("/verify", data={"digest": digest}),
                      client.post("/evidence/anchors", json={"digest": digest, "mode": "single"},
                                  headers={"Authorization": f"Bearer {token}"})):
            assert reply.status_code == 503 and reply.json()["error"]["code"] == "chain_reset", reply.text

    # A reset by `chain up` without its state (a new genesis): refused too.
    shutil.move(node.state_file, tmp_path / STATE_NAME)
    node.start(port=int(port))
    assert client.get("/health").json()["code"] == "chain_reset"
    node.stop()

    # The state restored: the same server serves the old chain again.
    shutil.move(tmp_path / STATE_NAME, node.state_file)
    retired = sorted(node.chain_dir.glob(f"{META_NAME}.retired-*"))[-1]
    retired.rename(node.chain_dir / META_NAME)
    node.start(port=int(port))
    wait_for(lambda: client.get("/health").status_code == 200, "the restored chain to be served")
    assert client.get(f"/evidence/verify/{digest}").json()["anchored"]


def test_a_call_that_fails_on_a_reset_chain_is_503_not_500(tmp_path: Path) -> None:
    """Between two checks the last verdict is reused; a call that then fails on a reset chain (no code at
    the contract's address) is explained by a fresh check: 503 chain_reset, not 500."""
    with serve(tmp_path / "home", check_interval=3600) as (settings, node, client, _):
        client.app.state.watch.max_age = 3600.0  # type: ignore[attr-defined]
        health = client.get("/health").json()
        assert health["status"] == "ok"
        node.stop()
        with fresh_anvil_with_our_genesis(settings, node, health["rpc_url"].rsplit(":", 1)[1]):
            reply = client.get(f"/evidence/verify/0x{os.urandom(32).hex()}")
            assert reply.status_code == 503 and reply.json()["error"]["code"] == "chain_reset", reply.text
