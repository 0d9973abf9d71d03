"""The indexer: chain events into the read models (issue #10).

A pass reads logs of the deployment's contracts with ``eth_getLogs`` over large block ranges — halving a range
a node refuses or answers with too much — decodes them (``events.py``), and applies each chunk in *one*
database transaction together with the cursor, so a process killed at any point resumes from the last
committed block with no gap and no duplicate. Replaying a chunk changes nothing: rows are keyed by their
event, and the per-unit tables are recomputed from the unit's events.

Before each pass the cursor's block hash is compared with the chain's: on a chain that is not final (Anvil, a
Hardhat node) a different hash is a reorganisation — rows above the fork are deleted, the units they touched
are recomputed, and indexing resumes from the fork. A chain whose deployment block no longer matches was
reset: that is refused, loudly (``ChainResetError``), never silently re-indexed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from ledger.chain.client import ChainClient, RpcError
from ledger.db import session_scope
from ledger.deployment import Deployment
from ledger.errors import ChainResetError, ChainUnavailableError
from ledger.hashing import to_hex
from ledger.indexer.events import Event, EventDecoder
from ledger.indexer.read_models import (
    ALL_TABLES,
    BLOCK_TABLES,
    UNIT_TABLES,
    IxAnchor,
    IxBatch,
    IxBlock,
    IxCursor,
    IxEndorsement,
    IxEvent,
)
from ledger.indexer.units import derive_unit

log = logging.getLogger(__name__)
#: Blocks whose hashes are kept to find a fork point.
BLOCK_HISTORY = 512
#: Node answers that mean "ask for a smaller range".
_TOO_MUCH = ("range", "limit", "too many", "exceed", "larger than", "response size", "timeout", "timed out")
_BULK = {"EvidenceAnchored", "BatchAnchored", "AnchorEndorsed"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return to_hex(bytes(value))
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class IndexStatus:
    head: int
    indexed: int | None
    lag: int
    rows: dict[str, int]


class Indexer:
    """Indexes one deployment's events into the read models."""

    def __init__(self, engine: Engine, client: ChainClient, deployment: Deployment, chunk_blocks: int = 20_000,
                 max_logs_range: int = 100_000) -> None:
        self.engine = engine
        self.client = client
        self.deployment = deployment
        self.key = deployment.deployment_id
        self.chunk_blocks = chunk_blocks
        self.max_logs_range = max_logs_range
        self.addresses = [r.address for r in deployment.contracts.values()]
        self.decoder = EventDecoder(deployment.abis, {n: r.address for n, r in deployment.contracts.items()})
        self.start_block = min(r.deploy_block for r in deployment.contracts.values())
        self._lock = threading.Lock()
        #: the chain head seen by the last pass: (number, timestamp, when seen in monotonic seconds)
        self.last_head: tuple[int, int, float] | None = None
        #: whether a thread of this process follows the chain with this indexer (``follow``)
        self.follows_here = False
        #: whether another process keeps the index moving: the leader among ``ledger serve``'s workers
        self.followed_elsewhere = False

    @property
    def following(self) -> bool:
        """Whether a follower keeps this index moving — a thread of this process, or the leading worker of
        ``ledger serve --workers N`` — so a read behind the chain may wait for the shared cursor instead of
        indexing itself (read-your-writes across workers)."""
        return self.follows_here or self.followed_elsewhere

    # --- reading the chain ------------------------------------------------------------------------------

    def get_logs(self, start: int, end: int) -> list[dict[str, Any]]:
        """Logs of the deployment's contracts in [start, end]; a range the node refuses is split in two."""
        try:
            logs: list[dict[str, Any]] = self.client.request(
                "eth_getLogs", [{"address": self.addresses, "fromBlock": hex(start), "toBlock": hex(end)}])
            return logs
        except (RpcError, ChainUnavailableError) as exc:
            message = getattr(exc, "rpc_message", str(exc)).lower()
            if end <= start or not any(text in message for text in _TOO_MUCH):
                raise
        middle = (start + end) // 2
        log.info("splitting eth_getLogs %d-%d", start, end)
        return self.get_logs(start, middle) + self.get_logs(middle + 1, end)

    def _headers(self, numbers: Iterable[int]) -> dict[int, tuple[str, int]]:
        wanted = sorted(set(numbers))
        out: dict[int, tuple[str, int]] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            for number, block in zip(chunk, self.client.batch(
                    [("eth_getBlockByNumber", [hex(n), False]) for n in chunk]), strict=True):
                if not isinstance(block, dict):
                    raise ChainUnavailableError(f"block {number} is missing on the node ({block})")
                out[number] = (str(block["hash"]), int(block["timestamp"], 16))
        return out

    # --- the cursor and status ----------------------------------------------------------------------------

    def cursor(self) -> IxCursor | None:
        with Session(self.engine) as session:
            row = session.get(IxCursor, self.key)
            if row is not None:
                session.expunge(row)
            return row

    def status(self) -> IndexStatus:
        head = self.client.block_number()
        cursor = self.cursor()
        rows: dict[str, int] = {}
        with Session(self.engine) as session:
            for table in ALL_TABLES:
                count = session.exec(select(func.count()).select_from(table).where(
                    table.deployment == self.key)).one()  # type: ignore[attr-defined]
                rows[str(table.__tablename__)] = int(count)
        indexed = cursor.block_number if cursor else None
        return IndexStatus(head, indexed, head - (indexed if indexed is not None else self.start_block - 1), rows)

    # --- passes ---------------------------------------------------------------------------------------------

    def run_once(self, until: int | None = None) -> int:
        """Indexes up to the chain head (or ``until``); returns how many events were applied."""
        with self._lock:
            latest = self.client.block("latest")
            head = int(latest["number"], 16)
            self.last_head = (head, int(latest["timestamp"], 16), time.monotonic())
            target = head if until is None else min(until, head)
            cursor = self.cursor()
            if cursor is not None:
                self._check_fork(cursor, head)
                cursor = self.cursor()
            done = cursor.block_number if cursor is not None else self.start_block - 1
            applied = 0
            while done < target:
                end = min(done + self.chunk_blocks, target)
                count = self._apply(done + 1, end)
                if count < 0:  # another process moved the cursor: go on from where it stands now
                    cursor = self.cursor()
                    done = cursor.block_number if cursor is not None else self.start_block - 1
                    continue
                applied += count
                done = end
            return applied

    def follow(self, stop: threading.Event, interval: float = 1.0) -> None:
        """Runs passes until ``stop`` is set; a pass that fails is logged and retried (it never half-applies)."""
        self.follows_here = True
        try:
            self._follow(stop, interval)
        finally:
            self.follows_here = False

    def _follow(self, stop: threading.Event, interval: float) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except ChainResetError:
                log.error("the chain was reset: indexing stops (see `ledger chain status`)")
                raise
            except Exception:
                log.exception("indexing pass failed; retrying")
            stop.wait(interval)

    def rebuild(self) -> int:
        """Drops every read-model row of this deployment and indexes the chain again from its deploy block."""
        with self._lock, session_scope(self.engine) as session:
            for table in ALL_TABLES:
                session.execute(delete(table).where(table.deployment == self.key))  # type: ignore[attr-defined]
        return self.run_once()

    # --- applying a chunk ---------------------------------------------------------------------------------

    def _apply(self, start: int, end: int) -> int:
        logs = self.get_logs(start, end)
        events = [e for e in (self.decoder.decode(log) for log in logs) if e is not None]
        events.sort(key=lambda e: (e.block_number, e.log_index))
        headers = self._headers({e.block_number for e in events} | {end})
        for event in events:  # a log from another fork than the headers: a reorg under way, try again later
            if headers[event.block_number][0].lower() != event.block_hash.lower():
                raise ChainUnavailableError(f"block {event.block_number} changed while indexing; retrying")
        with session_scope(self.engine) as session:
            if not self._claim(session, start):
                return -1  # another process applied this range (or rolled back below it) meanwhile
            self._insert_events(session, events, headers)
            touched = {e.args["unitId"] for e in events if e.name not in _BULK and "unitId" in e.args}
            for unit in sorted(touched):
                self._derive(session, to_hex(unit))
            blocks = {e.block_number for e in events} | {end}
            self._upsert(session, IxBlock, [{"deployment": self.key, "number": n, "hash": headers[n][0],
                                              "time": headers[n][1]} for n in sorted(blocks)], replace=True)
            session.execute(delete(IxBlock).where(col(IxBlock.deployment) == self.key,
                                                  col(IxBlock.number) < end - BLOCK_HISTORY,
                                                  col(IxBlock.number) != end))
            self._upsert(session, IxCursor, [{"deployment": self.key, "block_number": end,
                                               "block_hash": headers[end][0], "chain_id": self.client.chain_id}],
                         replace=True)
        return len(events)

    def _claim(self, session: Session, start: int) -> bool:
        """Locks the cursor row for this transaction (a row lock on PostgreSQL, the write lock on SQLite) and
        checks it still stands just below ``start``: two processes indexing the same deployment (``ledger
        serve`` and a command) then apply each range once, in order, and never move the cursor backwards."""
        session.execute(update(IxCursor).where(col(IxCursor.deployment) == self.key)
                        .values(block_number=col(IxCursor.block_number)))
        current = session.exec(select(IxCursor.block_number).where(IxCursor.deployment == self.key)).first()
        return (current if current is not None else self.start_block - 1) == start - 1

    def _insert_events(self, session: Session, events: Sequence[Event], headers: dict[int, tuple[str, int]]) -> None:
        anchors, batches, endorsements, others = [], [], [], []
        for e in events:
            when = headers[e.block_number][1]
            a = e.args
            if e.name == "EvidenceAnchored":
                anchors.append({"deployment": self.key, "digest": to_hex(a["digest"]),
                                "hash_algorithm": a["hashAlgorithm"], "kind": a["kind"], "ref": to_hex(a["ref"]),
                                "submitter": a["submitter"],
                                "block_number": e.block_number, "block_time": when, "tx_hash": e.tx_hash,
                                "log_index": e.log_index})
            elif e.name == "BatchAnchored":
                batches.append({"deployment": self.key, "root": to_hex(a["root"]), "submitter": a["submitter"],
                                "leaf_count": a["leafCount"], "batch_ref": to_hex(a["batchRef"]),
                                "block_number": e.block_number, "block_time": when, "tx_hash": e.tx_hash,
                                "log_index": e.log_index})
            elif e.name == "AnchorEndorsed":
                endorsements.append({"deployment": self.key, "anchor_key": to_hex(a["anchorKey"]),
                                     "endorser": a["endorser"], "endorser_kind": a["endorserKind"],
                                     "statement": to_hex(a["statement"]), "block_number": e.block_number,
                                     "block_time": when, "tx_hash": e.tx_hash})
            else:
                unit = a.get("unitId")
                others.append({"deployment": self.key, "block_number": e.block_number, "log_index": e.log_index,
                               "contract": e.contract, "name": e.name,
                               "unit_id": to_hex(unit) if isinstance(unit, bytes) else None,
                               "args": json.dumps({k: _jsonable(v) for k, v in a.items()}, sort_keys=True),
                               "block_time": when, "tx_hash": e.tx_hash})
        self._upsert(session, IxAnchor, anchors)
        self._upsert(session, IxBatch, batches)
        self._upsert(session, IxEndorsement, endorsements)
        self._upsert(session, IxEvent, others)

    def _upsert(self, session: Session, table: type[SQLModel], rows: list[dict[str, Any]],
                replace: bool = False) -> None:
        """Bulk insert; a row that exists is left as it is (a replay) or, with ``replace``, overwritten. One
        statement compiled once and executed for many rows (SQLAlchemy's insertmanyvalues batches them), not a
        VALUES list of thousands of rows compiled per chunk (that cost ingest 3-6x)."""
        if not rows:
            return
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        keys = [c.name for c in table.__table__.primary_key.columns]  # type: ignore[attr-defined]
        statement = insert(table.__table__)  # type: ignore[attr-defined]
        if replace:
            columns = {c: statement.excluded[c] for c in rows[0] if c not in keys}
            statement = statement.on_conflict_do_update(index_elements=keys, set_=columns)
        else:
            statement = statement.on_conflict_do_nothing(index_elements=keys)
        for i in range(0, len(rows), 20_000):
            session.execute(statement, rows[i : i + 20_000])

    def _derive(self, session: Session, unit_id: str) -> None:
        """Recomputes a unit's derived rows from all of its events."""
        for table in UNIT_TABLES:
            session.execute(delete(table).where(table.deployment == self.key,  # type: ignore[attr-defined]
                                                table.unit_id == unit_id))  # type: ignore[attr-defined]
        rows = session.exec(select(IxEvent).where(IxEvent.deployment == self.key, IxEvent.unit_id == unit_id)
                            .order_by(col(IxEvent.block_number), col(IxEvent.log_index))).all()
        for table, records in derive_unit(self.key, unit_id, rows).items():
            self._upsert(session, table, records)

    # --- forks ------------------------------------------------------------------------------------------

    def _check_fork(self, cursor: IxCursor, head: int) -> None:
        """Rolls the read models back to the fork point if the chain no longer holds the cursor's block."""
        if cursor.block_number <= head:
            live = self._headers([cursor.block_number]).get(cursor.block_number, ("", 0))[0]
            if live.lower() == cursor.block_hash.lower():
                return
        with Session(self.engine) as session:
            known = session.exec(select(IxBlock).where(IxBlock.deployment == self.key)
                                 .order_by(col(IxBlock.number).desc())).all()
        fork: IxBlock | None = None
        for i in range(0, len(known), 100):
            chunk = [b for b in known[i : i + 100] if b.number <= head]
            live_hashes = self._headers(b.number for b in chunk)
            fork = next((b for b in chunk if live_hashes[b.number][0].lower() == b.hash.lower()), None)
            if fork is not None:
                break
        if fork is None:
            deploy = self.deployment.contracts[min(self.deployment.contracts,
                                                   key=lambda n: self.deployment.contracts[n].deploy_block)]
            if self.client.code(deploy.address) == b"":
                raise ChainResetError(f"the chain at {self.client.rpc_url} no longer holds the deployment the index "
                                      "was built from (its contracts are gone): it was reset. Rebuild the index "
                                      "only after `ledger deploy --new-chain`.")
            fork_number = self.start_block - 1
            fork_hash = ""
        else:
            fork_number, fork_hash = fork.number, fork.hash
        log.warning("chain reorganisation: rolling the index back from block %d to %d", cursor.block_number,
                    fork_number)
        self._rollback(fork_number, fork_hash)

    def _rollback(self, fork_number: int, fork_hash: str) -> None:
        with session_scope(self.engine) as session:
            units = set(session.exec(select(IxEvent.unit_id).where(
                IxEvent.deployment == self.key, col(IxEvent.block_number) > fork_number,
                col(IxEvent.unit_id).is_not(None))).all())
            for table in BLOCK_TABLES:
                session.execute(delete(table).where(table.deployment == self.key,  # type: ignore[attr-defined]
                                                    table.block_number > fork_number))  # type: ignore[attr-defined]
            session.execute(delete(IxBlock).where(col(IxBlock.deployment) == self.key,
                                                  col(IxBlock.number) > fork_number))
            for unit in sorted(u for u in units if u):
                self._derive(session, unit)
            if fork_hash:
                self._upsert(session, IxCursor, [{"deployment": self.key, "block_number": fork_number,
                                                   "block_hash": fork_hash, "chain_id": self.client.chain_id}],
                             replace=True)
            else:
                session.execute(delete(IxCursor).where(col(IxCursor.deployment) == self.key))


def start_follower(indexer: Indexer, interval: float = 1.0) -> tuple[threading.Thread, threading.Event]:
    """The indexer following the chain in a background thread (``ledger serve`` runs one)."""
    stop = threading.Event()
    thread = threading.Thread(target=indexer.follow, args=(stop, interval), name="indexer", daemon=True)
    thread.start()
    return thread, stop


def wait_for(indexer: Indexer, block: int, timeout: float = 30.0) -> None:
    """Waits until the index reached ``block`` (tests, and reads that must see a write just made)."""
    deadline = time.monotonic() + timeout
    while True:
        cursor = indexer.cursor()
        if cursor is not None and cursor.block_number >= block:
            return
        if time.monotonic() > deadline:
            raise ChainUnavailableError(f"the index did not reach block {block} within {timeout:.0f} s")
        time.sleep(0.05)
