"""Fixtures of the proof tests: a TJIFA data asset registered through the workflow on the shared chain."""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

import pytest

from ledger.context import Ledger
from ledger.profiles import ObjectType
from ledger.proofs.trust import TrustRoots
from ledger.services.proofs import trust_list
from ledger.workflow import Workflow
from tests.content import content


@pytest.fixture(scope="module")
def unit(chain: Ledger) -> dict[str, Any]:
    """A registered unit (its workflow and clock for further filings, and the platform's trust roots)."""
    today = [date(2025, 3, 3)]
    workflow = Workflow(chain.engine, chain.assets, chain.accounts, chain.deployment.deployment_id, chain.sender,
                        registry_name="天津数据资产登记平台", clock=lambda: today[0])
    app = workflow.apply(kind="initial", profile="TJIFA", holder="holder-a", actor="holder-a",
                         object_type=ObjectType.DATA_ASSET, document=os.urandom(32),
                         payload={"content": content("船舶动态数据集")})
    for step in (workflow.accept, workflow.begin_review, workflow.approve, workflow.start_notice):
        step(app.id, "registrar")
    today[0] += timedelta(days=20)
    number = workflow.register(app.id, "registrar").registration_number
    assert number is not None
    return {"number": number, "workflow": workflow, "today": today, "trust": TrustRoots.of_list(trust_list(chain))}
