"""Predicting a number in a real browser: a CSV's numeric target detected as regression, trained
with live R^2, one value predicted, the predicted-vs-actual plot, the model carried into another
visitor's session; and the 1-D curve fitted live, two runs compared."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.data import datasets
from tests.conftest import ROOT
from tests.e2e.ui import expect

pytestmark = pytest.mark.e2e

CARS = (ROOT / "tests" / "data" / "tables" / "cars.csv").read_bytes()
TARGET = "Target column (the class or number to predict)"
# Every number is set: a field left alone starts at the training median, which differs by split.
SAMPLE = {
    "cylinders": "4",
    "displacement": "120",
    "horsepower": "90",
    "weight": "2400",
    "acceleration": "16",
    "model_year": "80",
}
CHOICES = {"maker": "honda", "origin": "japan"}


def load_cars(app) -> None:
    app.select("Dataset", datasets.SOURCES[datasets.CSV])
    app.upload("CSV file", "cars.csv", CARS)
    app.select(TARGET, "mpg")
    app.expect_main_text("Detected: a number (regression)")
    app.click("Use this CSV")
    app.expect_sidebar_text("398 rows")


def train_until_done(app) -> None:
    app.nav("Train")
    app.page.get_by_text("Fastest", exact=True).click()
    app.settle()
    app.click("Start")
    app.wait_until(
        lambda: "Finished" in app.main_text() or "Stopped early" in app.main_text(),
        timeout=120,
        what="training",
    )


def predict(app) -> str:
    app.submit_predict_form(SAMPLE, CHOICES)
    return app.metric("Predicted mpg")


def test_a_numeric_target_trains_predicts_and_travels(new_app, screenshot):
    app = new_app("/Data")
    load_cars(app)
    train_until_done(app)
    r2 = float(app.metric("Validation R²"))
    assert 0.3 < r2 <= 1.0  # live R^2 in the tiles, in place of accuracy
    app.nav("Predict")
    predicted = predict(app)
    assert 5 < float(predicted) < 60  # miles per gallon, in the target's own units
    app.tab("Test set")
    traces = app.traces("predict.actual")
    points = [t for t in traces if t.get("mode") == "markers"]
    line = [t for t in traces if t.get("mode") == "lines"]
    assert len(points[0]["x"]) == 60  # every test row: 15% of 398
    assert line and line[0]["x"] == line[0]["y"]  # the y = x line
    screenshot(app, "regression-predict")
    app.tab("Model file")
    _, model = app.download("Download the model (.npz)")

    other = new_app("/Data")
    load_cars(other)
    other.number("Split seed", 5)
    other.nav("Predict")
    other.upload("Model file (.npz)", "model.npz", model, mime="application/octet-stream")
    other.expect_alert("Loaded the model", "success")
    other.tab("One sample")
    assert predict(other) == predicted
    app.assert_no_exception()
    other.assert_no_exception()


def test_the_curve_bends_to_the_data_and_two_runs_compare(new_app, screenshot):
    app = new_app("/Train?data=sine&pace=fastest&epochs=60")
    app.expect_sidebar_text("Sine")
    for learning_rate in (None, 0.05):
        if learning_rate is not None:
            app.click("Reset")
            app.number("Learning rate", learning_rate)
        app.click("Start")
        app.wait_until(
            lambda: (
                "Training: finished" in app.sidebar_text()
                or "Training: stopped early" in app.sidebar_text()
            ),
            timeout=120,
            what="the run to finish",
        )
    app.nav("Inside")
    app.tab("Fitted curve")
    app.settle()
    traces = app.traces("inside.surface")
    curve = next(t for t in traces if t.get("mode") == "lines")
    xs, ys = np.array(curve["x"], float), np.array(curve["y"], float)
    assert len(xs) >= 100 and np.all(np.diff(xs) > 0)
    # the network bent to the sine: its curve follows sin(1.5 x) closely over the data
    inside = np.abs(xs) <= 2.5
    assert np.sqrt(np.mean((ys[inside] - np.sin(1.5 * xs[inside])) ** 2)) < 0.25
    screenshot(app, "regression-curve")

    app.nav("Compare")
    expect(app.page.locator("[data-testid='stMain']")).to_contain_text("R²")
    curves = {t["name"] for t in app.traces("compare.curves")}
    assert {"run 1 (training)", "run 2 (training)"} <= curves, sorted(curves)
    app.assert_no_exception()
