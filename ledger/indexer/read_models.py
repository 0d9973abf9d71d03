"""Read models: the chain's events as SQL tables that every query is served from (issue #10).

The chain is the source of truth; these tables are derived from its events and can be dropped and rebuilt at
any time (``ledger index rebuild``). Two kinds of table:

- *append-only* rows, one per event, for the bulk of evidence (anchors, batch roots, endorsements) and for the
  registry's raw events (``ix_event``); a chain reorganisation deletes the rows above the fork;
- *derived* rows per registration unit (the unit, its three rights' holders, every certificate version, the
  rights page, objections, the registration history), recomputed from that unit's events whenever one of them
  arrives or is rolled back — so a replay, a resumed crash and a reorg all reach the same state.

Units follow REGISTRATION_RULES §3.8; the history keeps every transition with its governing document (§4.4),
retained like everything else (§6.4: tombstones, never deletion).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from ledger.models import utcnow


class IxCursor(SQLModel, table=True):
    """Where indexing of one deployment stands: the last block fully applied (one row per deployment)."""

    __tablename__ = "ix_cursor"

    deployment: str = Field(primary_key=True)
    block_number: int = Field(sa_column=Column(BigInteger, nullable=False))
    block_hash: str
    chain_id: int
    updated_at: datetime = Field(default_factory=utcnow)


class IxBlock(SQLModel, table=True):
    """Hashes of recently applied blocks: a chain that is not final may replace them (reorg detection)."""

    __tablename__ = "ix_block"

    deployment: str = Field(primary_key=True)
    number: int = Field(sa_column=Column(BigInteger, primary_key=True))
    hash: str
    time: int


class IxAnchor(SQLModel, table=True):
    """A digest anchored singly (EvidenceAnchored)."""

    __tablename__ = "ix_anchor"

    deployment: str = Field(primary_key=True)
    digest: str = Field(primary_key=True)
    hash_algorithm: int
    kind: int
    ref: str
    submitter: str
    block_number: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    block_time: int
    tx_hash: str
    log_index: int


class IxBatch(SQLModel, table=True):
    """A batch root anchored (BatchAnchored)."""

    __tablename__ = "ix_batch"

    deployment: str = Field(primary_key=True)
    root: str = Field(primary_key=True)
    submitter: str
    leaf_count: int
    batch_ref: str
    block_number: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    block_time: int
    tx_hash: str
    log_index: int


class IxEndorsement(SQLModel, table=True):
    """An authority node's endorsement of an anchor or a batch root (AnchorEndorsed, TJIFA §7.1.4)."""

    __tablename__ = "ix_endorsement"

    deployment: str = Field(primary_key=True)
    anchor_key: str = Field(primary_key=True)
    endorser: str = Field(primary_key=True)
    endorser_kind: int
    statement: str
    block_number: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    block_time: int
    tx_hash: str


class IxEvent(SQLModel, table=True):
    """Every other event of the registries, decoded (the registration history and what the units derive from)."""

    __tablename__ = "ix_event"
    __table_args__ = (Index("ix_event_unit", "deployment", "unit_id"),)

    deployment: str = Field(primary_key=True)
    block_number: int = Field(sa_column=Column(BigInteger, primary_key=True))
    log_index: int = Field(primary_key=True)
    contract: str
    name: str = Field(index=True)
    unit_id: str | None = None
    args: str = Field(description="the event's arguments, canonical JSON (bytes as 0x-hex)")
    block_time: int
    tx_hash: str


class IxUnit(SQLModel, table=True):
    """A registration unit as its events leave it (REGISTRATION_RULES §3.8). ``status`` is as stored on chain;
    expiry by time is computed when read (``valid_until``)."""

    __tablename__ = "ix_unit"
    __table_args__ = (Index("ix_unit_number", "deployment", "registration_number", unique=True),
                      Index("ix_unit_holder", "deployment", "holder"))

    deployment: str = Field(primary_key=True)
    unit_id: str = Field(primary_key=True)
    registration_number: str
    holder: str
    object_type: int
    profile_id: int
    rights_mask: int
    status: int
    cancellation_ground: int = 0
    valid_until: int
    certificate_version: int
    certificate_hash: str
    open_objections: int
    active_entries: int
    active_pledges: int
    registered_block: int = Field(sa_column=Column(BigInteger, nullable=False))
    registered_time: int
    updated_block: int = Field(sa_column=Column(BigInteger, nullable=False))


class IxRight(SQLModel, table=True):
    """The holder of one of a unit's three rights (三权分置, SZ art. 7)."""

    __tablename__ = "ix_right"
    __table_args__ = (Index("ix_right_holder", "deployment", "holder"),)

    deployment: str = Field(primary_key=True)
    unit_id: str = Field(primary_key=True)
    right: int = Field(primary_key=True, description="0 holding, 1 processing-use, 2 product-operation")
    holder: str


class IxCertificate(SQLModel, table=True):
    """Every certificate version of a unit: the current one, and those superseded (TJIFA §8.3.1)."""

    __tablename__ = "ix_certificate"
    __table_args__ = (Index("ix_certificate_unit", "deployment", "unit_id"),)

    deployment: str = Field(primary_key=True)
    certificate_hash: str = Field(primary_key=True)
    unit_id: str
    version: int
    superseded_by: str | None = None
    issued_block: int = Field(sa_column=Column(BigInteger, nullable=False))
    issued_time: int
    tx_hash: str


class IxRightsEntry(SQLModel, table=True):
    """An entry of a unit's additional-rights page (他项权益页, TJIFA §8.2.2): a pledge or a licence."""

    __tablename__ = "ix_rights_entry"
    __table_args__ = (Index("ix_rights_entry_unit", "deployment", "unit_id"),
                      Index("ix_rights_entry_counterparty", "deployment", "counterparty"))

    deployment: str = Field(primary_key=True)
    entry_id: int = Field(primary_key=True)
    unit_id: str
    kind: str  # pledge, licence
    counterparty: str
    rights_mask: int
    valid_until: int
    active: bool
    contract_hash: str
    added_block: int = Field(sa_column=Column(BigInteger, nullable=False))
    added_time: int
    added_tx: str
    released_block: int | None = Field(default=None, sa_column=Column(BigInteger))
    released_tx: str | None = None
    release_document: str | None = None


class IxObjection(SQLModel, table=True):
    """An objection registration (异议登记, SZ art. 20) with its deadline and status."""

    __tablename__ = "ix_objection"
    __table_args__ = (Index("ix_objection_unit", "deployment", "unit_id"),)

    deployment: str = Field(primary_key=True)
    objection_id: str = Field(primary_key=True)
    unit_id: str
    objector: str
    status: int
    deadline: int
    document_hash: str
    filed_block: int = Field(sa_column=Column(BigInteger, nullable=False))
    filed_time: int
    updated_block: int = Field(sa_column=Column(BigInteger, nullable=False))


class IxHistory(SQLModel, table=True):
    """The registration history (RegistrationRecorded): every transition with its governing document (§4.4)."""

    __tablename__ = "ix_history"
    __table_args__ = (Index("ix_history_unit", "deployment", "unit_id"),)

    deployment: str = Field(primary_key=True)
    block_number: int = Field(sa_column=Column(BigInteger, primary_key=True))
    log_index: int = Field(primary_key=True)
    unit_id: str
    action: int
    document_hash: str
    actor: str
    block_time: int
    tx_hash: str


#: Tables derived per unit (rebuilt from ix_event), and the append-only ones (deleted above a fork).
UNIT_TABLES: tuple[type[SQLModel], ...] = (IxUnit, IxRight, IxCertificate, IxRightsEntry, IxObjection, IxHistory)
BLOCK_TABLES: tuple[type[SQLModel], ...] = (IxAnchor, IxBatch, IxEndorsement, IxEvent)
ALL_TABLES: tuple[type[SQLModel], ...] = (IxCursor, IxBlock, *BLOCK_TABLES, *UNIT_TABLES)
