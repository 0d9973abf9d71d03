"""Issue #9 part 1, the printed certificate: a ``ledger.certificate/2`` PDF shows the profile's title and every field
TJIFA §8.2.1 / App. 8 require, its footnotes and linked evidence report (TJIFA §7.3.1), and the other-rights page
(TJIFA §8.2.2) as an annex with each entry's id; the annex comes from the sealed bundle, so the PDF still verifies
offline and any changed byte is caught. The layout tests need no chain; the last two run the real workflow."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from ledger.context import Ledger
from ledger.document_schemas import validate_document
from ledger.documents import (
    certificate,
    certificate_annexes,
    document_hash,
    evidence_report,
    objection_proof,
    reissue,
    rights_page,
)
from ledger.errors import LedgerValueError
from ledger.hashing import to_hex
from ledger.lifecycle import Right
from ledger.pdf import embedded, render_pdf, render_pdf_layout_1, verify_pdf
from ledger.profiles import ObjectType, load_profiles, profile_by_code
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import Verdict, verdict
from ledger.services.documents import certificate_pdf
from ledger.services.proofs import trust_list
from ledger.workflow import Workflow

NUMBER = "TJ-2024-000001-7"
HOLDER = "0x" + "a1" * 20
BANK = "0x" + "b2" * 20
DIGEST = "0x" + "ab" * 32
USCC = "91120116MA05JD1X47"
SCOPE = ("限于天津港区内集装箱物流调度与航运金融风控使用，不得用于个人画像、精准营销或向境外提供；"
         "加工形成的数据产品须经登记机构补充登记后方可对外经营 (TJIFA §6.4.1.1(b))")
CONTENT: dict[str, Any] = {
    "holder": {"legal_name": "天津港数据科技有限公司", "uscc": USCC},
    "asset": {"name": "港口集装箱物流数据集", "version": "2024.1", "form": "interface", "acquisition": "collected",
              "update_cycle": "custom", "update_cycle_custom": "每季度首个工作日",
              "scenarios": ["物流调度", "航运金融"], "scope": SCOPE, "industry": "交通运输",
              "keywords": ["集装箱", "港口"]},
}
BASE = "http://127.0.0.1:8000"


def v2_certificate(report: str | None = DIGEST, **overrides: Any) -> dict[str, Any]:
    v1 = certificate(content=CONTENT, title="数据资产确权证书", registration_number=NUMBER, jurisdiction="TJIFA",
                     registry_name="天津数据资产登记平台", holder_account=HOLDER, object_type=ObjectType.DATA_ASSET,
                     rights=int(Right.ALL), issued_on=date(2024, 10, 17), valid_until=date(2027, 10, 17),
                     validity_basis="3 years (TJIFA §8.3.3)", evidence_report=report, evidence_digests=[DIGEST],
                     notes=["更新周期 [derived]: TJIFA §8.2.1 names custom cycles without a format"])
    return reissue(v1, changes={"asset": {"name": "港口集装箱物流数据集（第二版）"}, **overrides}, version=2,
                   issued_on=date(2025, 3, 3), valid_until=date(2027, 10, 17))


def page(number: str = NUMBER) -> dict[str, Any]:
    return rights_page(number, date(2025, 3, 3), [
        {"entry_id": 3, "kind": "pledge", "counterparty": BANK, "rights": 1, "valid_until": date(2026, 3, 3),
         "active": True, "contract_hash": DIGEST},
        {"entry_id": 17, "kind": "licence", "counterparty": HOLDER, "rights": 6, "valid_until": None,
         "active": False, "contract_hash": DIGEST}])


def pages_text(tmp_path: Path, pdf: bytes) -> list[str]:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    return text.split("\f")[:-1]


def presented(**annexes: dict[str, Any]) -> dict[str, Any]:
    """A stand-in bundle carrying only the presentation part (layout tests; verify_pdf needs a real one)."""
    return {"presentation": {"verify_base_url": BASE, "annexes": certificate_annexes(**annexes)}}


def test_v2_pdf_shows_every_required_field_and_the_annex(tmp_path: Path) -> None:
    cert = v2_certificate()
    pdf = render_pdf(cert, presented(rights_page=page()))
    text = pages_text(tmp_path, pdf)
    assert len(text) == len(PdfReader(tmp_path / "certificate.pdf").pages) == 2
    first, annex = text
    for expected in ("数据资产确权证书", "Data-asset rights-confirmation certificate", f"{NUMBER}-V02", NUMBER,
                     "港口集装箱物流数据集（第二版）", "2024.1", "接口 interface", "天津港数据科技有限公司", USCC,
                     "法人 legal person", "收集取得 collected", "自定义 custom: 每季度首个工作日", "物流调度、航运金融",
                     "天津数据资产登记平台", "2025-03-03", "2027-10-17", "3 years (TJIFA §8.3.3)",
                     "数据资源持有权、数据加工使用权、数据产品经营权", "数据资产 data asset", "交通运输",
                     "集装箱、港口",
                     f"Supersedes (SHA-256)   {cert['supersedes']}", f"Evidence report (SHA-256)   {DIGEST}",
                     "关联文件 linked document", "[1]", "更新周期 [derived]: TJIFA §8.2.1 names custom cycles",
                     "数据资产他项权益页（见后页", "第 1 页 / 共 2 页"):
        assert " ".join(expected.split()) in " ".join(first.split()), expected
    assert "数据资产登记证书" not in first  # the profile's title, not a fixed one
    scope = "".join(first.split())  # the long scope wraps over several lines, nothing lost
    assert "".join(SCOPE.split()) in scope
    assert "附件1 数据资产他项权益页" in annex and "Additional-rights page" in annex
    for expected in ("权益编号 Entry No. 3", "质押 pledge", "有效 active", BANK, "2026-03-03",
                     "权益编号 Entry No. 17", "授权他人使用 licence", "已解除 released",
                     "数据加工使用权、数据产品经营权",
                     f"{NUMBER}-V02 附件 Annex", "第 2 页 / 共 2 页"):
        assert expected in annex, expected
    assert "权益编号" not in first  # the annex is on its own page


def test_long_values_stay_inside_the_page(tmp_path: Path) -> None:
    long_name = "超长资产名称" * 20 + " with an English part that also needs to wrap over more than one line"
    cert = v2_certificate(asset={"name": long_name, "scenarios": ["场景" * 40, "B"]})
    path = tmp_path / "long.pdf"
    path.write_bytes(render_pdf(cert, presented(rights_page=page())))
    boxes = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True,
                           check=True).stdout
    right_edges = [float(part.split('"')[1]) for part in boxes.split("xMax=")[1:]]
    assert right_edges and max(right_edges) <= 595.3 - 45, max(right_edges)
    assert "".join(long_name.split()) in "".join("".join(pages_text(tmp_path, path.read_bytes())).split())


def test_title_comes_from_the_document(tmp_path: Path) -> None:
    for code, object_type, title in (("DL", ObjectType.DATA_RESOURCE, "数据登记凭证"),
                                     ("SZ", ObjectType.DATA_PRODUCT, "数据产品登记证书"),
                                     ("GZ", ObjectType.DATA_RESOURCE, "数据要素登记凭证")):
        assert load_profiles()[code].title_for(object_type) == title
        cert = v2_certificate(title=title)
        first = pages_text(tmp_path, render_pdf(cert))[0]
        assert first.lstrip().startswith(title) and "数据资产确权证书" not in first
        metadata = PdfReader(tmp_path / "certificate.pdf").metadata
        assert metadata is not None and str(metadata["/Title"]).startswith(title)


def test_evidence_report_annex_must_be_the_linked_one(tmp_path: Path) -> None:
    report = evidence_report(report_number="CZ-2024-0001", provider="天津数据存证服务有限公司",
                             holder_name="天津港数据科技有限公司", holder_address=HOLDER, holder_id=USCC,
                             summary="权属与安全声明", digests=[{"name": "声明.pdf", "hash_algorithm": "sm3",
                                                           "digest": DIGEST}],
                             chain_id=31337, contract=BANK, tx_hash=DIGEST, block_number=12,
                             block_time="2024-10-10T10:00:00+08:00", issued_on=date(2024, 10, 10))
    linked = v2_certificate(report=to_hex(document_hash(report)))
    text = pages_text(tmp_path, render_pdf(linked, presented(rights_page=page(), evidence_report=report)))
    assert len(text) == 3 and "见附件 annexed" in text[0]
    assert "附件1 数据资产他项权益页" in text[1] and "附件2 存证报告书" in text[2] and "CZ-2024-0001" in text[2]
    with pytest.raises(LedgerValueError, match="not the evidence report the certificate links"):
        render_pdf(v2_certificate(), presented(evidence_report=report))


def test_annexes_are_validated() -> None:
    cert = v2_certificate()
    with pytest.raises(LedgerValueError, match="the rights page of TJ-2024-000002-5, not of TJ-2024-000001-7"):
        render_pdf(cert, {"presentation": {"annexes": {"rights_page": page("TJ-2024-000002-5")}}})
    with pytest.raises(LedgerValueError, match="unknown annex 'photo'"):
        render_pdf(cert, {"presentation": {"annexes": {"photo": page()}}})
    broken = {**page(), "entries": [{**page()["entries"][0], "entry_id": 0}]}
    with pytest.raises(LedgerValueError, match=r"presentation\.annexes\.rights_page: .*entries\.0\.entry_id"):
        render_pdf(cert, {"presentation": {"annexes": {"rights_page": broken}}})
    proof = objection_proof(registry="R", registration_number=NUMBER, objection_id=DIGEST,
                            objector={"name": "X", "id_kind": "other", "id_number": "P1", "account": BANK},
                            matter="m", grounds="g", evidence_digests=[DIGEST], accepted_on=date(2025, 1, 1))
    with pytest.raises(LedgerValueError, match="only a certificate has annexes"):
        render_pdf(proof, {"presentation": {"annexes": {"rights_page": page()}}})


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    cert = v2_certificate()
    bundle = presented(rights_page=page())
    pdf = render_pdf(cert, bundle)
    assert render_pdf(dict(reversed(list(cert.items()))), bundle) == pdf
    assert render_pdf(cert, presented()) != pdf  # the annex is part of the rendering
    document, attached = embedded(pdf)
    assert document == cert and attached == bundle


def test_objection_proof_pdf(tmp_path: Path) -> None:
    proof = objection_proof(registry="深圳数据交易所登记中心", registration_number="SZ-2024-000001-3",
                            objection_id=DIGEST, objector={"name": "深圳市腾讯计算机系统有限公司", "id_kind": "uscc",
                                                           "id_number": "91440300708461136T", "account": BANK},
                            matter="登记的数据来源", grounds="部分数据由异议人采集，未经授权",
                            evidence_digests=[DIGEST], accepted_on=date(2024, 11, 1))
    text = pages_text(tmp_path, render_pdf(proof))[0]
    for expected in ("异议登记证明", "Objection-registration proof", "SZ-2024-000001-3", "深圳市腾讯计算机系统有限公司",
                     "统一社会信用代码 USCC", "91440300708461136T", "登记的数据来源", "部分数据由异议人采集",
                     "2024-11-01", "2024-11-16 24:00 北京时间", "15日内提交法院或仲裁机构受理通知"):
        assert expected in text, expected


# --- on a real chain: a v2 certificate registered by the workflow, its rights page annexed, verified offline ---


@pytest.fixture(scope="module")
def registered(chain: Ledger) -> Iterator[dict[str, Any]]:
    """An SZ registration whose certificate the workflow issues as ledger.certificate/2 (its builder swapped for the
    new API, as the workflow will call it), with a pledge and a licence on the rights page."""

    today = [date(2024, 9, 27)]
    flow = Workflow(chain.engine, chain.assets, chain.accounts, chain.deployment.deployment_id, chain.sender,
                    registry_name="深圳数据交易所登记中心", clock=lambda: today[0])
    content = {**CONTENT, "holder": {"legal_name": "深圳港数据科技有限公司", "uscc": USCC}}
    app = flow.apply(kind="initial", profile="SZ", holder="holder-a", actor="holder-a",
                     object_type=ObjectType.DATA_RESOURCE, document=os.urandom(32), payload={"content": content})
    for step in (flow.accept, flow.begin_review, flow.pass_formal_review):
        step(app.id, "registrar")
    flow.file_review(app.id, "reviewer", os.urandom(32))
    flow.approve(app.id, "registrar")
    flow.start_notice(app.id, "registrar")
    today[0] += timedelta(days=20)
    number = flow.register(app.id, "registrar").registration_number
    assert number is not None
    for kind, counterparty in (("pledge", "bank"), ("licence", "holder-b")):
        filing = flow.apply(kind=kind, profile="SZ", holder="holder-a", counterparty=counterparty,
                            actor="registrar", number=number, document=os.urandom(32))
        flow.accept(filing.id, "registrar")
        flow.begin_review(filing.id, "registrar")
        if kind == "licence":  # SZ art. 16(4): evidence and third-party review
            flow.pass_formal_review(filing.id, "registrar")
            flow.file_review(filing.id, "reviewer", os.urandom(32))
        flow.approve(filing.id, "registrar")
        flow.register(filing.id, "registrar")
    pdf = certificate_pdf(chain, number, BASE)  # anchors the certificate (TJIFA §8.2.3), rights page annexed
    document, bundle = embedded(pdf)
    assert bundle is not None
    rights = bundle["presentation"]["annexes"]["rights_page"]
    yield {"number": number, "document": document, "rights": rights, "pdf": pdf,
           "trust": TrustRoots.of_list(trust_list(chain))}


@pytest.mark.chain
def test_registered_v2_certificate_with_its_annex_verifies(registered: dict[str, Any], tmp_path: Path) -> None:
    document = registered["document"]
    assert validate_document(document)["schema"] == "ledger.certificate/2"
    assert document["title"] == "数据资源登记证书" and document["holder"]["legal_name"] == "深圳港数据科技有限公司"
    checks = verify_pdf(registered["pdf"], registered["trust"])
    assert verdict(checks) is Verdict.VERIFIED and checks[-1].name == "PDF integrity" and checks[-1].ok, checks
    first, annex = pages_text(tmp_path, registered["pdf"])
    assert "数据资源登记证书" in first and f"{registered['number']}-V01" in first
    ids = [e["entry_id"] for e in registered["rights"]["entries"]]
    assert len(ids) == 2 and all(f"权益编号 Entry No. {i}" in annex for i in ids)
    assert "质押 pledge" in annex and "授权他人使用 licence" in annex


@pytest.mark.chain
def test_any_changed_byte_of_the_annexed_pdf_is_caught(registered: dict[str, Any]) -> None:
    pdf: bytes = registered["pdf"]
    for position in [*range(0, len(pdf), max(1, len(pdf) // 40)), len(pdf) - 1]:
        altered = bytearray(pdf)
        altered[position] ^= 0x01
        assert verdict(verify_pdf(bytes(altered), registered["trust"])) is Verdict.FAILED, position
    # an annex swapped in the attached bundle breaks the provider's seal, even when re-rendered to match
    document, bundle = embedded(pdf)
    assert bundle is not None
    forged = {**bundle, "presentation": {**bundle["presentation"], "annexes": {
        "rights_page": {**registered["rights"], "entries": registered["rights"]["entries"][:1]}}}}
    checks = verify_pdf(render_pdf(document, forged), registered["trust"])
    assert verdict(checks) is Verdict.FAILED and "bundle seal" in [c.name for c in checks if not c.ok], checks


def test_optional_fields_may_be_absent_from_a_valid_document(tmp_path: Path) -> None:
    cert = v2_certificate(report=None)
    for key in ("industry", "keywords", "version", "update_cycle_custom"):
        del cert["asset"][key]
    cert["asset"]["update_cycle"] = "monthly"
    del cert["notes"], cert["annexes"]["evidence_digests"]
    first = pages_text(tmp_path, render_pdf(validate_document(cert)))[0]
    assert "每月 monthly" in first and "注 Notes" not in first and "Evidence report" not in first


def test_layout_1_is_byte_for_byte_the_layout_before_issue_9() -> None:
    """Pinned: these are the SHA-256 of what the renderer made before issue #9 for these documents. If a library
    or the embedded font changes them, PDFs exported earlier no longer verify: that is what this test catches."""
    old = certificate(registration_number=NUMBER, version=1, profile=profile_by_code("TJIFA"),
                      holder_name="天津港数据科技有限公司", holder_address=HOLDER, holder_id=USCC,
                      asset={"name": "港口集装箱物流数据集" * 4, "form": "dataset", "update_cycle": "daily",
                             "scenarios": "物流调度、航运金融"},
                      object_type=ObjectType.DATA_ASSET, rights=7, issued_on=date(2024, 10, 17),
                      valid_until=date(2027, 10, 17), registry_name="天津数据资产登记平台", evidence_digests=[DIGEST])
    bundle = {"presentation": {"verify_base_url": "https://registry.example.cn",
                               "trust_list_url": "https://registry.example.cn/trust-list.json",
                               "trust_list_sha256": "0x" + "cd" * 32}}
    one_entry = rights_page(NUMBER, date(2025, 3, 3), [{"entry_id": 3, "kind": "pledge", "counterparty": BANK,
                                                        "rights": 1, "valid_until": None, "active": True,
                                                        "contract_hash": DIGEST}])
    assert hashlib.sha256(render_pdf_layout_1(old, bundle)).hexdigest() == \
        "b47debb345ee6222207883268d37eab89931c9b53c7d085b91b698bc9a74db52"
    assert hashlib.sha256(render_pdf_layout_1(one_entry)).hexdigest() == \
        "08d5a13b7e0511cede349ccda6324b2eb3d5f4d96821391e4e4ca33b6aaba547"
    with pytest.raises(LedgerValueError, match="layout 1 predates"):
        render_pdf_layout_1(v2_certificate())
