"""Hostile and broken uploads in the browser: clear messages, a usable app, HTML shown as text."""

from __future__ import annotations

import importlib.util
import io
import json
import re

import numpy as np
import pytest

import nn
from dashboard.common import limits
from dashboard.data import datasets
from tests.e2e.ui import ROOT, chart_class, expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

BAD = ROOT / "tests" / "data" / "bad"
_spec = importlib.util.spec_from_file_location("make_bad_csvs", BAD.parent / "make_bad_csvs.py")
make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make)
TARGET = "Target column (the class or number to predict)"


def tick_labels(app, key: str) -> list[str]:
    """The x-axis labels plotly drew for chart ``key`` (in a selected tab), as a user reads them.

    SVG text has no ``innerText`` (playwright's ``all_inner_texts`` gives None for it): read
    ``textContent``. Waits until plotly has drawn them.
    """
    ticks = app.page.locator(f".st-key-{chart_class(key)} .xtick text")
    return app.wait_until(
        lambda: ticks.evaluate_all("els => els.map(e => e.textContent)"),
        timeout=30,
        what=f"the x-axis labels of {key}",
    )


def assert_labels_read_literally(shown: list[str], names: list[str]) -> None:
    """Each label is one of ``names`` as typed (long ones shortened with "…"), all present."""
    matched = set()
    for label in shown:
        assert isinstance(label, str), shown
        stem = label.removesuffix("…")
        hits = [n for n in names if (n == label) or (label.endswith("…") and n.startswith(stem))]
        assert len(hits) == 1, (label, names)
        matched.add(hits[0])
    assert matched == set(names), (shown, names)


def expect_rows(app, rows: str) -> None:
    app.expect(lambda: app.metric("Rows"), rows, what="the Rows metric")


def use_csv(app, rows: str) -> None:
    """Press "Use this CSV" and wait until the page shows the new dataset."""
    app.click("Use this CSV")
    app.expect_alert("Loaded the uploaded CSV.", "success")
    expect_rows(app, rows)


def choose_upload(app) -> None:
    app.select("Dataset", datasets.SOURCES[datasets.CSV])


def assert_clean(app) -> None:
    """No element made from injected HTML, no dialog, no exception."""
    assert app.injected_elements() == []
    assert app.dialogs == []
    app.assert_no_exception()


def test_html_in_headers_cells_and_file_name_stays_text_on_every_page(new_app):
    app = new_app("/Data")
    choose_upload(app)
    hostile_name = "<img src=x onerror=alert(3)>.csv"
    app.upload("CSV file", hostile_name, (BAD / "html_in_headers_and_cells.csv").read_bytes())
    assert_clean(app)
    use_csv(app, "30")
    app.expect_main_text(f"CSV file {hostile_name}")  # the name, as text
    for tab in ("Table", "Statistics", "Scatter matrix", "Distributions", "Class balance"):
        app.tab(tab)
        assert_clean(app)
    # the balance chart, in the tab selected last: plotly gets escaped names, so they read
    # literally on the axis and nothing is parsed as HTML
    (balance,) = app.traces("data.balance")
    assert len(balance["x"]) == 3
    assert_labels_read_literally(
        tick_labels(app, "data.balance"), ["<b>bold</b>", make.IMG, make.SCRIPT]
    )

    app.nav("Architecture")
    assert_clean(app)
    app.nav("Train")
    app.page.get_by_text("Fastest", exact=True).click()
    app.settle()
    app.click("Start")
    app.wait_until(lambda: "Finished" in app.main_text(), timeout=90, what="training")
    assert_clean(app)
    app.nav("Predict")
    assert_clean(app)
    # the form's labels are the hostile header names, shown as they are
    labels = app.page.locator("[data-testid='stForm'] [data-testid='stWidgetLabel']")
    expect(labels).to_have_count(4)
    shown = [t.strip() for t in labels.all_inner_texts()]
    assert make.SCRIPT in shown and make.IMG in shown
    app.page.locator("[data-testid='stFormSubmitButton'] button").click()
    app.settle()
    assert app.metric("Predicted class") in {"<b>bold</b>", make.IMG, make.SCRIPT}
    for tab in ("Test set", "Batch CSV", "Model file"):
        app.tab(tab)
        assert_clean(app)
    app.nav("Home")
    assert_clean(app)


def test_formula_cells_load_as_plain_text(new_app):
    app = new_app("/Data")
    choose_upload(app)
    app.upload("CSV file", "formula.csv", (BAD / "formula_injection.csv").read_bytes())
    use_csv(app, "30")
    app.tab("Class balance")
    assert_labels_read_literally(
        tick_labels(app, "data.balance"), [make.FORMULA, "@SUM(1+1)", "+cmd|' /C calc'!A0"]
    )
    assert_clean(app)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("binary_junk.csv", "looks binary"),
        ("empty.csv", "empty"),
        ("ragged_rows.csv", "does not look like a CSV table"),
        ("single_class.csv", "single class"),
        ("class_per_row.csv", "30 classes in 30 rows"),
        ("id_and_target_only.csv", "no feature column"),
    ],
)
def test_a_broken_csv_gives_a_clear_message_and_the_app_stays_usable(new_app, name, message):
    app = new_app("/Data")
    choose_upload(app)
    app.upload("CSV file", name, (BAD / name).read_bytes())
    # the preview refuses the file at once, or offers it and the loader refuses it on use
    error = app.page.locator("[data-testid='stAlertContentError']")
    use = app.button("Use this CSV")
    expect(error.or_(use).first).to_be_visible()
    if not error.count():
        use.click()
        app.settle()
    errors = app.expect_alert(message, "error")
    assert len(errors) == 1 and message in errors[0], errors
    app.expect_sidebar_text("Iris: 150 rows")  # the previous dataset stays
    expect_rows(app, "150")
    assert_clean(app)
    app.select("Dataset", datasets.SOURCES["wine"])  # and the app keeps working
    expect_rows(app, "178")


def test_an_enormous_header_is_refused(new_app):
    app = new_app("/Data")
    choose_upload(app)
    app.upload("CSV file", "wide.csv", make.enormous_header(20_000))
    app.expect_alert("20000 columns", "error")
    app.expect_sidebar_text("Iris: 150 rows")
    expect(app.button("Use this CSV")).to_have_count(0)


def test_a_file_over_the_upload_limit_is_refused(new_app):
    app = new_app("/Data")
    choose_upload(app)
    big = make.just_over(limits.MAX_UPLOAD_MB * 1024 * 1024)
    app.upload("CSV file", "big.csv", big)
    # the browser refuses it (server.maxUploadSize): the file's chip says why
    uploader = app.page.locator("[data-testid='stFileUploader']").filter(has_text="CSV file")
    chip = uploader.get_by_test_id("stFileChip")
    expect(chip).to_have_attribute("aria-invalid", "true")
    limit = re.compile(rf"\b{limits.MAX_UPLOAD_MB}(\.0)?\s?MB\b")  # the limit, not the size
    expect(chip.get_by_role("alert")).to_have_text(limit)
    # nothing reached the server: no preview, no button, the old dataset
    expect(app.button("Use this CSV")).to_have_count(0)
    expect(app.page.get_by_role("combobox", name=TARGET, exact=True)).to_have_count(0)
    app.expect_sidebar_text("Iris: 150 rows")
    app.select("Dataset", datasets.SOURCES["wine"])
    expect_rows(app, "178")


def crafted_model(**config_changes) -> bytes:
    """A model file for Iris whose config was edited after saving."""
    net = nn.Network.from_config(nn.presets.ARTICLE["network"])
    buffer = io.BytesIO()
    net.save(buffer)
    with np.load(io.BytesIO(buffer.getvalue()), allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    meta = json.loads(str(arrays["meta"]))
    meta["config"].update(config_changes)
    arrays["meta"] = np.array(json.dumps(meta))
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        b"\x00" * 100,
        crafted_model(output_activation={"x": 1}),
        crafted_model(activation=None),
    ],
    ids=["zeros", "output_activation_dict", "activation_none"],
)
def test_a_hostile_model_file_gives_a_clear_message(new_app, content):
    app = new_app("/Predict")
    app.upload("Model file (.npz)", "model.npz", content, mime="application/octet-stream")
    errors = app.expect_alert("unchanged", "error")
    assert len(errors) == 1, errors
    app.expect_main_text("There is no trained network yet")
    assert_clean(app)
