"""The leader lock of ``ledger serve --workers N`` (ledger.leader): one holder at a time, named in the file
only while it lives, and free again the moment its holder is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ledger.leader import LOCK_NAME, Leadership

HOLD = """
import sys, time
from pathlib import Path
from ledger.leader import Leadership
assert Leadership(Path(sys.argv[1])).try_lead()
print("leading", flush=True)
time.sleep(600)
"""


def test_one_holder_at_a_time(tmp_path: Path) -> None:
    first, second = Leadership(tmp_path), Leadership(tmp_path)
    assert first.leader() is None  # no server: nobody leads
    assert first.try_lead() and first.leads
    assert not second.try_lead() and not second.leads
    leader = second.leader()
    assert leader is not None and leader.pid == os.getpid()
    assert (tmp_path / LOCK_NAME).stat().st_mode & 0o777 == 0o600
    first.release()
    assert second.leader() is None  # the name goes with the lock
    assert second.try_lead()
    assert not first.try_lead()  # released for good: an attempt at shutdown does not take it back
    second.release()


def test_the_lock_is_free_once_its_holder_is_killed(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"leading\n"
        waiting = Leadership(tmp_path)
        assert not waiting.try_lead()
        leader = waiting.leader()
        assert leader is not None and leader.pid == holder.pid
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        assert waiting.leader() is None  # a dead process is never named, though the file still holds its pid
        deadline = time.monotonic() + 30  # the kernel frees the lock as the process ends: no wait expected
        while not waiting.try_lead():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert waiting.leads
        waiting.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
