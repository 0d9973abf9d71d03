"""Browser sessions for the holder's and the court's pages (issue #12 §3-4).

A user signs in once — with its API token, or by signing a login request with its own key — and the browser keeps
a session cookie: ``<account>.<expiry>.<HMAC-SHA256>`` under a key kept in the ledger's home (``session.key``,
mode 0600), so the server stores nothing per session. The cookie is HttpOnly and SameSite=Strict. It authenticates
reads (GET) of the API as well, so a signed-in holder prints its own documents from a link; anything that writes
takes a page form carrying the session's CSRF token (an HMAC of the cookie), or a token / signed request.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import Request
from sqlmodel import Session

from ledger.context import Ledger
from ledger.errors import LedgerError, UnauthorizedError
from ledger.files import write_private
from ledger.models import ApiToken
from ledger.services.access import Viewer, viewer_of

COOKIE = "ledger_session"
#: How long a session lasts (seconds).
SESSION_SECONDS = 8 * 3600
LOGIN_PATH = "/account/login"


def _key(home: Path) -> bytes:
    path = home / "session.key"
    if not path.exists():
        write_private(path, os.urandom(32).hex())
    return bytes.fromhex(path.read_text().strip())


def _mac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def issue(home: Path, account: str, now: float | None = None, token_id: int | None = None) -> str:
    """A session cookie's value for ``account``, signed in with API token ``token_id`` (the session ends when the
    token is revoked) or, None, with the account's own key."""
    expires = int((now or time.time()) + SESSION_SECONDS)
    text = f"{account.encode().hex()}.{expires}.{'t' + str(token_id) if token_id is not None else 'k'}"
    return f"{text}.{_mac(_key(home), text)}"


def account_of(home: Path, cookie: str | None, now: float | None = None,
               token_alive: Callable[[int], bool] | None = None) -> str | None:
    """The account a session cookie stands for, or None if it is missing, forged, expired — or, with
    ``token_alive``, made from an API token since revoked."""
    if not cookie or cookie.count(".") != 3:
        return None
    name_hex, expires, origin, mac = cookie.split(".")
    if not hmac.compare_digest(mac, _mac(_key(home), f"{name_hex}.{expires}.{origin}")):
        return None
    try:
        if int(expires) < (now or time.time()):
            return None
        if origin.startswith("t") and token_alive is not None and not token_alive(int(origin[1:])):
            return None
        return bytes.fromhex(name_hex).decode()
    except ValueError:
        return None


def csrf_token(home: Path, cookie: str) -> str:
    """The token a page's forms carry: bound to the session, so another site cannot post as its user."""
    return _mac(_key(home), "csrf:" + cookie)


def csrf_ok(home: Path, cookie: str | None, token: str | None) -> bool:
    return bool(cookie and token and hmac.compare_digest(csrf_token(home, cookie), token))


def token_alive(ledger: Ledger) -> Callable[[int], bool]:
    """Whether API token ``id`` still stands (not revoked): a session made from it ends with it."""
    def alive(token_id: int) -> bool:
        with Session(ledger.engine) as db:
            row = db.get(ApiToken, token_id)
            return row is not None and row.revoked_at is None
    return alive


def session_account(ledger: Ledger, cookie: str | None) -> str | None:
    """The account of a session cookie that still stands (its token, if it came from one, not revoked)."""
    return account_of(ledger.settings.home, cookie, token_alive=token_alive(ledger))


def signed_in(request: Request, ledger: Ledger) -> tuple[Viewer, str] | None:
    """The viewer of the request's session and its CSRF token; None when not signed in."""
    cookie = request.cookies.get(COOKIE)
    account = session_account(ledger, cookie)
    if account is None or cookie is None:
        return None
    try:
        return viewer_of(ledger, account), csrf_token(ledger.settings.home, cookie)
    except LedgerError:  # an account no longer in the accounts file
        return None


def form_viewer(request: Request, ledger: Ledger, csrf: str) -> Viewer | None:
    """The signed-in viewer a page's form acts for; None when nobody is signed in (send them to sign in). A form
    without this session's CSRF token — another site's — is refused."""
    signed = signed_in(request, ledger)
    if signed is None:
        return None
    if not csrf_ok(ledger.settings.home, request.cookies.get(COOKIE), csrf):
        raise UnauthorizedError("this form has expired: open the page again and resubmit")
    return signed[0]


def login_url(back: str) -> str:
    """The sign-in page, returning to ``back`` (a path of this site only) afterwards."""
    return f"{LOGIN_PATH}?next={quote(back)}" if safe_next(back) else LOGIN_PATH


def safe_next(path: str | None) -> bool:
    """Whether ``path`` is a path of this site (never another site's URL, not even protocol-relative)."""
    return bool(path) and str(path).startswith("/") and not str(path).startswith("//") and "\\" not in str(path)
