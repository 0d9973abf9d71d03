"""``ledger wallet`` — a holder's own key (issue #11 §3), and ``ledger accounts`` — parties the registry knows.

Holders, transferees and pledgees keep their keys in their own wallets: an encrypted keystore (eth-account's
Web3 Secret Storage, passphrase-protected) made by ``ledger wallet create``, or any EIP-712 wallet. A filing that
needs their consent waits for it; they fetch the typed data, sign it on their own machine, and post the signature
— ``ledger wallet sign`` does the three. The registry knows them by address only (``ledger accounts add-party``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ledger.errors import ConfigurationError, LedgerValueError

wallet_app = typer.Typer(help="Your own key: create a keystore, show its address, sign consents.",
                         no_args_is_help=True)
accounts_app = typer.Typer(help="The accounts this registry knows (keys it holds, parties known by address).",
                           no_args_is_help=True)
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 240)

PassphraseFile = Annotated[Path | None, typer.Option(help="File holding the keystore's passphrase (else "
                                                     "LEDGER_WALLET_PASSPHRASE, else a prompt).")]


def _passphrase(path: Path | None, confirm: bool = False) -> str:
    if path is not None:
        return path.read_text(encoding="utf-8").rstrip("\n")
    if os.environ.get("LEDGER_WALLET_PASSPHRASE"):
        return os.environ["LEDGER_WALLET_PASSPHRASE"]
    value: str = typer.prompt("keystore passphrase", hide_input=True, confirmation_prompt=confirm)
    return value


def _key(keystore: Path, passphrase_file: Path | None) -> Any:
    from eth_account import Account

    try:
        data = json.loads(keystore.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LedgerValueError(f"cannot read keystore {keystore}: {exc}") from None
    try:
        return Account.from_key(Account.decrypt(data, _passphrase(passphrase_file)))
    except ValueError:
        raise LedgerValueError(f"wrong passphrase for {keystore} (or not a keystore)") from None


@wallet_app.command("create")
def create(out: Annotated[Path, typer.Argument(help="Where to write the keystore (mode 0600).")],
           passphrase_file: PassphraseFile = None) -> None:
    """Create a key in an encrypted keystore; print its address (give that to the registry)."""
    from eth_account import Account

    from ledger.files import write_private

    if out.exists():
        raise LedgerValueError(f"{out} exists: a keystore is never overwritten")
    passphrase = _passphrase(passphrase_file, confirm=True)
    if len(passphrase) < 8:
        raise LedgerValueError("choose a passphrase of at least 8 characters")
    account = Account.create()
    write_private(out, json.dumps(Account.encrypt(account.key, passphrase)))
    console.print(f"keystore {out}: address {account.address}", highlight=False)


@wallet_app.command("address")
def address(keystore: Path) -> None:
    """The address of a keystore (read from the file; no passphrase needed)."""
    from eth_utils.address import to_checksum_address

    try:
        raw = json.loads(keystore.read_text(encoding="utf-8"))["address"]
    except (OSError, ValueError, KeyError) as exc:
        raise LedgerValueError(f"{keystore} is not a keystore: {exc}") from None
    console.print(to_checksum_address(raw), highlight=False)


def sign_typed(key: Any, typed_data: dict[str, Any]) -> str:
    """The signature (0x…, 65 bytes, v 27/28, low s) of EIP-712 ``typed_data`` — what any wallet's
    eth_signTypedData_v4 returns."""
    from eth_account import Account

    signed = Account.sign_typed_data(key.key, full_message=typed_data)
    return "0x" + bytes(signed.signature).hex()


@wallet_app.command("sign")
def sign(
    keystore: Path,
    typed_data: Annotated[Path | None, typer.Option(help="A file with the typed data (or a consent request, or a "
                                                    "list of them) to sign offline; prints the signatures.")] = None,
    api: Annotated[str | None, typer.Option(help="The registry's API, e.g. http://127.0.0.1:8000.")] = None,
    application: Annotated[str | None, typer.Option(help="The application whose consents to sign (with --api).")]
    = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Sign consents with your own key: offline from a file, or fetch this application's consents that name you
    from the registry's API, sign them here and post the signatures (the key never leaves this machine)."""
    key = _key(keystore, passphrase_file)
    if typed_data is not None:
        raw = json.loads(typed_data.read_text(encoding="utf-8"))
        items = raw if isinstance(raw, list) else [raw]
        out = []
        for item in items:
            message = item.get("typed_data", item)
            out.append({"id": item.get("id"), "signature": sign_typed(key, message)})
        console.print_json(json.dumps(out))
        return
    if not api or not application:
        raise LedgerValueError("give --typed-data FILE, or --api URL and --application ID")
    import requests

    base = api.rstrip("/")
    path = f"/applications/{application}/consents"
    reply = requests.get(base + path, headers=_signed_headers(key, "GET", path), timeout=30)  # as the party
    if reply.status_code != 200:
        raise ConfigurationError(f"the registry answered {reply.status_code}: {reply.text[:300]}")
    mine = [c for c in reply.json() if c["signer"].lower() == key.address.lower() and not c["signed"]]
    if not mine:
        console.print(f"no unsigned consent of {key.address} in application {application}", highlight=False)
        return
    for consent in mine:
        posted = requests.post(f"{base}/applications/{application}/consents/{consent['id']}",
                               json={"signature": sign_typed(key, consent["typed_data"])}, timeout=30)
        if posted.status_code != 200:
            raise ConfigurationError(f"consent {consent['id']} refused ({posted.status_code}): {posted.text[:300]}")
        console.print(f"consent {consent['id']} signed by {key.address} and posted", highlight=False)


def _signed_headers(key: Any, method: str, path: str, body: bytes = b"") -> dict[str, str]:
    """The headers of a request signed with the party's own key (ledger.services.access.request_text)."""
    import time

    from eth_account import Account
    from eth_account.messages import encode_defunct

    from ledger.services.access import request_text

    timestamp = int(time.time())
    text = request_text(method, path, timestamp, body)
    signature = "0x" + bytes(Account.sign_message(encode_defunct(text=text), key.key).signature).hex()
    return {"X-Ledger-Address": key.address, "X-Ledger-Timestamp": str(timestamp), "X-Ledger-Signature": signature}


@wallet_app.command("sign-request")
def sign_request(
    keystore: Path,
    method: Annotated[str, typer.Argument(help="GET, POST, …")],
    path: Annotated[str, typer.Argument(help="The request's path with its query, e.g. /account/login.")],
    body: Annotated[Path | None, typer.Option(help="A file with the request's exact body (none: empty).")] = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Sign one API request with your own key instead of a token (valid 5 minutes): prints the X-Ledger-Address,
    X-Ledger-Timestamp and X-Ledger-Signature headers — also what the sign-in page's form asks for
    (``POST /account/login``)."""
    key = _key(keystore, passphrase_file)
    headers = _signed_headers(key, method, path, body.read_bytes() if body is not None else b"")
    console.print("\n".join(f"{name}: {value}" for name, value in headers.items()), highlight=False)


@accounts_app.command("add-party")
def add_party(ctx: typer.Context, name: str,
              party_address: Annotated[str, typer.Option("--address", help="The party's address (its wallet's).")],
              ) -> None:
    """Know a holder, transferee or pledgee by its address: it signs its consents in its own wallet."""
    from ledger.accounts import add_wallet_account

    account = add_wallet_account(ctx.obj.accounts_path, name, party_address)
    console.print(f"{name}: {account.address} (signs in its own wallet)", highlight=False)
