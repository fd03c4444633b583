"""The network's public surface: config, weights layout, prediction, and every bad input."""

import json

import numpy as np
import pytest

import nn

CONFIG = {
    "layers": [4, 5, 10, 3],
    "activation": "sigmoid",
    "output_activation": "sigmoid",
    "loss": "squared_error",
    "init": "uniform",
    "seed": 0,
}


def data(n=10, n_features=4, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_features)), np.arange(n) % n_classes


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---- config ----


def test_config_is_normalized_and_json_serializable():
    net = nn.Network.from_config({"layers": [4, 5, 10, 3]})
    assert net.config == {
        "layers": [4, 5, 10, 3],
        "activation": "sigmoid",
        "output_activation": "sigmoid",
        "loss": "squared_error",
        "init": "uniform",
        "seed": 0,
        "dtype": "float64",
    }
    assert json.loads(json.dumps(net.config)) == net.config
    full = nn.Network.from_config({**CONFIG, "layers": np.array([4, 5, 10, 3])})
    assert full.config["layers"] == [4, 5, 10, 3]
    assert all(type(n) is int for n in full.config["layers"])
    listed = nn.Network.from_config({**CONFIG, "activation": ["relu", "tanh"]})
    assert listed.config["activation"] == ["relu", "tanh"]


def test_n_params_counts_weights_and_biases():
    net = nn.Network.from_config(CONFIG)
    assert net.n_params == (4 * 5 + 5) + (5 * 10 + 10) + (10 * 3 + 3) == 118
    assert sum(w.size for w in net.get_weights()) == net.n_params
    assert "4, 5, 10, 3" in repr(net)


def test_same_seed_same_weights_and_different_seed_different_weights():
    a = nn.Network.from_config(CONFIG).get_weights()
    b = nn.Network.from_config(CONFIG).get_weights()
    c = nn.Network.from_config({**CONFIG, "seed": 1}).get_weights()
    for wa, wb in zip(a, b, strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a[0], c[0])


def test_initialisation_schemes():
    big = [200, 300, 100]
    uniform = nn.Network.from_config({"layers": big, "init": "uniform"}).get_weights()
    for w in uniform:  # weights AND biases from U[-1, 1]
        assert w.min() >= -1.0 and w.max() <= 1.0
        assert w.min() < -0.9 and w.max() > 0.9
    assert abs(uniform[0].std() - 1 / np.sqrt(3)) < 0.01
    xavier = nn.Network.from_config({"layers": big, "init": "xavier"}).get_weights()
    limit = np.sqrt(6 / (200 + 300))
    assert np.abs(xavier[0]).max() <= limit and np.abs(xavier[0]).max() > 0.95 * limit
    assert not xavier[1].any() and not xavier[3].any()
    he = nn.Network.from_config({"layers": big, "init": "he"}).get_weights()
    assert abs(he[0].std() / np.sqrt(2 / 200) - 1) < 0.02
    assert abs(he[2].std() / np.sqrt(2 / 300) - 1) < 0.03
    assert not he[1].any()


# ---- weights layout ----


def test_get_weights_layout():
    net = nn.Network.from_config(CONFIG)
    shapes = [w.shape for w in net.get_weights()]
    assert shapes == [(4, 5), (5,), (5, 10), (10,), (10, 3), (3,)]


def test_get_weights_returns_copies():
    net = nn.Network.from_config(CONFIG)
    X, _ = data()
    before = net.predict_proba(X)
    weights = net.get_weights()
    for w in weights:
        w += 1.0
    np.testing.assert_array_equal(net.predict_proba(X), before)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_set_weights_then_predict_proba_equals_plain_numpy_forward(dtype):
    net = nn.Network.from_config({**CONFIG, "activation": ["relu", "tanh"], "dtype": dtype})
    rng = np.random.default_rng(5)
    weights = [rng.normal(size=w.shape) for w in net.get_weights()]
    net.set_weights(weights)
    X = rng.normal(size=(7, 4))
    W1, b1, W2, b2, W3, b3 = weights
    h1 = np.maximum(X @ W1 + b1, 0.0)
    h2 = np.tanh(h1 @ W2 + b2)
    expected = sigmoid(h2 @ W3 + b3)
    P = net.predict_proba(X)
    assert P.shape == (7, 3)
    assert P.dtype == np.dtype(dtype)
    tol = 1e-12 if dtype == "float64" else 1e-5
    np.testing.assert_allclose(P, expected, rtol=tol, atol=tol)
    np.testing.assert_array_equal(net.predict(X), expected.argmax(axis=1))
    got = net.get_weights()
    for g, w in zip(got, weights, strict=True):
        assert g.dtype == np.dtype(dtype)
        np.testing.assert_allclose(g, w, rtol=tol)


def test_softmax_output_rows_sum_to_one_and_match_numpy():
    net = nn.Network.from_config(
        {"layers": [4, 6, 3], "activation": "leaky_relu", "output_activation": "softmax"}
    )
    X, _ = data(n=9)
    W1, b1, W2, b2 = net.get_weights()
    z = X @ W1 + b1
    h = np.where(z > 0, z, 0.01 * z)
    logits = h @ W2 + b2
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    P = net.predict_proba(X)
    np.testing.assert_allclose(P, expected, rtol=1e-12)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)


def test_single_sigmoid_output_predicts_by_threshold():
    net = nn.Network.from_config({"layers": [2, 3, 1], "seed": 2})
    X = np.random.default_rng(0).normal(size=(50, 2)) * 3
    P = net.predict_proba(X)
    assert P.shape == (50, 1)
    np.testing.assert_array_equal(net.predict(X), (P[:, 0] > 0.5).astype(int))
    assert 0 < net.predict(X).sum() < 50


def test_predict_accepts_a_single_sample_as_1d():
    net = nn.Network.from_config(CONFIG)
    x = np.array([5.1, 3.5, 1.4, 0.2])
    np.testing.assert_array_equal(net.predict_proba(x), net.predict_proba(x[None, :]))
    assert net.predict(x).shape == (1,)


def test_evaluate_matches_own_loss_and_accuracy():
    net = nn.Network.from_config(CONFIG)
    X, y = data(n=30)
    P = net.predict_proba(X)
    Y = np.eye(3)[y]
    result = net.evaluate(X, y)
    assert set(result) == {"loss", "accuracy"}
    assert result["loss"] == pytest.approx(0.5 * np.sum((Y - P) ** 2) / 30, rel=1e-12)
    assert result["accuracy"] == pytest.approx(np.mean(P.argmax(axis=1) == y))


# ---- the public helpers: input checks, forward pass, penalty ----


def test_check_inputs_returns_what_the_network_uses():
    net = nn.Network.from_config({**CONFIG, "dtype": "float32"})
    X, y = data(n=6)
    Xc, Y = net.check_inputs(X.tolist(), y)
    assert Xc.dtype == np.float32 and Xc.flags.c_contiguous and Xc.shape == (6, 4)
    np.testing.assert_array_equal(Xc, X.astype(np.float32))
    assert Y.dtype == np.float32
    np.testing.assert_array_equal(Y, np.eye(3)[y])
    np.testing.assert_array_equal(net.check_inputs(X, np.eye(3)[y])[1], Y)
    one, none = net.check_inputs(X[0])
    assert one.shape == (1, 4) and none is None
    single = nn.Network.from_config({"layers": [4, 3, 1]})
    np.testing.assert_array_equal(single.check_inputs(X, y % 2)[1], (y % 2).reshape(-1, 1))


def test_check_inputs_names_the_arrays_in_its_messages():
    net = nn.Network.from_config(CONFIG)
    X, y = data(n=10)
    with pytest.raises(ValueError, match="X_val has 3 features but the network expects 4"):
        net.check_inputs(X[:, :3], y, names=("X_val", "y_val"))
    with pytest.raises(ValueError, match="y_val has 9 labels but there are 10 samples"):
        net.check_inputs(X, y[:9], names=("X_val", "y_val"))
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        net.check_inputs(X)
    with pytest.raises(ValueError, match="X contains NaN"):
        net.forward(X)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_forward_gives_every_layer_as_plain_numpy_computes_it(dtype):
    net = nn.Network.from_config(
        {**CONFIG, "activation": ["relu", "tanh"], "output_activation": "softmax", "dtype": dtype}
    )
    X, _ = data(n=7)
    W1, b1, W2, b2, W3, b3 = net.get_weights()
    z1 = X @ W1 + b1
    h1 = np.maximum(z1, 0.0)
    z2 = h1 @ W2 + b2
    h2 = np.tanh(z2)
    z3 = h2 @ W3 + b3
    expected = [(X, z1, h1), (h1, z2, h2), (h2, z3, np.exp(z3) / np.exp(z3).sum(1, keepdims=True))]
    layers = net.forward(X)
    tol = 1e-12 if dtype == "float64" else 1e-5
    assert [values.activation.name for values in layers] == ["relu", "tanh", "softmax"]
    for values, (a_prev, z, a) in zip(layers, expected, strict=True):
        assert values.z.dtype == np.dtype(dtype)
        np.testing.assert_allclose(values.inputs[:, :-1], a_prev, rtol=tol, atol=tol)
        np.testing.assert_array_equal(values.inputs[:, -1], 1.0)
        np.testing.assert_allclose(values.z, z, rtol=tol, atol=tol)
        np.testing.assert_allclose(values.a, a, rtol=tol, atol=tol)
    np.testing.assert_array_equal(layers[-1].a, net.predict_proba(X))


def test_forward_values_are_the_callers_and_its_activations_give_slopes():
    net = nn.Network.from_config(CONFIG)
    X, y = data(n=5)
    layers = net.forward(X)
    kept = [values.a.copy() for values in layers]
    net.predict_proba(data(n=5, seed=1)[0])
    net.loss_and_gradients(X[:3], y[:3])
    for values, a in zip(layers, kept, strict=True):
        np.testing.assert_array_equal(values.a, a)
    a1 = layers[0].a
    slope = layers[0].activation.backward(np.ones_like(a1))
    np.testing.assert_allclose(slope, a1 * (1 - a1), rtol=1e-15)
    assert net.activations[0] is not layers[0].activation


def test_penalty_is_half_l2_times_the_squared_weights_without_biases():
    net = nn.Network.from_config(CONFIG)
    X, y = data(n=8)
    W = net.get_weights()[::2]
    assert net.penalty(0.0) == 0.0
    assert net.penalty(0.1) == pytest.approx(0.05 * sum(np.sum(w**2) for w in W), rel=1e-12)
    loss, _ = net.loss_and_gradients(X, y, l2=0.1)
    assert loss == pytest.approx(net.evaluate(X, y)["loss"] + net.penalty(0.1), rel=1e-12)


# ---- bad input: config ----


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"layers": [4, 0, 3]}, "layer 1 must have a whole number of nodes >= 1, got 0"),
        ({"layers": [0, 5, 3]}, "layer 0 must have a whole number of nodes"),
        ({"layers": [4, 5, 0]}, "layer 2 must have a whole number of nodes"),
        ({"layers": [4, -2, 3]}, "nodes >= 1"),
        ({"layers": [4, 2.5, 3]}, "whole number of nodes"),
        ({"layers": [4]}, "at least two sizes"),
        ({"layers": []}, "at least two sizes"),
        ({"layers": "4,5,3"}, "at least two sizes"),
        ({"activation": "swish"}, "unknown activation 'swish'"),
        ({"activation": "softmax"}, "unknown activation 'softmax'"),
        ({"activation": ["relu"]}, "lists 1 activations but the network has 2 hidden layers"),
        ({"activation": ["relu", "tanh", "relu"]}, "lists 3 activations"),
        ({"activation": ["relu", "nope"]}, "unknown activation 'nope'"),
        ({"output_activation": "tanh"}, "unknown output activation 'tanh'"),
        ({"loss": "hinge"}, "unknown loss 'hinge'"),
        (
            {"output_activation": "linear", "loss": "cross_entropy"},
            "cross_entropy needs a sigmoid or softmax output",
        ),
        ({"init": "glorot"}, "unknown init 'glorot'"),
        ({"dtype": "float16"}, "unknown dtype"),
        ({"seed": -1}, "'seed' must be a whole number"),
        ({"nodes": [4, 3]}, "unknown config keys: nodes"),
    ],
)
def test_bad_config_is_rejected_with_a_message(change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        nn.Network.from_config({**CONFIG, **change})


def test_config_without_layers_or_not_a_dict():
    with pytest.raises(ValueError, match="needs 'layers'"):
        nn.Network.from_config({"activation": "relu"})
    with pytest.raises(ValueError, match="must be a dict"):
        nn.Network.from_config([4, 5, 3])


def test_softmax_needs_two_outputs():
    with pytest.raises(ValueError, match="softmax output needs at least 2"):
        nn.Network.from_config({"layers": [4, 3, 1], "output_activation": "softmax"})


# ---- bad input: set_weights ----


def test_set_weights_wrong_shape_names_the_layer():
    net = nn.Network.from_config(CONFIG)
    weights = net.get_weights()
    bad = list(weights)
    bad[2] = np.zeros((10, 5))
    with pytest.raises(ValueError, match=r"layer 2 W must have shape \(5, 10\), got \(10, 5\)"):
        net.set_weights(bad)
    bad = list(weights)
    bad[5] = np.zeros(4)
    with pytest.raises(ValueError, match=r"layer 3 b must have shape \(3,\)"):
        net.set_weights(bad)
    with pytest.raises(ValueError, match="expected 6 arrays"):
        net.set_weights(weights[:4])
    bad = list(weights)
    bad[0] = np.full((4, 5), np.nan)
    with pytest.raises(ValueError, match="layer 1 W must hold finite real numbers"):
        net.set_weights(bad)
    for dtype in (complex, "m8[s]", bool):
        bad = list(weights)
        bad[2] = np.zeros((5, 10), dtype=dtype)
        with pytest.raises(ValueError, match="layer 2 W must hold finite real numbers"):
            net.set_weights(bad)
    # nothing was half-applied by the rejected calls
    for a, b in zip(net.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(a, b)


# ---- bad input: data ----


def all_entry_points(net, X, y):
    """Call every public method that takes X (and y) with these arrays."""
    return [
        lambda: net.predict(X),
        lambda: net.predict_proba(X),
        lambda: net.evaluate(X, y),
        lambda: net.fit(X, y, epochs=1),
        lambda: net.train_epochs(X, y, epochs=1),
        lambda: net.loss_and_gradients(X, y),
    ]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_X(bad):
    net = nn.Network.from_config(CONFIG)
    X, y = data()
    X[3, 2] = bad
    for call in all_entry_points(net, X, y):
        with pytest.raises(ValueError, match="X contains NaN or infinite values"):
            call()


def test_wrong_number_of_features():
    net = nn.Network.from_config(CONFIG)
    X, y = data(n_features=3)
    for call in all_entry_points(net, X, y):
        with pytest.raises(ValueError, match="X has 3 features but the network expects 4"):
            call()


def test_empty_X():
    net = nn.Network.from_config(CONFIG)
    X = np.empty((0, 4))
    y = np.empty(0, dtype=int)
    for call in all_entry_points(net, X, y):
        with pytest.raises(ValueError, match="X is empty"):
            call()
    with pytest.raises(ValueError, match=r"empty|2-D"):
        net.predict([])


def test_X_with_wrong_dimensions_or_not_numeric():
    net = nn.Network.from_config(CONFIG)
    with pytest.raises(ValueError, match="2-D array"):
        net.predict(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="X must be numeric"):
        net.predict([["a", "b", "c", "d"]])


def test_mismatched_X_and_y_lengths():
    net = nn.Network.from_config(CONFIG)
    X, y = data(n=10)
    for call in all_entry_points(net, X, y[:9])[2:]:
        with pytest.raises(ValueError, match="y has 9 labels but there are 10 samples"):
            call()


@pytest.mark.parametrize("label", [3, -1, 7])
def test_labels_outside_the_output_size(label):
    net = nn.Network.from_config(CONFIG)
    X, y = data()
    y[4] = label
    for call in all_entry_points(net, X, y)[2:]:
        with pytest.raises(ValueError, match=r"labels outside 0\.\.2 \(the network has 3 output"):
            call()


def test_labels_outside_a_single_sigmoid_output():
    net = nn.Network.from_config({"layers": [4, 3, 1]})
    X, _ = data()
    with pytest.raises(ValueError, match=r"labels outside 0\.\.1"):
        net.fit(X, np.arange(10) % 3, epochs=1)


def test_bad_label_values_and_shapes():
    net = nn.Network.from_config(CONFIG)
    X, y = data()
    with pytest.raises(ValueError, match="whole-number class labels"):
        net.fit(X, y + 0.5, epochs=1)
    with pytest.raises(ValueError, match="y contains NaN"):
        net.fit(X, np.where(y == 1, np.nan, y), epochs=1)
    with pytest.raises(ValueError, match=r"one-hot \(n, 3\), got shape \(10, 4\)"):
        net.fit(X, np.eye(4)[y], epochs=1)
    with pytest.raises(ValueError, match="integer class labels"):
        net.fit(X, np.array(["a"] * 10), epochs=1)
    onehot = np.eye(3)[y]
    onehot[0, 0] = np.inf
    with pytest.raises(ValueError, match="y contains NaN or infinite"):
        net.fit(X, onehot, epochs=1)


def test_bad_validation_data():
    net = nn.Network.from_config(CONFIG)
    X, y = data()
    Xv, yv = data(n=5, seed=1)
    with pytest.raises(ValueError, match="y_val has 4 labels but there are 5 samples"):
        net.fit(X, y, epochs=1, validation_data=(Xv, yv[:4]))
    with pytest.raises(ValueError, match="X_val has 2 features"):
        net.fit(X, y, epochs=1, validation_data=(Xv[:, :2], yv))
    Xv[0, 0] = np.nan
    with pytest.raises(ValueError, match="X_val contains NaN"):
        net.fit(X, y, epochs=1, validation_data=(Xv, yv))
    with pytest.raises(ValueError, match="validation_data must be a pair"):
        net.fit(X, y, epochs=1, validation_data=(X, y, y))
    assert net.epochs_trained == 0


# ---- bad input: training settings ----


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"epochs": -1}, "epochs must be a whole number >= 0"),
        ({"epochs": 2.5}, "epochs must be a whole number"),
        ({"epochs": "10"}, "epochs must be a whole number"),
        ({"epochs": True}, "epochs must be a whole number"),
        ({"batch_size": 0}, "batch_size must be a whole number >= 1"),
        ({"batch_size": -4}, "batch_size must be a whole number >= 1"),
        ({"batch_size": 1.5}, "batch_size must be a whole number"),
        ({"batch_size": None}, "batch_size must be a whole number"),
        ({"learning_rate": 0}, "learning_rate must be a number > 0"),
        ({"learning_rate": -0.1}, "learning_rate must be a number > 0"),
        ({"learning_rate": np.nan}, "learning_rate must be a finite number"),
        ({"learning_rate": np.inf}, "learning_rate must be a finite number"),
        ({"learning_rate": "0.1"}, "learning_rate must be a number > 0"),
        ({"l2": -0.1}, "l2 must be a number >= 0"),
        ({"l2": np.nan}, "l2 must be a finite number"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of sgd, momentum, adam"),
        ({"patience": 0}, "patience must be a whole number >= 1"),
        ({"early_stopping": True}, "early stopping needs validation data"),
        ({"train_metrics": "during"}, "train_metrics must be one of after_epoch, batches"),
        ({"train_metrics": None}, "train_metrics must be one of"),
    ],
)
def test_bad_training_settings(settings, message):
    net = nn.Network.from_config(CONFIG)
    X, y = data()
    before = net.get_weights()
    with pytest.raises(ValueError, match=message):
        net.fit(X, y, **settings)
    # train_epochs checks when called, before the first next()
    with pytest.raises(ValueError, match=message):
        net.train_epochs(X, y, **settings)
    assert net.epochs_trained == 0
    for a, b in zip(net.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_with_empty_validation_data_is_rejected():
    net = nn.Network.from_config(CONFIG)
    X, y = data()
    with pytest.raises(ValueError, match="early stopping needs validation data"):
        net.fit(X, y, validation_data=(np.empty((0, 4)), np.empty(0)), early_stopping=True)


@pytest.mark.parametrize("lr", [0, -1.0, np.nan, np.inf, "0.1", None])
def test_set_learning_rate_rejects_bad_values(lr):
    net = nn.Network.from_config(CONFIG)
    X, y = data()
    net.fit(X, y, epochs=1)
    with pytest.raises(ValueError, match="learning_rate must be"):
        net.set_learning_rate(lr)
    assert net.optimizer.learning_rate == 0.15


def test_release_workspaces_frees_the_work_arrays_and_training_goes_on_the_same():
    X, y = data(n=60)
    a = nn.Network.from_config(CONFIG)
    b = nn.Network.from_config(CONFIG)
    a.fit(X, y, epochs=2, batch_size=16)
    b.fit(X, y, epochs=2, batch_size=16)
    assert a._workspaces
    a.release_workspaces()
    assert not a._workspaces
    a.fit(X, y, epochs=2, batch_size=16)
    b.fit(X, y, epochs=2, batch_size=16)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
