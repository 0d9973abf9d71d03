"""Issue #4 "done when": a certificate PDF for a registered data asset verifies offline with one command, and
the same command rejects a copy with one changed byte. Also: Chinese text, QR code, schema validation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.context import Ledger
from ledger.document_schemas import validate_document
from ledger.errors import LedgerValueError, NotFoundError
from ledger.hashing import canonical_json, digest_bytes, to_hex
from ledger.pdf import embedded, verify_pdf
from ledger.profiles import ObjectType
from ledger.proofs.bundle import certificate_pdf
from ledger.proofs.checkpoints import CheckpointStore
from ledger.workflow import Workflow

pytestmark = pytest.mark.chain
BASE = "http://127.0.0.1:8000"


@pytest.fixture(scope="module")
def certificate(chain: Ledger, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    today = [date(2024, 9, 27)]
    workflow = Workflow(chain.engine, chain.assets, chain.accounts, chain.deployment.deployment_id, chain.sender,
                        registry_name="天津数据资产登记平台", clock=lambda: today[0])
    app = workflow.apply(kind="initial", profile="TJIFA", holder="holder-a", actor="holder-a",
                         object_type=ObjectType.DATA_ASSET, document=os.urandom(32),
                         payload={"holder_name": "天津港数据科技有限公司",
                                  "asset": {"name": "港口集装箱物流数据集", "form": "dataset",
                                            "update_cycle": "daily", "scenarios": "物流调度、航运金融"}})
    for step in (workflow.accept, workflow.begin_review, workflow.approve, workflow.start_notice):
        step(app.id, "registrar")
    today[0] += timedelta(days=20)
    number = workflow.register(app.id, "registrar").registration_number
    assert number is not None
    with pytest.raises(NotFoundError, match="no checkpoint"):  # anchors the certificate, then needs a checkpoint
        certificate_pdf(chain, number, BASE)
    store = CheckpointStore(chain.engine, chain.client, chain.deployment.deployment_id)
    trusted = [store.sign_latest(chain.accounts.get(n).signer).signer for n in ("notary", "time-service")]
    pdf = certificate_pdf(chain, number, BASE, "天津市第一中级人民法院")
    path = tmp_path_factory.mktemp("pdf") / f"{number}.pdf"
    path.write_bytes(pdf)
    return {"number": number, "pdf": pdf, "path": path, "trusted": trusted}


def test_pdf_shows_the_certificate_fields_in_chinese(certificate: dict[str, Any]) -> None:
    text = subprocess.run(["pdftotext", "-layout", str(certificate["path"]), "-"], capture_output=True, text=True,
                          check=True).stdout
    for expected in ("数据资产登记证书", certificate["number"], "天津港数据科技有限公司", "港口集装箱物流数据集",
                     "数据资源持有权", "数据加工使用权", "数据产品经营权", "天津数据资产登记平台",
                     "物流调度、航运金融"):
        assert expected in text, expected


def test_qr_code_opens_the_verify_page_for_the_document(certificate: dict[str, Any], tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(certificate["path"]), str(tmp_path / "page")], check=True)
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "page-1.png")], capture_output=True,
                             text=True).stdout.strip()
    document, _ = embedded(certificate["pdf"])
    assert decoded == f"{BASE}/verify/{to_hex(digest_bytes(canonical_json(document)))}"


def test_pdf_alone_verifies_and_embeds_what_the_chain_holds(chain: Ledger, certificate: dict[str, Any]) -> None:
    checks = verify_pdf(certificate["pdf"], certificate["trusted"], threshold=2)
    assert all(c.ok for c in checks), checks
    assert [c.name for c in checks][-1] == "PDF integrity"
    document, bundle = embedded(certificate["pdf"])
    from ledger.numbering import unit_id

    on_chain = chain.assets.unit(unit_id(certificate["number"]))["certificate_hash"]
    assert digest_bytes(canonical_json(document)) == on_chain
    assert bundle is not None and "天津市第一中级人民法院" in str(bundle["extraction_record"])


def test_any_changed_byte_is_rejected(certificate: dict[str, Any]) -> None:
    pdf: bytes = certificate["pdf"]
    for position in [*range(0, len(pdf), max(1, len(pdf) // 60)), len(pdf) - 1]:
        altered = bytearray(pdf)
        altered[position] ^= 0x01
        checks = verify_pdf(bytes(altered), certificate["trusted"], threshold=2)
        assert not all(c.ok for c in checks), position


def test_one_command_offline(certificate: dict[str, Any], tmp_path: Path) -> None:
    command = [sys.executable, "-m", "ledger", "proof", "verify", str(certificate["path"]),
               "--trust", ",".join(certificate["trusted"]), "--threshold", "2"]
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        command = ["unshare", "-n", *command]
    env = {**os.environ, "LEDGER_HOME": str(tmp_path / "nothing"), "LEDGER_RPC_URL": "http://127.0.0.1:9"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and "VERIFIED: every check passed" in done.stdout, done.stdout + done.stderr
    copy = tmp_path / "copy.pdf"
    altered = bytearray(certificate["pdf"])
    altered[len(altered) // 3] ^= 0x20
    copy.write_bytes(bytes(altered))
    command[command.index(str(certificate["path"]))] = str(copy)
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and "NOT VERIFIED" in done.stdout


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
    from ledger.pdf import render_pdf

    document, bundle = embedded(certificate["pdf"])
    shuffled = dict(reversed(list(document.items())))
    assert render_pdf(shuffled, bundle) == render_pdf(document, bundle) == certificate["pdf"]
