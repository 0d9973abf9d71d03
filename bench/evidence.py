"""Evidence benchmark: gas per single anchor and per batch root, batcher throughput, submit-to-proof time.

Starts its own Anvil on a free port in a temporary home; prints a table with the issue's targets.
Run: ``.venv/bin/python bench/evidence.py [--digests 300000] [--batch-size 100000]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.accounts import write_dev_accounts
from ledger.chain.node import LocalNode, free_port
from ledger.config import Settings
from ledger.context import Ledger
from ledger.deployment import deploy
from ledger.evidence import Batcher
from ledger.hashing import HashAlgorithm
from ledger.merkle import MerkleTree

CHUNK = 1_000


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def timed_index(service: Any) -> list[tuple[int, float]]:
    """Wraps ``service.index_batch`` to record (digest-index rows before, seconds) per batch."""
    seen: list[tuple[int, float]] = []
    original = service.index_batch
    rows = [0]

    def index_batch(batch_id: int, tree: Any = None) -> None:
        start = time.perf_counter()
        original(batch_id, tree)
        seen.append((rows[0], time.perf_counter() - start))
        rows[0] += service.batch(batch_id).leaf_count

    service.index_batch = index_batch
    return seen


def run_batcher(service: Any, provider: Any, args: argparse.Namespace,
                rate: int | None) -> tuple[float, list[float], list[float]]:
    """Pushes ``args.digests`` digests through a Batcher in chunks of 1,000 (paced at ``rate`` digests/s
    when given); returns digests/s until every proof was ready, each chunk's submit time, and each chunk's
    submit -> proof latency."""
    digests = [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(args.digests)]
    batcher = Batcher(service, provider, interval=args.interval, max_size=args.batch_size)
    submitted_at: list[float] = []
    ready_at: dict[int, float] = {}
    tickets = []
    start = time.perf_counter()
    for n, i in enumerate(range(0, len(digests), CHUNK)):
        if rate:
            delay = start + n * CHUNK / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        submitted_at.append(time.perf_counter())
        chunk = batcher.submit_many(digests[i : i + CHUNK])
        # proof ready = the moment the batch future resolves (mined and recorded), stamped as it happens
        chunk[0].future.add_done_callback(lambda f: ready_at.setdefault(id(f), time.perf_counter()))
        tickets.extend(chunk)
    for ticket in tickets[::CHUNK]:
        ticket.future.result(timeout=600)
    elapsed = max(ready_at.values()) - start
    latencies = [ready_at[id(t.future)] - t0 for t, t0 in zip(tickets[::CHUNK], submitted_at, strict=True)]
    batcher.close()
    sample = tickets[len(tickets) // 2].result()
    if not (sample.batch and service.verify(sample.digest, sample.algorithm).anchored):
        raise SystemExit("a batched digest did not verify")
    return args.digests / elapsed, submitted_at, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--digests", type=int, default=300_000, help="digests pushed through the batcher")
    parser.add_argument("--batch-size", type=int, default=100_000, help="batcher max_size")
    parser.add_argument("--interval", type=float, default=0.5, help="batcher interval (s)")
    parser.add_argument("--rate", type=int, default=100_000, help="offered load (digests/s) for the latency run")
    parser.add_argument("--database-url", default=None, help="default: SQLite in the temp home")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    settings = Settings.from_env(home=home, admin_delay=0, database_url=args.database_url)
    node = LocalNode(settings)
    node.start(port=free_port())
    write_dev_accounts(settings.accounts_path)
    try:
        ledger = Ledger(settings)
        deploy(ledger.manifest, ledger.client, ledger.accounts, ledger.toolchain, 0)
        service, provider = ledger.evidence, ledger.sender("provider")
        rows: list[tuple[str, str, str, str, str, str]] = []  # metric, figure, target, ratio, load, result

        single_gas = []
        for _ in range(20):
            receipt = service.anchor(provider, os.urandom(32), HashAlgorithm.SHA256, ref=os.urandom(32))
            single_gas.append(int(ledger.client.receipt(receipt.tx_hash)["gasUsed"], 16))  # type: ignore[index]
        gas_single = statistics.median(single_gas)
        rows.append(("gas per single anchor (random ref)", f"{gas_single:,.0f}", "<= 46,000", "", "",
                     verdict(gas_single <= 46_000)))

        for size in (1, 1_000, 100_000):
            batch, _ = service.anchor_batch(provider, [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(size)])
            gas = int(ledger.client.receipt(batch.tx_hash)["gasUsed"], 16)  # type: ignore[index]
            rows.append((f"gas per batch root ({size:,} leaves)", f"{gas:,}", "<= 50,000",
                         f"{gas / gas_single:.2f}", "", verdict(gas <= 50_000)))

        # Baseline in the same run: building the Merkle tree alone (no chain, no database).
        entries = [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(args.batch_size)]
        start = time.perf_counter()
        MerkleTree.from_digests(entries)
        tree_seconds = time.perf_counter() - start
        tree_rate = args.batch_size / tree_seconds
        rows.append(("baseline: Merkle tree build only", f"{tree_rate:,.0f} digests/s", "", "1.00", load(), ""))

        # Saturation: submit as fast as possible (throughput); paced at the target rate (latency at that load).
        indexing = timed_index(service)
        for label, rate in (("as fast as possible", None), (f"paced at {args.rate:,}/s", args.rate)):
            achieved, submitted_at, latencies = run_batcher(service, provider, args, rate)
            at = load()
            if rate:  # accepted = submitted at the offered pace; every proof's latency is below
                accepted = args.digests / (submitted_at[-1] + CHUNK / rate - submitted_at[0])
                rows.append((f"batcher {label}: digests accepted", f"{accepted:,.0f} digests/s",
                             ">= 100,000", f"{accepted / tree_rate:.2f}", at, verdict(accepted >= 99_000)))
            else:
                rows.append((f"batcher {label}: digests anchored with proofs", f"{achieved:,.0f} digests/s",
                             ">= 100,000", f"{achieved / tree_rate:.2f}", at, verdict(achieved >= 100_000)))
            p50, p_max = statistics.median(latencies), max(latencies)
            rows.append(("  submit -> proof ready, median", f"{p50:.2f} s", "<= 2 s", f"{p50 / tree_seconds:.2f}",
                         at, verdict(p50 <= 2)))
            rows.append(("  submit -> proof ready, max", f"{p_max:.2f} s", "<= 2 s", f"{p_max / tree_seconds:.2f}",
                         at, verdict(p_max <= 2)))
        if indexing:  # digest index + stored proofs per batch, as the index grows
            first, last = indexing[0], indexing[-1]
            rows.append((f"  index one batch, at {first[0]:,} rows", f"{first[1]:.2f} s", "",
                         f"{first[1] / tree_seconds:.2f}", "", ""))
            rows.append((f"  index one batch, at {last[0]:,} rows", f"{last[1]:.2f} s", "",
                         f"{last[1] / tree_seconds:.2f}", load(), ""))

        width = max(len(r[0]) for r in rows)
        print(f"\n{'metric':<{width}}  {'figure':>22}  {'target':>11}  {'ratio':>6}  {'load 1/5/15':>15}  result")
        for metric, figure, target, ratio, at, result in rows:
            print(f"{metric:<{width}}  {figure:>22}  {target:>11}  {ratio:>6}  {at:>15}  {result}")
        print(f"\n(ratio: digests/s and seconds to the same-run tree-build baseline ({args.batch_size:,} digests in "
              f"{tree_seconds:.2f} s); gas to a single anchor's; digests={args.digests:,}, batch size="
              f"{args.batch_size:,}, interval={args.interval}s, database={settings.database.split(':')[0]}, anvil "
              f"automine, {os.cpu_count()} cores)")
    finally:
        node.stop()


if __name__ == "__main__":
    main()
