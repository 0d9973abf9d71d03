"""Filing use cases (登记申请): every step of every registration type, for every shell (issue #11).

The CLI, the API and the scheduled duties call these; none of them drives the state machine step by step
itself, and none holds a rule. Every filing goes through the workflow (a history event, the outbox); the acts of
an authority on a unit outside the workflow (an objection registration, its court filing, its disposal or lapse,
a judicial order) go through the outbox and are recorded as registry acts with the rule they apply.

A filing on a registered unit is accepted and its review opened by the registry, then stops where the profile
makes it wait — a third-party review (SZ art. 16(4), 17(3)–(4); GZ art. 24–27; DL art. 20), a
public notice (GD art. 11; DL art. 23; GZ art. 19) — or is registered on chain at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, col, select

from ledger.context import Ledger
from ledger.db import session_scope
from ledger.documents import document_hash, objection_proof
from ledger.errors import ConsentRequiredError, ForbiddenError, LedgerValueError, NotFoundError
from ledger.hashing import canonical_json, digest_bytes, looks_like_digest, parse_digest, to_hex
from ledger.indexer.read_models import IxUnit
from ledger.lifecycle import Action, Right
from ledger.models import Application, ApplicationEvent, ConsentRequest, StoredDocument, utcnow
from ledger.numbering import unit_id, validate_number
from ledger.profiles import JurisdictionProfile, ObjectType
from ledger.proofs.signatures import recover
from ledger.registry import consent_digest, objection_id
from ledger.registry_acts import Act
from ledger.services.access import Grant, Viewer, grant, record_read, refusal, require_roles, require_staff
from ledger.services.registrations import Page
from ledger.services.schemas import (
    ActPublic,
    ApplicationEventPublic,
    ApplicationPublic,
    AuthorityActCreate,
    CancellationCreate,
    ChangeCreate,
    ConsentRequestPublic,
    ConsentSignature,
    EntryCreate,
    InitialApplicationCreate,
    NoticeObjectionCreate,
    NoticeObjectionPublic,
    NoticeObjectionResolution,
    ObjectionDisposal,
    ObjectionRegistrationCreate,
    ObjectionRegistrationPublic,
    OrderCreate,
    ReleaseCreate,
    RenewalCreate,
    ReviewDecision,
    TransferCreate,
    rights_mask,
)
from ledger.workdays import end_of_day, last_day
from ledger.workflow import State


@dataclass(frozen=True)
class Filed:
    """Where a filing stands after the steps that need no waiting, and what it waits for, in words."""

    application: Application
    waiting_for: str | None = None


def filed_view(ledger: Ledger, filed: Filed) -> ApplicationPublic:
    """What a caller reads after filing: the application, what it waits for, and the consents to sign."""
    view = ApplicationPublic.of(filed.application, filed.waiting_for)
    if filed.waiting_for == "consents":
        view.consents = [c for c in consents(ledger, filed.application.id) if not c.signed]
    return view


def registrar_of(ledger: Ledger, actor: str | None = None) -> str:
    """The registry account that runs the registry's own steps: ``actor`` if it is a registrar, else the first
    registrar this installation holds a key for."""
    names = [a.name for a in ledger.accounts.with_role("registrar")]
    if actor in names:
        return actor
    if not names:
        raise LedgerValueError("this installation holds no registrar key: the registry's steps cannot run here")
    return names[0]


def unit_profile(ledger: Ledger, number: str) -> tuple[IxUnit, JurisdictionProfile]:
    """A registered unit as the index holds it (brought up to the chain's head first: a filing must not rest on
    a stale view), with its jurisdiction profile."""
    ledger.indexer.run_once()
    number = validate_number(number)
    with Session(ledger.engine) as session:
        unit = session.get(IxUnit, (ledger.deployment.deployment_id, "0x" + unit_id(number).hex()))
    if unit is None:
        raise NotFoundError(f"no registration unit {number}")
    profile = next((p for p in ledger.profiles.values() if p.id == unit.profile_id), None)
    if profile is None:
        raise LedgerValueError(f"registration {number} is under profile {unit.profile_id}, unknown here")
    return unit, profile


def file_on_unit(ledger: Ledger, kind: str, number: str, actor: str, *, counterparty: str | None = None,
                 rights: int = Right.ALL, payload: dict[str, Any] | None = None, document: bytes | None = None,
                 filer: str | None = None) -> Filed:
    """Files a post-registration application (licence, pledge, release, transfer, change, cancellation,
    renewal, suspension, reinstatement, revocation) and runs it as far as the rules allow without waiting.
    ``actor`` acts for the registry where the registry acts (or registers, for an authority's act); ``filer``
    files it (default: ``actor``)."""
    unit, profile = unit_profile(ledger, number)
    workflow = ledger.workflow
    owner = workflow.account_of(unit.holder)
    if owner is None:
        raise LedgerValueError("the unit's holder is not in the accounts file")
    application = workflow.apply(kind=kind, profile=profile.code, holder=owner, actor=filer or actor,
                                 number=validate_number(number), counterparty=counterparty, rights=rights,
                                 payload=dict(payload or {}), document=document)
    registrar = registrar_of(ledger, actor)
    for step in (workflow.accept, workflow.begin_review):
        application = step(application.id, registrar)
    if profile.needs_review(kind):
        return Filed(workflow.pass_formal_review(application.id, registrar), "review")
    application = workflow.approve(application.id, registrar)
    if workflow.needs_notice(application):
        return Filed(workflow.start_notice(application.id, registrar), "notice")
    # the registry relays the registration; an authority registers its own act (a holder's filing is registered
    # by the registrar: the holder's part is its consent, TJIFA §6.4.3; REGISTRATION_RULES §1)
    roles = set(ledger.accounts.get(actor).roles)
    registrant = actor if roles & {"registrar", "judicial"} else registrar
    try:
        return Filed(workflow.register(application.id, registrant))
    except ConsentRequiredError:  # parties sign in their own wallets: the filing waits for them
        return Filed(workflow.get(application.id), "consents")


# --- the steps of an application -------------------------------------------------------------------------------


def _digest(value: str | None) -> bytes | None:
    return parse_digest(value) if value else None


def _object_type(name: str) -> ObjectType:
    try:
        return ObjectType[name.upper()]
    except KeyError:
        raise LedgerValueError(f"unknown object type {name!r}: use "
                               f"{', '.join(t.name.lower() for t in ObjectType)}") from None


def apply_initial(ledger: Ledger, form: InitialApplicationCreate, actor: str) -> Application:
    """An initial registration application (首次登记申请) with the content its certificate will carry (TJIFA
    §8.2.1); ``actor`` files it — the holder, or an agent registrar (GZ art. 16)."""
    return ledger.workflow.apply(kind="initial", profile=form.profile, holder=form.holder, actor=actor,
                                 object_type=_object_type(form.object_type), rights=rights_mask(form.rights),
                                 payload=form.payload(), document=_digest(form.document_hash))


def accept(ledger: Ledger, application_id: str, actor: str) -> Application:
    """受理, and the formal review begins."""
    workflow = ledger.workflow
    workflow.accept(application_id, actor)
    return workflow.begin_review(application_id, actor)


def review(ledger: Ledger, application_id: str, actor: str, decision: ReviewDecision) -> Application:
    """A review step: the formal review passed, the third-party report filed (the reviewer), a supplement
    requested (补正, AH art. 20), or the registration refused."""
    workflow = ledger.workflow
    if decision.decision == "pass":
        return workflow.pass_formal_review(application_id, actor)
    if decision.decision == "report":
        report = _digest(decision.report_hash)
        assert report is not None
        return workflow.file_review(application_id, actor, report)
    if decision.decision == "supplement":
        return workflow.request_supplement(application_id, actor, decision.reason or "")
    return workflow.reject(application_id, actor, decision.reason or "")


def resubmit(ledger: Ledger, application_id: str, actor: str, document_hash: str | None = None) -> Application:
    return ledger.workflow.resubmit(application_id, actor, _digest(document_hash))


def approve(ledger: Ledger, application_id: str, actor: str) -> Application:
    return ledger.workflow.approve(application_id, actor)


def start_notice(ledger: Ledger, application_id: str, actor: str) -> Application:
    return ledger.workflow.start_notice(application_id, actor)


def register(ledger: Ledger, application_id: str, actor: str) -> Application:
    """Records the registration on chain (idempotent: a registered application is left as it is)."""
    return ledger.workflow.register(application_id, actor)


def withdraw(ledger: Ledger, application_id: str, actor: str) -> Application:
    return ledger.workflow.withdraw(application_id, actor)


def object_to_notice(ledger: Ledger, application_id: str, actor: str, form: NoticeObjectionCreate) -> Application:
    """An objection during public notice; ``actor`` is the objector."""
    return ledger.workflow.object(application_id, actor, form.grounds, objector_name=form.objector_name,
                                  objector_id=form.objector_id, evidence=_digest(form.evidence_hash))


def resolve_notice_objection(ledger: Ledger, application_id: str, actor: str,
                             form: NoticeObjectionResolution) -> Application:
    return ledger.workflow.resolve_objection(application_id, actor, form.upheld, objection=form.objection)


def _reviewing(ledger: Ledger, viewer: Viewer, app: Application) -> bool:
    """Whether a third-party reviewer reads ``app`` for its review: in substantive review, or one it reported on
    (SZ art. 15; AH art. 26; GZ art. 24–27)."""
    if "reviewer" not in viewer.roles:
        return False
    return app.state == State.UNDER_SUBSTANTIVE_REVIEW or any(
        e.actor == viewer.account and e.action == "file_review" for e in ledger.workflow.history(app.id))


def may_read(ledger: Ledger, viewer: Viewer, app: Application, action: str = "application") -> Grant:
    """Applications are not public: their parties, the registry, the third-party reviewer of the application, a
    court with its document (REGISTRATION_RULES §6.2); the read is logged (as ``action``)."""
    parties = {ledger.accounts.get(n).address for n in (app.holder, app.counterparty) if n}
    allowed = grant(viewer, parties)
    if (allowed is None or allowed.role in ("exchange", "bank")) and _reviewing(ledger, viewer, app):
        allowed = Grant("reviewer", "third-party review of the application (SZ art. 15; AH art. 26)")
    if allowed is None or allowed.role in ("exchange", "bank"):
        raise refusal(viewer, f"application {app.id[:8]} is not public: its parties, the registry, its reviewer, or "
                      "a court with its document may read it")
    record_read(ledger, viewer, allowed, action, app.id)
    return allowed


def application(ledger: Ledger, application_id: str, *, viewer: Viewer) -> ApplicationPublic:
    """An application with its history, its notice objections and the consents requested of wallet-holding
    parties."""
    workflow = ledger.workflow
    app = workflow.get(application_id)
    may_read(ledger, viewer, app)
    view = ApplicationPublic.of(app)
    view.history = [ApplicationEventPublic.of(e) for e in workflow.history(app.id)]
    view.objections = [NoticeObjectionPublic.of(o) for o in workflow.objections(app.id)]
    view.consents = consents(ledger, app.id)
    return view


# --- consents signed in the parties' own wallets (issue #11 §3) ------------------------------------------------


def consents(ledger: Ledger, application_id: str, *, viewer: Viewer | None = None) -> list[ConsentRequestPublic]:
    """The consents requested for an application, newest request of each first. They name the parties' accounts
    and the filing, so they are for whom may read the application (its parties — a wallet-held party signs its
    request with its own key —, the registry, a court with its document; REGISTRATION_RULES §6.2); ``viewer``
    None: a caller that checked already."""
    app = ledger.workflow.get(application_id)
    if viewer is not None:
        may_read(ledger, viewer, app, "consents")
    with Session(ledger.engine) as session:
        rows = session.exec(select(ConsentRequest).where(ConsentRequest.application_id == app.id)
                            .order_by(col(ConsentRequest.id))).all()
        return [ConsentRequestPublic.of(r) for r in rows]


def submit_consent(ledger: Ledger, application_id: str, consent_id: int, form: ConsentSignature,
                   ) -> ConsentRequestPublic:
    """A party's signature over its consent's EIP-712 message, posted by the party or relayed by anyone: it is
    accepted only if it is the party's (canonical secp256k1, low s — what the contract checks) for exactly the
    message requested; the registry relays it when it registers (the holder pays no gas, TJIFA App. 2)."""
    app = ledger.workflow.get(application_id)
    signature = bytes.fromhex(form.signature[2:])
    with session_scope(ledger.engine) as session:
        row = session.get(ConsentRequest, consent_id)
        if row is None or row.application_id != app.id:
            raise NotFoundError(f"application {app.id[:8]} has no consent request {consent_id}")
        digest = consent_digest(ledger.assets.domain_separator, parse_digest(row.unit_id), Action(row.action),
                                parse_digest(row.params_hash), row.nonce, row.deadline)
        signer = recover(digest, signature)
        if signer.lower() != row.signer.lower():
            raise ForbiddenError(f"this signature is by {signer}, not by {row.signer_name} ({row.signer}) whose "
                                 "consent is requested")
        row.signature, row.signed_at = "0x" + signature.hex(), utcnow()
        session.add(row)
        session.add(ApplicationEvent(application_id=app.id, action="consent", from_state=app.state,
                                     to_state=app.state, actor=row.signer_name,
                                     note=f"consent {row.id} signed by {row.signer} in its wallet"))
        session.flush()
        session.refresh(row)
        return ConsentRequestPublic.of(row)


def applications(ledger: Ledger, state: str | None = None, kind: str | None = None, offset: int = 0,
                 limit: int = 50, *, viewer: Viewer, own: bool = False) -> Page[ApplicationPublic]:
    """Applications by state and kind, newest first: what waits, what is stuck, what is done — all of them for
    the registry's staff, one's own for a party (its own records, TJIFA §6.3.4) — and with ``own`` one's own
    whoever one is; the read is logged."""
    if offset < 0 or not 1 <= limit <= 500:
        raise LedgerValueError("offset must be >= 0 and limit between 1 and 500")
    if state is not None and state not in {s.value for s in State}:
        raise LedgerValueError(f"unknown state {state!r} (use one of {', '.join(s.value for s in State)})")
    if viewer.public:
        raise refusal(viewer, "applications are not public: sign in as a party or as the registry")
    rows = ledger.workflow.applications(state, kind)
    if own:
        rows = [a for a in rows if viewer.account in (a.holder, a.counterparty)]
        record_read(ledger, viewer, Grant("holder", "the party's own applications (TJIFA §6.3.4)"), "applications",
                    f"own state={state or '*'} kind={kind or '*'}")
    elif viewer.staff or "judicial" in viewer.roles:  # a court only with its judicial document (TJIFA §6.3.5)
        record_read(ledger, viewer, require_staff(viewer, "the list of applications"), "applications",
                    f"state={state or '*'} kind={kind or '*'}")
    elif "reviewer" in viewer.roles:  # the applications it reviews (SZ art. 15; AH art. 26)
        rows = [a for a in rows if _reviewing(ledger, viewer, a)]
        record_read(ledger, viewer, Grant("reviewer", "third-party review of the applications (SZ art. 15)"),
                    "applications", f"reviewing state={state or '*'} kind={kind or '*'}")
    else:
        rows = [a for a in rows if viewer.account in (a.holder, a.counterparty)]
        record_read(ledger, viewer, Grant("holder", "the party's own applications (TJIFA §6.3.4)"), "applications",
                    f"own state={state or '*'} kind={kind or '*'}")
    return Page[ApplicationPublic](data=[ApplicationPublic.of(a) for a in rows[offset : offset + limit]],
                                   count=len(rows))


# --- filings on a registered unit ------------------------------------------------------------------------------


def _end_of_day(day: str | None) -> int | None:
    """The end (24:00 China time) of a YYYY-MM-DD day."""
    if day is None:
        return None
    try:
        return end_of_day(date.fromisoformat(day))
    except ValueError:
        raise LedgerValueError(f"{day!r} is not a date (YYYY-MM-DD)") from None


def file_entry(ledger: Ledger, kind: str, number: str, actor: str, form: EntryCreate) -> Filed:
    """A licence (许可登记) or pledge (质押) on the rights page (TJIFA §8.2.2)."""
    if kind not in ("licence", "pledge"):
        raise LedgerValueError(f"{kind!r} is not a rights-page entry (licence or pledge)")
    payload = form.payload()
    until = _end_of_day(form.valid_until)
    if until is not None:
        payload["valid_until"] = until
    return file_on_unit(ledger, kind, number, actor, counterparty=form.counterparty,
                        rights=rights_mask(form.rights), payload=payload, document=_digest(form.document_hash))


def file_release(ledger: Ledger, number: str, actor: str, form: ReleaseCreate) -> Filed:
    return file_on_unit(ledger, "release", number, actor, payload={**form.payload(), "entry_id": form.entry_id},
                        document=_digest(form.document_hash))


def file_transfer(ledger: Ledger, number: str, actor: str, form: TransferCreate) -> Filed:
    payload = form.payload()
    if form.new_holder is not None:
        payload["new_holder"] = form.new_holder.model_dump()
    return file_on_unit(ledger, "transfer", number, actor, counterparty=form.to, rights=rights_mask(form.rights),
                        payload=payload, document=_digest(form.document_hash))


def file_change(ledger: Ledger, number: str, actor: str, form: ChangeCreate) -> Filed:
    changes = {k: v for k, v in (("asset", form.asset), ("holder", form.holder)) if v}
    return file_on_unit(ledger, "change", number, actor, payload={**form.payload(), "changes": changes},
                        document=_digest(form.document_hash))


def file_cancellation(ledger: Ledger, number: str, actor: str, form: CancellationCreate) -> Filed:
    return file_on_unit(ledger, "cancellation", number, actor, payload={**form.payload(), "ground": form.ground},
                        document=_digest(form.document_hash))


def file_renewal(ledger: Ledger, number: str, actor: str, form: RenewalCreate) -> Filed:
    payload = form.payload()
    if form.data_valid_until:
        payload["data_valid_until"] = form.data_valid_until
    return file_on_unit(ledger, "renewal", number, actor, payload=payload, document=_digest(form.document_hash))


def file_authority_act(ledger: Ledger, kind: str, number: str, actor: str, form: AuthorityActCreate) -> Filed:
    """A suspension (中止, DL art. 22), reinstatement or revocation (撤销, AH art. 23; GD art. 22; GZ art. 34)."""
    if kind not in ("suspension", "reinstatement", "revocation"):
        raise LedgerValueError(f"{kind!r} is not an authority's act (suspension, reinstatement, revocation)")
    return file_on_unit(ledger, kind, number, actor, document=_digest(form.document_hash))


# --- objection registrations and orders (acts on a unit, recorded with their transaction) ----------------------


def objection_matter(grounds: str) -> bytes:
    """An objection's identity: its normalised grounds (the same text = the same objection; after a lapse it may
    not be filed again, SZ art. 20)."""
    return digest_bytes(" ".join(grounds.split()).encode())


def _act(ledger: Ledger, actor: str, act: Act, function: str, *args: object) -> ActPublic:
    """Sends an act's transaction with the act in its outbox ref, so the act is recorded (``registry_act``) in the
    database transaction that records the transaction mined; a refusal is raised before anything is sent."""
    handle = ledger.assets.handle
    sender = ledger.sender(actor)
    request = handle.request(sender, function, *args)
    tx_hash = sender.send(request, ref=act.ref())
    receipt = sender.wait([tx_hash])[0]
    handle.raise_for_status(receipt, sender.address)
    return ActPublic(kind=act.kind, registration_number=act.registration_number or "", subject=act.subject,
                     tx_hash=tx_hash, block_number=int(receipt["blockNumber"], 16))


def _objection_of(ledger: Ledger, number: str, objection: str) -> tuple[str, bytes, bytes]:
    """(number, unit id, objection id) of an objection named by its id (0x...) or by its grounds."""
    number = validate_number(number)
    uid = unit_id(number)
    oid = parse_digest(objection) if looks_like_digest(objection) else objection_id(uid, objection_matter(objection))
    return number, uid, oid


def register_objection(ledger: Ledger, number: str, actor: str,
                       form: ObjectionRegistrationCreate) -> ObjectionRegistrationPublic:
    """An objection registration (异议登记, SZ art. 20) on a registered unit: written on the unit's record on chain,
    recorded as a registry act, and — where the rules give the objector a filing deadline — its proof
    (异议登记证明) issued and kept. The proof is checked before anything is written. The registration authority
    registers it (SZ art. 20)."""
    require_roles(ledger, actor, ("registrar",), "an objection registration (SZ art. 20)")
    unit, profile = unit_profile(ledger, number)
    number = unit.registration_number
    uid = parse_digest(unit.unit_id)
    matter_hash = objection_matter(form.grounds)
    oid = objection_id(uid, matter_hash)
    objector = ledger.accounts.get(form.objector).address
    evidence = parse_digest(form.evidence_hash)
    matter = form.matter or f"登记单元 {number} 的登记内容"

    def proof(deadline_day: date) -> dict[str, Any]:
        return objection_proof(
            registry=ledger.settings.registry_name, registration_number=number, objection_id=oid,
            objector={"name": form.objector_name, "id_kind": form.objector_id_kind, "id_number": form.objector_id,
                      "account": objector},
            matter=matter, grounds=form.grounds, evidence_digests=[evidence],
            accepted_on=ledger.workflow.chain_date(), filing_deadline=deadline_day)

    if profile.objection_days:
        proof(ledger.workflow.chain_date() + timedelta(days=profile.objection_days))  # refuse bad input first
    rule = "SZ art. 20" if profile.objection_days else f"{profile.code}: objection flag (REGISTRATION_RULES §3.5)"
    _act(ledger, actor, Act("objection", to_hex(oid), ledger.workflow.chain_time(), rule,
                            f"objection registered for {form.objector_name}: {form.grounds}", to_hex(uid), number,
                            actor, to_hex(evidence)),
         "fileObjection", uid, objector, matter_hash, evidence)
    deadline = int(ledger.assets.objection(oid)["deadline"])
    if not deadline:
        return ObjectionRegistrationPublic(objection_id=to_hex(oid), registration_number=number, deadline=None,
                                           proof=None)  # AH art. 23: the flag stands until decided
    document = proof(last_day(deadline))
    with session_scope(ledger.engine) as session:
        key = to_hex(document_hash(document))
        if session.get(StoredDocument, key) is None:
            session.add(StoredDocument(sha256=key, kind="objection-proof", body=canonical_json(document).decode()))
    return ObjectionRegistrationPublic(objection_id=to_hex(oid), registration_number=number,
                                       deadline=f"{last_day(deadline).isoformat()} 24:00 China time", proof=document)


def record_litigation(ledger: Ledger, number: str, objection: str, actor: str, acceptance_hash: str) -> ActPublic:
    """The objector lodged a court or arbitration filing in time (SZ art. 20): the objection does not lapse. The
    registry records the acceptance notice, or the court itself."""
    require_roles(ledger, actor, ("registrar", "judicial"), "recording a court's acceptance notice (SZ art. 20)")
    number, uid, oid = _objection_of(ledger, number, objection)
    acceptance = parse_digest(acceptance_hash)
    return _act(ledger, actor, Act("objection_litigation", to_hex(oid), ledger.workflow.chain_time(), "SZ art. 20",
                                   "the court's or arbitral body's acceptance notice recorded", to_hex(uid), number,
                                   actor, to_hex(acceptance)),
                "recordObjectionLitigation", oid, acceptance)


def dispose_of_objection(ledger: Ledger, number: str, objection: str, actor: str,
                         form: ObjectionDisposal) -> ActPublic:
    """The court disposes of an objection registration with its judgment, ruling or award (SZ art. 20)."""
    require_roles(ledger, actor, ("judicial",), "disposing of an objection registration (SZ art. 20)")
    number, uid, oid = _objection_of(ledger, number, objection)
    order = parse_digest(form.document_hash)
    outcome = "upheld" if form.upheld else "dismissed"
    return _act(ledger, actor, Act("objection_resolution", to_hex(oid), ledger.workflow.chain_time(), "SZ art. 20",
                                   f"objection {outcome} by judgment, ruling or award", to_hex(uid), number, actor,
                                   to_hex(order)),
                "resolveObjection", oid, form.upheld, order)


def lapse_objection(ledger: Ledger, number: str, objection: str, actor: str) -> ActPublic:
    """An objection registration whose filing deadline passed without a court filing lapses (SZ art. 20; the duty
    pass does it by itself — this is the registry doing it at once, so only the registry may)."""
    require_roles(ledger, actor, ("registrar",), "lapsing an objection registration (SZ art. 20)")
    number, uid, oid = _objection_of(ledger, number, objection)
    deadline = int(ledger.assets.objection(oid)["deadline"])
    return _act(ledger, actor, Act("objection_lapse", to_hex(oid), deadline, "SZ art. 20",
                                   "no court or arbitration acceptance lodged in time: the objection registration "
                                   "lapsed", to_hex(uid), number, actor),
                "lapseObjection", oid)


def record_order(ledger: Ledger, number: str, actor: str, form: OrderCreate) -> ActPublic:
    """A court or arbitration order concerning a unit (the judicial role); ex-officio acts cite it (SZ art. 19)."""
    require_roles(ledger, actor, ("judicial",), "recording a court or arbitration order (SZ art. 19)")
    number = validate_number(number)
    uid = unit_id(number)
    order = parse_digest(form.document_hash)
    return _act(ledger, actor, Act("judicial_order", to_hex(order), ledger.workflow.chain_time(), "SZ art. 19",
                                   "court or arbitration order recorded", to_hex(uid), number, actor, to_hex(order)),
                "recordJudicialOrder", uid, order)
