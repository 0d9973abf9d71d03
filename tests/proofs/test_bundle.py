"""Court bundles exported from a real Anvil node, verified offline; any flipped byte is caught by name."""

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

from ledger.context import Ledger
from ledger.errors import LedgerValueError, NotFoundError
from ledger.hashing import HashAlgorithm, digest_file
from ledger.proofs.bundle import export_bundle, read_bundle, verify_bundle, write_bundle
from ledger.proofs.checkpoints import CheckpointStore

pytestmark = pytest.mark.chain
CHECKS = ["document hash", "Merkle path", "header chain", "receipt in trie", "event", "authority signatures",
          "bundle seal"]


def sign_checkpoints(chain: Ledger) -> list[str]:
    store = CheckpointStore(chain.engine, chain.client, chain.deployment.deployment_id)
    names = ["notary", "arbitration"]
    for name in names:
        store.sign_latest(chain.accounts.get(name).signer)
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
    single = export_bundle(chain, digest, HashAlgorithm.SM3, original.name, "Tianjin arbitration commission")
    batched = export_bundle(chain, entries[4][1], HashAlgorithm.SHA256)
    return {"single": single, "batched": batched, "original": original, "trusted": trusted, "folder": folder}


def failed(checks: list[Any]) -> list[str]:
    return [c.name for c in checks if not c.ok]


def test_single_and_batched_bundles_verify(bundles: dict[str, Any]) -> None:
    for kind in ("single", "batched"):
        checks = verify_bundle(bundles[kind], trusted=bundles["trusted"], threshold=2)
        assert failed(checks) == [], checks
        assert [c.name for c in checks] == CHECKS
    single = bundles["single"]
    assert len(single["headers"]) >= 2  # from the anchoring block up to the signed block
    record = single["extraction_record"]
    assert record["participants"]["requested_by"] == "Tianjin arbitration commission"
    assert "anchored in block" in record["conclusion"] and record["times"]["extracted_at"]
    assert bundles["batched"]["merkle"]["leaf_index"] == 4


def test_original_file_and_trust_settings(bundles: dict[str, Any]) -> None:
    original: Path = bundles["original"]
    assert failed(verify_bundle(bundles["single"], original)) == []
    tampered = bundles["folder"] / "tampered.txt"
    tampered.write_bytes(original.read_bytes()[:-1] + b"!")
    assert failed(verify_bundle(bundles["single"], tampered)) == ["document hash"]
    assert failed(verify_bundle(bundles["single"], trusted=bundles["trusted"], threshold=3)) == ["authority signatures"]
    stranger = ["0x" + "11" * 20]
    assert failed(verify_bundle(bundles["single"], trusted=stranger)) == ["authority signatures"]


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
    ("signatures", lambda b: b["authority"]["signatures"], {"authority signatures"}),
    ("extraction record", lambda b: b["extraction_record"], {"bundle seal"}),
    ("seal", lambda b: b["seal"], {"bundle seal"}),
]
KEYS = {"subject digest": "digest", "Merkle root": "root", "receipt": "receipt", "contract address": "address",
        "extraction record": "conclusion", "seal": "signature"}


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
        names = failed(verify_bundle(bundle, trusted=bundles["trusted"], threshold=2))
        assert names and names[0] in expected, (part, position, names)


def test_a_bundle_verifies_with_networking_unavailable(bundles: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    write_bundle(bundles["single"], path)
    assert read_bundle(path) == json.loads(path.read_text())
    command = [sys.executable, "-m", "ledger", "proof", "verify", str(path), "--file", str(bundles["original"]),
               "--trust", ",".join(bundles["trusted"]), "--threshold", "2"]
    env = {**os.environ, "LEDGER_HOME": str(tmp_path / "empty-home"), "LEDGER_RPC_URL": "http://127.0.0.1:9"}
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        command = ["unshare", "-n", *command]  # a network namespace with no interfaces up
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERIFIED" in done.stdout and not (tmp_path / "empty-home").exists()  # no database, no node touched
    tampered = json.loads(path.read_text())
    tampered["anchor"]["receipt"] = _flip(tampered["anchor"]["receipt"], 5)
    path.write_text(json.dumps(tampered))
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and "NOT VERIFIED: receipt in trie failed" in done.stdout


def test_export_refusals(chain: Ledger) -> None:
    with pytest.raises(NotFoundError, match="not anchored"):
        export_bundle(chain, os.urandom(32), HashAlgorithm.SHA256)
    digest = os.urandom(32)
    chain.evidence.anchor(chain.sender("provider"), digest, HashAlgorithm.SHA256)
    with pytest.raises(NotFoundError, match="no checkpoint covers block"):
        export_bundle(chain, digest, HashAlgorithm.SHA256)
    store = CheckpointStore(chain.engine, chain.client, chain.deployment.deployment_id)
    with pytest.raises(LedgerValueError, match="not"):
        store.add(1, chain.client.block(1)["hash"], chain.accounts.get("notary").address, b"\x01" * 65)
    with pytest.raises(LedgerValueError, match="has hash"):
        store.add(1, "0x" + "00" * 32, chain.accounts.get("notary").address, b"\x01" * 65)


def test_rpc_cross_check(bundles: dict[str, Any], chain: Ledger) -> None:
    checks = verify_bundle(bundles["single"], rpc_url=chain.client.rpc_url)
    assert checks[-1].name == "live node" and checks[-1].ok
