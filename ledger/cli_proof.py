"""``ledger proof`` and ``ledger checkpoint``: court bundles, the trust list and the authorities' block signatures.

``ledger proof verify`` works with no network and no database: give it the bundle (or a document PDF),
optionally the original file, and the trust roots — the platform's trust list (``ledger proof trust-list``,
or ``/trust-list.json`` of its API) or authority addresses. Exit status: 0 VERIFIED, 1 NOT VERIFIED (altered or
forged), 3 INTEGRITY ONLY (no trust roots given), 4 NOT VALID (authentic, but the certificate is superseded,
expired, suspended, cancelled or revoked), 5 VERIFIED WITH WARNING (under objection).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ledger.config import Settings
from ledger.errors import LedgerValueError

proof_app = typer.Typer(help="Court bundles: export, and verify offline.", no_args_is_help=True)
checkpoint_app = typer.Typer(help="Authority signatures over block hashes.", no_args_is_help=True)
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 240)
NUMBER = re.compile(r"[A-Za-z]{2,4}-\d{4}-\d{6}-[0-9A-Za-z]")
RESULT_STYLE = {"error": "[red]FAIL[/red]", "trust": "[yellow]NOT AUTHENTICATED[/yellow]",
                "invalid": "[red]NOT VALID[/red]", "warning": "[yellow]WARNING[/yellow]"}


@proof_app.command("export")
def export(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A file or a digest that is anchored, or a registration number.")],
    out: Annotated[Path | None, typer.Option(help="Where to write it (default evidence.bundle.json, or "
                                             "NUMBER.pdf for a registration number).")] = None,
    algorithm: Annotated[str, typer.Option("--algorithm", "-a", help="sha256, keccak256 or sm3.")] = "sha256",
    requested_by: Annotated[str, typer.Option(help="Who asked for it (court, arbitrator, notary ...).")] = "",
) -> None:
    """Write a self-contained bundle proving an anchored file or digest offline — or, for a registration number,
    the certificate as a PDF carrying its document and bundle (with the unit's registry status)."""
    from ledger.context import Ledger
    from ledger.hashing import HashAlgorithm, digest_file, looks_like_digest, parse_digest
    from ledger.proofs.bundle import write_bundle
    from ledger.services.documents import certificate_pdf
    from ledger.services.proofs import export_evidence_bundle

    settings: Settings = ctx.obj
    ledger = Ledger(settings)
    if NUMBER.fullmatch(target.strip()):
        pdf_out = out or Path(f"{target.strip().upper()}.pdf")
        pdf_out.write_bytes(certificate_pdf(ledger, target, settings.public_url, requested_by))
        console.print(f"certificate PDF written to {pdf_out} ({pdf_out.stat().st_size:,} bytes); verify it with: "
                      f"ledger proof verify {pdf_out} --trust trust-list.json", highlight=False)
        return
    alg = HashAlgorithm.parse(algorithm)
    path = Path(target)
    if path.is_file():
        digest, name = digest_file(path, alg), path.name
    elif looks_like_digest(target):
        digest, name = parse_digest(target), None
    else:
        raise LedgerValueError(f"{target!r} is neither a readable file nor a 64-hex-digit digest")
    bundle = export_evidence_bundle(ledger, digest, alg, original_name=name, requested_by=requested_by)
    bundle_out = out or Path("evidence.bundle.json")
    write_bundle(bundle, bundle_out)
    console.print(f"bundle written to {bundle_out} ({bundle_out.stat().st_size:,} bytes; authority: "
                  f"{bundle['authority']['kind']}, block {bundle['authority']['block_number']})", highlight=False)


@proof_app.command("verify")
def verify(
    bundle_path: Annotated[Path, typer.Argument(metavar="BUNDLE", help="A bundle file, or a document PDF.")],
    file: Annotated[Path | None, typer.Option("--file", help="The original file, to check its hash too.")] = None,
    trust: Annotated[str | None, typer.Option(help="Trust roots: the platform's trust-list file, a file of "
                                              "authority addresses (JSON list or one per line), or "
                                              "comma-separated addresses. Without them nothing is authenticated.")]
    = None,
    threshold: Annotated[int | None, typer.Option(min=1, help="How many trusted authorities must have signed "
                                                  "(default: the trust list's, else 1).")] = None,
    rpc: Annotated[str | None, typer.Option(help="Optionally cross-check a live node.")] = None,
) -> None:
    """Check a bundle or a document PDF offline and print each check, then the verdict (exit status: 0 verified,
    1 not verified, 3 integrity only, 4 not valid, 5 verified with a warning)."""
    from ledger.pdf import verify_pdf
    from ledger.proofs.trust import load_trust
    from ledger.proofs.verify import headline, read_bundle, verdict, verify_bundle

    roots = load_trust(trust) if trust else None
    try:
        head = bundle_path.read_bytes()
    except OSError as exc:
        raise LedgerValueError(f"cannot read {bundle_path}: {exc.strerror}") from exc
    if head.startswith(b"%PDF"):
        checks = verify_pdf(head, roots, threshold, rpc)
    else:
        checks = verify_bundle(read_bundle(bundle_path), file, roots, threshold, rpc)
    table = Table("check", "result", "detail")
    for check in checks:
        table.add_row(check.name, "[green]pass[/green]" if check.ok else RESULT_STYLE[check.level], check.detail)
    console.print(table)
    result = verdict(checks)
    colour = {0: "green", 5: "yellow", 3: "yellow"}.get(result.exit_code, "red")
    console.print(f"[{colour}]{headline(checks)}[/{colour}]", highlight=False)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


@proof_app.command("trust-list")
def trust_list_command(
    ctx: typer.Context,
    out: Annotated[Path | None, typer.Option(help="Write it to this file (default: print it).")] = None,
) -> None:
    """The platform's trust list (chain, registry contracts, authorities, threshold) for offline verifiers."""
    from ledger.context import Ledger
    from ledger.services.proofs import trust_list

    listed = trust_list(Ledger(ctx.obj))
    text = json.dumps(listed.model_dump(mode="json"), indent=2, ensure_ascii=False)
    if out is None:
        console.print(text, highlight=False, markup=False)
        return
    out.write_text(text + "\n", encoding="utf-8")
    console.print(f"trust list written to {out} (SHA-256 {listed.fingerprint()})", highlight=False)


@checkpoint_app.command("sign")
def sign(
    ctx: typer.Context,
    account: Annotated[list[str] | None, typer.Option("--account", help="Endorser account(s); default: every "
                                                      "endorser in the accounts file.")] = None,
) -> None:
    """Sign the latest block hash as authority account(s) (run periodically; `ledger serve` does it too)."""
    from ledger.context import Ledger

    ledger = Ledger(ctx.obj)
    names = account or [a.name for a in ledger.accounts.with_role("endorser")]
    for name in names:
        row = ledger.checkpoints.sign_latest(ledger.accounts.get(name).signer)
        console.print(f"{name} signed block {row.block_number} ({row.block_hash})", highlight=False)
