"""Issue #12 in a real browser: verify a file hashed in the browser (its bytes never sent), search, the certificate
page after a change registration, the notice board's countdown, an objection with an uploaded evidence file — and
the basics: labelled fields, a lang attribute, keyboard use, a 375 px layout, no console errors, screenshots."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from datetime import date

import pytest
import requests
from playwright.sync_api import Request, expect

from ledger.context import Ledger
from ledger.evidence import EvidenceKind
from ledger.hashing import HashAlgorithm, digest_bytes, new_hasher, to_hex
from ledger.numbering import unit_id
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import Verdict, verdict, verify_bundle
from ledger.services.proofs import trust_list
from ledger.tokens import create_token
from ledger.workflow import State
from tests.api.live_server import LiveServer
from tests.browser.conftest import Watched
from tests.content import content
from tests.pages_support import dated_workflow, in_notice, register

pytestmark = [pytest.mark.browser, pytest.mark.chain]

#: GB/T 32905-2016 appendix A (SM3), FIPS 180-4 (SHA-256) and the Keccak team's Keccak-256 examples.
VECTORS = [
    ("sm3", b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    ("sm3", b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
    ("sha256", b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("sha256", b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("keccak256", b"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
    ("keccak256", b"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
]
#: Lengths around the 64-byte block and its padding boundary, and one of more than a megabyte.
LENGTHS = [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1000, (1 << 20) + 3]

DIGEST_IN_JS = """async ([algorithm, data, webcrypto]) => {
  const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
  return await LedgerWeb.digest(bytes, algorithm, {webcrypto});
}"""


def _ready(web: Watched) -> None:
    web.page.wait_for_function("() => window.LedgerWeb && document.querySelector('[data-hash-status]').textContent")


def test_hash_libraries_match_the_standard_vectors_and_the_server(web: Watched) -> None:
    """SM3 from sm-crypto-v2 on GB/T 32905's vectors, SHA-256 by WebCrypto and by @noble/hashes, Keccak-256 — and
    each equal to the server's hashing (OpenSSL's SM3, hashlib, pysha3) across block boundaries."""
    web.open("/")
    _ready(web)
    for algorithm, message, expected in VECTORS:
        for webcrypto in (True, False):
            got = web.page.evaluate(DIGEST_IN_JS, [algorithm, base64.b64encode(message).decode(), webcrypto])
            assert got == expected, (algorithm, message[:8], webcrypto)
    for length in LENGTHS:
        data = os.urandom(length)
        for algorithm in HashAlgorithm:
            hasher = new_hasher(algorithm)
            hasher.update(data)
            got = web.page.evaluate(DIGEST_IN_JS, [algorithm.label, base64.b64encode(data).decode(), True])
            assert got == bytes(hasher.digest()).hex(), (algorithm, length)


@pytest.mark.parametrize("algorithm", [HashAlgorithm.SHA256, HashAlgorithm.SM3], ids=["sha256", "sm3"])
def test_a_file_is_hashed_in_the_browser_and_never_sent(chain: Ledger, web: Watched,
                                                        algorithm: HashAlgorithm) -> None:
    marker = os.urandom(16)
    data = os.urandom(200_000) + marker + os.urandom(1000)
    digest = digest_bytes(data, algorithm)
    chain.evidence.anchor(chain.sender("provider"), digest, algorithm, EvidenceKind.DOCUMENT)
    chain.evidence.endorse(chain.sender("notary"), digest)
    sent: list[Request] = []
    web.page.on("request", lambda request: sent.append(request))
    web.open("/")
    _ready(web)
    web.page.get_by_label("选择文件").set_input_files(
        files=[{"name": "合同扫描件.pdf", "mimeType": "application/pdf", "buffer": data}])
    web.page.get_by_label("哈希算法 Hash algorithm").first.select_option(algorithm.label)
    web.page.locator("form[data-hash-in-browser] button[type=submit]").click()
    web.page.wait_for_url(re.compile(rf"/verify/{to_hex(digest)}\?hash_algorithm={algorithm.label}$"))
    expect(web.page.locator('.banner[data-state="anchored"]')).to_be_visible()
    expect(web.page.get_by_text("公证处 Notary office (dev key)")).to_be_visible()
    assert all(r.method == "GET" for r in sent), [(r.method, r.url) for r in sent]
    for request in sent:
        body = request.post_data_buffer or b""
        assert marker not in body and data[:64] not in body
        assert "multipart" not in (request.headers.get("content-type") or "")
    web.shoot(f"verify-result-{algorithm.label}")


def test_the_upload_fallback_without_scripts(chain: Ledger, noscript: Watched) -> None:
    data = b"scripts are off " + os.urandom(500)
    digest = digest_bytes(data)
    chain.evidence.anchor(chain.sender("provider"), digest, HashAlgorithm.SHA256)
    noscript.open("/")
    noscript.page.get_by_label("选择文件").set_input_files(
        files=[{"name": "a.txt", "mimeType": "text/plain", "buffer": data}])
    noscript.page.locator("form[data-hash-in-browser] button[type=submit]").click()
    noscript.page.wait_for_url(re.compile(rf"/verify/{to_hex(digest)}"))
    expect(noscript.page.locator('.banner[data-state="anchored"]')).to_be_visible()
    noscript.open("/notices")
    expect(noscript.page.locator("h1")).to_contain_text("公示")


def _indexed(server: LiveServer, number: str, version: int) -> None:
    """Waits until the served index holds ``number`` at certificate ``version``."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        reply = requests.get(f"{server.url}/registrations/{number}", timeout=30)
        if reply.status_code == 200 and reply.json()["certificate_version"] >= version \
                and reply.json()["index"]["lag_blocks"] == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"the server never indexed {number} v{version}")


def test_search_then_the_certificate_page_after_a_change(chain: Ledger, server: LiveServer, web: Watched) -> None:
    workflow, today = dated_workflow(chain, date(2025, 3, 3))
    number = register(workflow, today, "initial", None, content=content("渤海湾船舶动态数据", "津港航运数据有限公司"))
    v1 = to_hex(chain.assets.unit(unit_id(number))["certificate_hash"])
    register(workflow, today, "change", number, changes={"asset": {"name": "渤海湾船舶动态数据（第二版）"}})
    v2 = to_hex(chain.assets.unit(unit_id(number))["certificate_hash"])
    _indexed(server, number, 2)

    web.open("/")
    search = web.page.get_by_label("登记编号或资产名称")
    search.fill("渤海湾船舶动态")
    search.press("Enter")
    web.page.wait_for_url(re.compile(r"/search\?q="))
    row = web.page.locator("table.hits tr", has_text=number)
    expect(row).to_contain_text("渤海湾船舶动态数据（第二版）")
    expect(row).to_contain_text("津港航运数据有限公司")
    web.shoot("search-results")

    row.get_by_role("link", name=number).click()
    web.page.wait_for_url(f"**/certificate/{number}")
    expect(web.page.locator('.banner[data-state="valid"]')).to_contain_text("证书有效")
    expect(web.page.locator('tr[data-version="2"]')).to_contain_text("当前版本")
    expect(web.page.locator('tr[data-version="1"]')).to_contain_text("已被取代")
    expect(web.page.locator("ol.history")).to_contain_text("变更登记")
    web.shoot("certificate-current")

    # the bundle proves the unit's whole registry state: the public is asked to sign in (a bank here)
    web.page.get_by_role("link", name=re.compile("登录后下载")).click()
    web.page.wait_for_url(re.compile(r".*/account/login\?next=/certificate/.*"))
    web.page.get_by_role("textbox", name=re.compile("访问令牌")).fill(create_token(
        chain.engine, chain.accounts, "bank", f"pages-bank-{os.urandom(3).hex()}"))
    web.page.get_by_role("textbox", name=re.compile("访问令牌")).press("Enter")
    web.page.wait_for_url(f"**/certificate/{number}")
    web.page.get_by_label("查询事由").fill("质押前核验 贷款申请 2026-0042")  # a bank names the matter (§6.2)
    with web.page.expect_download() as download:
        web.page.get_by_role("button", name=re.compile("下载司法核验包")).click()
    assert download.value.suggested_filename == f"{number}.state.json"
    bundle = json.loads(download.value.path().read_bytes())
    assert verdict(verify_bundle(bundle, trust=TrustRoots.of_list(trust_list(chain)))) is Verdict.VERIFIED

    web.page.locator('tr[data-version="1"] a').click()  # the old version, as its PDF's QR code opens it
    web.page.wait_for_url(f"**/verify/{v1}")
    banner = web.page.locator('.banner[data-state="superseded"]')
    expect(banner).to_contain_text("已被取代")
    expect(web.page.locator('.banner[data-state="valid"]')).to_have_count(0)
    expect(web.page.locator('tr[aria-current="true"]')).to_have_attribute("data-version", "1")
    web.shoot("certificate-superseded")
    banner.get_by_role("link").click()
    web.page.wait_for_url(f"**/verify/{v2}")
    expect(web.page.locator('.banner[data-state="valid"]')).to_be_visible()


def test_notice_board_countdown_and_an_objection_with_evidence(chain: Ledger, server: LiveServer,
                                                               web: Watched) -> None:
    workflow = chain.workflow  # the server's calendar too: today in China
    app = in_notice(workflow, "滨海新区充电桩运行数据", "滨海能源数据有限公司")
    web.open("/notices")
    row = web.page.locator(f'tr[data-application="{app.id}"]')
    countdown = row.locator(".countdown")
    expect(countdown).to_have_attribute("data-days-left", "3")  # TJIFA §8.1: 3 working days, none run yet
    expect(countdown).to_contain_text("剩余 3 个工作日")
    expect(row).to_contain_text("滨海新区充电桩运行数据")
    web.shoot("notice-board")

    row.get_by_role("link", name=re.compile("详情与异议")).click()
    web.page.wait_for_url(f"**/notices/{app.id}")
    evidence = b"%PDF-1.7 objection evidence " + os.urandom(4096)
    web.page.get_by_label("异议人名称").fill("津门数据交易所")
    web.page.get_by_label("证件号码或统一社会信用代码").fill("91120000MA06XXXX1X")
    web.page.get_by_label("异议理由").fill("该数据集包含本单位已登记数据，采集来源重合。")
    web.page.get_by_label("证据文件").set_input_files(
        files=[{"name": "证据.pdf", "mimeType": "application/pdf", "buffer": evidence}])
    web.shoot("objection-form")
    web.page.get_by_role("button", name=re.compile("提交异议")).click()
    expect(web.page.locator('.banner[data-state="objection-filed"]')).to_be_visible()
    digest = to_hex(digest_bytes(evidence))
    expect(web.page.locator("[data-evidence-digest]")).to_have_text(digest)
    tx = web.page.locator("[data-evidence-tx]").inner_text()
    web.shoot("objection-receipt")

    verification = chain.evidence.verify(bytes.fromhex(digest[2:]), HashAlgorithm.SHA256)
    assert verification.anchored and verification.anchors[0].tx_hash == tx
    assert workflow.get(app.id).state == State.OBJECTION_PENDING
    web.open("/notices")
    expect(web.page.locator(f'tr[data-application="{app.id}"]')).to_contain_text("异议处理中")


def test_pages_are_labelled_keyboard_usable_and_fit_a_phone(chain: Ledger, server: LiveServer, web: Watched,
                                                            phone: Watched) -> None:
    workflow, today = dated_workflow(chain, date(2025, 4, 7))
    number = register(workflow, today, "initial", None, content=content("津沽冷链仓储温湿度数据"))
    _indexed(server, number, 1)
    in_notice(chain.workflow, "手机端显示测试数据集")
    digest = digest_bytes(os.urandom(64))
    chain.evidence.anchor(chain.sender("provider"), digest, HashAlgorithm.SHA256)
    pages = {"home": "/", "search": "/search?q=" + requests.utils.quote("津沽冷链"),
             "certificate": f"/certificate/{number}", "notices": "/notices", "evidence": f"/verify/{to_hex(digest)}"}
    for name, path in pages.items():
        for watched, size in ((web, "desktop"), (phone, "375px")):
            watched.open(path)
            page = watched.page
            assert page.evaluate("document.documentElement.lang") == "zh-CN"
            unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
                .filter(e => e.type !== 'hidden' && e.labels.length === 0 && !e.getAttribute('aria-label'))
                .map(e => e.outerHTML)""")
            assert unlabelled == [], (name, unlabelled)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name} at {size} scrolls sideways by {overflow} px"
            watched.shoot(f"{name}-{size}")

    # keyboard only: skip link first, then the form controls in order; a search submitted with Enter
    web.open("/")
    _ready(web)
    web.page.keyboard.press("Tab")
    assert web.page.evaluate("document.activeElement.className") == "skip"
    outline = web.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    seen: list[str] = []
    for _ in range(40):
        web.page.keyboard.press("Tab")
        seen.append(web.page.evaluate("document.activeElement.id || document.activeElement.tagName"))
        if seen[-1] == "q":
            break
    assert [s for s in seen if s in ("file", "file-algorithm", "digest", "digest-algorithm", "q")] == [
        "file", "file-algorithm", "digest", "digest-algorithm", "q"], seen
    web.page.keyboard.type("津沽冷链")
    web.page.keyboard.press("Enter")
    web.page.wait_for_url(re.compile(r"/search\?q="))
    expect(web.page.locator("table.hits")).to_contain_text(number)
