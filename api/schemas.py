"""Request and response bodies of the API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

DIGEST_PATTERN = r"^(0x)?[0-9a-fA-F]{64}$"
Algorithm = Literal["sha256", "keccak256", "sm3"]
Kind = Literal["declaration", "proof", "certificate", "evidence_report", "data_fingerprint",
               "ownership_change", "audit_log", "document"]


class AnchorBase(BaseModel):
    hash_algorithm: Algorithm = Field(default="sha256", description="Algorithm that produced the digest.")
    kind: Kind = Field(default="document", description="What the digest is the hash of (single anchors).")
    mode: Literal["single", "batch"] = Field(
        default="batch", description="batch: anchored in the next Merkle root (cheap, ~1 s); "
        "single: its own transaction.")


class AnchorCreate(AnchorBase):
    """Anchor a digest computed by the caller."""

    digest: str = Field(pattern=DIGEST_PATTERN, description="64 hex digits, optionally 0x-prefixed.")


class BatchPublic(BaseModel):
    root: str
    leaf_index: int
    leaf_count: int
    proof: list[str]


class AnchorPublic(BaseModel):
    """A receipt for an anchored digest."""

    digest: str
    hash_algorithm: str
    kind: str | None
    mode: Literal["single", "batch"]
    tx_hash: str
    block_number: int
    block_time: int
    block_time_iso: str
    submitter: str
    batch: BatchPublic | None
    ref: str | None = Field(default=None, description="The anchor's reference (a certificate: its unit id).")


class EndorsementPublic(BaseModel):
    endorser: str
    endorser_kind: str
    statement: str
    tx_hash: str
    block_number: int


class CertificateStatusPublic(BaseModel):
    """For an anchored certificate: what the registry holds of it now (REGISTRATION_RULES §3.8, §5.3)."""

    registration_number: str | None
    certificate_version: int | None = Field(description="Version of the certificate asked about, if known here.")
    unit_id: str
    state: Literal["valid", "superseded", "expired", "suspended", "cancelled", "revoked", "unknown"]
    under_objection: bool
    current_certificate_version: int
    current_certificate_hash: str
    valid_until: int = Field(description="Unix seconds; 0 = no expiry.")
    as_of_time: int
    summary: str


class IndexPosition(BaseModel):
    """The index a verification was read from: its block, the chain's head and the lag (asked on a miss)."""

    indexed_block: int | None
    chain_head: int | None
    lag_blocks: int | None


class VerificationPublic(BaseModel):
    """Whether a digest is anchored, with every anchor and endorsement found on chain — and, for a certificate,
    whether it is still the valid one: an anchored certificate may be superseded or cancelled."""

    digest: str
    hash_algorithm: str | None
    anchored: bool
    anchors: list[AnchorPublic]
    endorsements: list[EndorsementPublic]
    checks: list[str]
    pending: list[str] = Field(default_factory=list, description="batches holding the digest that are stored "
                               "here but not (yet) shown anchored: not mined, or not reached by the index")
    index: IndexPosition | None = Field(default=None, description="where the index stood when read; on a miss, "
                                        "how many blocks it is behind the chain")
    certificate: CertificateStatusPublic | None = None


class ProofVerify(BaseModel):
    """Verify a batched digest with the proof from its receipt (works even if this server lost it)."""

    digest: str = Field(pattern=DIGEST_PATTERN)
    hash_algorithm: Algorithm = "sha256"
    root: str = Field(pattern=DIGEST_PATTERN)
    proof: list[str] = Field(default_factory=list, max_length=64)


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody
