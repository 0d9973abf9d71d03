"""Which worker of ``ledger serve --workers N`` runs the background work (issue #10 §6).

Every worker serves requests and checks the chain itself; the work that must run *once* per installation —
the indexer's follower writing the read models, the outbox's repair pass, the duties, checkpoint signing,
the access log's anchors — runs in the one worker that holds an exclusive ``flock`` on ``<home>/serve.lock``:
the *leader*. The kernel releases the lock when its holder ends, however it ends (SIGKILL included), so the
other workers, which try to take it every ``RETRY_SECONDS``, take over within about that long. No clock,
heartbeat or database row is involved: the lock is held exactly while the leader process lives.

The leader writes its pid and start time into the file, so any worker can say who leads (``/health``); a name
in the file counts only while that very process still runs (a pid reused by another process does not).
The descriptor is opened close-on-exec: a process the leader spawns (the batcher's tree worker, a node) never
inherits the lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

#: The lock file in the ledger's home.
LOCK_NAME = "serve.lock"
#: Seconds between a non-leader's attempts to take the lock (so the bound on a takeover).
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Leader:
    """The worker that leads: its pid and since when (Unix time)."""

    pid: int
    since: float


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks after boot (tells it from a later one reusing its pid)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return None if fields[0] == "Z" else int(fields[19])


class Leadership:
    """The leader lock of one ledger home, as seen from one process."""

    def __init__(self, home: Path) -> None:
        self.path = home / LOCK_NAME
        self._fd: int | None = None
        self._guard = threading.Lock()
        self._released = False

    @property
    def leads(self) -> bool:
        """Whether this process is the leader."""
        return self._fd is not None

    def try_lead(self) -> bool:
        """Takes the lock if nobody holds it (never waits); True if this process leads now."""
        with self._guard:
            if self._fd is not None:
                return True
            if self._released:  # shutting down: an attempt still running must not take it now
                return False
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            except BaseException:
                os.close(fd)
                raise
            pid = os.getpid()
            record = json.dumps({"pid": pid, "start": _start_time(pid), "since": time.time()}).encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, record, 0)
            self._fd = fd
            return True

    def release(self) -> None:
        """Gives the lock up for good (at shutdown); the name goes first, so nobody reads a leader that left."""
        with self._guard:
            self._released = True
            if self._fd is None:
                return
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the only descriptor releases the flock
            self._fd = None

    def leader(self) -> Leader | None:
        """Who leads now: the process named in the lock file, if it still runs; None while nobody does (a
        leader just died and no worker has taken over yet, or no server runs)."""
        try:
            record = json.loads(self.path.read_bytes() or b"null")
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or not isinstance(record.get("pid"), int):
            return None
        pid = int(record["pid"])
        started = _start_time(pid)
        if started is None or (record.get("start") is not None and started != record["start"]):
            return None  # that process is gone: its lock went with it
        return Leader(pid=pid, since=float(record.get("since", 0.0)))
