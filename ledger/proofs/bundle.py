"""Court bundles (司法存证包): one file that proves an anchored digest without our server or a network.

A bundle holds the digest (and the Merkle path when it was batched), the anchoring transaction's receipt with
its Merkle-Patricia proof up to the block's receiptsRoot, the block headers as RLP from the anchoring block to
a block that authorities signed (checkpoints) or sealed (QBFT), those signatures, the chain id and contract
addresses from the deployment manifest, and the extraction record of TJIFA App. 4 §3 (original evidence,
participants, times, network addresses, conclusion). For a certificate it also holds ``registry_state``: the
state proof of its registration unit in AssetRegistry at a recently attested block, so the verifier can tell
a current certificate from a superseded or cancelled one (issue #7). The evidence provider that anchored the
digest seals the whole bundle.

This module exports; ``ledger.proofs.verify`` verifies. Export takes what it needs as arguments, so neither
imports the ledger's wiring (``ledger.context``).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger import __version__
from ledger.chain.client import ChainClient, RpcError
from ledger.deployment import Deployment
from ledger.errors import LedgerValueError, NotFoundError
from ledger.evidence import EvidenceService
from ledger.hashing import HashAlgorithm, canonical_json, keccak256, to_hex
from ledger.models import Checkpoint
from ledger.proofs import qbft
from ledger.proofs.checkpoints import CheckpointStore
from ledger.proofs.ethrlp import encode_header, encode_receipt, receipt_proof
from ledger.proofs.signatures import personal_message_hash
from ledger.proofs.state import LAYOUT_ID, ObjectionState, RightsEntryState, unit_proof_slots
from ledger.proofs.timestamps import encode_token
from ledger.proofs.verify import FORMAT, STATE_FORMAT, seal_text

#: Finds the key of an account by address (the installation's accounts file), or None.
KeyLookup = Callable[[str], LocalAccount | None]
#: The RFC 3161 token over the checkpoint of (block number, block hash), or None (no time service).
CheckpointStamp = Callable[[int, bytes], bytes | None]
RIGHTS_ENTRY_ADDED = keccak256(b"RightsEntryAdded(bytes32,uint256,uint8,address,uint8,uint40)")
OBJECTION_UPDATED = keccak256(b"ObjectionUpdated(bytes32,bytes32,address,uint8,uint40)")


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def is_qbft(block: dict[str, Any]) -> bool:
    try:
        return bool(qbft.decode_extra(bytes.fromhex(block["extraData"][2:])).seals)
    except LedgerValueError:
        return False


def _checkpoint_authority(signatures: list[Checkpoint]) -> dict[str, Any]:
    return {"kind": "checkpoint", "block_number": signatures[0].block_number, "block_hash": signatures[0].block_hash,
            "signatures": [{"signer": s.signer, "signature": s.signature} for s in signatures]}


def registry_state(client: ChainClient, assets_address: str, unit_id: bytes, checkpoints: CheckpointStore,
                   not_before: int, from_block: int = 0) -> dict[str, Any]:
    """The state proof of a unit in AssetRegistry at the latest attested block (QBFT: the head; a dev chain: the
    newest checkpoint, which must be at or after ``not_before``): the unit, its right holders, counters, and
    every rights-page entry and objection that is active or open at that block (found through the contract's
    events, kept if the proven storage says so)."""
    head = client.block("latest")
    if is_qbft(head):
        block, authority = head, {"kind": "qbft", "block_number": int(head["number"], 16), "block_hash": head["hash"]}
    else:
        signatures = checkpoints.latest()
        if signatures[0].block_number < not_before:
            raise NotFoundError(f"no checkpoint at or after block {not_before} yet: authorities must sign a newer "
                                "block (`ledger checkpoint sign`)")
        block, authority = client.block(signatures[0].block_number), _checkpoint_authority(signatures)
    number = int(block["number"], 16)
    unit_topic = to_hex(unit_id)
    added = client.get_logs(assets_address, [to_hex(RIGHTS_ENTRY_ADDED), unit_topic], from_block, number)
    entries = sorted({int(log["topics"][2], 16) for log in added})
    updated = client.get_logs(assets_address, [to_hex(OBJECTION_UPDATED), None, unit_topic], from_block, number)
    objections = list(dict.fromkeys(bytes.fromhex(log["topics"][1][2:]) for log in updated))

    def prove(entry_ids: list[int], objection_ids: list[bytes]) -> tuple[list[tuple[str, int]], dict[str, Any]]:
        plan = unit_proof_slots(unit_id, entry_ids, objection_ids)
        try:
            proof: dict[str, Any] = client.request("eth_getProof", [
                assets_address, ["0x" + s.to_bytes(32, "big").hex() for _, s in plan], hex(number)])
        except RpcError as exc:  # e.g. a node that no longer holds that block's state
            raise NotFoundError(f"the node cannot prove AssetRegistry's state at block {number} ({exc.rpc_message}); "
                                "sign a fresh checkpoint and export again") from exc
        return plan, proof

    plan, proof = prove(entries, objections)
    words = {slot: int(p["value"], 16) for (_, slot), p in zip(plan, proof["storageProof"], strict=True)}
    slot = dict(plan)

    def entry(e: int) -> RightsEntryState:
        label = f"entries[{e}]"
        return RightsEntryState.from_slots(e, words[slot[f"{label}.unitId"]], words[slot[f"{label}.packed"]])

    def objection(o: bytes) -> ObjectionState:
        label = f"objections[{to_hex(o)}]"
        return ObjectionState.from_slots(o, words[slot[f"{label}.unitId"]], words[slot[f"{label}.packed"]])

    active = [e for e in entries if entry(e).unit_id == unit_id and entry(e).active]
    open_ = [o for o in objections if objection(o).unit_id == unit_id and objection(o).is_open]
    if active != entries or open_ != objections:
        plan, proof = prove(active, open_)
    nodes = list(dict.fromkeys(node.lower() for p in proof["storageProof"] for node in p["proof"]))
    return {
        "format": STATE_FORMAT, "layout": LAYOUT_ID, "contract": assets_address, "unit_id": to_hex(unit_id),
        "block_number": number, "header": _hex(encode_header(block)), "authority": authority,
        "rights_entries": active, "objections": [to_hex(o) for o in open_],
        "account_proof": proof["accountProof"],
        "values": [hex(int(p["value"], 16)) for p in proof["storageProof"]],  # in the order of unit_proof_slots
        "storage_proof": nodes,
    }


def export_bundle(*, client: ChainClient, deployment: Deployment, evidence: EvidenceService,
                  checkpoints: CheckpointStore, keys: KeyLookup, digest: bytes, algorithm: HashAlgorithm,
                  original_name: str | None = None, requested_by: str = "", presentation: dict[str, Any] | None = None,
                  note: str = "", stamp: CheckpointStamp | None = None,
                  digest_token: bytes | None = None) -> dict[str, Any]:
    """Builds the court bundle for an anchored digest (single or batched), sealed by the evidence provider
    that anchored it: the seal binds every part of the bundle — even the parts no hash proves (the extraction
    record) — to the account the chain shows as the submitter. A certificate (evidence kind CERTIFICATE) also
    gets its unit's state proof. ``stamp`` gives the time service's RFC 3161 token over each attested
    checkpoint the bundle rests on; ``digest_token`` is a token over the digest itself (on request)."""
    result = evidence.verify(digest, algorithm)
    if not result.anchored:
        raise NotFoundError(f"{to_hex(digest)} ({algorithm.label}) is not anchored: there is nothing to prove")
    anchor = result.anchors[0]
    tx = client.request("eth_getTransactionByHash", [anchor.tx_hash])
    block = client.block(anchor.block_number, full=True)
    receipts = client.batch([("eth_getTransactionReceipt", [t["hash"]]) for t in block["transactions"]])
    encoded = [encode_receipt(r) for r in receipts]
    index = int(tx["transactionIndex"], 16)
    root, nodes = receipt_proof(encoded, index)
    if _hex(root) != block["receiptsRoot"]:
        raise LedgerValueError("the node's receipts do not rebuild its receiptsRoot; refusing to export")
    if is_qbft(block):  # Besu QBFT: the anchoring block carries its validators' committed seals
        headers = [encode_header(block)]
        authority: dict[str, Any] = {"kind": "qbft", "block_number": anchor.block_number, "block_hash": block["hash"]}
        signer_names: list[str] = []
    else:  # a dev chain: the nearest block that authorities signed, and the headers leading to it
        signatures = checkpoints.covering(anchor.block_number)
        top = signatures[0].block_number
        blocks = [block] + [client.block(n) for n in range(anchor.block_number + 1, top + 1)]
        headers = [encode_header(b) for b in blocks]
        authority = _checkpoint_authority(signatures)
        signer_names = [s.signer for s in signatures]
    registry = deployment.contracts["EvidenceRegistry"]
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
            "chain_id": client.chain_id, "genesis_hash": deployment.genesis_hash,
            "contracts": {n: {"address": r.address, "deploy_block": r.deploy_block,
                              "runtime_code_hash": r.runtime_code_hash, "compiler": r.compiler}
                          for n, r in deployment.contracts.items()},
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
    if anchor.certificate_unit is not None:  # TJIFA §8.2.3: an anchored certificate; prove its unit's state
        assets = deployment.contracts["AssetRegistry"]
        state = registry_state(client, assets.address, anchor.certificate_unit, checkpoints, anchor.block_number,
                               assets.deploy_block)
        if state["block_number"] == authority["block_number"]:  # the bundle's attested block: said once
            del state["header"], state["authority"]
        bundle["registry_state"] = state
    tokens = _trusted_time(bundle, stamp, digest_token)
    if tokens:
        bundle["trusted_time"] = tokens
    sealer = keys(anchor.submitter)
    if sealer is None:
        raise LedgerValueError(f"the evidence provider that anchored this digest ({anchor.submitter}) is not in the "
                               "accounts file; only it can seal the bundle")
    signature = Account.unsafe_sign_hash(personal_message_hash(seal_text(bundle)), sealer.key).signature
    bundle["seal"] = {"signer": sealer.address, "signature": _hex(bytes(signature))}
    return bundle


def _trusted_time(bundle: dict[str, Any], stamp: CheckpointStamp | None,
                  digest_token: bytes | None) -> list[dict[str, Any]]:
    """RFC 3161 tokens over the blocks the bundle's authorities attest (ascending), then over the digest."""
    attested = {bundle["authority"]["block_number"]: bundle["authority"]["block_hash"]}
    state = bundle.get("registry_state")
    if state is not None and "authority" in state:
        attested[state["authority"]["block_number"]] = state["authority"]["block_hash"]
    tokens = []
    for number in sorted(attested):
        token = stamp(number, bytes.fromhex(attested[number][2:])) if stamp is not None else None
        if token is not None:
            tokens.append({"subject": "checkpoint", "block_number": number, "token": encode_token(token)})
    if digest_token is not None:
        tokens.append({"subject": "digest", "token": encode_token(digest_token)})
    return tokens


def write_bundle(bundle: dict[str, Any], path: Path) -> None:
    path.write_bytes(canonical_json(bundle))
