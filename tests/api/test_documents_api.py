"""Documents as files (issue #11 §5), over HTTP and the CLI, on a real chain and both databases: the certificate,
the rights page, the evidence report, the cancellation proof and the supplementary notice as PDFs that verify
offline — the holder prints its own (TJIFA §6.3.4), the public only the certificate, every other role as
REGISTRATION_RULES §6.2 says, refusals with stable codes — and the dispute evidence package a court downloads with
its legal document (TJIFA §9.2, App. 4): it verifies offline with `ledger proof verify`, a changed byte fails it,
and the access log shows the request."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from api.main import create_app
from ledger.context import Ledger
from ledger.indexer.sync import wait_for
from ledger.models import AccessLogEntry
from ledger.pdf import embedded, inspect_pdf
from ledger.proofs.dispute import CERTIFICATE, EXTRACTION, MANIFEST, inspect_package
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import Verdict
from ledger.services.access import verify_access_log
from ledger.services.proofs import trust_list
from ledger.tokens import create_token
from tests.conftest import start_chain
from tests.content import USCC

pytestmark = [pytest.mark.chain, pytest.mark.slow]
ROLES = ("registrar", "holder-a", "holder-b", "bank", "exchange", "court", "outsider", "auditor")
ORDER_TEXT = "(2024)津0116民初1号 调查令".encode()
ORDER = "0x" + hashlib.sha256(ORDER_TEXT).hexdigest()
REFERENCE = "(2024)津0116民初1号"
ARTEFACTS = Path(__file__).resolve().parents[2] / "build" / "documents"  # kept for a look (CI artefacts)


def digest() -> str:
    return "0x" + os.urandom(32).hex()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("documents-home")
    settings, node, _ = start_chain(home)
    served = Ledger(settings.model_copy(update={"duties_interval": 0, "checkpoint_interval": 0,
                                                "access_anchor_interval": 0, "database_url": database_url}))
    today = [date(2024, 9, 27)]
    served.workflow.clock = lambda: today[0]
    tokens = {n: create_token(served.engine, served.accounts, n, f"d-{n}-{os.urandom(4).hex()}") for n in ROLES}
    headers = {n: {"Authorization": f"Bearer {t}"} for n, t in tokens.items()}
    application = {"profile": "TJIFA", "holder": "holder-a", "object_type": "data_asset",
                   "holder_identity": {"legal_name": "天津某数据科技有限公司", "uscc": USCC},
                   "asset": {"name": "港口集装箱物流数据集", "form": "dataset", "acquisition": "original",
                             "update_cycle": "daily", "scenarios": ["物流调度"], "scope": "仅限本省使用"}}
    with TestClient(create_app(ledger=served)) as client:
        def post(who: str, path: str, body: dict[str, Any] | None = None, expect: int = 200) -> dict[str, Any]:
            reply = client.post(path, json=body or {}, headers=headers[who])
            assert reply.status_code == expect, f"{path}: {reply.status_code} {reply.text}"
            result: dict[str, Any] = reply.json()
            return result

        def register(name: str) -> str:
            today[0] = date(2024, 9, 27)
            app = post("holder-a", "/applications", {**application, "asset": {**application["asset"], "name": name}},
                       expect=201)
            for step in ("accept", "approve", "notice"):
                post("registrar", f"/applications/{app['id']}/{step}")
            today[0] = date(2024, 10, 9)
            return str(post("registrar", f"/applications/{app['id']}/register")["registration_number"])

        number = register("港口集装箱物流数据集")
        post("registrar", f"/registrations/{number}/pledges",
             {"counterparty": "bank", "rights": ["holding"], "document_hash": digest()}, expect=201)
        cancelled = register("已注销的数据集")
        filed = post("registrar", f"/registrations/{cancelled}/cancellations", {"document_hash": digest()},
                     expect=201)
        if filed["waiting_for"] == "notice":  # after its public notice (TJIFA §8.1)
            today[0] = date.fromisoformat(filed["notice_end"]) + timedelta(days=1)
            filed = post("registrar", f"/applications/{filed['id']}/register")
        assert filed["state"] == "registered", filed
        supplement = post("holder-a", "/applications", {**application, "asset": {**application["asset"],
                                                                                  "name": "待补正的数据集"}},
                          expect=201)
        post("registrar", f"/applications/{supplement['id']}/accept")
        post("registrar", f"/applications/{supplement['id']}/review",
             {"decision": "supplement", "reason": "补充数据来源说明; 补充脱敏处理报告"})
        plain = post("holder-a", "/applications", {**application, "asset": {**application["asset"],
                                                                             "name": "无补正的数据集"}}, expect=201)
        wait_for(served.indexer, served.client.block_number())
        trust = home / "trust-list.json"
        trust.write_text(json.dumps(trust_list(served).model_dump(mode="json")), encoding="utf-8")
        yield {"client": client, "ledger": served, "headers": headers, "number": number, "cancelled": cancelled,
               "supplement": supplement["id"], "plain": plain["id"], "trust": trust, "home": home,
               "database_url": database_url}
    node.stop()


def court(reference: bool = True) -> dict[str, str]:
    return {"X-Legal-Document": ORDER, "X-Legal-Reference": quote(REFERENCE)} if reference else {}


def fetch(world: dict[str, Any], path: str, who: str | None, extra: dict[str, str] | None = None) -> Any:
    headers = {**(world["headers"][who] if who else {}), **(extra or {})}
    return world["client"].post(path, headers=headers)


def verified(world: dict[str, Any], pdf: bytes) -> dict[str, Any]:
    """The PDF verifies offline against the platform's trust list; its document."""
    roots = TrustRoots.of_list(trust_list(world["ledger"]))
    found = inspect_pdf(pdf, roots)
    assert found.verdict is Verdict.VERIFIED, [c for c in found.checks if not c.ok]
    document, _ = embedded(pdf)
    return document


def text_of(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / name).write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_the_certificate_pdf_is_for_whom_may_read_the_unit(world: dict[str, Any], tmp_path: Path) -> None:
    """Its content is publishable (its QR page shows it), but the PDF's court bundle proves the unit's whole
    registry state — pledgees, contract hashes — which REGISTRATION_RULES §6.2 keeps from the public."""
    public = fetch(world, f"/registrations/{world['number']}/documents/certificate", None)
    assert public.status_code == 401 and public.json()["error"]["code"] == "unauthorized"
    reply = fetch(world, f"/registrations/{world['number']}/documents/certificate", "holder-a")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/pdf"
    assert f'filename="{world["number"]}.certificate.pdf"' in reply.headers["content-disposition"]
    document = verified(world, reply.content)
    assert document["registration_number"] == world["number"]
    assert "港口集装箱物流数据集" in text_of(reply.content, tmp_path, "certificate.pdf")


def test_the_rights_page_by_role(world: dict[str, Any], tmp_path: Path) -> None:
    """The holder prints its own; the registry, a bank, an exchange and a court with its document read it; the
    public is asked to sign in (401); an account without standing and a court without its document are refused."""
    path = f"/registrations/{world['number']}/documents/rights-page"
    basis = {"X-Access-Basis": "pledge-check-2026-0042"}
    allowed = {"holder-a": {}, "registrar": {}, "bank": basis, "exchange": basis, "court": court()}
    refused = {None: (401, "unauthorized"), "outsider": (403, "forbidden"), "holder-b": (403, "forbidden"),
               "auditor": (403, "forbidden")}
    for who, (status, code) in refused.items():
        reply = fetch(world, path, who)
        assert (reply.status_code, reply.json()["error"]["code"]) == (status, code), who
    no_document = fetch(world, path, "court")
    assert no_document.status_code == 403 and "X-Legal-Document" in no_document.json()["error"]["message"]
    for who, extra in allowed.items():
        reply = fetch(world, path, who, extra)
        assert reply.status_code == 200, (who, reply.text)
        page = verified(world, reply.content)
        assert page["schema"] == "ledger.rights-page/1" and page["registration_number"] == world["number"]
        assert [(e["kind"], e["counterparty"]) for e in page["entries"]] == [
            ("pledge", world["ledger"].accounts.get("bank").address)]
    text = text_of(reply.content, tmp_path, "rights-page.pdf")
    assert "他项权益页" in text and "权益编号 Entry No. 1" in text and "质押 pledge" in text


def test_the_evidence_report(world: dict[str, Any], tmp_path: Path) -> None:
    path = f"/registrations/{world['number']}/documents/evidence-report"
    assert fetch(world, path, None).status_code == 401
    assert fetch(world, path, "outsider").status_code == 403
    first = fetch(world, path, "holder-a")
    assert first.status_code == 200
    report = verified(world, first.content)
    certificate = world["client"].get(f"/registrations/{world['number']}", headers=world["headers"]["holder-a"]).json()
    assert report["schema"] == "ledger.evidence-report/1"
    assert report["digests"][0]["digest"] == certificate["certificate_hash"]  # the certificate's own anchoring
    again = verified(world, fetch(world, path, "registrar").content)
    assert again == report  # the same report each time (anchored once)
    assert "存证报告书" in text_of(first.content, tmp_path, "evidence-report.pdf")


def test_the_cancellation_proof(world: dict[str, Any], tmp_path: Path) -> None:
    path = f"/registrations/{world['cancelled']}/documents/cancellation-proof"
    assert fetch(world, path, None).status_code == 401
    assert fetch(world, path, "holder-b").status_code == 403
    reply = fetch(world, path, "holder-a")
    assert reply.status_code == 200, reply.text
    proof = verified(world, reply.content)
    assert proof["schema"] == "ledger.cancellation-proof/1" and proof["registration_number"] == world["cancelled"]
    assert proof["ground"] == "holder"
    assert "注销证明" in text_of(reply.content, tmp_path, "cancellation-proof.pdf")
    active = fetch(world, f"/registrations/{world['number']}/documents/cancellation-proof", "holder-a")
    assert active.status_code == 404 and "not cancelled" in active.json()["error"]["message"]
    # the read was logged before the document could not be made: the log says it was not delivered
    with Session(world["ledger"].engine) as session:
        last = session.exec(select(AccessLogEntry).order_by(col(AccessLogEntry.seq).desc())).first()
    assert last is not None and last.action == "document:cancellation-proof:not_delivered"
    assert last.subject.startswith(world["number"]) and "not_found" in last.subject
    unknown = fetch(world, f"/registrations/{world['number']}/documents/licence", "holder-a")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "not_found")
    bad = fetch(world, "/registrations/not-a-number/documents/certificate", None)
    assert 400 <= bad.status_code < 500


def test_the_supplementary_notice(world: dict[str, Any], tmp_path: Path) -> None:
    path = f"/applications/{world['supplement']}/documents/supplement-notice"
    assert fetch(world, path, None).status_code == 401
    for who in ("holder-b", "bank", "outsider"):
        assert fetch(world, path, who).status_code == 403, who
    for who in ("holder-a", "registrar"):
        reply = fetch(world, path, who)
        assert reply.status_code == 200, reply.text
        notice = verified(world, reply.content)
    assert notice["schema"] == "ledger.supplementary-notice/1" and notice["application_id"] == world["supplement"]
    assert notice["deficiencies"] == ["补充数据来源说明", "补充脱敏处理报告"]
    assert "补充登记通知" in text_of(reply.content, tmp_path, "supplement-notice.pdf")
    none = fetch(world, f"/applications/{world['plain']}/documents/supplement-notice", "holder-a")
    assert none.status_code == 404 and "no supplement request" in none.json()["error"]["message"]


def verify_cli(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`ledger proof verify`, offline: no LEDGER_HOME with a chain, no RPC, no database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    return subprocess.run([sys.executable, "-m", "ledger", "proof", "verify", str(path), *args], capture_output=True,
                          text=True, env={**env, "LEDGER_HOME": str(path.parent / "no-home")}, timeout=300)


def test_a_court_downloads_a_dispute_package_that_verifies_offline(world: dict[str, Any], tmp_path: Path) -> None:
    path = f"/registrations/{world['number']}/dispute-package"
    client, ledger = world["client"], world["ledger"]
    assert client.post(path).status_code == 401
    for who in ("holder-a", "bank", "outsider"):
        refused = client.post(path, headers={**world["headers"][who], **court()})
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden"), who
    no_document = client.post(path, headers=world["headers"]["court"])
    assert no_document.status_code == 403 and "legal document" in no_document.json()["error"]["message"]
    reply = client.post(path, headers={**world["headers"]["court"], **court()})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/pdf"
    seq = int(reply.headers["x-access-log-seq"])
    package = tmp_path / "package.pdf"
    package.write_bytes(reply.content)

    found = inspect_package(reply.content, TrustRoots.of_list(trust_list(ledger)))
    assert found.verdict is Verdict.VERIFIED, [c for c in found.checks if not c.ok]
    names = [c.name for c in found.checks]
    for name in ("package format", "package manifest", "package anchor: bundle seal", "registry status",
                 "court bundle", "evidence report", "evidence report: PDF integrity", "extraction record",
                 "package integrity"):
        assert name in names, name
    from pypdf import PdfReader  # the embedded files, as a court's tools see them

    files = {n: c[0] for n, c in PdfReader(package).attachments.items()}
    manifest = json.loads(files[MANIFEST])
    record = json.loads(files[EXTRACTION])
    assert manifest["request"]["legal_document_sha256"] == ORDER and manifest["request"]["legal_reference"] == REFERENCE
    assert manifest["access_log"]["seq"] == seq and record["access_log"] == manifest["access_log"]
    assert record["participants"]["requester"]["account"] == "court"
    assert record["network"]["requester_address"] and record["network"]["rpc_endpoint"]
    assert record["times"]["requested_at"] and record["conclusion"].startswith("VERIFIED")
    assert embedded(files[CERTIFICATE])[0]["registration_number"] == world["number"]
    cover = text_of(reply.content, tmp_path, "dispute-package.pdf")
    assert "司法存证包" in cover and REFERENCE in cover and "extraction-record.json" in cover

    entries = client.get("/access-log?limit=500", headers=world["headers"]["auditor"]).json()["data"]
    mine = next(e for e in entries if e["seq"] == seq)
    assert (mine["principal"], mine["action"], mine["subject"]) == ("court", "dispute_package", world["number"])
    assert mine["legal_document_hash"] == ORDER and REFERENCE in mine["legal_basis"]
    assert verify_access_log(ledger).intact

    # offline: the CLI accepts it with the trust list; without trust roots, integrity only; a changed byte fails
    ok = verify_cli(package, "--trust", str(world["trust"]))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "VERIFIED" in ok.stdout and "package manifest" in ok.stdout
    assert verify_cli(package).returncode == 3
    data = bytearray(reply.content)
    for position in (len(data) // 3, len(data) - 200):  # inside an embedded file's stream, and the trailer area
        changed = bytearray(data)
        changed[position] ^= 0x01
        altered = tmp_path / f"altered-{position}.pdf"
        altered.write_bytes(bytes(changed))
        failed = verify_cli(altered, "--trust", str(world["trust"]))
        assert failed.returncode == 1, (position, failed.stdout[-2000:])
        assert "NOT VERIFIED" in failed.stdout


def cli(world: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    ledger = world["ledger"]
    env = {**os.environ, "LEDGER_HOME": str(ledger.settings.home), "LEDGER_RPC_URL": ledger.client.rpc_url,
           "LEDGER_DATABASE_URL": world["database_url"], "LEDGER_CHECKPOINT_INTERVAL": "0"}
    return subprocess.run([sys.executable, "-m", "ledger", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_the_cli_issues_documents_and_a_dispute_package(world: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "rights.pdf"
    done = cli(world, "registry", "document", "rights-page", world["number"], "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert verified(world, out.read_bytes())["schema"] == "ledger.rights-page/1"
    notice = tmp_path / "notice.pdf"
    done = cli(world, "registry", "document", "supplement-notice", world["supplement"], "--out", str(notice))
    assert done.returncode == 0, done.stdout + done.stderr
    order = tmp_path / "order.txt"
    order.write_bytes(ORDER_TEXT)
    package = tmp_path / "package.pdf"
    done = cli(world, "registry", "dispute-package", world["number"], "--legal-document", str(order),
               "--legal-reference", REFERENCE, "--out", str(package))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "access-log entry" in done.stdout
    checked = verify_cli(package, "--trust", str(world["trust"]))
    assert checked.returncode == 0, checked.stdout
    refused = cli(world, "registry", "document", "rights-page", world["number"][:-1] + "X")
    assert refused.returncode != 0


def test_the_court_page_makes_a_package_with_a_posted_token(world: dict[str, Any]) -> None:
    """The court page (issue #12 §4): the token travels in the form body; the answer holds the package and the
    access-log entry it wrote, and is not cached; a bad token or a missing legal document is refused in the page."""
    client = world["client"]
    token = world["headers"]["court"]["Authorization"].removeprefix("Bearer ")
    form = {"token": token, "number": world["number"], "legal_reference": REFERENCE}
    page = client.get("/court")
    assert page.status_code == 200 and 'type="password"' in page.text and 'name="token"' in page.text
    refused = client.post("/court/packages", data={**form, "token": "wrong"},
                          files={"legal_document": ("order.txt", ORDER_TEXT, "text/plain")})
    assert refused.status_code == 401 and 'data-state="refused"' in refused.text
    missing = client.post("/court/packages", data=form)
    assert missing.status_code == 422 and "legal document" in missing.text
    made = client.post("/court/packages", data=form,
                       files={"legal_document": ("order.txt", ORDER_TEXT, "text/plain")})
    assert made.status_code == 200, made.text
    assert made.headers["cache-control"] == "no-store"
    assert 'data-state="package-made"' in made.text and ORDER in made.text and "dispute_package" in made.text
    assert "data:application/pdf;base64," in made.text
