"""A deployed contract: encode calls, send them, decode custom errors and events."""

from __future__ import annotations

from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import to_checksum_address
from web3.contract import Contract

from ledger.chain.client import ChainClient, RpcError
from ledger.chain.sender import TransactionSender, TxRequest
from ledger.errors import ContractRevertError, TransactionError
from ledger.refusals import explain

GAS_MARGIN = 1.2


def _abi_type(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in param["components"])
        return f"({inner}){kind[5:]}"
    return kind


class ErrorDecoder:
    """Turns revert data into a named custom error with its arguments."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self._errors: dict[bytes, tuple[str, list[str], list[str]]] = {
            function_signature_to_4byte_selector("Error(string)"): ("Error", ["string"], ["message"]),
            function_signature_to_4byte_selector("Panic(uint256)"): ("Panic", ["uint256"], ["code"]),
        }
        for item in abi:
            if item.get("type") == "error":
                types = [_abi_type(p) for p in item["inputs"]]
                signature = f"{item['name']}({','.join(types)})"
                self._errors[function_signature_to_4byte_selector(signature)] = (
                    item["name"], types, [p["name"] for p in item["inputs"]],
                )

    def decode(self, data: str | bytes | None) -> ContractRevertError | None:
        if data is None:
            return None
        raw = bytes.fromhex(data[2:]) if isinstance(data, str) else data
        entry = self._errors.get(raw[:4])
        if entry is None:
            return None
        name, types, names = entry
        try:
            values = abi_decode(types, raw[4:])
        except Exception:  # malformed payload: report the name alone
            values = ()
        args = {n: _plain(_checksummed(t, v)) for n, t, v in zip(names, types, values, strict=False)}
        words = explain(name, args)
        if words is not None:
            return ContractRevertError(f"refused: {words} [{name}]", name, args)
        shown = ", ".join(f"{k}={v}" for k, v in args.items())
        return ContractRevertError(f"the contract refused: {name}({shown})", name, args)


def _checksummed(abi_type: str, value: Any) -> Any:
    """eth-abi returns addresses lower-case; show them EIP-55 checksummed, as web3 does."""
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type.startswith("(") and abi_type.endswith(")"):
        inner = _split_tuple(abi_type[1:-1])
        return tuple(_checksummed(t, v) for t, v in zip(inner, value, strict=True))
    return value


def _split_tuple(inner: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    parts.append(inner[start:])
    return parts


def _abi_value(value: Any) -> Any:
    """Plain ints for enums and flags (web3 would iterate an IntFlag), recursively through tuples/lists."""
    if isinstance(value, int) and not isinstance(value, bool) and type(value) is not int:
        return int(value)
    if isinstance(value, tuple | list):
        return type(value)(_abi_value(v) for v in value)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return value


class ContractHandle:
    """A contract at an address, with its ABI."""

    def __init__(self, client: ChainClient, name: str, abi: list[dict[str, Any]], address: str) -> None:
        self.client = client
        self.name = name
        self.abi = abi
        self.address = client.w3.to_checksum_address(address)
        self.contract: Contract = client.w3.eth.contract(address=self.address, abi=abi)
        self.errors = ErrorDecoder(abi)
        self._functions: dict[str, tuple[bytes, list[str]]] = {}

    def encode(self, function: str, *args: Any) -> bytes:
        """Calldata: selector + eth-abi encoding (~10x faster than web3's encode_abi, which matters when a
        registrar relays hundreds of filings a second)."""
        if function not in self._functions:
            items = [i for i in self.abi if i.get("type") == "function" and i["name"] == function]
            if len(items) != 1:
                raise ValueError(f"{self.name} has {len(items)} functions named {function}")
            types = [_abi_type(p) for p in items[0]["inputs"]]
            self._functions[function] = (function_signature_to_4byte_selector(f"{function}({','.join(types)})"), types)
        selector, types = self._functions[function]
        return selector + abi_encode(types, [_abi_value(a) for a in args])

    def call(self, function: str, *args: Any, sender: str | None = None) -> Any:
        """Runs a view function; a revert becomes ContractRevertError."""
        call: dict[str, Any] = {"to": self.address, "data": "0x" + self.encode(function, *args).hex()}
        if sender:
            call["from"] = sender
        try:
            raw = self.client.request("eth_call", [call, "latest"])
        except RpcError as exc:
            raise self.errors.decode(exc.revert_data) or exc from exc
        fn = self.contract.get_function_by_name(function)
        types = [_abi_type(o) for o in fn.abi["outputs"]]
        values = tuple(_checksummed(t, v) for t, v in zip(types, abi_decode(types, bytes.fromhex(raw[2:])),
                                                           strict=True))
        return values[0] if len(values) == 1 else values

    def request(self, sender: TransactionSender, function: str, *args: Any, gas: int | None = None) -> TxRequest:
        """A transaction request; without ``gas`` it is estimated, which surfaces a revert before sending."""
        data = self.encode(function, *args)
        if gas is None:
            try:
                gas = int(sender.estimate_gas(self.address, data) * GAS_MARGIN)
            except RpcError as exc:
                raise self.errors.decode(exc.revert_data) or exc from exc
        return TxRequest(to=self.address, data=data, gas=gas, label=f"{self.name}.{function}")

    def transact(self, sender: TransactionSender, function: str, *args: Any,
                 gas: int | None = None) -> dict[str, Any]:
        """Sends one call and waits for its receipt; a revert becomes ContractRevertError."""
        tx_hash = sender.send(self.request(sender, function, *args, gas=gas))
        receipt = sender.wait([tx_hash])[0]
        self.raise_for_status(receipt, sender.address)
        return receipt

    def raise_for_status(self, receipt: dict[str, Any], sender: str) -> None:
        """Raises the decoded revert of a failed receipt (replayed with eth_call at its block)."""
        if int(receipt["status"], 16) == 1:
            return
        tx = self.client.request("eth_getTransactionByHash", [receipt["transactionHash"]])
        call = {"from": sender, "to": tx["to"], "data": tx["input"], "gas": tx["gas"]}
        try:
            self.client.request("eth_call", [call, hex(int(receipt["blockNumber"], 16) - 1)])
        except RpcError as exc:
            raise self.errors.decode(exc.revert_data) or exc from exc
        raise TransactionError(f"transaction {receipt['transactionHash']} reverted")

    def events(self, receipt: dict[str, Any], event: str) -> list[dict[str, Any]]:
        """Decoded ``event`` logs of this contract in a receipt."""
        handler = self.contract.events[event]()
        out = []
        for log in receipt["logs"]:
            if log["address"].lower() != self.address.lower():
                continue
            try:
                decoded = handler.process_log(_as_web3_log(log))
            except Exception:  # another event of this contract
                continue
            out.append(dict(decoded["args"]))
        return out

    def topic(self, event: str) -> str:
        """topic0 of ``event``."""
        item = next(i for i in self.abi if i.get("type") == "event" and i["name"] == event)
        signature = f"{event}({','.join(_abi_type(p) for p in item['inputs'])})"
        return "0x" + self.client.w3.keccak(text=signature).hex().removeprefix("0x")

    def decode_log(self, event: str, log: dict[str, Any]) -> dict[str, Any]:
        return dict(self.contract.events[event]().process_log(_as_web3_log(log))["args"])


def _as_web3_log(log: dict[str, Any]) -> Any:
    from hexbytes import HexBytes
    from web3.datastructures import AttributeDict

    return AttributeDict({
        "address": log["address"],
        "topics": [HexBytes(t) for t in log["topics"]],
        "data": HexBytes(log["data"]),
        "blockNumber": int(log["blockNumber"], 16),
        "transactionHash": HexBytes(log["transactionHash"]),
        "transactionIndex": int(log["transactionIndex"], 16),
        "blockHash": HexBytes(log["blockHash"]),
        "logIndex": int(log["logIndex"], 16),
        "removed": bool(log.get("removed", False)),
    })
