"""The local chain survives restarts: clean ones and kill -9 of the node, many times, with the same genesis,
the same deployment and every saved anchor; a legacy state file with many blocks 0 is repaired; the port
is reused at once after a stop; the files under the ledger home are private whatever the umask."""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from ledger.chain.client import ChainClient
from ledger.chain.node import LocalNode, free_port, rpc_ready
from ledger.chain.persistence import LEGACY_NAME, META_NAME, PAUSED_NAME, STATE_NAME, Rpc, save_state, wait_gone
from ledger.config import Settings
from ledger.context import Ledger
from ledger.errors import NodeError
from ledger.hashing import HashAlgorithm
from tests.conftest import start_chain

pytestmark = [pytest.mark.chain, pytest.mark.slow]

SAVE_DEADLINE = 60.0  # generous: a failure bound on a shared machine, not a timing assertion


def wait_saved(node: LocalNode, block: int) -> None:
    """Waits until the keeper's snapshot holds ``block``."""
    deadline = time.monotonic() + SAVE_DEADLINE
    while (saved := node.saved()) is None or saved.block < block:
        assert time.monotonic() < deadline, f"the keeper did not save block {block} (saved: {saved})"
        time.sleep(0.05)


def kill_node(node: LocalNode) -> None:
    info = node.info()
    assert info is not None
    os.kill(info.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while node.info() is not None:  # gone (a zombie counts as gone)
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_ten_clean_and_five_kill9_restarts_keep_the_chain(tmp_path: Path) -> None:
    settings, node, ledger = start_chain(tmp_path / "home")
    genesis = ledger.client.genesis_hash()
    deployment_id = ledger.deployment.deployment_id
    saved: list[tuple[HashAlgorithm, bytes]] = []  # anchors the node had saved (or was stopped cleanly) after
    restarts = ["clean", "clean", "kill"] * 5  # 10 clean, 5 kill -9
    try:
        for round_, how in enumerate(restarts):
            current = Ledger(settings)
            digest = os.urandom(32)
            current.evidence.anchor(current.sender("provider"), digest, HashAlgorithm.SHA256)
            saved.append((HashAlgorithm.SHA256, digest))
            if round_ % 5 == 0:
                entries = [(HashAlgorithm.SM3, os.urandom(32)) for _ in range(3)]
                current.evidence.anchor_batch(current.sender("provider"), entries)
                saved.extend(entries)
            if how == "kill":
                wait_saved(node, current.client.block_number())
                kill_node(node)
            else:
                node.stop()
            node.start()
            again = Ledger(settings)
            assert again.client.genesis_hash() == genesis, f"genesis changed after restart {round_} ({how})"
            assert again.deployment.deployment_id == deployment_id
            unverified = [d.hex() for alg, d in saved if not again.evidence.verify(d, alg).anchored]
            assert not unverified, f"after restart {round_} ({how}) these no longer verify: {unverified}"
        meta = node.saved()
        assert meta is not None and meta.genesis_hash == genesis
    finally:
        node.stop()


def test_kill9_at_any_moment_keeps_the_identity_and_the_snapshot_before_it(tmp_path: Path) -> None:
    """No wait for the keeper: blocks after the last snapshot may be lost, never the chain or what was saved."""
    settings, node, ledger = start_chain(tmp_path / "home")
    genesis = ledger.client.genesis_hash()
    first = os.urandom(32)
    ledger.evidence.anchor(ledger.sender("provider"), first, HashAlgorithm.SHA256)
    wait_saved(node, ledger.client.block_number())
    try:
        for _ in range(3):
            current = Ledger(settings)
            for _ in range(5):
                current.evidence.anchor(current.sender("provider"), os.urandom(32), HashAlgorithm.SHA256)
            kill_node(node)  # perhaps while the keeper is saving
            node.start()
            again = Ledger(settings)
            assert again.client.genesis_hash() == genesis
            assert again.evidence.verify(first, HashAlgorithm.SHA256).anchored
    finally:
        node.stop()


def _anvil_legacy_state(project_root: Path, state: Path, starts: int) -> None:
    """Writes a state file the way the old settings did (``anvil --state``), restarting ``starts`` times."""
    anvil = project_root / "node_modules" / ".bin" / "anvil"
    for _ in range(starts):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen([str(anvil), "--port", str(port), "--chain-id", "31337", "--hardfork", "cancun",
                                 "--state", str(state), "--state-interval", "100000"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not rpc_ready(url):
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "anvil_mine", "params": ["0x2"]},
                          timeout=30)
            time.sleep(1.1)  # the next start's block 0 gets another timestamp
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)


def test_a_legacy_state_file_with_many_blocks_0_is_repaired_once(tmp_path: Path) -> None:
    settings = Settings.from_env(home=tmp_path / "home")
    chain_dir = settings.home / "chain"
    chain_dir.mkdir(parents=True)
    legacy = chain_dir / LEGACY_NAME
    _anvil_legacy_state(settings.project_root, legacy, starts=3)
    blocks = json.loads(legacy.read_text())["blocks"]
    zeros = [b for b in blocks if b["header"]["number"] == "0x0"]
    assert len(zeros) >= 3  # one more block 0 per start: the fault this repairs
    node = LocalNode(settings)
    info = node.start(port=free_port())
    try:
        client = ChainClient(info.rpc_url)
        genesis = client.genesis_hash()
        assert client.block(1)["parentHash"] == genesis and client.block_number() == 6
        assert not legacy.exists() and list(chain_dir.glob(f"{LEGACY_NAME}.migrated-*"))
        node.stop()
        client = ChainClient(node.start().rpc_url)
        assert client.genesis_hash() == genesis and client.block_number() == 6
    finally:
        node.stop()


def _port_below_ephemeral_range() -> int:
    """A free port the OS never hands out to outgoing connections (those could take it between two runs)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for port in random.sample(range(20_000, min(low, 32_000)), 200):
        if free_port(port) == port:
            return port
    raise AssertionError("no free port below the ephemeral range")


def test_port_is_reused_right_after_a_stop_or_a_kill(tmp_path: Path) -> None:
    settings = Settings.from_env(home=tmp_path / "home")
    node = LocalNode(settings)
    port = _port_below_ephemeral_range()
    info = node.start(port=port)
    try:
        with socket.create_connection(("127.0.0.1", port)) as conn:  # a client connection the stop closes
            conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
            conn.recv(100)
            node.stop()
        assert node.start(port=port).port == port  # explicitly the same port: no "already in use" for a minute
        node.stop()
        assert node.start().port == port  # by default, the port of the last run
        Ledger(settings).client.block_number()  # a client connection the kill leaves behind
        kill_node(node)
        assert node.start().port == info.port
    finally:
        node.stop()


def test_files_under_the_home_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        settings, node, ledger = start_chain(tmp_path / "home")
        ledger.evidence.anchor(ledger.sender("provider"), os.urandom(32), HashAlgorithm.SHA256)
        assert stat.S_IMODE(settings.node_file.stat().st_mode) == 0o600
        node.stop()
    finally:
        os.umask(old)
    files = [p for p in settings.home.rglob("*") if p.is_file()]
    assert {"anvil.log", "keeper.log", "anvil-state.json.gz", META_NAME, "manifest.json", "accounts.json",
            "ledger.db"} <= {p.name for p in files}
    loose = {str(p.relative_to(settings.home)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files
             if stat.S_IMODE(p.stat().st_mode) != 0o600}
    assert not loose
    assert stat.S_IMODE((settings.home / "chain").stat().st_mode) == 0o700


def test_chain_up_restarts_a_dead_keeper_and_refuses_a_torn_legacy_file(tmp_path: Path) -> None:
    _, node, ledger = start_chain(tmp_path / "home")
    try:
        info = node.info()
        assert info is not None and info.keeper_pid
        os.kill(info.keeper_pid, signal.SIGKILL)
        assert wait_gone(info.keeper_pid, 30)
        again = node.start()  # idempotent `chain up`: the same node, a new keeper
        assert again.pid == info.pid and again.keeper_pid not in (None, info.keeper_pid)
        ledger.evidence.anchor(ledger.sender("provider"), os.urandom(32), HashAlgorithm.SHA256)
        wait_saved(node, ledger.client.block_number())
    finally:
        node.stop()

    torn = Settings.from_env(home=tmp_path / "torn")
    (torn.home / "chain").mkdir(parents=True)
    (torn.home / "chain" / LEGACY_NAME).write_text('{"block":{"number":"0x5"},"blocks":[{"header":')
    with pytest.raises(NodeError, match="not complete JSON"):
        LocalNode(torn).start(port=free_port())


def _number(value: int | str) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def test_snapshots_taken_while_transactions_stream_in_are_never_torn(tmp_path: Path) -> None:
    """Found by the crash harness: Anvil reads a dump's accounts and blocks one after the other while it mines,
    so a dump could hold a transaction's effects (an anchor in storage, the sender's nonce) without its block;
    after a kill -9 the chain then had an anchor with no event, transaction or receipt, that the journal could
    neither prove nor send again. Every snapshot must be of one moment: each sender's nonce equals the number
    of its transactions in the snapshot, and its head is its last block. (Without the pause about 1 in 75
    dumps was torn under this load.)"""
    _, node, ledger = start_chain(tmp_path / "home")
    info = node.info()
    assert info is not None and info.keeper_pid
    os.kill(info.keeper_pid, signal.SIGTERM)  # this test saves, not the keeper
    assert wait_gone(info.keeper_pid, 30)
    stop = threading.Event()
    failures: list[BaseException] = []

    def stream() -> None:
        try:
            while not stop.is_set():
                ledger.evidence.anchor(ledger.sender("provider"), os.urandom(32), HashAlgorithm.SHA256)
        except BaseException as exc:
            failures.append(exc)

    streams = [threading.Thread(target=stream) for _ in range(4)]
    for thread in streams:
        thread.start()
    snapshots = tmp_path / "snapshots"
    snapshots.mkdir()
    torn = []
    try:
        rpc = Rpc(info.rpc_url)
        for i in range(120):
            save_state(rpc, snapshots)
            state = json.loads(gzip.decompress((snapshots / STATE_NAME).read_bytes()))
            sent: dict[str, int] = {}
            for tx in state["transactions"]:
                sent[tx["info"]["from"].lower()] = sent.get(tx["info"]["from"].lower(), 0) + 1
            nonces = {a.lower(): _number(v["nonce"]) for a, v in state["accounts"].items()  # senders: no code
                      if _number(v["nonce"]) and v.get("code") in (None, "", "0x")}
            head = max(_number(b["header"]["number"]) for b in state["blocks"])
            if nonces != sent or head != _number(state["best_block_number"]):
                torn.append(f"dump {i}: nonces {nonces} vs transactions {sent}; head {head}")
    finally:
        stop.set()
        for thread in streams:
            thread.join()
        assert not (snapshots / PAUSED_NAME).exists() and ledger.client.request("anvil_getAutomine")
        node.stop()
    assert not failures, failures
    assert not torn, torn[:3]
