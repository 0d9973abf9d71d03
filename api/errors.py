"""HTTP status of each ledger error (the only place the API's statuses are decided).

The error tree lives in ``ledger/errors.py`` (a stable ``code`` and a user-facing message); an error's status is
that of its nearest class in this table, walking up its classes, so a new subclass inherits its parent's.
"""

from __future__ import annotations

from ledger.errors import (
    AlreadyAnchoredError,
    ConfigurationError,
    ContractRevertError,
    DeploymentError,
    ForbiddenError,
    LedgerError,
    LedgerValueError,
    NodeError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    RecognitionRefused,
    RequestTimeoutError,
    TimeStampError,
    ToolchainError,
    TransactionError,
    TransactionPendingError,
    UnauthorizedError,
    WorkflowError,
)
from ledger.filings import FilingRefused

STATUS: dict[type[LedgerError], int] = {
    LedgerError: 500,
    LedgerValueError: 422,
    ConfigurationError: 503,
    ToolchainError: 500,
    NodeError: 503,
    TimeStampError: 503,
    DeploymentError: 503,
    TransactionError: 502,
    TransactionPendingError: 503,
    ContractRevertError: 409,
    WorkflowError: 409,
    UnauthorizedError: 401,
    ForbiddenError: 403,
    AlreadyAnchoredError: 409,
    NotFoundError: 404,
    PayloadTooLargeError: 413,
    RateLimitedError: 429,
    RequestTimeoutError: 408,
    FilingRefused: 409,
    RecognitionRefused: 422,  # an untrusted, altered or not-valid recognition package (TJIFA §6.4.1.4)
}


def status_of(error: LedgerError) -> int:
    """The HTTP status for ``error``: its own class's, or its nearest ancestor's."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500
