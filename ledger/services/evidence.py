"""Evidence use cases behind the API: idempotent anchor requests (issue #8 §6).

An anchor request may carry an ``Idempotency-Key``. The first request with a key records what it asked for; a
retry with the same key — after a timeout, a dropped connection, an API restart — gets the same digest's
anchor (waiting on the same ticket while it is in flight) instead of a duplicate anchor or a refusal. The same
key for a different request is refused. A retry whose first request stored its transaction and was killed
before answering finds that stored anchor in the way (409 already anchored): it waits for the journal to
send it (``stored_anchor``) and answers with it.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from ledger.context import Ledger
from ledger.db import session_scope
from ledger.errors import LedgerValueError, TransactionPendingError
from ledger.evidence import AnchorReceipt, Verification
from ledger.hashing import HashAlgorithm, to_hex
from ledger.models import IdempotentRequest

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class AnchorAsk:
    digest: bytes
    algorithm: HashAlgorithm
    mode: str

    def fingerprint(self) -> str:
        return hashlib.sha256(f"{to_hex(self.digest)}|{int(self.algorithm)}|{self.mode}".encode()).hexdigest()


def claim_key(ledger: Ledger, account: str, key: str | None, ask: AnchorAsk) -> bool:
    """Records ``key`` for this request; True when it was already recorded for the same request (a retry).
    Refuses a key reused for a different request."""
    if key is None:
        return False
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise LedgerValueError(f"an Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable characters")
    fingerprint = ask.fingerprint()
    try:
        with session_scope(ledger.engine) as session:
            existing = session.get(IdempotentRequest, (account, key))
            if existing is None:
                session.add(IdempotentRequest(account=account, key=key, fingerprint=fingerprint,
                                              digest=to_hex(ask.digest), hash_algorithm=int(ask.algorithm),
                                              mode=ask.mode))
                return False
    except IntegrityError:  # a concurrent first use of the same key: this one is the retry
        pass
    with session_scope(ledger.engine) as session:
        existing = session.get(IdempotentRequest, (account, key))
        assert existing is not None
        if existing.fingerprint != fingerprint:
            raise LedgerValueError(f"Idempotency-Key {key!r} was used for another request (digest {existing.digest})")
    return True


def existing_anchor(ledger: Ledger, ask: AnchorAsk) -> AnchorReceipt | None:
    """The anchor a retried request already obtained: the single anchor or batch membership of its digest."""
    return _of_mode(ledger.evidence.verify(ask.digest, ask.algorithm), ask)


def _of_mode(result: Verification, ask: AnchorAsk) -> AnchorReceipt | None:
    wanted_batch = ask.mode == "batch"
    return next((a for a in result.anchors if (a.batch is not None) == wanted_batch), None)


def stored_anchor(ledger: Ledger, ask: AnchorAsk, timeout: float, poll: float = 0.2) -> AnchorReceipt | None:
    """For a retry refused as already anchored: the anchor the first request stored, once the journal has it on
    chain. None if the digest is neither anchored nor stored (the refusal then stands). While a stored batch
    holds it, or the journal has transactions still to mine (a single anchor re-sent after a chain rollback may
    sit in the node's pool: the refusal saw it, the chain's head does not hold it yet), it waits; still not on
    chain after ``timeout`` seconds, it raises TransactionPendingError (503 + Retry-After; retry later)."""
    deadline = time.monotonic() + timeout
    while True:
        result = ledger.evidence.verify(ask.digest, ask.algorithm)
        found = _of_mode(result, ask)
        if found is not None:
            return found
        if not result.pending and not ledger.outbox.status().pending:
            return None
        if time.monotonic() > deadline:
            where = result.pending[0] if result.pending else "its transaction is in the journal"
            raise TransactionPendingError(f"{to_hex(ask.digest)} is stored for anchoring but not on chain yet "
                                          f"({where}); retry with the same Idempotency-Key", [])
        time.sleep(poll)
