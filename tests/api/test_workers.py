"""``ledger serve --workers 2`` on a real Anvil node and each database: exactly one worker leads (runs the
background work), a SIGKILL of the leader hands the lead to the other worker and the work goes on, and a write
answered by one worker is seen by a read that the other answers (or the lag is reported)."""

from __future__ import annotations

import os
import re
import signal
import threading
from collections import Counter
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
from tests.api.live_server import (
    READ_TIMEOUT,
    LiveServer,
    health,
    live_server,
    poll,
    sessions_on_workers,
    worker_of,
)

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


def _leaders(server: LiveServer) -> set[int]:
    """The pids the workers name as leader, once both workers have answered ``/health`` (polled: at start the
    leader may not have written its name yet), each saying truthfully whether it leads itself."""
    named: dict[int, int | None] = {}

    def both() -> bool:
        for session in sessions_on_workers(server, 2).values():
            body = health(session, server)
            leader = body["leader"]["pid"] if body["leader"] else None
            named[body["worker"]["pid"]] = leader
            assert body["worker"]["leader"] == (leader == body["worker"]["pid"]), body
            session.close()
        return len(named) >= 2 and None not in named.values()

    poll("both workers name a leader", both)
    return {pid for pid in named.values() if pid is not None}


def _read_your_writes(server: LiveServer, token: str) -> None:
    """A write answered by one worker, then a read answered by the other: the read sees the write, or says the
    index is behind it. Each read is checked; pairs are tried until one crossed workers (and came back)."""
    crossed: set[tuple[int, int]] = set()

    def cross() -> bool:
        writer, reader = sessions_on_workers(server, 2).values()
        for first, second in ((writer, reader), (reader, writer)):
            digest = os.urandom(32).hex()
            written = first.post(server.url + "/evidence/anchors", json={"digest": digest, "mode": "single"},
                                 headers={"Authorization": f"Bearer {token}"}, timeout=READ_TIMEOUT)
            assert written.status_code == 201, written.text
            read = second.get(f"{server.url}/evidence/verify/{digest}", timeout=READ_TIMEOUT)
            assert read.status_code == 200, read.text
            body = read.json()
            block = written.json()["block_number"]
            if body["anchored"]:
                assert body["anchors"][0]["block_number"] == block
            else:  # never a silent miss: the answer says the index is behind the block of the write
                assert body["index"]["lag_blocks"] > 0 and body["index"]["indexed_block"] < block, body
            if worker_of(written) != worker_of(read):
                crossed.add((worker_of(written), worker_of(read)))
        for session in (writer, reader):
            session.close()
        return len({pair[0] for pair in crossed}) == 2  # each worker wrote once for the other to read

    poll("a write on each worker read on the other", cross)


def _leads_lines(server: LiveServer) -> list[int]:
    return [int(pid) for pid in re.findall(r"worker (\d+) leads", server.log.read_text())]


def test_one_leader_takes_over_after_sigkill_and_reads_see_writes(own_chain: Ledger, tmp_path: Path,
                                                                  database_url: str) -> None:
    token = create_token(own_chain.engine, own_chain.accounts, "provider", "workers")
    with live_server(own_chain, tmp_path, LEDGER_WORKERS="2", LEDGER_DATABASE_URL=database_url,
                     LEDGER_CHECKPOINT_INTERVAL="0.3", LEDGER_INDEX_INTERVAL="0.1") as server:
        sessions = sessions_on_workers(server, 2)
        (leader,) = _leaders(server)  # both name the same one: exactly one leads
        assert leader in sessions
        assert _leads_lines(server) == [leader]  # the background work started once, in that worker
        _read_your_writes(server, token)

        os.kill(leader, signal.SIGKILL)
        survivor = requests.Session()  # any worker but the dead one: whoever answers names the new leader

        def new_leader() -> int | None:
            named = health(survivor, server)["leader"]
            return None if named is None or named["pid"] == leader else int(named["pid"])

        # the kernel released the lock: the surviving worker takes it (or the worker uvicorn starts in place of
        # the killed one, if that one is quicker) — one leader again, and a different one
        successor = poll("another worker leads", new_leader)
        assert successor != leader
        poll("the successor starts the background work, once", lambda: _leads_lines(server) == [leader, successor])

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

        # the successor and the worker uvicorn started in place of the dead one
        assert _leaders(server) == {successor}
        _read_your_writes(server, token)
        assert _leads_lines(server) == [leader, successor]  # nobody else started it


def test_batchers_of_two_workers_share_one_account(own_chain: Ledger, tmp_path: Path, database_url: str) -> None:
    """Each worker has its own batcher for the provider: both stage and send batches from the same account at
    the same time. Nonces come from the database (ledger.chain.outbox), so no two batches take one nonce: every
    batch is mined once, none fails, and every digest is provable from either worker."""
    token = create_token(own_chain.engine, own_chain.accounts, "provider", "workers-batches")
    with live_server(own_chain, tmp_path, LEDGER_WORKERS="2", LEDGER_DATABASE_URL=database_url,
                     LEDGER_BATCH_INTERVAL="0.05") as server:
        sessions = sessions_on_workers(server, 2)
        receipts: list[dict[str, Any]] = []
        served: Counter[int] = Counter()  # anchors answered per worker (by the answer's X-Ledger-Worker)
        lock = threading.Lock()

        def anchor(session: requests.Session) -> None:
            for _ in range(40):  # a bound; each thread stops once both workers have anchored several batches
                with lock:
                    if len(served) == 2 and min(served.values()) >= 6:
                        return
                answer = session.post(server.url + "/evidence/anchors",
                                      json={"digest": os.urandom(32).hex(), "mode": "batch"},
                                      headers={"Authorization": f"Bearer {token}"}, timeout=READ_TIMEOUT)
                assert answer.status_code == 201, answer.text
                with lock:
                    receipts.append(answer.json())
                    served[worker_of(answer)] += 1

        threads = [threading.Thread(target=anchor, args=(session,)) for session in sessions.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(served) == 2 and min(served.values()) >= 6, served  # both workers' batchers, at once
        for session in sessions_on_workers(server, 2).values():  # provable from either worker
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
