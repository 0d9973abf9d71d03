"""Evidence value types (存证): what is anchored and what a verification answers (TJIFA §7.2–7.3).

Kinds of evidence and of endorsing authority, a digest's place in a batch, anchor receipts, endorsements and the
answer to "is this digest anchored?" — plain values shared by the service, the batcher, proofs and the API.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from ledger.errors import LedgerValueError
from ledger.hashing import HashAlgorithm, keccak256, to_hex
from ledger.merkle import RECORD

EVIDENCE_PROVIDER_ROLE = keccak256(b"EVIDENCE_PROVIDER_ROLE")
ENDORSER_ROLE = keccak256(b"ENDORSER_ROLE")


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
    ref: bytes | None = None  # the anchor's reference (for a certificate: its registration unit id)

    @property
    def certificate_unit(self) -> bytes | None:
        """The registration unit of an anchored certificate (TJIFA §8.2.3), else None."""
        return self.ref if self.kind is EvidenceKind.CERTIFICATE and self.ref is not None else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "digest": to_hex(self.digest), "hash_algorithm": self.algorithm.label,
            "kind": self.kind.name.lower() if self.kind else None, "mode": "batch" if self.batch else "single",
            "tx_hash": self.tx_hash, "block_number": self.block_number, "block_time": self.block_time,
            "block_time_iso": iso_time(self.block_time), "submitter": self.submitter,
            "batch": self.batch.as_dict() if self.batch else None,
            "ref": to_hex(self.ref) if self.ref is not None else None,
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
    """The answer to "is this digest anchored?", every figure read from the index of the chain's events."""

    digest: bytes
    algorithm: HashAlgorithm | None
    anchored: bool = False
    anchors: list[AnchorReceipt] = field(default_factory=list)
    endorsements: list[Endorsement] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # stored batches holding it that are not (yet) anchored
    indexed_block: int | None = None  # the last block the index had applied when read
    chain_head: int | None = None  # the chain's head, asked only when the answer depends on it (a miss)
    lag_blocks: int | None = None  # blocks the index is behind (a miss while behind is said, never silent)

    def as_dict(self) -> dict[str, Any]:
        return {
            "digest": to_hex(self.digest),
            "hash_algorithm": self.algorithm.label if self.algorithm else None,
            "anchored": self.anchored,
            "anchors": [a.as_dict() for a in self.anchors],
            "endorsements": [e.as_dict() for e in self.endorsements],
            "checks": self.checks,
            "pending": self.pending,
            "index": {"indexed_block": self.indexed_block, "chain_head": self.chain_head,
                      "lag_blocks": self.lag_blocks},
        }


def iso_time(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def digest_prefix(digest: bytes) -> int:
    """The index key of a digest: its first 8 bytes as a signed 64-bit integer (fits BIGINT)."""
    return int.from_bytes(digest[:8], "big", signed=True)


#: The index key of each packed 33-byte record: skip the algorithm byte, read 8 bytes, skip 24.
RECORD_PREFIX = struct.Struct(">xq24x")


def leaf_matches(blob: bytes, index: int, digest: bytes, algorithm: HashAlgorithm | None) -> bool:
    record = blob[index * RECORD : (index + 1) * RECORD]
    return record[1:] == digest and (algorithm is None or record[0] == int(algorithm))


def leaf_positions(blob: bytes, digest: bytes, algorithm: HashAlgorithm | None) -> list[int]:
    """Leaf indexes of ``digest`` in a packed leaves blob (33-byte records: algorithm id, digest)."""
    positions = []
    start = blob.find(digest)
    while start != -1:
        if start % RECORD == 1 and (algorithm is None or blob[start - 1] == int(algorithm)):
            positions.append(start // RECORD)
        start = blob.find(digest, start + 1)
    return positions
