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
def test_each_page_opened_first_by_url(new_app, target):
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


def caption_network(app) -> str:
    match = re.search(r"Network ([\d → ]+?) on (\d+) training", app.main_text())
    assert match, app.main_text()[:500]
    return match.group(1).strip()


def history_rows(app) -> pd.DataFrame:
    with app.page.expect_download() as info:
        app.button("Download the history (CSV)").click()
    return pd.read_csv(io.BytesIO(open(info.value.path(), "rb").read()))


def test_two_visitors_train_different_networks_on_different_data(new_app):
    wine = new_app("/Data")
    moons = new_app("/Data")
    wine.select("Dataset", data.SOURCES["wine"])
    moons.select("Dataset", data.SOURCES["moons"])
    moons.nav("Architecture")
    moons.click("Add hidden layer")
    for visitor in (wine, moons):
        visitor.nav("Train")
        visitor.number("Epochs", 2000)
    assert caption_network(wine) == "13 → 5 → 10 → 3"
    assert caption_network(moons) == "2 → 5 → 10 → 10 → 2"

    wine.click("Start")
    moons.click("Start")

    def both_moving() -> bool:
        return wine.epoch()[0] >= 5 and moons.epoch()[0] >= 5

    wine.wait_until(both_moving, timeout=60, what="both visitors to train")
    wine.click("Pause")
    wine_paused = wine.epoch()[0]
    moons_before = moons.epoch()[0]
    # the other visitor keeps training while this one is paused
    moons.wait_until(lambda: moons.epoch()[0] > moons_before + 5, timeout=60, what="moons")
    wine.settle()
    assert wine.epoch()[0] == wine_paused
    moons.click("Pause")
    moons_paused = moons.epoch()[0]

    # each sees only its own data, network and history
    assert "Wine: 178 rows" in wine.sidebar_text()
    assert "Moons: 300 rows" in moons.sidebar_text()
    assert "13 → 5 → 10 → 3" in wine.sidebar_text()
    assert "2 → 5 → 10 → 10 → 2" in moons.sidebar_text()
    assert len(history_rows(wine)) == wine_paused
    assert len(history_rows(moons)) == moons_paused
    # a third visitor starts from scratch
    fresh = new_app("/Train")
    assert fresh.epoch() == (0, 100)
    assert caption_network(fresh) == "4 → 5 → 10 → 3"
