"""A real table in a real browser: upload penguins (categories, gaps, an id column), see the
column table, train, predict with a category chosen from a select box, and carry the model into
a fresh visitor's session that loaded the same file with another split."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.common.text import md_escape
from dashboard.data import datasets
from tests.conftest import ROOT
from tests.e2e.ui import expect

pytestmark = pytest.mark.e2e

PENGUINS = (ROOT / "tests" / "data" / "tables" / "penguins.csv").read_bytes()
# Every field is set: the ones left alone start at the training medians, which differ by split.
SAMPLE = {
    "bill_length_mm": "47",
    "bill_depth_mm": "15",
    "flipper_length_mm": "215",
    "body_mass_g": "5000",
    "year": "2008",
}
CHOICES = {"island": "Biscoe", "sex": "male"}


def load_penguins(app) -> None:
    app.select("Dataset", datasets.SOURCES[datasets.CSV])
    app.upload("CSV file", "penguins.csv", PENGUINS)
    app.expect_main_text("Picked species: its name says it is the label")
    app.expect_main_text("Columns")
    app.click("Use this CSV")
    app.expect_sidebar_text("341 rows")


def predict(app) -> tuple[str, list[float]]:
    for label, value in SAMPLE.items():  # the field is named by its (escaped) Markdown label
        app.page.get_by_role("spinbutton", name=md_escape(label, 60), exact=True).fill(value)
    form = app.page.locator("[data-testid='stForm']")
    for label, choice in CHOICES.items():
        form.locator("[data-testid='stSelectbox']").filter(has_text=label).click()
        app.page.get_by_role("option", name=choice, exact=True).click()
    app.page.locator("[data-testid='stFormSubmitButton'] button").click()
    app.settle()
    (bars,) = app.traces("predict.proba")
    return app.metric("Predicted class"), [float(v) for v in bars["x"]]


def test_a_table_with_categories_trains_predicts_and_travels(new_app, screenshot):
    app = new_app("/Data")
    load_penguins(app)
    main = app.main_text()
    assert "Not used: rowid" in main.replace("\\", "")
    expect(app.page.locator("[data-testid='stDataFrame']").first).to_be_visible()
    screenshot(app, "data-columns")

    app.nav("Train")
    app.page.get_by_text("Fastest", exact=True).click()
    app.settle()
    app.click("Start")
    app.wait_until(lambda: "Finished" in app.main_text(), timeout=120, what="training")
    app.nav("Predict")
    predicted, outputs = predict(app)
    assert predicted in ("Adelie", "Chinstrap", "Gentoo")
    assert predicted == ["Adelie", "Chinstrap", "Gentoo"][int(np.argmax(outputs))]
    app.tab("Model file")
    _, model = app.download("Download the model (.npz)")

    other = new_app("/Data")
    load_penguins(other)
    other.number("Split seed", 5)
    other.nav("Predict")
    other.upload("Model file (.npz)", "model.npz", model, mime="application/octet-stream")
    other.expect_alert("Loaded the model", "success")
    other.tab("One sample")
    again, outputs_again = predict(other)
    assert again == predicted
    np.testing.assert_allclose(outputs_again, outputs, rtol=0, atol=1e-12)
    app.assert_no_exception()
    other.assert_no_exception()
