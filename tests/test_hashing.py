"""Digests: standard test vectors, streaming equals one-shot, canonical JSON (RFC 8785)."""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from gmssl import func, sm3
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import LedgerValueError
from ledger.hashing import (
    HashAlgorithm,
    canonical_json,
    digest_bytes,
    digest_file,
    digest_stream,
    document_digest,
    parse_digest,
)

# GB/T 32905-2016 appendix A: example 1 ("abc") and example 2 ("abcd" x 16).
SM3_VECTORS = [
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
]


@pytest.mark.parametrize(("message", "expected"), SM3_VECTORS)
def test_sm3_matches_gbt_32905_vectors(message: bytes, expected: str) -> None:
    assert digest_bytes(message, HashAlgorithm.SM3).hex() == expected
    assert digest_stream(io.BytesIO(message), HashAlgorithm.SM3, chunk_size=3).hex() == expected


def test_sha256_and_keccak_vectors() -> None:
    assert digest_bytes(b"abc").hex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert digest_bytes(b"", HashAlgorithm.KECCAK256).hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=5000), chunk=st.integers(min_value=1, max_value=700))
def test_streamed_digest_equals_one_shot_and_gmssl(data: bytes, chunk: int) -> None:
    for alg in HashAlgorithm:
        assert digest_stream(io.BytesIO(data), alg, chunk_size=chunk) == digest_bytes(data, alg)
    assert digest_bytes(data, HashAlgorithm.SM3).hex() == sm3.sm3_hash(func.bytes_to_list(data))


def test_digest_file_reports_progress_and_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * (3 * 1024 * 1024 + 5))
    seen: list[int] = []
    assert digest_file(path, progress=seen.append) == digest_bytes(path.read_bytes())
    assert sum(seen) == path.stat().st_size and len(seen) == 4
    with pytest.raises(LedgerValueError, match="no such file"):
        digest_file(tmp_path / "missing")
    with pytest.raises(LedgerValueError, match="directory"):
        digest_file(tmp_path)


def test_canonical_json_follows_rfc8785() -> None:
    # Key order by UTF-16 code units, no whitespace, ECMAScript number forms, literal non-ASCII.
    doc = {"€": 1, "\r": 2, "ö": 3, "1": 4, "\U0001f600": 5, "\ufb33": 6}
    assert canonical_json(doc).decode() == '{"\\r":2,"1":4,"\u00f6":3,"\u20ac":1,"\U0001f600":5,"\ufb33":6}'
    numbers = [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001, -0.0, 1e21, 1e-7, 100.0]
    assert canonical_json(numbers) == b"[333333333.3333333,1e+30,4.5,0.002,1e-27,0,1e+21,1e-7,100]"
    assert canonical_json({"b": [True, None], "a": "数据资产"}) == '{"a":"数据资产","b":[true,null]}'.encode()
    assert document_digest({"b": 1, "a": 2}) == document_digest({"a": 2, "b": 1})
    with pytest.raises(LedgerValueError):
        canonical_json({"x": float("nan")})
    with pytest.raises(LedgerValueError):
        canonical_json({"x": 2**60})


def test_canonical_numbers_use_the_ecmascript_shortest_form() -> None:
    """RFC 8785 §3.2.2.3: whole-number floats from 1e16 to 1e21 print ECMAScript's digits, not exact integers."""
    assert canonical_json(float(2**64)) == b"18446744073709552000"
    assert canonical_json([1e16, 1e20, 123456789012345680000.0, 1e21]) == (
        b"[10000000000000000,100000000000000000000,123456789012345680000,1e+21]")
    assert canonical_json([5e-324, 1e-6, -1.5e-7, 9007199254740993.0]) == b"[5e-324,0.000001,-1.5e-7,9007199254740992]"


def test_lone_surrogates_raise_the_ledgers_own_error() -> None:
    for bad in ({"a": "\ud800"}, {"\udc00": 1}, ["ok", "x\udfffy"]):
        with pytest.raises(LedgerValueError, match="lone surrogate"):
            canonical_json(bad)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES)
def test_canonical_json_equals_an_independent_implementation(value: Any) -> None:
    """Trail of Bits' rfc8785 package, written apart from ours, gives the same bytes for any JSON value."""
    assert canonical_json(value) == rfc8785.dumps(value)


def test_canonical_numbers_equal_ecmascript_itself() -> None:
    """The number forms are ECMAScript's own: Node's JSON.stringify prints the same text for edge cases and
    for 2,000 random doubles (RFC 8785 defines numbers by ECMAScript's Number serialization)."""
    rng = random.Random(8785)
    edge = [2.0**64, 1e16, 1e21, 1e21 * (1 - 2**-52), 1e-6, 1e-7, 5e-324, 1.7976931348623157e308, 0.1 + 0.2,
            333333333.33333329, 4.35, 0.000001234, 1e-7 * 3]
    randoms = [rng.choice([-1, 1]) * rng.random() * 10 ** rng.randint(-30, 30) for _ in range(1000)]
    bits = [struct.unpack("<d", rng.randbytes(8))[0] for _ in range(1000)]
    values = [v for v in edge + randoms + bits if v == v and abs(v) != float("inf")]
    script = "const v = JSON.parse(require('fs').readFileSync(0, 'utf8')); console.log(JSON.stringify(v));"
    text = json.dumps(values)  # Python's repr round-trips, so Node parses the same doubles
    node = subprocess.run(["node", "-e", script], input=text, capture_output=True, text=True, check=True)
    assert canonical_json(values).decode() == node.stdout.strip()


def test_parse_digest_and_algorithm_names() -> None:
    assert parse_digest("0x" + "ab" * 32) == bytes([0xAB]) * 32
    assert parse_digest("AB" * 32) == bytes([0xAB]) * 32
    for bad in ["", "0x12", "zz" * 32, "ab" * 33]:
        with pytest.raises(LedgerValueError, match="not a digest"):
            parse_digest(bad)
    assert HashAlgorithm.parse("SM3") is HashAlgorithm.SM3
    assert HashAlgorithm.parse("sha-256") is HashAlgorithm.SHA256
    assert HashAlgorithm.parse(2) is HashAlgorithm.KECCAK256
    with pytest.raises(LedgerValueError, match="unknown hash algorithm"):
        HashAlgorithm.parse("md5")
