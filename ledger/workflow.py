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
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ledger.accounts import AccountBook
from ledger.chain.contract import ContractHandle
from ledger.chain.outbox import Outbox, Outcome
from ledger.chain.sender import TransactionSender
from ledger.db import session_scope
from ledger.document_schemas import validate_document
from ledger.documents import cancellation_proof, certificate, document_hash, supplementary_notice
from ledger.errors import ContractRevertError, LedgerError, LedgerValueError, NotFoundError
from ledger.hashing import canonical_json, keccak256, parse_digest, to_hex
from ledger.lifecycle import Action, CancellationGround
from ledger.models import Application, ApplicationEvent, ChainIntent, NoticeObjection, StoredDocument, utcnow
from ledger.numbering import registration_number, unit_id, validate_number
from ledger.profiles import JurisdictionProfile, ObjectType, load_profiles
from ledger.registry import (
    EMPTY_CONSENT,
    ZERO32,
    AssetRegistryClient,
    cancel_params,
    entry_params,
    entry_request,
    initial_params,
    reissue_params,
    release_params,
    renew_params,
    transfer_params,
    transfer_request,
)
from ledger.workdays import notice_period

CHINA = timezone(timedelta(hours=8))


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


KINDS = ("initial", "supplementary", "change", "transfer", "licence", "pledge", "release", "cancellation", "renewal")
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
    "reject": (BEFORE_APPROVAL, State.REJECTED),
    "withdraw": (BEFORE_APPROVAL, State.WITHDRAWN),
    "start_notice": ((State.APPROVED,), State.IN_PUBLIC_NOTICE),
    "object": ((State.IN_PUBLIC_NOTICE,), State.OBJECTION_PENDING),
    "resolve_objection": ((State.OBJECTION_PENDING,), None),
    "register": ((State.APPROVED, State.IN_PUBLIC_NOTICE), State.REGISTERED),
    "archive": ((State.REGISTERED,), State.ARCHIVED),
}


class WorkflowError(LedgerError):
    """A step that the application's state or the rules do not allow."""

    code = "workflow_refused"
    http_status = 409


def today_in_china() -> date:
    return datetime.now(CHINA).date()


class Workflow:
    """Runs applications of one deployment through the registration steps."""

    def __init__(self, engine: Engine, registry: AssetRegistryClient, accounts: AccountBook, deployment_id: str,
                 sender: Callable[[str], TransactionSender], registry_name: str = "Data-asset registry",
                 clock: Callable[[], date] = today_in_china,
                 profiles: dict[str, JurisdictionProfile] | None = None, outbox: Outbox | None = None) -> None:
        self.engine = engine
        self.registry = registry
        self.handle: ContractHandle = registry.handle
        self.accounts = accounts
        self.deployment_id = deployment_id
        self.sender = sender
        self.registry_name = registry_name
        self.clock = clock
        self.profiles = profiles or load_profiles()
        self.outbox = outbox or Outbox(engine, registry.client, deployment_id)
        self.outbox.on_complete("application", self.complete)

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
        """Whether the profile gives this kind public notice; an order-driven cancellation never waits for one."""
        if app.kind == "cancellation" and json.loads(app.payload).get("ground", "holder") != "holder":
            return False
        return app.kind in self.profile(app).notice.applies_to

    # --- filing ------------------------------------------------------------------------------------

    def apply(self, *, kind: str, profile: str, holder: str, actor: str, number: str | None = None,
              counterparty: str | None = None, object_type: ObjectType | None = None, rights: int = 7,
              payload: dict[str, Any] | None = None, document: bytes | None = None) -> Application:
        """Files an application (申请). Initial ones name the object; the others name a registered unit."""
        if kind not in KINDS:
            raise LedgerValueError(f"unknown registration kind {kind!r} (use one of {', '.join(KINDS)})")
        rules = self.profiles.get(profile.upper())
        if rules is None:
            raise LedgerValueError(f"unknown jurisdiction profile {profile!r} (known: {', '.join(self.profiles)})")
        self.accounts.get(holder)
        if counterparty is not None:
            self.accounts.get(counterparty)
        if kind == "initial":
            if object_type is None or not rules.allows(object_type):
                allowed = ", ".join(t.name.lower() for t in rules.object_type_ids())
                asked = object_type.name.lower() if object_type else "nothing"
                raise LedgerValueError(f"{rules.code} registers {allowed}; not {asked}")
            number = None
        else:
            if number is None:
                raise LedgerValueError(f"a {kind} application names the registration number of the unit")
            number = validate_number(number)
            if self.registry.unit(unit_id(number))["status"] == 0:
                raise NotFoundError(f"no registration unit {number} on chain")
        if kind in ("transfer", "licence", "pledge") and counterparty is None:
            raise LedgerValueError(f"a {kind} application names the counterparty (transferee, licensee, pledgee)")
        if not 0 < rights < 8:
            raise LedgerValueError("rights must name at least one of holding, processing-use, product-operation")
        app = Application(
            id=uuid.uuid4().hex, deployment=self.deployment_id, kind=kind, profile=rules.code,
            state=State.SUBMITTED, holder=holder, counterparty=counterparty, registration_number=number,
            object_type=int(object_type) if object_type else None, rights=rights,
            payload=json.dumps(payload or {}, ensure_ascii=False, sort_keys=True),
            document_hash=to_hex(document) if document else None,
        )
        with session_scope(self.engine) as session:
            session.add(app)
            session.flush()
            session.add(ApplicationEvent(application_id=app.id, action="submit", from_state="", to_state=app.state,
                                         actor=actor, document_hash=app.document_hash))
            session.refresh(app)
            session.expunge(app)
        return app

    def _step(self, application_id: str, action: str, actor: str, *, to: State | None = None, note: str = "",
              document: str | None = None, update: Callable[[Application], None] | None = None) -> Application:
        app = self.get(application_id)
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
        """Formal review passed; the third-party substantive review follows (SZ art. 15, DL art. 20)."""
        app = self.get(application_id)
        if not self.profile(app).requires_review:
            raise WorkflowError(f"{app.profile} has no third-party substantive review: approve after the formal review")
        return self._step(application_id, "pass_formal", actor)

    def file_review(self, application_id: str, reviewer: str, report: bytes) -> Application:
        """The third-party agency's report: its hash goes on chain (recordReview) before it is kept here."""
        app = self.get(application_id)
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
        rules = self.profile(app)
        if rules.requires_review and app.kind == "initial" and not app.review_report_hash:
            raise WorkflowError(f"{rules.code} needs the third-party review report before approval")
        if app.state == State.UNDER_FORMAL_REVIEW and rules.requires_review and app.kind == "initial":
            raise WorkflowError("the substantive review has not started: pass the formal review first")

        def allocate(row: Application) -> None:
            if row.kind == "initial" and row.registration_number is None:
                row.registration_number = self._next_number(rules)

        return self._step(application_id, "approve", actor, update=allocate)

    def reject(self, application_id: str, actor: str, reason: str) -> Application:
        """不予登记 with reasons (GD art. 9; GZ art. 18: notified within 3 wd)."""
        if not reason.strip():
            raise LedgerValueError("a rejection must give its reasons")
        return self._step(application_id, "reject", actor, note=reason)

    def withdraw(self, application_id: str, actor: str) -> Application:
        """撤回: any time before approval (DL art. 17)."""
        return self._step(application_id, "withdraw", actor)

    def start_notice(self, application_id: str, actor: str) -> Application:
        """公示: the profile's period in working or calendar days, counted from the next day."""
        app = self.get(application_id)
        rule = self.profile(app).notice
        if not self.needs_notice(app):
            raise WorkflowError(f"{app.profile} gives no public notice for {app.kind} registrations: register directly")
        period = notice_period(self.clock(), rule.length, rule.unit)

        def set_period(row: Application) -> None:
            row.notice_start, row.notice_end = period.start.isoformat(), period.end.isoformat()
            row.notice_official = period.official

        note = f"notice until {period.end.isoformat()}" + ("" if period.official else " (provisional calendar)")
        return self._step(application_id, "start_notice", actor, note=note, update=set_period)

    def object(self, application_id: str, objector: str, grounds: str) -> Application:
        """An objection during notice (GD art. 11; DL art. 23; GZ art. 19); anyone may object."""
        if not grounds.strip():
            raise LedgerValueError("an objection must state its grounds")
        app = self.get(application_id)
        if app.notice_end and self.clock() > date.fromisoformat(app.notice_end):
            raise WorkflowError(f"the notice of application {app.id[:8]} ended on {app.notice_end}")

        moved = self._step(application_id, "object", objector, note=grounds)
        with session_scope(self.engine) as session:
            session.add(NoticeObjection(application_id=moved.id, objector=objector, grounds=grounds))
        return moved

    def resolve_objection(self, application_id: str, actor: str, upheld: bool, note: str = "") -> Application:
        """Upheld → the registration ends (TERMINATED); dismissed → the notice goes on."""
        app = self.get(application_id)
        with session_scope(self.engine) as session:
            for row in session.exec(select(NoticeObjection).where(NoticeObjection.application_id == app.id,
                                                                  NoticeObjection.status == "pending")).all():
                row.status = "upheld" if upheld else "dismissed"
                session.add(row)
        return self._step(application_id, "resolve_objection", actor,
                          to=State.TERMINATED if upheld else State.IN_PUBLIC_NOTICE, note=note)

    def archive(self, application_id: str, actor: str) -> Application:
        return self._step(application_id, "archive", actor)

    # --- the chain step ----------------------------------------------------------------------------

    def register(self, application_id: str, actor: str) -> Application:
        """Records the registration on chain (outbox: signed transaction stored, then sent); the outbox's
        completion marks it REGISTERED. Re-running it for a registered application is a no-op; for one whose
        transaction is stored, it finishes that transaction."""
        app = self.get(application_id)
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
            assert app.notice_end is not None
            if self.clock() <= date.fromisoformat(app.notice_end):
                raise WorkflowError(f"the public notice runs until {app.notice_end} inclusive")
        self.stage(app, actor)
        return self._finish(self.get(app.id))

    def stage(self, app: Application, actor: str) -> ChainIntent:
        """Signs the registration transaction and stores it in the outbox — with the certificate it issues —
        in one database transaction, without sending it."""
        function, args, certificate_doc = self._chain_call(app)
        sender = self.sender(actor)
        request = self.handle.request(sender, function, *args)  # estimates: a refusal surfaces here, nothing sent
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

    def _consent(self, name: str, uid: bytes, action: Action, params: bytes, nonce_offset: int = 0) -> Any:
        signer = self.accounts.get(name).signer
        nonce = self.registry.nonce(signer.address) + nonce_offset
        return self.registry.consent(signer, uid, action, params, nonce=nonce).as_tuple()

    def _certificate(self, app: Application, number: str, version: int, holder: str, rights: int,
                     object_type: int, valid_until: int) -> dict[str, Any]:
        account = self.accounts.get(holder)
        payload = json.loads(app.payload)
        return certificate(
            registration_number=number, version=version, profile=self.profile(app), holder_name=payload.get(
                "holder_name", account.name), holder_address=account.address, holder_id=payload.get("uscc"),
            asset=payload.get("asset", {}), object_type=ObjectType(object_type), rights=rights,
            issued_on=self.clock(),
            valid_until=datetime.fromtimestamp(valid_until, CHINA).date() if valid_until else None,
            registry_name=self.registry_name, evidence_digests=payload.get("evidence_digests", []),
        )

    def _chain_call(self, app: Application) -> tuple[str, tuple[Any, ...], dict[str, Any] | None]:
        rules = self.profile(app)
        doc = parse_digest(app.document_hash) if app.document_hash else keccak256(f"decision:{app.id}".encode())
        payload = json.loads(app.payload)
        assert app.registration_number is not None
        uid = unit_id(app.registration_number)
        risk = parse_digest(payload["risk_acknowledgement"]) if payload.get("risk_acknowledgement") else ZERO32
        if app.kind == "initial":
            assert app.object_type is not None
            chain_now = int(self.registry.client.block("latest")["timestamp"], 16)
            valid_until = chain_now + rules.validity_days * 86_400 if rules.validity_days else 0
            cert = self._certificate(app, app.registration_number, 1, app.holder, app.rights, app.object_type,
                                     valid_until)
            cert_hash, holder = document_hash(cert), self.accounts.get(app.holder).address
            application_key = self.application_key(app)
            params = initial_params(application_key, holder, app.object_type, rules.id, app.rights, cert_hash, doc)
            registration = (app.registration_number, application_key, holder, app.object_type, rules.id,
                            app.rights, cert_hash, doc)
            return "registerInitial", (registration, self._consent(app.holder, uid, Action.INITIAL, params)), cert
        unit = self.registry.unit(uid)
        if app.kind in ("supplementary", "change"):
            cert = self._certificate(app, app.registration_number, unit["certificate_version"] + 1, app.holder,
                                     unit["rights"], unit["object_type"], unit["valid_until"])
            action = Action.SUPPLEMENTARY if app.kind == "supplementary" else Action.CHANGE
            cert_hash = document_hash(cert)
            consent = self._consent(app.holder, uid, action, reissue_params(cert_hash, doc, risk))
            return "reissue", (uid, int(action), cert_hash, doc, risk, consent), cert
        if app.kind == "transfer":
            assert app.counterparty is not None
            new_subject = app.counterparty if app.rights & 1 else app.holder
            cert = self._certificate(app, app.registration_number, unit["certificate_version"] + 1, new_subject,
                                     unit["rights"], unit["object_type"], unit["valid_until"])
            request = transfer_request(self.accounts.get(app.counterparty).address, app.rights,
                                       document_hash(cert), doc, risk)
            params = transfer_params(request)
            joint = rules.joint_filing
            from_consent = (self._consent(app.holder, uid, Action.TRANSFER, params) if joint
                            else EMPTY_CONSENT.as_tuple())
            to_consent = self._consent(app.counterparty, uid, Action.TRANSFER, params,
                                       int(joint and app.counterparty == app.holder))
            return "transfer", (uid, request, from_consent, to_consent), cert
        if app.kind in ("licence", "pledge"):
            assert app.counterparty is not None
            action = Action.LICENCE if app.kind == "licence" else Action.PLEDGE
            entry = entry_request(action, self.accounts.get(app.counterparty).address, app.rights,
                                  int(payload.get("valid_until", 0)), doc, risk)
            params = entry_params(entry)
            joint = rules.joint_filing
            holder_consent = self._consent(app.holder, uid, action, params) if joint else EMPTY_CONSENT.as_tuple()
            counter = self._consent(app.counterparty, uid, action, params,
                                    int(joint and app.counterparty == app.holder))
            return "addRightsEntry", (uid, entry, holder_consent, counter), None
        if app.kind == "release":
            entry_id = int(payload["entry_id"])
            counterparty = self.registry.entry(entry_id)["counterparty"]
            name = next((a.name for a in self.accounts if a.address == counterparty), None)
            if name is None:
                raise LedgerValueError(f"entry {entry_id}'s counterparty {counterparty} is not in the accounts file")
            consent = self._consent(name, uid, Action.RELEASE, release_params(entry_id, doc))
            return "releaseRightsEntry", (entry_id, doc, consent), None
        if app.kind == "cancellation":
            ground = CancellationGround[payload.get("ground", "holder").upper()]
            if ground is CancellationGround.HOLDER:
                consent = self._consent(app.holder, uid, Action.CANCELLATION, cancel_params(doc, risk))
                return "cancel", (uid, int(ground), doc, risk, consent), None
            return "cancel", (uid, int(ground), doc, ZERO32, EMPTY_CONSENT.as_tuple()), None
        if app.kind == "renewal":
            valid_until = unit["valid_until"] + rules.validity_days * 86_400
            cert = self._certificate(app, app.registration_number, unit["certificate_version"] + 1, app.holder,
                                     unit["rights"], unit["object_type"], valid_until)
            cert_hash = document_hash(cert)
            consent = self._consent(app.holder, uid, Action.RENEWAL, renew_params(cert_hash, doc))
            return "renew", (uid, cert_hash, doc, consent), cert
        raise LedgerValueError(f"unknown kind {app.kind}")
