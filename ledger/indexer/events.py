"""Fast decoding of the registries' event logs (the indexer reads hundreds of thousands of them).

web3's ``process_log`` costs ~100 µs a log; the registries' events are almost all made of static ABI types, so
their data is a row of 32-byte words that can be sliced directly (~5 µs). Events with a dynamic field (the
registration number in ``UnitRegistered``, the profile tuple) go through eth-abi. A decoder is built from the
ABIs in the deployment manifest, so it follows the contracts as deployed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.abi import event_signature_to_log_topic
from eth_utils.address import to_checksum_address

from ledger.errors import LedgerValueError

_STATIC = ({"address", "bool", "bytes32"} | {f"uint{n}" for n in range(8, 257, 8)}
           | {f"int{n}" for n in range(8, 257, 8)})


@lru_cache(maxsize=65_536)
def _address(raw: bytes) -> str:
    """An address as users read it (EIP-55 checksummed); a ledger has few distinct accounts, so it is cached."""
    return str(to_checksum_address(raw))


def _word(kind: str) -> Callable[[bytes], Any]:
    if kind == "address":
        return lambda w: _address(w[12:])
    if kind == "bool":
        return lambda w: w[31] == 1
    if kind == "bytes32":
        return lambda w: w
    if kind.startswith("uint"):
        return lambda w: int.from_bytes(w, "big")
    return lambda w: int.from_bytes(w, "big", signed=True)


def _type(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return f"({','.join(_type(c) for c in param['components'])}){kind[5:]}"
    return kind


@dataclass(frozen=True)
class Event:
    """One decoded log, in chain order."""

    contract: str
    name: str
    args: dict[str, Any]
    block_number: int
    block_hash: str
    log_index: int
    tx_hash: str


class EventDecoder:
    """topic0 -> decoder, for every event of the given contracts."""

    def __init__(self, abis: dict[str, list[dict[str, Any]]], addresses: dict[str, str]) -> None:
        self.by_address = {a.lower(): name for name, a in addresses.items()}
        self._decoders: dict[tuple[str, bytes], tuple[str, Callable[[list[bytes], bytes], dict[str, Any]]]] = {}
        self.topics: dict[str, str] = {}
        for contract, abi in abis.items():
            for item in abi:
                if item.get("type") != "event":
                    continue
                types = [_type(p) for p in item["inputs"]]
                topic = event_signature_to_log_topic(f"{item['name']}({','.join(types)})")
                self._decoders[(contract, topic)] = (item["name"], self._build(item["inputs"]))
                self.topics[item["name"]] = "0x" + topic.hex()

    @staticmethod
    def _build(inputs: Sequence[dict[str, Any]]) -> Callable[[list[bytes], bytes], dict[str, Any]]:
        indexed = [(p["name"], _word(_type(p)) if _type(p) in _STATIC else (lambda w: w)) for p in inputs
                   if p.get("indexed")]
        plain = [p for p in inputs if not p.get("indexed")]
        types = [_type(p) for p in plain]
        names = [p["name"] for p in plain]
        if all(t in _STATIC for t in types):
            readers = [_word(t) for t in types]

            def static(topics: list[bytes], data: bytes) -> dict[str, Any]:
                out = {name: read(topics[i + 1]) for i, (name, read) in enumerate(indexed)}
                for i, (name, read) in enumerate(zip(names, readers, strict=True)):
                    out[name] = read(data[32 * i : 32 * i + 32])
                return out

            return static

        def dynamic(topics: list[bytes], data: bytes) -> dict[str, Any]:
            out = {name: read(topics[i + 1]) for i, (name, read) in enumerate(indexed)}
            out.update(zip(names, abi_decode(types, data), strict=True))
            return out

        return dynamic

    def decode(self, log: dict[str, Any]) -> Event | None:
        """The log as an Event, or None for a log of another contract or an unknown event."""
        contract = self.by_address.get(str(log["address"]).lower())
        if contract is None or not log["topics"]:
            return None
        topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
        entry = self._decoders.get((contract, topics[0]))
        if entry is None:
            return None
        name, decode = entry
        try:
            args = decode(topics, bytes.fromhex(log["data"][2:]))
        except Exception as exc:  # a malformed log from a node: refuse loudly, never skip silently
            raise LedgerValueError(f"cannot decode {contract}.{name} log in block {log['blockNumber']}: {exc}") from exc
        return Event(contract, name, args, int(log["blockNumber"], 16), log["blockHash"], int(log["logIndex"], 16),
                     log["transactionHash"])
