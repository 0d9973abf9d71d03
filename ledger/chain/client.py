"""JSON-RPC access to any EVM chain: Anvil, a Hardhat node, Besu (QBFT) or anything else.

web3.py is used for ABI work and convenience reads; the hot paths (sending raw transactions, polling
receipts, estimating gas) go through a small batched JSON-RPC helper on one keep-alive HTTP session,
so many requests cost one round trip and revert data reaches us undecoded.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from typing import Any

import requests
from web3 import Web3
from web3.providers.rpc import HTTPProvider

from ledger.errors import ChainUnavailableError, TransactionError


class RpcError(TransactionError):
    """A JSON-RPC call answered with an error object."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        self.rpc_code = int(error.get("code", 0))
        self.rpc_message = str(error.get("message", ""))
        data = error.get("data")
        if isinstance(data, dict):  # some nodes nest it: {"data": {"data": "0x..."}}
            data = data.get("data") or data.get("result")
        self.revert_data: str | None = data if isinstance(data, str) and data.startswith("0x") else None
        super().__init__(f"{method} failed: {self.rpc_message}")


class ChainClient:
    """One JSON-RPC endpoint."""

    def __init__(self, rpc_url: str, timeout: float = 30.0) -> None:
        self.rpc_url = rpc_url
        self.timeout = timeout
        self._session = requests.Session()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
        self._chain_id: int | None = None

    def retarget(self, rpc_url: str) -> None:
        """Talks to ``rpc_url`` from now on — the same chain served from elsewhere (e.g. a local node that
        came back on another port). Everything holding this client follows; the chain id is asked again."""
        with self._lock:
            self.rpc_url = rpc_url
            self._session = requests.Session()
            self.w3.provider = HTTPProvider(rpc_url, request_kwargs={"timeout": self.timeout})
            self._chain_id = None

    # --- raw JSON-RPC -----------------------------------------------------------------------

    def _post(self, payload: Any) -> Any:
        try:
            reply = self._session.post(self.rpc_url, json=payload, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ChainUnavailableError(f"the chain at {self.rpc_url} does not answer ({exc.__class__.__name__}); "
                                        "is it running? (`ledger chain status`)") from exc
        if reply.status_code >= 400 and not reply.content:
            raise ChainUnavailableError(f"the chain at {self.rpc_url} answered HTTP {reply.status_code}")
        return reply.json()

    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One JSON-RPC call; raises RpcError with the node's error (and revert data)."""
        with self._lock:
            ident = next(self._ids)
        answer = self._post({"jsonrpc": "2.0", "id": ident, "method": method, "params": list(params)})
        if "error" in answer:
            raise RpcError(method, answer["error"])
        return answer["result"]

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Many calls in one HTTP request; each entry is a result or an RpcError, in order."""
        if not calls:
            return []
        with self._lock:
            ids = [next(self._ids) for _ in calls]
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": list(p)} for i, (m, p) in zip(ids, calls, strict=True)
        ]
        answers = self._post(payload)
        if isinstance(answers, dict):  # a node that refuses batches answers with one error object
            raise RpcError("batch", answers.get("error", {"message": "batch requests not supported"}))
        by_id = {a.get("id"): a for a in answers}
        out: list[Any] = []
        for ident, (method, _) in zip(ids, calls, strict=True):
            answer = by_id.get(ident, {"error": {"message": "no answer in batch"}})
            out.append(RpcError(method, answer["error"]) if "error" in answer else answer["result"])
        return out

    # --- reads ------------------------------------------------------------------------------

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.request("eth_chainId"), 16)
        return self._chain_id

    def block(self, number: int | str = "latest", full: bool = False) -> dict[str, Any]:
        tag = hex(number) if isinstance(number, int) else number
        block = self.request("eth_getBlockByNumber", [tag, full])
        if block is None:
            raise TransactionError(f"block {number} does not exist on this chain")
        result: dict[str, Any] = block
        return result

    def genesis_hash(self) -> str:
        return str(self.block(0)["hash"])

    def block_number(self) -> int:
        return int(self.request("eth_blockNumber"), 16)

    def code(self, address: str) -> bytes:
        return bytes.fromhex(self.request("eth_getCode", [address, "latest"])[2:])

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.request("eth_getTransactionReceipt", [tx_hash])
        return result

    def get_logs(self, address: str, topics: Sequence[Any], from_block: int = 0,
                 to_block: int | str = "latest") -> list[dict[str, Any]]:
        to = hex(to_block) if isinstance(to_block, int) else to_block
        logs: list[dict[str, Any]] = self.request(
            "eth_getLogs", [{"address": address, "topics": list(topics), "fromBlock": hex(from_block), "toBlock": to}]
        )
        return logs

    # --- writes -----------------------------------------------------------------------------

    def send_raw(self, raw_transactions: Sequence[bytes]) -> list[str | RpcError]:
        """Submits signed transactions in one batch; returns each hash or its error."""
        return self.batch([("eth_sendRawTransaction", ["0x" + raw.hex()]) for raw in raw_transactions])

    def wait_for_receipts(self, tx_hashes: Sequence[str], timeout: float = 120.0,
                          poll: float = 0.01) -> list[dict[str, Any]]:
        """Receipts of all ``tx_hashes``, polled in batches until every one is mined."""
        pending = {h: i for i, h in enumerate(tx_hashes)}
        receipts: list[dict[str, Any] | None] = [None] * len(tx_hashes)
        deadline = time.monotonic() + timeout
        while pending:
            hashes = list(pending)
            for tx_hash, answer in zip(
                hashes, self.batch([("eth_getTransactionReceipt", [h]) for h in hashes]), strict=True
            ):
                if isinstance(answer, RpcError):
                    raise answer
                if answer is not None:
                    receipts[pending.pop(tx_hash)] = answer
            if not pending:
                break
            if time.monotonic() > deadline:
                raise TransactionError(f"{len(pending)} transaction(s) not mined within {timeout:.0f}s, "
                                       f"e.g. {next(iter(pending))}")
            time.sleep(poll)
        return [r for r in receipts if r is not None]
