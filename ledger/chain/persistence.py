"""How the local Anvil chain is kept on disk: complete snapshots, one genesis, saved only when it changed.

Anvil 1.7.1's own persistence (``--state FILE --state-interval N``) has three faults this module works around:

1. **A second block 0 at every start.** Anvil builds a fresh genesis block (timestamp = now) before it loads
   the saved blocks; the saved blocks are added beside it and the next dump writes every block in storage —
   so each restart appends another block 0 to the file. Loading then maps number 0 to whichever block 0
   comes *last* in the file, and the file's order is a hash map's. The genesis hash changed on most
   restarts and the ledger refused its own chain (fixed upstream only in nightly builds, foundry #16189,
   and even there stale blocks 0 still accumulate). Here Anvil is started with ``--timestamp`` set to the
   chain's recorded genesis timestamp, so the block 0 it builds *is* the saved one (same header, same hash)
   and no second block 0 ever exists; the clock is then set to the present over JSON-RPC before anything is
   mined (``LocalNode.start``). State files written before this change are repaired once (``repair_legacy``).
2. **Torn files.** Anvil truncates the state file and rewrites it in place; a kill during a dump leaves a
   partial file. Here every snapshot is written to a temporary file, fsynced and renamed over the previous
   one, so the file on disk is always a complete snapshot.
3. **Cost that grows with history.** ``--state-interval 2`` re-serialises the whole chain every 2 s even
   when nothing changed (a 66,500-block chain kept ~12-14 % of a core busy while idle and stalled mining).
   Here a small keeper process (``python -m ledger.chain.persistence``, started by ``ledger chain up``)
   saves only when the chain head changed, and leaves at least ``SAVE_COST_RATIO`` times the last save's
   duration between saves: idle cost is one cheap poll, and saving never takes more than ~1/20 of the time,
   whatever the chain's length. The price is a loss window that grows with the chain (docs/PERFORMANCE.md).

Durability contract (README "Local chain durability"): a block is in the snapshot on disk at most
``max(SAVE_MIN_GAP, SAVE_COST_RATIO × last save time)`` plus one save after it was mined; ``ledger chain
down`` saves the final state before stopping the node; a kill -9 or power loss keeps the last complete
snapshot and the chain's genesis (blocks mined after that snapshot are lost).

This module imports only the standard library, ``requests`` and small ledger modules, so the keeper
process starts quickly.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import logging
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests

from ledger.errors import NodeError
from ledger.files import write_private

log = logging.getLogger("ledger.chain.persistence")

#: The snapshot: Anvil's ``anvil_dumpState`` output as it comes (gzip-compressed JSON).
STATE_NAME = "anvil-state.json.gz"
#: What the snapshot holds: chain id, genesis (hash and timestamp), head block, when it was saved.
META_NAME = "anvil-state.meta.json"
#: The plain-JSON state file Anvil's ``--state`` flag wrote before this module existed.
LEGACY_NAME = "anvil-state.json"
#: The decompressed copy handed to ``anvil --load-state`` at start (deleted once Anvil has read it).
LOAD_NAME = "anvil-load.json"

SAVE_MIN_GAP = 1.0
"""Seconds between two saves at least, however cheap a save is."""
SAVE_COST_RATIO = 20.0
"""The gap after a save is at least this many times the save's duration: saving takes ≤ 1/20 of the time."""
POLL_INTERVAL = 0.25
"""Seconds between two looks at the chain head."""


# --- process helpers ---------------------------------------------------------------------------


def alive(pid: int) -> bool:
    """Whether ``pid`` runs. A zombie (exited, not yet reaped) counts as gone once *all* its threads have
    exited: Anvil's main thread turns zombie while its worker threads still hold its files — the port too."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return True
    for task in tasks:
        try:
            stat = Path(f"/proc/{pid}/task/{task}/stat").read_text()
        except OSError:
            continue  # that thread just went
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            return True
    return False


def reap(pid: int) -> None:
    """Collects ``pid``'s exit status if it is our child (tests start nodes as children)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def wait_gone(pid: int, timeout: float) -> bool:
    """Waits until ``pid`` is gone; returns False on timeout."""
    deadline = time.monotonic() + timeout
    while alive(pid):
        reap(pid)
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    reap(pid)
    return True


# --- the snapshot ------------------------------------------------------------------------------


@dataclass
class StateMeta:
    """What the snapshot next to it holds; the genesis fields never change for one chain."""

    chain_id: int
    genesis_hash: str
    genesis_timestamp: int
    block: int
    block_hash: str
    saved_at: float
    save_seconds: float
    size: int

    @classmethod
    def read(cls, chain_dir: Path) -> StateMeta | None:
        path = chain_dir / META_NAME
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:
            raise NodeError(f"{path} is unreadable ({exc}); it records the chain's genesis — restore it "
                            "from a backup, or move it and the state file away to start a new chain") from exc

    def write(self, chain_dir: Path) -> None:
        write_private(chain_dir / META_NAME, json.dumps(asdict(self), indent=2).encode())


class Rpc:
    """Minimal JSON-RPC over one keep-alive session (the keeper must not load web3)."""

    def __init__(self, url: str, timeout: float = 300.0) -> None:
        self.url = url
        self.timeout = timeout
        self.session = requests.Session()

    def __call__(self, method: str, *params: Any) -> Any:
        try:
            reply = self.session.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                                      "params": list(params)}, timeout=self.timeout)
            answer = reply.json()
        except (requests.RequestException, ValueError) as exc:
            raise NodeError(f"the node at {self.url} did not answer {method} ({exc.__class__.__name__})") from exc
        if "error" in answer:
            raise NodeError(f"the node at {self.url} refused {method}: {answer['error'].get('message', '')}")
        return answer["result"]

    def block(self, tag: str) -> dict[str, Any]:
        block: dict[str, Any] | None = self("eth_getBlockByNumber", tag, False)
        if block is None:
            raise NodeError(f"the node at {self.url} has no block {tag}")
        return block


def save_state(rpc: Rpc, chain_dir: Path) -> StateMeta:
    """Takes a snapshot of the node (``anvil_dumpState``) and writes it atomically with its meta file.

    Refuses to overwrite the snapshot of another chain: a node whose genesis differs from the recorded one
    is not the chain this directory keeps (e.g. something else listens on the recorded port)."""
    started = time.monotonic()
    known = StateMeta.read(chain_dir)
    genesis = rpc.block("0x0")
    if known is not None and genesis["hash"] != known.genesis_hash:
        raise NodeError(f"not saving: the node at {rpc.url} has genesis {genesis['hash']}, the snapshot in "
                        f"{chain_dir} is of the chain with genesis {known.genesis_hash}")
    raw, head = consistent_dump(rpc, chain_dir)
    data = bytes.fromhex(raw.removeprefix("0x"))
    if data[:2] != b"\x1f\x8b":
        raise NodeError(f"the node at {rpc.url} answered anvil_dumpState with something that is not gzip")
    write_private(chain_dir / STATE_NAME, data)
    meta = StateMeta(
        chain_id=int(rpc("eth_chainId"), 16), genesis_hash=genesis["hash"],
        genesis_timestamp=int(genesis["timestamp"], 16), block=int(head["number"], 16), block_hash=head["hash"],
        saved_at=time.time(), save_seconds=round(time.monotonic() - started, 3), size=len(data),
    )
    meta.write(chain_dir)
    return meta


PAUSED_NAME = "mining-paused"
"""Present while a save holds automatic mining off; whoever finds it with no save running switches it back on."""
DUMP_ATTEMPTS = 5
SETTLE_SECONDS = 0.02


def resume_mining(rpc: Rpc, chain_dir: Path) -> None:
    """Switches automatic mining back on if a save that paused it was killed before it could (its marker)."""
    marker = chain_dir / PAUSED_NAME
    if marker.exists():
        rpc("evm_setAutomine", True)
        marker.unlink(missing_ok=True)
        log.warning("automatic mining was left paused by an interrupted save: switched back on")


def consistent_dump(rpc: Rpc, chain_dir: Path) -> tuple[str, dict[str, Any]]:
    """``anvil_dumpState`` of one moment, and the head block it holds.

    Anvil reads the accounts and the blocks of a dump one after the other while it goes on mining, so a dump
    taken while a block is mined can hold that block's state but not the block (or the reverse): loaded after
    a kill -9, the chain then has storage no block explains — an anchor whose event, transaction and receipt
    do not exist, and a sender nonce that no transaction used (found by the crash harness). So automatic
    mining is paused for the dump (transactions sent meanwhile wait in the pool and are mined when it resumes),
    the head must be the same before and after it, and a dump that raced a block is taken again."""
    automine = bool(rpc("anvil_getAutomine"))
    marker = chain_dir / PAUSED_NAME
    if automine:
        write_private(marker, b"")
        rpc("evm_setAutomine", False)
    try:
        for _ in range(DUMP_ATTEMPTS):
            head = rpc.block("latest")
            while True:  # a block being mined when mining was paused: let it land
                time.sleep(SETTLE_SECONDS)
                again = rpc.block("latest")
                if again["hash"] == head["hash"]:
                    break
                head = again
            raw: str = rpc("anvil_dumpState")
            if rpc.block("latest")["hash"] == head["hash"]:
                return raw, head
        raise NodeError(f"the node at {rpc.url} mined a block during each of {DUMP_ATTEMPTS} dumps: not saving "
                        "a snapshot that may be torn")
    finally:
        if automine:
            rpc("evm_setAutomine", True)  # what arrived meanwhile is mined now
            marker.unlink(missing_ok=True)


# --- preparing a start -------------------------------------------------------------------------


@dataclass
class LoadPlan:
    """How to start Anvil on this directory's chain."""

    genesis_timestamp: int
    genesis_hash: str | None  # None: a new chain (or a repaired legacy file) — learnt after the start
    load_file: Path | None  # plain JSON for --load-state, deleted after the start
    saved_block: int
    record: bool = False  # no snapshot of this chain in the new format yet: save one right after the start

    def cleanup(self) -> None:
        if self.load_file is not None:
            self.load_file.unlink(missing_ok=True)


def _header_hash(header: dict[str, Any]) -> str:
    from ledger.proofs.ethrlp import encode_header, header_hash

    return "0x" + header_hash(encode_header(header)).hex()


def repair_legacy(state: dict[str, Any]) -> tuple[dict[str, Any], int, str]:
    """Keeps one block 0 in a state file written by ``anvil --state``: the parent of block 1 (else the
    oldest, since every extra block 0 was made by a later start). Returns the state, the genesis timestamp
    and the genesis hash."""
    blocks: list[dict[str, Any]] = state.get("blocks") or []
    zeros = [b for b in blocks if int(b["header"]["number"], 16) == 0]
    if not zeros:
        raise NodeError("the legacy state file has no block 0")
    by_hash = {_header_hash(b["header"]): b for b in zeros}
    ones = [b for b in blocks if int(b["header"]["number"], 16) == 1]
    parents = [b["header"]["parentHash"] for b in ones if b["header"]["parentHash"] in by_hash]
    oldest = min(by_hash, key=lambda h: int(by_hash[h]["header"]["timestamp"], 16))
    genesis_hash = parents[0] if parents else oldest
    genesis = by_hash[genesis_hash]
    state["blocks"] = [b for b in blocks if int(b["header"]["number"], 16) != 0 or b is genesis]
    return state, int(genesis["header"]["timestamp"], 16), genesis_hash


def prepare_load(chain_dir: Path, now: float | None = None) -> LoadPlan:
    """Decides how Anvil starts: on the recorded chain (its genesis timestamp, its snapshot decompressed for
    ``--load-state``) or on a new chain. Repairs and converts a legacy ``anvil --state`` file once."""
    for stale in chain_dir.glob(".*.tmp"):  # a writer killed before its rename
        stale.unlink(missing_ok=True)
    (chain_dir / LOAD_NAME).unlink(missing_ok=True)
    (chain_dir / PAUSED_NAME).unlink(missing_ok=True)  # of a node that is gone: the new one sets its mining
    state_path, legacy = chain_dir / STATE_NAME, chain_dir / LEGACY_NAME
    meta = StateMeta.read(chain_dir)
    load_file = chain_dir / LOAD_NAME
    if not state_path.exists() and legacy.exists():
        try:
            legacy_state = json.loads(legacy.read_bytes())
        except ValueError as exc:
            raise NodeError(f"{legacy} is not complete JSON ({exc}): Anvil rewrites it in place, so a stop "
                            "during a dump can tear it. Restore it from a backup, or move it away to start a new "
                            "chain") from exc
        state, timestamp, genesis_hash = repair_legacy(legacy_state)
        write_private(load_file, json.dumps(state).encode())
        log.info("repaired legacy state file %s: kept genesis %s", legacy, genesis_hash)
        return LoadPlan(timestamp, genesis_hash, load_file, int(state.get("best_block_number") or 0), record=True)
    if state_path.exists():
        if meta is None:
            raise NodeError(f"{state_path} has no {META_NAME} beside it, so the chain's genesis is unknown: "
                            "restore the meta file, or move the state file away to start a new chain")
        try:
            data = gzip.decompress(state_path.read_bytes())
        except (OSError, EOFError) as exc:
            raise NodeError(f"{state_path} is not a readable snapshot ({exc})") from exc
        write_private(load_file, data)
        return LoadPlan(meta.genesis_timestamp, meta.genesis_hash, load_file, meta.block)
    if meta is not None:  # the snapshot is gone: this will be a new chain, with a new genesis
        retired = chain_dir / f"{META_NAME}.retired-{int(time.time())}"
        os.replace(chain_dir / META_NAME, retired)
        log.warning("no snapshot beside %s: starting a new chain (old meta kept as %s)", META_NAME, retired)
    return LoadPlan(int(now if now is not None else time.time()), None, None, 0, record=True)


# --- the keeper process ------------------------------------------------------------------------


class Keeper:
    """Saves the node's state whenever its head changed, no more often than the cost ratio allows."""

    def __init__(self, rpc_url: str, chain_dir: Path, node_pid: int) -> None:
        self.rpc = Rpc(rpc_url)
        self.chain_dir = chain_dir
        self.node_pid = node_pid
        self.stopping = False

    def run(self) -> None:
        meta = StateMeta.read(self.chain_dir)
        saved_hash = meta.block_hash if meta else None
        with contextlib.suppress(NodeError):  # a keeper killed while its save held mining paused
            resume_mining(self.rpc, self.chain_dir)
        next_save = 0.0
        while not self.stopping and alive(self.node_pid):
            try:
                head = self.rpc.block("latest")["hash"]
                if head != saved_hash and time.monotonic() >= next_save:
                    meta = save_state(self.rpc, self.chain_dir)
                    saved_hash = meta.block_hash
                    next_save = time.monotonic() + max(SAVE_MIN_GAP, SAVE_COST_RATIO * meta.save_seconds)
                    log.debug("saved block %d in %.3fs (%d bytes)", meta.block, meta.save_seconds, meta.size)
            except NodeError as exc:
                if not alive(self.node_pid) or self.stopping:
                    break
                log.warning("%s", exc.user_message)
                next_save = time.monotonic() + SAVE_MIN_GAP
            time.sleep(POLL_INTERVAL)
        log.info("keeper for node pid %d stops", self.node_pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger.chain.persistence",
                                     description="Keeps a local Anvil node's state on disk (started by "
                                     "`ledger chain up`).")
    parser.add_argument("--rpc-url", required=True)
    parser.add_argument("--chain-dir", required=True, type=Path)
    parser.add_argument("--node-pid", required=True, type=int)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s keeper %(levelname)s %(message)s")
    keeper = Keeper(args.rpc_url, args.chain_dir, args.node_pid)

    def _stop(signum: int, frame: object) -> None:
        keeper.stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    keeper.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
