"""Finite-difference checks of ``Network.loss_and_gradients`` (float64, central differences)."""

import numpy as np
import pytest

import nn

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
OUTPUT_LOSS = [
    ("sigmoid", "squared_error"),
    ("softmax", "squared_error"),
    ("linear", "squared_error"),
    ("sigmoid", "cross_entropy"),
    ("softmax", "cross_entropy"),
]
H = 1e-6


def own_activation(name, z):
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if name == "linear":
        return z
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise AssertionError(name)


def own_forward(weights, hidden, output, X):
    """Return the hidden pre-activations and the output of a plain NumPy forward pass."""
    a, zs = X, []
    n_layers = len(weights) // 2
    for i in range(n_layers):
        z = a @ weights[2 * i] + weights[2 * i + 1]
        if i < n_layers - 1:
            zs.append(z)
            a = own_activation(hidden[i], z)
        else:
            a = own_activation(output, z)
    return zs, a


def make_case(layers, hidden, output, loss, n=6, seed=1):
    config = {
        "layers": layers,
        "activation": hidden,
        "output_activation": output,
        "loss": loss,
        "init": "uniform",
        "seed": seed,
    }
    net = nn.Network.from_config(config)
    rng = np.random.default_rng(100 + seed)
    X = rng.normal(0.0, 1.0, size=(n, layers[0]))
    n_classes = max(layers[-1], 2)
    y = np.arange(n) % n_classes
    rng.shuffle(y)
    return net, X, y


def numeric_gradients(net, X, y, l2):
    weights = net.get_weights()
    numeric = []
    for w in weights:
        g = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            orig = w[idx]
            w[idx] = orig + H
            net.set_weights(weights)
            plus = net.loss_and_gradients(X, y, l2=l2)[0]
            w[idx] = orig - H
            net.set_weights(weights)
            minus = net.loss_and_gradients(X, y, l2=l2)[0]
            w[idx] = orig
            g[idx] = (plus - minus) / (2 * H)
        numeric.append(g)
    net.set_weights(weights)
    return numeric


def assert_gradients_match(net, X, y, l2=0.0):
    hidden = net.config["activation"]
    n_hidden = len(net.config["layers"]) - 2
    hidden = [hidden] * n_hidden if isinstance(hidden, str) else hidden
    zs, _ = own_forward(net.get_weights(), hidden, net.config["output_activation"], X)
    for act, z in zip(hidden, zs, strict=True):
        if act in ("relu", "leaky_relu"):
            # A perturbation of H must not carry any pre-activation across the kink at 0,
            # and both sides of the kink must be exercised.
            assert np.abs(z).min() > 1e-3
            assert (z < 0).any() and (z > 0).any()
    before = net.get_weights()
    _, analytic = net.loss_and_gradients(X, y, l2=l2)
    for w0, w1 in zip(before, net.get_weights(), strict=True):
        np.testing.assert_array_equal(w0, w1)
    numeric = numeric_gradients(net, X, y, l2)
    assert [g.shape for g in analytic] == [w.shape for w in before]
    assert max(np.abs(g).max() for g in analytic) > 1e-3
    for i, (a, g) in enumerate(zip(analytic, numeric, strict=True)):
        np.testing.assert_allclose(a, g, rtol=1e-5, atol=1e-8, err_msg=f"array {i}")


@pytest.mark.parametrize(("output", "loss"), OUTPUT_LOSS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_gradients_every_activation_and_loss(hidden, output, loss):
    net, X, y = make_case([3, 4, 5, 3], hidden, output, loss)
    assert_gradients_match(net, X, y)


@pytest.mark.parametrize(("output", "loss"), OUTPUT_LOSS)
@pytest.mark.parametrize(
    "hidden",
    [["relu", "tanh", "sigmoid"], ["leaky_relu", "linear", "tanh"], ["sigmoid", "relu", "linear"]],
)
def test_gradients_per_layer_activations(hidden, output, loss):
    net, X, y = make_case([3, 5, 4, 4, 3], hidden, output, loss, n=7, seed=3)
    assert net.config["activation"] == hidden
    assert_gradients_match(net, X, y)


@pytest.mark.parametrize(("output", "loss"), OUTPUT_LOSS)
@pytest.mark.parametrize("hidden", ["tanh", "relu"])
def test_gradients_with_l2(hidden, output, loss):
    net, X, y = make_case([3, 4, 5, 3], hidden, output, loss, seed=2)
    assert_gradients_match(net, X, y, l2=0.3)


@pytest.mark.parametrize("loss", ["squared_error", "cross_entropy"])
@pytest.mark.parametrize("hidden", HIDDEN)
def test_gradients_single_sigmoid_output(hidden, loss):
    net, X, y = make_case([3, 4, 1], hidden, "sigmoid", loss, n=8, seed=4)
    assert set(y) == {0, 1}
    assert_gradients_match(net, X, y)
    assert_gradients_match(net, X, y, l2=0.05)


@pytest.mark.parametrize(("output", "loss"), OUTPUT_LOSS)
def test_gradients_single_sample(output, loss):
    net, X, y = make_case([3, 4, 5, 3], "tanh", output, loss, n=1, seed=5)
    assert_gradients_match(net, X, y)


@pytest.mark.parametrize(("output", "loss"), OUTPUT_LOSS)
def test_gradients_with_one_hot_targets_equal_label_targets(output, loss):
    net, X, y = make_case([3, 4, 3], "sigmoid", output, loss)
    loss_labels, grads_labels = net.loss_and_gradients(X, y)
    loss_onehot, grads_onehot = net.loss_and_gradients(X, np.eye(3)[y])
    assert loss_labels == loss_onehot
    for a, b in zip(grads_labels, grads_onehot, strict=True):
        np.testing.assert_array_equal(a, b)


def own_loss(loss, output, P, Y):
    n = len(P)
    if loss == "squared_error":
        return sum(0.5 * np.sum((Y[i] - P[i]) ** 2) for i in range(n)) / n
    if output == "softmax":
        return -sum(np.sum(Y[i] * np.log(P[i])) for i in range(n)) / n
    return -sum(np.sum(Y[i] * np.log(P[i]) + (1 - Y[i]) * np.log(1 - P[i])) for i in range(n)) / n


@pytest.mark.parametrize(("output", "loss"), OUTPUT_LOSS)
@pytest.mark.parametrize("l2", [0.0, 0.2])
def test_loss_value_is_the_batch_mean_plus_l2_penalty(output, loss, l2):
    """Squared error is 1/2 * sum_k (y_k - yhat_k)^2 per sample, averaged over the batch."""
    net, X, y = make_case([3, 4, 5, 3], ["tanh", "sigmoid"], output, loss)
    weights = net.get_weights()
    _, P = own_forward(weights, ["tanh", "sigmoid"], output, X)
    expected = own_loss(loss, output, P, np.eye(3)[y])
    expected += 0.5 * l2 * sum(np.sum(W**2) for W in weights[0::2])
    value, _ = net.loss_and_gradients(X, y, l2=l2)
    assert value == pytest.approx(expected, rel=1e-12)
    assert net.evaluate(X, y)["loss"] == pytest.approx(own_loss(loss, output, P, np.eye(3)[y]))


def test_l2_does_not_touch_the_bias_gradients():
    net, X, y = make_case([3, 4, 3], "tanh", "softmax", "cross_entropy")
    _, plain = net.loss_and_gradients(X, y)
    _, reg = net.loss_and_gradients(X, y, l2=0.5)
    weights = net.get_weights()
    for i, (g0, g1, w) in enumerate(zip(plain, reg, weights, strict=True)):
        if i % 2:
            np.testing.assert_array_equal(g0, g1)
        else:
            np.testing.assert_allclose(g1, g0 + 0.5 * w, rtol=1e-12, atol=1e-15)


# ---- cross-entropy of confident predictions ----


def confident_net(output, gap, dtype):
    """No hidden layer; for the input [1] the logits are [0, gap] (softmax) or [-gap] (sigmoid),
    so class 0 is predicted wrongly with a logit gap of ``gap``."""
    if output == "softmax":
        config = {"layers": [1, 2], "output_activation": "softmax"}
        weights = [np.array([[0.0, gap]]), np.zeros(2)]
    else:
        config = {"layers": [1, 1], "output_activation": "sigmoid"}
        weights = [np.array([[gap]]), np.zeros(1)]
    net = nn.Network.from_config({**config, "loss": "cross_entropy", "dtype": dtype})
    net.set_weights(weights)
    return net


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("gap", [5.0, 40.0, 800.0])
def test_cross_entropy_of_a_confident_wrong_prediction_is_exact(output, gap, dtype):
    """-log p of the true class is log(1 + exp(gap)), about the gap itself; clipping p at 1e-12
    would give 27.6 for any gap above 27.6 (and float32 softmax underflows past ~104)."""
    net = confident_net(output, gap, dtype)
    X, y = np.array([[1.0]]), np.array([0])
    expected = gap + np.log1p(np.exp(-gap))
    rel = 1e-12 if dtype == "float64" else 1e-6
    assert net.evaluate(X, y)["loss"] == pytest.approx(expected, rel=rel)
    loss, grads = net.loss_and_gradients(X, y)
    assert loss == pytest.approx(expected, rel=rel)
    # the gradient stays p - y: the true class's logit is pushed up with slope ~1
    p_true = np.exp(-gap) / (1.0 + np.exp(-gap))
    expected_dz = [p_true - 1.0, 1.0 - p_true] if output == "softmax" else [1.0 - p_true]
    np.testing.assert_allclose(grads[1], expected_dz, rtol=rel)
    (record,) = net.fit(X, y, epochs=1, learning_rate=1e-9)
    assert record.train_loss == pytest.approx(expected, rel=1e-6)


def test_cross_entropy_from_probabilities_alone_is_floored_not_clipped_at_1e12():
    """Without logits (e.g. a single probability row), losses.value floors log p at the log of
    the smallest normal number: exact for any representable p, finite for p = 0."""
    Y = np.array([[1.0, 0.0]])
    P = np.array([[np.exp(-40.0), 1.0 - np.exp(-40.0)]])
    assert nn.losses.value("cross_entropy", "softmax", P, Y) == pytest.approx(40.0, rel=1e-12)
    zero = nn.losses.value("cross_entropy", "softmax", np.array([[0.0, 1.0]]), Y)
    assert zero == pytest.approx(-np.log(np.finfo(float).tiny))
    sig = nn.losses.value("cross_entropy", "sigmoid", np.array([[np.exp(-40.0)]]), np.ones((1, 1)))
    assert sig == pytest.approx(40.0, rel=1e-12)
