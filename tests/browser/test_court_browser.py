"""Issue #12 §4 in a real browser: a court signs in with its token (typed into the form, never in a URL), requests
a dispute evidence package with its legal document, downloads it — and the file verifies offline — and sees the
access-log entry its request wrote; a wrong token is refused, with scripts off too."""

from __future__ import annotations

import hashlib
import os
import re
import time
from datetime import date
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Request, expect

from ledger.context import Ledger
from ledger.proofs.dispute import inspect_package
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import Verdict
from ledger.services.access import access_log
from ledger.services.proofs import trust_list
from ledger.tokens import create_token
from tests.api.live_server import LiveServer
from tests.browser.conftest import Watched
from tests.content import content
from tests.pages_support import dated_workflow, register

pytestmark = [pytest.mark.browser, pytest.mark.chain]
REFERENCE = "(2025)津0116民初88号"


def _indexed(server: LiveServer, number: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        reply = requests.get(f"{server.url}/registrations/{number}", timeout=30)
        if reply.status_code == 200 and reply.json()["index"]["lag_blocks"] == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"the server never indexed {number}")


def test_a_court_downloads_a_dispute_package_and_sees_its_access_log_entry(
        chain: Ledger, server: LiveServer, web: Watched, tmp_path: Path) -> None:
    workflow, today = dated_workflow(chain, date(2025, 5, 12))
    number = register(workflow, today, "initial", None, content=content("津门港口吞吐量数据集"))
    _indexed(server, number)
    token = create_token(chain.engine, chain.accounts, "court", f"court-page-{os.urandom(4).hex()}")
    order = "民事裁定书 " + REFERENCE + " 调取登记信息"
    urls: list[str] = []

    def seen(request: Request) -> None:
        urls.append(request.url)

    web.page.on("request", seen)
    web.open("/court")
    expect(web.page.locator("html")).to_have_attribute("lang", "zh-CN")
    web.page.get_by_label("访问令牌").fill(token)
    web.page.get_by_label("登记号").fill(number)
    web.page.get_by_label("法律文书编号").fill(REFERENCE)
    web.page.get_by_label("文书文件").set_input_files(
        files=[{"name": "裁定书.txt", "mimeType": "text/plain", "buffer": order.encode()}])
    web.shoot("court-form")
    web.page.get_by_role("button", name=re.compile("调取司法存证包")).click()
    expect(web.page.locator('.banner[data-state="package-made"]')).to_be_visible()
    expect(web.page.locator(".banner")).to_contain_text("VERIFIED")
    entry = web.page.locator("[data-access-log-entry]")
    expect(entry).to_contain_text("dispute_package")
    expect(entry).to_contain_text(REFERENCE)
    legal = "0x" + hashlib.sha256(order.encode()).hexdigest()
    expect(entry).to_contain_text(legal)
    web.shoot("court-package")

    with web.page.expect_download() as started:
        web.page.locator("[data-package-download]").click()
    download = started.value
    assert download.suggested_filename.startswith(f"{number}.dispute-package.")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    found = inspect_package(saved.read_bytes(), TrustRoots.of_list(trust_list(chain)))
    assert found.verdict is Verdict.VERIFIED, [c for c in found.checks if not c.ok]

    seq = int(entry.get_attribute("data-access-log-entry") or 0)
    rows, _ = access_log(chain, 0, 10_000)
    logged = next(r for r in rows if r.seq == seq)
    assert (logged.principal, logged.action, logged.subject, logged.legal_document_hash) == (
        "court", "dispute_package", number, legal)
    assert all(token not in url for url in urls), "the token must never be in a URL"


def test_a_wrong_token_is_refused_without_scripts(chain: Ledger, server: LiveServer, noscript: Watched) -> None:
    noscript.open("/court")
    noscript.page.get_by_label("访问令牌").fill("not-a-token")
    noscript.page.get_by_label("登记号").fill("TJ-2025-000001-X")
    noscript.page.get_by_label("法律文书编号").fill(REFERENCE)
    noscript.page.get_by_label("或其 SHA-256").fill("0x" + "ab" * 32)
    noscript.page.get_by_role("button", name=re.compile("调取司法存证包")).click()
    expect(noscript.page.locator('.banner[data-state="refused"]')).to_contain_text("token")
    noscript.shoot("court-refused")
    # The page answers 401, which Chromium notes in the console as a failed load of the form's target: that note
    # is the refusal itself. Any other console message still fails the test (the fixture checks what remains).
    refusal = [e for e in noscript.errors if "status of 401" in e and "/court/packages" in e]
    assert len(refusal) == 1, noscript.errors
    noscript.errors.remove(refusal[0])
