"""Operator accounts: which key acts as admin, evidence provider (存证服务商) or endorser.

The accounts file (``<home>/accounts.json`` or ``LEDGER_ACCOUNTS``) maps a name to a private key and the
roles it should hold. ``ledger chain up`` writes one for the local dev chain from the well-known dev
mnemonic; a production network supplies its own (keys from an HSM or keystore in a later step).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import is_address, to_checksum_address
from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator

from ledger.errors import ConfigurationError, LedgerValueError
from ledger.files import write_private

Role = Literal["admin", "evidence_provider", "endorser", "registrar", "reviewer", "judicial"]
#: Each role in words (what a refusal names, REGISTRATION_RULES §1).
ROLE_WORDS: dict[str, str] = {
    "admin": "administrator (管理员)",
    "evidence_provider": "evidence provider (存证服务商)",
    "endorser": "authority node (权威节点: notary, arbitration, time service …)",
    "registrar": "registration authority (登记机构)",
    "reviewer": "third-party reviewer (第三方审查机构)",
    "judicial": "court or arbitration body (法院或仲裁机构)",
}

#: Anvil's and Hardhat's default development mnemonic: public knowledge, for local chains only.
DEV_MNEMONIC = "test test test test test test test test test test test junk"

#: Display names of the dev authorities (what the trust list shows a court).
DEV_DISPLAY_NAMES = {
    "notary": "公证处 Notary office (dev key)",
    "arbitration": "仲裁委员会 Arbitration commission (dev key)",
    "time-service": "授时中心 Time service (dev key)",
}
#: name -> (HD index, roles, endorser kind)
DEV_ACCOUNTS: dict[str, tuple[int, list[Role], str | None]] = {
    "admin": (0, ["admin"], None),
    "provider": (1, ["evidence_provider"], None),
    "notary": (2, ["endorser"], "notary"),
    "arbitration": (3, ["endorser"], "arbitration"),
    "time-service": (4, ["endorser"], "time_service"),
    "registrar": (5, ["registrar"], None),
    "reviewer": (6, ["reviewer"], None),
    "court": (7, ["judicial"], None),
    "outsider": (9, [], None),
    # parties that only sign consents (holders, transferees, pledgees): no roles
    "holder-a": (10, [], None),
    "holder-b": (11, [], None),
    "bank": (12, [], None),
}


class OperatorAccount(BaseModel):
    """One named account: a key this installation holds (the registry's own accounts; every party of a dev
    ledger), or only an address — a holder, transferee or pledgee who keeps its key in its own wallet and signs its
    consents there (issue #11 §3)."""

    name: str
    private_key: SecretStr | None = None
    address_: str | None = Field(default=None, alias="address", description="The account's address, when this "
                                 "installation holds no key for it.")
    roles: list[Role] = Field(default_factory=list)
    endorser_kind: str | None = None
    display_name: str | None = Field(default=None, description="Who the account is, as the trust list and "
                                     "documents name it (e.g. 天津市公证处).")

    @model_validator(mode="after")
    def _key_or_address(self) -> OperatorAccount:
        if self.private_key is None and not self.address_:
            raise ValueError(f"account {self.name}: give its private_key, or its address (a wallet-held key)")
        if self.private_key is None and self.address_ is not None:
            if not is_address(self.address_):
                raise ValueError(f"account {self.name}: {self.address_!r} is not an address")
            self.address_ = to_checksum_address(self.address_)
        return self

    @property
    def holds_key(self) -> bool:
        """Whether this installation can sign for the account."""
        return self.private_key is not None

    @property
    def signer(self) -> LocalAccount:
        if self.private_key is None:
            raise ConfigurationError(f"this installation holds no key for {self.name} ({self.address_}): it signs "
                                     "in its own wallet")
        account: LocalAccount = Account.from_key(self.private_key.get_secret_value())
        return account

    @property
    def address(self) -> str:
        return self.address_ if self.private_key is None and self.address_ else str(self.signer.address)


class AccountBook:
    """The accounts of one ledger installation, by name."""

    def __init__(self, accounts: list[OperatorAccount]) -> None:
        self._by_name = {a.name: a for a in accounts}

    @classmethod
    def load(cls, path: Path) -> AccountBook:
        if not path.exists():
            raise ConfigurationError(
                f"no accounts file at {path}: run `ledger chain up` for a local dev chain, "
                "or set LEDGER_ACCOUNTS to your operator accounts file"
            )
        try:
            raw = json.loads(path.read_text())
            accounts = [OperatorAccount(name=name, **entry) for name, entry in raw["accounts"].items()]
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            raise ConfigurationError(f"accounts file {path} is malformed: {exc}") from exc
        return cls(accounts)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._by_name.values())

    def get(self, name: str) -> OperatorAccount:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(sorted(self._by_name)) or "none"
            raise LedgerValueError(f"no account named {name!r} (known: {known})") from None

    def with_role(self, role: Role) -> list[OperatorAccount]:
        return [a for a in self._by_name.values() if role in a.roles]

    def first_with_role(self, role: Role) -> OperatorAccount:
        found = self.with_role(role)
        if not found:
            raise ConfigurationError(f"no account with role {role} in the accounts file")
        return found[0]


def add_wallet_account(path: Path, name: str, address: str) -> OperatorAccount:
    """Adds a party known only by its address (its key stays in its own wallet) to the accounts file."""
    raw = json.loads(path.read_text()) if path.exists() else {"accounts": {}}
    if name in raw["accounts"]:
        raise LedgerValueError(f"there is already an account named {name!r}")
    account = OperatorAccount(name=name, address=address)
    raw["accounts"][name] = {"address": account.address, "roles": []}
    write_private(path, json.dumps(raw, indent=2))
    return account


def write_dev_accounts(path: Path) -> None:
    """Writes the dev accounts file for a local chain, unless one exists."""
    if path.exists():
        return
    Account.enable_unaudited_hdwallet_features()
    accounts = {}
    for name, (index, roles, kind) in DEV_ACCOUNTS.items():
        acct = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
        accounts[name] = {"private_key": "0x" + bytes(acct.key).hex(), "roles": roles, "endorser_kind": kind,
                          "display_name": DEV_DISPLAY_NAMES.get(name)}
    doc = {"note": "development keys from the public dev mnemonic; never use them on a real network",
           "accounts": accounts}
    write_private(path, json.dumps(doc, indent=2))
