"""Registrations and notices the page tests (tests/api/test_pages.py, tests/browser) set up on a real chain."""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

from ledger.context import Ledger
from ledger.models import Application
from ledger.profiles import ObjectType
from ledger.workflow import Workflow
from tests.content import content


def dated_workflow(chain: Ledger, start: date) -> tuple[Workflow, list[date]]:
    """A workflow on ``chain`` whose calendar is the list's one date (tests move it)."""
    today = [start]
    workflow = Workflow(chain.engine, chain.assets, chain.accounts, chain.deployment.deployment_id, chain.sender,
                        registry_name="天津数据资产登记平台", clock=lambda: today[0])
    return workflow, today


def register(workflow: Workflow, today: list[date], kind: str, number: str | None, **payload: Any) -> str:
    """Files and registers a TJIFA filing (initial by holder-a, others by the registrar), through its notice."""
    app = workflow.apply(kind=kind, profile="TJIFA", holder="holder-a",
                         actor="holder-a" if kind == "initial" else "registrar", number=number,
                         object_type=ObjectType.DATA_ASSET if kind == "initial" else None, payload=payload,
                         document=os.urandom(32))
    for step in (workflow.accept, workflow.begin_review, workflow.approve):
        step(app.id, "registrar")
    if workflow.needs_notice(workflow.get(app.id)):
        workflow.start_notice(app.id, "registrar")
        today[0] += timedelta(days=20)
    registered = workflow.register(app.id, "registrar").registration_number
    assert registered is not None
    return registered


def in_notice(workflow: Workflow, name: str, legal_name: str = "天津港数据科技有限公司") -> Application:
    """An initial TJIFA filing for asset ``name`` put in public notice today (by the workflow's calendar)."""
    app = workflow.apply(kind="initial", profile="TJIFA", holder="holder-b", actor="holder-b",
                         object_type=ObjectType.DATA_ASSET, payload={"content": content(name, legal_name)},
                         document=os.urandom(32))
    for step in (workflow.accept, workflow.begin_review, workflow.approve):
        step(app.id, "registrar")
    return workflow.start_notice(app.id, "registrar")
