"""Read-side benchmark (issue #10 §6): indexer ingest and verify-by-digest over HTTP.

Starts its own Anvil on a free port in a temporary home and prints a table; every figure has the load average
at the moment it was measured and a ratio to a baseline measured in the same run:

- ingest: events/s of ``Indexer.run_once`` from a chain holding mixed evidence events (single anchors, batch
  roots, endorsements) into SQLite and into PostgreSQL; baseline = fetching and decoding the same logs alone;
- verify: ``GET /evidence/verify/{digest}`` of batched digests, load from a second process (http.client,
  keep-alive connections), at 10,000 and at 1,000,000 indexed records and on a chain made ≥ 50,000 blocks tall;
  baseline = ``GET /static/site.css`` from the same server under the same load (the HTTP stack alone). The
  large run is measured twice: against uvicorn's workers started directly (background work off) and against
  ``ledger serve --workers N`` itself (one leading worker following the chain, uvicorn's access log on).

Run: ``.venv/bin/python bench/indexer.py`` (full sizes) or ``--quick`` (bounded: ~1 minute).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import text

from ledger.accounts import write_dev_accounts
from ledger.chain.node import LocalNode, free_port
from ledger.chain.tx import TxRequest
from ledger.config import Settings
from ledger.context import Ledger
from ledger.db import init_db, make_engine
from ledger.deployment import deploy
from ledger.evidence import EvidenceService
from ledger.hashing import HashAlgorithm
from ledger.indexer.events import EventDecoder
from ledger.indexer.sync import Indexer
from ledger.merkle import MerkleTree

PG_ADMIN = os.environ.get("LEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parent.parent


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


# --- chain data ------------------------------------------------------------------------------------------------


def make_events(ledger: Ledger, total: int) -> None:
    """``total`` mixed events as raw signed transactions, mined 300 to a block (automine off; ~14 M gas, under
    the 15 M gas target, so the base fee does not climb): per 20 transactions 18 single anchors, 1 batch root and
    1 endorsement of an earlier anchor, each emitting one event."""
    registry = ledger.contract("EvidenceRegistry")
    client = ledger.client
    provider = ledger.sender("provider")
    endorsers = [ledger.sender(name) for name in ("notary", "time-service")]
    nonces = {s.address: client.request("eth_getTransactionCount", [s.address, "pending"]) for s in
              [provider, *endorsers]}
    nonces = {k: int(v, 16) for k, v in nonces.items()}
    anchored: list[bytes] = []
    client.request("evm_setAutomine", [False])
    try:
        sent = 0
        while sent < total:
            raws = []
            fresh: list[bytes] = []
            # the base fee rises ~12 % a full block: fees as of now (a stale cap leaves transactions unminable)
            base = int(client.block("latest")["baseFeePerGas"], 16)
            fees = {"maxFeePerGas": 2 * base + 10**9, "maxPriorityFeePerGas": 10**9}
            for i in range(min(300, total - sent)):
                slot = i % 20
                if slot == 18 and len(anchored) > 2:
                    signer = endorsers[(sent + i) // 20 % 2]
                    key = anchored.pop(random.randrange(len(anchored)))
                    data, gas = registry.encode("endorse", key, bytes(32)), 100_000
                elif slot == 19:
                    signer = provider
                    data, gas = registry.encode("anchorBatch", secrets.token_bytes(32), 100_000,
                                                secrets.token_bytes(32)), 90_000
                else:
                    signer = provider
                    digest = secrets.token_bytes(32)
                    fresh.append(digest)
                    data, gas = registry.encode("anchor", digest, 1, 8, bytes(32)), 60_000
                raws.append(signer.sign(TxRequest(to=registry.address, data=data, gas=gas),
                                        nonces[signer.address], fees))
                nonces[signer.address] += 1
            refused = [r for r in client.send_raw(raws) if not isinstance(r, str)]
            if refused:
                raise SystemExit(f"the node refused {len(refused)} transaction(s): {refused[0]}")
            client.request("evm_mine", [])
            anchored.extend(fresh)
            sent += len(raws)
        while int(client.request("txpool_status")["pending"], 16):  # what did not fit in its block
            client.request("evm_mine", [])
    finally:
        client.request("evm_setAutomine", [True])


def ingest(ledger: Ledger, url: str) -> tuple[int, float, str]:
    """Events and seconds of one full indexing pass into ``url`` (a fresh database)."""
    engine = make_engine(url)
    init_db(engine)
    indexer = Indexer(engine, ledger.client, ledger.deployment)
    start = time.perf_counter()
    events = indexer.run_once()
    elapsed = time.perf_counter() - start
    engine.dispose()
    return events, elapsed, load()


def fetch_and_decode(ledger: Ledger) -> tuple[int, float]:
    """Baseline: the same logs fetched (same ranges) and decoded, nothing written."""
    indexer = Indexer(make_engine("sqlite://"), ledger.client, ledger.deployment)
    decoder = EventDecoder(ledger.deployment.abis, {n: r.address for n, r in ledger.deployment.contracts.items()})
    head = ledger.client.block_number()
    start = time.perf_counter()
    count = 0
    for first in range(indexer.start_block, head + 1, indexer.chunk_blocks):
        logs = indexer.get_logs(first, min(first + indexer.chunk_blocks - 1, head))
        count += sum(1 for log in logs if decoder.decode(log) is not None)
    return count, time.perf_counter() - start


def add_batches(ledger: Ledger, records: int, size: int) -> list[bytes]:
    """``records`` digests anchored in Merkle batches of ``size`` (built, stored, indexed); returns a sample."""
    provider = ledger.sender("provider")
    sample: list[bytes] = []
    done = 0
    while done < records:
        n = min(size, records - done)
        entries = [(HashAlgorithm.SHA256, secrets.token_bytes(32)) for _ in range(n)]
        ledger.evidence.anchor_batch(provider, entries, build_tree=MerkleTree.from_packed)
        sample.extend(d for _, d in random.sample(entries, min(2_000, n)))
        done += n
    return sample


# --- HTTP ------------------------------------------------------------------------------------------------------


LOADGEN = r'''
import http.client, json, sys, threading, time
port, seconds, threads, paths_file = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
paths = json.load(open(paths_file))
latencies, errors = [], [0]
lock = threading.Lock()
stop_at = time.perf_counter() + seconds
def worker(k):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    mine, i = [], k
    while time.perf_counter() < stop_at:
        path = paths[i % len(paths)]; i += threads
        t0 = time.perf_counter()
        try:
            conn.request("GET", path); reply = conn.getresponse(); body = reply.read()
            if reply.status != 200 or (b'"anchored":true' not in body and path.startswith("/evidence")):
                errors[0] += 1
        except Exception:
            errors[0] += 1; conn.close(); conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        mine.append(time.perf_counter() - t0)
    with lock:
        latencies.extend(mine)
start = time.perf_counter()
ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
[t.start() for t in ts]; [t.join() for t in ts]
print(json.dumps({"n": len(latencies), "seconds": time.perf_counter() - start, "errors": errors[0],
                  "latencies": sorted(latencies)}))
'''


class Server:
    """``uvicorn api.main:create_app --factory`` with ``workers`` processes on the bench's home (every worker
    runs the background work, its intervals set to 0 where they can be) — or, with ``serve``, ``ledger serve
    --workers N`` itself, as operators run it: default intervals, one leading worker running the background
    work, uvicorn's access log on (to /dev/null)."""

    def __init__(self, settings: Settings, workers: int, serve: bool = False) -> None:
        self.port = free_port()
        env = {**os.environ, "LEDGER_HOME": str(settings.home)}
        if serve:
            command = [sys.executable, "-m", "ledger", "serve", "--port", str(self.port), "--workers", str(workers)]
        else:
            env |= {"LEDGER_CHECKPOINT_INTERVAL": "0", "LEDGER_DUTIES_INTERVAL": "0",
                    "LEDGER_ACCESS_ANCHOR_INTERVAL": "0"}
            command = [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--port",
                       str(self.port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL if serve else None,
                                        stderr=subprocess.DEVNULL if serve else None)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                time.sleep(1.0 * workers)  # every worker up
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("the API did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def hammer(port: int, paths: list[str], seconds: float, threads: int) -> dict[str, Any]:
    """Load from a second process; p50/p99 in ms, requests/s, the load average at the end."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(paths, f)
    out = subprocess.run([sys.executable, "-c", LOADGEN, str(port), str(seconds), str(threads), f.name],
                         capture_output=True, text=True, check=True)
    os.unlink(f.name)
    data = json.loads(out.stdout)
    lat = data["latencies"]
    return {"p50": 1000 * lat[len(lat) // 2], "p99": 1000 * lat[int(len(lat) * 0.99)],
            "rps": data["n"] / data["seconds"], "errors": data["errors"], "n": data["n"], "load": load()}


def in_process(ledger: Ledger, sample: list[bytes], n: int = 3_000) -> tuple[float, float]:
    """Mean ms of ``EvidenceService.verify`` alone (index reads, no HTTP, no chain), and of ``SELECT 1`` on the
    same engine (the baseline: one pooled connection round trip)."""
    service = EvidenceService(ledger.contract("EvidenceRegistry"), ledger.engine, ledger.deployment.deployment_id)
    digests = [random.choice(sample) for _ in range(n)]
    start = time.perf_counter()
    for digest in digests:
        if not service.verify(digest).anchored:
            raise SystemExit("a batched digest did not verify")
    verify_ms = 1000 * (time.perf_counter() - start) / n
    start = time.perf_counter()
    for _ in range(n):
        with ledger.engine.connect() as conn:
            conn.execute(text("SELECT 1")).scalar()
    return verify_ms, 1000 * (time.perf_counter() - start) / n


def verify_row(ledger: Ledger, label: str, sample: list[bytes], workers: int, seconds: float,
               threads: int, serve: bool = False) -> list[tuple[str, str, str, str, str, str]]:
    alone, select_one = (0.0, 1.0) if serve else in_process(ledger, sample)
    at = load()
    server = Server(ledger.settings, workers, serve)
    try:
        paths = [f"/evidence/verify/0x{d.hex()}" for d in random.sample(sample, min(len(sample), 5_000))]
        hammer(server.port, paths[:200], 2, threads)  # warm-up
        base = hammer(server.port, ["/static/site.css"], seconds, threads)
        got = hammer(server.port, paths, seconds, threads)
    finally:
        server.stop()
    rows: list[tuple[str, str, str, str, str, str]] = [] if serve else [
        (f"verify {label}: in process, index only", f"{alone:.2f} ms", "", f"{alone / select_one:.1f}", at, "")]
    rows += [
            (f"verify {label}: p50", f"{got['p50']:.1f} ms", "", f"{got['p50'] / base['p50']:.2f}", got["load"], ""),
            (f"verify {label}: p99", f"{got['p99']:.1f} ms", "<= 20 ms", f"{got['p99'] / base['p99']:.2f}",
             got["load"], "met" if got["p99"] <= 20 else "NOT met"),
            (f"verify {label}: throughput", f"{got['rps']:,.0f} req/s", ">= 2,000", f"{got['rps'] / base['rps']:.2f}",
             got["load"], "met" if got["rps"] >= 2_000 else "NOT met")]
    if got["errors"]:
        rows.append((f"verify {label}: failed or not anchored", f"{got['errors']} of {got['n']}", "0", "", "",
                     "NOT met"))
    rows.append(("  baseline (static file, same server): p50/p99, req/s",
                 f"{base['p50']:.1f}/{base['p99']:.1f} ms, {base['rps']:,.0f}/s", "", "", base["load"], ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, bounded time")
    parser.add_argument("--events", type=int, default=None, help="mixed events on the chain (default 200,000)")
    parser.add_argument("--records", type=int, default=None, help="batched records for the large verify run")
    parser.add_argument("--height", type=int, default=None, help="chain height for the tall-chain run")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--threads", type=int, default=16, help="load generator connections")
    parser.add_argument("--only", choices=("ingest", "verify"), default=None, help="run one part")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per HTTP measurement")
    args = parser.parse_args()
    events = args.events or (20_000 if args.quick else 200_000)
    records = args.records or (100_000 if args.quick else 1_000_000)
    height = args.height if args.height is not None else (0 if args.quick else 50_000)
    seconds = args.seconds or (5.0 if args.quick else 10.0)
    batch_size = min(100_000, records)

    home = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    settings = Settings.from_env(home=home, admin_delay=0)
    node = LocalNode(settings)
    node.start(port=free_port())
    write_dev_accounts(settings.accounts_path)
    pg_name = f"bench_indexer_{uuid.uuid4().hex[:10]}"
    rows: list[tuple[str, str, str, str, str, str]] = []
    try:
        ledger = Ledger(settings)
        deploy(ledger.manifest, ledger.client, ledger.accounts, ledger.toolchain, 0)
        # height first: on a fresh chain the node keeper's state dumps are tiny (mining 5,000 blocks under a
        # large state took 66 s). Then every figure below is on the tall chain; --height 0 for a short one.
        t0 = time.perf_counter()
        while ledger.client.block_number() < height:  # empty blocks, in steps the node answers within its timeout
            ledger.client.request("anvil_mine", [hex(min(2_000, height - ledger.client.block_number()))])
        print(f"mined to {ledger.client.block_number():,} blocks in {time.perf_counter() - t0:.0f} s", flush=True)
        t0 = time.perf_counter()
        make_events(ledger, events)
        print(f"chain: {events:,} transactions in {time.perf_counter() - t0:.0f} s, head "
              f"{ledger.client.block_number():,}", flush=True)
        if args.only != "verify":
            rows += ingest_rows(ledger, home, pg_name)
        if args.only != "ingest":
            rows += verify_rows(ledger, records, batch_size, args, seconds)
    finally:
        node.stop()
        try:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        except psycopg.Error:
            pass
        report(rows, args, seconds)


def ingest_rows(ledger: Ledger, home: Path, pg_name: str) -> list[tuple[str, str, str, str, str, str]]:
    count, base_s = fetch_and_decode(ledger)
    base_rate = count / base_s
    rows = [("baseline: eth_getLogs + decode only", f"{base_rate:,.0f} events/s", "", "1.00", load(), "")]
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{pg_name}"')
    pg_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + pg_name
    for label, url in (("SQLite", f"sqlite:///{home / 'ingest.db'}"), ("PostgreSQL", pg_url)):
        n, s, at = ingest(ledger, url)
        rate = n / s
        rows.append((f"ingest into {label} ({n:,} events)", f"{rate:,.0f} events/s", ">= 20,000",
                     f"{rate / base_rate:.2f}", at, "met" if rate >= 20_000 else "NOT met"))
    return rows


def verify_rows(ledger: Ledger, records: int, batch_size: int, args: argparse.Namespace,
                seconds: float) -> list[tuple[str, str, str, str, str, str]]:
    """verify-by-digest: the API's own database (SQLite in the home), indexed before each server starts."""
    ledger.indexer.run_once()
    small = add_batches(ledger, 10_000, 10_000)
    ledger.indexer.run_once()
    head = ledger.client.block_number()
    rows = verify_row(ledger, f"at 10,000 records, {head:,} blocks", small, args.workers, seconds, args.threads)
    t0 = time.perf_counter()
    large = add_batches(ledger, records, batch_size)
    print(f"{records:,} records in batches of {batch_size:,}: {time.perf_counter() - t0:.0f} s", flush=True)
    ledger.indexer.run_once()
    head = ledger.client.block_number()
    rows += verify_row(ledger, f"at {records + 10_000:,} records, {head:,} blocks", large, args.workers,
                       seconds, args.threads)
    return rows + verify_row(ledger, f"at {records + 10_000:,} records via `ledger serve --workers {args.workers}`",
                             large, args.workers, seconds, args.threads, serve=True)


def report(rows: list[tuple[str, str, str, str, str, str]], args: argparse.Namespace, seconds: float) -> None:
    if not rows:
        return
    width = max(len(r[0]) for r in rows)
    print(f"\n{'metric':<{width}}  {'figure':>26}  {'target':>10}  {'ratio':>6}  {'load 1/5/15':>15}  result")
    for metric, figure, target, ratio, at, result in rows:
        print(f"{metric:<{width}}  {figure:>26}  {target:>10}  {ratio:>6}  {at:>15}  {result}")
    print(f"\n(ratio: to a same-run baseline — ingest to eth_getLogs + decode; verify over HTTP to a static file "
          f"served by the same server under the same load; verify in process to SELECT 1 on the same engine; "
          f"workers={args.workers}, load connections={args.threads}, "
          f"{seconds:.0f} s per HTTP figure, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
