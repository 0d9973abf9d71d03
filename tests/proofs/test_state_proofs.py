"""Issue #13 §1: a certificate bundle proves its unit's registry state — status, certificate, validity, the holder
of each right, every active pledge and licence, every open objection — against an attested block's stateRoot,
decoded offline into a readable unit view with each check named.

Done when: a pledge changes; the state bundles exported before and after each verify offline and decode to the
right pledge status; any changed byte in either fails."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from ledger.context import Ledger
from ledger.hashing import canonical_json, keccak256, to_hex
from ledger.lifecycle import Right, UnitStatus
from ledger.numbering import unit_id
from ledger.pdf import embedded, inspect_pdf
from ledger.proofs.bundle import write_bundle
from ledger.proofs.signatures import personal_message_hash
from ledger.proofs.state import CertificateStatus, unit_proof_slots, unit_slots
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import (
    LEGACY_FORMAT,
    BundleVerification,
    Verdict,
    inspect_bundle,
    read_bundle,
    seal_text,
    verdict,
    verify_bundle,
)
from ledger.registry import objection_id
from ledger.services.documents import certificate_bundle, certificate_pdf
from ledger.services.proofs import trust_list
from ledger.workdays import CHINA
from ledger.workflow import Workflow

pytestmark = pytest.mark.chain
BASE = "http://127.0.0.1:8000"
CERTIFICATE_CHECKS = ["document hash", "Merkle path", "header chain", "receipt in trie", "event",
                      "authority signatures", "chain identity", "state block", "state proof", "rights page",
                      "objections", "registry status", "bundle seal"]


def _file(workflow: Workflow, today: list[date], kind: str, number: str, counterparty: str | None = None,
          actor: str = "registrar", rights: int = 7, **payload: Any) -> None:
    app = workflow.apply(kind=kind, profile="TJIFA", holder="holder-a", counterparty=counterparty, actor=actor,
                         number=number, rights=rights, payload=payload, document=os.urandom(32))
    for step in (workflow.accept, workflow.begin_review, workflow.approve):
        step(app.id, "registrar")
    if workflow.needs_notice(workflow.get(app.id)):
        workflow.start_notice(app.id, "registrar")
        today[0] += timedelta(days=20)
    workflow.register(app.id, "registrar")


def _state_bundle(chain: Ledger, number: str) -> dict[str, Any]:
    _, bundle = certificate_bundle(chain, number, BASE)
    return bundle


def _found(bundle: dict[str, Any], trust: TrustRoots) -> BundleVerification:
    found = inspect_bundle(bundle, trust=trust)
    assert [c.name for c in found.checks] == CERTIFICATE_CHECKS, found.checks
    return found


def _flip_byte(data: bytes, position: int) -> bytes:
    changed = bytearray(data)
    changed[position] = ord("0") if changed[position] != ord("0") else ord("1")
    return bytes(changed)


def _never_verified(raw: bytes, trust: TrustRoots, tmp_path: Path) -> None:
    """Every changed byte of a written bundle makes it fail (or unreadable): never VERIFIED, never NOT VALID."""
    path = tmp_path / "changed.json"
    for position in range(0, len(raw), 23):
        path.write_bytes(_flip_byte(raw, position))
        try:
            bundle = read_bundle(path)
        except Exception:  # no longer JSON or no longer a bundle: refused
            continue
        checks = verify_bundle(bundle, trust=trust)
        assert verdict(checks) is Verdict.FAILED, (position, raw[max(0, position - 40):position + 40], checks)


def test_a_pledge_before_and_after_its_release(chain: Ledger, unit: dict[str, Any], tmp_path: Path) -> None:
    """Done when (issue #13 §1)."""
    number, workflow, today, trust = unit["number"], unit["workflow"], unit["today"], unit["trust"]
    bank = chain.accounts.get("bank").address.lower()
    _file(workflow, today, "pledge", number, counterparty="bank", rights=Right.HOLDING)
    pledged = _state_bundle(chain, number)
    entry_id = pledged["registry_state"]["rights_entries"][0]
    _file(workflow, today, "release", number, entry_id=entry_id)
    released = _state_bundle(chain, number)

    before, after = _found(pledged, trust), _found(released, trust)
    assert before.verdict is Verdict.VERIFIED and after.verdict is Verdict.VERIFIED
    assert before.unit is not None and after.unit is not None
    assert [(e.entry_id, e.kind, e.counterparty, e.rights_mask) for e in before.unit.pledges] == [
        (entry_id, "pledge", bank, int(Right.HOLDING))]
    assert (before.unit.active_entry_count, before.unit.active_pledge_count) == (1, 1)
    assert after.unit.pledges == () and (after.unit.active_entry_count, after.unit.active_pledge_count) == (0, 0)
    assert after.unit.block_number > before.unit.block_number
    status = {c.name: c.detail for c in before.checks}
    assert f"PLEDGED 已质押 to {bank} (entry {entry_id})" in status["registry status"]
    assert "pledge to" in status["rights page"] and "activePledges 1" in status["rights page"]
    assert "no active pledge or licence" in {c.name: c.detail for c in after.checks}["rights page"]
    holder = chain.accounts.get("holder-a").address.lower()
    assert before.unit.right_holders == {"holding": holder, "processing_use": holder, "product_operation": holder}
    assert before.unit.status is UnitStatus.ACTIVE and before.unit.unit.certificate_version == 1
    assert any("1 项质押 pledge(s)" in line for line in before.unit.lines())

    for bundle in (pledged, released):  # any changed byte of either fails
        path = tmp_path / "bundle.json"
        write_bundle(bundle, path)
        _never_verified(path.read_bytes(), trust, tmp_path)


def _reseal(chain: Ledger, bundle: dict[str, Any]) -> dict[str, Any]:
    """Seals an altered bundle with the genuine provider key: only the part under test can fail."""
    bundle = copy.deepcopy(bundle)
    bundle.pop("seal")
    key = chain.accounts.get("provider").signer
    signature = Account.unsafe_sign_hash(personal_message_hash(seal_text(bundle)), key.key).signature
    bundle["seal"] = {"signer": key.address, "signature": to_hex(bytes(signature))}
    return bundle


def _prove(chain: Ledger, state: dict[str, Any], uid: bytes, entries: list[int], objections: list[bytes]) -> None:
    """Rewrites a state proof over another list of entries and objections, from the node itself."""
    plan = unit_proof_slots(uid, entries, objections)
    proof = chain.client.request("eth_getProof", [state["contract"], ["0x" + s.to_bytes(32, "big").hex()
                                                                      for _, s in plan], hex(state["block_number"])])
    state["rights_entries"], state["objections"] = entries, [to_hex(o) for o in objections]
    state["values"] = [hex(int(p["value"], 16)) for p in proof["storageProof"]]
    state["storage_proof"] = list(dict.fromkeys(n.lower() for p in proof["storageProof"] for n in p["proof"]))


def test_an_entry_or_objection_left_out_is_named(chain: Ledger, unit: dict[str, Any]) -> None:
    """A bundle must list every active pledge and licence and every open objection, even when its proofs are
    sound and it is sealed: the unit's counters are proven too."""
    number, workflow, today, trust = unit["number"], unit["workflow"], unit["today"], unit["trust"]
    uid = unit_id(number)
    _file(workflow, today, "licence", number, counterparty="holder-b", rights=Right.PROCESSING_USE)
    matter = os.urandom(32)
    chain.assets.transact(chain.sender("registrar"), "fileObjection", uid, chain.accounts.get("bank").address,
                          matter, matter)
    genuine = _state_bundle(chain, number)
    found = _found(genuine, trust)
    assert found.verdict is Verdict.VERIFIED_WITH_WARNING and found.unit is not None
    assert [e.kind for e in found.unit.licences] == ["licence"] and len(found.unit.objections) == 1
    state = genuine["registry_state"]
    entries, objections = state["rights_entries"], [bytes.fromhex(o[2:]) for o in state["objections"]]

    no_licence = copy.deepcopy(genuine)
    _prove(chain, no_licence["registry_state"], uid, [], objections)
    checks = verify_bundle(_reseal(chain, no_licence), trust=trust)
    assert [c.name for c in checks if not c.ok] == ["rights page"] and verdict(checks) is Verdict.FAILED, checks
    assert "the rights page is incomplete" in next(c.detail for c in checks if c.name == "rights page")

    no_objection = copy.deepcopy(genuine)
    _prove(chain, no_objection["registry_state"], uid, entries, [])
    checks = verify_bundle(_reseal(chain, no_objection), trust=trust)
    assert [c.name for c in checks if not c.ok] == ["objections"], checks

    foreign = copy.deepcopy(genuine)  # someone else's entry smuggled in (entry 1 belongs to another unit or none)
    other = next(i for i in range(1, 64) if chain.assets.entry(i)["unit_id"] != uid)
    _prove(chain, foreign["registry_state"], uid, sorted([*entries, other]), objections)
    checks = verify_bundle(_reseal(chain, foreign), trust=trust)
    assert next(c.name for c in checks if not c.ok) == "rights page", checks

    junk = copy.deepcopy(genuine)  # a proof node that proves nothing
    junk["registry_state"]["storage_proof"].append("0x" + os.urandom(40).hex())
    checks = verify_bundle(_reseal(chain, junk), trust=trust)
    assert [c.name for c in checks if not c.ok] == ["state proof"] and "prove none" in str(checks), checks

    stated = copy.deepcopy(genuine)  # a stated value that the proof does not hold
    stated["registry_state"]["values"][1] = hex(int(stated["registry_state"]["values"][1], 16) ^ 1)
    checks = verify_bundle(_reseal(chain, stated), trust=trust)
    assert [c.name for c in checks if not c.ok] == ["state proof"], checks

    for name, part in (("unit", "unit_id"), ("layout", "layout")):
        changed = copy.deepcopy(genuine)
        changed["registry_state"][part] = to_hex(keccak256(name.encode())) if part == "unit_id" else "Other/9"
        checks = verify_bundle(_reseal(chain, changed), trust=trust)
        assert verdict(checks) is Verdict.FAILED, checks

    for variant in ("unsigned", "elsewhere"):  # the state of a block the authorities did not attest
        later = copy.deepcopy(genuine)
        moved = later["registry_state"]
        if "authority" in moved and variant == "unsigned":
            moved["authority"]["signatures"] = moved["authority"]["signatures"][:1]
        elif "authority" in moved:
            del moved["header"], moved["authority"]  # claims the bundle's own block, which it is not
        elif variant == "unsigned":
            moved["header"], moved["authority"] = later["headers"][-1], later["authority"]  # said twice
        else:
            moved["block_number"] += 1
        checks = verify_bundle(_reseal(chain, later), trust=trust)
        assert [c.name for c in checks if not c.ok] == ["state block"], (variant, checks)

    # a court dismisses the objection (SZ art. 20): the next bundle proves none open
    chain.assets.transact(chain.sender("court"), "resolveObjection", objection_id(uid, matter), False, matter)
    cleared = _found(_state_bundle(chain, number), trust)
    assert cleared.verdict is Verdict.VERIFIED and cleared.unit is not None and cleared.unit.objections == ()


def test_the_holder_of_each_right_after_a_partial_transfer(chain: Ledger, unit: dict[str, Any]) -> None:
    """Three-rights split (SZ art. 7): a transfer of the processing-use right alone gives it its own holder."""
    number, workflow, today, trust = unit["number"], unit["workflow"], unit["today"], unit["trust"]
    for entry in chain.assets.entries(unit_id(number)):  # the pledgee must not block it: release what is active
        if entry["active"]:
            _file(workflow, today, "release", number, entry_id=entry["entry_id"])
    _file(workflow, today, "transfer", number, counterparty="holder-b", actor="registrar",
          rights=Right.PROCESSING_USE, new_holder_name="乙方数据有限公司", new_holder_uscc="91120116MA05JD1X47")
    found = _found(_state_bundle(chain, number), trust)
    assert found.unit is not None
    a, b = (chain.accounts.get(n).address.lower() for n in ("holder-a", "holder-b"))
    assert found.unit.right_holders == {"holding": a, "processing_use": b, "product_operation": a}
    assert found.unit.unit.certificate_version == 2 and found.unit.entries == ()
    assert f"数据加工使用权 processing-use: {b}" in next(c.detail for c in found.checks if c.name == "state proof")


def test_pdf_carries_the_state_proof_and_the_cli_writes_the_state_bundle(chain: Ledger, unit: dict[str, Any],
                                                                          tmp_path: Path) -> None:
    number, trust = unit["number"], unit["trust"]
    pdf = certificate_pdf(chain, number, BASE)
    _, bundle = embedded(pdf)
    assert bundle is not None and bundle["registry_state"]["format"] == "ledger.unit-state/1"
    found = inspect_pdf(pdf, trust)
    assert found.verdict in (Verdict.VERIFIED, Verdict.VERIFIED_WITH_WARNING) and found.unit is not None
    env = {**os.environ, "LEDGER_HOME": str(chain.settings.home)}
    out = tmp_path / "state.json"
    done = subprocess.run([sys.executable, "-m", "ledger", "proof", "export", number, "--state", "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "state bundle written" in done.stdout and "processing-use" in done.stdout
    assert json.loads(out.read_bytes())["registry_state"]["unit_id"] == to_hex(unit_id(number))
    trust_file = tmp_path / "trust.json"
    trust_file.write_text(json.dumps(trust_list(chain).model_dump(mode="json")))
    shown = subprocess.run([sys.executable, "-m", "ledger", "proof", "verify", str(out), "--trust", str(trust_file)],
                           capture_output=True, text=True, env={**os.environ, "LEDGER_HOME": str(tmp_path / "none")},
                           timeout=120)
    assert shown.returncode in (0, 5), shown.stdout
    assert "registry state 登记状态 (proven)" in shown.stdout and "rights page" in shown.stdout


def test_bundles_of_format_2_still_verify(chain: Ledger, unit: dict[str, Any]) -> None:
    """A certificate bundle exported before issue #13 (status-only state proof, one proof per slot) verifies as
    it did; a /2 bundle cannot carry what /3 adds."""
    bundle = copy.deepcopy(_state_bundle(chain, unit["number"]))
    state = bundle["registry_state"]
    uid = unit_id(unit["number"])
    proof = chain.client.request("eth_getProof", [state["contract"], ["0x" + s.to_bytes(32, "big").hex()
                                                                      for s in unit_slots(uid)],
                                                  hex(state["block_number"])])
    bundle["format"] = LEGACY_FORMAT
    bundle["registry_state"] = {
        "contract": state["contract"], "unit_id": state["unit_id"], "block_number": state["block_number"],
        "header": state.get("header", bundle["headers"][-1]), "authority": state.get("authority", bundle["authority"]),
        "account_proof": state["account_proof"],
        "storage": [{"slot": hex(s), "value": p["value"], "proof": p["proof"]}
                    for s, p in zip(unit_slots(uid), proof["storageProof"], strict=True)]}
    legacy = _reseal(chain, bundle)
    checks = verify_bundle(legacy, trust=unit["trust"])
    assert verdict(checks) in (Verdict.VERIFIED, Verdict.VERIFIED_WITH_WARNING), checks
    assert "state proof" not in [c.name for c in checks] and "registry status" in [c.name for c in checks]
    tokened = copy.deepcopy(bundle)
    tokened["trusted_time"] = [{"subject": "digest", "token": "AA=="}]
    assert verdict(verify_bundle(_reseal(chain, tokened), trust=unit["trust"])) is Verdict.FAILED
    assert canonical_json(legacy)  # still canonical JSON


def test_a_certificate_status_names_the_last_valid_day() -> None:
    """Validity ends at 24:00 China time of its last day (the next day's 00:00): a judge reads the last day, not
    the day after it (TJIFA §8.3.3)."""
    end = int(datetime(2029, 11, 25, tzinfo=CHINA).timestamp())  # 2029-11-24 24:00 China time
    valid = CertificateStatus("valid", False, 1, "0x" + "11" * 32, end, end - 86_400)
    assert "valid until 2029-11-24 24:00" in valid.describe()
    expired = CertificateStatus("expired", False, 1, "0x" + "11" * 32, end, end + 86_400)
    assert "validity ended 2029-11-24 24:00" in expired.describe()
    assert "no expiry" in CertificateStatus("valid", False, 1, "0x" + "11" * 32, 0, end).describe()
