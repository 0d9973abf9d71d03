"""Registry state proven offline: a registration unit's storage in AssetRegistry at a signed block.

``eth_getProof`` gives the account proof of AssetRegistry under the block's ``stateRoot`` and storage proofs
of the unit's slots under the account's ``storageRoot``. Verifying both with the Merkle-Patricia trie code
(py-trie) and decoding the slots tells a court, a bank or an exchange what the registry held at that block —
whether a certificate is the current version, and whether its unit is active, expired, suspended, cancelled,
revoked or under objection (REGISTRATION_RULES §3.8, §5.3; issue #7) — without trusting our server.

The slots follow the contract's storage layout, pinned here and checked against the compiler's
``storageLayout`` output by a test, so the decoder cannot silently drift from the contract:

    slot 6: mapping(bytes32 unitId => Unit) _units;  Unit = 2 slots:
      +0: bytes32 certificateHash
      +1: address holder (bytes 0-19) | uint40 validUntil (20-24) | uint16 certificateVersion (25-26)
          | uint8 status (27) | objectType (28) | profileId (29) | rightsMask (30) | openObjections (31)
      (byte offsets counted from the low-order end, as solc packs them)

This module imports only hashing, rlp and trie code: the offline verifier uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import rlp
from trie.hexary import HexaryTrie

from ledger.errors import LedgerValueError
from ledger.hashing import keccak256, to_hex
from ledger.lifecycle import UnitStatus

CHINA = timezone(timedelta(hours=8))
#: AssetRegistry storage layout (contracts/AssetRegistry.sol, solc 0.8.28): slot of ``_units``.
UNITS_SLOT = 6
#: Field name -> (slot offset within Unit, byte offset within the slot, byte size); from solc's storageLayout.
UNIT_FIELDS: dict[str, tuple[int, int, int]] = {
    "certificateHash": (0, 0, 32),
    "holder": (1, 0, 20),
    "validUntil": (1, 20, 5),
    "certificateVersion": (1, 25, 2),
    "status": (1, 27, 1),
    "objectType": (1, 28, 1),
    "profileId": (1, 29, 1),
    "rightsMask": (1, 30, 1),
    "openObjections": (1, 31, 1),
}


def mapping_slot(key: bytes, slot: int) -> int:
    """Solidity's slot of ``mapping[key]`` for a 32-byte key: keccak256(key . slot)."""
    return int.from_bytes(keccak256(key + slot.to_bytes(32, "big")), "big")


def unit_slots(unit_id: bytes) -> list[int]:
    """The two storage slots of ``_units[unit_id]``."""
    base = mapping_slot(unit_id, UNITS_SLOT)
    return [base, base + 1]


@dataclass(frozen=True)
class UnitState:
    """A registration unit as AssetRegistry stores it."""

    unit_id: bytes
    certificate_hash: bytes
    holder: str
    valid_until: int
    certificate_version: int
    status: UnitStatus
    object_type: int
    profile_id: int
    rights_mask: int
    open_objections: int

    @classmethod
    def from_slots(cls, unit_id: bytes, slot0: int, slot1: int) -> UnitState:
        def field(name: str) -> int:
            index, offset, size = UNIT_FIELDS[name]
            word = slot0 if index == 0 else slot1
            return (word >> (8 * offset)) & ((1 << (8 * size)) - 1)

        status = field("status")
        if status > max(UnitStatus):
            raise LedgerValueError(f"unit status {status} is not one this verifier knows")
        return cls(unit_id=unit_id, certificate_hash=slot0.to_bytes(32, "big"),
                   holder=to_hex(field("holder").to_bytes(20, "big")), valid_until=field("validUntil"),
                   certificate_version=field("certificateVersion"), status=UnitStatus(status),
                   object_type=field("objectType"), profile_id=field("profileId"), rights_mask=field("rightsMask"),
                   open_objections=field("openObjections"))


@dataclass(frozen=True)
class CertificateStatus:
    """What the registry says of one certificate at one moment (REGISTRATION_RULES §3.8, §5.3)."""

    state: str  # valid, superseded, expired, suspended, cancelled, revoked, unknown
    under_objection: bool
    current_version: int  # the unit's current certificate version
    current_certificate_hash: str
    valid_until: int  # 0 = no expiry
    as_of_time: int

    @property
    def is_current(self) -> bool:
        return self.state != "superseded" and self.state != "unknown"

    @property
    def usable(self) -> bool:
        """Whether a court or bank may rely on the certificate as a valid registration."""
        return self.state == "valid"

    def describe(self) -> str:
        """One line, dates in China time (UTC+8) as certificates print them."""
        when = datetime.fromtimestamp(self.as_of_time, CHINA).isoformat()
        until = datetime.fromtimestamp(self.valid_until, CHINA).date().isoformat() if self.valid_until else "no expiry"
        text = {
            "valid": f"VALID 有效: the current certificate (version {self.current_version}), unit active, "
                     f"valid until {until}",
            "superseded": f"SUPERSEDED 已被取代: version {self.current_version} "
                          f"({self.current_certificate_hash}) replaced this certificate",
            "expired": f"EXPIRED 已过期: validity ended {until}",
            "suspended": "SUSPENDED 已中止: the registration is suspended (DL art. 22)",
            "cancelled": "CANCELLED 已注销: the registration was cancelled",
            "revoked": "REVOKED 已撤销: the registry revoked the registration",
            "unknown": "UNKNOWN 未登记: no registration unit holds this certificate",
        }[self.state]
        if self.under_objection:
            text += "; UNDER OBJECTION 存在异议: a disposal needs a written risk acknowledgement (SZ art. 20)"
        return f"{text} (as of {when})"

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "under_objection": self.under_objection,
                "current_certificate_version": self.current_version,
                "current_certificate_hash": self.current_certificate_hash, "valid_until": self.valid_until,
                "as_of_time": self.as_of_time, "summary": self.describe()}


def assess_certificate(unit: UnitState, certificate_hash: bytes, at_time: int) -> CertificateStatus:
    """The status of the certificate ``certificate_hash`` given its unit's state at ``at_time`` (the block's
    timestamp): superseded unless it is the unit's current certificate; otherwise the unit's effective status,
    expiry computed as the contract does (``_effectiveStatus``)."""
    status = unit.status
    if status is UnitStatus.ACTIVE and unit.valid_until and at_time >= unit.valid_until:
        status = UnitStatus.EXPIRED
    if status is UnitStatus.NONE:
        state = "unknown"
    elif unit.certificate_hash != certificate_hash:
        state = "superseded"
    else:
        state = {UnitStatus.ACTIVE: "valid", UnitStatus.SUSPENDED: "suspended", UnitStatus.EXPIRED: "expired",
                 UnitStatus.CANCELLED: "cancelled", UnitStatus.REVOKED: "revoked"}[status]
    return CertificateStatus(state=state, under_objection=unit.open_objections > 0,
                             current_version=unit.certificate_version,
                             current_certificate_hash=to_hex(unit.certificate_hash), valid_until=unit.valid_until,
                             as_of_time=at_time)


# --- Merkle-Patricia proofs (eth_getProof) --------------------------------------------------------------------


@dataclass(frozen=True)
class AccountState:
    nonce: int
    balance: int
    storage_root: bytes
    code_hash: bytes


def _proven(root: bytes, key: bytes, nodes: list[bytes], what: str) -> bytes:
    try:
        decoded = tuple(rlp.decode(node) for node in nodes)
        value = HexaryTrie.get_from_proof(root, key, decoded)  # type: ignore[no-untyped-call]
    except Exception as exc:  # py-trie and rlp raise several kinds on a bad proof
        raise LedgerValueError(f"the {what} proof does not lead to its root: {exc.__class__.__name__}") from exc
    return bytes(value)


def verify_account_proof(state_root: bytes, address: bytes, nodes: list[bytes]) -> AccountState:
    """The account at ``address`` under ``state_root`` (raises LedgerValueError if the proof fails or proves
    that no such account exists)."""
    value = _proven(state_root, keccak256(address), nodes, "account")
    if not value:
        raise LedgerValueError(f"the account proof shows no account at {to_hex(address)}")
    nonce, balance, storage_root, code_hash = rlp.decode(value)
    return AccountState(int.from_bytes(nonce, "big"), int.from_bytes(balance, "big"), bytes(storage_root),
                        bytes(code_hash))


def verify_storage_proof(storage_root: bytes, slot: int, nodes: list[bytes]) -> int:
    """The value of ``slot`` under ``storage_root`` (0 when the proof shows it is empty)."""
    value = _proven(storage_root, keccak256(slot.to_bytes(32, "big")), nodes, "storage")
    return int.from_bytes(rlp.decode(value), "big") if value else 0
