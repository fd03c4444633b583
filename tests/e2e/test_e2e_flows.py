"""What a visitor does, in Chromium against the real server: each flow reads what the user sees.

1. Home -> Reproduce the article -> the live chart grows -> the test accuracy shows.
2. Data: every bundled dataset, a 2-D synthetic set, and an uploaded CSV with a chosen target.
3. Architecture: add a layer, change nodes and activations; diagram and parameter count follow.
4. Train: Start, Pause, Step, a new learning rate, Resume, Reset.
5. Predict: the form, the class and its probabilities; the model downloaded and uploaded again.
"""

from __future__ import annotations

import io
import itertools
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

import nn
from dashboard.data import datasets
from tests.e2e.ui import expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def n_params(layers: list[int]) -> int:
    """Weights and biases of a fully connected network, counted here independently."""
    return sum((a + 1) * b for a, b in itertools.pairwise(layers))


def test_reproduce_the_article_from_home(app, screenshot):
    assert app.heading() == "Neural network lab"
    assert "Training: not started" in app.main_text()
    screenshot(app, "home")

    app.button("Reproduce the article").click()
    app.page.wait_for_url(re.compile(r"/Train(\?.*)?$"), timeout=30_000)
    # the live chart grows while the run goes on
    lengths = []

    def finished() -> bool:
        lengths.append(app.trace_length("train.chart"))
        return "Finished: 100 epochs trained" in app.main_text()

    app.wait_until(finished, timeout=120, interval=0.15, what="the article run to finish")
    app.settle()
    growing = sorted({n for n in lengths if 0 < n < 100})
    assert len(growing) >= 3, f"the chart should grow in steps while training: {lengths}"

    assert app.epoch() == (100, 100)
    accuracy = float(app.metric("Test accuracy, this run"))
    right, total = map(
        int, re.fullmatch(r"(\d+) of (\d+)", app.metric("Test flowers right")).groups()
    )
    assert total == 23  # 15% of 150 Iris flowers
    assert accuracy == pytest.approx(right / total, abs=1e-3)
    assert accuracy >= 0.8
    assert "The article reports a test accuracy of" in app.main_text()
    traces = app.traces("train.chart")
    assert {t["name"] for t in traces} >= {"training", "validation"}
    assert all(len(t["x"]) == 100 for t in traces)
    losses = next(t["y"] for t in traces if t["name"] == "training")
    assert losses[-1] < losses[0]
    screenshot(app, "train")

    # Home now tells where the session stands
    app.nav("Home")
    assert "Training: finished, epoch 100 of 100" in app.main_text()
    assert float(app.metric("Test accuracy, this run")) == accuracy


DATASETS = [  # source, name, rows, features, classes as the page shows them
    ("wine", "Wine", "178", "13", "3"),
    ("breast_cancer", "Breast cancer", "569", "30", "2"),
    ("digits", "Digits", "1,797", "64", "10"),
    ("iris", "Iris", "150", "4", "3"),
]
TARGET = "Target column (the class or number to predict)"


def shape_shown(app) -> tuple[str, str, str]:
    return app.metric("Rows"), app.metric("Features"), app.metric("Classes")


def expect_sidebar_data(app, name: str, rows: str, features: str, classes: str) -> None:
    """The sidebar names the current dataset and its size."""
    app.expect_sidebar_text(f"Data: {name}: {rows} rows, {features} features, {classes} classes")


def iris_csv_target_first() -> bytes:
    """Real Iris, with the class column first: the target has to be picked."""
    iris = load_iris()
    frame = pd.DataFrame(iris.data, columns=["sepal_l", "sepal_w", "petal_l", "petal_w"])
    frame.insert(0, "species", np.asarray(iris.target_names)[iris.target])
    return frame.to_csv(index=False).encode()


def test_data_page_datasets_synthetic_and_upload(new_app, screenshot):
    app = new_app("/Data")
    assert app.heading() == "Data"
    assert shape_shown(app) == ("150", "4", "3")
    expect_sidebar_data(app, "Iris", "150", "4", "3")
    for source, name, rows, features, classes in DATASETS:
        app.select("Dataset", datasets.SOURCES[source])
        app.expect(lambda: shape_shown(app), (rows, features, classes), what=source)
        expect_sidebar_data(app, name, rows, features, classes)

    app.select("Dataset", datasets.SOURCES["moons"])
    app.expect(lambda: shape_shown(app), ("300", "2", "2"), what="moons")
    app.number("Samples", 500)
    app.expect(lambda: shape_shown(app), ("500", "2", "2"), what="500 moons")
    expect_sidebar_data(app, "Moons", "500", "2", "2")

    def split_of_500() -> tuple[int, ...] | None:
        parts = tuple(int(app.metric(m)) for m in ("Training rows", "Validation rows", "Test rows"))
        return parts if sum(parts) == 500 else None

    parts = app.wait_until(split_of_500, timeout=30, what="a split of the 500 rows")
    assert min(parts) > 0
    app.tab("Scatter matrix")

    def splom_shown():
        splom = app.traces("data.splom")
        return (
            [t["type"] for t in splom],
            sum(t["n_points"] for t in splom),
            [t["dimensions"] for t in splom],
        )

    # one trace per class, the 500 points between them, the two features as dimensions
    expected = (["splom", "splom"], 500, [["x1", "x2"], ["x1", "x2"]])
    app.expect(splom_shown, expected, what="the scatter matrix of 500 moons")

    app.select("Dataset", datasets.SOURCES[datasets.CSV])
    app.upload("CSV file", "flowers.csv", iris_csv_target_first())
    assert app.selected(TARGET) == "species"  # picked by its name, though it comes first
    app.expect_main_text("Picked species: its name says it is the label")
    app.click("Use this CSV")
    app.expect_alert("Loaded the uploaded CSV.", "success")
    app.expect(lambda: shape_shown(app), ("150", "4", "3"), what="the uploaded CSV")
    app.expect_main_text("CSV file flowers.csv")
    expect_sidebar_data(app, "CSV file flowers.csv", "150", "4", "3")
    app.tab("Class balance")

    def balance_shown() -> list[tuple[str, int]]:
        (balance,) = app.traces("data.balance")
        return sorted(zip(map(str, balance["x"]), map(int, balance["y"]), strict=True))

    expected = [("setosa", 50), ("versicolor", 50), ("virginica", 50)]
    app.expect(balance_shown, expected, what="the class balance of the uploaded CSV")


@pytest.mark.parametrize("source", ["iris", "moons"])
def test_the_scatter_matrix_is_drawn_on_screen(new_app, screenshot, source):
    """Not only the chart's data: the picture itself (a 2-D set has a single pair to show)."""
    app = new_app("/Data")
    if source != "iris":
        app.select("Dataset", datasets.SOURCES[source])
        app.expect(lambda: app.metric("Features"), "2", what=source)
    app.tab("Scatter matrix")
    assert len(app.traces("data.splom")) >= 2
    # WebGL draws after the chart comes into view, slowly on a busy machine
    app.wait_until(
        lambda: app.colored_pixels("data.splom") > 200,
        timeout=60,
        what=f"the {source} scatter matrix to be drawn (it stays blank)",
    )
    if source == "iris":
        screenshot(app, "data")


def test_architecture_edits_follow_in_diagram_and_count(new_app, screenshot):
    app = new_app("/Architecture")

    def shown() -> tuple[str, int]:
        """The parameter count and the nodes the diagram draws."""
        traces = app.traces("arch.diagram")
        nodes = sum(len(t["x"]) for t in traces if t.get("mode") == "markers")
        return app.metric("Parameters (weights and biases)"), nodes

    def follows(layers: list[int]) -> None:
        app.expect(shown, (f"{n_params(layers):,}", sum(layers)), what=f"the network {layers}")

    follows([4, 5, 10, 3])

    app.click("Add hidden layer")
    expect(app.page.get_by_role("spinbutton", name="Layer 3: nodes", exact=True)).to_have_value(
        "10"
    )
    follows([4, 5, 10, 10, 3])

    app.number("Layer 3: nodes", 7)
    follows([4, 5, 10, 7, 3])
    app.expect_main_text("4 → 5 → 10 → 7 → 3 nodes")

    app.select("Layer 1: activation", "relu")
    app.select("Initial weights", "He")
    app.expect_sidebar_text("relu")
    app.select("Output activation", "softmax")
    app.expect_alert("Softmax with squared error", "warning")
    app.select("Loss", "cross_entropy")
    softmax_warning = app.page.locator("[data-testid='stAlertContentWarning']").filter(
        has_text="Softmax with squared error"
    )
    expect(softmax_warning).to_have_count(0)
    hover = [h for t in app.traces("arch.diagram") for h in t.get("hovertext", []) or []]
    assert any("SepalLengthCm" in str(h) for h in hover)
    screenshot(app, "architecture")

    app.nav("Train")
    app.expect_main_text("Network 4 → 5 → 10 → 7 → 3")


def history_from_download(app) -> pd.DataFrame:
    name, content = app.download("Download the history (CSV)")
    assert name.endswith(".csv")
    return pd.read_csv(io.BytesIO(content))


def test_train_start_pause_step_learning_rate_resume_reset(new_app):
    # Digits (1,374 training rows, one update per row, about 30 epochs a second on one core)
    # makes a run of 2000 epochs last a minute or more: time to see the counter move and stop.
    app = new_app("/Data")
    app.select("Dataset", datasets.SOURCES["digits"])
    app.expect(lambda: app.metric("Rows"), "1,797", what="digits")
    app.nav("Train")
    assert app.epoch() == (0, 100)
    app.number("Batch size", 1)  # one update per row (digits starts from the modern preset)
    app.number("Epochs", 2000)
    app.expect(app.epoch, (0, 2000), what="the epoch counter")

    app.start_training()
    seen = []

    def rose_three_times() -> bool:
        seen.append(app.epoch()[0])
        return len({n for n in seen if n > 0}) >= 3

    app.wait_until(rose_three_times, timeout=60, what="the epoch counter to rise")
    assert seen == sorted(seen), f"the counter went down: {seen}"

    app.pause_training()
    paused = app.epoch()[0]
    assert 0 < paused < 2000
    expect(app.button("Resume")).to_be_enabled()
    app.page.wait_for_timeout(1500)  # paused: nothing may move in this while
    app.settle()
    assert app.epoch()[0] == paused

    app.click("Step")
    app.expect(lambda: app.epoch()[0], paused + 1, what="one step")
    app.page.wait_for_timeout(800)  # and nothing more in this while
    assert app.epoch()[0] == paused + 1  # exactly one epoch

    app.number("Learning rate", 0.05)
    app.start_training("Resume")
    app.wait_until(lambda: app.epoch()[0] > paused + 20, timeout=60, what="training to resume")
    app.pause_training()
    total = app.epoch()[0]
    # what the page says agrees: the counter, the progress bar and the sidebar
    app.expect_main_text(f"paused: epoch {total} of 2000")
    app.expect_sidebar_text(f"paused, epoch {total} of 2000")
    history = history_from_download(app)
    assert len(history) == total
    assert list(history["epoch"]) == list(range(1, total + 1))
    lr = history["learning_rate"].to_numpy()
    first = nn.presets.MODERN["training"]["learning_rate"]  # digits' starting settings
    assert np.all(lr[: paused + 1] == first)  # up to and including the stepped epoch
    assert np.all(lr[paused + 1 :] == 0.05)  # after the change

    app.click("Reset")
    app.expect(app.epoch, (0, 2000), what="the counter after Reset")
    expect(app.button("Start")).to_be_enabled()
    app.expect(lambda: app.trace_length("train.chart"), 0, what="an empty chart after Reset")


def virginica_sample() -> dict[str, str]:
    return {
        "SepalLengthCm": "6.7",
        "SepalWidthCm": "3",
        "PetalLengthCm": "5.2",
        "PetalWidthCm": "2.3",
    }


def predict(app, values: dict[str, str]) -> tuple[str, list[float], list[str]]:
    app.submit_predict_form(values, {})
    (bars,) = app.traces("predict.proba")
    return app.metric("Predicted class"), [float(v) for v in bars["x"]], list(bars["y"])


def test_predict_a_sample_then_download_and_upload_the_model(new_app, screenshot):
    app = new_app("/Train")
    app.page.get_by_text("Fastest", exact=True).click()
    app.settle()
    app.click("Start")
    app.wait_until(lambda: "Finished: 100 epochs" in app.main_text(), timeout=90, what="training")
    app.nav("Predict")
    app.expect_main_text("The network after 100 epochs")

    predicted, outputs, classes = predict(app, virginica_sample())
    assert classes == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    assert predicted == classes[int(np.argmax(outputs))]
    assert predicted == "Iris-virginica"
    assert all(0.0 <= p <= 1.0 for p in outputs)
    screenshot(app, "predict")

    app.tab("Model file")
    name, model = app.download("Download the model (.npz)")
    assert name.endswith(".npz") and model[:2] == b"PK"

    # A new visitor (fresh context) has no network, uploads the file, gets the same answers
    other = new_app("/Predict")
    other.expect_main_text("There is no trained network yet")
    other.upload("Model file (.npz)", "model.npz", model, mime="application/octet-stream")
    other.expect_alert("Loaded the model: 4 → 5 → 10 → 3, 100 epochs trained", "success")
    again, outputs_again, _ = predict(other, virginica_sample())
    assert again == predicted
    np.testing.assert_allclose(outputs_again, outputs, rtol=0, atol=1e-12)

    # A file that is not a model: a clear message, and the network stays
    other.tab("Model file")
    other.upload(
        "Model file (.npz)",
        "junk.npz",
        b"PK\x03\x04 not really a zip",
        mime="application/octet-stream",
    )
    other.expect_alert("unchanged", "error")
    other.tab("One sample")
    assert predict(other, virginica_sample())[0] == predicted
