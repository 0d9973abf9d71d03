"""``ledger serve --workers 2`` on a real Anvil node and each database: exactly one worker leads (runs the
background work), a SIGKILL of the leader hands the lead to the other worker and the work goes on, and a write
answered by one worker is seen by a read that the other answers (or the lag is reported)."""

from __future__ import annotations

import os
import re
import signal
import threading
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
from ledger.models import ChainIntent, Checkpoint
from ledger.tokens import create_token
from tests.api.live_server import READ_TIMEOUT, LiveServer, health, live_server, poll, sessions_on_workers

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


def _leaders(sessions: dict[int, requests.Session], server: LiveServer) -> set[int]:
    """The pid every worker names as leader, after checking each says truthfully whether it leads itself."""
    named: set[int] = set()
    for pid, session in sessions.items():
        body = health(session, server)
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
        sessions = sessions_on_workers(server, 2)
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
        poll("the surviving worker leads", lambda: health(survivor, server)["worker"]["leader"])
        assert _leads_lines(server) == [leader, survivor_pid]

        # the background work goes on in the new leader: the index follows the chain, checkpoints are signed
        own_chain.client.request("evm_mine", [])
        head = own_chain.client.block_number()
        poll("the index follows the chain", lambda: (health(survivor, server)["index"]["indexed_block"] or 0)
              >= head)

        def signed() -> bool:
            with Session(own_chain.engine) as db:
                return bool(db.exec(select(func.count()).select_from(Checkpoint).where(
                    Checkpoint.deployment == own_chain.deployment.deployment_id,
                    col(Checkpoint.block_number) >= head)).one())

        poll("a checkpoint is signed at the new head", signed)

        sessions = sessions_on_workers(server, 2)  # the survivor and the worker uvicorn started again
        assert _leaders(sessions, server) == {survivor_pid}
        first, second = sessions.values()
        _read_your_writes(first, second, server, token)
        _read_your_writes(second, first, server, token)
        assert _leads_lines(server) == [leader, survivor_pid]  # the restarted worker does not lead too


def test_batchers_of_two_workers_share_one_account(own_chain: Ledger, tmp_path: Path, database_url: str) -> None:
    """Each worker has its own batcher for the provider: both stage and send batches from the same account at
    the same time. Nonces come from the database (ledger.chain.outbox), so no two batches take one nonce: every
    batch is mined once, none fails, and every digest is provable from either worker."""
    token = create_token(own_chain.engine, own_chain.accounts, "provider", "workers-batches")
    with live_server(own_chain, tmp_path, LEDGER_WORKERS="2", LEDGER_DATABASE_URL=database_url,
                     LEDGER_BATCH_INTERVAL="0.05") as server:
        sessions = sessions_on_workers(server, 2)
        answers: dict[int, list[dict[str, Any]]] = {pid: [] for pid in sessions}

        def anchor(pid: int) -> None:
            for _ in range(8):
                answer = sessions[pid].post(server.url + "/evidence/anchors",
                                            json={"digest": os.urandom(32).hex(), "mode": "batch"},
                                            headers={"Authorization": f"Bearer {token}"}, timeout=READ_TIMEOUT)
                assert answer.status_code == 201, answer.text
                answers[pid].append(answer.json())

        threads = [threading.Thread(target=anchor, args=(pid,)) for pid in sessions]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        receipts = [r for rs in answers.values() for r in rs]
        assert len(receipts) == 16
        for session in sessions.values():  # provable from either worker
            for receipt in receipts:
                read = session.get(f"{server.url}/evidence/verify/{receipt['digest']}", timeout=READ_TIMEOUT).json()
                assert read["anchored"] and read["anchors"][0]["batch"]["root"] == receipt["batch"]["root"], read
    provider = str(own_chain.accounts.get("provider").address)
    with Session(own_chain.engine) as db:
        intents = db.exec(select(ChainIntent).where(ChainIntent.deployment == own_chain.deployment.deployment_id,
                                                    ChainIntent.sender == provider)).all()
    assert intents and {i.state for i in intents} == {"mined"}
    assert len({i.nonce for i in intents}) == len(intents)
    roots = {r["batch"]["root"] for r in receipts}
    assert len([i for i in intents if i.purpose.endswith("anchorBatch")]) == len(roots)
