"""The lab behind HAProxy with two replicas (deploy/serve.py), in Chromium.

- Sticky sessions: two visitors land on different replicas (their SERVERID cookies differ);
  each uploads a CSV, trains, downloads its model and uploads it back, and every request of
  each visitor is answered by its own replica (HAProxy's X-Replica header), without an error.
- The negative control: without the cookie (``--no-sticky``), an upload that reaches the replica
  which does not hold the visitor's session is refused with "400 Invalid session_id"; Ctrl-C
  then stops that launcher and everything it started.
- A fault: a replica is killed while a visitor on each replica trains. The other visitor's run
  finishes untouched; the first visitor's page reconnects to a new session that brings its
  workspace back from the shared store as last saved (paused) and trains on from there;
  the launcher starts the replica again on its port and the proxy sends visitors to it again.

HAProxy is Debian's ``haproxy`` (``apt-get install haproxy``); without it these tests skip, and
with ``CI=true`` they fail, like the other browser tests without Chromium.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from dashboard.data import datasets
from dashboard.store import backend, workspace
from tests.e2e.ui import ROOT, VIEWPORT, App, expect, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SERVE = ROOT / "deploy" / "serve.py"
COOKIE = "SERVERID"  # deploy/serve.py's affinity cookie
REPLICAS = ("replica1", "replica2")
PENGUINS = (ROOT / "tests" / "data" / "tables" / "penguins.csv").read_bytes()
IRIS = (ROOT / "data" / "Iris.csv").read_bytes()
EPOCHS = 20
# The article's run (Iris, 100 epochs) at the "watch" pace: at least 40 redraws of the chart, so
# a replica can be killed while it goes on, on a fast machine too.
RUN = "/Train"
FAULT_EPOCHS = 100
UP = re.compile(r"(replica\d+) http://127\.0\.0\.1:(\d+) pid (\d+) log \S+ is up")
READY = "the app is at"
# Streamlit's page first looks for the server under the page's own path (404 for a page).
BASE_PROBE = re.compile(r"//[^/]+/[^_][^?]*/_stcore/(health|host-config)$")


# ---- the launcher ----


@dataclass
class Deployment:
    """``deploy/serve.py`` running: the proxy's URL and the launcher's output."""

    proc: subprocess.Popen
    url: str
    log_path: Path  # the launcher's output (named like the servers' logs for the failure report)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def replicas(self) -> dict[str, tuple[int, int]]:
        """Each replica's port and pid, as the launcher last reported it up."""
        return {name: (int(port), int(pid)) for name, port, pid in UP.findall(self.output())}

    def pids(self) -> set[int]:
        """Every process the launcher said it started (replicas, restarts, HAProxy)."""
        return {int(pid) for pid in re.findall(r"\bpid (\d+)", self.output())}


def haproxy_missing() -> bool:
    return not (shutil.which("haproxy") or Path("/usr/sbin/haproxy").exists())


@pytest.fixture(scope="module")
def haproxy_available():
    """Skip (fail in CI) when HAProxy is not installed."""
    if haproxy_missing():
        reason = "HAProxy is not installed: `apt-get install haproxy` (Debian/Ubuntu)."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} The proxy tests are mandatory in CI (CI=true).", pytrace=False)
        pytest.skip(reason)
    return True


def launch(workdir: Path, *flags: str) -> Deployment:
    """Start ``deploy/serve.py --replicas 2`` on a free port; return once it serves the app."""
    port = free_port()
    log_path = workdir / "serve.out"
    command = [sys.executable, str(SERVE), "--replicas", "2", "--port", str(port)]
    command += ["--address", "127.0.0.1", "--workdir", str(workdir), *flags]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deployment = Deployment(proc, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + 120
    while READY not in deployment.output():
        if proc.poll() is not None or time.monotonic() > deadline:
            shut(deployment)
            raise RuntimeError(f"serve.py did not start:\n{deployment.output()}")
        time.sleep(0.2)
    return deployment


def shut(deployment: Deployment, signum: int = signal.SIGTERM) -> int:
    """Ask the launcher to stop (SIGTERM, or SIGINT as Ctrl-C); its exit code."""
    proc = deployment.proc
    if proc.poll() is None:
        proc.send_signal(signum)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # its children go with it (parent-death signal)
        proc.wait(timeout=10)
        raise


def alive(pid: int) -> bool:
    """True while process ``pid`` runs (a zombie waiting to be reaped does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def proxy_deployment(browser_available, haproxy_available, tmp_path_factory):
    """Two replicas behind sticky HAProxy for this module; stopped afterwards (SIGTERM), and
    nothing it started may outlive it."""
    deployment = launch(tmp_path_factory.mktemp("sticky"))
    try:
        yield deployment
    finally:
        code = shut(deployment)
    survivors = sorted(pid for pid in deployment.pids() if alive(pid))
    assert (code, survivors) == (0, []), deployment.output()


def replica_answering(url: str, cookie: str | None = None) -> str | None:
    """The replica that answers a health check through the proxy (the X-Replica header)."""
    request = urllib.request.Request(f"{url}/_stcore/health")
    if cookie:
        request.add_header("Cookie", f"{COOKIE}={cookie}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.headers.get("X-Replica")
    except OSError:
        return None


# ---- visitors ----


@dataclass
class Visitor:
    """A tab in a browser context of its own, with every response and WebSocket it saw."""

    app: App
    responses: list = field(default_factory=list)  # playwright Response objects
    failed: list[str] = field(default_factory=list)  # requests that got no answer
    sockets: list[str] = field(default_factory=list)

    @property
    def page(self):
        return self.app.page

    def replica(self) -> str | None:
        """The replica the affinity cookie pins this visitor to."""
        cookies = self.page.context.cookies()
        return next((c["value"] for c in cookies if c["name"] == COOKIE), None)

    def errors(self) -> list[str]:
        """Every request to the app that got an error status or no answer at all.

        Not counted: requests to other hosts (the icon font's, unreachable offline), and the
        probe with which Streamlit's page looks for the server under the page's own path first
        (``/Data/_stcore/health``: 404, then ``/_stcore/health``), as it does without a proxy.
        """
        origin = self.app.base_url + "/"
        bad = [
            f"{r.status} {r.request.method} {r.url}"
            for r in self.responses
            if r.status >= 400 and r.url.startswith(origin) and not BASE_PROBE.search(r.url)
        ]
        return bad + [f for f in self.failed if origin in f]

    def served_by(self) -> set[str]:
        """The replicas that answered this visitor's requests."""
        return {r.headers["x-replica"] for r in self.responses if "x-replica" in r.headers}

    def requests_to(self, part: str, method: str | None = None) -> list:
        return [
            r
            for r in self.responses
            if part in r.url and (method is None or r.request.method == method)
        ]


@pytest.fixture
def open_visitors(request, browser):
    """``open_visitors(deployment, path, n=1)``: ``n`` pages opened at once, each in a fresh
    browser context (a new visitor) that records its responses; all closed afterwards."""
    contexts, apps = [], []
    request.node.e2e_apps = apps  # screenshots in the failure report

    def open_visitors(deployment: Deployment, path: str = "/", n: int = 1) -> list[Visitor]:
        visitors = []
        for _ in range(n):
            context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
            context.set_default_timeout(30_000)
            contexts.append(context)
            page = context.new_page()
            visitor = Visitor(App(page, deployment.url))
            page.on("response", lambda r, v=visitor: v.responses.append(r))
            page.on(
                "requestfailed",
                lambda r, v=visitor: v.failed.append(f"{r.method} {r.url}: {r.failure}"),
            )
            page.on("websocket", lambda ws, v=visitor: v.sockets.append(ws.url))
            apps.append(visitor.app)
            page.goto(deployment.url + path, wait_until="commit")  # all load at the same time
            visitors.append(visitor)
        for visitor in visitors:
            visitor.page.wait_for_selector("h1", timeout=60_000)
            visitor.app.settle()
        return visitors

    try:
        yield open_visitors
    finally:
        for context in contexts:
            context.close()
    dialogs = [d for app in apps for d in app.dialogs]
    assert not dialogs, f"the page opened dialogs: {dialogs}"


def one_on_each_replica(open_visitors, deployment: Deployment, path: str) -> dict[str, Visitor]:
    """Open visitors (two at once, then one by one) until each replica has one; the first
    visitor of each replica, by replica."""
    found: dict[str, Visitor] = {}
    for visitor in open_visitors(deployment, path, n=2):
        found.setdefault(visitor.replica(), visitor)
    for _ in range(4):
        if set(found) == set(REPLICAS):
            return {name: found[name] for name in REPLICAS}
        (visitor,) = open_visitors(deployment, path)
        found.setdefault(visitor.replica(), visitor)
    raise AssertionError(f"six visitors landed on {sorted(found, key=str)} only")


def finished(app: App) -> bool:
    text = app.main_text()
    return "Finished:" in text or "Stopped early" in text


def uploader(app: App, label: str):
    return app.page.locator("[data-testid='stFileUploader']").filter(has_text=label)


def put_file(app: App, label: str, name: str, content: bytes, mime: str = "text/csv") -> None:
    """Put a file into the uploader labelled ``label`` without waiting (``App.upload`` waits)."""
    uploader(app, label).locator("input[type='file']").set_input_files(
        {"name": name, "mimeType": mime, "buffer": content}
    )


def wait_uploaded(app: App, label: str, name: str) -> None:
    """Wait until the uploader shows ``name`` sent (as ``App.upload`` does)."""
    chip = uploader(app, label).get_by_test_id("stFileChip").filter(has=app.page.get_by_title(name))
    expect(chip).to_have_count(1)
    expect(chip.get_by_test_id("stFileChipIconSpinner")).to_have_count(0)
    app.settle()


def nav_all(visitors, label: str) -> None:
    """Follow the sidebar link to page ``label`` in every tab, all at once."""
    for visitor in visitors:
        sidebar = visitor.page.locator("[data-testid='stSidebar']")
        sidebar.get_by_role("link", name=label, exact=True).first.click()
    for visitor in visitors:
        visitor.page.wait_for_url(re.compile(rf"/{label}(\?.*)?$"))
        visitor.app.settle()


# ---- the tests ----


def test_two_visitors_on_two_replicas_upload_train_download_and_upload_back(
    proxy_deployment, open_visitors
):
    # the pace and the epochs from the link; each visitor on its own replica
    path = f"/Data?pace=fastest&epochs={EPOCHS}"
    visitors = one_on_each_replica(open_visitors, proxy_deployment, path)
    tables = {"replica1": ("penguins.csv", PENGUINS, "341"), "replica2": ("Iris.csv", IRIS, "150")}
    # The steps go tab by tab without waiting in between, so both replicas work at once.
    for visitor in visitors.values():
        visitor.app.select("Dataset", datasets.SOURCES[datasets.CSV])
    for name, visitor in visitors.items():
        put_file(visitor.app, "CSV file", *tables[name][:2])
    for name, visitor in visitors.items():
        wait_uploaded(visitor.app, "CSV file", tables[name][0])
        visitor.app.button("Use this CSV").click()
    for name, visitor in visitors.items():
        visitor.app.expect_sidebar_text(f"{tables[name][2]} rows")
    nav_all(visitors.values(), "Train")
    for visitor in visitors.values():
        assert visitor.app.epoch() == (0, EPOCHS)
        visitor.app.button("Start").click()
    for visitor in visitors.values():
        visitor.app.wait_until(lambda app=visitor.app: finished(app), timeout=120, what="a run")
    trained = {name: visitor.app.epoch()[0] for name, visitor in visitors.items()}

    nav_all(visitors.values(), "Predict")
    for visitor in visitors.values():
        visitor.app.tab("Model file")
        file_name, model = visitor.app.download("Download the model (.npz)")
        assert file_name.endswith(".npz") and model[:2] == b"PK", file_name
        put_file(visitor.app, "Model file (.npz)", "model.npz", model, "application/octet-stream")
    for name, visitor in visitors.items():
        wait_uploaded(visitor.app, "Model file (.npz)", "model.npz")
        loaded = visitor.app.expect_alert("Loaded the model", "success")
        assert any(f", {trained[name]} epochs trained" in text for text in loaded), loaded
        visitor.app.expect_sidebar_text(f"{tables[name][2]} rows")  # its own data only

    for name, visitor in visitors.items():
        assert visitor.errors() == [], (name, visitor.errors())
        assert visitor.served_by() == {name}, (name, visitor.served_by())
        assert len(visitor.sockets) == 1, visitor.sockets  # one session, never reconnected
        assert visitor.app.alerts("error") == []
        visitor.app.assert_no_exception()
        # the requests that only the session's own replica can answer got there
        uploads = visitor.requests_to("/_stcore/upload_file/", "PUT")
        assert [r.status for r in uploads] == [204, 204], [r.url for r in uploads]
        assert {r.headers.get("x-replica") for r in uploads} == {name}


def upload_and_answer(visitor: Visitor, file_name: str):
    """Put a CSV into the Data page's uploader; the answer to its PUT request."""
    before = len(visitor.requests_to("/_stcore/upload_file/", "PUT"))
    visitor.app.upload("CSV file", file_name, PENGUINS)
    return visitor.app.wait_until(
        lambda: visitor.requests_to("/_stcore/upload_file/", "PUT")[before:],
        timeout=30,
        what="the upload's answer",
    )[0]


def test_without_stickiness_an_upload_that_reaches_the_other_replica_fails(
    browser_available, haproxy_available, tmp_path_factory, open_visitors
):
    deployment = launch(tmp_path_factory.mktemp("unsticky"), "--no-sticky")
    pids = deployment.pids()
    try:
        (visitor,) = open_visitors(deployment, "/Data")
        assert visitor.replica() is None  # no affinity cookie
        visitor.app.select("Dataset", datasets.SOURCES[datasets.CSV])
        box = uploader(visitor.app, "CSV file")
        # Round robin alternates the two replicas request by request. An upload that reaches
        # the replica holding the session succeeds and tells which one that is; then the
        # proxy is made to answer one request from it, so the next upload goes to the other.
        answers = []
        for attempt in range(3):
            answers.append(upload_and_answer(visitor, f"attempt{attempt}.csv"))
            if answers[-1].status != 204:
                break
            holder = answers[-1].headers["x-replica"]
            box.get_by_test_id("stFileChipDeleteBtn").click()
            expect(box.get_by_test_id("stFileChip")).to_have_count(0)
            visitor.app.settle()
            for _ in range(2):
                if replica_answering(deployment.url) == holder:
                    break
        refused = answers[-1]
        assert refused.status == 400, [(a.status, a.headers.get("x-replica")) for a in answers]
        assert "Invalid session_id" in refused.text()
        if len(answers) > 1:  # it reached the replica that does not hold the session
            assert refused.headers["x-replica"] != answers[-2].headers["x-replica"]
        # and the visitor sees the upload fail
        chip = box.get_by_test_id("stFileChip")
        expect(chip.get_by_test_id("stFileChipIconError")).to_have_count(1)
        expect(chip).to_contain_text("400")
    finally:
        code = shut(deployment, signal.SIGINT)  # as Ctrl-C in its terminal
    assert code == 0, deployment.output()
    assert "stopped" in deployment.output()
    survivors = sorted(pid for pid in pids if alive(pid))
    assert survivors == [], f"still running after Ctrl-C: {survivors}\n{deployment.output()}"


def history_rows(app: App) -> int:
    _, content = app.download("Download the history (CSV)")
    return len(pd.read_csv(io.BytesIO(content)))


def workspace_token(app: App) -> str:
    return parse_qs(urlsplit(app.page.url).query)[backend.TOKEN_PARAM][0]


def saved_epochs(token: str) -> int:
    """The epochs of the network the shared store holds for workspace ``token`` (0: none)."""
    kept = backend.open_store(os.environ[backend.ENV_URL])  # the replicas' store (conftest)
    try:
        items = kept.load(token)
    finally:
        kept.close()
    assert items, "the store holds nothing of the visitor's workspace"
    if not items.get(workspace.NETWORK):
        return 0
    net, _ = workspace.read_network(items[workspace.NETWORK])
    return net.epochs_trained


def test_a_killed_replica_comes_back_and_the_other_replica_s_run_is_untouched(
    proxy_deployment, open_visitors
):
    deployment = proxy_deployment
    visitors = one_on_each_replica(open_visitors, deployment, RUN)
    victim, survivor = visitors["replica1"], visitors["replica2"]
    port, pid = deployment.replicas()["replica1"]
    for visitor in (victim, survivor):
        visitor.app.button("Start").click()
    for visitor in (victim, survivor):
        visitor.app.wait_until(
            lambda app=visitor.app: app.epoch()[0] >= 3, timeout=60, what="both runs to move"
        )

    os.killpg(pid, signal.SIGKILL)  # the replica's process group (the launcher started it)
    at_kill = survivor.app.epoch()[0]
    assert at_kill < FAULT_EPOCHS, "the run finished before the replica was killed: lengthen it"

    # the other visitor's run goes on to its end, in the same session, on the same replica
    survivor.app.wait_until(lambda: finished(survivor.app), timeout=120, what="the run")
    assert survivor.app.epoch() == (FAULT_EPOCHS, FAULT_EPOCHS)
    assert history_rows(survivor.app) == FAULT_EPOCHS
    assert survivor.errors() == []
    assert survivor.served_by() == {"replica2"}
    assert len(survivor.sockets) == 1, survivor.sockets
    survivor.app.assert_no_exception()

    # the launcher starts the replica again, on the same port
    victim.app.wait_until(
        lambda: deployment.replicas()["replica1"][1] != pid, timeout=90, what="the restart"
    )
    assert deployment.replicas()["replica1"][0] == port
    assert re.search(rf"replica1 \(pid {pid}\) exited with -9", deployment.output())

    # the first visitor's page reconnected (a new WebSocket) to a new session on the restarted
    # replica, which brought its workspace back from the shared store: the network as it was
    # last saved (every SAVE_EVERY_S of a run: epoch 0 when the kill came sooner), paused
    saved = saved_epochs(workspace_token(victim.app))
    assert saved <= FAULT_EPOCHS
    victim.app.wait_until(lambda: len(victim.sockets) >= 2, timeout=60, what="a reconnection")
    victim.app.expect(victim.app.epoch, (saved, FAULT_EPOCHS), timeout=60, what="the saved run")
    victim.app.expect_alert("Your workspace is back")
    if saved:
        victim.app.expect_sidebar_text(f"Training: paused, epoch {saved} of {FAULT_EPOCHS}")
    else:
        victim.app.expect_sidebar_text("Training: not started")
    victim.app.start_training("Resume" if saved else "Start")  # and it goes on from there
    victim.app.wait_until(
        lambda: victim.app.epoch()[0] >= saved + 2, timeout=60, what="the run to go on"
    )
    victim.app.pause_training()
    victim.app.assert_no_exception()

    # once its health checks pass again, the proxy sends new visitors to it again
    victim.app.wait_until(
        lambda: replica_answering(deployment.url, cookie="replica1") == "replica1",
        timeout=30,
        what="the proxy to use the restarted replica",
    )
    returning = one_on_each_replica(open_visitors, deployment, "/")["replica1"]
    assert returning.served_by() == {"replica1"}
    assert returning.errors() == []
    returning.app.expect_sidebar_text("Training: not started")
