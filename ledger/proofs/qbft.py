"""QBFT (Hyperledger Besu) header seals, verified offline.

Facts this follows (Besu: QbftExtraDataCodec, BftBlockHashing, QbftRound, BftHelpers):
- extraData = RLP([vanity, [validator addresses], vote ([] when none), round (RLP integer), [committed seals]]);
- the block hash hashes the header with extraData re-encoded with round 0 and no seals;
- a committed seal is a 65-byte secp256k1 signature (r || s || recId, recId 0 or 1, low s as Besu normalises
  it) over keccak256 of the header RLP with extraData re-encoded with the real round and no seals — no
  message-code byte appended; only that canonical spelling is accepted (``ledger.proofs.signatures``);
- a block needs ((2N - 1) // 3) + 1 seals from distinct validators (N = validator count).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rlp

from ledger.errors import LedgerValueError
from ledger.hashing import keccak256, to_hex
from ledger.proofs.signatures import recover


@dataclass(frozen=True)
class QbftExtra:
    vanity: bytes
    validators: list[bytes]
    vote: list[Any]
    round: int
    seals: list[bytes]

    def encode(self, *, round_: int | None = None, seals: list[bytes] | None = None) -> bytes:
        return bytes(rlp.encode([self.vanity, self.validators, self.vote,
                                 self.round if round_ is None else round_,
                                 self.seals if seals is None else seals]))


def decode_extra(extra: bytes) -> QbftExtra:
    try:
        vanity, validators, vote, round_, seals = rlp.decode(extra)
    except (rlp.exceptions.DecodingError, ValueError) as exc:
        raise LedgerValueError(f"extraData is not QBFT extra data: {exc.__class__.__name__}") from exc
    return QbftExtra(bytes(vanity), [bytes(v) for v in validators], vote, int.from_bytes(round_, "big"),
                     [bytes(s) for s in seals])


def quorum(validator_count: int) -> int:
    return ((2 * validator_count - 1) // 3) + 1


def _with_extra(header_rlp: bytes, extra: bytes) -> bytes:
    fields = rlp.decode(header_rlp)
    fields[12] = extra  # extraData is the 13th header field
    return bytes(rlp.encode(fields))


def block_hash(header_rlp: bytes) -> bytes:
    """The QBFT on-chain block hash: seals removed and round set to 0."""
    fields = rlp.decode(header_rlp)
    if int.from_bytes(fields[8], "big") == 0:  # genesis is hashed as is
        return keccak256(header_rlp)
    extra = decode_extra(bytes(fields[12]))
    return keccak256(_with_extra(header_rlp, extra.encode(round_=0, seals=[])))


def seal_hash(header_rlp: bytes) -> bytes:
    """What each committed seal signs: the header with the real round and no seals."""
    extra = decode_extra(bytes(rlp.decode(header_rlp)[12]))
    return keccak256(_with_extra(header_rlp, extra.encode(seals=[])))


def verify_seals(header_rlp: bytes, trusted: set[str] | None = None) -> tuple[bool, str]:
    """(ok, why): enough distinct validators sealed this header. ``trusted`` (lower-case addresses) replaces the
    header's own validator list as the validator set when given."""
    extra = decode_extra(bytes(rlp.decode(header_rlp)[12]))
    validators = trusted if trusted is not None else {to_hex(v) for v in extra.validators}
    if not validators:
        return False, "no validator set: the header lists none and no --trust was given"
    digest = seal_hash(header_rlp)
    signers: list[str] = []
    for seal in extra.seals:
        try:
            signer = recover(digest, seal, v_base=0).lower()
        except LedgerValueError as exc:
            return False, f"a committed seal is refused: {exc.user_message}"
        if signer not in validators:
            return False, f"seal by {signer}, which is not a validator"
        if signer in signers:
            return False, f"two seals by {signer}"
        signers.append(signer)
    need = quorum(len(validators))
    if len(signers) < need:
        return False, f"{len(signers)} seal(s) from {len(validators)} validators; QBFT needs {need}"
    return True, f"{len(signers)} of {len(validators)} validators sealed the block (quorum {need})"
