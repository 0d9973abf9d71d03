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
from pathlib import Path

from ledger.files import write_private

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


def issue(home: Path, account: str, now: float | None = None) -> str:
    """A session cookie's value for ``account``."""
    expires = int((now or time.time()) + SESSION_SECONDS)
    text = f"{account.encode().hex()}.{expires}"
    return f"{text}.{_mac(_key(home), text)}"


def account_of(home: Path, cookie: str | None, now: float | None = None) -> str | None:
    """The account a session cookie stands for, or None if it is missing, forged or expired."""
    if not cookie or cookie.count(".") != 2:
        return None
    name_hex, expires, mac = cookie.split(".")
    if not hmac.compare_digest(mac, _mac(_key(home), f"{name_hex}.{expires}")):
        return None
    try:
        if int(expires) < (now or time.time()):
            return None
        return bytes.fromhex(name_hex).decode()
    except ValueError:
        return None


def csrf_token(home: Path, cookie: str) -> str:
    """The token a page's forms carry: bound to the session, so another site cannot post as its user."""
    return _mac(_key(home), "csrf:" + cookie)


def csrf_ok(home: Path, cookie: str | None, token: str | None) -> bool:
    return bool(cookie and token and hmac.compare_digest(csrf_token(home, cookie), token))
