"""Rations for the public: how often one client address may make the server do costly work on its behalf.

A public objection (the notice page's form) anchors its evidence on chain on the registry's account, and the
no-script verify fallback hashes an uploaded file on the server: both are open to anyone, so each is rationed per
client address with a token bucket (a burst of the whole allowance, refilled evenly over its period). A request
over the ration is refused with ``RateLimitedError`` (429 and Retry-After) before any work is done. The buckets
live in the serving process: with several workers, the ration is per worker (an upper bound, not exact).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from ledger.errors import RateLimitedError

#: Buckets idle this long are forgotten (bounded memory whatever the number of client addresses).
IDLE_SECONDS = 3600.0
MAX_BUCKETS = 50_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class Ration:
    """``allowance`` requests per ``period`` seconds per client address; 0 = no limit."""

    def __init__(self, what: str, allowance: int, period: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.what, self.allowance, self.period, self.clock = what, allowance, period, clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> None:
        """Takes one request from ``client``'s ration, or raises RateLimitedError saying when to come back."""
        if self.allowance <= 0:
            return
        rate = self.allowance / self.period
        now = self.clock()
        with self._lock:
            if len(self._buckets) >= MAX_BUCKETS:
                self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < IDLE_SECONDS}
            bucket = self._buckets.get(client) or _Bucket(float(self.allowance), now)
            bucket.tokens = min(float(self.allowance), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            self._buckets[client] = bucket
            if bucket.tokens < 1:
                wait = math.ceil((1 - bucket.tokens) / rate)
                raise RateLimitedError(f"too many {self.what} from your address: at most {self.allowance} per "
                                       f"{_period(self.period)}; try again in {wait} s", retry_after=wait)
            bucket.tokens -= 1


def _period(seconds: float) -> str:
    return {60.0: "minute", 3600.0: "hour"}.get(seconds, f"{seconds:g} s")


def client_of(request: Request) -> str:
    """The client's address as the server sees it (behind a reverse proxy, configure it to pass the real one)."""
    return request.client.host if request.client else "unknown"


def ration(request: Request, name: str) -> Ration:
    """The app's ration ``name`` (created by ``install``)."""
    found: Ration = request.app.state.rations[name]
    return found


def install(state: object, objections_per_hour: int, uploads_per_minute: int) -> None:
    """Creates the app's rations on its ``state``."""
    state.rations = {  # type: ignore[attr-defined]
        "objections": Ration("objections", objections_per_hour, 3600.0),
        "uploads": Ration("file uploads", uploads_per_minute, 60.0),
    }
