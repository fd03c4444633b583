"""Regression in the app: the Data, Architecture and Train pages and the session's plumbing.

A dataset of numbers (diabetes, the synthetic sine, plane and bump, a CSV with a numeric target)
gets a linear output with squared error, R² in place of accuracy while it trains, and plots of
its target; switching between classes and numbers never leaves an output layer that does not
suit the data.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import nn
from dashboard import state
from dashboard.architecture import build
from dashboard.common import charts, limits
from dashboard.data import datasets
from dashboard.share import link
from dashboard.training import advice, loop
from tests.conftest import ROOT
from tests.test_advice import finish_on_train_page
from tests.test_app_defaults import choose
from tests.test_app_pages import texts, upload_csv
from tests.test_app_share import open_with
from tests.test_app_training import drain

DATA, ARCH, TRAIN = "pages/1_Data.py", "pages/2_Architecture.py", "pages/3_Train.py"
CARS = ROOT / "tests/data/tables/cars.csv"


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def chart(at, key: str) -> dict:
    """The plotly figure (as a dict) of the chart drawn with ``key``."""
    import json

    for element in at.get("plotly_chart"):
        if element.proto.id.endswith("-" + key):
            return json.loads(element.proto.spec)
    raise AssertionError(f"no chart {key}")


def buildable(at) -> dict:
    """The session's network config, built as the Train page builds it (fails if it cannot)."""
    ds = at.session_state[state.DATASET]
    config = build.network_config(
        at.session_state[state.ARCH],
        at.session_state[state.SPLIT].preprocessor.n_inputs,
        ds.n_outputs,
        ds.task,
    )
    return nn.normalize_config(config)


def task_radio(at):
    return next(r for r in at.radio if str(r.key).startswith("data.task."))


# ---- the Data page ----


def test_the_catalogue_groups_the_sets_of_numbers_and_says_what_they_predict():
    options = datasets.source_options()
    assert options[-1] == datasets.CSV
    numbers = [s for s in options if s in datasets.REGRESSION_SETS]
    assert numbers == ["diabetes", "sine", "plane", "bump"]
    # classes first, then numbers, then the upload
    assert options.index("diabetes") > max(options.index(s) for s in ("iris", "blobs"))
    for source in numbers:
        assert "predict a number" in datasets.source_label(source)
        assert datasets.spec_task({"source": source}) == "regression"
    assert "predict a number" not in datasets.source_label("iris")
    assert datasets.spec_task({"source": "csv", "task": "regression"}) == "regression"
    assert datasets.spec_task({"source": "csv"}) == "classification"


def test_diabetes_shows_its_target_and_each_feature_against_it(app):
    at = choose(app(DATA), "diabetes")
    assert not at.exception
    assert metrics(at)["Predicts a number"] == "progression"
    assert "Classes" not in metrics(at)
    assert [t.label for t in at.tabs] == [
        "Table",
        "Statistics",
        "Target",
        "Features vs target",
        "Distributions",
    ]
    hist = chart(at, "data.target_hist")
    assert hist["data"][0]["type"] == "histogram"
    assert "mean" in hist["layout"]["annotations"][0]["text"]
    grid = chart(at, "data.vs_target")
    assert len(grid["data"]) == 4  # the first four features, each against the target
    assert all(trace["mode"] == "markers" for trace in grid["data"])
    stats = at.dataframe[1].value
    assert stats.index[-1] == "progression" and stats.loc["progression", "kind"] == "target"
    assert not at.checkbox(key="data.no_stratify").value  # a number is never stratified
    assert at.checkbox(key="data.no_stratify").disabled
    assert "The settings follow the dataset: this target is a number" in texts(at)


def test_the_sine_has_the_synthetic_controls_and_a_one_feature_plot(app):
    at = choose(app(DATA), "sine")
    at.number_input(key="data.n_samples").set_value(500).run()
    at.slider(key="data.noise").set_value(0.5).run()
    assert not at.exception
    ds = at.session_state[state.DATASET]
    assert ds.is_regression and ds.X.shape == (500, 1) and ds.feature_names == ["x"]
    assert at.session_state[state.DATA_SPEC] == {
        "source": "sine",
        "n_samples": 500,
        "noise": 0.5,
        "seed": 0,
    }
    assert len(chart(at, "data.vs_target")["data"]) == 1


# ---- a CSV with a numeric target ----


def test_a_numeric_csv_target_is_predicted_as_a_number_and_trains_with_r2(app):
    at = upload_csv(app(DATA), CARS.read_bytes(), "cars.csv")
    at.selectbox(key="data.target").set_value("mpg").run()
    radio = task_radio(at)
    assert radio.value == "regression"
    assert radio.disabled  # 209 different numbers: too many for classes
    shown = texts(at)
    assert "Detected: a number (regression), because it holds numbers with fractions" in shown
    assert f"up to {limits.MAX_CLASSES} classes" in shown
    at.button(key="data.use_csv").click().run()
    assert not at.exception and not at.error
    ds = at.session_state[state.DATASET]
    assert ds.is_regression and ds.target == "mpg" and ds.class_names == []
    assert at.session_state[state.DATA_SPEC]["task"] == "regression"
    assert metrics(at)["Predicts a number"] == "mpg"
    assert "origin" in ds.feature_names and "model" not in ds.feature_names
    at.selectbox(key=f"data.dist.{at.session_state[state.DATA_VERSION]}").set_value("origin").run()
    boxes = chart(at, "data.dist_chart")
    assert {trace["type"] for trace in boxes["data"]} == {"box"}  # mpg per origin
    assert buildable(at)["task"] == "regression"
    finish_on_train_page(at, 30)
    assert not at.exception
    last = at.session_state[state.TRAINER].net.history[-1]
    assert last.train_accuracy is None and last.train_r2 > 0.5
    assert metrics(at)["Training R²"] == f"{last.train_r2:.3f}"


def test_the_task_can_be_switched_where_the_target_allows_and_is_checked_on_the_server(app):
    at = upload_csv(app(DATA), CARS.read_bytes(), "cars.csv")
    assert at.selectbox(key="data.target").value == "origin"
    radio = task_radio(at)
    assert (radio.value, radio.disabled) == ("classification", True)  # text: always classes
    assert "holds text" in texts(at)
    at.selectbox(key="data.target").set_value("model_year").run()
    radio = task_radio(at)
    assert (radio.value, radio.disabled) == ("classification", False)  # 13 whole numbers
    assert "it holds 13 different whole numbers" in texts(at)
    radio.set_value("regression").run()
    at.button(key="data.use_csv").click().run()
    assert not at.exception and not at.error
    ds = at.session_state[state.DATASET]
    assert ds.is_regression and ds.target == "model_year"
    assert at.session_state[state.ARCH]["output_activation"] == "linear"
    # back to classes, from the same picker
    task_radio(at).set_value("classification").run()
    at.button(key="data.use_csv").click().run()
    assert not at.exception and not at.error
    ds = at.session_state[state.DATASET]
    assert not ds.is_regression and len(ds.class_names) == 13
    assert buildable(at)["layers"][-1] == 13
    assert at.session_state[state.ARCH]["output_activation"] == "softmax"


def test_a_forged_task_for_a_target_of_many_numbers_is_refused(app):
    at = upload_csv(app(DATA), CARS.read_bytes(), "cars.csv")
    at.selectbox(key="data.target").set_value("mpg").run()
    key = task_radio(at).key
    at.session_state[key] = "classification"  # what a forged browser message would send
    at.run()
    assert "mpg holds 209 different numbers" in texts(at).replace("\\", "")
    at.button(key="data.use_csv").click().run()
    assert not at.exception
    assert at.session_state[state.DATASET].is_regression
    assert at.session_state[state.DATA_SPEC]["task"] == "regression"


def test_check_task_keeps_only_what_the_target_allows():
    many = datasets.task_choice("mpg", pd.Series(np.linspace(10, 40, 100)))
    assert many.allowed == ("regression",)
    assert datasets.check_task("classification", many)[0] == "regression"
    value, message = datasets.check_task("<img src=x onerror=alert(1)>", many)
    assert value == "regression" and "is not a class or a number" in message
    few = datasets.task_choice("rating", pd.Series([1, 2, 3, 2, 1] * 10))
    assert (few.detected, few.allowed) == ("classification", ("classification", "regression"))
    assert datasets.check_task("regression", few) == ("regression", None)
    text = datasets.task_choice("kind", pd.Series(["a", "b"] * 10))
    assert text.allowed == ("classification",)
    assert datasets.check_task("regression", text)[0] == "classification"
    assert datasets.check_task(None, text) == (
        "classification",
        "Predict: None is not a class or a number; using classification.",
    )
    with pytest.raises(ValueError, match="not a class or a number"):
        datasets.load_uploaded_csv(CARS.read_bytes(), "mpg", "cars.csv", task="ordinal")


def test_a_leaking_numeric_column_is_worded_as_r2(app):
    rng = np.random.default_rng(0)
    price = rng.uniform(100, 900, 200)
    frame = pd.DataFrame(
        {
            "size": rng.uniform(20, 200, 200),
            "rooms": rng.integers(1, 6, 200),
            "price_eur": price * 0.92,
            "price": price.round(2),
        }
    )
    at = upload_csv(app(DATA), frame.to_csv(index=False).encode(), "homes.csv")
    at.selectbox(key="data.target").set_value("price").run()
    at.button(key="data.use_csv").click().run()
    assert not at.exception
    warnings = [w.value.replace("\\", "") for w in at.warning]
    warning = next(w for w in warnings if "price_eur" in w)
    assert "R² 1.000" in warning and "of the target's variation" in warning
    assert at.button(key="data.skip_leak.price_eur")


# ---- the Architecture page ----


def test_the_output_layer_follows_the_task_and_warns_for_a_sigmoid_on_a_number(app):
    at = choose(app(DATA), "diabetes")
    at.switch_page(ARCH).run()
    assert not at.exception
    assert at.selectbox(key="arch.w.output").options == ["linear", "sigmoid"]
    assert at.selectbox(key="arch.w.loss").options == ["squared_error", "huber"]
    assert "one node for the number to predict (progression)" in texts(at)
    config = buildable(at)
    assert config["task"] == "regression" and config["layers"][-1] == 1
    at.selectbox(key="arch.w.output").set_value("sigmoid").run()
    assert "half the standardized targets are negative" in texts(at)
    at.selectbox(key="arch.w.loss").set_value("huber").run()
    assert at.session_state[state.ARCH]["loss"] == "huber"
    # the presets adapt to the task
    at.button(key="arch.preset.article").click().run()
    arch = at.session_state[state.ARCH]
    assert arch["hidden"] == [5, 10] and arch["output_activation"] == "linear"
    assert arch["loss"] == "squared_error"  # the preset's own loss, for a number
    assert buildable(at)["layers"] == [10, 5, 10, 1]


def test_a_forged_output_for_the_other_task_is_never_applied(app):
    at = choose(app(DATA), "sine")
    at.session_state["arch.w.output"] = "softmax"  # a widget value the page does not offer
    at.session_state["arch.w.loss"] = "cross_entropy"
    at.switch_page(ARCH).run()
    assert not at.exception
    assert at.selectbox(key="arch.w.output").value == "linear"
    assert at.selectbox(key="arch.w.loss").value == "squared_error"
    assert at.session_state[state.ARCH]["output_activation"] == "linear"
    assert build.architecture_problems(
        {**at.session_state[state.ARCH], "output_activation": "softmax"}, 1, 1, "regression"
    ) == ["a regression network needs a linear or sigmoid output, not softmax"]


def test_an_output_layer_made_for_the_other_task_is_named_with_a_one_click_fix(app):
    at = choose(app(DATA), "diabetes")
    classes = link.default_experiment({"source": "wine"}).arch
    at.session_state[state.ARCH] = classes  # e.g. kept from a session before the switch
    at.switch_page(TRAIN).run()
    assert not at.exception
    assert "does not suit it" in texts(at)
    assert not [b for b in at.button if b.key == "train.start"]  # nothing to build yet
    at.switch_page(ARCH).run()
    assert "softmax output with cross-entropy loss does not suit it" in texts(at)
    at.button(key="arch.fit_task").click().run()
    assert not at.exception
    arch = at.session_state[state.ARCH]
    assert (arch["output_activation"], arch["loss"]) == ("linear", "squared_error")
    assert arch["hidden"] == classes["hidden"]
    assert "does not suit it" not in texts(at)
    at.switch_page(TRAIN).run()
    assert at.button(key="train.start")


# ---- switching between classes and numbers ----


def test_switching_between_classes_and_numbers_keeps_a_buildable_config(app):
    at = choose(app(DATA), "diabetes")  # untouched: the settings follow the dataset
    assert at.session_state[state.ARCH] == link.default_experiment({"source": "diabetes"}).arch
    assert at.session_state[state.TRAIN_SETTINGS]["early_stopping"] is True
    assert buildable(at)["output_activation"] == "linear"
    choose(at, "wine")
    assert buildable(at)["output_activation"] == "softmax"
    # touched: the hidden layers stay, the output layer follows the task, with a message
    at.switch_page(ARCH).run()
    at.number_input(key="arch.w.nodes.0").set_value(12).run()
    at.switch_page(DATA).run()
    for source, output, loss in [
        ("sine", "linear", "squared_error"),
        ("moons", "softmax", "cross_entropy"),
        ("plane", "linear", "squared_error"),
        ("iris", "sigmoid", "squared_error"),  # the article's output on Iris
        ("bump", "linear", "squared_error"),
    ]:
        choose(at, source)
        arch = at.session_state[state.ARCH]
        assert arch["hidden"][0] == 12, source
        assert (arch["output_activation"], arch["loss"]) == (output, loss), source
        assert buildable(at)["layers"][-1] == at.session_state[state.DATASET].n_outputs
        assert "The output layer follows the task" in texts(at)
    # Huber on a number becomes the classes' own loss
    at.switch_page(ARCH).run()
    at.selectbox(key="arch.w.loss").set_value("huber").run()
    at.switch_page(DATA).run()
    choose(at, "wine")
    assert at.session_state[state.ARCH]["loss"] == "cross_entropy"
    assert "linear output with Huber loss became a softmax output" in texts(at)
    at.switch_page(TRAIN).run()
    assert not at.exception


# ---- the Train page ----


def test_diabetes_trains_with_live_r2_in_place_of_accuracy(app):
    at = choose(app(DATA), "diabetes")
    at.switch_page(TRAIN).run()
    assert {"Training R²", "Validation R²"} <= set(metrics(at))
    assert "Training accuracy" not in metrics(at)
    at.number_input(key="train.epochs").set_value(40).run()
    at.checkbox(key="train.early_stopping").set_value(False).run()
    at.button(key="train.start").click().run()
    at.run()  # one tick: a chunk of epochs, then the counters and charts
    assert not at.exception
    trainer = at.session_state[state.TRAINER]
    assert trainer.running and trainer.epochs_trained > 0
    at.run()
    shown = metrics(at)
    assert shown["Training R²"] != "–" and shown["Validation R²"] != "–"
    score = chart(at, "train.accuracy_chart")
    assert [t["meta"] for t in score["data"]] == ["train_r2", "val_r2"]
    assert score["layout"]["title"]["text"] == "<b>R²</b>"
    assert score["layout"]["yaxis"]["range"][0] >= -1.02
    loss = chart(at, "train.chart")
    assert "standardized target" in loss["layout"]["yaxis"]["title"]["text"]
    while at.session_state[state.TRAINER].running:
        at.run()
    trainer = at.session_state[state.TRAINER]
    assert trainer.status == loop.FINISHED and trainer.epochs_trained == 40
    history = trainer.net.history
    assert all(r.train_r2 is not None and r.train_accuracy is None for r in history)
    assert history[-1].train_r2 > 0.4
    csv = at.get("download_button")[0]
    assert csv.proto.label == "Download the history (CSV)"
    frame = pd.read_csv(io.StringIO(loop.history_csv(history, "regression")))
    assert list(frame.columns) == loop.history_columns("regression")
    assert frame["train_r2"].iloc[-1] == pytest.approx(history[-1].train_r2)
    assert "train R²" in texts(at)  # the sidebar's status line


def test_the_sine_fits_with_the_defaults_of_its_task(app):
    at = choose(app(DATA), "sine")
    finish_on_train_page(at, 100)
    trainer = at.session_state[state.TRAINER]
    assert not at.exception
    assert trainer.status in (loop.FINISHED, loop.EARLY_STOPPED)
    assert trainer.net.history[-1].val_r2 > 0.9
    assert "no better than always predicting the mean" not in texts(at)


def regression_trainer(source: str, config: dict, standardize: bool = True, **settings):
    """A run on a regression set, trained to its end without Streamlit."""
    ds = nn.data.load_dataset(source)
    parts = nn.data.split(ds, seed=0, standardize=standardize)
    net = nn.Network.from_config(
        {"layers": [ds.X.shape[1], 16, 1], "task": "regression", "seed": 0, **config}
    )
    t = loop.Trainer(
        net,
        parts.X_train,
        parts.y_train,
        parts.X_val,
        parts.y_val,
        settings={**loop.DEFAULT_SETTINGS, "epochs": 20, **settings},
    )
    drain(t)
    return t


@pytest.mark.parametrize(
    ("source", "config", "standardize", "settings", "fix"),
    [
        ("sine", {"activation": "tanh", "output_activation": "sigmoid"}, True,
         {"optimizer": "adam", "learning_rate": 0.01}, advice.LINEAR_OUTPUT),
        ("diabetes", {"activation": "relu", "init": "he"}, False,
         {"optimizer": "adam", "learning_rate": 0.01}, advice.STANDARDIZE),
        ("sine", {"activation": "relu", "init": "he"}, True,
         {"optimizer": "sgd", "learning_rate": 1e-6}, None),
    ],
)  # fmt: skip
def test_a_regression_run_that_goes_nowhere_gets_its_likely_cause(
    source, config, standardize, settings, fix
):
    found = advice.went_nowhere(regression_trainer(source, config, standardize, **settings))
    assert found is not None and found.fix == fix
    assert "R²" in found.sentence or "barely moved" in found.sentence
    assert "most frequent class" not in found.sentence


def test_a_regression_run_that_learns_gets_no_advice():
    t = regression_trainer("sine", {"activation": "tanh"}, optimizer="adam", learning_rate=0.01)
    assert t.net.history[-1].val_r2 > 0.5
    assert advice.went_nowhere(t) is None


def test_the_linear_output_fix_on_the_train_page(app):
    at = choose(app(DATA), "sine")
    at.switch_page(ARCH).run()
    at.selectbox(key="arch.w.output").set_value("sigmoid").run()
    at.selectbox(key="arch.w.init").set_value("xavier").run()
    for i in range(2):
        at.selectbox(key=f"arch.w.act.{i}").set_value("tanh").run()
    finish_on_train_page(at, 20)
    fix = at.button(key="train.fix")
    assert fix.label == "Use a linear output"
    fix.click().run()
    assert not at.exception
    assert at.session_state[state.ARCH]["output_activation"] == "linear"


def test_a_divergence_of_a_regression_run_suggests_the_huber_loss():
    t = regression_trainer(
        "diabetes", {"activation": "relu", "init": "he"}, False, learning_rate=50.0
    )
    assert t.status == loop.DIVERGED
    assert "Huber loss" in t.message and "softmax" not in t.message


# ---- figures and the history, without Streamlit ----


def test_history_figures_and_columns_follow_the_task():
    t = regression_trainer("sine", {"activation": "tanh"}, optimizer="adam", learning_rate=0.01)
    loss, score = charts.history_figures(t.net.history, 20, task="regression")
    assert [trace.meta for trace in score.data] == ["train_r2", "val_r2"]
    assert score.layout.yaxis.range[1] == pytest.approx(1.02)
    assert -1.02 <= score.layout.yaxis.range[0] <= 0
    assert loss.layout.yaxis.title.text == "loss (standardized target)"
    assert loop.history_columns("regression")[2:5] == ["train_r2", "val_loss", "val_r2"]
    assert loop.history_task(t.net.history) == "regression"
    header = loop.history_csv(t.net.history).splitlines()[0]
    assert header.split(",") == loop.history_columns("regression")
    # a poor first epoch far below 0 does not squash the climb to 1
    worst = [nn.EpochRecord(1, 1.0, None, 1.0, None, 0.1, 0.0, -40.0, -50.0)]
    _, score = charts.history_figures(worst, 10, task="regression")
    assert score.layout.yaxis.range[0] == pytest.approx(-1.02)


def test_the_target_figures_escape_names_from_data():
    name = "<b>price</b>"
    hist = charts.target_histogram_figure([1.0, 2.0, 3.0], name)
    assert "<b>" not in hist.layout.title.text
    grid = charts.features_vs_target_figure(np.ones((3, 2)), [1, 2, 3], ["<i>a</i>", "b"], name)
    assert "<i>" not in grid.layout.xaxis.title.text and "<b>" not in grid.layout.title.text
    boxes = charts.target_by_category_figure(["x", "<a>", "x"], [1, 2, 3], "kind", name)
    assert [trace.name for trace in boxes.data] == ["x", "&lt;a&gt;"]


# ---- the share link ----


def test_a_link_carries_a_regression_dataset_and_its_settings():
    exp = link.default_experiment({"source": "sine", **datasets.SYNTHETIC_DEFAULTS})
    assert link.encode(exp) == {"data": "sine"}  # its task's defaults are the link's defaults
    exp.spec["n_samples"] = 500
    exp.arch = {**exp.arch, "loss": "huber", "hidden": [32], "activations": ["tanh"]}
    params = link.encode(exp)
    assert params == {
        "data": "sine",
        "samples": "500",
        "hidden": "32",
        "act": "tanh",
        "loss": "huber",
    }
    at = open_with(params, TRAIN)
    assert not at.exception
    assert at.session_state[state.DATA_SPEC]["n_samples"] == 500
    assert at.session_state[state.ARCH] == exp.arch
    assert buildable(at)["loss"] == "huber"


def test_a_link_with_an_output_for_classes_on_a_number_falls_back_with_a_message():
    at = open_with({"data": "diabetes", "out": "softmax", "loss": "cross_entropy"}, ARCH)
    assert not at.exception
    arch = at.session_state[state.ARCH]
    assert (arch["output_activation"], arch["loss"]) == ("linear", "squared_error")
    shown = texts(at).replace("\\", "")
    assert "'softmax' is not one of linear, sigmoid" in shown
    assert "'cross_entropy' is not one of squared_error, huber" in shown
