"""Deploying the contracts and the deployment manifest.

The manifest (``<home>/manifest.json``) records, per chain id + genesis block hash, each contract's
address, deploy block and transaction, the compiler version and settings, and the runtime code hash.
Deploying again on the same chain reuses it. A chain whose genesis no longer matches — or whose contracts
have vanished — is a reset chain: it is refused with a message that says what to do, because the anchors
recorded on the old chain are not on it (ARCHITECTURE-BRIEF §Contracts).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ledger.accounts import AccountBook
from ledger.chain.client import ChainClient
from ledger.chain.contract import ContractHandle
from ledger.chain.sender import TransactionSender, TxRequest
from ledger.compiler import CompiledContract, Toolchain
from ledger.errors import ChainResetError, DeploymentError, LedgerValueError
from ledger.evidence import ENDORSER_ROLE, EVIDENCE_PROVIDER_ROLE, EndorserKind
from ledger.files import write_private
from ledger.hashing import keccak256
from ledger.profiles import JurisdictionProfile, load_profiles

#: Contracts of one deployment, in deployment order.
CONTRACTS = ("EvidenceRegistry", "AssetRegistry")
#: Accounts-file role names of the AssetRegistry roles (contracts/Common.sol).
ASSET_ROLES = {name: keccak256(f"{name.upper()}_ROLE".encode()) for name in ("registrar", "reviewer", "judicial")}


class ContractRecord(BaseModel):
    address: str
    deploy_block: int
    tx_hash: str
    runtime_code_hash: str
    compiler: dict[str, Any] = Field(description="solc version and settings that produced the bytecode")


class Deployment(BaseModel):
    """The contracts of one chain (chain id + genesis hash)."""

    deployment_id: str = Field(default_factory=lambda: uuid.uuid4().hex,
                               description="Scopes database records: a redeploy on a reset chain gets a new one "
                               "even when the reset chain has the same genesis hash.")
    chain_id: int
    genesis_hash: str
    deployer: str
    deployed_at: str
    contracts: dict[str, ContractRecord]
    abis: dict[str, list[dict[str, Any]]]

    @property
    def key(self) -> str:
        return chain_key(self.chain_id, self.genesis_hash)


def chain_key(chain_id: int, genesis_hash: str) -> str:
    return f"{chain_id}:{genesis_hash.lower()}"


class Manifest:
    """All deployments this ledger home knows, by chain key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"deployments": {}, "retired": []}
        data: dict[str, Any] = json.loads(self.path.read_text())
        return data

    def get(self, key: str) -> Deployment | None:
        entry = self._read()["deployments"].get(key)
        return Deployment.model_validate(entry) if entry else None

    def for_chain_id(self, chain_id: int) -> list[Deployment]:
        return [Deployment.model_validate(d) for d in self._read()["deployments"].values()
                if d["chain_id"] == chain_id]

    def put(self, deployment: Deployment) -> None:
        data = self._read()
        data["deployments"][deployment.key] = deployment.model_dump(mode="json")
        self._write(data)

    def retire(self, key: str, reason: str) -> None:
        """Moves a deployment out of the active set (kept for the record, never deleted)."""
        data = self._read()
        entry = data["deployments"].pop(key, None)
        if entry is not None:
            data.setdefault("retired", []).append(
                {"retired_at": datetime.now(UTC).isoformat(), "reason": reason, **entry}
            )
            self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_private(self.path, json.dumps(data, indent=2).encode())


def _reset_message(client: ChainClient, known: Deployment, why: str) -> str:
    return (
        f"the chain at {client.rpc_url} (chain id {client.chain_id}) is not the one this ledger deployed to: "
        f"{why}. It was probably reset, so anchors recorded on the old chain are not on it. "
        "Restore the old chain (e.g. its state file) to keep them, or run `ledger deploy --new-chain` "
        f"to retire deployment {known.key[:24]}... and deploy afresh."
    )


def load_deployment(manifest: Manifest, client: ChainClient) -> Deployment:
    """The deployment for the connected chain; refuses a reset chain or a missing deployment."""
    genesis = client.genesis_hash()
    key = chain_key(client.chain_id, genesis)
    deployment = manifest.get(key)
    if deployment is None:
        others = manifest.for_chain_id(client.chain_id)
        if others:
            raise ChainResetError(_reset_message(
                client, others[0], f"its genesis block is {genesis[:18]}..., the manifest records "
                f"{others[0].genesis_hash[:18]}..."))
        raise DeploymentError(f"no contracts deployed on chain {client.chain_id} at {client.rpc_url}: "
                              "run `ledger deploy`")
    for name, record in deployment.contracts.items():
        code = client.code(record.address)
        if "0x" + keccak256(code).hex() != record.runtime_code_hash:
            raise ChainResetError(_reset_message(
                client, deployment, f"{name} is no longer at {record.address} (its code is "
                f"{'gone' if not code else 'different'})"))
    return deployment


def _deploy_one(client: ChainClient, sender: TransactionSender, compiled: CompiledContract,
                constructor_args: list[Any]) -> ContractRecord:
    factory = client.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    data = bytes.fromhex(factory.constructor(*constructor_args).data_in_transaction[2:])
    gas = int(sender.estimate_gas(None, data) * 1.2)
    tx_hash = sender.send(TxRequest(to=None, data=data, gas=gas))
    receipt = client.wait_for_receipts([tx_hash])[0]
    if int(receipt["status"], 16) != 1 or not receipt.get("contractAddress"):
        raise DeploymentError(f"deploying {compiled.name} failed in transaction {tx_hash}")
    address = client.w3.to_checksum_address(receipt["contractAddress"])
    return ContractRecord(
        address=address, deploy_block=int(receipt["blockNumber"], 16), tx_hash=tx_hash,
        runtime_code_hash="0x" + keccak256(client.code(address)).hex(), compiler=compiled.compiler,
    )


def deploy(
    manifest: Manifest, client: ChainClient, accounts: AccountBook, toolchain: Toolchain,
    admin_delay: int, new_chain: bool = False,
) -> tuple[Deployment, bool]:
    """Deploys the contracts this chain lacks (reusing recorded ones), grants the accounts file's roles and
    sets the jurisdiction profiles; returns (deployment, whether anything was deployed)."""
    try:
        deployment: Deployment | None = load_deployment(manifest, client)
    except ChainResetError:
        if not new_chain:
            raise
        for old in manifest.for_chain_id(client.chain_id):
            manifest.retire(old.key, "chain reset acknowledged with `ledger deploy --new-chain`")
        deployment = manifest.get(chain_key(client.chain_id, client.genesis_hash()))
        if deployment is not None:  # same genesis, contracts gone
            manifest.retire(deployment.key, "contracts vanished; redeployed with --new-chain")
            deployment = None
    except DeploymentError:
        deployment = None
    admin = accounts.first_with_role("admin")
    sender = TransactionSender(client, admin.signer)
    if deployment is None:
        deployment = Deployment(
            chain_id=client.chain_id, genesis_hash=client.genesis_hash(), deployer=admin.address,
            deployed_at=datetime.now(UTC).isoformat(), contracts={}, abis={},
        )
    missing = [name for name in CONTRACTS if name not in deployment.contracts]
    if missing:
        compiled = toolchain.compile()
        for name in missing:  # each contract is recorded as soon as it exists: a rerun resumes
            deployment.contracts[name] = _deploy_one(client, sender, compiled[name], [admin_delay, admin.address])
            deployment.abis[name] = compiled[name].abi
            manifest.put(deployment)
    grant_roles(client, deployment, accounts, sender)
    sync_profiles(client, deployment, load_profiles(), sender)
    return deployment, bool(missing)


def contract(client: ChainClient, deployment: Deployment, name: str) -> ContractHandle:
    return ContractHandle(client, name, deployment.abis[name], deployment.contracts[name].address)


def grant_roles(client: ChainClient, deployment: Deployment, accounts: AccountBook,
                sender: TransactionSender) -> None:
    """Makes the on-chain roles match the accounts file (grants only; revocation is explicit)."""
    registry = contract(client, deployment, "EvidenceRegistry")
    assets = contract(client, deployment, "AssetRegistry")
    for account in accounts:
        for role_name, role in ASSET_ROLES.items():
            if role_name in account.roles and not assets.call("hasRole", role, account.address):
                assets.transact(sender, "grantRole", role, account.address)
        if "evidence_provider" in account.roles and not registry.call(
                "hasRole", EVIDENCE_PROVIDER_ROLE, account.address):
            registry.transact(sender, "grantRole", EVIDENCE_PROVIDER_ROLE, account.address)
        if "endorser" in account.roles and not registry.call("hasRole", ENDORSER_ROLE, account.address):
            kind = EndorserKind.__members__.get((account.endorser_kind or "").upper())
            if kind is None:
                choices = ", ".join(k.name.lower() for k in EndorserKind)
                raise LedgerValueError(f"account {account.name} is an endorser but its endorser_kind "
                                       f"{account.endorser_kind!r} is not one of {choices}")
            registry.transact(sender, "registerEndorser", account.address, int(kind))


def sync_profiles(client: ChainClient, deployment: Deployment, profiles: dict[str, JurisdictionProfile],
                  sender: TransactionSender) -> list[str]:
    """Sets every jurisdiction profile whose on-chain parameters differ from its data file; returns their codes."""
    assets = contract(client, deployment, "AssetRegistry")
    changed = []
    for profile in profiles.values():
        wanted = profile.on_chain()
        if tuple(assets.call("profileOf", profile.id)) != wanted:
            assets.transact(sender, "setProfile", profile.id, wanted)
            changed.append(profile.code)
    return changed
