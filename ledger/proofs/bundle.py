"""Court bundles (司法存证包): one file that proves an anchored digest without our server or a network.

A bundle holds the digest (and the Merkle path when it was batched), the anchoring transaction's receipt with
its Merkle-Patricia proof up to the block's receiptsRoot, the block headers as RLP from the anchoring block to
a block that authorities signed (checkpoints), those signatures, the chain id and contract addresses from the
deployment manifest, and the extraction record of TJIFA App. 4 §3 (original evidence, participants, times,
network addresses, conclusion). ``verify_bundle`` needs only this module's dependencies: it recomputes every
hash and signature and says which check failed and why.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct

from ledger import __version__
from ledger.context import Ledger
from ledger.errors import LedgerValueError, NotFoundError
from ledger.hashing import HashAlgorithm, canonical_json, digest_bytes, digest_file, keccak256, to_hex
from ledger.merkle import leaf_hash, process_proof
from ledger.proofs import qbft
from ledger.proofs.checkpoints import CheckpointStore, recover_checkpoint_signer
from ledger.proofs.ethrlp import (
    decode_header,
    decode_receipt,
    encode_header,
    encode_receipt,
    receipt_proof,
    verify_receipt_proof,
)

FORMAT = "ledger.court-bundle/1"
EVENT_TOPICS = {
    "EvidenceAnchored": keccak256(b"EvidenceAnchored(bytes32,address,uint8,uint8,bytes32)"),
    "BatchAnchored": keccak256(b"BatchAnchored(bytes32,address,uint32,bytes32)"),
}


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _unhex(value: str, what: str) -> bytes:
    try:
        return bytes.fromhex(value[2:] if value.startswith("0x") else value)
    except (ValueError, AttributeError):
        raise LedgerValueError(f"{what} is not hexadecimal") from None


def seal_text(bundle: dict[str, Any]) -> str:
    """What the evidence provider signs: the SHA-256 of the canonical bundle without its seal."""
    body = {k: v for k, v in bundle.items() if k != "seal"}
    return f"ledger bundle\nsha256: {to_hex(digest_bytes(canonical_json(body)))}"


def export_bundle(ledger: Ledger, digest: bytes, algorithm: HashAlgorithm, original_name: str | None = None,
                  requested_by: str = "", presentation: dict[str, Any] | None = None,
                  note: str = "") -> dict[str, Any]:
    """Builds the court bundle for an anchored digest (single or batched), sealed by the evidence provider
    that anchored it: the seal binds every part of the bundle — even the parts no hash proves (the extraction
    record) — to the account the chain shows as the submitter."""
    result = ledger.evidence.verify(digest, algorithm)
    if not result.anchored:
        raise NotFoundError(f"{to_hex(digest)} ({algorithm.label}) is not anchored: there is nothing to prove")
    anchor = result.anchors[0]
    client = ledger.client
    tx = client.request("eth_getTransactionByHash", [anchor.tx_hash])
    block = client.block(anchor.block_number, full=True)
    receipts = client.batch([("eth_getTransactionReceipt", [t["hash"]]) for t in block["transactions"]])
    encoded = [encode_receipt(r) for r in receipts]
    index = int(tx["transactionIndex"], 16)
    root, nodes = receipt_proof(encoded, index)
    if _hex(root) != block["receiptsRoot"]:
        raise LedgerValueError("the node's receipts do not rebuild its receiptsRoot; refusing to export")
    if _is_qbft(block):  # Besu QBFT: the anchoring block carries its validators' committed seals
        headers = [encode_header(block)]
        authority: dict[str, Any] = {"kind": "qbft", "block_number": anchor.block_number, "block_hash": block["hash"]}
        signer_names: list[str] = []
    else:  # a dev chain: the nearest block that authorities signed, and the headers leading to it
        signatures = CheckpointStore(ledger.engine, client, ledger.deployment.deployment_id).covering(
            anchor.block_number)
        top = signatures[0].block_number
        blocks = [block] + [client.block(n) for n in range(anchor.block_number + 1, top + 1)]
        headers = [encode_header(b) for b in blocks]
        authority = {"kind": "checkpoint", "block_number": top, "block_hash": signatures[0].block_hash,
                     "signatures": [{"signer": s.signer, "signature": s.signature} for s in signatures]}
        signer_names = [s.signer for s in signatures]
    registry = ledger.deployment.contracts["EvidenceRegistry"]
    endorsements = [e.as_dict() for e in result.endorsements]
    now = datetime.now(UTC).isoformat()
    bundle: dict[str, Any] = {
        "format": FORMAT,
        "subject": {"digest": to_hex(digest), "hash_algorithm": algorithm.label, "original_name": original_name},
        "merkle": anchor.batch.as_dict() if anchor.batch else None,
        "anchor": {
            "event": "BatchAnchored" if anchor.batch else "EvidenceAnchored",
            "contract": registry.address, "tx_hash": anchor.tx_hash, "tx_index": index,
            "block_number": anchor.block_number, "block_time": anchor.block_time, "submitter": anchor.submitter,
            "receipt": _hex(encoded[index]), "receipt_proof": [_hex(n) for n in nodes],
        },
        "headers": [_hex(h) for h in headers],
        "authority": authority,
        "chain": {
            "chain_id": ledger.client.chain_id, "genesis_hash": ledger.deployment.genesis_hash,
            "contracts": {n: {"address": r.address, "deploy_block": r.deploy_block,
                              "runtime_code_hash": r.runtime_code_hash, "compiler": r.compiler}
                          for n, r in ledger.deployment.contracts.items()},
        },
        "extraction_record": {  # TJIFA App. 4 §3: what was extracted, by whom, when, from where, and the result
            "original_evidence": {"digest": to_hex(digest), "hash_algorithm": algorithm.label,
                                  "original_name": original_name},
            "participants": {"evidence_provider": anchor.submitter, "endorsements": endorsements,
                             "checkpoint_signers": signer_names, "requested_by": requested_by},
            "times": {"anchored_at": datetime.fromtimestamp(anchor.block_time, UTC).isoformat(), "extracted_at": now},
            "network": {"rpc_endpoint": client.rpc_url, "extracting_host": socket.gethostname(),
                        "chain_id": client.chain_id},
            "conclusion": (f"The digest {to_hex(digest)} ({algorithm.label}) was anchored in block "
                           f"{anchor.block_number} by {anchor.submitter} in transaction {anchor.tx_hash}. "
                           f"{note}").strip(),
            "tool": f"data-asset-ledger {__version__}",
        },
        "presentation": presentation or {},
    }
    sealer = next((a for a in ledger.accounts if a.address.lower() == anchor.submitter.lower()), None)
    if sealer is None:
        raise LedgerValueError(f"the evidence provider that anchored this digest ({anchor.submitter}) is not in the "
                               "accounts file; only it can seal the bundle")
    signature = Account.sign_message(encode_defunct(text=seal_text(bundle)), sealer.signer.key).signature
    bundle["seal"] = {"signer": sealer.address, "signature": _hex(bytes(signature))}
    return bundle


def _is_qbft(block: dict[str, Any]) -> bool:
    try:
        return bool(qbft.decode_extra(bytes.fromhex(block["extraData"][2:])).seals)
    except LedgerValueError:
        return False


def write_bundle(bundle: dict[str, Any], path: Path) -> None:
    path.write_bytes(canonical_json(bundle))


def read_bundle(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise LedgerValueError(f"cannot read bundle {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LedgerValueError(f"{path} is not a court bundle ({FORMAT})")
    return data


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def verify_bundle(bundle: dict[str, Any], original: Path | None = None, trusted: Sequence[str] | None = None,
                  threshold: int = 1, rpc_url: str | None = None) -> list[Check]:
    """Every check of a bundle, in order; a check that cannot run because an earlier one failed says so."""
    checks: list[Check] = []

    def check(name: str, ok: bool, detail: str) -> bool:
        checks.append(Check(name, ok, detail))
        return ok

    def guarded(name: str, run: Any) -> Any:
        try:
            return run()
        except (LedgerValueError, KeyError, TypeError, ValueError, IndexError) as exc:
            message = exc.user_message if isinstance(exc, LedgerValueError) else f"{exc.__class__.__name__}: {exc}"
            check(name, False, f"malformed bundle part: {message}")
            return None

    subject = bundle.get("subject") or {}
    digest = guarded("document hash", lambda: _unhex(subject["digest"], "subject.digest"))
    algorithm = guarded("document hash", lambda: HashAlgorithm.parse(subject["hash_algorithm"]))
    if digest is None or algorithm is None or len(digest) != 32:
        check("document hash", False, "the bundle names no valid 32-byte digest")
        return checks
    if original is not None:
        actual = digest_file(original, algorithm)
        check("document hash", actual == digest,
              f"{algorithm.label}({original.name}) = {to_hex(actual)}"
              + (" matches the bundle" if actual == digest else f", the bundle proves {to_hex(digest)}"))
    else:
        check("document hash", True, f"no original given: proving digest {to_hex(digest)} itself")

    anchor = bundle.get("anchor") or {}
    merkle = bundle.get("merkle")
    key = digest
    if merkle is not None:
        def fold() -> bytes:
            proof = [_unhex(p, "merkle.proof") for p in merkle["proof"]]
            return process_proof(leaf_hash(algorithm, digest), proof)

        computed = guarded("Merkle path", fold)
        if computed is None:
            return checks
        claimed = guarded("Merkle path", lambda: _unhex(merkle["root"], "merkle.root"))
        if not check("Merkle path", computed == claimed,
                     f"leaf {merkle.get('leaf_index')} folds to {to_hex(computed)}"
                     + ("" if computed == claimed else f", not the bundle's root {merkle.get('root')}")):
            return checks
        key = computed
    else:
        check("Merkle path", True, "anchored singly: no Merkle path")

    headers = guarded("header chain", lambda: [_unhex(h, "headers") for h in bundle["headers"]])
    if not headers:
        check("header chain", False, "the bundle has no block headers")
        return checks
    decoded = guarded("header chain", lambda: [decode_header(h) for h in headers])
    if decoded is None:
        return checks
    authority = bundle.get("authority") or {}
    kind = authority.get("kind")
    hashes = guarded("header chain", lambda: [qbft.block_hash(h) if kind == "qbft" else keccak256(h) for h in headers])
    if hashes is None:
        return checks
    for i in range(1, len(headers)):
        if decoded[i]["parentHash"] != hashes[i - 1] or decoded[i]["number"] != decoded[i - 1]["number"] + 1:
            check("header chain", False, f"header {decoded[i]['number']} does not follow header "
                                         f"{decoded[i - 1]['number']} (parent hash mismatch)")
            return checks
    if decoded[0]["number"] != anchor.get("block_number"):
        check("header chain", False, f"the first header is block {decoded[0]['number']}, the anchor claims "
                                     f"block {anchor.get('block_number')}")
        return checks
    check("header chain", True, f"{len(headers)} header(s) from block {decoded[0]['number']} link by parent hash; "
                                f"anchoring block hash {to_hex(hashes[0])}")

    nodes = guarded("receipt in trie", lambda: [_unhex(n, "anchor.receipt_proof") for n in anchor["receipt_proof"]])
    if nodes is None:
        return checks
    try:
        receipt_bytes = verify_receipt_proof(decoded[0]["receiptsRoot"], int(anchor["tx_index"]), nodes)
    except (LedgerValueError, KeyError, TypeError, ValueError) as exc:
        check("receipt in trie", False, getattr(exc, "user_message", str(exc)))
        return checks
    claimed_receipt = guarded("receipt in trie", lambda: _unhex(anchor["receipt"], "anchor.receipt"))
    if not check("receipt in trie", receipt_bytes == claimed_receipt,
                 f"transaction {anchor['tx_index']}'s receipt is in receiptsRoot {to_hex(decoded[0]['receiptsRoot'])}"
                 if receipt_bytes == claimed_receipt else "the bundle's receipt differs from the one the proof holds"):
        return checks

    receipt = decode_receipt(receipt_bytes)
    contracts = (bundle.get("chain") or {}).get("contracts") or {}
    registry = (contracts.get("EvidenceRegistry") or {}).get("address", "")
    topic = EVENT_TOPICS.get(str(anchor.get("event")), b"")
    matches = [log for log in receipt["logs"] if to_hex(log["address"]).lower() == str(registry).lower()
               and len(log["topics"]) >= 2 and log["topics"][0] == topic and log["topics"][1] == key]
    if receipt["status"] != 1:
        check("event", False, "the anchoring transaction failed (receipt status 0)")
        return checks
    if not check("event", bool(matches) and str(anchor.get("contract", "")).lower() == str(registry).lower(),
                 f"{anchor.get('event')}({to_hex(key)}) emitted by EvidenceRegistry {registry}" if matches else
                 f"no {anchor.get('event')} log for {to_hex(key)} from the manifest's EvidenceRegistry {registry}"):
        return checks

    chain_id = (bundle.get("chain") or {}).get("chain_id")
    top_hash, top_number = hashes[-1], decoded[-1]["number"]
    trust = {t.lower() for t in trusted} if trusted else None
    if kind == "qbft":
        ok, why = guarded("authority signatures", lambda: qbft.verify_seals(headers[-1], trust)) or (False, "")
        if why:
            check("authority signatures", ok, f"QBFT committed seals on block {top_number}: {why}")
        if ok:
            _check_seal(bundle, matches[0], decoded[0], check)
            ok = checks[-1].ok
        if rpc_url and ok:
            checks.extend(_cross_check(rpc_url, decoded[0]["number"], hashes[0], chain_id))
        return checks
    if kind != "checkpoint" or not isinstance(chain_id, int):
        check("authority signatures", False, f"unsupported authority kind {kind!r} or no chain id")
        return checks
    if authority.get("block_number") != top_number or str(authority.get("block_hash", "")).lower() != to_hex(top_hash):
        check("authority signatures", False, "the signed block is not the last header of the chain")
        return checks
    signers: set[str] = set()
    problems = []
    for entry in authority.get("signatures") or []:
        try:
            signer = recover_checkpoint_signer(chain_id, top_number, top_hash,
                                               _unhex(entry["signature"], "signature"))
        except (LedgerValueError, KeyError, TypeError, ValueError) as exc:
            problems.append(getattr(exc, "user_message", str(exc)))
            continue
        if signer.lower() != str(entry.get("signer", "")).lower():
            problems.append(f"a signature claimed by {entry.get('signer')} is {signer}'s")
            continue
        signers.add(signer.lower())
    counted = signers & trust if trust is not None else signers
    source = "trusted authorities" if trust is not None else "signers named in the bundle (no --trust given)"
    ok = len(counted) >= threshold and not problems
    check("authority signatures", ok,
          f"{len(counted)} of {source} signed block {top_number} (need {threshold})"
          + (f"; {'; '.join(problems)}" if problems else ""))
    if ok:
        _check_seal(bundle, matches[0], decoded[0], check)
    if rpc_url and checks[-1].ok:
        checks.extend(_cross_check(rpc_url, decoded[0]["number"], hashes[0], chain_id))
    return checks


def _check_seal(bundle: dict[str, Any], log: dict[str, Any], header: dict[str, Any], check: Any) -> None:
    """The bundle seal: by the submitter the proven event names, over every byte of the bundle."""
    anchor = bundle.get("anchor") or {}
    submitter = to_hex(log["topics"][2][12:]) if len(log["topics"]) > 2 else ""
    if str(anchor.get("submitter", "")).lower() != submitter or anchor.get("block_time") != header["timestamp"]:
        check("bundle seal", False, "the bundle's submitter or block time differs from the proven event and header")
        return
    seal = bundle.get("seal") or {}
    try:
        raw = _unhex(str(seal.get("signature", "")), "seal.signature")
        signer = Account.recover_message(encode_defunct(text=seal_text(bundle)), signature=raw)
    except Exception as exc:  # a malformed signature
        check("bundle seal", False, f"the seal is not a valid signature ({exc.__class__.__name__})")
        return
    # the seal itself is outside what it signs, so its two fields must be in their one canonical spelling
    if seal.get("signature") != _hex(raw) or seal.get("signer") != signer:
        check("bundle seal", False, "the seal's fields are not in canonical form (lower-case signature, "
                                    "EIP-55 signer): it was altered")
        return
    check("bundle seal", signer.lower() == submitter,
          f"sealed by {signer}, the evidence provider the chain shows anchored it" if signer.lower() == submitter
          else f"sealed by {signer}, but {submitter} anchored it: the bundle was altered after export")


def _cross_check(rpc_url: str, number: int, block_hash: bytes, chain_id: Any) -> list[Check]:
    from ledger.chain.client import ChainClient

    try:
        client = ChainClient(rpc_url, timeout=10)
        live = client.block(number)["hash"]
        same_chain = client.chain_id == chain_id
    except Exception as exc:  # the live node is optional: report, do not crash
        return [Check("live node", False, f"could not ask {rpc_url}: {exc}")]
    ok = live.lower() == to_hex(block_hash) and same_chain
    return [Check("live node", ok, f"{rpc_url} has block {number} = {live}" + ("" if same_chain else
                                                                              " on another chain id"))]


def certificate_pdf(ledger: Ledger, number: str, base_url: str, requested_by: str = "") -> bytes:
    """The registration certificate as a PDF that verifies offline (TJIFA §8.2.3: on request the certificate
    is itself stored as on-chain evidence — anchored here by the evidence provider if it is not yet)."""
    from sqlmodel import Session

    from ledger.evidence import EvidenceKind
    from ledger.models import StoredDocument
    from ledger.numbering import unit_id, validate_number
    from ledger.pdf import render_pdf

    number = validate_number(number)
    uid = unit_id(number)
    unit = ledger.assets.unit(uid)
    if unit["status"] == 0:
        raise NotFoundError(f"no registration unit {number}")
    cert_hash = unit["certificate_hash"]
    with Session(ledger.engine) as session:
        stored = session.get(StoredDocument, to_hex(cert_hash))
    if stored is None:
        raise NotFoundError(f"this registry does not hold certificate {to_hex(cert_hash)} of {number}")
    document = json.loads(stored.body)
    if digest_bytes(canonical_json(document)) != cert_hash:
        raise LedgerValueError(f"the stored certificate of {number} does not hash to the one on chain")
    if not ledger.evidence.verify(cert_hash, HashAlgorithm.SHA256).anchored:
        provider = ledger.accounts.first_with_role("evidence_provider").name
        ledger.evidence.anchor(ledger.sender(provider), cert_hash, HashAlgorithm.SHA256, EvidenceKind.CERTIFICATE, uid)
    version = document.get("certificate_version")
    bundle = export_bundle(ledger, cert_hash, HashAlgorithm.SHA256, f"{number} certificate v{version}", requested_by,
                           presentation={"verify_base_url": base_url, "registration_number": number,
                                         "certificate_version": version},
                           note=f"It is the SHA-256 of certificate version {version} of registration unit {number}.")
    return render_pdf(document, bundle)
