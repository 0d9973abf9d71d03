"""``ledger registry`` — the registration authority's commands (登记机构操作).

Initial registrations go step by step (apply, accept, review, approve, notice, register); the filings on a
registered unit (licence, pledge, release, transfer, change, cancel, renew, suspend, reinstate, revoke) run
through the same workflow and stop where the rules make them wait (third-party review, public notice).
Holders' consents are signed with their keys from the accounts file (dev); in production the holders sign in
their own wallets. Reads never write, and a stored transaction of another filing never blocks a command.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.table import Table

from ledger.errors import LedgerValueError
from ledger.hashing import digest_file, looks_like_digest, parse_digest, to_hex
from ledger.lifecycle import Right

if TYPE_CHECKING:
    from ledger.context import Ledger
    from ledger.models import Application
    from ledger.services import applications

app = typer.Typer(help="Registration units: apply, review, notice, register, and every later filing.",
                  no_args_is_help=True)
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 240)

AsOption = Annotated[str, typer.Option("--as", help="Acting account (accounts file name).")]
RIGHT_NAMES = {"holding": Right.HOLDING, "processing-use": Right.PROCESSING_USE,
               "product-operation": Right.PRODUCT_OPERATION, "all": Right.ALL}


def _ledger(ctx: typer.Context) -> Ledger:
    """The ledger for a command that files something. A stored transaction of another filing never blocks this
    one (the outbox finishes it: `ledger chain reconcile`, or `ledger serve` in the background); what this
    command got mined is indexed when it ends, so the next read sees it."""
    from ledger.context import Ledger
    ledger = Ledger(ctx.obj)
    ctx.call_on_close(ledger.catch_up)
    return ledger


def _reader(ctx: typer.Context) -> Ledger:
    """The ledger for a read: reads never write (the index answers, and says how far behind it is)."""
    from ledger.context import Ledger
    return Ledger(ctx.obj)


def _rights(text: str) -> int:
    mask = 0
    for part in text.split(","):
        if part.strip() not in RIGHT_NAMES:
            raise LedgerValueError(f"unknown right {part!r}: use {', '.join(RIGHT_NAMES)} (comma-separated)")
        mask |= RIGHT_NAMES[part.strip()]
    return mask


M = TypeVar("M", bound=BaseModel)


def _form(model: type[M], values: dict[str, Any]) -> M:
    """The service's input model from command-line values; a bad value is refused naming the field."""
    from ledger.document_schemas import problems
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise LedgerValueError(problems(exc)) from None


def _digest_text(path: Path | None) -> str | None:
    """A document's SHA-256 (0x-hex): the file stays here, its digest is what is recorded."""
    return to_hex(digest_file(path)) if path else None


def _right_names(text: str) -> list[str]:
    from ledger.services.schemas import RIGHT_BITS
    mask = _rights(text)
    return [name for name, bit in RIGHT_BITS.items() if mask & bit]


def _digest_or_file(value: str | None) -> str | None:
    if value is None:
        return None
    return to_hex(parse_digest(value)) if looks_like_digest(value) else to_hex(digest_file(Path(value)))


def _report(application: Application, extra: str = "") -> None:
    from ledger.workflow import State
    line = f"application {application.id[:12]} ({application.kind}, {application.profile}): {application.state}"
    if application.registration_number:
        line += f", registration number {application.registration_number}"
    if application.state == State.IN_PUBLIC_NOTICE:
        line += f", public notice until {application.notice_end}"
        if not application.notice_official:
            line += " (provisional: no official calendar for that year yet)"
    console.print(line + extra, highlight=False)


def _asset(name: str | None, version: str | None, form: str | None, acquisition: str | None,
           update_cycle: str | None, scenarios: str | None, scope: str | None,
           industry: str | None = None) -> dict[str, Any]:
    """Asset content given on the command line; only the given fields (a change changes only those)."""
    cycle, custom = update_cycle, None
    if update_cycle and update_cycle.startswith("custom:"):
        cycle, custom = "custom", update_cycle.removeprefix("custom:").strip()
    fields = {"name": name, "version": version, "form": form, "acquisition": acquisition, "update_cycle": cycle,
              "update_cycle_custom": custom, "scope": scope, "industry": industry,
              "scenarios": [s.strip() for s in scenarios.split(";") if s.strip()] if scenarios else None}
    return {k: v for k, v in fields.items() if v is not None}


NameOption = Annotated[str | None, typer.Option(help="Asset name.")]
VersionOption = Annotated[str | None, typer.Option("--version", help="Asset version.")]
FormOption = Annotated[str | None, typer.Option(help="Data-asset type: dataset, interface, report, application, "
                                                "other (数据集/接口/报告/应用/其他).")]
AcquisitionOption = Annotated[str | None, typer.Option(help="How the data was obtained: original, collected, "
                                                       "traded, other.")]
CycleOption = Annotated[str | None, typer.Option(help="Update cycle: real_time, daily, monthly, or custom:TEXT.")]
ScenariosOption = Annotated[str | None, typer.Option(help="Permitted scenarios, separated by ';'.")]
ScopeOption = Annotated[str | None, typer.Option(help="Permitted scope of use.")]
HolderKindOption = Annotated[str, typer.Option(help="legal_person, organisation or natural_person.")]


@app.command()
def apply(
    ctx: typer.Context,
    profile: Annotated[str, typer.Option(help="Jurisdiction profile: TJIFA, SZ, AH, GD, GZ, DL ...")],
    holder: Annotated[str, typer.Option(help="The applicant (accounts file name).")],
    object_type: Annotated[str, typer.Option("--type", help="data_resource, data_product, data_asset ...")],
    name: Annotated[str, typer.Option(help="Name of the data resource or product.")],
    holder_name: Annotated[str, typer.Option(help="The holder's legal name, as the certificate prints it.")],
    form_: Annotated[str, typer.Option("--form", help="Data-asset type: dataset, interface, report, application, "
                                       "other.")],
    acquisition: Annotated[str, typer.Option(help="How the data was obtained: original, collected, traded, other.")],
    update_cycle: Annotated[str, typer.Option(help="Update cycle: real_time, daily, monthly, or custom:TEXT.")],
    scenarios: Annotated[str, typer.Option(help="Permitted scenarios, separated by ';'.")],
    scope: Annotated[str, typer.Option(help="Permitted scope of use.")],
    uscc: Annotated[str | None, typer.Option(help="Unified social credit code (统一社会信用代码; required for a "
                                             "legal person or organisation).")] = None,
    holder_kind: HolderKindOption = "legal_person",
    version: VersionOption = None,
    industry: Annotated[str | None, typer.Option(help="Industry or field (所属行业).")] = None,
    rights: Annotated[str, typer.Option(help="Rights to register: holding, processing-use, "
                                        "product-operation or all.")] = "all",
    document: Annotated[Path | None, typer.Option(help="The application document.")] = None,
    fingerprint: Annotated[str | None, typer.Option(help="The data's content fingerprint (a digest, or a file "
                                                    "hashed with SHA-256): the same holder cannot register the same "
                                                    "data twice.")] = None,
    data_valid_until: Annotated[str | None, typer.Option(help="The data's own validity (YYYY-MM-DD), where the "
                                                         "profile lets it shorten the certificate's.")] = None,
    simple: Annotated[bool, typer.Option("--simple", help="The simple procedure (GD art. 16: 1 wd notice).")] = False,
    actor: Annotated[str | None, typer.Option("--as", help="Filer, if not the holder (agent filing).")] = None,
) -> None:
    """File an initial registration application (首次登记申请) with the content its certificate will carry
    (TJIFA §8.2.1: holder's legal name and code, asset name, type, acquisition, update cycle, scenarios, scope)."""
    from ledger.services import applications
    from ledger.services.schemas import InitialApplicationCreate
    cycle, custom = update_cycle, None
    if update_cycle.startswith("custom:"):
        cycle, custom = "custom", update_cycle.removeprefix("custom:").strip()
    form = _form(InitialApplicationCreate, {
        "profile": profile, "holder": holder, "object_type": object_type,
        "holder_identity": {"legal_name": holder_name, "kind": holder_kind, "uscc": uscc},
        "asset": {"name": name, "version": version, "form": form_, "acquisition": acquisition,
                  "update_cycle": cycle, "update_cycle_custom": custom, "industry": industry, "scope": scope,
                  "scenarios": [x.strip() for x in scenarios.split(";") if x.strip()]},
        "rights": _right_names(rights), "document_hash": _digest_text(document),
        "content_fingerprint": _digest_or_file(fingerprint), "data_valid_until": data_valid_until, "simple": simple})
    _report(applications.apply_initial(_ledger(ctx), form, actor or holder))


@app.command()
def accept(ctx: typer.Context, application: str, actor: AsOption = "registrar") -> None:
    """Accept an application (受理) and start its formal review."""
    from ledger.services import applications
    _report(applications.accept(_ledger(ctx), application, actor))


@app.command()
def review(
    ctx: typer.Context, application: str,
    passed: Annotated[bool, typer.Option("--pass", help="Formal review passed: on to substantive review.")] = False,
    report: Annotated[Path | None, typer.Option(help="Third-party substantive-review report.")] = None,
    supplement: Annotated[str | None, typer.Option(help="Request a supplement: what is missing.")] = None,
    reject: Annotated[str | None, typer.Option(help="Refuse registration, with reasons.")] = None,
    actor: AsOption = "registrar",
) -> None:
    """Review: pass the formal review, file the third-party report (--as reviewer), request a supplement, or
    reject."""
    from ledger.services import applications
    from ledger.services.schemas import ReviewDecision
    if sum((passed, report is not None, supplement is not None, reject is not None)) != 1:
        raise LedgerValueError("give exactly one of --pass, --report, --supplement, --reject")
    decision = "pass" if passed else "report" if report is not None else "supplement" if supplement else "reject"
    form = _form(ReviewDecision, {"decision": decision, "report_hash": _digest_text(report),
                                  "reason": supplement if supplement is not None else reject})
    _report(applications.review(_ledger(ctx), application, actor, form))


@app.command()
def resubmit(ctx: typer.Context, application: str, actor: AsOption,
             document: Annotated[Path | None, typer.Option(help="The corrected materials.")] = None) -> None:
    """Resubmit after a supplement request."""
    from ledger.services import applications
    _report(applications.resubmit(_ledger(ctx), application, actor, _digest_text(document)))


@app.command()
def approve(ctx: typer.Context, application: str, actor: AsOption = "registrar") -> None:
    """Approve (the registration number is allocated now)."""
    from ledger.services import applications
    _report(applications.approve(_ledger(ctx), application, actor))


@app.command()
def notice(ctx: typer.Context, application: str, actor: AsOption = "registrar") -> None:
    """Start the public notice (公示) for the profile's period."""
    from ledger.services import applications
    _report(applications.start_notice(_ledger(ctx), application, actor))


@app.command()
def register(ctx: typer.Context, application: str, actor: AsOption = "registrar") -> None:
    """Record the registration on chain once notice (if any) has passed; a registered one is left as it is."""
    from ledger.services import applications
    _report(applications.register(_ledger(ctx), application, actor))


@app.command()
def withdraw(ctx: typer.Context, application: str, actor: AsOption) -> None:
    """Withdraw an application before approval (撤回, DL art. 17): the applicant, or the registry."""
    from ledger.services import applications
    _report(applications.withdraw(_ledger(ctx), application, actor))


@app.command("applications")
def list_applications(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option(help="Only this state (submitted, in_public_notice ...).")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
) -> None:
    """List applications by state: what waits, what is stuck, what is done."""
    from ledger.services import applications
    from ledger.services.access import OPERATOR
    page = applications.applications(_reader(ctx), state, kind, limit=500, viewer=OPERATOR)
    table = Table("application", "kind", "profile", "state", "registration", "applicant", "updated",
                  title=f"{page.count} application(s)")
    for row in page.data:
        table.add_row(row.id[:12], row.kind, row.profile, row.state, row.registration_number or "", row.holder,
                      row.updated_at.isoformat(timespec="seconds"))
    console.print(table)


@app.command()
def duties(ctx: typer.Context, actor: AsOption = "registrar") -> None:
    """Do the duties time made due (``ledger serve`` does them by itself): lapse objections (SZ art. 20), record
    expiries and cancel under GZ art. 35, register applications whose notice ended, issue renewal reminders, and
    end applications whose notice objection was not resolved in time (AH art. 22, GD art. 23)."""
    from ledger.services.duties import run_duties
    done = run_duties(_ledger(ctx), actor)
    console.print(f"{done.ended_by_deadline} application(s) moved by a deadline; {done.lapsed} objection(s) lapsed; "
                  f"{done.expired} registration(s) expired, {done.cancelled} cancellation(s) filed; "
                  f"{done.registered} registered after their notice; {done.reminded} renewal reminder(s)",
                  highlight=False)


@app.command("object")
def object_(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="An application in notice, or a registration number.")],
    objector: Annotated[str, typer.Option(help="The objector (accounts file name).")],
    grounds: Annotated[str, typer.Option(help="Grounds of the objection (they also identify it).")],
    evidence: Annotated[Path | None, typer.Option(help="The objector's evidence (its digest is recorded).")] = None,
    matter: Annotated[str | None, typer.Option(help="The matter objected to (异议事项; default: the unit).")] = None,
    objector_name: Annotated[str, typer.Option(help="The objector's legal name.")] = "",
    objector_id: Annotated[str, typer.Option(help="The objector's ID number or credit code.")] = "",
    objector_id_kind: Annotated[str, typer.Option(help="uscc, resident_id, passport or other.")] = "uscc",
    proof_out: Annotated[Path | None, typer.Option("--proof", help="Where to write the objection-registration "
                                                   "proof PDF.")] = None,
    actor: AsOption = "registrar",
) -> None:
    """Object during notice, or register an objection against a registered unit (异议登记, SZ art. 20): the
    objector gets its proof (异议登记证明) with the court/arbitration filing deadline."""
    from ledger.services import applications
    from ledger.services.schemas import NoticeObjectionCreate, ObjectionRegistrationCreate
    ledger = _ledger(ctx)
    if "-" not in target:
        form = _form(NoticeObjectionCreate, {"grounds": grounds, "objector_name": objector_name or objector,
                                             "objector_id": objector_id or "-",
                                             "evidence_hash": _digest_text(evidence)})
        _report(applications.object_to_notice(ledger, target, objector, form))
        return
    if evidence is None or not objector_name or not objector_id:
        raise LedgerValueError("an objection registration records the objector's identity and evidence: give "
                               "--objector-name, --objector-id and --evidence (SZ art. 20)")
    registered = applications.register_objection(ledger, target, actor, _form(ObjectionRegistrationCreate, {
        "objector": objector, "objector_name": objector_name, "objector_id": objector_id,
        "objector_id_kind": objector_id_kind, "grounds": grounds, "matter": matter,
        "evidence_hash": _digest_text(evidence)}))
    number = registered.registration_number
    if registered.proof is None:
        console.print(f"objection registered on {number}: it stands until decided (no filing deadline)",
                      highlight=False)
        return
    from ledger.pdf import render_pdf

    out = proof_out or Path(f"objection-{number}-{registered.objection_id[2:10]}.pdf")
    out.write_bytes(render_pdf(registered.proof))
    console.print(f"objection registered on {number}; court/arbitration filing due by {registered.deadline}; "
                  f"proof written to {out}", highlight=False)


@app.command()
def litigation(
    ctx: typer.Context, number: str,
    grounds: Annotated[str, typer.Option(help="Grounds of the objection (identifies it).")],
    notice_of_acceptance: Annotated[Path, typer.Option("--acceptance", help="The court's or arbitration body's "
                                                       "acceptance notice (受理通知书).")],
    actor: AsOption = "registrar",
) -> None:
    """Record that the objector lodged a court or arbitration filing in time (SZ art. 20): no lapse."""
    from ledger.services import applications
    applications.record_litigation(_ledger(ctx), number, grounds, actor, to_hex(digest_file(notice_of_acceptance)))
    console.print("court/arbitration acceptance recorded: the objection stands until decided", highlight=False)


@app.command()
def resolve(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="An application with a notice objection, or a registration number.")],
    upheld: Annotated[bool, typer.Option("--upheld/--dismissed", help="Outcome.")],
    grounds: Annotated[str | None, typer.Option(help="Grounds of the on-chain objection (identifies it).")] = None,
    objection: Annotated[int | None, typer.Option(help="Which notice objection (default: all pending).")] = None,
    order: Annotated[Path | None, typer.Option(help="Judgment, ruling or award.")] = None,
    actor: AsOption = "registrar",
) -> None:
    """Dispose of an objection: a notice objection (registry) or an objection registration (court)."""
    from ledger.services import applications
    from ledger.services.schemas import NoticeObjectionResolution, ObjectionDisposal
    ledger = _ledger(ctx)
    if "-" in target:
        if not grounds:
            raise LedgerValueError("name the objection by its --grounds")
        if order is None:
            raise LedgerValueError("an objection registration is disposed of by a judgment, ruling or award: --order")
        applications.dispose_of_objection(ledger, target, grounds, actor, _form(ObjectionDisposal, {
            "upheld": upheld, "document_hash": _digest_text(order)}))
        console.print(f"objection {'upheld' if upheld else 'dismissed'}")
    else:
        _report(applications.resolve_notice_objection(ledger, target, actor, _form(NoticeObjectionResolution, {
            "upheld": upheld, "objection": objection})))


@app.command()
def lapse(ctx: typer.Context, number: str, grounds: Annotated[str, typer.Option(help="Grounds of the objection.")],
          actor: AsOption = "registrar") -> None:
    """Lapse an objection registration whose filing deadline passed without a court/arbitration filing."""
    from ledger.services import applications
    applications.lapse_objection(_ledger(ctx), number, grounds, actor)
    console.print("objection lapsed", highlight=False)


@app.command()
def order(ctx: typer.Context, number: str,
          document: Annotated[Path, typer.Option("--order", help="The judgment, ruling or award.")],
          actor: AsOption = "court") -> None:
    """Record a court or arbitration order concerning a unit (the judicial role); ex-officio acts cite it."""
    from ledger.services import applications
    from ledger.services.schemas import OrderCreate
    act = applications.record_order(_ledger(ctx), number, actor, _form(OrderCreate, {
        "document_hash": _digest_text(document)}))
    console.print(f"order {act.subject} recorded for {act.registration_number}", highlight=False)


def _filed(filed: applications.Filed) -> None:
    app_id = filed.application.id[:12]
    if filed.waiting_for == "review":
        _report(filed.application, f"; {filed.application.profile} needs a third-party review: `ledger registry "
                                   f"review {app_id} --report FILE --as reviewer`, then approve and register")
    elif filed.waiting_for == "notice":
        _report(filed.application, f"; after it run `ledger registry register {app_id}`")
    else:
        _report(filed.application)


RightsOption = Annotated[str, typer.Option(help="Rights concerned: holding, processing-use, product-operation, all.")]
DocOption = Annotated[Path | None, typer.Option("--contract", help="The contract or decision document.")]
RiskOption = Annotated[Path | None, typer.Option("--risk-acknowledgement",
                                                 help="Written risk acknowledgement while an objection stands.")]
GroundsOption = Annotated[Path, typer.Option("--grounds", help="The decision or order it rests on.")]


@app.command()
def licence(ctx: typer.Context, number: str, to: Annotated[str, typer.Option(help="Licensee.")],
            rights: RightsOption = "processing-use",
            until: Annotated[str | None, typer.Option(help="Licence term end, YYYY-MM-DD.")] = None,
            contract: DocOption = None, risk: RiskOption = None, actor: AsOption = "registrar") -> None:
    """Licence registration (许可登记): a licence entry on the rights page."""
    from ledger.services import applications
    from ledger.services.schemas import EntryCreate
    form = _form(EntryCreate, {"counterparty": to, "rights": _right_names(rights), "valid_until": until,
                               "document_hash": _digest_text(contract), "risk_acknowledgement": _digest_text(risk)})
    _filed(applications.file_entry(_ledger(ctx), "licence", number, actor, form))


@app.command()
def pledge(ctx: typer.Context, number: str, to: Annotated[str, typer.Option(help="Pledgee.")],
           rights: RightsOption = "all", until: Annotated[str | None, typer.Option(help="Term end.")] = None,
           contract: DocOption = None, risk: RiskOption = None, actor: AsOption = "registrar") -> None:
    """Pledge (质押) entered on the additional-rights page (他项权益页); the pledgor and the pledgee both sign."""
    from ledger.services import applications
    from ledger.services.schemas import EntryCreate
    form = _form(EntryCreate, {"counterparty": to, "rights": _right_names(rights), "valid_until": until,
                               "document_hash": _digest_text(contract), "risk_acknowledgement": _digest_text(risk)})
    _filed(applications.file_entry(_ledger(ctx), "pledge", number, actor, form))


@app.command()
def release(ctx: typer.Context, number: str, entry: Annotated[int, typer.Option(help="Rights-page entry id.")],
            contract: DocOption = None, actor: AsOption = "registrar") -> None:
    """Release a pledge or licence entry of this unit (with the counterparty's consent)."""
    from ledger.services import applications
    from ledger.services.schemas import ReleaseCreate
    form = _form(ReleaseCreate, {"entry_id": entry, "document_hash": _digest_text(contract)})
    _filed(applications.file_release(_ledger(ctx), number, actor, form))


@app.command()
def transfer(ctx: typer.Context, number: str, to: Annotated[str, typer.Option(help="Transferee.")],
             new_holder_name: Annotated[str | None, typer.Option(help="The transferee's legal name (needed when "
                                                                 "the holding right moves).")] = None,
             new_holder_uscc: Annotated[str | None, typer.Option(help="The transferee's credit code.")] = None,
             new_holder_kind: HolderKindOption = "legal_person",
             rights: RightsOption = "all", contract: DocOption = None, risk: RiskOption = None,
             actor: AsOption = "registrar") -> None:
    """Transfer registration (转移登记): joint signatures under TJIFA, the transferee alone under SZ/AH; a pledged
    unit needs its pledgees' consent."""
    from ledger.services import applications
    from ledger.services.schemas import TransferCreate
    new_holder = {"legal_name": new_holder_name, "uscc": new_holder_uscc, "kind": new_holder_kind} \
        if new_holder_name else None
    form = _form(TransferCreate, {"to": to, "rights": _right_names(rights), "new_holder": new_holder,
                                  "document_hash": _digest_text(contract), "risk_acknowledgement": _digest_text(risk)})
    _filed(applications.file_transfer(_ledger(ctx), number, actor, form))


@app.command()
def change(ctx: typer.Context, number: str, name: NameOption = None, version: VersionOption = None,
           form_: FormOption = None, acquisition: AcquisitionOption = None, update_cycle: CycleOption = None,
           scenarios: ScenariosOption = None, scope: ScopeOption = None,
           holder_name: Annotated[str | None, typer.Option(help="The holder's new legal name.")] = None,
           uscc: Annotated[str | None, typer.Option(help="The holder's new credit code.")] = None,
           contract: DocOption = None, risk: RiskOption = None, actor: AsOption = "registrar") -> None:
    """Change registration (变更登记): the certificate is reissued with the changed content — everything else
    carried forward — and the old version is superseded."""
    from ledger.services import applications
    from ledger.services.schemas import ChangeCreate
    asset = _asset(name, version, form_, acquisition, update_cycle, scenarios, scope)
    holder = {k: v for k, v in (("legal_name", holder_name), ("uscc", uscc)) if v}
    form = _form(ChangeCreate, {"asset": asset or None, "holder": holder or None,
                                "document_hash": _digest_text(contract), "risk_acknowledgement": _digest_text(risk)})
    _filed(applications.file_change(_ledger(ctx), number, actor, form))


@app.command()
def cancel(ctx: typer.Context, number: str,
           court_order: Annotated[Path | None, typer.Option(help="Court or arbitration order (注销 by order; "
                                                            "--as court).")] = None,
           ex_officio: Annotated[Path | None, typer.Option(help="Ex officio: the recorded order that extinguished "
                                                           "the rights, no holder remaining (SZ art. 19).")] = None,
           expired: Annotated[Path | None, typer.Option(help="Ex officio after expiry: the cancellation notice "
                                                        "(GZ art. 35).")] = None,
           contract: DocOption = None, risk: RiskOption = None, actor: AsOption = "registrar") -> None:
    """Cancellation (注销登记): by the holder, by court/arbitration order, or ex officio with its grounds."""
    from ledger.services import applications
    from ledger.services.schemas import CancellationCreate
    given = [(g, d) for g, d in (("judicial_order", court_order), ("no_remaining_holder", ex_officio),
                                 ("expired", expired)) if d is not None]
    if len(given) > 1:
        raise LedgerValueError("give one ground: --court-order, --ex-officio or --expired")
    ground, document = given[0] if given else ("holder", contract)
    form = _form(CancellationCreate, {"ground": ground, "document_hash": _digest_text(document),
                                      "risk_acknowledgement": _digest_text(risk)})
    _filed(applications.file_cancellation(_ledger(ctx), number, actor, form))


@app.command()
def renew(ctx: typer.Context, number: str, contract: DocOption = None,
          data_valid_until: Annotated[str | None, typer.Option(help="The data's own validity, if shorter.")] = None,
          actor: AsOption = "registrar") -> None:
    """Renewal (续期; DL: annual review 年审) within the window before expiry."""
    from ledger.services import applications
    from ledger.services.schemas import RenewalCreate
    form = _form(RenewalCreate, {"data_valid_until": data_valid_until, "document_hash": _digest_text(contract)})
    _filed(applications.file_renewal(_ledger(ctx), number, actor, form))


def _authority_act(ctx: typer.Context, kind: str, number: str, grounds: Path, actor: str) -> None:
    from ledger.services import applications
    from ledger.services.schemas import AuthorityActCreate
    form = _form(AuthorityActCreate, {"document_hash": _digest_text(grounds)})
    _filed(applications.file_authority_act(_ledger(ctx), kind, number, actor, form))


@app.command()
def suspend(ctx: typer.Context, number: str, grounds: GroundsOption, actor: AsOption = "registrar") -> None:
    """Suspend a registration (中止, DL art. 22): by the registry, or a court (--as court)."""
    _authority_act(ctx, "suspension", number, grounds, actor)


@app.command()
def reinstate(ctx: typer.Context, number: str, grounds: GroundsOption, actor: AsOption = "registrar") -> None:
    """Lift a suspension (a court's only by the court)."""
    _authority_act(ctx, "reinstatement", number, grounds, actor)


@app.command()
def revoke(ctx: typer.Context, number: str, grounds: GroundsOption, actor: AsOption = "registrar") -> None:
    """Revoke a registration (撤销, AH art. 23, GD art. 22, GZ art. 34) with the decision that grounds it."""
    _authority_act(ctx, "revocation", number, grounds, actor)


@app.command()
def show(ctx: typer.Context, target: Annotated[str, typer.Argument(help="Registration number or application.")],
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a unit as the chain holds it (with its rights-page entries and their ids), or an application with
    its history."""
    from ledger.services.access import OPERATOR
    from ledger.services.registrations import registration
    ledger = _reader(ctx)
    if "-" in target or looks_like_digest(target):
        view = registration(ledger, target, viewer=OPERATOR)
        if as_json:
            console.print_json(view.model_dump_json())
            return
        table = Table("field", "value", title=f"registration unit {view.registration_number}")
        for key, value in view.model_dump(exclude={"rights_page", "objections", "certificate"}).items():
            table.add_row(key, json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value))
        console.print(table)
        page = Table("entry id", "kind", "counterparty", "rights", "status", "until", title="他项权益页 rights page")
        for e in view.rights_page:
            page.add_row(str(e.entry_id), e.kind, e.counterparty or "", ",".join(e.rights), e.status,
                         e.valid_until or "")
        console.print(page)
        if view.objections:
            objections = Table("objection", "objector", "status", "deadline", title="异议 objections")
            for o in view.objections:
                objections.add_row(o.objection_id, o.objector, o.status, o.deadline or "")
            console.print(objections)
        if view.index.lag_blocks:
            console.print(f"[yellow]the index is {view.index.lag_blocks} block(s) behind the chain[/yellow]")
        return
    workflow = ledger.workflow
    application = workflow.get(target)
    _report(application)
    table = Table("when", "step", "from", "to", "by", "note")
    for event in workflow.history(application.id):
        table.add_row(event.at.isoformat(timespec="seconds"), event.action, event.from_state, event.to_state,
                      event.actor, event.note)
    console.print(table)


@app.command("document")
def document(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="certificate, rights-page, evidence-report, cancellation-proof or "
                                        "supplement-notice.")],
    target: Annotated[str, typer.Argument(metavar="NUMBER|APPLICATION", help="The registration number (the "
                                          "application id for a supplement-notice).")],
    out: Annotated[Path | None, typer.Option(help="Where to write the PDF (default NUMBER.KIND.pdf).")] = None,
) -> None:
    """Issue a registration document as a PDF that verifies offline (出证): the certificate, the rights page
    (他项权益页), the evidence report (存证报告书), the cancellation proof (注销证明) or an application's
    supplementary-registration notice (补充登记通知). Its SHA-256 is anchored the first time it is issued."""
    from ledger.services.access import OPERATOR
    from ledger.services.documents import registration_document, supplement_notice

    ledger = _ledger(ctx)
    if kind == "supplement-notice":
        made = supplement_notice(ledger, target, viewer=OPERATOR, requested_by="operator (CLI)")
    else:
        made = registration_document(ledger, target, kind, viewer=OPERATOR, requested_by="operator (CLI)")
    path = out or Path(made.filename)
    path.write_bytes(made.body)
    console.print(f"{kind} written to {path} ({len(made.body):,} bytes); verify it with: ledger proof verify {path} "
                  "--trust trust-list.json", highlight=False)


@app.command("dispute-package")
def dispute_package_command(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="The registration number.")],
    legal_document: Annotated[str, typer.Option("--legal-document", help="The legal document the request rests "
                                                "on (a file: its SHA-256 is recorded), or its SHA-256.")],
    legal_reference: Annotated[str, typer.Option("--legal-reference", help="Its number (案号), e.g. "
                                                 "(2024)津0116民初1号.")] = "",
    out: Annotated[Path | None, typer.Option(help="Where to write it (default NUMBER.dispute-package.….pdf).")]
    = None,
) -> None:
    """Make the dispute evidence package (司法存证包, TJIFA §9.2, App. 4) a court asked for: certificate, evidence
    report, extraction record and court bundle in one PDF that `ledger proof verify` checks offline. The request
    is written to the access log with its legal document."""
    from dataclasses import replace

    from ledger.hashing import HashAlgorithm, digest_file
    from ledger.services.access import OPERATOR
    from ledger.services.documents import dispute_package

    source = Path(legal_document)
    digest = to_hex(digest_file(source, HashAlgorithm.SHA256)) if source.is_file() else legal_document
    if not looks_like_digest(digest):
        raise LedgerValueError(f"--legal-document {legal_document!r} is neither a readable file nor a SHA-256")
    viewer = replace(OPERATOR, legal_document=to_hex(parse_digest(digest)), legal_reference=legal_reference or None)
    made = dispute_package(_ledger(ctx), number, viewer=viewer)
    path = out or Path(made.filename)
    path.write_bytes(made.body)
    console.print(f"dispute package written to {path} ({len(made.body):,} bytes); access-log entry {made.entry.seq} "
                  f"({made.entry.entry_hash}); at extraction: {made.conclusion}", highlight=False, markup=False)
    console.print(f"verify it offline with: ledger proof verify {path} --trust trust-list.json", highlight=False)
