"""Offline verification of court bundles (司法存证包核验) — what a court, a bank or an exchange runs.

``verify_bundle`` needs no network and no database. It recomputes every hash and signature of a bundle and
reports each check by name, then ``verdict`` says what the checks add up to (issue #7):

- ``VERIFIED`` — every check passed, the attesting authorities are the verifier's trust roots, and (for a
  certificate) the registry held it as the current, valid certificate at the proven block;
- ``VERIFIED_WITH_WARNING`` — as above, but the unit is under objection (SZ art. 20: a disposal needs a
  written risk acknowledgement);
- ``NOT_VALID`` — authentic, but the certificate is superseded, expired, suspended, cancelled or revoked;
- ``INTEGRITY_ONLY`` — internally consistent, but no trust roots were given: anyone can make such a bundle;
- ``FAILED`` — a check failed: the bundle was altered or forged.

A certificate is recognised by the proven anchoring event itself (evidence kind CERTIFICATE, its ``ref`` the
unit id), so its registry-status proof cannot be left out of a bundle unnoticed. Its unit's state proof
(``ledger.proofs.state``, issue #13) is checked in named steps — the attested block (``state block``), the
storage proofs (``state proof``), the complete list of active pledges and licences (``rights page``) and of
open objections (``objections``), then the certificate's ``registry status`` — and decoded into a readable
unit view (:class:`BundleVerification`).

RFC 3161 tokens in the bundle (``trusted_time``, ``ledger.proofs.timestamps``) are checked as ``trusted time``:
with the TSA roots the verifier brings (``--tsa-root``) they are verified or fail; without, they are reported
*unverified* (level ``unverified``: shown, never counted as verified, the verdict rests on the other checks).

Bundles of format ``ledger.court-bundle/2`` (exported before issue #13: a status-only state proof, no tokens)
still verify as they did.

This module imports only hashing, Merkle, RLP/trie, signature, state-proof and time-stamp code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ledger.errors import LedgerValueError
from ledger.hashing import HashAlgorithm, canonical_json, digest_bytes, digest_file, keccak256, to_hex
from ledger.merkle import leaf_hash, process_proof
from ledger.proofs import qbft
from ledger.proofs.authority import SIGNATURE_FIELDS, Attestation, check_authority
from ledger.proofs.ethrlp import decode_header, decode_receipt, verify_receipt_proof
from ledger.proofs.signatures import recover_personal
from ledger.proofs.state import (
    LAYOUT_ID,
    CertificateStatus,
    UnitState,
    UnitView,
    assess_certificate,
    decode_unit_view,
    unit_proof_slots,
    unit_slots,
    verify_account_proof,
    verify_storage_proof,
    verify_storage_proofs,
)
from ledger.proofs.timestamps import TokenCheck, check_token, checkpoint_imprint, decode_token, digest_imprint
from ledger.proofs.trust import TrustRoots

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

FORMAT = "ledger.court-bundle/3"
#: Formats this verifier reads: /2 was exported before issue #13 (status-only state proof, no trusted time).
FORMATS = ("ledger.court-bundle/2", FORMAT)
LEGACY_FORMAT = "ledger.court-bundle/2"
#: A bundle's proof of one unit's registry state (issue #13).
STATE_FORMAT = "ledger.unit-state/1"
EVENT_TOPICS = {
    "EvidenceAnchored": keccak256(b"EvidenceAnchored(bytes32,address,uint8,uint8,bytes32)"),
    "BatchAnchored": keccak256(b"BatchAnchored(bytes32,address,uint32,bytes32)"),
}
#: EvidenceKind.CERTIFICATE (ledger.evidence): an anchored certificate, its ``ref`` the unit id (TJIFA §8.2.3).
CERTIFICATE_KIND = 3

Level = Literal["error", "trust", "invalid", "warning", "unverified"]
T = TypeVar("T")


class Verdict(StrEnum):
    VERIFIED = "verified"
    VERIFIED_WITH_WARNING = "verified_with_warning"
    NOT_VALID = "not_valid"
    INTEGRITY_ONLY = "integrity_only"
    FAILED = "failed"

    @property
    def exit_code(self) -> int:
        """``ledger proof verify``'s exit status (2 is left to usage errors)."""
        return {Verdict.VERIFIED: 0, Verdict.FAILED: 1, Verdict.INTEGRITY_ONLY: 3, Verdict.NOT_VALID: 4,
                Verdict.VERIFIED_WITH_WARNING: 5}[self]


@dataclass(frozen=True)
class Check:
    """One named check. ``level`` says what a failure means: ``error`` (altered or forged), ``trust`` (not
    authenticated), ``invalid`` (authentic but not a valid registration), ``warning`` (valid, with a caveat),
    ``unverified`` (a claim left unchecked for want of a root — trusted time without ``--tsa-root``: never
    reported as verified, and it leaves the verdict to the other checks)."""

    name: str
    ok: bool
    detail: str
    level: Level = "error"


def verdict(checks: list[Check]) -> Verdict:
    failed = {c.level for c in checks if not c.ok}
    if not checks or "error" in failed:
        return Verdict.FAILED
    if "trust" in failed:
        return Verdict.INTEGRITY_ONLY
    if "invalid" in failed:
        return Verdict.NOT_VALID
    if "warning" in failed:
        return Verdict.VERIFIED_WITH_WARNING
    return Verdict.VERIFIED


def headline(checks: list[Check]) -> str:
    """The one line a person reads first."""
    result = verdict(checks)
    first = next((c for c in checks if not c.ok and c.level == "error"), None)
    if result is Verdict.FAILED:
        return (f"NOT VERIFIED 核验未通过: {first.name} failed: {first.detail}" if first
                else "NOT VERIFIED 核验未通过: nothing could be checked")
    if result is Verdict.INTEGRITY_ONLY:
        return ("INTEGRITY ONLY — NOT AUTHENTICATED 仅完整性校验，未认证: the bundle is internally consistent, but no "
                "trust roots were given, so nothing shows who made it. Pass the platform's trust list "
                "(--trust trust-list.json) or its authorities' addresses.")
    status = next((c for c in checks if c.name == "registry status"), None)
    times = [c for c in checks if c.name == "trusted time"]
    time_note = ""
    if any(not c.ok for c in times):
        time_note = " — trusted time NOT verified 可信时间未核验 (no --tsa-root, or no token)"
    elif times:
        time_note = " — trusted time verified 可信时间已核验 (RFC 3161)"
    if result is Verdict.NOT_VALID:
        reason = status.detail if status else "not a valid registration"
        return f"NOT VALID 证书无效: authentic, but {reason}{time_note}"
    if result is Verdict.VERIFIED_WITH_WARNING:
        return f"VERIFIED WITH WARNING 核验通过（附警示）: {status.detail if status else ''}{time_note}"
    passed = "every check passed" if not times or all(c.ok for c in times) else "every other check passed"
    return f"VERIFIED 核验通过: {passed}" + (f"; {status.detail}" if status else "") + time_note


def read_bundle(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise LedgerValueError(f"cannot read bundle {path}: {exc}") from exc
    if not isinstance(data, dict) or not str(data.get("format", "")).startswith("ledger.court-bundle/"):
        raise LedgerValueError(f"{path} is not a court bundle ({FORMAT})")
    return data


def seal_text(bundle: Mapping[str, Any]) -> str:
    """What the evidence provider signs: the SHA-256 of the canonical bundle without its seal."""
    body = {k: v for k, v in bundle.items() if k != "seal"}
    return f"ledger bundle\nsha256: {to_hex(digest_bytes(canonical_json(body)))}"


def _unhex(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise LedgerValueError(f"{what} is not hexadecimal")
    try:
        return bytes.fromhex(value[2:] if value.startswith("0x") else value)
    except ValueError:
        raise LedgerValueError(f"{what} is not hexadecimal") from None


@dataclass(frozen=True)
class Attested:
    """A block the bundle proves attested, and by whom (for the report: the authorities and their kinds)."""

    role: str  # "anchor" (the header chain's signed block) or "state" (the state proof's block)
    block_number: int
    block_hash: bytes
    attestation: Attestation


@dataclass
class BundleVerification:
    """Everything a verification found: the named checks (in order), the unit view decoded from a proven state,
    the time-stamp tokens and the attested blocks."""

    checks: list[Check] = field(default_factory=list)
    unit: UnitView | None = None
    times: list[TokenCheck] = field(default_factory=list)
    attested: list[Attested] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        return verdict(self.checks)


class _Run(BundleVerification):
    """Collects checks; ``guard`` turns a malformed part into a failed check instead of a crash."""

    def check(self, name: str, ok: bool, detail: str, level: Level = "error") -> bool:
        self.checks.append(Check(name, ok, detail, level))
        return ok

    def guard(self, name: str, run: Callable[[], T]) -> T | None:
        try:
            return run()
        except (LedgerValueError, KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            message = exc.user_message if isinstance(exc, LedgerValueError) else f"{exc.__class__.__name__}: {exc}"
            self.check(name, False, f"malformed bundle part: {message}")
            return None


@dataclass(frozen=True)
class _Headers:
    encoded: list[bytes]
    decoded: list[dict[str, Any]]
    hashes: list[bytes]


def _headers(run: _Run, encoded_hex: Any, kind: str, name: str) -> _Headers | None:
    encoded = run.guard(name, lambda: [_unhex(h, "a header") for h in encoded_hex])
    if not encoded:
        run.check(name, False, "no block headers")
        return None
    decoded = run.guard(name, lambda: [decode_header(h) for h in encoded])
    hashes = run.guard(name, lambda: [qbft.block_hash(h) if kind == "qbft" else keccak256(h) for h in encoded])
    if decoded is None or hashes is None:
        return None
    for i in range(1, len(encoded)):
        if decoded[i]["parentHash"] != hashes[i - 1] or decoded[i]["number"] != decoded[i - 1]["number"] + 1:
            run.check(name, False, f"header {decoded[i]['number']} does not follow header "
                                   f"{decoded[i - 1]['number']} (parent hash mismatch)")
            return None
    return _Headers(encoded, decoded, hashes)


def _attest(run: _Run, name: str, authority: Any, headers: _Headers, chain_id: int, contracts: Mapping[str, str],
            trust: TrustRoots | None, threshold: int | None) -> Attestation | None:
    if not isinstance(authority, dict):
        run.check(name, False, "the bundle names no authority")
        return None
    attestation = run.guard(name, lambda: check_authority(authority, headers.encoded[-1], headers.hashes[-1],
                                                          headers.decoded[-1]["number"], chain_id, contracts, trust,
                                                          threshold))
    if attestation is None:
        return None
    if not attestation.valid:
        run.check(name, False, attestation.detail)
        return None
    # Without trust roots the signers are the bundle's own claim: integrity only. With trust roots, signers
    # that are not among them make the bundle unauthentic: a failure.
    run.check(name, attestation.authenticated, attestation.detail, "trust" if trust is None else "error")
    return attestation if attestation.authenticated or trust is None else None


def verify_bundle(bundle: dict[str, Any], original: Path | None = None, trust: TrustRoots | None = None,
                  threshold: int | None = None, rpc_url: str | None = None,
                  certificate_unit: bytes | None = None,
                  tsa_roots: Sequence[Certificate] | None = None) -> list[Check]:
    """Every check of a bundle, in order. ``certificate_unit``: the bundle must prove the registry status of
    this unit's certificate (a certificate PDF passes its document's unit). ``tsa_roots``: the TSA root
    certificates that make an RFC 3161 token's time *verified*."""
    return inspect_bundle(bundle, original, trust, threshold, rpc_url, certificate_unit, tsa_roots).checks


def inspect_bundle(bundle: dict[str, Any], original: Path | None = None, trust: TrustRoots | None = None,
                   threshold: int | None = None, rpc_url: str | None = None, certificate_unit: bytes | None = None,
                   tsa_roots: Sequence[Certificate] | None = None) -> BundleVerification:
    """:func:`verify_bundle`, with what the checks found: the decoded unit view, the time-stamp tokens and the
    attested blocks (what a verification report shows)."""
    run = _Run()
    _checks(run, bundle, original, trust, threshold, rpc_url, certificate_unit, tsa_roots)
    return BundleVerification(run.checks, run.unit, run.times, run.attested)


def _checks(run: _Run, bundle: dict[str, Any], original: Path | None, trust: TrustRoots | None,
            threshold: int | None, rpc_url: str | None, certificate_unit: bytes | None,
            tsa_roots: Sequence[Certificate] | None) -> None:
    if bundle.get("format") not in FORMATS:
        run.check("bundle format", False, f"{bundle.get('format')!r} is not {FORMAT}: export the bundle again")
        return
    legacy = bundle.get("format") == LEGACY_FORMAT
    subject = bundle.get("subject") or {}
    digest = run.guard("document hash", lambda: _unhex(subject["digest"], "subject.digest"))
    algorithm = run.guard("document hash", lambda: HashAlgorithm.parse(subject["hash_algorithm"]))
    if digest is None or algorithm is None or len(digest) != 32:
        run.check("document hash", False, "the bundle names no valid 32-byte digest")
        return
    if original is not None:
        actual = digest_file(original, algorithm)
        run.check("document hash", actual == digest,
                  f"{algorithm.label}({original.name}) = {to_hex(actual)}"
                  + (" matches the bundle" if actual == digest else f", the bundle proves {to_hex(digest)}"))
    else:
        run.check("document hash", True, f"no original given: proving digest {to_hex(digest)} itself")

    anchor = bundle.get("anchor") or {}
    merkle = bundle.get("merkle")
    key = digest
    if merkle is not None:
        computed = run.guard("Merkle path", lambda: process_proof(
            leaf_hash(algorithm, digest), [_unhex(p, "merkle.proof") for p in merkle["proof"]]))
        claimed = run.guard("Merkle path", lambda: _unhex(merkle["root"], "merkle.root"))
        if computed is None or claimed is None or not run.check(
                "Merkle path", computed == claimed, f"leaf {merkle.get('leaf_index')} folds to {to_hex(computed)}"
                + ("" if computed == claimed else f", not the bundle's root {merkle.get('root')}")):
            return
        key = computed
    else:
        run.check("Merkle path", True, "anchored singly: no Merkle path")

    authority = bundle.get("authority") or {}
    kind = str(authority.get("kind", ""))
    headers = _headers(run, bundle.get("headers"), kind, "header chain")
    if headers is None:
        return
    if headers.decoded[0]["number"] != anchor.get("block_number"):
        run.check("header chain", False, f"the first header is block {headers.decoded[0]['number']}, the anchor "
                                         f"claims block {anchor.get('block_number')}")
        return
    run.check("header chain", True, f"{len(headers.encoded)} header(s) from block {headers.decoded[0]['number']} "
                                    f"link by parent hash; anchoring block hash {to_hex(headers.hashes[0])}")

    nodes = run.guard("receipt in trie", lambda: [_unhex(n, "anchor.receipt_proof") for n in anchor["receipt_proof"]])
    receipt_bytes = None if nodes is None else run.guard(
        "receipt in trie", lambda: verify_receipt_proof(headers.decoded[0]["receiptsRoot"], int(anchor["tx_index"]),
                                                        nodes))
    claimed_receipt = run.guard("receipt in trie", lambda: _unhex(anchor["receipt"], "anchor.receipt"))
    if receipt_bytes is None or claimed_receipt is None:
        return
    if not run.check("receipt in trie", receipt_bytes == claimed_receipt,
                     f"transaction {anchor['tx_index']}'s receipt is in receiptsRoot "
                     f"{to_hex(headers.decoded[0]['receiptsRoot'])}" if receipt_bytes == claimed_receipt
                     else "the bundle's receipt differs from the one the proof holds"):
        return

    receipt = decode_receipt(receipt_bytes)
    chain = bundle.get("chain") or {}
    contracts_meta = chain.get("contracts") or {}
    contracts = {str(n): str((c or {}).get("address", "")) for n, c in contracts_meta.items()}
    registry = contracts.get("EvidenceRegistry", "")
    event = str(anchor.get("event"))
    topic = EVENT_TOPICS.get(event, b"")
    matches = [log for log in receipt["logs"] if to_hex(log["address"]).lower() == registry.lower()
               and len(log["topics"]) >= 3 and log["topics"][0] == topic and log["topics"][1] == key]
    if receipt["status"] != 1:
        run.check("event", False, "the anchoring transaction failed (receipt status 0)")
        return
    if not matches or str(anchor.get("contract", "")).lower() != registry.lower():
        run.check("event", False, f"no {event} log for {to_hex(key)} from the EvidenceRegistry {registry}")
        return
    log = matches[0]
    evidence_kind, unit_ref = 0, b""
    if event == "EvidenceAnchored":
        if len(log["data"]) != 96:
            run.check("event", False, "the EvidenceAnchored log does not carry (algorithm, kind, ref)")
            return
        alg_id, evidence_kind = log["data"][31], log["data"][63]
        unit_ref = log["data"][64:96]
        if alg_id != int(algorithm):
            run.check("event", False, f"the chain records {to_hex(key)} as hashed with algorithm {alg_id}, the bundle "
                                      f"claims {algorithm.label}")
            return
    run.check("event", True, f"{event}({to_hex(key)}) emitted by EvidenceRegistry {registry}")

    chain_id = chain.get("chain_id")
    if not isinstance(chain_id, int):
        run.check("authority signatures", False, "the bundle names no chain id")
        return
    attestation = _attest(run, "authority signatures", authority, headers, chain_id, contracts, trust, threshold)
    if attestation is None:
        return
    run.attested.append(Attested("anchor", headers.decoded[-1]["number"], headers.hashes[-1], attestation))
    if trust is not None:
        _chain_identity(run, chain, contracts, trust, attestation)

    if certificate_unit is not None or evidence_kind == CERTIFICATE_KIND:
        unit = certificate_unit if certificate_unit is not None else unit_ref
        if certificate_unit is not None and evidence_kind == CERTIFICATE_KIND and unit_ref != certificate_unit:
            run.check("registry status", False, f"the chain anchored this certificate for unit {to_hex(unit_ref)}, "
                                                f"not for the document's unit {to_hex(certificate_unit)}")
        elif legacy:
            _legacy_registry_status(run, bundle, digest, unit, headers.decoded[0]["number"], chain_id, contracts,
                                    contracts_meta, trust, threshold)
        else:
            _unit_state(run, bundle, digest, unit, headers, chain_id, contracts, contracts_meta, trust, threshold)
    if legacy and "trusted_time" in bundle:
        run.check("trusted time", False, f"{LEGACY_FORMAT} bundles carry no trusted time: this one was altered")
    elif not legacy:
        _trusted_time(run, bundle, chain_id, contracts, digest, algorithm, tsa_roots)

    _check_seal(run, bundle, log, headers.decoded[0])
    if rpc_url and all(c.ok or c.level != "error" for c in run.checks):
        proven_unit = (certificate_unit or unit_ref) if any(c.name == "registry status" for c in run.checks) else None
        run.checks.extend(_cross_check(rpc_url, headers.decoded[0]["number"], headers.hashes[0], chain_id,
                                       contracts.get("AssetRegistry"), proven_unit, digest))
    return


def _chain_identity(run: _Run, chain: Mapping[str, Any], contracts: Mapping[str, str], trust: TrustRoots,
                    attestation: Attestation) -> None:
    """The bundle is about the platform's own chain and registry contracts, not look-alikes."""
    listed = trust.trust_list
    if listed is None:
        if attestation.pins_contracts:
            run.check("chain identity", True, "the trusted authorities' signatures name these registry contracts: "
                      + ", ".join(f"{n} {a}" for n, a in sorted(contracts.items())))
        else:
            run.check("chain identity", False, "QBFT seals do not name the registry contracts: give the platform's "
                      "trust list (--trust trust-list.json) to pin them", "trust")
        return
    wrong = []
    if chain.get("chain_id") != listed.chain_id:
        wrong.append(f"chain id {chain.get('chain_id')} (trust list: {listed.chain_id})")
    if str(chain.get("genesis_hash", "")).lower() != listed.genesis_hash:
        wrong.append(f"genesis {chain.get('genesis_hash')} (trust list: {listed.genesis_hash})")
    for name, address in listed.contracts.items():
        if name in contracts and contracts[name].lower() != address.lower():
            wrong.append(f"{name} {contracts[name]} (trust list: {address})")
    missing = [n for n in ("EvidenceRegistry",) if n not in listed.contracts]
    if missing:
        wrong.append(f"the trust list names no {', '.join(missing)}")
    run.check("chain identity", not wrong,
              f"chain {listed.chain_id} and the registry contracts of {listed.platform}, as its trust list names them"
              if not wrong else "not the platform's chain or contracts: " + "; ".join(wrong))


def _legacy_registry_status(run: _Run, bundle: Mapping[str, Any], digest: bytes, unit_id: bytes,
                            anchor_block: int, chain_id: int, contracts: Mapping[str, str],
                            contracts_meta: Mapping[str, Any], trust: TrustRoots | None,
                            threshold: int | None) -> None:
    """A ``ledger.court-bundle/2`` certificate's status at the proven block: the state proof of its unit's two
    slots in AssetRegistry (issue #7), as bundles exported before issue #13 carry it."""
    name = "registry status"
    state = bundle.get("registry_state")
    if not isinstance(state, dict):
        run.check(name, False, "the bundle does not prove the certificate's registry status (no registry_state): "
                               "nothing shows it is still the current, valid certificate")
        return
    if _unhex(str(state.get("unit_id", "")), "registry_state.unit_id") != unit_id:
        run.check(name, False, f"the state proof is about unit {state.get('unit_id')}, not {to_hex(unit_id)}")
        return
    assets = contracts.get("AssetRegistry", "")
    if str(state.get("contract", "")).lower() != assets.lower() or not assets:
        run.check(name, False, f"the state proof is about contract {state.get('contract')}, not the bundle's "
                               f"AssetRegistry {assets or '(none)'}")
        return
    authority = state.get("authority") or {}
    headers = _headers(run, [state.get("header")], str(authority.get("kind", "")), name)
    if headers is None:
        return
    header = headers.decoded[0]
    if header["number"] < anchor_block:
        run.check(name, False, f"the state proof is at block {header['number']}, before the anchor ({anchor_block})")
        return
    attestation = run.guard(name, lambda: check_authority(authority, headers.encoded[0], headers.hashes[0],
                                                          header["number"], chain_id, contracts, trust, threshold))
    if attestation is None:
        return
    if not attestation.valid or (trust is not None and not attestation.authenticated):
        run.check(name, False, f"the block of the state proof is not attested: {attestation.detail}")
        return

    def proven_unit() -> UnitState:
        account = verify_account_proof(header["stateRoot"], _unhex(assets, "AssetRegistry address"),
                                       [_unhex(n, "account proof") for n in state["account_proof"]])
        code_hash = str((contracts_meta.get("AssetRegistry") or {}).get("runtime_code_hash", ""))
        if to_hex(account.code_hash) != code_hash.lower():
            raise LedgerValueError(f"the account at {assets} runs code {to_hex(account.code_hash)}, not the "
                                   f"AssetRegistry the bundle names ({code_hash})")
        proofs = {int(str(p["slot"]), 16): p["proof"] for p in state["storage"]}
        words = [verify_storage_proof(account.storage_root, slot, [_unhex(n, "storage proof") for n in proofs[slot]])
                 for slot in unit_slots(unit_id)]
        return UnitState.from_slots(unit_id, words[0], words[1])

    unit = run.guard(name, proven_unit)
    if unit is None:
        return
    status: CertificateStatus = assess_certificate(unit, digest, header["timestamp"])
    where = f" — proven at block {header['number']} from its stateRoot"
    if not status.usable:
        run.check(name, False, status.describe() + where, "invalid")
    elif status.under_objection:
        run.check(name, False, status.describe() + where, "warning")
    else:
        run.check(name, True, status.describe() + where)


def _unit_state(run: _Run, bundle: Mapping[str, Any], digest: bytes, unit_id: bytes, chain: _Headers,
                chain_id: int, contracts: Mapping[str, str], contracts_meta: Mapping[str, Any],
                trust: TrustRoots | None, threshold: int | None) -> None:
    """The certificate's unit as the registry held it at an attested block (issue #13): its state proof checked
    step by step, decoded into ``run.unit``, then the certificate's status. The block is the one the bundle's
    own authorities attest (the last of its header chain: the state proof then names no header of its own), or a
    later one with its header and attestation."""
    state = bundle.get("registry_state")
    if not isinstance(state, dict):
        run.check("registry status", False, "the bundle does not prove the certificate's registry status (no "
                                            "registry_state): nothing shows it is still the current, valid certificate")
        return
    if state.get("format") != STATE_FORMAT or state.get("layout") != LAYOUT_ID:
        run.check("state proof", False, f"the state proof is a {state.get('format')!r} of layout "
                                        f"{state.get('layout')!r}; this verifier decodes {STATE_FORMAT} of {LAYOUT_ID}")
        return
    if run.guard("registry status", lambda: _unhex(str(state.get("unit_id", "")), "registry_state.unit_id")) \
            != unit_id:
        run.check("registry status", False, f"the state proof is about unit {state.get('unit_id')}, not "
                                            f"{to_hex(unit_id)}")
        return
    assets = contracts.get("AssetRegistry", "")
    if str(state.get("contract", "")).lower() != assets.lower() or not assets:
        run.check("registry status", False, f"the state proof is about contract {state.get('contract')}, not the "
                                            f"bundle's AssetRegistry {assets or '(none)'}")
        return

    signed = chain.decoded[-1]["number"]
    if "header" not in state and "authority" not in state:  # the block the bundle's authorities attest
        if state.get("block_number") != signed or not run.attested:
            run.check("state block", False, f"the state proof names block {state.get('block_number')} without its "
                                            f"header, and it is not the bundle's attested block {signed}")
            return
        header, block_hash = chain.decoded[-1], chain.hashes[-1]
        run.check("state block", True, f"block {signed} ({to_hex(block_hash)}, stateRoot "
                                       f"{to_hex(header['stateRoot'])}): the block the bundle's authorities attest")
    else:
        authority = state.get("authority") or {}
        headers = _headers(run, [state.get("header")], str(authority.get("kind", "")), "state block")
        if headers is None:
            return
        header, block_hash = headers.decoded[0], headers.hashes[0]
        if header["number"] <= signed or state.get("block_number") != header["number"]:
            run.check("state block", False, f"the state proof's own block {header['number']} (it claims "
                                            f"{state.get('block_number')}) must come after the bundle's attested "
                                            f"block {signed}")
            return
        found = run.guard("state block", lambda: check_authority(
            authority, headers.encoded[0], block_hash, header["number"], chain_id, contracts, trust, threshold))
        if found is None:
            return
        if not found.valid or (trust is not None and not found.authenticated):
            run.check("state block", False, f"the block of the state proof is not attested: {found.detail}")
            return
        run.attested.append(Attested("state", header["number"], block_hash, found))
        run.check("state block", True, f"block {header['number']} ({to_hex(block_hash)}, stateRoot "
                                       f"{to_hex(header['stateRoot'])}): {found.detail}")

    def proven() -> UnitView:
        entry_ids = state["rights_entries"]
        objection_ids = [_unhex(o, "registry_state.objections") for o in state["objections"]]
        if not isinstance(entry_ids, list) or not all(type(e) is int and e > 0 for e in entry_ids):
            raise LedgerValueError("registry_state.rights_entries must list entry ids")
        if not all(len(o) == 32 for o in objection_ids):
            raise LedgerValueError("registry_state.objections must list 32-byte objection ids")
        plan = unit_proof_slots(unit_id, entry_ids, objection_ids)
        stated = state["values"]
        if not isinstance(stated, list) or len(stated) != len(plan):
            raise LedgerValueError(f"the state proof must give the values of exactly the unit's {len(plan)} slots of "
                                   f"layout {LAYOUT_ID}, in order")
        account = verify_account_proof(header["stateRoot"], _unhex(assets, "AssetRegistry address"),
                                       [_unhex(n, "account proof") for n in state["account_proof"]])
        code_hash = str((contracts_meta.get("AssetRegistry") or {}).get("runtime_code_hash", ""))
        if to_hex(account.code_hash) != code_hash.lower():
            raise LedgerValueError(f"the account at {assets} runs code {to_hex(account.code_hash)}, not the "
                                   f"AssetRegistry the bundle names ({code_hash})")
        values = verify_storage_proofs(account.storage_root, [slot for _, slot in plan],
                                       [_unhex(n, "storage proof") for n in state["storage_proof"]])
        for (label, slot), value in zip(plan, stated, strict=True):
            if value != hex(values[slot]):
                raise LedgerValueError(f"the bundle states {label} = {value}, the proof shows {hex(values[slot])}")
        return decode_unit_view(unit_id, values, entry_ids, objection_ids, header["number"], header["timestamp"])

    view = run.guard("state proof", proven)
    if view is None:
        return
    run.unit = view
    slots = len(unit_proof_slots(unit_id, [e.entry_id for e in view.entries],
                                 [o.objection_id for o in view.objections]))
    code_hash = (contracts_meta.get("AssetRegistry") or {}).get("runtime_code_hash")
    run.check("state proof", True, f"AssetRegistry {assets} (code {code_hash}) and the unit's {slots} storage slots "
                                   f"proven against block {header['number']}'s stateRoot; right holders — "
                                   + "; ".join(view.holder_lines()))
    page, objections = view.problems["rights page"], view.problems["objections"]
    if page:
        run.check("rights page", False, "; ".join(page))
    elif view.entries:
        count = view.active_entry_count
        run.check("rights page", True, f"all {count} active entr{'y' if count == 1 else 'ies'} of the unit's rights "
                                       f"page proven (activeEntries {count}, activePledges "
                                       f"{view.active_pledge_count}): " + "; ".join(map(view.entry_line, view.entries)))
    else:
        run.check("rights page", True, "no active pledge or licence (activeEntries 0, activePledges 0)")
    if objections:
        run.check("objections", False, "; ".join(objections))
    elif view.objections:
        run.check("objections", True, f"all {len(view.objections)} open objection registration(s) proven "
                                      f"(openObjections {view.unit.open_objections}): "
                                      + "; ".join(map(view.objection_line, view.objections)))
    else:
        run.check("objections", True, "no open objection registration (openObjections 0)")
    if page or objections:
        return
    status = assess_certificate(view.unit, digest, header["timestamp"])
    where = f" — proven at block {header['number']} from its stateRoot"
    pledged = "".join(f"; PLEDGED 已质押 to {e.counterparty} (entry {e.entry_id})" for e in view.pledges)
    if not status.usable:
        run.check("registry status", False, status.describe() + pledged + where, "invalid")
    elif status.under_objection:
        run.check("registry status", False, status.describe() + pledged + where, "warning")
    else:
        run.check("registry status", True, status.describe() + pledged + where)


def _trusted_time(run: _Run, bundle: Mapping[str, Any], chain_id: int, contracts: Mapping[str, str], digest: bytes,
                  algorithm: HashAlgorithm, roots: Sequence[Certificate] | None) -> None:
    """RFC 3161 tokens over the bundle's attested checkpoints and, on request, its digest."""
    name = "trusted time"
    entries = bundle.get("trusted_time")
    if entries is None:
        if roots:
            run.check(name, False, "the bundle carries no RFC 3161 token: its times rest on block headers alone",
                      "unverified")
        return
    if not isinstance(entries, list) or not entries:
        run.check(name, False, "trusted_time must list at least one token")
        return
    attested = {a.block_number: a.block_hash for a in run.attested if a.attestation.valid}
    seen: set[tuple[str, int | None]] = set()
    for entry in entries:
        subject = entry.get("subject") if isinstance(entry, dict) else None
        fields = {"subject", "block_number", "token"} if subject == "checkpoint" else {"subject", "token"}
        if not isinstance(entry, dict) or subject not in ("checkpoint", "digest") or set(entry) != fields:
            run.check(name, False, "a trusted_time entry must be a checkpoint token (subject, block_number, token) or "
                                   "a digest token (subject, token)")
            continue
        number = entry.get("block_number")
        if (subject, number) in seen:
            run.check(name, False, f"two tokens over the same {subject}")
            continue
        seen.add((subject, number))
        try:
            der = decode_token(entry["token"])
            if subject == "checkpoint":
                if type(number) is not int or number not in attested:
                    raise LedgerValueError(f"a token names block {number}, which this bundle does not prove attested")
                imprint = checkpoint_imprint(chain_id, number, attested[number], contracts)
                what = f"the checkpoint of block {number} ({to_hex(attested[number])})"
                result = check_token(der, imprint, "checkpoint", what, roots, number)
            else:
                result = check_token(der, digest_imprint(digest, algorithm), "digest", f"the digest {to_hex(digest)}",
                                     roots)
        except LedgerValueError as exc:
            run.check(name, False, exc.user_message)
            continue
        run.times.append(result)
        level: Level = "unverified" if result.status == "unverified" else "error"
        run.check(name, result.status == "verified", result.detail, level)


def _check_seal(run: _Run, bundle: Mapping[str, Any], log: Mapping[str, Any], header: Mapping[str, Any]) -> None:
    """The bundle seal: by the submitter the proven event names, over every byte of the bundle, in its one
    canonical spelling (exactly ``signer`` and ``signature``, lower-case hex, EIP-55 signer, low s, v 27/28)."""
    anchor = bundle.get("anchor") or {}
    submitter = to_hex(log["topics"][2][12:])
    if str(anchor.get("submitter", "")).lower() != submitter or anchor.get("block_time") != header["timestamp"]:
        run.check("bundle seal", False, "the bundle's submitter or block time differs from the proven event and header")
        return
    seal = bundle.get("seal")
    if not isinstance(seal, dict) or set(seal) != SIGNATURE_FIELDS:
        run.check("bundle seal", False, "the seal must hold exactly 'signer' and 'signature'")
        return
    try:
        raw = _unhex(seal["signature"], "seal.signature")
        signer = recover_personal(seal_text(bundle), raw)
    except LedgerValueError as exc:
        run.check("bundle seal", False, f"the seal is refused: {exc.user_message}")
        return
    if seal["signature"] != to_hex(raw) or seal["signer"] != signer:
        run.check("bundle seal", False, "the seal's fields are not in canonical form (lower-case signature, EIP-55 "
                                        "signer): it was altered")
        return
    run.check("bundle seal", signer.lower() == submitter,
              f"sealed by {signer}, the evidence provider the chain shows anchored it" if signer.lower() == submitter
              else f"sealed by {signer}, but {submitter} anchored it: the bundle was altered after export")


def _cross_check(rpc_url: str, number: int, block_hash: bytes, chain_id: int, assets: str | None,
                 unit_id: bytes | None, digest: bytes) -> list[Check]:
    """Optional, online: the live node still has the anchoring block, and — for a certificate — what the
    registry holds of it now (a PDF exported before a change or a cancellation was true at its own block)."""
    from ledger.chain.client import ChainClient

    try:
        client = ChainClient(rpc_url, timeout=10)
        live = client.block(number)["hash"]
        same_chain = client.chain_id == chain_id
        checks = [Check("live node", live.lower() == to_hex(block_hash) and same_chain,
                        f"{rpc_url} has block {number} = {live}" + ("" if same_chain else " on another chain id"))]
        if unit_id is None or not assets or not checks[0].ok:
            return checks
        head = client.block("latest")
        words = [int(client.request("eth_getStorageAt", [assets, "0x" + slot.to_bytes(32, "big").hex(),
                                                          head["number"]]), 16) for slot in unit_slots(unit_id)]
    except Exception as exc:  # the live node is optional: report, do not crash
        return [Check("live node", False, f"could not ask {rpc_url}: {exc}")]
    status = assess_certificate(UnitState.from_slots(unit_id, words[0], words[1]), digest,
                                int(head["timestamp"], 16))
    where = f" — read from {rpc_url} at block {int(head['number'], 16)}"
    level: Level = "invalid" if not status.usable else "warning"
    return [*checks, Check("current status (live)", status.usable and not status.under_objection,
                           status.describe() + where, level)]
