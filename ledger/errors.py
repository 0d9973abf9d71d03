"""One exception tree for the whole ledger.

Every error carries a ``user_message`` fit to show a person as is, and a stable machine-readable
``code`` the API returns. The API maps each class to one HTTP status (``api/errors.py``); the CLI prints
``user_message`` on one line and exits non-zero.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""

    code = "ledger_error"

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class LedgerValueError(LedgerError, ValueError):
    """Input is malformed (a digest of the wrong length, an unknown algorithm ...)."""

    code = "invalid_input"


class ConfigurationError(LedgerError):
    """Configuration is missing or inconsistent (no accounts file, no RPC endpoint ...)."""

    code = "configuration_error"


class ToolchainError(LedgerError):
    """The offline Solidity toolchain (npm solc, node) is missing or failed."""

    code = "toolchain_error"


class NodeError(LedgerError):
    """The local chain node could not be started, stopped or reached."""

    code = "node_unavailable"


class TimeStampError(LedgerError):
    """The time-stamping authority (RFC 3161 TSA) did not answer, or answered with no usable token."""

    code = "tsa_unavailable"


class ChainUnavailableError(NodeError):
    """The JSON-RPC endpoint did not answer."""

    code = "chain_unavailable"


class DeploymentError(LedgerError):
    """No usable deployment for the connected chain."""

    code = "not_deployed"


class ChainResetError(DeploymentError):
    """The connected chain is not the one the deployment manifest records (its genesis changed or its
    contracts vanished): a reset chain. Anchors recorded on the old chain are not on this one."""

    code = "chain_reset"


class DeploymentChangedError(DeploymentError):
    """The chain answers and is intact, but the manifest now records another deployment for it than the one
    this process serves (``ledger deploy --new-chain`` ran meanwhile): restart to serve the new one."""

    code = "deployment_changed"


class TransactionError(LedgerError):
    """A transaction was rejected by the chain or reverted."""

    code = "transaction_failed"


class TransactionPendingError(LedgerError):
    """A transaction is stored and sent but not mined yet: it stays in the outbox and completes later; the
    caller may retry (the API answers 503 with Retry-After)."""

    code = "transaction_pending"

    def __init__(self, user_message: str, tx_hashes: list[str], retry_after: int = 5) -> None:
        super().__init__(user_message)
        self.tx_hashes = tx_hashes
        self.retry_after = retry_after


class ContractRevertError(TransactionError):
    """A contract refused the call with a custom error; ``error_name`` and ``args`` identify it."""

    code = "contract_refused"

    def __init__(self, user_message: str, error_name: str, args: dict[str, object]) -> None:
        super().__init__(user_message)
        self.error_name = error_name
        self.error_args = args


class WorkflowError(LedgerError):
    """A step that the application's state or the rules do not allow."""

    code = "workflow_refused"


class ConsentRequiredError(WorkflowError):
    """A registration waits for consents its parties sign in their own wallets (issue #11 §3); ``consents``
    lists them (id, signer, EIP-712 typed data)."""

    code = "consent_required"

    def __init__(self, user_message: str, consents: list[dict[str, object]]) -> None:
        super().__init__(user_message)
        self.consents = consents


class UnauthorizedError(LedgerError):
    """No or an unknown credential was presented."""

    code = "unauthorized"


class ForbiddenError(LedgerError):
    """The credential is valid but its account lacks the role the operation needs."""

    code = "forbidden"


class AlreadyAnchoredError(LedgerError):
    """The digest is already anchored (anchors are unique and immutable)."""

    code = "already_anchored"


class NotFoundError(LedgerError):
    """The thing asked for does not exist."""

    code = "not_found"


class PayloadTooLargeError(LedgerError):
    """A request body is larger than the limit for its route (refused before it is read)."""

    code = "payload_too_large"


class RateLimitedError(LedgerError):
    """Too many requests of one kind from one client address: the public's writes and uploads are rationed so that
    nobody can fill the chain or the disk on the registry's account."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RequestTimeoutError(LedgerError):
    """A request body stopped arriving: nothing came for longer than the body timeout."""

    code = "request_timeout"


class RecognitionRefused(LedgerError):
    """A recognition package (互认, TJIFA §6.4.1.4) this platform must not rely on: from a platform it does not
    trust, altered or forged (``check`` names the failing check), or proving a registration that is not valid now
    (superseded, cancelled, expired, suspended, revoked, under objection)."""

    code = "recognition_refused"

    def __init__(self, user_message: str, check: str) -> None:
        super().__init__(user_message)
        self.check = check
