"""Evidence use cases behind the API: idempotent anchor requests (issue #8 §6).

An anchor request may carry an ``Idempotency-Key``. The first request with a key records what it asked for; a
retry with the same key — after a timeout, a dropped connection, an API restart — gets the same digest's
anchor (waiting on the same ticket while it is in flight) instead of a duplicate anchor or a refusal. The same
key for a different request is refused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from ledger.context import Ledger
from ledger.db import session_scope
from ledger.errors import LedgerValueError
from ledger.evidence import AnchorReceipt
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
    result = ledger.evidence.verify(ask.digest, ask.algorithm)
    wanted_batch = ask.mode == "batch"
    return next((a for a in result.anchors if (a.batch is not None) == wanted_batch), None)
