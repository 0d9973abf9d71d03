"""The batcher: one Merkle root per interval or per ``max_size`` digests (存证批处理).

Two threads that never die (issue #8):

- the *stager* takes a full (or due) batch, builds its tree — in a worker process for large batches, on the
  other core — stores batch and signed transaction in one database transaction (``EvidenceService.stage_batch``)
  and sends it;
- the *finisher* watches the receipts of every batch in flight; the outbox records each mined one (the batch
  row becomes anchored), and the finisher resolves its tickets and indexes it.

So a slow chain never blocks the next batch and never kills a thread: a ticket simply resolves later, and a
caller that stops waiting (the API answers 503 with Retry-After) loses nothing — the batch completes and is
provable. Every failure reaches the tickets of its batch; nothing is silently dropped.

Duplicates are refused as single anchoring refuses them (issue #8 §6): the zero digest, a digest twice in one
call, a digest queued or in flight here, and a digest an indexed batch of this deployment already holds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import NamedTuple

from ledger.chain.sender import TransactionSender
from ledger.errors import AlreadyAnchoredError, LedgerError
from ledger.evidence.service import EvidenceService
from ledger.evidence.types import AnchorReceipt, BatchMembership
from ledger.hashing import HashAlgorithm, to_hex
from ledger.merkle import RECORD, MerkleTree, pack_entries
from ledger.models import EvidenceBatch
from ledger.workers import process_pool

log = logging.getLogger(__name__)
#: Batches at least this large get their Merkle tree built in a worker process (see Batcher).
WORKER_MIN_ENTRIES = 4_096
#: How often the finisher asks for the receipts of batches in flight.
POLL_SECONDS = 0.01


@dataclass
class _Pending:
    entries: list[tuple[HashAlgorithm, bytes]] = field(default_factory=list)
    future: Future[tuple[EvidenceBatch, MerkleTree]] = field(default_factory=Future)
    opened: float = field(default_factory=time.monotonic)
    tx_hash: str | None = None  # once stored and sent
    batch: EvidenceBatch | None = None
    tree: MerkleTree | None = None


def _settle(future: Future[tuple[EvidenceBatch, MerkleTree]], result: tuple[EvidenceBatch, MerkleTree] | None,
            error: BaseException | None = None) -> None:
    """Resolves a future once; a future someone cancelled (a caller that stopped waiting) is left alone."""
    if future.done():
        return
    try:
        if error is not None:
            future.set_exception(error)
        elif result is not None:
            future.set_result(result)
    except InvalidStateError:
        pass


class Ticket(NamedTuple):
    """A digest's place in a batch that is being anchored; ``result()`` waits for its receipt.
    (A tuple, not a dataclass: the batcher hands out ~100,000 of them a second.)"""

    pending: _Pending
    leaf_index: int
    algorithm: HashAlgorithm
    digest: bytes

    @property
    def future(self) -> Future[tuple[EvidenceBatch, MerkleTree]]:
        return self.pending.future

    @property
    def tx_hash(self) -> str | None:
        """The batch's transaction, once it is stored and sent."""
        return self.pending.tx_hash

    def result(self, timeout: float | None = None) -> AnchorReceipt:
        batch, tree = self.future.result(timeout)
        assert batch.block_number is not None and batch.block_time is not None
        return AnchorReceipt(
            digest=self.digest, algorithm=self.algorithm, tx_hash=batch.tx_hash,
            block_number=batch.block_number, block_time=batch.block_time, submitter=batch.submitter,
            batch=BatchMembership(root=tree.root, leaf_index=self.leaf_index, leaf_count=tree.leaf_count,
                                  proof=tree.proof(self.leaf_index)),
        )


class Batcher:
    """Collects digests and anchors one Merkle root per ``interval`` seconds or per ``max_size`` digests."""

    def __init__(self, service: EvidenceService, sender: TransactionSender, interval: float = 1.0,
                 max_size: int = 200_000, on_batch: Callable[[EvidenceBatch], None] | None = None) -> None:
        self.service = service
        self.sender = sender
        self.interval = interval
        self.max_size = max_size
        self.on_batch = on_batch
        self._lock = threading.Condition()
        self._pending: _Pending | None = None
        self._ready: list[_Pending] = []
        self._flight: list[_Pending] = []
        self._queued: dict[bytes, Ticket] = {}  # packed record (algorithm, digest) -> its ticket, until indexed
        self._closed = False
        self._indexer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence-indexer")
        self._tree_pool: ProcessPoolExecutor | None = None
        if max_size >= WORKER_MIN_ENTRIES:  # start the worker now (in the background), not on the first batch
            self._tree_pool = process_pool()  # its worker exits with this process, even after SIGKILL
            self._tree_pool.submit(MerkleTree.from_packed, bytes(RECORD))
        self._stager = threading.Thread(target=self._stage_loop, name="evidence-batcher", daemon=True)
        self._finisher = threading.Thread(target=self._finish_loop, name="evidence-finisher", daemon=True)
        self._stager.start()
        self._finisher.start()

    # --- submitting ---------------------------------------------------------------------------------------

    def submit(self, digest: bytes, algorithm: HashAlgorithm = HashAlgorithm.SHA256) -> Ticket:
        return self.submit_many([(algorithm, digest)])[0]

    def submit_many(self, entries: Sequence[tuple[HashAlgorithm, bytes]]) -> list[Ticket]:
        """Queues digests; returns one ticket per digest, in order. Refuses the whole call — nothing queued —
        if any digest is malformed, the zero digest, or a duplicate."""
        records = self.service.check_new(entries)
        keys = [records[i : i + RECORD] for i in range(0, len(records), RECORD)]
        tickets: list[Ticket] = []
        with self._lock:
            if self._closed:
                raise LedgerError("the batcher is closed")
            queued = [k for k in keys if k in self._queued]
            if queued:
                raise AlreadyAnchoredError(f"{to_hex(queued[0][1:])} is already queued for anchoring")
            start = 0
            while start < len(entries):
                if self._pending is None:
                    self._pending = _Pending()
                pending = self._pending
                room = self.max_size - len(pending.entries)
                chunk = entries[start : start + room]
                base = len(pending.entries)
                pending.entries.extend(chunk)
                tickets.extend(Ticket(pending, base + i, alg, d) for i, (alg, d) in enumerate(chunk))
                start += len(chunk)
                if len(pending.entries) >= self.max_size:
                    self._ready.append(pending)
                    self._pending = None
            self._queued.update(zip(keys, tickets, strict=True))
            self._lock.notify_all()
        return tickets

    def ticket_for(self, digest: bytes, algorithm: HashAlgorithm) -> Ticket | None:
        """The ticket of a digest queued or in flight here (a retried request waits on the same one)."""
        with self._lock:
            return self._queued.get(bytes((int(algorithm),)) + digest)

    # --- the stager ---------------------------------------------------------------------------------------

    def _take(self) -> _Pending | None:
        with self._lock:
            while True:
                if self._ready:
                    return self._ready.pop(0)
                if self._pending is not None:
                    due = self._pending.opened + self.interval - time.monotonic()
                    if due <= 0 or self._closed:
                        pending, self._pending = self._pending, None
                        return pending
                    self._lock.wait(due)
                elif self._closed:
                    return None
                else:
                    self._lock.wait()

    def _stage_loop(self) -> None:
        while (pending := self._take()) is not None:
            try:
                packed = pack_entries(pending.entries)
                pending.tree = self._build_tree(packed)
                pending.batch = self.service.stage_batch(self.sender, packed, pending.tree)
                pending.tx_hash = pending.batch.tx_hash
                with self._lock:
                    self._flight.append(pending)
                    self._lock.notify_all()
                # the batch is durable from here on: a refused send is retried by the outbox, never lost
                self.service.outbox.send(self.service.outbox_intents(pending.batch))
            except BaseException as exc:  # the tickets carry the failure to their submitters
                if pending.batch is None:  # nothing was stored: the digests may be submitted again
                    self._forget(pending)
                    _settle(pending.future, None, exc)
                else:
                    log.warning("sending batch %s failed (%s); the outbox will retry it", pending.batch.id, exc)

    def _build_tree(self, packed: bytes) -> MerkleTree:
        """Large trees are built in a worker process, on the other core, so the GIL stays free for
        accepting submissions and writing the index while hashing runs."""
        if self._tree_pool is None or len(packed) < WORKER_MIN_ENTRIES * RECORD:
            return MerkleTree.from_packed(packed)
        return self._tree_pool.submit(MerkleTree.from_packed, packed).result()

    # --- the finisher -------------------------------------------------------------------------------------

    def _finish_loop(self) -> None:
        while True:
            with self._lock:
                while not self._flight and not (self._closed and self._stager_done()):
                    self._lock.wait(0.5)
                if not self._flight and self._closed and self._stager_done():
                    return
                flight = list(self._flight)
            try:
                self._finish(flight)
            except Exception:  # a node that does not answer: look again later; the thread never dies
                log.exception("checking batches in flight failed; retrying")
                time.sleep(1.0)
            time.sleep(POLL_SECONDS)

    def _stager_done(self) -> bool:
        return not self._stager.is_alive()

    def _finish(self, flight: list[_Pending]) -> None:
        mined = self.service.outbox.poll([p.tx_hash for p in flight if p.tx_hash])
        if not mined:
            return
        for pending in flight:
            if pending.tx_hash not in mined or pending.batch is None or pending.batch.id is None:
                continue
            batch_id = pending.batch.id
            batch = self.service.batch(batch_id)
            with self._lock:
                self._flight.remove(pending)
            if batch.state == "anchored":
                assert pending.tree is not None
                self.service.remember_tree(batch_id, pending.tree)  # already built: no rebuild on a hit
                if batch.block_number is not None:
                    self.service.wrote(batch.block_number)
                _settle(pending.future, (batch, pending.tree))  # proofs are ready: answer before indexing
                self._indexer.submit(self._index, batch, pending)  # overlaps with building the next batch
                if self.on_batch is not None:
                    self.on_batch(batch)
            else:
                self._forget(pending)
                try:
                    self.service.raise_if_failed(batch)
                except LedgerError as exc:
                    _settle(pending.future, None, exc)

    def _index(self, batch: EvidenceBatch, pending: _Pending) -> None:
        try:
            assert batch.id is not None
            self.service.index_batch(batch.id, pending.tree)
        except Exception:  # verify() scans unindexed batches; index_pending() completes them later
            log.exception("indexing batch %s failed; it stays scannable until re-indexed", batch.id)
        finally:
            self._forget(pending)  # the index (or the unindexed-batch scan) now finds its digests

    def _forget(self, pending: _Pending) -> None:
        records = pack_entries(pending.entries)
        with self._lock:
            for i in range(0, len(records), RECORD):
                self._queued.pop(records[i : i + RECORD], None)

    def in_flight(self) -> int:
        with self._lock:
            return len(self._flight)

    def close(self, timeout: float = 60.0) -> None:
        """Anchors what is queued, waits (up to ``timeout``) for batches in flight, finishes indexing, stops.
        A batch still unmined stays in the outbox and completes on the next start."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        self._stager.join(timeout)
        with self._lock:
            self._lock.notify_all()
        self._finisher.join(timeout)
        self._indexer.shutdown(wait=True)
        if self._tree_pool is not None:
            self._tree_pool.shutdown(wait=True)
