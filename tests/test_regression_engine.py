"""The regression task in the engine: gradients, quality against scikit-learn, target units,
metrics, early stopping, divergence, save/load and the classification files that came before."""

import io
import json
import warnings
import zipfile

import numpy as np
import pytest
import sklearn.metrics

import nn
from nn import losses, task
from tests.test_gradients import numeric_gradients
from tests.test_hostile_models import make as hostile_models

H = 1e-6


def sine(n=300, noise=0.1, seed=0):
    """A noisy sine wave on [-3, 3]: X (n, 1), y (n,)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-3.0, 3.0, size=(n, 1))
    return X, np.sin(X[:, 0]) + rng.normal(0.0, noise, n)


def regressor(layers=(1, 16, 16, 1), **config):
    return nn.Network.from_config(
        {"layers": list(layers), "activation": "relu", "init": "he", "task": "regression", **config}
    )


MODERN = {"learning_rate": 0.01, "batch_size": 16, "optimizer": "adam", "shuffle": True}


def save_bytes(net) -> bytes:
    buffer = io.BytesIO()
    net.save(buffer)
    return buffer.getvalue()


def meta_of(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("meta.npy") as fh:
        return json.loads(str(np.lib.format.read_array(fh)))


def with_meta(data: bytes, **changes) -> bytes:
    """The model file ``data`` with its metadata changed (a key set to None is removed)."""
    meta = {**meta_of(data), **changes}
    meta = {k: v for k, v in meta.items() if v is not None}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            if name == "meta.npy":
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.array(json.dumps(meta)))
                dst.writestr(name, buffer.getvalue())
            else:
                dst.writestr(name, src.read(name))
    return out.getvalue()


# ---- gradients ----


def assert_regression_gradients(net, X, y, l2=0.0):
    _, analytic = net.loss_and_gradients(X, y, l2=l2)
    numeric = numeric_gradients(net, X, y, l2)
    assert max(np.abs(g).max() for g in analytic) > 1e-3
    for i, (a, g) in enumerate(zip(analytic, numeric, strict=True)):
        np.testing.assert_allclose(a, g, rtol=1e-5, atol=1e-8, err_msg=f"array {i}")


@pytest.mark.parametrize("loss", ["squared_error", "huber"])
@pytest.mark.parametrize("output", ["linear", "sigmoid"])
@pytest.mark.parametrize("hidden", ["tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("n_targets", [1, 2])
def test_gradients_of_regression_outputs_and_losses(hidden, output, loss, n_targets):
    net = nn.Network.from_config(
        {
            "layers": [3, 5, 4, n_targets],
            "activation": hidden,
            "output_activation": output,
            "loss": loss,
            "task": "regression",
            "seed": 3,
        }
    )
    rng = np.random.default_rng(7)
    X = rng.normal(size=(8, 3))
    # Targets far from and near the outputs: Huber's linear and quadratic parts both count.
    y = rng.normal(0.0, 2.5, size=(8, n_targets))
    residual = net.predict_proba(X) - y
    if loss == "huber":
        assert (np.abs(residual) > 1).any() and (np.abs(residual) < 1).any()
        # no residual within a step of the kink at |r| = delta
        assert np.abs(np.abs(residual) - losses.HUBER_DELTA).min() > 1e-3
    assert_regression_gradients(net, X, y[:, 0] if n_targets == 1 else y)
    assert_regression_gradients(net, X, y if n_targets > 1 else y[:, 0], l2=0.2)


def test_huber_by_hand():
    P = np.array([[0.5, 3.0], [-2.0, 0.0]])
    Y = np.zeros((2, 2))
    # |r| <= 1: r^2 / 2; beyond: |r| - 1/2 (delta 1)
    expected = ((0.125 + 2.5) + (1.5 + 0.0)) / 2
    assert losses.value("huber", "linear", P, Y) == pytest.approx(expected, rel=1e-15)
    delta = losses.output_delta("huber", nn.activations.Linear(), P, Y)
    np.testing.assert_array_equal(delta, np.array([[0.5, 1.0], [-1.0, 0.0]]) / 2)
    # inside delta, Huber is squared error
    small = P / 10
    assert losses.value("huber", "linear", small, Y) == losses.value(
        "squared_error", "linear", small, Y
    )


# ---- quality ----


def test_a_noisy_sine_is_fitted():
    X, y = sine(400, seed=0)
    X_test, y_test = sine(200, seed=1)
    net = regressor()
    net.fit(X, y, epochs=150, **MODERN)
    result = net.evaluate(X_test, y_test)
    assert result["r2"] > 0.95  # the noise (0.1) caps it at about 0.98
    assert result["rmse"] < 0.15
    assert net.history[-1].train_r2 > 0.95


def test_diabetes_r2_is_near_scikit_learns_mlp_regressor():
    """Same layers, solver (Adam), learning rate, batch size and epochs, no L2; scikit-learn
    gets the standardized target too (as ours trains on it). Median over 5 seeds."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPRegressor
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=2)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    ours, theirs = [], []
    for seed in range(5):
        net = regressor([10, 16, 1], init="xavier", seed=seed)
        net.fit(X_train, y_train, epochs=100, learning_rate=0.001, batch_size=32, optimizer="adam")
        ours.append(net.evaluate(X_test, y_test)["r2"])
        mlp = MLPRegressor(
            hidden_layer_sizes=(16,),
            solver="adam",
            learning_rate_init=0.001,
            batch_size=32,
            max_iter=100,
            alpha=0.0,
            tol=0.0,
            n_iter_no_change=10**9,  # all 100 epochs, as ours
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "maximum iterations reached"
            model = TransformedTargetRegressor(mlp, transformer=StandardScaler())
            model.fit(X_train, y_train)
        theirs.append(sklearn.metrics.r2_score(y_test, model.predict(X_test)))
    assert np.median(ours) > 0.3  # well above predicting the mean
    assert abs(np.median(ours) - np.median(theirs)) < 0.05


# ---- the target's units ----


def test_predictions_come_back_in_the_targets_units():
    X, y = sine(120, seed=2)
    plain, scaled = regressor(), regressor()
    plain.fit(X, y, epochs=20, **MODERN)
    scaled.fit(X, 1000 * y + 5e4, epochs=20, **MODERN)
    np.testing.assert_allclose(scaled.predict(X), 1000 * plain.predict(X) + 5e4, rtol=1e-9)
    assert scaled.target_scaler.mean[0] == pytest.approx(1000 * y.mean() + 5e4, rel=1e-12)
    assert scaled.target_scaler.scale[0] == pytest.approx(1000 * y.std(), rel=1e-12)
    # the loss is in standardized units: the same for both
    assert scaled.history[-1].train_loss == pytest.approx(plain.history[-1].train_loss, rel=1e-6)
    assert scaled.predict(X).shape == (120,)
    # raw outputs are the standardized values
    np.testing.assert_allclose(
        scaled.predict_proba(X)[:, 0] * scaled.target_scaler.scale[0]
        + scaled.target_scaler.mean[0],
        scaled.predict(X),
        rtol=1e-12,
    )


def test_several_targets_give_a_column_each():
    X, y = sine(200, seed=3)
    Y = np.column_stack([y, -300 * y + 7])
    net = regressor([1, 16, 16, 2])
    net.fit(X, Y, epochs=60, **MODERN)
    pred = net.predict(X)
    assert pred.shape == (200, 2)
    result = net.evaluate(X, Y)
    assert result["r2"] > 0.9
    assert result["r2"] == pytest.approx(sklearn.metrics.r2_score(Y, pred), abs=1e-9)
    assert result["mae"] == pytest.approx(sklearn.metrics.mean_absolute_error(Y, pred), rel=1e-9)
    rmse = sklearn.metrics.root_mean_squared_error(Y, pred)
    assert result["rmse"] == pytest.approx(rmse, rel=1e-9)


def test_target_scaler_is_standard_scaler_and_round_trips_json():
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(4)
    Y = np.column_stack([rng.normal(50, 9, 40), np.full(40, 3.0), rng.uniform(-1e6, 1e6, 40)])
    scaler = task.TargetScaler.fit(Y)
    reference = StandardScaler().fit(Y)
    np.testing.assert_allclose(scaler.mean, reference.mean_, rtol=1e-12)
    np.testing.assert_allclose(scaler.scale, reference.scale_, rtol=1e-12)
    assert scaler.scale[1] == 1.0  # a constant column is only centred
    np.testing.assert_allclose(scaler.transform(Y), reference.transform(Y), atol=1e-12)
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(Y)), Y, rtol=1e-12)
    data = json.loads(json.dumps(scaler.to_dict(), allow_nan=False))
    again = task.TargetScaler.from_dict(data)
    np.testing.assert_array_equal(again.mean, scaler.mean)
    np.testing.assert_array_equal(again.scale, scaler.scale)
    assert "TargetScaler(mean=" in repr(again)
    for bad in ({"mean": [1.0]}, {"mean": [1.0], "scale": [0.0]}, {"mean": ["a"], "scale": [1]}):
        with pytest.raises(ValueError, match="target scale"):
            task.TargetScaler.from_dict(bad)


# ---- metrics ----


def test_evaluate_equals_scikit_learns_metrics_on_the_predictions():
    X, y = sine(150, noise=0.3, seed=5)
    y = 40 * y + 12
    net = regressor()
    net.fit(X[:100], y[:100], epochs=10, **MODERN)
    pred = net.predict(X[100:])
    result = net.evaluate(X[100:], y[100:])
    assert set(result) == {"loss", "r2", "mae", "rmse"}
    assert result["r2"] == pytest.approx(sklearn.metrics.r2_score(y[100:], pred), abs=1e-9)
    mae = sklearn.metrics.mean_absolute_error(y[100:], pred)
    assert result["mae"] == pytest.approx(mae, rel=1e-9)
    rmse = sklearn.metrics.root_mean_squared_error(y[100:], pred)
    assert result["rmse"] == pytest.approx(rmse, rel=1e-9)
    # the loss: half the mean squared error of the standardized target
    z = (y[100:] - net.target_scaler.mean[0]) / net.target_scaler.scale[0]
    z_pred = net.predict_proba(X[100:])[:, 0]
    assert result["loss"] == pytest.approx(0.5 * np.mean((z - z_pred) ** 2), rel=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_regression_metrics_equal_scikit_learns(seed):
    rng = np.random.default_rng(seed)
    for shape in [(30,), (30, 3), (1,), (2, 2)]:
        y_true, y_pred = rng.normal(size=shape) * 10, rng.normal(size=shape) * 10
        assert nn.metrics.mean_absolute_error(y_true, y_pred) == pytest.approx(
            sklearn.metrics.mean_absolute_error(y_true, y_pred), rel=1e-12
        )
        assert nn.metrics.root_mean_squared_error(y_true, y_pred) == pytest.approx(
            sklearn.metrics.root_mean_squared_error(y_true, y_pred), rel=1e-12
        )
        if shape[0] > 1:
            assert nn.metrics.r2_score(y_true, y_pred) == pytest.approx(
                sklearn.metrics.r2_score(y_true, y_pred), abs=1e-12
            )
    # no spread: 1 when exact, else 0 (scikit-learn's force_finite), and so for a single row
    assert nn.metrics.r2_score([2.0, 2.0], [2.0, 2.0]) == 1.0
    assert nn.metrics.r2_score([2.0, 2.0], [2.0, 3.0]) == 0.0
    assert nn.metrics.r2_score([5.0], [4.0]) == 0.0
    with pytest.raises(ValueError, match="shape"):
        nn.metrics.r2_score([1.0, 2.0], [1.0])


# ---- the epoch record ----


def test_epoch_records_carry_r2_in_place_of_accuracy():
    X, y = sine(200, seed=6)
    Xv, yv = sine(60, seed=7)
    net = regressor()
    for record in net.train_epochs(X, y, epochs=3, validation_data=(Xv, yv), **MODERN):
        assert record.train_accuracy is None and record.val_accuracy is None
        assert record.train_r2 == pytest.approx(net.evaluate(X, y)["r2"], abs=1e-12)
        assert record.val_r2 == pytest.approx(net.evaluate(Xv, yv)["r2"], abs=1e-12)
        assert record.val_loss == pytest.approx(net.evaluate(Xv, yv)["loss"], rel=1e-12)
    assert set(record.as_dict()) >= {"train_r2", "val_r2", "train_loss", "val_loss"}
    (batches,) = regressor().fit(X, y, epochs=1, train_metrics="batches", **MODERN)
    assert batches.train_r2 < 1 and np.isfinite(batches.train_r2) and batches.val_r2 is None


def test_a_classification_record_is_what_it_was():
    X, y = sine(40, seed=8)
    net = nn.Network.from_config({"layers": [1, 4, 2], "output_activation": "softmax"})
    (record,) = net.fit(X, (y > 0).astype(int), epochs=1)
    assert record.train_r2 is None and record.val_r2 is None
    assert set(record.as_dict()) == set(hostile_models.RECORD)


def test_resuming_keeps_the_target_scale_of_the_first_call():
    X, y = sine(100, seed=9)
    net = regressor()
    net.fit(X, y, epochs=2, **MODERN)
    first = net.target_scaler.to_dict()
    net.fit(X, 100 * y + 3, epochs=1, **MODERN)
    assert net.target_scaler.to_dict() == first
    net.reset_training()
    net.fit(X, y, epochs=1, **MODERN)
    assert net.target_scaler.to_dict() == first


def test_same_seed_same_history_and_float32_trains():
    X, y = sine(100, seed=10)

    def run(**config):
        net = regressor(**config)
        net.fit(X, y, epochs=5, validation_data=(X[:20], y[:20]), **MODERN)
        return [{k: v for k, v in r.as_dict().items() if k != "seconds"} for r in net.history]

    assert run() == run()
    history = run(dtype="float32")
    assert history[-1]["train_r2"] > 0.5


# ---- early stopping and divergence ----


def test_early_stopping_stops_and_restores_the_best_weights():
    X, y = sine(20, noise=0.4, seed=2)
    Xv, yv = sine(100, noise=0.4, seed=3)
    net = regressor([1, 64, 64, 1])
    settings = {**MODERN, "batch_size": 4}
    net.fit(
        X, y, epochs=2000, validation_data=(Xv, yv), early_stopping=True, patience=20, **settings
    )
    assert net.stopped_early and net.epochs_trained < 2000
    best = min(r.val_loss for r in net.history)
    assert net.evaluate(Xv, yv)["loss"] == pytest.approx(best, rel=1e-12)
    assert net.history[-1].val_loss > best


def test_a_diverging_learning_rate_restores_the_last_finite_weights():
    X, y = sine(100, seed=0)
    net = regressor([1, 8, 1])
    net.fit(X, y, epochs=2, learning_rate=0.01)
    before = net.get_weights()
    with pytest.raises(nn.DivergenceError, match="huber loss") as info:
        net.fit(X, 1000 * y, epochs=50, learning_rate=1e4)
    assert info.value.epoch == 3 and net.epochs_trained == 2
    for a, b in zip(before, net.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    net.fit(X, y, epochs=2, learning_rate=0.01)  # trains on afterwards
    assert net.epochs_trained == 4 and np.isfinite(net.history[-1].train_r2)


# ---- saving and loading ----


def test_save_load_round_trip_gives_the_same_predictions_and_scale(tmp_path):
    X, y = sine(100, seed=11)
    net = regressor(loss="huber")
    net.fit(X, 25 * y - 3, epochs=5, validation_data=(X[:10], 25 * y[:10] - 3), **MODERN)
    path = tmp_path / "model.npz"
    net.save(path)
    again = nn.Network.load(path)
    assert again.task == "regression" and again.config == net.config
    np.testing.assert_array_equal(again.predict(X), net.predict(X))
    np.testing.assert_array_equal(again.target_scaler.mean, net.target_scaler.mean)
    np.testing.assert_array_equal(again.target_scaler.scale, net.target_scaler.scale)
    assert again.history == net.history
    assert again.evaluate(X, 25 * y - 3) == net.evaluate(X, 25 * y - 3)
    again.fit(X, 25 * y - 3, epochs=1, **MODERN)  # a loaded model trains on
    # an untrained regression network has no scale yet, and loads without one
    fresh = nn.Network.load(save_bytes(regressor()))
    assert fresh.target_scaler is None and fresh.task == "regression"


def test_a_broken_regression_file_is_refused_with_a_reason():
    X, y = sine(50, seed=12)
    net = regressor()
    net.fit(X, y, epochs=2, **MODERN)
    data = save_bytes(net)
    cases = [
        (with_meta(data, target_scaler={"mean": [0.0, 1.0], "scale": [1.0, 1.0]}), "2 targets"),
        (with_meta(data, target_scaler={"mean": [0.0], "scale": [-1.0]}), "positive finite"),
        (with_meta(data, history=[{**hostile_models.RECORD}]), "'train_r2'"),
        (with_meta(data, history=[{**meta_of(data)["history"][0], "val_r2": 1.5}]), "'val_r2'"),
    ]
    classifier = nn.Network.from_config({"layers": [1, 3, 2], "output_activation": "softmax"})
    cases.append(
        (
            with_meta(save_bytes(classifier), target_scaler=net.target_scaler.to_dict()),
            "only a regression network",
        )
    )
    for bad, words in cases:
        with pytest.raises(ValueError, match="not a model file") as info:
            nn.Network.load(bad)
        assert words in str(info.value)


def test_a_classification_model_saved_before_regression_loads_and_predicts_the_same():
    """valid.npz was written in the format of before (tests/data/make_hostile_models.py)."""
    path = hostile_models.HERE / "valid.npz"
    net = nn.Network.load(path)
    assert net.task == "classification" and net.target_scaler is None
    (record,) = net.history
    assert record.train_accuracy == 0.8 and record.train_r2 is None
    X = np.random.default_rng(13).normal(size=(20, 4))
    W1, b1, W2, b2 = net.get_weights()
    logits = (1 / (1 + np.exp(-(X @ W1 + b1)))) @ W2 + b2
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(net.predict_proba(X), probs, rtol=1e-12)
    np.testing.assert_array_equal(net.predict(X), probs.argmax(axis=1))
    # saved again, it is the same file it was: no task, no target scale, no R^2
    before, after = meta_of(path.read_bytes()), meta_of(save_bytes(net))
    assert after["config"] == before["config"] == hostile_models.CONFIG
    assert after["history"] == before["history"]
    assert set(after) == {"format", "config", "history", "metadata", "preprocessor"}


def test_a_classification_model_saved_now_has_the_old_format():
    X, y = sine(60, seed=14)
    net = nn.Network.from_config({"layers": [1, 4, 2], "output_activation": "softmax"})
    net.fit(X, (y > 0).astype(int), epochs=3, validation_data=(X[:10], (y[:10] > 0).astype(int)))
    meta = meta_of(save_bytes(net))
    assert set(meta["config"]) == set(hostile_models.CONFIG)
    assert all(set(r) == set(hostile_models.RECORD) for r in meta["history"])
    assert "target_scaler" not in meta
    again = nn.Network.load(save_bytes(net))
    np.testing.assert_array_equal(again.predict(X), net.predict(X))
    assert again.history == net.history


# ---- bad input ----


def test_config_pairs_that_do_not_suit_the_task_are_refused():
    assert regressor().config["output_activation"] == "linear"
    assert "task" not in nn.Network.from_config({"layers": [2, 2], "task": "classification"}).config
    with pytest.raises(ValueError, match="regression network needs a linear or sigmoid output"):
        regressor(output_activation="softmax", layers=[1, 4, 2])
    with pytest.raises(ValueError, match="cross_entropy is not a regression loss"):
        regressor(output_activation="sigmoid", loss="cross_entropy")
    with pytest.raises(ValueError, match="huber is not a classification loss"):
        nn.Network.from_config({"layers": [2, 2], "loss": "huber", "output_activation": "linear"})
    with pytest.raises(ValueError, match="unknown task 'ranking'"):
        nn.Network.from_config({"layers": [2, 2], "task": "ranking"})


def test_bad_regression_targets_are_named():
    X, y = sine(10, seed=15)
    net = regressor()
    cases = [
        (np.where(np.arange(10) == 3, np.nan, y), "y contains NaN or infinite values"),
        (np.where(np.arange(10) == 3, np.inf, y), "y contains NaN or infinite values"),
        (y[:9], "y has 9 values but there are 10 samples"),
        (np.column_stack([y, y]), "y has 2 target columns"),
        (y > 0, "True/False labels, a classification target"),
        (np.array(["a"] * 10), "text labels are a classification target"),
    ]
    for bad, words in cases:
        with pytest.raises(ValueError, match=words):
            net.fit(X, bad, epochs=1)
    with pytest.raises(ValueError, match="y_val contains NaN"):
        net.fit(X, y, epochs=1, validation_data=(X, np.full(10, np.nan)))
    assert net.epochs_trained == 0 and net.target_scaler is None
    three = regressor([1, 4, 3])
    with pytest.raises(ValueError, match="class labels\\? build the network with task"):
        three.fit(X, np.arange(10) % 3, epochs=1)
    with pytest.raises(ValueError, match="y contains NaN"):
        net.evaluate(X, np.full(10, np.inf))


def test_a_regression_target_given_to_a_classifier_is_named():
    X, y = sine(10, seed=16)
    net = nn.Network.from_config({"layers": [1, 4, 3], "output_activation": "softmax"})
    with pytest.raises(ValueError, match="a regression target \\(build the network with task"):
        net.fit(X, y, epochs=1)
