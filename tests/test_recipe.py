"""nn.recipe: the standalone script reproduces the engine's run from the settings and the data."""

import ast
import copy
import csv
import functools
import io
import json
import math
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits, load_iris, load_wine

import nn
from nn import losses, preprocess, recipe
from tests.conftest import ROOT

TABLES = ROOT / "tests" / "data" / "tables"


@pytest.fixture(scope="module")
def iris():
    data = load_iris()
    return data.data, data.target, list(data.feature_names), [str(c) for c in data.target_names]


@pytest.fixture(scope="module")
def script_module():
    """The script imported as a module (``nn/recipe/script.py``), to call its parts directly."""
    return recipe.script


def write_bundle(folder, settings, X, y, feature_names, class_names):
    data = zipfile.ZipFile(
        io.BytesIO(recipe.recipe_zip(settings, X, y, feature_names, class_names))
    )
    assert sorted(data.namelist()) == sorted(
        [recipe.SCRIPT_NAME, recipe.SETTINGS_NAME, recipe.DATA_NAME]
    )
    data.extractall(folder)


def run_script(folder, *args):
    done = subprocess.run(
        [sys.executable, recipe.SCRIPT_NAME, "--out", "results.json", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads((folder / "results.json").read_text()), done.stdout


def run_engine(settings, *data):
    """What the app does with these settings on ``X, y`` or a ``Dataset``: nn.data.split, then
    build and fit."""
    s = json.loads(recipe.make_recipe(settings)[1])
    sp, tr = s["split"], dict(s["training"])
    parts = nn.data.split(
        data[0] if len(data) == 1 else tuple(data),
        test_size=sp["test_size"],
        val_size=sp["val_size"],
        seed=sp["seed"],
        stratify=sp["stratify"],
        standardize=sp["standardize"],
        engineered=sp["engineered"],
    )
    net = nn.Network.from_config(s["network"])
    epochs = tr.pop("epochs")
    val = (parts.X_val, parts.y_val) if len(parts.y_val) else None
    net.fit(parts.X_train, parts.y_train, epochs=epochs, validation_data=val, **tr)
    return net, parts


def assert_same_run(result, net, parts, tol=1e-8):
    assert len(result["history"]) == net.epochs_trained
    for mine, theirs in zip(result["history"], net.history, strict=True):
        assert mine["epoch"] == theirs.epoch
        for key in ("train_loss", "val_loss"):
            if theirs.as_dict()[key] is None:
                assert mine[key] is None
            else:
                assert mine[key] == pytest.approx(theirs.as_dict()[key], rel=tol, abs=tol)
        assert mine["train_accuracy"] == theirs.train_accuracy
        assert mine["val_accuracy"] == theirs.val_accuracy
        assert mine["learning_rate"] == theirs.learning_rate  # the very float, every epoch
    for mine, theirs in zip(result["weights"], net.get_weights(), strict=True):
        np.testing.assert_allclose(np.array(mine), theirs, rtol=0, atol=tol)
    test = net.evaluate(parts.X_test, parts.y_test)
    assert result["test"]["accuracy"] == test["accuracy"]
    assert result["test"]["loss"] == pytest.approx(test["loss"], rel=tol)
    assert result["stopped_early"] == net.stopped_early


def test_article_run_is_reproduced(tmp_path, iris):
    settings = copy.deepcopy(nn.presets.ARTICLE)
    write_bundle(tmp_path, settings, *iris)
    result, out = run_script(tmp_path)
    net, parts = run_engine(settings, *iris[:2])
    assert_same_run(result, net, parts)
    assert len(result["history"]) == 100
    assert result["history"][-1]["train_loss"] < 0.5 * result["history"][0]["train_loss"]
    # The article's log: every 20 epochs, then the test accuracy.
    assert out.count("Training Accuracy:") == 5 and out.count("Validation Accuracy:") == 5
    assert "114 training, 13 validation, 23 test rows" in out
    assert f"Testing Accuracy: {result['test']['accuracy']}" in out


def test_modern_adam_minibatch_run_is_reproduced(tmp_path, iris):
    settings = copy.deepcopy(nn.presets.MODERN)
    settings["training"]["epochs"] = 40
    settings["split"]["seed"] = 3
    assert settings["split"]["stratify"] and settings["split"]["standardize"]
    assert settings["training"]["shuffle"] and settings["training"]["batch_size"] == 16
    write_bundle(tmp_path, settings, *iris)
    result, _ = run_script(tmp_path, "--log-every", "0")
    net, parts = run_engine(settings, *iris[:2])
    assert_same_run(result, net, parts)
    assert result["test"]["accuracy"] > 0.8


def test_momentum_l2_and_early_stopping_are_reproduced(tmp_path):
    digits = load_digits()
    settings = {
        "network": {
            "layers": [64, 24, 10],
            "activation": "leaky_relu",
            "output_activation": "softmax",
            "loss": "cross_entropy",
            "init": "xavier",
            "seed": 11,
        },
        "training": {
            "epochs": 40,
            "learning_rate": 0.05,
            "batch_size": 32,
            "optimizer": "momentum",
            "nesterov": True,
            "shuffle": True,
            "l2": 0.01,
            "early_stopping": True,
            "patience": 2,
            "pace": "watch",  # app-only settings are dropped
        },
        "split": {"test_size": 0.2, "val_size": 0.2, "seed": 4, "standardize": True},
    }
    names = [str(f) for f in digits.feature_names]
    write_bundle(tmp_path, settings, digits.data, digits.target, names, list("0123456789"))
    result, _ = run_script(tmp_path, "--log-every", "0")
    net, parts = run_engine(settings, digits.data, digits.target)
    assert net.stopped_early and result["stopped_early"]
    assert_same_run(result, net, parts)


def test_single_sigmoid_output_and_tanh_squared_error_are_reproduced(tmp_path, iris):
    X, y, features, _ = iris
    keep = y < 2
    settings = {
        "network": {
            "layers": [4, 3, 1],
            "activation": "tanh",
            "output_activation": "sigmoid",
            "loss": "cross_entropy",
            "seed": 2,
        },
        "training": {"epochs": 15, "learning_rate": 0.1, "batch_size": 5, "seed": 9},
        "split": {"test_size": 0.3, "val_size": 0.0, "seed": 1, "stratify": True},
    }
    write_bundle(tmp_path, settings, X[keep], y[keep], features, ["setosa", "versicolor"])
    result, _ = run_script(tmp_path, "--log-every", "0")
    net, parts = run_engine(settings, X[keep], y[keep])
    assert result["history"][0]["val_loss"] is None
    assert_same_run(result, net, parts)


def test_the_training_options_are_reproduced(tmp_path, iris):
    """Schedule with warm-up, L1 beside L2, dropout per hidden layer and class weights, run by
    the script from the zip, equal the engine's run epoch by epoch."""
    X, y, features, classes = iris
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:12], np.flatnonzero(y == 2)]
    settings = {
        "network": {
            "layers": [4, 8, 6, 3],
            "activation": ["relu", "tanh"],
            "output_activation": "softmax",
            "loss": "cross_entropy",
            "init": "he",
            "seed": 21,
        },
        "training": {
            "epochs": 25,
            "learning_rate": 0.02,
            "batch_size": 8,
            "optimizer": "adam",
            "shuffle": True,
            "l2": 0.001,
            "l1": 0.0005,
            "dropout": "0.3,0.1",
            "class_weight": "balanced",
            "schedule": "cosine",
            "warmup": 3,
            "lr_min": 0.05,
            "seed": 4,
        },
        "split": {"test_size": 0.2, "val_size": 0.2, "seed": 2, "stratify": True},
    }
    write_bundle(tmp_path, settings, X[keep], y[keep], features, classes)
    result, _ = run_script(tmp_path, "--log-every", "0")
    net, parts = run_engine(settings, X[keep], y[keep])
    assert_same_run(result, net, parts)
    rates = [r["learning_rate"] for r in result["history"]]
    assert rates[:3] == [0.005, 0.01, 0.015] and rates[3] == 0.02 and rates[-1] < 0.005
    # the options acted: without them the same settings train another network
    plain = copy.deepcopy(settings)
    for key in ("l1", "dropout", "class_weight", "schedule", "warmup"):
        del plain["training"][key]
    other, _ = run_engine(plain, X[keep], y[keep])
    assert not np.allclose(other.get_weights()[0], net.get_weights()[0])


def test_a_step_schedule_with_early_stopping_and_a_sigmoid_output_is_reproduced(tmp_path, iris):
    X, y, features, _ = iris
    keep = y > 0
    settings = {
        "network": {
            "layers": [4, 5, 1],
            "activation": "sigmoid",
            "output_activation": "sigmoid",
            "loss": "cross_entropy",
            "seed": 8,
        },
        "training": {
            "epochs": 60,
            "learning_rate": 0.5,
            "batch_size": 4,
            "schedule": "step",
            "lr_step": 7,
            "lr_drop": 0.6,
            "dropout": "0.2",
            "class_weight": "1,2.5",
            "early_stopping": True,
            "patience": 4,
        },
        "split": {"test_size": 0.2, "val_size": 0.25, "seed": 6, "standardize": True},
    }
    y01 = y[keep] - 1
    write_bundle(tmp_path, settings, X[keep], y01, features, ["versicolor", "virginica"])
    result, _ = run_script(tmp_path, "--log-every", "0")
    net, parts = run_engine(settings, X[keep], y01)
    assert_same_run(result, net, parts)
    assert {r["learning_rate"] for r in result["history"][:7]} == {0.5}
    assert result["history"][7]["learning_rate"] == 0.3


def test_zero_epochs_reproduce_the_initial_weights(tmp_path, iris):
    for init in ("uniform", "xavier", "he"):
        settings = copy.deepcopy(nn.presets.ARTICLE)
        settings["network"].update(init=init, seed=123, layers=[4, 7, 2, 3])
        settings["training"]["epochs"] = 0
        write_bundle(tmp_path, settings, *iris)
        result, _ = run_script(tmp_path)
        net = nn.Network.from_config(settings["network"])
        for mine, theirs in zip(result["weights"], net.get_weights(), strict=True):
            np.testing.assert_array_equal(np.array(mine), theirs)
        assert result["history"] == []


@pytest.mark.parametrize("stratify", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 7, 42])
def test_script_split_equals_nn_data_split(script_module, stratify, seed):
    rng = np.random.default_rng(seed)
    # Imbalanced classes with tied remainders exercise the stratified rounding.
    y = np.repeat([0, 1, 2, 3], [40, 13, 13, 7])
    rng.shuffle(y)
    X = rng.normal(size=(len(y), 3))
    for test_size, val_size in ((0.15, 0.10), (0.3, 0.0), (0.25, 0.2)):
        mine = script_module.split(X, y, test_size, val_size, seed, stratify, True)
        parts = nn.data.split(
            (X, y), test_size, val_size, seed=seed, stratify=stratify, standardize=True
        )
        theirs = (
            parts.X_train,
            parts.y_train,
            parts.X_val,
            parts.y_val,
            parts.X_test,
            parts.y_test,
        )
        for a, b in zip(mine, theirs, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("standardize", [False, True])
@pytest.mark.parametrize("engineered", ["sin_x1,sin_x2", "x1_sq,x2_sq,x1_x2,sin_x1,sin_x2"])
def test_script_engineered_inputs_equal_nn_data_split(script_module, standardize, engineered):
    ds = nn.data.load_dataset("spirals", n_samples=120, noise=0.2, seed=3)
    names = engineered.split(",")
    mine = script_module.split(ds.X, ds.y, 0.2, 0.1, 5, True, standardize, names)
    parts = nn.data.split(
        ds, 0.2, 0.1, seed=5, stratify=True, standardize=standardize, engineered=engineered
    )
    assert parts.X_train.shape[1] == 2 + len(names)
    theirs = (parts.X_train, parts.y_train, parts.X_val, parts.y_val, parts.X_test, parts.y_test)
    for a, b in zip(mine, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_a_run_with_engineered_inputs_is_reproduced(tmp_path):
    ds = nn.data.load_dataset("spirals", n_samples=200, noise=0.1, seed=0)
    settings = {
        "network": {
            "layers": [4, 8, 2],
            "activation": "tanh",
            "output_activation": "softmax",
            "loss": "cross_entropy",
            "init": "xavier",
            "seed": 3,
        },
        "training": {"epochs": 20, "learning_rate": 0.03, "batch_size": 16,
                     "optimizer": "adam", "shuffle": True},
        "split": {"test_size": 0.2, "val_size": 0.1, "seed": 1, "stratify": True,
                  "standardize": True, "engineered": "sin_x1,sin_x2"},
    }  # fmt: skip
    write_bundle(tmp_path, settings, ds.X, ds.y, list(ds.feature_names), list(ds.class_names))
    result, _ = run_script(tmp_path, "--log-every", "0")
    net, parts = run_engine(settings, ds)
    assert parts.preprocessor.input_names() == ["x1", "x2", "sin(x1)", "sin(x2)"]
    assert_same_run(result, net, parts)


def test_the_zip_holds_the_script_file_verbatim(tmp_path, iris):
    write_bundle(tmp_path, nn.presets.ARTICLE, *iris)
    source = Path(recipe.script.__file__).read_bytes()
    assert (tmp_path / recipe.SCRIPT_NAME).read_bytes() == source
    assert recipe.make_recipe(nn.presets.ARTICLE)[0].encode("utf-8") == source


def test_script_uses_only_numpy_and_the_standard_library():
    tree = ast.parse(recipe.SCRIPT)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported == {"argparse", "csv", "itertools", "json", "math", "sys", "numpy"}


def test_names_from_the_data_stay_data(tmp_path, iris):
    """Hostile feature and class names travel as CSV/JSON text; the script is the same text."""
    X, y, _, _ = iris
    features = ['a,"b"', "x'); import os #", "@<script>", "class"]
    classes = ["setosa, the first", "'quoted", "=HYPERLINK(1)"]
    settings = copy.deepcopy(nn.presets.ARTICLE)
    settings["training"]["epochs"] = 3
    write_bundle(tmp_path, settings, X, y, features, classes)
    assert (tmp_path / recipe.SCRIPT_NAME).read_text() == recipe.SCRIPT
    saved = json.loads((tmp_path / recipe.SETTINGS_NAME).read_text())
    assert saved["data"]["feature_names"] == features
    assert saved["data"]["class_names"] == classes
    # data.csv follows the one CSV rule: no cell a spreadsheet would run as a formula
    with open(tmp_path / recipe.DATA_NAME, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ['a,"b"', "x'); import os #", "'@<script>", "class", "target"]
    assert {r[-1] for r in rows[1:]} == {"setosa, the first", "''quoted", "'=HYPERLINK(1)"}
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)
    assert saved["data"]["target"] == "target"  # "class" is taken by a feature
    result, _ = run_script(tmp_path)
    net, parts = run_engine(settings, X, y)
    assert_same_run(result, net, parts)


def test_data_csv_keeps_every_digit_and_reads_back_with_nn_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3)) * 1e-3 + np.pi
    y = np.arange(20) % 2
    text, target = recipe.data_csv(X, y, ["a", "b", "c"], ["no", "yes"])
    assert target == "class" and text.splitlines()[0] == "a,b,c,class"
    ds = nn.data.load_csv(io.BytesIO(text.encode()))
    np.testing.assert_array_equal(ds.X, X)
    np.testing.assert_array_equal(ds.y, y)
    assert ds.class_names == ["no", "yes"]


def test_make_recipe_normalizes_settings():
    script, text = recipe.make_recipe(nn.presets.ARTICLE)
    assert script == recipe.SCRIPT
    settings = json.loads(text)
    assert settings["format"] == recipe.FORMAT
    assert settings["training"]["seed"] == 0  # the network's seed, as the app shuffles
    assert settings["split"]["seed"] == 0 and settings["split"]["test_size"] == 0.15
    assert settings["training"]["patience"] == 10 and settings["data"]["target"] == "class"


def table(**second) -> dict:
    """The data section of a table with a categorical and a numeric column (``second``)."""
    columns = [{"name": "a", "kind": "categorical"}, {"name": "b", "kind": "numeric", **second}]
    return {"columns": columns}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.pop("training"), "'training' section"),
        (lambda s: s["training"].update(optimizer="rmsprop"), "training.optimizer"),
        (lambda s: s["training"].update(learning_rate="fast"), "learning_rate must be a number"),
        (lambda s: s["training"].update(batch_size=2.5), "whole number"),
        (lambda s: s["training"].update(epochs=float("inf")), "finite"),
        (lambda s: s["split"].update(test_size=1.5), "test_size"),
        (lambda s: s["network"].update(activation="swish"), "swish"),
        (lambda s: s.update(data={"class_names": ["a", "b"]}), "2 classes"),
        (lambda s: s.update(data={"columns": "island"}), "data.columns must be a list"),
        (lambda s: s.update(data={"columns": [{"kind": "numeric"}]}), r"columns\[0\] must be"),
        (lambda s: s.update(data=table(kind="text")), r"columns\[1\].kind must be"),
        (lambda s: s.update(data=table(fill="mode")), r"columns\[1\].fill must be one of"),
        (lambda s: s.update(data=table(indicator="yes")), "indicator must be true or false"),
        (lambda s: s.update(data=table(fill="constant", value="x")), "value must be a number"),
        (lambda s: s.update(data=table(fill="constant", value=math.inf)), "must be finite"),
        (lambda s: s.update(data={**table(), "rare": -1}), "rare must be at least 0"),
        (lambda s: s.update(data={**table(), "rare": 2.5}), "rare must be a whole number"),
        (lambda s: s.update(data={**table(), "feature_names": ["b", "a"]}), "must follow"),
        (lambda s: s["data"]["columns"].append({"name": "a"}), "each feature column once"),
        (lambda s: s["training"].update(dropout="0.1,0.2,0.3"), "training.dropout lists 3"),
        (lambda s: s["training"].update(dropout=1.5), "training.dropout must be a rate"),
        (lambda s: s["training"].update(class_weight="1,2"), "class_weight lists 2 weights"),
        (lambda s: s["training"].update(class_weight="heavy"), "training.class_weight must be"),
        (lambda s: s["training"].update(schedule="linear"), "training.schedule must be one of"),
        (lambda s: s["training"].update(lr_decay=0), "training.lr_decay must be a number > 0"),
    ],
)
def test_make_recipe_rejects_bad_settings(change, message):
    settings = {**copy.deepcopy(nn.presets.ARTICLE), "data": table()}
    change(settings)
    with pytest.raises(ValueError, match=message):
        recipe.make_recipe(settings)


def test_script_refuses_foreign_settings(tmp_path, iris):
    write_bundle(tmp_path, nn.presets.ARTICLE, *iris)
    (tmp_path / "other.json").write_text(json.dumps({"network": {}}))
    done = subprocess.run(
        [sys.executable, recipe.SCRIPT_NAME, "--settings", "other.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "not a settings file" in done.stderr


def test_reproducibility_notes():
    settings = copy.deepcopy(nn.presets.ARTICLE)
    settings["training"]["epochs"] = 3
    same = [nn.EpochRecord(i, 1.0, 0.5, None, None, 0.15, 0.0) for i in (1, 2, 3)]
    assert recipe.reproducibility_notes(settings, same) == []
    changed = [*same[:2], nn.EpochRecord(3, 1.0, 0.5, None, None, 0.3, 0.0)]
    notes = recipe.reproducibility_notes(settings, changed)
    assert len(notes) == 1 and "learning rate changed" in notes[0]
    assert "2 epochs" in recipe.reproducibility_notes(settings, same[:2])[0]
    settings["training"]["early_stopping"] = True  # an early stop is repeated by the recipe
    assert recipe.reproducibility_notes(settings, same[:2]) == []


@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_script_loss_is_the_engines_from_logits(script_module, output):
    """Cross-entropy from the logits, as nn.losses computes it, extreme logits included."""
    rng = np.random.default_rng(3)
    k = 1 if output == "sigmoid" else 4
    Z = rng.normal(size=(50, k)) * np.array([[1.0]] * 40 + [[1e3]] * 10)  # 10 extreme rows
    y = rng.integers(0, max(k, 2), 50)
    Y = y.reshape(-1, 1).astype(float) if k == 1 else np.eye(k)[y]
    P = script_module.activate(output, Z)
    mine = script_module.mean_loss("cross_entropy", output, P, Y, Z)
    theirs = losses.value("cross_entropy", output, P, Y, logits=Z.copy())
    assert mine == pytest.approx(theirs, rel=1e-12)
    # A confident wrong answer costs its logit gap, not -log(1e-12) = 27.6 as clipping gave.
    Z = np.array([[0.0, 40.0]])
    P = script_module.activate("softmax", Z)
    wrong = script_module.mean_loss("cross_entropy", "softmax", P, np.array([[1.0, 0.0]]), Z)
    assert wrong == pytest.approx(40.0, rel=1e-12)


# ---- tables with categories and gaps ----
# The zip carries the raw table and how each column is prepared; the script fits that
# preprocessing on its training rows and must give the lab's network inputs (nn.data.split,
# Preprocessor.fit_table) to 1e-12, then the same run.

SKIPPED = {"Name": "skip", "Cabin": "skip", "PassengerId": "skip"}
# name: (file, target, roles, types, fill)
TABLE_CASES = {
    "penguins": ("penguins.csv", "species", None, None, {}),
    "penguins-mean-mode-flags": (
        "penguins.csv",
        "species",
        None,
        None,
        {"numeric_fill": "mean", "category_fill": "most_frequent", "indicators": True},
    ),
    "passengers": ("passengers.csv", "Survived", SKIPPED, None, {}),
    "passengers-per-column": (
        "passengers.csv",
        "Survived",
        SKIPPED,
        {"Pclass": "categorical"},
        {
            "numeric_fill": {"Age": "constant", "Fare": "mean"},
            "fill_values": {"Age": -1},
            "indicators": {"Age": True},
            "category_fill": {"Embarked": "most_frequent"},
        },
    ),
    "cars-rare": ("cars.csv", "origin", {"model": "skip"}, None, {"rare": 15}),
    "cars-rare-constant": (
        "cars.csv",
        "origin",
        {"model": "skip"},
        None,
        {"rare": 15, "numeric_fill": "constant", "fill_values": {"horsepower": 100.5}},
    ),
}
CLASSES3 = ["a", "b", "c"]


@functools.cache
def table_dataset(case: str) -> nn.data.Dataset:
    file, target, roles, types, fill = TABLE_CASES[case]
    return nn.data.load_table(
        (TABLES / file).read_bytes(), target=target, roles=roles, types=types, fill=fill
    )


def table_zip(settings: dict, dataset) -> bytes:
    """The recipe of a table, as the app's share box makes it (dashboard.share.bundle)."""
    return recipe.recipe_zip(
        settings,
        dataset.table(),
        dataset.y,
        dataset.feature_names,
        dataset.class_names,
        kinds=dataset.feature_kinds(),
        fill=dataset.fill,
    )


def table_settings(dataset, split: dict, **training) -> dict:
    n_inputs = nn.data.split(dataset, **split).preprocessor.n_inputs
    return {
        "network": {
            "layers": [n_inputs, 8, dataset.n_classes],
            "activation": "relu",
            "output_activation": "softmax",
            "loss": "cross_entropy",
            "init": "he",
            "seed": 5,
        },
        "training": {"epochs": 12, "learning_rate": 0.01, "batch_size": 16, **training},
        "split": split,
    }


def assert_same_steps(mine: list[dict], theirs: list[dict]):
    """The script's fitted steps are the lab's preprocessor's (``Preprocessor.to_dict``)."""
    assert [s["name"] for s in mine] == [s["name"] for s in theirs]
    for a, b in zip(mine, theirs, strict=True):
        assert a.keys() == b.keys()
        for key, value in b.items():
            if isinstance(value, float):
                assert a[key] == pytest.approx(value, rel=1e-12, abs=1e-12), (b["name"], key)
            else:
                assert a[key] == value, (b["name"], key)


@pytest.mark.parametrize("standardize", [False, True], ids=["raw", "standardized"])
@pytest.mark.parametrize("case", list(TABLE_CASES))
def test_script_inputs_equal_the_labs_split_of_a_table(tmp_path, case, standardize):
    dataset = table_dataset(case)
    assert dataset.is_table
    seed = len(case)  # a different split for each table
    split = {"test_size": 0.2, "val_size": 0.15, "seed": seed, "stratify": seed % 2 == 0}
    split["standardize"] = standardize
    settings = table_settings(dataset, split)
    zipfile.ZipFile(io.BytesIO(table_zip(settings, dataset))).extractall(tmp_path)
    saved = json.loads((tmp_path / recipe.SETTINGS_NAME).read_text())
    *mine, steps = recipe.script.prepare_data(tmp_path / recipe.DATA_NAME, saved)
    parts = nn.data.split(dataset, **split)
    theirs = (parts.X_train, parts.y_train, parts.X_val, parts.y_val, parts.X_test, parts.y_test)
    for a, b in zip(mine, theirs, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    assert_same_steps(steps, parts.preprocessor.to_dict()["columns"])


def test_the_table_cases_cover_every_choice():
    """The cases above reach what they are there for: gaps, indicators, constants, the most
    frequent category, grouped rare categories, categories chosen for numbers."""
    steps = [
        s
        for case in TABLE_CASES
        for s in nn.data.split(table_dataset(case), seed=len(case)).preprocessor.columns
    ]
    assert any(s.indicator for s in steps)
    assert any(s.kind == "numeric" and s.fill == -1.0 for s in steps)
    assert any(s.kind == "numeric" and s.fill == 100.5 for s in steps)
    assert any(s.kind == "categorical" and s.fill not in (preprocess.MISSING, None) for s in steps)
    assert any(s.kind == "categorical" and preprocess.MISSING in s.categories for s in steps)
    assert any(s.other for s in steps)
    assert any(s.name == "Pclass" and s.kind == "categorical" for s in steps)


@pytest.mark.parametrize(
    ("case", "split", "training"),
    [
        (
            "penguins",
            {"test_size": 0.15, "val_size": 0.1, "seed": 3, "stratify": True, "standardize": True},
            {"optimizer": "adam", "shuffle": True, "early_stopping": True, "patience": 3},
        ),
        (
            "passengers-per-column",
            {"test_size": 0.2, "val_size": 0.2, "seed": 1, "standardize": False},
            {"optimizer": "momentum", "learning_rate": 0.001, "l2": 0.001},
        ),
        (
            "cars-rare",
            {"test_size": 0.2, "val_size": 0.0, "seed": 7, "stratify": True, "standardize": True},
            {"optimizer": "sgd", "learning_rate": 0.05, "batch_size": 1, "epochs": 5},
        ),
    ],
    ids=["penguins", "passengers", "cars"],
)
def test_a_run_on_a_table_is_reproduced(tmp_path, case, split, training):
    dataset = table_dataset(case)
    settings = table_settings(dataset, split, **training)
    zipfile.ZipFile(io.BytesIO(table_zip(settings, dataset))).extractall(tmp_path)
    result, out = run_script(tmp_path, "--log-every", "0")
    net, parts = run_engine(settings, dataset)
    assert_same_run(result, net, parts)
    n_inputs = parts.preprocessor.n_inputs
    assert f"{len(dataset.feature_names)} columns -> {n_inputs} inputs" in out
    assert_same_steps(result["preprocessing"], parts.preprocessor.to_dict()["columns"])
    assert result["test"]["accuracy"] > 0.5


def read_back(tmp_path, frame, kinds, fill):
    """``frame`` through the zip's CSV and settings, as the script reads it back."""
    names = list(kinds)
    data = recipe.data_settings(names, CLASSES3, kinds, fill)
    settings = copy.deepcopy(nn.presets.ARTICLE)
    data = json.loads(recipe.make_recipe({**settings, "data": data})[1])["data"]
    y = np.arange(len(frame)) % 3
    text, _ = recipe.data_csv(frame, y, names, CLASSES3, data["target"], kinds)
    path = tmp_path / f"{len(list(tmp_path.iterdir()))}.csv"
    path.write_bytes(text.encode("utf-8"))
    X, y_back = recipe.script.read_data(path, data)
    np.testing.assert_array_equal(y_back, y)
    return X, data


HOSTILE = ["=cmd()", "-x", "'quoted", "a, b", 'say "hi"', "line\nbreak", "1.5", "10", "9"]


def hand_made(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """A table with what the real ones lack: ties, constant columns, extreme digits, labels a
    spreadsheet would run, labels that look like numbers."""
    shade = rng.choice(["b", "a", "c", None], n, p=[0.35, 0.35, 0.2, 0.1])
    flat = np.full(n, 0.1)
    flat[::7] = np.nextafter(0.1, 1.0)  # a constant but for rounding: a tiny variance
    big = rng.normal(1e6, 3.0, n)
    big[rng.random(n) < 0.2] = np.nan
    tiny = rng.normal(0, 1, n) * np.pi * 1e-7
    tiny[rng.random(n) < 0.1] = np.nan
    label = rng.choice([*HOSTILE, None], n)
    maker = rng.choice(["ford", "fiat", "saab", "kia", "vw"], n, p=[0.5, 0.3, 0.1, 0.06, 0.04])
    maker[rng.random(n) < 0.03] = None
    return pd.DataFrame(
        {"shade": shade, "flat": flat, "big": big, "tiny": tiny, "label": label, "maker": maker}
    )


KINDS = {
    "shade": "categorical",
    "flat": "numeric",
    "big": "numeric",
    "tiny": "numeric",
    "label": "categorical",
    "maker": "categorical",
}
FILLS = {
    "defaults": {},
    "per-column": {
        "numeric_fill": {"big": "constant", "tiny": "mean"},
        "fill_values": {"big": -1.5, "tiny": 3},
        "indicators": {"big": True, "flat": True},
        "category_fill": {"shade": "most_frequent"},
    },
    "all-mode-flags-rare": {
        "numeric_fill": "mean",
        "category_fill": "most_frequent",
        "indicators": True,
        "rare": 6,
    },
    "everything-rare": {"rare": 1000},  # every category shares "(other)"
}


@pytest.mark.parametrize("standardize", [False, True], ids=["raw", "standardized"])
@pytest.mark.parametrize("fill", list(FILLS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_script_fits_and_applies_each_column_as_the_lab(tmp_path, seed, fill, standardize):
    """Fitted on some rows and applied to others (new gaps, unseen and rare categories), the
    script's steps give Preprocessor.fit_table's and transform's numbers."""
    rng = np.random.default_rng(seed)
    train, applied = hand_made(rng, 60), hand_made(rng, 40)
    applied.loc[0, ["shade", "label", "maker"]] = ["unseen", "=new", "lada"]
    applied.loc[1, ["flat", "big", "tiny"]] = np.nan
    if seed == 0:
        train.loc[:, "shade"] = ["a", "b"] * 30  # a tie for the most frequent: "a"
    X_train, data = read_back(tmp_path, train, KINDS, FILLS[fill])
    X_applied, _ = read_back(tmp_path, applied, KINDS, FILLS[fill])
    steps = recipe.script.fit_preprocessing(data["columns"], X_train, data["rare"], standardize)
    pre = preprocess.Preprocessor.fit_table(
        train, KINDS, standardize=standardize, **{**nn.data.FILL_DEFAULTS, **FILLS[fill]}
    )
    assert_same_steps(steps, pre.to_dict()["columns"])
    for mine, frame in ((X_train, train), (X_applied, applied)):
        np.testing.assert_allclose(
            recipe.script.transform(steps, mine), pre.transform(frame), rtol=0, atol=1e-12
        )
    inputs = recipe.script.transform(steps, X_applied)
    shade = [j for j, name in enumerate(pre.input_names()) if name.startswith("shade=")]
    assert not inputs[0, shade].any()  # a category never seen in training: all zeros
    if standardize:
        assert pre.column("flat").scale == 1.0  # near-constant: scikit-learn's rule
    if seed == 0 and fill in ("per-column", "all-mode-flags-rare"):
        assert pre.column("shade").fill == "a"


def test_a_tables_csv_keeps_gaps_labels_and_every_digit(tmp_path):
    frame = pd.DataFrame(
        {
            "size": [np.pi * 1e-7, np.nan, -0.0, 1e300],
            "=kind": ["=cmd()", None, "'quoted", "a, b"],
        }
    )
    kinds = {"size": "numeric", "=kind": "categorical"}
    text, target = recipe.data_csv(frame, [0, 1, 2, 0], list(kinds), CLASSES3, kinds=kinds)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["size", "'=kind", target]
    assert [r[:2] for r in rows[1:]] == [
        [repr(np.pi * 1e-7), "'=cmd()"],
        ["", ""],  # a gap is an empty cell
        ["-0.0", "''quoted"],
        ["1e+300", "a, b"],
    ]
    X, data = read_back(tmp_path, frame, kinds, {})
    np.testing.assert_array_equal(X[0], frame["size"].to_numpy())
    assert list(X[1]) == ["=cmd()", None, "'quoted", "a, b"]
    assert data["columns"] == [
        {"name": "size", "kind": "numeric", "fill": "median", "indicator": False},
        {"name": "=kind", "kind": "categorical", "fill": "category"},
    ]


def test_a_tables_settings_say_how_each_column_is_prepared():
    dataset = table_dataset("passengers-per-column")
    data = recipe.data_settings(
        dataset.feature_names, dataset.class_names, dataset.feature_kinds(), dataset.fill
    )
    saved = json.loads(
        recipe.make_recipe({**table_settings(dataset, {"seed": 0}), "data": data})[1]
    )["data"]
    assert saved["feature_names"] == dataset.feature_names
    by_name = {c["name"]: c for c in saved["columns"]}
    assert by_name["Age"] == {
        "name": "Age",
        "kind": "numeric",
        "fill": "constant",
        "indicator": True,
        "value": -1.0,
    }
    assert by_name["Fare"] == {
        "name": "Fare",
        "kind": "numeric",
        "fill": "mean",
        "indicator": False,
    }
    assert by_name["Pclass"] == {"name": "Pclass", "kind": "categorical", "fill": "category"}
    assert by_name["Embarked"]["fill"] == "most_frequent"
    assert saved["rare"] == 0
    # A table of numbers keeps the settings it always had.
    plain = recipe.data_settings(["a", "b"], ["x", "y"])
    assert plain == {
        "file": "data.csv",
        "target": "class",
        "class_names": ["x", "y"],
        "feature_names": ["a", "b"],
    }


def test_the_script_names_the_labs_categories_as_the_lab_does():
    assert recipe.script.MISSING == preprocess.MISSING
    assert recipe.script.OTHER == preprocess.OTHER


def test_the_script_refuses_a_network_that_does_not_fit_the_data(tmp_path):
    dataset = table_dataset("penguins")
    settings = table_settings(dataset, {"seed": 0})
    settings["network"]["layers"][0] += 1
    zipfile.ZipFile(io.BytesIO(table_zip(settings, dataset))).extractall(tmp_path)
    done = subprocess.run(
        [sys.executable, recipe.SCRIPT_NAME],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        done.returncode != 0 and "the data give 11 inputs but the network takes 12" in done.stderr
    )


# The sweep: the script equals the engine epoch by epoch over a seeded random draw of settings.
# Raw (unscaled) inputs, Adam at high rates, early stopping and the logits of thousands that they
# give are drawn on purpose: that is where a loss computed differently (the script's old clipped
# probabilities) changes which epoch is best and so where early stopping ends the run.

SWEEP_SIZE = 150
# name: (features, classes); "many" has more rows than the training metrics use (2048)
SWEEP_DATA = {"iris": (4, 3), "wine": (13, 3), "wine2": (13, 2), "iris2": (4, 2), "many": (3, 3)}
HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
EXTREME_LOGIT = 40.0  # beyond this a clipped probability (1e-12, log = -27.6) misprices the loss


def draw_settings(rng: np.random.Generator) -> tuple[str, dict]:
    """One random configuration: the data set's name and the recipe settings."""
    data = str(rng.choice(["iris", "iris2", "wine", "wine", "wine2", "many"]))
    n_features, k = SWEEP_DATA[data]
    n_hidden = int(rng.integers(1, 3))
    acts = [str(a) for a in rng.choice(HIDDEN, n_hidden)]
    output = str(rng.choice(["sigmoid", "softmax", "linear"]))
    n_out = 1 if k == 2 and output == "sigmoid" and rng.random() < 0.5 else k
    if output == "linear":
        loss = "squared_error"
    else:
        loss = str(rng.choice(["cross_entropy", "cross_entropy", "squared_error"]))
    optimizer = str(rng.choice(["sgd", "momentum", "adam", "adam"]))
    low, high = {"sgd": (-3, 0), "momentum": (-3.5, -0.5), "adam": (-2.5, 0)}[optimizer]
    if data == "many":
        batch_size, epochs = int(rng.choice([64, 256])), 3
    else:
        batch_size = int(rng.choice([1, 4, 16, 64, 1000]))
        epochs = int(rng.integers(4, 31)) if batch_size > 1 else int(rng.integers(3, 11))
    network = {
        "layers": [n_features, *(int(rng.integers(2, 9)) for _ in range(n_hidden)), n_out],
        "activation": acts[0] if n_hidden == 1 and rng.random() < 0.5 else acts,
        "output_activation": output,
        "loss": loss,
        "init": str(rng.choice(["uniform", "xavier", "he"])),
        "seed": int(rng.integers(0, 1000)),
        "dtype": "float32" if rng.random() < 0.15 else "float64",
    }
    training = {
        "epochs": epochs,
        "learning_rate": float(10 ** rng.uniform(low, high)),
        "batch_size": batch_size,
        "optimizer": optimizer,
        "momentum": float(rng.choice([0.5, 0.9, 0.99])),
        "nesterov": bool(rng.random() < 0.5),
        "beta2": float(rng.choice([0.999, 0.9])),
        "shuffle": bool(rng.random() < 0.6),
        "l2": float(rng.choice([0.0, 0.0, 1e-3, 0.05])),
        "seed": int(rng.integers(0, 1000)),
        "early_stopping": bool(rng.random() < 0.6),
        "patience": int(rng.integers(1, 5)),
        "restore_best": bool(rng.random() < 0.7),
    }
    split = {
        "test_size": 0.2,
        "val_size": float(rng.choice([0.2, 0.3])),
        "seed": int(rng.integers(0, 1000)),
        "stratify": bool(rng.random() < 0.5),
        "standardize": bool(rng.random() < 0.3),  # mostly raw feature scales
    }
    return data, {"network": network, "training": training, "split": split}


def _draw_sweep() -> list[tuple[str, dict]]:
    rng = np.random.default_rng(20261201)
    return [draw_settings(rng) for _ in range(SWEEP_SIZE)]


SWEEP = _draw_sweep()


def sweep_id(i: int) -> str:
    data, s = SWEEP[i]
    return f"{i:03d}-{data}-{s['network']['output_activation']}-{s['training']['optimizer']}"


@functools.cache
def sweep_data(name: str) -> tuple[np.ndarray, np.ndarray]:
    if name in ("iris", "iris2"):
        X, y = load_iris(return_X_y=True)
    elif name in ("wine", "wine2"):
        X, y = load_wine(return_X_y=True)
    else:
        rng = np.random.default_rng(5)
        X = rng.normal(size=(2400, 3)) * [1.0, 30.0, 0.01] + [0.0, 100.0, 5.0]
        y = (X[:, 0] + X[:, 1] / 30 > 3.3).astype(int) + (X[:, 2] > 5.0)
    if name == "iris2":  # two classes that overlap, so the sigmoid output has work to do
        X, y = X[y > 0], y[y > 0] - 1
    elif name == "wine2":
        X, y = X[y < 2], y[y < 2]
    assert (X.shape[1], int(y.max()) + 1) == SWEEP_DATA[name]
    return X, y


@functools.cache
def sweep_run(i: int) -> tuple[dict, dict]:
    """Train configuration ``i`` with the script and with the engine, on the same split."""
    return run_both(*SWEEP[i])


def run_both(data: str, settings: dict) -> tuple[dict, dict]:
    """Train ``settings`` on the named data with the script and with the engine."""
    s = json.loads(recipe.make_recipe(settings)[1])
    sp = s["split"]
    X_train, y_train, X_val, y_val, _, _ = recipe.script.split(
        *sweep_data(data), sp["test_size"], sp["val_size"], sp["seed"], sp["stratify"],
        sp["standardize"],
    )  # fmt: skip
    layers, history, stopped, finished = recipe.script.train(
        s, X_train, y_train, X_val, y_val, log_every=0, log=lambda _: None
    )
    _, logits, _ = recipe.script.forward(layers, recipe.script.layer_names(s["network"]), X_train)
    mine = {
        "history": history,
        "weights": [a for Wb in layers for a in (Wb[:-1], Wb[-1])],
        "stopped_early": stopped,
        "diverged": not finished,
        "max_logit": float(np.abs(logits).max()),
    }
    net = nn.Network.from_config(s["network"])
    training = dict(s["training"])
    epochs = training.pop("epochs")
    diverged_at = None
    try:
        for _ in net.train_epochs(
            X_train, y_train, epochs=epochs, validation_data=(X_val, y_val), **training
        ):
            pass
    except nn.DivergenceError as exc:
        diverged_at = exc.epoch
    theirs = {
        "history": [r.as_dict() for r in net.history],
        "weights": net.get_weights(),
        "stopped_early": net.stopped_early,
        "diverged_at": diverged_at,
    }
    return mine, theirs


@pytest.mark.parametrize("i", range(SWEEP_SIZE), ids=sweep_id)
def test_script_equals_the_engine_epoch_by_epoch(i):
    assert_same_sweep_run(*sweep_run(i), SWEEP[i][1])


def assert_same_sweep_run(mine: dict, theirs: dict, settings: dict) -> None:
    tol = 1e-9 if settings["network"]["dtype"] == "float64" else 1e-5
    # Same length, same early stop, and a divergence at the same epoch in both.
    assert len(mine["history"]) == len(theirs["history"])
    assert mine["stopped_early"] == theirs["stopped_early"]
    assert mine["diverged"] == (theirs["diverged_at"] is not None)
    if mine["diverged"]:
        assert theirs["diverged_at"] == len(mine["history"]) + 1
    for a, b in zip(mine["history"], theirs["history"], strict=True):
        assert a["epoch"] == b["epoch"]
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=tol, abs=1e-12)
        assert a["val_loss"] == pytest.approx(b["val_loss"], rel=tol, abs=1e-12)
        assert (a["train_accuracy"], a["val_accuracy"]) == (b["train_accuracy"], b["val_accuracy"])
        assert a["learning_rate"] == b["learning_rate"]
    for a, b in zip(mine["weights"], theirs["weights"], strict=True):
        np.testing.assert_allclose(a, b, rtol=tol, atol=1e-12)


# The options sweep: the same draw of settings with the training options on top (schedules and
# warm-up, L1, dropout per hidden layer, class weights), from a seed of its own, so the sweep
# above keeps its draws.

OPTIONS_SWEEP_SIZE = 60


def draw_options(rng: np.random.Generator, settings: dict) -> dict:
    """Training options for one configuration of the sweep."""
    layers = settings["network"]["layers"]
    n_hidden, n_classes = len(layers) - 2, max(layers[-1], 2)
    schedule = str(rng.choice(["constant", "step", "exponential", "cosine"]))
    options = {
        "schedule": schedule,
        "warmup": int(rng.choice([0, 0, 1, 3])),
        "lr_step": int(rng.integers(1, 5)),
        "lr_drop": float(rng.choice([0.5, 0.8])),
        "lr_decay": float(rng.choice([0.7, 0.95])),
        "lr_min": float(rng.choice([0.0, 0.1])),
        "cosine_epochs": int(rng.choice([0, 0, 5])),
        "l1": float(rng.choice([0.0, 0.0, 1e-4, 0.01])),
    }
    draw = rng.random()
    if draw < 0.35:
        options["dropout"] = "0"
    elif draw < 0.7:
        options["dropout"] = str(float(rng.choice([0.1, 0.3, 0.5])))
    else:
        options["dropout"] = ",".join(
            str(float(rng.choice([0.0, 0.2, 0.6]))) for _ in range(n_hidden)
        )
    draw = rng.random()
    if draw < 0.35:
        options["class_weight"] = "none"
    elif draw < 0.7:
        options["class_weight"] = "balanced"
    else:
        options["class_weight"] = ",".join(
            str(float(rng.choice([0.5, 1.0, 3.0]))) for _ in range(n_classes)
        )
    return options


def _draw_options_sweep() -> list[tuple[str, dict]]:
    rng = np.random.default_rng(20261202)
    sweep = []
    for _ in range(OPTIONS_SWEEP_SIZE):
        data, settings = draw_settings(rng)
        settings["training"].update(draw_options(rng, settings))
        sweep.append((data, settings))
    return sweep


OPTIONS_SWEEP = _draw_options_sweep()


@functools.cache
def options_sweep_run(i: int) -> tuple[dict, dict]:
    return run_both(*OPTIONS_SWEEP[i])


def options_id(i: int) -> str:
    t = OPTIONS_SWEEP[i][1]["training"]
    return f"{i:02d}-{t['schedule']}-drop{t['dropout']}-cw{t['class_weight']}"


@pytest.mark.parametrize("i", range(OPTIONS_SWEEP_SIZE), ids=options_id)
def test_script_equals_the_engine_with_the_training_options(i):
    mine, theirs = options_sweep_run(i)
    assert_same_sweep_run(mine, theirs, OPTIONS_SWEEP[i][1])


def test_the_options_sweep_draws_every_option():
    trains = [s["training"] for _, s in OPTIONS_SWEEP]
    assert {t["schedule"] for t in trains} == {"constant", "step", "exponential", "cosine"}
    assert sum(t["warmup"] > 0 for t in trains) >= 15
    assert sum(t["l1"] > 0 for t in trains) >= 15
    assert sum("," in t["dropout"] for t in trains) >= 8  # a rate per hidden layer
    assert sum(t["dropout"] not in ("0",) and "," not in t["dropout"] for t in trains) >= 10
    assert sum(t["class_weight"] == "balanced" for t in trains) >= 10
    assert sum("," in t["class_weight"] for t in trains) >= 10
    assert sum(t["shuffle"] and t["dropout"] != "0" for t in trains) >= 10
    assert sum(s["network"]["dtype"] == "float32" for _, s in OPTIONS_SWEEP) >= 4
    assert sum(t["early_stopping"] for t in trains) >= 15


def test_the_sweep_draws_what_it_must():
    """The draw covers every choice, and leans on what made the script drift before."""
    nets = [s["network"] for _, s in SWEEP]
    trains = [s["training"] for _, s in SWEEP]
    hidden = {a for n in nets for a in ([n["activation"]] if isinstance(n["activation"], str)
              else n["activation"])}  # fmt: skip
    assert hidden == set(HIDDEN)
    assert {n["output_activation"] for n in nets} == {"sigmoid", "softmax", "linear"}
    assert {(n["output_activation"], n["loss"]) for n in nets} >= {
        ("sigmoid", "cross_entropy"),
        ("softmax", "cross_entropy"),
        ("sigmoid", "squared_error"),
        ("softmax", "squared_error"),
        ("linear", "squared_error"),
    }
    assert any(n["layers"][-1] == 1 for n in nets)
    assert {n["init"] for n in nets} == {"uniform", "xavier", "he"}
    assert {n["dtype"] for n in nets} == {"float64", "float32"}
    assert {t["optimizer"] for t in trains} == {"sgd", "momentum", "adam"}
    assert {t["batch_size"] for t in trains} >= {1, 4, 16, 64, 256, 1000}
    assert {t["shuffle"] for t in trains} == {t["restore_best"] for t in trains} == {True, False}
    assert sum(t["l2"] > 0 for t in trains) >= 20
    assert sum(t["early_stopping"] for t in trains) >= 40
    assert {t["patience"] for t in trains if t["early_stopping"]} == {1, 2, 3, 4}
    raw = [not s["split"]["standardize"] for _, s in SWEEP]
    assert sum(raw) >= 50
    fast_adam = [
        t["optimizer"] == "adam" and t["learning_rate"] >= 0.1 and t["early_stopping"] and r
        for t, r in zip(trains, raw, strict=True)
    ]
    assert sum(fast_adam) >= 5
    assert any(d == "many" for d, _ in SWEEP)


def test_the_sweep_reaches_early_stops_divergence_and_extreme_logits():
    """What the runs did: early stops, divergences (equal in both, checked above) and
    cross-entropy runs whose logits are far beyond where clipped probabilities go wrong."""
    runs = [sweep_run(i)[0] for i in range(SWEEP_SIZE)]
    assert sum(r["stopped_early"] for r in runs) >= 20
    assert sum(r["diverged"] for r in runs) >= 4
    extreme = [
        r["max_logit"] > EXTREME_LOGIT and s["network"]["loss"] == "cross_entropy"
        for r, (_, s) in zip(runs, SWEEP, strict=True)
        if not r["diverged"]
    ]
    assert sum(extreme) >= 4
