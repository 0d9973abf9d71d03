"""Shared FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ledger.context import Ledger
from ledger.errors import ForbiddenError
from ledger.evidence import EVIDENCE_PROVIDER_ROLE, Batcher
from ledger.models import ApiToken
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


def get_actor(
    ledger: LedgerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The account a request acts as (its token's); the service checks the role each step needs."""
    return resolve_token(ledger.engine, credentials.credentials if credentials else None).account


ActorDep = Annotated[str, Depends(get_actor)]


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

