"""The pages' read services on both databases (SQLite and PostgreSQL): name search with characters SQL and
canonical JSON treat specially, and the notice board — one shared chain, read models rebuilt in each database."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.context import Ledger
from ledger.services import notices, search
from tests.content import content
from tests.pages_support import dated_workflow, in_notice, register

pytestmark = pytest.mark.chain


@pytest.fixture
def reader(chain: Ledger, database_url: str) -> Ledger:
    """A ledger on the shared chain whose workflow tables and read models live in the parametrized database."""
    return Ledger(chain.settings.model_copy(update={"database_url": database_url}))


def test_search_and_the_notice_board(reader: Ledger) -> None:
    workflow, today = dated_workflow(reader, date(2025, 6, 2))
    plain = register(workflow, today, "initial", None, content=content("Port Crane Telemetry 港机遥测"))
    odd = register(workflow, today, "initial", None, content=content('100%_精选 "quoted" \\ 数据'))
    register(workflow, today, "change", plain, changes={"asset": {"name": "Port Crane Telemetry 港机遥测 v2"}})
    reader.indexer.run_once()

    def found(query: str) -> list[str]:
        return [h.registration_number for h in search.search(reader, query, limit=100).data]

    assert plain in found("port crane telemetry") and plain in found("港机遥测 V2")  # ASCII case-insensitive
    assert found("100%_精选") == [odd] and found('"quoted" \\') == [odd]
    assert odd not in found("100%x") and found("1000%") == []  # % and _ are plain characters
    assert search.search(reader, plain).data[0].certificate_version == 2

    app = in_notice(reader.workflow, "岸桥作业效率数据")  # today, by the served calendar
    board = notices.notice_board(reader, limit=500)
    shown = next(n for n in board.data if n.application_id == app.id)
    assert shown.days_left == 3 and board.as_of == reader.workflow.clock()
    assert [n.last_day for n in board.data] == sorted(n.last_day for n in board.data)
