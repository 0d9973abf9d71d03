"""The registry tests get their own Anvil node: they move chain time forward (expiry, objection lapse)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.registry import AssetRegistryClient
from tests.conftest import start_chain
from tests.contracts.registry_env import RegistryEnv


@pytest.fixture(scope="session")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryEnv]:
    _, node, ledger = start_chain(tmp_path_factory.mktemp("registry-home"))
    handle = ledger.contract("AssetRegistry")
    yield RegistryEnv(ledger, AssetRegistryClient(handle), handle)
    node.stop()
