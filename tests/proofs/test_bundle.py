"""Court bundles exported from a real Anvil node, verified offline; any flipped byte is caught by name, and a
bundle can only be VERIFIED against trust roots the verifier brings (issue #7)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_abi.abi import encode
from eth_account import Account

from ledger.config import Settings
from ledger.context import Ledger
from ledger.errors import LedgerValueError, NotFoundError
from ledger.hashing import HashAlgorithm, digest_file, keccak256, to_hex
from ledger.proofs.authority import checkpoint_text
from ledger.proofs.bundle import export_bundle, write_bundle
from ledger.proofs.ethrlp import encode_receipt, receipt_proof
from ledger.proofs.signatures import SECP256K1_N, personal_message_hash
from ledger.proofs.trust import TrustRoots, load_trust
from ledger.proofs.verify import EVENT_TOPICS, Verdict, read_bundle, seal_text, verdict, verify_bundle
from ledger.services.proofs import export_evidence_bundle, trust_list

pytestmark = pytest.mark.chain
CHECKS = ["document hash", "Merkle path", "header chain", "receipt in trie", "event", "authority signatures",
          "chain identity", "bundle seal"]


def sign_checkpoints(chain: Ledger) -> list[str]:
    names = ["notary", "arbitration"]
    for name in names:
        chain.checkpoints.sign_latest(chain.accounts.get(name).signer)
    return [chain.accounts.get(n).address for n in names]


@pytest.fixture(scope="module")
def bundles(chain: Ledger, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("bundles")
    original = folder / "存证报告书.txt"
    original.write_bytes("数据来源合法声明 ".encode() + os.urandom(256))
    digest = digest_file(original, HashAlgorithm.SM3)
    chain.evidence.anchor(chain.sender("provider"), digest, HashAlgorithm.SM3)
    entries = [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(9)]
    chain.evidence.anchor_batch(chain.sender("provider"), entries)
    chain.evidence.anchor(chain.sender("provider"), os.urandom(32), HashAlgorithm.SHA256)  # a later block
    trusted = sign_checkpoints(chain)
    single = export_evidence_bundle(chain, digest, HashAlgorithm.SM3, original_name=original.name,
                                    requested_by="Tianjin arbitration commission")
    batched = export_evidence_bundle(chain, entries[4][1], HashAlgorithm.SHA256)
    return {"single": single, "batched": batched, "original": original, "folder": folder,
            "trusted": trusted, "roots": TrustRoots.of_addresses(trusted), "list": trust_list(chain)}


def failed(checks: list[Any]) -> list[str]:
    return [c.name for c in checks if not c.ok]


def test_single_and_batched_bundles_verify_against_trust_roots(bundles: dict[str, Any]) -> None:
    for kind in ("single", "batched"):
        checks = verify_bundle(bundles[kind], trust=bundles["roots"], threshold=2)
        assert failed(checks) == [], checks
        assert [c.name for c in checks] == CHECKS
        assert verdict(checks) is Verdict.VERIFIED
        listed = verify_bundle(bundles[kind], trust=TrustRoots.of_list(bundles["list"]))
        assert verdict(listed) is Verdict.VERIFIED, listed
        assert "公证处" in next(c.detail for c in listed if c.name == "authority signatures")
    single = bundles["single"]
    assert len(single["headers"]) >= 2  # from the anchoring block up to the signed block
    record = single["extraction_record"]
    assert record["participants"]["requested_by"] == "Tianjin arbitration commission"
    assert "anchored in block" in record["conclusion"] and record["times"]["extracted_at"]
    assert bundles["batched"]["merkle"]["leaf_index"] == 4
    assert single["presentation"]["trust_list_sha256"] == bundles["list"].fingerprint()


def test_without_trust_roots_a_genuine_bundle_is_integrity_only(bundles: dict[str, Any]) -> None:
    checks = verify_bundle(bundles["single"])
    assert verdict(checks) is Verdict.INTEGRITY_ONLY
    assert [(c.name, c.level) for c in checks if not c.ok] == [("authority signatures", "trust")]


def test_original_file_and_trust_settings(bundles: dict[str, Any]) -> None:
    original: Path = bundles["original"]
    roots = bundles["roots"]
    assert failed(verify_bundle(bundles["single"], original, roots, 2)) == []
    tampered = bundles["folder"] / "tampered.txt"
    tampered.write_bytes(original.read_bytes()[:-1] + b"!")
    assert failed(verify_bundle(bundles["single"], tampered, roots))[0] == "document hash"
    assert failed(verify_bundle(bundles["single"], trust=roots, threshold=3)) == ["authority signatures"]
    stranger = TrustRoots.of_addresses(["0x" + "11" * 20])
    checks = verify_bundle(bundles["single"], trust=stranger)
    assert failed(checks) == ["authority signatures"] and verdict(checks) is Verdict.FAILED


def test_a_trust_list_pins_the_chain_and_the_contracts(bundles: dict[str, Any]) -> None:
    other = bundles["list"].model_copy(update={"contracts": {**bundles["list"].contracts,
                                                             "EvidenceRegistry": "0x" + "22" * 20}})
    checks = verify_bundle(bundles["single"], trust=TrustRoots.of_list(other))
    assert failed(checks) == ["chain identity"] and verdict(checks) is Verdict.FAILED
    wrong_chain = bundles["list"].model_copy(update={"chain_id": 1})
    assert failed(verify_bundle(bundles["single"], trust=TrustRoots.of_list(wrong_chain))) == ["chain identity"]


def _flip(value: str, position: int) -> str:
    digits = list(value)
    index = 2 + position % (len(value) - 2)
    digits[index] = "0" if digits[index] != "0" else "1"
    return "".join(digits)


# bundle part -> the check that must name the failure
PARTS: list[tuple[str, Any, set[str]]] = [
    ("subject digest", lambda b: b["subject"], {"event", "Merkle path"}),
    ("Merkle proof", lambda b: b["merkle"]["proof"], {"Merkle path"}),
    ("Merkle root", lambda b: b["merkle"], {"Merkle path"}),
    ("receipt", lambda b: b["anchor"], {"receipt in trie"}),
    ("receipt proof", lambda b: b["anchor"]["receipt_proof"], {"receipt in trie"}),
    ("headers", lambda b: b["headers"], {"header chain", "receipt in trie", "authority signatures"}),
    ("contract address", lambda b: b["chain"]["contracts"]["EvidenceRegistry"], {"event"}),
    ("asset contract address", lambda b: b["chain"]["contracts"]["AssetRegistry"], {"authority signatures"}),
    ("signatures", lambda b: b["authority"]["signatures"], {"authority signatures"}),
    ("extraction record", lambda b: b["extraction_record"], {"bundle seal"}),
    ("seal", lambda b: b["seal"], {"bundle seal"}),
]
KEYS = {"subject digest": "digest", "Merkle root": "root", "receipt": "receipt", "contract address": "address",
        "asset contract address": "address", "extraction record": "conclusion", "seal": "signature"}


@pytest.mark.parametrize(("part", "locate", "expected"), PARTS, ids=[p[0] for p in PARTS])
def test_any_flipped_byte_fails_naming_the_right_check(bundles: dict[str, Any], part: str, locate: Any,
                                                       expected: set[str]) -> None:
    base = bundles["batched"] if part.startswith("Merkle") else bundles["single"]
    for position in range(0, 400, 7):
        bundle = copy.deepcopy(base)
        container = locate(bundle)
        if isinstance(container, list):
            item = position % len(container)
            if isinstance(container[item], dict):  # signatures: flip the signature bytes
                container[item]["signature"] = _flip(container[item]["signature"], position)
            else:
                container[item] = _flip(container[item], position)
        else:
            container[KEYS[part]] = _flip(container[KEYS[part]], position)
        checks = verify_bundle(bundle, trust=bundles["roots"], threshold=2)
        names = failed(checks)
        assert names and names[0] in expected and verdict(checks) is Verdict.FAILED, (part, position, names)


# --- canonical signatures: one spelling of each signature (issue #7) ------------------------------------------


def _respell(signature_hex: str, *, v: int | None = None, high_s: bool = False) -> str:
    raw = bytearray(bytes.fromhex(signature_hex[2:]))
    if high_s:  # (r, n - s) with the other recovery id signs the same message by the same key
        s = int.from_bytes(raw[32:64], "big")
        raw[32:64] = (SECP256K1_N - s).to_bytes(32, "big")
        raw[64] = 55 - raw[64]  # 27 <-> 28
    if v is not None:
        raw[64] = v
    return "0x" + bytes(raw).hex()


@pytest.mark.parametrize("respelling", [{"v": 0}, {"v": 1}, {"high_s": True}], ids=["v=0", "v=1", "s=n-s"])
def test_non_canonical_seals_and_checkpoint_signatures_are_refused(bundles: dict[str, Any],
                                                                   respelling: dict[str, Any]) -> None:
    genuine = bundles["single"]
    v = respelling.get("v")
    seal = copy.deepcopy(genuine)
    signature = seal["seal"]["signature"]
    if v is not None:
        v += signature[-2:] == "1c"  # 27 -> 0, 28 -> 1: the same key would recover
    seal["seal"]["signature"] = _respell(signature, v=v, high_s=respelling.get("high_s", False))
    checks = verify_bundle(seal, trust=bundles["roots"], threshold=2)
    assert failed(checks) == ["bundle seal"] and "canonical" in checks[-1].detail, checks
    checkpoint = copy.deepcopy(genuine)
    entry = checkpoint["authority"]["signatures"][0]
    v = respelling.get("v")
    if v is not None:
        v += entry["signature"][-2:] == "1c"
    entry["signature"] = _respell(entry["signature"], v=v, high_s=respelling.get("high_s", False))
    checks = verify_bundle(checkpoint, trust=bundles["roots"], threshold=2)
    assert failed(checks) == ["authority signatures"] and "canonical" in str(checks), checks


def test_extra_fields_inside_signed_parts_are_refused(bundles: dict[str, Any]) -> None:
    bundle = copy.deepcopy(bundles["single"])
    bundle["seal"]["note"] = "added"
    assert failed(verify_bundle(bundle, trust=bundles["roots"], threshold=2)) == ["bundle seal"]
    bundle = copy.deepcopy(bundles["single"])
    bundle["authority"]["signatures"][0]["by"] = "someone"
    assert failed(verify_bundle(bundle, trust=bundles["roots"], threshold=2)) == ["authority signatures"]


# --- forged and re-signed bundles ------------------------------------------------------------------------------


def forge(genuine: dict[str, Any], digest: bytes) -> tuple[dict[str, Any], str]:
    """A bundle made entirely with an outsider's key, against the published format: a fake receipt and header
    chain for a digest that was never anchored, 'attested' and sealed by the outsider. Self-consistent."""
    outsider = Account.create()
    registry = genuine["chain"]["contracts"]["EvidenceRegistry"]["address"]
    log = {"address": registry, "data": "0x" + encode(["uint8", "uint8", "bytes32"], [1, 8, bytes(32)]).hex(),
           "topics": [to_hex(EVENT_TOPICS["EvidenceAnchored"]), to_hex(digest),
                      "0x" + bytes(12).hex() + outsider.address[2:].lower()]}
    receipt = encode_receipt({"status": "0x1", "cumulativeGasUsed": "0xc350", "logsBloom": "0x" + "00" * 256,
                              "logs": [log], "type": "0x2"})
    root, nodes = receipt_proof([receipt], 0)
    headers, parent = [], None
    for i, raw in enumerate(genuine["headers"]):
        fields = rlp.decode(bytes.fromhex(raw[2:]))
        if i == 0:
            fields[5] = root  # receiptsRoot
        else:
            fields[0] = parent
        encoded = bytes(rlp.encode(fields))
        parent = keccak256(encoded)
        headers.append(encoded)
    first = rlp.decode(headers[0])
    bundle = copy.deepcopy(genuine)
    bundle["subject"] = {"digest": to_hex(digest), "hash_algorithm": "sha256", "original_name": None}
    bundle["anchor"].update({"tx_index": 0, "receipt": to_hex(receipt), "receipt_proof": [to_hex(n) for n in nodes],
                             "submitter": outsider.address.lower(),
                             "block_time": int.from_bytes(first[11], "big")})
    bundle["headers"] = [to_hex(h) for h in headers]
    top = rlp.decode(headers[-1])
    number, top_hash = int.from_bytes(top[8], "big"), keccak256(headers[-1])
    contracts = {n: c["address"] for n, c in bundle["chain"]["contracts"].items()}
    text = checkpoint_text(bundle["chain"]["chain_id"], number, top_hash, contracts)
    signature = Account.unsafe_sign_hash(personal_message_hash(text), outsider.key).signature
    bundle["authority"] = {"kind": "checkpoint", "block_number": number, "block_hash": to_hex(top_hash),
                           "signatures": [{"signer": outsider.address, "signature": to_hex(bytes(signature))}]}
    bundle.pop("seal")
    seal = Account.unsafe_sign_hash(personal_message_hash(seal_text(bundle)), outsider.key).signature
    bundle["seal"] = {"signer": outsider.address, "signature": to_hex(bytes(seal))}
    return bundle, outsider.address


def test_a_forged_bundle_is_never_verified(chain: Ledger, bundles: dict[str, Any]) -> None:
    never_anchored = os.urandom(32)
    assert not chain.evidence.verify(never_anchored).anchored
    forged, outsider = forge(bundles["single"], never_anchored)
    alone = verify_bundle(forged)
    assert failed(alone) == ["authority signatures"] and verdict(alone) is Verdict.INTEGRITY_ONLY, alone
    assert outsider in alone[-3].detail or outsider in str(alone)
    for roots in (bundles["roots"], TrustRoots.of_list(bundles["list"])):
        checks = verify_bundle(forged, trust=roots)
        assert verdict(checks) is Verdict.FAILED and failed(checks) == ["authority signatures"], checks


def test_a_re_signed_bundle_is_refused(bundles: dict[str, Any]) -> None:
    """An altered bundle re-sealed with another key: the seal must be the anchoring provider's."""
    bundle = copy.deepcopy(bundles["single"])
    bundle["extraction_record"]["conclusion"] = "The digest was anchored by a notary."
    bundle.pop("seal")
    other = Account.create()
    signature = Account.unsafe_sign_hash(personal_message_hash(seal_text(bundle)), other.key).signature
    bundle["seal"] = {"signer": other.address, "signature": to_hex(bytes(signature))}
    checks = verify_bundle(bundle, trust=bundles["roots"], threshold=2)
    assert failed(checks) == ["bundle seal"] and "altered after export" in checks[-1].detail


# --- the command line, offline ----------------------------------------------------------------------------------


def test_a_bundle_verifies_with_networking_unavailable(bundles: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    write_bundle(bundles["single"], path)
    assert read_bundle(path) == json.loads(path.read_text())
    trust_file = tmp_path / "trust-list.json"
    trust_file.write_text(json.dumps(bundles["list"].model_dump(mode="json")))
    base = [sys.executable, "-m", "ledger", "proof", "verify", str(path), "--file", str(bundles["original"])]
    env = {**os.environ, "LEDGER_HOME": str(tmp_path / "empty-home"), "LEDGER_RPC_URL": "http://127.0.0.1:9"}
    prefix = ["unshare", "-n"] if shutil.which("unshare") and subprocess.run(
        ["unshare", "-n", "true"], capture_output=True).returncode == 0 else []  # no network interfaces up

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, *base, *extra], capture_output=True, text=True, env=env, timeout=120)

    done = run("--trust", ",".join(bundles["trusted"]), "--threshold", "2")
    assert done.returncode == 0 and "VERIFIED 核验通过" in done.stdout, done.stdout + done.stderr
    done = run("--trust", str(trust_file))
    assert done.returncode == 0 and "VERIFIED 核验通过" in done.stdout, done.stdout + done.stderr
    done = run()
    assert done.returncode == 3 and "INTEGRITY ONLY" in done.stdout and "VERIFIED 核验通过" not in done.stdout
    assert not (tmp_path / "empty-home").exists()  # no database, no node touched
    tampered = json.loads(path.read_text())
    tampered["anchor"]["receipt"] = _flip(tampered["anchor"]["receipt"], 5)
    path.write_text(json.dumps(tampered))
    done = run("--trust", str(trust_file))
    assert done.returncode == 1 and "NOT VERIFIED 核验未通过: receipt in trie failed" in done.stdout
    forged, _ = forge(bundles["single"], os.urandom(32))
    path.write_text(json.dumps(forged))
    base.remove("--file")
    base.remove(str(bundles["original"]))
    assert run().returncode == 3
    assert run("--trust", str(trust_file)).returncode == 1


def test_trust_roots_are_parsed_strictly(tmp_path: Path, bundles: dict[str, Any]) -> None:
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps(bundles["list"].model_dump(mode="json")))
    assert load_trust(str(listed)).trust_list == bundles["list"]
    lines = tmp_path / "lines.txt"
    lines.write_text("# authorities\n" + "\n".join(bundles["trusted"]) + "\n")
    assert load_trust(str(lines)).authorities == {a.lower() for a in bundles["trusted"]}
    for bad in ("0x12", "notary", str(tmp_path / "empty.json")):
        (tmp_path / "empty.json").write_text("{}")
        with pytest.raises(LedgerValueError):
            load_trust(bad)


def test_export_refusals(chain: Ledger, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="not anchored"):
        export_evidence_bundle(chain, os.urandom(32), HashAlgorithm.SHA256)
    digest = os.urandom(32)
    chain.evidence.anchor(chain.sender("provider"), digest, HashAlgorithm.SHA256)
    with pytest.raises(NotFoundError, match="no checkpoint covers block"):  # the exporter itself never signs
        export_bundle(client=chain.client, deployment=chain.deployment, evidence=chain.evidence,
                      checkpoints=chain.checkpoints, keys=lambda _: None, digest=digest,
                      algorithm=HashAlgorithm.SHA256)
    # an installation that holds no endorser key waits for the authorities, then says why it cannot finish
    accounts = json.loads(chain.settings.accounts_path.read_text())
    for entry in accounts["accounts"].values():
        entry["roles"] = [r for r in entry["roles"] if r != "endorser"]
    no_keys = tmp_path / "accounts.json"
    no_keys.write_text(json.dumps(accounts))
    settings = Settings.from_env(home=chain.settings.home, accounts_file=no_keys, checkpoint_wait=0.5,
                                 database_url=chain.settings.database)
    with pytest.raises(NotFoundError, match="no authority has signed block"):
        export_evidence_bundle(Ledger(settings), digest, HashAlgorithm.SHA256)
    store = chain.checkpoints
    notary = chain.accounts.get("notary").address
    with pytest.raises(LedgerValueError, match="canonical"):
        store.add(1, chain.client.block(1)["hash"], notary, b"\x01" * 65)
    with pytest.raises(LedgerValueError, match="has hash"):
        store.add(1, "0x" + "00" * 32, notary, b"\x01" * 65)


def test_rpc_cross_check(bundles: dict[str, Any], chain: Ledger) -> None:
    checks = verify_bundle(bundles["single"], trust=bundles["roots"], rpc_url=chain.client.rpc_url)
    assert checks[-1].name == "live node" and checks[-1].ok
