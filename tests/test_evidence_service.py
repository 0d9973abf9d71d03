"""The evidence service end to end on a real Anvil node, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from ledger.context import Ledger
from ledger.errors import AlreadyAnchoredError, ForbiddenError, LedgerValueError
from ledger.evidence import Batcher, EvidenceKind, EvidenceService
from ledger.evidence.batcher import WORKER_MIN_ENTRIES
from ledger.evidence.service import chunk_proof, proof_rows
from ledger.hashing import HashAlgorithm, digest_bytes, digest_file
from ledger.indexer.sync import Indexer, start_follower, wait_for
from ledger.merkle import MerkleTree
from ledger.models import LEAVES_PER_CHUNK

pytestmark = pytest.mark.chain


def test_anchor_file_and_verify(chain: Ledger, evidence: EvidenceService, tmp_path: Path) -> None:
    document = tmp_path / "declaration.txt"
    document.write_bytes("权属与安全声明 ".encode() + os.urandom(64))
    digest = digest_file(document, HashAlgorithm.SM3)
    receipt = evidence.anchor(chain.sender("provider"), digest, HashAlgorithm.SM3, EvidenceKind.DECLARATION)
    result = evidence.verify(digest_file(document, HashAlgorithm.SM3), HashAlgorithm.SM3)
    assert result.anchored
    (anchor,) = result.anchors
    assert (anchor.tx_hash, anchor.block_number, anchor.submitter) == (
        receipt.tx_hash, receipt.block_number, chain.accounts.get("provider").address)
    assert anchor.kind is EvidenceKind.DECLARATION and anchor.block_time == receipt.block_time
    # the same digest claimed under another algorithm is not a match
    assert not evidence.verify(digest, HashAlgorithm.SHA256).anchored
    # a tampered file does not verify
    document.write_bytes(document.read_bytes() + b"!")
    assert not evidence.verify(digest_file(document, HashAlgorithm.SM3), HashAlgorithm.SM3).anchored


def test_duplicate_and_unauthorized_are_clear_errors(chain: Ledger, evidence: EvidenceService) -> None:
    digest = os.urandom(32)
    evidence.anchor(chain.sender("provider"), digest, HashAlgorithm.SHA256)
    with pytest.raises(AlreadyAnchoredError, match="already anchored"):
        evidence.anchor(chain.sender("provider"), digest, HashAlgorithm.SHA256)
    with pytest.raises(ForbiddenError, match="evidence provider role"):
        evidence.anchor(chain.sender("outsider"), os.urandom(32), HashAlgorithm.SHA256)
    with pytest.raises(LedgerValueError):
        evidence.anchor(chain.sender("provider"), b"short", HashAlgorithm.SHA256)


def test_batch_gives_every_leaf_a_proof_checked_on_chain(chain: Ledger, evidence: EvidenceService) -> None:
    entries = [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(37)]
    batch, tree = evidence.anchor_batch(chain.sender("provider"), entries)
    assert batch.leaf_count == 37 and batch.root == "0x" + tree.root.hex()
    for index, (alg, digest) in enumerate(entries):
        result = evidence.verify(digest, alg)
        assert result.anchored, index
        membership = result.anchors[0].batch
        assert membership is not None and membership.leaf_index == index and membership.root == tree.root
        assert membership.proof == tree.proof(index)
    # a caller's own proof: right one verifies, a wrong one does not
    alg, digest = entries[5]
    assert evidence.verify(digest, alg, tree.root, tree.proof(5)).anchored
    wrong = evidence.verify(os.urandom(32), alg, tree.root, tree.proof(5))
    assert not wrong.anchored and "does not hold" in wrong.checks[0]


def test_endorsements_are_reported(chain: Ledger, evidence: EvidenceService) -> None:
    digest = os.urandom(32)
    evidence.anchor(chain.sender("provider"), digest, HashAlgorithm.KECCAK256)
    evidence.endorse(chain.sender("time-service"), digest)
    with pytest.raises(AlreadyAnchoredError):
        evidence.endorse(chain.sender("time-service"), digest)
    with pytest.raises(LedgerValueError, match="not anchored"):
        evidence.endorse(chain.sender("notary"), os.urandom(32))
    with pytest.raises(ForbiddenError, match="endorser"):
        evidence.endorse(chain.sender("provider"), digest)
    (endorsement,) = evidence.verify(digest).endorsements
    assert endorsement.endorser_kind == "time_service"
    assert endorsement.endorser == chain.accounts.get("time-service").address


def test_batcher_anchors_by_size_and_interval(chain: Ledger, evidence: EvidenceService) -> None:
    batcher = Batcher(evidence, chain.sender("provider"), interval=0.2, max_size=50)
    try:
        entries = [(HashAlgorithm.SHA256, digest_bytes(os.urandom(16))) for _ in range(120)]
        tickets = batcher.submit_many(entries)
        receipts = [t.result(timeout=60) for t in tickets]
        roots = {r.batch.root for r in receipts if r.batch}
        assert len(roots) == 3  # 50 + 50 by size, 20 by interval
        for (alg, digest), receipt in zip(entries, receipts, strict=True):
            assert receipt.digest == digest and receipt.batch is not None
            assert evidence.verify(digest, alg).anchored
        with pytest.raises(LedgerValueError):
            batcher.submit(b"short")
    finally:
        batcher.close()


def test_batcher_builds_large_trees_in_a_worker_process(chain: Ledger, evidence: EvidenceService) -> None:
    batcher = Batcher(evidence, chain.sender("provider"), interval=0.1)
    try:
        entries = [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(WORKER_MIN_ENTRIES + 7)]
        tickets = batcher.submit_many(entries)
        receipt = tickets[-1].result(timeout=120)
        assert batcher._tree_pool is not None  # a worker process builds trees this large
        assert receipt.batch is not None and receipt.batch.leaf_count == len(entries)
        assert evidence.verify(entries[-1][1], HashAlgorithm.SHA256).anchored
    finally:
        batcher.close()


def test_batcher_failure_reaches_every_ticket(chain: Ledger, evidence: EvidenceService) -> None:
    batcher = Batcher(evidence, chain.sender("outsider"), interval=0.05)
    try:
        tickets = batcher.submit_many([(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(3)])
        for ticket in tickets:
            with pytest.raises(ForbiddenError):
                ticket.result(timeout=60)
    finally:
        batcher.close()


def test_unindexed_batch_still_verifies_and_is_indexed_later(chain: Ledger, evidence: EvidenceService) -> None:
    entries = [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(5)] + [(HashAlgorithm.SM3, os.urandom(32))]
    batch, _ = evidence.anchor_batch(chain.sender("provider"), entries, index=False)
    assert not batch.indexed
    assert evidence.verify(entries[3][1], HashAlgorithm.SHA256).anchors[0].batch.leaf_index == 3  # type: ignore[union-attr]
    assert not evidence.verify(entries[5][1], HashAlgorithm.SHA256).anchored  # algorithm is part of the leaf
    assert evidence.index_pending() >= 1
    assert evidence.index_pending() == 0
    assert evidence.verify(entries[5][1], HashAlgorithm.SM3).anchors[0].batch.leaf_index == 5  # type: ignore[union-attr]


def test_index_prefix_collision_never_matches(chain: Ledger, evidence: EvidenceService) -> None:
    """The index keys on the digest's first 8 bytes; a different digest with the same prefix is no match."""
    anchored = b"\xff" * 8 + os.urandom(24)  # negative as a signed BIGINT
    twin = anchored[:8] + os.urandom(24)
    evidence.anchor_batch(chain.sender("provider"), [(HashAlgorithm.SHA256, anchored)])
    assert evidence.verify(anchored, HashAlgorithm.SHA256).anchored
    assert not evidence.verify(twin, HashAlgorithm.SHA256).anchored
    assert not evidence.verify(twin).anchored


def _rpc_ids(chain: Ledger) -> int:
    """The client's JSON-RPC id counter: every request and every call of a batch takes the next id."""
    return next(chain.client._ids)


def test_verify_reads_the_index_without_chain_calls(chain: Ledger, evidence: EvidenceService) -> None:
    """Issue #10 §3: a hit — single or batched, with its endorsements — is served from the index: no JSON-RPC
    call at all while this process's follower is up to date (before: eth_call ×3, eth_getLogs from block 0)."""
    single = os.urandom(32)
    evidence.anchor(chain.sender("provider"), single, HashAlgorithm.SHA256)
    evidence.endorse(chain.sender("notary"), single)
    entries = [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(300)]
    batch, tree = evidence.anchor_batch(chain.sender("provider"), entries)
    indexer = evidence.indexer
    assert isinstance(indexer, Indexer)
    thread, stop = start_follower(indexer, interval=3600)  # one pass now, then idle: no call during the reads
    try:
        wait_for(indexer, chain.client.block_number())
        before = _rpc_ids(chain)
        hit = evidence.verify(single, HashAlgorithm.SHA256)
        member = evidence.verify(entries[123][1])
        assert _rpc_ids(chain) == before + 1  # only the counter read above: no chain call
    finally:
        stop.set()
        thread.join()
    assert hit.anchored and hit.anchors[0].batch is None and hit.endorsements[0].endorser_kind == "notary"
    (anchor,) = member.anchors
    assert anchor.batch is not None and anchor.batch.proof == tree.proof(123) and anchor.tx_hash == batch.tx_hash
    assert anchor.algorithm is HashAlgorithm.SHA256 and member.lag_blocks is None
    confirmed = evidence.verify(entries[123][1], confirm=True)  # the optional check asks the contract
    assert any("confirmed by EvidenceRegistry.verifyInclusion" in c for c in confirmed.checks)


def test_a_record_the_index_has_not_reached_says_how_far_behind(chain: Ledger, evidence: EvidenceService,
                                                                engine: Engine) -> None:
    """A digest anchored after the index's last pass is not a silent NOT ANCHORED: the answer gives the lag."""
    indexer = evidence.indexer
    assert isinstance(indexer, Indexer)
    thread, stop = start_follower(indexer, interval=3600)
    try:
        wait_for(indexer, chain.client.block_number())
        other = EvidenceService(chain.contract("EvidenceRegistry"), engine, chain.deployment.deployment_id)
        late = os.urandom(32)
        other.anchor(chain.sender("provider"), late, HashAlgorithm.SHA256)  # another process's write
        result = evidence.verify(late, HashAlgorithm.SHA256)
    finally:
        stop.set()
        thread.join()
    assert not result.anchored and result.lag_blocks is not None and result.lag_blocks >= 1
    assert result.chain_head is not None and result.indexed_block == result.chain_head - result.lag_blocks
    assert any("behind the chain" in c for c in result.checks)
    assert evidence.verify(late, HashAlgorithm.SHA256).anchored  # a command's pass catches up
    assert evidence.verify(late, HashAlgorithm.SHA256).lag_blocks is None


def test_a_hit_reads_its_stored_proof_not_the_batch(chain: Ledger, evidence: EvidenceService,
                                                      engine: Engine) -> None:
    """The proof of a batched digest comes from its run's evidence_proof row (one key lookup): the tree is never rebuilt
    in a request, even when the in-memory cache does not hold it."""
    entries = [(HashAlgorithm.SM3, os.urandom(32)) for _ in range(1_000)]
    _, tree = evidence.anchor_batch(chain.sender("provider"), entries)
    fresh = EvidenceService(chain.contract("EvidenceRegistry"), engine, chain.deployment.deployment_id,
                            indexer=evidence.indexer)  # an empty tree cache, as in another worker
    for index in (0, 511, 998, 999):
        (anchor,) = fresh.verify(entries[index][1]).anchors
        assert anchor.batch is not None and anchor.batch.proof == tree.proof(index)
        assert anchor.algorithm is HashAlgorithm.SM3
    assert not fresh._trees  # nothing rebuilt
    assert not fresh.verify(entries[5][1], HashAlgorithm.SHA256).anchored  # the algorithm is part of the leaf


@pytest.mark.parametrize("leaves", [1, 2, 3, 15, 16, 17, 31, 33, 255, 257, 1_000, 4_097])
def test_stored_proof_rows_give_the_trees_proofs(leaves: int) -> None:
    """One evidence_proof row per run of 16 leaves (their hashes + the shared path) gives exactly
    ``MerkleTree.proof`` for every leaf, odd nodes promoted at every level included."""
    tree = MerkleTree.from_leaves([os.urandom(32) for _ in range(leaves)])
    rows = list(proof_rows(7, tree))
    assert len(rows) == -(-leaves // LEAVES_PER_CHUNK)
    for index in range(leaves):
        _, chunk, hashes, path = rows[index // LEAVES_PER_CHUNK]
        assert chunk == index // LEAVES_PER_CHUNK and chunk_proof(hashes, path, index) == tree.proof(index)
