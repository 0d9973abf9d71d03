"""Request bodies are bounded, checked on a real server process over raw sockets: a body too large for its
route is answered 413 before the server has it (so it cannot have read it), a stalled body 408, and the
connection is closed either way. Uploads get their own, larger, limit."""

from __future__ import annotations

import os
import select
import socket
from collections.abc import Iterator

import pytest
import requests

from ledger.context import Ledger
from tests.api.live_server import LiveServer, RawResponse, live_server, read_response, request_head

pytestmark = [pytest.mark.chain, pytest.mark.slow]
UPLOAD_LIMIT = 1 << 20  # the server below takes uploads up to 1 MiB and JSON up to the default 64 KiB


@pytest.fixture(scope="module")
def server(chain: Ledger, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The shared chain, read only, with a database of its own: nothing the server does at start (resuming
    stored registrations) can touch the nonces of the test process."""
    home = tmp_path_factory.mktemp("limits")
    with live_server(chain, home, LEDGER_BODY_TIMEOUT="1", LEDGER_MAX_UPLOAD_BYTES=str(UPLOAD_LIMIT),
                     LEDGER_DATABASE_URL=f"sqlite:///{home / 'ledger.db'}") as live:
        yield live


def connect(server: LiveServer) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=60)


def assert_refused(reply: RawResponse, status: int, code: str) -> None:
    assert reply.status == status, reply
    assert reply.body["error"]["code"] == code and reply.body["error"]["message"]
    assert reply.headers.get("connection") == "close" and reply.closed


def test_declared_oversized_json_is_refused_before_it_is_sent(server: LiveServer) -> None:
    with connect(server) as sock:
        sock.sendall(request_head("POST", "/evidence/verify/proof", {
            "Content-Type": "application/json", "Content-Length": str(200 << 20)}))
        sock.sendall(b'{"digest": "' + b"a" * 1024)  # 1 KiB of the 200 MiB it announced, then nothing
        reply = read_response(sock)
    assert_refused(reply, 413, "payload_too_large")
    assert "64 KiB" in reply.body["error"]["message"]


def test_chunked_oversized_json_is_refused_while_it_streams(server: LiveServer) -> None:
    sent, piece = 0, b"a" * 8192
    with connect(server) as sock:
        sock.sendall(request_head("POST", "/checkpoints", {
            "Content-Type": "application/json", "Transfer-Encoding": "chunked"}))
        try:
            while sent < 200 << 20 and not select.select([sock], [], [], 0)[0]:  # until the server answers
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):  # it answered and closed while we were sending
            pass
        reply = read_response(sock)
    assert_refused(reply, 413, "payload_too_large")
    assert sent < 200 << 20  # answered long before the body was complete (it never was: no last chunk)


def test_stalled_body_is_answered_408_and_closed(server: LiveServer) -> None:
    with connect(server) as sock:
        sock.sendall(request_head("POST", "/evidence/anchors", {
            "Content-Type": "application/json", "Content-Length": "1000"}))
        sock.sendall(b'{"digest": "')  # then stalls for longer than LEDGER_BODY_TIMEOUT
        reply = read_response(sock)
    assert_refused(reply, 408, "request_timeout")


def test_uploads_have_their_own_bounded_limit(server: LiveServer) -> None:
    fits = os.urandom(256 << 10)  # over the JSON limit, under the upload limit
    verified = requests.post(server.url + "/evidence/verify", files={"file": ("f", fits)}, timeout=60)
    assert verified.status_code == 200 and verified.json()["anchored"] is False
    page = requests.post(server.url + "/verify", files={"file": ("f", fits)}, timeout=60)
    assert page.status_code == 200 and "未存证" in page.text
    too_big = requests.post(server.url + "/evidence/verify", files={"file": ("f", os.urandom(UPLOAD_LIMIT))},
                            timeout=60)
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"
    json_sized = requests.post(server.url + "/evidence/anchors", data=b"{" + b" " * (256 << 10) + b"}",
                               headers={"Content-Type": "application/json"}, timeout=60)
    assert json_sized.status_code == 413  # the same size is too much for a JSON route, even unauthenticated


def test_normal_requests_pass(server: LiveServer) -> None:
    reply = requests.post(server.url + "/evidence/verify/proof", json={
        "digest": "ab" * 32, "root": "cd" * 32, "proof": ["ef" * 32] * 64}, timeout=60)
    assert reply.status_code == 200 and reply.json()["anchored"] is False
    assert requests.get(server.url + "/health", timeout=60).status_code == 200
