"""No process outlives the API: after SIGKILL of a real ``ledger serve`` (one process, or ``--workers 2``) whose
batchers started their Merkle-tree workers, none of its workers, their tree workers or multiprocessing's
resource tracker keeps running."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from ledger.context import Ledger
from ledger.evidence.batcher import WORKER_MIN_ENTRIES
from ledger.tokens import create_token
from ledger.workers import process_pool
from tests.api.live_server import READ_TIMEOUT, alive, descendants, live_server, sessions_on_workers
from tests.conftest import start_chain

pytestmark = [pytest.mark.chain, pytest.mark.slow]


@pytest.fixture
def own_chain(tmp_path: Path) -> Iterator[Ledger]:
    """A chain of its own: the API process sends transactions, which must not race the shared chain's nonces."""
    _, node, ledger = start_chain(tmp_path / "home")
    yield ledger
    node.stop()


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_of_the_api_leaves_no_process_behind(own_chain: Ledger, tmp_path: Path, workers: int) -> None:
    """With ``--workers 2`` the tree is: the supervisor, its two workers, each worker's batcher worker, and
    multiprocessing's resource tracker; SIGKILL of the supervisor must end every one of them."""
    token = create_token(own_chain.engine, own_chain.accounts, "provider", "process-tree")
    with live_server(own_chain, tmp_path, LEDGER_BATCH_MAX_SIZE=str(WORKER_MIN_ENTRIES),
                     LEDGER_BATCH_INTERVAL="0.2", LEDGER_WORKERS=str(workers)) as server:
        for session in sessions_on_workers(server, workers).values():  # every worker starts its batcher
            anchored = session.post(server.url + "/evidence/anchors", json={"digest": os.urandom(32).hex()},
                                    headers={"Authorization": f"Bearer {token}"}, timeout=READ_TIMEOUT)
            assert anchored.status_code == 201 and anchored.json()["mode"] == "batch", anchored.text
        tree = descendants(server.process.pid)
        commands = " | ".join(p.cmdline for p in tree)
        assert "spawn_main" in commands and "resource_tracker" in commands, commands  # worker and tracker
        # each batcher's tree worker, plus (with several workers) the uvicorn workers themselves
        spawned = [p for p in tree if "spawn_main" in p.cmdline]
        assert len(spawned) == workers + (workers if workers > 1 else 0), commands

        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
        deadline = time.monotonic() + READ_TIMEOUT  # a bound for a loaded machine, not a speed requirement
        while (survivors := [p for p in tree if alive(p)]) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert not survivors, [p.cmdline for p in survivors]


def _worker_pid() -> int:
    return os.getpid()


def test_the_worker_outlives_the_thread_that_started_it() -> None:
    """The batcher is created in a request thread that ends soon after; its worker must not die with that
    thread (what PR_SET_PDEATHSIG would do), only with the process."""
    pools: list[ProcessPoolExecutor] = []
    pids: list[int] = []

    def start() -> None:
        pool = process_pool()
        pids.append(pool.submit(_worker_pid).result(READ_TIMEOUT))
        pools.append(pool)

    starter = threading.Thread(target=start)
    starter.start()
    starter.join()
    try:
        for _ in range(20):
            assert pools[0].submit(_worker_pid).result(READ_TIMEOUT) == pids[0]
    finally:
        pools[0].shutdown()
