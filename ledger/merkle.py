"""Merkle trees whose proofs OpenZeppelin ``MerkleProof`` accepts.

Leaves are double-hashed — ``keccak256(keccak256(abi.encode(uint8 hashAlgorithm, bytes32 digest)))``,
as ``EvidenceRegistry.leafHash`` computes them — so a leaf can never be mistaken for an inner node.
Inner nodes hash the sorted pair (``Hashes.commutativeKeccak256``); an odd node at the end of a level
moves up unchanged. A proof is the list of sibling hashes from the leaf up; verification folds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ledger.errors import LedgerValueError
from ledger.hashing import HashAlgorithm, keccak256

_PAD = bytes(31)


def leaf_hash(algorithm: HashAlgorithm | int, digest: bytes) -> bytes:
    """The leaf of ``digest``: keccak256(keccak256(abi.encode(uint8, bytes32)))."""
    if len(digest) != 32:
        raise LedgerValueError("a Merkle leaf needs a 32-byte digest")
    return keccak256(keccak256(_PAD + bytes((int(algorithm),)) + digest))


def hash_pair(a: bytes, b: bytes) -> bytes:
    """Commutative inner-node hash, as OpenZeppelin ``Hashes.commutativeKeccak256``."""
    return keccak256(a + b) if a < b else keccak256(b + a)


def process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that ``proof`` leads to from ``leaf``."""
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node


def verify_proof(root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` leads from ``leaf`` to ``root``."""
    return process_proof(leaf, proof) == root


@dataclass(frozen=True)
class MerkleTree:
    """A tree over leaf hashes, kept level by level (level 0 = leaves, last level = [root])."""

    levels: tuple[tuple[bytes, ...], ...]

    @classmethod
    def from_leaves(cls, leaves: Sequence[bytes]) -> MerkleTree:
        if not leaves:
            raise LedgerValueError("a Merkle tree needs at least one leaf")
        level = tuple(leaves)
        levels = [level]
        while len(level) > 1:
            nxt = [hash_pair(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            level = tuple(nxt)
            levels.append(level)
        return cls(tuple(levels))

    @classmethod
    def from_digests(cls, entries: Sequence[tuple[HashAlgorithm | int, bytes]]) -> MerkleTree:
        """A tree over (algorithm, digest) entries, in the given order."""
        return cls.from_leaves([leaf_hash(alg, digest) for alg, digest in entries])

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    @property
    def leaf_count(self) -> int:
        return len(self.levels[0])

    def proof(self, index: int) -> list[bytes]:
        """Sibling hashes from leaf ``index`` up to the root."""
        if not 0 <= index < self.leaf_count:
            raise LedgerValueError(f"leaf index {index} is outside a tree of {self.leaf_count} leaves")
        proof: list[bytes] = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                proof.append(level[sibling])
            index //= 2
        return proof
