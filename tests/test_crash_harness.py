"""The crash harness (issue #8, done when; REGISTRATION_RULES §6.4 nothing acknowledged may be lost, §6.5
continuity): a stream of anchors (single and batch, each with an Idempotency-Key) and TJIFA registrations over
HTTP, while the API (``ledger serve``) is killed with SIGKILL ``LEDGER_CRASH_API_KILLS`` times (default 20) —
alternately the whole process group and the server process alone, whose batcher worker must then die by
itself — and the persistent local chain's node (Anvil, kept by its keeper, as ``ledger chain up`` runs it)
``LEDGER_CRASH_NODE_KILLS`` times (default 5), each time started again as an operator would (``chain up``).

Afterwards every acknowledged digest is on chain exactly once (counted in the chain's own events) and provable
(a single anchor's event, or the batch leaf's Merkle proof checked here against a root the chain holds), every
acknowledged registration is on chain exactly once (its unit's ``RegistrationRecorded`` events) with the
certificate the API answered, and no process of the run remains. The counts are printed and written to
``build/crash-harness.txt``. Select it with ``-m crash``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlmodel import Session, select

from ledger.chain.node import free_port
from ledger.context import Ledger
from ledger.hashing import to_hex
from ledger.lifecycle import Action
from ledger.merkle import leaf_hash, verify_proof
from ledger.models import ChainIntentEvent, EvidenceBatch
from ledger.numbering import unit_id
from ledger.tokens import create_token
from tests.api.live_server import Proc, _stat, alive, descendants
from tests.conftest import start_chain
from tests.content import USCC

pytestmark = [pytest.mark.chain, pytest.mark.slow, pytest.mark.crash]

API_KILLS = int(os.environ.get("LEDGER_CRASH_API_KILLS", "20"))
NODE_KILLS = int(os.environ.get("LEDGER_CRASH_NODE_KILLS", "5"))
SEED = int(os.environ.get("LEDGER_CRASH_SEED", str(random.randrange(1 << 30))))
#: Generous failure bounds for a loaded 2-core machine — never asserted as speeds.
START_TIMEOUT = 120.0
SETTLE_TIMEOUT = 120.0
HTTP_TIMEOUT = 60.0
#: Calendar days the workflow's date advances per API start, so public notices end during the run.
DAYS_PER_START = 7
SUMMARY = Path(__file__).resolve().parents[1] / "build" / "crash-harness.txt"


@dataclass
class Run:
    """What the clients and the killer share."""

    url: str | None = None
    today: date = field(default_factory=lambda: date.today() - timedelta(days=220))
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    singles: dict[str, dict[str, Any]] = field(default_factory=dict)  # digest -> acknowledged receipt
    leaves: dict[str, dict[str, Any]] = field(default_factory=dict)  # digest -> acknowledged receipt
    registrations: dict[str, dict[str, Any]] = field(default_factory=dict)  # number -> acknowledged application
    refused: list[str] = field(default_factory=list)  # a request that ended without acknowledgment, and why
    server_errors: list[str] = field(default_factory=list)  # 500s seen (retried)
    retries: int = 0

    def note(self, bucket: list[str], text: str) -> None:
        with self.lock:
            bucket.append(text)


class Api:
    """``ledger serve`` in its own process group, restarted on a new free port after each kill."""

    def __init__(self, home: Path, logs: Path, run: Run) -> None:
        self.home, self.logs, self.run = home, logs, run
        self.process: subprocess.Popen[bytes] | None = None
        self.trees: list[Proc] = []  # every process of every killed incarnation
        self.starts = 0

    def start(self) -> None:
        port = free_port()
        self.starts += 1
        self.run.today += timedelta(days=DAYS_PER_START)
        env = {**os.environ, "LEDGER_HOME": str(self.home), "LEDGER_TODAY": self.run.today.isoformat(),
               "LEDGER_CHECKPOINT_INTERVAL": "0", "LEDGER_DUTIES_INTERVAL": "0", "LEDGER_ACCESS_ANCHOR_INTERVAL": "0",
               "LEDGER_BATCH_INTERVAL": "0.2", "LEDGER_KEEPER_INTERVAL": "1", "LEDGER_CHAIN_CHECK_INTERVAL": "1",
               "LEDGER_ANCHOR_WAIT": "20"}
        env.pop("LEDGER_RPC_URL", None)  # the node is found as operators find it: node.json
        with (self.logs / f"serve-{self.starts:02d}.log").open("wb") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "ledger", "serve", "--host", "127.0.0.1",
                                             "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.process.poll() is None, f"the API exited: see {self.logs}/serve-{self.starts:02d}.log"
            assert time.monotonic() < deadline, "the API did not come up"
            try:
                if requests.get(url + "/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.run.url = url

    def kill(self, whole_group: bool) -> None:
        assert self.process is not None
        self.run.url = None
        pid = self.process.pid
        tree = descendants(pid) + proc(pid, "ledger serve")
        if whole_group:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
        self.process.wait()
        self.trees.extend(tree)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill(whole_group=False)


# --- the client stream ----------------------------------------------------------------------------------


def call(run: Run, method: str, path: str, token: str, body: dict[str, Any] | None = None,
         key: str | None = None, deadline: float = 90.0) -> requests.Response | None:
    """One request, retried (same body, same Idempotency-Key) while the API or the chain is down; None when the
    deadline passes. Answers other than 5xx end it."""
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    end = time.monotonic() + deadline
    first = True
    while time.monotonic() < end:
        url = run.url
        if url is None:
            time.sleep(0.05)
            continue
        if not first:
            with run.lock:
                run.retries += 1
        first = False
        try:
            reply = requests.request(method, url + path, json=body, headers=headers, timeout=HTTP_TIMEOUT)
        except requests.RequestException:
            time.sleep(0.05)
            continue
        if reply.status_code == 500:
            run.note(run.server_errors, f"{method} {path}: {reply.text[:300]}")
        if reply.status_code >= 500:
            time.sleep(0.1)
            continue
        return reply
    return None


def anchor_once(run: Run, token: str, mode: str) -> None:
    digest = "0x" + os.urandom(32).hex()
    reply = call(run, "POST", "/evidence/anchors", token, {"digest": digest, "mode": mode}, key=str(uuid.uuid4()))
    if reply is None or reply.status_code != 201:
        run.note(run.refused, f"{mode} {digest}: {reply.status_code if reply is not None else 'no answer'} "
                              f"{reply.text[:200] if reply is not None else ''}")
        return
    receipt = reply.json()
    assert receipt["digest"] == digest and receipt["mode"] == mode, receipt
    with run.lock:
        (run.singles if mode == "single" else run.leaves)[digest] = receipt


def singles(run: Run, token: str) -> None:
    while not run.stop.is_set():
        anchor_once(run, token, "single")


def batches(run: Run, token: str) -> None:
    """Four requests at a time, so that batches hold several leaves."""
    with ThreadPoolExecutor(4, thread_name_prefix="batch-client") as pool:
        while not run.stop.is_set():
            list(pool.map(lambda _: anchor_once(run, token, "batch"), range(4)))


APPLICATION = {"profile": "TJIFA", "holder": "holder-a", "object_type": "data_asset",
               "holder_identity": {"legal_name": "某数据科技有限公司", "uscc": USCC},
               "asset": {"name": "港口集装箱物流数据集", "form": "dataset", "acquisition": "original",
                         "update_cycle": "daily", "scenarios": ["交通调度"], "scope": "仅限本省使用"}}


def registrations(run: Run, tokens: dict[str, str]) -> None:
    """TJIFA initial registrations: apply → accept → approve → notice (TJIFA §8.1) → register once the notice
    has ended — the workflow's date advances with each API start."""
    noticed: list[dict[str, Any]] = []

    def step(app_id: str, action: str) -> dict[str, Any] | None:
        reply = call(run, "POST", f"/applications/{app_id}/{action}", tokens["registrar"])
        if reply is not None and reply.status_code == 200:
            result: dict[str, Any] = reply.json()
            return result
        got = call(run, "GET", f"/applications/{app_id}", tokens["registrar"])  # done before the kill?
        return got.json() if got is not None and got.status_code == 200 else None

    while not run.stop.is_set():
        due = [a for a in noticed if date.fromisoformat(a["notice_end"]) < run.today]
        if due:
            app = due[0]
            reply = call(run, "POST", f"/applications/{app['id']}/register", tokens["registrar"])
            if reply is not None and reply.status_code == 200 and reply.json()["state"] == "registered":
                done = reply.json()
                with run.lock:
                    run.registrations[done["registration_number"]] = done
                noticed.remove(app)
            elif reply is None or reply.status_code != 409:  # 409: the notice runs on (this start's date)
                run.note(run.refused, f"register {app['id']}: {reply.text[:200] if reply is not None else None}")
                noticed.remove(app)
            else:
                time.sleep(0.2)
            continue
        if len(noticed) >= 12:
            time.sleep(0.2)
            continue
        filed = call(run, "POST", "/applications", tokens["holder-a"],
                     {**APPLICATION, "document_hash": "0x" + os.urandom(32).hex()})
        if filed is None or filed.status_code != 201:
            continue  # perhaps filed before a kill: an open application, never acknowledged
        app = filed.json()
        for action in ("accept", "approve", "notice"):  # a step done before a kill answers 409: read on
            app = step(app["id"], action)
            if app is None:
                break
        if app is not None and app["state"] == "in_public_notice":
            noticed.append(app)


# --- the chain's own record -------------------------------------------------------------------------------


def proc(pid: int | None, name: str) -> list[Proc]:
    stat = _stat(pid) if pid else None
    return [Proc(pid, stat[2], name)] if pid and stat else []


def orphans(procs: list[Proc], home: Path) -> list[str]:
    """Processes of the run still alive: every API, worker, node and keeper it started, or anything naming the
    run's home."""
    left = [p.cmdline for p in procs if alive(p)]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        stat = _stat(int(entry.name))
        if str(home) in cmdline and stat is not None and stat[0] != "Z":
            left.append(cmdline)
    return left


def test_kill9_of_api_and_node_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    began = time.monotonic()
    rng = random.Random(SEED)
    home = tmp_path / "home"
    settings, node, setup = start_chain(home)
    nodes: list[Proc] = []  # every node and keeper started

    def started() -> None:
        info = node.info()
        assert info is not None
        nodes.extend(proc(info.pid, "anvil") + proc(info.keeper_pid, "keeper"))

    started()
    tokens = {name: create_token(setup.engine, setup.accounts, name, f"crash-{name}")
              for name in ("provider", "registrar", "holder-a")}
    setup.engine.dispose()
    run = Run()
    api = Api(home, tmp_path, run)
    node_kills = api_kills = 0
    node_after = set(rng.sample(range(1, API_KILLS), min(NODE_KILLS, API_KILLS - 1)))  # which API rounds
    clients = [threading.Thread(target=singles, args=(run, tokens["provider"]), daemon=True),
               threading.Thread(target=batches, args=(run, tokens["provider"]), daemon=True),
               threading.Thread(target=registrations, args=(run, tokens), daemon=True)]
    try:
        api.start()
        for client in clients:
            client.start()
        def kill_node() -> None:
            nonlocal node_kills
            info = node.info()
            assert info is not None
            os.kill(info.pid, signal.SIGKILL)  # blocks mined since the keeper's last save are lost
            node_kills += 1
            time.sleep(rng.uniform(0.1, 0.5))
            node.start()  # `ledger chain up`, as an operator would
            started()

        for round_ in range(API_KILLS):
            time.sleep(rng.uniform(1.0, 2.5))  # traffic flows
            node_now = (1 if round_ in node_after else 0) + (
                NODE_KILLS - node_kills - (round_ in node_after) if round_ == API_KILLS - 1 else 0)
            while_down = node_now > 0 and rng.random() < 0.3  # else while the API serves: it follows the node
            for _ in range(node_now if not while_down else 0):
                kill_node()
                time.sleep(rng.uniform(0.5, 1.5))  # the running API follows it and repairs the journal
            api.kill(whole_group=round_ % 2 == 0)
            api_kills += 1
            for _ in range(node_now if while_down else 0):
                kill_node()  # the next API starts on a chain that lost blocks
            api.start()
        run.stop.set()
        for client in clients:
            client.join(SETTLE_TIMEOUT)
            assert not client.is_alive(), "a client did not finish"
        summary, problems = settle_and_check(run, Ledger(settings), tokens)
        api.close()
        node.stop()
    finally:
        run.stop.set()
        api.close()
        node.stop()
    deadline = time.monotonic() + START_TIMEOUT  # the last API's worker exits on its own after the kill
    while (left := orphans(api.trees + nodes, home)) and time.monotonic() < deadline:
        time.sleep(0.2)
    counts = {"api_kills": api_kills, "node_kills": node_kills, **summary, "orphans": len(left),
              "retries": run.retries, "server_errors": len(run.server_errors), "unacknowledged": len(run.refused),
              "seconds": round(time.monotonic() - began, 1), "seed": SEED}
    line = " ".join(f"{k}={v}" for k, v in counts.items())
    print(f"\ncrash harness: {line}")
    for text in run.refused:
        print(f"  not acknowledged: {text}")
    SUMMARY.parent.mkdir(exist_ok=True)
    with SUMMARY.open("a") as out:
        out.write(line + "\n")
    for what, items in problems.items():
        print(f"  {what}: {len(items)}, e.g. {items[:3]}")
    assert not problems, list(problems)
    assert not run.refused, f"requests never acknowledged despite retries: {run.refused[:5]}"
    assert not left, left
    assert run.singles and run.leaves and run.registrations, "the stream acknowledged nothing of some kind"
    assert api_kills >= API_KILLS and node_kills >= NODE_KILLS
    assert not run.server_errors, run.server_errors[:5]


def wait_until(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while not check():
        assert time.monotonic() < deadline, f"not settled: {what}"
        time.sleep(0.5)


def settle_and_check(run: Run, ledger: Ledger, tokens: dict[str, str]) -> tuple[dict[str, int], dict[str, list[str]]]:
    """After the last kill: the serving API repairs and finishes its journal; then the chain is asked."""
    assert run.url is not None

    def journal_done() -> bool:
        health = requests.get(run.url + "/health", timeout=HTTP_TIMEOUT).json()  # type: ignore[operator]
        return health.get("status") == "ok" and health["journal"]["pending"] == 0

    wait_until("the API's journal", journal_done)
    evidence = ledger.contract("EvidenceRegistry")
    assets = ledger.contract("AssetRegistry")
    head = ledger.client.block_number()
    single_logs = ledger.client.get_logs(evidence.address, [evidence.topic("EvidenceAnchored")], 0, head)
    batch_logs = ledger.client.get_logs(evidence.address, [evidence.topic("BatchAnchored")], 0, head)
    registered_logs = ledger.client.get_logs(assets.address, [assets.topic("RegistrationRecorded")], 0, head)

    # singles: each acknowledged digest has exactly one EvidenceAnchored event, and verify shows it
    single_count: dict[str, int] = {}
    for log in single_logs:
        single_count[log["topics"][1].lower()] = single_count.get(log["topics"][1].lower(), 0) + 1
    block_of = {log["topics"][1].lower(): int(log["blockNumber"], 16) for log in single_logs}
    block_of |= {log["topics"][1].lower(): int(log["blockNumber"], 16) for log in batch_logs}  # by root
    # acknowledged, then lost with a node's unsaved blocks and anchored again from the journal
    reanchored = sum(1 for d, r in run.singles.items() if block_of.get(d.lower()) != r["block_number"])
    reanchored += sum(1 for r in run.leaves.values() if block_of.get(r["batch"]["root"].lower()) != r["block_number"])
    duplicates = [d for d, n in single_count.items() if n > 1]
    missing = [d for d in run.singles if single_count.get(d.lower(), 0) != 1]

    # batches: each root on chain is a batch row of this ledger; each acknowledged leaf is in exactly one of them
    roots = {to_hex(evidence.decode_log("BatchAnchored", log)["root"]).lower() for log in batch_logs}
    assert len(roots) == len(batch_logs)
    with Session(ledger.engine) as db:
        rows = {b.root.lower(): b for b in db.exec(select(EvidenceBatch)).all()}
    unrecorded_roots = sorted(roots - set(rows))
    leaf_count: dict[str, int] = {}
    for root in roots:
        if root in rows:
            packed = bytes(rows[root].leaves)
            for i in range(0, len(packed), 33):
                key = "0x" + packed[i + 1 : i + 33].hex()
                leaf_count[key] = leaf_count.get(key, 0) + 1
    duplicates += [d for d, n in leaf_count.items() if n > 1]
    missing += [d for d in run.leaves if leaf_count.get(d.lower(), 0) != 1]

    # provable: the API's verify answers with the anchor; a leaf's Merkle proof leads to a root the chain holds
    unproven: list[str] = []
    for digest, receipt in [*run.singles.items(), *run.leaves.items()]:
        reply = call(run, "GET", f"/evidence/verify/{digest}", tokens["provider"])
        body = reply.json() if reply is not None and reply.status_code == 200 else {}
        anchors = [a for a in body.get("anchors", []) if a["mode"] == receipt["mode"]]
        if len(anchors) != 1:
            unproven.append(f"{digest}: {body}")
            continue
        member = anchors[0]["batch"]
        if member is not None:
            proof = [bytes.fromhex(p[2:]) for p in member["proof"]]
            if not (verify_proof(bytes.fromhex(member["root"][2:]), leaf_hash(1, bytes.fromhex(digest[2:])), proof)
                    and member["root"].lower() in roots and member["root"] == receipt["batch"]["root"]):
                unproven.append(f"{digest}: proof to {member['root']} does not hold")

    # registrations: each acknowledged number has exactly one initial registration on chain, with its certificate
    recorded: dict[str, int] = {}
    for log in registered_logs:
        if int(log["topics"][2], 16) == Action.INITIAL:
            recorded[log["topics"][1].lower()] = recorded.get(log["topics"][1].lower(), 0) + 1
    duplicates += [u for u, n in recorded.items() if n > 1]
    unregistered = []
    for number, done in run.registrations.items():
        uid = to_hex(unit_id(number)).lower()
        unit = ledger.assets.unit(unit_id(number))
        if recorded.get(uid) != 1 or to_hex(unit["certificate_hash"]).lower() != str(done["certificate_hash"]).lower():
            unregistered.append(f"{number}: {recorded.get(uid, 0)} event(s), unit {unit}")
    with Session(ledger.engine) as db:  # the journal's repairs: rolled back (re-sent), re-signed, failed
        repairs = [e.action for e in db.exec(select(ChainIntentEvent)).all()]
    summary = {"rolled_back_txs": repairs.count("rolled_back"), "resigned_txs": repairs.count("resigned"),
               "failed_txs": repairs.count("failed"),
               "acknowledged_singles": len(run.singles), "acknowledged_leaves": len(run.leaves),
               "acknowledged_registrations": len(run.registrations),
               "anchored_singles": sum(1 for d in run.singles if single_count.get(d.lower()) == 1),
               "anchored_leaves": sum(1 for d in run.leaves if leaf_count.get(d.lower()) == 1),
               "registered": len(run.registrations) - len(unregistered), "batches_on_chain": len(roots),
               "reanchored_acknowledged": reanchored,
               "duplicates": len(duplicates), "missing": len(missing) + len(unregistered),
               "unproven": len(unproven), "unrecorded_roots": len(unrecorded_roots)}
    problems = {"acknowledged but not on chain exactly once": missing + unregistered,
                "on chain more than once": duplicates, "not provable": unproven,
                "batch roots on chain that this ledger cannot prove": unrecorded_roots}
    return summary, {k: v for k, v in problems.items() if v}
