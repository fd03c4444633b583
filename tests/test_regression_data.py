"""Regression in the data layer and the CLI: the task a target suggests, numeric targets read
from tables, the bundled and synthetic regression sets, splits, leaks, the CLI's log and JSON,
and quality against scikit-learn on a car-like table and the 1-D curve."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from nn import cli, columns, data, presets
from nn.network import Network
from tests.conftest import ROOT

CARS = ROOT / "tests" / "data" / "tables" / "cars.csv"
rng = np.random.default_rng(11)


def csv(**cols) -> bytes:
    return pd.DataFrame(cols).to_csv(index=False).encode()


@pytest.mark.parametrize(
    ("values", "task", "words"),
    [
        (["a", "b", "a", "c"], "classification", "text labels"),
        ([0, 1, 1, 0, 1], "classification", "2 different whole numbers"),
        ([1.5, 2.0, 3.25, 1.5], "regression", "fractions"),
        (list(range(25)) * 2, "regression", "25 different numbers"),
        (list(range(20)) * 2, "classification", "20 different whole numbers"),
        ([True, False, True], "classification", "text labels"),
        (["1.5", "2", None, "7.25"], "regression", "fractions"),
    ],
)
def test_the_task_a_target_suggests(values, task, words):
    got, why = columns.default_task(pd.Series(values))
    assert got == task and words in why


def test_a_numeric_target_is_read_as_a_number_to_predict():
    ds = data.load_table(CARS, target="mpg")
    assert ds.task == "regression" and ds.is_regression and ds.n_outputs == 1
    assert ds.y.dtype == np.float64 and ds.class_names == [] and ds.target == "mpg"
    frame = pd.read_csv(CARS)
    np.testing.assert_array_equal(np.sort(ds.y), np.sort(frame["mpg"].to_numpy()))
    assert "mpg is a number to predict (regression): it holds numbers with fractions." in ds.notes
    assert "model" not in ds.feature_names and "maker" in ds.feature_names
    assert ds.names()["task"] == "regression" and ds.names()["target"] == "mpg"
    assert ds.frame()["mpg"].dtype == np.float64
    assert "target 'mpg'" in repr(ds)


def test_the_task_can_be_forced_either_way_when_it_can_work():
    content = csv(x=rng.normal(size=60), level=rng.integers(1, 4, 60).astype(float))
    assert data.load_table(content, target="level").task == "classification"
    forced = data.load_table(content, target="level", task="regression")
    assert forced.task == "regression" and set(forced.y) <= {1.0, 2.0, 3.0}
    with pytest.raises(ValueError, match="fewer rows than two per class"):
        data.load_table(CARS, target="mpg", task="classification")  # 127 values in 398 rows
    with pytest.raises(ValueError, match="holds text, not numbers"):
        data.load_table(CARS, target="origin", task="regression")
    with pytest.raises(ValueError, match="task must be one of"):
        data.load_table(CARS, target="mpg", task="guess")


def test_text_in_a_numeric_target_drops_those_rows_with_a_note():
    y = rng.normal(size=60).round(3).astype(object)
    y[[3, 9]] = "unknown"
    ds = data.load_table(csv(x=rng.normal(size=60), z=rng.normal(size=60), y=y), target="y")
    assert ds.task == "regression" and len(ds.y) == 58
    notes = " ".join(ds.notes)
    assert "2 value(s) of y are not numbers" in notes and "2 row(s) without a value" in notes


def test_a_long_numeric_file_is_sampled_without_strata():
    n = 400
    content = csv(a=rng.normal(size=n), b=rng.normal(size=n), y=rng.normal(size=n))
    ds = data.load_table(content, target="y", max_rows=100, seed=3)
    assert len(ds.y) == 100 and ds.y.dtype == np.float64
    assert any("random sample of 100 (seed 3)" in note for note in ds.notes)


@pytest.mark.parametrize(
    ("name", "features"), [("diabetes", 10), ("sine", 1), ("plane", 2), ("bump", 2)]
)
def test_the_regression_sets(name, features):
    ds = data.load_dataset(name, n_samples=200, noise=0.2, seed=4)
    assert ds.task == "regression" and ds.X.shape[1] == features
    assert ds.y.dtype == np.float64 and np.all(np.isfinite(ds.y)) and ds.class_names == []
    parts = data.split(ds, stratify=True, standardize=True)  # stratify is ignored: no classes
    assert sum(parts.sizes.values()) == len(ds.y)
    np.testing.assert_allclose(parts.X_train.mean(axis=0), 0, atol=1e-12)
    if name != "diabetes":
        again = data.load_dataset(name, n_samples=200, noise=0.2, seed=4)
        np.testing.assert_array_equal(again.y, ds.y)
        quiet = data.load_dataset(name, n_samples=200, noise=0.0, seed=4)
        assert np.std(quiet.y - ds.y) > 0  # the noise is there, and only with noise > 0
        assert len(ds.y) == 200


def test_diabetes_is_in_its_own_units():
    ds = data.load_dataset("diabetes")
    assert ds.X.shape == (442, 10) and ds.target == "progression"
    assert 19 <= ds.X[:, ds.feature_names.index("age")].min() < 30  # years, not scaled
    assert ds.y.min() >= 25 and ds.y.max() <= 346


def test_a_column_that_is_the_number_in_other_units_is_flagged_and_nothing_else():
    n = 200
    price = rng.uniform(10, 100, n)
    frame = pd.DataFrame(
        {
            "size": price / 3 + rng.normal(0, 8, n),
            "colour": rng.choice(["red", "blue"], n),
            "price_cents": price * 100,
        }
    )
    kinds = {"size": "numeric", "colour": "categorical", "price_cents": "numeric"}
    found = columns.leaks(frame, price, kinds)
    assert [leak.column for leak in found] == ["price_cents"]
    assert found[0].metric == "r2" and found[0].accuracy > 0.99
    assert found[0].sentence().startswith("price_cents alone explains")
    diabetes = data.load_dataset("diabetes")
    table = pd.DataFrame(diabetes.X, columns=diabetes.feature_names)
    assert columns.leaks(table, diabetes.y, dict.fromkeys(diabetes.feature_names, "numeric")) == []
    sine = data.load_dataset("sine", noise=0.0)
    assert columns.leaks(pd.DataFrame({"x": sine.X[:, 0]}), sine.y, {"x": "numeric"}) == []


def test_presets_suit_the_task():
    reg = presets.for_task(presets.MODERN, "regression")
    assert reg["network"]["task"] == "regression"
    assert (reg["network"]["output_activation"], reg["network"]["loss"]) == (
        "linear",
        "squared_error",
    )
    assert reg["network"]["layers"][-1] == 1 and reg["split"]["stratify"] is False
    assert reg["training"]["early_stopping"] is True
    assert presets.for_task(presets.MODERN, "classification") == presets.MODERN
    assert presets.MODERN["network"]["output_activation"] == "softmax"  # not changed in place
    Network.from_config({**reg["network"], "layers": [3, 8, 1]})  # a valid config


def run(args, capsys) -> dict:
    assert cli.main(args) == 0
    out, _ = capsys.readouterr()
    return out, json.loads(out.strip().splitlines()[-1])


def test_the_cli_fits_a_number_and_reports_it_in_the_targets_units(capsys):
    args = ["train", "--data", str(CARS), "--target", "mpg", "--preset", "modern", "--json"]
    out, facts = run([*args, "--epochs", "30"], capsys)
    assert facts["task"] == "regression" and set(facts["test"]) == {"loss", "r2", "mae", "rmse"}
    assert "Training Loss:" in out and "R^2:" in out and "(mpg units)" in out
    assert 0 < facts["test"]["mae"] < 10 and facts["test"]["r2"] > 0.5
    assert "Testing Accuracy" not in out
    out, facts = run(["train", "--dataset", "sine", "--preset", "modern", "--json"], capsys)
    assert facts["task"] == "regression" and facts["features"] == ["x"]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--dataset", "sine", "--task", "regression"], "--task applies to --data"),
        (["--data", str(CARS), "--target", "origin", "--task", "regression"], "holds text"),
        (["--data", str(CARS), "--target", "mpg", "--loss", "cross_entropy"], "not a regression"),
    ],
)
def test_the_cli_refuses_a_task_that_cannot_work(extra, words, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", *extra, "--epochs", "1"])
    assert info.value.code == 2
    assert words in capsys.readouterr().err


def trained(ds, seed: int, epochs: int = 100):
    """A network with the modern preset, suited to regression, trained on ``ds``."""
    s = presets.for_task(presets.MODERN, "regression")
    parts = data.split(ds, seed=seed, **s["split"])
    s["network"]["layers"] = [parts.X_train.shape[1], 16, 16, 1]
    net = Network.from_config({**s["network"], "seed": seed})
    training = {**s["training"], "epochs": epochs}
    epochs = training.pop("epochs")
    net.fit(
        parts.X_train,
        parts.y_train,
        epochs=epochs,
        validation_data=(parts.X_val, parts.y_val),
        seed=seed,
        **training,
    )
    return net, parts


def test_the_curve_is_fitted_with_the_modern_preset():
    scores = []
    for seed in range(3):
        net, parts = trained(data.load_dataset("sine", seed=seed), seed)
        scores.append(net.evaluate(parts.X_test, parts.y_test)["r2"])
    assert np.median(scores) >= 0.95, scores


def test_a_car_like_table_reaches_scikit_learns_r2_on_the_same_split():
    from sklearn.neural_network import MLPRegressor

    ds = data.load_table(CARS, target="mpg")
    ours, theirs = [], []
    for seed in range(5):
        net, parts = trained(ds, seed)
        ours.append(net.evaluate(parts.X_test, parts.y_test)["r2"])
        mean, scale = parts.y_train.mean(), parts.y_train.std()
        model = MLPRegressor(
            hidden_layer_sizes=(16, 16),
            learning_rate_init=0.01,
            batch_size=16,
            max_iter=100,
            early_stopping=True,
            validation_fraction=0.1,
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(
                np.vstack([parts.X_train, parts.X_val]),
                (np.r_[parts.y_train, parts.y_val] - mean) / scale,
            )
        predicted = model.predict(parts.X_test) * scale + mean
        theirs.append(
            1
            - np.sum((predicted - parts.y_test) ** 2)
            / np.sum((parts.y_test - parts.y_test.mean()) ** 2)
        )
    assert np.median(ours) >= np.median(theirs) - 0.05, (ours, theirs)
