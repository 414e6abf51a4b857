"""One real server (uvicorn on this run's test database, its own Redis) and one headless
Debian Chromium per browser-test module."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.live_server import REPO, LiveServer, live_database_url, running_redis

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS = REPO / ".multica" / "test" / "screenshots"


def chromium_path() -> str | None:
    configured = os.environ.get("MULTICA_CHROMIUM")
    for candidate in (configured, *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def web_redis():
    with running_redis() as server:
        yield server


@pytest.fixture(scope="module")
def web_db_url(django_db_setup, django_db_blocker) -> str:
    return live_database_url()


@pytest.fixture(scope="module")
def web_server(web_db_url, web_redis):
    server = LiveServer(web_db_url, web_redis, settings_module="tests.web.server_settings")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium found (apt-get install chromium, or set MULTICA_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps are ordinary blocking calls.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
