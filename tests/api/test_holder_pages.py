"""The rights holder's pages (issue #12 §3), on a real chain and database: a holder known by address only signs in
with a login request signed by its own keystore (``ledger wallet sign-request``), sees the consent its registration
waits for, signs it with ``ledger wallet sign`` and pastes the signature; the registry registers; the holder then
sees its unit, prints its documents through its session, and gets its renewal reminder. A session reads only the
holder's own records, never writes through the API, and a form without the session's CSRF token changes nothing."""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api import session
from api.main import create_app
from ledger.context import Ledger
from ledger.indexer.sync import wait_for
from ledger.services.duties import run_duties
from ledger.tokens import create_token, revoke_token
from tests.conftest import start_chain
from tests.content import USCC
from tests.wallet_support import cli_of, wallet_party

pytestmark = [pytest.mark.chain, pytest.mark.slow]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("holder-pages")
    settings, node, _ = start_chain(tmp / "home")
    run = cli_of(settings.home)
    keystore = tmp / "holder-w.json"
    address = wallet_party(run, keystore, "holder-w")
    served = Ledger(settings.model_copy(update={"duties_interval": 0, "checkpoint_interval": 0}))
    today = [date(2024, 9, 27)]
    served.workflow.clock = lambda: today[0]
    tokens = {n: create_token(served.engine, served.accounts, n, f"t-{n}") for n in ("registrar", "holder-b")}
    with TestClient(create_app(ledger=served)) as client:
        yield {"client": client, "ledger": served, "today": today, "run": run, "keystore": keystore,
               "address": address, "tokens": tokens, "tmp": tmp}
    node.stop()


def _login_by_key(world: dict[str, Any]) -> TestClient:
    """Signs in as the keystore's holder with ``ledger wallet sign-request``'s three values."""
    client: TestClient = world["client"]
    client.cookies.clear()
    printed = world["run"]("wallet", "sign-request", str(world["keystore"]), "POST", session.LOGIN_PATH)
    headers = dict(re.findall(r"^(X-Ledger-\w+): (\S+)$", printed, re.M))
    reply = client.post(session.LOGIN_PATH, data={"address": headers["X-Ledger-Address"],
                                                  "timestamp": headers["X-Ledger-Timestamp"],
                                                  "signature": headers["X-Ledger-Signature"]},
                        follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/account", reply.text
    cookie = reply.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    return client


def test_a_holder_signs_its_consent_on_its_page_and_prints_its_own_records(world: dict[str, Any]) -> None:
    client: TestClient = world["client"]
    ledger: Ledger = world["ledger"]
    today: list[date] = world["today"]
    registrar = {"Authorization": f"Bearer {world['tokens']['registrar']}"}

    # not signed in: the pages send the user to sign in; a wrong token is refused in words
    client.cookies.clear()
    assert client.get("/account", follow_redirects=False).headers["location"] == session.LOGIN_PATH
    login = client.get(session.LOGIN_PATH)
    assert login.status_code == 200 and "ledger wallet sign-request" in login.text
    wrong = client.post(session.LOGIN_PATH, data={"token": "not-a-token"})
    assert wrong.status_code == 401 and session.COOKIE not in client.cookies

    filed = client.post("/applications", headers=registrar, json={
        "profile": "TJIFA", "holder": "holder-w", "object_type": "data_asset",
        "holder_identity": {"legal_name": "某数据科技有限公司", "uscc": USCC},
        "asset": {"name": "港口集装箱物流数据集", "form": "dataset", "acquisition": "original", "update_cycle": "daily",
                  "scenarios": ["交通调度"], "scope": "仅限本省使用"}, "document_hash": "0x" + os.urandom(32).hex()})
    assert filed.status_code == 201, filed.text
    app_id = filed.json()["id"]
    for step in ("accept", "approve", "notice"):
        assert client.post(f"/applications/{app_id}/{step}", headers=registrar).status_code == 200
    today[0] = date(2024, 10, 9)
    waiting = client.post(f"/applications/{app_id}/register", headers=registrar)
    assert waiting.status_code == 409 and waiting.json()["error"]["code"] == "consent_required"
    [consent] = waiting.json()["error"]["consents"]

    # the holder signs in with its own key and finds the consent waiting on its page
    client = _login_by_key(world)
    overview = client.get("/account")
    assert overview.status_code == 200
    assert "待签署的同意书" in overview.text
    assert f"/account/applications/{app_id}#consent-{consent['id']}" in overview.text
    page = client.get(f"/account/applications/{app_id}")
    assert page.status_code == 200 and '"primaryType": "Consent"' in html.unescape(page.text)
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
    assert csrf is not None

    # it signs on its own machine (ledger wallet sign) and pastes the signature
    requested = world["tmp"] / "consent.json"
    requested.write_text(json.dumps(consent))
    [signed] = json.loads(world["run"]("wallet", "sign", str(world["keystore"]), "--typed-data", str(requested)))
    action = f"/account/applications/{app_id}/consents/{consent['id']}"
    forged = client.post(action, data={"signature": signed["signature"], "csrf": "0" * 64})  # another site's form
    assert forged.status_code == 401
    assert not client.get(f"/applications/{app_id}/consents").json()[0]["signed"]
    malformed = client.post(action, data={"signature": "0x1234", "csrf": csrf.group(1)})
    assert malformed.status_code == 422
    done = client.post(action, data={"signature": signed["signature"], "csrf": csrf.group(1)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith(f"?signed={consent['id']}")
    assert "同意书已签署" in client.get(done.headers["location"]).text

    # the registry relays it and registers; the holder's page shows the unit and links its documents
    registered = client.post(f"/applications/{app_id}/register", headers=registrar)
    assert registered.status_code == 200, registered.text
    number = registered.json()["registration_number"]
    wait_for(ledger.indexer, ledger.client.block_number())
    overview = client.get("/account")
    assert number in overview.text and f"/account/units/{number}/documents/rights-page" in overview.text
    assert "待签署的同意书" not in overview.text
    token = re.search(r'name="csrf" value="([0-9a-f]{64})"', overview.text)
    assert token is not None
    printing = f"/account/units/{number}/documents/rights-page"
    assert client.post(printing, data={"csrf": "0" * 64}).status_code == 401  # another site's form prints nothing
    printed = client.post(printing, data={"csrf": token.group(1)})
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF-")
    assert printed.headers["content-type"] == "application/pdf"

    # its session reads its own non-public records through the API (full view, logged)…
    full = client.get(f"/registrations/{number}")
    assert full.status_code == 200 and full.json()["disclosure"] == "full"
    # …but never writes through it: a write needs a token or a signed request
    refused = client.post(f"/registrations/{number}/renewals", json={})
    assert refused.status_code == 401

    # the renewal window opens a month before the validity ends: the duty's reminder shows on the page
    ends = datetime.fromisoformat(full.json()["valid_until"])
    head = int(ledger.client.request("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    ledger.client.request("evm_increaseTime", [int((ends - timedelta(days=20)).timestamp()) - head])
    ledger.client.request("evm_mine", [])
    assert run_duties(ledger).reminded == 1
    reminded = client.get("/account")
    assert "续证提醒" in reminded.text and number in reminded.text

    # another holder's session does not see this application; it ends when its token is revoked
    client.cookies.clear()
    other = client.post(session.LOGIN_PATH, data={"token": world["tokens"]["holder-b"]}, follow_redirects=False)
    assert other.status_code == 303
    assert client.get(f"/account/applications/{app_id}").status_code == 403
    assert number not in client.get("/account").text
    assert revoke_token(ledger.engine, "t-holder-b") == 1
    assert client.get("/account", follow_redirects=False).headers["location"] == session.LOGIN_PATH
    client.post("/account/logout")
    assert session.COOKIE not in client.cookies


def test_a_forged_or_expired_session_is_nobody(tmp_path: Path) -> None:
    cookie = session.issue(tmp_path, "holder-a", now=1_000_000)
    assert session.account_of(tmp_path, cookie, now=1_000_001) == "holder-a"
    assert session.account_of(tmp_path, cookie, now=1_000_000 + session.SESSION_SECONDS + 1) is None
    name, expires, origin, mac = cookie.split(".")
    assert origin == "k"
    assert session.account_of(tmp_path, f"{b'registrar'.hex()}.{expires}.{origin}.{mac}", now=1_000_001) is None
    assert session.account_of(tmp_path, f"{name}.{int(expires) + 99}.{origin}.{mac}", now=1_000_001) is None
    by_token = session.issue(tmp_path, "holder-a", now=1_000_000, token_id=7)
    assert session.account_of(tmp_path, by_token, now=1_000_001, token_alive=lambda i: i == 7) == "holder-a"
    assert session.account_of(tmp_path, by_token, now=1_000_001, token_alive=lambda i: False) is None  # revoked
    assert session.account_of(tmp_path, "garbage", now=1_000_001) is None
    assert (tmp_path / "session.key").stat().st_mode & 0o077 == 0
