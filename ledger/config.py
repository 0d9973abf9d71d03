"""Settings, read from the environment (``LEDGER_*``) with defaults for a local dev setup.

Nothing here assumes Anvil: a production deployment sets ``LEDGER_RPC_URL`` to its Besu (or any other
JSON-RPC) endpoint and ``LEDGER_ACCOUNTS`` to its accounts file.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field

from ledger.errors import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseModel):
    """Where the ledger keeps its data and how it reaches the chain and the database."""

    home: Path = Field(description="Data directory: chain state, manifest, accounts, SQLite database.")
    rpc_url: str | None = Field(default=None, description="JSON-RPC endpoint; default: the local node.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in home.")
    accounts_file: Path | None = Field(default=None, description="Operator accounts; default home/accounts.json.")
    project_root: Path = Field(default=PROJECT_ROOT, description="Holds contracts/ and node_modules/.")
    batch_interval: float = Field(default=1.0, gt=0, description="Seconds between batch roots.")
    batch_max_size: int = Field(default=200_000, gt=0, description="Digests per batch root at most.")
    admin_delay: int = Field(default=86_400, ge=0, description="Seconds an admin transfer must wait.")
    today: date | None = Field(default=None, description="Workflow calendar date override (demos and tests).")
    registry_name: str = Field(default="Data-asset registry (dev)", description="Name printed on certificates.")
    public_url: str = Field(default="http://127.0.0.1:8000", description="Base URL of the public verify pages.")
    checkpoint_interval: float = Field(default=30.0, ge=0, description="Seconds between checkpoint signatures "
                                       "by the endorser keys this installation holds (0 = off).")
    anchor_wait: float = Field(default=120.0, gt=0, description="Seconds an anchor request waits for its batch "
                               "to be mined before answering 503 (the batch still completes).")
    keeper_interval: float = Field(default=5.0, gt=0, description="Seconds between the API's outbox passes "
                                   "(finish stored transactions, detect chain rollbacks).")
    index_interval: float = Field(default=1.0, gt=0, description="Seconds between the API's indexing passes "
                                  "(it follows the chain into the read models every query reads).")
    duties_interval: float = Field(default=60.0, ge=0, description="Seconds between the API's passes over the "
                                   "duties time makes due (lapses, expiries, notice ends, reminders; 0 = off).")
    access_anchor_interval: float = Field(default=300.0, ge=0, description="Seconds between anchors of the "
                                          "access log's head on chain (0 = off).")
    checkpoint_wait: float = Field(default=60.0, ge=0, description="Seconds a bundle export waits for the "
                                   "authorities' checkpoint when this installation holds no endorser key.")
    trust_threshold: int = Field(default=2, ge=1, description="Authorities that must sign a block, as the "
                                 "published trust list states it (capped at the number of authorities).")
    max_json_bytes: int = Field(default=64 * 1024, gt=0, description="Largest JSON request body in bytes; "
                                "a larger one is answered 413 before it is read.")
    max_upload_bytes: int = Field(default=1 << 30, gt=0, description="Largest file upload in bytes (routes "
                                  "that hash a file as it streams); a larger one is answered 413.")
    body_timeout: float = Field(default=30.0, gt=0, description="Seconds a request body may stall (no bytes "
                                "arriving) before the server answers 408 and closes the connection.")
    public_objections_per_hour: int = Field(default=20, ge=0, description="Objections one client address may "
                                            "file through the public notice page per hour (each anchors its "
                                            "evidence on the registry's account; 0 = no limit).")
    public_uploads_per_minute: int = Field(default=120, ge=0, description="Files one client address may have "
                                           "hashed by the server per minute (the no-script verify fallback; 0 = "
                                           "no limit).")
    chain_check_interval: float = Field(default=5.0, gt=0, description="Seconds between the API's checks that "
                                        "its chain answers and is the deployed one (ledger.health).")
    tsa_url: str | None = Field(default=None, description="RFC 3161 time-stamping authority the time service "
                                "asks for tokens over checkpoints and digests; default: the development TSA "
                                "`ledger tsa up` started, else none (bundles then carry no trusted time).")
    peers_dir: Path | None = Field(default=None, description="Trusted peer platforms for mutual recognition "
                                   "(互认): their trust lists, <name>.json, with optional <name>.tsa.pem and "
                                   "<name>.rpc; default home/peers.")
    recognition_max_age: float = Field(default=30.0, gt=0, description="Days a recognition package's proven "
                                       "registry state may be old and still be relied on ([derived]).")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from ``LEDGER_*`` variables; keyword overrides win."""
        env = os.environ
        values: dict[str, object] = {"home": Path(env.get("LEDGER_HOME", ".ledger")).resolve()}
        for key, var in (
            ("rpc_url", "LEDGER_RPC_URL"),
            ("database_url", "LEDGER_DATABASE_URL"),
            ("accounts_file", "LEDGER_ACCOUNTS"),
            ("project_root", "LEDGER_PROJECT_ROOT"),
            ("batch_interval", "LEDGER_BATCH_INTERVAL"),
            ("batch_max_size", "LEDGER_BATCH_MAX_SIZE"),
            ("admin_delay", "LEDGER_ADMIN_DELAY"),
            ("today", "LEDGER_TODAY"),
            ("registry_name", "LEDGER_REGISTRY_NAME"),
            ("public_url", "LEDGER_PUBLIC_URL"),
            ("checkpoint_interval", "LEDGER_CHECKPOINT_INTERVAL"),
            ("checkpoint_wait", "LEDGER_CHECKPOINT_WAIT"),
            ("anchor_wait", "LEDGER_ANCHOR_WAIT"),
            ("keeper_interval", "LEDGER_KEEPER_INTERVAL"),
            ("index_interval", "LEDGER_INDEX_INTERVAL"),
            ("duties_interval", "LEDGER_DUTIES_INTERVAL"),
            ("access_anchor_interval", "LEDGER_ACCESS_ANCHOR_INTERVAL"),
            ("trust_threshold", "LEDGER_TRUST_THRESHOLD"),
            ("max_json_bytes", "LEDGER_MAX_JSON_BYTES"),
            ("max_upload_bytes", "LEDGER_MAX_UPLOAD_BYTES"),
            ("body_timeout", "LEDGER_BODY_TIMEOUT"),
            ("chain_check_interval", "LEDGER_CHAIN_CHECK_INTERVAL"),
            ("public_objections_per_hour", "LEDGER_PUBLIC_OBJECTIONS_PER_HOUR"),
            ("public_uploads_per_minute", "LEDGER_PUBLIC_UPLOADS_PER_MINUTE"),
            ("tsa_url", "LEDGER_TSA_URL"),
            ("peers_dir", "LEDGER_PEERS_DIR"),
            ("recognition_max_age", "LEDGER_RECOGNITION_MAX_AGE"),
        ):
            if env.get(var):
                values[key] = env[var]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)

    @property
    def node_file(self) -> Path:
        """Where ``ledger chain up`` records the local node it started."""
        return self.home / "node.json"

    @property
    def manifest_file(self) -> Path:
        """The deployment manifest (per chain id + genesis hash)."""
        return self.home / "manifest.json"

    @property
    def accounts_path(self) -> Path:
        return self.accounts_file or self.home / "accounts.json"

    @property
    def database(self) -> str:
        """The database URL in force."""
        return self.database_url or f"sqlite:///{self.home / 'ledger.db'}"

    @property
    def peers_path(self) -> Path:
        """Where the trusted peer platforms' trust lists are (mutual recognition, ledger.proofs.recognition)."""
        return self.peers_dir or self.home / "peers"

    @property
    def tsa_file(self) -> Path:
        """Where ``ledger tsa up`` records the development TSA it started."""
        return self.home / "tsa.json"

    def resolve_tsa_url(self) -> str | None:
        """The configured TSA, else the development TSA of this home if it is running, else None."""
        if self.tsa_url:
            return None if self.tsa_url == "none" else self.tsa_url
        if self.tsa_file.exists():
            from ledger.devtsa import LocalTsa  # its HTTP client only when a local TSA is asked for

            info = LocalTsa(self.home).info()
            return info.url if info else None
        return None

    def resolve_rpc_url(self) -> str:
        """The configured endpoint, else the local node started by ``ledger chain up``."""
        if self.rpc_url:
            return self.rpc_url
        if self.node_file.exists():
            node = json.loads(self.node_file.read_text())
            return str(node["rpc_url"])
        raise ConfigurationError(
            "no chain endpoint: run `ledger chain up` to start the local chain, "
            "or set LEDGER_RPC_URL to a JSON-RPC endpoint"
        )
