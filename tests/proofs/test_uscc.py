"""The unified social credit code's GB 32100-2015 check character (TJIFA §6.4.1.1(a), App. 8: the holder's USCC)."""

from __future__ import annotations

import random

import pytest

from ledger.errors import LedgerValueError
from ledger.uscc import ALPHABET, WEIGHTS, check_character, problem, validate_uscc

# Published codes: the example printed in GB 32100-2015 itself, and codes as shown on public business licences.
PUBLISHED = [
    "91350100M000100Y43",  # GB 32100-2015's example
    "914403001922038216",  # 华为技术有限公司
    "91330100716105852F",  # 阿里巴巴(中国)有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91110000802100433B",  # 北京百度网讯科技有限公司
]


def test_alphabet_and_weights_follow_the_standard() -> None:
    assert len(ALPHABET) == 31 and not set("IOSVZ") & set(ALPHABET)
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code: str) -> None:
    assert problem(code) is None and validate_uscc(code) == code
    assert check_character(code[:17]) == code[17]


def test_constructed_codes_round_trip_and_zero_case() -> None:
    rng = random.Random(32100)
    for _ in range(500):
        body = rng.choice("159Y") + rng.choice("123") + "".join(rng.choice("0123456789") for _ in range(6)) + \
            "".join(rng.choice(ALPHABET) for _ in range(9))
        assert problem(body + check_character(body)) is None
    # a weighted sum that is a multiple of 31 gives check character "0", not "31"
    body = next(b for b in (f"91110000{n:09d}" for n in range(10_000)) if
                sum(ALPHABET.index(c) * w for c, w in zip(b, WEIGHTS, strict=True)) % 31 == 0)
    assert check_character(body) == "0"


def test_every_single_substitution_and_adjacent_swap_is_caught() -> None:
    code = PUBLISHED[0]
    for i in range(18):
        for c in ALPHABET:
            if c != code[i]:
                altered = code[:i] + c + code[i + 1:]
                assert problem(altered) is not None, altered
    for i in range(17):
        if code[i] != code[i + 1]:
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
            assert problem(swapped) is not None, swapped


@pytest.mark.parametrize(("code", "says"), [
    ("91350100M000100Y4", "has 17"),
    ("91350100M000100Y433", "has 19"),
    ("91350100M0001O0Y43", "'O'"),  # letter O, not zero
    ("91350100I000100Y43", "'I'"),
    ("91350100m000100y43", "'m'"),
    ("913501A0M000100Y43", "administrative-division code"),
    ("91350100M000100Y44", "should be '3'"),
])
def test_malformed_codes_say_why(code: str, says: str) -> None:
    with pytest.raises(LedgerValueError) as info:
        validate_uscc(code)
    assert says in info.value.user_message
