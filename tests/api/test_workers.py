"""``ledger serve --workers 2`` on a real Anvil node and each database: exactly one worker leads (runs the
background work), a SIGKILL of the leader hands the lead to the other worker and the work goes on, and a write
answered by one worker is seen by a read that the other answers (or the lag is reported)."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlmodel import Session, col, func, select

from ledger.accounts import write_dev_accounts
from ledger.chain.node import LocalNode, free_port
from ledger.config import Settings
from ledger.context import Ledger
from ledger.deployment import deploy
from ledger.models import Checkpoint
from ledger.tokens import create_token
from tests.api.live_server import READ_TIMEOUT, LiveServer, live_server

pytestmark = [pytest.mark.chain, pytest.mark.slow]


@pytest.fixture
def own_chain(tmp_path: Path, database_url: str) -> Iterator[Ledger]:
    """A chain of its own (the API sends transactions) whose ledger uses ``database_url``."""
    settings = Settings.from_env(home=tmp_path / "home", database_url=database_url)
    node = LocalNode(settings)
    node.start(port=free_port())
    write_dev_accounts(settings.accounts_path)
    ledger = Ledger(settings)
    deploy(ledger.manifest, ledger.client, ledger.accounts, ledger.toolchain, 0)
    yield ledger
    node.stop()


def _health(session: requests.Session, server: LiveServer) -> dict[str, Any]:
    answer = session.get(server.url + "/health", timeout=READ_TIMEOUT)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _poll(what: str, check: Any, timeout: float = READ_TIMEOUT) -> Any:
    """Polls ``check()`` until it returns something true (a bound for a loaded machine, not a speed test)."""
    deadline = time.monotonic() + timeout
    while True:
        if value := check():
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.05)


def _sessions_on_both_workers(server: LiveServer) -> dict[int, requests.Session]:
    """Kept-alive connections, one answered by each worker (a connection stays with the worker that took it)."""
    sessions: dict[int, requests.Session] = {}

    def another() -> bool:
        session = requests.Session()
        pid = _health(session, server)["worker"]["pid"]
        if pid in sessions:
            session.close()
        else:
            sessions[pid] = session
        return len(sessions) == 2

    _poll("two workers answer", another)
    return sessions


def _leaders(sessions: dict[int, requests.Session], server: LiveServer) -> set[int]:
    """The pid every worker names as leader, after checking each says truthfully whether it leads itself."""
    named: set[int] = set()
    for pid, session in sessions.items():
        body = _health(session, server)
        assert body["worker"]["pid"] == pid
        assert body["leader"] is not None, body
        named.add(body["leader"]["pid"])
        assert body["worker"]["leader"] == (body["leader"]["pid"] == pid), body
    return named


def _read_your_writes(writer: requests.Session, reader: requests.Session, server: LiveServer, token: str) -> None:
    digest = os.urandom(32).hex()
    written = writer.post(server.url + "/evidence/anchors", json={"digest": digest, "mode": "single"},
                          headers={"Authorization": f"Bearer {token}"}, timeout=READ_TIMEOUT)
    assert written.status_code == 201, written.text
    read = reader.get(f"{server.url}/evidence/verify/{digest}", timeout=READ_TIMEOUT)
    assert read.status_code == 200, read.text
    body = read.json()
    if body["anchored"]:
        assert body["anchors"][0]["block_number"] == written.json()["block_number"]
    else:  # never a silent miss: the answer says the index is behind the block of the write
        assert body["index"]["lag_blocks"] > 0 and body["index"]["indexed_block"] < written.json()["block_number"]


def _leads_lines(server: LiveServer) -> list[int]:
    return [int(pid) for pid in re.findall(r"worker (\d+) leads", server.log.read_text())]


def test_one_leader_takes_over_after_sigkill_and_reads_see_writes(own_chain: Ledger, tmp_path: Path,
                                                                  database_url: str) -> None:
    token = create_token(own_chain.engine, own_chain.accounts, "provider", "workers")
    with live_server(own_chain, tmp_path, LEDGER_WORKERS="2", LEDGER_DATABASE_URL=database_url,
                     LEDGER_CHECKPOINT_INTERVAL="0.3", LEDGER_INDEX_INTERVAL="0.1") as server:
        sessions = _sessions_on_both_workers(server)
        (leader,) = _leaders(sessions, server)  # both name the same one: exactly one leads
        assert leader in sessions
        assert _leads_lines(server) == [leader]  # the background work started once, in that worker

        first, second = sessions.values()
        _read_your_writes(first, second, server, token)  # a write on one worker, the read on the other
        _read_your_writes(second, first, server, token)

        os.kill(leader, signal.SIGKILL)
        survivor_pid = next(pid for pid in sessions if pid != leader)
        survivor = sessions[survivor_pid]
        # the other worker takes the lock the kernel released (uvicorn also restarts the killed one)
        _poll("the surviving worker leads", lambda: _health(survivor, server)["worker"]["leader"])
        assert _leads_lines(server) == [leader, survivor_pid]

        # the background work goes on in the new leader: the index follows the chain, checkpoints are signed
        own_chain.client.request("evm_mine", [])
        head = own_chain.client.block_number()
        _poll("the index follows the chain", lambda: (_health(survivor, server)["index"]["indexed_block"] or 0)
              >= head)

        def signed() -> bool:
            with Session(own_chain.engine) as db:
                return bool(db.exec(select(func.count()).select_from(Checkpoint).where(
                    Checkpoint.deployment == own_chain.deployment.deployment_id,
                    col(Checkpoint.block_number) >= head)).one())

        _poll("a checkpoint is signed at the new head", signed)

        sessions = _sessions_on_both_workers(server)  # the survivor and the worker uvicorn started again
        assert _leaders(sessions, server) == {survivor_pid}
        first, second = sessions.values()
        _read_your_writes(first, second, server, token)
        _read_your_writes(second, first, server, token)
        assert _leads_lines(server) == [leader, survivor_pid]  # the restarted worker does not lead too
