"""A real table in a real browser: upload penguins (categories, gaps, an id column), see the
column table, train, predict with a category chosen from a select box, and carry the model into
a fresh visitor's session that loaded the same file with another split."""

from __future__ import annotations

import numpy as np
import pytest

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


def load_penguins(app, edit=None) -> None:
    app.select("Dataset", datasets.SOURCES[datasets.CSV])
    app.upload("CSV file", "penguins.csv", PENGUINS)
    app.expect_main_text("Picked species: its name says it is the label")
    app.expect_main_text("Columns")
    if edit:
        edit(app)
    app.click("Use this CSV")
    app.expect_sidebar_text("341 rows")


# The column table's columns, as data_ui.columns_ui lays them out, and its rows for penguins.
COLUMNS = ["column", "detected", "gaps", "role", "use as", "gaps become", "constant", "flag gaps"]
ROWS = ["rowid", "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm"]
ROWS += ["body_mass_g", "sex", "year"]


def cell(grid, column: int, row: int):
    """A cell of the grid's accessible table (glide-data-grid marks the selected one)."""
    return grid.locator(f"[data-testid='glide-cell-{column}-{row}']")


def edit_cell(app, row: str, column: str, option=None, text=None, toggle=False) -> None:
    """Edit one cell of the column table as a visitor does: select it with the keyboard from
    the first cell, then pick an option, type a value or tick a box."""
    grid = app.page.locator("[data-testid='stDataFrame']").nth(1)  # the first is the preview
    grid.scroll_into_view_if_needed()
    target = cell(grid, COLUMNS.index(column), ROWS.index(row))
    for attempt in range(3):
        box = grid.bounding_box()
        app.page.mouse.click(box["x"] + 20, box["y"] + 52)  # the first cell, below the header
        expect(cell(grid, 0, 0)).to_have_attribute("aria-selected", "true")
        for _ in range(COLUMNS.index(column)):
            app.page.keyboard.press("ArrowRight")
        for _ in range(ROWS.index(row)):
            app.page.keyboard.press("ArrowDown")
        try:  # a key pressed while the grid was still taking the focus can get lost
            expect(target).to_have_attribute("aria-selected", "true", timeout=5_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    if option is not None:
        app.page.keyboard.press("Enter")  # opens the list; typing filters it
        app.page.keyboard.type(option)
        expect(app.page.get_by_role("option", name=option, exact=True)).to_be_visible()
        app.page.keyboard.press("Enter")
    elif text is not None:
        app.page.keyboard.press("Enter")  # opens the cell's editor
        app.page.keyboard.press("ControlOrMeta+a")
        app.page.keyboard.type(text)
        app.page.keyboard.press("Enter")
    elif toggle:
        app.page.keyboard.press("Space")
    app.settle()


def edit_columns(app) -> None:
    """Skip year, use a constant for body mass with a "was missing" input, and the most
    frequent sex for a gap."""
    edit_cell(app, "year", "role", option="skip")
    edit_cell(app, "body_mass_g", "gaps become", option="constant")
    edit_cell(app, "body_mass_g", "constant", text="4000")
    edit_cell(app, "body_mass_g", "flag gaps", toggle=True)
    edit_cell(app, "sex", "gaps become", option="most frequent")


def test_the_column_table_is_edited_in_the_browser_and_the_network_follows(new_app, screenshot):
    app = new_app("/Data")
    load_penguins(app, edit_columns)
    screenshot(app, "data-columns-edited")
    notes = app.main_text().replace("\\", "")
    assert "Not used: rowid" in notes and "year (" in notes, notes[:3000]
    # island 3 + four numbers + body mass "was missing" + sex 2 (no "(missing)"): 10 inputs.
    app.expect_sidebar_text("Network: 10 →")
    app.nav("Predict")
    app.expect_main_text("There is no trained network yet")
    app.nav("Train")
    app.page.get_by_text("Fastest", exact=True).click()
    app.settle()
    app.click("Start")
    app.wait_until(lambda: "Finished" in app.main_text(), timeout=120, what="training")
    app.nav("Inside")
    app.tab("Network")
    app.settle()
    hover = " ".join(str(v) for t in app.traces("inside.network") for v in t.get("hovertext") or [])
    assert "body_mass_g (missing) →" in hover and "bill_length_mm (missing)" not in hover
    assert "sex=male →" in hover and "sex=(missing)" not in hover and "year" not in hover
    app.assert_no_exception()


def predict(app) -> tuple[str, list[float]]:
    app.submit_predict_form(SAMPLE, CHOICES)
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
