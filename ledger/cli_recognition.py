"""``ledger recognition`` — mutual recognition between platforms (互认, TJIFA §6.4.1.4; REGISTRATION_RULES §7).

On the platform that holds a registration, ``export NUMBER`` writes its recognition package (one canonical-JSON
file: certificate, court bundle with the unit's state proof, evidence report, bundles of the cited evidence,
sealed). On another platform, ``import PACKAGE`` verifies it offline against the trust list of the platform it
comes from — configured with ``trust`` (a directory of trusted peers' trust lists, ``LEDGER_PEERS_DIR``) — and
files an initial registration whose review is waived on the strength of the verified package. ``verify`` only
checks a package; ``peers`` and ``list`` show the trusted platforms and what was recognised from them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from ledger.errors import LedgerValueError

if TYPE_CHECKING:
    from ledger.config import Settings

app = typer.Typer(help="Mutual recognition (互认): export a registration's package, verify and import another "
                  "platform's.", no_args_is_help=True)
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 240)
RESULT_STYLE = {"error": "[red]FAIL[/red]", "trust": "[yellow]NOT AUTHENTICATED[/yellow]",
                "invalid": "[red]NOT VALID[/red]", "warning": "[yellow]WARNING[/yellow]",
                "unverified": "[yellow]UNVERIFIED[/yellow]"}


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LedgerValueError(f"cannot read {path}: {exc.strerror}") from exc


@app.command("export")
def export(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="The registration number.")],
    out: Annotated[Path | None, typer.Option(help="Where to write it (default NUMBER.recognition.json).")] = None,
    requested_by: Annotated[str, typer.Option(help="Who asked for it (the recognising platform ...).")] = "",
) -> None:
    """Write the recognition package of a registration: its current certificate, the court bundle proving it with
    the unit's registry state, the evidence report and the bundles of the evidence it cites — one file, sealed."""
    from ledger.context import Ledger
    from ledger.services.recognition import export_package

    made = export_package(Ledger(ctx.obj), number, requested_by)
    target = out or Path(f"{made.registration_number}.recognition.json")
    target.write_bytes(made.data)
    console.print(f"recognition package written to {target} ({len(made.data):,} bytes, SHA-256 {made.sha256})",
                  highlight=False)
    colour = "green" if made.verification.refusal() is None else "red"
    console.print(f"as this platform's trust list verifies it: [{colour}]{made.verification.headline()}[/{colour}]",
                  highlight=False)
    if made.verification.refusal() is not None:
        console.print(f"another platform will refuse it: {made.verification.refusal()}", highlight=False)


@app.command("import")
def import_(
    ctx: typer.Context,
    package: Annotated[Path, typer.Argument(metavar="PACKAGE", help="A recognition package from another platform.")],
    actor: Annotated[str, typer.Option("--as", help="The registrar filing it (accounts file name).")] = "registrar",
    profile: Annotated[str | None, typer.Option(help="Profile to register under (default: the certificate's "
                                                "jurisdiction).")] = None,
    rpc: Annotated[str | None, typer.Option(help="The source chain's JSON-RPC URL, to check the live status too "
                                            "(default: the peer's <name>.rpc, if configured).")] = None,
) -> None:
    """Verify a recognition package offline against the source platform's trusted trust list and file the initial
    registration it supports, review waived (TJIFA §6.4.1.4). A package that fails a check, comes from an untrusted
    platform or proves a registration that is not valid now is refused, naming the check."""
    from ledger.context import Ledger
    from ledger.services.recognition import import_package

    ledger = Ledger(ctx.obj)
    ctx.call_on_close(ledger.catch_up)
    done = import_package(ledger, _read(package), actor=actor, profile=profile, rpc_url=rpc)
    app_ = done.application
    console.print(f"[green]{done.verification.headline()}[/green]", highlight=False)
    console.print(f"recognised from {done.source.platform} (trust list {done.peer.name}, SHA-256 "
                  f"{done.peer.fingerprint}): registration {done.source.registration_number}, package SHA-256 "
                  f"{done.source.package_sha256}", highlight=False)
    line = f"application {app_.id[:12]} (initial, {app_.profile}, holder {app_.holder}): {app_.state}"
    if app_.registration_number:
        line += f", registration number {app_.registration_number}"
    if done.waiting_for == "notice":
        line += (f"; review waived ({done.source.rule}); public notice until {app_.notice_end}, then "
                 f"`ledger registry register {app_.id[:12]}`")
    elif done.waiting_for == "consent":
        line += f"; review waived ({done.source.rule}); it waits for the holder's consent signed in its own wallet"
    elif done.waiting_for == "review":
        line += f"; {app_.profile} does not waive the review: review it (`ledger registry review {app_.id[:12]}`)"
    console.print(line, highlight=False)


@app.command("verify")
def verify(
    ctx: typer.Context,
    package: Annotated[Path, typer.Argument(metavar="PACKAGE", help="A recognition package.")],
    trust: Annotated[Path | None, typer.Option(help="The source platform's trust list (default: the trusted peer "
                                               "whose chain the package names).")] = None,
    tsa_root: Annotated[Path | None, typer.Option("--tsa-root", help="The source TSA's root certificate(s).")] = None,
    rpc: Annotated[str | None, typer.Option(help="The source chain's JSON-RPC URL: the live status too.")] = None,
) -> None:
    """Check a recognition package offline and print each check, then the verdict (exit status as `ledger proof
    verify`: 0 verified, 1 not verified, 3 integrity only, 4 not valid, 5 verified with a warning)."""
    import time

    from ledger.proofs.recognition import inspect_package, load_peers, peer_for
    from ledger.proofs.timestamps import load_tsa_roots
    from ledger.proofs.trust import load_trust

    settings: Settings = ctx.obj
    raw = _read(package)
    tsa = load_tsa_roots(tsa_root) if tsa_root else None
    if trust is not None:
        roots = load_trust(str(trust))
    else:
        import json

        try:
            claimed = json.loads(raw)
        except ValueError:
            claimed = {}
        peer = peer_for(claimed if isinstance(claimed, dict) else {}, load_peers(settings.peers_path))
        if peer is None:
            raise LedgerValueError(f"no trusted peer in {settings.peers_path} runs the chain this package names: give "
                                   "its trust list with --trust")
        roots, tsa, rpc = peer.roots(), tsa or list(peer.tsa_roots) or None, rpc or peer.rpc_url
    found = inspect_package(raw, roots, tsa_roots=tsa, rpc_url=rpc, now=int(time.time()),
                            max_age_days=settings.recognition_max_age)
    table = Table("check", "result", "detail")
    for check in found.checks:
        table.add_row(check.name, "[green]pass[/green]" if check.ok else RESULT_STYLE[check.level], check.detail)
    console.print(table)
    if found.unit is not None:
        console.print("registry state 登记状态 (proven):", highlight=False)
        for line in found.unit.lines():
            console.print(f"  {line}", highlight=False, markup=False)
    colour = {0: "green", 5: "yellow", 3: "yellow"}.get(found.verdict.exit_code, "red")
    console.print(f"[{colour}]{found.headline()}[/{colour}]", highlight=False)
    console.print(f"package SHA-256 {found.package_sha256}", highlight=False)
    if found.verdict.exit_code:
        raise typer.Exit(found.verdict.exit_code)


@app.command("trust")
def trust_peer(
    ctx: typer.Context,
    trust_list: Annotated[Path, typer.Argument(metavar="TRUST_LIST", help="The peer platform's trust list, as it "
                                               "publishes it (its /trust-list.json).")],
    name: Annotated[str, typer.Option(help="A short name for the peer (a file name).")],
    tsa_root: Annotated[Path | None, typer.Option("--tsa-root", help="The peer's TSA root certificate(s).")] = None,
    rpc: Annotated[str | None, typer.Option(help="The peer chain's JSON-RPC URL (live status at import).")] = None,
) -> None:
    """Trust a peer platform: recognise registrations whose packages verify against its trust list. Compare the
    SHA-256 printed with the one the peer states out of band."""
    from ledger.context import Ledger
    from ledger.services.recognition import add_peer

    peer = add_peer(Ledger(ctx.obj), trust_list, name, tsa_root, rpc)
    console.print(f"trusting {peer.trust_list.platform} as peer {peer.name}: chain {peer.trust_list.chain_id}, "
                  f"{len(peer.trust_list.authorities)} authorities (threshold {peer.trust_list.threshold}); trust "
                  f"list SHA-256 {peer.fingerprint}", highlight=False)


@app.command("peers")
def list_peers(ctx: typer.Context) -> None:
    """The peer platforms this one trusts, with their trust lists' SHA-256."""
    from ledger.proofs.recognition import load_peers

    settings: Settings = ctx.obj
    table = Table("peer", "platform", "chain", "authorities", "trust list SHA-256", "TSA root", "RPC")
    for peer in load_peers(settings.peers_path):
        listed = peer.trust_list
        table.add_row(peer.name, listed.platform, f"{listed.chain_id} {listed.genesis_hash[:10]}…",
                      f"{len(listed.authorities)} (threshold {listed.threshold})", peer.fingerprint,
                      "yes" if peer.tsa_roots else "no", peer.rpc_url or "")
    console.print(table)
    console.print(f"peers directory: {settings.peers_path}", highlight=False)


@app.command("list")
def list_recognised(ctx: typer.Context) -> None:
    """Registrations recognised here from other platforms, with their source."""
    from ledger.context import Ledger
    from ledger.services.recognition import recognised

    table = Table("application", "state", "registration", "holder", "recognised from", "source registration",
                  "package SHA-256")
    for row in recognised(Ledger(ctx.obj)):
        table.add_row(row.application_id[:12], row.state, row.registration_number or "", row.holder,
                      row.source.platform, f"{row.source.registration_number} v{row.source.certificate_version}",
                      row.source.package_sha256)
    console.print(table)
