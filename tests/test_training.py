"""The training loop: reproducibility, resumption, early stopping, divergence, quality."""

import contextvars
import itertools

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.model_selection import train_test_split

import nn

MODERN_NET = {
    "layers": [4, 16, 16, 3],
    "activation": "relu",
    "output_activation": "softmax",
    "loss": "cross_entropy",
    "init": "he",
    "seed": 0,
}


def iris_split(train_size=0.75, seed=0):
    """Iris, stratified split, standardized with the training part's mean and std."""
    X, y = load_iris(return_X_y=True)
    X_tr, X_va, y_tr, y_va = train_test_split(
        X, y, train_size=train_size, stratify=y, random_state=seed
    )
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    return (X_tr - mean) / std, y_tr, (X_va - mean) / std, y_va


def losses_of(history):
    """Everything in the records except the wall-clock seconds."""
    return [{k: v for k, v in r.as_dict().items() if k != "seconds"} for r in history]


def assert_same_weights(a, b):
    for wa, wb in zip(a, b, strict=True):
        np.testing.assert_array_equal(wa, wb)


def weights_differ(a, b):
    return any(not np.array_equal(wa, wb) for wa, wb in zip(a, b, strict=True))


SETTINGS = {
    "learning_rate": 0.01,
    "batch_size": 8,
    "optimizer": "adam",
    "shuffle": True,
    "seed": 3,
}


# ---- reproducibility ----


def test_same_seed_same_history_and_weights():
    X, y, Xv, yv = iris_split()
    runs = []
    for _ in range(2):
        net = nn.Network.from_config(MODERN_NET)
        net.fit(X, y, epochs=8, validation_data=(Xv, yv), **SETTINGS)
        runs.append(net)
    assert losses_of(runs[0].history) == losses_of(runs[1].history)
    assert_same_weights(runs[0].get_weights(), runs[1].get_weights())
    assert len(runs[0].history) == 8


def test_different_seeds_differ():
    X, y, _, _ = iris_split()
    base = nn.Network.from_config(MODERN_NET)
    base.fit(X, y, epochs=5, **SETTINGS)
    other_init = nn.Network.from_config({**MODERN_NET, "seed": 1})
    other_init.fit(X, y, epochs=5, **SETTINGS)
    other_order = nn.Network.from_config(MODERN_NET)
    other_order.fit(X, y, epochs=5, **{**SETTINGS, "seed": 4})
    for other in (other_init, other_order):
        assert weights_differ(base.get_weights(), other.get_weights())
        assert losses_of(base.history) != losses_of(other.history)


def test_shuffle_false_ignores_the_training_seed():
    X, y, _, _ = iris_split()
    a = nn.Network.from_config(MODERN_NET)
    a.fit(X, y, epochs=3, **{**SETTINGS, "shuffle": False, "seed": 1})
    b = nn.Network.from_config(MODERN_NET)
    b.fit(X, y, epochs=3, **{**SETTINGS, "shuffle": False, "seed": 2})
    assert_same_weights(a.get_weights(), b.get_weights())


# ---- resumption ----


@pytest.mark.parametrize(
    "settings",
    [
        {"optimizer": "sgd", "learning_rate": 0.1},
        {"optimizer": "momentum", "learning_rate": 0.05, "momentum": 0.8},
        {"optimizer": "momentum", "learning_rate": 0.05, "nesterov": True},
        {"optimizer": "adam", "learning_rate": 0.01},
    ],
    ids=["sgd", "momentum", "nesterov", "adam"],
)
def test_two_runs_of_five_epochs_equal_one_of_ten(settings):
    X, y, Xv, yv = iris_split()
    common = {"batch_size": 8, "shuffle": True, "seed": 5, "validation_data": (Xv, yv), "l2": 1e-3}
    one = nn.Network.from_config(MODERN_NET)
    one.fit(X, y, epochs=10, **common, **settings)
    two = nn.Network.from_config(MODERN_NET)
    two.fit(X, y, epochs=5, **common, **settings)
    assert two.epochs_trained == 5
    two.fit(X, y, epochs=5, **common, **settings)
    assert [r.epoch for r in two.history] == list(range(1, 11))
    assert losses_of(one.history) == losses_of(two.history)
    assert_same_weights(one.get_weights(), two.get_weights())


def test_abandoned_generator_then_a_new_call_continues():
    X, y, Xv, yv = iris_split()
    one = nn.Network.from_config(MODERN_NET)
    one.fit(X, y, epochs=10, validation_data=(Xv, yv), **SETTINGS)
    two = nn.Network.from_config(MODERN_NET)
    gen = two.train_epochs(X, y, epochs=10, validation_data=(Xv, yv), **SETTINGS)
    first = list(itertools.islice(gen, 3))
    assert [r.epoch for r in first] == [1, 2, 3]
    del gen
    records = list(two.train_epochs(X, y, epochs=7, validation_data=(Xv, yv), **SETTINGS))
    assert [r.epoch for r in records] == list(range(4, 11))
    assert losses_of(one.history) == losses_of(two.history)
    assert_same_weights(one.get_weights(), two.get_weights())


def test_generator_resumes_in_other_contexts():
    """Streamlit resumes the generator in another context on each rerun: no context manager may
    stay open across a yield (it would fail with 'Token was created in a different Context')."""
    X, y, Xv, yv = iris_split()
    one = nn.Network.from_config(MODERN_NET)
    one.fit(X, y, epochs=6, validation_data=(Xv, yv), early_stopping=True, **SETTINGS)
    two = nn.Network.from_config(MODERN_NET)
    gen = two.train_epochs(
        X, y, epochs=6, validation_data=(Xv, yv), early_stopping=True, **SETTINGS
    )
    records = []
    while True:
        record = contextvars.copy_context().run(next, gen, None)
        if record is None:
            break
        records.append(record)
    assert len(records) == 6
    assert losses_of(one.history) == losses_of(two.history)
    assert_same_weights(one.get_weights(), two.get_weights())


def test_set_learning_rate_between_epochs_takes_effect():
    X, y, _, _ = iris_split()
    changed = nn.Network.from_config(MODERN_NET)
    unchanged = nn.Network.from_config(MODERN_NET)
    gen_changed = changed.train_epochs(X, y, epochs=4, **SETTINGS)
    gen_unchanged = unchanged.train_epochs(X, y, epochs=4, **SETTINGS)
    for _ in range(2):
        next(gen_changed)
        next(gen_unchanged)
    assert_same_weights(changed.get_weights(), unchanged.get_weights())
    changed.set_learning_rate(0.001)
    rest_changed, rest_unchanged = list(gen_changed), list(gen_unchanged)
    assert [r.learning_rate for r in rest_changed] == [0.001, 0.001]
    assert [r.learning_rate for r in rest_unchanged] == [0.01, 0.01]
    assert weights_differ(changed.get_weights(), unchanged.get_weights())
    # the same as two epochs at 0.01 then two at 0.001 with the optimizer state kept
    split = nn.Network.from_config(MODERN_NET)
    split.fit(X, y, epochs=2, **SETTINGS)
    split.fit(X, y, epochs=2, **{**SETTINGS, "learning_rate": 0.001})
    assert_same_weights(changed.get_weights(), split.get_weights())


def test_changing_the_optimizer_resets_its_state():
    X, y, _, _ = iris_split()
    plain = {"learning_rate": 0.05, "batch_size": 16}
    switched = nn.Network.from_config(MODERN_NET)
    switched.fit(X, y, epochs=3, optimizer="adam", **plain)
    after_adam = switched.get_weights()
    switched.fit(X, y, epochs=3, optimizer="momentum", **plain)
    assert switched.optimizer.name == "momentum"
    fresh = nn.Network.from_config(MODERN_NET)
    fresh.set_weights(after_adam)
    fresh.fit(X, y, epochs=3, optimizer="momentum", **plain)
    assert_same_weights(switched.get_weights(), fresh.get_weights())

    # and keeping the name keeps the state (velocity): the result differs from a fresh start
    kept = nn.Network.from_config(MODERN_NET)
    kept.fit(X, y, epochs=3, optimizer="momentum", **plain)
    restart = nn.Network.from_config(MODERN_NET)
    restart.set_weights(kept.get_weights())
    kept.fit(X, y, epochs=3, optimizer="momentum", **plain)
    restart.fit(X, y, epochs=3, optimizer="momentum", **plain)
    assert weights_differ(kept.get_weights(), restart.get_weights())


def test_reset_training_forgets_optimizer_state_but_keeps_weights():
    X, y, _, _ = iris_split()
    net = nn.Network.from_config(MODERN_NET)
    net.fit(X, y, epochs=3, **SETTINGS)
    weights = net.get_weights()
    net.reset_training()
    assert net.optimizer is None
    assert_same_weights(net.get_weights(), weights)
    net.fit(X, y, epochs=3, **SETTINGS)
    fresh = nn.Network.from_config(MODERN_NET)
    fresh.set_weights(weights)
    fresh.fit(X, y, epochs=3, **SETTINGS)
    assert_same_weights(net.get_weights(), fresh.get_weights())
    assert net.epochs_trained == 6


# ---- epoch records ----


def test_epoch_records_match_evaluation_after_each_epoch():
    X, y, Xv, yv = iris_split()
    net = nn.Network.from_config(MODERN_NET)
    for record in net.train_epochs(X, y, epochs=4, validation_data=(Xv, yv), **SETTINGS):
        train, val = net.evaluate(X, y), net.evaluate(Xv, yv)
        assert record.train_loss == pytest.approx(train["loss"], rel=1e-12)
        assert record.train_accuracy == train["accuracy"]
        assert record.val_loss == pytest.approx(val["loss"], rel=1e-12)
        assert record.val_accuracy == val["accuracy"]
        assert record.learning_rate == 0.01
        assert record.seconds >= 0
    assert set(net.history[0].as_dict()) >= {
        "epoch",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "learning_rate",
        "seconds",
    }
    bare = nn.Network.from_config(MODERN_NET)
    (record,) = bare.fit(X, y, epochs=1)
    assert record.val_loss is None and record.val_accuracy is None


def test_batch_train_metrics_are_what_each_batch_scored_before_its_step():
    """train_metrics="batches": each sample's loss and prediction from the forward pass that
    trained on it (before that batch's step), averaged over the epoch's samples."""
    X, y, _, _ = iris_split()
    X, y = X[:20], y[:20]
    net = nn.Network.from_config(MODERN_NET)
    (record,) = net.fit(
        X, y, epochs=1, learning_rate=0.3, batch_size=8, optimizer="sgd", train_metrics="batches"
    )
    ref = nn.Network.from_config(MODERN_NET)
    weights, total, correct = ref.get_weights(), 0.0, 0
    for rows in (slice(0, 8), slice(8, 16), slice(16, 20)):  # the last batch is short
        ref.set_weights(weights)
        loss, grads = ref.loss_and_gradients(X[rows], y[rows])
        total += loss * len(y[rows])
        correct += int(np.sum(ref.predict(X[rows]) == y[rows]))
        weights = [w - 0.3 * g for w, g in zip(weights, grads, strict=True)]
    for a, b in zip(net.get_weights(), weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert record.train_loss == pytest.approx(total / 20, rel=1e-12)
    assert record.train_accuracy == correct / 20
    # not the after-epoch figure: the weights moved during the epoch
    assert record.train_loss != pytest.approx(net.evaluate(X, y)["loss"], rel=1e-3)


def test_train_metrics_setting_changes_the_training_figures_only():
    X, y, Xv, yv = iris_split()
    runs = {}
    for mode in ("after_epoch", "batches"):
        net = nn.Network.from_config(MODERN_NET)
        net.fit(X, y, epochs=5, validation_data=(Xv, yv), train_metrics=mode, **SETTINGS)
        runs[mode] = net
    after, batches = runs["after_epoch"], runs["batches"]
    assert_same_weights(after.get_weights(), batches.get_weights())
    assert [r.val_loss for r in after.history] == [r.val_loss for r in batches.history]
    assert [r.train_loss for r in after.history] != [r.train_loss for r in batches.history]
    # a trained network scores better at the end of the epoch than on average during it
    assert batches.history[-1].train_loss > after.history[-1].train_loss


def test_resumed_run_with_batch_train_metrics_equals_one_run():
    X, y, Xv, yv = iris_split()
    common = {"validation_data": (Xv, yv), "train_metrics": "batches", **SETTINGS}
    one = nn.Network.from_config(MODERN_NET)
    one.fit(X, y, epochs=6, **common)
    two = nn.Network.from_config(MODERN_NET)
    two.fit(X, y, epochs=2, **common)
    two.fit(X, y, epochs=4, **common)
    assert losses_of(one.history) == losses_of(two.history)
    assert_same_weights(one.get_weights(), two.get_weights())


def test_predictions_between_epochs_do_not_disturb_training():
    """The work arrays are shared by training and prediction: predicting or evaluating other
    batch sizes between epochs (as the app does) must not change the run."""
    X, y, Xv, yv = iris_split()
    one = nn.Network.from_config(MODERN_NET)
    one.fit(X, y, epochs=6, validation_data=(Xv, yv), **{**SETTINGS, "batch_size": 16})
    two = nn.Network.from_config(MODERN_NET)
    gen = two.train_epochs(
        X, y, epochs=6, validation_data=(Xv, yv), **{**SETTINGS, "batch_size": 16}
    )
    for i, _ in enumerate(gen):
        for n in (1, 7, 16, len(X) % 16, 40 + i):
            two.predict_proba(X[: max(n, 1)])
        two.evaluate(Xv, yv)
        two.loss_and_gradients(X[:16], y[:16])
    assert losses_of(one.history) == losses_of(two.history)
    assert_same_weights(one.get_weights(), two.get_weights())


def test_zero_epochs_changes_nothing():
    X, y, _, _ = iris_split()
    net = nn.Network.from_config(MODERN_NET)
    weights = net.get_weights()
    assert list(net.train_epochs(X, y, epochs=0)) == []
    assert net.fit(X, y, epochs=0) == []
    assert_same_weights(net.get_weights(), weights)


def test_batch_larger_than_the_data_is_one_full_batch():
    X, y, _, _ = iris_split()
    full = nn.Network.from_config(MODERN_NET)
    full.fit(X, y, epochs=3, learning_rate=0.1, batch_size=len(X))
    larger = nn.Network.from_config(MODERN_NET)
    larger.fit(X, y, epochs=3, learning_rate=0.1, batch_size=10 * len(X))
    assert_same_weights(full.get_weights(), larger.get_weights())


def test_int_labels_and_one_hot_train_identically():
    X, y, Xv, yv = iris_split()
    labels = nn.Network.from_config(MODERN_NET)
    labels.fit(X, y, epochs=5, validation_data=(Xv, yv), **SETTINGS)
    onehot = nn.Network.from_config(MODERN_NET)
    onehot.fit(X, np.eye(3)[y], epochs=5, validation_data=(Xv, np.eye(3)[yv]), **SETTINGS)
    assert losses_of(labels.history) == losses_of(onehot.history)
    assert_same_weights(labels.get_weights(), onehot.get_weights())
    # labels as floats with whole values, and as a column, are the same labels too
    floats = nn.Network.from_config(MODERN_NET)
    floats.fit(X, y.astype(float).reshape(-1, 1), epochs=5, validation_data=(Xv, yv), **SETTINGS)
    assert_same_weights(labels.get_weights(), floats.get_weights())


def test_float32_training_tracks_float64():
    X, y, Xv, yv = iris_split()
    nets = {}
    for dtype in ("float64", "float32"):
        net = nn.Network.from_config({**MODERN_NET, "dtype": dtype})
        net.fit(X, y, epochs=5, validation_data=(Xv, yv), **SETTINGS)
        nets[dtype] = net
    assert all(w.dtype == np.float32 for w in nets["float32"].get_weights())
    assert nets["float32"].predict_proba(Xv).dtype == np.float32
    # the optimizer state stays float32 too (no float64 arrays on the training path)
    m, v = nets["float32"].optimizer.moments()
    assert all(a.dtype == np.float32 for a in m + v)
    for a, b in zip(nets["float64"].get_weights(), nets["float32"].get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-3)


# ---- early stopping ----

OVERFIT = {
    "layers": [4, 64, 3],
    "activation": "relu",
    "output_activation": "softmax",
    "loss": "cross_entropy",
    "init": "he",
    "seed": 0,
}
OVERFIT_TRAINING = {
    "learning_rate": 0.05,
    "batch_size": 8,
    "optimizer": "adam",
    "shuffle": True,
    "seed": 0,
}


def overfit_data():
    """24 training samples and a 64-unit layer: the validation loss bottoms out early."""
    return iris_split(train_size=24)


def train_with_snapshots(net, X, y, **settings):
    """Iterate train_epochs; return the records and the weights right after each epoch."""
    records, snapshots = [], []
    for record in net.train_epochs(X, y, **settings):
        records.append(record)
        snapshots.append(net.get_weights())
    return records, snapshots


def test_early_stopping_stops_and_restores_the_best_epoch():
    X, y, Xv, yv = overfit_data()
    net = nn.Network.from_config(OVERFIT)
    patience = 10
    records, snapshots = train_with_snapshots(
        net,
        X,
        y,
        epochs=300,
        validation_data=(Xv, yv),
        early_stopping=True,
        patience=patience,
        **OVERFIT_TRAINING,
    )
    assert net.stopped_early
    assert len(records) < 300
    val = [r.val_loss for r in records]
    best = int(np.argmin(val))
    assert best < len(records) - 1
    assert len(records) == best + 1 + patience
    assert net.epochs_trained == len(records)
    assert_same_weights(net.get_weights(), snapshots[best])
    assert net.evaluate(Xv, yv)["loss"] == pytest.approx(val[best], rel=1e-12)
    assert net.evaluate(Xv, yv)["loss"] < val[-2]


def test_early_stopping_without_restore_keeps_the_last_weights():
    X, y, Xv, yv = overfit_data()
    net = nn.Network.from_config(OVERFIT)
    records, snapshots = train_with_snapshots(
        net,
        X,
        y,
        epochs=300,
        validation_data=(Xv, yv),
        early_stopping=True,
        patience=5,
        restore_best=False,
        **OVERFIT_TRAINING,
    )
    assert net.stopped_early and len(records) < 300
    assert_same_weights(net.get_weights(), snapshots[-1])
    assert net.evaluate(Xv, yv)["loss"] == pytest.approx(records[-1].val_loss, rel=1e-12)
    assert net.evaluate(Xv, yv)["loss"] > min(r.val_loss for r in records)


def test_restore_best_when_early_stopping_never_fires():
    X, y, Xv, yv = overfit_data()
    net = nn.Network.from_config(OVERFIT)
    records, snapshots = train_with_snapshots(
        net,
        X,
        y,
        epochs=40,
        validation_data=(Xv, yv),
        early_stopping=True,
        patience=1000,
        **OVERFIT_TRAINING,
    )
    assert not net.stopped_early
    assert len(records) == 40
    val = [r.val_loss for r in records]
    best = int(np.argmin(val))
    assert best < 39  # the last epoch is not the best one, so restoring changes the weights
    assert_same_weights(net.get_weights(), snapshots[best])
    assert weights_differ(net.get_weights(), snapshots[-1])
    assert net.evaluate(Xv, yv)["loss"] == pytest.approx(val[best], rel=1e-12)


def test_fit_with_early_stopping_sets_the_flag_and_a_new_run_clears_it():
    X, y, Xv, yv = overfit_data()
    net = nn.Network.from_config(OVERFIT)
    net.fit(X, y, epochs=300, validation_data=(Xv, yv), early_stopping=True, **OVERFIT_TRAINING)
    assert net.stopped_early
    n = net.epochs_trained
    assert n < 300
    net.fit(X, y, epochs=2, validation_data=(Xv, yv), **OVERFIT_TRAINING)
    assert not net.stopped_early
    assert net.epochs_trained == n + 2


def test_resumed_run_with_early_stopping_equals_one_run():
    """Pausing and resuming (a second fit) must continue from where training stopped, also with
    early stopping on: one run of 300 epochs and a run of 10 then 290 give the same history."""
    X, y, Xv, yv = overfit_data()
    settings = {"validation_data": (Xv, yv), "early_stopping": True, **OVERFIT_TRAINING}
    one = nn.Network.from_config(OVERFIT)
    one.fit(X, y, epochs=300, **settings)
    two = nn.Network.from_config(OVERFIT)
    two.fit(X, y, epochs=10, **settings)
    two.fit(X, y, epochs=290, **settings)
    assert losses_of(one.history) == losses_of(two.history)
    assert_same_weights(one.get_weights(), two.get_weights())


def test_early_stopping_counts_epochs_without_improvement_by_hand():
    params = np.array([0.0, 0.0])
    early = nn.EarlyStopping(params, patience=2)
    assert (early.best, early.wait, early.stopped) == (np.inf, 0, False)
    steps = [(1.0, [1.0, 1.0]), (0.8, [2.0, 2.0]), (0.9, [3.0, 3.0]), (0.8, [4.0, 4.0])]
    stops = []
    for val_loss, weights in steps:
        params[...] = weights
        stops.append(early.update(val_loss, params))
    # 0.8 again is no improvement: two epochs since the best one, so it stops
    assert stops == [False, False, False, True]
    assert early.best == 0.8 and early.wait == 2 and early.stopped
    np.testing.assert_array_equal(early.best_weights, [2.0, 2.0])
    np.testing.assert_array_equal(params, [2.0, 2.0])  # restore_best: the best are back
    # a new call starts counting afresh, from the weights the run stopped with
    early.resume(params)
    assert early.wait == 0 and not early.stopped and early.best == 0.8
    np.testing.assert_array_equal(params, [2.0, 2.0])


def test_early_stopping_without_restore_best_leaves_the_weights():
    params = np.array([1.0])
    early = nn.EarlyStopping(params, patience=1, restore_best=False)
    assert not early.update(0.5, params)
    params[...] = 7.0
    assert early.update(0.6, params)
    np.testing.assert_array_equal(params, [7.0])
    np.testing.assert_array_equal(early.best_weights, [1.0])
    early.show_best(params)  # nothing to show without restore_best
    assert early.resume_point is None
    np.testing.assert_array_equal(params, [7.0])


def test_early_stopping_shows_the_best_between_calls_and_resumes_from_the_run():
    params = np.array([1.0])
    early = nn.EarlyStopping(params, patience=5)
    early.show_best(params)  # no epoch measured yet: nothing to show
    assert early.resume_point is None
    early.update(0.5, params)
    params[...] = 2.0
    early.update(0.7, params)
    early.show_best(params)
    np.testing.assert_array_equal(params, [1.0])  # the best weights, shown
    np.testing.assert_array_equal(early.resume_point, [2.0])  # where the run really is
    early.resume(params)
    np.testing.assert_array_equal(params, [2.0])
    assert early.resume_point is None and early.wait == 1
    assert "patience=5" in repr(early)


def test_the_network_keeps_its_early_stopping_across_calls():
    X, y, Xv, yv = overfit_data()
    settings = {"validation_data": (Xv, yv), "early_stopping": True, **OVERFIT_TRAINING}
    net = nn.Network.from_config(OVERFIT)
    assert net.early_stopping is None
    net.fit(X, y, epochs=3, patience=50, **settings)
    early = net.early_stopping
    val = [r.val_loss for r in net.history]
    assert early.best == min(val) and early.patience == 50
    assert early.wait == len(val) - 1 - int(np.argmin(val))
    assert early.resume_point is not None  # the best weights are shown until training goes on
    net.fit(X, y, epochs=2, patience=4, **settings)
    assert net.early_stopping is early and early.patience == 4
    net.reset_training()
    assert net.early_stopping is None and not net.stopped_early


def test_chunks_pulled_from_closed_generators_equal_one_run_with_early_stopping():
    """The app's live training: ask for every remaining epoch, pull a few, close the
    generator, repeat. The run must equal one call, stop at the same epoch and keep the
    same early-stopping state."""
    X, y, Xv, yv = overfit_data()
    settings = {"validation_data": (Xv, yv), "early_stopping": True, **OVERFIT_TRAINING}
    one = nn.Network.from_config(OVERFIT)
    one.fit(X, y, epochs=300, **settings)
    assert one.stopped_early
    chunked = nn.Network.from_config(OVERFIT)
    while chunked.epochs_trained < 300 and not chunked.stopped_early:
        gen = chunked.train_epochs(X, y, epochs=300 - chunked.epochs_trained, **settings)
        for _ in itertools.islice(gen, 3):
            pass
        gen.close()
    assert chunked.stopped_early
    assert losses_of(one.history) == losses_of(chunked.history)
    assert_same_weights(one.get_weights(), chunked.get_weights())
    a, b = one.early_stopping, chunked.early_stopping
    assert (a.best, a.wait, a.stopped) == (b.best, b.wait, b.stopped)
    np.testing.assert_array_equal(a.best_weights, b.best_weights)
    m1, v1 = one.optimizer.moments()
    m2, v2 = chunked.optimizer.moments()
    assert one.optimizer.t == chunked.optimizer.t
    for x1, x2 in zip(m1 + v1, m2 + v2, strict=True):
        np.testing.assert_array_equal(x1, x2)


# ---- divergence ----

LINEAR = {"layers": [4, 8, 3], "activation": "linear", "output_activation": "linear", "seed": 0}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_keeps_history_and_restores_the_last_finite_weights():
    X, y, _, _ = iris_split(train_size=0.9)
    net = nn.Network.from_config(LINEAR)
    records, snapshots = [], []
    with pytest.raises(nn.DivergenceError) as info:
        for record in net.train_epochs(X, y, epochs=50, learning_rate=1e6, batch_size=len(X)):
            records.append(record)
            snapshots.append(net.get_weights())
    error = info.value
    assert len(records) >= 1  # it diverges after some finite epochs, not at once
    assert error.epoch == len(records) + 1
    assert f"epoch {error.epoch}" in str(error)
    assert "learning rate" in error.hint
    assert net.epochs_trained == len(records)
    assert all(np.isfinite(r.train_loss) for r in net.history)
    weights = net.get_weights()
    assert all(np.isfinite(w).all() for w in weights)
    assert_same_weights(weights, snapshots[-1])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_after_good_epochs_restores_them():
    X, y, _, _ = iris_split()
    net = nn.Network.from_config(LINEAR)
    net.fit(X, y, epochs=5, learning_rate=0.01, batch_size=16)
    good = net.get_weights()
    history = losses_of(net.history)
    with pytest.raises(nn.DivergenceError) as info:
        net.fit(X, y, epochs=5, learning_rate=1e6, batch_size=16)
    assert info.value.epoch == 6
    assert losses_of(net.history) == history
    assert_same_weights(net.get_weights(), good)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize(("optimizer", "huge"), [("sgd", 1e6), ("momentum", 1e6), ("adam", 1e100)])
def test_training_recovers_after_divergence_with_a_lower_learning_rate(optimizer, huge):
    """The hint says: try a lower learning rate. Doing so with the same optimizer must train
    from the restored weights, not from optimizer state poisoned by the diverged epoch."""
    X, y, _, _ = iris_split()
    net = nn.Network.from_config(LINEAR)
    net.fit(X, y, epochs=5, learning_rate=0.01, batch_size=16, optimizer=optimizer)
    loss_before = net.history[-1].train_loss
    with pytest.raises(nn.DivergenceError):
        net.fit(X, y, epochs=5, learning_rate=huge, batch_size=16, optimizer=optimizer)
    assert net.epochs_trained == 5
    net.fit(X, y, epochs=5, learning_rate=0.01, batch_size=16, optimizer=optimizer)
    assert net.epochs_trained == 10
    assert net.history[-1].train_loss < loss_before


# ---- quality thresholds on real data ----


def test_digits_reach_95_percent():
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    net = nn.Network.from_config(
        {
            "layers": [64, 64, 10],
            "activation": "relu",
            "output_activation": "softmax",
            "loss": "cross_entropy",
            "init": "he",
            "seed": 0,
        }
    )
    net.fit(
        X_tr, y_tr, epochs=20, learning_rate=0.003, batch_size=32, optimizer="adam", shuffle=True
    )
    assert net.evaluate(X_te, y_te)["accuracy"] >= 0.95
    assert nn.metrics.accuracy(y_te, net.predict(X_te)) >= 0.95


def test_iris_modern_preset_reaches_90_percent():
    preset = nn.presets.MODERN
    X, y = load_iris(return_X_y=True)
    split = preset["split"]
    X_rest, X_te, y_rest, y_te = train_test_split(
        X, y, test_size=split["test_size"], stratify=y, random_state=0
    )
    X_tr, X_va, y_tr, y_va = train_test_split(
        X_rest, y_rest, test_size=split["val_size"], stratify=y_rest, random_state=0
    )
    assert split["standardize"]
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    X_tr, X_va, X_te = ((a - mean) / std for a in (X_tr, X_va, X_te))
    net = nn.Network.from_config(preset["network"])
    net.fit(X_tr, y_tr, validation_data=(X_va, y_va), **preset["training"])
    assert net.epochs_trained == preset["training"]["epochs"]
    assert net.evaluate(X_te, y_te)["accuracy"] >= 0.9
    assert net.history[-1].train_accuracy >= 0.9
