"""The ``ledger`` command as an operator runs it: real processes, real chain, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.chain.node import free_port

pytestmark = [pytest.mark.chain, pytest.mark.slow]
LEDGER = [sys.executable, "-m", "ledger"]


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LEDGER_HOME": str(home), "LEDGER_ADMIN_DELAY": "0"}
    return subprocess.run([*LEDGER, *args], capture_output=True, text=True, env=env, timeout=300)


def test_cli_anchor_verify_endorse_and_errors(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bad_port = run(home, "chain", "up", "--port", "99999")
    assert bad_port.returncode == 2 and "65535" in bad_port.stderr and "Traceback" not in bad_port.stderr
    up = run(home, "chain", "up", "--port", str(free_port()))
    assert up.returncode == 0, up.stderr
    try:
        assert run(home, "deploy").returncode == 0
        assert "already deployed" in run(home, "deploy").stdout
        first, second = tmp_path / "a.txt", tmp_path / "b.txt"
        first.write_text("数据资产 A")
        second.write_text("数据资产 B")
        single = run(home, "evidence", "anchor", str(first), "--kind", "declaration")
        assert single.returncode == 0, single.stderr
        batch = run(home, "evidence", "anchor", "--batch", str(second), str(tmp_path / "a.txt"),
                    "--receipt", str(tmp_path / "r.json"), "--algorithm", "keccak256")
        assert batch.returncode == 0, batch.stderr
        receipts = json.loads((tmp_path / "r.json").read_text())
        assert [r["batch"]["leaf_index"] for r in receipts] == [0, 1]
        verified = run(home, "evidence", "verify", str(second), "--algorithm", "keccak256")
        assert verified.returncode == 0 and "ANCHORED in batch" in verified.stdout
        assert run(home, "evidence", "endorse", str(first)).returncode == 0
        endorsed = run(home, "evidence", "verify", str(first), "--json")
        assert json.loads(endorsed.stdout)["endorsements"][0]["endorser_kind"] == "notary"

        duplicate = run(home, "evidence", "anchor", str(first))
        assert duplicate.returncode == 1
        assert duplicate.stderr.strip().startswith("error:") and "already anchored" in duplicate.stderr
        assert len(duplicate.stderr.strip().splitlines()) == 1
        absent = run(home, "evidence", "verify", "ab" * 32)
        assert absent.returncode == 2 and "NOT ANCHORED" in absent.stdout
        bad = run(home, "evidence", "verify", "no-such-file")
        assert bad.returncode == 1 and "neither a readable file nor" in bad.stderr
        forbidden = run(home, "evidence", "anchor", str(tmp_path / "b.txt"), "--account", "outsider")
        assert forbidden.returncode == 1 and "evidence provider role" in forbidden.stderr
        assert "chain id 31337" in run(home, "chain", "status").stdout
    finally:
        assert run(home, "chain", "down").returncode == 0
    down = run(home, "evidence", "verify", "ab" * 32)
    assert down.returncode == 1 and "error:" in down.stderr and "Traceback" not in down.stderr


def test_the_cli_starts_without_its_heavy_libraries() -> None:
    """``ledger --help`` and every group's help import no chain, database or PDF library (issue #11 §1: commands
    import what they need when they run; the start-up time is measured by ``bench/cli_startup.py``)."""
    heavy = ("web3", "eth_account", "sqlalchemy", "sqlmodel", "reportlab", "jsonschema", "requests")
    for argv in (["--help"], ["registry", "--help"], ["evidence", "--help"], ["proof", "--help"]):
        probe = (f"import sys; sys.argv = ['ledger', *{argv!r}]\nimport ledger.cli\n"
                 "try:\n    ledger.cli.main()\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
                 f"print(sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)")
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
        assert "Usage" in done.stdout, argv
        assert done.stderr.strip().splitlines()[-1] == "[]", (argv, done.stderr)
