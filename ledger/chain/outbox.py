"""The outbox: a journal of every transaction the ledger sends (REGISTRATION_RULES §6.4 nothing acknowledged
may be lost; §6.5 continuity).

Each transaction is *stored before it is sent*: in one database transaction its nonce is allocated (nonces
have one owner, the database — two processes relaying for one account never take the same nonce), it is
signed, and the signed bytes are stored with what they are for (``ref``, e.g. ``batch:12`` or
``application:…``) together with whatever the caller writes in the same session (a batch's leaves, an
application's certificate). Only then is it sent. From the journal:

- ``wait`` records a mined transaction's block number and hash, and runs the completion callback registered
  for its ``ref`` kind in the same database transaction (a batch becomes anchored, an application registered);
- ``resume`` finishes what a crash interrupted: it records receipts, re-sends stored transactions the node has
  not seen, re-signs with a fresh nonce a transaction whose nonce another transaction took, and marks one
  failed (with the reason, filling its nonce so later ones are not stuck) when the chain refuses it;
- ``check_rollback`` notices a chain that lost blocks (a recorded block hash differs, or the head is below a
  recorded block — Anvil killed before it saved its state, a reorg): the transactions of the lost blocks go
  back to pending, and ``resume`` sends them again — the same signed bytes, so the same transaction hashes.

Every repair is written to ``chain_intent_event``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from sqlalchemy import case, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult, Engine
from sqlmodel import Session, col, select

from ledger.chain.client import ChainClient, RpcError
from ledger.chain.tx import TxRequest, fee_fields, sign_transaction
from ledger.db import session_scope
from ledger.errors import TransactionError, TransactionPendingError
from ledger.hashing import keccak256, to_hex
from ledger.models import ChainIntent, ChainIntentEvent, NonceCounter, utcnow

log = logging.getLogger(__name__)
#: Node answers to a re-send that mean "it is already in (or past) the pool": nothing to do.
_ALREADY = ("already known", "known transaction", "already imported", "nonce too low", "already in")
#: Node answers that mean the stored transaction's fee no longer suffices: re-sign it with current fees.
_UNDERPRICED = ("underpriced", "max fee per gas less than block base fee", "fee cap", "feecap")
MAX_SEND_ATTEMPTS = 5


@dataclass
class Outcome:
    """How an intent ended: mined (``receipt``; ``ok`` unless it reverted) or failed (``error``)."""

    intent: ChainIntent
    receipt: dict[str, Any] | None = None
    block_time: int | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.receipt is not None and int(self.receipt["status"], 16) == 1


#: Completion callback for one ``ref`` kind: runs inside the database transaction that records the outcome.
Completion = Callable[[Session, Outcome], None]


@dataclass
class Rollback:
    """A chain that lost blocks the journal had recorded."""

    from_block: int
    intents: int
    detail: str


@dataclass
class JournalStatus:
    pending: int = 0
    failed: int = 0
    last_rollback: Rollback | None = None
    oldest_pending_tx: str | None = None
    failures: list[str] = field(default_factory=list)


def _kind(ref: str) -> str:
    return ref.split(":", 1)[0]


class Outbox:
    """The transaction journal of one deployment."""

    def __init__(self, engine: Engine, client: ChainClient, deployment_id: str) -> None:
        self.engine = engine
        self.client = client
        self.deployment_id = deployment_id
        self._completions: dict[str, Completion] = {}
        self._keys: dict[str, LocalAccount] = {}
        self._lock = threading.Lock()
        self.last_rollback: Rollback | None = None
        #: the highest block in which this process saw one of its journaled transactions mined
        self.last_mined_block: int | None = None
        #: ids of intents this process staged and has not sent yet (``heal`` does not take them for lost)
        self._unsent: set[int] = set()
        #: whether ``heal`` repairs the journal itself; False in a worker of ``ledger serve --workers N`` that does
        #: not lead: the gap it sees is most often a transaction another worker staged and is sending, and
        #: repairs are the leading worker's keeper's (one repair pass at a time, never two re-signing one intent)
        self.repairs = True

    def on_complete(self, kind: str, callback: Completion) -> None:
        """Registers what to do when an intent whose ``ref`` starts with ``kind:`` is mined or fails."""
        self._completions[kind] = callback

    def know_key(self, account: LocalAccount) -> None:
        """A key the outbox may use to re-sign this account's stored transactions."""
        self._keys[str(account.address).lower()] = account

    # --- staging --------------------------------------------------------------------------------------------

    def _allocate(self, session: Session, address: str, count: int, node_pending: int) -> int:
        """Takes ``count`` consecutive nonces for ``address`` (never below the node's pending nonce)."""
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(NonceCounter).values(deployment=self.deployment_id, address=address,
                                                    next_nonce=node_pending).on_conflict_do_nothing())
        current = col(NonceCounter.next_nonce)
        result = session.execute(
            update(NonceCounter)
            .where(col(NonceCounter.deployment) == self.deployment_id, col(NonceCounter.address) == address)
            .values(next_nonce=case((current > node_pending, current), else_=node_pending) + count)
            .returning(col(NonceCounter.next_nonce)))
        after = int(result.scalar_one())
        session.expire_all()
        return after - count

    def heal(self, account: LocalAccount) -> None:
        """Before new nonces are taken for ``account``: if the node knows fewer of its transactions than the
        journal allocated (a node restarted without its mempool, or one that lost blocks after a kill), the
        journal's transactions are repaired first — a rollback detected, the pending ones sent again in nonce
        order — so a new transaction never waits behind a gap that nothing would fill. Call it outside any
        database transaction of the caller (``stage`` does, when it owns the transaction)."""
        self.know_key(account)
        address = str(account.address)
        with Session(self.engine) as db:
            counter = db.get(NonceCounter, (self.deployment_id, address))
        if counter is None:
            return
        node_pending = int(self.client.request("eth_getTransactionCount", [address, "pending"]), 16)
        if node_pending >= counter.next_nonce:
            return
        with Session(self.engine) as db:  # the first nonce the node lacks: just staged by another thread, or lost?
            first = db.exec(select(ChainIntent).where(ChainIntent.deployment == self.deployment_id,
                                                      ChainIntent.sender == address,
                                                      ChainIntent.nonce == node_pending)
                            .order_by(col(ChainIntent.id).desc())).first()
        if first is not None and first.state == "pending" and first.id in self._unsent:
            return  # staged by this process and about to be sent: not a gap
        if not self.repairs:  # the leader's keeper repairs within its interval; the new transaction waits for it
            log.info("the node knows %d transaction(s) of %s, the journal allocated %d: left to the leading worker",
                     node_pending, address, counter.next_nonce)
            return
        log.warning("the node knows %d transaction(s) of %s, the journal allocated %d: repairing first",
                    node_pending, address, counter.next_nonce)
        self.keep()

    def stage(self, account: LocalAccount, requests: Sequence[TxRequest], fees: dict[str, int], *, ref: str = "",
              session: Session | None = None) -> list[ChainIntent]:
        """Allocates nonces, signs and stores ``requests`` without sending them. With ``session`` the rows join
        the caller's database transaction (committed with whatever else it writes; the caller heals first);
        otherwise they are committed here."""
        if session is None:
            self.heal(account)
        self.know_key(account)
        address = str(account.address)
        node_pending = int(self.client.request("eth_getTransactionCount", [address, "pending"]), 16)
        chain_id = self.client.chain_id

        def write(db: Session) -> list[ChainIntent]:
            first = self._allocate(db, address, len(requests), node_pending)
            intents = []
            for i, request in enumerate(requests):
                raw = sign_transaction(account, chain_id, request, first + i, fees)
                intent = ChainIntent(deployment=self.deployment_id, purpose=request.label, ref=ref, sender=address,
                                     nonce=first + i, to=request.to, data=request.data, gas=request.gas,
                                     raw_tx=raw, tx_hash=to_hex(keccak256(raw)))
                db.add(intent)
                intents.append(intent)
            db.flush()
            self._unsent.update(i.id for i in intents if i.id is not None)
            return intents

        if session is not None:
            return write(session)
        with session_scope(self.engine) as db:
            intents = write(db)
            for intent in intents:
                db.refresh(intent)
                db.expunge(intent)
        return intents

    # --- sending and waiting ----------------------------------------------------------------------------------

    def send(self, intents: Sequence[ChainIntent]) -> None:
        """Sends stored transactions; one the node already has is fine. A refusal is recorded and raised — the
        intent stays in the journal, and ``resume`` tries again."""
        if not intents:
            return
        try:
            answers = self.client.send_raw([bytes(i.raw_tx) for i in intents])
        finally:  # sent, or tried: from now on a gap at their nonces is the node's to explain
            self._unsent.difference_update(i.id for i in intents if i.id is not None)
        refused = [(i, a) for i, a in zip(intents, answers, strict=True) if isinstance(a, RpcError)
                   and not any(text in a.rpc_message.lower() for text in _ALREADY)]
        if refused:
            with session_scope(self.engine) as db:
                for intent, answer in refused:
                    db.add(ChainIntentEvent(intent_id=intent.id, action="send_refused",  # type: ignore[arg-type]
                                            detail=answer.rpc_message))
            first = refused[0][1]
            raise TransactionError(f"the node refused {len(refused)} of {len(intents)} transaction(s): "
                                   f"{first.rpc_message} (they stay in the outbox)")

    def poll(self, tx_hashes: Sequence[str]) -> dict[str, dict[str, Any]]:
        """One look for receipts: those mined are recorded (with their completion callbacks) and returned."""
        if not tx_hashes:
            return {}
        answers = self.client.batch([("eth_getTransactionReceipt", [h]) for h in tx_hashes])
        for answer in answers:
            if isinstance(answer, RpcError):
                raise answer
        mined = {h: a for h, a in zip(tx_hashes, answers, strict=True) if isinstance(a, dict)}
        if mined:
            self._record_mined(list(mined.values()))
        return mined

    def wait(self, tx_hashes: Sequence[str], timeout: float = 120.0, poll: float = 0.01) -> list[dict[str, Any]]:
        """Receipts of stored transactions, recorded as they arrive (with their completion callbacks); raises
        TransactionPendingError when some are not mined within ``timeout`` (they stay pending)."""
        waiting = list(dict.fromkeys(tx_hashes))
        receipts: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while waiting:
            mined = self.poll(waiting)
            if mined:
                receipts.update(mined)
                waiting = [h for h in waiting if h not in mined]
            if not waiting:
                break
            if time.monotonic() > deadline:
                raise TransactionPendingError(
                    f"{len(waiting)} transaction(s) not mined within {timeout:.0f} s (e.g. {waiting[0]}); they are "
                    "stored in the outbox and complete when the chain mines them", waiting)
            time.sleep(poll)
        return [receipts[h] for h in tx_hashes]

    def _record_mined(self, receipts: list[dict[str, Any]]) -> None:
        times = {}
        for number in {int(r["blockNumber"], 16) for r in receipts}:
            times[number] = int(self.client.block(number)["timestamp"], 16)
        for receipt in receipts:
            with session_scope(self.engine) as db:
                intent = db.exec(select(ChainIntent).where(ChainIntent.deployment == self.deployment_id,
                                                           ChainIntent.tx_hash == receipt["transactionHash"])).first()
                if intent is None:  # not journaled (e.g. a deploy-time transaction)
                    continue
                status = int(receipt["status"], 16)
                claimed = db.execute(
                    update(ChainIntent).where(col(ChainIntent.id) == intent.id,
                                              col(ChainIntent.state) != "mined")
                    .values(state="mined", status=status, block_number=int(receipt["blockNumber"], 16),
                            block_hash=receipt["blockHash"], updated_at=utcnow()))
                if cast(CursorResult[Any], claimed).rowcount == 0:  # another process recorded it first
                    continue
                db.refresh(intent)
                self.last_mined_block = max(self.last_mined_block or 0, int(receipt["blockNumber"], 16))
                self._complete(db, Outcome(intent, receipt, times[int(receipt["blockNumber"], 16)],
                                           "" if status == 1 else "the transaction reverted"))

    def _complete(self, db: Session, outcome: Outcome) -> None:
        callback = self._completions.get(_kind(outcome.intent.ref))
        if callback is not None:
            callback(db, outcome)

    def _fail(self, intent: ChainIntent, reason: str, fill_nonce: bool) -> None:
        """Marks an intent failed (with the reason); if its nonce was never used, a zero-value transfer to self
        takes it so that the account's later transactions are not stuck behind a gap."""
        with session_scope(self.engine) as db:
            claimed = db.execute(  # one statement: an intent another process records mined meanwhile stays so
                update(ChainIntent).where(col(ChainIntent.id) == intent.id, col(ChainIntent.state) == "pending")
                .values(state="failed", error=reason, updated_at=utcnow()))
            if cast(CursorResult[Any], claimed).rowcount == 0:
                return
            row = db.get(ChainIntent, intent.id)
            assert row is not None
            db.add(ChainIntentEvent(intent_id=row.id, action="failed", detail=reason))  # type: ignore[arg-type]
            self._complete(db, Outcome(row, error=reason))
        log.warning("transaction %s (%s, nonce %s) failed: %s", intent.tx_hash, intent.purpose, intent.nonce, reason)
        key = self._keys.get(intent.sender.lower())
        if fill_nonce and key is not None:
            filler = TxRequest(to=intent.sender, data=b"", gas=21_000, label="nonce-fill")
            raw = sign_transaction(key, self.client.chain_id, filler, intent.nonce, fee_fields(self.client))
            answer = self.client.send_raw([raw])[0]
            with session_scope(self.engine) as db:
                db.add(ChainIntentEvent(intent_id=intent.id, action="nonce_filled",  # type: ignore[arg-type]
                                        detail=f"{to_hex(keccak256(raw))}: {answer}"))

    # --- repair -----------------------------------------------------------------------------------------------

    def pending(self) -> list[ChainIntent]:
        with Session(self.engine) as db:
            rows = db.exec(select(ChainIntent).where(ChainIntent.deployment == self.deployment_id,
                                                     ChainIntent.state == "pending")
                           .order_by(col(ChainIntent.sender), col(ChainIntent.nonce))).all()
            for row in rows:
                db.expunge(row)
        return list(rows)

    def resume(self) -> int:
        """One repair pass over the pending intents; returns how many it finished (mined or failed)."""
        with self._lock:
            intents = self.pending()
            if not intents:
                return 0
            # The nonces used first, the receipts second: a transaction another thread or process sends in
            # between is then seen mined, never taken for one whose nonce "another transaction" used.
            senders = sorted({i.sender for i in intents})
            used = dict(zip(senders, self.client.batch(
                [("eth_getTransactionCount", [s, "latest"]) for s in senders]), strict=True))
            answers = self.client.batch([("eth_getTransactionReceipt", [i.tx_hash]) for i in intents])
            mined = [a for a in answers if isinstance(a, dict)]
            if mined:
                self._record_mined(mined)
            rest = [i for i, a in zip(intents, answers, strict=True) if not isinstance(a, dict)]
            finished = len(mined)
            for intent in rest:
                answer = used[intent.sender]
                if isinstance(answer, RpcError):
                    raise answer
                if intent.nonce < int(answer, 16):  # another transaction took this nonce: ours can never be mined
                    finished += self._resign(intent, fresh_nonce=True,
                                             why=f"nonce {intent.nonce} was used by another transaction")
                    continue
                try:
                    self.send([intent])
                except TransactionError as exc:
                    reason = exc.user_message.lower()
                    if any(text in reason for text in _UNDERPRICED):
                        finished += self._resign(intent, fresh_nonce=False, why="fee too low for the chain now")
                    elif intent.attempts >= MAX_SEND_ATTEMPTS:
                        self._fail(intent, f"the node keeps refusing it: {exc.user_message}", fill_nonce=True)
                        finished += 1
                    else:
                        self._bump(intent)
            return finished

    def _bump(self, intent: ChainIntent) -> None:
        with session_scope(self.engine) as db:
            row = db.get(ChainIntent, intent.id)
            if row is not None:
                row.attempts += 1
                db.add(row)

    def _resign(self, intent: ChainIntent, *, fresh_nonce: bool, why: str) -> int:
        """Signs the stored call again (fresh fees; a fresh nonce if its own was taken) and sends it. A call that
        the chain would now refuse is marked failed instead. Returns 1 if the intent ended (failed), else 0."""
        key = self._keys.get(intent.sender.lower())
        if key is None:
            self._fail(intent, f"{why}, and this process holds no key to re-sign it", fill_nonce=False)
            return 1
        call: dict[str, Any] = {"from": intent.sender, "data": "0x" + bytes(intent.data).hex()}
        if intent.to:
            call["to"] = intent.to
        try:
            self.client.request("eth_estimateGas", [call])
        except RpcError as exc:
            self._fail(intent, f"{why}; re-signing it is pointless, the chain now refuses the call: {exc.rpc_message}"
                       + (f" ({exc.revert_data})" if exc.revert_data else ""), fill_nonce=not fresh_nonce)
            return 1
        request = TxRequest(to=intent.to, data=bytes(intent.data), gas=intent.gas, label=intent.purpose)
        fees = fee_fields(self.client)
        with session_scope(self.engine) as db:
            row = db.get(ChainIntent, intent.id)
            if row is None or row.state != "pending":
                return 0
            nonce = row.nonce
            if fresh_nonce:
                node_pending = int(self.client.request("eth_getTransactionCount", [row.sender, "pending"]), 16)
                nonce = self._allocate(db, row.sender, 1, node_pending)
            raw = sign_transaction(key, self.client.chain_id, request, nonce, fees)
            old = row.tx_hash
            row.nonce, row.raw_tx, row.tx_hash = nonce, raw, to_hex(keccak256(raw))
            row.attempts, row.updated_at = row.attempts + 1, utcnow()
            db.add(row)
            db.add(ChainIntentEvent(intent_id=row.id, action="resigned",  # type: ignore[arg-type]
                                    detail=f"{why}: {old} replaced by {row.tx_hash} (nonce {nonce})"))
            db.flush()
            db.refresh(row)
            db.expunge(row)
        log.warning("re-signed %s as %s: %s", old, row.tx_hash, why)
        with contextlib.suppress(TransactionError):  # a refusal is recorded; the next pass tries again
            self.send([row])
        return 0

    def check_rollback(self) -> Rollback | None:
        """Compares the recorded blocks of mined intents with the chain, newest first; intents in blocks the
        chain no longer has go back to pending (``resume`` re-sends them). Stops at the first block that still
        matches: below it the chain is the one recorded (each block hash commits to its ancestors)."""
        head = self.client.block_number()
        with Session(self.engine) as db:
            blocks = db.exec(select(ChainIntent.block_number, ChainIntent.block_hash).where(
                ChainIntent.deployment == self.deployment_id, ChainIntent.state == "mined")
                .distinct().order_by(col(ChainIntent.block_number).desc()).limit(512)).all()
        lost: list[int] = []
        for start in range(0, len(blocks), 64):
            chunk = blocks[start : start + 64]
            answers = self.client.batch([("eth_getBlockByNumber", [hex(n), False]) for n, _ in chunk
                                         if n is not None and n <= head])
            by_number = {int(a["number"], 16): a["hash"] for a in answers if isinstance(a, dict)}
            stop = False
            for number, recorded in chunk:
                if number is None:
                    continue
                if by_number.get(number, "").lower() == str(recorded).lower():
                    stop = True
                    break
                lost.append(number)
            if stop:
                break
        if not lost:
            return None
        low = min(lost)
        detail = (f"the chain no longer holds block(s) {low}–{max(lost)} as recorded (head is {head}): their "
                  "transactions go back to pending and are sent again from the journal")
        with session_scope(self.engine) as db:
            rows = db.exec(select(ChainIntent).where(ChainIntent.deployment == self.deployment_id,
                                                     ChainIntent.state == "mined",
                                                     col(ChainIntent.block_number) >= low)).all()
            for row in rows:
                db.add(ChainIntentEvent(intent_id=row.id, action="rolled_back",  # type: ignore[arg-type]
                                        detail=f"block {row.block_number} ({row.block_hash}) is gone"))
                row.state, row.block_number, row.block_hash, row.updated_at = "pending", None, None, utcnow()
                db.add(row)
            count = len(rows)
        rollback = Rollback(low, count, detail)
        self.last_rollback = rollback
        log.error("chain rollback detected: %s (%d transaction(s))", detail, count)
        return rollback

    def keep(self) -> Rollback | None:
        """One maintenance pass: detect a rollback, then finish or repair what is pending."""
        rollback = self.check_rollback()
        self.resume()
        return rollback

    def status(self) -> JournalStatus:
        with Session(self.engine) as db:
            rows = db.exec(select(ChainIntent.state, ChainIntent.tx_hash, ChainIntent.error, ChainIntent.purpose)
                           .where(ChainIntent.deployment == self.deployment_id,
                                  col(ChainIntent.state).in_(["pending", "failed"]))
                           .order_by(col(ChainIntent.id))).all()
        pending = [r for r in rows if r[0] == "pending"]
        failed = [r for r in rows if r[0] == "failed"]
        return JournalStatus(pending=len(pending), failed=len(failed), last_rollback=self.last_rollback,
                             oldest_pending_tx=pending[0][1] if pending else None,
                             failures=[f"{r[3]} {r[1]}: {r[2]}" for r in failed[-5:]])

