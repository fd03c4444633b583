"""Fixtures for the browser tests: the real server, Chromium through playwright, fresh tabs.

- ``streamlit_server``: ``streamlit run streamlit_app.py`` on a free localhost port for the whole
  session, stopped afterwards (its whole process group), also when a test fails.
- ``browser``: Debian's Chromium (/usr/bin/chromium) driven by the pip ``playwright`` package.
- ``new_app``: ``new_app(path)`` opens a page in a fresh browser context (a new visitor);
  ``app`` is one such tab.
- ``screenshot``: ``screenshot(app, "train")`` writes docs/screenshots/train.png when asked with
  ``SCREENSHOTS=1`` or ``--screenshots``.

Without Chromium (or playwright) the tests skip with a message saying how to install it; with
``CI=true`` they fail instead, because CI must run them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from pathlib import Path

import pytest

from tests.e2e.ui import (
    CHROMIUM,
    INSTALL_HINT,
    ROOT,
    VIEWPORT,
    App,
    launch_chromium,
    log_tail,
    start_server,
    stop_server,
    wait_healthy,
)

SCREENSHOT_DIR = ROOT / "docs" / "screenshots"
E2E_DIR = Path(__file__).resolve().parent


def pytest_addoption(parser):
    # Registered when pytest is pointed at tests/e2e (or a file in it); SCREENSHOTS=1 works always.
    parser.addoption(
        "--screenshots",
        action="store_true",
        default=False,
        help="write a screenshot of each page to docs/screenshots/",
    )


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} The browser tests are mandatory in CI (CI=true).", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_available():
    """Skip (fail in CI) when Chromium or the playwright package is missing."""
    if not Path(CHROMIUM).exists():
        _unavailable(INSTALL_HINT)
    if importlib.util.find_spec("playwright") is None:
        _unavailable("The Python package playwright is missing: `pip install playwright`.")
    return True


@pytest.fixture(scope="session")
def streamlit_server(browser_available, tmp_path_factory):
    """The app served on a free localhost port; yields its URL; stopped afterwards."""
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    proc, url = start_server(log_path)
    try:
        wait_healthy(proc, url, log_path, timeout=60)
        proc.url = url
        proc.log_path = log_path
        yield proc
    finally:
        stop_server(proc)


@pytest.fixture(scope="session")
def server_url(streamlit_server):
    return streamlit_server.url


@pytest.fixture(scope="session")
def browser(browser_available):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_app(request, browser, streamlit_server):
    """``new_app(path="/")``: a page opened in a fresh browser context (a new visitor)."""
    contexts, apps = [], []
    request.node.e2e_apps = apps  # for the failure report

    def open_app(path: str = "/") -> App:
        context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
        context.set_default_timeout(30_000)
        contexts.append(context)
        app = App(context.new_page(), streamlit_server.url)
        apps.append(app)
        return app.open(path)

    try:
        yield open_app
    finally:
        for context in contexts:
            context.close()
    dialogs = [d for app in apps for d in app.dialogs]
    assert not dialogs, f"the page opened dialogs: {dialogs}"


@pytest.fixture
def app(new_app):
    """The Home page in a fresh browser context."""
    return new_app("/")


@pytest.fixture
def screenshot(request):
    """``screenshot(app, name)``: docs/screenshots/<name>.png when screenshots are asked for."""
    wanted = os.environ.get("SCREENSHOTS") == "1"
    # the option is only registered when tests/e2e is on the command line
    with contextlib.suppress(ValueError):
        wanted = wanted or bool(request.config.getoption("--screenshots"))

    def take(app: App, name: str) -> Path | None:
        if not wanted:
            return None
        path = SCREENSHOT_DIR / f"{name}.png"
        app.screenshot(path)
        return path

    return take


FAILURE_DIR = Path(os.environ.get("E2E_FAILURE_DIR", "/tmp/e2e-failures"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test: the server's log in the report, and screenshots of its tabs."""
    report = yield
    if not report.failed or "streamlit_server" not in getattr(item, "fixturenames", ()):
        return report
    server = getattr(item, "funcargs", {}).get("streamlit_server")
    if server is not None:
        report.sections.append(("streamlit server log (tail)", log_tail(server.log_path)))
    shots = []
    for i, app in enumerate(getattr(item, "e2e_apps", [])):
        path = FAILURE_DIR / f"{item.name}-{report.when}-{i}.png"
        with contextlib.suppress(Exception):
            path.parent.mkdir(parents=True, exist_ok=True)
            app.page.screenshot(path=str(path), full_page=True)
            shots.append(f"{path} ({app.page.url})")
    if shots:
        report.sections.append(("screenshots of the open tabs", "\n".join(shots)))
    return report
