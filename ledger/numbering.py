"""Registration numbers (登记号): one unique, human-readable number per registration unit (SZ art. 13).

Format ``<profile prefix>-<year>-<6-digit sequence>-<check character>``, e.g. ``SZ-2026-000123-7``. The check
character is ISO/IEC 7064 MOD 37,36 over the alphanumerics, so a mistyped character or a swap of two
adjacent ones is caught before anything is looked up. The unit's on-chain id is keccak256 of the number.
"""

from __future__ import annotations

import re

from ledger.errors import LedgerValueError
from ledger.hashing import keccak256

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NUMBER = re.compile(r"^([A-Z]{2,4})-(\d{4})-(\d{6})-([0-9A-Z])$")


def _mod37_36(text: str) -> int:
    p = 36
    for ch in text:
        s = (p + _ALPHABET.index(ch)) % 36 or 36
        p = (2 * s) % 37
    return p


def check_character(body: str) -> str:
    """ISO/IEC 7064 MOD 37,36 check character of ``body`` (its alphanumerics, upper-cased)."""
    chars = [c for c in body.upper() if c in _ALPHABET]
    return _ALPHABET[(37 - _mod37_36("".join(chars))) % 36]


def registration_number(prefix: str, year: int, sequence: int) -> str:
    if not 0 < sequence < 1_000_000:
        raise LedgerValueError(f"sequence {sequence} is outside 1..999999")
    body = f"{prefix}-{year:04d}-{sequence:06d}"
    return f"{body}-{check_character(body)}"


def validate_number(number: str) -> str:
    """The number, upper-cased, if well formed and its check character matches; else LedgerValueError."""
    text = number.strip().upper()
    match = _NUMBER.match(text)
    if match is None:
        raise LedgerValueError(f"{number!r} is not a registration number (expected e.g. SZ-2026-000123-7)")
    body = text.rsplit("-", 1)[0]
    if check_character(body) != match.group(4):
        raise LedgerValueError(f"registration number {number!r} has a wrong check character: mistyped?")
    return text


def unit_id(number: str) -> bytes:
    """The deterministic on-chain id of a registration unit."""
    return keccak256(validate_number(number).encode())
