"""Helpers for driving the real app in Chromium: the server, the browser, and the page.

Used by tests/e2e/conftest.py and by benchmarks/load_sessions.py (no pytest here).
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")  # another path: E2E_CHROMIUM
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
]
INSTALL_HINT = (
    f"Chromium is not installed at {CHROMIUM}: the browser tests need it. Install it with "
    "`apt-get install chromium` (Debian/Ubuntu; never `playwright install`) and the Python "
    "package with `pip install playwright`, or point E2E_CHROMIUM at a Chromium binary."
)
VIEWPORT = {"width": 1400, "height": 1000}
# A phone as Chromium's device mode shows an iPhone 12 Pro: 390 x 844 CSS pixels, touch, no
# hover (plotly then shows its chart toolbars always, and Streamlit its tables' toolbars).
PHONE = {"width": 390, "height": 844}
PHONE_CONTEXT = {"viewport": PHONE, "has_touch": True, "is_mobile": True}
NAV_TOP = ".st-key-nav-top"  # the row of page links at the top of the page on narrow screens
APP_READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
APP_RUNNING = "[data-testid='stApp'][data-test-script-state='running']"
EXCEPTION = "[data-testid='stException']"
MAIN = "[data-testid='stMain']"
SIDEBAR = "[data-testid='stSidebar']"
WAIT_MS = 60_000  # how long an expectation waits: generous, other browsers share the 2 cores


def expect(target):
    """Playwright's auto-waiting ``expect`` with the timeout above (imported late, so that this
    module loads without playwright and the tests can skip with a message)."""
    from playwright.sync_api import expect as playwright_expect

    playwright_expect.set_options(timeout=WAIT_MS)
    return playwright_expect(target)


# ---- the server ----


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def streamlit_args(port: int) -> list[str]:
    """``streamlit run streamlit_app.py`` headless on ``port`` (argv after the program name)."""
    return [
        "run",
        "streamlit_app.py",
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
    ]


def start_server(log_path: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start ``streamlit run streamlit_app.py`` headless on a free port; return it and its URL."""
    port = port or free_port()
    command = [sys.executable, "-m", "streamlit", *streamlit_args(port)]
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process in stop_server
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so it can be stopped as a whole
    )
    proc.log_file = log  # type: ignore[attr-defined]
    return proc, f"http://127.0.0.1:{port}"


def wait_healthy(proc: subprocess.Popen, url: str, log_path: Path, timeout: float = 60) -> None:
    """Poll ``/_stcore/health`` until it answers ``ok``; RuntimeError with the log if not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{log_tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the server did not answer within {timeout:.0f} s:\n{log_tail(log_path)}")


def stop_server(proc: subprocess.Popen) -> None:
    """Terminate the server's process group, then kill it if it lingers."""
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pgid = None
    if pgid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        if pgid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        proc.wait(timeout=10)
    log = getattr(proc, "log_file", None)
    if log is not None:
        log.close()


def log_tail(log_path: Path, n: int = 4000) -> str:
    try:
        return log_path.read_text(errors="replace")[-n:]
    except OSError:
        return "(no log)"


# ---- the browser ----


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


# The text of the Train page's epoch counter ("12 / 2,000"), read inside the page in one go:
# `EPOCH_TEXT_JS` is a JavaScript function (none when the counter is not on the page).
EPOCH_TEXT_JS = """() => {
    const label = m => m.querySelector("[data-testid='stMetricLabel']");
    const metrics = [...document.querySelectorAll("[data-testid='stMetric']")].filter(
        m => label(m) && label(m).innerText.trim() === "Epoch");
    const value = metrics.length && metrics[metrics.length - 1].querySelector(
        "[data-testid='stMetricValue']");
    return value ? value.innerText : null;
}"""


# Read inside the page (JavaScript): shared by the checks of a narrow screen below.
# `shown(e)`: e is drawn: visible, not transparent, not display:none, and not inside a
# "visually hidden" box (clip or clip-path, as the text only screen readers read).
# `where(e)`: e described for a message (its Streamlit element and a little text).
_SHOWN_JS = """
const shown = e => {
    if (getComputedStyle(e).visibility !== 'visible') return false;
    for (let p = e; p; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (s.display === 'none' || Number(s.opacity) === 0) return false;
        if (s.clipPath !== 'none' || s.clip !== 'auto') return false;
    }
    return true;
};
const where = e => {
    const owner = e.closest('[data-testid]');
    const text = (e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    const name = typeof e.className === 'string' ? e.className.split(' ')[0] : '';
    return `${owner ? owner.dataset.testid + ' > ' : ''}${e.tagName.toLowerCase()}` +
        `${name ? '.' + name : ''} "${text}"`;
};
const box = e => { const b = e.getBoundingClientRect();
    return {left: b.left, right: b.right, top: b.top, bottom: b.bottom}; };
const meet = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 &&
    a.top < b.bottom - 1 && b.top < a.bottom - 1;
"""

# What sticks out to the right of the screen in the main area: the document or the main area
# scrolling sideways, and every shown element whose box passes the right edge, except inside the
# containers that scroll sideways on purpose (tables, equations, code). Content that passes the
# left edge is Streamlit's and plotly's off-screen machinery (progress bars, text measuring).
OVERFLOW_JS = (
    "() => {"
    + _SHOWN_JS
    + """
    const width = document.documentElement.clientWidth;
    const scrollers = ".katex-display, [data-testid='stDataFrame'], [data-testid='stTable'], " +
        "[data-testid='stCode'], pre";
    const problems = [];
    const main = document.querySelector("[data-testid='stMain']");
    for (const e of [document.documentElement, document.body, main]) {
        if (e.scrollWidth > e.clientWidth + 1)
            problems.push(`${where(e)} scrolls sideways: ${e.scrollWidth} > ${e.clientWidth} px`);
    }
    for (const e of main.querySelectorAll('*')) {
        const b = e.getBoundingClientRect();
        if (b.width < 1 || b.height < 1 || b.right <= width + 1) continue;
        if (e.parentElement.closest(scrollers) || !shown(e)) continue;
        problems.push(`${where(e)} reaches ${Math.round(b.right)} px of ${width}`);
    }
    return problems;
}"""
)

# Chart titles, annotations and legends that a shown plotly toolbar covers, per chart.
COVERED_TITLES_JS = (
    "() => {"
    + _SHOWN_JS
    + """
    const problems = [];
    for (const chart of document.querySelectorAll("[data-testid='stPlotlyChart']")) {
        if (!shown(chart)) continue;
        const groups = [...chart.querySelectorAll('.modebar-group')].filter(shown);
        const labels = [...chart.querySelectorAll('.gtitle, .annotation, .legend')].filter(shown);
        for (const group of groups) for (const label of labels) {
            if (meet(box(group), box(label)))
                problems.push(`the toolbar covers ${where(label)} in ${where(chart)}`);
        }
    }
    return problems;
}"""
)

# How many of each chart's toolbar buttons are shown (in page order).
TOOLBARS_JS = (
    "() => {"
    + _SHOWN_JS
    + """
    return [...document.querySelectorAll("[data-testid='stPlotlyChart']")].filter(shown).map(
        chart => [...chart.querySelectorAll('.modebar-btn')].filter(shown).length);
}"""
)

# The axis titles of a chart (a scatter matrix has one per cell row and column: .xtitle,
# .x2title, ...) that run into each other.
CROWDED_AXIS_TITLES_JS = (
    "(chart) => {"
    + _SHOWN_JS
    + """
    const titles = [...chart.querySelectorAll('text')].filter(
        t => /^[xy][0-9]*title$/.test(t.getAttribute('class') || '') && shown(t));
    const problems = [];
    titles.forEach((a, i) => titles.slice(i + 1).forEach(b => {
        if (meet(box(a), box(b))) problems.push(`${where(a)} runs into ${where(b)}`);
    }));
    return problems;
}"""
)


def parse_epoch(text: str) -> tuple[int, int]:
    """The epoch counter's text, "12 / 2,000" -> (12, 2000)."""
    done, total = text.split("/")
    return int(done.replace(",", "")), int(total.replace(",", ""))


class App:
    """One browser tab on the app, with the waits and reads the tests need."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.dialogs: list[str] = []
        page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    # -- waiting --

    def open(self, path: str = "/") -> App:
        """Load a page by URL and wait until its script has run."""
        self.page.goto(self.base_url + path)
        self.page.wait_for_selector("h1", timeout=60_000)
        self.settle()
        return self

    def settle(self, timeout: float = 60_000) -> None:
        """Wait until the app is idle: the rerun a click started (and any rerun it triggers
        itself) has finished; then check that no exception box is shown.

        While a training run redraws the page several times a second the app is never idle
        for long: after a few short idle moments this returns anyway.
        """
        with contextlib.suppress(Exception):
            self.page.wait_for_selector(APP_RUNNING, timeout=700)
        for _ in range(6):
            self.page.wait_for_selector(APP_READY, timeout=timeout)
            self.page.wait_for_timeout(250)
            if self.page.locator(APP_READY).count():
                break
        self.assert_no_exception()

    def expect(self, read, expected, timeout: float = 30, what: str = ""):
        """Poll ``read()`` until it equals ``expected``; assert with the last value seen."""
        seen = []

        def check():
            seen.append(read())
            return seen[-1] == expected

        try:
            self.wait_until(check, timeout=timeout, what=what)
        except AssertionError:
            self.assert_no_exception()  # an exception box explains more than the values
            raise AssertionError(
                f"{what or 'value'}: expected {expected!r}, last seen {seen[-1:]}"
            ) from None
        return seen[-1]

    def assert_no_exception(self) -> None:
        boxes = self.page.locator(EXCEPTION)
        if boxes.count():
            raise AssertionError("the app shows an exception:\n" + boxes.first.inner_text())

    def wait_for_text(self, text: str, timeout: float = 60_000) -> None:
        self.page.get_by_text(text).first.wait_for(timeout=timeout)

    # -- reading --

    def main_text(self) -> str:
        return self.page.locator(MAIN).inner_text()

    def sidebar_text(self) -> str:
        return self.page.locator(SIDEBAR).inner_text()

    def expect_main_text(self, text: str | re.Pattern) -> None:
        """Wait until the main area shows ``text`` (as a user reads it)."""
        self._expect_text(self.page.locator(MAIN), text)

    def expect_sidebar_text(self, text: str | re.Pattern) -> None:
        """Wait until the sidebar shows ``text`` (as a user reads it)."""
        self._expect_text(self.page.locator(SIDEBAR), text)

    def expect_alert(self, text: str, kind: str | None = None) -> list[str]:
        """Wait for a message box (kind: error, warning, info, success) containing ``text``;
        return the texts of all boxes of that kind."""
        box = f"stAlertContent{kind.capitalize()}" if kind else "stAlertContainer"
        selector = f"[data-testid='{box}'] [data-testid='stMarkdownContainer']"
        texts = self.page.locator(selector).filter(has_text=text)
        try:
            expect(texts.first).to_be_visible()
        except AssertionError:
            self.assert_no_exception()
            raise AssertionError(
                f"no {kind or 'alert'} message with {text!r}; shown: {self.alerts()}"
            ) from None
        return self.alerts(kind)

    def _expect_text(self, locator, text) -> None:
        try:
            expect(locator).to_contain_text(text, use_inner_text=True)
        except AssertionError:
            self.assert_no_exception()  # an exception box explains more than the text
            raise

    def heading(self) -> str:
        return self.page.locator("h1").first.inner_text().strip()

    def metric(self, label: str) -> str:
        """The value of the visible metric whose label is exactly ``label``."""
        metrics = self.page.locator("[data-testid='stMetric']").filter(
            has=self.page.locator(
                "[data-testid='stMetricLabel']", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")
            )
        )
        return metrics.last.locator("[data-testid='stMetricValue']").inner_text().strip()

    def epoch(self) -> tuple[int, int]:
        """The Train page's epoch counter, "12 / 100" -> (12, 100)."""
        return parse_epoch(self.metric("Epoch"))

    def alerts(self, kind: str | None = None) -> list[str]:
        """Texts of the visible message boxes (kind: error, warning, info, success)."""
        box = f"stAlertContent{kind.capitalize()}" if kind else "stAlertContainer"
        selector = f"[data-testid='{box}'] [data-testid='stMarkdownContainer']"
        return [t.strip() for t in self.page.locator(selector).all_inner_texts()]

    def traces(self, key: str) -> list[dict]:
        """The traces plotly drew for the chart with widget key ``key`` (arrays as lists)."""
        selector = f".st-key-{chart_class(key)} .js-plotly-plot"
        self.page.wait_for_selector(selector, state="attached", timeout=30_000)
        raw = self.page.locator(selector).last.evaluate(
            """el => (el._fullData || el.data || []).map(t => {
                const out = {};
                for (const k of ['name', 'type', 'mode', 'x', 'y', 'text', 'hovertext', 'z']) {
                    const v = t[k];
                    if (v === undefined || v === null) continue;
                    if (ArrayBuffer.isView(v)) out[k] = Array.from(v);
                    else if (Array.isArray(v)) out[k] = v.map(
                        e => ArrayBuffer.isView(e) ? Array.from(e) : e);
                    else out[k] = v;
                }
                if (t.dimensions) {
                    out.dimensions = t.dimensions.map(d => d.label);
                    out.n_points = t.dimensions.length ? t.dimensions[0].values.length : 0;
                }
                return out;
            })"""
        )
        return [decode_typed(t) for t in raw]

    def trace_length(self, key: str) -> int:
        """Points in the first trace of chart ``key`` (the longest copy while a run redraws it)."""
        selector = f".st-key-{chart_class(key)} .js-plotly-plot"
        lengths = self.page.locator(selector).evaluate_all(
            "els => els.map(el => { const t = (el._fullData || [])[0]; "
            "return t && t.x ? t.x.length : 0; })"
        )
        return max(lengths, default=0)

    def wait_until(self, check, timeout: float = 60, interval: float = 0.2, what: str = ""):
        """Poll ``check()`` until it returns something truthy; return that."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(Exception):
                result = check()
                if result:
                    return result
            self.assert_no_exception()
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or check}")
            self.page.wait_for_timeout(interval * 1000)

    # -- acting --

    def click(self, name: str) -> None:
        """Click the button labelled ``name`` and wait for the rerun."""
        self.button(name).click()
        self.settle()

    def start_training(self, name: str = "Start") -> None:
        """Press Start (or Resume) on the Train page and wait until the run is going (Pause
        enabled). Not ``click``: a running page is busy almost all the time, so waiting for it
        to be idle would wait for the whole run."""
        self.button(name).click()
        self.wait_until(
            lambda: self.button("Pause").is_enabled(), timeout=30, what=f"{name} to take"
        )

    def pause_training(self) -> None:
        """Press Pause on the Train page and wait until the run has stopped (Pause disabled)."""
        self.button("Pause").click()
        self.wait_until(
            lambda: not self.button("Pause").is_enabled(), timeout=30, what="Pause to take"
        )
        self.settle()

    def button(self, name: str):
        """The button labelled exactly ``name`` (material icons are not part of the name)."""
        return self.page.get_by_role("button", name=name, exact=True).first

    def select(self, label: str, option: str) -> None:
        """Choose ``option`` in the select box labelled ``label``."""
        box = self.page.get_by_role("combobox", name=label, exact=True)
        # Scrolled into view first: the list closes when the page scrolls under the click (a
        # long page scrolled down to a button further below, as a user would scroll up first).
        box.scroll_into_view_if_needed()
        self.page.wait_for_timeout(200)
        box.click()
        self.page.get_by_role("option", name=option, exact=True).click()
        self.settle()

    def selected(self, label: str) -> str:
        return self.page.get_by_role("combobox", name=label, exact=True).input_value()

    def submit_predict_form(self, numbers: dict[str, str], choices: dict[str, str]) -> None:
        """Fill the Predict page's form (number fields by feature name, select boxes by
        feature name and option) and submit it."""
        from dashboard.common.text import md_escape

        for label, value in numbers.items():  # a field is named by its (escaped) Markdown label
            self.page.get_by_role("spinbutton", name=md_escape(label, 60), exact=True).fill(value)
        form = self.page.locator("[data-testid='stForm']")
        for label, choice in choices.items():
            form.locator("[data-testid='stSelectbox']").filter(has_text=label).click()
            self.page.get_by_role("option", name=choice, exact=True).click()
        self.page.locator("[data-testid='stFormSubmitButton'] button").click()
        self.settle()

    def number(self, label: str, value) -> None:
        """Type ``value`` into the number input labelled ``label`` and commit it."""
        box = self.page.get_by_role("spinbutton", name=label, exact=True)
        box.fill(str(value))
        box.press("Enter")
        self.settle()

    def number_value(self, label: str) -> str:
        return self.page.get_by_role("spinbutton", name=label, exact=True).input_value()

    def tab(self, name: str) -> None:
        """Select the tab ``name`` and wait until it is the selected one."""
        tab = self.page.get_by_role("tab", name=name, exact=True)
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true")

    def nav(self, label: str) -> None:
        """Follow the sidebar link to a page ("Home" is the entry page, at "/")."""
        sidebar = self.page.locator("[data-testid='stSidebar']")
        sidebar.get_by_role("link", name=label, exact=True).first.click()
        path = "" if label == "Home" else "/" + label
        self.page.wait_for_url(re.compile(rf"^{re.escape(self.base_url)}{path}/?(\?.*)?$"))
        self.settle()
        self.page.wait_for_selector("h1", timeout=60_000)

    def upload(self, uploader_label: str, name: str, content: bytes, mime="text/csv") -> None:
        """Put a file into the file uploader labelled ``uploader_label``."""
        uploader = self.page.locator("[data-testid='stFileUploader']").filter(
            has_text=uploader_label
        )
        uploader.locator("input[type='file']").set_input_files(
            {"name": name, "mimeType": mime, "buffer": content}
        )
        # the file is sent to the server before the app reruns: wait until its chip shows it
        # uploaded (or refused in the browser, as a file over the size limit is)
        chip = uploader.get_by_test_id("stFileChip").filter(has=self.page.get_by_title(name))
        expect(chip).to_have_count(1)
        expect(chip.get_by_test_id("stFileChipIconSpinner")).to_have_count(0, timeout=60_000)
        self.settle()

    def download(self, button_name: str) -> tuple[str, bytes]:
        """Click a download button; the file's suggested name and bytes."""
        with self.page.expect_download(timeout=30_000) as info:
            self.button(button_name).click()
        download = info.value
        path = download.path()
        return download.suggested_filename, Path(path).read_bytes()

    def screenshot(self, path: Path, max_height: int = 3000) -> None:
        """The whole page: Streamlit scrolls inside its main block, so the viewport is made as
        tall as the content for the picture, then set back."""
        path.parent.mkdir(parents=True, exist_ok=True)
        size = self.page.viewport_size or VIEWPORT
        height = self.page.evaluate(
            "() => Math.max(...[...document.querySelectorAll("
            "'[data-testid=stMain], [data-testid=stMainBlockContainer]')]"
            ".map(e => e.scrollHeight), 0)"
        )
        tall = {"width": size["width"], "height": int(min(max(height, size["height"]), max_height))}
        self.page.set_viewport_size(tall)
        try:
            self.page.wait_for_timeout(1200)  # let plotly redraw at the new size
            self.page.screenshot(path=str(path))
        finally:
            self.page.set_viewport_size(size)

    def colored_pixels(self, key: str) -> int:
        """How many clearly coloured pixels the chart ``key`` shows on screen (0: blank)."""
        from PIL import Image

        element = self.page.locator(f".st-key-{chart_class(key)}").last
        element.scroll_into_view_if_needed()
        self.page.wait_for_timeout(1000)  # WebGL charts draw after they come into view
        import numpy as np

        rgb = np.asarray(Image.open(io.BytesIO(element.screenshot())).convert("RGB"), dtype=int)
        return int(((rgb.max(axis=2) - rgb.min(axis=2)) > 60).sum())

    # -- narrow screens --

    def nav_top(self, label: str) -> None:
        """Follow the link to a page in the row of page links at the top (narrow screens)."""
        self.nav_top_link(label).click()
        path = "" if label == "Home" else "/" + label
        self.page.wait_for_url(re.compile(rf"^{re.escape(self.base_url)}{path}/?(\?.*)?$"))
        self.settle()
        self.page.wait_for_selector("h1", timeout=60_000)

    def nav_top_link(self, label: str):
        """The link to page ``label`` in the row at the top (its name may start with the icon's,
        as Streamlit 1.64 names links)."""
        name = re.compile(rf"(^|\s){re.escape(label)}$")
        return self.page.locator(NAV_TOP).get_by_role("link", name=name)

    def query(self) -> dict[str, str]:
        """The query parameters of the address shown now."""
        from urllib.parse import parse_qsl, urlsplit

        return dict(parse_qsl(urlsplit(self.page.url).query))

    def sidebar_open(self) -> bool:
        """True when the sidebar takes room on the screen (its box reaches into the page)."""
        box = self.page.locator(SIDEBAR).bounding_box()
        return box is not None and box["width"] > 1 and box["x"] + box["width"] > 1

    def overflow(self) -> list[str]:
        """What sticks out to the right of the screen (empty when everything fits)."""
        return self.page.evaluate(OVERFLOW_JS)

    def covered_titles(self) -> list[str]:
        """Chart titles and legends under a shown chart toolbar (empty when none is)."""
        return self.page.evaluate(COVERED_TITLES_JS)

    def toolbar_buttons(self) -> list[int]:
        """How many toolbar buttons each chart shows now, in page order."""
        return self.page.evaluate(TOOLBARS_JS)

    def toolbar_buttons_of(self, chart) -> int:
        """How many toolbar buttons the chart ``chart`` (a locator) shows now."""
        return chart.evaluate(
            "(chart) => {"
            + _SHOWN_JS
            + "return [...chart.querySelectorAll('.modebar-btn')].filter(shown).length; }"
        )

    def crowded_axis_titles(self, key: str) -> list[str]:
        """The axis titles of chart ``key`` that run into each other."""
        chart = self.page.locator(f".st-key-{chart_class(key)} [data-testid='stPlotlyChart']")
        return chart.last.evaluate(CROWDED_AXIS_TITLES_JS)

    def rest_pointer(self) -> None:
        """Move the pointer to the page's top left corner, off every chart and table."""
        self.page.mouse.move(1, 1)
        self.page.wait_for_timeout(400)  # toolbars fade out in 0.3 s

    def viewport_screenshot(self, path: Path) -> None:
        """What the screen shows now (the viewport, not the whole page)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))

    # -- hostile-input checks --

    def injected_elements(self) -> list[str]:
        """Elements that injected HTML would have created (none may exist)."""
        return self.page.evaluate(
            """() => {
                const found = [];
                document.querySelectorAll('img').forEach(e => {
                    const src = e.getAttribute('src') || '';
                    if (src === 'x' || src.endsWith('/x')) found.push(e.outerHTML);
                });
                document.querySelectorAll('script').forEach(e => {
                    if ((e.textContent || '').includes('alert(')) found.push(e.outerHTML);
                });
                document.querySelectorAll('[onerror]').forEach(e => found.push(e.outerHTML));
                document.querySelectorAll('b, strong').forEach(e => {
                    if (e.textContent === 'bold' || e.textContent === 'petal')
                        found.push(e.outerHTML);
                });
                return found;
            }"""
        )


def chart_class(key: str) -> str:
    """Streamlit's CSS class for an element key (characters outside [\\w-] become '-')."""
    return re.sub(r"[^\w-]", "-", key)


def decode_typed(trace: dict) -> dict:
    """Plotly's ``{"dtype", "bdata"}`` arrays (if any survived) decoded to lists."""
    import numpy as np

    for k, v in list(trace.items()):
        if isinstance(v, dict) and "bdata" in v and "dtype" in v:
            trace[k] = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
    return trace


def page_url_path(file_path: str) -> str:
    """The URL path Streamlit gives a page file: "pages/3_Train.py" -> "/Train"."""
    if "/" not in file_path:
        return "/"
    stem = Path(file_path).stem
    return "/" + re.sub(r"^\d+_", "", stem)
