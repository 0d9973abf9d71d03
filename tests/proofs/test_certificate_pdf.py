"""Issue #4 "done when": a certificate PDF for a registered data asset verifies offline with one command, and
the same command rejects a copy with one changed byte. Also: Chinese text, QR code, schema validation.
Issue #7: the export works in one call right after registration, and a superseded, cancelled or objected
certificate never verifies as plainly VERIFIED — offline (state proof) or on the QR page."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.context import Ledger
from ledger.document_schemas import validate_document
from ledger.documents import evidence_report
from ledger.errors import LedgerValueError
from ledger.hashing import HashAlgorithm, canonical_json, digest_bytes, to_hex
from ledger.numbering import unit_id
from ledger.pdf import embedded, render_pdf, render_pdf_layout_1, verify_pdf
from ledger.profiles import ObjectType
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import Verdict, verdict, verify_bundle
from ledger.services.documents import certificate_pdf
from ledger.services.proofs import export_evidence_bundle, trust_list
from ledger.workflow import Workflow
from tests.content import content

pytestmark = pytest.mark.chain
BASE = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def certificate(chain: Ledger, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    today = [date(2024, 9, 27)]
    workflow = Workflow(chain.engine, chain.assets, chain.accounts, chain.deployment.deployment_id, chain.sender,
                        registry_name="天津数据资产登记平台", clock=lambda: today[0])
    app = workflow.apply(kind="initial", profile="TJIFA", holder="holder-a", actor="holder-a",
                         object_type=ObjectType.DATA_ASSET, document=os.urandom(32),
                         payload={"content": content()})
    for step in (workflow.accept, workflow.begin_review, workflow.approve, workflow.start_notice):
        step(app.id, "registrar")
    today[0] += timedelta(days=20)
    number = workflow.register(app.id, "registrar").registration_number
    assert number is not None
    pdf = certificate_pdf(chain, number, BASE, "天津市第一中级人民法院")  # one call: anchors, checkpoints, exports
    path = tmp_path_factory.mktemp("pdf") / f"{number}.pdf"
    path.write_bytes(pdf)
    listed = trust_list(chain)
    folder = path.parent
    (folder / "trust-list.json").write_text(json.dumps(listed.model_dump(mode="json")))
    return {"number": number, "pdf": pdf, "path": path, "trust": TrustRoots.of_list(listed),
            "trust_file": folder / "trust-list.json"}


def test_pdf_shows_the_certificate_fields_in_chinese(certificate: dict[str, Any]) -> None:
    text = subprocess.run(["pdftotext", "-layout", str(certificate["path"]), "-"], capture_output=True, text=True,
                          check=True).stdout
    # TJIFA §8.2.1, App. 8: the profile's title and the declared content
    for expected in ("数据资产确权证书", certificate["number"], "天津港数据科技有限公司", "港口集装箱物流数据集",
                     "数据资源持有权", "数据加工使用权", "数据产品经营权", "天津数据资产登记平台",
                     "物流调度", "航运金融", "91120116MA05JD1X47", "数据集", f"{certificate['number']}-V01"):
        assert expected in text, expected


def test_qr_code_opens_the_verify_page_for_the_document(certificate: dict[str, Any], tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(certificate["path"]), str(tmp_path / "page")], check=True)
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "page-1.png")], capture_output=True,
                             text=True).stdout.strip()
    document, _ = embedded(certificate["pdf"])
    assert decoded == f"{BASE}/verify/{to_hex(digest_bytes(canonical_json(document)))}"


def test_pdf_alone_verifies_and_embeds_what_the_chain_holds(chain: Ledger, certificate: dict[str, Any]) -> None:
    checks = verify_pdf(certificate["pdf"], certificate["trust"])
    assert all(c.ok for c in checks) and verdict(checks) is Verdict.VERIFIED, checks
    assert [c.name for c in checks][-1] == "PDF integrity"
    status = next(c for c in checks if c.name == "registry status")
    assert "VALID" in status.detail and "version 1" in status.detail
    assert verdict(verify_pdf(certificate["pdf"])) is Verdict.INTEGRITY_ONLY
    document, bundle = embedded(certificate["pdf"])
    on_chain = chain.assets.unit(unit_id(certificate["number"]))["certificate_hash"]
    assert digest_bytes(canonical_json(document)) == on_chain
    assert bundle is not None and "天津市第一中级人民法院" in str(bundle["extraction_record"])


def test_any_changed_byte_is_rejected(certificate: dict[str, Any]) -> None:
    pdf: bytes = certificate["pdf"]
    for position in [*range(0, len(pdf), max(1, len(pdf) // 60)), len(pdf) - 1]:
        altered = bytearray(pdf)
        altered[position] ^= 0x01
        checks = verify_pdf(bytes(altered), certificate["trust"])
        assert verdict(checks) is Verdict.FAILED, position


def test_one_command_offline(certificate: dict[str, Any], tmp_path: Path) -> None:
    command = [sys.executable, "-m", "ledger", "proof", "verify", str(certificate["path"]),
               "--trust", str(certificate["trust_file"])]
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        command = ["unshare", "-n", *command]
    env = {**os.environ, "LEDGER_HOME": str(tmp_path / "nothing"), "LEDGER_RPC_URL": "http://127.0.0.1:9"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and "VERIFIED 核验通过: every check passed" in done.stdout, done.stdout + done.stderr
    copy = tmp_path / "copy.pdf"
    altered = bytearray(certificate["pdf"])
    altered[len(altered) // 3] ^= 0x20
    copy.write_bytes(bytes(altered))
    command[command.index(str(certificate["path"]))] = str(copy)
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and "NOT VERIFIED" in done.stdout
    # the PDF's own seal respelled (v 27/28 -> 0/1: two changed bytes of the attached bundle) is refused
    pdf = bytearray(certificate["pdf"])
    _document, bundle = embedded(certificate["pdf"])
    assert bundle is not None
    old = bundle["seal"]["signature"]
    new = old[:-2] + ("00" if old.endswith("1b") else "01")
    start = pdf.find(old.encode())
    assert start > 0
    pdf[start : start + len(old)] = new.encode()
    copy.write_bytes(bytes(pdf))
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and "bundle seal" in done.stdout, done.stdout


def test_documents_are_validated_with_clear_errors(certificate: dict[str, Any]) -> None:
    document, _ = embedded(certificate["pdf"])
    assert validate_document(document) is document
    broken = {**document, "registration_number": "TJ-26-1", "rights": []}
    with pytest.raises(LedgerValueError) as info:
        validate_document(broken)
    assert "registration_number" in info.value.user_message and "rights" in info.value.user_message
    with pytest.raises(LedgerValueError, match="unknown document schema"):
        validate_document({"schema": "ledger.poem/1"})
    with pytest.raises(LedgerValueError, match="secret_field: Extra inputs are not permitted"):
        validate_document({**document, "secret_field": 1})
    notice = {"schema": "ledger.supplementary-notice/1", "application_id": "a" * 32, "registry": "R",
              "applicant": "holder-a", "deficiencies": ["缺少匿名化处理确认凭证"], "resubmit_by": "2024-10-20",
              "issued_on": "2024-10-10"}
    assert validate_document(notice) is notice


def test_rendering_depends_on_content_not_key_order(certificate: dict[str, Any]) -> None:
    document, bundle = embedded(certificate["pdf"])
    shuffled = dict(reversed(list(document.items())))
    assert render_pdf(shuffled, bundle) == render_pdf(document, bundle) == certificate["pdf"]


def test_pdf_prints_where_to_get_the_trust_list(certificate: dict[str, Any]) -> None:
    text = subprocess.run(["pdftotext", "-layout", str(certificate["path"]), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "信任列表 Trust list: http://127.0.0.1:8000/trust-list.json" in text
    assert certificate["trust"].trust_list.fingerprint() in text


def _register(workflow: Workflow, today: list[date], kind: str, number: str | None, actor: str = "registrar",
              **payload: Any) -> str | None:
    app = workflow.apply(kind=kind, profile="TJIFA", holder="holder-a", actor=actor if kind != "initial" else
                         "holder-a", number=number, object_type=ObjectType.DATA_ASSET if kind == "initial" else None,
                         payload=payload, document=os.urandom(32))
    for step in (workflow.accept, workflow.begin_review, workflow.approve):
        step(app.id, "registrar")
    if workflow.needs_notice(workflow.get(app.id)):
        workflow.start_notice(app.id, "registrar")
        today[0] += timedelta(days=20)
    return workflow.register(app.id, actor).registration_number


def test_superseded_objected_and_cancelled_certificates_are_named(chain: Ledger, tmp_path: Path) -> None:
    """Done when (issue #7): a superseded and a cancelled certificate fail verification with the reason named,
    offline and on the QR page; an objection is a distinct warning."""
    today = [date(2024, 10, 8)]
    workflow = Workflow(chain.engine, chain.assets, chain.accounts, chain.deployment.deployment_id, chain.sender,
                        registry_name="天津数据资产登记平台", clock=lambda: today[0])
    number = _register(workflow, today, "initial", None, content=content("航运指数数据集"))
    assert number is not None
    trust = TrustRoots.of_list(trust_list(chain))
    v1_pdf = certificate_pdf(chain, number, BASE)
    v1_doc, _ = embedded(v1_pdf)
    v1 = digest_bytes(canonical_json(v1_doc))
    assert verdict(verify_pdf(v1_pdf, trust)) is Verdict.VERIFIED

    _register(workflow, today, "change", number, changes={"asset": {"name": "航运指数数据集（第二版）"}})
    # the old certificate, proven now: authentic, but superseded by version 2
    old = render_pdf(v1_doc, export_evidence_bundle(chain, v1, HashAlgorithm.SHA256))
    checks = verify_pdf(old, trust)
    status = next(c for c in checks if c.name == "registry status")
    assert verdict(checks) is Verdict.NOT_VALID and status.level == "invalid", checks
    assert "SUPERSEDED" in status.detail and "version 2" in status.detail
    # the PDF exported before the change was true at its block; a live cross-check says what holds now
    live = verify_pdf(v1_pdf, trust, rpc_url=chain.client.rpc_url)
    assert verdict(live) is Verdict.NOT_VALID and "SUPERSEDED" in live[-2].detail + live[-1].detail, live
    v2_pdf = certificate_pdf(chain, number, BASE)
    assert verdict(verify_pdf(v2_pdf, trust)) is Verdict.VERIFIED
    v2 = chain.assets.unit(unit_id(number))["certificate_hash"]
    with TestClient(create_app(ledger=chain)) as client:
        page = client.get(f"/verify/{to_hex(v1)}").text
        assert 'data-state="superseded"' in page and "已被取代" in page and f'href="/verify/{to_hex(v2)}"' in page
        assert 'data-state="anchored"' not in page and 'data-state="valid"' not in page
        api = client.get(f"/evidence/verify/{to_hex(v1)}").json()
        assert api["certificate"]["state"] == "superseded" and api["certificate"]["current_certificate_version"] == 2
        assert 'data-state="valid"' in client.get(f"/verify/{to_hex(v2)}").text

        # an objection registration (SZ art. 20) on the unit: a warning, not a plain VERIFIED
        matter = os.urandom(32)
        chain.assets.transact(chain.sender("registrar"), "fileObjection", unit_id(number),
                              chain.accounts.get("holder-b").address, matter, matter)
        objected = verify_bundle(export_evidence_bundle(chain, v2, HashAlgorithm.SHA256), trust=trust)
        assert verdict(objected) is Verdict.VERIFIED_WITH_WARNING, objected
        assert "UNDER OBJECTION" in next(c.detail for c in objected if c.name == "registry status")
        objected_page = client.get(f"/verify/{to_hex(v2)}").text
        assert 'data-state="objection"' in objected_page and "存在异议" in objected_page

        # cancelled by a court order: never valid again
        _register(workflow, today, "cancellation", number, actor="court", ground="judicial_order")
        cancelled = verify_bundle(export_evidence_bundle(chain, v2, HashAlgorithm.SHA256), trust=trust)
        assert verdict(cancelled) is Verdict.NOT_VALID
        assert "CANCELLED" in next(c.detail for c in cancelled if c.name == "registry status")
        cancelled_page = client.get(f"/verify/{to_hex(v2)}").text
        assert 'data-state="cancelled"' in cancelled_page and "已注销" in cancelled_page
        assert 'data-state="valid"' not in cancelled_page

    path = tmp_path / "old.pdf"
    path.write_bytes(old)
    done = subprocess.run([sys.executable, "-m", "ledger", "proof", "verify", str(path), "--trust",
                           ",".join(sorted(trust.authorities))], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LEDGER_HOME": str(tmp_path / "none")})
    assert done.returncode == 4 and "NOT VALID" in done.stdout and "SUPERSEDED" in done.stdout, done.stdout


def test_a_certificate_bundle_without_its_status_proof_fails(chain: Ledger, certificate: dict[str, Any]) -> None:
    _document, bundle = embedded(certificate["pdf"])
    assert bundle is not None
    stripped = {k: v for k, v in bundle.items() if k != "registry_state"}
    checks = verify_bundle(stripped, trust=certificate["trust"])
    assert verdict(checks) is Verdict.FAILED and "registry status" in [c.name for c in checks if not c.ok]


def test_pdfs_exported_before_issue_9_still_verify(chain: Ledger, certificate: dict[str, Any]) -> None:
    """A file made with the earlier layout (Creator "data-asset-ledger") is re-rendered with that layout; naming
    the other layout is a changed byte like any other."""
    report = evidence_report(
        report_number="CZ-2024-0009", provider="天津数据存证服务有限公司", holder_name="天津港数据科技有限公司",
        holder_address=chain.accounts.get("holder-a").address, holder_id=None, summary="权属与安全声明",
        digests=[{"name": "声明.pdf", "hash_algorithm": "sha256", "digest": "0x" + "22" * 32}],
        chain_id=chain.client.chain_id, contract=chain.deployment.contracts["EvidenceRegistry"].address,
        tx_hash="0x" + "11" * 32, block_number=1, block_time="2024-10-08T00:00:00+00:00", issued_on=date(2024, 10, 8))
    digest = digest_bytes(canonical_json(report))
    chain.evidence.anchor(chain.sender("provider"), digest, HashAlgorithm.SHA256)
    old = render_pdf_layout_1(report, export_evidence_bundle(chain, digest, HashAlgorithm.SHA256))
    checks = verify_pdf(old, certificate["trust"])
    assert verdict(checks) is Verdict.VERIFIED and checks[-1].name == "PDF integrity" and checks[-1].ok, checks
    end = old.find(b")", old.find(b"/Creator ("))  # the Creator's last character, "r" of "ledger"
    assert old[end - 1 : end] == b"r"
    relabelled = old[: end - 1] + b"R" + old[end:]
    assert verdict(verify_pdf(relabelled, certificate["trust"])) is Verdict.FAILED
