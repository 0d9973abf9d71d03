"""The local chain node behind ``ledger chain up/down/status``.

Anvil (default) keeps its state in ``<home>/chain/anvil-state.json``: loaded at start, dumped every few
seconds and on a clean stop, so a restart brings back every block, receipt and anchor. ``--engine
hardhat`` runs a Hardhat node instead, which keeps nothing across restarts (the deployment manifest then
refuses the fresh chain, see ``ledger.deployment``). Any other endpoint is used through
``LEDGER_RPC_URL``; nothing else in the ledger assumes Anvil.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from ledger.config import Settings
from ledger.errors import NodeError

ENGINES = ("anvil", "hardhat")
DEFAULT_PORT = 8545
CHAIN_ID = 31337


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if nothing listens there, else a free port the OS picks."""
    if preferred:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited child not yet reaped) still answers kill(0); look at its state.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


class LocalNode:
    """Starts, stops and describes the local development chain of one ledger home."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.chain_dir = settings.home / "chain"

    @property
    def state_file(self) -> Path:
        return self.chain_dir / "anvil-state.json"

    def info(self) -> NodeInfo | None:
        """The recorded node if its process is still alive."""
        path = self.settings.node_file
        if not path.exists():
            return None
        info = NodeInfo(**json.loads(path.read_text()))
        return info if _alive(info.pid) else None

    def _command(self, engine: str, port: int, block_time: float | None, extra: list[str]) -> list[str]:
        bin_dir = self.settings.project_root / "node_modules" / ".bin"
        if engine == "anvil":
            anvil = bin_dir / "anvil"
            if not anvil.exists():
                raise NodeError(f"anvil not found at {anvil}: run `npm ci` in {self.settings.project_root}")
            cmd = [
                str(anvil), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(CHAIN_ID),
                "--hardfork", "cancun", "--state", str(self.state_file), "--state-interval", "2",
                # Keep only recent states in memory; blocks, receipts and logs are kept in full.
                "--prune-history", "64",
            ]  # fmt: skip
            if block_time:
                cmd += ["--block-time", str(block_time)]
            return cmd + extra
        if engine == "hardhat":
            hardhat = bin_dir / "hardhat"
            if not hardhat.exists():
                raise NodeError(f"hardhat not found at {hardhat}: run `npm ci` in {self.settings.project_root}")
            return [str(hardhat), "node", "--hostname", "127.0.0.1", "--port", str(port)]
        raise NodeError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")

    def start(
        self, engine: str = "anvil", port: int | None = None, block_time: float | None = None,
        timeout: float = 60.0, extra_args: list[str] | None = None,
    ) -> NodeInfo:
        """Starts the node in the background (idempotent) and waits until it answers JSON-RPC."""
        running = self.info()
        if running is not None:
            if running.engine != engine:
                raise NodeError(f"a {running.engine} node is already running (pid {running.pid}); "
                                "stop it first with `ledger chain down`")
            return running
        if port is not None and not 0 < port < 65536:
            raise NodeError(f"port {port} is not a TCP port (1-65535)")
        self.chain_dir.mkdir(parents=True, exist_ok=True)
        chosen = port if port else free_port(DEFAULT_PORT)
        if port and free_port(port) != port:
            raise NodeError(f"port {port} is already in use: choose another with --port")
        log_file = self.chain_dir / f"{engine}.log"
        with log_file.open("ab") as log:
            proc = subprocess.Popen(
                self._command(engine, chosen, block_time, extra_args or []),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.settings.project_root, start_new_session=True,
            )
        url = f"http://127.0.0.1:{chosen}"
        deadline = time.monotonic() + timeout
        while not rpc_ready(url):
            if proc.poll() is not None:
                tail = log_file.read_text(errors="replace")[-800:]
                raise NodeError(f"{engine} exited with code {proc.returncode} while starting:\n{tail}")
            if time.monotonic() > deadline:
                proc.kill()
                raise NodeError(f"{engine} did not answer on {url} within {timeout:.0f}s (log: {log_file})")
            time.sleep(0.1)
        info = NodeInfo(
            engine=engine, pid=proc.pid, port=chosen, rpc_url=url,
            state_file=str(self.state_file) if engine == "anvil" else None, log_file=str(log_file),
        )
        self.settings.node_file.write_text(json.dumps(asdict(info), indent=2))
        return info

    def stop(self, timeout: float = 60.0) -> NodeInfo | None:
        """Stops the node cleanly (Anvil dumps its state on SIGINT) and forgets it."""
        info = self.info()
        if info is None:
            self.settings.node_file.unlink(missing_ok=True)
            return None
        os.killpg(info.pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        while _alive(info.pid):
            if time.monotonic() > deadline:
                os.killpg(info.pid, signal.SIGKILL)
                break
            time.sleep(0.05)
            with contextlib.suppress(ChildProcessError):  # reap it if it is our child (tests)
                os.waitpid(info.pid, os.WNOHANG)
        self.settings.node_file.unlink(missing_ok=True)
        return info
