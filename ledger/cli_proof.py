"""``ledger proof`` and ``ledger checkpoint``: court bundles and the authorities' block signatures.

``ledger proof verify`` works with no network and no database: give it the bundle, optionally the original
file, the authorities you trust and how many of them must have signed.
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

from ledger.context import Ledger
from ledger.errors import LedgerValueError
from ledger.hashing import HashAlgorithm, digest_file, looks_like_digest, parse_digest
from ledger.pdf import verify_pdf
from ledger.proofs.bundle import certificate_pdf, export_bundle, read_bundle, verify_bundle, write_bundle
from ledger.proofs.checkpoints import CheckpointStore

proof_app = typer.Typer(help="Court bundles: export, and verify offline.", no_args_is_help=True)
checkpoint_app = typer.Typer(help="Authority signatures over block hashes.", no_args_is_help=True)
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 240)


@proof_app.command("export")
def export(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A file or a digest that is anchored.")],
    out: Annotated[Path, typer.Option(help="Where to write the bundle.")] = Path("evidence.bundle.json"),
    algorithm: Annotated[str, typer.Option("--algorithm", "-a", help="sha256, keccak256 or sm3.")] = "sha256",
    requested_by: Annotated[str, typer.Option(help="Who asked for it (court, arbitrator, notary ...).")] = "",
) -> None:
    """Write a self-contained bundle proving an anchored file or digest offline — or, for a registration number,
    the certificate as a PDF carrying its document and bundle."""
    ledger = Ledger(ctx.obj)
    if re.fullmatch(r"[A-Za-z]{2,4}-\d{4}-\d{6}-[0-9A-Za-z]", target.strip()):
        pdf_out = out if out.suffix.lower() == ".pdf" else Path(f"{target.strip().upper()}.pdf")
        pdf_out.write_bytes(certificate_pdf(ledger, target, ledger.settings.public_url, requested_by))
        console.print(f"certificate PDF written to {pdf_out} ({pdf_out.stat().st_size:,} bytes); "
                      f"verify it with: ledger proof verify {pdf_out}", highlight=False)
        return
    alg = HashAlgorithm.parse(algorithm)
    path = Path(target)
    if path.is_file():
        digest, name = digest_file(path, alg), path.name
    elif looks_like_digest(target):
        digest, name = parse_digest(target), None
    else:
        raise LedgerValueError(f"{target!r} is neither a readable file nor a 64-hex-digit digest")
    bundle = export_bundle(ledger, digest, alg, name, requested_by)
    write_bundle(bundle, out)
    console.print(f"bundle written to {out} ({out.stat().st_size:,} bytes; authority: {bundle['authority']['kind']}, "
                  f"block {bundle['authority']['block_number']})", highlight=False)


@proof_app.command("verify")
def verify(
    bundle_path: Annotated[Path, typer.Argument(metavar="BUNDLE", help="A bundle file, or a document PDF.")],
    file: Annotated[Path | None, typer.Option("--file", help="The original file, to check its hash too.")] = None,
    trust: Annotated[str | None, typer.Option(help="Trusted authorities: a file (JSON list or one address per "
                                              "line) or comma-separated addresses.")] = None,
    threshold: Annotated[int, typer.Option(min=1, help="How many trusted authorities must have signed.")] = 1,
    rpc: Annotated[str | None, typer.Option(help="Optionally cross-check a live node.")] = None,
) -> None:
    """Check a bundle offline and print each check; exits 1 if any fails."""
    trusted = _trusted(trust) if trust else None
    try:
        head = bundle_path.read_bytes()
    except OSError as exc:
        raise LedgerValueError(f"cannot read {bundle_path}: {exc.strerror}") from exc
    if head.startswith(b"%PDF"):
        checks = verify_pdf(head, trusted, threshold, rpc)
    else:
        checks = verify_bundle(read_bundle(bundle_path), file, trusted, threshold, rpc)
    table = Table("check", "result", "detail")
    for check in checks:
        table.add_row(check.name, "[green]pass[/green]" if check.ok else "[red]FAIL[/red]", check.detail)
    console.print(table)
    failed = [c for c in checks if not c.ok]
    if failed:
        console.print(f"[red]NOT VERIFIED[/red]: {failed[0].name} failed: {failed[0].detail}", highlight=False)
        raise typer.Exit(1)
    console.print("[green]VERIFIED[/green]: every check passed", highlight=False)


def _trusted(spec: str) -> list[str]:
    path = Path(spec)
    if path.is_file():
        text = path.read_text()
        try:
            values = json.loads(text)
        except ValueError:
            values = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    else:
        values = [part.strip() for part in spec.split(",") if part.strip()]
    if not isinstance(values, list) or not values or not all(
            isinstance(v, str) and v.startswith("0x") and len(v) == 42 for v in values):
        raise LedgerValueError(f"--trust needs 0x-addresses (40 hex digits), got {spec!r}")
    return [str(v) for v in values]


@checkpoint_app.command("sign")
def sign(
    ctx: typer.Context,
    account: Annotated[list[str] | None, typer.Option("--account", help="Endorser account(s); default: every "
                                                      "endorser in the accounts file.")] = None,
) -> None:
    """Sign the latest block hash as authority account(s) (run periodically; `ledger serve` does it too)."""
    ledger = Ledger(ctx.obj)
    names = account or [a.name for a in ledger.accounts.with_role("endorser")]
    store = CheckpointStore(ledger.engine, ledger.client, ledger.deployment.deployment_id)
    for name in names:
        row = store.sign_latest(ledger.accounts.get(name).signer)
        console.print(f"{name} signed block {row.block_number} ({row.block_hash})", highlight=False)
