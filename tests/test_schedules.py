"""nn.schedules: learning-rate schedules and warm-up, recomputed by hand, recorded in the history,
and unchanged by pausing; the Train page's schedule curve and the live chart's rate line."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from sklearn.datasets import load_iris

import nn
from dashboard.common import charts
from dashboard.training import loop, schedule_figure
from nn import config, recipe, schedules


def settings(**changes) -> dict:
    """Every training setting at its default, with ``changes``."""
    return config.check_training(changes)


# ---- the formulas, recomputed by hand ----

HAND = [
    ("constant", {"learning_rate": 0.1}, [0.1, 0.1, 0.1, 0.1]),
    (
        "step every 2 epochs, halved",
        {"learning_rate": 0.1, "schedule": "step", "lr_step": 2, "lr_drop": 0.5},
        [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125],
    ),
    (
        "exponential 0.9",
        {"learning_rate": 0.2, "schedule": "exponential", "lr_decay": 0.9},
        [0.2, 0.18, 0.162, 0.1458, 0.13122],
    ),
    (
        # low = 0.1 * 0.1 = 0.01; 0.01 + 0.09 (1 + cos(pi t / 4)) / 2, then 0.01 from t = 4 on
        "cosine over 4 epochs down to a tenth",
        {"learning_rate": 0.1, "schedule": "cosine", "lr_min": 0.1, "cosine_epochs": 4},
        [0.1, 0.0868198051533946, 0.055, 0.0231801948466054, 0.01, 0.01],
    ),
    (
        "warm-up of 3 epochs, then constant",
        {"learning_rate": 0.1, "warmup": 3},
        [0.025, 0.05, 0.075, 0.1, 0.1],
    ),
    (
        # the step schedule counts its epochs from the end of the warm-up
        "warm-up of 2, then halved every epoch",
        {"learning_rate": 0.3, "warmup": 2, "schedule": "step", "lr_step": 1, "lr_drop": 0.5},
        [0.1, 0.2, 0.3, 0.15, 0.075],
    ),
    (
        # cosine over "the run's epochs" (6): after a warm-up of 2 it spans 4 epochs to 0
        "warm-up of 2, then cosine to 0 over the run",
        {"learning_rate": 1.0, "warmup": 2, "schedule": "cosine"},
        [1 / 3, 2 / 3, 1.0, 0.8535533905932737, 0.5, 0.1464466094067262],
    ),
]


@pytest.mark.parametrize(("what", "changes", "expected"), HAND, ids=[h[0] for h in HAND])
def test_rates_recomputed_by_hand(what, changes, expected):
    s = settings(**changes)
    got = schedules.rates(s, len(expected), run_epochs=6)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert [schedules.rate(s, e, 6) for e in range(len(expected))] == got
    assert [schedules.Schedule(s, 6)(e) for e in range(len(expected))] == got


def test_a_constant_schedule_is_the_rate_itself_and_a_cosine_stays_at_its_floor():
    s = settings(learning_rate=0.15)
    assert schedules.is_constant(s) and schedules.rate(s, 10**6) == 0.15
    assert not schedules.is_constant(settings(warmup=1))
    assert not schedules.is_constant(settings(schedule="exponential"))
    cosine = settings(learning_rate=0.2, schedule="cosine", lr_min=0.25, cosine_epochs=10)
    assert schedules.rate(cosine, 10) == schedules.rate(cosine, 500) == pytest.approx(0.05)
    assert schedules.rate(cosine, 5) == pytest.approx(0.125)  # halfway: the mean of 0.2, 0.05
    # cosine_epochs 0: the run's length decides, so the same epoch differs with the run
    run = settings(learning_rate=0.2, schedule="cosine")
    assert schedules.rate(run, 5, 10) == pytest.approx(0.1)
    assert schedules.rate(run, 5, 20) == pytest.approx(0.1 + 0.1 * math.cos(math.pi / 4))


def test_schedule_repr_names_its_parameters():
    text = repr(schedules.Schedule(settings(schedule="step", lr_step=3, warmup=2), 0))
    assert text == "Schedule('step', learning_rate=0.15, lr_step=3, lr_drop=0.5, warmup=2)"
    assert repr(schedules.Schedule(settings(), 0)) == "Schedule('constant', learning_rate=0.15)"


# ---- in training: the rate used is recorded, and pausing changes nothing ----

NET = {
    "layers": [4, 6, 3],
    "activation": "tanh",
    "output_activation": "softmax",
    "loss": "cross_entropy",
    "init": "xavier",
    "seed": 5,
}
SCHEDULES = {
    "constant": {},
    "step": {"schedule": "step", "lr_step": 3, "lr_drop": 0.5},
    "exponential": {"schedule": "exponential", "lr_decay": 0.8},
    "cosine": {"schedule": "cosine", "lr_min": 0.05, "cosine_epochs": 10},
    "cosine over the run": {"schedule": "cosine", "lr_min": 0.0},
    "warm-up": {"warmup": 4},
    "warm-up and cosine": {"warmup": 3, "schedule": "cosine", "lr_min": 0.1},
    "warm-up and step": {"warmup": 2, "schedule": "step", "lr_step": 2, "lr_drop": 0.3},
}


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    rows = np.random.default_rng(0).permutation(len(y))
    X, y = X[rows], y[rows]
    return X[:120], y[:120], X[120:], y[120:]


def common(name: str) -> dict:
    return {
        "learning_rate": 0.05,
        "optimizer": "adam",
        "batch_size": 16,
        "shuffle": True,
        **SCHEDULES[name],
    }


@pytest.mark.parametrize("name", SCHEDULES)
def test_the_history_records_the_scheduled_rate(name, iris):
    X, y, Xv, yv = iris
    net = nn.Network.from_config(NET)
    net.fit(X, y, epochs=10, validation_data=(Xv, yv), **common(name))
    expected = schedules.rates(settings(**common(name)), 10)
    assert [r.learning_rate for r in net.history] == expected  # the very floats
    assert [r.as_dict()["learning_rate"] for r in net.history] == expected
    assert net.optimizer.learning_rate == 0.05  # between epochs: the rate set, not scaled
    if name != "constant":
        assert len(set(expected)) > 1


@pytest.mark.parametrize("name", SCHEDULES)
def test_five_then_five_epochs_equal_ten_bit_for_bit(name, iris):
    X, y, Xv, yv = iris
    kwargs = {"validation_data": (Xv, yv), **common(name)}
    whole = nn.Network.from_config(NET)
    whole.fit(X, y, epochs=10, **kwargs)
    # As the app pauses: ask for the rest of the run, stop pulling, then ask for the rest again
    # (a cosine over "the run's epochs" spans the epochs trained plus those asked for).
    paused = nn.Network.from_config(NET)
    first = paused.train_epochs(X, y, epochs=10, **kwargs)
    for _ in range(5):
        next(first)
    first.close()
    paused.fit(X, y, epochs=5, **kwargs)
    assert [r.learning_rate for r in paused.history] == [r.learning_rate for r in whole.history]
    assert [r.train_loss for r in paused.history] == [r.train_loss for r in whole.history]
    assert [r.val_loss for r in paused.history] == [r.val_loss for r in whole.history]
    for a, b in zip(paused.get_weights(), whole.get_weights(), strict=True):
        assert np.array_equal(a, b)
    if SCHEDULES[name].get("schedule") != "cosine" or SCHEDULES[name].get("cosine_epochs"):
        # Two calls of 5 (each asking for 5): the same when the curve does not depend on
        # how many epochs a call asks for.
        halves = nn.Network.from_config(NET)
        halves.fit(X, y, epochs=5, **kwargs)
        halves.fit(X, y, epochs=5, **kwargs)
        for a, b in zip(halves.get_weights(), whole.get_weights(), strict=True):
            assert np.array_equal(a, b)


def test_a_cosine_over_the_run_spans_the_epochs_trained_and_asked_for(iris):
    X, y, _, _ = iris
    s = common("cosine over the run")
    net = nn.Network.from_config(NET)
    net.fit(X, y, epochs=4, **s)
    net.fit(X, y, epochs=4, **s)  # a new call of 4 after 4: the curve now spans 8
    first = schedules.rates(settings(**s), 4, run_epochs=4)
    second = [schedules.rate(settings(**s), e, 8) for e in range(4, 8)]
    assert [r.learning_rate for r in net.history] == first + second
    assert net.history[3].learning_rate == pytest.approx(0.05 * (1 + math.cos(0.75 * math.pi)) / 2)


def test_a_state_saved_mid_run_resumes_the_schedule(iris, tmp_path):
    """The run goes on in another process: the model file (with its history) and the
    training state, and the schedule picks up at the right epoch."""
    X, y, Xv, yv = iris
    kwargs = {"validation_data": (Xv, yv), **common("warm-up and cosine"), "cosine_epochs": 10}
    whole = nn.Network.from_config(NET)
    whole.fit(X, y, epochs=10, **kwargs)
    first = nn.Network.from_config(NET)
    first.fit(X, y, epochs=6, **kwargs)
    first.save(tmp_path / "m.npz")
    meta, arrays = first.training_state_data()
    later = nn.Network.load(tmp_path / "m.npz")
    later.restore_training_state(meta, arrays)
    later.fit(X, y, epochs=4, **kwargs)
    assert [r.learning_rate for r in later.history] == [r.learning_rate for r in whole.history]
    for a, b in zip(later.get_weights(), whole.get_weights(), strict=True):
        assert np.array_equal(a, b)


def test_a_rate_set_between_epochs_is_the_base_the_schedule_scales(iris):
    X, y, _, _ = iris
    s = common("exponential")
    net = nn.Network.from_config(NET)
    epochs = net.train_epochs(X, y, epochs=4, **s)
    next(epochs), next(epochs)
    net.set_learning_rate(0.5)
    list(epochs)
    assert [r.learning_rate for r in net.history] == [0.05, 0.05 * 0.8, 0.5 * 0.8**2, 0.5 * 0.8**3]


def test_a_cosine_down_to_zero_saves_and_goes_on(iris, tmp_path):
    """The last epochs of a cosine to 0 train at a rate of 0: the model file and the training
    state keep that history and come back (the optimizer keeps the rate set, above 0)."""
    X, y, _, _ = iris
    s = {**common("cosine"), "lr_min": 0.0, "cosine_epochs": 3}
    net = nn.Network.from_config(NET)
    net.fit(X, y, epochs=5, **s)
    assert [r.learning_rate for r in net.history][3:] == [0.0, 0.0]
    before = net.get_weights()
    net.fit(X, y, epochs=1, **s)  # at a rate of 0, sgd or adam: the weights stay
    for a, b in zip(before, net.get_weights(), strict=True):
        assert np.array_equal(a, b)
    net.save(tmp_path / "m.npz")
    loaded = nn.Network.load(tmp_path / "m.npz")
    assert [r.learning_rate for r in loaded.history] == [r.learning_rate for r in net.history]
    loaded.restore_training_state(*net.training_state_data())
    assert loaded.optimizer.learning_rate == 0.05


def test_the_app_writes_out_the_cosine_length_for_the_recipe():
    X, y = load_iris(return_X_y=True)
    net = nn.Network.from_config(NET)
    s = {**loop.DEFAULT_SETTINGS, "schedule": "cosine", "epochs": 30}
    trainer = loop.Trainer(net, X[:100], y[:100], X[100:], y[100:], settings=s)
    assert loop.train_kwargs(trainer)["cosine_epochs"] == 30
    trainer.settings["cosine_epochs"] = 12
    assert loop.train_kwargs(trainer)["cosine_epochs"] == 12
    trainer.settings["schedule"] = "step"
    assert loop.train_kwargs(trainer)["cosine_epochs"] == 12  # not in use: left as it is


def test_reproducibility_notes_follow_the_schedule():
    base = copy.deepcopy(nn.presets.ARTICLE)
    base["training"].update(epochs=4, schedule="exponential", lr_decay=0.5, warmup=1)
    rates = schedules.rates(settings(**base["training"]), 4)
    assert rates == [0.075, 0.15, 0.075, 0.0375]
    history = [nn.EpochRecord(i + 1, 1.0, 0.5, None, None, r, 0.0) for i, r in enumerate(rates)]
    assert recipe.reproducibility_notes(base, history) == []
    history[2] = nn.EpochRecord(3, 1.0, 0.5, None, None, 0.01, 0.0)  # set by hand meanwhile
    notes = recipe.reproducibility_notes(base, history)
    assert notes == [
        "The learning rate changed during the run; the recipe follows the exponential "
        "schedule from 0.15."
    ]


# ---- the Train page's curve and the live chart ----


def test_the_schedule_figure_draws_the_rates_training_uses():
    s = {"learning_rate": 0.1, "schedule": "step", "lr_step": 5, "lr_drop": 0.5, "warmup": 2}
    fig = schedule_figure.schedule_figure(s, 30, trained=12)
    curve, done = fig.data
    assert curve.meta == "schedule" and done.meta == "trained"
    assert list(curve.x) == list(range(1, 31))
    assert list(curve.y) == schedules.rates(settings(**s), 30)
    assert list(done.x) == list(range(1, 13)) and list(done.y) == list(curve.y[:12])
    assert fig.layout.xaxis.range == (0.5, 30.5)
    assert len(schedule_figure.schedule_figure(s, 30).data) == 1  # nothing trained yet


def test_the_schedule_figure_stays_small_for_long_runs():
    s = {"learning_rate": 0.1, "schedule": "cosine", "cosine_epochs": 0}
    fig = schedule_figure.schedule_figure(s, 2000)
    x = np.asarray(fig.data[0].x)
    assert len(x) <= schedule_figure.MAX_POINTS and x[0] == 1 and x[-1] == 2000
    assert fig.data[0].y[-1] == pytest.approx(schedules.rate(settings(**s), 1999, 2000))


def test_the_live_loss_chart_shows_the_rate_when_it_changes(iris):
    X, y, Xv, yv = iris
    net = nn.Network.from_config(NET)
    net.fit(X, y, epochs=8, validation_data=(Xv, yv), **common("warm-up and step"))
    loss, _ = charts.history_figures(net.history, 20)
    rate = next(t for t in loss.data if t.meta == "learning_rate")
    assert list(rate.y) == [r.learning_rate for r in net.history]
    assert rate.yaxis == "y2" and loss.layout.yaxis2.overlaying == "y"
    flat = nn.Network.from_config(NET)
    flat.fit(X, y, epochs=3, validation_data=(Xv, yv), **common("constant"))
    loss, _ = charts.history_figures(flat.history, 20)
    assert [t.meta for t in loss.data] == ["train_loss", "val_loss"]
