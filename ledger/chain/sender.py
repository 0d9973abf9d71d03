"""Signing and sending transactions from one account: local nonce manager, explicit gas, batching.

Transactions are signed locally (eth-account; coincurve makes that ~10x faster) and sent raw, so the
node needs no unlocked accounts. Nonces are assigned here, not asked of the node per transaction, so
many transactions can be in flight and land in the same block.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.chain.client import ChainClient, RpcError
from ledger.errors import TransactionError

_FEE_TTL = 2.0


@dataclass(frozen=True)
class TxRequest:
    """One call to send: target, calldata, gas limit."""

    to: str | None
    data: bytes
    gas: int
    value: int = 0


class TransactionSender:
    """Sends transactions for one account, with its own nonce counter."""

    def __init__(self, client: ChainClient, account: LocalAccount) -> None:
        self.client = client
        self.account = account
        self._lock = threading.Lock()
        self._nonce: int | None = None
        self._fees: tuple[float, dict[str, int]] | None = None

    @property
    def address(self) -> str:
        return str(self.account.address)

    def _fee_fields(self) -> dict[str, int]:
        now = time.monotonic()
        if self._fees and now - self._fees[0] < _FEE_TTL:
            return self._fees[1]
        latest = self.client.block("latest")
        base_fee = latest.get("baseFeePerGas")
        if base_fee is None:  # pre-London or a zero-gas-price network (e.g. Besu free gas)
            fees = {"gasPrice": int(self.client.request("eth_gasPrice"), 16)}
        else:
            try:
                tip = int(self.client.request("eth_maxPriorityFeePerGas"), 16)
            except RpcError:
                tip = 0
            fees = {"maxFeePerGas": 2 * int(base_fee, 16) + tip, "maxPriorityFeePerGas": tip}
        self._fees = (now, fees)
        return fees

    def _take_nonces(self, count: int) -> int:
        with self._lock:
            if self._nonce is None:
                self._nonce = int(self.client.request("eth_getTransactionCount", [self.address, "pending"]), 16)
            first = self._nonce
            self._nonce += count
            return first

    def resync(self) -> None:
        """Forget the local nonce; the next send asks the node again."""
        with self._lock:
            self._nonce = None

    def sign(self, request: TxRequest, nonce: int, fees: dict[str, int]) -> bytes:
        tx: dict[str, Any] = {
            "chainId": self.client.chain_id,
            "nonce": nonce,
            "gas": request.gas,
            "value": request.value,
            "data": request.data,
            **fees,
        }
        if request.to is not None:
            tx["to"] = request.to
        if "maxFeePerGas" in fees:
            tx["type"] = 2
        return bytes(Account.sign_transaction(tx, self.account.key).raw_transaction)

    def send_many(self, requests: Sequence[TxRequest]) -> list[str]:
        """Signs and submits ``requests`` in one batch with consecutive nonces; returns their hashes."""
        if not requests:
            return []
        fees = self._fee_fields()
        first = self._take_nonces(len(requests))
        raws = [self.sign(r, first + i, fees) for i, r in enumerate(requests)]
        answers = self.client.send_raw(raws)
        errors = [a for a in answers if isinstance(a, RpcError)]
        if errors:
            self.resync()
            raise TransactionError(f"the node refused {len(errors)} of {len(raws)} transaction(s): "
                                   f"{errors[0].rpc_message}")
        return [str(a) for a in answers]

    def send(self, request: TxRequest) -> str:
        return self.send_many([request])[0]

    def sign_next(self, request: TxRequest) -> bytes:
        """Signs ``request`` with the next nonce without sending it (for an outbox that stores it first)."""
        return self.sign(request, self._take_nonces(1), self._fee_fields())

    def estimate_gas(self, to: str | None, data: bytes, value: int = 0) -> int:
        """Gas estimate; raises RpcError carrying revert data when the call would revert."""
        call: dict[str, Any] = {"from": self.address, "data": "0x" + data.hex(), "value": hex(value)}
        if to is not None:
            call["to"] = to
        return int(self.client.request("eth_estimateGas", [call]), 16)
