"""Nothing lost on a reload, in a real browser: upload a table, train, predict and keep the run
for Compare; then reload, open the address in a new tab, and kill and restart the server: the
dataset, the network (the same prediction), its history and the run come back each time.
Forget then deletes every row of the workspace. Once with SQLite, once with PostgreSQL (the
server that .ci/run starts; ``NN_LAB_TEST_POSTGRES``)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from dashboard.store import backend
from tests.e2e.conftest import environment, open_apps
from tests.e2e.test_e2e_tables import load_penguins, predict
from tests.e2e.ui import App, expect, start_server, stop_server, wait_healthy
from tests.test_store import postgres_url


class Server:
    """A server of the test's own on a fixed port, which the test can kill and start again."""

    def __init__(self, log_dir, store_url: str):
        self.log_dir, self.env = log_dir, {backend.ENV_URL: store_url}
        self.proc, self.url, self.starts = None, None, 0

    def start(self) -> None:
        self.starts += 1
        log_path = self.log_dir / f"server-{self.starts}.log"
        port = int(self.url.rsplit(":", 1)[1]) if self.url else None
        with environment(**self.env):
            self.proc, self.url = start_server(log_path, port)
        self.proc.url, self.proc.log_path = self.url, log_path
        wait_healthy(self.proc, self.url, log_path)

    def kill(self) -> None:
        stop_server(self.proc)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_server(request, browser_available, tmp_path):
    url = f"sqlite:///{tmp_path}/workspaces.sqlite"
    if request.param == "postgresql":
        url = postgres_url()
    server = Server(tmp_path, url)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def visitor(request, browser, store_server):
    yield from open_apps(request, browser, store_server)


def token_of(app: App) -> str:
    return parse_qs(urlsplit(app.page.url).query)[backend.TOKEN_PARAM][0]


def expect_everything_back(app: App, predicted: str, outputs: list[float], epochs: str) -> None:
    """The workspace as it was left: said, the dataset, the trained network (same prediction),
    its history and the run kept for Compare."""
    app.expect_alert("Your workspace is back")
    app.expect_sidebar_text("CSV file penguins.csv: 341 rows")
    app.expect_sidebar_text(re.compile(r"Training: finished, epoch " + epochs))
    app.nav("Train")
    assert app.epoch() == (int(epochs), int(epochs))
    assert app.trace_length("train.chart") > 0  # the loss curves of the history
    app.nav("Predict")
    again, outputs_again = predict(app)
    assert again == predicted
    np.testing.assert_allclose(outputs_again, outputs, rtol=0, atol=1e-12)
    app.nav("Compare")
    app.expect_main_text("run 1")
    app.assert_no_exception()


def test_reload_new_tab_and_server_restart_lose_nothing_and_forget_deletes_it(
    visitor, store_server
):
    app = visitor("/Data")
    load_penguins(app)
    app.nav("Train")
    app.page.get_by_text("Fastest", exact=True).click()
    app.settle()
    app.number("Epochs", 60)
    app.click("Start")
    app.wait_until(lambda: "Finished" in app.main_text(), timeout=120, what="training")
    app.nav("Predict")
    predicted, outputs = predict(app)
    app.nav("Compare")
    app.expect_main_text("run 1")
    address, token = app.page.url, token_of(app)
    assert backend.valid_token(token)

    # 1. The reload button.
    app.page.reload()
    app.page.wait_for_selector("h1", timeout=60_000)
    app.settle()
    expect_everything_back(app, predicted, outputs, "60")
    assert token_of(app) == token

    # 2. The address in a new tab (a new browser context: nothing shared but the address).
    other = visitor("/")
    other.page.goto(address)
    other.settle()
    expect_everything_back(other, predicted, outputs, "60")

    # 3. The server killed and started again on the same port.
    store_server.kill()
    store_server.start()
    app.page.goto(address)
    app.page.wait_for_selector("h1", timeout=60_000)
    app.settle()
    expect_everything_back(app, predicted, outputs, "60")

    # 4. Forget: every row of the workspace goes; the page starts afresh under a new token.
    kept = backend.open_store(store_server.env[backend.ENV_URL])
    try:
        assert kept.rows(token) >= 4  # the workspace, its settings, data, network and runs
        app.nav("Home")
        app.page.get_by_role("button", name="Forget this workspace").click()
        app.page.get_by_role("button", name="Yes, forget everything").click()
        app.settle()
        app.expect_alert("This workspace was forgotten", "success")
        assert kept.rows(token) == 0
    finally:
        kept.close()
    assert token_of(app) != token
    app.expect_sidebar_text("Iris")
    app.page.goto(address)
    app.settle()
    app.expect_alert("not kept here any more")
    expect(app.page.get_by_text("Your workspace is back")).to_have_count(0)
    app.assert_no_exception()
