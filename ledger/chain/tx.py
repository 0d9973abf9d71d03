"""A transaction request, its fee fields and its signature — shared by the sender and the outbox.

Transactions are signed locally (eth-account; coincurve makes that ~10x faster) and sent raw, so the node
needs no unlocked accounts and a signed transaction can be stored before it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.chain.client import ChainClient, RpcError


@dataclass(frozen=True)
class TxRequest:
    """One call to send: target, calldata, gas limit, and what it is (``label``, e.g. EvidenceRegistry.anchor)."""

    to: str | None
    data: bytes
    gas: int
    value: int = 0
    label: str = "call"


def fee_fields(client: ChainClient) -> dict[str, int]:
    """EIP-1559 fee fields from the latest block, or a legacy gas price (pre-London or a zero-gas network such
    as Besu's free-gas configuration)."""
    latest = client.block("latest")
    base_fee = latest.get("baseFeePerGas")
    if base_fee is None:
        return {"gasPrice": int(client.request("eth_gasPrice"), 16)}
    try:
        tip = int(client.request("eth_maxPriorityFeePerGas"), 16)
    except RpcError:
        tip = 0
    return {"maxFeePerGas": 2 * int(base_fee, 16) + tip, "maxPriorityFeePerGas": tip}


def sign_transaction(account: LocalAccount, chain_id: int, request: TxRequest, nonce: int,
                     fees: dict[str, int]) -> bytes:
    tx: dict[str, Any] = {"chainId": chain_id, "nonce": nonce, "gas": request.gas, "value": request.value,
                          "data": request.data, **fees}
    if request.to is not None:
        tx["to"] = request.to
    if "maxFeePerGas" in fees:
        tx["type"] = 2
    return bytes(Account.sign_transaction(tx, account.key).raw_transaction)
