"""The FastAPI application: ``create_app(settings)``.

At start it connects to the chain and loads the deployment for it — a reset chain or a missing
deployment stops it with the reason (ledger.deployment). While it runs it follows the chain
(api/chain_guard.py, ledger.health): if the node moves it follows, if the chain stops answering or is
no longer the deployed one requests get 503 with the reason, and ``/health`` says so. Every LedgerError
becomes its HTTP status with ``{"error": {"code", "message"}}``; malformed input is a 422 with code
``invalid_request``, never a 500. Request bodies are bounded in size per route and in arrival time
(api.limits). Background work: the chain watch in every worker; the outbox keeper, checkpoint signing,
access-log anchors, duties and the indexer only in the leading worker (ledger.leader) — ``ledger serve
--workers N`` runs N processes of this app (``worker_app``), and exactly one of them leads.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import ratelimit
from api.chain_guard import ChainGuard, watch_chain
from api.errors import status_of
from api.limits import BodyLimitMiddleware, upload_routes
from api.routes import (
    access,
    account_pages,
    applications,
    checkpoints,
    court_pages,
    evidence,
    filings,
    pages,
    recognition,
    registrations,
    trust,
)
from api.templating import STATIC
from ledger import __version__
from ledger.config import Settings
from ledger.context import Ledger
from ledger.errors import (
    ChainUnavailableError,
    ConsentRequiredError,
    ContractRevertError,
    LedgerError,
    RateLimitedError,
    TransactionPendingError,
)
from ledger.evidence import Batcher
from ledger.health import ChainWatch, error_of
from ledger.indexer.sync import start_follower
from ledger.leader import RETRY_SECONDS, Leadership
from ledger.services.access import anchor_access_log
from ledger.services.duties import run_duties
from ledger.services.proofs import stamp_checkpoint
from ledger.workers import die_with_parent

log = logging.getLogger("ledger.api")


def _error(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message, **extra}})


async def _sign_checkpoints(ledger: Ledger) -> None:
    """Background task: the endorser accounts this installation holds keys for sign the latest block, and the
    time service (when a TSA is configured) obtains an RFC 3161 token over each block they signed."""
    store = ledger.checkpoints
    endorsers = ledger.accounts.with_role("endorser")
    while True:
        await asyncio.sleep(ledger.settings.checkpoint_interval)
        signed: set[tuple[int, str]] = set()
        for account in endorsers:
            try:
                row = await asyncio.to_thread(store.sign_latest, account.signer)
                signed.add((row.block_number, row.block_hash))
            except Exception:  # keep signing later; a failed round is logged, not fatal
                log.exception("checkpoint signing by %s failed", account.name)
        for number, block_hash in sorted(signed):
            try:
                await asyncio.to_thread(stamp_checkpoint, ledger, number, block_hash)
            except Exception:  # an export asks again; a TSA outage is logged, not fatal
                log.exception("time-stamping the checkpoint of block %s failed", number)


async def _keep(ledger: Ledger) -> None:
    """Background task: the outbox's maintenance pass — finish, re-send or repair stored transactions, and
    detect a chain that lost blocks (ledger.chain.outbox)."""
    while True:
        try:
            await asyncio.to_thread(ledger.outbox.keep)
        except Exception:  # a chain that does not answer: try again next round
            log.exception("outbox pass failed")
        await asyncio.sleep(ledger.settings.keeper_interval)


async def _do_duties(ledger: Ledger) -> None:
    """Background task: the duties time makes due, done by the registry itself (ledger.services.duties)."""
    while True:
        await asyncio.sleep(ledger.settings.duties_interval)
        try:
            await asyncio.to_thread(run_duties, ledger)
        except Exception:  # a chain that does not answer, a refused act: try again next round
            log.exception("duty pass failed")


async def _anchor_access_log(ledger: Ledger) -> None:
    """Background task: the access log's head anchored on chain, so tampering with the audit trail shows."""
    while True:
        await asyncio.sleep(ledger.settings.access_anchor_interval)
        try:
            await asyncio.to_thread(anchor_access_log, ledger)
        except Exception:  # a chain that does not answer: anchor next round
            log.exception("anchoring the access log failed")


class _Background:
    """The background work of one worker: the chain watch always; the singleton work — outbox repair, checkpoint
    signing, access-log anchors, duties and the indexer's follower — only while this worker leads
    (ledger.leader: one leader per home, elected by a lock the kernel frees when its holder dies)."""

    def __init__(self, ledger: Ledger, leadership: Leadership) -> None:
        self.ledger = ledger
        self.leadership = leadership
        self.tasks: list[asyncio.Task[None]] = []
        self.follower: threading.Thread | None = None
        self.stop_following = threading.Event()

    def lead(self) -> None:
        """Starts the work that runs once per installation (called on the event loop, once elected)."""
        ledger, settings = self.ledger, self.ledger.settings
        # a warning, so that it shows whatever the log level: operators look for who leads, and when it changed
        log.warning("worker %d leads: it runs the outbox keeper, the indexer, duties, checkpoints and access-log "
                    "anchors", os.getpid())
        ledger.indexer.followed_elsewhere = False
        ledger.outbox.repairs = True
        self.tasks.append(asyncio.create_task(_keep(ledger)))  # stored transactions finish in the background: a
        if settings.checkpoint_interval:  # pending write never blocks the start (issue #8)
            self.tasks.append(asyncio.create_task(_sign_checkpoints(ledger)))
        if settings.access_anchor_interval and ledger.accounts.with_role("evidence_provider"):
            self.tasks.append(asyncio.create_task(_anchor_access_log(ledger)))
        if settings.duties_interval and ledger.accounts.with_role("registrar"):
            self.tasks.append(asyncio.create_task(_do_duties(ledger)))
        # the index follows the chain: every query reads it (issue #10)
        self.follower, self.stop_following = start_follower(ledger.indexer, settings.index_interval)

    async def elect(self) -> None:
        """Background task of a worker that does not lead: tries to take the lead every ``RETRY_SECONDS``;
        meanwhile reads wait for the leader's follower (the shared cursor), not for one of their own."""
        while True:
            leads = await asyncio.to_thread(self.leadership.try_lead)
            if leads:
                try:  # batches a dead leader's worker stored but did not index (another worker may be at it)
                    await asyncio.to_thread(self.ledger.evidence.index_pending)
                except Exception:
                    log.exception("indexing stored batches failed; verification scans them until indexed")
                self.lead()
                return
            self.ledger.indexer.followed_elsewhere = True
            await asyncio.sleep(RETRY_SECONDS)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.stop_following.set()
        if self.follower is not None:
            await asyncio.to_thread(self.follower.join, 30)


class WorkerHeader:
    """ASGI middleware: every response names the worker process that answered (``X-Ledger-Worker``: its pid,
    as ``/health`` does), so an operator — or a test — can tell which of ``ledger serve --workers N`` served it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.header = (b"x-ledger-worker", str(os.getpid()).encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def named(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, named)


def _workers(leadership: Leadership) -> dict[str, object]:
    """Which worker answers, whether it leads, and who leads now (None while nobody does: a leader just died
    and no worker has taken over yet — within ``RETRY_SECONDS``)."""
    leader = leadership.leader()
    return {"worker": {"pid": os.getpid(), "leader": leadership.leads},
            "leader": {"pid": leader.pid, "since": leader.since} if leader else None}


def create_app(settings: Settings | None = None, ledger: Ledger | None = None) -> FastAPI:
    """The API for one ledger installation (one worker of it, with ``ledger serve --workers N``)."""
    ledger = ledger or Ledger(settings or Settings.from_env())
    watch = ChainWatch(ledger)
    leadership = Leadership(ledger.settings.home)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _ = ledger.deployment  # refuse to serve a reset chain or an undeployed one
        _ = ledger.workflow  # registers its outbox completion before the keeper's first pass
        background = _Background(ledger, leadership)
        background.tasks.append(asyncio.create_task(watch_chain(watch, ledger.settings.chain_check_interval)))
        if leadership.try_lead():
            ledger.evidence.index_pending()  # complete the digest index of batches recorded before a crash
            background.lead()
        else:  # reads wait for the leader's follower; journal repairs are the leader's
            ledger.indexer.followed_elsewhere, ledger.outbox.repairs = True, False
            background.tasks.append(asyncio.create_task(background.elect()))
        try:
            yield
        finally:
            await background.stop()
            batchers: dict[str, Batcher] = app.state.batchers
            for batcher in batchers.values():
                batcher.close()
            ledger.indexer.followed_elsewhere, ledger.outbox.repairs = False, True
            leadership.release()

    app = FastAPI(
        title="Data-asset ledger", version=__version__, lifespan=lifespan,
        description="Evidence anchoring and verification (存证与核验) for data-asset registration.",
    )
    app.state.ledger = ledger
    app.state.watch = watch
    app.state.leadership = leadership
    app.add_middleware(ChainGuard, watch=watch)
    app.state.batchers = {}
    ratelimit.install(app.state, ledger.settings.public_objections_per_hour, ledger.settings.public_uploads_per_minute)
    app.state.batchers_lock = threading.Lock()

    @app.exception_handler(LedgerError)
    async def _ledger_error(_: Request, exc: LedgerError) -> JSONResponse:
        if isinstance(exc, ChainUnavailableError):
            watch.invalidate()  # re-checked now (and follows the node if it moved): a reset chain explains it
            status = await run_in_threadpool(watch.current)
            if not status.ok:
                error = error_of(status)
                return _error(status_of(error), error.code, error.user_message, chain=status.status)
        if isinstance(exc, RateLimitedError):
            response = _error(status_of(exc), exc.code, exc.user_message)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if isinstance(exc, TransactionPendingError):
            response = _error(status_of(exc), exc.code, exc.user_message, tx_hashes=exc.tx_hashes)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if isinstance(exc, ConsentRequiredError):  # what to sign, for the parties' wallets
            return _error(status_of(exc), exc.code, exc.user_message, consents=exc.consents)
        if isinstance(exc, ContractRevertError):  # the contract's own error name, for programs
            return _error(status_of(exc), exc.code, exc.user_message, refusal=exc.error_name)
        return _error(status_of(exc), exc.code, exc.user_message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        first = details[0] if details else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"][1:]) or "request"
        return _error(422, "invalid_request", f"{where}: {first['msg']}", details=details)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        status = await run_in_threadpool(watch.check)
        if not status.ok:  # e.g. a call to a contract that is gone: the chain's state explains it
            error = error_of(status)
            return _error(status_of(error), error.code, error.user_message, chain=status.status)
        log.exception("unexpected error", exc_info=exc)
        return _error(500, "internal_error", "internal error; it has been logged")

    @app.get("/health", tags=["meta"], responses={503: {"description": "chain degraded or refused"}})
    def health() -> JSONResponse:
        """200 only when the chain answers and its genesis and contract code match the manifest; else 503
        with ``status`` "degraded" (it does not answer) or "refused" (it is not the deployed chain). While the
        outbox repairs a chain that lost blocks, the status is "degraded" (200): it serves, and says so.
        ``worker``: the process that answered and whether it leads; ``leader``: who leads now (null while
        nobody does — after a leader died, until another worker takes over)."""
        status = watch.check()
        body: dict[str, object] = status.as_dict() | _workers(leadership)
        if not status.ok:
            return JSONResponse(status_code=503, content=body)
        deployment = ledger.deployment
        journal = ledger.outbox.status()
        rollback = journal.last_rollback
        if rollback is not None and journal.pending > 0:
            body["status"] = "degraded"
        index = ledger.indexer.cursor()
        body |= {"chain_id": deployment.chain_id, "genesis_hash": deployment.genesis_hash,
                 "deployment_id": deployment.deployment_id,
                 "contracts": {n: r.address for n, r in deployment.contracts.items()},
                 "journal": {"pending": journal.pending, "failed": journal.failed,
                             "oldest_pending_tx": journal.oldest_pending_tx, "failures": journal.failures,
                             "last_rollback": rollback.detail if rollback else None},
                 "index": {"indexed_block": index.block_number if index else None}}
        return JSONResponse(content=body)

    app.include_router(evidence.router)
    app.include_router(registrations.router)
    app.include_router(applications.router)
    app.include_router(filings.router)
    app.include_router(access.router)
    app.include_router(checkpoints.router)
    app.include_router(trust.router)
    app.include_router(pages.router)
    app.include_router(account_pages.router)
    app.include_router(court_pages.router)
    app.include_router(recognition.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")  # the pages' CSS and built script
    limits = ledger.settings
    app.add_middleware(BodyLimitMiddleware, uploads=upload_routes(app.routes), json_limit=limits.max_json_bytes,
                       upload_limit=limits.max_upload_bytes, timeout=limits.body_timeout)
    app.add_middleware(WorkerHeader)  # outermost: every answer names its worker, refusals included
    return app


#: Set by ``ledger serve --workers N`` to its own pid: each worker exits as soon as that process is gone.
SUPERVISOR_ENV = "LEDGER_SERVE_SUPERVISOR"


def worker_app() -> FastAPI:
    """The app of one worker of ``ledger serve --workers N`` (uvicorn's factory, called in each worker process;
    the settings come from the environment, ``LEDGER_HOME`` included). The worker watches the supervising
    process and exits the moment it is gone, even after SIGKILL (ledger.workers), so no worker is orphaned."""
    supervisor = os.environ.get(SUPERVISOR_ENV)
    if supervisor:
        die_with_parent(int(supervisor))
    return create_app(Settings.from_env())
