"""Names are only text, in Chromium: Markdown, HTML, addresses and bidi controls from data.

A dataset made here from rows of data/Iris.csv carries, in its class labels, feature names,
target name and file name, Markdown images and links pointing at a local HTTP server started for
the test, bold and emphasis, HTML, bare addresses (which GitHub-flavoured Markdown turns into
links by itself) and bidirectional control characters. It is uploaded on the Data page, trained
briefly, and every page is visited (with the tabs where names are shown). On each, the rendered
DOM may hold no image, link or formatting made from the data, no bidirectional control, and the
local server must receive no request at all. The same for a shared link whose values carry
addresses (the warning box that lists them).
"""

from __future__ import annotations

import csv
import http.server
import io
import threading
import urllib.parse
import urllib.request

import pytest

from dashboard.data import datasets
from nn.text import BIDI_CONTROLS
from tests.e2e.ui import MAIN, ROOT, expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

WORD_JOINER = "\u2060"  # what md_escape puts into addresses; invisible
PIXEL = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00"
    b"\x00IEND\xaeB`\x82"
)
# Text that Markdown or HTML in the names would turn into an element of its own: none may be
# the whole text of a link, image (alt), bold, emphasis or similar element.
FRAGMENTS = ["boldly", "emph", "bee", "tee", "eks", "eff", "struck"]
FORMATTING = "a, img, image, strong, em, b, i, u, s, del, code, mark, h1, h2, h3, h4, h5, h6, li"

# Everything that may not be in the page: elements made from data, links or images pointing at
# the local server or the example domain, bidirectional controls anywhere in the text.
FIND_INJECTED = """({needles, fragments, formatting, bidi}) => {
    const found = [];
    const clean = s => (s || '').replaceAll('\\u2060', '').trim();
    const show = e => e.outerHTML.slice(0, 240);
    for (const e of document.querySelectorAll('*')) {
        for (const attr of e.getAttributeNames()) {
            const value = e.getAttribute(attr) || '';
            if (['src', 'href', 'srcset', 'xlink:href', 'action', 'poster', 'data', 'style',
                 'background'].includes(attr) && needles.some(n => value.includes(n)))
                found.push(`${attr} points outside: ${show(e)}`);
        }
    }
    for (const e of document.querySelectorAll(formatting)) {
        const text = clean(e.textContent), alt = clean(e.getAttribute('alt'));
        if (fragments.includes(text) || fragments.includes(alt))
            found.push(`made from data: ${show(e)}`);
        if (e.tagName === 'A' && needles.some(n => clean(e.textContent).includes(n)))
            found.push(`an address in the data became a link: ${show(e)}`);
    }
    for (const e of document.querySelectorAll('img')) {
        const src = e.getAttribute('src') || '';
        const url = new URL(src, document.baseURI);
        if (!src.startsWith('data:') && url.host !== location.host)
            found.push(`an image from elsewhere: ${show(e)}`);
    }
    const texts = [document.body.textContent,
                   ...[...document.querySelectorAll('input, textarea')].map(e => e.value)];
    for (const text of texts)
        for (const ch of bidi)
            if (text.includes(ch))
                found.push(`bidi control U+${ch.codePointAt(0).toString(16)} in the page text`);
    return [...new Set(found)];
}"""


@pytest.fixture
def recorder():
    """A local HTTP server on a free port that records every request; yields (port, paths)."""
    paths: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            paths.append(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PIXEL)))
            self.end_headers()
            self.wfile.write(PIXEL)

        do_POST = do_HEAD = do_GET  # noqa: N815

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], paths
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def watched(recorder, browser):
    """The recorder, checked to see what a tracking pixel in a page would do; emptied."""
    port, paths = recorder
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/self-check", timeout=5) as response:
        assert response.read() == PIXEL
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(f'<img src="http://127.0.0.1:{port}/pixel-check.png">')
        page.wait_for_function("() => document.images[0].complete", timeout=10_000)
    finally:
        context.close()
    assert paths == ["GET /self-check", "GET /pixel-check.png"], paths
    paths.clear()
    return port, paths


def hostile_names(port: int) -> dict:
    """Feature names, target name, class labels (by Iris species) and a file name."""
    here = f"http://127.0.0.1:{port}"
    return {
        "features": [
            "**boldly** petal _emph_",
            f"![eks]({here}/feature.png) sepal",
            "www.evil.example <b>bee</b> \u202egnp.exe",
            f"{here}/bare [tee]({here}/a) \u2066~~struck~~\u2069",
        ],
        "target": f"[tee]({here}/target) species",
        "classes": {
            "Iris-setosa": f"![eks]({here}/pixel.png)",
            "Iris-versicolor": f'**boldly** [tee]({here}/b) <img src="{here}/h.png" alt="eff">',
            "Iris-virginica": f"https://127.0.0.1:{port}/x www.evil.example "
            "mail@evil.example\u202e",
        },
        "file": "![eks](pixel.png) **boldly** www.evil.example.csv",
    }


def hostile_csv(names: dict, n_rows: int = 60) -> bytes:
    with open(ROOT / "data" / "Iris.csv", newline="", encoding="utf-8") as f:
        rows = [row[1:] for row in csv.reader(f)][1:]
    rows = rows[:: len(rows) // n_rows][:n_rows]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*names["features"], names["target"]])
    writer.writerows([*r[:4], names["classes"][r[4]]] for r in rows)
    return buffer.getvalue().encode()


def shown(text: str) -> str:
    """A name as the app shows it: without bidi controls and the invisible word joiners."""
    return "".join(ch for ch in text if ch not in BIDI_CONTROLS and ch != WORD_JOINER).strip()


def read_as(text: str, names: list[str]) -> str:
    """The one name of ``names`` that ``text`` shows, literally (shortened with "…" or not)."""
    text = shown(text)
    hits = [n for n in map(shown, names) if n == text or n.startswith(text.removesuffix("…"))]
    assert len(hits) == 1 and len(text) > 10, (text, names)
    return hits[0]


def assert_clean(app, port: int, where: str) -> None:
    app.settle()
    found = app.page.evaluate(
        FIND_INJECTED,
        {
            "needles": [f"127.0.0.1:{port}", "evil.example", "pixel.png", "mailto:"],
            "fragments": FRAGMENTS,
            "formatting": FORMATTING,
            "bidi": sorted(BIDI_CONTROLS),
        },
    )
    assert found == [], f"{where}: {found}"
    assert app.dialogs == []


def visit_tabs(app, port: int, page: str, tabs: list[str]) -> None:
    for tab in tabs:
        app.tab(tab)
        assert_clean(app, port, f"{page}, tab {tab}")


def test_names_with_markdown_html_addresses_and_bidi_stay_text_on_every_page(new_app, watched):
    port, requests = watched
    names = hostile_names(port)
    classes = list(names["classes"].values())
    content = hostile_csv(names)

    app = new_app("/Data")
    app.select("Dataset", datasets.SOURCES[datasets.CSV])
    app.upload("CSV file", names["file"], content)
    assert_clean(app, port, "Data, preview")
    app.click("Use this CSV")
    app.expect_alert("Loaded the uploaded CSV.", "success")
    app.expect(lambda: app.metric("Rows"), "60", what="the Rows metric")
    app.wait_until(  # the file name, literally
        lambda: f"CSV file {names['file']}" in shown(app.sidebar_text()), what="the file name"
    )
    assert_clean(app, port, "Data")
    visit_tabs(app, port, "Data", ["Table", "Statistics", "Class balance", "Scatter matrix"])
    visit_tabs(app, port, "Data", ["Distributions"])

    app.nav("Architecture")
    assert_clean(app, port, "Architecture")

    app.nav("Train")
    app.page.get_by_text("Fastest", exact=True).click()
    app.settle()
    # watch the network while it learns: names in its hovers
    app.page.locator(MAIN).get_by_text("Network", exact=True).first.click()
    app.settle()
    app.click("Start")
    app.wait_until(lambda: "Finished" in app.main_text(), timeout=120, what="training")
    assert_clean(app, port, "Train")

    app.nav("Predict")
    labels = app.page.locator("[data-testid='stForm'] [data-testid='stWidgetLabel']")
    expect(labels).to_have_count(4)
    read = [read_as(t, names["features"]) for t in labels.all_inner_texts()]
    assert sorted(read) == sorted(shown(f) for f in names["features"]), read  # in columns
    app.page.locator("[data-testid='stFormSubmitButton'] button").click()
    app.settle()
    read_as(app.metric("Predicted class"), classes)
    assert_clean(app, port, "Predict, one sample")
    # the surface's feature pickers: their options are the feature names
    app.page.get_by_role("combobox", name="x axis", exact=True).click()
    expect(app.page.get_by_role("option").first).to_be_visible()
    assert_clean(app, port, "Predict, the x axis options")
    app.page.keyboard.press("Escape")
    visit_tabs(app, port, "Predict", ["Test set", "Batch CSV"])
    app.upload("CSV to predict", "batch.csv", content)
    app.expect_alert("Predicted 60 rows.", "success")
    assert_clean(app, port, "Predict, batch predictions")
    visit_tabs(app, port, "Predict", ["Model file"])

    app.nav("Inside")
    assert_clean(app, port, "Inside")
    visit_tabs(app, port, "Inside", ["Decision surface", "Network", "Health", "Backprop step"])
    read_as(app.metric("Its class"), classes)

    app.nav("Compare")
    expect(app.page.locator(MAIN)).to_contain_text("Solid: training", timeout=60_000)
    assert_clean(app, port, "Compare")

    app.nav("Home")
    assert_clean(app, port, "Home")
    assert requests == [], f"the page asked the local server for {requests}"


def test_addresses_in_a_shared_link_are_not_links(new_app, watched):
    port, requests = watched
    here = f"http://127.0.0.1:{port}"
    params = {
        "act": f"https://127.0.0.1:{port}/x",
        "hidden": "www.evil.example",
        "out": f"![eks]({here}/u.png) **boldly**",
        "loss": f"[tee]({here}/l) mail@evil.example",
    }
    app = new_app("/Train?" + urllib.parse.urlencode(params))
    warnings = app.expect_alert("Some values in the link could not be used", "warning")
    listed = shown(" ".join(warnings))
    for value in params.values():
        assert value in listed, (value, listed)
    assert_clean(app, port, "Train, opened from a link")
    assert requests == [], f"the page asked the local server for {requests}"
