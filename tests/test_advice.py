"""When training goes nowhere the Train page says why in one sentence, with a one-click fix;
and the Train page's words follow the run's state (raised epochs, an uploaded model)."""

from __future__ import annotations

import pytest

import nn
from dashboard import state
from dashboard.predict import results
from dashboard.training import advice, loop
from nn import presets
from tests.test_app_defaults import choose
from tests.test_app_inside import article_on
from tests.test_app_pages import texts
from tests.test_app_share import open_with
from tests.test_app_training import drain

TRAIN = "pages/3_Train.py"


def trained(name: str, preset: dict, standardize: bool, **settings) -> loop.Trainer:
    """A run of ``preset`` on a bundled dataset, trained to its end without Streamlit."""
    ds = nn.data.load_dataset(name)
    parts = nn.data.split(ds, seed=0, **{**preset["split"], "standardize": standardize})
    layers = [ds.X.shape[1], *preset["network"]["layers"][1:-1], ds.n_classes]
    t = loop.Trainer(
        nn.Network.from_config({**preset["network"], "layers": layers}),
        parts.X_train,
        parts.y_train,
        parts.X_val,
        parts.y_val,
        settings={**loop.DEFAULT_SETTINGS, **preset["training"], **settings},
    )
    drain(t)
    return t


@pytest.mark.parametrize(
    ("name", "preset", "standardize", "settings", "fix"),
    [
        ("wine", presets.ARTICLE, False, {"epochs": 20}, advice.STANDARDIZE),
        ("iris", presets.MODERN, True, {"epochs": 10, "learning_rate": 5.0, "optimizer": "sgd"},
         advice.LOWER_RATE),
        ("digits", presets.MODERN, True, {"epochs": 10, "learning_rate": 1.0}, advice.LOWER_RATE),
        ("digits", presets.ARTICLE, True, {"epochs": 5, "learning_rate": 0.001}, advice.MODERN),
        ("digits", presets.MODERN, True, {"epochs": 5, "learning_rate": 1e-6}, None),
    ],
)  # fmt: skip
def test_a_run_that_goes_nowhere_gets_its_likely_cause(name, preset, standardize, settings, fix):
    found = advice.went_nowhere(trained(name, preset, standardize, **settings))
    assert found is not None and found.fix == fix
    assert "no better than always answering the most frequent class" in found.sentence


@pytest.mark.parametrize(
    ("name", "preset", "standardize"),
    [
        ("iris", presets.ARTICLE, False),
        ("wine", presets.ARTICLE, True),
        ("wine", presets.MODERN, True),
    ],
)
def test_a_run_that_learns_gets_no_advice(name, preset, standardize):
    t = trained(name, preset, standardize, epochs=100 if name == "iris" else 30)
    assert t.net.history[-1].val_accuracy > 0.8
    assert advice.went_nowhere(t) is None


def test_a_running_or_short_run_is_not_judged():
    t = trained("wine", presets.ARTICLE, False, epochs=3)
    assert advice.went_nowhere(t) is None  # fewer than MIN_EPOCHS
    t = trained("wine", presets.ARTICLE, False, epochs=20)
    t.status = loop.RUNNING
    assert advice.went_nowhere(t) is None


def finish_on_train_page(at, epochs: int):
    at.switch_page(TRAIN).run()
    at.radio(key="train.pace").set_value("fastest").run()
    at.number_input(key="train.epochs").set_value(epochs).run()
    at.button(key="train.start").click().run()
    while at.session_state[state.TRAINER].running:
        at.run()
    return at


def test_the_train_page_says_an_unscaled_run_went_nowhere_and_fixes_it(app):
    at = finish_on_train_page(open_with(article_on("wine")), 20)
    assert "no better than always answering" in texts(at)
    fix = at.button(key="train.fix")
    assert fix.label == "Standardize the inputs"
    fix.click().run()
    assert not at.exception
    assert at.session_state[state.SPLIT_SETTINGS]["standardize"] is True
    assert (
        at.session_state[state.TRAINER] is None
        or at.session_state[state.TRAINER].epochs_trained == 0
    )
    finish_on_train_page(at, 20)
    assert "no better than always answering" not in texts(at)
    assert at.session_state[state.TRAINER].net.history[-1].val_accuracy > 0.8


def test_a_good_run_gets_no_sentence_and_the_modern_fix_applies_the_preset(app):
    at = finish_on_train_page(app(None), 20)  # Iris, the article's protocol: it learns
    assert "no better than always answering" not in texts(at)
    assert not [b for b in at.button if b.key == "train.fix"]
    at = choose(app("pages/1_Data.py"), "digits")
    at.switch_page("pages/2_Architecture.py").run()
    at.button(key="arch.preset.article").click().run()
    assert at.session_state[state.ARCH]["activations"] == ["sigmoid", "sigmoid"]
    at.switch_page(TRAIN).run()
    at.number_input(key="train.learning_rate").set_value(0.001).run()
    finish_on_train_page(at, 5)
    fix = at.button(key="train.fix")
    assert fix.label == "Use the modern preset"
    fix.click().run()
    assert not at.exception
    modern = nn.presets.MODERN
    assert at.session_state[state.ARCH]["activations"] == ["relu", "relu"]
    assert at.session_state[state.TRAIN_SETTINGS]["optimizer"] == modern["training"]["optimizer"]
    assert at.number_input(key="train.learning_rate").value == modern["training"]["learning_rate"]


def test_raising_epochs_after_a_finished_run_says_how_to_train_the_rest(app):
    at = finish_on_train_page(app(None), 5)
    assert "Raise Epochs to train further" in texts(at)
    at.number_input(key="train.epochs").set_value(8).run()
    said = texts(at)
    assert "Raise Epochs" not in said
    assert "Epochs is now 8: press Resume to train the other 3" in said
    at.button(key="train.start").click().run()
    while at.session_state[state.TRAINER].running:
        at.run()
    assert at.session_state[state.TRAINER].epochs_trained == 8


def test_an_uploaded_finished_model_reads_finished_not_paused(app):
    at = finish_on_train_page(app(None), 12)
    net = at.session_state[state.TRAINER].net
    at.session_state[state.TRAINER].net = nn.Network.from_config(net.config)
    at.switch_page("pages/4_Predict.py").run()
    at.file_uploader(key="predict.model_upload").upload("model.npz", results.model_bytes(net))
    at.run()
    t = at.session_state[state.TRAINER]
    assert t.epochs_trained == 12
    assert t.status == loop.FINISHED and t.status != loop.PAUSED
    at.switch_page(TRAIN).run()
    assert "Loaded a model trained for 12 epochs" in texts(at)


def test_a_preset_is_one_change_held_whole_for_confirmation(app):
    at = finish_on_train_page(app(None), 5)
    before = dict(at.session_state[state.TRAIN_SETTINGS])
    at.switch_page("pages/2_Architecture.py").run()
    at.button(key="arch.preset.modern").click().run()
    assert "a preset: its training settings apply with it" in texts(at)
    assert at.session_state[state.TRAIN_SETTINGS] == before  # nothing applied yet
    assert at.session_state[state.TRAINER].epochs_trained == 5
    at.button(key="arch.keep").click().run()
    assert at.session_state[state.TRAIN_SETTINGS] == before  # kept whole
    at.button(key="arch.preset.modern").click().run()
    at.button(key="arch.confirm").click().run()
    modern = nn.presets.MODERN
    assert at.session_state[state.ARCH]["activations"] == ["relu", "relu"]
    assert at.session_state[state.TRAIN_SETTINGS]["optimizer"] == modern["training"]["optimizer"]
    at.switch_page(TRAIN).run()
    assert at.selectbox(key="train.optimizer").value == "adam"
