"""Digests: standard test vectors, streaming equals one-shot, canonical JSON (RFC 8785)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
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
