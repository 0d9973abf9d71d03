"""Trust roots: whom an offline verifier believes (信任根).

Hashes and signatures prove that a bundle is internally consistent; only trust roots make it *authentic*. A
platform publishes its trust list — the chain it runs, its registry contracts, the authority nodes whose
signatures attest its blocks (notary, arbitration, time service …, TJIFA §7.1.4; or the QBFT validators on
Besu) and how many must sign — at ``/trust-list.json``, and certificates print where to get it and its
SHA-256 fingerprint. A verifier takes it (or a bare list of authority addresses) from there, never from the
bundle it is checking: a forger writes the bundle. Without trust roots a verification can only ever say
"integrity only — not authenticated" (issue #7).

This module needs only pydantic and hashing: the offline verifier imports it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from ledger.errors import LedgerValueError
from ledger.hashing import canonical_json, digest_bytes, to_hex

TRUST_LIST_FORMAT = "ledger.trust-list/1"
ADDRESS = r"^0x[0-9a-fA-F]{40}$"


class TrustedAuthority(BaseModel):
    """An authority node whose block signatures the platform recognises."""

    address: str = Field(pattern=ADDRESS)
    name: str = Field(min_length=1, description="Who it is (e.g. 天津市公证处).")
    kind: str = Field(description="notary, arbitration, time_service, audit … or validator (QBFT).")


class TrustList(BaseModel):
    """A platform's published trust roots."""

    format: Literal["ledger.trust-list/1"]
    platform: str = Field(description="The registration platform that publishes the list.")
    chain_id: int = Field(ge=1)
    genesis_hash: str = Field(pattern=r"^0x[0-9a-f]{64}$")
    contracts: dict[str, str] = Field(description="Registry contract name -> address.")
    consensus: Literal["checkpoint", "qbft"] = Field(description="What attests blocks: authority checkpoint "
                                                     "signatures (dev chain) or QBFT committed seals (Besu).")
    authorities: list[TrustedAuthority] = Field(min_length=1)
    threshold: int = Field(ge=1, description="Distinct authorities that must sign a block.")

    def fingerprint(self) -> str:
        """SHA-256 of the list's canonical JSON: what a certificate prints so a copy can be checked."""
        return to_hex(digest_bytes(canonical_json(self.model_dump(mode="json"))))


@dataclass(frozen=True)
class TrustRoots:
    """What a verifier was told to trust: authorities (lower-case addresses), and — from a full trust list —
    the chain, the contracts and the threshold."""

    authorities: frozenset[str]
    names: dict[str, str] = field(default_factory=dict)  # address -> "name (kind)"
    threshold: int | None = None
    trust_list: TrustList | None = None

    @classmethod
    def of_addresses(cls, addresses: list[str]) -> TrustRoots:
        return cls(authorities=frozenset(a.lower() for a in addresses))

    @classmethod
    def of_list(cls, trust_list: TrustList) -> TrustRoots:
        return cls(authorities=frozenset(a.address.lower() for a in trust_list.authorities),
                   names={a.address.lower(): f"{a.name} ({a.kind})" for a in trust_list.authorities},
                   threshold=trust_list.threshold, trust_list=trust_list)

    def name(self, address: str) -> str:
        return self.names.get(address.lower(), address)


def parse_trust_list(data: Any) -> TrustList:
    try:
        return TrustList.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "trust list"
        raise LedgerValueError(f"not a valid {TRUST_LIST_FORMAT}: {where}: {first.get('msg')}") from None


def _addresses(values: list[Any], spec: str) -> list[str]:
    if not values or not all(isinstance(v, str) and v.startswith("0x") and len(v) == 42 for v in values):
        raise LedgerValueError(f"trust roots need 0x-addresses (40 hex digits) or a trust list file, got {spec!r}")
    try:
        for value in values:
            int(value[2:], 16)
    except ValueError:
        raise LedgerValueError(f"{spec!r} holds a value that is not a hex address") from None
    return [str(v) for v in values]


def load_trust(spec: str) -> TrustRoots:
    """Trust roots from ``spec``: a trust-list file (``ledger.trust-list/1``), a file holding a JSON list or
    one address per line, or comma-separated addresses."""
    path = Path(spec)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LedgerValueError(f"cannot read trust roots from {path}: {exc}") from exc
        try:
            data = json.loads(text)
        except ValueError:
            lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
            return TrustRoots.of_addresses(_addresses(lines, spec))
        if isinstance(data, dict):
            return TrustRoots.of_list(parse_trust_list(data))
        return TrustRoots.of_addresses(_addresses(data if isinstance(data, list) else [], spec))
    return TrustRoots.of_addresses(_addresses([p.strip() for p in spec.split(",") if p.strip()], spec))
