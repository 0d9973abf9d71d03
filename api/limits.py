"""Bounded request bodies: a size limit per route and a stall timeout, enforced while the body arrives.

Every route gets the small JSON limit (``Settings.max_json_bytes``) unless it is marked
``@streamed_upload`` — a file upload that is hashed and discarded — and then gets ``Settings.max_upload_bytes``
(Starlette spools an upload to a temporary file before the route hashes it, so that limit also bounds the
disk one request can take).
A declared ``Content-Length`` above the limit is refused before the application runs; a chunked body is
counted as it arrives and refused as soon as it passes the limit. A body that stops arriving (no bytes for
``Settings.body_timeout`` seconds) is refused with 408. Each refusal is the ledger's error body
(``payload_too_large``, ``request_timeout``) with ``Connection: close``, so the server drops the rest of the
body instead of reading it.

(Starlette's own ``max_body_size`` answers in plain text, is fixed per route at import time and has no
timeout, hence this middleware.)
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, NoReturn, TypeVar

from fastapi.routing import iter_route_contexts
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import status_of
from ledger.errors import LedgerError, PayloadTooLargeError, RequestTimeoutError

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
_STREAMED: set[Callable[..., Any]] = set()


def streamed_upload(endpoint: Endpoint) -> Endpoint:
    """Marks an endpoint whose body is a file upload (hashed, then discarded): it gets the upload limit."""
    _STREAMED.add(endpoint)
    return endpoint


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"


class _BodyRefused(Exception):
    """Raised into the application once the refusal has been sent; it only unwinds the request."""


class UploadRoute(NamedTuple):
    """Where a ``@streamed_upload`` endpoint is served."""

    path: re.Pattern[str]
    methods: frozenset[str]


def upload_routes(routes: Sequence[BaseRoute]) -> list[UploadRoute]:
    """The routes among ``routes`` (including those of included routers) whose endpoint takes uploads."""
    return [UploadRoute(context.path_regex, frozenset(context.methods or ()))
            for context in iter_route_contexts(routes) if context.endpoint in _STREAMED]


class BodyLimitMiddleware:
    """ASGI middleware bounding the size and the arrival time of every HTTP request body."""

    def __init__(self, app: ASGIApp, uploads: Sequence[UploadRoute], json_limit: int, upload_limit: int,
                 timeout: float) -> None:
        self.app = app
        self.uploads = tuple(uploads)
        self.json_limit = json_limit
        self.upload_limit = upload_limit
        self.timeout = timeout

    def limit_for(self, scope: Scope) -> int:
        """The body limit of the route ``scope`` asks for: the upload limit for upload routes, else the JSON one."""
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):]
        upload = any(scope["method"] in route.methods and route.path.match(path) for route in self.uploads)
        return self.upload_limit if upload else self.json_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(PayloadTooLargeError(
                f"the request body ({_size(int(declared))}) is larger than the {_size(limit)} this route accepts"),
                scope, send)
            return
        await _BoundedBody(self.app, limit, self.timeout)(scope, receive, send)


class _BoundedBody:
    """One request: counts body bytes, times each wait for more, and answers in place of the app once
    it refused the body."""

    def __init__(self, app: ASGIApp, limit: int, timeout: float) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout
        self.received = 0
        self.complete = False
        self.response_started = False
        self.refused = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send
        try:
            await self.app(scope, self.receive, self.send)
        except _BodyRefused:
            pass
        except Exception:
            if not self.refused:  # an error of the application itself, not the unwinding of a refusal
                raise

    async def receive(self) -> Message:
        if self.complete:  # the body is in; waiting for a disconnect is not a stall
            return await self._receive()
        try:
            message = await asyncio.wait_for(self._receive(), self.timeout)
        except TimeoutError:
            await self.refuse(RequestTimeoutError(
                f"the request body stalled: nothing arrived for {self.timeout:g} s"))
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                await self.refuse(PayloadTooLargeError(
                    f"the request body is larger than the {_size(self.limit)} this route accepts"))
            self.complete = not message.get("more_body", False)
        else:
            self.complete = True
        return message

    async def send(self, message: Message) -> None:
        if self.refused:  # the client already has its answer; drop whatever the app makes of the failure
            return
        if message["type"] == "http.response.start":
            self.response_started = True
        await self._send(message)

    async def refuse(self, error: LedgerError) -> NoReturn:
        """Answers ``error`` (unless a response is already under way) and unwinds the application."""
        if not self.response_started:
            self.refused = True
            await _refuse(error, self._scope, self._send)
        raise _BodyRefused(error.user_message)


async def _refuse(error: LedgerError, scope: Scope, send: Send) -> None:
    """Sends ``error`` as the ledger's error body and asks the server to close the connection."""
    response = JSONResponse(status_code=status_of(error), headers={"Connection": "close"},
                            content={"error": {"code": error.code, "message": error.user_message}})
    await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}
