"""The unified social credit code (统一社会信用代码, USCC) of legal persons and other organisations, GB 32100-2015.

Structure (GB 32100-2015, 代码结构): 18 characters from the 31-character alphabet ``0-9 A-H J-N P Q R T U W X Y``
(I, O, S, V and Z are never used):

- position 1: registration-authority code (登记管理部门代码, e.g. 9 market regulation, 1 establishment office,
  5 civil affairs, Y other);
- position 2: organisation-category code (机构类别代码, e.g. 1 enterprise under market regulation);
- positions 3-8: administrative-division code of the registering authority (登记管理机关行政区划码, GB/T 2260,
  six digits);
- positions 9-17: organisation code (主体标识码, GB 11714);
- position 18: check character (校验码), computed here.

Check character (GB 32100-2015, 校验码): with ``C_i`` the alphabet index of character ``i``
(``0``..``9`` are 0..9, ``A`` = 10 … ``Y`` = 30) and the weights ``W_i = 3^(i-1) mod 31`` for ``i`` = 1..17
(1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28), ``C_18 = 31 - (Σ C_i·W_i mod 31)``, where a
result of 31 means ``0``. TJIFA §6.4.1.1(a) and App. 8 require the holder's USCC on file and on the certificate.
"""

from __future__ import annotations

from ledger.errors import LedgerValueError

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
LENGTH = 18


def check_character(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters of a code."""
    if len(first17) != LENGTH - 1 or any(c not in ALPHABET for c in first17):
        raise LedgerValueError(f"{first17!r}: a USCC body is 17 characters of {ALPHABET}")
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why ``code`` is not a well-formed USCC, or None when it is (structure and check character)."""
    if len(code) != LENGTH:
        return f"a unified social credit code has 18 characters, {code!r} has {len(code)}"
    wrong = sorted({c for c in code if c not in ALPHABET})
    if wrong:
        return (f"{code!r} contains {', '.join(repr(c) for c in wrong)}: a unified social credit code uses only "
                "digits and the capital letters A-H J-N P Q R T U W X Y (no I, O, S, V, Z; GB 32100-2015)")
    if not code[2:8].isdigit():
        return f"{code!r}: characters 3-8 are the administrative-division code, six digits (GB 32100-2015)"
    expected = check_character(code[:17])
    if code[17] != expected:
        return (f"{code!r}: the check character (18th) should be {expected!r}, not {code[17]!r} "
                "(GB 32100-2015 校验码): a character was mistyped")
    return None


def validate_uscc(code: str) -> str:
    """``code`` if it is a well-formed USCC; otherwise LedgerValueError saying what is wrong."""
    reason = problem(code)
    if reason is not None:
        raise LedgerValueError(reason)
    return code
