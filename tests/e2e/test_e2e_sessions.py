"""Every page opened first by URL in a fresh session; two visitors at once never mix; the
Inside and Compare pages follow one visitor's finished runs."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from playwright.sync_api import expect

from dashboard.common import page_ui
from dashboard.compare import runs
from dashboard.data import datasets
from dashboard.inside import inside_ui
from tests.e2e.ui import page_url_path

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

PAGES = page_ui.available_pages()
# what each page must say to a visitor who arrives there first
FIRST_VISIT = {
    "Home": "Reproduce the article",
    "Data": "The current dataset",
    "Architecture": "The input layer has one node per input (4",
    "Train": "Press Start",
    "Predict": "There is no trained network yet",
    "Inside": "The first four views follow training live",
    "Compare": "No finished runs yet",
}
IRIS_TRAINING_ROWS = 114  # the default split of Iris's 150 rows: 15% test, then 10% validation
WAIT_MS = 60_000  # generous: two cores, and other browser tests may run at the same time


def check_inside_first_visit(app) -> None:
    """The six views are offered and the decision surface is drawn with the training rows."""
    expect(app.page.get_by_role("tab")).to_have_text(list(inside_ui.VIEWS), timeout=WAIT_MS)
    traces = app.traces("inside.surface")
    assert traces[0]["type"] == "image", traces[0]
    shown = [t for t in traces if "(training)" in str(t.get("name"))]
    assert sum(len(t["x"]) for t in shown) == IRIS_TRAINING_ROWS
    expect(main(app)).to_contain_text("Not trained yet", timeout=WAIT_MS)


def check_compare_first_visit(app) -> None:
    """No runs yet: the five-seed study, the link to this app's Train page and the recipe."""
    expect(app.button(f"Run {runs.N_SEEDS} seeds")).to_be_enabled(timeout=WAIT_MS)
    link = app.page.locator("[data-testid='stCode']").first
    expect(link).to_have_text(f"{app.base_url}/Train", timeout=WAIT_MS)  # defaults: bare link
    expect(app.button("Download the recipe (.zip)")).to_be_visible(timeout=WAIT_MS)


CHECKS = {"Inside": check_inside_first_visit, "Compare": check_compare_first_visit}


def main(app):
    return app.page.locator("[data-testid='stMain']")


def sidebar(app):
    return app.page.locator("[data-testid='stSidebar']")


@pytest.mark.parametrize("target", PAGES, ids=[p.label for p in PAGES])
def test_each_page_opened_first_by_url(new_app, target):
    app = new_app(page_url_path(target.path))
    expected_heading = "Neural network lab" if target.label == "Home" else target.label
    expect(app.page.locator("h1").first).to_have_text(expected_heading, timeout=WAIT_MS)
    # a page added to the navigation needs an entry in FIRST_VISIT
    expect(main(app)).to_contain_text(FIRST_VISIT[target.label], timeout=WAIT_MS)
    for p in PAGES:  # the navigation is there even without the entry script
        link = sidebar(app).get_by_role("link", name=p.label, exact=True)
        expect(link).to_be_visible(timeout=WAIT_MS)
    expect(sidebar(app)).to_contain_text("Training: not started", timeout=WAIT_MS)
    CHECKS.get(target.label, lambda app: None)(app)
    app.assert_no_exception()


CAPTION = re.compile(r"Network ([\d → ]+?) on (\d+) training")


def caption_network(app) -> str:
    """The layer sizes the Train page's caption names ("4 → 5 → 10 → 3")."""
    expect(main(app)).to_contain_text(CAPTION, timeout=WAIT_MS)
    return CAPTION.search(app.main_text()).group(1).strip()


def history_rows(app) -> pd.DataFrame:
    with app.page.expect_download(timeout=WAIT_MS) as info:
        app.button("Download the history (CSV)").click()
    return pd.read_csv(io.BytesIO(open(info.value.path(), "rb").read()))


def test_two_visitors_train_different_networks_on_different_data(new_app):
    # two slow-enough sets (one update per row): both runs last long enough to pause them
    cancer = new_app("/Data")
    digits = new_app("/Data")
    cancer.select("Dataset", datasets.SOURCES["breast_cancer"])
    digits.select("Dataset", datasets.SOURCES["digits"])
    cancer.expect(lambda: cancer.metric("Rows"), "569", what="breast cancer")
    digits.expect(lambda: digits.metric("Rows"), "1,797", what="digits")
    digits.nav("Architecture")
    digits.click("Add hidden layer")
    for visitor in (cancer, digits):
        visitor.nav("Train")
        visitor.number("Batch size", 1)  # the modern preset's 16 would finish too soon
        visitor.number("Epochs", 2000)
    assert caption_network(cancer) == "30 → 16 → 16 → 2"  # each starts from the modern preset
    assert caption_network(digits) == "64 → 16 → 16 → 16 → 10"

    # Start both at once: waiting for one tab to settle while it trains would let its run
    # get far (or finish) before the other has started.
    for visitor in (cancer, digits):
        visitor.button("Start").click()

    def both_moving() -> bool:
        return cancer.epoch()[0] >= 3 and digits.epoch()[0] >= 3

    cancer.wait_until(both_moving, timeout=120, what="both visitors to train")
    cancer.pause_training()
    cancer_paused = cancer.epoch()[0]
    # the whole page agrees on where the paused run stands (no chunk trains behind Pause)
    expect(sidebar(cancer)).to_contain_text(
        f"paused, epoch {cancer_paused} of 2000", timeout=WAIT_MS
    )
    digits_before = digits.epoch()[0]
    # the other visitor keeps training while this one is paused
    digits.wait_until(lambda: digits.epoch()[0] > digits_before + 3, timeout=120, what="digits")
    cancer.settle()
    assert cancer.epoch()[0] == cancer_paused
    digits.pause_training()
    digits_paused = digits.epoch()[0]
    expect(sidebar(digits)).to_contain_text(
        f"paused, epoch {digits_paused} of 2000", timeout=WAIT_MS
    )
    assert 0 < cancer_paused < 2000 and 0 < digits_paused < 2000

    # each sees only its own data, network and history
    for visitor, own, other in (
        (cancer, ["Breast cancer: 569 rows", "30 → 16 → 16 → 2"], "Digits"),
        (digits, ["Digits: 1,797 rows", "64 → 16 → 16 → 16 → 10"], "Breast cancer"),
    ):
        for text in own:
            expect(sidebar(visitor)).to_contain_text(text, timeout=WAIT_MS)
        expect(sidebar(visitor)).not_to_contain_text(other, timeout=WAIT_MS)
    assert len(history_rows(cancer)) == cancer_paused
    assert len(history_rows(digits)) == digits_paused
    # a third visitor starts from scratch
    fresh = new_app("/Train")
    fresh.expect(fresh.epoch, (0, 100), what="a fresh epoch counter")
    assert caption_network(fresh) == "4 → 5 → 10 → 3"


def test_inside_and_compare_show_the_visitor_s_finished_runs(new_app, screenshot):
    # a link sets the pace and the epochs: two short runs that differ in the learning rate
    app = new_app("/Train?pace=fastest&epochs=60")
    for learning_rate in (None, 0.6):
        if learning_rate is not None:
            app.click("Reset")
            app.number("Learning rate", learning_rate)
        app.click("Start")
        app.expect(app.epoch, (60, 60), timeout=120, what="the run to finish")
        expect(sidebar(app)).to_contain_text("Training: finished", timeout=WAIT_MS)

    app.nav("Compare")
    expect(main(app)).to_contain_text("differ (training.learning_rate)", timeout=WAIT_MS)
    curves = {t["name"]: t for t in app.traces("compare.curves")}
    for run in ("run 1", "run 2"):
        for part in ("training", "validation"):
            assert len(curves[f"{run} ({part})"]["x"]) == 60, sorted(curves)
    assert curves["run 1 (training)"]["y"] != curves["run 2 (training)"]["y"]
    screenshot(app, "compare")

    app.nav("Inside")
    expect(main(app)).to_contain_text("The other 2 features are held", timeout=WAIT_MS)
    expect(main(app)).not_to_contain_text("Not trained yet", timeout=WAIT_MS)
    assert app.traces("inside.surface")[0]["type"] == "image"
    # trained, the class regions colour much of the chart (untrained: ~1%, only the points)
    box = app.page.locator(".st-key-inside-surface").last.bounding_box()
    assert app.colored_pixels("inside.surface") > 0.15 * box["width"] * box["height"]
    screenshot(app, "inside")
    app.tab("Network")
    app.settle()
    weights = [t for t in app.traces("inside.network") if t.get("name") == "weights"]
    assert len(weights[0]["hovertext"]) == 4 * 5 + 5 * 10 + 10 * 3  # one per weight
    app.assert_no_exception()
