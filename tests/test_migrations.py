"""Alembic migrations (issue #10 §5): a database migrated from empty has exactly the models' schema, on SQLite and
PostgreSQL; migrating is idempotent; a database made before migrations existed is adopted, not recreated."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from ledger.db import BASELINE, _baseline_tables, current_revision, head_revision, init_db, make_engine


def differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_the_migrated_schema_equals_the_models(engine: Engine) -> None:
    """``engine`` (conftest) is a fresh SQLite or PostgreSQL database brought up by ``init_db``."""
    assert current_revision(engine) == head_revision()
    assert differences(engine) == []
    init_db(engine)  # again: nothing to do
    assert current_revision(engine) == head_revision()


def test_a_database_made_before_migrations_is_adopted(tmp_path: Path) -> None:
    legacy = make_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    baseline = _baseline_tables() - {"registry_act"}  # an older create_all: some baseline tables, none added later
    SQLModel.metadata.create_all(legacy, tables=[t for t in SQLModel.metadata.sorted_tables if t.name in baseline])
    with legacy.begin() as conn:  # and an application table as it was before wallet consents (0002)
        conn.exec_driver_sql("ALTER TABLE application DROP COLUMN prepared_on")
        conn.exec_driver_sql("DROP INDEX evidence_batch_unindexed")  # and evidence_batch before 0004
    assert current_revision(legacy) is None
    init_db(legacy)
    assert inspect(legacy).has_table("registry_act") and inspect(legacy).has_table("consent_request")
    assert "prepared_on" in {c["name"] for c in inspect(legacy).get_columns("application")}
    assert current_revision(legacy) == head_revision() and str(head_revision()) >= BASELINE
    assert differences(legacy) == []
