"""``ledger index run | status | rebuild`` on a real Anvil node (issue #10 §2)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ledger.cli import app
from ledger.registry import AssetRegistryClient
from tests.conftest import start_chain
from tests.contracts.registry_env import RegistryEnv

pytestmark = pytest.mark.chain


def test_index_commands(tmp_path_factory: pytest.TempPathFactory) -> None:
    settings, node, ledger = start_chain(tmp_path_factory.mktemp("index-cli"))
    try:
        handle = ledger.contract("AssetRegistry")
        env = RegistryEnv(ledger, AssetRegistryClient(handle), handle)
        env.register("TJIFA")
        env.register("SZ")
        runner = CliRunner()
        environment = {"LEDGER_HOME": str(settings.home)}

        def run(*args: str) -> str:
            result = runner.invoke(app, list(args), env=environment)
            assert result.exit_code == 0, result.output
            return result.output

        before = json.loads(run("index", "status", "--json"))
        assert before["indexed"] is None and before["lag"] > 0 and before["rows"]["ix_unit"] == 0
        assert "indexed" in run("index", "run")
        after = json.loads(run("index", "status", "--json"))
        assert after["lag"] == 0 and after["indexed"] == after["head"] and after["rows"]["ix_unit"] == 2
        assert after["rows"]["ix_certificate"] == 2
        run("index", "rebuild")
        assert json.loads(run("index", "status", "--json"))["rows"] == after["rows"]
    finally:
        node.stop()
