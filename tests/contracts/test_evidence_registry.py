"""EvidenceRegistry against a real Anvil node: every function, every refusal, every unauthorized caller."""

from __future__ import annotations

import os
from typing import Any

import pytest

from ledger.chain.contract import ContractHandle
from ledger.chain.sender import TransactionSender
from ledger.context import Ledger
from ledger.errors import ContractRevertError
from ledger.evidence import ENDORSER_ROLE, EVIDENCE_PROVIDER_ROLE
from ledger.merkle import MerkleTree, leaf_hash

pytestmark = pytest.mark.chain
ADMIN_ROLE = bytes(32)


def fresh() -> bytes:
    return os.urandom(32)


@pytest.fixture
def registry(chain: Ledger) -> ContractHandle:
    return chain.contract("EvidenceRegistry")


def sender(chain: Ledger, name: str) -> TransactionSender:
    return chain.sender(name)


def refused(registry: ContractHandle, who: TransactionSender, fn: str, *args: Any) -> ContractRevertError:
    with pytest.raises(ContractRevertError) as info:
        registry.request(who, fn, *args)  # estimate surfaces the custom error before sending
    return info.value


def test_anchor_records_one_slot_and_emits_event(chain: Ledger, registry: ContractHandle) -> None:
    provider, digest, ref = sender(chain, "provider"), fresh(), fresh()
    receipt = registry.transact(provider, "anchor", digest, 3, 1, ref)
    submitter, timestamp, block_number, alg, kind = registry.call("anchorOf", digest)
    assert submitter == provider.address and alg == 3 and kind == 1
    assert block_number == int(receipt["blockNumber"], 16) and timestamp > 0
    (event,) = registry.events(receipt, "EvidenceAnchored")
    assert event == {"digest": digest, "submitter": provider.address, "hashAlgorithm": 3, "kind": 1, "ref": ref}


def test_duplicate_and_malformed_anchors_are_refused(chain: Ledger, registry: ContractHandle) -> None:
    provider, digest = sender(chain, "provider"), fresh()
    registry.transact(provider, "anchor", digest, 1, 8, bytes(32))
    error = refused(registry, provider, "anchor", digest, 1, 8, bytes(32))
    assert error.error_name == "EvidenceAlreadyAnchored" and error.error_args["digest"] == "0x" + digest.hex()
    assert refused(registry, provider, "anchor", bytes(32), 1, 1, bytes(32)).error_name == "EvidenceZeroDigest"
    for alg in (0, 4, 255):
        assert refused(registry, provider, "anchor", fresh(), alg, 1, bytes(32)).error_name == (
            "EvidenceUnsupportedHashAlgorithm")
    for kind in (0, 9):
        assert refused(registry, provider, "anchor", fresh(), 1, kind, bytes(32)).error_name == (
            "EvidenceUnsupportedKind")


def test_batch_root_proves_every_leaf_on_chain(chain: Ledger, registry: ContractHandle) -> None:
    provider = sender(chain, "provider")
    entries = [(1 + i % 3, fresh()) for i in range(13)]
    tree = MerkleTree.from_digests(entries)
    receipt = registry.transact(provider, "anchorBatch", tree.root, len(entries), fresh())
    assert registry.events(receipt, "BatchAnchored")[0]["leafCount"] == 13
    for index, (alg, digest) in enumerate(entries):
        assert registry.call("leafHash", alg, digest) == leaf_hash(alg, digest)
        assert registry.call("verifyInclusion", tree.root, alg, digest, tree.proof(index))
        assert not registry.call("verifyInclusion", tree.root, alg, fresh(), tree.proof(index))
    # a proof against a root that was never anchored does not verify
    other = MerkleTree.from_digests(entries[:5])
    assert not registry.call("verifyInclusion", other.root, entries[0][0], entries[0][1], other.proof(0))
    assert refused(registry, provider, "anchorBatch", tree.root, 13, fresh()).error_name == (
        "EvidenceBatchAlreadyAnchored")
    assert refused(registry, provider, "anchorBatch", fresh(), 0, fresh()).error_name == "EvidenceEmptyBatch"
    assert refused(registry, provider, "anchorBatch", bytes(32), 1, fresh()).error_name == "EvidenceZeroDigest"


def test_endorsement_by_authority_nodes(chain: Ledger, registry: ContractHandle) -> None:
    provider, notary, arbitration = (sender(chain, n) for n in ("provider", "notary", "arbitration"))
    digest, statement = fresh(), fresh()
    registry.transact(provider, "anchor", digest, 1, 1, bytes(32))
    receipt = registry.transact(notary, "endorse", digest, statement)
    (event,) = registry.events(receipt, "AnchorEndorsed")
    assert event == {"anchorKey": digest, "endorser": notary.address, "endorserKind": 1, "statement": statement}
    assert registry.call("endorsedAt", digest, notary.address) > 0
    assert registry.call("endorsedAt", digest, arbitration.address) == 0
    registry.transact(arbitration, "endorse", digest, bytes(32))
    assert registry.call("endorserKindOf", arbitration.address) == 3
    assert refused(registry, notary, "endorse", digest, statement).error_name == "EvidenceAlreadyEndorsed"
    assert refused(registry, notary, "endorse", fresh(), statement).error_name == "EvidenceNotAnchored"


@pytest.mark.parametrize(
    ("account", "function", "args", "role"),
    [
        ("outsider", "anchor", (None, 1, 1, bytes(32)), EVIDENCE_PROVIDER_ROLE),
        ("notary", "anchor", (None, 1, 1, bytes(32)), EVIDENCE_PROVIDER_ROLE),
        ("admin", "anchor", (None, 1, 1, bytes(32)), EVIDENCE_PROVIDER_ROLE),
        ("outsider", "anchorBatch", (None, 2, bytes(32)), EVIDENCE_PROVIDER_ROLE),
        ("notary", "anchorBatch", (None, 2, bytes(32)), EVIDENCE_PROVIDER_ROLE),
        ("admin", "anchorBatch", (None, 2, bytes(32)), EVIDENCE_PROVIDER_ROLE),
        ("outsider", "endorse", (None, bytes(32)), ENDORSER_ROLE),
        ("provider", "endorse", (None, bytes(32)), ENDORSER_ROLE),
        ("admin", "endorse", (None, bytes(32)), ENDORSER_ROLE),
        ("outsider", "registerEndorser", ("addr", 1), ADMIN_ROLE),
        ("provider", "registerEndorser", ("addr", 1), ADMIN_ROLE),
        ("notary", "registerEndorser", ("addr", 1), ADMIN_ROLE),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_other_role_is_refused(chain: Ledger, registry: ContractHandle, account: str, function: str,
                                     args: tuple[Any, ...], role: bytes) -> None:
    who = sender(chain, account)
    anchored = fresh()
    registry.transact(sender(chain, "provider"), "anchor", anchored, 1, 1, bytes(32))
    filled = [anchored if a is None else (chain.accounts.get("outsider").address if a == "addr" else a)
              for a in args]
    error = refused(registry, who, function, *filled)
    assert error.error_name == "RegistryUnauthorized"
    assert error.error_args == {"caller": who.address, "role": "0x" + role.hex()}


def test_admin_registers_endorser_and_roles_are_granted(chain: Ledger, registry: ContractHandle) -> None:
    admin, outsider = sender(chain, "admin"), chain.accounts.get("outsider").address
    assert not registry.call("hasRole", ENDORSER_ROLE, outsider)
    assert refused(registry, admin, "registerEndorser", outsider, 0).error_name == "EvidenceUnsupportedEndorserKind"
    assert refused(registry, admin, "registerEndorser", outsider, 8).error_name == "EvidenceUnsupportedEndorserKind"
    assert registry.call("hasRole", EVIDENCE_PROVIDER_ROLE, chain.accounts.get("provider").address)
    assert registry.call("hasRole", ADMIN_ROLE, admin.address)
    assert registry.call("version") == "1.0.0"
    # OpenZeppelin's default admin rules: the admin role cannot be granted directly, only transferred
    with pytest.raises(ContractRevertError, match="AccessControlEnforcedDefaultAdminRules"):
        registry.request(admin, "grantRole", ADMIN_ROLE, outsider)


def test_gas_of_batch_root_does_not_depend_on_batch_size(chain: Ledger, registry: ContractHandle) -> None:
    """Gas is deterministic, so it can be asserted (time is not: see bench/)."""
    provider = sender(chain, "provider")
    used = []
    for size in (1, 1_000, 1_000_000):
        receipt = registry.transact(provider, "anchorBatch", fresh(), size, fresh())
        used.append(int(receipt["gasUsed"], 16))
    assert max(used) <= 50_000
    assert max(used) - min(used) <= 64  # only calldata zero/non-zero bytes of leafCount differ
