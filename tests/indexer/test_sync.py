"""The indexer on a real Anvil node, into SQLite and PostgreSQL (issue #10): every event into the read models,
replays change nothing, a rebuild gives the same rows, SIGKILL at any point resumes without gap or duplicate, a
reorg is rolled back, and a node that refuses large ranges gets smaller ones."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from ledger.chain.client import ChainClient, RpcError
from ledger.chain.sender import TransactionSender
from ledger.context import Ledger
from ledger.db import init_db, make_engine
from ledger.hashing import HashAlgorithm, to_hex
from ledger.indexer.read_models import (
    ALL_TABLES,
    IxAnchor,
    IxCertificate,
    IxCursor,
    IxObjection,
    IxRight,
    IxRightsEntry,
    IxUnit,
)
from ledger.indexer.sync import Indexer
from ledger.lifecycle import Action, Right
from ledger.registry import AssetRegistryClient
from tests.conftest import start_chain
from tests.contracts.registry_env import RegistryEnv, h

pytestmark = pytest.mark.chain
DAY = 86_400


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A chain with every kind of event: units under three profiles and their filings, anchors, endorsements."""
    _, node, ledger = start_chain(tmp_path_factory.mktemp("index-home"))
    handle = ledger.contract("AssetRegistry")
    env = RegistryEnv(ledger, AssetRegistryClient(handle), handle)
    send = env.registry.transact
    units = [env.register("TJIFA"), env.register("SZ"), env.register("DL"), env.register("TJIFA")]
    tj, sz, dl, tj2 = units
    send(env.sender("registrar"), "reissue", *env.reissue_args(tj, Action.CHANGE))
    pledge = handle.events(send(env.sender("registrar"), "addRightsEntry", *env.entry_args(tj, Action.PLEDGE)),
                           "RightsEntryAdded")[0]["entryId"]
    send(env.sender("registrar"), "addRightsEntry", *env.entry_args(tj, Action.LICENCE, "holder-b",
                                                                    Right.PROCESSING_USE))
    send(env.sender("registrar"), "transfer", *env.transfer_args(tj, "holder-b", pledgees=((pledge, "bank"),)))
    send(env.sender("registrar"), "transfer", *env.transfer_args(sz, "bank", Right.PROCESSING_USE, sign_from=False))
    send(env.sender("registrar"), "fileObjection", sz, env.address("outsider"), h(), h())
    send(env.sender("registrar"), "setSuspended", dl, True, h())
    send(env.sender("court"), "cancel", tj2, 2, h(), bytes(32), (0, 0, b""), [])
    for _ in range(3):
        ledger.evidence.anchor(ledger.sender("provider"), os.urandom(32), HashAlgorithm.SHA256)
    batch, _ = ledger.evidence.anchor_batch(ledger.sender("provider"), [(HashAlgorithm.SM3, os.urandom(32))
                                                                        for _ in range(20)])
    ledger.evidence.endorse(ledger.sender("notary"), bytes.fromhex(batch.root[2:]))
    yield {"ledger": ledger, "env": env, "units": units, "node": node}
    node.stop()


def digest_of(engine: Engine, deployment: str) -> str:
    """SHA-256 over every read-model row of a deployment, in key order."""
    hasher = hashlib.sha256()
    with Session(engine) as session:
        for table in ALL_TABLES:
            if table is IxCursor:
                continue
            keys = [col(c) for c in table.__table__.primary_key.columns]  # type: ignore[attr-defined]
            rows = session.exec(select(table).where(table.deployment == deployment)  # type: ignore[attr-defined]
                                .order_by(*keys)).all()
            for row in rows:
                hasher.update(json.dumps(row.model_dump(), sort_keys=True, default=str).encode())
    return hasher.hexdigest()


def test_the_index_equals_the_contracts_state(world: dict[str, Any], engine: Engine) -> None:
    ledger: Ledger = world["ledger"]
    env: RegistryEnv = world["env"]
    indexer = Indexer(engine, ledger.client, ledger.deployment, chunk_blocks=7)  # many small chunks
    assert indexer.run_once() > 0
    key = ledger.deployment.deployment_id
    with Session(engine) as session:
        for uid in world["units"]:
            unit = env.registry.unit(uid)
            row = session.get(IxUnit, (key, to_hex(uid)))
            assert row is not None
            assert (row.holder.lower(), row.status, row.valid_until, row.certificate_version,
                    row.certificate_hash, row.open_objections) == (
                unit["holder"].lower(), int(unit["status"]), unit["valid_until"], unit["certificate_version"],
                to_hex(unit["certificate_hash"]), unit["open_objections"])
            assert row.active_entries == env.registry.active_entries(uid)
            assert row.active_pledges == env.registry.active_pledges(uid)
            for right in session.exec(select(IxRight).where(IxRight.deployment == key,
                                                            IxRight.unit_id == to_hex(uid))).all():
                assert right.holder.lower() == env.registry.right_holder(uid, Right(1 << right.right)).lower()
            certs = session.exec(select(IxCertificate).where(IxCertificate.deployment == key,
                                                             IxCertificate.unit_id == to_hex(uid))).all()
            assert len(certs) == unit["certificate_version"]
            assert [c.superseded_by is None for c in sorted(certs, key=lambda c: c.version)][-1]
        entries = session.exec(select(IxRightsEntry).where(IxRightsEntry.deployment == key)).all()
        assert {e.kind for e in entries} == {"pledge", "licence"}
        assert all(e.contract_hash != "0x" + "00" * 32 for e in entries)  # the contract from the same transaction
        for entry in entries:
            assert entry.active == env.registry.entry(entry.entry_id)["active"]
        assert len(session.exec(select(IxObjection).where(IxObjection.deployment == key)).all()) == 1
        assert len(session.exec(select(IxAnchor).where(IxAnchor.deployment == key)).all()) == 3
    before = digest_of(engine, key)
    assert indexer.run_once() == 0 and digest_of(engine, key) == before  # a replay changes nothing
    indexer.rebuild()
    assert digest_of(engine, key) == before  # done when: rebuilt from the chain, the same rows


def test_sigkill_at_random_points_leaves_no_gap_and_no_duplicate(world: dict[str, Any], tmp_path: Path) -> None:
    ledger: Ledger = world["ledger"]
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    engine = make_engine(url)
    init_db(engine)
    script = textwrap.dedent(f"""
        import os, signal, sys
        from ledger.config import Settings
        from ledger.context import Ledger
        from ledger.db import make_engine
        from ledger.indexer.sync import Indexer
        kill_at, calls = int(sys.argv[1]), [0]
        original = Indexer._upsert
        def upsert(self, *args, **kwargs):  # SIGKILL in the middle of applying a chunk, at a chosen write
            calls[0] += 1
            if calls[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(self, *args, **kwargs)
        Indexer._upsert = upsert
        ledger = Ledger(Settings.from_env(home={str(ledger.settings.home)!r}))
        Indexer(make_engine({url!r}), ledger.client, ledger.deployment, chunk_blocks=1).run_once()
    """)
    head = ledger.client.block_number()
    reached: list[int] = []
    rng = random.Random(10)
    for _ in range(40):  # killed at a random write of a chunk, again and again, until a run gets through
        done = subprocess.run([sys.executable, "-c", script, str(rng.randint(3, 40))], env={**os.environ},
                              timeout=120)
        if done.returncode == 0:
            break
        assert done.returncode == -signal.SIGKILL
        cursor = Indexer(engine, ledger.client, ledger.deployment).cursor()
        reached.append(cursor.block_number if cursor else -1)
    assert len(reached) >= 3 and reached == sorted(reached) and reached[-1] < head, reached
    Indexer(engine, ledger.client, ledger.deployment, chunk_blocks=1).run_once()  # resume
    clean = make_engine(f"sqlite:///{tmp_path / 'clean.db'}")
    init_db(clean)
    Indexer(clean, ledger.client, ledger.deployment).run_once()
    key = ledger.deployment.deployment_id
    assert digest_of(engine, key) == digest_of(clean, key)


def test_a_reorg_is_rolled_back(tmp_path: Path, database_url: str) -> None:
    _, node, ledger = start_chain(tmp_path / "reorg-home")
    try:
        engine = make_engine(database_url)
        init_db(engine)
        indexer = Indexer(engine, ledger.client, ledger.deployment)
        kept = os.urandom(32)
        ledger.evidence.anchor(ledger.sender("provider"), kept, HashAlgorithm.SHA256)
        snapshot = ledger.client.request("evm_snapshot")
        lost = os.urandom(32)
        ledger.evidence.anchor(ledger.sender("provider"), lost, HashAlgorithm.SHA256)
        indexer.run_once()
        key = ledger.deployment.deployment_id
        with Session(engine) as session:
            assert session.get(IxAnchor, (key, to_hex(lost))) is not None
        assert ledger.client.request("evm_revert", [snapshot])
        other = os.urandom(32)  # the other fork: different blocks at the same heights
        # a sender outside the journal: the journal's nonces still count `lost`, this fork does not
        unjournaled = TransactionSender(ledger.client, ledger.accounts.get("provider").signer)
        ledger.contract("EvidenceRegistry").transact(unjournaled, "anchor", other, 1, 8, bytes(32))
        indexer.run_once()
        with Session(engine) as session:
            assert session.get(IxAnchor, (key, to_hex(lost))) is None
            assert session.get(IxAnchor, (key, to_hex(other))) is not None
            assert session.get(IxAnchor, (key, to_hex(kept))) is not None
        clean = make_engine(f"sqlite:///{tmp_path / 'clean.db'}")
        init_db(clean)
        Indexer(clean, ledger.client, ledger.deployment).run_once()
        assert digest_of(engine, key) == digest_of(clean, key)
    finally:
        node.stop()


class _Stingy(ChainClient):
    """A node that refuses eth_getLogs over more than 3 blocks (as hosted nodes do for large ranges)."""

    def __init__(self, rpc_url: str) -> None:
        super().__init__(rpc_url)
        self.asked: list[int] = []

    def request(self, method: str, params: Any = ()) -> Any:
        if method == "eth_getLogs":
            span = int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16)
            self.asked.append(span)
            if span > 3:
                raise RpcError(method, {"code": -32005, "message": "query exceeds max block range 3"})
        return super().request(method, params)


def test_ranges_the_node_refuses_are_split(world: dict[str, Any], tmp_path: Path) -> None:
    ledger: Ledger = world["ledger"]
    engine = make_engine(f"sqlite:///{tmp_path / 'split.db'}")
    init_db(engine)
    stingy = _Stingy(ledger.client.rpc_url)
    indexer = Indexer(engine, stingy, ledger.deployment)
    indexer.run_once()
    assert max(stingy.asked) > 3 and any(span <= 3 for span in stingy.asked)
    reference = make_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    init_db(reference)
    Indexer(reference, ledger.client, ledger.deployment).run_once()
    key = ledger.deployment.deployment_id
    assert digest_of(engine, key) == digest_of(reference, key)
