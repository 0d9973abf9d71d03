"""Issue #12 §3 in a real browser: a rights holder who keeps its own key signs in, finds the consent its registration
waits for, signs it (the signature made on its own machine, as ``ledger wallet sign`` makes it, and pasted), and once
registered prints its rights page (他项权益页) from its page — on the desktop and at 375 px."""

from __future__ import annotations

import os
import re
from datetime import date

import pytest
from eth_account import Account
from playwright.sync_api import expect

from ledger.accounts import add_wallet_account
from ledger.context import Ledger
from ledger.indexer.sync import wait_for
from ledger.services.applications import consents
from ledger.tokens import create_token
from tests.api.live_server import LiveServer
from tests.browser.conftest import Watched
from tests.pages_support import dated_workflow
from tests.wallet_support import waiting_for_consent

pytestmark = [pytest.mark.browser, pytest.mark.chain]


def test_a_holder_signs_its_consent_and_prints_its_rights_page(chain: Ledger, server: LiveServer, web: Watched,
                                                               phone: Watched) -> None:
    key = Account.create()
    name = f"holder-{os.urandom(3).hex()}"
    add_wallet_account(chain.settings.accounts_path, name, key.address)  # known by address only
    token = create_token(chain.engine, chain.accounts, name, f"pages-{name}")
    workflow, today = dated_workflow(chain, date(2024, 9, 27))
    app = waiting_for_consent(workflow, today, name, "渤海湾船舶轨迹数据集", "渤海航运数据有限公司")
    [consent] = consents(chain, app.id)

    page = web.page
    web.open("/account")  # not signed in: to the sign-in page
    page.wait_for_url("**/account/login")
    page.get_by_role("textbox", name=re.compile("访问令牌")).fill(token)
    web.shoot("holder-login")
    page.get_by_role("textbox", name=re.compile("访问令牌")).press("Enter")
    page.wait_for_url("**/account")
    expect(page.locator("#consents")).to_contain_text("待签署的同意书")
    web.shoot("holder-account-consent")
    page.locator("section[aria-labelledby=consents] a").first.click()
    page.wait_for_url(f"**/account/applications/{app.id}*")
    expect(page.locator(f"#typed-{consent.id}")).to_contain_text('"primaryType": "Consent"')
    web.shoot("holder-consent")

    # signed on the holder's own machine over exactly the typed data the page shows
    shown = page.locator(f"#typed-{consent.id}").inner_text()
    assert '"verifyingContract"' in shown
    signature = "0x" + bytes(Account.sign_typed_data(key.key, full_message=consent.typed_data).signature).hex()
    page.get_by_role("textbox", name=re.compile("^签名")).fill(signature)
    page.get_by_role("button", name=re.compile("提交签名")).click()
    expect(page.locator(".banner.ok")).to_contain_text("同意书已签署")

    number = workflow.register(app.id, "registrar").registration_number
    assert number is not None
    wait_for(chain.indexer, chain.client.block_number())
    web.open("/account")
    row = page.locator("section[aria-labelledby=units] tr", has_text=number)
    expect(row).to_contain_text("渤海湾船舶轨迹数据集")
    web.shoot("holder-account-registered")
    with page.expect_download() as download:
        row.get_by_role("button", name=re.compile("他项权益页")).click()
    printed = download.value.path().read_bytes()
    assert printed.startswith(b"%PDF-")

    # the same page on a phone: the session is the browser's, so sign in there too
    phone.open("/account/login")
    phone.page.get_by_role("textbox", name=re.compile("访问令牌")).fill(token)
    phone.page.get_by_role("textbox", name=re.compile("访问令牌")).press("Enter")
    phone.page.wait_for_url("**/account")
    expect(phone.page.locator("section[aria-labelledby=units] tr", has_text=number)).to_be_visible()
    phone.shoot("holder-account-phone")
