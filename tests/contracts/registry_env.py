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
        params = initial_params(application, self.address(holder), kind, p.id, rights, cert, doc)
        registration = (number, application, self.address(holder), kind, p.id, rights, cert, doc)
        return uid, (registration, self.consent(holder, uid, Action.INITIAL, params))

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
                      sign_from: bool = True) -> tuple[Any, ...]:
        request = transfer_request(self.address(to), rights, h(), h(), risk)
        params = transfer_params(request)
        frm = self.holder_name(uid, rights)
        from_consent = self.consent(frm, uid, Action.TRANSFER, params) if sign_from else (0, 0, b"")
        earlier = frm if sign_from and self.joint(uid) else None
        return (uid, request, from_consent,
                self.consent(to, uid, Action.TRANSFER, params, nonce=self._next_nonce(to, earlier)))

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
        return (uid, request, self.consent(grantor, uid, action, params),
                self.consent(counterparty, uid, action, params,
                             nonce=self._next_nonce(counterparty, grantor if self.joint(uid) else None)))

    def cancel_args(self, uid: bytes, risk: bytes = ZERO32) -> tuple[Any, ...]:
        doc = h()
        return (uid, 1, doc, risk,
                self.consent(self.holder_name(uid), uid, Action.CANCELLATION, cancel_params(doc, risk)))

    def renew_args(self, uid: bytes) -> tuple[Any, ...]:
        cert, doc = h(), h()
        return (uid, cert, doc, self.consent(self.holder_name(uid), uid, Action.RENEWAL, renew_params(cert, doc)))

    def holder_name(self, uid: bytes, rights: int = Right.HOLDING) -> str:
        first = next(r for r in (Right.HOLDING, Right.PROCESSING_USE, Right.PRODUCT_OPERATION) if rights & r)
        address = self.registry.right_holder(uid, first)
        return next(a.name for a in self.ledger.accounts if a.address == address)


EMPTY = Consent(0, 0, b"").as_tuple()
