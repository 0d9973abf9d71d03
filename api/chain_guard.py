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
from fastapi.responses import JSONResponse, Response
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import status_of
from api.templating import render
from ledger.health import ChainWatch, error_of

log = logging.getLogger("ledger.api")

#: Seconds a client is asked to wait before it tries again while the chain is not ok.
RETRY_AFTER = "5"

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
                request = Request(scope)
                response: Response
                if "text/html" in request.headers.get("accept", ""):  # a browser: the pages' error page
                    response = render(request, "error.html", status_code=status_of(error),
                                      message=error.user_message, heading_zh="区块链暂不可用，请稍后再试",
                                      heading_en="The chain is not available: try again shortly",
                                      back=request.url.path if not request.url.path.startswith("//") else "/")
                else:
                    response = JSONResponse(status_code=status_of(error), content={
                        "error": {"code": error.code, "message": error.user_message, "chain": status.status}})
                response.headers["Retry-After"] = RETRY_AFTER
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
