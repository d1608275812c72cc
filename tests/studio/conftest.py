"""Fixtures of the studio's browser tests: a seeded workspace, a real server, and Chromium through Playwright.

The studio must be built first (``make studio``); the server subprocess serves that build. Chromium is
Debian's ``/usr/bin/chromium`` (``scripts/ensure-chromium.sh`` installs it), driven by Python Playwright
without ``playwright install``. Without it the browser tests skip on a laptop and fail in CI.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from studio_support import SeededWorkspace, checked_page, seed_workspace

from ember.backend import Backend
from ember.server.studio import STUDIO_DIST
from ember.wiring import create_workspace
from support.server_harness import ServerProcess, start_server, stop_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "studio"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Seconds a page may take to show what a test waits for (the first load compiles nothing: it is built).


def _running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def studio_built() -> Path:
    """The studio's build, which the server serves; the browser tests cannot run without it."""
    if not (STUDIO_DIST / "index.html").is_file():
        pytest.fail(
            f"the studio is not built ({STUDIO_DIST / 'index.html'} is missing): run `make studio` "
            "(or `cd studio && npm ci && npm run build`)",
            pytrace=False,
        )
    return STUDIO_DIST


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> SeededWorkspace:
    """One seeded workspace for the session; tests only read it."""
    return seed_workspace(tmp_path_factory.mktemp("studio") / "ws")


@pytest.fixture(scope="session")
def studio_server(studio_built: Path, seeded: SeededWorkspace) -> Iterator[ServerProcess]:
    """``ember server`` on a loopback port, serving the seeded workspace and the built studio."""
    server = start_server(seeded.path, seeded.path.parent / "server.log")
    try:
        yield server
    finally:
        stop_server(server.process)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the session (each test gets a fresh context through ``page``)."""
    missing = ""
    if not CHROMIUM.is_file():
        missing = f"{CHROMIUM} is missing: run `bash scripts/ensure-chromium.sh` (or `make chromium`)"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            missing = "the playwright package is missing: pip install -e '.[dev]'"
    if missing:
        if _running_in_ci():
            pytest.fail(f"CI is set but the studio browser tests cannot run: {missing}", pytrace=False)
        pytest.skip(missing)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh browser context that fails the test if the page logs an error (see checked_page)."""
    with checked_page(browser, expected_statuses="404|503") as page:
        yield page


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    """``screenshot(page, "home")`` saves ``test-artifacts/studio/home.png``, to look at after a run."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def local_backend(tmp_path: Path) -> Iterator[Backend]:
    """A LocalBackend on a fresh workspace, for apps served in-process."""
    backend = create_workspace(tmp_path / "ws")
    try:
        yield backend
    finally:
        backend.close()
