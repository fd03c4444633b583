"""Every page opened first by URL in a fresh session; two visitors at once never mix."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

from dashboard import data, page
from tests.e2e.ui import page_url_path

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

PAGES = page.available_pages()
# what each page must say to a visitor who arrives there first
FIRST_VISIT = {
    "Home": "Reproduce the article",
    "Data": "The current dataset",
    "Architecture": "The input layer has one node per feature (4)",
    "Train": "Press Start",
    "Predict": "There is no trained network yet",
}


@pytest.mark.parametrize("target", PAGES, ids=[p.label for p in PAGES])
def test_each_page_opened_first_by_url(new_app, screenshot, target):
    app = new_app(page_url_path(target.path))
    expected_heading = "Neural network lab" if target.label == "Home" else target.label
    assert app.heading() == expected_heading
    assert FIRST_VISIT.get(target.label, "") in app.main_text()
    sidebar = app.page.locator("[data-testid='stSidebar']")
    links = [t.strip() for t in sidebar.get_by_role("link").all_inner_texts()]
    for p in PAGES:  # the navigation is there even without the entry script
        assert any(link.endswith(p.label) for link in links), (p.label, links)
    assert "Training: not started" in app.sidebar_text()
    app.assert_no_exception()
    if target.label not in ("Home", "Data", "Architecture", "Train", "Predict"):
        screenshot(app, target.label.lower())  # the flows take the others at a better moment


def caption_network(app) -> str:
    match = re.search(r"Network ([\d → ]+?) on (\d+) training", app.main_text())
    assert match, app.main_text()[:500]
    return match.group(1).strip()


def history_rows(app) -> pd.DataFrame:
    with app.page.expect_download() as info:
        app.button("Download the history (CSV)").click()
    return pd.read_csv(io.BytesIO(open(info.value.path(), "rb").read()))


def test_two_visitors_train_different_networks_on_different_data(new_app):
    # two slow-enough sets (one update per row): both runs last long enough to pause them
    cancer = new_app("/Data")
    digits = new_app("/Data")
    cancer.select("Dataset", data.SOURCES["breast_cancer"])
    digits.select("Dataset", data.SOURCES["digits"])
    cancer.expect(lambda: cancer.metric("Rows"), "569", what="breast cancer")
    digits.expect(lambda: digits.metric("Rows"), "1,797", what="digits")
    digits.nav("Architecture")
    digits.click("Add hidden layer")
    for visitor in (cancer, digits):
        visitor.nav("Train")
        visitor.number("Epochs", 2000)
    assert caption_network(cancer) == "30 → 5 → 10 → 2"
    assert caption_network(digits) == "64 → 5 → 10 → 10 → 10"

    cancer.click("Start")
    digits.click("Start")

    def both_moving() -> bool:
        return cancer.epoch()[0] >= 3 and digits.epoch()[0] >= 3

    cancer.wait_until(both_moving, timeout=60, what="both visitors to train")
    cancer.pause_training()
    cancer_paused = cancer.epoch()[0]
    digits_before = digits.epoch()[0]
    # the other visitor keeps training while this one is paused
    digits.wait_until(lambda: digits.epoch()[0] > digits_before + 3, timeout=60, what="digits")
    cancer.settle()
    assert cancer.epoch()[0] == cancer_paused
    digits.pause_training()
    digits_paused = digits.epoch()[0]
    assert 0 < cancer_paused < 2000 and 0 < digits_paused < 2000

    # each sees only its own data, network and history
    assert "Breast cancer: 569 rows" in cancer.sidebar_text()
    assert "Digits: 1797 rows" in digits.sidebar_text()
    assert "30 → 5 → 10 → 2" in cancer.sidebar_text()
    assert "64 → 5 → 10 → 10 → 10" in digits.sidebar_text()
    assert len(history_rows(cancer)) == cancer_paused
    assert len(history_rows(digits)) == digits_paused
    # a third visitor starts from scratch
    fresh = new_app("/Train")
    assert fresh.epoch() == (0, 100)
    assert caption_network(fresh) == "4 → 5 → 10 → 3"
