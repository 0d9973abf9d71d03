"""Issue #13 §2: trusted time (可信时间戳). The time service obtains RFC 3161 tokens from a real TSA — OpenSSL's own
``openssl ts -reply`` behind HTTP with a test CA made for this session — over each checkpoint and, on request,
over a digest; bundles and PDFs carry them; the offline verifier checks imprint, signature and chain against the
TSA root it is given, and without one says the time is unverified.

Done when: a bundle carrying a token from the local TSA verifies offline with ``--tsa-root``, and fails with a
wrong root or a changed imprint."""

from __future__ import annotations

import base64
import copy
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from ledger.context import Ledger
from ledger.devtsa import DevTsa, TsaInfo
from ledger.errors import LedgerValueError
from ledger.hashing import HashAlgorithm, to_hex
from ledger.pdf import embedded, inspect_pdf
from ledger.proofs.bundle import write_bundle
from ledger.proofs.signatures import personal_message_hash
from ledger.proofs.timestamping import request_token, timestamp_request
from ledger.proofs.timestamps import decode_token, encode_token, load_tsa_roots, parse_token, token_info
from ledger.proofs.trust import TrustRoots
from ledger.proofs.verify import Verdict, headline, inspect_bundle, seal_text, verdict, verify_bundle
from ledger.services.documents import certificate_pdf
from ledger.services.proofs import export_evidence_bundle, trust_list
from tests.proofs.test_state_proofs import BASE

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def timed(stamped: Ledger, tsa: TsaInfo, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    digest = os.urandom(32)
    stamped.evidence.anchor(stamped.sender("provider"), digest, HashAlgorithm.SHA256)
    bundle = export_evidence_bundle(stamped, digest, HashAlgorithm.SHA256, timestamp=True)
    other = DevTsa(tmp_path_factory.mktemp("other-ca") / "tsa")  # same names, another key: a wrong root
    other.init()
    return {"digest": digest, "bundle": bundle, "root": load_tsa_roots(Path(tsa.root)),
            "wrong": load_tsa_roots(other.root_pem), "trust": TrustRoots.of_list(trust_list(stamped)),
            "root_file": Path(tsa.root), "wrong_file": other.root_pem}


def _reseal(chain: Ledger, bundle: dict[str, Any]) -> dict[str, Any]:
    bundle = copy.deepcopy(bundle)
    bundle.pop("seal")
    key = chain.accounts.get("provider").signer
    signature = Account.unsafe_sign_hash(personal_message_hash(seal_text(bundle)), key.key).signature
    bundle["seal"] = {"signer": key.address, "signature": to_hex(bytes(signature))}
    return bundle


def _times(checks: list[Any]) -> list[Any]:
    return [c for c in checks if c.name == "trusted time"]


def test_a_token_from_the_local_tsa_verifies_with_its_root(timed: dict[str, Any]) -> None:
    """Done when (issue #13 §2), part 1."""
    bundle = timed["bundle"]
    assert [t["subject"] for t in bundle["trusted_time"]] == ["checkpoint", "digest"]
    assert bundle["trusted_time"][0]["block_number"] == bundle["authority"]["block_number"]
    found = inspect_bundle(bundle, trust=timed["trust"], tsa_roots=timed["root"])
    assert found.verdict is Verdict.VERIFIED, found.checks
    times = _times(found.checks)
    assert len(times) == 2 and all(c.ok for c in times)
    assert "signature and certificate chain verified to TSA root" in times[0].detail
    assert "the checkpoint of block" in times[0].detail and "the digest" in times[1].detail
    assert "trusted time verified" in headline(found.checks)
    assert [t.status for t in found.times] == ["verified", "verified"]
    assert found.times[0].info is not None and found.times[0].info.tsa.endswith("O=Data-asset ledger (development)")


def test_without_a_root_the_time_is_unverified_never_verified(timed: dict[str, Any]) -> None:
    checks = verify_bundle(timed["bundle"], trust=timed["trust"])
    times = _times(checks)
    assert times and all(not c.ok and c.level == "unverified" for c in times)
    assert all("NOT verified" in c.detail for c in times)
    assert verdict(checks) is Verdict.VERIFIED  # the anchor is verified; the time is said to be unverified
    assert "trusted time NOT verified" in headline(checks) and "every other check passed" in headline(checks)


def test_a_wrong_root_fails(timed: dict[str, Any]) -> None:
    """Done when, part 2: a root with the same name but another key is not the TSA's."""
    checks = verify_bundle(timed["bundle"], trust=timed["trust"], tsa_roots=timed["wrong"])
    times = _times(checks)
    assert times and all(not c.ok and c.level == "error" for c in times), times
    assert "does not verify to the given TSA root" in times[0].detail and "NOT verified" in times[0].detail
    assert verdict(checks) is Verdict.FAILED
    assert headline(checks).startswith("NOT VERIFIED 核验未通过: trusted time failed")


def test_a_changed_imprint_fails(stamped: Ledger, timed: dict[str, Any]) -> None:
    """Done when, part 3: a token over another imprint, and a token whose imprint bytes were changed."""
    bundle = timed["bundle"]
    other = os.urandom(32)
    stamped.evidence.anchor(stamped.sender("provider"), other, HashAlgorithm.SHA256)
    foreign = request_token(stamped.settings.resolve_tsa_url() or "", other)  # genuine token, other imprint
    swapped = copy.deepcopy(bundle)
    swapped["trusted_time"][1]["token"] = encode_token(foreign)
    checks = verify_bundle(_reseal(stamped, swapped), trust=timed["trust"], tsa_roots=timed["root"])
    assert [c.name for c in checks if not c.ok] == ["trusted time"], checks
    assert "does not time-stamp this bundle" in _times(checks)[1].detail

    der = decode_token(bundle["trusted_time"][1]["token"])
    at = der.find(timed["digest"])
    assert at > 0
    changed = bytearray(der)
    changed[at + 5] ^= 0x01
    edited = copy.deepcopy(bundle)
    edited["trusted_time"][1]["token"] = encode_token(bytes(changed))
    for roots in (timed["root"], None):
        checks = verify_bundle(_reseal(stamped, edited), trust=timed["trust"], tsa_roots=roots)
        assert [c.name for c in checks if not c.ok] == ["trusted time"] * (1 if roots else 2), checks
        assert verdict(checks) is Verdict.FAILED  # the token is over another imprint: not this bundle's
    # and the genuine imprint with a changed signature byte fails the signature
    signed = bytearray(der)
    signed[-10] ^= 0x01
    edited["trusted_time"][1]["token"] = encode_token(bytes(signed))
    checks = verify_bundle(_reseal(stamped, edited), trust=timed["trust"], tsa_roots=timed["root"])
    assert verdict(checks) is Verdict.FAILED and "trusted time" in [c.name for c in checks if not c.ok]


def test_tokens_must_belong_to_the_bundle(stamped: Ledger, timed: dict[str, Any]) -> None:
    bundle = timed["bundle"]
    elsewhere = copy.deepcopy(bundle)  # a token naming a block the bundle does not prove attested
    elsewhere["trusted_time"][0]["block_number"] += 1
    checks = verify_bundle(_reseal(stamped, elsewhere), trust=timed["trust"], tsa_roots=timed["root"])
    assert "does not prove attested" in _times(checks)[0].detail and verdict(checks) is Verdict.FAILED
    twice = copy.deepcopy(bundle)
    twice["trusted_time"].append(twice["trusted_time"][1])
    assert verdict(verify_bundle(_reseal(stamped, twice), trust=timed["trust"])) is Verdict.FAILED
    padded = copy.deepcopy(bundle)  # base64 has one spelling
    padded["trusted_time"][1]["token"] = base64.b64encode(decode_token(bundle["trusted_time"][1]["token"])
                                                          ).decode() + "\n"
    assert verdict(verify_bundle(_reseal(stamped, padded), trust=timed["trust"])) is Verdict.FAILED
    stripped = {k: v for k, v in bundle.items() if k != "trusted_time"}
    assert verdict(verify_bundle(stripped, trust=timed["trust"])) is Verdict.FAILED  # the seal covers them
    none = verify_bundle(_reseal(stamped, stripped), trust=timed["trust"], tsa_roots=timed["root"])
    assert _times(none)[0].level == "unverified" and "carries no RFC 3161 token" in _times(none)[0].detail


def test_the_time_service_stores_one_token_per_checkpoint(stamped: Ledger, timed: dict[str, Any]) -> None:
    again = export_evidence_bundle(stamped, timed["digest"], HashAlgorithm.SHA256, timestamp=True)
    assert again["trusted_time"][1] == timed["bundle"]["trusted_time"][1]  # the digest's token is kept
    if again["authority"]["block_number"] == timed["bundle"]["authority"]["block_number"]:
        assert again["trusted_time"][0] == timed["bundle"]["trusted_time"][0]
    info = token_info(parse_token(decode_token(timed["bundle"]["trusted_time"][1]["token"])))
    assert info.imprint == timed["digest"] and info.hash_algorithm == "sha256" and info.policy == "1.2.3.4.1"
    keccak = os.urandom(32)
    stamped.evidence.anchor(stamped.sender("provider"), keccak, HashAlgorithm.KECCAK256)
    with pytest.raises(LedgerValueError, match="SHA-256 digest, not keccak256"):
        export_evidence_bundle(stamped, keccak, HashAlgorithm.KECCAK256, timestamp=True)


def test_standard_tools_read_the_request_and_verify_the_token(timed: dict[str, Any], tsa: TsaInfo,
                                                              tmp_path: Path) -> None:
    """The request is a standard TimeStampReq; the digest's token verifies with `openssl ts -verify` against
    the original digest and the TSA root — nothing here is specific to this ledger."""
    query = tmp_path / "q.tsq"
    query.write_bytes(timestamp_request(bytes(range(32)), 2**62 + 7))
    text = subprocess.run(["openssl", "ts", "-query", "-in", str(query), "-text"], capture_output=True, text=True,
                          check=True).stdout
    assert "Hash Algorithm: sha256" in text and "Certificate required: yes" in text
    reply = tmp_path / "token.tsr"
    reply.write_bytes(decode_token(timed["bundle"]["trusted_time"][1]["token"]))
    done = subprocess.run(["openssl", "ts", "-verify", "-digest", timed["digest"].hex(), "-in", str(reply),
                           "-CAfile", tsa.root], capture_output=True, text=True)
    assert "Verification: OK" in done.stdout, done.stdout + done.stderr
    wrong = subprocess.run(["openssl", "ts", "-verify", "-digest", timed["digest"].hex(), "-in", str(reply),
                            "-CAfile", str(timed["wrong_file"])], capture_output=True, text=True)
    assert "Verification: OK" not in wrong.stdout


def test_the_test_ca_is_private(tsa: TsaInfo) -> None:
    folder = Path(tsa.root).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {p.name for p in folder.iterdir()} >= {"root.key", "tsa.key", "root.pem", "tsa.crt", "tsa.cnf"}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())


def test_certificate_pdfs_carry_the_tokens(stamped: Ledger, unit: dict[str, Any], timed: dict[str, Any],
                                           tmp_path: Path) -> None:
    pdf = certificate_pdf(stamped, unit["number"], BASE, timestamp=True)
    _, bundle = embedded(pdf)
    assert bundle is not None and [t["subject"] for t in bundle["trusted_time"]][-1] == "digest"
    found = inspect_pdf(pdf, timed["trust"], tsa_roots=timed["root"])
    assert found.verdict in (Verdict.VERIFIED, Verdict.VERIFIED_WITH_WARNING), found.checks
    assert found.times and all(t.status == "verified" for t in found.times)
    path = tmp_path / "cert.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "可信时间 Trusted time (RFC 3161)" in text and "Dev time-stamping authority" in text
    wrong = inspect_pdf(pdf, timed["trust"], tsa_roots=timed["wrong"])
    assert wrong.verdict is Verdict.FAILED


def test_the_command_line_offline(timed: dict[str, Any], tmp_path: Path) -> None:
    bundle_file, trust_file = tmp_path / "bundle.json", tmp_path / "trust.json"
    write_bundle(timed["bundle"], bundle_file)
    trust_file.write_text(json.dumps(timed["trust"].trust_list.model_dump(mode="json")))
    env = {**os.environ, "LEDGER_HOME": str(tmp_path / "none")}

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ledger", "proof", "verify", str(bundle_file), "--trust",
                               str(trust_file), *extra], capture_output=True, text=True, env=env, timeout=120)

    ok = run("--tsa-root", str(timed["root_file"]))
    assert ok.returncode == 0 and "trusted time verified" in ok.stdout, ok.stdout + ok.stderr
    unverified = run()
    assert unverified.returncode == 0 and "UNVERIFIED" in unverified.stdout and "NOT verified" in unverified.stdout
    wrong = run("--tsa-root", str(timed["wrong_file"]))
    assert wrong.returncode == 1 and "trusted time failed" in wrong.stdout
