"""Server-rendered pages: the Jinja2 environment (``api/templates``) and the static files (``api/static``).

Static assets are files: ``api/static/site.css`` is committed; ``api/static/build/`` holds what ``make setup`` builds
from pinned npm packages (``npm run build:web``: esbuild bundles ``web/*.js`` with the hash libraries). Nothing
comes from a CDN and nothing is fetched at run time. A page includes a built script only when it exists, and
works without it (forms post to the server).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api import labels
from ledger.workdays import CHINA

ROOT = Path(__file__).parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
BUILT = STATIC / "build"

#: The pages' navigation: (path, Chinese, English).
NAV: list[tuple[str, str, str]] = [
    ("/", "存证核验", "Verify"),
    ("/search", "登记查询", "Search"),
    ("/notices", "公示", "Public notices"),
    ("/account", "我的登记", "My records"),
    ("/court", "司法调取", "Courts"),
]


@cache
def _fingerprint(path: Path, mtime: float) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def asset(name: str) -> str | None:
    """The URL of static file ``name`` with a content fingerprint (browsers re-fetch a changed file), or None
    when it does not exist (a built asset before ``make setup``)."""
    path = STATIC / name
    if not path.is_file():
        return None
    return f"/static/{name}?v={_fingerprint(path, path.stat().st_mtime)}"


def china_time(seconds: int | None) -> str:
    """Unix seconds as China time, to the second (how certificates print times)."""
    if not seconds:
        return "—"
    return datetime.fromtimestamp(seconds, UTC).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def short(value: str | None, keep: int = 10) -> str:
    """A long hex value shortened for a narrow column (the full value stays in the title attribute)."""
    if not value:
        return "—"
    return value if len(value) <= 2 * keep + 1 else f"{value[:keep]}…{value[-6:]}"


templates = Jinja2Templates(directory=TEMPLATES)
templates.env.globals.update(nav=NAV, asset=asset, labels=labels, pair=labels.pair)
templates.env.filters.update(china_time=china_time, short=short)
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Renders page ``name`` with ``context``."""
    return templates.TemplateResponse(request, name, context, status_code=status_code)
