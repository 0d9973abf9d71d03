"""Issue #13 §4, mutual recognition (互认, TJIFA §6.4.1.4) between two platforms on two Anvil nodes.

Done when: a registration exported from platform A is imported into platform B and appears there with its source;
a tampered package is refused with the failing check named. Also: a package from a platform B does not trust is
refused, and so is one proving a registration that is not valid now (cancelled, superseded, under objection,
expired, or proven too long ago)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from api.main import create_app
from ledger.context import Ledger
from ledger.document_schemas import validate_document
from ledger.errors import ForbiddenError, RecognitionRefused, WorkflowError
from ledger.filings import FilingRefused
from ledger.hashing import canonical_json, digest_bytes, to_hex
from ledger.lifecycle import UnitStatus
from ledger.models import Application, StoredDocument
from ledger.numbering import unit_id
from ledger.pdf import inspect_pdf
from ledger.profiles import ObjectType
from ledger.proofs.recognition import (
    CERTIFICATE,
    CERTIFICATE_BUNDLE,
    EVIDENCE_REPORT,
    evidence_part,
    part_hash,
    seal_text,
)
from ledger.proofs.signatures import personal_message_hash
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import Verdict
from ledger.services import registrations
from ledger.services.access import OPERATOR
from ledger.services.applications import register_objection
from ledger.services.documents import certificate_pdf
from ledger.services.proofs import trust_list
from ledger.services.recognition import (
    add_peer,
    export_package,
    import_package,
    recognised,
    recognised_from,
    verify_package,
)
from ledger.services.schemas import ObjectionRegistrationCreate
from ledger.tokens import create_token
from ledger.workflow import State
from tests.content import content
from tests.recognition.conftest import PLATFORM_A, PLATFORM_B, Platform

pytestmark = pytest.mark.chain
BASE = "http://127.0.0.1:8000"
DAY = 86_400


@pytest.fixture(scope="module")
def package(platforms: tuple[Platform, Platform]) -> dict[str, Any]:
    """A registration on A that cites a filed declaration, exported for recognition."""
    a, _ = platforms
    declaration = digest_bytes(b"rights-and-security declaration (TJIFA App. 2) " + os.urandom(8))
    number = a.register("港口集装箱物流数据集", evidence=declaration)
    made = export_package(a.ledger, number, requested_by=PLATFORM_B)
    return {"number": number, "data": made.data, "made": made, "declaration": to_hex(declaration)}


def _applications(ledger: Ledger) -> int:
    with Session(ledger.engine) as session:
        return int(session.exec(select(func.count()).select_from(Application)).one())


def _later(platform: Platform, days: int = 30) -> Ledger:
    """The platform's ledger with its calendar ``days`` on (a public notice has ended)."""
    return Ledger(platform.ledger.settings.model_copy(update={"today": date.today() + timedelta(days=days)}))


def _refused(b: Ledger, data: bytes, **options: Any) -> RecognitionRefused:
    before = _applications(b)
    with pytest.raises(RecognitionRefused) as caught:
        import_package(b, data, **options)
    assert _applications(b) == before  # nothing filed
    assert caught.value.user_message.startswith("refused: ")
    return caught.value


def _rewrite(data: bytes, change: Callable[[dict[str, Any]], None], sealer: Any = None) -> bytes:
    """``data`` with ``change`` applied to its parts, the manifest recomputed to match — and re-sealed by ``sealer``."""
    package = json.loads(data)
    change(package["parts"])
    package["manifest"] = {name: part_hash(part) for name, part in package["parts"].items()}
    if sealer is not None:
        signature = Account.unsafe_sign_hash(personal_message_hash(seal_text(package)), sealer.key).signature
        package["seal"] = {"signer": sealer.address, "signature": to_hex(bytes(signature))}
    return canonical_json(package)


def test_a_registration_exported_from_a_appears_on_b_with_its_source(
        platforms: tuple[Platform, Platform], package: dict[str, Any], tmp_path: Path) -> None:
    """Done when (issue #13 §4): exported from A, imported into B, review waived (TJIFA §6.4.1.4), registered after
    B's public notice — and shown on B with the source platform, the source number and the package hash."""
    a, b = platforms
    data, number_a = package["data"], package["number"]
    assert package["made"].verification.verdict is Verdict.VERIFIED  # as A's own trust list sees it
    assert canonical_json(json.loads(data)) == data  # one canonical spelling: the file's SHA-256 names it
    parts = json.loads(data)["parts"]
    assert set(parts) == {CERTIFICATE, CERTIFICATE_BUNDLE, EVIDENCE_REPORT, evidence_part(package["declaration"])}
    assert parts[EVIDENCE_REPORT]["anchor"]["tx_hash"] == parts[CERTIFICATE_BUNDLE]["anchor"]["tx_hash"]

    done = import_package(b.ledger, data)
    app = done.application
    assert done.verification.verdict is Verdict.VERIFIED and done.waiting_for == "notice"
    times = [c for c in done.verification.checks if c.name == "trusted time"]  # A's TSA root, as B configured it
    assert times and all(c.ok for c in times), times
    assert app.state == State.IN_PUBLIC_NOTICE and app.holder == "holder-a" and app.profile == "TJIFA"
    assert app.document_hash == package["made"].sha256  # the package is the filing's governing document
    steps = [e.action for e in b.ledger.workflow.history(app.id)]
    assert steps == ["submit", "accept", "waive_review", "start_notice"]  # no review: waived on the package
    waived = next(e for e in b.ledger.workflow.history(app.id) if e.action == "waive_review")
    assert "TJIFA §6.4.1.4" in waived.note and waived.document_hash == package["made"].sha256
    source = done.source
    assert (source.platform, source.registration_number, source.package_sha256) == (
        PLATFORM_A, number_a, package["made"].sha256)
    assert source.trust_list_sha256 == trust_list(a.ledger).fingerprint() and source.review_waived
    with Session(b.ledger.engine) as session:  # B keeps the package it relied on
        kept = session.get(StoredDocument, source.package_sha256)
    assert kept is not None and kept.body.encode() == data

    registered = _later(b).workflow.register(app.id, "registrar")  # after B's public notice
    number_b = registered.registration_number
    assert registered.state == State.REGISTERED and number_b is not None
    assert b.ledger.assets.status(unit_id(number_b)) is UnitStatus.ACTIVE
    with Session(b.ledger.engine) as session:
        stored = session.get(StoredDocument, registered.certificate_hash)
    assert stored is not None
    certificate = validate_document(json.loads(stored.body))
    source_certificate = parts[CERTIFICATE]
    assert certificate["schema"] == "ledger.certificate/3" and certificate["registry"] == PLATFORM_B
    assert certificate["recognised_from"] == source.model_dump()
    assert certificate["registration_number"] == number_b and certificate["asset"] == source_certificate["asset"]
    assert certificate["holder"] == source_certificate["holder"]
    assert certificate["annexes"]["evidence_digests"] == []  # proven by the kept package, not anchored on B
    assert to_hex(b.ledger.assets.unit(unit_id(number_b))["certificate_hash"]) == registered.certificate_hash

    b.ledger.indexer.run_once()  # B's chain records the package hash as the registration's document
    history = registrations.history(b.ledger, number_b, viewer=OPERATOR)
    assert [(e.action, e.document_hash) for e in history] == [("initial", source.package_sha256)]
    listed = [r for r in recognised(b.ledger) if r.application_id == app.id]
    assert len(listed) == 1 and listed[0].registration_number == number_b
    assert recognised_from(b.ledger, number_b) == source

    pdf = certificate_pdf(b.ledger, number_b, BASE)  # B's certificate verifies against B's trust list
    assert inspect_pdf(pdf, TrustRoots.of_list(trust_list(b.ledger))).verdict is Verdict.VERIFIED
    (tmp_path / "b.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "b.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "互认来源 Recognised from" in text and PLATFORM_A in text and number_a in text
    assert "免于审核 waived" in text

    with pytest.raises(FilingRefused, match="already registered this data"):
        import_package(b.ledger, data)  # the same registration is recognised once
    own = export_package(b.ledger, number_b)  # B can pass it on; but not to itself
    assert own.verification.verdict is Verdict.VERIFIED
    refused = _refused(b.ledger, own.data)
    assert refused.check == "trusted platform" and "own chain" in refused.user_message


def test_any_changed_byte_is_refused_with_the_failing_check_named(
        platforms: tuple[Platform, Platform], package: dict[str, Any]) -> None:
    """Done when (issue #13 §4): a tampered package is refused, the failing check named — whichever part changed,
    whether or not the manifest was recomputed or the package re-sealed."""
    a, b = platforms
    data = package["data"]
    package_doc = json.loads(data)
    spans = [(data.find(canonical_json(part)), len(canonical_json(part))) for part in package_doc["parts"].values()]
    positions = [start + length * i // 12 for start, length in spans for i in range(12)]
    positions += list(range(0, data.find(b'"parts"'), 29)) + list(range(data.find(b',"platform"'), len(data), 7))
    named = set()
    for position in positions:
        changed = bytearray(data)
        changed[position] = ord("0") if changed[position] != ord("0") else ord("1")
        refused = _refused(b.ledger, bytes(changed))
        assert refused.check and refused.check in refused.user_message
        named.add(refused.check)
    assert {"package manifest", "package format", "package seal"} <= named

    provider, outsider = a.ledger.accounts.get("provider").signer, a.ledger.accounts.get("outsider").signer

    def rename(parts: dict[str, Any]) -> None:
        parts[CERTIFICATE]["asset"]["name"] = "另一个数据集"

    def summary(parts: dict[str, Any]) -> None:
        parts[EVIDENCE_REPORT]["summary"] += "（已修改）"

    def transaction(parts: dict[str, Any]) -> None:
        parts[EVIDENCE_REPORT]["anchor"]["tx_hash"] = "0x" + "ab" * 32

    def drop_evidence(parts: dict[str, Any]) -> None:
        del parts[evidence_part(package["declaration"])]

    other = json.loads(export_package(a.ledger, a.register("另一个数据集")).data)["parts"]

    def swap_bundle(parts: dict[str, Any]) -> None:
        parts[CERTIFICATE_BUNDLE] = other[CERTIFICATE_BUNDLE]

    cases = [(rename, None, "document hash"), (summary, None, "package seal"), (summary, outsider, "package seal"),
             (transaction, provider, "evidence report"), (drop_evidence, provider, "evidence"),
             (swap_bundle, provider, "document hash")]
    for change, sealer, check in cases:
        refused = _refused(b.ledger, _rewrite(data, change, sealer))
        assert refused.check == check, (change.__name__, refused.user_message)
    assert _refused(b.ledger, b"{}").check == "package format"


def test_a_package_from_an_untrusted_platform_is_refused(
        platforms: tuple[Platform, Platform], package: dict[str, Any], tmp_path: Path) -> None:
    """B trusts only the peers it is configured with: no peer for A's chain, or a "trust list" for A's chain that
    names other authorities than the ones that signed A's blocks, and the package is refused."""
    a, b = platforms
    nobody = Ledger(b.ledger.settings.model_copy(update={"peers_dir": tmp_path / "no-peers"}))
    refused = _refused(nobody, package["data"])
    assert refused.check == "trusted platform" and "untrusted platform" in refused.user_message

    forged = trust_list(a.ledger).model_dump(mode="json")
    forged["authorities"] = trust_list(b.ledger).model_dump(mode="json")["authorities"]
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    impostor = Ledger(b.ledger.settings.model_copy(update={"peers_dir": tmp_path / "forged-peers"}))
    add_peer(impostor, tmp_path / "forged.json", "tianjin")
    refused = _refused(impostor, package["data"])
    assert refused.check == "authority signatures", refused.user_message


def test_a_registration_that_is_not_valid_now_is_refused_with_the_reason(
        platforms: tuple[Platform, Platform], package: dict[str, Any], tmp_path: Path) -> None:
    """Cancelled or under objection at the proven block; superseded since (the peer's chain, configured, says so);
    expired by the time of import; or proven too long ago to rely on: refused, the reason given."""
    a, b = platforms
    cancelled = a.register("已注销的数据集")
    a.file("cancellation", cancelled, ground="holder")
    refused = _refused(b.ledger, export_package(a.ledger, cancelled).data)
    assert refused.check == "registry status" and "CANCELLED" in refused.user_message

    disputed = a.register("有异议的数据集")
    register_objection(a.ledger, disputed, "registrar", ObjectionRegistrationCreate(
        objector="holder-b", objector_name="乙方数据有限公司", objector_id="91120116MA05JD1X47",
        matter="登记的数据来源", grounds="部分数据由异议人采集", evidence_hash=to_hex(os.urandom(32))))
    refused = _refused(b.ledger, export_package(a.ledger, disputed).data)
    assert refused.check == "registry status" and "UNDER OBJECTION" in refused.user_message

    changed = a.register("将变更的数据集")
    before_change = export_package(a.ledger, changed).data
    a.file("change", changed, changes={"asset": {"name": "将变更的数据集（第二版）"}})
    live = Ledger(b.ledger.settings.model_copy(update={"peers_dir": tmp_path / "peers-with-rpc"}))
    (tmp_path / "a.json").write_text(json.dumps(trust_list(a.ledger).model_dump(mode="json")))
    add_peer(live, tmp_path / "a.json", "tianjin", rpc_url=a.ledger.client.rpc_url)
    refused = _refused(live, before_change)
    assert refused.check == "current status (live)" and "SUPERSEDED" in refused.user_message

    data = package["data"]
    _, checked = verify_package(b.ledger, data)
    proven = checked.unit
    assert proven is not None and checked.verdict is Verdict.VERIFIED
    refused = _refused(b.ledger, data, now=proven.block_time + 31 * DAY)
    assert refused.check == "proof age" and "older than the 30 days" in refused.user_message
    refused = _refused(b.ledger, data, now=proven.unit.valid_until + DAY)
    assert refused.check == "validity now" and "EXPIRED" in refused.user_message


@pytest.fixture
def api(platforms: tuple[Platform, Platform]) -> Iterator[TestClient]:
    _, b = platforms
    with TestClient(create_app(ledger=b.ledger)) as client:
        yield client


def test_the_registrar_imports_a_package_over_http(platforms: tuple[Platform, Platform],
                                                   api: TestClient) -> None:
    """POST /recognition/import: the registration authority's token files it; any other is refused (403), none
    is 401; a tampered package is 422 recognition_refused naming the check."""
    a, b = platforms
    data = export_package(a.ledger, a.register("接口导入的数据集")).data
    registrar = create_token(b.ledger.engine, b.ledger.accounts, "registrar", "recognition test")
    provider = create_token(b.ledger.engine, b.ledger.accounts, "provider", "recognition test")

    def post(token: str | None, body: bytes) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return api.post("/recognition/import", headers=headers, files={"package": ("p.json", body)})

    assert post(None, data).status_code == 401
    forbidden = post(provider, data)
    assert forbidden.status_code == 403 and "registration authority" in forbidden.json()["error"]["message"]
    tampered = post(registrar, data.replace("接口导入".encode(), "接口篡改".encode(), 1))
    assert tampered.status_code == 422 and tampered.json()["error"]["code"] == "recognition_refused"
    assert "package manifest failed" in tampered.json()["error"]["message"]
    filed = post(registrar, data)
    assert filed.status_code == 201, filed.text
    body = filed.json()
    assert body["state"] == "in_public_notice" and body["waiting_for"] == "notice" and body["verdict"] == "verified"
    assert body["recognised_from"]["platform"] == PLATFORM_A and body["recognised_from"]["review_waived"]
    assert {c["name"] for c in body["checks"]} >= {"package seal", "registry status", "evidence report"}


def test_review_is_waived_only_for_a_kept_verified_package(platforms: tuple[Platform, Platform],
                                                           package: dict[str, Any]) -> None:
    """The workflow's waiver (TJIFA §6.4.1.4) needs a recognised initial registration whose package this registry
    keeps — a payload naming a package it never verified is not enough — and a profile that waives review."""
    _, b = platforms
    workflow = b.workflow
    plain = workflow.apply(kind="initial", profile="TJIFA", holder="holder-a", actor="holder-a",
                           object_type=ObjectType.DATA_ASSET, payload={"content": content("普通登记的数据集")})
    workflow.accept(plain.id, "registrar")
    with pytest.raises(WorkflowError, match="not an initial registration recognised from another platform"):
        workflow.waive_review(plain.id, "registrar")
    _, checked = verify_package(b.ledger, package["data"])
    record = {"platform": PLATFORM_A, "trust_list_sha256": "0x" + "11" * 32, "registration_number": package["number"],
              "certificate_sha256": "0x" + "22" * 32, "certificate_version": 1, "proven_at_block": 1,
              "package_sha256": "0x" + "33" * 32, "review_waived": True, "rule": "TJIFA §6.4.1.4"}
    forged = workflow.apply(kind="initial", profile="TJIFA", holder="holder-a", actor="registrar",
                            object_type=ObjectType.DATA_ASSET,
                            payload={"content": content("伪称互认的数据集"), "recognition": record})
    workflow.accept(forged.id, "registrar")
    with pytest.raises(WorkflowError, match="does not keep the verified recognition package"):
        workflow.waive_review(forged.id, "registrar")
    with pytest.raises(ForbiddenError, match="registration authority"):
        workflow.waive_review(forged.id, "holder-a")
    with pytest.raises(FilingRefused, match="recognition record is invalid: rule"):
        workflow.apply(kind="initial", profile="TJIFA", holder="holder-a", actor="registrar",
                       object_type=ObjectType.DATA_ASSET,
                       payload={"content": content("规则不对的数据集"), "recognition": {**record, "rule": "none"}})
    sz = workflow.apply(kind="initial", profile="SZ", holder="holder-a", actor="registrar",
                        object_type=ObjectType.DATA_PRODUCT,
                        payload={"content": content("深圳的数据产品"), "recognition": {
                            **record, "package_sha256": checked.package_sha256, "review_waived": False}})
    workflow.accept(sz.id, "registrar")
    with pytest.raises(WorkflowError, match="SZ does not waive the review"):
        workflow.waive_review(sz.id, "registrar")


def _cli(platform: Platform, *args: str, status: int = 0) -> subprocess.CompletedProcess[str]:
    settings = platform.ledger.settings
    env = {**os.environ, "LEDGER_HOME": str(settings.home), "LEDGER_DATABASE_URL": settings.database,
           "LEDGER_REGISTRY_NAME": settings.registry_name, "LEDGER_TSA_URL": settings.tsa_url or "none"}
    done = subprocess.run([sys.executable, "-m", "ledger", "recognition", *args], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == status, f"ledger recognition {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def test_the_cli_exports_verifies_and_imports(platforms: tuple[Platform, Platform], tmp_path: Path) -> None:
    """`ledger recognition export` on A; `peers`, `verify`, `import` and `list` on B, as operators run them."""
    a, b = platforms
    number = a.register("命令行互认的数据集")
    out = tmp_path / "package.json"
    exported = _cli(a, "export", number, "--out", str(out)).stdout
    assert "recognition package written" in exported and "VERIFIED" in exported
    peers = _cli(b, "peers").stdout
    assert "tianjin" in peers and trust_list(a.ledger).fingerprint() in peers
    checked = _cli(b, "verify", str(out)).stdout
    assert "package seal" in checked and "VERIFIED 核验通过" in checked
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(out.read_bytes().replace("命令行".encode(), "命令符".encode(), 1))
    refused = _cli(b, "import", str(tampered), status=1).stderr
    assert "refused: package manifest failed" in refused
    imported = _cli(b, "import", str(out)).stdout
    assert "review waived (TJIFA §6.4.1.4); public notice until" in imported and number in imported
    assert number in _cli(b, "list").stdout
