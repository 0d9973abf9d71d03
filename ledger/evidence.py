"""Evidence preservation (存证): anchoring digests singly or in Merkle batches, endorsing, verifying.

TJIFA §7.2: the provider collects, numbers and fixes (固化) the holder's declarations and proofs on chain
and offers verification of the hash values. Raw data stays off chain (REGISTRATION_RULES §4.4).
"""

from __future__ import annotations

import logging
import secrets
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any, NamedTuple

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ledger.chain.contract import ContractHandle
from ledger.chain.sender import TransactionSender
from ledger.db import session_scope
from ledger.errors import (
    AlreadyAnchoredError,
    ContractRevertError,
    ForbiddenError,
    LedgerError,
    LedgerValueError,
)
from ledger.hashing import HashAlgorithm, keccak256, to_hex
from ledger.merkle import RECORD, MerkleTree, leaf_hash, pack_entries, verify_proof
from ledger.models import EvidenceBatch, EvidenceLeaf
from ledger.workers import process_pool

log = logging.getLogger(__name__)
EVIDENCE_PROVIDER_ROLE = keccak256(b"EVIDENCE_PROVIDER_ROLE")
ENDORSER_ROLE = keccak256(b"ENDORSER_ROLE")
#: Gas limit for anchorBatch: its cost does not depend on the batch size.
BATCH_GAS = 90_000
#: Batches at least this large get their Merkle tree built in a worker process (see Batcher).
WORKER_MIN_ENTRIES = 4_096


_LEAF_COLUMNS = "evidence_leaf (digest_prefix, batch_id, leaf_index)"
_LEAF_INSERT = {
    "qmark": f"INSERT INTO {_LEAF_COLUMNS} VALUES (?, ?, ?)",
    "format": f"INSERT INTO {_LEAF_COLUMNS} VALUES (%s, %s, %s)",
    "pyformat": f"INSERT INTO {_LEAF_COLUMNS} VALUES (%s, %s, %s)",
}


class EvidenceKind(IntEnum):
    """What an anchored digest is the hash of (REGISTRATION_RULES §4.4)."""

    DECLARATION = 1  # rights-and-security declaration 权属与安全声明 (TJIFA App. 2)
    PROOF = 2  # supporting proof document 证明材料 (TJIFA App. 3)
    CERTIFICATE = 3  # confirmation certificate 确权证书 (TJIFA §8.2.3)
    EVIDENCE_REPORT = 4  # evidence report 存证报告书 (TJIFA §7.3)
    DATA_FINGERPRINT = 5  # data features 数据特征 (AH art. 10(1))
    OWNERSHIP_CHANGE = 6  # ownership-change declaration (TJIFA §6.4.3.5)
    AUDIT_LOG = 7  # audit-log integrity (ZJ App. C.4.5)
    DOCUMENT = 8  # any other document or file

    @classmethod
    def parse(cls, value: str | int) -> EvidenceKind:
        if isinstance(value, int) or value.isdigit():
            try:
                return cls(int(value))
            except ValueError:
                pass
        elif value.replace("-", "_").upper() in cls.__members__:
            return cls[value.replace("-", "_").upper()]
        choices = ", ".join(k.name.lower() for k in cls)
        raise LedgerValueError(f"unknown evidence kind {value!r}: use one of {choices}")


class EndorserKind(IntEnum):
    """Authority nodes of the evidence chain (TJIFA §7.1.4); courts verify, they do not endorse."""

    NOTARY = 1
    LAW_FIRM = 2
    ARBITRATION = 3
    JUDICIAL_APPRAISAL = 4
    TIME_SERVICE = 5
    AUDIT = 6
    IDENTITY_AUTHORITY = 7


@dataclass(frozen=True)
class BatchMembership:
    """Where a digest sits in an anchored batch, and the proof that it does."""

    root: bytes
    leaf_index: int
    leaf_count: int
    proof: list[bytes]

    def as_dict(self) -> dict[str, Any]:
        return {"root": to_hex(self.root), "leaf_index": self.leaf_index, "leaf_count": self.leaf_count,
                "proof": [to_hex(p) for p in self.proof]}


@dataclass(frozen=True)
class AnchorReceipt:
    """What the submitter gets back: the anchoring transaction and, when batched, the proof."""

    digest: bytes
    algorithm: HashAlgorithm
    tx_hash: str
    block_number: int
    block_time: int
    submitter: str
    kind: EvidenceKind | None = None
    batch: BatchMembership | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "digest": to_hex(self.digest), "hash_algorithm": self.algorithm.label,
            "kind": self.kind.name.lower() if self.kind else None, "mode": "batch" if self.batch else "single",
            "tx_hash": self.tx_hash, "block_number": self.block_number, "block_time": self.block_time,
            "block_time_iso": _iso(self.block_time), "submitter": self.submitter,
            "batch": self.batch.as_dict() if self.batch else None,
        }


@dataclass(frozen=True)
class Endorsement:
    endorser: str
    endorser_kind: str
    statement: str
    tx_hash: str
    block_number: int

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class Verification:
    """The answer to "is this digest anchored?", every figure read from the chain."""

    digest: bytes
    algorithm: HashAlgorithm | None
    anchored: bool = False
    anchors: list[AnchorReceipt] = field(default_factory=list)
    endorsements: list[Endorsement] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "digest": to_hex(self.digest),
            "hash_algorithm": self.algorithm.label if self.algorithm else None,
            "anchored": self.anchored,
            "anchors": [a.as_dict() for a in self.anchors],
            "endorsements": [e.as_dict() for e in self.endorsements],
            "checks": self.checks,
        }


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _prefix(digest: bytes) -> int:
    """The index key of a digest: its first 8 bytes as a signed 64-bit integer (fits BIGINT)."""
    return int.from_bytes(digest[:8], "big", signed=True)


#: The index key of each packed 33-byte record: skip the algorithm byte, read 8 bytes, skip 24.
_RECORD_PREFIX = struct.Struct(">xq24x")


def _leaf_matches(blob: bytes, index: int, digest: bytes, algorithm: HashAlgorithm | None) -> bool:
    record = blob[index * RECORD : (index + 1) * RECORD]
    return record[1:] == digest and (algorithm is None or record[0] == int(algorithm))


def _leaf_positions(blob: bytes, digest: bytes, algorithm: HashAlgorithm | None) -> list[int]:
    """Leaf indexes of ``digest`` in a packed leaves blob (33-byte records: algorithm id, digest)."""
    positions = []
    start = blob.find(digest)
    while start != -1:
        if start % RECORD == 1 and (algorithm is None or blob[start - 1] == int(algorithm)):
            positions.append(start // RECORD)
        start = blob.find(digest, start + 1)
    return positions


def _refusal(exc: ContractRevertError) -> LedgerError:
    """Maps the registry's custom errors to the ledger's user-facing errors."""
    if exc.error_name == "RegistryUnauthorized":
        role = exc.error_args.get("role")
        name = {to_hex(EVIDENCE_PROVIDER_ROLE): "evidence provider", to_hex(ENDORSER_ROLE): "endorser"}.get(
            str(role), str(role))
        return ForbiddenError(f"account {exc.error_args.get('caller')} does not hold the {name} role")
    if exc.error_name in ("EvidenceAlreadyAnchored", "EvidenceBatchAlreadyAnchored"):
        args = exc.error_args
        key = args.get("digest", args.get("root"))
        ts = int(str(args.get("timestamp", 0)))
        return AlreadyAnchoredError(f"{key} is already anchored (by {args.get('submitter')} at {_iso(ts)})")
    return exc


class EvidenceService:
    """Anchors and verifies evidence on one EvidenceRegistry deployment."""

    def __init__(self, registry: ContractHandle, engine: Engine, deployment_key: str) -> None:
        self.registry = registry
        self.client = registry.client
        self.engine = engine
        self.deployment_key = deployment_key
        self._trees: OrderedDict[int, MerkleTree] = OrderedDict()
        self._trees_lock = threading.Lock()

    # --- writes -----------------------------------------------------------------------------

    def has_role(self, role: bytes, address: str) -> bool:
        return bool(self.registry.call("hasRole", role, address))

    def anchor(self, sender: TransactionSender, digest: bytes, algorithm: HashAlgorithm,
               kind: EvidenceKind = EvidenceKind.DOCUMENT, ref: bytes = bytes(32)) -> AnchorReceipt:
        """Anchors one digest in its own transaction. Duplicates and non-providers are refused."""
        if len(digest) != 32:
            raise LedgerValueError("a digest must be 32 bytes")
        try:
            receipt = self.registry.transact(sender, "anchor", digest, int(algorithm), int(kind), ref)
        except ContractRevertError as exc:
            raise _refusal(exc) from exc
        block = self.client.block(int(receipt["blockNumber"], 16))
        return AnchorReceipt(
            digest=digest, algorithm=algorithm, kind=kind, tx_hash=receipt["transactionHash"],
            block_number=int(receipt["blockNumber"], 16), block_time=int(block["timestamp"], 16),
            submitter=sender.address,
        )

    def anchor_batch(self, sender: TransactionSender, entries: Sequence[tuple[HashAlgorithm, bytes]],
                     batch_ref: bytes | None = None, index: bool = True,
                     build_tree: Callable[[bytes], MerkleTree] = MerkleTree.from_packed,
                     ) -> tuple[EvidenceBatch, MerkleTree]:
        """Anchors the Merkle root of ``entries`` and records the batch (one row holding every leaf, so each
        proof can be rebuilt); nothing is recorded if anchoring fails. The digest -> batch index is a read
        model derived from that row: written now, or by ``index_batch`` later (the batcher answers first)."""
        if not entries:
            raise LedgerValueError("a batch needs at least one digest")
        packed = pack_entries(entries)
        tree = build_tree(packed)
        ref = batch_ref or secrets.token_bytes(32)
        try:
            request = self.registry.request(sender, "anchorBatch", tree.root, len(entries), ref, gas=BATCH_GAS)
            tx_hash = sender.send(request)
            receipt = self.client.wait_for_receipts([tx_hash])[0]
            self.registry.raise_for_status(receipt, sender.address)
        except ContractRevertError as exc:
            raise _refusal(exc) from exc
        block_number = int(receipt["blockNumber"], 16)
        block = self.client.block(block_number)
        batch = EvidenceBatch(
            deployment=self.deployment_key, root=to_hex(tree.root), leaf_count=len(entries),
            leaves=packed, tx_hash=tx_hash, block_number=block_number,
            block_time=int(block["timestamp"], 16), submitter=sender.address, batch_ref=to_hex(ref),
        )
        with session_scope(self.engine) as session:
            session.add(batch)
            session.flush()
            session.refresh(batch)
            session.expunge(batch)
        assert batch.id is not None
        self._remember(batch.id, tree)
        if index:
            self.index_batch(batch.id)
            batch.indexed = True
        return batch, tree

    def index_batch(self, batch_id: int) -> None:
        """Writes the digest -> batch index of one recorded batch (idempotent)."""
        with session_scope(self.engine) as session:
            row = session.get(EvidenceBatch, batch_id)
            if row is None or row.indexed:
                return
            # Straight to the driver's executemany: ~10x faster than ORM/Core row processing for 100k rows.
            session.connection().exec_driver_sql(
                _LEAF_INSERT[session.get_bind().dialect.paramstyle],
                [(prefix, row.id, i) for i, (prefix,) in enumerate(_RECORD_PREFIX.iter_unpack(row.leaves))],
            )
            row.indexed = True
            session.add(row)

    def index_pending(self) -> int:
        """Indexes every recorded batch whose index is missing (after a crash); returns how many."""
        with Session(self.engine) as session:
            ids = session.exec(select(EvidenceBatch.id).where(
                EvidenceBatch.deployment == self.deployment_key, EvidenceBatch.indexed == False)).all()  # noqa: E712
        for batch_id in ids:
            if batch_id is not None:
                self.index_batch(batch_id)
        return len(ids)

    def endorse(self, sender: TransactionSender, anchor_key: bytes, statement: bytes = bytes(32)) -> str:
        """Endorses an anchored digest or batch root as an authority node; returns the transaction hash."""
        try:
            receipt = self.registry.transact(sender, "endorse", anchor_key, statement)
        except ContractRevertError as exc:
            if exc.error_name == "EvidenceNotAnchored":
                raise LedgerValueError(f"{to_hex(anchor_key)} is not anchored, so it cannot be endorsed") from exc
            if exc.error_name == "EvidenceAlreadyEndorsed":
                raise AlreadyAnchoredError(f"{sender.address} already endorsed {to_hex(anchor_key)}") from exc
            raise _refusal(exc) from exc
        return str(receipt["transactionHash"])

    # --- reads ------------------------------------------------------------------------------

    def _remember(self, batch_id: int, tree: MerkleTree) -> None:
        with self._trees_lock:
            self._trees[batch_id] = tree
            self._trees.move_to_end(batch_id)
            while len(self._trees) > 8:
                self._trees.popitem(last=False)

    def _tree(self, batch: EvidenceBatch) -> MerkleTree:
        assert batch.id is not None
        with self._trees_lock:
            tree = self._trees.get(batch.id)
        if tree is None:
            tree = MerkleTree.from_packed(batch.leaves)
            if to_hex(tree.root) != batch.root:
                raise LedgerError(f"stored batch {batch.id} does not rebuild to its root {batch.root}")
            self._remember(batch.id, tree)
        return tree

    def memberships(self, digest: bytes, algorithm: HashAlgorithm | None) -> list[tuple[EvidenceBatch, int]]:
        with Session(self.engine) as session:
            query = (
                select(EvidenceBatch, EvidenceLeaf.leaf_index)
                .join(EvidenceLeaf, EvidenceLeaf.batch_id == EvidenceBatch.id)  # type: ignore[arg-type]
                .where(EvidenceLeaf.digest_prefix == _prefix(digest), EvidenceBatch.deployment == self.deployment_key)
            )
            found = [(batch, index) for batch, index in session.exec(query).all()
                     if _leaf_matches(batch.leaves, index, digest, algorithm)]
            # Batches recorded but not yet indexed (the batcher answers before indexing): scan their leaves.
            for batch in session.exec(select(EvidenceBatch).where(
                    EvidenceBatch.deployment == self.deployment_key, EvidenceBatch.indexed == False)).all():  # noqa: E712
                found.extend((batch, i) for i in _leaf_positions(batch.leaves, digest, algorithm))
            for batch, _ in found:
                session.expunge(batch)
        return found

    def verify(self, digest: bytes, algorithm: HashAlgorithm | None = None,
               root: bytes | None = None, proof: Sequence[bytes] | None = None) -> Verification:
        """Whether ``digest`` is anchored — singly, in a batch this ledger recorded, or in the batch
        ``root`` by the caller's own ``proof`` — with block, time, submitter, transaction and endorsements,
        each proof checked against the chain."""
        result = Verification(digest=digest, algorithm=algorithm)
        single = self.registry.call("anchorOf", digest)
        submitter, timestamp, block_number, alg_id, kind_id = single
        if timestamp:
            if algorithm is not None and alg_id != int(algorithm):
                result.checks.append(f"the digest is anchored as {HashAlgorithm(alg_id).label}, "
                                     f"not {algorithm.label}")
            else:
                logs = self.client.get_logs(self.registry.address,
                                            [self.registry.topic("EvidenceAnchored"), to_hex(digest)],
                                            block_number, block_number)
                result.anchors.append(AnchorReceipt(
                    digest=digest, algorithm=HashAlgorithm(alg_id), kind=EvidenceKind(kind_id),
                    tx_hash=logs[0]["transactionHash"] if logs else "", block_number=block_number,
                    block_time=timestamp, submitter=submitter,
                ))
                result.checks.append("single anchor found in EvidenceRegistry.anchorOf")
        # (algorithm, membership) pairs to check: batches recorded here, and the caller's own proof if given
        candidates: list[tuple[HashAlgorithm, BatchMembership]] = []
        for batch, index in self.memberships(digest, algorithm):
            tree = self._tree(batch)
            candidates.append((HashAlgorithm(batch.leaves[index * RECORD]),
                               BatchMembership(tree.root, index, tree.leaf_count, tree.proof(index))))
        if root is not None:
            if algorithm is None:
                raise LedgerValueError("verifying with your own proof needs the digest's hash algorithm")
            candidates.append((algorithm, BatchMembership(root, -1, 0, list(proof or []))))
        for alg, member in candidates:
            if not verify_proof(member.root, leaf_hash(alg, digest), member.proof):
                result.checks.append(f"proof to root {to_hex(member.root)} does not hold")
                continue
            if not self.registry.call("verifyInclusion", member.root, int(alg), digest, member.proof):
                result.checks.append(f"root {to_hex(member.root)} is not anchored on this chain")
                continue
            submitter, timestamp, block_number, _, _ = self.registry.call("batchOf", member.root)
            logs = self.client.get_logs(self.registry.address,
                                        [self.registry.topic("BatchAnchored"), to_hex(member.root)],
                                        block_number, block_number)
            if logs and not member.leaf_count:  # the caller's proof: the chain says how many leaves
                leaf_count = int(self.registry.decode_log("BatchAnchored", logs[0])["leafCount"])
                member = BatchMembership(member.root, member.leaf_index, leaf_count, member.proof)
            result.anchors.append(AnchorReceipt(
                digest=digest, algorithm=alg, tx_hash=logs[0]["transactionHash"] if logs else "",
                block_number=block_number, block_time=timestamp, submitter=submitter, batch=member,
            ))
            result.checks.append(f"Merkle proof to anchored root {to_hex(member.root)} verified on chain")
        result.anchored = bool(result.anchors)
        keys = {digest} | {a.batch.root for a in result.anchors if a.batch}
        for key in keys:
            result.endorsements.extend(self.endorsements(key))
        return result

    def endorsements(self, anchor_key: bytes) -> list[Endorsement]:
        logs = self.client.get_logs(self.registry.address,
                                    [self.registry.topic("AnchorEndorsed"), to_hex(anchor_key)])
        out = []
        for log in logs:
            args = self.registry.decode_log("AnchorEndorsed", log)
            kind = int(args["endorserKind"])
            out.append(Endorsement(
                endorser=args["endorser"],
                endorser_kind=EndorserKind(kind).name.lower() if 1 <= kind <= len(EndorserKind) else str(kind),
                statement=to_hex(args["statement"]), tx_hash=log["transactionHash"],
                block_number=int(log["blockNumber"], 16),
            ))
        return out


@dataclass
class _Pending:
    entries: list[tuple[HashAlgorithm, bytes]] = field(default_factory=list)
    future: Future[tuple[EvidenceBatch, MerkleTree]] = field(default_factory=Future)
    opened: float = field(default_factory=time.monotonic)


class Ticket(NamedTuple):
    """A digest's place in a batch that is being anchored; ``result()`` waits for its receipt.
    (A tuple, not a dataclass: the batcher hands out ~100,000 of them a second.)"""

    future: Future[tuple[EvidenceBatch, MerkleTree]]
    leaf_index: int
    algorithm: HashAlgorithm
    digest: bytes

    def result(self, timeout: float | None = None) -> AnchorReceipt:
        batch, tree = self.future.result(timeout)
        return AnchorReceipt(
            digest=self.digest, algorithm=self.algorithm, tx_hash=batch.tx_hash,
            block_number=batch.block_number, block_time=batch.block_time, submitter=batch.submitter,
            batch=BatchMembership(root=tree.root, leaf_index=self.leaf_index, leaf_count=tree.leaf_count,
                                  proof=tree.proof(self.leaf_index)),
        )


class Batcher:
    """Collects digests and anchors one Merkle root per ``interval`` seconds or per ``max_size`` digests.

    Every submission gets a Ticket; it resolves once the root is mined and the batch recorded, or fails
    with the error that stopped the batch (nothing is silently dropped).
    """

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
        self._closed = False
        self._indexer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evidence-indexer")
        self._tree_pool: ProcessPoolExecutor | None = None
        if max_size >= WORKER_MIN_ENTRIES:  # start the worker now (in the background), not on the first batch
            self._tree_pool = process_pool()  # its worker exits with this process, even after SIGKILL
            self._tree_pool.submit(MerkleTree.from_packed, bytes(RECORD))
        self._thread = threading.Thread(target=self._run, name="evidence-batcher", daemon=True)
        self._thread.start()

    def submit(self, digest: bytes, algorithm: HashAlgorithm = HashAlgorithm.SHA256) -> Ticket:
        return self.submit_many([(algorithm, digest)])[0]

    def submit_many(self, entries: Sequence[tuple[HashAlgorithm, bytes]]) -> list[Ticket]:
        """Queues digests; returns one ticket per digest, in order."""
        for _, digest in entries:
            if len(digest) != 32:
                raise LedgerValueError("a digest must be 32 bytes")
        tickets: list[Ticket] = []
        with self._lock:
            if self._closed:
                raise LedgerError("the batcher is closed")
            start = 0
            while start < len(entries):
                if self._pending is None:
                    self._pending = _Pending()
                pending = self._pending
                room = self.max_size - len(pending.entries)
                chunk = entries[start : start + room]
                base = len(pending.entries)
                pending.entries.extend(chunk)
                tickets.extend(Ticket(pending.future, base + i, alg, d) for i, (alg, d) in enumerate(chunk))
                start += len(chunk)
                if len(pending.entries) >= self.max_size:
                    self._ready.append(pending)
                    self._pending = None
            self._lock.notify()
        return tickets

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

    def _run(self) -> None:
        while (pending := self._take()) is not None:
            try:
                batch, tree = self.service.anchor_batch(self.sender, pending.entries, index=False,
                                                        build_tree=self._build_tree)
            except BaseException as exc:  # the tickets carry the failure to their submitters
                pending.future.set_exception(exc)
                continue
            pending.future.set_result((batch, tree))  # proofs are ready: answer before indexing
            assert batch.id is not None
            self._indexer.submit(self._index, batch.id)  # overlaps with building the next batch
            if self.on_batch is not None:
                self.on_batch(batch)

    def _build_tree(self, packed: bytes) -> MerkleTree:
        """Large trees are built in a worker process, on the other core, so the GIL stays free for
        accepting submissions and writing the index while hashing runs."""
        if self._tree_pool is None or len(packed) < WORKER_MIN_ENTRIES * RECORD:
            return MerkleTree.from_packed(packed)
        return self._tree_pool.submit(MerkleTree.from_packed, packed).result()

    def _index(self, batch_id: int) -> None:
        try:
            self.service.index_batch(batch_id)
        except Exception:  # verify() scans unindexed batches; index_pending() completes them later
            log.exception("indexing batch %s failed; it stays scannable until re-indexed", batch_id)

    def close(self, timeout: float = 60.0) -> None:
        """Anchors what is pending, finishes indexing, then stops."""
        with self._lock:
            self._closed = True
            self._lock.notify()
        self._thread.join(timeout)
        self._indexer.shutdown(wait=True)
        if self._tree_pool is not None:
            self._tree_pool.shutdown(wait=True)
