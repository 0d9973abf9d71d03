"""``ledger registry`` — the registration authority's commands (登记机构操作).

Initial registrations go step by step (apply, accept, review, approve, notice, register); the filings on a
registered unit (licence, pledge, release, transfer, change, cancel, renew) run through the same workflow
and stop at public notice when their profile requires one. Holders' consents are signed with their keys
from the accounts file (dev); in production the holders sign in their own wallets.
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
from ledger.hashing import digest_bytes, digest_file, looks_like_digest, parse_digest, to_hex
from ledger.lifecycle import ObjectionStatus, Right, UnitStatus
from ledger.models import Application
from ledger.numbering import unit_id, validate_number
from ledger.profiles import ObjectType
from ledger.registry import objection_id
from ledger.workflow import CHINA, State

app = typer.Typer(help="Registration units: apply, review, notice, register, and every later filing.",
                  no_args_is_help=True)
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 240)

AsOption = Annotated[str, typer.Option("--as", help="Acting account (accounts file name).")]
RIGHT_NAMES = {"holding": Right.HOLDING, "processing-use": Right.PROCESSING_USE,
               "product-operation": Right.PRODUCT_OPERATION, "all": Right.ALL}


def _ledger(ctx: typer.Context) -> Ledger:
    """The ledger; reads never write, and a stored transaction of another filing never blocks this one (the
    outbox finishes it: `ledger chain reconcile`, or `ledger serve` in the background)."""
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


def _report(application: Application, extra: str = "") -> None:
    line = f"application {application.id[:12]} ({application.kind}, {application.profile}): {application.state}"
    if application.registration_number:
        line += f", registration number {application.registration_number}"
    if application.state == State.IN_PUBLIC_NOTICE:
        line += f", public notice until {application.notice_end}"
        if not application.notice_official:
            line += " (provisional: no official calendar for that year yet)"
    console.print(line + extra, highlight=False)


@app.command()
def apply(
    ctx: typer.Context,
    profile: Annotated[str, typer.Option(help="Jurisdiction profile: TJIFA, SZ, AH, GD, GZ, DL ...")],
    holder: Annotated[str, typer.Option(help="The applicant (accounts file name).")],
    object_type: Annotated[str, typer.Option("--type", help="data_resource, data_product, data_asset ...")],
    name: Annotated[str, typer.Option(help="Name of the data resource or product.")],
    rights: Annotated[str, typer.Option(help="Rights to register: holding, processing-use, "
                                        "product-operation or all.")] = "all",
    document: Annotated[Path | None, typer.Option(help="The application document.")] = None,
    holder_name: Annotated[str | None, typer.Option(help="Legal name printed on the certificate.")] = None,
) -> None:
    """File an initial registration application (首次登记申请)."""
    try:
        kind = ObjectType[object_type.upper()]
    except KeyError:
        raise LedgerValueError(f"unknown object type {object_type!r}: use "
                               f"{', '.join(t.name.lower() for t in ObjectType)}") from None
    payload: dict[str, Any] = {"asset": {"name": name}}
    if holder_name:
        payload["holder_name"] = holder_name
    application = _ledger(ctx).workflow.apply(kind="initial", profile=profile, holder=holder, actor=holder,
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
    """Review: pass the formal review, file the third-party report, request a supplement, or reject."""
    workflow = _ledger(ctx).workflow
    if sum((passed, report is not None, supplement is not None, reject is not None)) != 1:
        raise LedgerValueError("give exactly one of --pass, --report, --supplement, --reject")
    if passed:
        result = workflow.pass_formal_review(application, actor)
    elif report is not None:
        result = workflow.file_review(application, actor if actor != "registrar" else "reviewer", digest_file(report))
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
    """Record the registration on chain once notice (if any) has passed."""
    _report(_ledger(ctx).workflow.register(application, actor))


@app.command()
def withdraw(ctx: typer.Context, application: str, actor: AsOption) -> None:
    """Withdraw an application before approval (撤回, DL art. 17)."""
    _report(_ledger(ctx).workflow.withdraw(application, actor))


@app.command("object")
def object_(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="An application in notice, or a registration number.")],
    objector: Annotated[str, typer.Option(help="The objector (accounts file name).")],
    grounds: Annotated[str, typer.Option(help="Matter and grounds of the objection.")],
    actor: AsOption = "registrar",
) -> None:
    """Object during notice, or register an objection against a registered unit (异议登记, SZ art. 20)."""
    ledger = _ledger(ctx)
    if "-" in target:
        number = validate_number(target)
        matter = _matter(grounds)
        ledger.assets.transact(ledger.sender(actor), "fileObjection", unit_id(number),
                               ledger.accounts.get(objector).address, matter, matter)
        record = ledger.assets.objection(objection_id(unit_id(number), matter))
        until = datetime.fromtimestamp(record["deadline"], CHINA).isoformat() if record["deadline"] else "no deadline"
        console.print(f"objection registered on {number}; court/arbitration filing due by {until}", highlight=False)
    else:
        _report(ledger.workflow.object(target, objector, grounds))


def _matter(grounds: str) -> bytes:
    """The objection's identity: its normalised matter and grounds (the same text = the same objection)."""
    return digest_bytes(" ".join(grounds.split()).encode())


@app.command()
def resolve(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="An application with a notice objection, or a registration number.")],
    upheld: Annotated[bool, typer.Option("--upheld/--dismissed", help="Outcome.")],
    grounds: Annotated[str | None, typer.Option(help="Grounds of the on-chain objection (identifies it).")] = None,
    order: Annotated[Path | None, typer.Option(help="Judgment, ruling or award.")] = None,
    actor: AsOption = "registrar",
) -> None:
    """Dispose of an objection: a notice objection (registry) or an objection registration (court)."""
    ledger = _ledger(ctx)
    if "-" in target:
        if not grounds:
            raise LedgerValueError("name the objection by its --grounds")
        oid = objection_id(unit_id(validate_number(target)), _matter(grounds))
        ledger.assets.transact(ledger.sender(actor), "resolveObjection", oid, upheld, _document(order) or bytes(32))
        console.print(f"objection {'upheld' if upheld else 'dismissed'}")
    else:
        _report(ledger.workflow.resolve_objection(target, actor, upheld))


@app.command()
def lapse(ctx: typer.Context, number: str, grounds: Annotated[str, typer.Option(help="Grounds of the objection.")],
          actor: AsOption = "registrar") -> None:
    """Lapse an objection registration whose filing deadline passed without a court/arbitration filing."""
    ledger = _ledger(ctx)
    oid = objection_id(unit_id(validate_number(number)), _matter(grounds))
    ledger.assets.transact(ledger.sender(actor), "lapseObjection", oid)
    console.print(f"objection lapsed: {ObjectionStatus(ledger.assets.objection(oid)['status']).name.lower()}")


def _file(ctx: typer.Context, kind: str, number: str, holder: str | None, actor: str, *,
          counterparty: str | None = None, rights: int = Right.ALL, payload: dict[str, Any] | None = None,
          document: Path | None = None, risk: Path | None = None) -> None:
    """Files a post-registration application and runs it as far as the rules allow without waiting."""
    ledger = _ledger(ctx)
    number = validate_number(number)
    unit = ledger.assets.unit(unit_id(number))
    if unit["status"] is UnitStatus.NONE:
        raise LedgerValueError(f"no registration unit {number}")
    profile = next(p for p in ledger.workflow.profiles.values() if p.id == unit["profile_id"])
    owner = holder or next((a.name for a in ledger.accounts if a.address == unit["holder"]), None)
    if owner is None:
        raise LedgerValueError("the unit's holder is not in the accounts file: name the filer with --holder")
    extra = dict(payload or {})
    if risk is not None:
        extra["risk_acknowledgement"] = to_hex(digest_file(risk))
    workflow = ledger.workflow
    application = workflow.apply(kind=kind, profile=profile.code, holder=owner, actor=actor, number=number,
                                 counterparty=counterparty, rights=rights, payload=extra, document=_document(document))
    for step in (workflow.accept, workflow.begin_review, workflow.approve):
        application = step(application.id, actor)
    if workflow.needs_notice(application):
        application = workflow.start_notice(application.id, actor)
        _report(application, f"; after it run `ledger registry register {application.id[:12]}`")
        return
    _report(workflow.register(application.id, actor))


RightsOption = Annotated[str, typer.Option(help="Rights concerned: holding, processing-use, product-operation, all.")]
DocOption = Annotated[Path | None, typer.Option("--contract", help="The contract or decision document.")]
RiskOption = Annotated[Path | None, typer.Option("--risk-acknowledgement",
                                                 help="Written risk acknowledgement while an objection stands.")]


@app.command()
def licence(ctx: typer.Context, number: str, to: Annotated[str, typer.Option(help="Licensee.")],
            rights: RightsOption = "processing-use",
            until: Annotated[str | None, typer.Option(help="Licence term end, YYYY-MM-DD.")] = None,
            contract: DocOption = None, risk: RiskOption = None, actor: AsOption = "registrar") -> None:
    """Licence registration (许可登记): a licence entry on the rights page."""
    _file(ctx, "licence", number, None, actor, counterparty=to, rights=_rights(rights), document=contract, risk=risk,
          payload={"valid_until": _end_of(until)} if until else None)


@app.command()
def pledge(ctx: typer.Context, number: str, to: Annotated[str, typer.Option(help="Pledgee.")],
           rights: RightsOption = "all", until: Annotated[str | None, typer.Option(help="Term end.")] = None,
           contract: DocOption = None, risk: RiskOption = None, actor: AsOption = "registrar") -> None:
    """Pledge (质押) entered on the additional-rights page (他项权益页)."""
    _file(ctx, "pledge", number, None, actor, counterparty=to, rights=_rights(rights), document=contract, risk=risk,
          payload={"valid_until": _end_of(until)} if until else None)


@app.command()
def release(ctx: typer.Context, number: str, entry: Annotated[int, typer.Option(help="Rights-page entry id.")],
            contract: DocOption = None, actor: AsOption = "registrar") -> None:
    """Release a pledge or licence entry (with the counterparty's consent)."""
    _file(ctx, "release", number, None, actor, payload={"entry_id": entry}, document=contract)


@app.command()
def transfer(ctx: typer.Context, number: str, to: Annotated[str, typer.Option(help="Transferee.")],
             rights: RightsOption = "all", contract: DocOption = None, risk: RiskOption = None,
             actor: AsOption = "registrar") -> None:
    """Transfer registration (转移登记): joint signatures under TJIFA, the transferee alone under SZ/AH."""
    _file(ctx, "transfer", number, None, actor, counterparty=to, rights=_rights(rights), document=contract, risk=risk)


@app.command()
def change(ctx: typer.Context, number: str, contract: DocOption = None, risk: RiskOption = None,
           actor: AsOption = "registrar") -> None:
    """Change registration (变更登记): the certificate is reissued and the old one superseded."""
    _file(ctx, "change", number, None, actor, document=contract, risk=risk)


@app.command()
def cancel(ctx: typer.Context, number: str,
           court_order: Annotated[Path | None, typer.Option(help="Court or arbitration order (注销 by order).")] = None,
           ex_officio: Annotated[bool, typer.Option(help="Registry cancels: no holder remains.")] = False,
           contract: DocOption = None, risk: RiskOption = None, actor: AsOption = "registrar") -> None:
    """Cancellation (注销登记): by the holder, by court/arbitration order (--as court), or ex officio."""
    ground = "judicial_order" if court_order else "no_remaining_holder" if ex_officio else "holder"
    _file(ctx, "cancellation", number, None, actor, payload={"ground": ground},
          document=court_order or contract, risk=risk)


@app.command()
def renew(ctx: typer.Context, number: str, contract: DocOption = None, actor: AsOption = "registrar") -> None:
    """Renewal (续期) within the window before expiry."""
    _file(ctx, "renewal", number, None, actor, document=contract)


def _end_of(day: str) -> int:
    try:
        moment = datetime.combine(datetime.fromisoformat(day).date() + timedelta(days=1), time(), CHINA)
    except ValueError:
        raise LedgerValueError(f"{day!r} is not a date (YYYY-MM-DD)") from None
    return int(moment.timestamp())


@app.command()
def show(ctx: typer.Context, target: Annotated[str, typer.Argument(help="Registration number or application.")],
         as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show a unit as the chain holds it, or an application with its history."""
    ledger = _ledger(ctx)
    if "-" in target or looks_like_digest(target):
        uid = parse_digest(target) if looks_like_digest(target) else unit_id(target)
        unit = ledger.assets.unit(uid)
        if unit["status"] is UnitStatus.NONE:
            raise LedgerValueError(f"no registration unit {target}")
        holders = {name: ledger.assets.right_holder(uid, right) for name, right in RIGHT_NAMES.items() if name != "all"
                   and unit["rights"] & right}
        data = {"registration_number": target, "unit_id": to_hex(uid), "status": ledger.assets.status(uid).name.lower(),
                "stored_status": unit["status"].name.lower(), "certificate_hash": to_hex(unit["certificate_hash"]),
                "certificate_version": unit["certificate_version"], "holder": unit["holder"],
                "valid_until": datetime.fromtimestamp(unit["valid_until"], CHINA).isoformat()
                if unit["valid_until"] else None,
                "right_holders": holders, "open_objections": unit["open_objections"],
                "active_rights_entries": ledger.assets.active_entries(uid)}
        if as_json:
            console.print_json(json.dumps(data))
            return
        table = Table("field", "value", title=f"registration unit {target}")
        for key, value in data.items():
            table.add_row(key, json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value))
        console.print(table)
        return
    workflow = ledger.workflow
    application = workflow.get(target)
    _report(application)
    table = Table("when", "step", "from", "to", "by", "note")
    for event in workflow.history(application.id):
        table.add_row(event.at.isoformat(timespec="seconds"), event.action, event.from_state, event.to_state,
                      event.actor, event.note)
    console.print(table)
