"""Browser tests: Playwright for Python driving Debian's Chromium (no browser download) against the API served as
operators run it (``ledger serve`` in its own process, tests/api/live_server.py) on the shared Anvil chain.

Every page a test opens is watched: a console error or an uncaught exception fails the test. Screenshots go to
``build/screenshots/`` (git-ignored; CI keeps them as artefacts) and must not be blank. Nothing here waits for a
fixed time: each step waits for a condition, with generous bounds for a loaded 2-core machine."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from api.templating import BUILT
from ledger.context import Ledger
from tests.api.live_server import LiveServer, live_server

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
TIMEOUT_MS = 90_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}

pytestmark = [pytest.mark.browser, pytest.mark.chain]


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        raise AssertionError(f"{what}: run `make setup`")
    pytest.skip(f"{what}: run `make setup`")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        _missing("Debian's chromium is not installed")
    if not (BUILT / "app.js").is_file():
        _missing("the pages' script is not built (api/static/build/app.js)")
    launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def server(chain: Ledger, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(chain, tmp_path_factory.mktemp("pages-server")) as served:
        yield served


@dataclass
class Watched:
    """A page, and what went wrong in it (console errors, uncaught exceptions)."""

    page: Page
    base: str
    errors: list[str] = field(default_factory=list)

    def open(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, f"{path}: {response.status if response else 'no response'}"

    def shoot(self, name: str) -> Path:
        """A full-page screenshot under build/screenshots/, checked as not blank."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        with Image.open(path) as image:
            colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 20, f"screenshot {name} is (nearly) blank: {len(colours)} colours"
        return path


def _watch(page: Page, base: str) -> Watched:
    page.set_default_timeout(TIMEOUT_MS)
    watched = Watched(page, base)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            watched.errors.append(f"console: {message.text} ({page.url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.errors.append(f"uncaught: {error} ({page.url})"))
    return watched


def _page(browser: Browser, server: LiveServer, viewport: dict[str, int], scripts: bool = True) -> Iterator[Watched]:
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True,
                                  java_script_enabled=scripts)
    watched = _watch(context.new_page(), server.url)
    yield watched
    context.close()
    assert watched.errors == [], watched.errors


@pytest.fixture
def web(browser: Browser, server: LiveServer) -> Iterator[Watched]:
    """A desktop-sized page on the live server; the test fails on any console error."""
    yield from _page(browser, server, DESKTOP)


@pytest.fixture
def phone(browser: Browser, server: LiveServer) -> Iterator[Watched]:
    """A 375 px wide page (a phone)."""
    yield from _page(browser, server, PHONE)


@pytest.fixture
def noscript(browser: Browser, server: LiveServer) -> Iterator[Watched]:
    """A page with JavaScript off: every form must still work."""
    yield from _page(browser, server, DESKTOP, scripts=False)
