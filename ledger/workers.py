"""Worker processes that die with the process that started them.

A ``ProcessPoolExecutor`` worker waits on a pipe whose write end it holds itself, so it outlives a parent
killed with SIGKILL — and so does multiprocessing's resource tracker, which stays up as long as any process
holds its pipe (the worker does). Each worker here watches its parent and exits the moment the parent is
gone; the tracker then sees its pipe close, unlinks the semaphores the dead parent leaked, and exits too.

How the worker watches: a daemon thread blocks on a pidfd of the parent (Linux ≥ 5.3), which becomes
readable when the parent exits; without pidfd it polls the parent pid. ``PR_SET_PDEATHSIG`` is not used:
it fires when the *thread* that spawned the worker exits — for the batcher that is a short-lived request
thread — which would kill a healthy worker and break the pool.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
import time
from concurrent.futures import ProcessPoolExecutor

#: Seconds between checks of the parent pid where pidfd is unavailable.
POLL_INTERVAL = 0.5


def process_pool(max_workers: int = 1) -> ProcessPoolExecutor:
    """A spawn-context process pool whose workers exit as soon as this process is gone, however it ends."""
    return ProcessPoolExecutor(max_workers=max_workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=die_with_parent, initargs=(os.getpid(),))


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: starts a watchdog that ends this process once ``parent_pid`` has exited."""
    try:
        pidfd: int | None = os.pidfd_open(parent_pid)
    except (AttributeError, OSError):  # no pidfd (old kernel, not Linux), or the parent is gone already
        pidfd = None
    if os.getppid() != parent_pid:  # re-parented: the parent died before the watchdog could start
        os._exit(0)
    threading.Thread(target=_watch, args=(parent_pid, pidfd), name="parent-watchdog", daemon=True).start()


def _watch(parent_pid: int, pidfd: int | None) -> None:
    if pidfd is not None:
        select.select([pidfd], [], [])  # readable once the parent has exited
    else:
        while os.getppid() == parent_pid:
            time.sleep(POLL_INTERVAL)
    os._exit(0)  # no cleanup to do: the worker holds no state of its own
