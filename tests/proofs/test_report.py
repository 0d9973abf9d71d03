"""Issue #13 §3: the verification report (核验报告) for a judge — Chinese first, each check in plain words, the
authorities and their kinds, the trusted time, the algorithms, the verifier's version and hash, and the Online
Litigation Rules art. 16–17 review factors; byte for byte the same from the same inputs.

Done when: the verification report of a genuine bundle renders identically twice."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.context import Ledger
from ledger.devtsa import TsaInfo
from ledger.pdf import attachments
from ledger.proofs.bundle import write_bundle
from ledger.proofs.report import make_report, verifier_identity
from ledger.services.documents import certificate_bundle, certificate_pdf
from ledger.services.proofs import trust_list
from tests.proofs.test_state_proofs import BASE

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def inputs(stamped: Ledger, unit: dict[str, Any], tsa: TsaInfo,
           tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("report")
    _, bundle = certificate_bundle(stamped, unit["number"], BASE, "天津市第一中级人民法院", timestamp=True)
    write_bundle(bundle, folder / "certificate.bundle.json")
    (folder / "certificate.pdf").write_bytes(certificate_pdf(stamped, unit["number"], BASE))
    (folder / "trust-list.json").write_text(json.dumps(trust_list(stamped).model_dump(mode="json"),
                                                       ensure_ascii=False))
    (folder / "tsa-root.pem").write_bytes(Path(tsa.root).read_bytes())
    return {"bundle": folder / "certificate.bundle.json", "pdf": folder / "certificate.pdf",
            "trust": folder / "trust-list.json", "root": folder / "tsa-root.pem", "folder": folder}


def _cli_report(inputs: dict[str, Path], out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger", "proof", "report", str(inputs["bundle"]), "--trust",
                           str(inputs["trust"]), "--tsa-root", str(inputs["root"]), "--out", str(out), *extra],
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, "LEDGER_HOME": str(inputs["folder"] / "no-home")})


def test_the_report_of_a_genuine_bundle_renders_identically_twice(inputs: dict[str, Path], tmp_path: Path) -> None:
    """Done when (issue #13 §3): twice in one process, and twice from the command line (two processes)."""
    first = make_report(inputs["bundle"], trust_spec=str(inputs["trust"]), tsa_root=inputs["root"])
    second = make_report(inputs["bundle"], trust_spec=str(inputs["trust"]), tsa_root=inputs["root"])
    assert first.pdf == second.pdf and first.json == second.json
    for name in ("a", "b"):
        done = _cli_report(inputs, tmp_path / f"{name}.pdf")
        assert done.returncode == 0 and "核验通过 VERIFIED" in done.stdout, done.stdout + done.stderr
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes() == first.pdf
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes() == first.json
    assert attachments(first.pdf)["report.json"] == first.json


def test_the_report_says_what_a_judge_needs(inputs: dict[str, Path]) -> None:
    report = make_report(inputs["bundle"], trust_spec=str(inputs["trust"]), tsa_root=inputs["root"]).content
    assert report["title"]["zh"] == "电子数据核验报告" and report["verdict"]["zh"] == "核验通过"
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["rights page"]["zh"] == "他项权益" and checks["state proof"]["result_words"] == "通过 PASS"
    assert all(c["meaning_zh"] and c["meaning_en"] for c in report["checks"])
    kinds = {a["kind"] for a in report["authorities"]}
    assert {"notary", "arbitration", "time_service", "tsa"} <= kinds
    assert all(a["trusted"] for a in report["authorities"])
    assert report["trusted_time"] and all(t["status"] == "verified" for t in report["trusted_time"])
    assert report["registry_state"]["status"] == "active" and report["registry_state"]["lines"]
    algorithms = " ".join(a["algorithm"] for a in report["algorithms"])
    assert "SHA-256" in algorithms and "secp256k1" in algorithms and "RFC 3161" in algorithms
    verifier = report["verifier"]
    assert verifier["sha256"] == verifier_identity()["sha256"] and verifier["version"]
    modules = {m["module"] for m in verifier["modules"]}
    assert {"ledger.proofs.verify", "ledger.proofs.state", "ledger.proofs.timestamps", "ledger.pdf"} <= modules
    assert not any(m.startswith(("ledger.chain", "ledger.services", "ledger.workflow")) for m in modules)
    articles = [item["article"] for item in report["legal_review"]]
    assert articles[0].startswith("第十六条") and [a.split(" ")[0] for a in articles[1:]] == [
        "第十七条第（一）项", "第十七条第（二）项", "第十七条第（三）项", "第十七条第（四）项"]
    assert "技术核验一致" in report["legal_review"][0]["finding"]
    assert "超出本程序的核验范围" in report["legal_review"][3]["finding"]  # honest about what it cannot check
    assert "extracted_at" not in json.dumps(report)  # no clock reading of its own


def test_the_pdf_renders_in_chinese(inputs: dict[str, Path], tmp_path: Path) -> None:
    report = make_report(inputs["pdf"], trust_spec=str(inputs["trust"]), tsa_root=inputs["root"])
    path = tmp_path / "report.pdf"
    path.write_bytes(report.pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    for expected in ("电子数据核验报告", "核验结论", "逐项核验", "他项权益", "签名机构", "可信时间", "核验程序",
                     "第十六条", "第十七条", "公证机构 notary", "仲裁机构 arbitration", "授时机构 time service",
                     "PDF 完整性"):
        assert expected in text, expected
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "WenQuanYiMicroHei" in fonts  # the CJK font is embedded
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
                   check=True)
    assert (tmp_path / "page-1.png").stat().st_size > 10_000  # a rendered page, not a blank one


def test_reports_of_what_should_not_be_relied_on(stamped: Ledger, inputs: dict[str, Path], tmp_path: Path) -> None:
    bundle = json.loads(inputs["bundle"].read_bytes())
    tampered = copy.deepcopy(bundle)
    tampered["registry_state"]["values"][1] = "0x1"
    path = tmp_path / "tampered.json"
    write_bundle(tampered, path)
    report = make_report(path, trust_spec=str(inputs["trust"]), tsa_root=inputs["root"]).content
    assert report["verdict"]["zh"] == "核验未通过" and report["verdict"]["exit_code"] == 1
    assert "未通过" in report["legal_review"][0]["finding"]
    alone = make_report(inputs["bundle"]).content  # no trust roots, no TSA root
    assert alone["verdict"]["en"].startswith("INTEGRITY ONLY")
    assert all(t["status"] == "unverified" for t in alone["trusted_time"])
    assert {c["result"] for c in alone["checks"] if c["name"] == "trusted time"} == {"unverified"}
    assert "未提供信任根" in alone["legal_review"][0]["finding"]
