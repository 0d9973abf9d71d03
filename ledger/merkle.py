"""Merkle trees whose proofs OpenZeppelin ``MerkleProof`` accepts.

Leaves are double-hashed — ``keccak256(keccak256(abi.encode(uint8 hashAlgorithm, bytes32 digest)))``,
as ``EvidenceRegistry.leafHash`` computes them — so a leaf can never be mistaken for an inner node.
Inner nodes hash the sorted pair (``Hashes.commutativeKeccak256``); an odd node at the end of a level
moves up unchanged. A proof is the list of sibling hashes from the leaf up; verification folds it.

Compatibility, precisely: every *proof* this module produces verifies with OpenZeppelin's
``MerkleProof.verify`` / ``processProof`` (and so on chain in ``EvidenceRegistry.verifyInclusion``). The *tree
shape* is not OpenZeppelin's ``StandardMerkleTree`` (@openzeppelin/merkle-tree): that library sorts the leaves
by hash and lays the tree out as a complete binary tree in an array, while here leaves stay in submission
order (so a receipt's ``leaf_index`` is its position in the batch) and an odd node is promoted. The same digests
therefore give a different *root* than ``StandardMerkleTree.of(...)`` — and a ``StandardMerkleTree`` multiproof
is not produced here.

Batches hold up to hundreds of thousands of digests, so entries travel as one packed byte string of
33-byte records (algorithm id, digest) and each tree level is one byte string of 32-byte nodes: cheap to
store, to slice proofs from, and to hand to another process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger.errors import LedgerValueError
from ledger.hashing import HashAlgorithm, keccak256

try:  # the C Keccak object, called directly in the hot loops below (a wrapper call costs ~30 %)
    from sha3 import keccak_256 as _Keccak
except ImportError:  # pragma: no cover
    from Crypto.Hash.keccak import new as _new

    def _Keccak(data: bytes) -> Any:
        return _new(digest_bits=256, data=data)

_PAD = bytes(31)
RECORD = 33  # packed entry: 1 byte algorithm id + 32-byte digest


def pack_entries(entries: Sequence[tuple[HashAlgorithm | int, bytes]]) -> bytes:
    """(algorithm, digest) pairs as one byte string of 33-byte records."""
    ids = {int(a): bytes((int(a),)) for a in HashAlgorithm}
    try:
        packed = b"".join(ids[int(alg)] + digest for alg, digest in entries)
    except KeyError as exc:
        raise LedgerValueError(f"unknown hash algorithm id {exc.args[0]}") from None
    if len(packed) != RECORD * len(entries):
        raise LedgerValueError("every digest in a batch must be 32 bytes")
    return packed


def unpack_entries(packed: bytes) -> list[tuple[int, bytes]]:
    return [(packed[i], packed[i + 1 : i + RECORD]) for i in range(0, len(packed), RECORD)]


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


def _next_level(level: bytes) -> bytes:
    k = _Keccak
    nodes = [level[i : i + 32] for i in range(0, len(level), 32)]
    parents = [k(a + b).digest() if a < b else k(b + a).digest()
               for a, b in zip(nodes[0::2], nodes[1::2], strict=False)]
    if len(nodes) % 2:
        parents.append(nodes[-1])
    return b"".join(parents)


@dataclass(frozen=True)
class MerkleTree:
    """A tree kept level by level (level 0 = leaves, last level = the root), each level one byte string."""

    levels: tuple[bytes, ...]

    @classmethod
    def from_leaves(cls, leaves: Sequence[bytes]) -> MerkleTree:
        """A tree over already-hashed 32-byte leaves, in the given order."""
        if not leaves:
            raise LedgerValueError("a Merkle tree needs at least one leaf")
        if any(len(leaf) != 32 for leaf in leaves):
            raise LedgerValueError("Merkle leaves are 32 bytes")
        return cls._build(b"".join(leaves))

    @classmethod
    def from_packed(cls, packed: bytes) -> MerkleTree:
        """A tree over packed (algorithm, digest) records (``pack_entries``)."""
        if not packed or len(packed) % RECORD:
            raise LedgerValueError("a Merkle tree needs at least one 33-byte entry")
        k, pad = _Keccak, _PAD
        return cls._build(b"".join([k(k(pad + packed[i : i + RECORD]).digest()).digest()
                                    for i in range(0, len(packed), RECORD)]))

    @classmethod
    def from_digests(cls, entries: Sequence[tuple[HashAlgorithm | int, bytes]]) -> MerkleTree:
        """A tree over (algorithm, digest) entries, in the given order."""
        if not entries:
            raise LedgerValueError("a Merkle tree needs at least one leaf")
        return cls.from_packed(pack_entries(entries))

    @classmethod
    def _build(cls, leaves: bytes) -> MerkleTree:
        levels = [leaves]
        while len(levels[-1]) > 32:
            levels.append(_next_level(levels[-1]))
        return cls(tuple(levels))

    @property
    def root(self) -> bytes:
        return self.levels[-1]

    @property
    def leaf_count(self) -> int:
        return len(self.levels[0]) // 32

    def leaf(self, index: int) -> bytes:
        return self.levels[0][index * 32 : index * 32 + 32]

    def proof(self, index: int) -> list[bytes]:
        """Sibling hashes from leaf ``index`` up to the root."""
        if not 0 <= index < self.leaf_count:
            raise LedgerValueError(f"leaf index {index} is outside a tree of {self.leaf_count} leaves")
        proof: list[bytes] = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling * 32 < len(level):
                proof.append(level[sibling * 32 : sibling * 32 + 32])
            index //= 2
        return proof
