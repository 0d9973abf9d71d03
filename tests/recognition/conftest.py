"""Two platforms for the mutual-recognition tests (issue #13 §4): platform A (天津, SQLite) and platform B (深圳,
PostgreSQL), each a deployment on its own Anvil node. A's authority nodes hold keys of their own, so B's trust in A
is trust in A's keys; both platforms know the holder's account (it signs its own consent on each chain). B trusts A
by configuration: A's published trust list in B's peers directory."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from ledger.accounts import DEV_MNEMONIC, write_dev_accounts
from ledger.chain.node import LocalNode
from ledger.context import Ledger
from ledger.devtsa import TsaInfo
from ledger.evidence import EvidenceKind
from ledger.files import write_private
from ledger.hashing import HashAlgorithm, to_hex
from ledger.profiles import ObjectType
from ledger.services.proofs import trust_list
from ledger.services.recognition import add_peer
from ledger.workflow import Workflow
from tests.conftest import _postgres_url, start_chain
from tests.content import content

PLATFORM_A, PLATFORM_B = "天津数据资产登记平台", "深圳数据产权登记平台"


@dataclass
class Platform:
    """One platform: its ledger, and a workflow whose calendar the test moves on (public notices end)."""

    ledger: Ledger
    node: LocalNode
    today: list[date] = field(default_factory=lambda: [date.today()])

    @cached_property
    def workflow(self) -> Workflow:
        ledger = self.ledger
        return Workflow(ledger.engine, ledger.assets, ledger.accounts, ledger.deployment.deployment_id, ledger.sender,
                        registry_name=ledger.settings.registry_name, clock=lambda: self.today[0],
                        profiles=ledger.profiles, outbox=ledger.outbox)

    def file(self, kind: str, number: str | None = None, **payload: Any) -> str:
        """Files and registers a TJIFA filing of holder-a, through notice; returns the registration number."""
        workflow = self.workflow
        if kind == "initial":
            app = workflow.apply(kind="initial", profile="TJIFA", holder="holder-a", actor="holder-a",
                                 object_type=ObjectType.DATA_ASSET, document=os.urandom(32), payload=payload)
        else:
            app = workflow.apply(kind=kind, profile="TJIFA", holder="holder-a", actor="registrar", number=number,
                                 payload=payload, document=os.urandom(32))
        for step in (workflow.accept, workflow.begin_review, workflow.approve, workflow.start_notice):
            step(app.id, "registrar")
        self.today[0] += timedelta(days=20)
        registered = workflow.register(app.id, "registrar").registration_number
        assert registered is not None
        return registered

    def register(self, name: str, evidence: bytes | None = None) -> str:
        """A data asset registered by holder-a; with ``evidence``, its declaration anchored first and cited."""
        payload: dict[str, Any] = {"content": content(name)}
        if evidence is not None:
            self.ledger.evidence.anchor(self.ledger.sender("provider"), evidence, HashAlgorithm.SHA256,
                                        EvidenceKind.DECLARATION)
            payload["evidence_digests"] = [to_hex(evidence)]
        return self.file("initial", **payload)


def _own_authority_keys(path: Path) -> None:
    """The dev accounts, but A's authority nodes (notary, arbitration, time service) hold keys of their own."""
    write_dev_accounts(path)
    data = json.loads(path.read_text())
    Account.enable_unaudited_hdwallet_features()
    for name, index in (("notary", 13), ("arbitration", 14), ("time-service", 15)):
        key = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}").key
        data["accounts"][name]["private_key"] = "0x" + bytes(key).hex()
    write_private(path, json.dumps(data, indent=2))


@pytest.fixture(scope="module")
def platforms(tmp_path_factory: pytest.TempPathFactory, tsa: TsaInfo) -> Iterator[tuple[Platform, Platform]]:
    """Platform A (its time service stamps checkpoints with the test TSA) and platform B, which trusts A: A's trust
    list and its TSA's root in B's peers directory."""
    home_a = tmp_path_factory.mktemp("platform-a")
    _own_authority_keys(home_a / "accounts.json")
    settings_a, node_a, _ = start_chain(home_a)
    a = Ledger(settings_a.model_copy(update={"registry_name": PLATFORM_A, "tsa_url": tsa.url}))
    genesis_a = int(a.client.block(0)["timestamp"], 16)
    while int(time.time()) <= genesis_a:  # a new Anvil chain's genesis is its start second: B's must differ
        time.sleep(0.05)
    postgres = _postgres_url()
    database = next(postgres)
    settings_b, node_b, _ = start_chain(tmp_path_factory.mktemp("platform-b"))
    b = Ledger(settings_b.model_copy(update={"registry_name": PLATFORM_B, "database_url": database}))
    assert a.deployment.genesis_hash != b.deployment.genesis_hash
    published = tmp_path_factory.mktemp("published") / "trust-list.json"
    published.write_text(json.dumps(trust_list(a).model_dump(mode="json")))
    add_peer(b, published, "tianjin", tsa_root=Path(tsa.root))
    try:
        yield Platform(a, node_a), Platform(b, node_b)
    finally:
        b.engine.dispose()
        node_a.stop()
        node_b.stop()
        next(postgres, None)
