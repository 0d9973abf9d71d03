"""Canonical secp256k1 signatures: the one spelling of each signature that the ledger accepts.

An ECDSA signature (r, s) stays valid as (r, n − s), and wallets spell the recovery id as 0/1 or 27/28. If a
verifier accepted every spelling, a signed file could change bytes and still verify — the court bundle's
"any changed byte fails" would not hold. So every signature the ledger checks (bundle seals, checkpoint
signatures, QBFT committed seals, holder consents) must be canonical, as Ethereum requires of transactions
since EIP-2 and OpenZeppelin's ``ECDSA`` of contract signatures:

- exactly 65 bytes ``r || s || v``;
- 1 <= r < n and 1 <= s <= n/2 (low s);
- v is 27 or 28 (``v_base=27``: EIP-191 and EIP-712 signatures) or 0 or 1 (``v_base=0``: Besu's QBFT seals).

This module needs only eth-keys (and keccak): the offline verifier imports it.
"""

from __future__ import annotations

from eth_keys.datatypes import Signature
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError

from ledger.errors import LedgerValueError
from ledger.hashing import keccak256

#: Order of the secp256k1 group.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = SECP256K1_N // 2


def personal_message_hash(text: str) -> bytes:
    """EIP-191 version 0x45 (``personal_sign``): keccak256("\\x19Ethereum Signed Message:\\n" + len + text)."""
    data = text.encode("utf-8")
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)


def canonical_problem(signature: bytes, v_base: int = 27) -> str | None:
    """Why ``signature`` is not in canonical form, or None when it is."""
    if len(signature) != 65:
        return f"a signature is 65 bytes (r, s, v), this one has {len(signature)}"
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if not 1 <= r < SECP256K1_N:
        return "its r is outside the curve order"
    if not 1 <= s <= HALF_N:
        return "its s is in the upper half of the curve order (high-s): only the low-s form is accepted"
    if v not in (v_base, v_base + 1):
        return f"its recovery byte v is {v}; only {v_base} or {v_base + 1} is accepted"
    return None


def recover(message_hash: bytes, signature: bytes, v_base: int = 27) -> str:
    """The checksummed address that signed ``message_hash``; refuses any non-canonical spelling."""
    problem = canonical_problem(signature, v_base)
    if problem is not None:
        raise LedgerValueError(f"not a canonical signature: {problem}")
    try:
        vrs = Signature(signature[:64] + bytes((signature[64] - v_base,)))
        return str(vrs.recover_public_key_from_msg_hash(message_hash).to_checksum_address())
    except (BadSignature, ValidationError, ValueError) as exc:
        raise LedgerValueError(f"the signature does not recover a key: {exc}") from exc


def recover_personal(text: str, signature: bytes) -> str:
    """The signer of an EIP-191 personal message (canonical signatures only)."""
    return recover(personal_message_hash(text), signature)
