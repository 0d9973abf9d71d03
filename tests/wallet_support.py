"""Parties who keep their own keys (issue #11 §3), as the wallet tests set them up: the ``ledger`` CLI run against a
home with a keystore passphrase, a keystore made by ``ledger wallet create`` and its address made known to the
registry by ``ledger accounts add-party``; and a registration that waits for such a party's consent."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app as cli
from ledger.errors import ConsentRequiredError
from ledger.models import Application
from ledger.profiles import ObjectType
from ledger.workflow import Workflow
from tests.content import content

PASSPHRASE = "correct horse battery staple"


def cli_of(home: Path) -> Callable[..., str]:
    """``ledger ARGS…`` on ``home``, with the wallet passphrase in the environment; its output (exit 0 asserted)."""
    runner = CliRunner()
    env = {"LEDGER_HOME": str(home), "LEDGER_WALLET_PASSPHRASE": PASSPHRASE}

    def run(*args: str) -> str:
        result = runner.invoke(cli, list(args), env=env)
        assert result.exit_code == 0, result.output + repr(result.exception)
        return result.output
    return run


def wallet_party(run: Callable[..., str], keystore: Path, name: str) -> str:
    """A keystore at ``keystore`` whose address the registry knows as party ``name``; the address."""
    run("wallet", "create", str(keystore))
    address = run("wallet", "address", str(keystore)).strip()
    run("accounts", "add-party", name, "--address", address)
    return address


def waiting_for_consent(workflow: Workflow, today: list[date], holder: str, asset: str,
                        legal_name: str = "某数据科技有限公司") -> Application:
    """An initial TJIFA registration for wallet-held ``holder`` taken through its notice (the calendar ``today``
    moves on) to the point where registering asks for the holder's consent."""
    app = workflow.apply(kind="initial", profile="TJIFA", holder=holder, actor="registrar",
                         object_type=ObjectType.DATA_ASSET, document=os.urandom(32),
                         payload={"content": content(asset, legal_name)})
    for step in (workflow.accept, workflow.begin_review, workflow.approve, workflow.start_notice):
        step(app.id, "registrar")
    today[0] += timedelta(days=20)
    with pytest.raises(ConsentRequiredError):
        workflow.register(app.id, "registrar")
    return app
