"""The public's costly requests are rationed per client address (api/ratelimit.py): an objection through the
notice page anchors its evidence on the registry's account, and the no-script verify fallback hashes an uploaded
file on the server. Over the ration: 429 with Retry-After, and nothing is done."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.ratelimit import Ration
from ledger.context import Ledger
from ledger.errors import RateLimitedError
from ledger.hashing import HashAlgorithm, digest_bytes
from tests.pages_support import in_notice


def test_a_ration_refills_evenly_and_names_the_wait() -> None:
    now = [1000.0]
    ration = Ration("objections", 2, 3600.0, clock=lambda: now[0])
    ration.take("203.0.113.7")
    ration.take("203.0.113.7")
    with pytest.raises(RateLimitedError) as refused:
        ration.take("203.0.113.7")
    assert refused.value.retry_after == 1800 and "at most 2 per hour" in refused.value.user_message
    ration.take("198.51.100.1")  # another address has its own ration
    now[0] += 1800  # half the period: one request back
    ration.take("203.0.113.7")
    with pytest.raises(RateLimitedError):
        ration.take("203.0.113.7")
    Ration("uploads", 0, 60.0).take("anyone")  # 0 = no limit


@pytest.fixture(scope="module")
def limited(chain: Ledger) -> Iterator[tuple[Ledger, TestClient]]:
    ledger = Ledger(chain.settings.model_copy(update={
        "public_objections_per_hour": 2, "public_uploads_per_minute": 3, "duties_interval": 0,
        "checkpoint_interval": 0, "access_anchor_interval": 0}))
    with TestClient(create_app(ledger=ledger)) as client:
        yield ledger, client


@pytest.mark.chain
def test_the_public_objection_form_is_rationed(limited: tuple[Ledger, TestClient]) -> None:
    ledger, client = limited
    app = in_notice(ledger.workflow, "限流测试数据集")
    evidence = [os.urandom(64) for _ in range(3)]
    replies = [client.post(f"/notices/{app.id}/objections", headers={"Accept": "text/html"},
                           data={"objector_name": "某公众", "objector_id": "91120116MA05JD1X47",
                                 "grounds": f"异议 {i}"}, files={"evidence": ("e.txt", body)})
               for i, body in enumerate(evidence)]
    assert [r.status_code for r in replies] == [201, 201, 429]
    assert int(replies[2].headers["retry-after"]) > 0 and "at most 2 per hour" in replies[2].text
    assert len(ledger.workflow.objections(app.id)) == 2
    third = ledger.evidence.verify(digest_bytes(evidence[2]), HashAlgorithm.SHA256)
    assert not third.anchored  # refused before anything was anchored


@pytest.mark.chain
def test_server_side_hashing_is_rationed(limited: tuple[Ledger, TestClient]) -> None:
    _, client = limited
    codes = [client.post("/evidence/verify", files={"file": ("f.bin", os.urandom(32))}).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = client.post("/evidence/verify", files={"file": ("f.bin", b"x")})
    assert refused.json()["error"]["code"] == "rate_limited" and refused.headers["retry-after"]
    digest = "0x" + os.urandom(32).hex()
    assert client.get(f"/evidence/verify/{digest}").status_code == 200  # hashing it yourself is never rationed
