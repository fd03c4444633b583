"""Regression in the views, without Streamlit: the value grid and the fitted curve, the test
report and its figures, batch prediction, model files, backprop and health, baselines, and the
Compare page's records, seeds and charts."""

from __future__ import annotations

import dataclasses
import functools
import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression

import nn
import nn.inspect as ins
from dashboard.compare import baselines, comparison, runs
from dashboard.inside import backprop, figures
from dashboard.predict import figures as predict_figures
from dashboard.predict import results
from dashboard.training import loop
from tests.test_app_training import drain

MODERN = nn.presets.for_task(nn.presets.MODERN, nn.task.REGRESSION)
SPLIT = {"test_size": 0.15, "val_size": 0.10, "seed": 0, "stratify": False, "standardize": True}


def regression_config(n_inputs: int, **changes) -> dict:
    return {**MODERN["network"], "layers": [n_inputs, 16, 16, 1], **changes}


def training(**changes) -> dict:
    settings = {**MODERN["training"], **changes}
    return {k: v for k, v in settings.items() if k != "epochs"}


@functools.cache
def _trained(name: str, epochs: int):
    dataset = nn.data.load_dataset(name)
    split = nn.data.split(dataset, **SPLIT)
    net = nn.Network.from_config(regression_config(split.X_train.shape[1]))
    net.preprocessor = split.preprocessor
    net.fit(
        split.X_train,
        split.y_train,
        epochs=epochs,
        validation_data=(split.X_val, split.y_val),
        **training(early_stopping=False),
    )
    return dataset, split, net


def trained(name: str = "sine", epochs: int = 150):
    """A regression network trained on a bundled or synthetic set (made once per test run;
    the tests only read it)."""
    return _trained(name, epochs)


# ---- value grid and fitted curve ----


def test_value_grid_is_net_predict_on_the_grid_points():
    _dataset, split, net = trained("diabetes", 40)
    raw = split.raw_train
    fixed = np.median(raw, axis=0)
    xs, ys, values = ins.value_grid(
        net, raw, resolution=7, fixed=fixed, features=(2, 8), transform=split.transform
    )
    assert xs.shape == (7,) and ys.shape == (7,) and values.shape == (7, 7)
    rows = np.tile(fixed, (49, 1))
    gx, gy = np.meshgrid(xs, ys)
    rows[:, 2], rows[:, 8] = gx.ravel(), gy.ravel()
    expected = net.predict(split.transform(rows)).reshape(7, 7)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)
    # values[i, j] is the prediction at (xs[j], ys[i]); the range covers the data plus margin
    assert xs[0] < raw[:, 2].min() and xs[-1] > raw[:, 2].max()
    assert ys[0] < raw[:, 8].min() and ys[-1] > raw[:, 8].max()
    # in the target's units, not the standardized outputs
    assert values.mean() == pytest.approx(np.mean(split.y_train), rel=0.5)


def test_value_grid_without_a_transform_takes_network_inputs():
    _, _split, net = trained("sine")
    two = nn.Network.from_config(regression_config(2))
    two.target_scaler = net.target_scaler
    X = np.random.default_rng(0).normal(size=(30, 2))
    xs, ys, values = ins.value_grid(two, X, resolution=5)
    gx, gy = np.meshgrid(xs, ys)
    expected = two.predict(np.c_[gx.ravel(), gy.ravel()]).reshape(5, 5)
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


def test_value_curve_is_net_predict_along_the_feature():
    _, split, net = trained("sine")
    xs, values = ins.value_curve(net, split.raw_train, resolution=50, transform=split.transform)
    assert xs.shape == values.shape == (50,)
    assert np.all(np.diff(xs) > 0)
    assert xs[0] < split.raw_train.min() and xs[-1] > split.raw_train.max()
    expected = net.predict(split.transform(xs.reshape(-1, 1)))
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)
    # the trained network follows the sine it learned
    inside = (xs > -2.5) & (xs < 2.5)
    assert np.max(np.abs(values[inside] - np.sin(1.5 * xs[inside]))) < 0.35


def test_value_curve_holds_the_other_features_fixed():
    _dataset, split, net = trained("diabetes", 20)
    fixed = split.raw_test[0]
    xs, values = ins.value_curve(
        net, split.raw_train, resolution=9, fixed=fixed, feature=2, transform=split.transform
    )
    rows = np.tile(fixed, (9, 1))
    rows[:, 2] = xs
    np.testing.assert_allclose(values, net.predict(split.transform(rows)), atol=1e-12)


def test_value_views_refuse_a_classifier_and_the_decision_grid_a_regression_network():
    _, split, net = trained("sine")
    classifier = nn.Network.from_config({"layers": [2, 4, 2]})
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="regression network"):
        ins.value_grid(classifier, X)
    with pytest.raises(ValueError, match="regression network"):
        ins.value_curve(classifier, X)
    two = nn.Network.from_config(regression_config(2))
    with pytest.raises(ValueError, match="decision surface shows classes"):
        ins.decision_grid(two, X)
    with pytest.raises(ValueError, match="feature must be an index"):
        ins.value_curve(net, split.raw_train, feature=1)
    with pytest.raises(ValueError, match="resolution"):
        ins.value_curve(net, split.raw_train, resolution=1)
    with pytest.raises(ValueError, match="output must be a target index"):
        ins.value_grid(two, X, output=1)


# ---- the test report ----


def test_regression_report_scores_equal_sklearn_and_lists_the_largest_errors():
    dataset, split, net = trained("diabetes", 60)
    report = results.regression_report(net, split, dataset)
    y_true = split.y_test
    y_pred = net.predict(split.X_test)
    assert report["n_test"] == len(y_true)
    np.testing.assert_array_equal(report["actual"], y_true)
    np.testing.assert_allclose(report["predicted"], y_pred, atol=1e-12)
    np.testing.assert_allclose(report["error"], y_pred - y_true, atol=1e-12)
    assert report["r2"] == pytest.approx(skm.r2_score(y_true, y_pred), abs=1e-9)
    assert report["mae"] == pytest.approx(skm.mean_absolute_error(y_true, y_pred), abs=1e-9)
    rmse = np.sqrt(skm.mean_squared_error(y_true, y_pred))
    assert report["rmse"] == pytest.approx(rmse, abs=1e-9)
    # the same figures as the engine's own evaluate
    scores = net.evaluate(split.X_test, y_true)
    assert report["r2"] == pytest.approx(scores["r2"], abs=1e-12)
    largest = report["largest"]
    assert len(largest) == results.LARGEST_ERRORS
    assert list(largest.columns[:3]) == ["actual", "predicted", "error"]
    assert list(largest.columns[3:]) == dataset.feature_names
    errors = largest["error"].to_numpy()
    assert np.all(np.diff(np.abs(errors)) <= 0)
    assert abs(errors[0]) == pytest.approx(np.abs(y_pred - y_true).max())
    worst = int(np.argmax(np.abs(y_pred - y_true)))
    np.testing.assert_allclose(largest.iloc[0, 3:].to_numpy(float), split.raw_test[worst])
    assert largest["actual"].iloc[0] == y_true[worst]


def test_largest_errors_keep_a_feature_called_error_apart():
    dataset = nn.data.Dataset(
        X=np.arange(6.0).reshape(3, 2),
        y=np.array([1.0, 2.0, 3.0]),
        feature_names=["error", "actual"],
        class_names=[],
        task=nn.task.REGRESSION,
        target="y",
    )
    table = results.largest_errors(dataset.X, dataset.y, [1.0, 5.0, 2.5], dataset, n=2)
    assert list(table.columns) == ["actual_", "predicted", "error_", "error", "actual"]
    assert table["error_"].tolist() == [3.0, -0.5]
    assert table["error"].tolist() == [2.0, 4.0]  # the feature's own values


def test_target_range_and_one_predicted_value():
    dataset, split, net = trained("sine")
    span = results.target_range(split)
    assert span == {
        "min": float(split.y_train.min()),
        "median": float(np.median(split.y_train)),
        "max": float(split.y_train.max()),
    }
    value = results.predict_value(net, dataset, [1.0])
    assert isinstance(value, float)
    assert value == pytest.approx(float(net.predict(split.transform(np.array([[1.0]])))[0]))


def test_regression_figures():
    actual = np.array([1.0, 2.0, 3.0, 10.0])
    predicted = np.array([1.5, 1.0, 3.0, 7.0])
    fig = predict_figures.predicted_vs_actual_figure(actual, predicted, "<b>km</b>")
    points, line = fig.data
    np.testing.assert_array_equal(points.x, actual)
    np.testing.assert_array_equal(points.y, predicted)
    assert line.name == "y = x (perfect)" and list(line.x) == list(line.y)
    assert line.x[0] < 1.0 and line.x[1] > 10.0
    assert fig.layout.xaxis.range == fig.layout.yaxis.range
    assert "&lt;b&gt;km&lt;/b&gt;" in fig.layout.xaxis.title.text  # escaped for plotly
    fig = predict_figures.residuals_figure(predicted, predicted - actual, "km")
    np.testing.assert_array_equal(fig.data[0].y, predicted - actual)
    assert list(fig.data[1].y) == [0.0, 0.0]
    fig = predict_figures.error_histogram_figure(predicted - actual, "km")
    np.testing.assert_array_equal(fig.data[0].x, predicted - actual)
    assert fig.layout.shapes[0].x0 == 0.0
    fig = predict_figures.value_context_figure(actual, 4.2, "km")
    assert fig.layout.shapes[0].x0 == 4.2
    many = np.linspace(0, 1, 5000)
    fig = predict_figures.predicted_vs_actual_figure(many, many, "km")
    assert fig.data[0].type == "scattergl" and len(fig.data[0].x) == predict_figures.MAX_POINTS
    with pytest.raises(ValueError, match="same number"):
        predict_figures.residuals_figure([1.0], [1.0, 2.0], "km")


def test_fitted_curve_and_value_surface_figures():
    xs = np.linspace(-1, 1, 11)
    fig = figures.fitted_curve_figure(
        xs,
        xs**2,
        train=(np.array([0.0, 0.5]), np.array([0.1, 0.2])),
        test=(np.array([0.2]), np.array([0.0])),
        sample=(0.5, 0.25),
        axis_names=("x", "<i>y</i>"),
    )
    assert [t.name for t in fig.data] == [
        "training rows",
        "test rows",
        "the network's prediction",
        "your sample",
    ]
    np.testing.assert_array_equal(fig.data[2].y, xs**2)
    assert fig.layout.yaxis.title.text == "&lt;i&gt;y&lt;/i&gt;"
    # a curve far off the data does not squash the points: it may run off the chart
    fig = figures.fitted_curve_figure(xs, 100 * xs, train=(xs, xs * 0.1))
    lo, hi = fig.layout.yaxis.range
    assert -1 < lo < -0.1 and 0.1 < hi < 1
    values = np.arange(12.0).reshape(3, 4)
    fig = figures.value_surface_figure(
        np.arange(4.0),
        np.arange(3.0),
        values,
        train=(np.array([[0.0, 1.0]]), np.array([20.0])),
        target_name="price",
    )
    surface, points = fig.data
    np.testing.assert_array_equal(surface.z, values)
    assert surface.coloraxis == points.marker.coloraxis == "coloraxis"
    assert fig.layout.coloraxis.cmin == 0.0 and fig.layout.coloraxis.cmax == 20.0
    with pytest.raises(ValueError, match="values must be"):
        figures.value_surface_figure(np.arange(4.0), np.arange(3.0), values.T)


# ---- batch prediction ----


def test_batch_prediction_adds_the_value_and_the_error_and_scores_like_sklearn():
    dataset, split, net = trained("sine")
    x = split.raw_test[:, 0]
    y = split.y_test.astype(object)
    y[0] = "n/a"  # a target that is not a number: predicted, not scored
    frame = pd.DataFrame({"note": ["a"] * len(x), "x": x, "y": y})
    predicted = results.batch_predict(net, frame, dataset)
    assert list(predicted.columns) == ["note", "x", "y", "predicted_y", "error"]
    expected = net.predict(split.X_test)
    np.testing.assert_allclose(predicted["predicted_y"], expected, atol=1e-12)
    errors = predicted["error"].to_numpy(float)
    assert np.isnan(errors[0])
    np.testing.assert_allclose(errors[1:], expected[1:] - split.y_test[1:], atol=1e-12)
    scores = results.batch_metrics(predicted, frame, None, dataset)
    truth, guess = split.y_test[1:], expected[1:]
    assert scores["rows"] == len(truth)
    assert scores["r2"] == pytest.approx(skm.r2_score(truth, guess), abs=1e-9)
    assert scores["mae"] == pytest.approx(skm.mean_absolute_error(truth, guess), abs=1e-9)
    rmse = np.sqrt(skm.mean_squared_error(truth, guess))
    assert scores["rmse"] == pytest.approx(rmse, abs=1e-9)


def test_batch_prediction_without_the_target_column_and_with_a_taken_name():
    dataset, _split, net = trained("sine")
    frame = pd.DataFrame({"x": [0.0, 1.0], "predicted_y": ["keep", "me"]})
    predicted = results.batch_predict(net, frame, dataset)
    assert list(predicted.columns) == ["x", "predicted_y", "predicted_y_"]
    assert predicted["predicted_y"].tolist() == ["keep", "me"]
    assert results.batch_metrics(predicted, frame, None, dataset) is None
    blank = pd.DataFrame({"x": [0.0], "y": [None]})
    assert (
        results.batch_metrics(results.batch_predict(net, blank, dataset), blank, None, dataset)
        is None
    )


# ---- model files ----


def test_a_regression_model_round_trips_and_is_refused_for_other_data():
    dataset, split, net = trained("sine")
    saved = results.model_bytes(net, dataset)
    loaded = results.load_model(saved, dataset, split)
    assert loaded.task == nn.task.REGRESSION
    np.testing.assert_array_equal(loaded.predict(split.X_test), net.predict(split.X_test))
    assert loaded.metadata["target"] == "y"
    iris = nn.data.load_dataset("iris")
    iris_split = nn.data.split(iris, seed=0)
    with pytest.raises(ValueError, match=r"predicts a number \(regression\).*classes"):
        results.load_model(saved, iris, iris_split)
    classifier = nn.Network.from_config({"layers": [1, 4, 2], "output_activation": "softmax"})
    with pytest.raises(ValueError, match=r"predicts classes .*target is a number"):
        results.load_model(results.model_bytes(classifier), dataset, split)
    renamed = dataclasses.replace(dataset, target="height")
    with pytest.raises(ValueError, match=r"trained to predict y, not .* height"):
        results.load_model(saved, renamed, split)
    plane = nn.data.load_dataset("plane")
    with pytest.raises(ValueError, match="expects 1 input features"):
        results.load_model(saved, plane, nn.data.split(plane, **SPLIT))


# ---- backprop, gradient check, health ----


@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_backprop_trace_of_a_regression_network_is_the_engine_step(loss):
    _dataset, split, base = trained("diabetes", 10)
    net = nn.Network.from_config(regression_config(10, loss=loss))
    net.set_weights(base.get_weights())
    net.target_scaler = base.target_scaler
    x, y = split.X_train[3], split.y_train[3]
    trace = ins.backprop_trace(net, x, y, learning_rate=0.01)
    scaler = net.target_scaler
    assert trace.task == nn.task.REGRESSION
    np.testing.assert_allclose(trace.target, (y - scaler.mean) / scaler.scale)
    np.testing.assert_allclose(trace.target_value, [y])
    np.testing.assert_allclose(trace.output_value, net.predict(x[None, :]))
    loss_value, grads = net.loss_and_gradients(x[None, :], np.array([y]))
    assert trace.loss == pytest.approx(loss_value)
    for ours, engine in zip(trace.gradients(), grads, strict=True):
        np.testing.assert_allclose(ours, engine, atol=1e-12)
    last = trace.layers[-1]
    residual = trace.output - trace.target
    expected = residual if loss == "squared_error" else np.clip(residual, -1.0, 1.0)
    np.testing.assert_allclose(last.grad_a, expected)
    np.testing.assert_allclose(last.slope, [1.0])  # a linear output
    steps = {s["title"]: s["latex"] for s in backprop.backprop_steps(trace)}
    assert r"\frac{\text{target} - \mu}{s}" in steps["Loss"]
    assert backprop.tex_vector(trace.output_value) in steps["Loss"]
    if loss == "huber":
        assert r"\mathrm{huber}" in steps["Loss"] and r"\mathrm{clip}" in steps["Delta, layer 3"]
    else:
        assert r"\tfrac{1}{2}" in steps["Loss"] and r"(a^{(3)} - y)" in steps["Delta, layer 3"]
    before = trace.loss
    ins.apply_trace(net, trace)
    assert ins.backprop_trace(net, x, y, learning_rate=0.01).loss < before


@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_gradient_check_of_a_regression_network_scales_the_target(loss):
    _dataset, split, base = trained("diabetes", 10)
    net = nn.Network.from_config(regression_config(10, loss=loss, activation="tanh"))
    net.target_scaler = base.target_scaler  # diabetes' target is about 150: unscaled it is huge
    check = ins.gradient_check(net, split.X_train, split.y_train, max_rows=16)
    assert check.passed, check.table()
    rows = np.sort(np.random.default_rng(0).choice(len(split.X_train), 16, replace=False))
    expected = net.evaluate(split.X_train[rows], split.y_train[rows])["loss"]
    assert check.loss == pytest.approx(expected)
    assert check.loss < 10  # on the standardized target; unscaled it would be in the thousands


def test_health_checks_a_regression_output():
    _dataset, split, net = trained("sine")
    report = ins.training_health(net, split.X_train, split.y_train, learning_rate=0.01)
    assert report["output"]["status"] == "ok" and report["output"]["unreachable"] is None
    assert 0.8 < report["output"]["spread"] < 1.2
    sigmoid = nn.Network.from_config(regression_config(1, output_activation="sigmoid"))
    sigmoid.target_scaler = net.target_scaler
    report = ins.training_health(sigmoid, split.X_train, split.y_train)
    part = report["output"]
    z = (split.y_train - net.target_scaler.mean[0]) / net.target_scaler.scale[0]
    assert part["unreachable"] == pytest.approx(np.mean((z < 0) | (z > 1)))
    assert part["status"] == "warning" and "linear output" in part["hint"]
    untrained = nn.Network.from_config(regression_config(1))
    untrained.target_scaler = net.target_scaler
    untrained.layers[-1].W[...] = 0.0
    part = ins.training_health(untrained, split.X_train, split.y_train)["output"]
    assert part["status"] == "warning" and "about the mean" in part["hint"]
    classifier = nn.Network.from_config({"layers": [1, 4, 2]})
    assert "output" not in ins.training_health(classifier, split.X_train, split.y_train > 0)


# ---- baselines ----


def test_regression_baselines_are_sklearns_own_figures():
    _dataset, split, net = trained("diabetes", 10)
    scores = baselines.regression_baselines(
        split.X_train,
        split.y_train,
        split.X_test,
        split.y_test,
        net.config,
        {**MODERN["training"], "epochs": 50},
    )
    assert set(scores) == {"MLPRegressor", "LinearRegression", baselines.MEAN_PREDICTOR}
    linear = LinearRegression().fit(split.X_train, split.y_train).predict(split.X_test)
    assert scores["LinearRegression"]["r2"] == pytest.approx(
        skm.r2_score(split.y_test, linear), abs=1e-9
    )
    assert scores["LinearRegression"]["mae"] == pytest.approx(
        skm.mean_absolute_error(split.y_test, linear), abs=1e-9
    )
    mean = np.full(len(split.y_test), split.y_train.mean())
    assert scores[baselines.MEAN_PREDICTOR]["r2"] == pytest.approx(
        skm.r2_score(split.y_test, mean), abs=1e-9
    )
    assert scores[baselines.MEAN_PREDICTOR]["r2"] <= 0.0 < scores["LinearRegression"]["r2"]
    assert scores["MLPRegressor"]["r2"] > scores[baselines.MEAN_PREDICTOR]["r2"]
    r2 = baselines.sklearn_baselines(
        split.X_train,
        split.y_train,
        split.X_test,
        split.y_test,
        net.config,
        {**MODERN["training"], "epochs": 50},
    )
    assert r2 == {name: figures["r2"] for name, figures in scores.items()}
    quick = baselines.regression_baselines(
        split.X_train, split.y_train, split.X_test, split.y_test, mlp=False
    )
    assert set(quick) == {"LinearRegression", baselines.MEAN_PREDICTOR}


def test_mlp_regressor_fits_the_sine():
    _dataset, split, net = trained("sine")
    scores = baselines.sklearn_baselines(
        split.X_train,
        split.y_train,
        split.X_test,
        split.y_test,
        net.config,
        {**MODERN["training"], "epochs": 150},
    )
    assert scores["MLPRegressor"] > 0.9
    assert scores["LinearRegression"] < 0.5  # a straight line cannot follow a sine


# ---- Compare: records, seeds, charts ----


def finished_trainer(split, epochs: int = 8, seed: int = 0) -> loop.Trainer:
    net = nn.Network.from_config(regression_config(split.X_train.shape[1], seed=seed))
    net.preprocessor = split.preprocessor
    trainer = loop.Trainer(
        net=net,
        X_train=split.X_train,
        y_train=split.y_train,
        X_val=split.X_val,
        y_val=split.y_val,
        settings={**loop.DEFAULT_SETTINGS, **MODERN["training"], "epochs": epochs},
    )
    drain(trainer, 0.5)
    return trainer


def test_a_regression_run_record_holds_r2_mae_and_rmse():
    dataset, split, _ = trained("sine")
    trainer = finished_trainer(split)
    record = runs.make_record("run 1", trainer, "Sine", SPLIT, split, dataset)
    assert record["task"] == nn.task.REGRESSION
    assert record["settings"]["split"]["stratify"] is None  # a number is never stratified
    scores = trainer.net.evaluate(split.X_test, split.y_test)
    metrics = record["metrics"]
    assert metrics["test R²"] == scores["r2"]
    assert metrics["test MAE"] == scores["mae"] and metrics["test RMSE"] == scores["rmse"]
    assert metrics["test loss"] == scores["loss"]
    assert metrics["validation R²"] == trainer.net.history[-1].val_r2
    assert "test accuracy" not in metrics and "validation accuracy" not in metrics
    json.dumps(record["history"])  # plain data
    assert runs.record_task({"name": "old"}) == nn.task.CLASSIFICATION


def test_seeds_of_a_regression_setting_report_r2():
    _dataset, split, _ = trained("sine")
    config = regression_config(1)
    settings = {**loop.DEFAULT_SETTINGS, **MODERN["training"], "epochs": 5, "pace": "fastest"}
    found = runs.train_seeds(config, split, settings, [0, 1])
    assert [r["task"] for r in found] == [nn.task.REGRESSION] * 2
    for seed, result in zip([0, 1], found, strict=True):
        net = nn.Network.from_config({**config, "seed": seed})
        net.fit(split.X_train, split.y_train, epochs=5, seed=seed, **_seed_kwargs(settings, split))
        assert result["test_r2"] == pytest.approx(net.evaluate(split.X_test, split.y_test)["r2"])
    table = runs.seed_table(found)
    assert list(table.columns) == [
        "seed",
        "test R²",
        "test MAE",
        "test RMSE",
        "test loss",
        "epochs",
        "status",
    ]
    spread = runs.seed_spread(found)
    assert spread["n"] == 2
    assert spread["mean"] == pytest.approx(np.mean([r["test_r2"] for r in found]))


def _seed_kwargs(settings: dict, split) -> dict:
    trainer = loop.Trainer(
        net=nn.Network.from_config(regression_config(1)),
        X_train=split.X_train,
        y_train=split.y_train,
        X_val=split.X_val,
        y_val=split.y_val,
        settings=settings,
    )
    kwargs = loop.train_kwargs(trainer)
    kwargs.pop("seed")
    return kwargs


def test_comparison_charts_plot_r2_on_a_bounded_axis():
    history = [
        {"epoch": 1, "train_loss": 3.0, "val_loss": 3.0, "train_r2": -4.0, "val_r2": -5.0},
        {"epoch": 2, "train_loss": 0.2, "val_loss": 0.3, "train_r2": 0.6, "val_r2": 0.5},
    ]
    fig = comparison.run_comparison_figure([("a", history)], "r2")
    assert [list(t.y) for t in fig.data] == [[-4.0, 0.6], [-5.0, 0.5]]
    assert fig.layout.yaxis.range == (comparison.R2_FLOOR - 0.02, 1.02)
    assert fig.layout.yaxis.title.text == "R²"
    good = [{**r, "train_r2": 0.5, "val_r2": 0.4} for r in history]
    assert comparison.run_comparison_figure([("a", good)], "r2").layout.yaxis.range == (
        -0.02,
        1.02,
    )
    band = comparison.seed_band_figure([history, good], "r2")
    assert list(band.data[2].y) == [pytest.approx(-1.75), pytest.approx(0.55)]
    with pytest.raises(ValueError, match="metric must be one of"):
        comparison.run_comparison_figure([("a", history)], "mae")


def test_a_sentence_when_runs_of_both_tasks_are_kept():
    assert comparison.task_note({"classification": 2, "regression": 0}, "classification") is None
    note = comparison.task_note({"classification": 1, "regression": 3}, "regression")
    assert note == (
        "Accuracy and R² measure different things, so runs are compared with runs of the same "
        "task: the 3 regression runs here; pick the other task above for the 1 classification "
        "run."
    )
