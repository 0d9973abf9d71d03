"""Digests of files and documents.

Streamed digests of files of any size (SHA-256 default, Keccak-256, SM3 / GB/T 32905-2016), and
canonical JSON (RFC 8785 / JCS) so that anyone can recompute a document's hash from its content
(TJIFA App. 4 §4: verification from the original data by a specific, public algorithm). SM3 is offered
as the domestic-cryptography profile (REGISTRATION_RULES §6.5 [derived]).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from decimal import Decimal
from enum import IntEnum
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.hazmat.primitives import hashes

from ledger.errors import LedgerValueError

try:  # C implementation, ~7x faster than pycryptodome's for short inputs (Merkle trees).
    from sha3 import keccak_256 as _keccak_256

    def keccak256(data: bytes) -> bytes:
        """Keccak-256 (Ethereum's hash, not FIPS SHA3-256)."""
        return bytes(_keccak_256(data).digest())

except ImportError:  # pragma: no cover - exercised only where the wheel is missing
    from Crypto.Hash import keccak as _keccak

    def keccak256(data: bytes) -> bytes:
        """Keccak-256 (Ethereum's hash, not FIPS SHA3-256)."""
        return _keccak.new(digest_bits=256, data=data).digest()


CHUNK_SIZE = 1 << 20


class HashAlgorithm(IntEnum):
    """Hash algorithms; the value is the id recorded on chain."""

    SHA256 = 1
    KECCAK256 = 2
    SM3 = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | int | HashAlgorithm) -> HashAlgorithm:
        """Accepts ``sha256`` / ``keccak256`` / ``sm3`` (any case, ``-`` allowed) or the numeric id."""
        if isinstance(value, HashAlgorithm):
            return value
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            try:
                return cls(int(value))
            except ValueError:
                pass
        else:
            name = value.replace("-", "").replace("_", "").upper()
            if name in cls.__members__:
                return cls[name]
        choices = ", ".join(a.label for a in cls)
        raise LedgerValueError(f"unknown hash algorithm {value!r}: use one of {choices}")


class _CryptographyHasher:
    """Adapts ``cryptography``'s hash context (SM3 through OpenSSL) to update/digest."""

    def __init__(self, algorithm: hashes.HashAlgorithm) -> None:
        self._ctx = hashes.Hash(algorithm)

    def update(self, data: bytes, /) -> None:
        self._ctx.update(data)

    def digest(self) -> bytes:
        return self._ctx.finalize()


class _KeccakHasher:
    def __init__(self) -> None:
        try:
            from sha3 import keccak_256

            self._h: Any = keccak_256()
        except ImportError:  # pragma: no cover
            from Crypto.Hash import keccak

            self._h = keccak.new(digest_bits=256)

    def update(self, data: bytes, /) -> None:
        self._h.update(data)

    def digest(self) -> bytes:
        return bytes(self._h.digest())


def new_hasher(algorithm: HashAlgorithm) -> Any:
    """A fresh incremental hasher with ``update(bytes)`` and ``digest() -> bytes``."""
    if algorithm is HashAlgorithm.SHA256:
        return hashlib.sha256()
    if algorithm is HashAlgorithm.KECCAK256:
        return _KeccakHasher()
    return _CryptographyHasher(hashes.SM3())


def digest_bytes(data: bytes, algorithm: HashAlgorithm = HashAlgorithm.SHA256) -> bytes:
    """Digest of an in-memory byte string."""
    hasher = new_hasher(algorithm)
    hasher.update(data)
    return bytes(hasher.digest())


def digest_stream(
    stream: BinaryIO,
    algorithm: HashAlgorithm = HashAlgorithm.SHA256,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> bytes:
    """Digest of a binary stream read in chunks; ``progress`` gets the byte count of each chunk."""
    hasher = new_hasher(algorithm)
    while chunk := stream.read(chunk_size):
        hasher.update(chunk)
        if progress is not None:
            progress(len(chunk))
    return bytes(hasher.digest())


def digest_file(
    path: Path,
    algorithm: HashAlgorithm = HashAlgorithm.SHA256,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """Streamed digest of a file of any size."""
    try:
        with path.open("rb") as stream:
            return digest_stream(stream, algorithm, progress)
    except FileNotFoundError as exc:
        raise LedgerValueError(f"no such file: {path}") from exc
    except IsADirectoryError as exc:
        raise LedgerValueError(f"{path} is a directory, not a file") from exc
    except PermissionError as exc:
        raise LedgerValueError(f"cannot read {path}: permission denied") from exc


_HEX32 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


def parse_digest(value: str) -> bytes:
    """A 32-byte digest from 64 hex digits, with or without ``0x``."""
    text = value.strip()
    if not _HEX32.match(text):
        raise LedgerValueError(
            f"not a digest: {value[:80]!r} (expected 64 hexadecimal digits, optionally prefixed 0x)"
        )
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def looks_like_digest(value: str) -> bool:
    return bool(_HEX32.match(value.strip()))


def to_hex(data: bytes) -> str:
    return "0x" + data.hex()


# --- canonical JSON (RFC 8785, JSON Canonicalization Scheme) -------------------------------------


def _jcs_number(value: int | float) -> str:
    """ECMAScript ``Number.prototype.toString`` of ``value`` (RFC 8785 §3.2.2.3): the shortest digits that
    round-trip, in plain notation for decimal exponents 1e-6 <= |x| < 1e21, else ``d.ddde±n``."""
    if isinstance(value, bool):  # bool is an int subclass; handled by the caller
        raise TypeError
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise LedgerValueError(
                f"integer {value} is outside the I-JSON safe range; store it as a string"
            )
        return str(value)
    if not math.isfinite(value):
        raise LedgerValueError("NaN and infinity cannot be represented in canonical JSON")
    if value == 0:
        return "0"  # also -0 (ECMAScript prints "0")
    # repr() gives the shortest round-trip digits (as ECMAScript does); re-lay them out the ECMAScript way.
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exponent = int(exponent) + len(digit_tuple) - len(digits)  # value = digits x 10^exponent
    k = len(digits)
    n = exponent + k  # ECMAScript's n: the decimal point sits after n digits
    prefix = "-" if value < 0 else ""
    if k <= n <= 21:
        return prefix + digits + "0" * (n - k)
    if 0 < n <= 21:
        return prefix + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return prefix + "0." + "0" * -n + digits
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{prefix}{mantissa}e{'+' if n - 1 > 0 else '-'}{abs(n - 1)}"


def _jcs_string(value: str) -> str:
    """A JSON string as ECMAScript ``JSON.stringify`` writes it; a lone surrogate is not Unicode text."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LedgerValueError(f"canonical JSON needs well-formed Unicode: {value[:40]!r} holds a lone "
                               f"surrogate at position {exc.start}") from None
    return json.dumps(value, ensure_ascii=False)


def _jcs(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int | float):
        out.append(_jcs_number(value))
    elif isinstance(value, str):
        out.append(_jcs_string(value))
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _jcs(item, out)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        for i, key in enumerate(sorted(value, key=lambda k: _utf16_key(k))):
            if i:
                out.append(",")
            out.append(_jcs_string(key))
            out.append(":")
            _jcs(value[key], out)
        out.append("}")
    else:
        raise LedgerValueError(f"cannot put a {type(value).__name__} into canonical JSON")


def _utf16_key(key: object) -> bytes:
    if not isinstance(key, str):
        raise LedgerValueError(f"canonical JSON object keys must be strings, not {type(key).__name__}")
    return key.encode("utf-16-be", "surrogatepass")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical UTF-8 bytes of a JSON value: sorted keys (UTF-16 order), no whitespace."""
    out: list[str] = []
    _jcs(value, out)
    return "".join(out).encode("utf-8")


def document_digest(document: Any, algorithm: HashAlgorithm = HashAlgorithm.SHA256) -> bytes:
    """The digest that goes on chain for a JSON document: the hash of its canonical JSON."""
    return digest_bytes(canonical_json(document), algorithm)
