"""A ledger that keeps running (issue #8): the outbox journals every transaction before it is sent, nonces have
one owner, a stuck transaction is repaired, a chain rollback is detected and re-anchored, a slow chain answers
503 while the batch completes, and a process killed right after sending loses nothing. Each test runs on its
own Anvil node (they stop mining, revert the chain or race two processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.main import create_app
from ledger.chain.sender import TransactionSender
from ledger.chain.tx import TxRequest
from ledger.config import Settings
from ledger.context import Ledger
from ledger.errors import AlreadyAnchoredError, LedgerValueError
from ledger.hashing import HashAlgorithm
from ledger.lifecycle import UnitStatus
from ledger.models import ChainIntent, ChainIntentEvent
from ledger.numbering import unit_id
from ledger.profiles import ObjectType
from ledger.tokens import create_token
from ledger.workflow import State, Workflow
from tests.conftest import start_chain
from tests.content import content

pytestmark = pytest.mark.chain


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    _, node, ledger = start_chain(tmp_path / "home")
    yield ledger
    node.stop()


def registered_application(ledger: Ledger, today: list[date]) -> str:
    workflow = Workflow(ledger.engine, ledger.assets, ledger.accounts, ledger.deployment.deployment_id,
                        ledger.sender, clock=lambda: today[0], outbox=ledger.outbox)
    app = workflow.apply(kind="initial", profile="TJIFA", holder="holder-a", actor="holder-a",
                         object_type=ObjectType.DATA_ASSET,
                         payload={"content": content("电力负荷数据", "某电网数据有限公司")},
                         document=os.urandom(32))
    for step in (workflow.accept, workflow.begin_review, workflow.approve, workflow.start_notice):
        step(app.id, "registrar")
    today[0] += timedelta(days=20)
    return app.id


def events(ledger: Ledger, action: str) -> list[ChainIntentEvent]:
    with Session(ledger.engine) as session:
        return list(session.exec(select(ChainIntentEvent).where(ChainIntentEvent.action == action)).all())


def test_two_processes_never_race_for_a_nonce(ledger: Ledger) -> None:
    """Two relaying processes (here: two independent Ledger objects, each with its own sender) anchor for the
    same account at once. The node is asked for the pending nonce by both; the database allocates."""
    other = Ledger(ledger.settings)
    digests = [[os.urandom(32) for _ in range(12)] for _ in range(2)]
    errors: list[BaseException] = []

    def run(instance: Ledger, batch: list[bytes]) -> None:
        try:
            for digest in batch:
                instance.evidence.anchor(instance.sender("provider"), digest, HashAlgorithm.SHA256)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(inst, d)) for inst, d in zip((ledger, other), digests, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    for digest in digests[0] + digests[1]:
        assert ledger.evidence.verify(digest, HashAlgorithm.SHA256).anchored
    with Session(ledger.engine) as session:
        nonces = session.exec(select(ChainIntent.nonce).where(
            ChainIntent.sender == ledger.accounts.get("provider").address)).all()
    assert len(nonces) == 24 and len(set(nonces)) == 24


def test_a_transaction_whose_nonce_was_taken_is_re_signed_and_never_blocks(ledger: Ledger) -> None:
    """Issue #8 §3: a stored registration whose nonce another transaction used can never be mined. The outbox
    sees it, re-signs it with a fresh nonce and the application registers; reads never wait for it."""
    today = [date(2024, 10, 8)]
    workflow = ledger.workflow
    app_id = registered_application(ledger, today)
    workflow.clock = lambda: today[0]
    intent = workflow.stage(workflow.get(app_id), "registrar")
    # another process, outside the ledger's journal, takes that nonce first
    intruder = TransactionSender(ledger.client, ledger.accounts.get("registrar").signer)
    raw = intruder.sign(TxRequest(to=intruder.address, data=b"", gas=21_000), intent.nonce, intruder.fees())
    ledger.client.wait_for_receipts([str(ledger.client.send_raw([raw])[0])])
    assert workflow.get(app_id).state == State.IN_PUBLIC_NOTICE  # reads are not blocked by the stuck write
    ledger.outbox.resume()  # nonce used by another: re-signed with a fresh one, and sent
    (event,) = events(ledger, "resigned")
    assert "was used by another transaction" in event.detail
    done = workflow.register(app_id, "registrar")  # finishes the re-signed transaction
    assert done.state == State.REGISTERED and done.tx_hash != intent.tx_hash
    assert ledger.assets.status(unit_id(done.registration_number or "")) is UnitStatus.ACTIVE
    assert workflow.register(app_id, "registrar").state == State.REGISTERED  # idempotent re-run


def test_a_stuck_call_the_chain_now_refuses_is_failed_with_a_reason(ledger: Ledger) -> None:
    """The same stuck nonce, but the call itself is refused now (its unit was registered meanwhile): the intent
    fails with the reason, the application can be filed again, and nothing else waits behind it."""
    today = [date(2024, 10, 8)]
    workflow = ledger.workflow
    workflow.clock = lambda: today[0]
    app_id = registered_application(ledger, today)
    intent = workflow.stage(workflow.get(app_id), "registrar")
    ledger.outbox.send([intent])
    ledger.outbox.wait([intent.tx_hash])  # it is mined: a second, hand-made copy of the call must fail
    intruder = TransactionSender(ledger.client, ledger.accounts.get("registrar").signer)
    copy = ledger.outbox.stage(ledger.accounts.get("registrar").signer,
                               [TxRequest(to=intent.to, data=bytes(intent.data), gas=intent.gas)], intruder.fees(),
                               ref="manual:copy")[0]
    raw = intruder.sign(TxRequest(to=intruder.address, data=b"", gas=21_000), copy.nonce, intruder.fees())
    ledger.client.wait_for_receipts([str(ledger.client.send_raw([raw])[0])])
    ledger.outbox.resume()
    (failed,) = events(ledger, "failed")
    assert "the chain now refuses the call" in failed.detail
    status = ledger.outbox.status()
    assert status.failed == 1 and status.pending == 0 and "refuses" in status.failures[0]


def test_a_transaction_mined_while_the_repair_pass_looks_is_recorded_mined_never_failed(
        ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the crash harness: the API's request thread sends a stored registration while the keeper's
    repair pass looks at it. The pass saw no receipt, then the account's nonce used — and took the nonce for
    "used by another transaction": it re-signed, the chain refused the copy (the unit was registered — by this
    very transaction), and the mined intent was marked failed. Here the request thread's send happens right
    after the pass's first question to the node."""
    today = [date(2024, 10, 8)]
    workflow = ledger.workflow
    workflow.clock = lambda: today[0]
    app_id = registered_application(ledger, today)
    intent = workflow.stage(workflow.get(app_id), "registrar")
    client = ledger.outbox.client
    first_look = client.batch
    sent: list[bool] = []

    def batch(calls: list[tuple[str, list[object]]]) -> list[object]:
        answers = first_look(calls)
        if not sent:
            sent.append(True)
            ledger.outbox.send([intent])  # mined at once (automine)
        return answers

    monkeypatch.setattr(client, "batch", batch)
    ledger.outbox.resume()
    monkeypatch.undo()
    with Session(ledger.engine) as session:
        row = session.get(ChainIntent, intent.id)
        assert row is not None and row.state == "mined" and row.status == 1, row
    assert not events(ledger, "failed") and not events(ledger, "resigned")
    assert workflow.get(app_id).state == State.REGISTERED


def test_a_chain_rollback_is_detected_and_re_anchored_from_the_journal(ledger: Ledger) -> None:
    """Issue #8 §4: the node loses blocks after it acknowledged anchors (kill -9 before Anvil saved its state;
    here evm_revert). The outbox notices (a recorded block hash is gone), re-sends the journaled transactions,
    and every acknowledged digest — single and batched — verifies again, with the rollback on record."""
    snapshot = ledger.client.request("evm_snapshot")
    single = os.urandom(32)
    ledger.evidence.anchor(ledger.sender("provider"), single, HashAlgorithm.SHA256)
    entries = [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(25)]
    batch, _ = ledger.evidence.anchor_batch(ledger.sender("provider"), entries)
    assert ledger.evidence.verify(entries[3][1]).anchored
    assert ledger.client.request("evm_revert", [snapshot])
    before = ledger.evidence.verify(entries[3][1], HashAlgorithm.SHA256)
    assert not before.anchored and before.pending  # never a silent NOT ANCHORED
    rollback = ledger.outbox.check_rollback()
    assert rollback is not None and rollback.intents == 2
    with TestClient(create_app(ledger=ledger)) as client:
        health = client.get("/health").json()
        assert health["journal"]["last_rollback"] and health["status"] == "degraded"
        ledger.outbox.resume()  # re-sent: the same signed bytes
        ledger.outbox.wait([batch.tx_hash], 30)
        assert client.get("/health").json()["status"] == "ok"
    assert ledger.evidence.verify(single, HashAlgorithm.SHA256).anchored
    for alg, digest in entries:
        assert ledger.evidence.verify(digest, alg).anchored
    assert ledger.outbox.check_rollback() is None and len(events(ledger, "rolled_back")) == 2


def test_sigkill_right_after_sending_a_batch_loses_nothing(ledger: Ledger, tmp_path: Path) -> None:
    """Issue #8 §1: a process killed between sending the root and recording anything else. The batch (every
    leaf) was stored before the send, so a restart proves every digest."""
    digests = [os.urandom(32).hex() for _ in range(40)]
    script = textwrap.dedent(f"""
        import os, signal
        from ledger.config import Settings
        from ledger.context import Ledger
        from ledger.hashing import HashAlgorithm
        from ledger.merkle import MerkleTree, pack_entries
        ledger = Ledger(Settings.from_env(home={str(ledger.settings.home)!r}))
        entries = [(HashAlgorithm.SHA256, bytes.fromhex(d)) for d in {digests!r}]
        packed = pack_entries(entries)
        batch = ledger.evidence.stage_batch(ledger.sender("provider"), packed, MerkleTree.from_packed(packed))
        ledger.evidence.outbox.send(ledger.evidence.outbox_intents(batch))
        ledger.client.wait_for_receipts([batch.tx_hash])  # mined: the moment the old code crashed in
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LEDGER_HOME": str(ledger.settings.home)})
    assert done.returncode == -signal.SIGKILL, done.stderr
    restarted = Ledger(Settings.from_env(home=ledger.settings.home))
    restarted.outbox.resume()  # records the receipt: the batch becomes anchored
    restarted.evidence.index_pending()
    for digest in digests:
        result = restarted.evidence.verify(bytes.fromhex(digest), HashAlgorithm.SHA256)
        assert result.anchored and result.anchors[0].batch is not None


def test_slow_mining_answers_503_and_the_batch_still_completes(ledger: Ledger) -> None:
    """Issue #8 §2: a batch that is not mined in time answers 503 with Retry-After; the batcher lives on, the
    batch is mined later and provable, and a retry with the same Idempotency-Key gets it."""
    settings = ledger.settings.model_copy(update={"anchor_wait": 1.5, "batch_interval": 0.2})
    slow = Ledger(settings)
    token = create_token(slow.engine, slow.accounts, "provider", "slow")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "order-7"}
    digest = os.urandom(32).hex()
    with TestClient(create_app(ledger=slow)) as client:
        slow.client.request("evm_setAutomine", [False])
        try:
            late = client.post("/evidence/anchors", json={"digest": digest}, headers=headers)
            assert late.status_code == 503 and late.headers["Retry-After"]
            assert late.json()["error"]["code"] == "transaction_pending" and late.json()["error"]["tx_hashes"]
        finally:
            slow.client.request("evm_setAutomine", [True])
        slow.client.request("evm_mine")
        again = client.post("/evidence/anchors", json={"digest": digest}, headers=headers)
        assert again.status_code == 201 and again.json()["batch"]["root"]
        assert client.get(f"/evidence/verify/{digest}").json()["anchored"]
        # the batcher is alive: a new digest anchors normally, and duplicates are refused
        assert client.post("/evidence/anchors", json={"digest": os.urandom(32).hex()},
                           headers={"Authorization": headers["Authorization"]}).status_code == 201
        duplicate = client.post("/evidence/anchors", json={"digest": digest},
                                headers={"Authorization": headers["Authorization"]})
        assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "already_anchored"
        zero = client.post("/evidence/anchors", json={"digest": "00" * 32},
                           headers={"Authorization": headers["Authorization"]})
        assert zero.status_code == 422
        reused = client.post("/evidence/anchors", json={"digest": os.urandom(32).hex()}, headers=headers)
        assert reused.status_code == 422 and "Idempotency-Key" in reused.json()["error"]["message"]


def test_batches_refuse_zero_and_duplicate_digests(ledger: Ledger) -> None:
    entries = [(HashAlgorithm.SHA256, os.urandom(32)) for _ in range(5)]
    ledger.evidence.anchor_batch(ledger.sender("provider"), entries)
    with pytest.raises(AlreadyAnchoredError, match="already anchored in a batch"):
        ledger.evidence.anchor_batch(ledger.sender("provider"), [entries[2], (HashAlgorithm.SHA256, os.urandom(32))])
    with pytest.raises(AlreadyAnchoredError, match="twice"):
        fresh = (HashAlgorithm.SHA256, os.urandom(32))
        ledger.evidence.anchor_batch(ledger.sender("provider"), [fresh, fresh])
    with pytest.raises(LedgerValueError, match="zero digest"):
        ledger.evidence.anchor_batch(ledger.sender("provider"), [(HashAlgorithm.SHA256, bytes(32))])
    # the same digest under another algorithm is another leaf
    ledger.evidence.anchor_batch(ledger.sender("provider"), [(HashAlgorithm.SM3, entries[2][1])])


def test_a_retry_after_a_kill_gets_the_stored_anchor_never_409(ledger: Ledger) -> None:
    """Found by the crash harness: the API stored a request's transaction (a single anchor, or a batch holding
    the digest) and was killed before it answered. The client's retry with the same Idempotency-Key met its own
    stored anchor and got 409 already_anchored — a refusal for what the first request will anchor. It gets the
    first request's anchor instead, once the journal has sent it."""
    from ledger.merkle import MerkleTree, pack_entries
    from ledger.services.evidence import AnchorAsk, claim_key

    sender = ledger.sender("provider")
    single, leaf = os.urandom(32), os.urandom(32)
    # what the killed API left: the keys claimed, the transactions stored, nothing answered
    claim_key(ledger, "provider", "single-1", AnchorAsk(single, HashAlgorithm.SHA256, "single"))
    claim_key(ledger, "provider", "batch-1", AnchorAsk(leaf, HashAlgorithm.SHA256, "batch"))
    registry = ledger.contract("EvidenceRegistry")
    ledger.outbox.stage(sender.account, [registry.request(sender, "anchor", single, int(HashAlgorithm.SHA256),
                                                          1, bytes(32))], sender.fees())
    sent = ledger.outbox.stage(sender.account, [registry.request(sender, "anchor", os.urandom(32),
                                                                 int(HashAlgorithm.SHA256), 1, bytes(32))],
                               sender.fees())
    ledger.outbox.send(sent)  # a later one the node has: the stored single is a gap below it
    packed = pack_entries([(HashAlgorithm.SHA256, leaf)])
    ledger.evidence.stage_batch(sender, packed, MerkleTree.from_packed(packed))

    served = Ledger(ledger.settings.model_copy(update={"keeper_interval": 0.2, "batch_interval": 0.2,
                                                        "checkpoint_interval": 0, "duties_interval": 0}))
    token = create_token(served.engine, served.accounts, "provider", "retry")
    with TestClient(create_app(ledger=served)) as client:
        for key, digest, mode in (("single-1", single, "single"), ("batch-1", leaf, "batch")):
            retry = client.post("/evidence/anchors", json={"digest": digest.hex(), "mode": mode},
                                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
            assert retry.status_code == 201, retry.text
            assert retry.json()["mode"] == mode and (mode == "single" or retry.json()["batch"]["root"])
        # the first request's single anchor sits in the node's pool (re-sent after a rollback): Anvil estimates
        # gas on the pending state, so the retry is refused while the chain's head does not hold it yet
        pooled = os.urandom(32)
        claim_key(served, "provider", "single-2", AnchorAsk(pooled, HashAlgorithm.SHA256, "single"))
        served.client.request("evm_setAutomine", [False])
        try:
            served.outbox.send(served.outbox.stage(sender.account, [registry.request(
                sender, "anchor", pooled, int(HashAlgorithm.SHA256), 1, bytes(32))], sender.fees()))
            threading.Timer(1.0, served.client.request, ["evm_mine"]).start()  # mined while the retry waits
            retry = client.post("/evidence/anchors", json={"digest": pooled.hex(), "mode": "single"},
                                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "single-2"})
        finally:
            served.client.request("evm_setAutomine", [True])
        assert retry.status_code == 201, retry.text
    assert served.evidence.verify(single, HashAlgorithm.SHA256).anchored
    assert len(served.evidence.verify(leaf, HashAlgorithm.SHA256).anchors) == 1
