"""The local chain node behind ``ledger chain up/down/status``.

Anvil (default) keeps its chain in ``<home>/chain/``: a complete snapshot (``anvil-state.json.gz``) and what
it holds (``anvil-state.meta.json``: genesis, head block, when saved). ``chain up`` starts Anvil on the
recorded genesis and snapshot, then a keeper process that saves the state whenever the head changed;
``chain down`` saves the final state and stops both. How and why: ``ledger.chain.persistence``. ``--engine
hardhat`` runs a Hardhat node instead, which keeps nothing across restarts (the deployment manifest then
refuses the fresh chain, see ``ledger.deployment``). Any other endpoint is used through ``LEDGER_RPC_URL``;
nothing else in the ledger assumes Anvil.

Every file written here is mode 0600 (the directory 0700) whatever the umask.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from ledger.chain.persistence import (
    LEGACY_NAME,
    STATE_NAME,
    LoadPlan,
    Rpc,
    StateMeta,
    alive,
    prepare_load,
    reap,
    save_state,
    wait_gone,
)
from ledger.config import Settings
from ledger.errors import NodeError
from ledger.files import make_private_dir, open_private_append, write_private

ENGINES = ("anvil", "hardhat")
DEFAULT_PORT = 8545
CHAIN_ID = 31337
LAST_PORT_NAME = "last-port"
PORT_GRACE = 2.0
"""Seconds ``chain up`` waits for the last run's port before taking another."""


def _port_free(port: int) -> bool:
    """Whether a server could listen on ``port`` now. SO_REUSEADDR as the node itself sets it, so a port
    whose old connections are in TIME_WAIT (for ~60 s after a stop) counts as free; a listener does not."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if nothing listens there, else a free port the OS picks."""
    if preferred and _port_free(preferred):
        return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rpc_ready(url: str, timeout: float = 0.5) -> bool:
    try:
        reply = requests.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=timeout
        )
        return reply.ok and "result" in reply.json()
    except (requests.RequestException, ValueError):
        return False


@dataclass
class NodeInfo:
    """What ``chain up`` recorded about the node it started."""

    engine: str
    pid: int
    port: int
    rpc_url: str
    state_file: str | None
    log_file: str
    keeper_pid: int | None = None


class LocalNode:
    """Starts, stops and describes the local development chain of one ledger home."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.chain_dir = settings.home / "chain"

    @property
    def state_file(self) -> Path:
        return self.chain_dir / STATE_NAME

    def saved(self) -> StateMeta | None:
        """What the snapshot on disk holds (head block, when saved), if there is one."""
        return StateMeta.read(self.chain_dir)

    def _recorded(self) -> NodeInfo | None:
        path = self.settings.node_file
        if not path.exists():
            return None
        return NodeInfo(**json.loads(path.read_text()))

    def info(self) -> NodeInfo | None:
        """The recorded node if its process is still alive."""
        info = self._recorded()
        return info if info is not None and alive(info.pid) else None

    def _command(self, engine: str, port: int, plan: LoadPlan | None, extra: list[str]) -> list[str]:
        bin_dir = self.settings.project_root / "node_modules" / ".bin"
        if engine == "anvil":
            anvil = bin_dir / "anvil"
            if not anvil.exists():
                raise NodeError(f"anvil not found at {anvil}: run `npm ci` in {self.settings.project_root}")
            assert plan is not None
            cmd = [
                str(anvil), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(CHAIN_ID),
                "--hardfork", "cancun",
                # The block 0 Anvil builds at start is the recorded genesis (see ledger.chain.persistence);
                # nothing is mined until the clock is set to the present (start()).
                "--timestamp", str(plan.genesis_timestamp), "--no-mining",
                # Keep only recent states in memory; blocks, receipts and logs are kept in full.
                "--prune-history", "64",
            ]  # fmt: skip
            if plan.load_file is not None:
                cmd += ["--load-state", str(plan.load_file)]
            return cmd + extra
        if engine == "hardhat":
            hardhat = bin_dir / "hardhat"
            if not hardhat.exists():
                raise NodeError(f"hardhat not found at {hardhat}: run `npm ci` in {self.settings.project_root}")
            return [str(hardhat), "node", "--hostname", "127.0.0.1", "--port", str(port)]
        raise NodeError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")

    def _choose_port(self, port: int | None) -> int:
        if port is not None:
            if not 0 < port < 65536:
                raise NodeError(f"port {port} is not a TCP port (1-65535)")
            if not _port_free(port):
                raise NodeError(f"port {port} is already in use: choose another with --port")
            return port
        last = self.chain_dir / LAST_PORT_NAME
        try:
            preferred = int(last.read_text())  # clients that knew the old URL keep working
        except (OSError, ValueError):
            return free_port(DEFAULT_PORT)
        deadline = time.monotonic() + PORT_GRACE
        while not _port_free(preferred) and time.monotonic() < deadline:
            time.sleep(0.05)  # the old node's sockets may take a moment to close
        return free_port(preferred)

    def _stop_keeper(self, info: NodeInfo | None, timeout: float = 60.0) -> None:
        if info is not None and info.keeper_pid and alive(info.keeper_pid):
            os.kill(info.keeper_pid, signal.SIGTERM)  # it finishes the save it is writing, if any
            if not wait_gone(info.keeper_pid, timeout):
                os.kill(info.keeper_pid, signal.SIGKILL)
                wait_gone(info.keeper_pid, 5.0)

    def start(
        self, engine: str = "anvil", port: int | None = None, block_time: float | None = None,
        timeout: float = 120.0, extra_args: list[str] | None = None,
    ) -> NodeInfo:
        """Starts the node in the background (idempotent) and waits until it answers JSON-RPC.

        Anvil starts on the recorded chain (same genesis, every block of the last snapshot) or, when this
        home has none, a new one; a keeper process then saves its state as it changes. ``block_time``
        (whole seconds) switches on interval mining, else every transaction is mined at once."""
        running = self.info()
        if running is not None:
            if running.engine != engine:
                raise NodeError(f"a {running.engine} node is already running (pid {running.pid}); "
                                "stop it first with `ledger chain down`")
            if running.engine == "anvil" and not (running.keeper_pid and alive(running.keeper_pid)):
                running.keeper_pid = self._start_keeper(running.rpc_url, running.pid)  # its keeper had died
                write_private(self.settings.node_file, json.dumps(asdict(running), indent=2).encode())
            return running
        if engine not in ENGINES:
            raise NodeError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
        if block_time is not None and (block_time < 1 or block_time != int(block_time)):
            raise NodeError(f"block time {block_time} s: interval mining takes whole seconds (1 or more)")
        self._stop_keeper(self._recorded())  # a keeper whose node was killed
        make_private_dir(self.chain_dir)
        chosen = self._choose_port(port)
        plan = prepare_load(self.chain_dir) if engine == "anvil" else None
        log_file = self.chain_dir / f"{engine}.log"
        try:
            with open_private_append(log_file) as log:
                proc = subprocess.Popen(
                    self._command(engine, chosen, plan, extra_args or []),
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    cwd=self.settings.project_root, start_new_session=True,
                )
            url = f"http://127.0.0.1:{chosen}"
            self._wait_ready(proc, url, log_file, timeout)
        finally:
            if plan is not None:
                plan.cleanup()
        keeper_pid = None
        if engine == "anvil":
            assert plan is not None
            try:
                self._open_for_business(url, plan, block_time)
            except BaseException:
                os.killpg(proc.pid, signal.SIGKILL)
                wait_gone(proc.pid, 10.0)
                raise
            keeper_pid = self._start_keeper(url, proc.pid)
        info = NodeInfo(
            engine=engine, pid=proc.pid, port=chosen, rpc_url=url,
            state_file=str(self.state_file) if engine == "anvil" else None, log_file=str(log_file),
            keeper_pid=keeper_pid,
        )
        write_private(self.settings.node_file, json.dumps(asdict(info), indent=2).encode())
        write_private(self.chain_dir / LAST_PORT_NAME, str(chosen).encode())
        return info

    def _wait_ready(self, proc: subprocess.Popen[bytes], url: str, log_file: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not rpc_ready(url):
            if proc.poll() is not None:
                tail = log_file.read_text(errors="replace")[-800:]
                raise NodeError(f"the node exited with code {proc.returncode} while starting:\n{tail}")
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                wait_gone(proc.pid, 10.0)
                raise NodeError(f"the node did not answer on {url} within {timeout:.0f}s (log: {log_file})")
            time.sleep(0.05)

    def _open_for_business(self, url: str, plan: LoadPlan, block_time: float | None) -> None:
        """Checks the node holds the recorded chain, sets its clock and starts mining; records a new chain."""
        rpc = Rpc(url)
        genesis, head = rpc.block("0x0"), rpc.block("latest")
        if plan.genesis_hash is not None and genesis["hash"] != plan.genesis_hash:
            raise NodeError(f"Anvil started with genesis {genesis['hash']}, the snapshot records "
                            f"{plan.genesis_hash}: not serving a different chain (log: {self.chain_dir})")
        if int(head["number"], 16) < plan.saved_block:
            raise NodeError(f"Anvil loaded {int(head['number'], 16)} blocks, the snapshot holds "
                            f"{plan.saved_block}: not serving a shorter chain")
        if int(head["number"], 16) >= 1 and rpc.block("0x1")["parentHash"] != genesis["hash"]:
            raise NodeError(f"block 1 of the loaded chain does not follow its block 0 {genesis['hash']}")
        # Anvil's clock started at the genesis timestamp: move it to the present (never behind the head)
        rpc("evm_setTime", max(int(time.time()), int(head["timestamp"], 16)))
        if block_time:
            rpc("evm_setIntervalMining", int(block_time))
        else:
            rpc("evm_setAutomine", True)
        if plan.record:  # a new chain, or a repaired legacy file: its genesis is on disk before `up` returns
            save_state(rpc, self.chain_dir)
            legacy = self.chain_dir / LEGACY_NAME
            if legacy.exists():  # kept, renamed, as a backup of the unrepaired file
                os.replace(legacy, self.chain_dir / f"{LEGACY_NAME}.migrated-{int(time.time())}")

    def _start_keeper(self, url: str, node_pid: int) -> int:
        with open_private_append(self.chain_dir / "keeper.log") as log:
            keeper = subprocess.Popen(
                [sys.executable, "-m", "ledger.chain.persistence", "--rpc-url", url,
                 "--chain-dir", str(self.chain_dir), "--node-pid", str(node_pid)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.settings.project_root, start_new_session=True,
            )
        return keeper.pid

    def save(self) -> StateMeta:
        """Saves the running node's state now (what ``chain down`` does before stopping)."""
        info = self.info()
        if info is None or info.engine != "anvil":
            raise NodeError("no local Anvil node is running")
        return save_state(Rpc(info.rpc_url), self.chain_dir)

    def stop(self, timeout: float = 60.0, force: bool = False) -> NodeInfo | None:
        """Saves the state, then stops the node and its keeper and forgets them. If the state cannot be
        saved the node keeps running (NodeError) unless ``force``: then blocks after the last snapshot are lost."""
        recorded = self._recorded()
        info = self.info()
        self._stop_keeper(recorded)
        if info is None:
            self.settings.node_file.unlink(missing_ok=True)
            return None
        if info.engine == "anvil":
            try:
                save_state(Rpc(info.rpc_url), self.chain_dir)
            except NodeError as exc:
                if not force:
                    info.keeper_pid = self._start_keeper(info.rpc_url, info.pid)
                    write_private(self.settings.node_file, json.dumps(asdict(info), indent=2).encode())
                    raise NodeError(f"the node is still running: its state could not be saved "
                                    f"({exc.user_message}). `ledger chain down --force` stops it anyway; "
                                    "blocks after the last snapshot are then lost") from exc
        os.killpg(info.pid, signal.SIGINT)
        if not wait_gone(info.pid, timeout):
            os.killpg(info.pid, signal.SIGKILL)
            wait_gone(info.pid, 10.0)
        self.settings.node_file.unlink(missing_ok=True)
        reap(info.pid)
        return info
