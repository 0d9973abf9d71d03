"""SQL tables of the ledger's own records (the indexer's read models come with the registry)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, Index, LargeBinary, PrimaryKeyConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class EvidenceBatch(SQLModel, table=True):
    """A batch of digests whose Merkle root was anchored; ``leaves`` keeps (algorithm, digest) pairs
    in leaf order (33 bytes each) so every member's proof can be rebuilt from the original data."""

    __tablename__ = "evidence_batch"
    # (deployment, indexed): verification finds batches not yet indexed without reading their rows (on SQLite,
    # a column stored after ``leaves`` is reached through the blob's overflow pages).
    __table_args__ = (UniqueConstraint("deployment", "root"),
                      Index("evidence_batch_unindexed", "deployment", "indexed"))

    id: int | None = Field(default=None, primary_key=True)
    deployment: str = Field(index=True, description="deployment id (manifest) the root is anchored on")
    root: str
    leaf_count: int
    leaves: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    tx_hash: str
    block_number: int | None = Field(default=None, description="None until the root is mined")
    block_time: int | None = None
    submitter: str
    batch_ref: str
    state: str = Field(default="pending", index=True, description="pending (stored and sent, not yet mined), "
                       "anchored, or failed (the chain refused it; its digests were never acknowledged)")
    intent_id: int | None = Field(default=None, description="the chain_intent that anchors the root")
    indexed: bool = Field(default=False, description="evidence_leaf rows written for every leaf")
    created_at: datetime = Field(default_factory=utcnow)


class EvidenceLeaf(SQLModel, table=True):
    """Index from a digest to where batches hold it, keyed by the digest's first 8 bytes as a signed 64-bit
    integer: one compact B-tree (no rowid on SQLite) that takes 100,000 rows ~4x faster than a 32-byte key
    with a secondary index. Every hit is confirmed against the batch's stored leaves, so a prefix collision
    can never produce a false match."""

    __tablename__ = "evidence_leaf"
    __table_args__ = (
        PrimaryKeyConstraint("digest_prefix", "batch_id", "leaf_index"),
        {"sqlite_with_rowid": False},
    )

    digest_prefix: int = Field(sa_column=Column(BigInteger, nullable=False))
    batch_id: int = Field(foreign_key="evidence_batch.id")
    leaf_index: int


#: Leaves per ``evidence_proof`` row: an aligned run of 16 leaves shares every sibling above its subtree.
LEAVES_PER_CHUNK = 16


class EvidenceProof(SQLModel, table=True):
    """A batch's Merkle proofs, stored per aligned run of ``LEAVES_PER_CHUNK`` leaves: their leaf hashes and the
    siblings on the path from their subtree's root to the batch root (the same for all of them). A digest's proof
    is its run's subtree (rebuilt from ≤ 16 hashes) plus that path: one row read by its key — never the batch's
    leaves, never a tree rebuilt in a request (issue #10 §6). Written with the digest index."""

    __tablename__ = "evidence_proof"
    __table_args__ = (
        PrimaryKeyConstraint("batch_id", "chunk"),
        {"sqlite_with_rowid": False},
    )

    batch_id: int = Field(foreign_key="evidence_batch.id")
    chunk: int
    leaves: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    path: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ApiToken(SQLModel, table=True):
    """An API credential bound to one operator account; only the token's SHA-256 is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    label: str
    token_sha256: str = Field(unique=True, index=True)
    account: str
    address: str
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class StoredDocument(SQLModel, table=True):
    """A document by its on-chain hash (canonical JSON), kept for the retention period (SZ art. 10: 30 years)."""

    __tablename__ = "stored_document"

    sha256: str = Field(primary_key=True)
    kind: str = Field(index=True)
    body: str
    created_at: datetime = Field(default_factory=utcnow)


class Application(SQLModel, table=True):
    """A registration application in the off-chain workflow (REGISTRATION_RULES §3.2, §3.8)."""

    __tablename__ = "application"

    id: str = Field(primary_key=True)
    deployment: str = Field(index=True)
    kind: str  # initial, supplementary, change, transfer, licence, pledge, release, cancellation, renewal
    profile: str
    state: str = Field(index=True)
    holder: str  # applicant account name
    counterparty: str | None = None  # transferee, licensee or pledgee
    registration_number: str | None = Field(default=None, index=True)
    object_type: int | None = None
    rights: int = 7
    payload: str = "{}"  # kind-specific JSON: asset description, entry term, entry id, cancellation ground
    content_fingerprint: str | None = Field(default=None, index=True, description="digest identifying the data "
                                            "itself (数据特征, AH art. 10(1)): the same holder registers it once")
    document_hash: str | None = None  # application / contract / order
    review_report_hash: str | None = None
    notice_start: str | None = None
    notice_end: str | None = None
    notice_official: bool = True
    certificate_hash: str | None = None
    prepared_on: str | None = Field(default=None, description="the date the registration was prepared for "
                                    "consents signed in wallets: its certificate is issued as of that date, so "
                                    "what they signed stays what is registered")
    intent_id: int | None = None  # outbox: the chain_intent (signed transaction) of the chain step
    tx_hash: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ApplicationEvent(SQLModel, table=True):
    """Every workflow step, in order: the replayable record of who did what when (TJIFA App. 4 §3)."""

    __tablename__ = "application_event"

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(foreign_key="application.id", index=True)
    action: str
    from_state: str
    to_state: str
    actor: str
    note: str = ""
    document_hash: str | None = None
    at: datetime = Field(default_factory=utcnow)


class NoticeObjection(SQLModel, table=True):
    """An objection raised during public notice (GD art. 11, DL art. 23, GZ art. 19): anyone may object, a second
    objector too while another objection is pending; each records who objected and the evidence."""

    __tablename__ = "notice_objection"

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(foreign_key="application.id", index=True)
    objector: str  # the account that filed it
    objector_name: str = Field(default="", description="the objector's legal name (identity)")
    objector_id: str = Field(default="", description="ID number or unified social credit code")
    grounds: str
    evidence_hash: str | None = Field(default=None, description="digest of the evidence submitted")
    resolve_by: str | None = Field(default=None, description="last day to resolve it (AH art. 22: 30 days; GD "
                                   "art. 11: 10 wd); None = no limit")
    status: str = "pending"  # pending, dismissed, upheld, overdue
    filed_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None


class Checkpoint(SQLModel, table=True):
    """An authority's signature over a block hash (TJIFA §7.1.4 nodes on a dev chain; QBFT seals on Besu)."""

    __tablename__ = "checkpoint"
    __table_args__ = (UniqueConstraint("deployment", "block_number", "signer"),)

    id: int | None = Field(default=None, primary_key=True)
    deployment: str = Field(index=True)
    block_number: int = Field(index=True)
    block_hash: str
    signer: str
    signature: str
    signed_at: datetime = Field(default_factory=utcnow)


class TimeStampToken(SQLModel, table=True):
    """An RFC 3161 time-stamp token (可信时间戳) the time service obtained from the TSA: over a checkpoint's text
    (``subject`` "checkpoint", ``ref`` its block number) or over a SHA-256 digest (``subject`` "digest", ``ref``
    the digest). ``token`` is the TSA's whole ``TimeStampResp`` in DER, as bundles carry it."""

    __tablename__ = "time_stamp_token"
    __table_args__ = (UniqueConstraint("deployment", "subject", "ref"),)

    id: int | None = Field(default=None, primary_key=True)
    deployment: str = Field(index=True)
    subject: str = Field(description="checkpoint or digest")
    ref: str = Field(description="the block number (checkpoint) or the 0x digest")
    imprint: str = Field(description="SHA-256 message imprint the token covers (0x hex)")
    tsa_url: str
    token: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    gen_time: datetime
    created_at: datetime = Field(default_factory=utcnow)


class ChainIntent(SQLModel, table=True):
    """The journal of every transaction the ledger sends (outbox, REGISTRATION_RULES §6.4): the signed
    transaction is stored — with what it is for — before it is sent, so a crash, a stuck nonce or a chain
    rollback can be repaired from here: re-sent, re-signed with a fresh nonce, or marked failed with a reason.
    ``state``: pending (stored, maybe sent), mined (receipt seen: block number and hash recorded), failed."""

    __tablename__ = "chain_intent"
    __table_args__ = (UniqueConstraint("deployment", "sender", "nonce"),)

    id: int | None = Field(default=None, primary_key=True)
    deployment: str = Field(index=True)
    purpose: str = Field(description="what the call is, e.g. EvidenceRegistry.anchorBatch")
    ref: str = Field(default="", index=True, description="what it is for: a batch id, an application id ...")
    sender: str = Field(index=True)
    nonce: int
    to: str | None = None
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    gas: int
    raw_tx: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    tx_hash: str = Field(index=True)
    state: str = Field(default="pending", index=True)
    status: int | None = Field(default=None, description="receipt status: 1 success, 0 reverted")
    block_number: int | None = Field(default=None, index=True)
    block_hash: str | None = None
    attempts: int = 1
    error: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ChainIntentEvent(SQLModel, table=True):
    """What happened to an intent after it was stored: re-sent, re-signed with a fresh nonce, rolled back by
    the chain and re-anchored, failed — the operator's record of every repair."""

    __tablename__ = "chain_intent_event"

    id: int | None = Field(default=None, primary_key=True)
    intent_id: int = Field(foreign_key="chain_intent.id", index=True)
    action: str
    detail: str = ""
    at: datetime = Field(default_factory=utcnow)


class NonceCounter(SQLModel, table=True):
    """The next transaction nonce of one account on one deployment: nonces have one owner, the database, so two
    processes relaying for the same account can never take the same nonce."""

    __tablename__ = "nonce_counter"

    deployment: str = Field(primary_key=True)
    address: str = Field(primary_key=True)
    next_nonce: int


class IdempotentRequest(SQLModel, table=True):
    """An anchor request's ``Idempotency-Key``: a retry with the same key gets the first request's answer."""

    __tablename__ = "idempotent_request"

    account: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    fingerprint: str = Field(description="SHA-256 of the request it was first used for")
    digest: str
    hash_algorithm: int
    mode: str
    created_at: datetime = Field(default_factory=utcnow)


class RegistryAct(SQLModel, table=True):
    """An act of the registry on a unit outside the filing workflow, with the rule it applies: what time made due
    (an objection registration lapsed, SZ art. 20; an expiry, TJIFA §8.3.3; a cancellation after expiry, GZ art. 35;
    a notice that ended; a renewal reminder — issue #10 §4, actor "system") and what an authority did (an objection
    registered, its court filing recorded, its disposal; a judicial order recorded — issue #11). One row per act:
    the chain's acts are recorded by the outbox when their transaction is mined, in the same database transaction."""

    __tablename__ = "registry_act"
    __table_args__ = (UniqueConstraint("deployment", "kind", "subject", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    deployment: str = Field(index=True)
    kind: str = Field(description="objection_lapse, expiry, expiry_cancellation, notice_end, renewal_reminder, "
                      "objection, objection_litigation, objection_resolution, judicial_order")
    subject: str = Field(description="the objection id, unit id or application id it concerns")
    unit_id: str | None = Field(default=None, index=True)
    registration_number: str | None = None
    rule: str = Field(description="the rule key it applies (REGISTRATION_RULES)")
    due_at: int = Field(sa_column=Column(BigInteger, nullable=False), description="when it fell due or was "
                        "done (unix s): a duty is done once per due time")
    actor: str = Field(default="system", description="the account that acted, or system for a duty")
    document_hash: str | None = Field(default=None, description="the governing document's SHA-256, if any")
    done_at: datetime = Field(default_factory=utcnow)
    detail: str
    tx_hash: str | None = None


class ConsentRequest(SQLModel, table=True):
    """A consent a party signs in its own wallet (issue #11 §3): the EIP-712 message the registration needs from
    it, and — once posted — its signature, checked to be the party's. Kept after registration: the record that
    the holder (transferee, pledgee) consented to exactly this filing (TJIFA App. 2)."""

    __tablename__ = "consent_request"
    __table_args__ = (UniqueConstraint("application_id", "signer", "action", "params_hash", "nonce"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: str = Field(foreign_key="application.id", index=True)
    signer: str = Field(description="the party's address")
    signer_name: str = Field(description="the party's account name here")
    unit_id: str
    action: int
    params_hash: str
    nonce: int
    deadline: int = Field(sa_column=Column(BigInteger, nullable=False))
    typed_data: str = Field(description="the EIP-712 typed data a wallet shows and signs (JSON)")
    signature: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    signed_at: datetime | None = None


class AccessLogEntry(SQLModel, table=True):
    """One read of non-public registry data (issue #11 §4; REGISTRATION_RULES §6.2): who, when, what, and the
    legal basis — hash-chained (each entry's hash covers the previous one's), its head anchored on chain from time
    to time, so a changed, removed or inserted row shows. Append-only: nothing updates or deletes it."""

    __tablename__ = "access_log"
    __table_args__ = (UniqueConstraint("deployment", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    deployment: str = Field(index=True)
    seq: int = Field(description="1, 2, 3 … per deployment")
    at: str = Field(description="when (ISO 8601, UTC): hashed as written")
    principal: str = Field(description="the account that read, or the operator at the command line")
    address: str | None = None
    role: str = Field(description="in which capacity: holder, registrar, exchange, bank, judicial …")
    action: str = Field(description="what was read, e.g. registration, rights_page, application")
    subject: str = Field(description="the registration number or application id read")
    legal_basis: str = Field(description="the rule or document that allows the read")
    legal_document_hash: str | None = Field(default=None, description="SHA-256 of the judicial document, when a "
                                            "court, procuratorate or police reads with one")
    prev_hash: str
    entry_hash: str = Field(index=True)


class AccessLogHead(SQLModel, table=True):
    """The access log's newest entry per deployment: appends lock this row, so the chain never forks."""

    __tablename__ = "access_log_head"

    deployment: str = Field(primary_key=True)
    seq: int = 0
    head_hash: str


class AccessLogAnchor(SQLModel, table=True):
    """A head of the access log anchored on EvidenceRegistry (kind audit_log): every entry up to ``seq`` is fixed."""

    __tablename__ = "access_log_anchor"

    id: int | None = Field(default=None, primary_key=True)
    deployment: str = Field(index=True)
    seq: int
    head_hash: str
    tx_hash: str
    block_number: int = Field(sa_column=Column(BigInteger, nullable=False))
    anchored_at: datetime = Field(default_factory=utcnow)
