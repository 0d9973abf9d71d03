"""Shared FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api import session
from ledger.context import Ledger
from ledger.errors import ForbiddenError, UnauthorizedError
from ledger.evidence import EVIDENCE_PROVIDER_ROLE, Batcher
from ledger.models import ApiToken
from ledger.services.access import PUBLIC, Viewer, signed_account, viewer_of
from ledger.tokens import resolve_token

_bearer = HTTPBearer(auto_error=False, description="API token bound to an evidence-provider account")


def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]


def get_provider(
    ledger: LedgerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiToken:
    """The token's account, which must hold the evidence-provider role on chain (else 403)."""
    token = resolve_token(ledger.engine, credentials.credentials if credentials else None)
    if not ledger.evidence.has_role(EVIDENCE_PROVIDER_ROLE, token.address):
        raise ForbiddenError(f"the account of this token ({token.account}, {token.address}) does not hold "
                             "the evidence provider role")
    return token


ProviderDep = Annotated[ApiToken, Depends(get_provider)]


async def get_account(
    request: Request,
    ledger: LedgerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_ledger_address: Annotated[str | None, Header(description="A signed request's account")] = None,
    x_ledger_timestamp: Annotated[str | None, Header(description="A signed request's time (unix s)")] = None,
    x_ledger_signature: Annotated[str | None, Header(description="EIP-191 signature of the request text")] = None,
) -> str | None:
    """The account a request is made by: its API token's (stored hashed), or the one whose own key signed the
    request (ledger.services.access.request_text), or — for a read (GET) only — the browser session of a signed-in
    user (``api.session``); None for the public."""
    if credentials is not None:
        return resolve_token(ledger.engine, credentials.credentials).account
    if x_ledger_signature or x_ledger_address:
        if not (x_ledger_address and x_ledger_timestamp and x_ledger_signature):
            raise UnauthorizedError("a signed request carries X-Ledger-Address, X-Ledger-Timestamp and "
                                    "X-Ledger-Signature")
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        body = await request.body()
        return await run_in_threadpool(signed_account, ledger, x_ledger_address, x_ledger_timestamp,
                                       x_ledger_signature, request.method, path, body)
    if request.method == "GET" and session.COOKIE in request.cookies:
        return await run_in_threadpool(session.session_account, ledger, request.cookies[session.COOKIE])
    return None


AccountDep = Annotated[str | None, Depends(get_account)]


def get_actor(account: AccountDep) -> str:
    """The account a request acts as; the service checks the role each step needs."""
    if account is None:
        raise UnauthorizedError("this operation needs an API token (`Authorization: Bearer <token>`) or a request "
                                "signed with the account's key (X-Ledger-Address, -Timestamp, -Signature)")
    return account


ActorDep = Annotated[str, Depends(get_actor)]


def get_viewer(
    ledger: LedgerDep,
    account: AccountDep,
    x_legal_document: Annotated[str | None, Header(pattern=r"^0x[0-9a-fA-F]{64}$", description="SHA-256 of the "
                                                   "judicial document a court's read rests on")] = None,
    x_legal_reference: Annotated[str | None, Header(max_length=600, description="its number (案号), "
                                                    "percent-encoded (UTF-8)")] = None,
    x_access_basis: Annotated[str | None, Header(max_length=600, description="a bank's or an exchange's matter "
                                                 "the read is for (the pledge, the admission review), "
                                                 "percent-encoded (UTF-8); kept in the access log")] = None,
) -> Viewer:
    """Who reads: the public, or an account in its capacities (REGISTRATION_RULES §6.2)."""
    if account is None:
        return PUBLIC
    return viewer_of(ledger, account, x_legal_document, unquote(x_legal_reference) if x_legal_reference else None,
                     unquote(x_access_basis) if x_access_basis else None)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def get_batcher(request: Request, ledger: LedgerDep, provider: ProviderDep) -> Batcher:
    """One batcher per provider account, created on first use and closed at shutdown."""
    batchers: dict[str, Batcher] = request.app.state.batchers
    with request.app.state.batchers_lock:
        if provider.account not in batchers:
            batchers[provider.account] = Batcher(
                ledger.evidence, ledger.sender(provider.account),
                interval=ledger.settings.batch_interval, max_size=ledger.settings.batch_max_size,
            )
        return batchers[provider.account]


BatcherDep = Annotated[Batcher, Depends(get_batcher)]

