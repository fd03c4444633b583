"""The app's training loop (dashboard.training.loop) and figure builders, without Streamlit; the
Train page's queued and out-of-compute states with AppTest."""

from __future__ import annotations

import json
import math
import threading
import time

import numpy as np
import pytest
from sklearn.datasets import load_iris

import nn
from dashboard.common import capacity, charts, limits
from dashboard.training import loop


def iris_parts(standardize: bool = True):
    X, y = load_iris(return_X_y=True)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    if standardize:
        X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X[:100], y[:100], X[100:125], y[100:125]


def make_trainer(config=None, **settings) -> loop.Trainer:
    X, y, Xv, yv = iris_parts()
    config = config or {
        "layers": [4, 6, 3],
        "activation": "tanh",
        "output_activation": "softmax",
        "loss": "cross_entropy",
        "init": "xavier",
        "seed": 3,
    }
    full = {**loop.DEFAULT_SETTINGS, **settings}
    return loop.Trainer(nn.Network.from_config(config), X, y, Xv, yv, settings=full)


def drain(trainer: loop.Trainer, budget_s: float = 0.0, max_epochs=None) -> int:
    """Run chunks until the run ends; returns the number of chunks."""
    loop.start(trainer)
    chunks = 0
    while trainer.running:
        loop.run_chunk(trainer, budget_s, max_epochs)
        chunks += 1
        assert chunks < 10_000
    return chunks


@pytest.mark.parametrize(
    "settings",
    [
        {"optimizer": "momentum", "learning_rate": 0.05, "batch_size": 8, "shuffle": True},
        {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "shuffle": True, "l2": 1e-3},
        {
            "optimizer": "sgd",
            "learning_rate": 0.5,
            "batch_size": 4,
            "early_stopping": True,
            "patience": 3,
            "restore_best": True,
        },
    ],
)
def test_chunked_training_equals_one_uninterrupted_fit(settings):
    trainer = make_trainer(epochs=40, **settings)
    chunks = drain(trainer, budget_s=0.0)  # budget 0: one epoch per chunk
    reference = nn.Network.from_config(trainer.net.config)
    reference.fit(trainer.X_train, trainer.y_train, epochs=40, **loop.train_kwargs(trainer))
    assert chunks == trainer.epochs_trained > 1
    assert len(reference.history) == trainer.epochs_trained
    for a, b in zip(reference.get_weights(), trainer.net.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [r.val_loss for r in reference.history] == [r.val_loss for r in trainer.net.history]


def test_early_stopping_ends_the_run_with_an_explanation():
    trainer = make_trainer(
        epochs=500, learning_rate=0.5, batch_size=4, early_stopping=True, patience=2
    )
    drain(trainer)
    assert trainer.status == loop.EARLY_STOPPED
    assert trainer.epochs_trained < 500
    assert "validation loss has not improved for 2 epochs" in trainer.message
    assert "restored" in trainer.message


def test_step_trains_exactly_one_epoch_and_pauses():
    trainer = make_trainer(epochs=10)
    assert loop.step(trainer) == 1
    assert trainer.epochs_trained == 1
    assert trainer.status == loop.PAUSED and not trainer.running
    loop.step(trainer)
    assert trainer.epochs_trained == 2


def test_step_and_start_refuse_past_the_epochs_set():
    trainer = make_trainer(epochs=2)
    loop.step(trainer)
    loop.step(trainer)
    assert trainer.status == loop.FINISHED
    assert loop.step(trainer) == 0
    loop.start(trainer)
    assert not trainer.running
    assert trainer.epochs_trained == 2
    assert "Raise Epochs" in trainer.message


def test_a_chunk_stops_at_its_time_budget_and_at_the_pace_cap():
    trainer = make_trainer(epochs=200, pace="watch")
    loop.start(trainer)
    cap = loop.epochs_per_tick(trainer)
    assert cap == math.ceil(200 / loop.WATCH_TICKS)
    assert loop.run_chunk(trainer, budget_s=60.0, max_epochs=cap) == cap
    assert loop.run_chunk(trainer, budget_s=0.0) == 1
    assert trainer.running and trainer.status == loop.RUNNING


def test_learning_rate_changes_between_chunks_keep_the_optimizer_state():
    trainer = make_trainer(epochs=20, optimizer="adam", learning_rate=0.01)
    loop.start(trainer)
    loop.run_chunk(trainer, budget_s=0.0, max_epochs=1)
    optimizer = trainer.net.optimizer
    trainer.settings["learning_rate"] = 0.002
    loop.run_chunk(trainer, budget_s=0.0, max_epochs=1)
    assert trainer.net.optimizer is optimizer
    assert [r.learning_rate for r in trainer.net.history] == [0.01, 0.002]


def test_divergence_is_caught_and_explained():
    X, y, Xv, yv = iris_parts(standardize=False)
    config = {
        "layers": [4, 8, 3],
        "activation": "relu",
        "output_activation": "linear",
        "loss": "squared_error",
        "init": "he",
        "seed": 0,
    }
    trainer = loop.Trainer(
        nn.Network.from_config(config),
        X,
        y,
        Xv,
        yv,
        settings={**loop.DEFAULT_SETTINGS, "learning_rate": 1e6, "epochs": 50},
    )
    drain(trainer)
    assert trainer.status == loop.DIVERGED and not trainer.running
    assert "diverged" in trainer.message and "smaller learning rate" in trainer.message
    assert all(np.all(np.isfinite(w)) for w in trainer.net.get_weights())


def test_reset_gives_the_same_fresh_network():
    trainer = make_trainer(epochs=5)
    fresh = trainer.net.get_weights()
    drain(trainer)
    loop.reset(trainer)
    assert trainer.epochs_trained == 0 and trainer.status == loop.READY
    for a, b in zip(fresh, trainer.net.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_history_csv_has_one_row_per_epoch():
    trainer = make_trainer(epochs=3)
    drain(trainer)
    lines = loop.history_csv(trainer.net.history).strip().splitlines()
    assert lines[0].split(",") == loop.HISTORY_COLUMNS
    assert len(lines) == 4
    assert lines[-1].startswith("3,")


def test_settings_are_clamped_on_the_server():
    raw = {
        **loop.DEFAULT_SETTINGS,
        "learning_rate": 1e12,
        "epochs": 10**9,
        "batch_size": 500,
        "optimizer": "rmsprop",
        "early_stopping": True,
    }
    settings, messages = loop.check_settings(raw, n_train=100, has_validation=False)
    assert settings["learning_rate"] == limits.MAX_LEARNING_RATE
    assert settings["epochs"] == limits.MAX_EPOCHS
    assert settings["batch_size"] == 100
    assert settings["optimizer"] == "sgd"
    assert settings["early_stopping"] is False
    text = " ".join(messages)
    for word in ("Learning rate", "Epochs", "Batch size", "Optimizer", "validation set"):
        assert word in text
    same, none = loop.check_settings(loop.DEFAULT_SETTINGS, 100, True)
    assert same == loop.DEFAULT_SETTINGS and none == []


def test_history_figure_grows_with_the_history():
    trainer = make_trainer(epochs=30)
    loop.start(trainer)
    loop.run_chunk(trainer, budget_s=60.0, max_epochs=5)
    figs = charts.history_figures(trainer.net.history, trainer.target_epochs)
    assert [len(t.x) for fig in figs for t in fig.data] == [5, 5, 5, 5]
    assert all(fig.layout.xaxis.range[1] >= 30 for fig in figs)
    no_val = [
        r.__class__(**{**r.as_dict(), "val_loss": None, "val_accuracy": None})
        for r in trainer.net.history
    ]
    assert [len(fig.data) for fig in charts.history_figures(no_val, 30)] == [1, 1]
    long = trainer.net.history * 300
    figs = charts.history_figures(long, 1500, max_points=100)
    assert max(len(t.x) for fig in figs for t in fig.data) <= 100


def test_a_long_history_figure_is_bounded_and_ends_at_the_last_epoch():
    trainer = make_trainer(epochs=4)
    drain(trainer)
    base = trainer.net.history
    history = [
        base[i % 4].__class__(**{**base[i % 4].as_dict(), "epoch": i + 1}) for i in range(2000)
    ]
    figs = charts.history_figures(history, 2000)
    traces = [t for fig in figs for t in fig.data]
    assert [t.meta for t in traces] == [
        "train_loss",
        "val_loss",
        "train_accuracy",
        "val_accuracy",
    ]
    for trace in traces:
        x, y = np.asarray(trace.x), np.asarray(trace.y)
        assert 2 <= len(x) <= 400 and len(y) == len(x)
        assert x[0] == 1 and x[-1] == 2000  # first and last epoch always drawn
        assert np.all(np.diff(x) > 0)
        assert y[-1] == getattr(history[-1], trace.meta)
        assert "400 of 2000 epochs drawn" in trace.hovertemplate
    shorts = charts.history_figures(history[:400], 2000)
    for fig, short in zip(figs, shorts, strict=True):
        spec = json.loads(fig.to_json())  # what st.plotly_chart ships: size independent of 2000
        assert len(json.dumps(spec)) < 1.2 * len(json.dumps(json.loads(short.to_json())))
    assert "epochs drawn" not in shorts[0].data[0].hovertemplate


def test_a_chunk_lasts_longer_when_the_tick_went_elsewhere():
    trainer = make_trainer(epochs=50)
    assert loop.chunk_floor(trainer, 0.2) == (0.2, 0.0)  # no chunk yet: nothing measured
    loop.start(trainer)
    loop.run_chunk(trainer, budget_s=60.0, max_epochs=1)
    ident, cpu, wall = trainer.last_chunk_end
    assert ident == threading.get_ident()
    factor = (1 - loop.DRAW_SHARE) / loop.DRAW_SHARE
    # as if this thread had spent 50 ms of CPU drawing, and 0.3 s had gone by (GIL, browser)
    trainer.last_chunk_end = (ident, cpu - 0.05, wall - 0.3)
    min_wall, min_cpu = loop.chunk_floor(trainer, 0.2)
    assert min_wall >= 0.3 * factor > 0.2
    assert min_cpu >= 0.05 * factor
    assert loop.chunk_floor(trainer, 0.0) == (0.0, 0.0)  # budget 0 still means one epoch
    # another thread's CPU clock says nothing about this one; the wall clock still counts
    trainer.last_chunk_end = (ident + 1, cpu - 0.05, wall - 0.3)
    assert loop.chunk_floor(trainer, 0.2)[1] == 0.0
    assert loop.chunk_floor(trainer, 0.2)[0] >= 0.3 * factor
    # a pause between chunks is not drawing time
    trainer.last_chunk_end = (ident, cpu, wall - 2 * loop.MAX_GAP_S)
    assert loop.chunk_floor(trainer, 0.2) == (0.2, 0.0)


def test_a_starved_chunk_still_ends_at_the_wall_clock_cap(monkeypatch):
    monkeypatch.setattr(loop, "MAX_CHUNK_S", 0.05)
    trainer = make_trainer(epochs=100_000)
    loop.start(trainer)
    # as if drawing had taken 100 s of CPU: the chunk would want 400 s of training
    trainer.last_chunk_end = (
        threading.get_ident(),
        time.thread_time() - 100.0,
        time.perf_counter(),
    )
    done = loop.run_chunk(trainer, budget_s=0.01)
    assert 1 <= done < 100_000
    assert trainer.running and trainer.status == loop.RUNNING


def test_figures_escape_names_from_data():
    hostile = "<a href='javascript:alert(1)'>x</a>"
    fig = charts.class_balance_figure([3, 4], [hostile, "ok"])
    assert hostile not in fig.to_json()
    assert "&lt;a href=" in fig.data[0].x[0]
    fig = charts.network_figure([2, 3, 2], ["relu"], "softmax", [hostile, "b"], ["c", hostile])
    assert hostile not in fig.to_json()


def test_network_figure_draws_at_most_max_drawn_nodes_per_layer():
    fig = charts.network_figure([64, 300, 10], ["relu"], "softmax", max_drawn=12)
    nodes = fig.data[1]
    assert len(nodes.x) == 12 + 12 + 10
    assert any(a.text == "+288 more" for a in fig.layout.annotations)


def test_category_labels_stay_distinct_when_shortened():
    names = [
        "a very long class name that goes on and on 1",
        "a very long class name that goes on and on 2",
    ]
    fig = charts.confusion_matrix_figure([[1, 0], [0, 1]], names)
    assert len(set(fig.data[0].x)) == 2


# ---- the compute budget per run ----


def test_a_run_stops_at_its_compute_budget_and_keeps_its_weights(monkeypatch):
    monkeypatch.setattr(limits, "MAX_RUN_CPU_S", 0.05)
    trainer = make_trainer(epochs=100_000)
    drain(trainer)  # one epoch per chunk
    assert trainer.status == loop.OUT_OF_COMPUTE and not trainer.running
    assert 0 < trainer.epochs_trained < 100_000
    assert len(trainer.net.history) == trainer.epochs_trained
    assert trainer.cpu_s >= 0.05
    assert trainer.message.startswith("Stopped: this run used its 0.05 seconds of compute")
    assert f"The weights of its {trainer.epochs_trained} epochs are kept" in trainer.message
    weights = trainer.net.get_weights()
    loop.start(trainer)  # Resume is refused ...
    assert not trainer.running and trainer.status == loop.OUT_OF_COMPUTE
    assert loop.step(trainer) == 0  # ... and so is Step
    for a, b in zip(weights, trainer.net.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    loop.reset(trainer)  # a new run gets a new budget
    assert trainer.cpu_s == 0.0
    loop.start(trainer)
    assert trainer.running


def test_the_compute_budget_ends_a_long_chunk(monkeypatch):
    monkeypatch.setattr(limits, "MAX_RUN_CPU_S", 0.05)
    trainer = make_trainer(epochs=100_000, pace="fastest")
    loop.start(trainer)
    started = time.thread_time()
    loop.run_chunk(trainer, budget_s=60.0)  # would train for a minute without the budget
    assert time.thread_time() - started < 5
    assert trainer.status == loop.OUT_OF_COMPUTE


def test_every_chunk_counts_its_cpu_time():
    trainer = make_trainer(epochs=50)
    loop.start(trainer)
    before = time.thread_time()
    loop.run_chunk(trainer, budget_s=0.0)
    loop.run_chunk(trainer, budget_s=0.0)
    assert 0 < trainer.cpu_s <= time.thread_time() - before


# ---- the Train page when the server's training slots are taken (AppTest) ----


@pytest.fixture
def busy_slots(monkeypatch):
    """The server's registry, replaced by one whose two slots other visitors hold."""
    slots = capacity.Slots(2, stale_s=600.0)
    monkeypatch.setattr(capacity, "SLOTS", slots)
    slots.acquire("visitor-1")
    slots.acquire("visitor-2")
    return slots


def running_trainer(at) -> loop.Trainer:
    return at.session_state["app.trainer"]


def test_a_run_waits_in_the_queue_and_starts_when_a_slot_frees(app, busy_slots):
    at = app("pages/3_Train.py")
    at.number_input(key="train.epochs").set_value(2000).run()
    at.button(key="train.start").click().run()
    t = running_trainer(at)
    assert t.running and t.status == loop.QUEUED
    shown = [i.value for i in at.info]
    assert any(v.startswith("Queued: 2 runs ahead; it starts when one finishes.") for v in shown)
    for _ in range(3):  # ticks while queued: nothing trains, the controls stay usable
        at.run()
    assert t.epochs_trained == 0
    assert not at.button(key="train.pause").disabled
    assert at.button(key="train.start").disabled
    assert "queued: epoch 0 of 2000" in at.get("progress")[0].proto.text
    busy_slots.release("visitor-1")
    for _ in range(3):
        at.run()
    t = running_trainer(at)
    assert t.status == loop.RUNNING and t.epochs_trained > 0
    assert not any(i.value.startswith("Queued") for i in at.info)
    at.button(key="train.pause").click().run()
    assert busy_slots.status() == (["visitor-2"], [])
    assert not at.exception


def test_pause_and_reset_while_queued(app, busy_slots):
    at = app("pages/3_Train.py")
    at.button(key="train.start").click().run()
    assert running_trainer(at).status == loop.QUEUED
    assert len(busy_slots.status()[1]) == 1
    at.button(key="train.pause").click().run()
    t = running_trainer(at)
    assert not t.running and t.status == loop.READY and t.epochs_trained == 0
    assert busy_slots.status()[1] == []  # the place in the queue is given up
    assert at.button(key="train.start").label == "Start"
    assert not any(i.value.startswith("Queued") for i in at.info)
    at.button(key="train.step").click().run()  # Step needs no slot
    assert running_trainer(at).epochs_trained == 1
    at.button(key="train.start").click().run()
    assert running_trainer(at).status == loop.QUEUED
    at.button(key="train.reset").click().run()
    t = running_trainer(at)
    assert not t.running and t.status == loop.READY and t.epochs_trained == 0
    assert busy_slots.status() == (["visitor-1", "visitor-2"], [])
    assert not at.exception


def test_a_run_out_of_compute_says_so_and_keeps_its_epochs(app, monkeypatch):
    monkeypatch.setattr(limits, "MAX_RUN_CPU_S", 0.3)
    monkeypatch.setattr(capacity, "SLOTS", capacity.Slots(2, stale_s=600.0))
    at = app("pages/3_Train.py")
    at.number_input(key="train.epochs").set_value(2000).run()
    at.button(key="train.start").click().run()
    for _ in range(100):
        if not running_trainer(at).running:
            break
        at.run()
    t = running_trainer(at)
    assert t.status == loop.OUT_OF_COMPUTE and 0 < t.epochs_trained < 2000
    assert any("this run used its 0.3 seconds of compute" in w.value for w in at.warning)
    assert at.button(key="train.start").disabled and at.button(key="train.step").disabled
    assert capacity.SLOTS.status() == ([], [])
    assert not at.exception


def test_the_data_page_shows_the_training_limits(app):
    at = app("pages/1_Data.py")
    captions = " ".join(c.value for c in at.caption)
    assert f"{limits.MAX_TRAINING_SESSIONS} runs train at once" in captions
    assert "of compute per run" in captions


def test_reset_keeps_the_preprocessing_and_names_the_rows_were_prepared_with():
    # A reset network once lost its preprocessor: the views then fed it raw, unscaled rows.
    dataset = nn.data.load_dataset("sine")
    split = nn.data.split(dataset, standardize=True)
    settings = nn.presets.for_task(nn.presets.MODERN, "regression")
    net = nn.Network.from_config({**settings["network"], "layers": [1, 8, 1]})
    net.preprocessor, net.metadata = split.preprocessor, dataset.names()
    trainer = loop.Trainer(net, split.X_train, split.y_train, split.X_val, split.y_val)
    loop.run_chunk(trainer, budget_s=0.05, max_epochs=3)
    loop.reset(trainer)
    assert trainer.net is not net and trainer.net.epochs_trained == 0
    assert trainer.net.preprocessor == split.preprocessor
    assert trainer.net.metadata == dataset.names()
    assert trainer.net.metadata is not net.metadata


# ---- the Train page's regularization and schedule settings (AppTest) ----


def chart_values(values) -> list[float]:
    """A trace's numbers from a chart's JSON (plotly ships NumPy arrays as typed binary)."""
    if isinstance(values, dict):
        import base64

        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def schedule_chart(at) -> dict:
    charts_ = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return next(c for c in charts_ if c["data"][0].get("meta") == "schedule")


def test_the_schedule_settings_draw_their_curve_and_the_run_follows_it(app):
    at = app("pages/3_Train.py")
    assert at.number_input(key="train.lr_step").disabled  # constant: no parameters
    assert chart_values(schedule_chart(at)["data"][0]["y"]) == [0.15] * 100
    at.selectbox(key="train.schedule").set_value("step").run()
    assert not at.number_input(key="train.lr_step").disabled
    assert at.number_input(key="train.lr_decay").disabled  # the exponential schedule's
    at.number_input(key="train.lr_step").set_value(1).run()
    at.number_input(key="train.warmup").set_value(1).run()
    expected = nn.schedules.rates(
        nn.config.check_training({"schedule": "step", "lr_step": 1, "warmup": 1}), 100
    )
    assert chart_values(schedule_chart(at)["data"][0]["y"]) == pytest.approx(expected)
    for _ in range(3):
        at.button(key="train.step").click().run()
    trainer = at.session_state["app.trainer"]
    assert [r.learning_rate for r in trainer.net.history] == [0.075, 0.15, 0.075]
    assert len(schedule_chart(at)["data"]) == 2  # the epochs trained, marked
    assert not at.exception


def test_dropout_and_class_weights_are_checked_against_the_network(app):
    at = app("pages/3_Train.py")
    at.text_input(key="train.dropout").input("0.2,0.1,0.3").run()
    warnings = " ".join(w.value for w in at.warning)
    assert "dropout lists 3 rates but the network has 2 hidden layers" in warnings
    assert at.session_state["app.trainer"].settings["dropout"] == "0"
    at.text_input(key="train.dropout").input("0.2, 0.1").run()
    at.text_input(key="train.class_weight").input("balanced").run()
    at.number_input(key="train.l1").set_value(0.001).run()
    assert not at.warning
    settings = at.session_state["app.trainer"].settings
    assert (settings["dropout"], settings["class_weight"], settings["l1"]) == (
        "0.2,0.1",
        "balanced",
        0.001,
    )
    at.button(key="train.step").click().run()
    assert at.session_state["app.trainer"].epochs_trained == 1
    assert not at.exception
