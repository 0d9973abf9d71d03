"""Signing and sending transactions from one account: explicit gas, batching, and — when an outbox is given —
a journaled send whose nonce the database allocates (``ledger.chain.outbox``).

Without an outbox (deploy time, before a deployment and its database exist) nonces come from a local counter
seeded from the node, so many transactions can be in flight and land in the same block.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from eth_account.signers.local import LocalAccount
from sqlmodel import Session

from ledger.chain.client import ChainClient, RpcError
from ledger.chain.outbox import Outbox
from ledger.chain.tx import TxRequest, fee_fields, sign_transaction
from ledger.errors import TransactionError
from ledger.models import ChainIntent

__all__ = ["TransactionSender", "TxRequest"]
_FEE_TTL = 2.0


class TransactionSender:
    """Sends transactions for one account: through the outbox when one is given, else with a local nonce."""

    def __init__(self, client: ChainClient, account: LocalAccount, outbox: Outbox | None = None) -> None:
        self.client = client
        self.account = account
        self.outbox = outbox
        self._lock = threading.Lock()
        self._nonce: int | None = None
        self._fees: tuple[float, dict[str, int]] | None = None
        if outbox is not None:
            outbox.know_key(account)

    @property
    def address(self) -> str:
        return str(self.account.address)

    def fees(self) -> dict[str, int]:
        now = time.monotonic()
        if self._fees and now - self._fees[0] < _FEE_TTL:
            return self._fees[1]
        fees = fee_fields(self.client)
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
        return sign_transaction(self.account, self.client.chain_id, request, nonce, fees)

    def stage(self, requests: Sequence[TxRequest], *, ref: str = "", session: Session | None = None,
              ) -> list[ChainIntent]:
        """Stores signed transactions in the outbox without sending them (``session``: in the caller's
        database transaction)."""
        if self.outbox is None:
            raise TransactionError("staging a transaction needs the outbox (a deployment and its database)")
        return self.outbox.stage(self.account, requests, self.fees(), ref=ref, session=session)

    def send_many(self, requests: Sequence[TxRequest], ref: str = "") -> list[str]:
        """Signs and submits ``requests`` in one batch with consecutive nonces; returns their hashes. With an
        outbox they are journaled first."""
        if not requests:
            return []
        if self.outbox is not None:
            intents = self.stage(requests, ref=ref)
            self.outbox.send(intents)
            return [i.tx_hash for i in intents]
        fees = self.fees()
        first = self._take_nonces(len(requests))
        raws = [self.sign(r, first + i, fees) for i, r in enumerate(requests)]
        answers = self.client.send_raw(raws)
        errors = [a for a in answers if isinstance(a, RpcError)]
        if errors:
            self.resync()
            raise TransactionError(f"the node refused {len(errors)} of {len(raws)} transaction(s): "
                                   f"{errors[0].rpc_message}")
        return [str(a) for a in answers]

    def send(self, request: TxRequest, ref: str = "") -> str:
        return self.send_many([request], ref)[0]

    def wait(self, tx_hashes: Sequence[str], timeout: float = 120.0) -> list[dict[str, Any]]:
        """Receipts of sent transactions (recorded in the outbox, when there is one)."""
        if self.outbox is not None:
            return self.outbox.wait(tx_hashes, timeout)
        return self.client.wait_for_receipts(tx_hashes, timeout)

    def sign_next(self, request: TxRequest) -> bytes:
        """Signs ``request`` with the next local nonce without sending it (benchmarks; not journaled)."""
        return self.sign(request, self._take_nonces(1), self.fees())

    def estimate_gas(self, to: str | None, data: bytes, value: int = 0) -> int:
        """Gas estimate; raises RpcError carrying revert data when the call would revert."""
        call: dict[str, Any] = {"from": self.address, "data": "0x" + data.hex(), "value": hex(value)}
        if to is not None:
            call["to"] = to
        return int(self.client.request("eth_estimateGas", [call]), 16)
