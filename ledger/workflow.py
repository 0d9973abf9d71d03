"""The registration workflow (登记流程): application → acceptance → formal review → third-party substantive
review → supplement requests → approval → public notice (with objections) → registration on chain → certificate.

Every step is one database transaction that moves the application and appends an ApplicationEvent; a step
that is not allowed from the current state is refused with the states it needs (REGISTRATION_RULES §3.8).
The chain step goes through the outbox (ledger.chain.outbox): the signed transaction is stored — in the same
database transaction as the certificate it issues — before it is sent, and the outbox's completion moves the
application to REGISTERED. A restart, a stuck nonce or a chain rollback is repaired from the journal; nothing
is lost or done twice.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ledger.accounts import ROLE_WORDS, AccountBook
from ledger.chain.contract import ContractHandle
from ledger.chain.outbox import Outbox, Outcome
from ledger.chain.sender import TransactionSender
from ledger.db import session_scope
from ledger.document_schemas import parse_recognition, validate_document
from ledger.documents import (
    NewHolder,
    cancellation_proof,
    certificate,
    document_hash,
    reissue,
    supplementary_notice,
)
from ledger.errors import (
    ConsentRequiredError,
    ContractRevertError,
    ForbiddenError,
    LedgerValueError,
    NotFoundError,
    WorkflowError,
)
from ledger.filings import AUTHORITY_KINDS, EX_OFFICIO_GROUNDS, FILINGS, FilingRefused
from ledger.hashing import canonical_json, keccak256, to_hex
from ledger.lifecycle import Action, UnitStatus
from ledger.models import (
    Application,
    ApplicationEvent,
    ChainIntent,
    ConsentRequest,
    NoticeObjection,
    StoredDocument,
    utcnow,
)
from ledger.numbering import registration_number, unit_id, validate_number
from ledger.profiles import JurisdictionProfile, ObjectType, load_profiles
from ledger.registry import EMPTY_CONSENT, AssetRegistryClient, consent_typed_data
from ledger.workdays import china_date, last_day, notice_period

CHINA = timezone(timedelta(hours=8))
#: How long a party has to sign a consent in its wallet (the consent's deadline, checked on chain).
WALLET_CONSENT_SECONDS = 7 * 86_400
#: A stored consent closer than this to its deadline is asked for again rather than sent.
CONSENT_MARGIN_SECONDS = 600
__all__ = ["CHINA", "KINDS", "TRANSITIONS", "State", "Workflow", "WorkflowError", "today_in_china"]


class State(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    UNDER_FORMAL_REVIEW = "under_formal_review"
    UNDER_SUBSTANTIVE_REVIEW = "under_substantive_review"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    RESUBMITTED = "resubmitted"
    APPROVED = "approved"
    IN_PUBLIC_NOTICE = "in_public_notice"
    OBJECTION_PENDING = "objection_pending"
    REGISTERED = "registered"
    ARCHIVED = "archived"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"
    TERMINATED = "terminated"


KINDS = tuple(FILINGS)
BEFORE_APPROVAL = (State.SUBMITTED, State.ACCEPTED, State.UNDER_FORMAL_REVIEW, State.UNDER_SUBSTANTIVE_REVIEW,
                   State.SUPPLEMENT_REQUESTED, State.RESUBMITTED)
#: action -> (states it may start from, state it leads to); None = decided by the step itself
TRANSITIONS: dict[str, tuple[tuple[State, ...], State | None]] = {
    "accept": ((State.SUBMITTED,), State.ACCEPTED),
    "begin_review": ((State.ACCEPTED, State.RESUBMITTED), State.UNDER_FORMAL_REVIEW),
    "pass_formal": ((State.UNDER_FORMAL_REVIEW,), State.UNDER_SUBSTANTIVE_REVIEW),
    "file_review": ((State.UNDER_SUBSTANTIVE_REVIEW,), State.UNDER_SUBSTANTIVE_REVIEW),
    "request_supplement": ((State.UNDER_FORMAL_REVIEW, State.UNDER_SUBSTANTIVE_REVIEW), State.SUPPLEMENT_REQUESTED),
    "resubmit": ((State.SUPPLEMENT_REQUESTED,), State.RESUBMITTED),
    "approve": ((State.UNDER_FORMAL_REVIEW, State.UNDER_SUBSTANTIVE_REVIEW), State.APPROVED),
    "waive_review": ((State.ACCEPTED,), State.APPROVED),  # recognised from another platform (TJIFA §6.4.1.4)
    "reject": (BEFORE_APPROVAL, State.REJECTED),
    "withdraw": (BEFORE_APPROVAL, State.WITHDRAWN),
    "start_notice": ((State.APPROVED,), State.IN_PUBLIC_NOTICE),
    "object": ((State.IN_PUBLIC_NOTICE, State.OBJECTION_PENDING), State.OBJECTION_PENDING),
    "resolve_objection": ((State.OBJECTION_PENDING,), None),
    "register": ((State.APPROVED, State.IN_PUBLIC_NOTICE), State.REGISTERED),
    "archive": ((State.REGISTERED,), State.ARCHIVED),
}
#: Who may take each step (issue #9 §3): a role from the accounts file; "applicant" = the applicant or a
#: counterparty of the filing (or the registry on their behalf); None = any known account.
STEP_ROLES: dict[str, tuple[str, ...] | None] = {
    "accept": ("registrar",), "begin_review": ("registrar",), "pass_formal": ("registrar",),
    "file_review": ("reviewer",), "request_supplement": ("registrar",), "resubmit": ("applicant",),
    "approve": ("registrar",), "reject": ("registrar",), "withdraw": ("applicant", "registrar"),
    "start_notice": ("registrar",), "object": None, "resolve_objection": ("registrar",),
    "register": ("registrar",), "archive": ("registrar",), "waive_review": ("registrar",),
}
#: The kind of stored document a verified recognition package is kept as (ledger.services.recognition).
RECOGNITION_PACKAGE = "recognition-package"


def today_in_china() -> date:
    return datetime.now(CHINA).date()


class Workflow:
    """Runs applications of one deployment through the registration steps."""

    def __init__(self, engine: Engine, registry: AssetRegistryClient,
                 accounts: AccountBook | Callable[[], AccountBook], deployment_id: str,
                 sender: Callable[[str], TransactionSender], registry_name: str = "Data-asset registry",
                 clock: Callable[[], date] = today_in_china,
                 profiles: dict[str, JurisdictionProfile] | None = None, outbox: Outbox | None = None) -> None:
        self.engine = engine
        self.registry = registry
        self.handle: ContractHandle = registry.handle
        self._accounts = accounts
        self.deployment_id = deployment_id
        self.sender = sender
        self.registry_name = registry_name
        self.clock = clock
        self.profiles = profiles or load_profiles()
        self.outbox = outbox or Outbox(engine, registry.client, deployment_id)
        self.outbox.on_complete("application", self.complete)
        self._preparing = threading.local()  # the application whose chain call is being built, per thread

    @property
    def accounts(self) -> AccountBook:
        """The accounts: a fixed book, or the ledger's, read again when its file changes."""
        return self._accounts() if callable(self._accounts) else self._accounts

    # --- reading -----------------------------------------------------------------------------------

    def get(self, application_id: str) -> Application:
        """An application by id or by an unambiguous prefix of it (at least 4 hex digits)."""
        if not re.fullmatch(r"[0-9a-f]{4,32}", application_id):
            raise LedgerValueError(f"{application_id!r} is not an application id (hex, at least 4 digits)")
        with Session(self.engine) as session:
            rows = session.exec(select(Application).where(
                Application.id.startswith(application_id),
                Application.deployment == self.deployment_id)).all()
        if not rows:
            raise NotFoundError(f"no application {application_id!r}")
        if len(rows) > 1:
            raise LedgerValueError(f"application id {application_id!r} is ambiguous: give more characters")
        return rows[0]

    def history(self, application_id: str) -> list[ApplicationEvent]:
        app = self.get(application_id)
        with Session(self.engine) as session:
            return list(session.exec(select(ApplicationEvent).where(ApplicationEvent.application_id == app.id)
                                     .order_by(ApplicationEvent.id)).all())  # type: ignore[arg-type]

    def objections(self, application_id: str) -> list[NoticeObjection]:
        app = self.get(application_id)
        with Session(self.engine) as session:
            return list(session.exec(select(NoticeObjection).where(NoticeObjection.application_id == app.id)).all())

    def profile(self, app: Application) -> JurisdictionProfile:
        return self.profiles[app.profile]

    def needs_notice(self, app: Application) -> bool:
        """Whether the profile gives this kind public notice. An authority's act (suspension, revocation, an
        ordered or ex-officio cancellation) never waits for one."""
        if app.kind in AUTHORITY_KINDS:
            return False
        if app.kind == "cancellation" and json.loads(app.payload).get("ground", "holder") in EX_OFFICIO_GROUNDS:
            return False
        return app.kind in self.profile(app).notice.applies_to

    def applications(self, state: str | None = None, kind: str | None = None) -> list[Application]:
        """Applications of this deployment, newest first, optionally by state and kind (an operator's view of
        what is waiting, stuck or done)."""
        query = select(Application).where(Application.deployment == self.deployment_id)
        if state:
            query = query.where(Application.state == State(state).value)
        if kind:
            query = query.where(Application.kind == kind)
        with Session(self.engine) as session:
            return list(session.exec(query.order_by(col(Application.created_at).desc())).all())

    # --- who may act ---------------------------------------------------------------------------------

    def _require(self, actor: str, roles: tuple[str, ...] | None, what: str,
                 app: Application | None = None) -> None:
        """Refuses an actor without the role a step needs, naming the role in words (issue #9 §3)."""
        account = self.accounts.get(actor)  # an unknown account name is refused here
        if roles is None:
            return
        parties = {app.holder, app.counterparty} if app is not None else set()
        if "applicant" in roles and actor in parties:
            return
        if any(role in account.roles for role in roles if role != "applicant"):
            return
        needed = " or ".join("the applicant or its counterparty" if r == "applicant" else ROLE_WORDS.get(r, r)
                             for r in roles)
        held = ", ".join(ROLE_WORDS.get(r, r) for r in account.roles) or "no role"
        raise ForbiddenError(f"{what} needs {needed}; {actor} holds {held}")

    # --- filing ------------------------------------------------------------------------------------

    def apply(self, *, kind: str, profile: str, holder: str, actor: str, number: str | None = None,
              counterparty: str | None = None, object_type: ObjectType | None = None, rights: int = 7,
              payload: dict[str, Any] | None = None, document: bytes | None = None) -> Application:
        """Files an application (申请). Initial ones name the object; the others name a registered unit. What
        the chain would refuse later is refused now, with the rule that says so."""
        if kind not in FILINGS:
            raise LedgerValueError(f"unknown registration kind {kind!r} (use one of {', '.join(FILINGS)})")
        rules = self.profiles.get(profile.upper())
        if rules is None:
            raise LedgerValueError(f"unknown jurisdiction profile {profile!r} (known: {', '.join(self.profiles)})")
        if kind not in rules.kinds:
            raise FilingRefused(f"{rules.code} has no {kind} registration (its kinds: {', '.join(rules.kinds)})")
        self.accounts.get(holder)
        if counterparty is not None:
            self.accounts.get(counterparty)
        if kind == "revocation":  # 撤销 is the registry's act (GD art. 22; AH art. 23; GZ art. 34)
            self._require(actor, ("registrar",), f"a {kind} filing")
        elif kind in AUTHORITY_KINDS or (kind == "cancellation" and (payload or {}).get("ground", "holder")
                                         in EX_OFFICIO_GROUNDS):
            self._require(actor, ("registrar", "judicial"), f"a {kind} filing")
        elif actor not in (holder, counterparty):
            self._require(actor, ("registrar",), f"filing on behalf of {holder} (agent filing, GZ art. 16)")
        if kind == "initial":
            if object_type is None or not rules.allows(object_type):
                allowed = ", ".join(t.name.lower() for t in rules.object_type_ids())
                asked = object_type.name.lower() if object_type else "nothing"
                raise FilingRefused(f"{rules.code} registers {allowed}; not {asked}")
            number = None
        else:
            if number is None:
                raise LedgerValueError(f"a {kind} application names the registration number of the unit")
            number = validate_number(number)
            unit = self.registry.unit(unit_id(number))
            if unit["status"] is UnitStatus.NONE:
                raise NotFoundError(f"no registration unit {number} on chain")
            if unit["profile_id"] != rules.id:
                raise FilingRefused(f"registration {number} is not a {rules.code} registration")
        if not 0 < rights < 8:
            raise LedgerValueError("rights must name at least one of holding, processing-use, product-operation")
        data = dict(payload or {})
        if data.get("procedure") == "simple" and rules.notice.simple is None:
            raise FilingRefused(f"{rules.code} has no simple procedure")
        app = Application(
            id=uuid.uuid4().hex, deployment=self.deployment_id, kind=kind, profile=rules.code,
            state=State.SUBMITTED, holder=holder, counterparty=counterparty, registration_number=number,
            object_type=int(object_type) if object_type else None, rights=rights,
            payload=json.dumps(data, ensure_ascii=False, sort_keys=True),
            document_hash=to_hex(document) if document else None,
            content_fingerprint=str(data["content_fingerprint"]).lower() if data.get("content_fingerprint") else None,
        )
        FILINGS[kind](self).check(app)
        with session_scope(self.engine) as session:
            session.add(app)
            session.flush()
            session.add(ApplicationEvent(application_id=app.id, action="submit", from_state="", to_state=app.state,
                                         actor=actor, document_hash=app.document_hash))
            session.refresh(app)
            session.expunge(app)
        return app

    def refuse_duplicate(self, app: Application, fingerprint: str) -> None:
        """The same data by the same holder is registered once (issue #9 §3): an open or registered application
        with the same content fingerprint refuses a new one."""
        closed = [State.WITHDRAWN.value, State.REJECTED.value, State.TERMINATED.value]
        with Session(self.engine) as session:
            twin = session.exec(select(Application).where(
                Application.deployment == self.deployment_id, Application.holder == app.holder,
                Application.content_fingerprint == fingerprint.lower(), Application.kind == "initial",
                Application.id != app.id,  # registering re-checks the filing: it is not its own twin
                col(Application.state).not_in(closed))).first()
        if twin is None:
            return
        if twin.registration_number and twin.state in (State.REGISTERED, State.ARCHIVED):
            status = self.registry.status(unit_id(twin.registration_number))
            if status in (UnitStatus.CANCELLED, UnitStatus.REVOKED):
                return
        where = (f"registration {twin.registration_number}" if twin.registration_number
                 else f"application {twin.id[:12]}")
        raise FilingRefused(f"{app.holder} already registered this data ({where}, same content fingerprint): "
                            "file a change or supplementary registration instead")

    def _step(self, application_id: str, action: str, actor: str, *, to: State | None = None, note: str = "",
              document: str | None = None, update: Callable[[Application], None] | None = None) -> Application:
        app = self.get(application_id)
        self._require(actor, STEP_ROLES.get(action), action.replace("_", " "), app)
        allowed, target = TRANSITIONS[action]
        if State(app.state) not in allowed:
            raise WorkflowError(f"cannot {action.replace('_', ' ')} application {app.id[:8]} in state {app.state} "
                                f"(needs {' or '.join(s.value for s in allowed)})")
        with session_scope(self.engine) as session:
            row = session.get(Application, app.id)
            assert row is not None
            if row.state != app.state:  # another process moved it in between
                raise WorkflowError(f"application {app.id[:8]} changed meanwhile; retry")
            before = row.state
            if update is not None:
                update(row)
            row.state = (to or target or State(row.state)).value
            row.updated_at = utcnow()
            session.add(row)
            session.add(ApplicationEvent(application_id=row.id, action=action, from_state=before,
                                         to_state=row.state, actor=actor, note=note, document_hash=document))
            session.flush()
            session.refresh(row)
            session.expunge(row)
        return row

    def accept(self, application_id: str, actor: str) -> Application:
        """受理 (AH art. 19(2): within 5 wd; GZ art. 17: within 3 wd)."""
        return self._step(application_id, "accept", actor)

    def begin_review(self, application_id: str, actor: str) -> Application:
        return self._step(application_id, "begin_review", actor)

    def pass_formal_review(self, application_id: str, actor: str) -> Application:
        """Formal review passed; the third-party substantive review follows (SZ art. 15-17, DL art. 20)."""
        app = self.get(application_id)
        self._require(actor, STEP_ROLES["pass_formal"], "pass formal", app)  # who asks first (REGISTRATION_RULES §6.2)
        if not self.profile(app).needs_review(app.kind):
            raise WorkflowError(f"{app.profile} has no third-party substantive review for {app.kind} filings: "
                                "approve after the formal review")
        return self._step(application_id, "pass_formal", actor)

    def file_review(self, application_id: str, reviewer: str, report: bytes) -> Application:
        """The third-party agency's report: its hash goes on chain (recordReview) before it is kept here."""
        app = self.get(application_id)
        self._require(reviewer, STEP_ROLES["file_review"], "filing a review report", app)
        if app.review_report_hash:
            raise WorkflowError(f"application {app.id[:8]} already has a review report")
        allowed, _ = TRANSITIONS["file_review"]
        if State(app.state) not in allowed:
            raise WorkflowError(f"cannot file a review for application {app.id[:8]} in state {app.state}")
        try:
            self.registry.transact(self.sender(reviewer), "recordReview", self.application_key(app), report)
        except ContractRevertError as exc:
            if exc.error_name != "ReviewAlreadyRecorded":  # a retry after a crash: the chain has it already
                raise

        def keep(row: Application) -> None:
            row.review_report_hash = to_hex(report)

        return self._step(application_id, "file_review", reviewer, document=to_hex(report), update=keep)

    def request_supplement(self, application_id: str, actor: str, reason: str,
                           within_working_days: int = 5) -> Application:
        """Supplementary-registration notice (补充登记通知, TJIFA §6.4.2 / App. 7): what to fix, by when. The
        notice is stored as a document and its hash recorded with the step."""
        if not reason.strip():
            raise LedgerValueError("a supplement request must say what is missing")
        app = self.get(application_id)
        self._require(actor, STEP_ROLES["request_supplement"], "requesting a supplement", app)
        notice = supplementary_notice(
            application_id=app.id, registry=self.registry_name, applicant=app.holder,
            deficiencies=[line.strip() for line in reason.split(";") if line.strip()],
            resubmit_by=notice_period(self.clock(), within_working_days, "working_days").end, issued_on=self.clock())
        validate_document(notice)
        with session_scope(self.engine) as session:
            self._store(session, "supplementary-notice", notice)
        return self._step(application_id, "request_supplement", actor, note=reason,
                          document=to_hex(document_hash(notice)))

    def resubmit(self, application_id: str, actor: str, document: bytes | None = None) -> Application:
        def keep(row: Application) -> None:
            if document:
                row.document_hash = to_hex(document)

        return self._step(application_id, "resubmit", actor, document=to_hex(document) if document else None,
                          update=keep)

    def approve(self, application_id: str, actor: str) -> Application:
        app = self.get(application_id)
        self._require(actor, STEP_ROLES["approve"], "approve", app)  # who asks first (REGISTRATION_RULES §6.2)
        rules = self.profile(app)
        if rules.needs_review(app.kind):
            if not app.review_report_hash:
                rule = "SZ art. 16(4), 17(3)-(4)" if app.kind != "initial" else "SZ art. 15, DL art. 20"
                raise WorkflowError(f"{rules.code} needs the third-party review report before approving a "
                                    f"{app.kind} ({rule})")
            if app.state == State.UNDER_FORMAL_REVIEW:
                raise WorkflowError("the substantive review has not started: pass the formal review first")

        def allocate(row: Application) -> None:
            if row.kind == "initial" and row.registration_number is None:
                row.registration_number = self._next_number(rules)

        return self._step(application_id, "approve", actor, update=allocate)

    def waive_review(self, application_id: str, actor: str) -> Application:
        """免于审核: an initial registration recognised from another platform is approved on the strength of its
        verified recognition package, without the review (TJIFA §6.4.1.4) — only where the profile waives it
        (``recognition_waives_review``) and only with that package kept here under the hash the application names
        (``ledger.services.recognition`` verifies and keeps it before filing). Public notice still follows."""
        app = self.get(application_id)
        self._require(actor, STEP_ROLES["waive_review"], "waiving the review", app)
        rules = self.profile(app)
        record = json.loads(app.payload).get("recognition")
        if app.kind != "initial" or record is None:
            raise WorkflowError(f"application {app.id[:8]} is not an initial registration recognised from another "
                                "platform: its review is not waived (TJIFA §6.4.1.4)")
        source = parse_recognition(record)
        if not (rules.recognition_waives_review and source.review_waived):
            raise WorkflowError(f"{rules.code} does not waive the review of a registration recognised from another "
                                "platform: review it like any other")
        with Session(self.engine) as session:
            package = session.get(StoredDocument, source.package_sha256)
        if package is None or package.kind != RECOGNITION_PACKAGE:
            raise WorkflowError(f"this registry does not keep the verified recognition package {source.package_sha256}"
                                " the application names: import the package again")

        def allocate(row: Application) -> None:
            if row.registration_number is None:
                row.registration_number = self._next_number(rules)

        return self._step(application_id, "waive_review", actor, document=source.package_sha256, update=allocate,
                          note=f"review waived (TJIFA §6.4.1.4): {source.registration_number} of {source.platform}, "
                               f"package verified against its trust list {source.trust_list_sha256}")

    def reject(self, application_id: str, actor: str, reason: str) -> Application:
        """不予登记 with reasons (GD art. 9; GZ art. 18: notified within 3 wd)."""
        if not reason.strip():
            raise LedgerValueError("a rejection must give its reasons")
        return self._step(application_id, "reject", actor, note=reason)

    def withdraw(self, application_id: str, actor: str) -> Application:
        """撤回: any time before approval (DL art. 17), by the applicant or the registry."""
        return self._step(application_id, "withdraw", actor)

    def start_notice(self, application_id: str, actor: str) -> Application:
        """公示: the profile's period in working or calendar days, counted from the next day; the simple
        procedure's shorter one when the application asked for it (GD art. 16)."""
        app = self.get(application_id)
        self._require(actor, STEP_ROLES["start_notice"], "start notice", app)  # who asks first (§6.2)
        if not self.needs_notice(app):
            raise WorkflowError(f"{app.profile} gives no public notice for {app.kind} registrations: register directly")
        length, unit = self.notice_length(app)
        period = notice_period(self.clock(), length, unit)

        def set_period(row: Application) -> None:
            row.notice_start, row.notice_end = period.start.isoformat(), period.end.isoformat()
            row.notice_official = period.official

        note = f"notice until {period.end.isoformat()}" + ("" if period.official else " (provisional calendar)")
        return self._step(application_id, "start_notice", actor, note=note, update=set_period)

    def notice_end(self, app: Application) -> date | None:
        """The notice's last day — recomputed when it was counted on a provisional calendar and the official one
        has been published since (issue #9 §4)."""
        if app.notice_end is None or app.notice_start is None:
            return None
        if app.notice_official:
            return date.fromisoformat(app.notice_end)
        return notice_period(date.fromisoformat(app.notice_start), *self.notice_length(app)).end

    def notice_length(self, app: Application) -> tuple[int, str]:
        """The notice period of an application: (length, ``working_days`` or ``calendar_days``) — the profile's,
        or its simple procedure's when the application asked for it (GD art. 16)."""
        rules = self.profile(app)
        if json.loads(app.payload).get("procedure") == "simple" and rules.notice.simple is not None:
            return rules.notice.simple.length, rules.notice.simple.unit
        return rules.notice.length, rules.notice.unit

    def object(self, application_id: str, objector: str, grounds: str, *, objector_name: str = "",
               objector_id: str = "", evidence: bytes | None = None) -> Application:
        """An objection during notice (GD art. 11; DL art. 23; GZ art. 19): anyone may object, also while another
        objection is pending; it records who objected and the evidence's digest, and — where the profile sets
        one — the date by which it must be resolved (AH art. 22: 30 days; GD art. 11: 10 wd)."""
        if not grounds.strip():
            raise LedgerValueError("an objection must state its grounds")
        app = self.get(application_id)
        end = self.notice_end(app)
        if end and self.clock() > end:
            raise WorkflowError(f"the notice of application {app.id[:8]} ended on {end.isoformat()}")
        rule = self.profile(app).notice_objection.resolve_within
        resolve_by = notice_period(self.clock(), rule.length, rule.unit).end.isoformat() if rule else None
        moved = self._step(application_id, "object", objector, note=grounds,
                           document=to_hex(evidence) if evidence else None)
        with session_scope(self.engine) as session:
            session.add(NoticeObjection(application_id=moved.id, objector=objector, objector_name=objector_name,
                                        objector_id=objector_id, grounds=grounds,
                                        evidence_hash=to_hex(evidence) if evidence else None, resolve_by=resolve_by))
        return moved

    def resolve_objection(self, application_id: str, actor: str, upheld: bool, note: str = "",
                          objection: int | None = None) -> Application:
        """Decides one pending objection (or all, when none is named). Upheld → the registration ends
        (TERMINATED); when none is left pending, the notice goes on. A decision after the profile's deadline is
        refused: the deadline already decided it (``enforce_deadlines``)."""
        app = self.get(application_id)
        self._require(actor, STEP_ROLES["resolve_objection"], "resolving an objection", app)
        with Session(self.engine) as session:
            pending = list(session.exec(select(NoticeObjection).where(NoticeObjection.application_id == app.id,
                                                                      NoticeObjection.status == "pending")).all())
        chosen = [o for o in pending if objection is None or o.id == objection]
        if not chosen:
            raise WorkflowError(f"application {app.id[:8]} has no pending objection"
                                + (f" {objection}" if objection is not None else ""))
        late = [o for o in chosen if o.resolve_by and self.clock() > date.fromisoformat(o.resolve_by)]
        if late:
            raise WorkflowError(f"objection {late[0].id} had to be resolved by {late[0].resolve_by} "
                                f"({self.profile(app).code}); it is overdue: `ledger registry duties` applies the rule")
        left = len(pending) - len(chosen)
        with session_scope(self.engine) as session:
            for row in chosen:
                stored = session.get(NoticeObjection, row.id)
                assert stored is not None
                stored.status, stored.resolved_at = ("upheld" if upheld else "dismissed"), utcnow()
                session.add(stored)
        to = State.TERMINATED if upheld else (State.OBJECTION_PENDING if left else State.IN_PUBLIC_NOTICE)
        return self._step(application_id, "resolve_objection", actor, to=to, note=note)

    def enforce_deadlines(self) -> list[Application]:
        """Applies the deadlines that decide by themselves: a notice objection not resolved in time terminates
        the application (AH art. 22) or gets it refused (GD art. 23). Returns the applications it moved."""
        today = self.clock()
        with Session(self.engine) as session:
            overdue = session.exec(select(NoticeObjection, Application).join(
                Application, NoticeObjection.application_id == Application.id)  # type: ignore[arg-type]
                .where(Application.deployment == self.deployment_id, NoticeObjection.status == "pending",
                       col(NoticeObjection.resolve_by).is_not(None),
                       Application.state == State.OBJECTION_PENDING.value)).all()
        moved: list[Application] = []
        for objection, app in overdue:
            assert objection.resolve_by is not None
            if today <= date.fromisoformat(objection.resolve_by) or any(m.id == app.id for m in moved):
                continue
            outcome = self.profile(app).notice_objection.if_unresolved
            target = State.REJECTED if outcome == "refuse" else State.TERMINATED
            rule = "GD art. 23" if outcome == "refuse" else "AH art. 22"
            with session_scope(self.engine) as session:
                stored = session.get(NoticeObjection, objection.id)
                row = session.get(Application, app.id)
                assert stored is not None and row is not None
                stored.status = "overdue"
                before, row.state, row.updated_at = row.state, target.value, utcnow()
                session.add_all([stored, row])
                session.add(ApplicationEvent(application_id=row.id, action="deadline", from_state=before,
                                             to_state=row.state, actor="system",
                                             note=f"objection {stored.id} not resolved by {stored.resolve_by} "
                                                  f"({rule})"))
                session.flush()
                session.refresh(row)
                session.expunge(row)
            moved.append(row)
        return moved

    def archive(self, application_id: str, actor: str) -> Application:
        return self._step(application_id, "archive", actor)

    # --- the chain step ----------------------------------------------------------------------------

    def register(self, application_id: str, actor: str) -> Application:
        """Records the registration on chain (outbox: signed transaction stored, then sent); the outbox's
        completion marks it REGISTERED. Re-running it for a registered application is a no-op; for one whose
        transaction is stored, it finishes that transaction."""
        app = self.get(application_id)
        # who may register it is checked first: not even the idempotent answer goes to anyone else
        # (REGISTRATION_RULES §6.2)
        self._require(actor, self.registering_roles(app), f"registering a {app.kind}", app)
        if app.state in (State.REGISTERED, State.ARCHIVED):
            return app  # already done: idempotent (issue #8)
        if app.intent_id is not None:  # a previous attempt stored its transaction: finish that one
            return self._finish(app)
        allowed, _ = TRANSITIONS["register"]
        if State(app.state) not in allowed:
            raise WorkflowError(f"cannot register application {app.id[:8]} in state {app.state} "
                                f"(needs {' or '.join(s.value for s in allowed)})")
        rules = self.profile(app)
        if self.needs_notice(app):
            if app.state != State.IN_PUBLIC_NOTICE:
                raise WorkflowError(f"{rules.code} requires public notice for {app.kind}: start it first")
            end = self.notice_end(app)
            assert end is not None
            if self.clock() <= end:
                raise WorkflowError(f"the public notice runs until {end.isoformat()} inclusive")
        FILINGS[app.kind](self).check(app)  # the unit may have changed since the filing
        self.stage(app, actor)
        return self._finish(self.get(app.id))

    def registering_roles(self, app: Application) -> tuple[str, ...]:
        """Who records a filing on chain: the registry; a court for a cancellation on its order; the registry or a
        court for a suspension or reinstatement (DL art. 22); only the registry revokes (撤销 by the registry: GD
        art. 22; AH art. 23; GZ art. 34 — a judgment is its ground, not its author)."""
        ground = json.loads(app.payload).get("ground", "holder")
        if app.kind == "cancellation" and ground == "judicial_order":
            return ("judicial",)
        if app.kind in AUTHORITY_KINDS - {"revocation"} or (app.kind == "cancellation"
                                                             and ground in EX_OFFICIO_GROUNDS):
            return ("registrar", "judicial")
        return ("registrar",)

    def stage(self, app: Application, actor: str) -> ChainIntent:
        """Signs the registration transaction and stores it in the outbox — with the certificate it issues —
        in one database transaction, without sending it. When a party keeps its key in its own wallet and has not
        signed its consent yet, nothing is staged: the consents are requested (ConsentRequiredError), and the
        certificate is frozen as of today so that what they sign stays what is registered."""
        issued = self.issue_date(app)
        self._preparing.app, self._preparing.missing, self._preparing.new = app, [], 0
        try:
            call = FILINGS[app.kind](self).call(app)
        finally:
            missing, new = self._preparing.missing, self._preparing.new
            self._preparing.app = None
        if missing:
            self._await_consents(app, issued, missing, new)
        certificate_doc = call.certificate
        sender = self.sender(actor)
        request = self.handle.request(sender, call.function, *call.args)  # a refusal surfaces here, nothing sent
        self.outbox.heal(sender.account)
        with session_scope(self.engine) as session:
            row = session.get(Application, app.id)
            assert row is not None
            if row.intent_id is not None or row.state != app.state:
                raise WorkflowError(f"application {app.id[:8]} changed meanwhile; retry")
            intent = self.outbox.stage(sender.account, [request], sender.fees(), ref=f"application:{app.id}",
                                       session=session)[0]
            row.intent_id, row.tx_hash = intent.id, intent.tx_hash
            if certificate_doc is not None:
                row.certificate_hash = to_hex(document_hash(certificate_doc))
                self._store(session, "certificate", certificate_doc)
            session.add(row)
            session.add(ApplicationEvent(application_id=row.id, action="stage", from_state=row.state,
                                         to_state=row.state, actor=actor, note=f"tx {intent.tx_hash} stored"))
            session.flush()
            session.refresh(intent)
            session.expunge(intent)
        return intent

    def resume(self) -> int:
        """Finishes or repairs every stored transaction of this deployment (the outbox's pass)."""
        return self.outbox.resume()

    def _finish(self, app: Application, timeout: float = 120.0) -> Application:
        """Sends the stored transaction if the chain lacks it and waits for the outbox to complete it."""
        with Session(self.engine) as session:
            intent = session.get(ChainIntent, app.intent_id)
            if intent is None:
                raise WorkflowError(f"application {app.id[:8]} names a stored transaction that does not exist")
            session.expunge(intent)
        if intent.state == "pending":
            if self.registry.client.receipt(intent.tx_hash) is None:
                self.outbox.send([intent])
            self.outbox.wait([intent.tx_hash], timeout)
        done = self.get(app.id)
        if done.state == State.REGISTERED:
            return done
        with Session(self.engine) as session:
            intent = session.get(ChainIntent, intent.id)
            assert intent is not None
            session.expunge(intent)
        receipt = self.registry.client.receipt(intent.tx_hash) if intent.status == 0 else None
        if receipt is not None:
            self.handle.raise_for_status(receipt, intent.sender)
        raise WorkflowError(f"the chain did not register application {app.id[:8]}: "
                            f"{intent.error or 'its transaction failed'}")

    def complete(self, session: Session, outcome: Outcome) -> None:
        """Outbox completion of ``application:<id>``: REGISTERED with the governing document, or — when the chain
        refused it — the stored transaction is forgotten so the step can be filed again."""
        row = session.get(Application, outcome.intent.ref.split(":", 1)[1])
        if row is None or row.state in (State.REGISTERED, State.ARCHIVED):
            return
        staged = session.exec(select(ApplicationEvent).where(ApplicationEvent.application_id == row.id,
                                                             ApplicationEvent.action == "stage")
                              .order_by(col(ApplicationEvent.id).desc())).first()
        actor = staged.actor if staged else "system"
        before = row.state
        if not outcome.ok:
            row.intent_id = row.tx_hash = None
            session.add(row)
            session.add(ApplicationEvent(application_id=row.id, action="chain_refused", from_state=before,
                                         to_state=before, actor=actor,
                                         note=outcome.error or "the transaction reverted"))
            return
        assert outcome.receipt is not None
        note = f"tx {outcome.intent.tx_hash} in block {int(outcome.receipt['blockNumber'], 16)}"
        document = row.certificate_hash
        if row.kind == "cancellation":  # 注销证明 (AH art. 25)
            proof = cancellation_proof(
                registration_number=row.registration_number or "", registry=self.registry_name,
                ground=json.loads(row.payload).get("ground", "holder"),
                governing_document_hash=row.document_hash or to_hex(keccak256(f"decision:{row.id}".encode())),
                cancelled_on=self.clock())
            self._store(session, "cancellation-proof", proof)
            document = to_hex(document_hash(proof))
        row.state, row.tx_hash, row.updated_at = State.REGISTERED.value, outcome.intent.tx_hash, utcnow()
        session.add(row)
        session.add(ApplicationEvent(application_id=row.id, action="register", from_state=before,
                                     to_state=row.state, actor=actor, note=note, document_hash=document))

    # --- what each kind sends --------------------------------------------------------------------

    def application_key(self, app: Application) -> bytes:
        return keccak256(f"application:{app.id}".encode())

    def _next_number(self, rules: JurisdictionProfile) -> str:
        year = self.clock().year
        prefix = f"{rules.number_prefix}-{year}-"
        with Session(self.engine) as session:
            count = session.exec(select(func.count()).select_from(Application).where(
                Application.registration_number.startswith(prefix))).one()  # type: ignore[union-attr]
        sequence = int(count) + 1
        # The chain is the source of truth: skip numbers registered there but unknown to this database.
        while self.registry.unit(unit_id(number := registration_number(rules.number_prefix, year, sequence)))[
                "status"] != 0:
            sequence += 1
        return number

    def _store(self, session: Session, kind: str, document: dict[str, Any]) -> None:
        digest = to_hex(document_hash(document))
        if session.get(StoredDocument, digest) is None:
            session.add(StoredDocument(sha256=digest, kind=kind, body=canonical_json(document).decode()))

    # --- what filings need (ledger.filings) ----------------------------------------------------------

    def issue_date(self, app: Application) -> date:
        """The date the registration's certificate is issued as of: the day it was prepared for wallet consents
        (so the signed parameters stay the same), else today on the chain."""
        return date.fromisoformat(app.prepared_on) if app.prepared_on else self.chain_date()

    def consent(self, name: str, uid: bytes, action: Action, params: bytes, used: dict[str, int] | None = None,
                ) -> Any:
        """``name``'s consent: signed here when this installation holds the key (the registry's accounts; every
        party of a dev ledger), else the one the party signed in its wallet for this application — or, not yet
        signed, a request for it (issue #11 §3). ``used`` counts this filing's consents per signer, so one
        signer's second consent takes the next nonce."""
        account = self.accounts.get(name)
        offset = 0
        if used is not None:
            used[name] = offset = used.get(name, -1) + 1
        nonce = self.registry.nonce(account.address) + offset
        if account.holds_key:
            return self.registry.consent(account.signer, uid, action, params, nonce=nonce).as_tuple()
        app: Application | None = getattr(self._preparing, "app", None)
        if app is None:
            raise WorkflowError(f"{name} signs in its own wallet: its consent is requested when the filing is "
                                "registered")
        return self._wallet_consent(app, name, account.address, uid, action, params, nonce)

    def _wallet_consent(self, app: Application, name: str, address: str, uid: bytes, action: Action,
                        params: bytes, nonce: int) -> Any:
        now = self.chain_time()
        with session_scope(self.engine) as session:
            row = session.exec(select(ConsentRequest).where(
                ConsentRequest.application_id == app.id, ConsentRequest.signer == address,
                ConsentRequest.action == int(action), ConsentRequest.params_hash == to_hex(params),
                ConsentRequest.nonce == nonce).order_by(col(ConsentRequest.id).desc())).first()
            if row is not None and row.deadline > now + CONSENT_MARGIN_SECONDS:
                if row.signature:
                    return (row.nonce, row.deadline, bytes.fromhex(row.signature.removeprefix("0x")))
            else:
                deadline = now + WALLET_CONSENT_SECONDS
                data = consent_typed_data(self.registry.client.chain_id, self.handle.address, uid, action, params,
                                          nonce, deadline)
                message = {k: to_hex(v) if isinstance(v, bytes) else v for k, v in data["message"].items()}
                row = ConsentRequest(application_id=app.id, signer=address, signer_name=name, unit_id=to_hex(uid),
                                     action=int(action), params_hash=to_hex(params), nonce=nonce, deadline=deadline,
                                     typed_data=json.dumps({**data, "message": message}, sort_keys=True))
                session.add(row)
                self._preparing.new += 1
            session.flush()
            session.refresh(row)
            session.expunge(row)
        self._preparing.missing.append(row)
        return EMPTY_CONSENT.as_tuple()

    def _await_consents(self, app: Application, issued: date, missing: list[ConsentRequest], new: int) -> None:
        """Freezes the registration as of ``issued`` and raises the consents it waits for."""
        signers = ", ".join(sorted({f"{r.signer_name} ({r.signer})" for r in missing}))
        with session_scope(self.engine) as session:
            row = session.get(Application, app.id)
            assert row is not None
            if row.prepared_on is None:
                row.prepared_on = issued.isoformat()
                session.add(row)
            if new:
                session.add(ApplicationEvent(application_id=app.id, action="request_consents", from_state=row.state,
                                             to_state=row.state, actor="system",
                                             note=f"{len(missing)} consent(s) to sign in their wallets: {signers}"))
        raise ConsentRequiredError(
            f"application {app.id[:8]} waits for {len(missing)} consent(s) signed in the parties' own wallets: "
            f"{signers}; sign the typed data (`ledger wallet sign`) and post the signatures, then register again",
            [{"id": r.id, "signer": r.signer, "signer_name": r.signer_name, "deadline": r.deadline,
              "typed_data": json.loads(r.typed_data), "signed": bool(r.signature)} for r in missing])

    def address(self, name: str) -> str:
        return self.accounts.get(name).address

    def account_of(self, address: str) -> str | None:
        return next((a.name for a in self.accounts if a.address.lower() == str(address).lower()), None)

    def chain_time(self) -> int:
        return int(self.registry.client.block("latest")["timestamp"], 16)

    def chain_date(self) -> date:
        """Today on the chain, China time: certificates are dated when the chain records them."""
        return china_date(self.chain_time())

    def document_hash(self, document: dict[str, Any]) -> bytes:
        return document_hash(document)

    def active_pledges(self, uid: bytes) -> list[dict[str, Any]]:
        return [e for e in self.registry.entries(uid) if e["active"] and e["action"] is Action.PLEDGE]

    def previous_certificate(self, app: Application) -> dict[str, Any] | None:
        """The unit's current certificate document, when this registry holds it."""
        if app.registration_number is None:
            return None
        current = self.registry.unit(unit_id(app.registration_number))["certificate_hash"]
        with Session(self.engine) as session:
            stored = session.get(StoredDocument, to_hex(current))
        return json.loads(stored.body) if stored is not None else None

    def validity_basis(self, rules: JurisdictionProfile, data_limited: bool) -> str:
        """The certificate's validity in words (REGISTRATION_RULES §5.5)."""
        if not rules.validity_years:
            return f"no expiry: the {rules.code} rules set no validity period (REGISTRATION_RULES §5.5)"
        if data_limited:
            return f"the data's own validity, shorter than {rules.validity_years} years (TJIFA §8.3.3, GZ art. 21)"
        source = next((s.split(" (")[0] for s in rules.sources if "year" in s), rules.code)
        years = rules.validity_years
        return (f"{years} calendar year{'s' if years != 1 else ''} from issue, to 24:00 China time of the "
                f"corresponding day ({source}; 民法典 art. 201, 203)")

    def certificate(self, app: Application, *, version: int, holder: str, rights: int, object_type: int,
                    valid_until: int, issued_on: date | None = None) -> dict[str, Any]:
        """The certificate a filing issues (``ledger.certificate/2``, TJIFA §8.2.1). The first carries the
        applicant's declared content; a reissue carries the previous certificate's full content forward and
        changes only what the filing changes (issue #9 §1); a transfer of the holding right names the new holder."""
        rules = self.profile(app)
        payload = json.loads(app.payload)
        issued = issued_on or self.issue_date(app)
        last = last_day(valid_until) if valid_until else None
        data_until = payload.get("data_valid_until")
        data_limited = bool(data_until and last and rules.validity_or_data and last.isoformat() == data_until)
        if app.kind == "initial":
            return certificate(
                content=payload.get("content") or {}, title=rules.title_for(ObjectType(object_type)),
                registration_number=app.registration_number or "", jurisdiction=rules.code,
                registry_name=self.registry_name, holder_account=self.address(holder),
                object_type=ObjectType(object_type), rights=rights, issued_on=issued, valid_until=last,
                validity_basis=self.validity_basis(rules, data_limited),
                evidence_digests=payload.get("evidence_digests", []), notes=rules.derived_notes(),
                recognised_from=payload.get("recognition"))
        previous = self.previous_certificate(app)
        if previous is None:
            raise FilingRefused(f"this registry does not hold the current certificate of {app.registration_number}: "
                                "a reissue carries its content forward")
        new_holder = None
        if app.kind == "transfer" and holder != app.holder:
            who = payload.get("new_holder") or {}
            new_holder = NewHolder(str(who.get("legal_name", "")), who.get("uscc"), self.address(holder),
                                   who.get("kind", "legal_person"))
        return reissue(previous, changes=payload.get("changes"), version=version, issued_on=issued,
                       valid_until=last, new_holder=new_holder, rights=rights,
                       validity_basis=self.validity_basis(rules, data_limited) if app.kind == "renewal" else None)
