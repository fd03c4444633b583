"""nn.inspect: decision grids, the backprop trace, the gradient check and the health signals."""

import ast
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

import nn
from nn import activations
from nn import inspect as ins

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
OUTPUT_LOSS = [
    ("sigmoid", "squared_error"),
    ("softmax", "squared_error"),
    ("linear", "squared_error"),
    ("sigmoid", "cross_entropy"),
    ("softmax", "cross_entropy"),
]


def make_net(layers, hidden="tanh", output="softmax", loss="cross_entropy", init="uniform", **kw):
    config = {
        "layers": layers,
        "activation": hidden,
        "output_activation": output,
        "loss": loss,
        "init": init,
        "seed": kw.pop("seed", 1),
        **kw,
    }
    return nn.Network.from_config(config)


@pytest.fixture(scope="module")
def iris():
    data = load_iris()
    return data.data, data.target


def standardized(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


# ---- decision_grid ----


def test_decision_grid_2d_matches_predictions_at_grid_points():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2)) * [1.0, 3.0] + [2.0, -1.0]
    net = make_net([2, 6, 3])
    xs, ys, probs = ins.decision_grid(net, X, resolution=25, margin=0.5)
    assert xs.shape == (25,) and ys.shape == (25,) and probs.shape == (25, 25, 3)
    pad = 0.5 * X.std(axis=0)
    np.testing.assert_allclose([xs[0], xs[-1]], [X[:, 0].min() - pad[0], X[:, 0].max() + pad[0]])
    np.testing.assert_allclose([ys[0], ys[-1]], [X[:, 1].min() - pad[1], X[:, 1].max() + pad[1]])
    for i, j in [(0, 0), (3, 17), (24, 5), (24, 24)]:
        expected = net.predict_proba([[xs[j], ys[i]]])[0]
        np.testing.assert_allclose(probs[i, j], expected, rtol=1e-12)


def test_decision_grid_holds_other_features_fixed_and_applies_transform(iris):
    X, _ = iris
    mean, std = X.mean(axis=0), X.std(axis=0)
    net = make_net([4, 5, 3], seed=3)
    fixed = np.array([5.0, 3.0, 4.0, 1.2])
    xs, ys, probs = ins.decision_grid(
        net, X, resolution=12, fixed=fixed, features=(2, 3), transform=lambda r: (r - mean) / std
    )
    assert (xs[0], xs[-1]) == pytest.approx(
        (X[:, 2].min() - 0.5 * X[:, 2].std(), X[:, 2].max() + 0.5 * X[:, 2].std())
    )
    for i, j in [(0, 11), (7, 2)]:
        row = fixed.copy()
        row[2], row[3] = xs[j], ys[i]
        expected = net.predict_proba(((row - mean) / std)[None])[0]
        np.testing.assert_allclose(probs[i, j], expected, rtol=1e-12)
    # The fixed features matter: other values give another surface.
    _, _, other = ins.decision_grid(
        net,
        X,
        resolution=12,
        fixed=fixed + np.array([2.0, -1.0, 0, 0]),
        features=(2, 3),
        transform=lambda r: (r - mean) / std,
    )
    assert np.abs(other - probs).max() > 1e-3


def test_decision_grid_default_fixed_is_the_median_and_two_columns_need_fixed(iris):
    X, _ = iris
    net = make_net([4, 3], seed=2)
    _, _, by_default = ins.decision_grid(net, X, resolution=6, features=(0, 1))
    _, _, by_median = ins.decision_grid(
        net, X[:, :2], resolution=6, features=(0, 1), fixed=np.median(X, axis=0)
    )
    np.testing.assert_array_equal(by_default, by_median)
    with pytest.raises(ValueError, match="fixed"):
        ins.decision_grid(net, X[:, :2], resolution=6)


def test_decision_grid_single_sigmoid_output_gives_two_columns():
    X = np.random.default_rng(1).normal(size=(30, 2))
    net = make_net([2, 4, 1], output="sigmoid", loss="squared_error")
    xs, ys, probs = ins.decision_grid(net, X, resolution=9)
    assert probs.shape == (9, 9, 2)
    np.testing.assert_allclose(probs.sum(axis=2), 1.0)
    np.testing.assert_allclose(probs[4, 2, 1], net.predict_proba([[xs[2], ys[4]]])[0, 0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"features": (1, 1)}, "two different indices"),
        ({"features": (0, 4)}, "two different indices"),
        ({"features": "ab"}, "feature indices"),
        ({"fixed": [1.0, 2.0]}, "all 4 feature values"),
        ({"fixed": [1.0, 2.0, np.nan, 0.0]}, "NaN"),
        ({"resolution": 1}, "resolution"),
        ({"resolution": 5000}, "resolution"),
        ({"resolution": 2.5}, "whole number"),
        ({"margin": -1}, "margin"),
    ],
)
def test_decision_grid_rejects_bad_arguments(iris, kwargs, message):
    net = make_net([4, 3])
    with pytest.raises(ValueError, match=message):
        ins.decision_grid(net, iris[0], **kwargs)


def test_decision_grid_rejects_bad_data():
    net = make_net([4, 3])
    with pytest.raises(ValueError, match="3 columns"):
        ins.decision_grid(net, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="non-empty"):
        ins.decision_grid(net, np.zeros((0, 4)))
    with pytest.raises(ValueError, match="at least two input features"):
        ins.decision_grid(make_net([1, 2]), np.zeros((5, 1)))


# ---- backprop_trace ----


@pytest.mark.parametrize(("output", "loss"), OUTPUT_LOSS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_trace_update_equals_one_sgd_epoch_on_the_sample(iris, hidden, output, loss):
    X, y = iris
    X = standardized(X)
    net = make_net([4, 5, 6, 3], hidden, output, loss, seed=4)
    before = net.get_weights()
    trace = ins.backprop_trace(net, X[17], y[17], learning_rate=0.2, l2=0.01)
    for w0, w1 in zip(before, net.get_weights(), strict=True):
        np.testing.assert_array_equal(w0, w1)  # tracing changes nothing
    twin = make_net([4, 5, 6, 3], hidden, output, loss, seed=4)
    twin.fit(
        X[17:18], y[17:18], epochs=1, learning_rate=0.2, batch_size=1, optimizer="sgd", l2=0.01
    )
    for mine, engine in zip(trace.new_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(mine, engine, rtol=0, atol=1e-14)
    assert max(np.abs(a - b).max() for a, b in zip(before, trace.new_weights(), strict=True)) > 0
    value, grads = net.loss_and_gradients(X[17:18], y[17:18], l2=0.01)
    assert trace.loss == pytest.approx(value, rel=1e-12)
    for mine, engine in zip(trace.gradients(), grads, strict=True):
        np.testing.assert_allclose(mine, engine, rtol=0, atol=1e-14)


@pytest.mark.parametrize("hidden", HIDDEN)
def test_trace_numbers_follow_the_formulas(iris, hidden):
    X, y = iris
    net = make_net([4, 5, 6, 3], hidden, "sigmoid", "squared_error", seed=6)
    trace = ins.backprop_trace(net, X[60], y[60], learning_rate=0.1)
    np.testing.assert_array_equal(trace.target, np.eye(3)[y[60]])
    a = X[60]
    for layer in trace.layers:
        np.testing.assert_allclose(layer.a_prev, a, rtol=1e-15)
        np.testing.assert_allclose(layer.z, a @ layer.W + layer.b, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.delta, layer.grad_a * layer.slope, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer.grad_W, np.outer(layer.a_prev, layer.delta), atol=1e-15)
        np.testing.assert_array_equal(layer.grad_b, layer.delta)
        np.testing.assert_allclose(layer.W_new, layer.W - 0.1 * layer.grad_W, atol=1e-15)
        a = layer.a
    np.testing.assert_array_equal(trace.output, trace.layers[-1].a)
    np.testing.assert_allclose(trace.layers[-1].grad_a, trace.output - trace.target)
    for lower, upper in zip(trace.layers, trace.layers[1:], strict=False):
        np.testing.assert_allclose(lower.grad_a, upper.W @ upper.delta, rtol=1e-12, atol=1e-15)
    assert [layer.activation for layer in trace.layers] == [hidden, hidden, "sigmoid"]


def test_trace_hand_worked_example():
    """1 -> 1 -> 1 sigmoid network, squared error, worked out by hand."""
    net = make_net([1, 1, 1], "sigmoid", "sigmoid", "squared_error")
    net.set_weights([np.array([[0.5]]), np.array([0.0]), np.array([[1.0]]), np.array([-0.25])])
    trace = ins.backprop_trace(net, [1.0], 1, learning_rate=0.5)

    def sig(v):
        return 1.0 / (1.0 + math.exp(-v))

    a1 = sig(0.5)
    a2 = sig(a1 - 0.25)
    loss = 0.5 * (1.0 - a2) ** 2
    d2 = (a2 - 1.0) * a2 * (1.0 - a2)
    d1 = d2 * 1.0 * a1 * (1.0 - a1)
    first, second = trace.layers
    assert trace.loss == pytest.approx(loss, rel=1e-13)
    assert second.z[0] == pytest.approx(a1 - 0.25, rel=1e-13)
    assert second.delta[0] == pytest.approx(d2, rel=1e-12)
    assert second.grad_W[0, 0] == pytest.approx(a1 * d2, rel=1e-12)
    assert first.delta[0] == pytest.approx(d1, rel=1e-12)
    assert first.grad_W[0, 0] == pytest.approx(1.0 * d1, rel=1e-12)
    assert first.W_new[0, 0] == pytest.approx(0.5 - 0.5 * d1, rel=1e-13)
    assert second.b_new[0] == pytest.approx(-0.25 - 0.5 * d2, rel=1e-13)


def test_trace_softmax_cross_entropy_is_fused(iris):
    X, y = iris
    net = make_net([4, 3, 3], "relu", "softmax", "cross_entropy", init="he")
    trace = ins.backprop_trace(net, X[0], np.eye(3)[y[0]], learning_rate=0.1)
    out = trace.layers[-1]
    assert out.grad_a is None and out.slope is None
    np.testing.assert_allclose(out.delta, trace.output - trace.target)
    assert trace.loss == pytest.approx(-math.log(trace.output[y[0]]))


def test_apply_trace_advances_the_network_and_refuses_a_stale_trace(iris):
    X, y = iris
    X = standardized(X)
    net = make_net([4, 5, 3], "relu", "softmax", "cross_entropy", init="he")
    net.fit(X, y, epochs=2, learning_rate=0.01, batch_size=16, optimizer="adam")
    optimizer, t = net.optimizer, net.optimizer.t
    trace = ins.backprop_trace(net, X[3], y[3], learning_rate=0.05)
    ins.apply_trace(net, trace)
    for w, new in zip(net.get_weights(), trace.new_weights(), strict=True):
        np.testing.assert_array_equal(w, new)
    assert net.epochs_trained == 2 and net.optimizer is optimizer and optimizer.t == t
    loss_after = net.evaluate(X[3:4], y[3:4])["loss"]
    assert loss_after < trace.loss  # a small step downhill on that sample
    with pytest.raises(ValueError, match="changed since"):
        ins.apply_trace(net, trace)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.zeros(3), 0, 0.1), "3 features"),
        ((np.zeros(4), 5, 0.1), "outside 0..2"),
        ((np.zeros(4), 1, 0.0), "learning_rate"),
        ((np.zeros(4), 1, float("nan")), "learning_rate"),
        ((np.array([0, np.inf, 0, 0]), 1, 0.1), "NaN or infinite"),
    ],
)
def test_trace_rejects_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        ins.backprop_trace(make_net([4, 3, 3]), *args)


@pytest.mark.parametrize(("output", "loss"), OUTPUT_LOSS)
def test_trace_loss_is_the_engines_loss_exactly(iris, output, loss):
    """Also on raw inputs times 30, where some outputs underflow: the loss comes from the
    logits, as in training, not from the rounded probabilities."""
    X, y = iris
    net = make_net([4, 5, 3], "relu", output, loss, init="he", seed=2)
    for x, label in zip(X[::10] * 30, y[::10], strict=True):
        trace = ins.backprop_trace(net, x, label, learning_rate=0.1, l2=0.01)
        value, _ = net.loss_and_gradients(x[None], [label], l2=0.01)
        assert trace.loss == value


def test_inspect_uses_no_private_member_of_another_module():
    source = Path(ins.__file__).read_text(encoding="utf-8")
    private = sorted(
        {
            node.attr
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.endswith("__")
        }
    )
    assert private == []


# ---- gradient_check ----


@pytest.mark.parametrize(("output", "loss"), OUTPUT_LOSS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_gradient_check_passes_on_the_engine(hidden, output, loss):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(12, 3))
    y = np.arange(12) % 3
    net = make_net([3, 5, 4, 3], hidden, output, loss, seed=5)
    result = ins.gradient_check(net, X, y, l2=0.05)
    assert result.passed, result.table()
    assert [c.layer for c in result.layers] == [1, 2, 3]
    assert all(c.checked == c.total for c in result.layers)
    assert max(c.relative_error for c in result.layers) < 1e-6


@pytest.mark.parametrize("broken", [0, 1, 2, 5])
def test_gradient_check_catches_a_scaled_gradient(monkeypatch, iris, broken):
    X, y = iris
    net = make_net([4, 5, 4, 3], "tanh", "softmax", "cross_entropy")
    assert ins.gradient_check(net, X, y).passed
    real = nn.Network.loss_and_gradients

    def off_by_ten_percent(self, X, y, l2=0.0):
        value, grads = real(self, X, y, l2=l2)
        grads[broken] = grads[broken] * 1.1
        return value, grads

    monkeypatch.setattr(nn.Network, "loss_and_gradients", off_by_ten_percent)
    result = ins.gradient_check(net, X, y)
    assert not result.passed
    failed = [c.layer for c in result.layers if not c.passed]
    assert failed == [broken // 2 + 1]
    assert result.layers[broken // 2].relative_error > 1e-3


def test_gradient_check_catches_a_wrong_activation_derivative(monkeypatch, iris):
    X, y = iris
    net = make_net([4, 5, 4, 3], "tanh", "softmax", "cross_entropy")
    monkeypatch.setattr(activations.Tanh, "backward", lambda self, grad: grad * (1.0 - self.a))
    result = ins.gradient_check(net, X, y)
    assert [c.passed for c in result.layers] == [False, False, True]


def test_gradient_check_leaves_the_network_alone_and_handles_float32(iris):
    X, y = iris
    net = make_net([4, 6, 3], "sigmoid", "sigmoid", "squared_error", dtype="float32")
    before = net.get_weights()
    result = ins.gradient_check(net, X, y, max_rows=20, max_entries=5)
    assert result.passed and result.rows == 20
    assert [(c.checked, c.total) for c in result.layers] == [(10, 30), (8, 21)]
    for w0, w1 in zip(before, net.get_weights(), strict=True):
        assert w1.dtype == np.float32
        np.testing.assert_array_equal(w0, w1)


def test_gradient_check_differentiates_the_unclipped_loss(iris):
    """Raw Iris through a ReLU net from U[-1, 1]: some probabilities underflow below the
    engine's 1e-12 log clip, where its reported loss goes flat; the check still passes."""
    X, y = iris
    net = make_net([4, 5, 10, 3], "relu", "softmax", "cross_entropy", seed=0)
    P = net.predict_proba(X)
    assert P[np.arange(len(y)), y].min() < 1e-12
    assert ins.gradient_check(net, X, y).passed


def test_gradient_check_rejects_bad_input():
    net = make_net([3, 3])
    with pytest.raises(ValueError, match="eps"):
        ins.gradient_check(net, np.zeros((2, 3)), [0, 1], eps=0)
    with pytest.raises(ValueError, match="labels"):
        ins.gradient_check(net, np.zeros((2, 3)), [0, 1, 2])


# ---- training health ----


def test_saturation_share_is_measured_per_layer(iris):
    X, y = iris
    X = standardized(X)
    net = make_net([4, 6, 5, 3], ["sigmoid", "tanh"], "softmax", "cross_entropy", seed=2)
    calm = ins.training_health(net, X * 0.01, y)["saturation"]
    net.set_weights([w * 40 for w in net.get_weights()])
    hot = ins.training_health(net, X, y)["saturation"]
    assert calm["status"] == "ok" and calm["share"] < 0.05
    assert hot["status"] == "warning" and hot["share"] > 0.5
    assert "saturated" in hot["hint"] or "limits" in hot["hint"]
    W1, b1, W2, b2 = net.get_weights()[:4]
    a1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
    a2 = np.tanh(a1 @ W2 + b2)
    assert hot["per_layer"][1] == pytest.approx(np.mean(np.abs(2 * a1 - 1) > ins.SATURATION))
    assert hot["per_layer"][2] == pytest.approx(np.mean(np.abs(a2) > ins.SATURATION))


def test_dead_relus_are_counted(iris):
    X, y = iris
    X = standardized(X)
    net = make_net([4, 5, 3], "relu", "softmax", "cross_entropy", init="he", seed=1)
    healthy = ins.training_health(net, X, y)["dead_relu"]
    weights = net.get_weights()
    weights[1][:3] = -100.0  # three units that can never switch on
    net.set_weights(weights)
    dead = ins.training_health(net, X, y)["dead_relu"]
    assert healthy["per_layer"][1] < 0.6
    assert dead["per_layer"][1] == pytest.approx(0.6)
    assert dead["status"] == "warning" and "dead" in dead["hint"]
    sigmoid = ins.training_health(make_net([4, 5, 3], "sigmoid"), X, y)["dead_relu"]
    assert sigmoid["share"] is None and "No ReLU" in sigmoid["hint"]


def test_gradient_norms_match_the_engine(iris):
    X, y = iris
    X = standardized(X)
    net = make_net([4, 5, 4, 3], "tanh", "softmax", "cross_entropy")
    health = ins.training_health(net, X, y, learning_rate=0.1)["gradient_norms"]
    _, grads = net.loss_and_gradients(X, y)
    weights = net.get_weights()
    for layer in (1, 2, 3):
        gW, gb = grads[2 * layer - 2], grads[2 * layer - 1]
        W, b = weights[2 * layer - 2], weights[2 * layer - 1]
        norm = math.sqrt(np.sum(gW**2) + np.sum(gb**2))
        assert health["per_layer"][layer] == pytest.approx(norm, rel=1e-12)
        ratio = 0.1 * norm / math.sqrt(np.sum(W**2) + np.sum(b**2))
        assert health["update_ratio"][layer] == pytest.approx(ratio, rel=1e-12)
    assert health["status"] == "ok"
    huge = ins.training_health(net, X, y, learning_rate=1e4)["gradient_norms"]
    assert huge["status"] == "warning" and "learning rate" in huge["hint"]


def test_vanishing_gradients_are_flagged(iris):
    X, y = iris
    net = make_net([4, 8, 8, 3], "sigmoid", "sigmoid", "squared_error", seed=3)
    assert ins.training_health(net, X, y)["gradient_norms"]["status"] == "ok"
    weights = net.get_weights()
    weights[1] = weights[1] + 50.0  # z >= 50 - 4 * 7.9: the first layer's slope is ~0 on every row
    net.set_weights(weights)
    health = ins.training_health(net, X, y)["gradient_norms"]
    norms = health["per_layer"]
    assert norms[1] < 1e-3 * max(norms.values())
    assert health["status"] == "warning" and "first layers" in health["hint"]
    assert "vanishing" in health["hint"]


def test_input_scale(iris):
    X, y = iris
    raw = ins.input_scale(X)
    assert raw["status"] == "warning" and "Standardize" in raw["hint"]
    assert raw["max_abs_mean"] == pytest.approx(np.abs(X.mean(axis=0)).max())
    assert raw["std_ratio"] == pytest.approx(X.std(axis=0).max() / X.std(axis=0).min())
    scaled = ins.input_scale(standardized(X))
    assert scaled["status"] == "ok" and scaled["std_ratio"] == pytest.approx(1.0)
    # A constant column (whose std is rounding noise, not 0) does not count as a tiny scale.
    with_constant = np.column_stack([standardized(X), np.full(len(X), 0.1)])
    assert np.std(with_constant[:, -1]) > 0
    assert ins.input_scale(with_constant)["std_ratio"] == pytest.approx(1.0)
    health = ins.training_health(make_net([4, 3]), X, y)
    assert health["input_scale"]["status"] == "warning"
    assert set(health) == {"saturation", "dead_relu", "gradient_norms", "input_scale"}


def test_training_health_samples_large_batches(iris):
    X, y = iris
    X, y = np.tile(X, (10, 1)), np.tile(y, 10)
    net = make_net([4, 6, 3], "relu", init="he")
    health = ins.training_health(net, X, y, max_rows=100)
    rows = np.linspace(0, len(X) - 1, 100).round().astype(int)
    _, grads = net.loss_and_gradients(X[rows], y[rows])
    norm = math.sqrt(np.sum(grads[0] ** 2) + np.sum(grads[1] ** 2))
    assert health["gradient_norms"]["per_layer"][1] == pytest.approx(norm)


def history(train, val):
    return [
        nn.EpochRecord(i + 1, t, 0.9, v, None if v is None else 0.8, 0.1, 0.01)
        for i, (t, v) in enumerate(zip(train, val, strict=True))
    ]


def test_generalization_gap_flags_overfitting():
    train = list(np.linspace(1.0, 0.1, 40))
    val = list(np.linspace(1.0, 0.5, 20)) + list(np.linspace(0.52, 0.9, 20))
    gap = ins.generalization_gap(history(train, val))
    assert gap["status"] == "warning" and "overfitting" in gap["hint"]
    assert gap["best_epoch"] == 20 and gap["epochs_since_best"] == 20
    assert gap["gap"] == pytest.approx(0.9 - 0.1)


def test_generalization_gap_is_quiet_when_losses_agree():
    train = list(np.linspace(1.0, 0.3, 30))
    val = [t + 0.02 for t in train]
    gap = ins.generalization_gap([r.as_dict() for r in history(train, val)])
    assert gap["status"] == "ok" and "no sign" in gap["hint"]
    assert gap["gap"] == pytest.approx(0.02)


def test_generalization_gap_without_validation_or_epochs():
    assert "Train first" in ins.generalization_gap([])["hint"]
    gap = ins.generalization_gap(history([0.5, 0.4], [None, None]))
    assert gap["gap"] is None and "validation" in gap["hint"]
