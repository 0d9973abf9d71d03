"""Table-driven: every transition from every unit status, and every role-gated function called by every
account that lacks its role (REGISTRATION_RULES §3.8)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ledger.errors import ContractRevertError
from ledger.evidence import ENDORSER_ROLE
from ledger.hashing import keccak256
from ledger.lifecycle import Action, UnitStatus
from ledger.registry import ZERO32
from tests.contracts.registry_env import EMPTY, PROFILES, RegistryEnv, h

pytestmark = pytest.mark.chain
DAY = 86_400

# transition -> (caller, function, args builder)
Transition = Callable[[RegistryEnv, bytes], tuple[str, str, tuple[Any, ...]]]
TRANSITIONS: dict[str, Transition] = {
    "reissue": lambda e, u: ("registrar", "reissue", e.reissue_args(u, holder="holder-a")),
    "transfer": lambda e, u: ("registrar", "transfer", e.transfer_args(u, "holder-b", sign_from=False)),
    "pledge": lambda e, u: ("registrar", "addRightsEntry", e.entry_args(u, Action.PLEDGE)),
    "cancel_holder": lambda e, u: ("registrar", "cancel", e.cancel_args(u)),
    "cancel_court": lambda e, u: ("court", "cancel", (u, 2, h(), ZERO32, EMPTY, [])),
    "cancel_ex_officio": lambda e, u: ("registrar", "cancel", (u, 3, e.recorded_order(u), ZERO32, EMPTY, [])),
    "renew": lambda e, u: ("registrar", "renew", e.renew_args(u)),
    "suspend": lambda e, u: ("registrar", "setSuspended", (u, True, h())),
    "reinstate": lambda e, u: ("registrar", "setSuspended", (u, False, h())),
    "revoke": lambda e, u: ("registrar", "revoke", (u, h())),
    "object": lambda e, u: ("registrar", "fileObjection", (u, e.address("outsider"), h(), h())),
    "mark_expired": lambda e, u: ("outsider", "markExpired", (u,)),
}

NA, NS, NE = "UnitNotActive", "UnitNotSuspended", "UnitNotExpired"
# status -> transition -> expected custom error (None = allowed)
EXPECTED: dict[str, dict[str, str | None]] = {
    "active": {"reissue": None, "transfer": None, "pledge": None, "cancel_holder": None, "cancel_court": None,
               "cancel_ex_officio": None, "renew": "RenewalWindowClosed", "suspend": None, "reinstate": NS,
               "revoke": None, "object": None, "mark_expired": NE},
    "suspended": {"reissue": NA, "transfer": NA, "pledge": NA, "cancel_holder": NA, "cancel_court": None,
                  "cancel_ex_officio": None, "renew": NA, "suspend": NA, "reinstate": None, "revoke": None,
                  "object": None, "mark_expired": NE},
    "expired": {"reissue": NA, "transfer": NA, "pledge": NA, "cancel_holder": None, "cancel_court": None,
                "cancel_ex_officio": None, "renew": NA, "suspend": NA, "reinstate": NS, "revoke": None,
                "object": None, "mark_expired": None},
    "expired_marked": {"reissue": NA, "transfer": NA, "pledge": NA, "cancel_holder": None, "cancel_court": None,
                       "cancel_ex_officio": None, "renew": NA, "suspend": NA, "reinstate": NS, "revoke": None,
                       "object": None, "mark_expired": NE},
    "cancelled": {**{t: NA for t in TRANSITIONS}, "reinstate": NS, "mark_expired": NE},
    "revoked": {**{t: NA for t in TRANSITIONS}, "reinstate": NS, "mark_expired": NE},
}
STORED = {"active": UnitStatus.ACTIVE, "suspended": UnitStatus.SUSPENDED, "expired": UnitStatus.ACTIVE,
          "expired_marked": UnitStatus.EXPIRED, "cancelled": UnitStatus.CANCELLED, "revoked": UnitStatus.REVOKED}


@pytest.fixture(scope="module")
def units(env: RegistryEnv) -> dict[str, bytes]:
    """One DL unit (1-year validity, single filing) in each status."""
    expired, expired_marked = env.register("DL"), env.register("DL")
    env.travel(368 * DAY)  # one calendar year, to 24:00 China time of the corresponding day
    env.registry.transact(env.sender("outsider"), "markExpired", expired_marked)
    made = {"active": env.register("DL"), "expired": expired, "expired_marked": expired_marked}
    made["suspended"] = env.register("DL")
    env.registry.transact(env.sender("registrar"), "setSuspended", made["suspended"], True, h())
    made["cancelled"] = env.register("DL")
    env.registry.transact(env.sender("court"), "cancel", made["cancelled"], 2, h(), ZERO32, EMPTY, [])
    made["revoked"] = env.register("DL")
    env.registry.transact(env.sender("registrar"), "revoke", made["revoked"], h())
    return made


@pytest.mark.parametrize("status", list(EXPECTED))
@pytest.mark.parametrize("transition", list(TRANSITIONS))
def test_transition_table(env: RegistryEnv, units: dict[str, bytes], status: str, transition: str) -> None:
    uid = units[status]
    assert env.registry.unit(uid)["status"] is STORED[status]
    caller, function, args = TRANSITIONS[transition](env, uid)
    expected = EXPECTED[status][transition]
    if expected is None:
        env.handle.request(env.sender(caller), function, *args)  # the node accepts it (estimate succeeds)
    else:
        assert env.refused(caller, function, *args).error_name == expected


def test_unregistered_unit_is_not_found(env: RegistryEnv) -> None:
    ghost = h()
    for caller, function, args in (
        ("registrar", "reissue", (ghost, 3, h(), h(), ZERO32, EMPTY)),
        ("registrar", "transfer", (ghost, (env.address("holder-b"), 7, h(), h(), ZERO32), EMPTY, EMPTY, [])),
        ("court", "cancel", (ghost, 2, h(), ZERO32, EMPTY, [])),
        ("registrar", "renew", (ghost, h(), h(), 0, EMPTY)),
        ("court", "recordJudicialOrder", (ghost, h())),
        ("registrar", "setSuspended", (ghost, True, h())),
        ("registrar", "revoke", (ghost, h())),
        ("registrar", "fileObjection", (ghost, env.address("outsider"), h(), h())),
        ("outsider", "markExpired", (ghost,)),
    ):
        assert env.refused(caller, function, *args).error_name == "UnitNotFound", function
    assert env.registry.status(ghost) is UnitStatus.NONE


ADMIN = bytes(32)
REGISTRAR, REVIEWER, JUDICIAL = (keccak256(f"{r}_ROLE".encode()) for r in ("REGISTRAR", "REVIEWER", "JUDICIAL"))
EVERYONE = ["admin", "provider", "notary", "registrar", "reviewer", "court", "outsider", "holder-a"]


@pytest.fixture(scope="module")
def targets(env: RegistryEnv) -> dict[str, Any]:
    uid = env.register("SZ")
    receipt = env.registry.transact(env.sender("registrar"), "addRightsEntry", *env.entry_args(uid, Action.LICENCE))
    entry = env.handle.events(receipt, "RightsEntryAdded")[0]["entryId"]
    receipt = env.registry.transact(env.sender("registrar"), "fileObjection", uid, env.address("outsider"), h(), h())
    objection = env.handle.events(receipt, "ObjectionUpdated")[0]["objectionId"]
    return {"unit": uid, "entry": entry, "objection": objection}


GATED: list[tuple[str, Callable[[RegistryEnv, dict[str, Any]], tuple[Any, ...]], set[str], bytes]] = [
    ("setProfile", lambda e, t: (9, PROFILES["SZ"].on_chain()), {"admin"}, ADMIN),
    ("recordReview", lambda e, t: (h(), h()), {"reviewer"}, REVIEWER),
    ("recordDeclaration", lambda e, t: (h(), e.address("holder-a"), h(), EMPTY), {"registrar"}, REGISTRAR),
    ("registerInitial", lambda e, t: e.initial_args("TJIFA")[1], {"registrar"}, REGISTRAR),
    ("reissue", lambda e, t: (t["unit"], 3, h(), h(), h(), EMPTY), {"registrar"}, REGISTRAR),
    ("transfer", lambda e, t: (t["unit"], (e.address("bank"), 1, h(), h(), h()), EMPTY, EMPTY, []), {"registrar"},
     REGISTRAR),
    ("addRightsEntry", lambda e, t: (t["unit"], (6, e.address("bank"), 1, 0, h(), h()), EMPTY, EMPTY),
     {"registrar"}, REGISTRAR),
    ("releaseRightsEntry", lambda e, t: (t["unit"], t["entry"], h(), EMPTY), {"registrar", "court"}, REGISTRAR),
    ("cancel", lambda e, t: (t["unit"], 1, h(), h(), EMPTY, []), {"registrar"}, REGISTRAR),
    ("cancel", lambda e, t: (t["unit"], 2, h(), ZERO32, EMPTY, []), {"court"}, JUDICIAL),
    ("cancel", lambda e, t: (t["unit"], 3, h(), ZERO32, EMPTY, []), {"registrar"}, REGISTRAR),
    ("cancel", lambda e, t: (t["unit"], 4, h(), ZERO32, EMPTY, []), {"registrar"}, REGISTRAR),
    ("renew", lambda e, t: (t["unit"], h(), h(), 0, EMPTY), {"registrar"}, REGISTRAR),
    ("recordJudicialOrder", lambda e, t: (t["unit"], h()), {"court"}, JUDICIAL),
    ("setSuspended", lambda e, t: (t["unit"], True, h()), {"registrar", "court"}, REGISTRAR),
    ("revoke", lambda e, t: (t["unit"], h()), {"registrar"}, REGISTRAR),
    ("fileObjection", lambda e, t: (t["unit"], e.address("outsider"), h(), h()), {"registrar"}, REGISTRAR),
    ("recordObjectionLitigation", lambda e, t: (t["objection"], h()), {"registrar", "court"}, REGISTRAR),
    ("resolveObjection", lambda e, t: (t["objection"], True, h()), {"court"}, JUDICIAL),
]


@pytest.mark.parametrize(("function", "build", "allowed", "role"), GATED,
                         ids=[f"{g[0]}-{i}" for i, g in enumerate(GATED)])
def test_every_role_gated_function_refuses_every_other_account(
    env: RegistryEnv, targets: dict[str, Any], function: str,
    build: Callable[[RegistryEnv, dict[str, Any]], tuple[Any, ...]], allowed: set[str], role: bytes,
) -> None:
    args = build(env, targets)
    for account in EVERYONE:
        if account in allowed:
            continue
        with pytest.raises(ContractRevertError) as info:
            env.handle.request(env.sender(account), function, *args)
        assert info.value.error_name == "RegistryUnauthorized", (function, account)
        assert info.value.error_args == {"caller": env.address(account), "role": "0x" + role.hex()}


def test_roles_are_granted_from_the_accounts_file(env: RegistryEnv) -> None:
    for name, role in (("registrar", REGISTRAR), ("reviewer", REVIEWER), ("court", JUDICIAL)):
        assert env.handle.call("hasRole", role, env.address(name))
        assert not env.handle.call("hasRole", role, env.address("outsider"))
    assert not env.handle.call("hasRole", ENDORSER_ROLE, env.address("registrar"))
    for code, profile in PROFILES.items():
        assert tuple(env.handle.call("profileOf", profile.id)) == profile.on_chain(), code
