"""nn.recipe for a number to predict: the standalone script repeats the engine's regression run.

The zip of a regression run holds the target's numbers; the script standardizes them with the
training rows' mean and standard deviation (nn.task.TargetScaler), trains with squared error or
Huber, and reports the loss and R^2 per epoch and R^2, MAE and RMSE on the test rows: each equal
to the engine's to rounding, on diabetes (numbers), the sine (one feature) and the cars table
(categories, gaps and a numeric target).
"""

import copy
import csv
import functools
import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import nn
from dashboard import state
from dashboard.share import bundle
from nn import losses, metrics, recipe
from nn.task import TargetScaler
from tests.test_advice import finish_on_train_page
from tests.test_app_defaults import choose
from tests.test_app_share import run_recipe
from tests.test_recipe import TABLES, run_script

script = recipe.script
TOL = 1e-8  # as the classification recipe tests (tests/test_recipe.py)


@functools.cache
def dataset(name: str) -> nn.data.Dataset:
    if name == "cars":
        return nn.data.load_table(
            (TABLES / "cars.csv").read_bytes(), target="mpg", roles={"model": "skip"}
        )
    return nn.data.load_dataset(name)


def regression_settings(ds, loss: str, early_stopping: bool, **training) -> dict:
    """The app's regression defaults (the modern preset for a number) sized for ``ds``."""
    settings = nn.presets.for_task(nn.presets.MODERN, "regression")
    n_inputs = nn.data.split(ds, standardize=True).preprocessor.n_inputs
    settings["network"].update(layers=[n_inputs, 12, 8, 1], loss=loss, seed=4)
    run = {"epochs": 60, "early_stopping": early_stopping, "patience": 4, "seed": 2}
    settings["training"].update({**run, **training})
    return settings


def regression_zip(settings: dict, ds) -> bytes:
    """The recipe of ``ds``, as the app's share box makes it (dashboard.share.bundle)."""
    return recipe.recipe_zip(
        settings,
        ds.table() if ds.is_table else ds.X,
        ds.y,
        ds.feature_names,
        ds.class_names,
        target=ds.target,
        **({"kinds": ds.feature_kinds(), "fill": ds.fill} if ds.is_table else {}),
    )


def run_engine(settings: dict, ds):
    """What the app does with these settings: nn.data.split, then build and train (a
    divergence ends the run, as in the app). Returns the network, the split and the epoch the
    engine diverged at (None)."""
    s = json.loads(recipe.make_recipe(settings)[1])
    sp, tr = s["split"], dict(s["training"])
    parts = nn.data.split(
        ds,
        test_size=sp["test_size"],
        val_size=sp["val_size"],
        seed=sp["seed"],
        stratify=sp["stratify"],
        standardize=sp["standardize"],
    )
    net = nn.Network.from_config(s["network"])
    epochs = tr.pop("epochs")
    val = (parts.X_val, parts.y_val) if len(parts.y_val) else None
    diverged_at = None
    try:
        net.fit(parts.X_train, parts.y_train, epochs=epochs, validation_data=val, **tr)
    except nn.DivergenceError as exc:
        diverged_at = exc.epoch
    return net, parts, diverged_at


def assert_same_regression_run(result: dict, net, parts, tol: float = TOL):
    """The script's history, weights, target scale and test figures are the engine's."""
    assert len(result["history"]) == net.epochs_trained
    for mine, theirs in zip(result["history"], net.history, strict=True):
        theirs = theirs.as_dict()
        assert theirs["train_accuracy"] is None and "train_accuracy" not in mine
        assert mine["epoch"] == theirs["epoch"]
        for key in ("train_loss", "val_loss", "train_r2", "val_r2"):
            if theirs[key] is None:
                assert mine[key] is None
            else:
                assert mine[key] == pytest.approx(theirs[key], rel=tol, abs=tol), key
    for mine, theirs in zip(result["weights"], net.get_weights(), strict=True):
        np.testing.assert_allclose(np.array(mine), theirs, rtol=0, atol=tol)
    assert result["target_scale"] == net.target_scaler.to_dict()
    test = net.evaluate(parts.X_test, parts.y_test)
    assert result["test"].keys() == test.keys() == {"loss", "r2", "mae", "rmse"}
    for key, value in test.items():
        assert result["test"][key] == pytest.approx(value, rel=tol, abs=tol), key
    assert result["stopped_early"] == net.stopped_early


CASES = {
    "diabetes": {},
    "sine": {"learning_rate": 0.02, "batch_size": 8},
    "cars": {"learning_rate": 0.005},
}


def regression_run(tmp_root, name: str, loss: str, early_stopping: bool):
    """The run in the script (from its zip) and in the engine."""
    ds = dataset(name)
    settings = regression_settings(ds, loss, early_stopping, **CASES[name])
    folder = tmp_root / f"{name}-{loss}-{early_stopping}"
    folder.mkdir()
    zipfile.ZipFile(io.BytesIO(regression_zip(settings, ds))).extractall(folder)
    result, out = run_script(folder, "--log-every", "10")
    net, parts, diverged_at = run_engine(settings, ds)
    assert diverged_at is None
    return result, out, net, parts


@pytest.fixture(scope="module")
def tmp_root(tmp_path_factory):
    return tmp_path_factory.mktemp("regression-recipes")


@pytest.mark.parametrize("early_stopping", [False, True], ids=["all-epochs", "early-stopping"])
@pytest.mark.parametrize("loss", ["squared_error", "huber"])
@pytest.mark.parametrize("name", list(CASES))
def test_the_script_repeats_a_regression_run(tmp_root, name, loss, early_stopping):
    result, out, net, parts = regression_run(tmp_root, name, loss, early_stopping)
    assert_same_regression_run(result, net, parts)
    first, last = result["history"][0], result["history"][-1]
    assert last["train_r2"] > first["train_r2"] + 0.3  # it trains: the fit improves
    if early_stopping:
        assert result["stopped_early"]  # patience 4 of 60 epochs: the stop is exercised
    else:
        assert len(result["history"]) == 60
    # What it prints: the target's scale, loss and R^2 every 10 epochs, the test figures.
    mean, scale = net.target_scaler.mean[0], net.target_scaler.scale[0]
    target = dataset(name).target
    assert f"Target {target!r} standardized with the training rows' mean {mean} and " in out
    assert f"standard deviation {scale}" in out
    assert out.count("Training loss: ") == len(result["history"]) // 10
    assert f"Testing R^2: {result['test']['r2']}" in out
    assert f"Testing MAE: {result['test']['mae']} (in the units of {target!r})" in out
    assert "Accuracy" not in out


def test_the_cases_are_what_they_claim():
    """diabetes is a table of numbers, the sine has one feature, cars has categories and gaps
    in its features and a numeric target with fractions."""
    diabetes, sine, cars = (dataset(n) for n in CASES)
    assert all(d.is_regression and d.class_names == [] for d in (diabetes, sine, cars))
    assert not diabetes.is_table and diabetes.X.shape == (442, 10)
    assert sine.X.shape[1] == 1 and not sine.is_table
    assert cars.is_table and "categorical" in cars.kinds and np.isnan(cars.X).any()
    assert cars.target == "mpg" and not np.all(cars.y == np.round(cars.y))
    assert "model" not in cars.feature_names


def test_a_float32_sigmoid_output_with_huber_is_repeated(tmp_path):
    """The other output a regression network may have, in single precision."""
    ds = dataset("sine")
    settings = regression_settings(ds, "huber", False, epochs=25, learning_rate=0.01)
    settings["network"].update(output_activation="sigmoid", activation="tanh", dtype="float32")
    settings["split"]["val_size"] = 0.0
    zipfile.ZipFile(io.BytesIO(regression_zip(settings, ds))).extractall(tmp_path)
    result, _ = run_script(tmp_path, "--log-every", "0")
    net, parts, _ = run_engine(settings, ds)
    assert result["history"][0]["val_loss"] is None and result["history"][0]["val_r2"] is None
    assert_same_regression_run(result, net, parts, tol=1e-5)


def test_a_diverging_regression_run_ends_where_the_engines_does(tmp_path):
    ds = dataset("diabetes")
    settings = regression_settings(ds, "squared_error", False, epochs=30)
    settings["network"].update(layers=[10, 16, 1], activation="relu")
    settings["training"].update(optimizer="sgd", learning_rate=5.0, batch_size=1)
    settings["split"]["standardize"] = False  # raw measurements: the steps blow up
    zipfile.ZipFile(io.BytesIO(regression_zip(settings, ds))).extractall(tmp_path)
    done = subprocess.run(
        [sys.executable, recipe.SCRIPT_NAME, "--out", "out.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1 and "training diverged at epoch" in done.stdout
    result = json.loads((tmp_path / "out.json").read_text())
    net, parts, diverged_at = run_engine(settings, ds)
    assert result["diverged"] and diverged_at == len(result["history"]) + 1
    assert_same_regression_run(result, net, parts)


# ---- the settings and the data file ----


def test_the_settings_of_a_regression_run():
    settings = regression_settings(dataset("diabetes"), "squared_error", True)
    settings["split"]["stratify"] = True  # the app's choice for classes: never for a number
    ds = dataset("diabetes")
    data = recipe.data_settings(ds.feature_names, [], task="regression", target=ds.target)
    saved = json.loads(recipe.make_recipe({**settings, "data": data})[1])
    assert saved["network"]["task"] == "regression"
    assert saved["network"]["output_activation"] == "linear"
    assert saved["split"]["stratify"] is False
    assert saved["data"] == {
        "file": "data.csv",
        "target": "progression",
        "feature_names": ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"],
    }
    cars = dataset("cars")
    data = recipe.data_settings(
        cars.feature_names, [], cars.feature_kinds(), cars.fill, task="regression", target="mpg"
    )
    assert data["target"] == "mpg" and "class_names" not in data
    assert [c["name"] for c in data["columns"]] == cars.feature_names
    # A target named like a feature gets a free name, as the class column does.
    taken = recipe.data_settings(["y", "target"], [], task="regression", target="y")
    assert taken["target"] == "target_2"
    # A classification table keeps what it always had.
    assert recipe.data_settings(["a"], ["x", "y"], target="ignored")["target"] == "class"


def test_the_target_is_written_with_every_digit_and_read_back(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = rng.normal(size=30) * np.pi * 1e-7 + 1e6
    y[:4] = [-0.0, 1e300, -2.5e-300, 0.1]
    text, target = recipe.data_csv(X, y, ["a", "-b"], [], "y", task="regression")
    rows = list(csv.reader(io.StringIO(text)))
    assert target == "y" and rows[0] == ["a", "'-b", "y"]  # the lab's one CSV rule
    assert [r[-1] for r in rows[1:5]] == ["-0.0", "1e+300", "-2.5e-300", "0.1"]
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    data = {"target": "y", "feature_names": ["a", "-b"]}
    X_back, y_back = script.read_data(path, data, regression=True)
    np.testing.assert_array_equal(X_back, X)
    np.testing.assert_array_equal(y_back, y)
    assert y_back.dtype == np.float64


def test_a_target_name_from_the_data_stays_data(tmp_path):
    """A hostile target name travels as CSV and JSON text and is printed escaped."""
    name = '=cost, "net"\x1b[2J'
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(40, 1)), rng.normal(size=40)
    settings = {
        "network": regression_network(layers=[1, 3, 1]),
        "training": {"epochs": 3, "learning_rate": 0.05},
        "split": {"test_size": 0.25, "val_size": 0.2},
    }
    bundle_zip = recipe.recipe_zip(settings, X, y, ["x"], [], target=name)
    zipfile.ZipFile(io.BytesIO(bundle_zip)).extractall(tmp_path)
    assert (tmp_path / recipe.SCRIPT_NAME).read_text() == recipe.SCRIPT
    saved = json.loads((tmp_path / recipe.SETTINGS_NAME).read_text())
    assert saved["data"]["target"] == name
    with open(tmp_path / recipe.DATA_NAME, newline="") as fh:
        assert next(csv.reader(fh)) == ["x", "'" + name]  # no formula for a spreadsheet
    result, out = run_script(tmp_path, "--log-every", "1")
    assert "\x1b" not in out and repr(name) in out
    assert len(result["history"]) == 3 and result["test"].keys() == {"loss", "r2", "mae", "rmse"}


@pytest.mark.parametrize(
    ("y", "class_names", "message"),
    [
        ([0.5, np.nan], [], "missing or infinite"),
        ([0.5, np.inf], [], "missing or infinite"),
        ([0.5, 1.5], ["a", "b"], "no class names"),
    ],
)
def test_data_csv_refuses_a_target_it_cannot_write(y, class_names, message):
    with pytest.raises(ValueError, match=message):
        recipe.data_csv(np.zeros((2, 1)), y, ["x"], class_names, task="regression")


def regression_network(**changes) -> dict:
    return {"layers": [2, 4, 1], "task": "regression", **changes}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"network": regression_network(), "data": {"class_names": ["a", "b"]}},
            "a regression network predicts a number, not classes",
        ),
        (
            {"network": regression_network(layers=[2, 4, 2]), "data": {}},
            "one target column, but the regression network has 2 outputs",
        ),
        (
            {"network": regression_network(output_activation="softmax"), "data": {}},
            "a regression network needs a linear or sigmoid output",
        ),
        (
            {"network": regression_network(loss="cross_entropy"), "data": {}},
            "cross_entropy is not a regression loss",
        ),
        (
            {"network": {"layers": [2, 3], "loss": "huber"}, "data": {}},
            "huber is not a classification loss",
        ),
    ],
)
def test_make_recipe_rejects_regression_settings_that_do_not_fit(settings, message):
    settings = {"training": {}, "split": {}, **settings}
    with pytest.raises(ValueError, match=message):
        recipe.make_recipe(settings)


def test_classification_settings_without_class_names_stay_valid():
    saved = json.loads(recipe.make_recipe(copy.deepcopy(nn.presets.ARTICLE))[1])
    assert "class_names" not in saved["data"] and "task" not in saved["network"]
    with pytest.raises(ValueError, match="no class names"):
        recipe.data_settings(["a"], ["x", "y"], task="regression", target="t")


# ---- the script's pieces against the engine's ----


@pytest.mark.parametrize(
    "y",
    [
        np.random.default_rng(1).normal(50.0, 20.0, size=(97,)),
        np.full(12, 3.7),  # a constant target: centred only
        np.r_[np.full(40, 0.1), np.nextafter(0.1, 1.0)],  # constant but for rounding
        np.array([5.0]),
    ],
    ids=["spread", "constant", "rounding", "one-row"],
)
def test_the_target_scale_is_the_engines(y):
    mean, scale = script.fit_target_scale(y)
    theirs = TargetScaler.fit(y)
    np.testing.assert_array_equal(mean, theirs.mean)
    np.testing.assert_array_equal(scale, theirs.scale)
    for dtype in (np.float64, np.float32):
        Y = script.targets(y, 1, dtype, (mean, scale))
        assert Y.shape == (len(y), 1) and Y.dtype == dtype
        regression = nn.task.get("regression")
        np.testing.assert_array_equal(Y, regression.encode(y, len(y), 1, dtype, theirs))


@pytest.mark.parametrize("output", ["linear", "sigmoid"])
@pytest.mark.parametrize("loss", ["squared_error", "huber"])
def test_the_script_loss_and_gradients_are_the_engines(output, loss):
    """Huber's value and gradient on residuals on both sides of its delta, with L2."""
    rng = np.random.default_rng(7)
    config = regression_network(layers=[3, 5, 1], output_activation=output, loss=loss)
    net = nn.Network.from_config({**config, "activation": "tanh", "seed": 3})
    X = rng.normal(size=(40, 3))
    Y = rng.normal(size=(40, 1)) * 3.0  # many residuals beyond the delta
    if loss == "huber":
        P = net.predict_proba(X)
        assert np.mean(np.abs(P - Y) > losses.HUBER_DELTA) > 0.3
    theirs_loss, theirs_grads = net.loss_and_gradients(X, Y, l2=0.01)
    layers = [np.vstack([W, b]) for W, b in zip(*[iter(net.get_weights())] * 2, strict=True)]
    names = script.layer_names(net.config)
    _, Z, P = script.forward(layers, names, X)
    mine_loss = script.mean_loss(loss, output, P, Y, Z) + net.penalty(0.01)
    assert mine_loss == pytest.approx(theirs_loss, rel=1e-12)
    mine = script.gradients(layers, names, loss, X, Y, 0.01)
    for Wb, (gW, gb) in zip(mine, zip(*[iter(theirs_grads)] * 2, strict=True), strict=True):
        np.testing.assert_allclose(Wb[:-1], gW, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(Wb[-1], gb, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("columns", [1, 3])
def test_the_script_r2_is_the_engines(columns):
    rng = np.random.default_rng(columns)
    Y = rng.normal(size=(25, columns))
    P = Y + rng.normal(size=Y.shape) * 0.5
    assert script.r2_score(Y, P) == metrics.r2_score(Y, P)
    flat = np.full((6, columns), 2.0)  # no spread: 1 when predicted exactly, else 0
    assert script.r2_score(flat, flat) == metrics.r2_score(flat, flat) == 1.0
    assert script.r2_score(flat, flat + 1) == metrics.r2_score(flat, flat + 1) == 0.0


# ---- the app's own run ----


def test_the_app_offers_the_recipe_of_a_sine_run_and_its_zip_repeats_it(app, tmp_path):
    at = choose(app("pages/1_Data.py"), "sine")
    finish_on_train_page(at, 15)
    assert not at.exception
    trainer, split = at.session_state[state.TRAINER], at.session_state[state.SPLIT]
    assert trainer.net.task == "regression" and trainer.epochs_trained > 0
    assert "Download the recipe (.zip)" in {b.proto.label for b in at.get("download_button")}
    assert not any("no recipe" in c.value for c in at.caption)
    settings = bundle.recipe_settings(trainer, at.session_state[state.SPLIT_SETTINGS])
    result = run_recipe(tmp_path, bundle.recipe_zip(settings, at.session_state[state.DATASET]))
    history = trainer.net.history
    assert len(result["history"]) == len(history)
    for mine, theirs in zip(result["history"], history, strict=True):
        for key in ("train_loss", "val_loss", "train_r2", "val_r2"):
            expected = getattr(theirs, key)
            assert mine[key] == pytest.approx(expected, rel=1e-9, abs=1e-12), key
    assert result["target_scale"] == trainer.net.target_scaler.to_dict()
    test = trainer.net.evaluate(split.X_test, split.y_test)
    for key in ("loss", "r2", "mae", "rmse"):
        assert result["test"][key] == pytest.approx(test[key], rel=1e-9, abs=1e-12), key
    assert result["stopped_early"] == trainer.net.stopped_early
    # The Compare page shows the same settings, with the target's name and no classes.
    at.switch_page("pages/6_Compare.py").run()
    assert not at.exception
    shown = [json.loads(c.value) for c in at.code if c.value.lstrip().startswith("{")]
    assert len(shown) == 1
    assert shown[0]["network"]["task"] == "regression"
    assert shown[0]["data"] == {"file": "data.csv", "target": "y", "feature_names": ["x"]}
