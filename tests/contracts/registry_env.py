"""A ready AssetRegistry on its own Anvil node, with helpers that file each transition correctly."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from ledger.chain.contract import ContractHandle
from ledger.chain.sender import TransactionSender
from ledger.context import Ledger
from ledger.errors import ContractRevertError
from ledger.lifecycle import Action, Right
from ledger.numbering import registration_number, unit_id
from ledger.profiles import ObjectType, load_profiles
from ledger.registry import (
    ZERO32,
    AssetRegistryClient,
    Consent,
    cancel_params,
    entry_params,
    entry_request,
    initial_params,
    reissue_params,
    renew_params,
    transfer_params,
    transfer_request,
)
from ledger.workdays import add_years, china_date, end_of_day, last_day, validity_last_day

PROFILES = load_profiles()
DEFAULT_TYPE = {"TJIFA": ObjectType.DATA_ASSET, "SZ": ObjectType.DATA_RESOURCE, "GZ": ObjectType.DATA_RESOURCE,
                "DL": ObjectType.DATA_PRODUCT, "AH": ObjectType.DATA_RESOURCE, "GD": ObjectType.DATA_PRODUCT}


def h() -> bytes:
    return os.urandom(32)


@dataclass
class RegistryEnv:
    ledger: Ledger
    registry: AssetRegistryClient
    handle: ContractHandle
    sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def sender(self, name: str) -> TransactionSender:
        return self.ledger.sender(name)

    def key(self, name: str) -> LocalAccount:
        return self.ledger.accounts.get(name).signer

    def address(self, name: str) -> str:
        return self.ledger.accounts.get(name).address

    def now(self) -> int:
        return int(self.ledger.client.block("latest")["timestamp"], 16)

    def travel(self, seconds: int) -> None:
        self.ledger.client.request("evm_increaseTime", [seconds])
        self.ledger.client.request("evm_mine", [])

    def refused(self, who: str, function: str, *args: Any) -> ContractRevertError:
        with pytest.raises(ContractRevertError) as info:
            self.handle.request(self.sender(who), function, *args)
        return info.value

    def consent(self, signer: str, unit: bytes, action: Action, params: bytes, **kw: Any) -> tuple[int, int, bytes]:
        return self.registry.consent(self.key(signer), unit, action, params, **kw).as_tuple()

    # --- transitions filed correctly ----------------------------------------------------------------

    def initial_args(self, profile: str = "TJIFA", holder: str = "holder-a", object_type: int | None = None,
                     rights: int = Right.ALL, number: str | None = None) -> tuple[bytes, tuple[Any, ...]]:
        p = PROFILES[profile]
        number = number or registration_number(p.number_prefix, 2026, next(self.sequence))
        application, cert, doc = h(), h(), h()
        kind = int(object_type if object_type is not None else DEFAULT_TYPE[profile])
        if p.requires_review:
            self.registry.transact(self.sender("reviewer"), "recordReview", application, h())
        uid = unit_id(number)
        valid_until = self.valid_until(profile)
        params = initial_params(application, self.address(holder), kind, p.id, rights, cert, doc, valid_until)
        registration = (number, application, self.address(holder), kind, p.id, rights, cert, doc, valid_until)
        return uid, (registration, self.consent(holder, uid, Action.INITIAL, params))

    def valid_until(self, profile: str) -> int:
        """The end of validity a workflow would compute: the profile's calendar years, 24:00 China time."""
        last = validity_last_day(china_date(self.now()), PROFILES[profile].validity_years)
        return end_of_day(last) if last else 0

    def register(self, profile: str = "TJIFA", holder: str = "holder-a", **kw: Any) -> bytes:
        uid, args = self.initial_args(profile, holder, **kw)
        self.registry.transact(self.sender("registrar"), "registerInitial", *args)
        return uid

    def reissue_args(self, uid: bytes, action: Action = Action.CHANGE, risk: bytes = ZERO32,
                     holder: str | None = None) -> tuple[Any, ...]:
        cert, doc = h(), h()
        signer = holder or self.holder_name(uid)
        return (uid, int(action), cert, doc, risk, self.consent(signer, uid, action, reissue_params(cert, doc, risk)))

    def transfer_args(self, uid: bytes, to: str, rights: int = Right.ALL, risk: bytes = ZERO32,
                      sign_from: bool = True, pledgees: tuple[tuple[int, str], ...] = ()) -> tuple[Any, ...]:
        """``pledgees``: (entry id, pledgee account) of each active pledge whose consent the transfer carries."""
        request = transfer_request(self.address(to), rights, h(), h(), risk)
        params = transfer_params(request)
        frm = self.holder_name(uid, rights)
        used: dict[str, int] = {}
        if sign_from and self.joint(uid):
            from_consent = self.consent(frm, uid, Action.TRANSFER, params, nonce=self._nonce(frm, used))
        elif sign_from:
            from_consent = self.consent(frm, uid, Action.TRANSFER, params)
        else:
            from_consent = (0, 0, b"")
        to_consent = self.consent(to, uid, Action.TRANSFER, params, nonce=self._nonce(to, used))
        return (uid, request, from_consent, to_consent,
                [(entry, self.consent(who, uid, Action.TRANSFER, params, nonce=self._nonce(who, used)))
                 for entry, who in pledgees])

    def _nonce(self, signer: str, used: dict[str, int]) -> int:
        """The next consent nonce of ``signer`` within one filing (several consents by one account count up)."""
        used[signer] = used.get(signer, -1) + 1
        return self.registry.nonce(self.address(signer)) + used[signer]

    def joint(self, uid: bytes) -> bool:
        profile_id = self.registry.unit(uid)["profile_id"]
        return any(p.joint_filing for p in PROFILES.values() if p.id == profile_id)

    def _next_nonce(self, signer: str, earlier_signer: str | None) -> int:
        """The nonce for a second consent in one filing: one more if the same account's first one is used."""
        return self.registry.nonce(self.address(signer)) + (signer == earlier_signer)

    def entry_args(self, uid: bytes, action: Action = Action.PLEDGE, counterparty: str = "bank",
                   rights: int = Right.ALL, risk: bytes = ZERO32, valid_until: int = 0) -> tuple[Any, ...]:
        request = entry_request(action, self.address(counterparty), rights, valid_until, h(), risk)
        params = entry_params(request)
        grantor = self.holder_name(uid, rights)
        both = self.joint(uid) or action is Action.PLEDGE  # no pledge without the pledgor, under every profile
        return (uid, request, self.consent(grantor, uid, action, params),
                self.consent(counterparty, uid, action, params,
                             nonce=self._next_nonce(counterparty, grantor if both else None)))

    def cancel_args(self, uid: bytes, risk: bytes = ZERO32,
                    pledgees: tuple[tuple[int, str], ...] = ()) -> tuple[Any, ...]:
        doc = h()
        params = cancel_params(doc, risk)
        holder = self.holder_name(uid)
        used: dict[str, int] = {}
        return (uid, 1, doc, risk, self.consent(holder, uid, Action.CANCELLATION, params,
                                                nonce=self._nonce(holder, used)),
                [(entry, self.consent(who, uid, Action.CANCELLATION, params, nonce=self._nonce(who, used)))
                 for entry, who in pledgees])

    def renew_args(self, uid: bytes, new_valid_until: int | None = None) -> tuple[Any, ...]:
        cert, doc = h(), h()
        if new_valid_until is None:
            profile = next(c for c, p in PROFILES.items() if p.id == self.registry.unit(uid)["profile_id"])
            old = self.registry.unit(uid)["valid_until"]
            years = PROFILES[profile].validity_years
            new_valid_until = end_of_day(add_years(last_day(old), years)) if old and years else 0
        return (uid, cert, doc, new_valid_until, self.consent(self.holder_name(uid), uid, Action.RENEWAL,
                                                              renew_params(cert, doc, new_valid_until)))

    def recorded_order(self, uid: bytes) -> bytes:
        """A court order recorded for ``uid`` (what an ex-officio cancellation must cite, SZ art. 19)."""
        order = h()
        self.registry.transact(self.sender("court"), "recordJudicialOrder", uid, order)
        return order

    def holder_name(self, uid: bytes, rights: int = Right.HOLDING) -> str:
        first = next(r for r in (Right.HOLDING, Right.PROCESSING_USE, Right.PRODUCT_OPERATION) if rights & r)
        address = self.registry.right_holder(uid, first)
        return next(a.name for a in self.ledger.accounts if a.address == address)


EMPTY = Consent(0, 0, b"").as_tuple()
NO_PLEDGEES: list[Any] = []
