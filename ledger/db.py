"""Database engine and sessions: SQLite embedded by default, PostgreSQL for real deployments."""

from __future__ import annotations

import fcntl
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from ledger import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from ledger.files import create_private
from ledger.indexer import read_models  # noqa: F401  (the read models too)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout so the API and CLI can share it.

    A new SQLite file is created with mode 0600 whatever the umask; SQLite gives its -wal and -shm
    files the database file's mode."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            create_private(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The revision a database created before migrations existed (``create_all``) is taken to be at.
BASELINE = "0001"


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One process migrates at a time: a PostgreSQL advisory lock, or a lock file beside the SQLite database."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_lock(7261626)")  # any fixed key: "ledger migrations"
            try:
                yield
            finally:
                conn.exec_driver_sql("SELECT pg_advisory_unlock(7261626)")
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    lock = Path(database + ".migrate.lock")
    create_private(lock)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _baseline_tables() -> set[str]:
    """The tables the baseline migration creates (read from it: what a pre-migration database should have)."""
    script = next((MIGRATIONS / "versions").glob(f"{BASELINE}_*.py"))
    return set(re.findall(r"op\.create_table\('(\w+)'", script.read_text(encoding="utf-8")))


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def init_db(engine: Engine) -> None:
    """Brings the schema to the newest migration (Alembic; idempotent, one process at a time). A database made
    before migrations existed (its tables created directly) is stamped at the baseline first."""
    head = head_revision()
    if current_revision(engine) == head:
        return
    with _migration_lock(engine), engine.begin() as conn:
        config = _alembic_config(conn)
        current = MigrationContext.configure(conn).get_current_revision()
        if current is None and inspect(conn).has_table("application"):  # made by create_all, before migrations
            baseline = _baseline_tables()  # the baseline's tables it lacks; then it is at the baseline
            SQLModel.metadata.create_all(conn, tables=[t for t in SQLModel.metadata.sorted_tables
                                                       if t.name in baseline])
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on any error: nothing is half-written."""
    with Session(engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
