"""Ethereum data structures as RLP: block headers, receipts, and Merkle-Patricia proofs of receipts.

A proof bundle carries the anchoring block's header as RLP; its keccak256 must equal the block hash, and
its receiptsRoot must be the root the receipt's trie proof leads to. These encodings follow the Yellow Paper
and EIP-2718/1559/4844/4895/4788 (typed receipts, base fee, withdrawals, blobs, beacon root).
"""

from __future__ import annotations

from typing import Any

import rlp
from trie.hexary import HexaryTrie

from ledger.errors import LedgerValueError
from ledger.hashing import keccak256

#: header fields in RLP order; (json key, kind) — kind "int" is a big-endian integer, "bytes" raw bytes
HEADER_FIELDS: list[tuple[str, str]] = [
    ("parentHash", "bytes"), ("sha3Uncles", "bytes"), ("miner", "bytes"), ("stateRoot", "bytes"),
    ("transactionsRoot", "bytes"), ("receiptsRoot", "bytes"), ("logsBloom", "bytes"), ("difficulty", "int"),
    ("number", "int"), ("gasLimit", "int"), ("gasUsed", "int"), ("timestamp", "int"), ("extraData", "bytes"),
    ("mixHash", "bytes"), ("nonce", "bytes"),
    # optional, in fork order: present from London, Shanghai, Cancun, Cancun, Prague
    ("baseFeePerGas", "int"), ("withdrawalsRoot", "bytes"), ("blobGasUsed", "int"), ("excessBlobGas", "int"),
    ("parentBeaconBlockRoot", "bytes"), ("requestsHash", "bytes"),
]
_REQUIRED = 15


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def _int(value: str | int) -> int:
    return value if isinstance(value, int) else int(value, 16)


def header_fields(block: dict[str, Any]) -> list[bytes | int]:
    """The header's RLP fields from a JSON-RPC block (eth_getBlockByNumber)."""
    fields: list[bytes | int] = []
    for position, (key, kind) in enumerate(HEADER_FIELDS):
        if key not in block or block[key] is None:
            if position < _REQUIRED:
                raise LedgerValueError(f"block is missing header field {key}")
            break
        fields.append(_int(block[key]) if kind == "int" else _bytes(block[key]))
    return fields


def encode_header(block: dict[str, Any]) -> bytes:
    return bytes(rlp.encode(header_fields(block)))


def decode_header(header_rlp: bytes) -> dict[str, Any]:
    """Header fields by name from RLP (integers as int, the rest as bytes)."""
    try:
        items = rlp.decode(header_rlp)
    except rlp.exceptions.DecodingError as exc:
        raise LedgerValueError(f"the block header is not valid RLP: {exc}") from exc
    if not isinstance(items, list) or len(items) < _REQUIRED:
        raise LedgerValueError("the block header has too few fields")
    out: dict[str, Any] = {}
    for (key, kind), value in zip(HEADER_FIELDS, items, strict=False):
        out[key] = int.from_bytes(value, "big") if kind == "int" else bytes(value)
    return out


def encode_receipt(receipt: dict[str, Any]) -> bytes:
    """A receipt as stored in the receipts trie: ``type || rlp([...])`` for typed transactions (EIP-2718)."""
    logs = [[_bytes(log["address"]), [_bytes(t) for t in log["topics"]], _bytes(log["data"])]
            for log in receipt["logs"]]
    status = _int(receipt["status"])
    body = rlp.encode([status, _int(receipt["cumulativeGasUsed"]), _bytes(receipt["logsBloom"]), logs])
    tx_type = _int(receipt.get("type", "0x0"))
    return bytes(body) if tx_type == 0 else bytes([tx_type]) + bytes(body)


def receipts_trie(encoded_receipts: list[bytes]) -> HexaryTrie:
    trie = HexaryTrie({})
    for index, value in enumerate(encoded_receipts):
        trie[rlp.encode(index)] = value
    return trie


def receipt_proof(encoded_receipts: list[bytes], index: int) -> tuple[bytes, list[bytes]]:
    """(receipts root, RLP-encoded trie nodes from the root to the receipt at ``index``)."""
    trie = receipts_trie(encoded_receipts)
    nodes = trie.get_proof(rlp.encode(index))  # type: ignore[no-untyped-call]
    return bytes(trie.root_hash), [bytes(rlp.encode(node)) for node in nodes]


def verify_receipt_proof(root: bytes, index: int, nodes: list[bytes]) -> bytes:
    """The receipt bytes the proof leads to under ``root`` (raises LedgerValueError if it does not hold)."""
    try:
        decoded = tuple(rlp.decode(node) for node in nodes)
        value = HexaryTrie.get_from_proof(root, rlp.encode(index), decoded)  # type: ignore[no-untyped-call]
    except Exception as exc:  # trie raises several kinds on a bad proof
        raise LedgerValueError(f"the receipt proof does not lead to receiptsRoot: {exc.__class__.__name__}") from exc
    if not value:
        raise LedgerValueError("the receipt proof proves absence, not the receipt")
    return bytes(value)


def decode_receipt(encoded: bytes) -> dict[str, Any]:
    """Status, cumulative gas and logs (address, topics, data) from a trie receipt."""
    body = encoded[1:] if encoded and encoded[0] < 0x7F else encoded
    status, cumulative, _bloom, logs = rlp.decode(body)
    return {
        "status": int.from_bytes(status, "big"),
        "cumulative_gas_used": int.from_bytes(cumulative, "big"),
        "logs": [{"address": bytes(a), "topics": [bytes(t) for t in topics], "data": bytes(d)}
                 for a, topics, d in logs],
    }


def header_hash(header_rlp: bytes) -> bytes:
    return keccak256(header_rlp)
