"""The API as operators run it — ``python -m ledger serve`` in its own process on a free port — plus the raw
HTTP and /proc helpers the tests of its limits and its process tree need."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ledger.chain.node import free_port
from ledger.context import Ledger

#: Generous bounds for a loaded 2-core machine; nothing is asserted about how fast things happen.
START_TIMEOUT = 120.0
READ_TIMEOUT = 60.0


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    host: str
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@contextmanager
def live_server(chain: Ledger, tmp_path: Path, **env: str) -> Iterator[LiveServer]:
    """Serves ``chain``'s ledger (its home, accounts and SQLite database) from a new process."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    environment = {**os.environ, "LEDGER_HOME": str(chain.settings.home), "LEDGER_RPC_URL": chain.client.rpc_url,
                   "LEDGER_CHECKPOINT_INTERVAL": "0", **env}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "ledger", "serve", "--host", "127.0.0.1",
                                    "--port", str(port)], env=environment, stdout=out, stderr=subprocess.STDOUT)
    server = LiveServer(process, "127.0.0.1", port, log)
    try:
        _wait_until_up(server)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(READ_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_up(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"the API exited with {server.process.returncode}:\n{server.log.read_text()}")
        try:
            if requests.get(server.url + "/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the API did not come up:\n{server.log.read_text()}")


# --- workers: which one answers ----------------------------------------------------------------------


def poll(what: str, check: Callable[[], Any], timeout: float = READ_TIMEOUT) -> Any:
    """Polls ``check()`` until it returns something true (a bound for a loaded machine, not a speed test)."""
    deadline = time.monotonic() + timeout
    while True:
        if value := check():
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.05)


def health(session: requests.Session, server: LiveServer) -> dict[str, Any]:
    """``/health`` over ``session``'s connection (200 expected)."""
    answer = session.get(server.url + "/health", timeout=READ_TIMEOUT)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def worker_of(answer: requests.Response) -> int:
    """The worker that answered (``X-Ledger-Worker``)."""
    return int(answer.headers["X-Ledger-Worker"])


def sessions_on_workers(server: LiveServer, workers: int) -> dict[int, requests.Session]:
    """Kept-alive connections, one answered by each of ``workers`` workers (by pid): a connection stays with
    the worker that accepted it — until uvicorn closes it after 5 s idle and ``requests`` opens another, which
    any worker may take: so check ``worker_of`` the answer where it matters."""
    sessions: dict[int, requests.Session] = {}

    def another() -> bool:
        session = requests.Session()
        pid = health(session, server)["worker"]["pid"]
        if pid in sessions:
            session.close()
        else:
            sessions[pid] = session
        return len(sessions) == workers

    poll(f"{workers} workers answer", another)
    return sessions


# --- raw HTTP: what a client that never finishes its body sees ---------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    closed: bool  # the server closed the connection after answering


def read_response(sock: socket.socket) -> RawResponse:
    """Reads what the server sends until it closes the connection (or resets it after answering)."""
    sock.settimeout(READ_TIMEOUT)
    data = b""
    closed = False
    try:
        while chunk := sock.recv(65536):
            data += chunk
        closed = True
    except ConnectionResetError:  # closing with unread request bytes resets; the answer came before
        closed = True
    except TimeoutError:
        pass
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 "):
        raise AssertionError(f"no HTTP response, got {data[:200]!r}")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return RawResponse(int(lines[0].split()[1]), headers, json.loads(body) if body else {}, closed)


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# --- processes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    pid: int
    start_time: int  # clock ticks after boot: tells a process from a later one that reuses its pid
    cmdline: str


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of ``pid`` from /proc, or None if there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may contain spaces
    return fields[0], int(fields[1]), int(fields[19])


def descendants(root: int) -> list[Proc]:
    """Every live process descending from ``root``."""
    parents: dict[int, int] = {}
    starts: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None and stat[0] != "Z":
            parents[int(entry.name)], starts[int(entry.name)] = stat[1], stat[2]
    found: list[Proc] = []
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent:
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                except (FileNotFoundError, ProcessLookupError):
                    continue
                found.append(Proc(pid, starts[pid], cmdline))
                frontier.append(pid)
    return found


def alive(proc: Proc) -> bool:
    """Whether ``proc`` still runs (a zombie waiting to be reaped does not: it holds no memory)."""
    stat = _stat(proc.pid)
    return stat is not None and stat[2] == proc.start_time and stat[0] != "Z"
