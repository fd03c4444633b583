"""Fixtures for the browser tests: the real server, Chromium through playwright, fresh tabs.

- ``streamlit_server``: ``streamlit run streamlit_app.py`` on a free localhost port for the whole
  session, stopped afterwards (its whole process group), also when a test fails.
- ``limited_server``: another such server whose training limit is ``QUEUE_LIMIT`` runs at once
  (``NN_LAB_MAX_TRAINING``), for the queue's tests; ``new_limited_app`` opens tabs on it.
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
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.ui import (
    CHROMIUM,
    INSTALL_HINT,
    PHONE_CONTEXT,
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
# The shared server trains more runs at once than the app's default (dashboard.common.limits): a tab
# that a test closes while its run is on keeps its training slot until
# limits.TRAINING_SLOT_TIMEOUT_S has passed, and the next test may train two tabs at once.
SHARED_MAX_TRAINING = 8
QUEUE_LIMIT = 2  # the limited server's runs at once (the hosted demo's default)
SERVERS = ("streamlit_server", "limited_server", "proxy_deployment")  # logs in failure reports


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


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """Environment variables set for the block (a server started in it inherits them)."""
    old = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def serve(tmp_path_factory, name: str, **env: str):
    """Start a server with ``env`` in its environment; yield it (``.url``, ``.log_path``,
    ``.env``)."""
    log_path = tmp_path_factory.mktemp(name) / "server.log"
    with environment(**env):
        proc, url = start_server(log_path)
    try:
        wait_healthy(proc, url, log_path, timeout=60)
        proc.url = url
        proc.log_path = log_path
        proc.env = dict(env)
        yield proc
    finally:
        stop_server(proc)


@pytest.fixture(scope="session")
def streamlit_server(browser_available, tmp_path_factory):
    """The app served on a free localhost port; yields its URL; stopped afterwards."""
    yield from serve(tmp_path_factory, "streamlit", NN_LAB_MAX_TRAINING=str(SHARED_MAX_TRAINING))


@pytest.fixture(scope="module")
def limited_server(browser_available, tmp_path_factory):
    """A server of its own that trains at most ``QUEUE_LIMIT`` runs at once."""
    yield from serve(tmp_path_factory, "streamlit_limited", NN_LAB_MAX_TRAINING=str(QUEUE_LIMIT))


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


def open_apps(request, browser, server, screen: dict | None = None):
    """Yield ``open_app(path)`` for tabs on ``server`` (each a fresh browser context with the
    ``screen`` options, a desktop viewport by default); close them all afterwards."""
    contexts, apps = [], []
    request.node.e2e_apps = apps  # for the failure report
    screen = screen or {"viewport": VIEWPORT}

    def open_app(path: str = "/") -> App:
        context = browser.new_context(**screen, accept_downloads=True)
        context.set_default_timeout(30_000)
        contexts.append(context)
        app = App(context.new_page(), server.url)
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
def new_app(request, browser, streamlit_server):
    """``new_app(path="/")``: a page opened in a fresh browser context (a new visitor)."""
    yield from open_apps(request, browser, streamlit_server)


@pytest.fixture
def new_phone(request, browser, streamlit_server):
    """``new_phone(path="/")``: a page opened on a phone-sized touch screen in a fresh browser
    context (a new visitor)."""
    yield from open_apps(request, browser, streamlit_server, PHONE_CONTEXT)


@pytest.fixture
def new_limited_app(request, browser, limited_server):
    """``new_limited_app(path="/")``: like ``new_app``, on ``limited_server``."""
    yield from open_apps(request, browser, limited_server)


@pytest.fixture
def app(new_app):
    """The Home page in a fresh browser context."""
    return new_app("/")


def screenshots_wanted(request) -> bool:
    """True with ``SCREENSHOTS=1`` or ``--screenshots``."""
    wanted = os.environ.get("SCREENSHOTS") == "1"
    # the option is only registered when tests/e2e is on the command line
    with contextlib.suppress(ValueError):
        wanted = wanted or bool(request.config.getoption("--screenshots"))
    return wanted


@pytest.fixture
def screenshot(request):
    """``screenshot(app, name)``: docs/screenshots/<name>.png when screenshots are asked for."""
    wanted = screenshots_wanted(request)

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
    names = [n for n in SERVERS if n in getattr(item, "fixturenames", ())]
    if not report.failed or not names:
        return report
    for name in names:
        server = getattr(item, "funcargs", {}).get(name)
        if server is not None:
            report.sections.append((f"{name} log (tail)", log_tail(server.log_path)))
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
