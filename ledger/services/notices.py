"""The public notice board (公示) and the objections anyone may raise during a notice (异议).

A filing that its profile gives public notice waits in ``in_public_notice`` (or ``objection_pending`` while an
objection is decided) until its period ends (REGISTRATION_RULES §3.5: 1 wd GD simple, 3 wd TJIFA and GD, 7 days DL,
10 wd AH, 30 wd GZ). The board lists what is in notice now with the days each notice still runs — the countdown the
seeds expect (§8 item 2; GD art. 11, DL art. 23, GZ art. 19) — and only publishable information (TJIFA §8.1.1:
kind, jurisdiction, asset, applicant; never accounts, contacts or documents).

Anyone may object during notice (GD art. 11: any natural or legal person, with true and necessary evidence; DL
art. 23; GZ art. 19). ``file_objection`` takes an objection from the public form: the evidence file is kept by
the registry (it must examine it; mode 0600 under the ledger home) and its SHA-256 anchored on EvidenceRegistry
by the platform's evidence provider, then the objection goes through the workflow (history event, the profile's
resolution deadline). The objector gets a receipt naming the evidence's digest and the anchoring transaction.
An objector without an account is recorded by the registry account that received the form; who objected is
the name and ID number given (issue #11 brings the public's own credentials).

Reads never write: the board and a notice read the workflow's tables; days are counted from the workflow's
date (``LEDGER_TODAY`` in demos and tests).
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from ledger.context import Ledger
from ledger.errors import AlreadyAnchoredError, LedgerValueError, NotFoundError, WorkflowError
from ledger.evidence import AnchorReceipt, EvidenceKind
from ledger.files import make_private_dir
from ledger.hashing import HashAlgorithm, new_hasher, to_hex
from ledger.indexer.read_models import IxUnit
from ledger.models import Application, NoticeObjection, StoredDocument
from ledger.numbering import unit_id
from ledger.profiles import ObjectType
from ledger.services.registrations import Page
from ledger.workdays import Period, days_left, end_of_day
from ledger.workflow import State

#: The states of an application whose notice is on the board.
IN_NOTICE = (State.IN_PUBLIC_NOTICE.value, State.OBJECTION_PENDING.value)
#: Longest text a public form field takes (as the API's NoticeObjectionCreate).
MAX_NAME = 200
MAX_ID = 64
MAX_GROUNDS = 2000
CHUNK = 1 << 20


class NoticePublic(BaseModel):
    """A filing in public notice, as the board shows it (publishable fields only, TJIFA §8.1.1)."""

    application_id: str
    reference: str = Field(description="the first 12 digits of the application id, as printed")
    kind: str = Field(description="initial, change, transfer … (the registration kind)")
    jurisdiction: str
    registration_number: str | None = Field(description="the unit, for a filing on a registered unit")
    asset_name: str | None
    applicant_name: str | None = Field(description="the applicant's legal name, as declared")
    object_type: str | None
    changes: dict[str, Any] | None = Field(description="what a change filing changes on the certificate")
    new_holder_name: str | None = Field(description="a transfer's new holder, as declared")
    notice_start: date = Field(description="the day notice began; the period runs from the next day")
    last_day: date = Field(description="the period's last day; it ends 24:00 China time")
    ends_at: int = Field(description="unix time the period ends (24:00 China time of its last day)")
    length: int
    unit: str = Field(description="working_days or calendar_days")
    days_left: int = Field(description="days of the period still to run, today included (0: ended)")
    provisional: bool = Field(description="counted on a calendar the State Council has not published yet")
    objection_pending: bool
    objections: int = Field(description="objections raised during this notice")
    as_of: date = Field(description="the date the countdown is computed at")


class NoticeBoard(Page[NoticePublic]):
    """A page of the notice board, and the date its countdowns are computed at."""

    as_of: date


class ObjectionReceipt(BaseModel):
    """What an objector gets back (回执): the objection as recorded and where its evidence is anchored."""

    application_id: str
    reference: str
    objection_id: int
    objector_name: str
    filed_on: date
    resolve_by: date | None = Field(description="the day the registry must decide it by, when the rules set one "
                                    "(AH art. 22: 30 days; GD art. 11: 10 wd)")
    evidence_name: str
    evidence_size: int
    evidence_digest: str
    hash_algorithm: str
    evidence_tx: str
    evidence_block: int
    evidence_time: int
    anchored_now: bool = Field(description="False when the same evidence was anchored before (its first anchor)")


# --- the board -------------------------------------------------------------------------------------------------


def _content(payload: dict[str, Any]) -> dict[str, Any]:
    content = payload.get("content")
    return content if isinstance(content, dict) else {}


def _current_certificate(session: Session, ledger: Ledger, number: str) -> dict[str, Any] | None:
    unit = session.get(IxUnit, (ledger.deployment.deployment_id, to_hex(unit_id(number))))
    stored = session.get(StoredDocument, unit.certificate_hash) if unit is not None else None
    return json.loads(stored.body) if stored is not None and stored.kind == "certificate" else None


def _public(ledger: Ledger, session: Session, app: Application, today: date) -> NoticePublic:
    workflow = ledger.workflow
    payload = json.loads(app.payload)
    content = _content(payload)
    asset, holder = content.get("asset") or {}, content.get("holder") or {}
    name, applicant = asset.get("name"), holder.get("legal_name")
    object_type = ObjectType(app.object_type).name.lower() if app.object_type is not None else None
    if app.kind != "initial" and app.registration_number:  # a registered unit: its certificate names it
        current = _current_certificate(session, ledger, app.registration_number) or {}
        name = name or (current.get("asset") or {}).get("name")
        applicant = applicant or (current.get("holder") or {}).get("legal_name")
        object_type = object_type or current.get("object_type")
    assert app.notice_start is not None
    start, end = date.fromisoformat(app.notice_start), workflow.notice_end(app)
    assert end is not None
    length, unit = workflow.notice_length(app)
    with_objections = session.exec(select(NoticeObjection).where(NoticeObjection.application_id == app.id)).all()
    changes = payload.get("changes") if app.kind == "change" else None
    new_holder = (payload.get("new_holder") or {}).get("legal_name") if app.kind == "transfer" else None
    return NoticePublic(
        application_id=app.id, reference=app.id[:12], kind=app.kind, jurisdiction=app.profile,
        registration_number=app.registration_number, asset_name=name, applicant_name=applicant,
        object_type=object_type, changes=changes if isinstance(changes, dict) else None, new_holder_name=new_holder,
        notice_start=start, last_day=end, ends_at=end_of_day(end), length=length, unit=unit,
        days_left=days_left(today, Period(start, end, app.notice_official), unit), provisional=not app.notice_official,
        objection_pending=app.state == State.OBJECTION_PENDING.value, objections=len(with_objections), as_of=today)


def notice_board(ledger: Ledger, offset: int = 0, limit: int = 50, include_ended: bool = False) -> NoticeBoard:
    """The filings in public notice now, the soonest to end first, with the days each still runs. A notice whose
    period has ended waits for the registry's decision and leaves the board (``include_ended`` keeps it)."""
    if offset < 0 or not 1 <= limit <= 500:
        raise LedgerValueError("offset must be >= 0 and limit between 1 and 500")
    today = ledger.workflow.clock()
    with Session(ledger.engine) as session:
        rows = session.exec(select(Application).where(
            Application.deployment == ledger.deployment.deployment_id, col(Application.state).in_(IN_NOTICE),
            col(Application.notice_start).is_not(None))).all()
        notices = [_public(ledger, session, row, today) for row in rows]
    shown = sorted((n for n in notices if include_ended or n.days_left > 0),
                   key=lambda n: (n.last_day, n.notice_start, n.application_id))
    return NoticeBoard(data=shown[offset:offset + limit], count=len(shown), as_of=today)


def notice(ledger: Ledger, application_id: str) -> NoticePublic:
    """One filing in public notice, by its application id (or an unambiguous prefix of at least 4 digits)."""
    app = ledger.workflow.get(application_id.strip().lower())
    if app.state not in IN_NOTICE or app.notice_start is None:
        raise NotFoundError(f"application {app.id[:12]} is not in public notice (it is {app.state})")
    with Session(ledger.engine) as session:
        return _public(ledger, session, app, ledger.workflow.clock())


# --- objections ------------------------------------------------------------------------------------------------


def _text(value: str, what: str, limit: int) -> str:
    text = " ".join(value.split())
    if not text:
        raise LedgerValueError(f"the objection needs {what}")
    if len(text) > limit:
        raise LedgerValueError(f"{what} is longer than {limit} characters")
    return text


def evidence_dir(ledger: Ledger) -> Path:
    """Where the registry keeps objection evidence, by SHA-256 (private: 0700, files 0600)."""
    return ledger.settings.home / "objection-evidence"


def _keep(ledger: Ledger, evidence: IO[bytes]) -> tuple[bytes, int, Path]:
    """Copies ``evidence`` into a private temporary file in the evidence directory while hashing it (SHA-256).
    Returns (digest, size, temporary path)."""
    folder = evidence_dir(ledger)
    make_private_dir(folder)
    tmp = folder / f".upload.{os.getpid()}.{os.urandom(6).hex()}"
    hasher, size = new_hasher(HashAlgorithm.SHA256), 0
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := evidence.read(CHUNK):
            hasher.update(chunk)
            out.write(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return bytes(hasher.digest()), size, tmp


def _anchor(ledger: Ledger, digest: bytes, ref: bytes) -> tuple[AnchorReceipt, bool]:
    """The evidence's anchor: made now by the platform's evidence provider, or the one it already has. Its kind is
    an ordinary document (8), never a registrant's vetted proof material (证明材料, kind 2): an objector's file is
    anchored as it was given, unexamined, and nothing on a verify page may read as if the registry vouched for it."""
    provider = ledger.accounts.first_with_role("evidence_provider").name
    try:
        return ledger.evidence.anchor(ledger.sender(provider), digest, HashAlgorithm.SHA256, EvidenceKind.DOCUMENT,
                                      ref), True
    except AlreadyAnchoredError:
        found = ledger.evidence.verify(digest, HashAlgorithm.SHA256)
        if not found.anchors:
            raise
        return found.anchors[0], False


def file_objection(ledger: Ledger, application_id: str, *, objector_name: str, objector_id: str, grounds: str,
                   evidence: IO[bytes], evidence_name: str, received_by: str | None = None) -> ObjectionReceipt:
    """An objection to a filing in public notice, from anyone, with evidence (GD art. 11; DL art. 23; GZ art. 19).

    The notice must still run; the objector gives a legal name, an ID number or credit code, the grounds and an
    evidence file. The file is kept, its SHA-256 anchored (evidence kind PROOF, ``ref`` = the application's key),
    then the objection is filed through the workflow by ``received_by`` (default: the registry's first registrar
    account), which starts the profile's resolution deadline (AH art. 22; GD art. 11)."""
    name = _text(objector_name, "the objector's legal name", MAX_NAME)
    id_number = _text(objector_id, "the objector's ID number or credit code", MAX_ID)
    reason = _text(grounds, "its grounds", MAX_GROUNDS)
    shown = notice(ledger, application_id)  # refuses what is not in notice
    if shown.days_left == 0:
        raise WorkflowError(f"the notice of application {shown.reference} ended on {shown.last_day.isoformat()}")
    workflow = ledger.workflow
    actor = received_by or next((a.name for a in ledger.accounts.with_role("registrar")), None)
    if actor is None:
        raise LedgerValueError("this installation holds no registrar key: it cannot record objections")
    digest, size, tmp = _keep(ledger, evidence)
    try:
        if size == 0:
            raise LedgerValueError("the evidence file is empty")
        kept = evidence_dir(ledger) / to_hex(digest)[2:]
        os.replace(tmp, kept)
    finally:
        if tmp.exists():
            tmp.unlink()
    app = workflow.get(shown.application_id)
    receipt, fresh = _anchor(ledger, digest, workflow.application_key(app))
    workflow.object(app.id, actor, reason, objector_name=name, objector_id=id_number, evidence=digest)
    with Session(ledger.engine) as session:
        row = session.exec(select(NoticeObjection).where(
            NoticeObjection.application_id == app.id, NoticeObjection.evidence_hash == to_hex(digest),
            NoticeObjection.objector_name == name).order_by(col(NoticeObjection.id).desc())).first()
    assert row is not None and row.id is not None
    return ObjectionReceipt(
        application_id=app.id, reference=app.id[:12], objection_id=row.id, objector_name=name,
        filed_on=workflow.clock(), resolve_by=date.fromisoformat(row.resolve_by) if row.resolve_by else None,
        evidence_name=os.path.basename(evidence_name or "")[:MAX_NAME] or "evidence", evidence_size=size,
        evidence_digest=to_hex(digest), hash_algorithm=HashAlgorithm.SHA256.label, evidence_tx=receipt.tx_hash,
        evidence_block=receipt.block_number, evidence_time=receipt.block_time, anchored_now=fresh)

