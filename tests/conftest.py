"""Fixtures that start real services: an Anvil node on a free port, SQLite and PostgreSQL databases, and an RFC
3161 time-stamping authority (OpenSSL's own ``openssl ts`` behind HTTP, its test CA generated per session)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import Engine

from ledger.accounts import write_dev_accounts
from ledger.chain.node import LocalNode, free_port
from ledger.config import Settings
from ledger.context import Ledger
from ledger.db import init_db, make_engine
from ledger.deployment import deploy
from ledger.devtsa import LocalTsa, TsaInfo
from ledger.evidence import EvidenceService
from ledger.indexer.sync import Indexer

PG_ADMIN = os.environ.get("LEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def start_chain(home: Path, admin_delay: int = 0) -> tuple[Settings, LocalNode, Ledger]:
    """A fresh ledger home with a running Anvil on a free port and the contracts deployed."""
    settings = Settings.from_env(home=home, admin_delay=admin_delay)
    node = LocalNode(settings)
    node.start(port=free_port())
    write_dev_accounts(settings.accounts_path)
    ledger = Ledger(settings)
    deploy(ledger.manifest, ledger.client, ledger.accounts, ledger.toolchain, admin_delay)
    return settings, node, ledger


@pytest.fixture(scope="session")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    """One Anvil node + deployment shared by the tests that only add anchors."""
    _, node, ledger = start_chain(tmp_path_factory.mktemp("ledger-home"))
    yield ledger
    node.stop()


def _postgres_url() -> Iterator[str]:
    name = f"ledger_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"], scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Each DB-backed test runs on the embedded default (SQLite) and on a real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'ledger.db'}"
    else:
        yield from _postgres_url()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Engine:
    engine = make_engine(database_url)
    init_db(engine)
    return engine


@pytest.fixture
def evidence(chain: Ledger, engine: Engine) -> EvidenceService:
    """The evidence service on the shared chain, backed by the parametrized database."""
    return EvidenceService(chain.contract("EvidenceRegistry"), engine, chain.deployment.deployment_id,
                           indexer=Indexer(engine, chain.client, chain.deployment))


@pytest.fixture(scope="session")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TsaInfo]:
    """The development TSA (``ledger tsa up``): `openssl ts -reply` behind HTTP on a free port, with a test CA
    generated now into a private directory (mode 0700, files 0600)."""
    local = LocalTsa(tmp_path_factory.mktemp("tsa-home"))
    info = local.start(free_port())
    yield info
    local.stop()


@pytest.fixture(scope="session")
def stamped(chain: Ledger, tsa: TsaInfo) -> Ledger:
    """The shared chain's ledger with a time service: its exports carry RFC 3161 tokens from the test TSA."""
    return Ledger(chain.settings.model_copy(update={"tsa_url": tsa.url}))
