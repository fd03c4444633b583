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


def test_five_fold_cross_validation_on_wine_shows_the_folds_and_the_band(new_app, screenshot):
    app = new_app("/Data")
    app.select("Dataset", datasets.SOURCES["wine"])
    app.expect_sidebar_text("178 rows")
    app.nav("Compare")
    app.click("Run cross-validation")
    app.wait_until(
        lambda: "Mean held-out accuracy" in app.main_text(), timeout=180, what="the folds"
    )
    app.assert_no_exception()
    mean = app.metric("Mean held-out accuracy")
    assert "±" in mean and 0.0 <= float(mean.split("±")[0]) <= 1.0, mean
    # the folds' table: a header and one row per fold, with 35 or 36 held-out wines each
    grid = app.page.locator("[data-testid='stDataFrame']").filter(has_text="held-out rows")
    rows = app.wait_until(
        lambda: grid.evaluate(
            "el => Array.from(el.querySelectorAll('[role=row]'))"
            ".map(r => Array.from(r.children).map(c => c.innerText))"
        ),
        what="the folds' table",
    )
    assert len(rows) == 6, rows  # the header and the 5 folds
    table = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [r["fold"] for r in table] == ["1", "2", "3", "4", "5"]
    assert sorted(int(r["held-out rows"]) for r in table) == [35, 35, 36, 36, 36]
    names = [t["name"] for t in app.traces("compare.cv.band")]
    assert [n for n in names if n.startswith("fold ")] == [f"fold {i}" for i in range(1, 6)]
    assert "± 1 std" in names and any(n.startswith("mean · AUC") for n in names), names
    app.page.get_by_text("Cross-validation of the current settings").scroll_into_view_if_needed()
    screenshot(app, "compare-cv")
    # the precision-recall band of one class
    app.page.locator("[data-testid='stButtonGroup']").get_by_text("Precision-recall").click()
    app.settle()
    app.expect(
        lambda: any(t["name"].startswith("mean · AP") for t in app.traces("compare.cv.band")),
        True,
        what="the precision-recall band",
    )
    # the learning curve of the same folds: the score against the number of training rows
    app.click("Learning curve")
    app.wait_until(
        lambda: any(
            t["name"] == "held-out rows, mean" for t in app.traces("compare.cv.learning_chart")
        ),
        timeout=180,
        what="the learning curve",
    )
    held = next(
        t for t in app.traces("compare.cv.learning_chart") if t["name"] == "held-out rows, mean"
    )
    assert len(held["x"]) >= 3 and held["x"] == sorted(held["x"])
    assert all(0.0 <= y <= 1.0 for y in held["y"])
    app.assert_no_exception()
