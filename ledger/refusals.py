"""The registries' refusals in words (issue #9 §3, issue #11): every custom error of EvidenceRegistry and
AssetRegistry becomes a sentence a registrar, a holder or a court clerk can act on — roles by name, times as
dates, the rule that applies — instead of "the contract refused" and a hash.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ledger.accounts import ROLE_WORDS
from ledger.hashing import keccak256
from ledger.lifecycle import ObjectionStatus, UnitStatus

CHINA = timezone(timedelta(hours=8))
#: role hash (0x-hex) -> the role in words
ROLE_NAMES = {"0x" + keccak256(f"{name.upper()}_ROLE".encode()).hex(): words for name, words in ROLE_WORDS.items()}
ROLE_NAMES["0x" + bytes(32).hex()] = ROLE_WORDS["admin"]


def _when(value: Any) -> str:
    seconds = int(str(value))
    return datetime.fromtimestamp(seconds, CHINA).strftime("%Y-%m-%d %H:%M China time") if seconds else "never"


def _status(value: Any) -> str:
    try:
        return UnitStatus(int(str(value))).name.lower()
    except ValueError:
        return str(value)


def _objection(value: Any) -> str:
    try:
        return ObjectionStatus(int(str(value))).name.lower()
    except ValueError:
        return str(value)


MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "RegistryUnauthorized": lambda a: (f"account {a['caller']} is not a "
                                       f"{ROLE_NAMES.get(str(a['role']).lower(), a['role'])}: only one may do this"),
    "AccessControlUnauthorizedAccount": lambda a: (f"account {a['account']} is not a "
                                                   f"{ROLE_NAMES.get(str(a['neededRole']).lower(), a['neededRole'])}"),
    "UnitAlreadyRegistered": lambda a: f"unit {a['unitId']} is already registered (one number, one unit: SZ art. 13)",
    "UnitNotFound": lambda a: f"no registration unit {a['unitId']}",
    "UnitNotActive": lambda a: f"the registration is {_status(a['status'])}: it cannot be disposed of",
    "UnitNotSuspended": lambda a: f"the registration is {_status(a['status'])}, not suspended",
    "UnitUnderObjection": lambda a: ("an objection stands on the registration: a disposal needs the filer's written "
                                     "risk acknowledgement (SZ art. 20)"),
    "UnitHasNoExpiry": lambda a: "the registration does not expire: there is nothing to renew",
    "UnitNotExpired": lambda a: f"the registration has not expired (valid until {_when(a['validUntil'])})",
    "RenewalWindowClosed": lambda a: (f"renewal opens {_when(a['opensAt'])}, in the last month before the validity "
                                      f"ends {_when(a['validUntil'])} (TJIFA §8.3.3, GZ art. 35)"),
    "ProfileUnknown": lambda a: f"jurisdiction profile {a['profileId']} is not set on chain (`ledger deploy`)",
    "ObjectTypeNotAllowed": lambda a: f"profile {a['profileId']} does not register object type {a['objectType']}",
    "InvalidRights": lambda a: f"rights {a['rightsMask']} are not rights this unit registers",
    "ReviewMissing": lambda a: "the third-party review report must be filed first (SZ art. 15, DL art. 20)",
    "ReviewAlreadyRecorded": lambda a: "this application already has its review report",
    "ConsentMissing": lambda a: f"{a['signer']} must consent (sign the filing) first",
    "ConsentExpired": lambda a: f"{a['signer']}'s consent expired at {_when(a['deadline'])}: it must be signed again",
    "ConsentInvalid": lambda a: f"the consent given for {a['signer']} is not their signature over this filing",
    "InvalidAccountNonce": lambda a: f"{a['account']}'s consent was already used (or is out of order): sign again",
    "NotRightsHolder": lambda a: f"{a['account']} does not hold every right this filing moves",
    "EntryNotActive": lambda a: f"rights-page entry {a['entryId']} is not active (released, or no such entry)",
    "EntryTermInvalid": lambda a: f"the entry's term must end in the future, not {_when(a['validUntil'])}",
    "EntryNotOfUnit": lambda a: f"rights-page entry {a['entryId']} is not on this unit's rights page",
    "ObjectionAlreadyOpen": lambda a: "this objection is already registered and open",
    "ObjectionMayNotBeRefiled": lambda a: ("this objection lapsed: the same matter on the same grounds may not be "
                                           "registered again (SZ art. 20)"),
    "ObjectionNotOpen": lambda a: f"the objection is {_objection(a['status'])}, not open",
    "ObjectionDeadlinePassed": lambda a: (f"the objector's filing deadline passed at {_when(a['deadline'])} (24:00 "
                                          "China time, SZ art. 20)"),
    "ObjectionDeadlineNotReached": lambda a: (f"the objection cannot lapse before its deadline {_when(a['deadline'])}"
                                              if int(str(a["deadline"])) else "this objection does not lapse"),
    "ValidityInvalid": lambda a: f"the validity end is not within the profile's period (latest {_when(a['latest'])})",
    "UnitPledged": lambda a: (f"the registration is pledged ({a['activePledges']} active pledge(s)): every pledgee "
                              "must consent, or the pledges be released first (TJIFA §8.2.2)"),
    "PledgeeConsentInvalid": lambda a: (f"entry {a['entryId']} is not an active pledge of this unit "
                                        "(or is listed twice)"),
    "OrderNotRecorded": lambda a: ("an ex-officio cancellation cites a court or arbitration order the judicial role "
                                   "recorded first (SZ art. 19)"),
    "GroundsMissing": lambda a: "an act of the registry or a court records the hash of its grounds document",
    "InvalidCancellationGround": lambda a: f"unknown cancellation ground {a['ground']}",
    "InvalidAction": lambda a: f"action {a['action']} is not allowed here",
    "ZeroValue": lambda a: "a required value is empty (zero)",
    "EvidenceZeroDigest": lambda a: "the zero digest is not evidence of anything",
    "EvidenceAlreadyAnchored": lambda a: (f"{a['digest']} is already anchored (by {a['submitter']} at "
                                          f"{datetime.fromtimestamp(int(str(a['timestamp'])), UTC).isoformat()})"),
    "EvidenceBatchAlreadyAnchored": lambda a: f"batch root {a['root']} is already anchored",
    "EvidenceNotAnchored": lambda a: f"{a['anchorKey']} is not anchored",
    "EvidenceAlreadyEndorsed": lambda a: f"{a['endorser']} already endorsed {a['anchorKey']}",
}


def explain(name: str, args: dict[str, Any]) -> str | None:
    """The refusal in words, or None for an error this table does not know."""
    message = MESSAGES.get(name)
    if message is None:
        return None
    try:
        return message(args)
    except (KeyError, ValueError, TypeError):  # a payload that does not decode: the name alone
        return None
