"""``ledger`` — the operator's command line.

Errors print as one line (``error: ...``) and exit with status 1; a verification that finds nothing
exits with status 2, so scripts can tell "not anchored" from "could not check".
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from ledger.cli_proof import checkpoint_app, proof_app, tsa_app
from ledger.cli_recognition import app as recognition_app
from ledger.cli_registry import app as registry_app
from ledger.cli_wallet import accounts_app, wallet_app
from ledger.errors import LedgerError, LedgerValueError
from ledger.hashing import HashAlgorithm, digest_file, looks_like_digest, parse_digest, to_hex

if TYPE_CHECKING:
    from ledger.config import Settings
    from ledger.context import Ledger

app = typer.Typer(help="Data-asset registration, evidence and rights-confirmation ledger.",
                  pretty_exceptions_enable=False, no_args_is_help=True)
chain_app = typer.Typer(help="Run the local development chain.", no_args_is_help=True)
evidence_app = typer.Typer(help="Anchor, verify and endorse evidence (存证).", no_args_is_help=True)
access_app = typer.Typer(help="The access log: who read which non-public record, and its anchors on chain.",
                         no_args_is_help=True)
index_app = typer.Typer(help="The read models every query is served from (the chain indexer).",
                        no_args_is_help=True)
token_app = typer.Typer(help="API tokens bound to operator accounts.", no_args_is_help=True)
app.add_typer(chain_app, name="chain")
app.add_typer(evidence_app, name="evidence")
app.add_typer(token_app, name="token")
app.add_typer(index_app, name="index")
app.add_typer(access_app, name="access-log")
app.add_typer(wallet_app, name="wallet")
app.add_typer(accounts_app, name="accounts")
app.add_typer(registry_app, name="registry")
app.add_typer(proof_app, name="proof")
app.add_typer(checkpoint_app, name="checkpoint")
app.add_typer(tsa_app, name="tsa")
app.add_typer(recognition_app, name="recognition")

console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 240)
err_console = Console(stderr=True, soft_wrap=True)

HomeOption = Annotated[Path | None, typer.Option("--home", envvar="LEDGER_HOME",
                                                 help="Data directory (default ./.ledger).")]


@app.callback()
def _root(ctx: typer.Context, home: HomeOption = None) -> None:
    from ledger.config import Settings
    ctx.obj = Settings.from_env(home=home.resolve() if home else None)


def _ledger(ctx: typer.Context) -> Ledger:
    """The ledger; what a command got mined is indexed when it ends, so the next read sees it."""
    from ledger.context import Ledger
    settings: Settings = ctx.obj
    ledger = Ledger(settings)
    ctx.call_on_close(ledger.catch_up)
    return ledger


# --- chain -------------------------------------------------------------------------------------


@chain_app.command("up")
def chain_up(
    ctx: typer.Context,
    engine: Annotated[str, typer.Option(help="Node to run: anvil or hardhat.")] = "anvil",
    port: Annotated[int | None, typer.Option(min=1, max=65535,
                                             help="Port (default 8545, or a free one if taken).")] = None,
    block_time: Annotated[float | None, typer.Option(help="Whole seconds per block (default: a block per "
                                                     "tx).")] = None,
) -> None:
    """Start the local chain in the background, its state kept in the data directory."""
    from ledger.accounts import write_dev_accounts
    from ledger.chain.node import LocalNode
    settings: Settings = ctx.obj
    info = LocalNode(settings).start(engine=engine, port=port, block_time=block_time)
    write_dev_accounts(settings.accounts_path)
    persisted = (f"state saved in {info.state_file} as it changes" if info.state_file
                 else "state is NOT kept across restarts")
    console.print(f"{info.engine} running on {info.rpc_url} (pid {info.pid}); {persisted}")


@chain_app.command("down")
def chain_down(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Stop even if the state cannot be saved (blocks after "
                                        "the last snapshot are then lost).")] = False,
) -> None:
    """Stop the local chain (its state is saved first)."""
    from ledger.chain.node import LocalNode
    info = LocalNode(ctx.obj).stop(force=force)
    console.print(f"stopped {info.engine} (pid {info.pid})" if info else "no local chain was running")


@chain_app.command("status")
def chain_status(ctx: typer.Context) -> None:
    """Show the local node, the chain and the deployment."""
    from ledger.chain.node import LocalNode, rpc_ready
    settings: Settings = ctx.obj
    node = LocalNode(settings)
    info, saved = node.info(), node.saved()
    if info:
        console.print(f"local {info.engine}: pid {info.pid}, {info.rpc_url}")
        if saved and info.engine == "anvil":
            console.print(f"state saved at block {saved.block}, {time.time() - saved.saved_at:.0f} s ago "
                          f"({saved.size / 1e6:.1f} MB, {saved.save_seconds:.2f} s per save)")
    elif not settings.rpc_url:
        console.print("no local chain running (start one with `ledger chain up`)")
        raise typer.Exit(3)
    ledger = _ledger(ctx)
    url = settings.resolve_rpc_url()
    if not rpc_ready(url):
        raise LedgerError(f"the chain at {url} does not answer")
    client = ledger.client
    console.print(f"chain id {client.chain_id}, block {client.block_number()}, genesis {client.genesis_hash()}")
    deployment = ledger.deployment
    for name, record in deployment.contracts.items():
        console.print(f"{name} at {record.address} (deployed in block {record.deploy_block})")
    rollback = ledger.outbox.check_rollback()
    journal = ledger.outbox.status()
    console.print(f"outbox: {journal.pending} transaction(s) pending, {journal.failed} failed"
                  + (f"; oldest pending {journal.oldest_pending_tx}" if journal.oldest_pending_tx else ""),
                  highlight=False)
    if rollback is not None:
        console.print(f"[red]chain rollback:[/red] {rollback.detail} ({rollback.intents} transaction(s)); "
                      "`ledger chain reconcile` (or a running `ledger serve`) sends them again", highlight=False)
    for failure in journal.failures:
        console.print(f"[red]failed:[/red] {failure}", highlight=False)


@chain_app.command("reconcile")
def chain_reconcile(ctx: typer.Context) -> None:
    """One outbox pass: detect a chain rollback, then finish, re-send or repair every stored transaction."""
    ledger = _ledger(ctx)
    _ = ledger.workflow, ledger.evidence  # their completions update applications and batches
    rollback = ledger.outbox.check_rollback()
    finished = ledger.outbox.resume()
    journal = ledger.outbox.status()
    if rollback is not None:
        console.print(f"chain rollback: {rollback.detail} ({rollback.intents} transaction(s))", highlight=False)
    console.print(f"{finished} stored transaction(s) finished; {journal.pending} pending, {journal.failed} failed",
                  highlight=False)


# --- deploy ------------------------------------------------------------------------------------


@app.command()
def deploy(
    ctx: typer.Context,
    new_chain: Annotated[bool, typer.Option("--new-chain", help="Accept a reset chain: retire the old "
                                            "deployment and deploy afresh.")] = False,
) -> None:
    """Deploy the contracts (idempotent: reuses the deployment recorded for this chain)."""
    from ledger.deployment import deploy as deploy_contracts
    ledger = _ledger(ctx)
    deployment, created = deploy_contracts(ledger.manifest, ledger.client, ledger.accounts, ledger.toolchain,
                                           ledger.settings.admin_delay, new_chain=new_chain)
    verb = "deployed" if created else "already deployed"
    for name, record in deployment.contracts.items():
        console.print(f"{name} {verb} at {record.address} (chain {deployment.chain_id}, block {record.deploy_block})")


# --- evidence ----------------------------------------------------------------------------------


def _digest_of(target: str, algorithm: HashAlgorithm) -> tuple[str, bytes]:
    path = Path(target)
    if path.is_file():
        size = path.stat().st_size
        with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                      console=err_console, transient=True, disable=size < (8 << 20)) as progress:
            task = progress.add_task(f"{algorithm.label} {path.name}", total=size)
            digest = digest_file(path, algorithm, lambda n: progress.advance(task, n))
        return str(path), digest
    if looks_like_digest(target):
        return target, parse_digest(target)
    raise LedgerValueError(f"{target!r} is neither a readable file nor a 64-hex-digit digest")


AlgorithmOption = Annotated[str, typer.Option("--algorithm", "-a", help="sha256, keccak256 or sm3.")]
AccountOption = Annotated[str, typer.Option("--account", help="Operator account (accounts file name).")]


@evidence_app.command("anchor")
def evidence_anchor(
    ctx: typer.Context,
    targets: Annotated[list[str], typer.Argument(help="Files (or digests) to anchor.")],
    batch: Annotated[bool, typer.Option("--batch", help="Anchor one Merkle root for all of them.")] = False,
    algorithm: AlgorithmOption = "sha256",
    kind: Annotated[str, typer.Option(help="Evidence kind, e.g. declaration, proof, document.")] = "document",
    account: AccountOption = "provider",
    receipt_out: Annotated[Path | None, typer.Option("--receipt", help="Write the receipts (with "
                                                     "proofs) to this JSON file.")] = None,
) -> None:
    """Hash files and anchor their digests on chain."""
    from ledger.evidence import EvidenceKind
    alg = HashAlgorithm.parse(algorithm)
    evidence_kind = EvidenceKind.parse(kind)
    items = [_digest_of(t, alg) for t in targets]
    ledger = _ledger(ctx)
    service, sender = ledger.evidence, ledger.sender(account)
    receipts: list[dict[str, Any]] = []
    if batch:
        batch_row, tree = service.anchor_batch(sender, [(alg, d) for _, d in items])
        for index, (name, digest) in enumerate(items):
            receipts.append({"target": name, "digest": to_hex(digest), "hash_algorithm": alg.label,
                             "mode": "batch", "tx_hash": batch_row.tx_hash, "block_number": batch_row.block_number,
                             "batch": {"root": batch_row.root, "leaf_index": index, "leaf_count": tree.leaf_count,
                                       "proof": [to_hex(p) for p in tree.proof(index)]}})
    else:
        for name, digest in items:
            receipt = service.anchor(sender, digest, alg, evidence_kind)
            receipts.append({"target": name, **receipt.as_dict()})
    table = Table("target", "digest", "mode", "block", "transaction")
    for r in receipts:
        table.add_row(r["target"], r["digest"], r["mode"], str(r["block_number"]), r["tx_hash"])
    console.print(table)
    if receipt_out:
        receipt_out.write_text(json.dumps(receipts, indent=2))
        console.print(f"receipts written to {receipt_out}")


@evidence_app.command("verify")
def evidence_verify(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A file or a digest.")],
    algorithm: AlgorithmOption = "sha256",
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
    confirm: Annotated[bool, typer.Option("--confirm", help="Also ask the contract on chain.")] = False,
) -> None:
    """Check whether a file or digest is anchored: block, time, submitter, transaction, endorsements (read from
    the index of the chain's events; --confirm also asks the contract)."""
    alg = HashAlgorithm.parse(algorithm)
    _, digest = _digest_of(target, alg)
    result = _ledger(ctx).evidence.verify(digest, alg, confirm=confirm)
    if as_json:
        console.print_json(json.dumps(result.as_dict()))
    elif not result.anchored:
        behind = (f" — but the index is {result.lag_blocks} block(s) behind the chain (at block "
                  f"{result.indexed_block} of {result.chain_head}): it may be anchored since"
                  if result.lag_blocks else "")
        console.print(f"NOT ANCHORED: {to_hex(digest)} ({alg.label}) is not anchored on this chain{behind}")
        for line in result.pending:
            console.print(f"  pending: {line}")
    else:
        for anchor in result.anchors:
            where = (f"in batch {to_hex(anchor.batch.root)} (leaf {anchor.batch.leaf_index}, "
                     "proof checked against the anchored root)"
                     if anchor.batch else "singly")
            console.print(f"ANCHORED {where}: block {anchor.block_number} at {anchor.as_dict()['block_time_iso']}, "
                          f"by {anchor.submitter}, tx {anchor.tx_hash}")
        for e in result.endorsements:
            console.print(f"  endorsed by {e.endorser_kind} {e.endorser} in block {e.block_number}")
    if not result.anchored:
        raise typer.Exit(2)


@evidence_app.command("endorse")
def evidence_endorse(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(help="A file, digest or batch root to endorse.")],
    account: AccountOption = "notary",
    algorithm: AlgorithmOption = "sha256",
    statement: Annotated[Path | None, typer.Option(help="The endorser's statement document.")] = None,
) -> None:
    """Endorse an anchor as an authority node (notary, arbitration, time service ... TJIFA §7.1.4)."""
    alg = HashAlgorithm.parse(algorithm)
    _, key = _digest_of(target, alg)
    statement_digest = digest_file(statement) if statement else bytes(32)
    ledger = _ledger(ctx)
    tx_hash = ledger.evidence.endorse(ledger.sender(account), key, statement_digest)
    console.print(f"endorsed {to_hex(key)} as {account} in tx {tx_hash}")


# --- tokens and serving ------------------------------------------------------------------------


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    account: AccountOption = "provider",
    label: Annotated[str, typer.Option(help="A name to recognise the token by.")] = "default",
    out: Annotated[Path | None, typer.Option(
        help="Write the token to this file (mode 0600) instead of printing it.")] = None,
) -> None:
    """Create an API token bound to an operator account; it is shown once (printed, or written to --out)."""
    from ledger.files import write_private
    from ledger.tokens import create_token

    ledger = _ledger(ctx)
    token = create_token(ledger.engine, ledger.accounts, account, label)
    if out is None:
        console.print(token, soft_wrap=True)
    else:
        write_private(out, token + "\n")
        console.print(f"token {label!r} for {account} written to {out}")


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, label: Annotated[str, typer.Option(help="Label of the token(s).")]) -> None:
    """Revoke the tokens with a label."""
    from ledger.tokens import revoke_token

    count = revoke_token(_ledger(ctx).engine, label)
    console.print(f"revoked {count} token(s)")


@access_app.command("show")
def access_show(ctx: typer.Context, offset: int = 0, limit: int = 100) -> None:
    """Entries of the access log, oldest first."""
    from ledger.context import Ledger
    from ledger.services.access import access_log

    rows, count = access_log(Ledger(ctx.obj), offset, limit)
    table = Table("seq", "at", "who", "as", "read", "subject", "legal basis", title=f"{count} entries")
    for row in rows:
        table.add_row(str(row.seq), row.at[:19], row.principal, row.role, row.action, row.subject, row.legal_basis)
    console.print(table)


@access_app.command("verify")
def access_verify(ctx: typer.Context) -> None:
    """Recompute the log's hash chain and check it against the heads anchored on chain (exit 4 if broken)."""
    from ledger.context import Ledger
    from ledger.services.access import verify_access_log

    check = verify_access_log(Ledger(ctx.obj))
    for problem in check.problems:
        console.print(f"[red]BROKEN[/red] {problem}", highlight=False)
    console.print(f"{check.entries} entries, {check.anchors} anchored head(s): "
                  f"{'intact' if check.intact else 'TAMPERED'}", highlight=False)
    if not check.intact:
        raise typer.Exit(4)


@access_app.command("anchor")
def access_anchor(ctx: typer.Context) -> None:
    """Anchor the log's head on chain now (``ledger serve`` does it periodically)."""
    from ledger.services.access import anchor_access_log

    anchor = anchor_access_log(_ledger(ctx))
    console.print(f"anchored entry {anchor.seq}: {anchor.head_hash} (tx {anchor.tx_hash})" if anchor else
                  "nothing new to anchor", highlight=False)


@index_app.command("run")
def index_run(
    ctx: typer.Context,
    follow: Annotated[bool, typer.Option("--follow", help="Keep following the chain until interrupted.")] = False,
) -> None:
    """Index the chain's events up to its head (``ledger serve`` does this by itself)."""
    from ledger.context import Ledger
    settings: Settings = ctx.obj
    indexer = Ledger(settings).indexer
    applied = indexer.run_once()
    status = indexer.status()
    console.print(f"indexed {applied} event(s); at block {status.indexed} of {status.head}")
    if follow:
        import threading

        stop = threading.Event()
        try:
            indexer.follow(stop, settings.index_interval)
        except KeyboardInterrupt:
            stop.set()


@index_app.command("status")
def index_status(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Where the index stands: chain head, indexed block, lag and rows per table."""
    from ledger.context import Ledger
    status = Ledger(ctx.obj).indexer.status()
    data = {"head": status.head, "indexed": status.indexed, "lag": status.lag, "rows": status.rows}
    if as_json:
        console.print_json(json.dumps(data))
        return
    console.print(f"chain head {status.head}; indexed to {status.indexed}; lag {status.lag} block(s)")
    table = Table("table", "rows")
    for name, count in status.rows.items():
        table.add_row(name, str(count))
    console.print(table)


@index_app.command("rebuild")
def index_rebuild(ctx: typer.Context) -> None:
    """Drop this deployment's read models and index the chain again from the deploy block."""
    from ledger.context import Ledger
    indexer = Ledger(ctx.obj).indexer
    applied = indexer.rebuild()
    console.print(f"rebuilt: {applied} event(s) applied; at block {indexer.status().indexed}")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, envvar="LEDGER_WORKERS", help="Worker processes answering "
                                         "requests; one of them leads and runs the background work (indexer, "
                                         "duties, checkpoints, outbox repair).")] = 1,
) -> None:
    """Serve the API and web pages."""
    import uvicorn

    from api.main import SUPERVISOR_ENV, create_app

    settings: Settings = ctx.obj
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        return
    import os

    from ledger.context import Ledger
    ledger = Ledger(settings)
    _ = ledger.deployment  # a reset chain or a missing deployment stops here, once, with the reason
    ledger.engine.dispose()  # migrations are applied; the workers open their own connections
    os.environ["LEDGER_HOME"] = str(settings.home)  # the workers read their settings from the environment
    os.environ[SUPERVISOR_ENV] = str(os.getpid())  # and exit as soon as this process is gone
    uvicorn.run("api.main:worker_app", factory=True, workers=workers, host=host, port=port, log_level="info")


def main() -> None:
    """Entry point: one-line errors, non-zero exit."""
    try:
        app()
    except LedgerError as exc:
        err_console.print(f"[red]error:[/red] {exc.user_message}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
