"""Engineered inputs (x1², sin(x1), ...) in the app: the Data page's choice, the link, the
network's inputs, and the lesson of Two spirals (AppTest)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import nn
from dashboard import state
from dashboard.data import datasets
from tests.conftest import ROOT

DATA, TRAIN, INSIDE = "pages/1_Data.py", "pages/3_Train.py", "pages/5_Inside.py"
SMALL = "data=spirals&hidden=8&act=tanh&epochs=300"


def opened(query: str, page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180)
    for pair in query.split("&"):
        key, value = pair.split("=")
        at.query_params[key] = value
    at.switch_page(page).run()
    assert not at.exception
    return at


def train_to_the_end(at: AppTest) -> nn.Network:
    at.switch_page(TRAIN).run()
    at.radio(key="train.pace").set_value("fastest").run()
    at.button(key="train.start").click().run()
    while at.session_state["app.trainer"].running:
        at.run()
    assert not at.exception
    return at.session_state["app.trainer"].net


def test_sin_inputs_let_one_layer_of_8_neurons_learn_two_spirals(clear_streamlit_caches):
    scores = {}
    for inputs in ("", "&inputs=sin_x1,sin_x2"):
        at = opened(SMALL + inputs, TRAIN)
        net = train_to_the_end(at)
        split = at.session_state[state.SPLIT]
        scores[inputs] = net.evaluate(split.X_test, split.y_test)["accuracy"]
        if inputs:
            assert net.config["layers"] == [4, 8, 2]  # x1, x2, sin(x1), sin(x2)
            assert split.preprocessor.input_names() == ["x1", "x2", "sin(x1)", "sin(x2)"]
            assert net.preprocessor == split.preprocessor  # saved with the model
            # the Inside page: the diagram's input nodes, and the surface in the x1, x2 plane
            at.switch_page(INSIDE).run()
            at.session_state["inside.view"] = "Network"
            at.run()
            assert not at.exception
            charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
            assert any("sin(x1)" in json.dumps(c) for c in charts)
        else:
            assert net.config["layers"] == [2, 8, 2]
    assert scores[""] < 0.8  # x1 and x2 alone: the small network fails
    assert scores["&inputs=sin_x1,sin_x2"] >= 0.95


def test_the_data_page_offers_the_inputs_for_2d_sets_only_and_the_link_keeps_them(
    clear_streamlit_caches,
):
    at = opened("data=spirals", DATA)
    pills = at.get("button_group")
    assert [p.label for p in pills] == ["Engineered inputs"]
    at.session_state["data.split.engineered"] = ["x1_x2", "sin_x2"]
    at.run()
    assert not at.exception
    assert at.session_state[state.SPLIT_SETTINGS]["engineered"] == "x1_x2,sin_x2"
    assert at.session_state[state.SPLIT].preprocessor.input_names() == [
        "x1", "x2", "x1·x2", "sin(x2)",
    ]  # fmt: skip
    assert at.query_params["inputs"] in ("x1_x2,sin_x2", ["x1_x2,sin_x2"])
    # a set with more than two features has no such inputs, and they are dropped
    at.selectbox(key="data.source").set_value("iris").run()
    assert not at.exception
    assert at.get("button_group") == [] or [p.label for p in at.get("button_group")] == []
    assert at.session_state[state.SPLIT_SETTINGS]["engineered"] == "none"
    assert at.session_state[state.SPLIT].preprocessor.engineered == ()
    assert "inputs" not in at.query_params


@pytest.mark.parametrize("value", ["cos_x1", "sin_x1,<b>x</b>", "x" * 500])
def test_a_forged_link_value_is_refused_in_words(clear_streamlit_caches, value):
    at = opened(f"data=spirals&inputs={value}", DATA)
    assert at.session_state[state.SPLIT_SETTINGS]["engineered"] == "none"
    shown = " ".join(w.value for w in at.warning)
    assert "Engineered inputs" in shown or "value for inputs is too long" in shown
    assert "<b>" not in shown


def test_cross_validation_uses_the_engineered_inputs(clear_streamlit_caches):
    at = opened(SMALL.replace("epochs=300", "epochs=5") + "&inputs=sin_x1", "pages/6_Compare.py")
    at.slider(key="compare.cv.k").set_value(3).run()
    at.button(key="compare.cv.run").click().run()
    job = at.session_state[state.COMPARE_CV_JOB]["job"]
    assert job.request.engineered == "sin_x1"
    assert job.wait(300)
    at.run()
    result = at.session_state[state.COMPARE_CV]["result"]
    assert all(f.preprocessor.engineered == ("sin_x1",) for f in result.folds)
    assert all(f.preprocessor.n_inputs == 3 for f in result.folds)


def test_engineering_is_offered_for_two_numeric_features_without_gaps():
    assert datasets.engineering_allowed(nn.data.load_dataset("moons"))
    assert not datasets.engineering_allowed(nn.data.load_dataset("iris"))
    assert not datasets.engineering_allowed(nn.data.load_dataset("sine"))  # one feature
    gaps = nn.data.load_dataset("moons")
    gaps.X[0, 0] = np.nan
    assert not datasets.engineering_allowed(gaps)


def imbalanced_csv(rare: int) -> bytes:
    """A table of 200 rows whose class "**rare**" (a Markdown-looking name) has ``rare``."""
    rng = np.random.default_rng(0)
    lines = ["a,b,label"]
    for i in range(200):
        label = "**rare**" if i < rare else "common"
        lines.append(f"{rng.normal():.4f},{rng.normal():.4f},{label}")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(("rare", "warned"), [(20, True), (40, False)])
def test_the_data_page_suggests_class_weights_for_a_rare_class(app, rare, warned):
    from tests.test_app_pages import upload_csv

    at = upload_csv(app(DATA), imbalanced_csv(rare), "rare.csv")
    at.button(key="data.use_csv").click().run()
    assert not at.exception
    ds = at.session_state[state.DATASET]
    assert sorted(np.bincount(ds.y)) == sorted([rare, 200 - rare])
    said = [w.value for w in at.warning if "imbalanced" in w.value]
    # 20 of 180 is under a fifth; 40 of 160 is not
    assert bool(said) == warned
    if warned:
        assert "\\*\\*rare\\*\\* has 20 rows" in said[0] and "common 180" in said[0]
        assert "Class weights: balanced" in said[0]
