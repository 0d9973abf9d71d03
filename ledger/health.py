"""Whether the chain a long-running process serves is still there, and still the same chain.

A server outlives the node it talks to: ``ledger chain down && ledger chain up`` may bring the local chain
back on another port, and a node whose state was lost comes back empty on the same port — genesis the same
or not, the contracts gone (ARCHITECTURE-BRIEF §Contracts: a reset chain must be refused, since the anchors
recorded on the old chain are not on it). ``ChainWatch`` checks the connected chain against the deployment
manifest (``ledger.deployment.load_deployment``: genesis hash and every contract's runtime code hash) when
asked, periodically and after a failure; when the chain does not answer it re-reads where the node is
(``Settings.resolve_rpc_url``: ``LEDGER_RPC_URL`` or the ``node.json`` written by ``ledger chain up``) and
follows it. Its verdict is one of:

- ``ok``: the chain answers and is the deployed one;
- ``degraded``: the chain does not answer (or no endpoint is known) — may heal by itself;
- ``refused``: the chain answers but is not the deployed one (``chain_reset``), nothing is deployed on it
  (``not_deployed``) or another deployment replaced this one (``deployment_changed``) — needs an operator.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.chain.client import ChainClient
from ledger.deployment import load_deployment
from ledger.errors import (
    ChainResetError,
    ChainUnavailableError,
    ConfigurationError,
    DeploymentChangedError,
    DeploymentError,
    LedgerError,
    TransactionError,
)

if TYPE_CHECKING:
    from ledger.context import Ledger

log = logging.getLogger("ledger.health")

#: A verdict younger than this is reused by ``ChainWatch.current`` (requests do not each cost a check).
MAX_AGE = 1.0
#: Seconds a check waits for the node: a hung node makes the verdict "degraded" quickly, not in 30 s.
PROBE_TIMEOUT = 5.0


@dataclass(frozen=True)
class ChainStatus:
    """One verdict on the connected chain."""

    status: str  # "ok" | "degraded" | "refused"
    code: str  # "ok" or the LedgerError code that explains it
    reason: str
    rpc_url: str | None
    block: int | None
    checked_at: float  # wall clock (time.time)
    monotonic: float  # when, for freshness

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "code": self.code, "reason": self.reason, "rpc_url": self.rpc_url,
                "block": self.block, "checked_at": self.checked_at}


class ChainWatch:
    """Checks the ledger's chain and follows its node; thread-safe."""

    def __init__(self, ledger: Ledger, max_age: float = MAX_AGE) -> None:
        self.ledger = ledger
        self.max_age = max_age
        self._lock = threading.Lock()
        self._last: ChainStatus | None = None

    @property
    def last(self) -> ChainStatus | None:
        return self._last

    def invalidate(self) -> None:
        """Forgets the last verdict: the next ``current`` checks again (after a failed chain call)."""
        self._last = None

    def fresh(self) -> ChainStatus | None:
        """The last verdict if it is fresh (no chain call: safe on the event loop), else None."""
        last = self._last
        if last is not None and time.monotonic() - last.monotonic < self.max_age:
            return last
        return None

    def current(self) -> ChainStatus:
        """The last verdict if it is fresh, else a new check."""
        last = self._last
        if last is not None and time.monotonic() - last.monotonic < self.max_age:
            return last
        return self.check(newer_than=last.monotonic if last else None)

    def check(self, newer_than: float | None = None) -> ChainStatus:
        """Checks the chain now (re-reading where the node is if it does not answer)."""
        with self._lock:
            last = self._last
            if newer_than is not None and last is not None and last.monotonic > newer_than:
                return last  # another thread checked while this one waited
            status = self._check()
            if last is None or (last.status, last.code) != (status.status, status.code):
                level = logging.INFO if status.ok else logging.WARNING
                log.log(level, "chain %s (%s): %s", status.status, status.code, status.reason)
            self._last = status
            return status

    def _check(self) -> ChainStatus:
        client = self.ledger.client
        status = self._probe()
        if status.code != ChainUnavailableError.code:
            return status
        try:
            url = self.ledger.settings.resolve_rpc_url()
        except ConfigurationError as exc:
            return self._verdict("degraded", exc, client.rpc_url)
        if url == client.rpc_url:
            return status
        log.info("chain endpoint moved: %s -> %s", client.rpc_url, url)
        self.ledger.follow(url)
        return self._probe()

    def _probe(self) -> ChainStatus:
        # a client of its own: a short timeout, and nothing cached (not even the chain id) from the last check
        client = ChainClient(self.ledger.client.rpc_url, timeout=PROBE_TIMEOUT)
        try:
            expected = self.ledger.deployment
            deployment = load_deployment(self.ledger.manifest, client)
            if deployment.deployment_id != expected.deployment_id:
                raise DeploymentChangedError(
                    f"the manifest now records deployment {deployment.deployment_id} for this chain, this "
                    f"server serves {expected.deployment_id}: restart it to serve the new deployment")
            block = client.block_number()
        except ChainUnavailableError as exc:
            return self._verdict("degraded", exc, client.rpc_url)
        except DeploymentError as exc:  # chain_reset, not_deployed, deployment_changed
            return self._verdict("refused", exc, client.rpc_url)
        except TransactionError as exc:  # the node answered with an error (e.g. still loading)
            return self._verdict("degraded", ChainUnavailableError(exc.user_message), client.rpc_url)
        return ChainStatus("ok", "ok", f"chain {client.chain_id} answers with the deployed contracts",
                           client.rpc_url, block, time.time(), time.monotonic())

    @staticmethod
    def _verdict(status: str, exc: LedgerError, rpc_url: str) -> ChainStatus:
        code = ChainUnavailableError.code if isinstance(exc, ConfigurationError) else exc.code
        return ChainStatus(status, code, exc.user_message, rpc_url, None, time.time(), time.monotonic())


def error_of(status: ChainStatus) -> LedgerError:
    """The error a request meets while the chain is not ok (HTTP status from ``ledger.errors``)."""
    classes: dict[str, type[LedgerError]] = {
        ChainResetError.code: ChainResetError, DeploymentChangedError.code: DeploymentChangedError,
        DeploymentError.code: DeploymentError,
    }
    return classes.get(status.code, ChainUnavailableError)(status.reason)
