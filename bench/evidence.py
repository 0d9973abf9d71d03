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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.accounts import write_dev_accounts
from ledger.chain.node import LocalNode, free_port
from ledger.config import Settings
from ledger.context import Ledger
from ledger.deployment import deploy
from ledger.evidence import Batcher
from ledger.hashing import HashAlgorithm
from ledger.merkle import MerkleTree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--digests", type=int, default=300_000, help="digests pushed through the batcher")
    parser.add_argument("--batch-size", type=int, default=100_000, help="batcher max_size")
    parser.add_argument("--interval", type=float, default=0.5, help="batcher interval (s)")
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
        rows: list[tuple[str, str, str, str]] = []

        single_gas = []
        for _ in range(20):
            receipt = service.anchor(provider, os.urandom(32), HashAlgorithm.SHA256, ref=os.urandom(32))
            single_gas.append(int(ledger.client.receipt(receipt.tx_hash)["gasUsed"], 16))  # type: ignore[index]
        rows.append(("gas per single anchor (random ref)", f"{statistics.median(single_gas):,.0f}", "<= 46,000",
                     "met" if statistics.median(single_gas) <= 46_000 else "NOT met"))

        for size in (1, 1_000, 100_000):
            batch, _ = service.anchor_batch(provider, [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(size)])
            gas = int(ledger.client.receipt(batch.tx_hash)["gasUsed"], 16)  # type: ignore[index]
            rows.append((f"gas per batch root ({size:,} leaves)", f"{gas:,}", "<= 50,000",
                         "met" if gas <= 50_000 else "NOT met"))

        # Baseline in the same run: building the Merkle tree alone (no chain, no database).
        entries = [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(args.batch_size)]
        start = time.perf_counter()
        MerkleTree.from_digests(entries)
        tree_rate = args.batch_size / (time.perf_counter() - start)
        rows.append(("baseline: Merkle tree build only", f"{tree_rate:,.0f} digests/s", "", ""))

        digests = [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(args.digests)]
        batcher = Batcher(service, provider, interval=args.interval, max_size=args.batch_size)
        chunk = 1_000
        submitted_at: list[float] = []
        tickets = []
        start = time.perf_counter()
        for i in range(0, len(digests), chunk):
            submitted_at.append(time.perf_counter())
            tickets.extend(batcher.submit_many(digests[i : i + chunk]))
        # proof ready = the ticket's batch is mined and recorded; latency per chunk of submissions
        latencies = []
        for i, t0 in enumerate(submitted_at):
            tickets[i * chunk].future.result(timeout=600)
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - start
        batcher.close()
        sample = tickets[len(tickets) // 2].result()
        assert sample.batch is not None and service.verify(sample.digest, sample.algorithm).anchored
        rate = args.digests / elapsed
        rows.append(("batcher: digests anchored with proofs", f"{rate:,.0f} digests/s", ">= 100,000",
                     "met" if rate >= 100_000 else "NOT met"))
        rows.append(("  ratio to tree-build baseline", f"{rate / tree_rate:.2f}", "", ""))
        p50 = statistics.median(latencies)
        p_max = max(latencies)
        rows.append(("submit -> proof ready, median", f"{p50:.2f} s", "<= 2 s", "met" if p50 <= 2 else "NOT met"))
        rows.append(("submit -> proof ready, max", f"{p_max:.2f} s", "<= 2 s", "met" if p_max <= 2 else "NOT met"))

        width = max(len(r[0]) for r in rows)
        print(f"\n{'metric':<{width}}  {'figure':>22}  {'target':>11}  result")
        for metric, figure, target, result in rows:
            print(f"{metric:<{width}}  {figure:>22}  {target:>11}  {result}")
        print(f"\n(digests={args.digests:,}, batch size={args.batch_size:,}, interval={args.interval}s, "
              f"database={settings.database.split(':')[0]}, anvil automine)")
    finally:
        node.stop()


if __name__ == "__main__":
    main()
