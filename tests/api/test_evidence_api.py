"""The HTTP API on a real Anvil node and a real database: writes need a provider token, reads are public,
bad input is a 4xx with a stable code — never a 500."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from ledger.context import Ledger
from ledger.tokens import create_token, revoke_token

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def client(chain: Ledger) -> Iterator[TestClient]:
    with TestClient(create_app(ledger=chain)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def provider_token(chain: Ledger) -> str:
    return create_token(chain.engine, chain.accounts, "provider", "api-test")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_anchor_digest_single_and_batch_then_verify(client: TestClient, provider_token: str) -> None:
    for mode in ("single", "batch"):
        digest = "0x" + os.urandom(32).hex()
        reply = client.post("/evidence/anchors", json={"digest": digest, "mode": mode, "kind": "proof"},
                            headers=auth(provider_token))
        assert reply.status_code == 201, reply.text
        body = reply.json()
        assert body["mode"] == mode and body["digest"] == digest and body["block_number"] > 0
        assert (body["batch"] is not None) == (mode == "batch")
        check = client.get(f"/evidence/verify/{digest}").json()
        assert check["anchored"] and check["anchors"][0]["tx_hash"] == body["tx_hash"]
        if mode == "batch":
            own = client.post("/evidence/verify/proof", json={
                "digest": digest, "root": body["batch"]["root"], "proof": body["batch"]["proof"]}).json()
            assert own["anchored"]


def test_upload_anchor_and_verify_by_upload(client: TestClient, provider_token: str) -> None:
    content = os.urandom(2048)
    reply = client.post("/evidence/anchors/file", files={"file": ("data.bin", content)},
                        data={"hash_algorithm": "sm3", "mode": "single"}, headers=auth(provider_token))
    assert reply.status_code == 201, reply.text
    verified = client.post("/evidence/verify", files={"file": ("x", content)}, data={"hash_algorithm": "sm3"})
    assert verified.status_code == 200 and verified.json()["anchored"]
    tampered = client.post("/evidence/verify", files={"file": ("x", content[:-1] + b"\0")},
                           data={"hash_algorithm": "sm3"})
    assert tampered.status_code == 200 and not tampered.json()["anchored"]
    page = client.post("/verify", files={"file": ("x", content)}, data={"hash_algorithm": "sm3"})
    assert page.status_code == 200 and "已存证" in page.text


def test_credentials_are_enforced(chain: Ledger, client: TestClient) -> None:
    body = {"digest": os.urandom(32).hex(), "mode": "single"}
    missing = client.post("/evidence/anchors", json=body)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
    wrong = client.post("/evidence/anchors", json=body, headers=auth("ldg_not-a-token"))
    assert wrong.status_code == 401
    outsider = create_token(chain.engine, chain.accounts, "outsider", "outsider")
    refused = client.post("/evidence/anchors", json=body, headers=auth(outsider))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    revoked = create_token(chain.engine, chain.accounts, "provider", "to-revoke")
    assert revoke_token(chain.engine, "to-revoke") == 1
    assert client.post("/evidence/anchors", json=body, headers=auth(revoked)).status_code == 401


@pytest.mark.parametrize(
    "payload",
    [
        {"digest": "0x1234"},
        {"digest": "zz" * 32},
        {"digest": "ab" * 32, "hash_algorithm": "md5"},
        {"digest": "ab" * 32, "mode": "sometimes"},
        {"digest": "ab" * 32, "kind": "poem"},
        {},
    ],
)
def test_bad_input_is_422_with_stable_code(client: TestClient, provider_token: str,
                                           payload: dict[str, str]) -> None:
    reply = client.post("/evidence/anchors", json=payload, headers=auth(provider_token))
    assert reply.status_code == 422
    assert reply.json()["error"]["code"] == "invalid_request"


def test_bad_reads_are_4xx_and_duplicates_409(client: TestClient, provider_token: str) -> None:
    assert client.get("/evidence/verify/0x12").json()["error"]["code"] == "invalid_input"
    assert client.get("/evidence/verify/" + "ab" * 32, params={"hash_algorithm": "md5"}).status_code == 422
    assert client.post("/evidence/verify").status_code == 422
    assert client.post("/evidence/verify/proof", json={"digest": "ab" * 32, "root": "12"}).status_code == 422
    digest = os.urandom(32).hex()
    first = client.post("/evidence/anchors", json={"digest": digest, "mode": "single"}, headers=auth(provider_token))
    assert first.status_code == 201
    again = client.post("/evidence/anchors", json={"digest": digest, "mode": "single"}, headers=auth(provider_token))
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_anchored"
    assert client.get("/docs").status_code == 200 and client.get("/openapi.json").status_code == 200
    assert client.get("/health").json()["status"] == "ok"
