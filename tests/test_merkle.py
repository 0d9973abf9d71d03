"""Merkle trees: every leaf's proof verifies; any change breaks it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import LedgerValueError
from ledger.hashing import HashAlgorithm
from ledger.merkle import MerkleTree, hash_pair, leaf_hash, verify_proof

digests = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70)


@settings(max_examples=60, deadline=None)
@given(values=digests)
def test_every_leaf_proves_and_tampering_fails(values: list[bytes]) -> None:
    entries = [(HashAlgorithm.SHA256, v) for v in values]
    tree = MerkleTree.from_digests(entries)
    for index, (alg, digest) in enumerate(entries):
        proof = tree.proof(index)
        assert verify_proof(tree.root, leaf_hash(alg, digest), proof)
        # another algorithm, a flipped digest bit or a flipped proof bit all fail
        assert not verify_proof(tree.root, leaf_hash(HashAlgorithm.SM3, digest), proof)
        flipped = bytes([digest[0] ^ 1]) + digest[1:]
        assert not verify_proof(tree.root, leaf_hash(alg, flipped), proof) or flipped in values
        if proof:
            bad = [bytes([proof[0][0] ^ 0x80]) + proof[0][1:], *proof[1:]]
            assert not verify_proof(tree.root, leaf_hash(alg, digest), bad)


def test_single_leaf_tree_has_empty_proof_and_pairs_commute() -> None:
    tree = MerkleTree.from_digests([(1, b"\x01" * 32)])
    assert tree.proof(0) == [] and tree.root == leaf_hash(1, b"\x01" * 32)
    a, b = b"\x00" * 32, b"\xff" * 32
    assert hash_pair(a, b) == hash_pair(b, a)


def test_bad_input_is_refused() -> None:
    with pytest.raises(LedgerValueError):
        MerkleTree.from_leaves([])
    with pytest.raises(LedgerValueError):
        leaf_hash(1, b"short")
    with pytest.raises(LedgerValueError):
        MerkleTree.from_digests([(1, b"\x01" * 32)]).proof(1)
