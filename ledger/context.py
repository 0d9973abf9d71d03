"""The ledger as one object: settings, chain client, accounts, deployment, database, services.

The CLI and the API both build one ``Ledger`` and take what they need from it; everything is created
lazily so a command that needs no chain never dials one.
"""

from __future__ import annotations

import threading
from functools import cached_property

from sqlalchemy.engine import Engine

from ledger.accounts import AccountBook
from ledger.chain.client import ChainClient
from ledger.chain.contract import ContractHandle
from ledger.chain.outbox import Outbox
from ledger.chain.sender import TransactionSender
from ledger.compiler import Toolchain
from ledger.config import Settings
from ledger.db import init_db, make_engine
from ledger.deployment import Deployment, Manifest, contract, load_deployment
from ledger.evidence import EvidenceService
from ledger.evidence.service import batch_completed
from ledger.indexer.sync import Indexer
from ledger.profiles import JurisdictionProfile, load_profiles
from ledger.proofs.checkpoints import CheckpointStore
from ledger.proofs.timestamping import TimeService
from ledger.registry import AssetRegistryClient
from ledger.registry_acts import act_completed
from ledger.workflow import Workflow, today_in_china


class Ledger:
    """Lazily wired services of one ledger installation."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._senders: dict[str, TransactionSender] = {}
        self._lock = threading.Lock()

    @cached_property
    def client(self) -> ChainClient:
        return ChainClient(self.settings.resolve_rpc_url())

    @property
    def accounts(self) -> AccountBook:
        """The accounts file, read again when it changes: a party added by ``ledger accounts add-party`` is known
        to a running server at once."""
        path = self.settings.accounts_path
        try:
            stat = path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        cached = self.__dict__.get("_accounts")
        if cached is None or cached[0] != stamp or stamp is None:
            self.__dict__["_accounts"] = (stamp, AccountBook.load(path))
        book: AccountBook = self.__dict__["_accounts"][1]
        return book

    @cached_property
    def manifest(self) -> Manifest:
        return Manifest(self.settings.manifest_file)

    @cached_property
    def toolchain(self) -> Toolchain:
        return Toolchain(self.settings.project_root)

    @cached_property
    def deployment(self) -> Deployment:
        """The deployment of the connected chain; refuses a reset chain (ledger.deployment)."""
        return load_deployment(self.manifest, self.client)

    @cached_property
    def engine(self) -> Engine:
        engine = make_engine(self.settings.database)
        init_db(engine)
        return engine

    def contract(self, name: str) -> ContractHandle:
        return contract(self.client, self.deployment, name)

    @cached_property
    def outbox(self) -> Outbox:
        """The journal of every transaction this installation sends (ledger.chain.outbox), with the completions
        of every kind it journals — whichever process finishes a transaction updates what it was for."""
        outbox = Outbox(self.engine, self.client, self.deployment.deployment_id)
        outbox.on_complete("batch", batch_completed)
        outbox.on_complete("application", lambda session, outcome: self.workflow.complete(session, outcome))
        outbox.on_complete("act", act_completed(self.deployment.deployment_id))
        return outbox

    @cached_property
    def evidence(self) -> EvidenceService:
        return EvidenceService(self.contract("EvidenceRegistry"), self.engine, self.deployment.deployment_id,
                               self.outbox, self.indexer)

    @cached_property
    def checkpoints(self) -> CheckpointStore:
        """Authority checkpoint signatures of this deployment."""
        deployment = self.deployment
        return CheckpointStore(self.engine, self.client, deployment.deployment_id,
                               {name: record.address for name, record in deployment.contracts.items()})

    @cached_property
    def indexer(self) -> Indexer:
        """The chain indexer of this deployment: every query reads its read models (ledger.indexer)."""
        return Indexer(self.engine, self.client, self.deployment)

    def catch_up(self) -> None:
        """Indexes what this process wrote, so a command's own writes are visible to the next read: after a
        command whose transactions were mined (``ledger serve`` follows the chain by itself)."""
        outbox = self.__dict__.get("outbox")
        if outbox is not None and outbox.last_mined_block is not None:
            self.indexer.run_once()

    @cached_property
    def time_service(self) -> TimeService | None:
        """The time-service role: RFC 3161 tokens from the configured TSA (None when no TSA is configured)."""
        url = self.settings.resolve_tsa_url()
        return TimeService(self.engine, self.deployment.deployment_id, url) if url else None

    @cached_property
    def assets(self) -> AssetRegistryClient:
        return AssetRegistryClient(self.contract("AssetRegistry"))

    @cached_property
    def profiles(self) -> dict[str, JurisdictionProfile]:
        """The jurisdiction profiles (built in, and LEDGER_PROFILES_DIR's)."""
        return load_profiles()

    @cached_property
    def workflow(self) -> Workflow:
        fixed = self.settings.today
        return Workflow(self.engine, self.assets, lambda: self.accounts, self.deployment.deployment_id, self.sender,
                        registry_name=self.settings.registry_name,
                        clock=(lambda: fixed) if fixed else today_in_china, outbox=self.outbox,
                        profiles=self.profiles)

    def follow(self, rpc_url: str) -> None:
        """Points the client (and so every service) at ``rpc_url``, where the same chain is now served;
        senders ask the node for their nonces again."""
        self.client.retarget(rpc_url)
        with self._lock:
            for sender in self._senders.values():
                sender.resync()

    def sender(self, account_name: str) -> TransactionSender:
        """One sender per account and process; its nonces come from the database (the outbox)."""
        with self._lock:
            if account_name not in self._senders:
                account = self.accounts.get(account_name)
                self._senders[account_name] = TransactionSender(self.client, account.signer, self.outbox)
            return self._senders[account_name]
