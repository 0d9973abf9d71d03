"""Registration look-ups over HTTP, on a real chain: what a bank checks before taking a pledge."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.context import Ledger
from ledger.indexer.sync import wait_for
from ledger.numbering import registration_number
from ledger.profiles import ObjectType
from ledger.tokens import create_token
from ledger.workflow import Workflow
from tests.content import content

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def client(chain: Ledger) -> Iterator[TestClient]:
    with TestClient(create_app(ledger=chain)) as test_client:
        yield test_client


def test_registered_unit_is_visible_with_its_rights_and_certificate(chain: Ledger, client: TestClient) -> None:
    today = [date(2024, 9, 27)]
    workflow = Workflow(chain.engine, chain.assets, chain.accounts, chain.deployment.deployment_id, chain.sender,
                        clock=lambda: today[0])
    app = workflow.apply(kind="initial", profile="TJIFA", holder="holder-a", actor="holder-a",
                         object_type=ObjectType.DATA_ASSET,
                         payload={"content": content("气象观测数据", "某气象数据有限公司")},
                         document=os.urandom(32))
    for step in (workflow.accept, workflow.begin_review, workflow.approve, workflow.start_notice):
        step(app.id, "registrar")
    today[0] += timedelta(days=20)
    number = workflow.register(app.id, "registrar").registration_number
    assert number is not None
    wait_for(chain.indexer, chain.client.block_number())  # the API's follower indexes the registration
    auth = {"Authorization": f"Bearer {create_token(chain.engine, chain.accounts, 'holder-a', 'reg-test')}"}
    body = client.get(f"/registrations/{number}", headers=auth).json()  # the holder's own record: full
    assert body["status"] == "active" and body["jurisdiction"] == "TJIFA"
    assert body["right_holders"]["holding"] == chain.accounts.get("holder-a").address
    assert body["certificate"]["registration_number"] == number
    assert body["certificate"]["asset"]["name"] == "气象观测数据"
    assert body["open_objections"] == 0 and body["active_rights_entries"] == 0
    assert body["index"]["lag_blocks"] == 0 and body["rights_page"] == []
    certificates = client.get(f"/registrations/{number}/certificates").json()
    assert [(c["version"], c["status"], c["stored"]) for c in certificates] == [(1, "current", True)]
    assert certificates[0]["certificate_hash"] == body["certificate_hash"]
    assert [e["action"] for e in client.get(f"/registrations/{number}/history", headers=auth).json()] == ["initial"]
    assert client.get(f"/registrations/{number}/rights-page", headers=auth).json() == []
    holder = chain.accounts.get("holder-a").address
    listed = client.get("/registrations", params={"holder": holder, "limit": 500}, headers=auth).json()
    assert number in [r["registration_number"] for r in listed["data"]] and listed["count"] >= 1
    assert client.get("/registrations", params={"holder": holder}).status_code == 401  # not for the public: sign in
    public = client.get(f"/registrations/{number}").json()
    assert public["disclosure"] == "public" and public["right_holders"] is None
    bad = client.get("/registrations", params={"holder": "0x12"}, headers=auth)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    assert client.get("/registrations").status_code == 422  # the holder is required
    assert client.get("/registrations", params={"holder": holder, "limit": 501}, headers=auth).status_code == 422


def test_bad_or_unknown_numbers(client: TestClient) -> None:
    wrong = client.get("/registrations/TJ-2024-000001-0")
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "invalid_input"
    assert client.get("/registrations/nonsense").status_code == 422
    unknown = client.get(f"/registrations/{registration_number('GD', 2099, 424242)}")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_endorsers_submit_checkpoints_and_others_are_refused(chain: Ledger, client: TestClient) -> None:
    from ledger.proofs.checkpoints import sign_checkpoint

    block = chain.client.block("latest")
    number, block_hash = int(block["number"], 16), bytes.fromhex(block["hash"][2:])

    def body(name: str) -> dict[str, object]:
        signature = sign_checkpoint(chain.accounts.get(name).signer, chain.client.chain_id, number, block_hash,
                                    chain.checkpoints.contracts)
        return {"block_number": number, "block_hash": block["hash"], "signature": "0x" + signature.hex()}

    accepted = client.post("/checkpoints", json=body("arbitration"))
    assert accepted.status_code == 201 and accepted.json()["signer"] == chain.accounts.get("arbitration").address
    refused = client.post("/checkpoints", json=body("outsider"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    served = client.get(f"/checkpoints/covering/{number}").json()
    assert any(c["signer"] == chain.accounts.get("arbitration").address for c in served)
    assert client.get("/checkpoints/covering/99999999").status_code == 404
    wrong = client.post("/checkpoints", json={**body("notary"), "block_hash": "0x" + "00" * 32})
    assert wrong.status_code == 422
    assert client.post("/checkpoints", json={"block_number": -1}).status_code == 422
    # a signature over the old text (no contracts named) is refused: it does not vouch for the registry
    old = sign_checkpoint(chain.accounts.get("notary").signer, chain.client.chain_id, number, block_hash, {})
    stale = client.post("/checkpoints", json={**body("notary"), "signature": "0x" + old.hex()})
    assert stale.status_code == 403 and stale.json()["error"]["code"] == "forbidden"


def test_checkpoint_block_numbers_are_bounded_and_must_exist(chain: Ledger, client: TestClient) -> None:
    from ledger.proofs.checkpoints import sign_checkpoint

    for bad in ("9223372036854775808", "-1", "1" + "0" * 40):  # past SQL BIGINT, negative, absurd
        reply = client.get(f"/checkpoints/covering/{bad}")
        assert reply.status_code == 422 and reply.json()["error"]["code"] == "invalid_request", reply.text
    assert client.get("/checkpoints/covering/9223372036854775807").status_code == 404  # in range, not signed
    future = chain.client.block_number() + 1000
    signature = sign_checkpoint(chain.accounts.get("notary").signer, chain.client.chain_id, future, bytes(32),
                                chain.checkpoints.contracts)
    body = {"block_number": future, "block_hash": "0x" + "00" * 32, "signature": "0x" + signature.hex()}
    missing = client.post("/checkpoints", json=body)
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "invalid_input"
    assert f"block {future} does not exist" in missing.json()["error"]["message"]
    huge = client.post("/checkpoints", json={**body, "block_number": 2**64})
    assert huge.status_code == 422 and huge.json()["error"]["code"] == "invalid_request"


def test_qr_verify_page(client: TestClient) -> None:
    page = client.get("/verify/0x" + "ab" * 32)
    assert page.status_code == 200 and "未存证" in page.text
    assert "not a digest" in client.get("/verify/0x12").text
