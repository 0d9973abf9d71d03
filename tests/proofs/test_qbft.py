"""QBFT committed-seal verification with headers the test builds and seals with test keys."""

from __future__ import annotations

import os

import pytest
import rlp
from eth_keys import keys

from ledger.hashing import keccak256, to_hex
from ledger.proofs import qbft

KEYS = [keys.PrivateKey(bytes([i + 1]) * 32) for i in range(4)]
VALIDATORS = [k.public_key.to_canonical_address() for k in KEYS]


def header(seal_with: list[keys.PrivateKey], round_: int = 1, validators: list[bytes] = VALIDATORS) -> bytes:
    fields: list[object] = [os.urandom(32), keccak256(rlp.encode([])), b"\x00" * 20, os.urandom(32), os.urandom(32),
                            os.urandom(32), b"\x00" * 256, 1, 42, 30_000_000, 21_000, 1_700_000_000, b"",
                            os.urandom(32), b"\x00" * 8, 0]
    unsealed = qbft.QbftExtra(b"\x00" * 32, validators, [], round_, [])
    fields[12] = unsealed.encode()
    digest = qbft.seal_hash(bytes(rlp.encode(fields)))
    seals = [k.sign_msg_hash(digest).to_bytes() for k in seal_with]
    fields[12] = unsealed.encode(seals=seals)
    return bytes(rlp.encode(fields))


def test_quorum_of_validators_verifies() -> None:
    assert [qbft.quorum(n) for n in (1, 2, 3, 4, 5, 7)] == [1, 2, 2, 3, 4, 5]
    ok, why = qbft.verify_seals(header(KEYS[:3]))
    assert ok and "3 of 4" in why


def test_too_few_seals_fail() -> None:
    ok, why = qbft.verify_seals(header(KEYS[:2]))
    assert not ok and "needs 3" in why


def test_a_seal_by_a_non_validator_fails() -> None:
    stranger = keys.PrivateKey(b"\x09" * 32)
    ok, why = qbft.verify_seals(header([KEYS[0], KEYS[1], stranger]))
    assert not ok and "not a validator" in why


def test_duplicate_seals_and_untrusted_header_lists_fail() -> None:
    ok, why = qbft.verify_seals(header([KEYS[0], KEYS[0], KEYS[1]]))
    assert not ok and "two seals" in why
    # the header may list whatever validators it likes; a verifier's own trusted set decides
    forged = header(KEYS[:3])
    trusted = {to_hex(keys.PrivateKey(bytes([i + 20]) * 32).public_key.to_canonical_address()) for i in range(4)}
    ok, why = qbft.verify_seals(forged, trusted)
    assert not ok and "not a validator" in why


def test_block_hash_ignores_seals_and_round_but_seals_bind_the_round() -> None:
    sealed = header(KEYS[:3], round_=2)
    fields = rlp.decode(sealed)
    extra = qbft.decode_extra(fields[12])
    assert extra.round == 2 and len(extra.seals) == 3
    fields[12] = extra.encode(round_=0, seals=[])
    assert qbft.block_hash(sealed) == keccak256(rlp.encode(fields))
    fields[12] = extra.encode(round_=3)  # replaying the seals under another round breaks them
    ok, _ = qbft.verify_seals(bytes(rlp.encode(fields)))
    assert not ok


@pytest.mark.parametrize("garbage", [b"", b"\x01\x02", bytes(rlp.encode([b"a", b"b"]))])
def test_malformed_extra_data_is_refused(garbage: bytes) -> None:
    from ledger.errors import LedgerValueError

    with pytest.raises(LedgerValueError):
        qbft.decode_extra(garbage)


def test_only_canonical_seals_count() -> None:
    """Issue #7: Besu writes low-s seals with recovery id 0/1; a respelled seal (n - s, or v 27/28) is refused."""
    from ledger.proofs.signatures import SECP256K1_N

    sealed = header(KEYS[:3])
    fields = rlp.decode(sealed)
    extra = qbft.decode_extra(fields[12])
    first = extra.seals[0]
    s = int.from_bytes(first[32:64], "big")
    respellings = [first[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([1 - first[64]]),
                   first[:64] + bytes([first[64] + 27])]
    for seal in respellings:
        fields[12] = extra.encode(seals=[seal, *extra.seals[1:]])
        ok, why = qbft.verify_seals(bytes(rlp.encode(fields)))
        assert not ok and "canonical" in why, why
