"""The state-proof decoder (ledger.proofs.state) is pinned to AssetRegistry's storage layout: if the contract's
layout changes without the decoder, these tests fail. On a real node, the decoded slots equal ``unitOf``."""

from __future__ import annotations

import pytest

from ledger.compiler import Toolchain
from ledger.hashing import keccak256, to_hex
from ledger.lifecycle import Right, UnitStatus
from ledger.proofs.state import UNIT_FIELDS, UNITS_SLOT, UnitState, assess_certificate, unit_slots
from tests.contracts.registry_env import RegistryEnv

TYPE_SIZES = {"t_bytes32": 32, "t_address": 20, "t_uint40": 5, "t_uint16": 2, "t_uint8": 1}


def test_decoder_matches_the_compiled_storage_layout() -> None:
    layout = Toolchain().compile()["AssetRegistry"].storage_layout
    slots = {entry["label"]: entry for entry in layout["storage"]}
    units = slots["_units"]
    assert int(units["slot"]) == UNITS_SLOT and units["type"].startswith("t_mapping(t_bytes32,t_struct(Unit)")
    members = layout["types"][units["type"].split(",", 1)[1][:-1]]["members"]
    assert {m["label"]: (int(m["slot"]), int(m["offset"]), TYPE_SIZES[m["type"]]) for m in members} == UNIT_FIELDS


@pytest.mark.chain
def test_decoded_storage_equals_unit_of(env: RegistryEnv) -> None:
    uid = env.register("TJIFA")
    env.registry.transact(env.sender("registrar"), "addRightsEntry", *env.entry_args(uid))
    env.registry.transact(env.sender("registrar"), "fileObjection", uid, env.address("holder-b"),
                          keccak256(b"matter"), keccak256(b"doc"))
    words = [int(env.ledger.client.request("eth_getStorageAt", [env.handle.address, hex(s), "latest"]), 16)
             for s in unit_slots(uid)]
    decoded = UnitState.from_slots(uid, *words)
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
