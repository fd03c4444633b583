"""The Predict page's Curves tab in a real browser: breast cancer trained, the ROC and
precision-recall curves drawn, the decision threshold moved with the keyboard on its slider,
and the confusion matrix following it."""

from __future__ import annotations

import pytest

from dashboard.data import datasets

pytestmark = pytest.mark.e2e

SLIDER = "[data-testid='stSlider'] input[type='range']"  # the thumb, as the keyboard reaches it


def confusion(app) -> list:
    """The Curves tab's confusion matrix counts, as plotly drew them."""
    return app.traces("predict.curves_confusion")[0]["z"]


def test_the_threshold_slider_moves_the_confusion_matrix(new_app, screenshot):
    app = new_app("/Data")
    app.select("Dataset", datasets.SOURCES["breast_cancer"])
    app.expect_sidebar_text("569 rows")
    app.nav("Train")
    app.page.get_by_text("Fastest", exact=True).click()
    app.settle()
    app.number("Epochs", 30)
    app.click("Start")
    app.wait_until(
        lambda: "Finished" in app.main_text() or "Stopped early" in app.main_text(),
        timeout=120,
        what="training",
    )
    app.nav("Predict")
    app.tab("Curves")
    roc = [t["name"] for t in app.traces("predict.roc")]
    assert any(n.startswith("benign · AUC") for n in roc), roc
    assert any("AP" in t["name"] for t in app.traces("predict.pr"))
    app.expect_main_text("above 0.50 (the decision threshold, the default)")
    before = confusion(app)
    assert sum(map(sum, before)) == 86  # every test row: 15% of 569

    thumb = app.page.locator(SLIDER).first
    assert thumb.input_value() == "0.5"
    # The lowest threshold calls more rows "benign", the highest fewer; a confident network
    # may have no test row between 0.01 and 0.5, so the other end is tried too.
    for key, value in (("Home", "0.01"), ("End", "0.99")):
        thumb.focus()
        app.page.keyboard.press(key)
        app.settle()
        app.expect(lambda: f"{float(thumb.input_value()):.2f}", value, what="the slider")
        app.expect_main_text(f"at the threshold {value}")
        moved = confusion(app)
        if moved != before:
            break
    assert moved != before, "no threshold from 0.01 to 0.99 changed a test row's class"
    assert sum(map(sum, moved)) == 86
    assert any(t["name"] == f"threshold {value}" for t in app.traces("predict.roc"))
    screenshot(app, "predict-curves")

    app.click("Use this threshold for predictions")
    app.expect_main_text(f"above {value} (the decision threshold, saved with the model)")
    app.assert_no_exception()
