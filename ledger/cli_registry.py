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
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ledger.context import Ledger
from ledger.errors import LedgerValueError
from ledger.hashing import digest_file, looks_like_digest, parse_digest, to_hex
from ledger.lifecycle import ObjectionStatus, Right
from ledger.models import Application
from ledger.numbering import unit_id, validate_number
from ledger.profiles import ObjectType
from ledger.registry import objection_id
from ledger.services.applications import file_on_unit
from ledger.services.duties import run_duties
from ledger.services.registrations import registration
from ledger.workdays import last_day
from ledger.workflow import CHINA, State

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
    ledger = Ledger(ctx.obj)
    ctx.call_on_close(ledger.catch_up)
    return ledger


def _reader(ctx: typer.Context) -> Ledger:
    """The ledger for a read: reads never write (the index answers, and says how far behind it is)."""
    return Ledger(ctx.obj)


def _rights(text: str) -> int:
    mask = 0
    for part in text.split(","):
        if part.strip() not in RIGHT_NAMES:
            raise LedgerValueError(f"unknown right {part!r}: use {', '.join(RIGHT_NAMES)} (comma-separated)")
        mask |= RIGHT_NAMES[part.strip()]
    return mask


def _document(path: Path | None) -> bytes | None:
    return digest_file(path) if path else None


def _digest_or_file(value: str | None) -> str | None:
    if value is None:
        return None
    return to_hex(parse_digest(value)) if looks_like_digest(value) else to_hex(digest_file(Path(value)))


def _report(application: Application, extra: str = "") -> None:
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
    form: Annotated[str, typer.Option(help="Data-asset type: dataset, interface, report, application, other.")],
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
    try:
        kind = ObjectType[object_type.upper()]
    except KeyError:
        raise LedgerValueError(f"unknown object type {object_type!r}: use "
                               f"{', '.join(t.name.lower() for t in ObjectType)}") from None
    identity: dict[str, Any] = {"legal_name": holder_name, "kind": holder_kind}
    if uscc:
        identity["uscc"] = uscc
    payload: dict[str, Any] = {"content": {"holder": identity, "asset": _asset(name, version, form, acquisition,
                                                                                update_cycle, scenarios, scope,
                                                                                industry)}}
    if fingerprint:
        payload["content_fingerprint"] = _digest_or_file(fingerprint)
    if data_valid_until:
        payload["data_valid_until"] = data_valid_until
    if simple:
        payload["procedure"] = "simple"
    application = _ledger(ctx).workflow.apply(kind="initial", profile=profile, holder=holder, actor=actor or holder,
                                              object_type=kind, rights=_rights(rights), payload=payload,
                                              document=_document(document))
    _report(application)


@app.command()
def accept(ctx: typer.Context, application: str, actor: AsOption = "registrar") -> None:
    """Accept an application (受理) and start its formal review."""
    workflow = _ledger(ctx).workflow
    workflow.accept(application, actor)
    _report(workflow.begin_review(application, actor))


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
    workflow = _ledger(ctx).workflow
    if sum((passed, report is not None, supplement is not None, reject is not None)) != 1:
        raise LedgerValueError("give exactly one of --pass, --report, --supplement, --reject")
    if passed:
        result = workflow.pass_formal_review(application, actor)
    elif report is not None:
        result = workflow.file_review(application, actor, digest_file(report))
    elif supplement is not None:
        result = workflow.request_supplement(application, actor, supplement)
    else:
        result = workflow.reject(application, actor, reject or "")
    _report(result)


@app.command()
def resubmit(ctx: typer.Context, application: str, actor: AsOption,
             document: Annotated[Path | None, typer.Option(help="The corrected materials.")] = None) -> None:
    """Resubmit after a supplement request."""
    _report(_ledger(ctx).workflow.resubmit(application, actor, _document(document)))


@app.command()
def approve(ctx: typer.Context, application: str, actor: AsOption = "registrar") -> None:
    """Approve (the registration number is allocated now)."""
    _report(_ledger(ctx).workflow.approve(application, actor))


@app.command()
def notice(ctx: typer.Context, application: str, actor: AsOption = "registrar") -> None:
    """Start the public notice (公示) for the profile's period."""
    _report(_ledger(ctx).workflow.start_notice(application, actor))


@app.command()
def register(ctx: typer.Context, application: str, actor: AsOption = "registrar") -> None:
    """Record the registration on chain once notice (if any) has passed; a registered one is left as it is."""
    _report(_ledger(ctx).workflow.register(application, actor))


@app.command()
def withdraw(ctx: typer.Context, application: str, actor: AsOption) -> None:
    """Withdraw an application before approval (撤回, DL art. 17): the applicant, or the registry."""
    _report(_ledger(ctx).workflow.withdraw(application, actor))


@app.command()
def applications(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option(help="Only this state (submitted, in_public_notice ...).")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
) -> None:
    """List applications by state: what waits, what is stuck, what is done."""
    table = Table("application", "kind", "profile", "state", "registration", "applicant", "updated")
    for row in _reader(ctx).workflow.applications(state, kind):
        table.add_row(row.id[:12], row.kind, row.profile, row.state, row.registration_number or "", row.holder,
                      row.updated_at.isoformat(timespec="seconds"))
    console.print(table)


@app.command()
def duties(ctx: typer.Context, actor: AsOption = "registrar") -> None:
    """Do the duties time made due (``ledger serve`` does them by itself): lapse objections (SZ art. 20), record
    expiries and cancel under GZ art. 35, register applications whose notice ended, issue renewal reminders, and
    end applications whose notice objection was not resolved in time (AH art. 22, GD art. 23)."""
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
    ledger = _ledger(ctx)
    if "-" not in target:
        _report(ledger.workflow.object(target, objector, grounds, objector_name=objector_name,
                                       objector_id=objector_id, evidence=_document(evidence)))
        return
    from ledger.pdf import render_pdf
    from ledger.services.documents import register_objection

    if evidence is None or not objector_name or not objector_id:
        raise LedgerValueError("an objection registration records the objector's identity and evidence: give "
                               "--objector-name, --objector-id and --evidence (SZ art. 20)")
    number = validate_number(target)
    oid, deadline, proof = register_objection(
        ledger, number, objector=objector, objector_name=objector_name, id_kind=objector_id_kind,
        id_number=objector_id, matter=matter or f"登记单元 {number} 的登记内容", grounds=grounds,
        evidence=digest_file(evidence), actor=actor)
    if proof is None:
        console.print(f"objection registered on {number}: it stands until decided (no filing deadline)",
                      highlight=False)
        return
    out = proof_out or Path(f"objection-{number}-{to_hex(oid)[2:10]}.pdf")
    out.write_bytes(render_pdf(proof))
    until = f"{last_day(deadline).isoformat()} 24:00 China time"
    console.print(f"objection registered on {number}; court/arbitration filing due by {until}; proof written to "
                  f"{out}", highlight=False)


def _matter(grounds: str) -> bytes:
    from ledger.services.documents import objection_matter

    return objection_matter(grounds)


@app.command()
def litigation(
    ctx: typer.Context, number: str,
    grounds: Annotated[str, typer.Option(help="Grounds of the objection (identifies it).")],
    notice_of_acceptance: Annotated[Path, typer.Option("--acceptance", help="The court's or arbitration body's "
                                                       "acceptance notice (受理通知书).")],
    actor: AsOption = "registrar",
) -> None:
    """Record that the objector lodged a court or arbitration filing in time (SZ art. 20): no lapse."""
    ledger = _ledger(ctx)
    oid = objection_id(unit_id(validate_number(number)), _matter(grounds))
    ledger.assets.transact(ledger.sender(actor), "recordObjectionLitigation", oid, digest_file(notice_of_acceptance))
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
    ledger = _ledger(ctx)
    if "-" in target:
        if not grounds:
            raise LedgerValueError("name the objection by its --grounds")
        if order is None:
            raise LedgerValueError("an objection registration is disposed of by a judgment, ruling or award: --order")
        oid = objection_id(unit_id(validate_number(target)), _matter(grounds))
        ledger.assets.transact(ledger.sender(actor), "resolveObjection", oid, upheld, digest_file(order))
        console.print(f"objection {'upheld' if upheld else 'dismissed'}")
    else:
        _report(ledger.workflow.resolve_objection(target, actor, upheld, objection=objection))


@app.command()
def lapse(ctx: typer.Context, number: str, grounds: Annotated[str, typer.Option(help="Grounds of the objection.")],
          actor: AsOption = "registrar") -> None:
    """Lapse an objection registration whose filing deadline passed without a court/arbitration filing."""
    ledger = _ledger(ctx)
    oid = objection_id(unit_id(validate_number(number)), _matter(grounds))
    ledger.assets.transact(ledger.sender(actor), "lapseObjection", oid)
    console.print(f"objection lapsed: {ObjectionStatus(ledger.assets.objection(oid)['status']).name.lower()}")


@app.command()
def order(ctx: typer.Context, number: str,
          document: Annotated[Path, typer.Option("--order", help="The judgment, ruling or award.")],
          actor: AsOption = "court") -> None:
    """Record a court or arbitration order concerning a unit (the judicial role); ex-officio acts cite it."""
    ledger = _ledger(ctx)
    ledger.assets.transact(ledger.sender(actor), "recordJudicialOrder", unit_id(validate_number(number)),
                           digest_file(document))
    console.print(f"order {to_hex(digest_file(document))} recorded for {number}", highlight=False)


def _file(ctx: typer.Context, kind: str, number: str, actor: str, *, counterparty: str | None = None,
          rights: int = Right.ALL, payload: dict[str, Any] | None = None, document: Path | None = None,
          risk: Path | None = None, filer: str | None = None) -> None:
    """Files a post-registration application and runs it as far as the rules allow without waiting."""
    extra = dict(payload or {})
    if risk is not None:
        extra["risk_acknowledgement"] = to_hex(digest_file(risk))
    filed = file_on_unit(_ledger(ctx), kind, number, actor, counterparty=counterparty, rights=rights,
                         payload=extra, document=_document(document), filer=filer)
    if filed.waiting_for == "review":
        app_id, code = filed.application.id[:12], filed.application.profile
        _report(filed.application, f"; {code} needs a third-party review: `ledger registry review {app_id} "
                                   "--report FILE --as reviewer`, then approve and register")
    elif filed.waiting_for == "notice":
        _report(filed.application, f"; after it run `ledger registry register {filed.application.id[:12]}`")
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
    _file(ctx, "licence", number, actor, counterparty=to, rights=_rights(rights), document=contract, risk=risk,
          payload={"valid_until": _end_of(until)} if until else None)


@app.command()
def pledge(ctx: typer.Context, number: str, to: Annotated[str, typer.Option(help="Pledgee.")],
           rights: RightsOption = "all", until: Annotated[str | None, typer.Option(help="Term end.")] = None,
           contract: DocOption = None, risk: RiskOption = None, actor: AsOption = "registrar") -> None:
    """Pledge (质押) entered on the additional-rights page (他项权益页); the pledgor and the pledgee both sign."""
    _file(ctx, "pledge", number, actor, counterparty=to, rights=_rights(rights), document=contract, risk=risk,
          payload={"valid_until": _end_of(until)} if until else None)


@app.command()
def release(ctx: typer.Context, number: str, entry: Annotated[int, typer.Option(help="Rights-page entry id.")],
            contract: DocOption = None, actor: AsOption = "registrar") -> None:
    """Release a pledge or licence entry of this unit (with the counterparty's consent)."""
    _file(ctx, "release", number, actor, payload={"entry_id": entry}, document=contract)


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
    payload: dict[str, Any] = {}
    if new_holder_name:
        payload["new_holder"] = {"legal_name": new_holder_name, "uscc": new_holder_uscc, "kind": new_holder_kind}
    _file(ctx, "transfer", number, actor, counterparty=to, rights=_rights(rights), document=contract, risk=risk,
          payload=payload)


@app.command()
def change(ctx: typer.Context, number: str, name: NameOption = None, version: VersionOption = None,
           form: FormOption = None, acquisition: AcquisitionOption = None, update_cycle: CycleOption = None,
           scenarios: ScenariosOption = None, scope: ScopeOption = None,
           holder_name: Annotated[str | None, typer.Option(help="The holder's new legal name.")] = None,
           uscc: Annotated[str | None, typer.Option(help="The holder's new credit code.")] = None,
           contract: DocOption = None, risk: RiskOption = None, actor: AsOption = "registrar") -> None:
    """Change registration (变更登记): the certificate is reissued with the changed content — everything else
    carried forward — and the old version is superseded."""
    changes: dict[str, Any] = {}
    asset = _asset(name, version, form, acquisition, update_cycle, scenarios, scope)
    if asset:
        changes["asset"] = asset
    holder = {k: v for k, v in (("legal_name", holder_name), ("uscc", uscc)) if v}
    if holder:
        changes["holder"] = holder
    if not changes:
        raise LedgerValueError("a change registration changes something: give the changed fields")
    _file(ctx, "change", number, actor, document=contract, risk=risk, payload={"changes": changes})


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
    given = [(g, d) for g, d in (("judicial_order", court_order), ("no_remaining_holder", ex_officio),
                                 ("expired", expired)) if d is not None]
    if len(given) > 1:
        raise LedgerValueError("give one ground: --court-order, --ex-officio or --expired")
    ground, document = given[0] if given else ("holder", contract)
    _file(ctx, "cancellation", number, actor, payload={"ground": ground}, document=document, risk=risk)


@app.command()
def renew(ctx: typer.Context, number: str, contract: DocOption = None,
          data_valid_until: Annotated[str | None, typer.Option(help="The data's own validity, if shorter.")] = None,
          actor: AsOption = "registrar") -> None:
    """Renewal (续期; DL: annual review 年审) within the window before expiry."""
    _file(ctx, "renewal", number, actor, document=contract,
          payload={"data_valid_until": data_valid_until} if data_valid_until else None)


@app.command()
def suspend(ctx: typer.Context, number: str, grounds: GroundsOption, actor: AsOption = "registrar") -> None:
    """Suspend a registration (中止, DL art. 22): by the registry, or a court (--as court)."""
    _file(ctx, "suspension", number, actor, document=grounds)


@app.command()
def reinstate(ctx: typer.Context, number: str, grounds: GroundsOption, actor: AsOption = "registrar") -> None:
    """Lift a suspension (a court's only by the court)."""
    _file(ctx, "reinstatement", number, actor, document=grounds)


@app.command()
def revoke(ctx: typer.Context, number: str, grounds: GroundsOption, actor: AsOption = "registrar") -> None:
    """Revoke a registration (撤销, AH art. 23, GD art. 22, GZ art. 34) with the decision that grounds it."""
    _file(ctx, "revocation", number, actor, document=grounds)


def _end_of(day: str) -> int:
    try:
        moment = datetime.combine(datetime.fromisoformat(day).date() + timedelta(days=1), time(), CHINA)
    except ValueError:
        raise LedgerValueError(f"{day!r} is not a date (YYYY-MM-DD)") from None
    return int(moment.timestamp())


@app.command()
def show(ctx: typer.Context, target: Annotated[str, typer.Argument(help="Registration number or application.")],
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a unit as the chain holds it (with its rights-page entries and their ids), or an application with
    its history."""
    ledger = _reader(ctx)
    if "-" in target or looks_like_digest(target):
        view = registration(ledger, target)
        if as_json:
            console.print_json(view.model_dump_json())
            return
        table = Table("field", "value", title=f"registration unit {view.registration_number}")
        for key, value in view.model_dump(exclude={"rights_page", "objections", "certificate"}).items():
            table.add_row(key, json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value))
        console.print(table)
        page = Table("entry id", "kind", "counterparty", "rights", "status", "until", title="他项权益页 rights page")
        for e in view.rights_page:
            page.add_row(str(e.entry_id), e.kind, e.counterparty, ",".join(e.rights), e.status, e.valid_until or "")
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
