"""Registration look-ups (登记查询与核验), served from the indexer's read models (issue #10 §3).

One view of a registration unit for every shell — ``ledger registry show``, ``GET /registrations/...``, the
pages, the rights page in certificate PDFs — so the unit, its three rights, its rights page (他项权益页), its
objections, its certificate versions and its history are written once (issue #11). Reads never write: they
read the index and, for freshness only, the chain's head block (one ``eth_getBlockByNumber``).

A registration the index has not reached is never a silent miss: the answer says how many blocks the index
is behind (``IndexFreshness``), and a "not found" while it lags says so. The status is the *effective* one,
as the contract computes it (``_effectiveStatus``: an active unit past its validity is expired), at the later
of the wall clock and the chain's head time (a development chain may have been moved forward).

Rules: REGISTRATION_RULES §3.8 (statuses), §8.1 (look-ups by number), BJ-Op §(六) and DL art. 27 (核验).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from eth_utils.address import to_checksum_address
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from ledger.context import Ledger
from ledger.errors import ChainUnavailableError, LedgerValueError, NotFoundError, TransactionError
from ledger.hashing import looks_like_digest, parse_digest, to_hex
from ledger.indexer.read_models import (
    IxBlock,
    IxCertificate,
    IxCursor,
    IxHistory,
    IxObjection,
    IxRight,
    IxRightsEntry,
    IxUnit,
)
from ledger.lifecycle import Action, CancellationGround, ObjectionStatus, Right, UnitStatus, effective_status
from ledger.models import RegistryAct, StoredDocument
from ledger.numbering import unit_id, validate_number
from ledger.services.access import Grant, Viewer, grant, record_read, refusal
from ledger.workdays import CHINA, last_day

T = TypeVar("T")
#: The three rights by their API names (三权分置, SZ art. 7), in bit order.
RIGHT_KEYS = {Right.HOLDING: "holding", Right.PROCESSING_USE: "processing_use",
              Right.PRODUCT_OPERATION: "product_operation"}
#: How long a read waits for this process's follower to index the chain's head (read-your-writes).
SETTLE_SECONDS = 2.0


class Page(BaseModel, Generic[T]):
    """A page of a list: the rows asked for and how many there are in all."""

    data: list[T]
    count: int


class IndexFreshness(BaseModel):
    """How far the index has read the chain."""

    indexed_block: int | None = Field(description="the last block the index has applied")
    chain_head: int | None = Field(description="the chain's head block, when the node answered")
    lag_blocks: int | None = Field(description="blocks the index is behind the chain (0: up to date)")
    as_of_time: int = Field(description="the time statuses are computed at (unix seconds)")


class RightsEntryPublic(BaseModel):
    """An entry of the additional-rights page (他项权益页, TJIFA §8.2.2): a pledge or a licence."""

    entry_id: int
    kind: str = Field(description="pledge or licence")
    rights: list[str]
    rights_mask: int
    valid_until: str | None = Field(description="the term's last day (ends 24:00 China time)")
    status: str = Field(description="active or released")
    added_block: int
    added_at: str
    released_block: int | None
    counterparty: str | None = Field(default=None, description="the pledgee or licensee (non-public)")
    contract_hash: str | None = Field(default=None, description="SHA-256 of the contract (non-public)")
    added_tx: str | None = None
    released_tx: str | None = None
    release_document: str | None = None


class ObjectionPublic(BaseModel):
    """An objection registration (异议登记, SZ art. 20)."""

    objection_id: str
    objector: str
    status: str = Field(description="pending, litigating, lapsed, upheld or dismissed")
    deadline: str | None = Field(description="the objector's filing deadline, if any (24:00 China time)")
    evidence_hash: str
    filed_block: int
    filed_at: str


class CertificatePublic(BaseModel):
    """One version of a unit's certificate (确权证书): the current one, or superseded (TJIFA §8.3.1)."""

    certificate_hash: str
    version: int
    status: str = Field(description="current or superseded")
    superseded_by: str | None
    issued_block: int
    issued_at: str
    tx_hash: str
    stored: bool = Field(description="whether this registry holds the certificate document")


class HistoryEventPublic(BaseModel):
    """A recorded transition of a unit with its governing document (REGISTRATION_RULES §4.4), or a duty the
    registry did when time made it due (a lapse, an expiry, a reminder) with the rule key it applied."""

    source: str = Field(description="chain (a RegistrationRecorded event) or registry (an act of the registry: a "
                        "duty time made due, an objection or order recorded)")
    action: str
    at: str
    block_number: int | None = None
    log_index: int | None = None
    document_hash: str | None = None
    actor: str | None = None
    tx_hash: str | None = None
    rule: str | None = Field(default=None, description="the rule key a duty applied")
    detail: str | None = None


class RegistrationSummary(BaseModel):
    """A registration unit in a list."""

    registration_number: str
    unit_id: str
    status: str
    jurisdiction: str | None
    object_type: int
    holder_name: str | None = Field(description="the holder's legal name, as its certificate prints it")
    asset_name: str | None = Field(description="the data resource's or product's name")
    certificate_version: int
    valid_until: str | None
    holder: str | None = Field(default=None, description="the holder's account (non-public)")


class RegistrationPublic(RegistrationSummary):
    """A registration unit as the chain holds it, for a check before a trade or a pledge. ``disclosure`` says
    which view it is: "public" (publishable information only, TJIFA §8.1.1) or "full" (the holder, the registry,
    an exchange, a bank, a court with its document: REGISTRATION_RULES §6.2 — and the read is in the access log)."""

    disclosure: str = Field(description="public or full")
    stored_status: str = Field(description="the status stored on chain (an expiry by time shows in status)")
    cancellation_ground: str | None
    certificate_hash: str
    valid_until_day: str | None = Field(description="the validity's last day, 24:00 China time")
    open_objections: int = Field(description="objections standing (an encumbrance anyone may know of)")
    active_rights_entries: int
    active_pledges: int
    registered_block: int
    registered_at: str
    index: IndexFreshness
    right_holders: dict[str, str] | None = Field(default=None, description="who holds each right (non-public)")
    rights_page: list[RightsEntryPublic] = Field(default_factory=list, description="pledges and licences; their "
                                                 "parties and contracts non-public")
    objections: list[ObjectionPublic] | None = Field(default=None, description="non-public")
    certificate: dict[str, Any] | None = Field(default=None, description="the certificate document (non-public)")


# --- freshness -------------------------------------------------------------------------------------------------


def _indexed(ledger: Ledger) -> tuple[int | None, int]:
    key = ledger.deployment.deployment_id
    with Session(ledger.engine) as session:
        cursor = session.get(IxCursor, key)
        if cursor is None:
            return None, 0
        block = session.get(IxBlock, (key, cursor.block_number))
        return cursor.block_number, block.time if block else 0


def freshness(ledger: Ledger, settle: float = SETTLE_SECONDS) -> IndexFreshness:
    """Where the index stands against the chain's head (one call to the node). When it is behind and a follower
    keeps it moving (``ledger serve``: this process's, or the leading worker's — the cursor is shared, so a read
    on one worker sees a write another answered), it waits up to ``settle`` seconds for the cursor to reach the
    head, so a read right after a write sees it; otherwise the answer says how far behind it is. A node that does not
    answer leaves the head unknown — the index still answers."""
    indexed, indexed_time = _indexed(ledger)
    try:
        latest = ledger.client.block("latest")
        head: int | None = int(latest["number"], 16)
        head_time = int(latest["timestamp"], 16)
    except (ChainUnavailableError, TransactionError):  # no answer, or an RPC error
        head, head_time = None, 0
    indexer = ledger.__dict__.get("indexer")
    if head is not None and (indexed is None or indexed < head) and settle and indexer is not None \
            and indexer.following:
        deadline = time.monotonic() + settle
        while (indexed is None or indexed < head) and time.monotonic() < deadline:
            time.sleep(0.02)
            indexed, indexed_time = _indexed(ledger)
    start = min(r.deploy_block for r in ledger.deployment.contracts.values())
    lag = None if head is None else max(0, head - (indexed if indexed is not None else start - 1))
    return IndexFreshness(indexed_block=indexed, chain_head=head, lag_blocks=lag,
                          as_of_time=max(int(time.time()), indexed_time, head_time))


def _behind(fresh: IndexFreshness) -> str:
    if fresh.lag_blocks:
        return (f"; the index is {fresh.lag_blocks} block(s) behind the chain (at block {fresh.indexed_block} of "
                f"{fresh.chain_head}), so a recent registration may not be indexed yet")
    if fresh.chain_head is None:
        return f"; the chain did not answer, the index is at block {fresh.indexed_block}"
    return ""


# --- views -----------------------------------------------------------------------------------------------------


def _when(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, CHINA).isoformat()


def _day(seconds: int) -> str | None:
    return f"{last_day(seconds).isoformat()} 24:00 China time" if seconds else None


def _rights(mask: int) -> list[str]:
    return [name for right, name in RIGHT_KEYS.items() if mask & right]


def _jurisdiction(ledger: Ledger, profile_id: int) -> str | None:
    return next((p.code for p in ledger.profiles.values() if p.id == profile_id), None)


def _entry(row: IxRightsEntry, full: bool = True) -> RightsEntryPublic:
    """An entry; for the public, that the unit is encumbered and how (TJIFA §8.2.2 annotates it on the certificate),
    not with whom or under which contract."""
    entry = RightsEntryPublic(
        entry_id=row.entry_id, kind=row.kind, rights=_rights(row.rights_mask), rights_mask=row.rights_mask,
        valid_until=last_day(row.valid_until).isoformat() if row.valid_until else None,
        status="active" if row.active else "released", added_block=row.added_block, added_at=_when(row.added_time),
        released_block=row.released_block)
    if full:
        entry.counterparty, entry.contract_hash, entry.added_tx = row.counterparty, row.contract_hash, row.added_tx
        entry.released_tx, entry.release_document = row.released_tx, row.release_document
    return entry


def _objection(row: IxObjection) -> ObjectionPublic:
    return ObjectionPublic(objection_id=row.objection_id, objector=row.objector,
                           status=ObjectionStatus(row.status).name.lower(), deadline=_day(row.deadline),
                           evidence_hash=row.document_hash, filed_block=row.filed_block, filed_at=_when(row.filed_time))


def _certificate(session: Session, unit: IxUnit) -> dict[str, Any] | None:
    stored = session.get(StoredDocument, unit.certificate_hash)
    return json.loads(stored.body) if stored is not None and stored.kind == "certificate" else None


def _names(certificate: dict[str, Any] | None) -> dict[str, str | None]:
    """The publishable names a certificate prints: the holder's legal name and the asset's name."""
    if certificate is None:
        return {"holder_name": None, "asset_name": None}
    holder = certificate.get("holder") or {}
    asset = certificate.get("asset") or {}
    return {"holder_name": holder.get("legal_name") or holder.get("name"), "asset_name": asset.get("name")}


def _summary(ledger: Ledger, session: Session, unit: IxUnit, now: int, full: bool) -> dict[str, Any]:
    return {"registration_number": unit.registration_number, "unit_id": unit.unit_id,
            "status": effective_status(UnitStatus(unit.status), unit.valid_until, now).name.lower(),
            "jurisdiction": _jurisdiction(ledger, unit.profile_id), "object_type": unit.object_type,
            **_names(_certificate(session, unit)), "holder": unit.holder if full else None,
            "certificate_version": unit.certificate_version,
            "valid_until": _when(unit.valid_until) if unit.valid_until else None}


def _holders(session: Session, deployment: str, unit: IxUnit) -> set[str]:
    rights = session.exec(select(IxRight.holder).where(IxRight.deployment == deployment,
                                                       IxRight.unit_id == unit.unit_id)).all()
    return {unit.holder, *rights}


def _granted(ledger: Ledger, session: Session, viewer: Viewer, unit: IxUnit, action: str) -> bool:
    """Whether ``viewer`` sees the unit's non-public records; a permitted read is written to the access log."""
    allowed = grant(viewer, _holders(session, ledger.deployment.deployment_id, unit))
    if allowed is None:
        return False
    record_read(ledger, viewer, allowed, action, unit.registration_number)
    return True


def read_grant(ledger: Ledger, viewer: Viewer, target: str, action: str) -> Grant | None:
    """Whether ``viewer`` may read the non-public records of unit ``target`` (REGISTRATION_RULES §6.2), and on what
    basis; a permitted read is written to the access log as ``action``. None: the public view only."""
    with Session(ledger.engine) as session:
        unit = _unit_row(ledger, session, target)
        allowed = grant(viewer, _holders(session, ledger.deployment.deployment_id, unit))
        if allowed is not None:
            record_read(ledger, viewer, allowed, action, unit.registration_number)
        return allowed


def behind(ledger: Ledger) -> str:
    """What to add to a "not found" while the index lags the chain (empty when it is up to date)."""
    return _behind(freshness(ledger))


def unit_key(target: str) -> str:
    """The unit id (0x-hex) of a registration number or of a unit id given as such."""
    if looks_like_digest(target):
        return to_hex(parse_digest(target))
    return to_hex(unit_id(validate_number(target)))


def _unit_row(ledger: Ledger, session: Session, target: str) -> IxUnit:
    key = unit_key(target)
    row = session.get(IxUnit, (ledger.deployment.deployment_id, key))
    if row is None:
        raise NotFoundError(f"no registration unit {target}{_behind(freshness(ledger))}")
    return row


def registration(ledger: Ledger, target: str, *, viewer: Viewer) -> RegistrationPublic:
    """A registration unit by its number (or unit id): its status, validity, encumbrances and certificate for
    everyone; the holder of each right, the rights page, the objections and the certificate document too for
    whom REGISTRATION_RULES §6.2 lets see them (the read is logged)."""
    fresh = freshness(ledger)
    key = ledger.deployment.deployment_id
    with Session(ledger.engine) as session:
        unit = _unit_row(ledger, session, target)
        full = _granted(ledger, session, viewer, unit, "registration")
        rights = session.exec(select(IxRight).where(IxRight.deployment == key, IxRight.unit_id == unit.unit_id)
                              .order_by(col(IxRight.right))).all()
        entries = session.exec(select(IxRightsEntry).where(IxRightsEntry.deployment == key,
                                                           IxRightsEntry.unit_id == unit.unit_id)
                               .order_by(col(IxRightsEntry.entry_id))).all()
        objections = session.exec(select(IxObjection).where(IxObjection.deployment == key,
                                                            IxObjection.unit_id == unit.unit_id)
                                  .order_by(col(IxObjection.filed_block))).all()
        view = RegistrationPublic(
            **_summary(ledger, session, unit, fresh.as_of_time, full), disclosure="full" if full else "public",
            stored_status=UnitStatus(unit.status).name.lower(),
            cancellation_ground=CancellationGround(unit.cancellation_ground).name.lower()
            if unit.cancellation_ground else None,
            certificate_hash=unit.certificate_hash,
            valid_until_day=_day(unit.valid_until), open_objections=unit.open_objections,
            active_rights_entries=unit.active_entries, active_pledges=unit.active_pledges,
            registered_block=unit.registered_block, registered_at=_when(unit.registered_time), index=fresh,
            rights_page=[_entry(e, full) for e in entries])
        if full:
            view.right_holders = {RIGHT_KEYS[Right(1 << r.right)]: r.holder for r in rights}
            view.objections = [_objection(o) for o in objections]
            view.certificate = _certificate(session, unit)
        return view


def rights_page(ledger: Ledger, target: str, *, viewer: Viewer | None) -> list[RightsEntryPublic]:
    """Every entry of a unit's rights page, released ones kept, oldest first (TJIFA §8.2.2); non-public
    (``viewer`` None: the registry's own documents, e.g. the page annexed to a certificate); for the public
    without its parties and contracts."""
    key = ledger.deployment.deployment_id
    with Session(ledger.engine) as session:
        unit = _unit_row(ledger, session, target)
        full = viewer is None or _granted(ledger, session, viewer, unit, "rights_page")
        rows = session.exec(select(IxRightsEntry).where(IxRightsEntry.deployment == key,
                                                        IxRightsEntry.unit_id == unit.unit_id)
                            .order_by(col(IxRightsEntry.entry_id))).all()
        return [_entry(e, full) for e in rows]


def certificates(ledger: Ledger, target: str) -> list[CertificatePublic]:
    """Every certificate version of a unit, the first first; the last one is current."""
    key = ledger.deployment.deployment_id
    with Session(ledger.engine) as session:
        unit = _unit_row(ledger, session, target)
        rows = session.exec(select(IxCertificate).where(IxCertificate.deployment == key,
                                                        IxCertificate.unit_id == unit.unit_id)
                            .order_by(col(IxCertificate.version))).all()
        held = set(session.exec(select(StoredDocument.sha256).where(
            col(StoredDocument.sha256).in_([r.certificate_hash for r in rows]))).all())
        return [CertificatePublic(certificate_hash=r.certificate_hash, version=r.version,
                                  status="superseded" if r.superseded_by else "current", superseded_by=r.superseded_by,
                                  issued_block=r.issued_block, issued_at=_when(r.issued_time), tx_hash=r.tx_hash,
                                  stored=r.certificate_hash in held) for r in rows]


def history(ledger: Ledger, target: str, *, viewer: Viewer) -> list[HistoryEventPublic]:
    """The unit's recorded transitions and the registry's acts, oldest first: what happened and when for everyone
    (registrations are announced); who acted, on which document, for those who may read non-public records."""
    key = ledger.deployment.deployment_id
    with Session(ledger.engine) as session:
        unit = _unit_row(ledger, session, target)
        full = _granted(ledger, session, viewer, unit, "history")
        rows = session.exec(select(IxHistory).where(IxHistory.deployment == key, IxHistory.unit_id == unit.unit_id)
                            .order_by(col(IxHistory.block_number), col(IxHistory.log_index))).all()
        acts = session.exec(select(RegistryAct).where(RegistryAct.deployment == key,
                                                       RegistryAct.unit_id == unit.unit_id)
                              .order_by(col(RegistryAct.id))).all()
        events = [(r.block_time, HistoryEventPublic(
            source="chain", block_number=r.block_number, log_index=r.log_index, action=Action(r.action).name.lower(),
            document_hash=r.document_hash, actor=r.actor, at=_when(r.block_time), tx_hash=r.tx_hash)) for r in rows]
        for d in acts:
            done = int(d.done_at.replace(tzinfo=d.done_at.tzinfo or UTC).timestamp())
            events.append((done, HistoryEventPublic(source="registry", action=d.kind, at=_when(done), actor=d.actor,
                                                    document_hash=d.document_hash, tx_hash=d.tx_hash, rule=d.rule,
                                                    detail=d.detail)))
        ordered = [event for _, event in sorted(events, key=lambda pair: pair[0])]
        if not full:
            for event in ordered:
                event.document_hash = event.actor = event.detail = None
        return ordered


def by_holder(ledger: Ledger, holder: str, offset: int = 0, limit: int = 50, *,
              viewer: Viewer) -> Page[RegistrationSummary]:
    """The units in which ``holder`` holds a right (any of the three), newest first: a holder's own account book
    (TJIFA §6.2), for itself, the registry, an exchange, a bank or a court with its document (logged)."""
    if offset < 0 or not 1 <= limit <= 500:
        raise LedgerValueError("offset must be >= 0 and limit between 1 and 500")
    try:
        address = to_checksum_address(holder)
    except ValueError:
        raise LedgerValueError(f"{holder!r} is not an account address") from None
    allowed = grant(viewer, {address})
    if allowed is None:
        raise refusal(viewer, "a holder's registrations are not public: the holder itself, the registry, an "
                      "exchange, a bank, or a court with its document may list them (REGISTRATION_RULES §6.2)")
    record_read(ledger, viewer, allowed, "registrations_by_holder", address)
    key = ledger.deployment.deployment_id
    now = freshness(ledger).as_of_time
    with Session(ledger.engine) as session:
        held = select(IxRight.unit_id).where(IxRight.deployment == key, IxRight.holder == address).distinct()
        count = session.exec(select(func.count()).select_from(held.subquery())).one()
        rows = session.exec(select(IxUnit).where(IxUnit.deployment == key, col(IxUnit.unit_id).in_(held))
                            .order_by(col(IxUnit.registered_block).desc(), col(IxUnit.unit_id))
                            .offset(offset).limit(limit)).all()
        return Page[RegistrationSummary](data=[RegistrationSummary(**_summary(ledger, session, r, now, True))
                                               for r in rows], count=int(count))
