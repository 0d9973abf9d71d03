"""The public pages without a browser (issue #12): what they answer and what they hold back, on a real chain.
Browser behaviour (in-browser hashing, keyboard, screenshots) is in tests/browser."""

from __future__ import annotations

import io
import json
import os
import re
import stat
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.context import Ledger
from ledger.errors import LedgerValueError, NotFoundError, WorkflowError
from ledger.evidence import EvidenceKind
from ledger.hashing import HashAlgorithm, digest_bytes, to_hex
from ledger.indexer.sync import wait_for
from ledger.numbering import unit_id
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import Verdict, verdict, verify_bundle
from ledger.services import lookup, notices, search
from ledger.services.proofs import trust_list
from ledger.tokens import create_token
from ledger.workdays import Period, days_left
from ledger.workflow import State
from tests.content import content
from tests.pages_support import dated_workflow, in_notice, register

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def client(chain: Ledger) -> Iterator[TestClient]:
    with TestClient(create_app(ledger=chain)) as test_client:
        yield test_client


def unlabelled(html: str) -> list[str]:
    """Form controls (input, select, textarea) that no <label for=...> names."""
    ids = set(re.findall(r'<label for="([^"]+)"', html))
    missing = []
    for control in re.findall(r"<(?:input|select|textarea)\b([^>]*)>", html):
        found = re.search(r'\bid="([^"]+)"', control)
        if 'type="hidden"' not in control and (found is None or found.group(1) not in ids):
            missing.append(control)
    return missing


def test_home_page_is_chinese_first_labelled_and_needs_no_chain(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    assert page.text.index("存证核验") < page.text.index("Evidence verification")
    assert unlabelled(page.text) == []
    assert 'action="/verify"' in page.text and "data-hash-in-browser" in page.text  # no-script fallback kept
    assert "https://" not in page.text and "http://" not in page.text  # nothing from a CDN
    css = client.get(re.search(r'href="(/static/site\.css[^"]*)"', page.text).group(1))  # type: ignore[union-attr]
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_verify_forms_without_scripts(chain: Ledger, client: TestClient) -> None:
    """The no-script fallback: a file is uploaded, hashed on the server and discarded; a digest is looked up."""
    data = os.urandom(3000)
    digest = digest_bytes(data, HashAlgorithm.SM3)
    chain.evidence.anchor(chain.sender("provider"), digest, HashAlgorithm.SM3)
    found = client.post("/verify", files={"file": ("a.bin", io.BytesIO(data))}, data={"hash_algorithm": "sm3"})
    assert found.status_code == 200 and found.url.path == f"/verify/{to_hex(digest)}"
    assert "已存证" in found.text and "Anchored" in found.text and to_hex(digest) in found.text
    by_digest = client.post("/verify", data={"digest": to_hex(digest), "hash_algorithm": "sm3"})
    assert "已存证" in by_digest.text
    wrong_algorithm = client.get(f"/verify/{to_hex(digest)}?hash_algorithm=sha256")
    assert "未存证" in wrong_algorithm.text
    bad = client.post("/verify", data={"digest": "0x12"})
    assert bad.status_code == 422 and "not a digest" in bad.text and '<html lang="zh-CN">' in bad.text


def test_evidence_lookup_names_endorsers_by_authority_kind(chain: Ledger, client: TestClient) -> None:
    digest = os.urandom(32)
    chain.evidence.anchor(chain.sender("provider"), digest, HashAlgorithm.SHA256, EvidenceKind.PROOF)
    for name in ("notary", "time-service"):
        chain.evidence.endorse(chain.sender(name), digest)
    found = lookup.evidence_lookup(chain, digest, HashAlgorithm.SHA256)
    assert list(found.endorsements) == ["notary", "time_service"]  # TJIFA §7.1.4 order
    notary = found.endorsements["notary"][0]
    assert notary.name == chain.accounts.get("notary").display_name and notary.trusted
    page = client.get(f"/verify/{to_hex(digest)}").text
    assert "公证机构" in page and "授时服务机构" in page
    assert "公证处 Notary office (dev key)" in page and "列入信任列表" in page


def test_certificate_page_versions_status_and_bundle(chain: Ledger, client: TestClient) -> None:
    """The QR page of a superseded certificate says so and links the current one; the current one is valid only
    while the index is fresh; the court bundle downloaded from the page verifies offline."""
    workflow, today = dated_workflow(chain, date(2024, 10, 8))
    number = register(workflow, today, "initial", None, content=content("港口吞吐量日报"))
    v1 = chain.assets.unit(unit_id(number))["certificate_hash"]
    register(workflow, today, "change", number, changes={"asset": {"name": "港口吞吐量日报（第二版）"}})
    v2 = chain.assets.unit(unit_id(number))["certificate_hash"]
    wait_for(chain.indexer, chain.client.block_number())

    record = lookup.certificate_record(chain, number)
    assert record.view.status.state == "valid" and record.reliable and record.is_current
    assert [(c.version, c.status) for c in record.certificates] == [(1, "superseded"), (2, "current")]
    assert record.asset["name"] == "港口吞吐量日报（第二版）" and record.holder_name == "天津港数据科技有限公司"
    old = client.get(f"/verify/{to_hex(v1)}").text
    assert 'data-state="superseded"' in old and f'href="/verify/{to_hex(v2)}"' in old
    assert 'data-state="valid"' not in old and "港口吞吐量日报" in old
    current = client.get(f"/certificate/{number}").text
    assert 'data-state="valid"' in current and "证书有效" in current
    assert 'data-version="1" data-status="superseded"' in current
    assert 'data-version="2" data-status="current"' in current
    assert "变更登记" in current and "首次登记" in current  # the history
    assert unlabelled(current) == []

    # the bundle proves the unit's whole registry state (REGISTRATION_RULES §6.2): the public is sent to sign in
    public = client.post(f"/certificate/{number}/bundle", follow_redirects=False)
    assert public.status_code == 303 and public.headers["location"].startswith("/account/login?next=")
    assert "登录后下载" in current and 'name="csrf"' not in current
    token = create_token(chain.engine, chain.accounts, "bank", f"pages-bank-{os.urandom(3).hex()}")
    client.post("/account/login", data={"token": token})
    signed_in = client.get(f"/certificate/{number}").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', signed_in)
    assert csrf is not None
    assert client.post(f"/certificate/{number}/bundle", data={"csrf": "0" * 64}).status_code == 401
    unnamed = client.post(f"/certificate/{number}/bundle", data={"csrf": csrf.group(1)})
    assert unnamed.status_code == 403 and "X-Access-Basis" in unnamed.text  # a bank names the matter of its read
    response = client.post(f"/certificate/{number}/bundle", data={"csrf": csrf.group(1), "basis": "质押前核验"})
    client.cookies.clear()
    assert response.status_code == 200 and response.headers["content-disposition"].endswith(f'{number}.state.json"')
    bundle = json.loads(response.content)
    checks = verify_bundle(bundle, trust=TrustRoots.of_list(trust_list(chain)))
    assert verdict(checks) is Verdict.VERIFIED, checks
    assert client.get("/certificate/TJ-2099-999999-0").status_code in (404, 422)


def test_search_by_number_and_by_name_shows_publishable_fields(chain: Ledger, client: TestClient) -> None:
    workflow, today = dated_workflow(chain, date(2024, 11, 4))
    number = register(workflow, today, "initial", None, content=content("内河航道水文观测集", "长江航道数据有限公司"))
    register(workflow, today, "change", number, changes={"asset": {"name": "内河航道水文观测集（扩展）"}})
    wait_for(chain.indexer, chain.client.block_number())
    by_name = search.search(chain, "水文观测")
    hit = next(h for h in by_name.data if h.registration_number == number)
    assert hit.asset_name == "内河航道水文观测集（扩展）" and hit.holder_name == "长江航道数据有限公司"
    assert hit.status == "active" and hit.certificate_version == 2 and hit.matched_name is None
    assert set(hit.model_dump()) == {"registration_number", "asset_name", "holder_name", "object_type",
                                     "jurisdiction", "status", "under_objection", "certificate_version",
                                     "valid_until", "matched_name"}  # no accounts, hashes or documents
    former = search.search(chain, "内河航道水文观测集")  # both versions match: the current name is shown
    assert next(h for h in former.data if h.registration_number == number).matched_name is None
    assert search.search(chain, "no such asset 不存在的资产").count == 0
    assert search.search(chain, "50%_\\\"").count == 0  # LIKE wildcards and JSON escapes are plain text
    assert search.search(chain, number.lower()).by == "number"

    page = client.get("/search", params={"q": "水文观测"})
    assert page.status_code == 200 and number in page.text and "长江航道数据有限公司" in page.text
    assert "0x" not in page.text.split("<main", 1)[1]  # no account or hash in the results
    jump = client.get("/search", params={"q": number}, follow_redirects=False)
    assert jump.status_code == 303 and jump.headers["location"] == f"/certificate/{number}"
    assert "未找到登记" in client.get("/search", params={"q": "不存在的资产"}).text
    with pytest.raises(LedgerValueError):
        search.search(chain, " ")


def test_notice_board_countdown_and_objection_with_evidence(chain: Ledger, client: TestClient) -> None:
    workflow = chain.workflow  # the served calendar: today in China
    app = in_notice(workflow, "港区集卡轨迹数据", "滨海物流科技有限公司")
    board = notices.notice_board(chain, limit=500)
    shown = next(n for n in board.data if n.application_id == app.id)
    today = workflow.clock()
    assert shown.days_left == days_left(today, Period(date.fromisoformat(app.notice_start or ""),
                                                      shown.last_day, True), "working_days") == 3
    assert shown.asset_name == "港区集卡轨迹数据" and shown.applicant_name == "滨海物流科技有限公司"
    assert shown.object_type == "data_asset" and shown.kind == "initial"
    page = client.get("/notices").text
    assert f'data-application="{app.id}"' in page and "剩余 <strong>3</strong> 个工作日" in page
    form = client.get(f"/notices/{app.id}").text
    assert unlabelled(form) == [] and 'enctype="multipart/form-data"' in form

    evidence = b"%PDF-1.4 objection evidence " + os.urandom(64)
    receipt = client.post(f"/notices/{app.id}/objections",
                          data={"objector_name": "津门数据交易所", "objector_id": "91120000MA06XXXX1X",
                                "grounds": "该数据集的采集来源与本单位已登记的数据重合"},
                          files={"evidence": ("evidence.pdf", io.BytesIO(evidence), "application/pdf")})
    assert receipt.status_code == 201, receipt.text
    digest = digest_bytes(evidence)
    assert to_hex(digest) in receipt.text
    verification = chain.evidence.verify(digest, HashAlgorithm.SHA256)
    assert verification.anchored and verification.anchors[0].kind is EvidenceKind.DOCUMENT  # not vetted proof
    assert verification.anchors[0].tx_hash in receipt.text
    assert workflow.get(app.id).state == State.OBJECTION_PENDING
    [objection] = workflow.objections(app.id)
    assert (objection.objector_name, objection.evidence_hash) == ("津门数据交易所", to_hex(digest))
    kept = notices.evidence_dir(chain) / to_hex(digest)[2:]
    assert kept.read_bytes() == evidence and stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert "异议处理中" in client.get("/notices").text

    missing = client.post(f"/notices/{app.id}/objections", data={"objector_name": "x", "objector_id": "y",
                                                                 "grounds": "z"})
    assert missing.status_code == 422 and "evidence" in missing.text
    with pytest.raises(LedgerValueError):
        notices.file_objection(chain, app.id, objector_name=" ", objector_id="1", grounds="g",
                               evidence=io.BytesIO(b"x"), evidence_name="e")


def test_a_notice_that_ended_takes_no_objection(chain: Ledger) -> None:
    workflow, today = dated_workflow(chain, date(2024, 12, 2))
    app = in_notice(workflow, "已结束公示的数据集")
    with pytest.raises(NotFoundError):
        notices.notice(chain, "ffffffffffff")
    shown = notices.notice(chain, app.id)
    assert shown.days_left == 0 and shown.last_day < chain.workflow.clock()  # ended long ago, by today's calendar
    assert app.id not in [n.application_id for n in notices.notice_board(chain, limit=500).data]
    with pytest.raises(WorkflowError):
        notices.file_objection(chain, app.id, objector_name="a", objector_id="b", grounds="c",
                               evidence=io.BytesIO(b"evidence"), evidence_name="e.txt")
    assert today[0] == date(2024, 12, 2)


def test_a_change_in_notice_names_its_unit_and_the_change(chain: Ledger, client: TestClient) -> None:
    workflow, today = dated_workflow(chain, date(2025, 1, 6))
    number = register(workflow, today, "initial", None, content=content("海河水质监测数据", "海河环境数据有限公司"))
    wait_for(chain.indexer, chain.client.block_number())
    app = workflow.apply(kind="change", profile="TJIFA", holder="holder-a", actor="registrar", number=number,
                         payload={"changes": {"asset": {"name": "海河水质监测数据（含支流）"}}},
                         document=os.urandom(32))
    for step in (workflow.accept, workflow.begin_review, workflow.approve, workflow.start_notice):
        step(app.id, "registrar")
    shown = notices.notice(chain, app.id[:12])
    assert (shown.kind, shown.registration_number, shown.asset_name, shown.applicant_name, shown.object_type) == (
        "change", number, "海河水质监测数据", "海河环境数据有限公司", "data_asset")
    assert shown.changes == {"asset": {"name": "海河水质监测数据（含支流）"}}
    page = client.get(f"/notices/{app.id}").text
    assert "变更登记" in page and "海河水质监测数据（含支流）" in page and number in page
    assert "提出异议" not in page  # its notice ended long ago by today's calendar: no objection form
