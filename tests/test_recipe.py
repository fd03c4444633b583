"""nn.recipe: the standalone script reproduces the engine's run from the settings and the data."""

import ast
import copy
import csv
import importlib.util
import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris

import nn
from nn import recipe


@pytest.fixture(scope="module")
def iris():
    data = load_iris()
    return data.data, data.target, list(data.feature_names), [str(c) for c in data.target_names]


@pytest.fixture(scope="module")
def script_module(tmp_path_factory):
    """The script imported as a module, to call its split and init directly."""
    path = tmp_path_factory.mktemp("script") / recipe.SCRIPT_NAME
    path.write_text(recipe.SCRIPT, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("recipe_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def run_engine(settings, X, y):
    """What the app does with these settings: nn.data.split, then build and fit."""
    s = json.loads(recipe.make_recipe(settings)[1])
    sp, tr = s["split"], dict(s["training"])
    parts = nn.data.split(
        (X, y),
        test_size=sp["test_size"],
        val_size=sp["val_size"],
        seed=sp["seed"],
        stratify=sp["stratify"],
        standardize=sp["standardize"],
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
    ],
)
def test_make_recipe_rejects_bad_settings(change, message):
    settings = copy.deepcopy(nn.presets.ARTICLE)
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
