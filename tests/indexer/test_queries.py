"""Registration look-ups served from the index (issue #10 §3), on a real Anvil node, into SQLite and PostgreSQL:
the view equals what the contract holds, a unit the index has not reached says how far behind it is (never a
silent miss), and an expiry by time shows without anyone recording it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ledger.context import Ledger
from ledger.errors import LedgerValueError, NotFoundError
from ledger.hashing import to_hex
from ledger.lifecycle import Action, Right
from ledger.numbering import registration_number
from ledger.registry import AssetRegistryClient
from ledger.services import registrations as service
from ledger.services.access import OPERATOR
from tests.conftest import start_chain
from tests.contracts.registry_env import RegistryEnv, h

pytestmark = pytest.mark.chain
DAY = 86_400


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    settings, node, ledger = start_chain(tmp_path_factory.mktemp("query-home"))
    handle = ledger.contract("AssetRegistry")
    env = RegistryEnv(ledger, AssetRegistryClient(handle), handle)
    send = env.registry.transact
    tj = env.register("TJIFA")
    send(env.sender("registrar"), "reissue", *env.reissue_args(tj, Action.CHANGE))
    pledge = handle.events(send(env.sender("registrar"), "addRightsEntry", *env.entry_args(tj, Action.PLEDGE)),
                           "RightsEntryAdded")[0]["entryId"]
    send(env.sender("registrar"), "addRightsEntry", *env.entry_args(tj, Action.LICENCE, "holder-b",
                                                                    Right.PROCESSING_USE))
    send(env.sender("registrar"), "transfer", *env.transfer_args(tj, "holder-b", pledgees=((pledge, "bank"),)))
    sz = env.register("SZ")
    send(env.sender("registrar"), "fileObjection", sz, env.address("outsider"), h(), h())
    yield {"ledger": ledger, "settings": settings, "env": env, "tj": tj, "sz": sz, "pledge": pledge}
    node.stop()


@pytest.fixture
def reader(world: dict[str, Any], database_url: str) -> Ledger:
    """A ledger on the shared chain whose read models live in the parametrized database."""
    return Ledger(world["settings"].model_copy(update={"database_url": database_url}))


def number_of(env: RegistryEnv, uid: bytes) -> str:
    logs = env.ledger.client.get_logs(env.handle.address, [env.handle.topic("UnitRegistered"), to_hex(uid)])
    return str(env.handle.decode_log("UnitRegistered", logs[0])["registrationNumber"])


def test_a_unit_not_yet_indexed_says_how_far_behind_the_index_is(world: dict[str, Any], reader: Ledger) -> None:
    env: RegistryEnv = world["env"]
    late = env.register("DL")
    number = number_of(env, late)
    with pytest.raises(NotFoundError, match=r"block\(s\) behind the chain"):
        service.registration(reader, number, viewer=OPERATOR)
    reader.indexer.run_once()
    view = service.registration(reader, number, viewer=OPERATOR)
    assert view.index.lag_blocks == 0 and view.index.indexed_block == reader.client.block_number()
    assert view.jurisdiction == "DL" and view.status == "active"
    with pytest.raises(NotFoundError) as unknown:  # up to date: a plain "no such unit"
        service.registration(reader, registration_number("DL", 2099, 424242), viewer=OPERATOR)
    assert "behind" not in str(unknown.value)


def test_the_view_equals_the_contract(world: dict[str, Any], reader: Ledger) -> None:
    env: RegistryEnv = world["env"]
    reader.indexer.run_once()
    tj = world["tj"]
    number = number_of(env, tj)
    view = service.registration(reader, number, viewer=OPERATOR)
    on_chain = env.registry.unit(tj)
    assert view.unit_id == to_hex(tj) and view.registration_number == number
    assert (view.holder, view.certificate_hash, view.certificate_version) == (
        on_chain["holder"], to_hex(on_chain["certificate_hash"]), on_chain["certificate_version"])
    assert view.right_holders == {name: env.registry.right_holder(tj, right)
                                  for right, name in service.RIGHT_KEYS.items()}
    assert view.holder == env.address("holder-b")
    kinds = [(e.kind, e.status, e.rights) for e in view.rights_page]
    assert kinds == [("pledge", "active", ["holding", "processing_use", "product_operation"]),
                     ("licence", "active", ["processing_use"])]
    assert view.rights_page[0].entry_id == world["pledge"] and view.active_pledges == 1
    assert all(e.contract_hash != to_hex(bytes(32)) for e in view.rights_page)
    # every certificate version: initial, change, transfer; only the last is current
    versions = service.certificates(reader, number)
    assert [c.version for c in versions] == [1, 2, 3]
    assert [c.status for c in versions] == ["superseded", "superseded", "current"]
    assert versions[0].superseded_by == versions[1].certificate_hash
    assert versions[-1].certificate_hash == view.certificate_hash
    # the history names each recorded transition in order
    actions = [e.action for e in service.history(reader, number, viewer=OPERATOR)]
    assert actions == ["initial", "change", "pledge", "licence", "transfer"]
    assert service.rights_page(reader, number, viewer=OPERATOR) == view.rights_page
    # by holder: the transferee holds every right now; the bank holds none
    page = service.by_holder(reader, env.address("holder-b"), viewer=OPERATOR)
    assert number in [r.registration_number for r in page.data] and page.count == len(page.data)
    assert service.by_holder(reader, env.address("bank"), viewer=OPERATOR).count == 0
    assert service.by_holder(reader, env.address("holder-b").lower(), limit=1, viewer=OPERATOR).count == page.count
    with pytest.raises(LedgerValueError, match="not an account address"):
        service.by_holder(reader, "0x1234", viewer=OPERATOR)
    with pytest.raises(LedgerValueError):
        service.by_holder(reader, env.address("holder-b"), limit=0, viewer=OPERATOR)
    # the objection on the SZ unit, open, with its 24:00 China-time deadline
    sz = service.registration(reader, number_of(env, world["sz"]), viewer=OPERATOR)
    assert sz.open_objections == 1 and sz.objections[0].status == "pending"
    assert sz.objections[0].deadline is not None and sz.objections[0].deadline.endswith("24:00 China time")


def test_an_expiry_by_time_shows_as_expired(world: dict[str, Any], reader: Ledger) -> None:
    """The status is the contract's effective one (``_effectiveStatus``), computed at the chain's time: an active
    unit past its validity reads as expired before anyone records it with markExpired."""
    env: RegistryEnv = world["env"]
    number = number_of(env, env.register("TJIFA"))  # a new unit per database: the chain's time only moves on
    reader.indexer.run_once()
    view = service.registration(reader, number, viewer=OPERATOR)
    assert view.status == "active" and view.valid_until_day is not None
    env.travel(3 * 366 * DAY + DAY)
    late = service.registration(reader, number, viewer=OPERATOR)
    assert (late.status, late.stored_status) == ("expired", "active")
    assert late.index.lag_blocks == 1  # the block that moved the time is not indexed yet: said, not hidden
