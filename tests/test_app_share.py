"""Shareable settings in the URL, and the recipe that repeats the app's own run."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

import nn
from dashboard import state
from dashboard.common import limits
from dashboard.data import datasets
from dashboard.share import bundle, link
from dashboard.store import backend
from dashboard.training import loop
from nn import recipe
from tests.conftest import ROOT

TRAIN = "pages/3_Train.py"


def open_with(params: dict, page: str = TRAIN) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.query_params.update(params)
    at.switch_page(page)
    return at.run()


def defaults() -> link.Experiment:
    return link.Experiment(
        spec=dict(datasets.DEFAULT_SPEC),
        split=link.default_experiment().split,
        arch={
            "hidden": [5, 10],
            "activations": ["sigmoid", "sigmoid"],
            "output_activation": "sigmoid",
            "loss": "squared_error",
            "init": "uniform",
            "seed": 0,
        },
        train=dict(loop.DEFAULT_SETTINGS),
    )


def decode(params: dict, n_in: int = 2, n_out: int = 3, n_train: int = 200):
    spec, split, m1 = link.decode_data(params, defaults())
    arch, train, m2 = link.decode_model(params, defaults(), n_in, n_out, n_train, True)
    return spec, split, arch, train, m1 + m2


def test_defaults_make_a_bare_link_and_every_change_round_trips():
    assert link.encode(defaults(), defaults()) == {}
    exp = link.Experiment(
        spec={"source": "spiral", "n_samples": 500, "noise": 0.35, "seed": 7},
        split={
            "test_size": 0.2,
            "val_size": 0.0,
            "seed": 3,
            "stratify": True,
            "standardize": True,
            "engineered": "x1_x2,sin_x1",
        },
        arch={
            "hidden": [16, 8, 4],
            "activations": ["relu", "tanh", "leaky_relu"],
            "output_activation": "softmax",
            "loss": "cross_entropy",
            "init": "he",
            "seed": 42,
        },
        train={
            **loop.DEFAULT_SETTINGS,
            "optimizer": "momentum",
            "learning_rate": 0.0123,
            "batch_size": 32,
            "epochs": 250,
            "l2": 0.001,
            "shuffle": True,
            "momentum": 0.8,
            "early_stopping": True,
            "patience": 7,
            "restore_best": False,
            "pace": "fastest",
        },
    )
    params = link.encode(exp, defaults())
    assert params["hidden"] == "16,8,4" and params["act"] == "relu,tanh,leaky_relu"
    assert params["lr"] == "0.0123" and params["shuffle"] == "1"
    spec, split, arch, train, messages = decode(params)
    assert messages == []
    assert (spec, split, arch, train) == (exp.spec, exp.split, exp.arch, exp.train)


def test_synthetic_defaults_stay_out_of_the_link():
    exp = defaults()
    exp.spec = {"source": "moons", **datasets.SYNTHETIC_DEFAULTS}
    assert link.encode(exp, defaults()) == {"data": "moons"}


@pytest.mark.parametrize(
    ("params", "field", "expected", "message"),
    [
        ({"lr": "abc"}, ("train", "learning_rate"), 0.15, "not a number"),
        ({"lr": "nan"}, ("train", "learning_rate"), 0.15, "finite"),
        ({"epochs": "99999"}, ("train", "epochs"), 2000, "limited to 2,000"),
        ({"batch": "0"}, ("train", "batch_size"), 1, "at least 1"),
        ({"batch": "5000"}, ("train", "batch_size"), 200, "more than the 200 training rows"),
        ({"opt": "rmsprop"}, ("train", "optimizer"), "sgd", "not one of"),
        ({"shuffle": "maybe"}, ("train", "shuffle"), False, "not yes or no"),
        ({"data": "mnist"}, ("spec", "source"), "iris", "not one of"),
        ({"noise": "5", "data": "moons"}, ("spec", "noise"), 1.0, "limited to"),
        ({"test": "0.9"}, ("split", "test_size"), 0.5, "limited to"),
        ({"hidden": "4,x"}, ("arch", "hidden"), [5, 10], "not a list of node counts"),
        ({"hidden": "9999"}, ("arch", "hidden"), [256], "limited to 256"),
        ({"hidden": ",".join(["3"] * 9)}, ("arch", "hidden"), [3] * 6, "allows up to 6"),
        ({"act": "swish"}, ("arch", "activations"), ["sigmoid", "sigmoid"], "not one of"),
        ({"act": "relu,tanh,relu"}, ("arch", "activations"), ["sigmoid"] * 2, "one activation"),
        ({"out": "linear", "loss": "cross_entropy"}, ("arch", "loss"), "squared_error", "default"),
        ({"seed": "-4"}, ("arch", "seed"), 0, "at least 0"),
        ({"momentum": "0.995"}, ("train", "momentum"), 0.99, "limited to 0.99"),
        ({"lr": "1" * 500}, ("train", "learning_rate"), 0.15, "too long"),
    ],
)
def test_bad_values_fall_back_with_a_message(params, field, expected, message):
    spec, split, arch, train, messages = decode(params)
    part = {"spec": spec, "split": split, "arch": arch, "train": train}[field[0]]
    assert part[field[1]] == expected
    assert any(message in m for m in messages), messages


def test_each_refused_value_is_named_once():
    *_, arch, train, messages = decode({"hidden": "4,4,4", "act": "swish", "momentum": "7"})
    assert arch["activations"] == ["sigmoid"] * 3
    assert sum("swish" in m for m in messages) == 1, messages  # not once per layer
    top = limits.TRAINING_RANGES["momentum"][1]
    assert train["momentum"] == top == 0.99  # the Train page's slider stops there
    about_momentum = [m for m in messages if m.startswith("Momentum")]
    assert about_momentum == [
        f"Momentum is limited to {top:g} in this demo; using {top:g}."
    ]  # one limit, not two


def test_a_link_recreates_the_experiment_on_the_page_it_opens():
    at = open_with(
        {
            "data": "moons",
            "noise": "0.3",
            "standardize": "1",
            "hidden": "8,8",
            "act": "relu",
            "out": "softmax",
            "loss": "cross_entropy",
            "init": "he",
            "opt": "adam",
            "lr": "0.01",
            "batch": "16",
            "epochs": "60",
        }
    )
    assert not at.exception
    assert not at.warning
    ss = at.session_state
    assert ss[state.DATA_SPEC] == {"source": "moons", "n_samples": 300, "noise": 0.3, "seed": 0}
    assert ss[state.SPLIT].scaler is not None
    assert ss[state.TRAINER].net.config["layers"] == [2, 8, 8, 2]
    assert ss[state.TRAINER].net.config["activation"] == ["relu", "relu"]
    assert at.selectbox(key="train.optimizer").value == "adam"
    assert at.number_input(key="train.learning_rate").value == 0.01
    assert at.number_input(key="train.batch_size").value == 16
    assert any("settings from the link are loaded" in i.value for i in at.info)
    at.switch_page("pages/2_Architecture.py").run()
    assert at.number_input(key="arch.w.nodes.1").value == 8
    assert at.selectbox(key="arch.w.act.0").value == "relu"


def test_a_link_value_the_checks_allow_never_breaks_a_widget():
    at = open_with({"opt": "momentum", "momentum": "0.995", "noise": "0.33", "data": "moons"})
    assert not at.exception
    assert at.slider(key="train.momentum").value == 0.99
    at.switch_page("pages/1_Data.py").run()
    assert not at.exception
    assert at.slider(key="data.noise").value == 0.33


def test_bad_link_values_are_refused_escaped_and_the_page_still_works():
    at = open_with({"data": "<img src=x onerror=alert(1)>", "lr": "**bold**", "hidden": "0"})
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1, warnings  # one box lists every refused value
    assert warnings[0].count("\n- ") == 3, warnings[0]
    assert any(r"\<img src\=x onerror\=alert\(1\)\>" in w for w in warnings)
    assert any(r"\*\*bold\*\*" in w for w in warnings)
    assert at.session_state[state.DATA_SPEC] == {"source": "iris"}
    assert at.session_state[state.ARCH]["hidden"] == [1]
    assert at.number_input(key="train.learning_rate").value == 0.15
    # The URL now holds the values in use, not the refused ones.
    assert settings_in_url(at) == {"hidden": "1", "act": "sigmoid"}


def settings_in_url(at) -> dict:
    """The address's parameters but the workspace token (which the store tests check)."""
    params = dict(at.query_params)
    assert backend.valid_token(params.pop(backend.TOKEN_PARAM, None))
    return params


def test_settings_changes_are_written_to_the_url_and_read_only_once():
    at = open_with({})
    assert settings_in_url(at) == {}
    at.number_input(key="train.learning_rate").set_value(0.5).run()
    at.checkbox(key="train.shuffle").check().run()
    assert settings_in_url(at) == {"lr": "0.5", "shuffle": "1"}
    at.switch_page("pages/1_Data.py").run()
    assert settings_in_url(at) == {"lr": "0.5", "shuffle": "1"}  # the link follows to every page
    at.switch_page(TRAIN).run()
    at.number_input(key="train.learning_rate").set_value(0.15).run()
    assert settings_in_url(at) == {"shuffle": "1"}  # back at the default: out of the link
    at.switch_page("pages/1_Data.py").run()
    at.selectbox(key="data.source").set_value("xor").run()
    # Changed settings stay with the user on another dataset; the link says so against the
    # defaults of that dataset (the modern preset), so it recreates the same experiment.
    assert at.query_params["data"] == "xor" and at.query_params["lr"] == "0.15"
    assert at.session_state[state.TRAIN_SETTINGS]["learning_rate"] == 0.15
    # Editing the URL of a running session does not change its settings (read at start only).
    at.query_params["lr"] = "0.9"
    at.run()
    assert at.session_state[state.TRAIN_SETTINGS]["learning_rate"] == 0.15
    assert at.query_params["lr"] == "0.15"  # the address is put back to the session's settings


def test_the_share_link_on_the_compare_page_matches_the_url():
    at = open_with({"lr": "0.3", "data": "wine"}, page="pages/6_Compare.py")
    codes = [c.value for c in at.code]
    assert codes[0] == "?data=wine&lr=0.3"
    assert any("press Start" in c.value for c in at.caption)


def test_the_inside_view_is_part_of_the_url():
    at = open_with({"inside.view": "Trust", "lr": "0.3"}, page="pages/5_Inside.py")
    assert not at.exception
    assert at.button(key="inside.trust_run")
    assert at.query_params["inside.view"] == "Trust" and at.query_params["lr"] == "0.3"


def run_recipe(folder, bundle: bytes) -> dict:
    zipfile.ZipFile(io.BytesIO(bundle)).extractall(folder)
    done = subprocess.run(
        [sys.executable, recipe.SCRIPT_NAME, "--out", "out.json", "--log-every", "0"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads((folder / "out.json").read_text())


@pytest.mark.parametrize(
    "params",
    [
        {"epochs": "40"},  # the article's per-sample SGD, trained in the app's chunks
        {
            "data": "spiral",
            "standardize": "1",
            "stratify": "1",
            "hidden": "12",
            "act": "tanh",
            "out": "softmax",
            "loss": "cross_entropy",
            "init": "xavier",
            "opt": "adam",
            "lr": "0.02",
            "batch": "8",
            "shuffle": "1",
            "epochs": "200",
            "early_stop": "1",
            "patience": "5",
            "seed": "3",
        },
    ],
)
def test_the_recipe_repeats_the_run_the_app_trained(tmp_path, params):
    at = open_with({**params, "pace": "watch"})
    at.button(key="train.start").click().run()
    ticks = 0
    while at.session_state[state.TRAINER].running:
        at.run()
        ticks += 1
    assert ticks > 1  # trained in several chunks, as a user sees it
    trainer = at.session_state[state.TRAINER]
    assert trainer.status in (loop.FINISHED, loop.EARLY_STOPPED)
    assert "Download the recipe (.zip)" in {b.proto.label for b in at.get("download_button")}
    settings = bundle.recipe_settings(trainer, at.session_state[state.SPLIT_SETTINGS])
    result = run_recipe(tmp_path, bundle.recipe_zip(settings, at.session_state[state.DATASET]))
    history = trainer.net.history
    assert len(result["history"]) == len(history)
    for mine, theirs in zip(result["history"], history, strict=True):
        assert mine["train_loss"] == pytest.approx(theirs.train_loss, rel=1e-9, abs=1e-12)
        assert mine["val_accuracy"] == theirs.val_accuracy
    split = at.session_state[state.SPLIT]
    test = trainer.net.evaluate(split.X_test, split.y_test)
    assert result["test"]["accuracy"] == test["accuracy"]
    assert result["stopped_early"] == trainer.net.stopped_early


def test_recipe_notes_name_what_it_cannot_repeat():
    at = open_with({"epochs": "3", "pace": "fastest"})
    at.button(key="train.step").click().run()
    at.number_input(key="train.learning_rate").set_value(0.05).run()
    at.button(key="train.step").click().run()
    at.switch_page("pages/5_Inside.py").run()
    at.query_params["inside.view"] = "Backprop step"
    at.run()
    at.button(key="inside.bp_apply").click().run()
    at.switch_page("pages/6_Compare.py").run()
    captions = " ".join(c.value for c in at.caption)
    assert "learning rate changed during the run" in captions
    assert "1 single-sample step(s)" in captions
    trainer = at.session_state[state.TRAINER]
    assert bundle.recipe_epochs(trainer) == 2  # paused after 2 of 3: the recipe trains 2


def test_recipe_notes_name_a_model_that_brought_its_own_preprocessing():
    dataset = nn.data.load_dataset("iris")
    here = nn.data.split(dataset, standardize=True)
    elsewhere = nn.data.split(dataset, seed=5, standardize=True)  # another session's split
    split_settings = {**recipe.SPLIT_DEFAULTS, "standardize": True}
    net = nn.Network.from_config({"layers": [4, 3], "output_activation": "softmax"})
    trainer = loop.Trainer(net, here.X_train, here.y_train, here.X_val, here.y_val)
    net.preprocessor = here.preprocessor
    assert bundle.recipe_notes(trainer, split_settings, 0, here.preprocessor) == []
    net.preprocessor = elsewhere.preprocessor
    notes = bundle.recipe_notes(trainer, split_settings, 0, here.preprocessor)
    assert len(notes) == 1 and "came with its own preprocessing" in notes[0]


def test_a_number_to_predict_gets_a_recipe_and_its_settings_name_the_target():
    diabetes = nn.data.load_dataset("diabetes")
    assert diabetes.is_regression
    settings = nn.presets.for_task(nn.presets.MODERN, "regression")
    settings["network"]["layers"] = [10, 8, 1]
    settings["split"]["stratify"] = True  # a number is never stratified, whatever it says
    shown = json.loads(bundle.settings_json(settings, diabetes))
    assert shown["network"]["task"] == "regression" and shown["split"]["stratify"] is False
    assert shown["data"] == {
        "file": recipe.DATA_NAME,
        "target": "progression",
        "feature_names": diabetes.feature_names,
    }
    files = zipfile.ZipFile(io.BytesIO(bundle.recipe_zip(settings, diabetes)))
    assert json.loads(files.read(recipe.SETTINGS_NAME)) == shown
    rows = files.read(recipe.DATA_NAME).decode().splitlines()
    assert rows[0].endswith(",progression") and rows[1].endswith(",151.0")


def test_recipe_notes_name_a_regression_model_that_brought_its_own_target_scale():
    dataset = nn.data.load_dataset("sine")
    here = nn.data.split(dataset, standardize=True)
    config = {"layers": [1, 4, 1], "task": "regression"}
    net = nn.Network.from_config(config)
    trainer = loop.Trainer(net, here.X_train, here.y_train, here.X_val, here.y_val)
    split_settings = {**recipe.SPLIT_DEFAULTS, "standardize": True, "stratify": False}
    assert bundle.recipe_notes(trainer, split_settings) == []  # not trained: nothing to say
    net.fit(here.X_train, here.y_train, epochs=1)
    assert bundle.recipe_notes(trainer, split_settings) == []  # fitted on these rows
    net.target_scaler = nn.task.TargetScaler([0.5], [2.0])  # as a model from elsewhere
    notes = bundle.recipe_notes(trainer, split_settings)
    assert len(notes) == 1 and "its own target scale" in notes[0]
