"""The Inside page and the live inside views of the Train page, driven with AppTest."""

from __future__ import annotations

import base64
import copy
import json
import threading

import numpy as np
import plotly.graph_objects as go
import plotly.io
import pytest
from streamlit.testing.v1 import AppTest

import nn.inspect
from dashboard import state
from dashboard.inside import figures, inside_ui
from dashboard.predict import results
from dashboard.share import link
from dashboard.training import loop, train_ui
from tests.conftest import ROOT

INSIDE = "pages/5_Inside.py"


def open_with(params: dict, page: str = INSIDE) -> AppTest:
    """A fresh session opened on ``page`` by a URL with these query parameters."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.query_params.update(params)
    at.switch_page(page)
    return at.run()


def charts(at, needle: str) -> list[dict]:
    """The plotly figures on the page whose spec contains ``needle``."""
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart") if needle in c.proto.spec]


def values(data) -> np.ndarray:
    """A plotly array from a figure's JSON: a list, or plotly's typed-array encoding."""
    if isinstance(data, dict) and "bdata" in data:
        flat = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        shape = [int(n) for n in str(data.get("shape", len(flat))).split(",")]
        return flat.reshape(shape)
    return np.asarray(data)


def texts(at) -> str:
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def picker(at, axis: str):
    """The x or y feature picker of the Inside page's surface (its key carries the data version)."""
    return next(s for s in at.selectbox if s.key.startswith(f"inside.surface_{axis}."))


def trainer(at):
    return at.session_state["app.trainer"]


def train_fast(at, epochs: int) -> None:
    """Train the current settings to the end on the Train page (pace: fastest)."""
    at.switch_page("pages/3_Train.py").run()
    at.radio(key="train.pace").set_value("fastest").run()
    at.number_input(key="train.epochs").set_value(epochs).run()
    at.button(key="train.start").click().run()
    while trainer(at).running:
        at.run()


@pytest.fixture(autouse=True)
def _caches(clear_streamlit_caches):
    yield


@pytest.mark.parametrize("view", inside_ui.VIEWS)
def test_each_view_opened_first_by_its_url_works(view):
    at = open_with({"inside.view": view})
    assert not at.exception
    assert at.session_state["inside.view"] == view
    assert trainer(at) is not None and trainer(at).epochs_trained == 0
    expected = {
        inside_ui.SURFACE: lambda: charts(at, '"surface"'),
        inside_ui.NEURONS: lambda: charts(at, '"distributions"'),  # Iris: on the training rows
        inside_ui.NETWORK: lambda: charts(at, "positive weight"),
        inside_ui.HEALTH: lambda: [m for m in at.metric if m.label == "Dead ReLU units"],
        inside_ui.BACKPROP: lambda: at.latex,
        inside_ui.TRUST: lambda: [b for b in at.button if b.label == "Run the checks"],
    }
    assert expected[view]()


def test_tabular_surface_picks_two_features_and_holds_the_others_at_the_medians():
    at = open_with({})
    assert not at.exception
    split = at.session_state["app.split"]
    # Iris: the petal measurements separate the species best, so they are the default axes.
    assert (
        picker(at, "x").value,
        picker(at, "y").value,
    ) == (2, 3)
    fig = charts(at, '"surface"')[0]
    assert fig["data"][0]["type"] == "image"
    assert fig["layout"]["xaxis"]["title"]["text"] == "PetalLengthCm"
    n_train = sum(len(values(t["x"])) for t in fig["data"] if "(training)" in str(t.get("name")))
    assert n_train == len(split.y_train)
    assert "held at their training medians" in texts(at)
    assert "Not trained yet" in texts(at)  # an untrained surface says why it looks flat
    picker(at, "x").set_value(0).run()
    fig = charts(at, '"surface"')[0]
    assert fig["layout"]["xaxis"]["title"]["text"] == "SepalLengthCm"
    at.segmented_control(key="inside.surface_mode").set_value("hard").run()
    fig = charts(at, '"surface"')[0]
    assert fig["data"][0]["type"] == "heatmap"
    winners = values(fig["data"][0]["z"])
    assert winners.min() >= 0 and winners.max() <= 2


def test_two_dimensional_data_shows_its_own_plane_without_feature_pickers():
    at = open_with({"data": "moons", "standardize": "1"})
    assert not at.exception
    assert not [s for s in at.selectbox if s.key.startswith("inside.surface_")]
    fig = charts(at, '"surface"')[0]
    assert fig["layout"]["xaxis"]["title"]["text"] == "x1"
    n_points = sum(len(values(t["x"])) for t in fig["data"][1:])
    split = at.session_state["app.split"]
    assert n_points == len(split.y_train) + len(split.y_test)


def test_the_surface_follows_the_predict_form_sample():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    train_fast(at, 20)
    at.switch_page("pages/4_Predict.py").run()
    star = next(t for t in charts(at, "your sample")[0]["data"] if t["name"] == "your sample")
    petal_width = next(n for n in at.number_input if n.key.endswith(".3"))
    petal_width.set_value(2.4)
    next(b for b in at.button if b.label == "Predict").click().run()
    moved = next(t for t in charts(at, "your sample")[0]["data"] if t["name"] == "your sample")
    assert moved["x"] == star["x"] and moved["y"] == [2.4] != star["y"]
    at.switch_page(INSIDE).run()
    inside_star = [t for t in charts(at, "your sample")[0]["data"] if t["name"] == "your sample"]
    assert inside_star[0]["y"] == [2.4]
    assert "held at the Predict form's values" in texts(at)
    assert "Not trained yet" not in texts(at)


def test_network_diagram_shows_every_weight_and_bias_of_the_real_network():
    at = open_with({"inside.view": inside_ui.NETWORK})
    fig = charts(at, "positive weight")[0]
    net = trainer(at).net
    weights = net.get_weights()
    hovers = [h for t in fig["data"] if t.get("name") == "weights" for h in t["hovertext"]]
    assert len(hovers) == sum(W.size for W in weights[0::2])
    assert f"w = {weights[0][0, 0]:.4g}" in hovers[0]
    nodes = next(t for t in fig["data"] if t.get("name") == "nodes")
    np.testing.assert_allclose(values(nodes["marker"]["color"]), np.concatenate(weights[1::2]))


def article_on(source: str) -> dict:
    """Link parameters for the article's settings (raw inputs) on another dataset."""
    exp = link.default_experiment()
    exp.spec = {"source": source}
    return link.encode(exp)


def test_health_names_unscaled_inputs_and_clears_when_standardized():
    at = open_with({"inside.view": inside_ui.HEALTH, **article_on("wine")})
    assert not at.exception
    titles = [m.label for m in at.metric]
    for _, title in inside_ui.HEALTH_ROWS:
        assert title in titles
    assert any("not on a common scale" in w.value for w in at.warning)
    table = at.dataframe[0].value
    assert list(table["activation"]) == ["sigmoid", "sigmoid", "sigmoid"]
    assert table["gradient norm"].iloc[-1] > 0
    # no ReLU layer: no column of blanks; the output layer's saturation does not apply
    assert "dead ReLU" not in table.columns
    assert table["saturated"].iloc[-1] == "–"
    assert all(v.endswith("%") for v in table["saturated"].iloc[:-1])
    # Proline runs to about 1,700: the first sigmoid layer saturates and its gradient vanishes.
    assert any("vanishing" in w.value for w in at.warning)
    at = open_with({"inside.view": inside_ui.HEALTH, "data": "wine", "standardize": "1"})
    assert any("similar, moderate scale" in s.value for s in at.success)


def test_health_of_a_relu_network_shows_its_dead_units_per_layer():
    at = open_with({"inside.view": inside_ui.HEALTH, "act": "relu", "init": "he"})
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["activation"]) == ["relu", "relu", "sigmoid"]
    assert all(v.endswith("%") for v in table["dead ReLU"].iloc[:2])
    assert table["dead ReLU"].iloc[-1] == "–" and set(table["saturated"]) == {"–"}


def test_health_shows_the_share_of_near_zero_weights_that_l1_drives_up():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.query_params.update({"data": "wine", "standardize": "1", "l1": "0.01"})
    at.run()
    train_fast(at, 40)
    at.switch_page(INSIDE).run()
    at.session_state["inside.view"] = inside_ui.HEALTH
    at.run()
    assert not at.exception
    net = trainer(at).net
    expected = nn.inspect.near_zero_weights(net, 0.01)
    assert expected["share"] > 0.05  # L1 has switched connections off
    shown = {m.label: m.value for m in at.metric}
    assert shown["Near-zero weights"] == f"{expected['share']:.0%}"
    assert any("L1 switches off" in s.value for s in at.success)
    table = at.dataframe[0].value
    assert list(table["near-zero weights"]) == [
        f"{expected['per_layer'][i]:.1%}" for i in range(1, len(net.layers) + 1)
    ]
    # without L1 the same check suggests it
    plain = open_with({"inside.view": inside_ui.HEALTH, "data": "wine", "standardize": "1"})
    assert any("An L1 penalty would" in s.value for s in plain.success)


def test_backprop_sample_table_with_engineered_inputs_shows_the_features_as_the_network_sees_them():
    at = open_with({"inside.view": inside_ui.BACKPROP, "data": "spirals", "inputs": "sin_x1"})
    assert not at.exception
    sample = next(d.value for d in at.dataframe if "value" in d.value.columns)
    split = at.session_state["app.split"]
    assert list(sample.index) == ["x1", "x2"]
    seen = sample["as the network sees it (standardized)"].to_numpy()
    np.testing.assert_array_equal(seen, split.X_train[0, :2])
    assert split.X_train.shape[1] == 3  # x1, x2 and sin(x1)


def test_backprop_shows_the_engine_numbers_and_apply_moves_the_network_by_one_sample():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    train_fast(at, 5)
    at.switch_page(INSIDE).run()
    at.session_state["inside.view"] = inside_ui.BACKPROP
    at.run()
    at.number_input(key="inside.bp_row").set_value(7).run()
    assert not at.exception
    t, split = trainer(at), at.session_state["app.split"]
    net = t.net
    # Forward L, loss, deltas L, gradients and update L: 3 * 3 + 1 formulas for 4-5-10-3.
    assert len(at.latex) == 10
    forward_out = at.dataframe[3].value  # sample table, then one table per layer
    np.testing.assert_allclose(forward_out["a"], net.predict_proba(split.X_train[6:7])[0])
    expected = nn.inspect.backprop_trace(net, split.X_train[6], split.y_train[6], 0.15)
    assert f"{expected.loss:.6g}" in [m.value for m in at.metric]
    history = list(net.history)
    at.button(key="inside.bp_apply").click().run()
    assert not at.exception
    for got, want in zip(net.get_weights(), expected.new_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    assert t.epochs_trained == 5 and net.history == history
    message = texts(at)
    assert "not an epoch" in message and "epoch counter stays at 5" in message
    assert f"from {expected.loss:.6g}" in message


def test_apply_on_a_fresh_network_enables_reset_which_undoes_it():
    at = open_with({"inside.view": inside_ui.BACKPROP})
    assert at.button(key="train.reset").disabled
    start = [w.copy() for w in trainer(at).net.get_weights()]
    at.button(key="inside.bp_apply").click().run()
    assert not np.array_equal(trainer(at).net.get_weights()[0], start[0])
    assert not at.button(key="train.reset").disabled
    at.button(key="train.reset").click().run()
    np.testing.assert_array_equal(trainer(at).net.get_weights()[0], start[0])


def test_trust_panel_checks_gradients_and_compares_with_scikit_learn():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    train_fast(at, 30)
    at.switch_page(INSIDE).run()
    at.session_state["inside.view"] = inside_ui.TRUST
    at.run()
    at.button(key="inside.trust_run").click().run()
    assert not at.exception
    assert any("Every layer passes" in s.value for s in at.success)
    check = at.dataframe[0].value
    assert list(check["layer"]) == [1, 2, 3] and (check["result"] == "pass").all()
    assert (check["relative error"] < 1e-6).all()
    shown = {m.label: float(m.value) for m in at.metric}
    split = at.session_state["app.split"]
    ours = trainer(at).net.evaluate(split.X_test, split.y_test)["accuracy"]
    assert shown["This network"] == pytest.approx(ours, abs=5e-4)
    for name in ("scikit-learn MLPClassifier", "scikit-learn LogisticRegression"):
        assert 0.0 <= shown[name] <= 1.0
    assert shown["scikit-learn LogisticRegression"] >= 0.8  # Iris is nearly linear
    at.switch_page("pages/3_Train.py").run()
    at.number_input(key="train.epochs").set_value(31).run()
    at.button(key="train.step").click().run()
    at.switch_page(INSIDE).run()
    assert "it has changed since" in texts(at)


def test_trust_panel_on_an_untrained_network_says_the_comparison_is_not_fair_yet():
    at = open_with({"inside.view": inside_ui.TRUST, "epochs": "5"})
    at.button(key="inside.trust_run").click().run()
    assert not at.exception
    assert any("was not trained when the checks ran" in i.value for i in at.info)
    at.switch_page("pages/3_Train.py").run()
    at.button(key="train.step").click().run()
    at.switch_page(INSIDE).run()
    at.button(key="inside.trust_run").click().run()
    assert not any("was not trained" in i.value for i in at.info)


def test_pause_waits_for_the_chunk_an_older_script_run_is_training():
    """A click starts the next script run at once in a new thread, while the previous run still
    trains its chunk (Streamlit's fast reruns). Pause, drawn on this page and the Train page,
    must return only when no chunk trains any more. The two threads are played here without a
    browser; Streamlit's session state works in bare mode."""
    import streamlit as st

    split = nn.data.split(nn.data.load_dataset("iris"), seed=0)
    t = loop.Trainer(
        net=nn.Network.from_config(nn.presets.ARTICLE["network"]),
        X_train=split.X_train,
        y_train=split.y_train,
        X_val=split.X_val,
        y_val=split.y_val,
        settings={**loop.DEFAULT_SETTINGS, "epochs": 2000, "pace": "fastest"},
    )
    st.session_state[state.TRAINER] = t
    loop.start(t)
    first_chunk = threading.Event()

    def older_run() -> None:
        while t.running:
            train_ui.train_tick(t)
            first_chunk.set()  # from here on, the next chunk is (almost always) under way

    worker = threading.Thread(target=older_run, daemon=True)
    worker.start()
    try:
        assert first_chunk.wait(60)
        train_ui._pause()  # the callback, as the new script run calls it
        paused_at = t.epochs_trained
        worker.join(60)
        assert not worker.is_alive()
        assert 0 < paused_at < 2000
        assert t.epochs_trained == paused_at == len(t.net.history)  # nothing trained after
    finally:
        t.status = loop.PAUSED
        worker.join(60)
        for key in (state.TRAINER, train_ui.TRAINING_LOCK):
            st.session_state.pop(key, None)


def test_sklearn_epochs_are_capped_for_big_runs():
    settings = {"epochs": 2000, "batch_size": 1}
    assert inside_ui.sklearn_epochs(settings, 114) == inside_ui.SKLEARN_UPDATES // 114
    assert inside_ui.sklearn_epochs({"epochs": 100, "batch_size": 1}, 114) == 100
    assert inside_ui.sklearn_epochs({"epochs": 5, "batch_size": 1}, 10**6) == 1


class FrozenClock:
    """Stands in for ``time`` in dashboard.inside.inside_ui: the throttle reads ``monotonic``."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def surface_z(at) -> str:
    return json.dumps(charts(at, '"surface"')[0]["data"][0])


def test_live_surface_on_the_train_page_redraws_about_once_a_second(monkeypatch):
    clock = FrozenClock()
    monkeypatch.setattr(inside_ui, "time", clock)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.switch_page("pages/3_Train.py").run()
    at.segmented_control(key="train.inside_view").set_value(inside_ui.SURFACE).run()
    at.number_input(key="train.epochs").set_value(400).run()
    first = surface_z(at)
    at.button(key="train.start").click().run()
    at.run()
    assert trainer(at).running and trainer(at).epochs_trained > 0
    assert surface_z(at) == first  # trained, but less than a second passed: not redrawn
    clock.now += inside_ui.REFRESH_S
    at.run()
    assert surface_z(at) != first
    redrawn = surface_z(at)
    at.button(key="train.pause").click().run()
    at.button(key="train.step").click().run()
    assert surface_z(at) != redrawn  # paused: every change is drawn at once


def test_live_network_and_health_follow_training_on_the_inside_page(monkeypatch):
    clock = FrozenClock()
    monkeypatch.setattr(inside_ui, "time", clock)
    at = open_with({"inside.view": inside_ui.NETWORK, "epochs": "400"})
    before = charts(at, "positive weight")[0]
    at.button(key="train.start").click().run()
    for _ in range(3):
        clock.now += inside_ui.REFRESH_S
        at.run()
    assert trainer(at).running and trainer(at).epochs_trained > 0
    after = charts(at, "positive weight")[0]
    assert after != before
    at.query_params["inside.view"] = inside_ui.HEALTH  # the tab is bound to the URL
    at.run()
    assert not at.exception
    assert [m for m in at.metric if m.label == "Training vs validation loss"]
    epochs = trainer(at).epochs_trained
    at.run()
    assert trainer(at).epochs_trained > epochs  # the Inside page trains while it is open


def test_surfaces_of_features_in_very_different_units_fill_the_plot():
    at = open_with({"data": "wine"})
    names = [str(f) for f in at.session_state["app.dataset"].feature_names]
    picker(at, "x").set_value(names.index("proline")).run()
    picker(at, "y").set_value(names.index("hue")).run()
    fig = charts(at, '"surface"')[0]
    assert fig["layout"]["xaxis"]["title"]["text"] == "proline"
    assert fig["layout"]["yaxis"]["scaleanchor"] is False  # not a 1,000:1 sliver
    iris = charts(open_with({}), '"surface"')[0]
    assert "scaleanchor" not in iris["layout"]["yaxis"]  # comparable units keep their shape


@pytest.mark.parametrize(
    "dataset",
    ["iris", "wine", "breast_cancer", "digits", "moons", "circles", "xor", "spiral", "blobs"],
)
def test_every_view_works_on_every_bundled_and_generated_dataset(dataset):
    at = open_with({"data": dataset, "standardize": "1", "epochs": "2"})
    at.button(key="train.step").click().run()
    for view in inside_ui.VIEWS:
        at.query_params["inside.view"] = view
        at.run()
        assert not at.exception, (dataset, view)
        assert not at.error, (dataset, view)
    assert trainer(at).epochs_trained == 1


def test_constant_columns_do_not_make_standardized_inputs_look_unscaled():
    # Digits has blank border pixels: constant in training, std ~1e-16 once standardized.
    at = open_with({"inside.view": inside_ui.HEALTH, "data": "digits", "standardize": "1"})
    assert not at.exception
    assert any("similar, moderate scale" in s.value for s in at.success)
    raw = open_with({"inside.view": inside_ui.HEALTH, "data": "digits", "standardize": "0"})
    assert any("not on a common scale" in w.value for w in raw.warning)


# ---- the Neurons view ----


def neuron_charts(at) -> tuple[dict, dict]:
    """The grid of neuron maps and the large map of one neuron."""
    return charts(at, '"neurons"')[0], charts(at, '"neuron"')[0]


def heatmap_traces(fig: dict) -> list[dict]:
    return [t for t in fig["data"] if t["type"] == "heatmap"]


def grid_points(trace: dict) -> tuple[np.ndarray, np.ndarray]:
    """The grid of a small map, which gives its start and step (``x0``, ``dx``, ...)."""
    rows, cols = values(trace["z"]).shape
    return (
        trace["x0"] + trace["dx"] * np.arange(cols),
        trace["y0"] + trace["dy"] * np.arange(rows),
    )


def test_neuron_maps_of_a_2d_set_are_the_networks_activations_over_its_plane():
    at = open_with({"inside.view": inside_ui.NEURONS, "data": "moons", "standardize": "1"})
    assert not at.exception
    # two features: the plane itself, no choice of view and no feature pickers
    assert not [c for c in at.segmented_control if c.key == "inside.neuron_view"]
    assert not [s for s in at.selectbox if s.key.startswith("inside.surface_")]
    grid, large = neuron_charts(at)
    net, split = trainer(at).net, at.session_state["app.split"]
    sizes = net.config["layers"][1:]
    maps = heatmap_traces(grid)
    assert len(maps) == sum(min(n, figures.MAX_NEURONS) for n in sizes)
    assert grid["layout"]["meta"]["sizes"] == sizes
    # The page shows the engine's activations at the grid points, in the data's own units.
    xs, ys = grid_points(maps[0])
    gx, gy = np.meshgrid(xs, ys)
    rows = split.preprocessor.transform(np.column_stack([gx.ravel(), gy.ravel()]))
    passed = net.forward(rows)
    first_output = sizes[0] if len(sizes) == 2 else sum(min(n, 16) for n in sizes[:-1])
    for trace, layer, k in ((maps[0], 0, 0), (maps[first_output], len(sizes) - 1, 0)):
        expected = passed[layer].a[:, k].reshape(len(ys), len(xs))
        np.testing.assert_allclose(values(trace["z"]), expected, rtol=1e-6, atol=1e-6)
    # one scale per layer: the min and max of the layer's maps
    for layer, coloraxis in enumerate(["coloraxis", "coloraxis2"]):
        lo, hi = grid["layout"][coloraxis]["cmin"], grid["layout"][coloraxis]["cmax"]
        assert lo == pytest.approx(passed[layer].a.min()) and hi == pytest.approx(
            passed[layer].a.max()
        )
    # the large map: neuron 1 of layer 1 by default, with every training and test row on it
    assert at.selectbox(key="inside.neuron").value == "1.1"
    assert large["data"][0]["name"] == "layer 1 · neuron 1"
    points = sum(len(values(t["x"])) for t in large["data"][1:])
    assert points == len(split.y_train) + len(split.y_test)
    assert "Not trained yet" in texts(at) and "plane of x1 and x2" in texts(at)
    at.selectbox(key="inside.neuron").set_value("2.3").run()
    assert not at.exception
    _, large = neuron_charts(at)
    assert large["data"][0]["name"] == "layer 2 · neuron 3"
    np.testing.assert_allclose(
        values(large["data"][0]["z"]),
        passed[1].a[:, 2].reshape(len(ys), len(xs)),
        rtol=1e-6,
        atol=1e-6,
    )


@pytest.mark.parametrize("forged", ["9.9", "0.1", "1", 3, None, "layer 1 · neuron 1"])
def test_a_bad_neuron_choice_is_refused_on_the_server(forged):
    at = open_with({"data": "moons", "standardize": "1"}, page="pages/3_Train.py")
    at.session_state["inside.neuron"] = forged  # what a stale or forged session holds
    at.switch_page(INSIDE)
    at.session_state["inside.view"] = inside_ui.NEURONS
    at.run()
    assert not at.exception
    assert at.selectbox(key="inside.neuron").value == "1.1"
    assert at.session_state["inside.neuron"] == "1.1"
    assert neuron_charts(at)[1]["data"][0]["name"] == "layer 1 · neuron 1"


def test_iris_shows_each_neurons_activations_by_class_then_a_plane_on_request():
    at = open_with({"inside.view": inside_ui.NEURONS})
    assert not at.exception
    assert at.segmented_control(key="inside.neuron_view").value == "rows"
    assert not charts(at, '"neurons"')  # no maps until a plane is chosen
    fig = charts(at, '"distributions"')[0]
    net, split = trainer(at).net, at.session_state["app.split"]
    dataset = at.session_state["app.dataset"]
    boxes = [t for t in fig["data"] if t["type"] == "box"]
    assert len(boxes) == len(net.config["layers"][1:]) * len(dataset.class_names)
    passed = net.forward(split.X_train)
    for trace in boxes:
        layer = 0 if trace["xaxis"] == "x" else int(trace["xaxis"][1:]) - 1
        c = [str(n) for n in dataset.class_names].index(trace["name"])
        rows = passed[layer].a[split.y_train == c]
        np.testing.assert_allclose(values(trace["median"]), np.median(rows, axis=0))
        np.testing.assert_allclose(values(trace["lowerfence"]), rows.min(axis=0))
        np.testing.assert_allclose(values(trace["upperfence"]), rows.max(axis=0))
    assert "Each box shows one neuron's activations" in texts(at)
    # Over two features: the decision surface's plane (the petals) and its pickers
    at.segmented_control(key="inside.neuron_view").set_value("plane").run()
    assert not at.exception
    assert (picker(at, "x").value, picker(at, "y").value) == (2, 3)
    grid, large = neuron_charts(at)
    assert len(heatmap_traces(grid)) == 5 + 10 + 3
    assert large["layout"]["xaxis"]["title"]["text"] == "PetalLengthCm"
    assert "other 2 features are held at their training medians" in texts(at)
    picker(at, "y").set_value(1).run()  # a plane chosen here is the decision surface's too
    assert charts(at, '"neuron"')[0]["layout"]["yaxis"]["title"]["text"] == "SepalWidthCm"
    # the user opens the surface's tab (the tab is bound to the URL, which holds the old one)
    at.query_params["inside.view"] = at.session_state["inside.view"] = inside_ui.SURFACE
    at.run()
    assert charts(at, '"surface"')[0]["layout"]["yaxis"]["title"]["text"] == "SepalWidthCm"


def test_a_forged_neuron_view_falls_back_to_the_training_rows():
    at = open_with({})
    at.session_state["inside.neuron_view"] = "everything"
    at.session_state["inside.view"] = inside_ui.NEURONS
    at.run()
    assert not at.exception
    assert at.segmented_control(key="inside.neuron_view").value == "rows"
    assert charts(at, '"distributions"')


def test_neuron_maps_follow_training_at_the_pace_of_the_decision_surface(monkeypatch):
    clock = FrozenClock()
    monkeypatch.setattr(inside_ui, "time", clock)
    at = open_with(
        {"inside.view": inside_ui.NEURONS, "data": "moons", "standardize": "1", "epochs": "400"}
    )
    first = json.dumps(neuron_charts(at)[0]["data"][0])
    at.button(key="train.start").click().run()
    at.run()
    assert trainer(at).running and trainer(at).epochs_trained > 0
    assert json.dumps(neuron_charts(at)[0]["data"][0]) == first  # within a second: as it was
    clock.now += inside_ui.REFRESH_S
    at.run()
    redrawn = json.dumps(neuron_charts(at)[0]["data"][0])
    assert redrawn != first
    at.button(key="train.pause").click().run()
    at.button(key="train.step").click().run()
    assert json.dumps(neuron_charts(at)[0]["data"][0]) != redrawn  # paused: drawn at once


@pytest.mark.parametrize("dataset", ["wine", "digits", "breast_cancer"])
def test_neuron_maps_over_a_plane_work_on_wide_tables(dataset):
    at = open_with({"inside.view": inside_ui.NEURONS, "data": dataset, "standardize": "1"})
    at.segmented_control(key="inside.neuron_view").set_value("plane").run()
    assert not at.exception and not at.error
    grid, _ = neuron_charts(at)
    sizes = trainer(at).net.config["layers"][1:]
    assert grid["layout"]["meta"]["drawn"] == [min(n, figures.MAX_NEURONS) for n in sizes]


def test_neuron_views_of_regression_networks():
    at = open_with({"inside.view": inside_ui.NEURONS, "data": "bump", "standardize": "1"})
    assert not at.exception and not at.error
    grid, large = neuron_charts(at)
    split = at.session_state["app.split"]
    assert grid["layout"]["meta"]["sizes"][-1] == 1  # one output: the predicted value
    points = [t for t in large["data"] if t.get("marker", {}).get("coloraxis") == "coloraxis2"]
    shown = np.concatenate([values(t["marker"]["color"]) for t in points])
    assert len(shown) == len(split.y_train) + len(split.y_test)  # coloured by their value
    at = open_with({"inside.view": inside_ui.NEURONS, "data": "diabetes", "standardize": "1"})
    assert not at.exception and not at.error
    fig = charts(at, '"distributions"')[0]
    names = {t["name"] for t in fig["data"]}
    assert {n.split(" of ")[0] for n in names} == {"lowest third", "middle third", "highest third"}
    assert "third of the target" in texts(at)
    at.segmented_control(key="inside.neuron_view").set_value("plane").run()
    assert not at.exception and neuron_charts(at)


# ---- the Neurons view live on the Train page ----

TRAIN = "pages/3_Train.py"


def train_page_with_neurons(monkeypatch, params: dict) -> tuple[AppTest, list, FrozenClock]:
    """The Train page opened by a URL with the Neurons view chosen to watch; the throttle's
    clock frozen, and every network the maps are drawn from kept as it was at that moment."""
    clock = FrozenClock()
    monkeypatch.setattr(inside_ui, "time", clock)
    drawn = []
    build = inside_ui.neuron_figures

    def recording(net, *args, **kwargs):
        drawn.append(copy.deepcopy(net))
        return build(net, *args, **kwargs)

    monkeypatch.setattr(inside_ui, "neuron_figures", recording)
    at = open_with(params, page=TRAIN)
    at.segmented_control(key="train.inside_view").set_value(inside_ui.NEURONS).run()
    assert not at.exception
    return at, drawn, clock


def maps_on_the_page(at, slot: str = "train.neurons") -> tuple[dict, dict]:
    """The grid of maps and the large map the page shows under ``slot``."""
    return charts_by_key(at, slot), charts_by_key(at, f"{slot}.large")


def charts_by_key(at, key: str) -> dict:
    """The plotly figure drawn with this widget key (its element id ends with it)."""
    shown = at.get("plotly_chart")
    return next(json.loads(c.proto.spec) for c in shown if c.proto.id.endswith(f"-{key}"))


def assert_maps_are_the_engines(at, grid: dict, large: dict, net) -> None:
    """The figures' values are ``nn.inspect.neuron_grid`` of ``net`` at the figures' grid."""
    dataset, split = at.session_state["app.dataset"], at.session_state["app.split"]
    maps = heatmap_traces(grid)
    xs, ys = grid_points(maps[0])
    expected = nn.inspect.neuron_grid(
        net,
        split.raw_train,
        resolution=len(xs),
        transform=lambda rows: results.inputs_for(net, dataset, rows),
    )
    np.testing.assert_allclose(xs, expected.xs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ys, expected.ys, rtol=0, atol=1e-12)
    sizes = net.config["layers"][1:]
    at_trace = 0
    for layer, size in enumerate(sizes):
        for k in range(min(size, figures.MAX_NEURONS)):
            np.testing.assert_allclose(
                values(maps[at_trace]["z"]),
                expected.layers[layer][:, :, k],
                rtol=1e-6,
                atol=1e-6,  # the figure ships float32
            )
            at_trace += 1
        axis = grid["layout"]["coloraxis" if layer == 0 else f"coloraxis{layer + 1}"]
        lo, hi = axis["cmin"], axis["cmax"]
        assert (lo, hi) == pytest.approx(figures.layer_range(expected.layers[layer]))
    assert at_trace == len(maps)
    np.testing.assert_allclose(
        values(large["data"][0]["z"]), expected.layers[0][:, :, 0], rtol=1e-6, atol=1e-6
    )
    np.testing.assert_array_equal(values(large["data"][0]["x"]), expected.xs)  # the same grid


def test_the_train_page_draws_the_neuron_maps_while_it_trains(monkeypatch):
    at, drawn, clock = train_page_with_neurons(
        monkeypatch, {"data": "moons", "standardize": "1", "epochs": "400"}
    )
    # the Train page's own widgets: none of them is the Inside page's
    assert at.selectbox(key="train.neuron").value == "1.1"
    widgets = [*at.selectbox, *at.segmented_control]
    assert not [w.key for w in widgets if w.key.startswith("inside.")]
    grid, large = maps_on_the_page(at)
    assert_maps_are_the_engines(at, grid, large, trainer(at).net)  # untrained
    first = json.dumps(grid["data"][0])
    at.button(key="train.start").click().run()
    at.run()
    assert trainer(at).running and trainer(at).epochs_trained > 0
    assert json.dumps(maps_on_the_page(at)[0]["data"][0]) == first  # within a second: as it was
    clock.now += inside_ui.REFRESH_S
    at.run()
    assert not at.exception and trainer(at).running
    grid, large = maps_on_the_page(at)
    assert json.dumps(grid["data"][0]) != first  # redrawn while training runs...
    # ...from the network as it was when the tick drew it (training goes on after the drawing)
    assert drawn[-1].epochs_trained > 0
    assert_maps_are_the_engines(at, grid, large, drawn[-1])
    at.button(key="train.pause").click().run()
    grid, large = maps_on_the_page(at)
    assert_maps_are_the_engines(at, grid, large, trainer(at).net)  # paused: drawn at once
    at.selectbox(key="train.neuron").set_value("2.2").run()
    assert maps_on_the_page(at)[1]["data"][0]["name"] == "layer 2 · neuron 2"


def test_the_train_page_shows_a_tables_neurons_on_its_rows_while_it_trains(monkeypatch):
    at, _, clock = train_page_with_neurons(monkeypatch, {"epochs": "400"})  # Iris: 4 features
    assert at.segmented_control(key="train.neuron_view").value == "rows"
    first = json.dumps(charts_by_key(at, "train.neurons"))
    assert '"distributions"' in first
    at.button(key="train.start").click().run()
    clock.now += inside_ui.REFRESH_S
    at.run()
    assert not at.exception and trainer(at).running
    assert json.dumps(charts_by_key(at, "train.neurons")) != first
    at.segmented_control(key="train.neuron_view").set_value("plane").run()
    assert not at.exception
    grid, _ = maps_on_the_page(at)
    assert len(heatmap_traces(grid)) == 5 + 10 + 3


@pytest.mark.parametrize("forged", ["Trust", "Backprop step", "everything", ""])
def test_a_forged_live_view_on_the_train_page_shows_nothing(forged):
    at = open_with({"data": "moons", "standardize": "1"}, page=TRAIN)
    at.session_state["train.inside_view"] = forged
    at.run()
    assert not at.exception
    assert at.segmented_control(key="train.inside_view").value is None
    assert at.session_state["train.inside_view"] is None
    assert not charts(at, '"neurons"') and not charts(at, '"surface"')
    assert not [s for s in at.selectbox if s.key.startswith("train.neuron")]


def test_forged_neuron_choices_on_the_train_page_fall_back():
    at = open_with({"data": "moons", "standardize": "1"}, page=TRAIN)
    at.session_state["train.inside_view"] = inside_ui.NEURONS
    at.session_state["train.neuron"] = "9.9"
    at.run()
    assert not at.exception
    assert at.selectbox(key="train.neuron").value == "1.1"
    assert maps_on_the_page(at)[1]["data"][0]["name"] == "layer 1 · neuron 1"
    iris = open_with({}, page=TRAIN)
    iris.session_state["train.inside_view"] = inside_ui.NEURONS
    iris.session_state["train.neuron_view"] = "everything"
    iris.run()
    assert not iris.exception
    assert iris.segmented_control(key="train.neuron_view").value == "rows"
    assert '"distributions"' in json.dumps(charts_by_key(iris, "train.neurons"))


def test_live_maps_refreshed_in_place_equal_maps_built_anew():
    split = nn.data.split(nn.data.load_dataset("spirals"), seed=0, standardize=True)
    config = {"layers": [2, 20, 6, 2], "activation": "tanh", "init": "xavier", "seed": 3}
    net = nn.Network.from_config(config)
    side = figures.map_resolution(net.config["layers"][1:])
    names = ["a", "b"]
    points = {"class_names": names, "train": (split.X_train, split.y_train)}
    before = nn.inspect.neuron_grid(net, split.X_train, resolution=side)
    grid = figures.neuron_maps_figure(before, output_names=names)
    large = figures.neuron_map_figure(before, 1, 4, output_names=names, **points)
    shipped = grid.to_dict()
    assert grid.to_dict() is shipped  # made once for the many ticks that draw it unchanged
    net.fit(split.X_train, split.y_train, epochs=3, learning_rate=0.05)
    after = nn.inspect.neuron_grid(net, split.X_train, resolution=side)
    assert figures.refresh_neuron_maps(grid, after)
    assert figures.refresh_neuron_map(large, after, 1, 4, names)
    assert grid.to_dict() is shipped  # the dict made before, with the new values put in
    anew = figures.neuron_maps_figure(after, output_names=names)
    assert plotly.io.to_json(grid) == plotly.io.to_json(anew)
    anew_large = figures.neuron_map_figure(after, 1, 4, output_names=names, **points)
    assert plotly.io.to_json(large) == plotly.io.to_json(anew_large)
    # what does not fit is left alone: another grid, another neuron, another network shape
    other = nn.inspect.neuron_grid(net, split.X_train, resolution=side - 1)
    assert not figures.refresh_neuron_maps(grid, other)
    assert not figures.refresh_neuron_map(large, other, 1, 4, names)
    assert not figures.refresh_neuron_map(large, after, 1, 3, names)
    wider = nn.Network.from_config({**config, "layers": [2, 21, 6, 2]})
    wide = nn.inspect.neuron_grid(wider, split.X_train, resolution=side)
    assert not figures.refresh_neuron_maps(grid, wide)
    assert plotly.io.to_json(grid) == plotly.io.to_json(anew)


def test_a_cached_figure_changed_through_plotly_ships_the_change():
    fig = figures.CachedFigure(data=[{"type": "heatmap", "z": np.eye(3)}])
    shipped = fig.to_dict()
    assert fig.to_dict() is shipped
    changes = [
        lambda: fig.update_layout(title_text="changed"),  # a relayout
        lambda: setattr(fig.data[0], "zmin", -1.0),  # a trace's property: a restyle
        lambda: fig.add_scatter(x=[0.0], y=[1.0]),
        lambda: setattr(fig, "data", fig.data[::-1]),  # traces moved
        lambda: setattr(fig, "data", fig.data[1:]),  # and deleted: the heatmap is left
        lambda: fig.plotly_update({"zmax": [2.0]}, {"height": 300}, trace_indexes=[0]),
    ]
    for change in changes:
        before = fig.to_dict()
        change()
        after = fig.to_dict()
        assert after is not before  # made again, so it holds the change
        assert json.dumps(after, default=str) == json.dumps(
            go.Figure.to_dict(fig), default=str
        )  # made anew
    with fig.batch_update():
        fig.layout.width = 500
    assert fig.to_dict()["layout"]["width"] == 500


def test_live_distributions_refreshed_in_place_equal_ones_built_anew():
    split = nn.data.split(nn.data.load_dataset("wine"), seed=0, standardize=True)
    config = {"layers": [13, 9, 5, 3], "activation": "tanh", "seed": 2}
    net = nn.Network.from_config(config)
    names, y = ["a", "b", "c"], split.y_train

    def boxes(net):
        return nn.inspect.neuron_values(net, split.X_train)

    fig = figures.neuron_distributions_figure(boxes(net), y, names, names)
    net.fit(split.X_train, y, epochs=3, learning_rate=0.1)
    assert figures.refresh_neuron_distributions(fig, boxes(net), y, names)
    anew = figures.neuron_distributions_figure(boxes(net), y, names, names)
    assert plotly.io.to_json(fig) == plotly.io.to_json(anew)
    # what does not fit is left alone: other rows' classes, another network shape
    assert not figures.refresh_neuron_distributions(fig, boxes(net), np.zeros_like(y), names)
    other = nn.Network.from_config({**config, "layers": [13, 8, 5, 3]})
    assert not figures.refresh_neuron_distributions(fig, boxes(other), y, names)
    assert plotly.io.to_json(fig) == plotly.io.to_json(anew)
