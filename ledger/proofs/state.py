"""Registry state proven offline: one registration unit's storage in AssetRegistry at a signed block.

``eth_getProof`` gives the account proof of AssetRegistry under the block's ``stateRoot`` and storage proofs
of chosen slots under the account's ``storageRoot``. Verifying both with the Merkle-Patricia trie code
(py-trie) and decoding the slots tells a court, a bank or an exchange what the registry held at that block
(issue #13) — without trusting our server:

- the unit: status (REGISTRATION_RULES §3.8), certificate hash and version (a reissue supersedes, TJIFA
  §8.3.1), validity (TJIFA §8.3.3), object type, profile, registered rights and the number of open objections;
- the holder of each of the three rights (三权分置, SZ art. 7; DL art. 4), as ``rightHolderOf`` computes it;
- the active entries of its additional-rights page (他项权益页: pledges and licences, TJIFA §8.2.2), *all* of
  them: the proof carries the unit's ``_activeEntries`` and ``_activePledges`` counters, and the listed
  entries must be exactly that many distinct active entries of this unit;
- its open objection registrations (异议登记, SZ art. 20), all of them, against the unit's ``openObjections``;
- whether a suspension was ordered by a court (DL art. 22), which only the judicial role may lift.

The decoder follows AssetRegistry's storage layout, written down in ``docs/STORAGE-LAYOUT.md`` and pinned
here; ``tests/contracts/test_state_layout.py`` compares it with solc's ``storageLayout`` output and fails when
the contract's layout changes without this module (``LAYOUT_FINGERPRINT``). A bundle's state proof names the
layout it follows (``LAYOUT_ID``) and a verifier refuses one it does not know.

This module imports only hashing, rlp and trie code: the offline verifier uses it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import rlp
from trie.hexary import HexaryTrie

from ledger.errors import LedgerValueError
from ledger.hashing import canonical_json, digest_bytes, keccak256, to_hex
from ledger.lifecycle import Action, ObjectionStatus, Right, UnitStatus

CHINA = timezone(timedelta(hours=8))

# --- AssetRegistry's storage layout (contracts/AssetRegistry.sol 2.0.0, solc 0.8.28) ----------------------------

#: The identifier a bundle's state proof carries: the contract version whose layout it follows.
LAYOUT_ID = "AssetRegistry/2.0.0"
#: State variable -> slot, for the variables the decoder reads (solc's ``storageLayout``).
STORAGE_SLOTS: dict[str, int] = {
    "_units": 6,  # mapping(bytes32 unitId => Unit)
    "_rightHolders": 7,  # mapping(bytes32 unitId => mapping(uint8 right => address holder))
    "_entries": 8,  # mapping(uint256 entryId => RightsEntry)
    "_activeEntries": 9,  # mapping(bytes32 unitId => uint256 count)
    "_objections": 10,  # mapping(bytes32 objectionId => Objection)
    "_activePledges": 14,  # mapping(bytes32 unitId => uint256 count)
    "_suspendedByCourt": 16,  # mapping(bytes32 unitId => bool byCourt)
}
UNITS_SLOT = STORAGE_SLOTS["_units"]
#: Struct member -> (slot offset within the struct, byte offset within the slot, byte size); solc packs from
#: the low-order end of a slot.
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
ENTRY_FIELDS: dict[str, tuple[int, int, int]] = {
    "unitId": (0, 0, 32),
    "counterparty": (1, 0, 20),
    "validUntil": (1, 20, 5),
    "action": (1, 25, 1),
    "rightsMask": (1, 26, 1),
    "active": (1, 27, 1),
}
OBJECTION_FIELDS: dict[str, tuple[int, int, int]] = {
    "unitId": (0, 0, 32),
    "objector": (1, 0, 20),
    "deadline": (1, 20, 5),
    "status": (1, 25, 1),
}
#: SHA-256 of AssetRegistry's whole storage layout (see :func:`layout_fingerprint`). Change it only together
#: with the decoder above, after reading the new layout.
LAYOUT_FINGERPRINT = "0x696dca591213e70458b32270d8346cca1ba2b7c601f89ac6693e3de01b7549bf"
#: The three rights by index, as ``rightHolderOf(unitId, right)`` numbers them.
RIGHTS = (("holding", Right.HOLDING), ("processing_use", Right.PROCESSING_USE),
          ("product_operation", Right.PRODUCT_OPERATION))
RIGHT_WORDS = {"holding": "数据资源持有权 holding", "processing_use": "数据加工使用权 processing-use",
               "product_operation": "数据产品经营权 product-operation"}
OPEN_OBJECTION = (ObjectionStatus.PENDING, ObjectionStatus.LITIGATING)
STATUS_WORDS = {UnitStatus.NONE: "未登记 not registered", UnitStatus.ACTIVE: "有效 active",
                UnitStatus.SUSPENDED: "中止 suspended", UnitStatus.EXPIRED: "已过期 expired",
                UnitStatus.CANCELLED: "已注销 cancelled", UnitStatus.REVOKED: "已撤销 revoked"}
_AST_ID = re.compile(r"\)\d+_storage|\)\d+(?=[,)]|$)")


def layout_fingerprint(layout: Mapping[str, Any]) -> str:
    """SHA-256 of a solc ``storageLayout``, with what does not affect storage removed (AST ids, contract
    names): labels, slots, offsets and types of every variable and struct member, in order."""

    def type_name(name: str) -> str:
        return _AST_ID.sub(lambda m: ")" + ("_storage" if m.group(0).endswith("_storage") else ""), name)

    storage = [{"label": e["label"], "slot": int(e["slot"]), "offset": int(e["offset"]),
                "type": type_name(e["type"])} for e in layout["storage"]]
    types = {type_name(name): {"encoding": t.get("encoding"), "bytes": int(t.get("numberOfBytes", 0)),
                               "members": [{"label": m["label"], "slot": int(m["slot"]), "offset": int(m["offset"]),
                                            "type": type_name(m["type"])} for m in t.get("members", [])]}
             for name, t in layout.get("types", {}).items()}
    return to_hex(digest_bytes(canonical_json(json.loads(json.dumps({"storage": storage, "types": types})))))


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def mapping_slot(key: bytes, slot: int) -> int:
    """Solidity's slot of ``mapping[key]`` for a key padded to 32 bytes: keccak256(key . slot)."""
    return int.from_bytes(keccak256(key.rjust(32, b"\0") + _word(slot)), "big")


def unit_slots(unit_id: bytes) -> list[int]:
    """The two storage slots of ``_units[unit_id]``."""
    base = mapping_slot(unit_id, UNITS_SLOT)
    return [base, base + 1]


def unit_proof_slots(unit_id: bytes, entry_ids: Sequence[int] = (),
                     objection_ids: Sequence[bytes] = ()) -> list[tuple[str, int]]:
    """Every slot a unit's state proof covers, labelled, in the order a bundle lists them: the unit (2), the
    explicit holder of each right (3), the active-entry and active-pledge counters, the court-suspension flag,
    then two slots per listed rights-page entry and per listed objection."""
    base = mapping_slot(unit_id, STORAGE_SLOTS["_units"])
    holders = mapping_slot(unit_id, STORAGE_SLOTS["_rightHolders"])
    slots = [("unit.certificateHash", base), ("unit.packed", base + 1)]
    slots += [(f"rightHolders[{i}]", mapping_slot(_word(i), holders)) for i in range(len(RIGHTS))]
    slots += [("activeEntries", mapping_slot(unit_id, STORAGE_SLOTS["_activeEntries"])),
              ("activePledges", mapping_slot(unit_id, STORAGE_SLOTS["_activePledges"])),
              ("suspendedByCourt", mapping_slot(unit_id, STORAGE_SLOTS["_suspendedByCourt"]))]
    for entry_id in entry_ids:
        entry = mapping_slot(_word(entry_id), STORAGE_SLOTS["_entries"])
        slots += [(f"entries[{entry_id}].unitId", entry), (f"entries[{entry_id}].packed", entry + 1)]
    for objection_id in objection_ids:
        objection = mapping_slot(objection_id, STORAGE_SLOTS["_objections"])
        slots += [(f"objections[{to_hex(objection_id)}].unitId", objection),
                  (f"objections[{to_hex(objection_id)}].packed", objection + 1)]
    return slots


def _field(fields: Mapping[str, tuple[int, int, int]], words: Sequence[int], name: str) -> int:
    index, offset, size = fields[name]
    return (words[index] >> (8 * offset)) & ((1 << (8 * size)) - 1)


def _address(value: int) -> str:
    return to_hex(value.to_bytes(20, "big"))


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
        words = (slot0, slot1)

        def field_(name: str) -> int:
            return _field(UNIT_FIELDS, words, name)

        status = field_("status")
        if status > max(UnitStatus):
            raise LedgerValueError(f"unit status {status} is not one this verifier knows")
        return cls(unit_id=unit_id, certificate_hash=slot0.to_bytes(32, "big"), holder=_address(field_("holder")),
                   valid_until=field_("validUntil"), certificate_version=field_("certificateVersion"),
                   status=UnitStatus(status), object_type=field_("objectType"), profile_id=field_("profileId"),
                   rights_mask=field_("rightsMask"), open_objections=field_("openObjections"))

    def effective_status(self, at_time: int) -> UnitStatus:
        """The status the contract's ``_effectiveStatus`` reports at ``at_time``: an active unit past its
        validity is expired (TJIFA §8.3.3, GZ art. 35)."""
        if self.status is UnitStatus.ACTIVE and self.valid_until and at_time >= self.valid_until:
            return UnitStatus.EXPIRED
        return self.status


@dataclass(frozen=True)
class RightsEntryState:
    """An entry of the additional-rights page (他项权益页, TJIFA §8.2.2) as AssetRegistry stores it."""

    entry_id: int
    unit_id: bytes
    counterparty: str
    valid_until: int  # 0 = open-ended
    action: int
    rights_mask: int
    active: bool

    @classmethod
    def from_slots(cls, entry_id: int, slot0: int, slot1: int) -> RightsEntryState:
        words = (slot0, slot1)
        return cls(entry_id=entry_id, unit_id=slot0.to_bytes(32, "big"),
                   counterparty=_address(_field(ENTRY_FIELDS, words, "counterparty")),
                   valid_until=_field(ENTRY_FIELDS, words, "validUntil"), action=_field(ENTRY_FIELDS, words, "action"),
                   rights_mask=_field(ENTRY_FIELDS, words, "rightsMask"),
                   active=bool(_field(ENTRY_FIELDS, words, "active")))

    @property
    def kind(self) -> str:
        return {int(Action.PLEDGE): "pledge", int(Action.LICENCE): "licence"}.get(self.action, f"action {self.action}")


@dataclass(frozen=True)
class ObjectionState:
    """An objection registration (异议登记, SZ art. 20) as AssetRegistry stores it."""

    objection_id: bytes
    unit_id: bytes
    objector: str
    deadline: int  # 0 = no filing deadline (AH art. 23)
    status: int

    @classmethod
    def from_slots(cls, objection_id: bytes, slot0: int, slot1: int) -> ObjectionState:
        words = (slot0, slot1)
        return cls(objection_id=objection_id, unit_id=slot0.to_bytes(32, "big"),
                   objector=_address(_field(OBJECTION_FIELDS, words, "objector")),
                   deadline=_field(OBJECTION_FIELDS, words, "deadline"),
                   status=_field(OBJECTION_FIELDS, words, "status"))

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_OBJECTION


def _day(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, CHINA).date().isoformat()


def _time(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, CHINA).isoformat()


@dataclass(frozen=True)
class UnitView:
    """What the registry held of one unit at one block, decoded from proven storage: a readable unit."""

    unit: UnitState
    block_number: int
    block_time: int
    right_holders: dict[str, str | None]  # holding / processing_use / product_operation -> holder (None: not
    # registered in this unit)
    active_entry_count: int  # _activeEntries[unit]
    active_pledge_count: int  # _activePledges[unit]
    suspended_by_court: bool
    entries: tuple[RightsEntryState, ...] = ()
    objections: tuple[ObjectionState, ...] = ()
    problems: dict[str, list[str]] = field(default_factory=dict)  # "rights page" / "objections" -> what is wrong

    @property
    def status(self) -> UnitStatus:
        return self.unit.effective_status(self.block_time)

    @property
    def pledges(self) -> tuple[RightsEntryState, ...]:
        return tuple(e for e in self.entries if e.action == Action.PLEDGE)

    @property
    def licences(self) -> tuple[RightsEntryState, ...]:
        return tuple(e for e in self.entries if e.action == Action.LICENCE)

    def entry_line(self, entry: RightsEntryState) -> str:
        words = {"pledge": "质押 pledge", "licence": "许可 licence"}.get(entry.kind, entry.kind)
        rights = "、".join(RIGHT_WORDS[name] for name, bit in RIGHTS if entry.rights_mask & bit) or "none"
        term = "open-ended" if not entry.valid_until else (
            f"term ends {_day(entry.valid_until)}" if self.block_time < entry.valid_until
            else f"term ENDED {_day(entry.valid_until)} (still on the page until released)")
        return f"entry {entry.entry_id}: {words} to {entry.counterparty} over {rights}, {term}"

    def objection_line(self, objection: ObjectionState) -> str:
        status = ObjectionStatus(objection.status).name.lower() if objection.status <= max(ObjectionStatus) \
            else str(objection.status)
        deadline = f", court/arbitration filing by {_time(objection.deadline)}" if objection.deadline else ""
        return f"objection {to_hex(objection.objection_id)} by {objection.objector}: {status}{deadline}"

    def holder_lines(self) -> list[str]:
        return [f"{RIGHT_WORDS[name]}: {holder}" if holder else f"{RIGHT_WORDS[name]}: not registered in this unit"
                for name, holder in self.right_holders.items()]

    def lines(self) -> list[str]:
        """The unit in words, one line per fact (the CLI prints them; the report shows them)."""
        unit = self.unit
        until = _day(unit.valid_until) if unit.valid_until else "长期 no expiry"
        status = STATUS_WORDS[self.status] + ("（法院裁定 by court order）" if self.status is UnitStatus.SUSPENDED
                                              and self.suspended_by_court else "")
        out = [f"登记单元 unit {to_hex(unit.unit_id)}, 区块 block {self.block_number} ({_time(self.block_time)})",
               f"状态 status: {status}; 有效期至 valid until {until}",
               f"证书 certificate: 第 {unit.certificate_version} 版 version {unit.certificate_version}, "
               f"{to_hex(unit.certificate_hash)}",
               *self.holder_lines()]
        out.append(f"他项权益 rights page: {len(self.pledges)} 项质押 pledge(s), "
                   f"{len(self.licences)} 项许可 licence(s)")
        out += [f"  {self.entry_line(e)}" for e in self.entries]
        out.append(f"异议登记 open objections: {len(self.objections)}")
        out += [f"  {self.objection_line(o)}" for o in self.objections]
        return out

    def as_dict(self) -> dict[str, Any]:
        unit = self.unit
        return {
            "unit_id": to_hex(unit.unit_id), "block_number": self.block_number, "block_time": self.block_time,
            "status": self.status.name.lower(), "stored_status": unit.status.name.lower(),
            "suspended_by_court": self.suspended_by_court,
            "certificate": {"hash": to_hex(unit.certificate_hash), "version": unit.certificate_version},
            "valid_until": unit.valid_until, "object_type": unit.object_type, "profile_id": unit.profile_id,
            "rights_mask": unit.rights_mask, "right_holders": dict(self.right_holders),
            "rights_page": {"active_entries": self.active_entry_count, "active_pledges": self.active_pledge_count,
                            "entries": [{"entry_id": e.entry_id, "kind": e.kind, "counterparty": e.counterparty,
                                         "rights_mask": e.rights_mask, "valid_until": e.valid_until,
                                         "term_ended": bool(e.valid_until) and self.block_time >= e.valid_until}
                                        for e in self.entries]},
            "objections": [{"objection_id": to_hex(o.objection_id), "objector": o.objector, "deadline": o.deadline,
                            "status": ObjectionStatus(o.status).name.lower() if o.status <= max(ObjectionStatus)
                            else str(o.status)} for o in self.objections],
        }


def decode_unit_view(unit_id: bytes, words: Mapping[int, int], entry_ids: Sequence[int],
                     objection_ids: Sequence[bytes], block_number: int, block_time: int) -> UnitView:
    """The unit view from proven slot values (``words``: slot -> value for every slot of
    :func:`unit_proof_slots`), with what makes the listed entries or objections incomplete or foreign in
    ``problems`` — a bundle must list *every* active entry and open objection of the unit, and only those."""
    labelled = dict(unit_proof_slots(unit_id, entry_ids, objection_ids))
    value = {label: words[slot] for label, slot in labelled.items()}
    unit = UnitState.from_slots(unit_id, value["unit.certificateHash"], value["unit.packed"])
    holders: dict[str, str | None] = {}
    for i, (name, bit) in enumerate(RIGHTS):  # AssetRegistry.rightHolderOf
        explicit = value[f"rightHolders[{i}]"] & ((1 << 160) - 1)
        holders[name] = None if not unit.rights_mask & bit else (_address(explicit) if explicit else unit.holder)
    problems: dict[str, list[str]] = {"rights page": [], "objections": []}
    entries = []
    for entry_id in entry_ids:
        entry = RightsEntryState.from_slots(entry_id, value[f"entries[{entry_id}].unitId"],
                                            value[f"entries[{entry_id}].packed"])
        if entry.unit_id != unit_id:
            problems["rights page"].append(f"entry {entry_id} is not an entry of this unit")
        elif not entry.active:
            problems["rights page"].append(f"entry {entry_id} was released: it is not on the page at this block")
        entries.append(entry)
    active, pledged = value["activeEntries"], value["activePledges"]
    if len(set(entry_ids)) != len(entry_ids):
        problems["rights page"].append("an entry is listed twice")
    if len(entry_ids) != active:
        problems["rights page"].append(f"the unit has {active} active entr{'y' if active == 1 else 'ies'}, the "
                                       f"bundle lists {len(entry_ids)}: the rights page is incomplete")
    if sum(1 for e in entries if e.action == Action.PLEDGE) != pledged:
        problems["rights page"].append(f"the unit has {pledged} active pledge(s), the listed entries hold "
                                       f"{sum(1 for e in entries if e.action == Action.PLEDGE)}")
    objections = []
    for objection_id in objection_ids:
        label = f"objections[{to_hex(objection_id)}]"
        objection = ObjectionState.from_slots(objection_id, value[f"{label}.unitId"], value[f"{label}.packed"])
        if objection.unit_id != unit_id:
            problems["objections"].append(f"objection {to_hex(objection_id)} is not about this unit")
        elif not objection.is_open:
            problems["objections"].append(f"objection {to_hex(objection_id)} is closed at this block")
        objections.append(objection)
    if len(set(objection_ids)) != len(objection_ids):
        problems["objections"].append("an objection is listed twice")
    if len(objection_ids) != unit.open_objections:
        problems["objections"].append(f"the unit has {unit.open_objections} open objection(s), the bundle lists "
                                      f"{len(objection_ids)}")
    return UnitView(unit=unit, block_number=block_number, block_time=block_time, right_holders=holders,
                    active_entry_count=active, active_pledge_count=pledged,
                    suspended_by_court=bool(value["suspendedByCourt"] & 0xFF), entries=tuple(entries),
                    objections=tuple(objections), problems=problems)


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
        # validity ends at 24:00 China time of its last day, which is the next day's 00:00: name the last day
        until = (datetime.fromtimestamp(self.valid_until - 1, CHINA).date().isoformat() + " 24:00"
                 if self.valid_until else "no expiry")
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
    status = unit.effective_status(at_time)
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


class _Nodes(dict[bytes, bytes]):
    """Proof nodes by hash, remembering which ones a lookup used."""

    def __init__(self, nodes: Iterable[bytes]) -> None:
        super().__init__((keccak256(n), n) for n in nodes)
        self.used: set[bytes] = set()

    def __getitem__(self, key: bytes) -> bytes:
        self.used.add(key)
        return super().__getitem__(key)


def _lookup(trie: HexaryTrie, key: bytes, what: str) -> bytes:
    try:
        return bytes(trie.get(key))
    except Exception as exc:  # py-trie raises several kinds on a missing or malformed node
        raise LedgerValueError(f"the {what} proof does not lead to its root: {exc.__class__.__name__}") from exc


def _proven(root: bytes, key: bytes, nodes: list[bytes], what: str) -> bytes:
    return _lookup(HexaryTrie(_Nodes(nodes), root_hash=root), key, what)


def verify_account_proof(state_root: bytes, address: bytes, nodes: list[bytes]) -> AccountState:
    """The account at ``address`` under ``state_root`` (raises LedgerValueError if the proof fails or proves
    that no such account exists)."""
    value = _proven(state_root, keccak256(address), nodes, "account")
    if not value:
        raise LedgerValueError(f"the account proof shows no account at {to_hex(address)}")
    nonce, balance, storage_root, code_hash = rlp.decode(value)
    return AccountState(int.from_bytes(nonce, "big"), int.from_bytes(balance, "big"), bytes(storage_root),
                        bytes(code_hash))


def _slot_value(raw: bytes) -> int:
    return int.from_bytes(rlp.decode(raw), "big") if raw else 0


def verify_storage_proof(storage_root: bytes, slot: int, nodes: list[bytes]) -> int:
    """The value of ``slot`` under ``storage_root`` (0 when the proof shows it is empty)."""
    return _slot_value(_proven(storage_root, keccak256(_word(slot)), nodes, "storage"))


def verify_storage_proofs(storage_root: bytes, slots: Sequence[int], nodes: Sequence[bytes]) -> dict[int, int]:
    """The values of ``slots`` under ``storage_root`` from one pool of proof nodes (eth_getProof's per-slot
    paths share their upper nodes; a bundle carries each node once). Every node must serve some slot: a pool
    with a node that proves nothing is refused, so the proof has one spelling."""
    pool = _Nodes(nodes)
    if len(pool) != len(nodes):
        raise LedgerValueError("the storage proof lists a node twice")
    trie = HexaryTrie(pool, root_hash=storage_root)
    values = {slot: _slot_value(_lookup(trie, keccak256(_word(slot)), "storage")) for slot in slots}
    if pool.used != set(pool):
        raise LedgerValueError(f"the storage proof carries {len(set(pool) - pool.used)} node(s) that prove none "
                               "of its slots")
    return values
