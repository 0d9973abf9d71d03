"""AssetRegistry against a real Anvil node: every registration type, refusal grounds, consents, timers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from eth_keys import keys

from ledger.hashing import keccak256
from ledger.lifecycle import Action, ObjectionStatus, Right, UnitStatus
from ledger.numbering import registration_number, unit_id
from ledger.profiles import ObjectType
from ledger.registry import (
    ZERO32,
    declaration_params,
    entry_params,
    entry_request,
    initial_params,
    objection_id,
    release_params,
)
from ledger.workdays import add_years, china_date, end_of_day, last_day
from tests.contracts.registry_env import EMPTY, PROFILES, RegistryEnv, h

pytestmark = pytest.mark.chain
DAY = 86_400


def test_initial_registration_records_full_state(env: RegistryEnv) -> None:
    uid, args = env.initial_args("TJIFA")
    receipt = env.registry.transact(env.sender("registrar"), "registerInitial", *args)
    registration = args[0]
    unit = env.registry.unit(uid)
    assert unit["holder"] == env.address("holder-a") and unit["status"] is UnitStatus.ACTIVE
    assert unit["certificate_hash"] == registration[6] and unit["certificate_version"] == 1
    assert unit["rights"] == Right.ALL and unit["profile_id"] == PROFILES["TJIFA"].id
    block_time = int(env.ledger.client.block(int(receipt["blockNumber"], 16))["timestamp"], 16)
    # TJIFA §8.3.3: three calendar years, to 24:00 China time of the corresponding day (民法典 art. 201, 203)
    assert unit["valid_until"] == end_of_day(add_years(china_date(block_time), 3)) == registration[8]
    (registered,) = env.handle.events(receipt, "UnitRegistered")
    assert registered["registrationNumber"] == registration[0] and registered["unitId"] == uid
    (recorded,) = env.handle.events(receipt, "RegistrationRecorded")
    assert recorded["action"] == Action.INITIAL and recorded["documentHash"] == registration[7]
    for right in (Right.HOLDING, Right.PROCESSING_USE, Right.PRODUCT_OPERATION):
        assert env.registry.right_holder(uid, right) == env.address("holder-a")
    assert int(receipt["gasUsed"], 16) <= 150_000  # issue #3 target, deterministic
    assert env.refused("registrar", "registerInitial", *args).error_name == "UnitAlreadyRegistered"


def test_profile_rules_are_enforced(env: RegistryEnv) -> None:
    _, args = env.initial_args("TJIFA", object_type=ObjectType.DATA_RESOURCE)  # TJIFA §3.10: assets only
    assert env.refused("registrar", "registerInitial", *args).error_name == "ObjectTypeNotAllowed"
    _, args = env.initial_args("TJIFA", rights=0)
    assert env.refused("registrar", "registerInitial", *args).error_name == "InvalidRights"
    _, args = env.initial_args("TJIFA", rights=8)
    assert env.refused("registrar", "registerInitial", *args).error_name == "InvalidRights"
    # SZ art. 15: third-party substantive review first
    number = registration_number("SZ", 2026, 999_001)
    uid, app, cert, doc = unit_id(number), h(), h(), h()
    holder = env.address("holder-a")
    params = initial_params(app, holder, 1, PROFILES["SZ"].id, Right.ALL, cert, doc, 0)
    consent = env.consent("holder-a", uid, Action.INITIAL, params)
    registration = (number, app, holder, 1, PROFILES["SZ"].id, Right.ALL, cert, doc, 0)
    error = env.refused("registrar", "registerInitial", registration, consent)
    assert error.error_name == "ReviewMissing" and error.error_args["applicationId"] == "0x" + app.hex()
    env.registry.transact(env.sender("reviewer"), "recordReview", app, h())
    assert env.refused("reviewer", "recordReview", app, h()).error_name == "ReviewAlreadyRecorded"
    env.registry.transact(env.sender("registrar"), "registerInitial", registration, consent)
    assert env.registry.unit(uid)["valid_until"] == 0  # SZ: no expiry
    unknown = (registration_number("SZ", 2026, 999_002), app, holder, 1, 99, Right.ALL, cert, doc, 0)
    assert env.refused("registrar", "registerInitial", unknown, consent).error_name == "ProfileUnknown"


def test_consent_forgery_replay_and_expiry(env: RegistryEnv) -> None:
    uid, (registration, consent) = env.initial_args("TJIFA")
    nonce = consent[0]
    forged = env.consent("holder-b", uid, Action.INITIAL, h(), nonce=nonce)  # wrong signer and params
    assert env.refused("registrar", "registerInitial", registration, forged).error_name == "ConsentInvalid"
    tampered = (registration[0], registration[1], registration[2], registration[3], registration[4],
                registration[5], h(), registration[7], registration[8])  # another certificate than the one signed
    assert env.refused("registrar", "registerInitial", tampered, consent).error_name == "ConsentInvalid"
    wrong_action = env.registry.consent(env.key("holder-a"), uid, Action.TRANSFER, h()).as_tuple()
    assert env.refused("registrar", "registerInitial", registration, wrong_action).error_name == "ConsentInvalid"
    expired = env.consent("holder-a", uid, Action.INITIAL,
                          initial_params(*registration[1:3], *registration[3:9]), deadline=env.now() - 1)
    assert env.refused("registrar", "registerInitial", registration, expired).error_name == "ConsentExpired"
    # a declaration (TJIFA App. 2) can be recorded once per signature: replay hits the spent nonce
    application, declaration = h(), h()
    signed = env.consent("holder-b", application, Action.DECLARATION, declaration_params(declaration))
    env.registry.transact(env.sender("registrar"), "recordDeclaration", application, env.address("holder-b"),
                          declaration, signed)
    replay = env.refused("registrar", "recordDeclaration", application, env.address("holder-b"), declaration, signed)
    assert replay.error_name == "InvalidAccountNonce"
    future = env.consent("holder-b", application, Action.DECLARATION, declaration_params(declaration),
                         nonce=env.registry.nonce(env.address("holder-b")) + 1)
    assert env.refused("registrar", "recordDeclaration", application, env.address("holder-b"), declaration,
                       future).error_name == "InvalidAccountNonce"
    # the digest the contract verifies is the EIP-712 message eth-account signed: recovering from it gives the signer
    params = initial_params(*registration[1:3], *registration[3:9])
    digest = env.handle.call("consentDigest", uid, Action.INITIAL, params, consent[0], consent[1])
    signature = consent[2]
    recovered = keys.Signature(signature[:64] + bytes([signature[64] - 27])).recover_public_key_from_msg_hash(digest)
    assert recovered.to_checksum_address() == env.address("holder-a")


def test_only_canonical_consent_signatures_count(env: RegistryEnv) -> None:
    """Issue #7: a consent respelled as (r, n - s) or with v 0/1 is the same key's signature in another form; the
    contract (OpenZeppelin ECDSA) refuses both, so one signed consent has one spelling."""
    from ledger.proofs.signatures import SECP256K1_N, canonical_problem

    _uid, (registration, consent) = env.initial_args("TJIFA")
    nonce, deadline, signature = consent
    assert canonical_problem(signature) is None
    s = int.from_bytes(signature[32:64], "big")
    high_s = signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])
    zero_based = signature[:64] + bytes([signature[64] - 27])
    for respelled in (high_s, zero_based):
        assert canonical_problem(respelled) is not None
        refusal = env.refused("registrar", "registerInitial", registration, (nonce, deadline, respelled))
        assert refusal.error_name == "ConsentInvalid"
    env.registry.transact(env.sender("registrar"), "registerInitial", registration, consent)  # the canonical one


def test_reissue_supersedes_the_certificate(env: RegistryEnv) -> None:
    uid = env.register("TJIFA")
    old = env.registry.unit(uid)["certificate_hash"]
    for version, action in ((2, Action.SUPPLEMENTARY), (3, Action.CHANGE)):
        args = env.reissue_args(uid, action)
        receipt = env.registry.transact(env.sender("registrar"), "reissue", *args)
        (issued,) = env.handle.events(receipt, "CertificateIssued")
        assert issued == {"unitId": uid, "version": version, "certificateHash": args[2], "supersededHash": old}
        old = args[2]
    bad = env.reissue_args(uid, Action.TRANSFER)
    assert env.refused("registrar", "reissue", *bad).error_name == "InvalidAction"


def test_transfer_joint_under_tjifa_single_under_sz(env: RegistryEnv) -> None:
    tj = env.register("TJIFA")
    without_transferor = env.transfer_args(tj, "holder-b", sign_from=False)
    error = env.refused("registrar", "transfer", *without_transferor)
    assert error.error_name == "ConsentMissing" and error.error_args["signer"] == env.address("holder-a")
    env.registry.transact(env.sender("registrar"), "transfer", *env.transfer_args(tj, "holder-b"))
    assert env.registry.unit(tj)["holder"] == env.address("holder-b")
    assert env.registry.unit(tj)["certificate_version"] == 2

    sz = env.register("SZ")  # SZ art. 17: the transferee files alone, with the contract
    env.registry.transact(env.sender("registrar"), "transfer",
                          *env.transfer_args(sz, "holder-b", Right.PROCESSING_USE, sign_from=False))
    assert env.registry.right_holder(sz, Right.PROCESSING_USE) == env.address("holder-b")
    assert env.registry.unit(sz)["holder"] == env.address("holder-a")
    # the holding right moves; processing-use stays with holder-b, operation follows the subject
    env.registry.transact(env.sender("registrar"), "transfer",
                          *env.transfer_args(sz, "bank", Right.HOLDING | Right.PRODUCT_OPERATION, sign_from=False))
    assert env.registry.unit(sz)["holder"] == env.address("bank")
    assert env.registry.right_holder(sz, Right.PROCESSING_USE) == env.address("holder-b")
    assert env.registry.right_holder(sz, Right.PRODUCT_OPERATION) == env.address("bank")
    # rights held by two parties cannot move in one filing
    error = env.refused("registrar", "transfer", *env.transfer_args(sz, "holder-a", Right.ALL, sign_from=False))
    assert error.error_name == "NotRightsHolder"


def test_rights_page_pledge_licence_and_release(env: RegistryEnv) -> None:
    uid = env.register("TJIFA")
    receipt = env.registry.transact(env.sender("registrar"), "addRightsEntry", *env.entry_args(uid, Action.PLEDGE))
    (added,) = env.handle.events(receipt, "RightsEntryAdded")
    pledge = added["entryId"]
    licence_args = env.entry_args(uid, Action.LICENCE, "holder-b", Right.PROCESSING_USE,
                                  valid_until=env.now() + 365 * DAY)
    env.registry.transact(env.sender("registrar"), "addRightsEntry", *licence_args)
    assert env.registry.active_entries(uid) == 2
    assert env.registry.entry(pledge)["counterparty"] == env.address("bank")
    # joint filing (TJIFA §6.4.3.3): without the holder's signature it is refused
    request = entry_request(Action.PLEDGE, env.address("bank"), Right.ALL, 0, h())
    alone = env.consent("bank", uid, Action.PLEDGE, entry_params(request))
    assert env.refused("registrar", "addRightsEntry", uid, request, EMPTY, alone).error_name == "ConsentMissing"
    past = entry_request(Action.LICENCE, env.address("bank"), Right.ALL, env.now() - 1, h())
    assert env.refused("registrar", "addRightsEntry", uid, past, EMPTY, EMPTY).error_name == "EntryTermInvalid"
    # release needs the pledgee's consent, or a court order; an entry of another unit is refused by name
    doc = h()
    assert env.refused("registrar", "releaseRightsEntry", uid, pledge, doc, EMPTY).error_name == "ConsentMissing"
    other = env.register("TJIFA")
    wrong = env.refused("court", "releaseRightsEntry", other, pledge, doc, EMPTY)
    assert wrong.error_name == "EntryNotOfUnit" and wrong.error_args["entryId"] == pledge
    consent = env.consent("bank", uid, Action.RELEASE, release_params(pledge, doc))
    env.registry.transact(env.sender("registrar"), "releaseRightsEntry", uid, pledge, doc, consent)
    assert not env.registry.entry(pledge)["active"] and env.registry.active_entries(uid) == 1
    assert env.registry.active_pledges(uid) == 0
    assert env.refused("court", "releaseRightsEntry", uid, pledge, doc, EMPTY).error_name == "EntryNotActive"
    env.registry.transact(env.sender("court"), "releaseRightsEntry", uid, pledge + 1, h(), EMPTY)
    assert env.registry.active_entries(uid) == 0


def test_a_pledge_needs_the_pledgor_and_protects_the_pledgee(env: RegistryEnv) -> None:
    """Issue #9 §2: under every profile (SZ too, where the licensee files alone) a pledge needs the pledgor's
    consent; while it is active, neither a transfer nor the holder's cancellation goes through without every
    pledgee's consent (profile pledgeBlocks, default both) — the pledge then stays on the rights page."""
    uid = env.register("SZ")
    request = entry_request(Action.PLEDGE, env.address("bank"), Right.ALL, 0, h())
    alone = env.consent("bank", uid, Action.PLEDGE, entry_params(request))
    refused = env.refused("registrar", "addRightsEntry", uid, request, EMPTY, alone)
    assert refused.error_name == "ConsentMissing" and refused.error_args["signer"] == env.address("holder-a")
    receipt = env.registry.transact(env.sender("registrar"), "addRightsEntry", *env.entry_args(uid, Action.PLEDGE))
    first = env.handle.events(receipt, "RightsEntryAdded")[0]["entryId"]
    receipt = env.registry.transact(env.sender("registrar"), "addRightsEntry",
                                    *env.entry_args(uid, Action.PLEDGE, "holder-b", Right.PROCESSING_USE))
    second = env.handle.events(receipt, "RightsEntryAdded")[0]["entryId"]
    assert env.registry.active_pledges(uid) == 2
    blocked = env.refused("registrar", "transfer", *env.transfer_args(uid, "outsider", sign_from=False))
    assert blocked.error_name == "UnitPledged" and blocked.error_args["activePledges"] == 2
    one = env.refused("registrar", "transfer", *env.transfer_args(uid, "outsider", sign_from=False,
                                                                  pledgees=((first, "bank"),)))
    assert one.error_name == "UnitPledged"
    twice = env.refused("registrar", "transfer", *env.transfer_args(uid, "outsider", sign_from=False,
                                                                    pledgees=((first, "bank"), (first, "bank"))))
    assert twice.error_name == "PledgeeConsentInvalid"
    impostor = env.refused("registrar", "transfer", *env.transfer_args(
        uid, "outsider", sign_from=False, pledgees=((first, "holder-b"), (second, "holder-b"))))
    assert impostor.error_name == "ConsentInvalid"
    assert env.refused("registrar", "cancel", *env.cancel_args(uid)).error_name == "UnitPledged"
    env.registry.transact(env.sender("registrar"), "transfer", *env.transfer_args(
        uid, "outsider", sign_from=False, pledgees=((first, "bank"), (second, "holder-b"))))
    assert env.registry.unit(uid)["holder"] == env.address("outsider")
    assert env.registry.active_pledges(uid) == 2  # the pledges follow the asset
    env.registry.transact(env.sender("registrar"), "cancel", *env.cancel_args(
        uid, pledgees=((first, "bank"), (second, "holder-b"))))
    assert env.registry.unit(uid)["status"] is UnitStatus.CANCELLED


def test_objection_lapses_after_deadline_and_cannot_be_refiled(env: RegistryEnv) -> None:
    uid = env.register("SZ")
    matter = h()
    receipt = env.registry.transact(env.sender("registrar"), "fileObjection", uid, env.address("outsider"), matter, h())
    oid = objection_id(uid, matter)
    objection = env.registry.objection(oid)
    block_time = int(env.ledger.client.block(int(receipt["blockNumber"], 16))["timestamp"], 16)
    # SZ art. 20: 15 days from acceptance, ending 24:00 China time of the 15th day (not at the second of filing)
    deadline = end_of_day(china_date(block_time) + timedelta(days=15))
    assert objection["status"] is ObjectionStatus.PENDING and objection["deadline"] == deadline
    assert env.registry.unit(uid)["open_objections"] == 1
    # SZ art. 20: disposal while the objection stands needs a written risk acknowledgement
    assert env.refused("registrar", "transfer", *env.transfer_args(uid, "holder-b", sign_from=False)).error_name == (
        "UnitUnderObjection")
    risk = h()
    receipt = env.registry.transact(env.sender("registrar"), "addRightsEntry",
                                    *env.entry_args(uid, Action.LICENCE, "bank", risk=risk))
    assert env.handle.events(receipt, "RiskAcknowledged")[0]["acknowledgementHash"] == risk
    assert env.refused("registrar", "fileObjection", uid, env.address("outsider"), matter, h()).error_name == (
        "ObjectionAlreadyOpen")
    assert env.refused("outsider", "lapseObjection", oid).error_name == "ObjectionDeadlineNotReached"
    env.travel(deadline - env.now() - 10)
    env.registry.handle.request(env.sender("court"), "recordObjectionLitigation", oid, h())  # still in time
    assert env.refused("outsider", "lapseObjection", oid).error_name == "ObjectionDeadlineNotReached"
    env.travel(11)
    assert env.refused("registrar", "recordObjectionLitigation", oid, h()).error_name == "ObjectionDeadlinePassed"
    env.registry.transact(env.sender("outsider"), "lapseObjection", oid)  # anyone may lapse it
    assert env.registry.objection(oid)["status"] is ObjectionStatus.LAPSED
    assert env.registry.unit(uid)["open_objections"] == 0
    assert env.refused("registrar", "fileObjection", uid, env.address("outsider"), matter, h()).error_name == (
        "ObjectionMayNotBeRefiled")
    # another matter with a timely court filing does not lapse, and a court disposes of it
    other = h()
    env.registry.transact(env.sender("registrar"), "fileObjection", uid, env.address("holder-b"), other, h())
    oid2 = objection_id(uid, other)
    env.registry.transact(env.sender("court"), "recordObjectionLitigation", oid2, h())
    env.travel(16 * DAY)
    assert env.refused("outsider", "lapseObjection", oid2).error_name == "ObjectionNotOpen"
    env.registry.transact(env.sender("court"), "resolveObjection", oid2, True, h())
    assert env.registry.objection(oid2)["status"] is ObjectionStatus.UPHELD
    assert env.refused("court", "resolveObjection", oid2, False, h()).error_name == "ObjectionNotOpen"


def test_renewal_window_and_expiry(env: RegistryEnv) -> None:
    uid = env.register("GZ")  # GZ art. 35: two years, renew within the last month, +2 years from expiry
    valid_until = env.registry.unit(uid)["valid_until"]
    error = env.refused("registrar", "renew", *env.renew_args(uid))
    assert error.error_name == "RenewalWindowClosed" and error.error_args["opensAt"] == valid_until - 30 * DAY
    env.travel(valid_until - 30 * DAY - env.now() + 1)
    too_long = env.refused("registrar", "renew", *env.renew_args(uid, valid_until + 800 * DAY))
    assert too_long.error_name == "ValidityInvalid"
    assert env.refused("registrar", "renew", *env.renew_args(uid, valid_until)).error_name == "ValidityInvalid"
    env.registry.transact(env.sender("registrar"), "renew", *env.renew_args(uid))
    unit = env.registry.unit(uid)
    # two calendar years counted from the previous expiry's last day (GZ art. 35)
    assert unit["valid_until"] == end_of_day(add_years(last_day(valid_until), 2)) and unit["certificate_version"] == 2
    env.travel(unit["valid_until"] - env.now() + 1)
    assert env.registry.status(uid) is UnitStatus.EXPIRED
    assert env.registry.unit(uid)["status"] is UnitStatus.ACTIVE  # stored status lags until marked
    assert env.refused("registrar", "renew", *env.renew_args(uid)).error_name == "UnitNotActive"
    env.registry.transact(env.sender("outsider"), "markExpired", uid)
    assert env.registry.unit(uid)["status"] is UnitStatus.EXPIRED
    assert env.refused("outsider", "markExpired", uid).error_name == "UnitNotExpired"
    no_expiry = env.register("SZ")
    assert env.refused("registrar", "renew", *env.renew_args(no_expiry)).error_name == "UnitHasNoExpiry"


def test_cancellation_grounds_keep_history(env: RegistryEnv) -> None:
    by_holder, by_court, ex_officio = (env.register("TJIFA") for _ in range(3))
    env.registry.transact(env.sender("registrar"), "cancel", *env.cancel_args(by_holder))
    receipt = env.registry.transact(env.sender("court"), "cancel", by_court, 2, h(), ZERO32, EMPTY, [])
    assert env.handle.events(receipt, "StatusChanged")[0] == {"unitId": by_court, "status": 4, "cancellationGround": 2}
    # ex officio (SZ art. 19) rests on an order the judicial role recorded, not on the registrar's word alone
    order = h()
    refused = env.refused("registrar", "cancel", ex_officio, 3, order, ZERO32, EMPTY, [])
    assert refused.error_name == "OrderNotRecorded"
    env.registry.transact(env.sender("court"), "recordJudicialOrder", ex_officio, order)
    assert env.registry.order_recorded(ex_officio, order)
    env.registry.transact(env.sender("registrar"), "cancel", ex_officio, 3, order, ZERO32, EMPTY, [])
    for uid in (by_holder, by_court, ex_officio):
        unit = env.registry.unit(uid)
        assert unit["status"] is UnitStatus.CANCELLED and unit["holder"] == env.address("holder-a")  # tombstone
    assert env.refused("court", "cancel", by_holder, 2, h(), ZERO32, EMPTY, []).error_name == "UnitNotActive"
    fresh = env.register("TJIFA")
    assert env.refused("registrar", "cancel", fresh, 2, h(), ZERO32, EMPTY, []).error_name == "RegistryUnauthorized"
    assert env.refused("court", "cancel", fresh, 3, h(), ZERO32, EMPTY, []).error_name == "RegistryUnauthorized"
    assert env.refused("registrar", "cancel", fresh, 9, h(), ZERO32, EMPTY, []).error_name == (
        "InvalidCancellationGround")
    assert env.refused("registrar", "cancel", fresh, 1, h(), ZERO32, EMPTY, []).error_name == "ConsentMissing"
    assert env.refused("court", "cancel", fresh, 2, ZERO32, ZERO32, EMPTY, []).error_name == "GroundsMissing"
    # GZ art. 35: an expired registration is cancelled ex officio, only once it has expired
    gz = env.register("GZ")
    assert env.refused("registrar", "cancel", gz, 4, h(), ZERO32, EMPTY, []).error_name == "UnitNotExpired"
    env.travel(env.registry.unit(gz)["valid_until"] - env.now())
    env.registry.transact(env.sender("registrar"), "cancel", gz, 4, h(), ZERO32, EMPTY, [])
    assert env.registry.unit(gz)["status"] is UnitStatus.CANCELLED


def test_only_the_court_lifts_a_suspension_it_ordered(env: RegistryEnv) -> None:
    """Issue #9 §3: a suspension (DL art. 22) by the registry is lifted by the registry; one ordered by the
    judicial role only by it. Every suspension and reinstatement records its grounds document."""
    by_registry, by_court = env.register("DL"), env.register("DL")
    assert env.refused("registrar", "setSuspended", by_registry, True, ZERO32).error_name == "GroundsMissing"
    env.registry.transact(env.sender("registrar"), "setSuspended", by_registry, True, h())
    env.registry.transact(env.sender("registrar"), "setSuspended", by_registry, False, h())
    env.registry.transact(env.sender("court"), "setSuspended", by_court, True, h())
    refused = env.refused("registrar", "setSuspended", by_court, False, h())
    assert refused.error_name == "RegistryUnauthorized" and refused.error_args["role"] == "0x" + keccak256(
        b"JUDICIAL_ROLE").hex()
    env.registry.transact(env.sender("court"), "setSuspended", by_court, False, h())
    assert env.registry.unit(by_court)["status"] is UnitStatus.ACTIVE
    assert env.refused("registrar", "revoke", by_court, ZERO32).error_name == "GroundsMissing"


def test_consent_digest_matches_eip712_typed_data_and_the_contract(env: RegistryEnv) -> None:
    """The fast digest the client signs = eth-account's EIP-712 encoding = the contract's consentDigest."""
    from eth_account.messages import _hash_eip191_message, encode_typed_data

    from ledger.registry import consent_digest, consent_typed_data

    uid, params = h(), h()
    message = consent_typed_data(env.ledger.client.chain_id, env.handle.address, uid, Action.TRANSFER, params, 7, 99)
    typed = _hash_eip191_message(encode_typed_data(full_message=message))
    fast = consent_digest(env.registry.domain_separator, uid, Action.TRANSFER, params, 7, 99)
    assert typed == fast == env.handle.call("consentDigest", uid, Action.TRANSFER, params, 7, 99)
