"""API tokens: each is bound to one operator account (e.g. an evidence provider, 存证服务商).

Only the SHA-256 of a token is stored; the token itself is shown once, when it is created.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from ledger.accounts import AccountBook
from ledger.db import session_scope
from ledger.errors import UnauthorizedError
from ledger.models import ApiToken

TOKEN_PREFIX = "ldg_"


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(engine: Engine, accounts: AccountBook, account_name: str, label: str) -> str:
    """Creates a token for ``account_name`` and returns it (the only time it is visible)."""
    account = accounts.get(account_name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with session_scope(engine) as session:
        session.add(ApiToken(label=label, token_sha256=_sha256(token), account=account.name,
                             address=account.address))
    return token


def resolve_token(engine: Engine, token: str | None) -> ApiToken:
    """The live token record for ``token``, or UnauthorizedError."""
    if not token:
        raise UnauthorizedError("this operation needs an API token: send `Authorization: Bearer <token>`")
    with Session(engine) as session:
        record = session.exec(select(ApiToken).where(ApiToken.token_sha256 == _sha256(token))).first()
    if record is None or record.revoked_at is not None:
        raise UnauthorizedError("unknown or revoked API token")
    return record


def revoke_token(engine: Engine, label: str) -> int:
    """Revokes every live token with ``label``; returns how many."""
    with session_scope(engine) as session:
        rows = session.exec(select(ApiToken).where(ApiToken.label == label, ApiToken.revoked_at == None)).all()  # noqa: E711
        for row in rows:
            row.revoked_at = datetime.now(UTC)
            session.add(row)
        return len(rows)
