"""The API follows the chain it serves (ledger.health): requests are refused while it is not ok.

``ChainGuard`` answers every request except ``/health``, the documentation, the home page and ``/static/`` with
503 and the reason's code (``chain_unavailable``, ``chain_reset``, ``not_deployed``, ``deployment_changed``)
while the chain does not answer or is not the deployed one — so a reset chain never yields a wrong "not
anchored" or a 500. Verdicts younger than ``ledger.health.MAX_AGE`` are reused; ``watch_chain`` refreshes
them every ``Settings.chain_check_interval`` seconds, and a failed chain call invalidates them.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import status_of
from ledger.health import ChainWatch, error_of

log = logging.getLogger("ledger.api")

#: Paths served whatever the chain's state: they do not read it (or, /health, report on it).
UNGUARDED = frozenset({"/health", "/", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})


class ChainGuard:
    """ASGI middleware: 503 with the chain's verdict instead of serving from a chain that is not ok."""

    def __init__(self, app: ASGIApp, watch: ChainWatch) -> None:
        self.app = app
        self.watch = watch

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] not in UNGUARDED and not scope["path"].startswith("/static/"):
            # a fresh verdict is read on the loop; only a check (chain calls) goes to a thread
            status = self.watch.fresh()
            if status is None:
                status = await run_in_threadpool(self.watch.current)
            if not status.ok:
                error = error_of(status)
                response = JSONResponse(status_code=status_of(error), content={
                    "error": {"code": error.code, "message": error.user_message, "chain": status.status}})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def watch_chain(watch: ChainWatch, interval: float) -> None:
    """Background task: checks the chain every ``interval`` seconds (following its node if it moved)."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(watch.check)
        except Exception:  # a check that fails unexpectedly is logged; the next one runs anyway
            log.exception("chain check failed")
