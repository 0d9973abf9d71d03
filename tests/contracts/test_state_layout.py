"""The state-proof decoder (ledger.proofs.state) is pinned to AssetRegistry's storage layout (docs/STORAGE-LAYOUT.md):
if the contract's layout changes without the decoder, these tests fail. On a real node, the decoded slots equal
what the contract's own views return — the unit, the holder of each right, rights-page entries, objections."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ledger.compiler import Toolchain
from ledger.hashing import keccak256, to_hex
from ledger.lifecycle import Action, Right, UnitStatus
from ledger.proofs.state import (
    ENTRY_FIELDS,
    LAYOUT_FINGERPRINT,
    OBJECTION_FIELDS,
    STORAGE_SLOTS,
    UNIT_FIELDS,
    UNITS_SLOT,
    UnitState,
    assess_certificate,
    decode_unit_view,
    layout_fingerprint,
    unit_proof_slots,
    unit_slots,
)
from ledger.registry import objection_id
from tests.contracts.registry_env import RegistryEnv

TYPE_SIZES = {"t_bytes32": 32, "t_address": 20, "t_uint40": 5, "t_uint16": 2, "t_uint8": 1, "t_bool": 1}
STRUCT_FIELDS = {"Unit": UNIT_FIELDS, "RightsEntry": ENTRY_FIELDS, "Objection": OBJECTION_FIELDS}
VALUE_TYPES = {"_units": "t_mapping(t_bytes32,t_struct(Unit))",
               "_rightHolders": "t_mapping(t_bytes32,t_mapping(t_uint8,t_address))",
               "_entries": "t_mapping(t_uint256,t_struct(RightsEntry))",
               "_activeEntries": "t_mapping(t_bytes32,t_uint256)",
               "_objections": "t_mapping(t_bytes32,t_struct(Objection))",
               "_activePledges": "t_mapping(t_bytes32,t_uint256)",
               "_suspendedByCourt": "t_mapping(t_bytes32,t_bool)"}


@pytest.fixture(scope="module")
def layout() -> dict[str, Any]:
    return dict(Toolchain().compile()["AssetRegistry"].storage_layout)


def test_the_whole_layout_is_the_one_the_decoder_was_written_for(layout: dict[str, Any]) -> None:
    """Any change of AssetRegistry's storage layout — a variable added, moved or retyped anywhere — fails here
    until the decoder has been checked against it and LAYOUT_FINGERPRINT updated with it."""
    assert layout_fingerprint(layout) == LAYOUT_FINGERPRINT


def test_decoder_matches_the_compiled_storage_layout(layout: dict[str, Any]) -> None:
    variables = {entry["label"]: entry for entry in layout["storage"]}
    assert STORAGE_SLOTS["_units"] == UNITS_SLOT
    for label, slot in STORAGE_SLOTS.items():
        entry = variables[label]
        assert int(entry["slot"]) == slot and int(entry["offset"]) == 0, label
        assert re.sub(r"\)\d+_storage", ")", entry["type"]) == VALUE_TYPES[label], label
    for struct, fields in STRUCT_FIELDS.items():
        name = next(t for t in layout["types"] if t.startswith(f"t_struct({struct})"))
        members = layout["types"][name]["members"]
        assert {m["label"]: (int(m["slot"]), int(m["offset"]), TYPE_SIZES[m["type"]]) for m in members} == fields


def test_the_fingerprint_sees_a_moved_variable(layout: dict[str, Any]) -> None:
    moved = {**layout, "storage": [dict(e, slot=str(int(e["slot"]) + 1)) if e["label"] == "_entries" else e
                                   for e in layout["storage"]]}
    assert layout_fingerprint(moved) != LAYOUT_FINGERPRINT
    renumbered = {**layout, "storage": [dict(e, astId=e.get("astId", 0) + 7) for e in layout["storage"]]}
    assert layout_fingerprint(renumbered) == LAYOUT_FINGERPRINT  # AST ids do not make a layout


def _words(env: RegistryEnv, slots: list[int]) -> dict[int, int]:
    return {s: int(env.ledger.client.request("eth_getStorageAt", [env.handle.address, "0x" + s.to_bytes(32, "big")
                                                                  .hex(), "latest"]), 16) for s in slots}


@pytest.mark.chain
def test_decoded_storage_equals_the_contracts_views(env: RegistryEnv) -> None:
    uid = env.register("TJIFA")
    env.registry.transact(env.sender("registrar"), "addRightsEntry", *env.entry_args(uid))
    matter = keccak256(b"matter")
    env.registry.transact(env.sender("registrar"), "fileObjection", uid, env.address("holder-b"), matter,
                          keccak256(b"doc"))
    entries = [e["entry_id"] for e in env.registry.entries(uid)]
    objections = [objection_id(uid, matter)]
    words = _words(env, [s for _, s in unit_proof_slots(uid, entries, objections)])
    decoded = UnitState.from_slots(uid, *(words[s] for s in unit_slots(uid)))
    unit = env.registry.unit(uid)
    assert decoded.certificate_hash == unit["certificate_hash"] and decoded.holder == unit["holder"].lower()
    assert (decoded.valid_until, decoded.certificate_version, decoded.status, decoded.object_type,
            decoded.profile_id, decoded.rights_mask, decoded.open_objections) == (
        unit["valid_until"], unit["certificate_version"], UnitStatus.ACTIVE, unit["object_type"],
        unit["profile_id"], Right.ALL, 1)
    status = assess_certificate(decoded, unit["certificate_hash"], env.now())
    assert status.state == "valid" and status.under_objection
    assert assess_certificate(decoded, bytes(32), env.now()).state == "superseded"
    assert assess_certificate(decoded, unit["certificate_hash"], unit["valid_until"]).state == "expired"
    assert to_hex(decoded.unit_id) == to_hex(uid)

    view = decode_unit_view(uid, words, entries, objections, 1, env.now())
    assert view.problems == {"rights page": [], "objections": []}
    for index, (name, right) in enumerate((("holding", Right.HOLDING), ("processing_use", Right.PROCESSING_USE),
                                           ("product_operation", Right.PRODUCT_OPERATION))):
        assert view.right_holders[name] == env.registry.right_holder(uid, right).lower(), index
    (entry,) = view.entries
    on_chain = env.registry.entry(entry.entry_id)
    assert (entry.unit_id, entry.counterparty, entry.valid_until, entry.action, entry.rights_mask, entry.active) == (
        on_chain["unit_id"], on_chain["counterparty"].lower(), on_chain["valid_until"], on_chain["action"],
        on_chain["rights"], on_chain["active"])
    assert entry.action == Action.PLEDGE and view.active_pledge_count == env.registry.active_pledges(uid) == 1
    assert view.active_entry_count == env.registry.active_entries(uid) == 1
    (objection,) = view.objections
    stored = env.registry.objection(objections[0])
    assert (objection.unit_id, objection.objector, objection.deadline, objection.status) == (
        stored["unit_id"], stored["objector"].lower(), stored["deadline"], stored["status"])
    assert view.suspended_by_court is False
