"""Data files are owner-only (0600) whatever the umask: the SQLite database with its -wal and -shm files,
the accounts file and token files written by the CLI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from ledger.accounts import write_dev_accounts
from ledger.db import init_db, make_engine


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o000, 0o277], ids=oct)
def test_sqlite_database_and_its_wal_and_shm_are_0600(tmp_path: Path, umask: int) -> None:
    db = tmp_path / "home" / "ledger.db"
    db.parent.mkdir()
    previous = os.umask(umask)
    try:
        engine = make_engine(f"sqlite:///{db}")
        init_db(engine)
        with engine.connect() as connection:  # while it is open, SQLite keeps the -wal and -shm files
            connection.execute(text("CREATE TABLE probe (x INTEGER)"))
            connection.commit()
            files = [db, db.with_name("ledger.db-wal"), db.with_name("ledger.db-shm")]
            assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        engine.dispose()
    finally:
        os.umask(previous)


def test_an_existing_shared_database_is_kept_and_warned_about(tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "ledger.db"
    db.touch()
    db.chmod(0o644)
    make_engine(f"sqlite:///{db}").dispose()
    assert mode(db) == 0o644 and "chmod 600" in caplog.text


def test_cli_creates_database_accounts_and_token_files_0600_under_umask_022(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_dev_accounts(home / "accounts.json")
    token_file = tmp_path / "provider.token"
    token_file.write_text("an older token")
    token_file.chmod(0o644)  # an existing file is tightened before the new token is written
    env = {**os.environ, "LEDGER_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "ledger", "token", "create", "--account", "provider",
                           "--label", "modes", "--out", str(token_file)],
                          capture_output=True, text=True, env=env, umask=0o022, timeout=300)
    assert done.returncode == 0, done.stderr
    assert token_file.read_text().startswith("ldg_") and "ldg_" not in done.stdout
    assert {p.name: mode(p) for p in (home / "ledger.db", home / "accounts.json", token_file)} == {
        "ledger.db": 0o600, "accounts.json": 0o600, token_file.name: 0o600}
