"""Every document kind is built from real ledger data, passes its schema and renders to a PDF."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from ledger.context import Ledger
from ledger.document_schemas import validate_document
from ledger.documents import evidence_report, rights_page
from ledger.hashing import HashAlgorithm, digest_bytes, to_hex
from ledger.models import StoredDocument
from ledger.numbering import unit_id
from ledger.pdf import render_pdf
from ledger.profiles import ObjectType
from ledger.workflow import Workflow
from tests.content import content

pytestmark = pytest.mark.chain


def stored(chain: Ledger, digest: str | None) -> dict[str, object]:
    assert digest
    with Session(chain.engine) as session:
        row = session.get(StoredDocument, digest)
    assert row is not None
    return validate_document(json.loads(row.body))


def pdf_text(tmp_path: Path, pdf: bytes) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_workflow_documents_rights_page_and_evidence_report(chain: Ledger, tmp_path: Path) -> None:
    today = [date(2024, 9, 27)]
    flow = Workflow(chain.engine, chain.assets, chain.accounts, chain.deployment.deployment_id, chain.sender,
                    registry_name="深圳数据交易所登记中心", clock=lambda: today[0])
    app = flow.apply(kind="initial", profile="SZ", holder="holder-a", actor="holder-a",
                     object_type=ObjectType.DATA_RESOURCE, document=os.urandom(32),
                     payload={"content": content("深圳港口吞吐量数据", "深圳某港口数据有限公司")})
    flow.accept(app.id, "registrar")
    flow.begin_review(app.id, "registrar")
    asked = flow.request_supplement(app.id, "registrar", "缺少数据来源授权证明; 缺少第三方审查报告")
    notice = stored(chain, flow.history(asked.id)[-1].document_hash)
    assert notice["deficiencies"] == ["缺少数据来源授权证明", "缺少第三方审查报告"]
    assert notice["resubmit_by"] == "2024-10-10"  # 5 working days: Sep 29 (调休), 30, Oct 8, 9, 10
    assert "补充登记通知" in pdf_text(tmp_path, render_pdf(notice))

    flow.resubmit(app.id, "holder-a", os.urandom(32))
    flow.begin_review(app.id, "registrar")
    flow.pass_formal_review(app.id, "registrar")
    flow.file_review(app.id, "reviewer", os.urandom(32))
    flow.approve(app.id, "registrar")
    flow.start_notice(app.id, "registrar")
    today[0] += timedelta(days=20)
    number = flow.register(app.id, "registrar").registration_number
    assert number is not None
    for kind, counterparty in (("pledge", "bank"), ("licence", "holder-b")):
        filing = flow.apply(kind=kind, profile="SZ", holder="holder-a", counterparty=counterparty, actor="registrar",
                            number=number, document=os.urandom(32))
        flow.accept(filing.id, "registrar")
        flow.begin_review(filing.id, "registrar")
        if kind == "licence":  # SZ art. 16(4): evidence and third-party review
            flow.pass_formal_review(filing.id, "registrar")
            flow.file_review(filing.id, "reviewer", os.urandom(32))
        flow.approve(filing.id, "registrar")
        flow.register(filing.id, "registrar")
    entries = chain.assets.entries(unit_id(number))
    page = validate_document(rights_page(number, today[0], [
        {**e, "valid_until": datetime.fromtimestamp(e["valid_until"], UTC).date() if e["valid_until"] else None}
        for e in entries]))
    assert [e["kind"] for e in page["entries"]] == ["pledge", "licence"]  # type: ignore[index]
    assert all(e["status"] == "active" for e in page["entries"])  # type: ignore[union-attr]
    assert "他项权益页" in pdf_text(tmp_path, render_pdf(page))

    cancel = flow.apply(kind="cancellation", profile="SZ", holder="holder-a", actor="registrar", number=number,
                        document=os.urandom(32))
    for step in (flow.accept, flow.begin_review, flow.approve):
        step(cancel.id, "registrar")
    done = flow.register(cancel.id, "registrar")
    proof = stored(chain, flow.history(done.id)[-1].document_hash)
    assert proof["ground"] == "holder" and proof["registration_number"] == number

    digest = digest_bytes(b"rights and security declaration", HashAlgorithm.SM3)
    anchor = chain.evidence.anchor(chain.sender("provider"), digest, HashAlgorithm.SM3)
    report = validate_document(evidence_report(
        report_number="CZ-2024-0001", provider="天津数据存证服务有限公司", holder_name="某数据科技有限公司",
        holder_address=chain.accounts.get("holder-a").address, holder_id="91120116MA05XXXX0Y",
        summary="权属与安全声明", digests=[{"name": "声明.pdf", "hash_algorithm": "sm3", "digest": to_hex(digest)}],
        chain_id=chain.client.chain_id, contract=chain.deployment.contracts["EvidenceRegistry"].address,
        tx_hash=anchor.tx_hash, block_number=anchor.block_number, block_time=anchor.as_dict()["block_time_iso"],
        issued_on=today[0]))
    assert "存证报告书" in pdf_text(tmp_path, render_pdf(report))
