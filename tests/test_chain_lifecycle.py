"""The local chain keeps its data across restarts; a reset chain is refused with what to do."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ledger.context import Ledger
from ledger.deployment import deploy
from ledger.errors import ChainResetError
from ledger.hashing import HashAlgorithm
from tests.conftest import start_chain

pytestmark = [pytest.mark.chain, pytest.mark.slow]


def test_restart_keeps_anchors_and_reset_is_refused(tmp_path: Path) -> None:
    settings, node, ledger = start_chain(tmp_path / "home")
    try:
        single = os.urandom(32)
        ledger.evidence.anchor(ledger.sender("provider"), single, HashAlgorithm.SHA256)
        entries = [(HashAlgorithm.SM3, os.urandom(32)) for _ in range(9)]
        ledger.evidence.anchor_batch(ledger.sender("provider"), entries)
        ledger.evidence.endorse(ledger.sender("notary"), single)
        deployment_id = ledger.deployment.deployment_id
    finally:
        node.stop()

    # restart from the state file: every anchor, proof and endorsement still verifies
    node.start()
    try:
        again = Ledger(settings)
        assert again.deployment.deployment_id == deployment_id
        result = again.evidence.verify(single, HashAlgorithm.SHA256)
        assert result.anchored and result.anchors[0].tx_hash and len(result.endorsements) == 1
        for alg, digest in entries:
            assert again.evidence.verify(digest, alg).anchored
        # idempotent deploy reuses the recorded contracts
        deployment, created = deploy(again.manifest, again.client, again.accounts, again.toolchain, 0)
        assert not created and deployment.deployment_id == deployment_id
    finally:
        node.stop()

    # a reset chain (state lost): refused, with the way out in the message
    shutil.move(node.state_file, tmp_path / "old-state.json")
    node.start()
    try:
        fresh = Ledger(settings)
        with pytest.raises(ChainResetError, match="reset") as info:
            _ = fresh.deployment
        assert "ledger deploy --new-chain" in info.value.user_message
        with pytest.raises(ChainResetError):
            deploy(fresh.manifest, fresh.client, fresh.accounts, fresh.toolchain, 0)
        deployment, created = deploy(fresh.manifest, fresh.client, fresh.accounts, fresh.toolchain, 0,
                                     new_chain=True)
        # (Anvil's genesis hash may even repeat: the vanished contract code is what gives the reset away)
        assert created and deployment.deployment_id != deployment_id
        assert not Ledger(settings).evidence.verify(single, HashAlgorithm.SHA256).anchored
    finally:
        node.stop()
