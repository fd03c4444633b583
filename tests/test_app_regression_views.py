"""The Predict, Inside and Compare pages with a regression network (AppTest).

Each test puts a regression dataset, its split and a network trained by the app's own loop
into the session the way ``dashboard.state`` does, so the pages are tested apart from the Data
page's controls.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

import nn
from dashboard import state
from dashboard.architecture import build
from dashboard.compare import baselines, runs
from dashboard.inside import inside_ui
from dashboard.predict import results
from dashboard.training import loop
from tests.conftest import ROOT
from tests.test_app_training import drain

PREDICT, INSIDE, COMPARE = "pages/4_Predict.py", "pages/5_Inside.py", "pages/6_Compare.py"
MODERN = nn.presets.for_task(nn.presets.MODERN, nn.task.REGRESSION)
SPLIT = {"test_size": 0.15, "val_size": 0.10, "seed": 0, "stratify": False, "standardize": True}
SPECS = {
    "sine": {"source": "sine", "n_samples": 300, "noise": 0.2, "seed": 0},
    "diabetes": {"source": "diabetes"},
}


@pytest.fixture(autouse=True)
def _caches(clear_streamlit_caches):
    yield


def regression_session(name: str, page: str, epochs: int = 80, train: bool = True) -> AppTest:
    """A session on ``page`` whose dataset is ``name`` (a regression set), split as the app
    splits it, with a network of the modern regression preset trained for ``epochs`` by the
    app's training loop (or untrained). The state is in place before the first run, as if
    the session had started with it."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.switch_page(page)
    dataset = nn.data.load_dataset(name)
    split = nn.data.split(dataset, **SPLIT)
    config = {**MODERN["network"], "layers": [split.preprocessor.n_inputs, 16, 16, 1]}
    net = nn.Network.from_config(config)
    net.preprocessor = split.preprocessor
    ss = at.session_state
    ss[state.DATA_SPEC] = dict(SPECS[name])
    ss[state.DATASET], ss[state.SPLIT], ss[state.SPLIT_SETTINGS] = dataset, split, dict(SPLIT)
    ss[state.DATA_VERSION] = 1
    ss[state.ARCH] = build.arch_from_config(config)
    settings = {**loop.DEFAULT_SETTINGS, **MODERN["training"], "epochs": epochs, "pace": "fastest"}
    ss[state.TRAIN_SETTINGS] = dict(settings)
    trainer = run(net, split, settings, train)
    ss[state.TRAINER] = trainer
    return at.run()


def run(net: nn.Network, split, settings: dict, train: bool = True) -> loop.Trainer:
    """A trainer of ``net`` on ``split`` as the session holds one (data version 1), trained to
    the end by the app's loop (or not at all)."""
    trainer = loop.Trainer(
        net=net,
        X_train=split.X_train,
        y_train=split.y_train,
        X_val=split.X_val,
        y_val=split.y_val,
        settings=dict(settings),
        data_version=1,
    )
    if train:
        drain(trainer, 0.5)
    return trainer


def chart(at, key: str) -> dict:
    """The plotly figure drawn with ``key``."""
    found = [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")]
    assert len(found) == 1, [c.proto.id for c in at.get("plotly_chart")]
    return json.loads(found[0].proto.spec)


def values(data) -> np.ndarray:
    """A plotly array from a figure's JSON: a list, or plotly's typed-array encoding."""
    import base64

    if isinstance(data, dict) and "bdata" in data:
        flat = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        shape = [int(n) for n in str(data.get("shape", len(flat))).split(",")]
        return flat.reshape(shape)
    return np.asarray(data, dtype=float)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(at) -> str:
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def net_of(at) -> nn.Network:
    return at.session_state[state.TRAINER].net


# ---- Predict ----


def test_predict_on_the_sine_gives_a_value_the_test_report_and_the_curve():
    at = regression_session("sine", PREDICT)
    assert not at.exception and not at.error
    net, split = net_of(at), at.session_state[state.SPLIT]
    shown = metrics(at)
    # the form starts at the training median of x; the value is net.predict there, in y's units
    x = np.median(split.raw_train[:, 0])
    value = float(net.predict(split.transform(np.array([[x]])))[0])
    assert shown["Predicted y"] == f"{value:.4g}"
    lo, hi = split.y_train.min(), split.y_train.max()
    assert f"ranges from {lo:.4g} to {hi:.4g}" in texts(at)
    assert chart(at, "predict.value")["layout"]["shapes"][0]["x0"] == pytest.approx(value)
    # the test set: the engine's own figures
    scores = net.evaluate(split.X_test, split.y_test)
    assert shown["Test R²"] == f"{scores['r2']:.3f}" and scores["r2"] > 0.9
    assert shown["MAE"] == f"{scores['mae']:.4g}" and shown["RMSE"] == f"{scores['rmse']:.4g}"
    assert shown["Test rows"] == str(len(split.y_test))
    fig = chart(at, "predict.actual")
    assert [t["name"] for t in fig["data"]] == ["test rows", "y = x (perfect)"]
    np.testing.assert_allclose(values(fig["data"][0]["x"]), split.y_test)
    np.testing.assert_allclose(values(fig["data"][0]["y"]), net.predict(split.X_test))
    fig = chart(at, "predict.residuals")
    np.testing.assert_allclose(
        values(fig["data"][0]["y"]), net.predict(split.X_test) - split.y_test, atol=1e-12
    )
    assert chart(at, "predict.errors")["data"][0]["type"] == "histogram"
    largest = at.dataframe[0].value
    assert list(largest.columns) == ["actual", "predicted", "error", "x"]
    assert len(largest) == results.LARGEST_ERRORS
    assert "The 20 test rows with the largest errors" in texts(at)
    # the One sample tab shows where the sample lies on the fitted curve
    curve = chart(at, "predict.surface")
    names = [t["name"] for t in curve["data"]]
    assert names == ["training rows", "test rows", "the network's prediction", "your sample"]
    assert values(curve["data"][3]["y"])[0] == pytest.approx(value)


def test_a_changed_sample_moves_the_prediction():
    at = regression_session("sine", PREDICT)
    net, split = net_of(at), at.session_state[state.SPLIT]
    field = next(n for n in at.number_input if n.key.startswith("predict.x."))
    field.set_value(1.0)
    at.button[0].click().run()  # the form's Predict button
    assert not at.exception
    value = float(net.predict(split.transform(np.array([[1.0]])))[0])
    assert metrics(at)["Predicted y"] == f"{value:.4g}"
    assert abs(value - np.sin(1.5)) < 0.3


def test_predict_on_diabetes_names_the_target_and_shows_the_value_surface():
    at = regression_session("diabetes", PREDICT, epochs=30)
    assert not at.exception and not at.error
    shown = metrics(at)
    assert "Predicted progression" in shown and "Test R²" in shown
    assert len([n for n in at.number_input if n.key.startswith("predict.x.")]) == 10
    surface = chart(at, "predict.surface")
    assert surface["data"][0]["type"] == "heatmap" and surface["data"][-1]["name"] == "your sample"
    assert surface["layout"]["coloraxis"]["colorbar"]["title"]["text"] == "progression"
    # the axes default to the two features most correlated with the target
    names = [surface["layout"][a]["title"]["text"] for a in ("xaxis", "yaxis")]
    assert set(names) == {"bmi", "s5"}
    largest = at.dataframe[0].value
    assert list(largest.columns[:3]) == ["actual", "predicted", "error"]


def test_a_regression_model_file_round_trips_with_the_same_predictions():
    at = regression_session("sine", PREDICT, epochs=40)
    net, split = net_of(at), at.session_state[state.SPLIT]
    saved = results.model_bytes(net, at.session_state[state.DATASET])
    download = next(b for b in at.get("download_button") if "model" in b.proto.label)
    assert download.proto.label == "Download the model (.npz)"
    at.session_state[state.TRAINER].net = nn.Network.from_config(net.config)  # forget it
    at.file_uploader(key="predict.model_upload").upload("model.npz", saved).run()
    assert not at.exception and not at.error
    loaded = net_of(at)
    assert loaded is not net and loaded.task == nn.task.REGRESSION
    np.testing.assert_array_equal(loaded.predict(split.X_test), net.predict(split.X_test))
    assert metrics(at)["Test R²"] == f"{net.evaluate(split.X_test, split.y_test)['r2']:.3f}"


def test_a_regression_model_is_refused_on_a_classification_dataset_with_a_message():
    sine = regression_session("sine", PREDICT, epochs=5)
    saved = results.model_bytes(net_of(sine), sine.session_state[state.DATASET])
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.switch_page(PREDICT).run()  # Iris, nothing trained yet
    at.file_uploader(key="predict.model_upload").upload("model.npz", saved).run()
    assert not at.exception
    assert at.error
    message = at.error[0].value.replace("\\", "")  # as shown: escaped for Markdown
    assert "This model predicts a number (regression) (it was trained to predict y)" in message
    assert "the current dataset's target is classes (classification)" in message
    assert at.session_state[state.TRAINER] is None


def test_batch_prediction_on_the_sine_adds_the_value_and_the_error():
    at = regression_session("sine", PREDICT, epochs=40)
    net, split = net_of(at), at.session_state[state.SPLIT]
    x, y = split.raw_test[:, 0], split.y_test
    csv = "x,y\n" + "\n".join(f"{a:.17g},{b:.17g}" for a, b in zip(x, y, strict=True))
    at.file_uploader(key="predict.batch_upload").upload("rows.csv", csv.encode()).run()
    assert not at.exception and not at.error
    table = next(d.value for d in at.dataframe if "predicted_y" in d.value.columns)
    assert list(table.columns) == ["x", "y", "predicted_y", "error"]
    np.testing.assert_allclose(table["predicted_y"], net.predict(split.X_test), atol=1e-9)
    scores = net.evaluate(split.X_test, y)
    shown = metrics(at)
    assert shown["R² on the file's own targets"] == f"{scores['r2']:.3f}"
    assert f"Over the {len(y)} rows whose target is a number." in texts(at)


# ---- Inside ----


def test_inside_on_the_sine_draws_the_fitted_curve_in_the_targets_units():
    at = regression_session("sine", INSIDE)
    assert not at.exception
    assert at.tabs[0].label == inside_ui.CURVE
    net, split = net_of(at), at.session_state[state.SPLIT]
    fig = chart(at, "inside.surface")
    names = [t["name"] for t in fig["data"]]
    assert names == ["training rows", "test rows", "the network's prediction"]
    xs, ys = values(fig["data"][2]["x"]), values(fig["data"][2]["y"])
    np.testing.assert_allclose(ys, net.predict(split.transform(xs.reshape(-1, 1))), atol=1e-12)
    assert len(values(fig["data"][0]["x"])) == len(split.y_train)
    assert fig["layout"]["xaxis"]["title"]["text"] == "x"
    assert "Line: the y the network predicts along x" in texts(at)
    assert "R² " in at.get("progress")[0].proto.text


@pytest.mark.parametrize("view", inside_ui.VIEWS[1:])
def test_every_other_inside_view_works_for_regression(view):
    at = regression_session("sine", INSIDE)
    at.session_state["inside.view"] = view  # the tab the user opens
    at.run()
    assert not at.exception and not at.error
    assert at.session_state["inside.view"] == view
    shown = metrics(at)
    if view == inside_ui.NETWORK:
        fig = chart(at, "inside.network")
        assert "output y" in json.dumps(fig)
    elif view == inside_ui.HEALTH:
        assert shown["Output vs target"].startswith("spread ")
        assert "A linear output reaches any value" in texts(at)
    elif view == inside_ui.NEURONS:
        fig = chart(at, "inside.neurons")  # one feature: each neuron's values on the rows
        assert fig["data"] and all(t["type"] == "box" for t in fig["data"])
        assert {t["legendgroup"] for t in fig["data"]} >= {"lowest third of y"}
    elif view == inside_ui.BACKPROP:
        split = at.session_state[state.SPLIT]
        assert shown["Its y"] == f"{split.y_train[0]:.4g}"
        assert len(at.latex) >= 4 and r"\frac{\text{target} - \mu}{s}" in at.latex[3].value
        at.button(key="inside.bp_apply").click().run()
        assert not at.exception and "Applied one step for training row 1" in texts(at)
    else:
        at.button(key="inside.trust_run").click().run()
        assert not at.exception
        shown = metrics(at)
        assert set(shown) >= {
            "This network",
            "scikit-learn MLPRegressor",
            "scikit-learn LinearRegression",
            "Always the mean",
        }
        net, split = net_of(at), at.session_state[state.SPLIT]
        assert shown["This network"] == f"{net.evaluate(split.X_test, split.y_test)['r2']:.3f}"
        assert float(shown["scikit-learn LinearRegression"]) < 0.5 < float(shown["This network"])
        assert any("Every layer passes" in s.value for s in at.success)


def test_inside_on_diabetes_draws_a_value_surface_with_feature_pickers():
    at = regression_session("diabetes", INSIDE, epochs=30)
    assert not at.exception
    assert at.tabs[0].label == inside_ui.VALUE_SURFACE
    fig = chart(at, "inside.surface")
    assert fig["data"][0]["type"] == "heatmap"
    x = next(s for s in at.selectbox if s.key.startswith("inside.surface_x."))
    y = next(s for s in at.selectbox if s.key.startswith("inside.surface_y."))
    names = at.session_state[state.DATASET].feature_names
    assert {names[x.value], names[y.value]} == {"bmi", "s5"}
    assert not [c for c in at.segmented_control if c.key == "inside.surface_mode"]
    x.set_value(0).run()
    fig = chart(at, "inside.surface")
    assert fig["layout"]["xaxis"]["title"]["text"] == "age"
    assert "The other 8 features are held at their training medians" in texts(at)


def test_the_curve_is_redrawn_as_the_network_trains_from_the_inside_page():
    at = regression_session("sine", INSIDE, epochs=60, train=False)
    assert not at.exception
    assert "Not trained yet: this line comes from the random initial weights" in texts(at)
    net = net_of(at)
    assert net.target_scaler is not None  # the first epoch's scale, so the line is in y's units
    before = values(chart(at, "inside.surface")["data"][2]["y"])
    at.button(key="train.start").click().run()
    for _ in range(50):
        if not at.session_state[state.TRAINER].running:
            break
        at.run()
    at.run()
    trainer = at.session_state[state.TRAINER]
    assert not at.exception and trainer.status in runs.ENDED and net.epochs_trained > 10
    after = values(chart(at, "inside.surface")["data"][2]["y"])
    split = at.session_state[state.SPLIT]
    xs = values(chart(at, "inside.surface")["data"][2]["x"])
    np.testing.assert_allclose(after, net.predict(split.transform(xs.reshape(-1, 1))), atol=1e-12)
    assert not np.allclose(before, after)
    assert net.evaluate(split.X_test, split.y_test)["r2"] > 0.9


def test_the_train_page_offers_the_fitted_curve_as_its_live_view():
    at = regression_session("sine", "pages/3_Train.py", epochs=20)
    assert not at.exception
    control = at.segmented_control(key="train.inside_view")
    assert control.options[0] == inside_ui.CURVE
    control.set_value(inside_ui.CURVE).run()  # AppTest sets the label the user clicks
    assert not at.exception
    fig = chart(at, "train.surface")
    assert fig["data"][2]["name"] == "the network's prediction"


# ---- Compare ----


def keep_runs(at: AppTest, extra_classification: bool = False) -> None:
    """Two finished regression runs on the session's split (learning rates 0.01 and 0.003),
    and, when asked, one Iris classification run, kept as Compare keeps them."""
    split, dataset = at.session_state[state.SPLIT], at.session_state[state.DATASET]
    records = []
    for i, lr in enumerate((0.01, 0.003)):
        config = {**MODERN["network"], "layers": [1, 16, 16, 1]}
        net = nn.Network.from_config(config)
        net.preprocessor = split.preprocessor
        settings = {**loop.DEFAULT_SETTINGS, **MODERN["training"], "epochs": 15}
        trainer = run(net, split, {**settings, "learning_rate": lr})
        records.append(runs.make_record(f"run {i + 1}", trainer, "Sine", SPLIT, split, dataset))
    if extra_classification:
        iris = nn.data.load_dataset("iris")
        iris_split = nn.data.split(iris, seed=0)
        net = nn.Network.from_config(nn.presets.ARTICLE["network"])
        trainer = run(net, iris_split, {**loop.DEFAULT_SETTINGS, "epochs": 5})
        records.insert(0, runs.make_record("run 0", trainer, "Iris", SPLIT, iris_split, iris))
    at.session_state[state.COMPARE_RUNS] = records
    at.session_state[state.COMPARE_COUNTER] = len(records)
    at.run()


def test_compare_shows_regression_runs_with_r2_mae_and_rmse():
    at = regression_session("sine", COMPARE, epochs=15)
    at.session_state[state.COMPARE_RUNS] = []  # the session's own finished run is not needed
    keep_runs(at)
    assert not at.exception
    records = at.session_state[state.COMPARE_RUNS]
    table = dataframe_util.convert_anything_to_pandas_df(at.dataframe[0].value)
    for name in ("test R²", "test MAE", "test RMSE", "validation R²"):
        assert name in table.index
    r2 = records[1]["metrics"]["test R²"]
    assert table.loc["test R²", "run 2"] == f"{r2:.4g}"
    assert "test accuracy" not in table.index
    control = at.segmented_control(key="compare.metric")
    assert control.options == ["loss", "R²"]
    control.set_value("R²").run()  # AppTest sets the label the user clicks
    fig = chart(at, "compare.curves")
    assert fig["layout"]["yaxis"]["title"]["text"] == "R²"
    first = fig["data"][0]
    np.testing.assert_allclose(values(first["y"]), [r["train_r2"] for r in records[0]["history"]])
    assert not [c for c in at.segmented_control if c.key == "compare.task"]


def test_compare_with_runs_of_both_tasks_compares_one_task_at_a_time():
    at = regression_session("sine", COMPARE, epochs=15)
    keep_runs(at, extra_classification=True)
    assert not at.exception
    task = at.segmented_control(key="compare.task")
    assert task.value == nn.task.REGRESSION  # the latest run's task
    assert "runs are compared with runs of the same task" in texts(at)
    shown = at.multiselect[0]
    assert shown.value == ["run 1", "run 2"]
    task.set_value("Classification (1)").run()  # the label the user clicks
    assert not at.exception
    assert at.multiselect[0].value == ["run 0"]
    table = dataframe_util.convert_anything_to_pandas_df(at.dataframe[0].value)
    assert "test accuracy" in table.index and "test R²" not in table.index
    assert at.segmented_control(key="compare.metric").options == ["loss", "accuracy"]


def test_five_seeds_of_a_regression_setting_report_r2_and_a_reference():
    at = regression_session("sine", COMPARE, epochs=10)
    at.button(key="compare.seeds_run").click().run()
    assert not at.exception and not at.error
    study = at.session_state[state.COMPARE_SEEDS]["results"]
    assert len(study) == runs.N_SEEDS and all(r["task"] == nn.task.REGRESSION for r in study)
    shown = metrics(at)
    mean = np.mean([r["test_r2"] for r in study])
    assert shown["Mean test R²"] == f"{mean:.3f}"
    assert "linear regression scores R²" in texts(at)
    split = at.session_state[state.SPLIT]
    quick = baselines.regression_baselines(
        split.X_train, split.y_train, split.X_test, split.y_test, mlp=False
    )
    assert f"{quick['LinearRegression']['r2']:.3f}" in texts(at)
    table = next(d.value for d in at.dataframe if "seed" in getattr(d.value, "columns", []))
    assert {"test R²", "test MAE", "test RMSE"} <= set(table.columns)
