"""Who may see what (issue #11 §4, REGISTRATION_RULES §6.2), on a real chain and database: the public sees
publishable information only; a court reads a holder's non-public record with its judicial document and the
access log shows it; a request signed with the holder's own key is its own; the log's hash chain breaks when a
row is changed, and a chain rebuilt after a change no longer matches its anchored head."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import quote

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from api.main import create_app
from ledger.context import Ledger
from ledger.indexer.sync import wait_for
from ledger.services.access import anchor_access_log, request_text, verify_access_log
from ledger.tokens import create_token
from tests.conftest import start_chain
from tests.content import USCC

pytestmark = [pytest.mark.chain, pytest.mark.slow]


def digest() -> str:
    return "0x" + os.urandom(32).hex()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    settings, node, _ = start_chain(tmp_path_factory.mktemp("access-home"))
    served = Ledger(settings.model_copy(update={"duties_interval": 0, "checkpoint_interval": 0,
                                                "access_anchor_interval": 0}))
    today = [date(2024, 9, 27)]
    served.workflow.clock = lambda: today[0]
    names = ("registrar", "holder-a", "holder-b", "bank", "exchange", "court", "outsider", "auditor")
    tokens = {n: create_token(served.engine, served.accounts, n, f"t-{n}") for n in names}
    with TestClient(create_app(ledger=served)) as client:
        headers = {n: {"Authorization": f"Bearer {t}"} for n, t in tokens.items()}
        app = client.post("/applications", headers=headers["holder-a"], json={
            "profile": "TJIFA", "holder": "holder-a", "object_type": "data_asset",
            "holder_identity": {"legal_name": "某数据科技有限公司", "uscc": USCC},
            "asset": {"name": "广东物流指数", "form": "dataset", "acquisition": "original", "update_cycle": "daily",
                      "scenarios": ["物流"], "scope": "仅限本省使用"}}).json()
        for step in ("accept", "approve", "notice"):
            assert client.post(f"/applications/{app['id']}/{step}", headers=headers["registrar"]).status_code == 200
        today[0] = date(2024, 10, 9)
        number = client.post(f"/applications/{app['id']}/register", headers=headers["registrar"]).json()[
            "registration_number"]
        pledge = client.post(f"/registrations/{number}/pledges", headers=headers["registrar"], json={
            "counterparty": "bank", "rights": ["holding"], "document_hash": digest()})
        assert pledge.status_code == 201, pledge.text
        wait_for(served.indexer, served.client.block_number())
        yield {"client": client, "ledger": served, "headers": headers, "number": number, "application": app["id"]}
    node.stop()


def test_the_public_sees_publishable_information_only(world: dict[str, Any]) -> None:
    client, number = world["client"], world["number"]
    for who in (None, "outsider"):  # no token, or an account with no standing
        headers = world["headers"][who] if who else {}
        view = client.get(f"/registrations/{number}", headers=headers).json()
        assert view["disclosure"] == "public" and view["status"] == "active"
        assert view["holder_name"] == "某数据科技有限公司" and view["asset_name"] == "广东物流指数"
        assert view["active_pledges"] == 1  # that it is encumbered is public; by whom is not
        assert view["right_holders"] is None and view["certificate"] is None and view["holder"] is None
        # the pledge is annotated (TJIFA §8.2.2), not its pledgee or contract
        assert [(e["kind"], e["counterparty"], e["contract_hash"]) for e in view["rights_page"]] == [
            ("pledge", None, None)]
        page = client.get(f"/registrations/{number}/rights-page", headers=headers).json()
        assert page[0]["kind"] == "pledge" and page[0]["counterparty"] is None
        history = client.get(f"/registrations/{number}/history", headers=headers).json()
        assert [e["action"] for e in history] == ["initial", "pledge"]
        assert all(e["actor"] is None and e["document_hash"] is None for e in history)
        assert client.get(f"/applications/{world['application']}", headers=headers).status_code in (401, 403)
    refused = client.get("/applications")  # the public is asked to sign in (401); an account without standing 403
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"


def test_the_holder_the_bank_and_the_exchange_see_the_full_record(world: dict[str, Any]) -> None:
    client, number = world["client"], world["number"]
    basis = {"X-Access-Basis": quote("质押前核验 贷款申请 2026-0042")}
    for who in ("holder-a", "bank", "exchange", "registrar"):
        extra = basis if who in ("bank", "exchange") else {}
        view = client.get(f"/registrations/{number}", headers={**world["headers"][who], **extra}).json()
        assert view["disclosure"] == "full", who
        assert view["rights_page"][0]["kind"] == "pledge" and view["certificate"]["asset"]["name"] == "广东物流指数"
    own = client.get("/applications", headers=world["headers"]["holder-a"]).json()
    assert [a["id"] for a in own["data"]] == [world["application"]] or world["application"] in [
        a["id"] for a in own["data"]]
    assert client.get("/applications", headers=world["headers"]["holder-b"]).json()["count"] == 0  # none of its own
    # a bank or an exchange names the matter of each read; without it, nothing non-public (REGISTRATION_RULES §6.2)
    unnamed = client.get(f"/registrations/{number}", headers=world["headers"]["bank"])
    assert unnamed.status_code == 403 and "X-Access-Basis" in unnamed.json()["error"]["message"]
    with Session(world["ledger"].engine) as session:
        logged = session.execute(text("SELECT legal_basis FROM access_log WHERE role = 'bank' "
                                      "ORDER BY seq DESC")).first()
    assert logged is not None and "贷款申请 2026-0042" in logged[0]


def test_a_court_reads_with_its_document_and_the_access_log_shows_it(world: dict[str, Any]) -> None:
    client, number, ledger = world["client"], world["number"], world["ledger"]
    court = world["headers"]["court"]
    refused = client.get(f"/registrations/{number}/rights-page", headers=court)
    assert refused.status_code == 403 and "X-Legal-Document" in refused.json()["error"]["message"]
    assert client.get(f"/registrations/{number}", headers=court).status_code == 403  # no document, no read
    order = "0x" + hashlib.sha256("(2024)粤0104民初1号 调查令".encode()).hexdigest()
    page = client.get(f"/registrations/{number}/rights-page",
                      headers={**court, "X-Legal-Document": order, "X-Legal-Reference": quote("(2024)粤0104民初1号")})
    assert page.status_code == 200 and page.json()[0]["counterparty"] == ledger.accounts.get("bank").address
    entries = client.get("/access-log?limit=500", headers=world["headers"]["auditor"]).json()["data"]
    mine = [e for e in entries if e["principal"] == "court"]
    assert mine and mine[-1]["legal_document_hash"] == order and mine[-1]["subject"] == number
    assert "(2024)粤0104民初1号" in mine[-1]["legal_basis"] and mine[-1]["action"] == "rights_page"
    assert client.get("/access-log", headers=world["headers"]["outsider"]).status_code == 403
    assert client.get("/access-log", headers=world["headers"]["holder-a"]).status_code == 403
    assert verify_access_log(ledger).intact


def test_a_request_signed_with_the_holders_own_key(world: dict[str, Any]) -> None:
    client, number, ledger = world["client"], world["number"], world["ledger"]
    key = ledger.accounts.get("holder-a").signer
    path = f"/registrations/{number}"
    now = int(time.time())
    message = request_text("GET", path, now, b"")
    signature = Account.sign_message(encode_defunct(text=message), key.key).signature
    headers = {"X-Ledger-Address": key.address, "X-Ledger-Timestamp": str(now),
               "X-Ledger-Signature": "0x" + bytes(signature).hex()}
    assert client.get(path, headers=headers).json()["disclosure"] == "full"
    other = client.get(f"{path}/history", headers=headers)  # the signature covers one path only
    assert other.status_code == 401
    stale = request_text("GET", path, now - 3600, b"")
    old = Account.sign_message(encode_defunct(text=stale), key.key).signature
    assert client.get(path, headers={**headers, "X-Ledger-Timestamp": str(now - 3600),
                                     "X-Ledger-Signature": "0x" + bytes(old).hex()}).status_code == 401


def test_changing_one_access_log_row_breaks_the_chain_against_its_anchored_head(world: dict[str, Any]) -> None:
    client, number, ledger = world["client"], world["number"], world["ledger"]
    client.get(f"/registrations/{number}", headers={**world["headers"]["bank"], "X-Access-Basis": "pledge-check"})
    anchor = anchor_access_log(ledger)
    assert anchor is not None and verify_access_log(ledger).intact
    assert anchor_access_log(ledger) is None  # nothing new
    with Session(ledger.engine) as session:  # someone edits the audit trail directly in the database
        session.execute(text("UPDATE access_log SET principal = 'nobody' WHERE seq = 1"))
        session.commit()
    check = verify_access_log(ledger)
    assert not check.intact and any("entry 1 was changed" in p for p in check.problems)
    # ... and rewrites every hash after it so the chain links again: the anchored head still gives it away
    from ledger.models import AccessLogEntry
    from ledger.services.access import GENESIS, _entry_hash

    with Session(ledger.engine) as session:
        previous = GENESIS
        for row in session.query(AccessLogEntry).order_by(AccessLogEntry.seq).all():  # type: ignore[arg-type]
            row.prev_hash = previous
            row.entry_hash = previous = _entry_hash(row)
            session.add(row)
        session.commit()
    rebuilt = verify_access_log(ledger)
    assert not rebuilt.intact and any("no longer matches" in p for p in rebuilt.problems), rebuilt.problems
