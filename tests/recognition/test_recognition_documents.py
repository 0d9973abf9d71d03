"""Mutual recognition without a chain: the recognised certificate (``ledger.certificate/3``) and its reissues, the
printed "recognised from" rows, the profile rule that waives review, the trusted-peers directory, and packages that
are not packages."""

from __future__ import annotations

import json
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ledger.chain.node import free_port
from ledger.document_schemas import validate_document
from ledger.documents import certificate, document_hash, reissue
from ledger.errors import ConfigurationError, LedgerValueError
from ledger.hashing import canonical_json, to_hex
from ledger.lifecycle import Right
from ledger.pdf import render_pdf
from ledger.profiles import ObjectType, load_profiles
from ledger.proofs.recognition import PACKAGE_FORMAT, inspect_package, load_peers, peer_for
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import Verdict
from tests.content import content
from tests.workflow.test_profiles import HAINAN

DIGEST = "0x" + "cd" * 32
HOLDER = "0x" + "a1" * 20
SOURCE: dict[str, Any] = {
    "platform": "天津数据资产登记平台", "trust_list_sha256": DIGEST, "registration_number": "TJ-2025-000007-3",
    "certificate_sha256": DIGEST, "certificate_version": 2, "proven_at_block": 1234, "package_sha256": DIGEST,
    "review_waived": True, "rule": "TJIFA §6.4.1.4",
}
TRUST_LIST: dict[str, Any] = {
    "format": "ledger.trust-list/1", "platform": "天津数据资产登记平台", "chain_id": 31337, "genesis_hash": DIGEST,
    "contracts": {"EvidenceRegistry": HOLDER}, "consensus": "checkpoint", "threshold": 1,
    "authorities": [{"address": HOLDER, "name": "公证处", "kind": "notary"}],
}


def recognised_certificate(**source: Any) -> dict[str, Any]:
    return certificate(content=content(), title="数据资产确权证书", registration_number="SZ-2025-000001-7",
                       jurisdiction="SZ", registry_name="深圳数据产权登记平台", holder_account=HOLDER,
                       object_type=ObjectType.DATA_ASSET, rights=int(Right.ALL), issued_on=date(2025, 3, 3),
                       valid_until=None, validity_basis="no expiry (SZ)", recognised_from={**SOURCE, **source})


def test_a_recognised_certificate_is_v3_and_its_reissues_keep_where_it_came_from() -> None:
    first = recognised_certificate()
    assert validate_document(first)["schema"] == "ledger.certificate/3"
    assert first["recognised_from"] == SOURCE
    plain = {k: v for k, v in first.items() if k != "recognised_from"} | {"schema": "ledger.certificate/2"}
    assert validate_document(plain)  # everything else is the /2 content
    with pytest.raises(LedgerValueError, match="recognition record is invalid: registration_number"):
        recognised_certificate(registration_number="not a number")
    with pytest.raises(LedgerValueError, match=r"ledger\.certificate/3 document is invalid: recognised_from"):
        validate_document({**first, "recognised_from": None})
    second = reissue(first, changes={"asset": {"name": "新名称"}}, version=2, issued_on=date(2025, 6, 1),
                     valid_until=None)
    assert second["schema"] == "ledger.certificate/3" and second["recognised_from"] == SOURCE
    assert second["supersedes"] == to_hex(document_hash(first)) and second["asset"]["name"] == "新名称"
    with pytest.raises(LedgerValueError, match="cannot change recognised_from"):
        reissue(first, changes={"recognised_from": {"platform": "x"}}, version=2, issued_on=date(2025, 6, 1),
                valid_until=None)


def test_the_printed_certificate_says_where_it_was_recognised_from(tmp_path: Path) -> None:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(render_pdf(recognised_certificate()))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    for expected in ("互认来源 Recognised from", "天津数据资产登记平台", "TJ-2025-000007-3", "certificate version 2",
                     "verified at source block 1234", "免于审核 waived on the verified package (TJIFA §6.4.1.4)"):
        assert expected in text, expected
    path.write_bytes(render_pdf(recognised_certificate(review_waived=False)))
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "已审核 reviewed under this platform's rules" in text


def test_only_tjifa_waives_review_and_only_where_the_chain_asks_no_report(tmp_path: Path) -> None:
    profiles = load_profiles()
    assert [code for code, p in profiles.items() if p.recognition_waives_review] == ["TJIFA"]
    assert any("§6.4.1.4" in source for source in profiles["TJIFA"].sources)
    (tmp_path / "hi.json").write_text(json.dumps({**HAINAN, "recognition_waives_review": True}))
    assert load_profiles(tmp_path)["HI"].recognition_waives_review
    (tmp_path / "hi.json").write_text(json.dumps({**HAINAN, "recognition_waives_review": True,
                                                  "requires_review": True}))
    with pytest.raises(ConfigurationError, match="recognition_waives_review: the chain requires"):
        load_profiles(tmp_path)


def test_trusted_peers_come_from_the_peers_directory(tmp_path: Path) -> None:
    assert load_peers(tmp_path / "none") == []
    (tmp_path / "tianjin.json").write_text(json.dumps(TRUST_LIST))
    rpc = f"http://127.0.0.1:{free_port()}"  # only read back, never dialled: still no fixed port
    (tmp_path / "tianjin.rpc").write_text(rpc + "\n")
    (tmp_path / "notes.txt").write_text("not a peer")
    [peer] = load_peers(tmp_path)
    assert (peer.name, peer.rpc_url, peer.tsa_roots) == ("tianjin", rpc, ())
    assert peer.fingerprint == to_hex(document_hash(TRUST_LIST))
    chain = {"chain_id": 31337, "genesis_hash": DIGEST.upper().replace("0X", "0x")}
    assert peer_for({"parts": {"certificate_bundle": {"chain": chain}}}, [peer]) is peer
    assert peer_for({"parts": {"certificate_bundle": {"chain": {**chain, "chain_id": 1}}}}, [peer]) is None
    assert peer_for({"parts": "nothing"}, [peer]) is None
    (tmp_path / "broken.json").write_text(json.dumps({**TRUST_LIST, "threshold": 0}))
    with pytest.raises(LedgerValueError, match=r"broken\.json"):
        load_peers(tmp_path)


@pytest.mark.parametrize(("raw", "detail"), [
    (b"\xff not json", "not JSON"),
    (b"[]", "is not a ledger.recognition-package/1"),
    (json.dumps({"format": PACKAGE_FORMAT}, indent=1).encode(), "not in its one canonical spelling"),
    (canonical_json({"format": PACKAGE_FORMAT, "parts": {}, "manifest": {}}), "it must hold exactly"),
    (canonical_json({"format": PACKAGE_FORMAT, "parts": {"certificate": {}, "x": {}}, "manifest": {},
                     "platform": "p", "registration_number": "n", "seal": {}}), "no certificate_bundle"),
])
def test_what_is_not_a_package_fails_its_format_check(raw: bytes, detail: str) -> None:
    found = inspect_package(raw, TrustRoots.of_addresses([HOLDER]))
    assert found.verdict is Verdict.FAILED and [c.name for c in found.checks] == ["package format"]
    assert detail in found.checks[0].detail
    assert (found.refusal() or "").startswith("package format failed: ")
