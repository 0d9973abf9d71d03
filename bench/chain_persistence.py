"""Chain persistence benchmark: what keeping the local Anvil chain on disk costs as its history grows.

Grows one chain (the contracts deployed, then blocks: mostly empty, one anchor transaction in ten) and, at
each size, starts it twice from the same state:

- baseline — the old settings: ``anvil --state FILE --state-interval 2`` (Anvil rewrites the whole file
  every 2 s, changed or not);
- chosen — ``ledger.chain.node.LocalNode`` as ``ledger chain up`` runs it: Anvil without its own dumps, and
  the keeper process saving a gzip snapshot only when the head changed, at most every max(1 s, 20 × the
  save's duration) (``ledger.chain.persistence``).

For each it measures the start time, the idle CPU of the node (plus, for the chosen settings, the keeper)
over ``--idle`` seconds, and blocks mined per second while anchors are sent one after another (each in its
own block) for ``--mine`` seconds; ratios are chosen / baseline in the same run. A third start with no
persistence at all ("none") shows how much of the slowdown with history is Anvil's own. Figures vary with the
machine's load (printed). Run: ``.venv/bin/python bench/chain_persistence.py [--sizes 1000,10000,60000]``
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.accounts import write_dev_accounts
from ledger.chain.client import ChainClient
from ledger.chain.contract import ContractHandle
from ledger.chain.node import CHAIN_ID, LocalNode, free_port, rpc_ready
from ledger.chain.persistence import META_NAME, STATE_NAME, Rpc, save_state
from ledger.chain.sender import TransactionSender
from ledger.config import Settings
from ledger.context import Ledger
from ledger.deployment import deploy

ANVIL = Path(__file__).resolve().parent.parent / "node_modules" / ".bin" / "anvil"
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    start_s: float
    idle_cpu: float  # % of one core
    blocks_per_s: float
    mining_cpu: float  # % of one core while mining
    note: str


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def wait_rpc(url: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 300
    while not rpc_ready(url):
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            raise SystemExit(f"node on {url} did not start")
        time.sleep(0.05)


class Anchorer:
    """Sends anchors one at a time, each mined in its own block (automine), waiting for each receipt."""

    def __init__(self, url: str, ledger: Ledger) -> None:
        self.client = ChainClient(url)
        record = ledger.deployment.contracts["EvidenceRegistry"]
        self.registry = ContractHandle(self.client, "EvidenceRegistry", ledger.deployment.abis["EvidenceRegistry"],
                                       record.address)
        self.sender = TransactionSender(self.client, ledger.accounts.get("provider").signer)

    def one(self) -> None:
        request = self.registry.request(self.sender, "anchor", os.urandom(32), 1, 1, bytes(32), gas=100_000)
        tx_hash = self.sender.send(request)
        while self.client.request("eth_getTransactionReceipt", [tx_hash]) is None:
            time.sleep(0.001)

    def many(self, count: int) -> None:
        requests = [self.registry.request(self.sender, "anchor", os.urandom(32), 1, 1, bytes(32), gas=100_000)
                    for _ in range(count)]
        self.client.wait_for_receipts(self.sender.send_many(requests))


def measure(url: str, pids: Callable[[], list[int]], anchorer: Anchorer, started: float, args: argparse.Namespace,
            note: Callable[[], str]) -> Run:
    start_s = time.monotonic() - started
    time.sleep(args.settle)
    c0, t0 = cpu_seconds(pids()), time.monotonic()
    time.sleep(args.idle)
    idle = 100 * (cpu_seconds(pids()) - c0) / (time.monotonic() - t0)
    first = anchorer.client.block_number()
    c0, t0 = cpu_seconds(pids()), time.monotonic()
    while time.monotonic() - t0 < args.mine:
        anchorer.one()
    elapsed = time.monotonic() - t0
    mining = 100 * (cpu_seconds(pids()) - c0) / elapsed
    rate = (anchorer.client.block_number() - first) / elapsed
    return Run(start_s, idle, rate, mining, note())


def run_anvil(snapshot: bytes, ledger: Ledger, args: argparse.Namespace, persist: bool) -> tuple[Run, int]:
    """Anvil on the snapshot: with the old persistence settings, or (reference) with none at all."""
    work = Path(tempfile.mkdtemp(prefix="ledger-bench-anvil-"))
    state = work / "anvil-state.json"
    state.write_bytes(gzip.decompress(snapshot))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    flags = ["--state", str(state), "--state-interval", "2"] if persist else ["--load-state", str(state)]
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(CHAIN_ID), "--hardfork",
         "cancun", *flags, "--prune-history", "64"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_rpc(url, proc)
        run = measure(url, lambda: [proc.pid], Anchorer(url, ledger), started, args,
                      lambda: "rewrites the whole file every 2 s" if persist else "reference: nothing saved")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait()
    size = state.stat().st_size if persist else 0
    shutil.rmtree(work, ignore_errors=True)
    return run, size


def run_chosen(snapshot_dir: Path, ledger: Ledger, args: argparse.Namespace) -> tuple[Run, int]:
    home = Path(tempfile.mkdtemp(prefix="ledger-bench-chosen-"))
    (home / "chain").mkdir()
    for name in (STATE_NAME, META_NAME):
        shutil.copy(snapshot_dir / name, home / "chain" / name)
    node = LocalNode(Settings.from_env(home=home))
    started = time.monotonic()
    info = node.start(port=free_port())
    try:
        def pids() -> list[int]:
            return [info.pid] + ([info.keeper_pid] if info.keeper_pid else [])

        def note() -> str:
            meta = node.saved()
            if meta is None:
                return ""
            gap = max(1.0, 20 * meta.save_seconds)
            return f"save {meta.save_seconds:.2f} s -> loss window <= {gap:.0f} s + one save"

        run = measure(info.rpc_url, pids, Anchorer(info.rpc_url, ledger), started, args, note)
    finally:
        node.stop()
    size = (home / "chain" / STATE_NAME).stat().st_size
    shutil.rmtree(home, ignore_errors=True)
    return run, size


def grow(ledger: Ledger, target: int) -> None:
    """Mines up to ``target`` blocks: one anchor transaction per ten blocks, the rest empty."""
    client = ledger.client
    anchorer = Anchorer(client.rpc_url, ledger)
    while (height := client.block_number()) < target:
        chunk = min(1_000, target - height)
        anchorer.many(max(1, chunk // 10))
        remaining = target - client.block_number()
        if remaining > 0:
            client.request("anvil_mine", [hex(min(remaining, chunk - chunk // 10))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,60000", help="chain lengths (blocks) to measure at")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measurement")
    parser.add_argument("--mine", type=float, default=8.0, help="seconds of sequential anchoring")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds after the start before measuring")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    home = Path(tempfile.mkdtemp(prefix="ledger-bench-grow-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    source = subprocess.Popen([str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--chain-id", str(CHAIN_ID),
                               "--hardfork", "cancun", "--prune-history", "64"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    rows: list[tuple[int, float, str, Run, Run, Run]] = []
    try:
        wait_rpc(url, source)
        settings = Settings.from_env(home=home, rpc_url=url, admin_delay=0)
        write_dev_accounts(settings.accounts_path)
        ledger = Ledger(settings)
        deploy(ledger.manifest, ledger.client, ledger.accounts, ledger.toolchain, 0)
        for size in sizes:
            t0 = time.monotonic()
            grow(ledger, size)
            snapshot_dir = home / f"snapshot-{size}"
            snapshot_dir.mkdir()
            meta = save_state(Rpc(url), snapshot_dir)
            snapshot = (snapshot_dir / STATE_NAME).read_bytes()
            state_mb = len(gzip.decompress(snapshot)) / 1e6
            print(f"grown to {meta.block:,} blocks ({state_mb:.0f} MB of state) in {time.monotonic() - t0:.0f} s",
                  flush=True)
            base, base_size = run_anvil(snapshot, ledger, args, persist=True)
            chosen, chosen_size = run_chosen(snapshot_dir, ledger, args)
            none, _ = run_anvil(snapshot, ledger, args, persist=False)
            rows.append((meta.block, state_mb, f"{base_size / 1e6:.0f} MB / {chosen_size / 1e6:.1f} MB", base,
                         chosen, none))
    finally:
        source.send_signal(signal.SIGINT)
        source.wait()
        shutil.rmtree(home, ignore_errors=True)

    print("\nidle CPU = % of one core (chosen: node + keeper); blocks/s = anchors sent one at a time, one per block")
    print(f"{'blocks':>8} {'state':>7} {'file (base/chosen)':>20} | {'setting':<8} {'start s':>7} "
          f"{'idle CPU':>8} {'blocks/s':>8} {'CPU mining':>10} | note")
    for blocks, state_mb, files, base, chosen, none in rows:
        for label, run in (("baseline", base), ("chosen", chosen), ("none", none)):
            print(f"{blocks:>8,} {state_mb:>5.0f}MB {files:>20} | {label:<8} {run.start_s:>7.2f} "
                  f"{run.idle_cpu:>7.1f}% {run.blocks_per_s:>8.0f} {run.mining_cpu:>9.0f}% | {run.note}")
        print(f"{'':>8} {'':>7} {'':>20} | {'ratio':<8} {chosen.start_s / base.start_s:>7.2f} "
              f"{_ratio(chosen.idle_cpu, base.idle_cpu):>8} {chosen.blocks_per_s / base.blocks_per_s:>8.2f} "
              f"{_ratio(chosen.mining_cpu, base.mining_cpu):>10} | chosen / baseline")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b > 0.05 else "n/a"


if __name__ == "__main__":
    main()
