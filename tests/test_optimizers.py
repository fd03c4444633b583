"""Optimizer steps recomputed by hand, alone and wired into the training loop."""

import numpy as np
import pytest

import nn
from nn import optimizers

P0 = [np.array([[0.5, -1.0, 2.0], [0.0, 0.25, -0.75]]), np.array([1.0, -2.0])]
G1 = [np.array([[0.1, -0.2, 0.3], [1.0, -0.5, 0.0]]), np.array([0.05, 2.0])]
G2 = [np.array([[-0.3, 0.1, 0.2], [0.4, 0.5, -1.5]]), np.array([0.5, -1.0])]


def copies(arrays):
    return [a.copy() for a in arrays]


def run(opt, *grad_steps):
    """Apply ``opt`` to a copy of P0 once per gradient list; return the params after each step.

    ``step`` uses the gradient arrays as scratch space, so it always gets copies.
    """
    params = copies(P0)
    after = []
    for grads in grad_steps:
        opt.step(params, copies(grads))
        after.append(copies(params))
    return after


def assert_close(actual, expected):
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=1e-13, atol=1e-15)


def test_sgd_one_and_two_steps():
    lr = 0.15
    one, two = run(optimizers.make("sgd", lr), G1, G2)
    p1 = [p - lr * g for p, g in zip(P0, G1, strict=True)]
    p2 = [p - lr * g for p, g in zip(p1, G2, strict=True)]
    assert_close(one, p1)
    assert_close(two, p2)
    assert one[0][0, 0] == pytest.approx(0.5 - 0.15 * 0.1)


def test_momentum_one_and_two_steps():
    lr, mu = 0.1, 0.8
    opt = optimizers.make("momentum", lr, momentum=mu, nesterov=False)
    assert opt.velocity is None
    one, two = run(opt, G1, G2)
    v1 = [-lr * g for g in G1]
    p1 = [p + v for p, v in zip(P0, v1, strict=True)]
    v2 = [mu * v - lr * g for v, g in zip(v1, G2, strict=True)]
    p2 = [p + v for p, v in zip(p1, v2, strict=True)]
    assert_close(one, p1)
    assert_close(two, p2)
    assert_close(opt.velocity, v2)
    # by hand, first entry: v1 = -0.01, p1 = 0.49; v2 = -0.008 + 0.03 = 0.022, p2 = 0.512
    assert two[0][0, 0] == pytest.approx(0.512)


def test_nesterov_one_and_two_steps():
    lr, mu = 0.1, 0.8
    opt = optimizers.make("momentum", lr, momentum=mu, nesterov=True)
    one, two = run(opt, G1, G2)
    v1 = [-lr * g for g in G1]
    p1 = [p + mu * v - lr * g for p, v, g in zip(P0, v1, G1, strict=True)]
    v2 = [mu * v - lr * g for v, g in zip(v1, G2, strict=True)]
    p2 = [p + mu * v - lr * g for p, v, g in zip(p1, v2, G2, strict=True)]
    assert_close(one, p1)
    assert_close(two, p2)
    # by hand, first entry: p1 = 0.5 - 0.008 - 0.01 = 0.482; v2 = 0.022; p2 = 0.482 + 0.0176 + 0.03
    assert two[0][0, 0] == pytest.approx(0.5296)


def adam_by_hand(grad_steps, lr, b1, b2, eps):
    params = copies(P0)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    after = []
    for t, grads in enumerate(grad_steps, start=1):
        lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        for p, g, mi, vi in zip(params, grads, m, v, strict=True):
            mi[...] = b1 * mi + (1 - b1) * g
            vi[...] = b2 * vi + (1 - b2) * g * g
            p -= lr_t * mi / (np.sqrt(vi) + eps)
        after.append(copies(params))
    return after, m, v


@pytest.mark.parametrize(
    ("lr", "b1", "b2", "eps"),
    [(0.001, 0.9, 0.999, 1e-8), (0.05, 0.8, 0.99, 1e-3), (0.2, 0.5, 0.9, 0.1)],
)
def test_adam_one_and_two_steps(lr, b1, b2, eps):
    opt = optimizers.make("adam", lr, beta1=b1, beta2=b2, eps=eps)
    got = run(opt, G1, G2)
    expected, m, v = adam_by_hand([G1, G2], lr, b1, b2, eps)
    assert_close(got[0], expected[0])
    assert_close(got[1], expected[1])
    assert opt.t == 2
    m_opt, v_opt = opt.moments()
    assert_close(m_opt, m)
    assert_close(v_opt, v)


def test_adam_first_step_moves_each_weight_by_about_lr():
    """With bias correction the first step is lr * g / (|g| + eps / sqrt(1 - beta2)): about
    lr * sign(g) (eps sits outside the bias correction of v, as in scikit-learn)."""
    (one,) = run(optimizers.make("adam", 0.01), G1)
    for p0, p1, g in zip(P0, one, G1, strict=True):
        expected = p0 - 0.01 * g / (np.abs(g) + 1e-8 / np.sqrt(0.001))
        np.testing.assert_allclose(p1, p0 - 0.01 * np.sign(g), rtol=0, atol=1e-6)
        np.testing.assert_allclose(p1, expected, rtol=1e-12, atol=1e-15)
    assert one[0][1, 2] == P0[0][1, 2]  # zero gradient, no move


def test_update_changes_learning_rate_and_keeps_state():
    opt = optimizers.make("momentum", 0.1, momentum=0.8)
    params = copies(P0)
    opt.step(params, copies(G1))
    opt.update(learning_rate=0.05)
    opt.step(params, copies(G2))
    v1 = [-0.1 * g for g in G1]
    p1 = [p + v for p, v in zip(P0, v1, strict=True)]
    v2 = [0.8 * v - 0.05 * g for v, g in zip(v1, G2, strict=True)]
    assert_close(params, [p + v for p, v in zip(p1, v2, strict=True)])


def test_make_ignores_settings_of_other_optimizers_and_rejects_unknown_names():
    opt = optimizers.make("sgd", 0.1, momentum=0.5, beta1=0.3)
    assert opt.hyperparameters() == {"learning_rate": 0.1}
    adam = optimizers.make("adam", 0.1, momentum=0.5, beta1=0.3)
    assert adam.beta1 == 0.3
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        optimizers.make("rmsprop", 0.1)


# ---- the optimizers inside the training loop: one batch per epoch ----


def small_problem():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(12, 3))
    y = np.arange(12) % 3
    config = {
        "layers": [3, 4, 3],
        "activation": "tanh",
        "output_activation": "softmax",
        "loss": "cross_entropy",
        "seed": 3,
    }
    return config, X, y


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam"])
def test_full_batch_training_is_the_optimizer_applied_to_loss_and_gradients(optimizer):
    config, X, y = small_problem()
    lr, l2 = 0.2, 0.01
    name = "momentum" if optimizer == "nesterov" else optimizer
    settings = {"momentum": 0.7, "nesterov": optimizer == "nesterov", "beta1": 0.85, "beta2": 0.99}
    net = nn.Network.from_config(config)
    ref = nn.Network.from_config(config)
    net.fit(X, y, epochs=2, learning_rate=lr, batch_size=len(X), optimizer=name, l2=l2, **settings)

    weights = ref.get_weights()
    state = [np.zeros_like(w) for w in weights]  # velocity, or Adam's first moment
    second = [np.zeros_like(w) for w in weights]
    for t in (1, 2):
        ref.set_weights(weights)
        _, grads = ref.loss_and_gradients(X, y, l2=l2)
        for w, g, s, s2 in zip(weights, grads, state, second, strict=True):
            if optimizer == "sgd":
                w -= lr * g
            elif name == "momentum":
                s[...] = 0.7 * s - lr * g
                w += 0.7 * s - lr * g if optimizer == "nesterov" else s
            else:
                s[...] = 0.85 * s + 0.15 * g
                s2[...] = 0.99 * s2 + 0.01 * g * g
                lr_t = lr * np.sqrt(1 - 0.99**t) / (1 - 0.85**t)
                w -= lr_t * s / (np.sqrt(s2) + 1e-8)
    for a, b in zip(net.get_weights(), weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert [r.learning_rate for r in net.history] == [lr, lr]


def test_batches_are_consecutive_slices_with_a_short_last_batch():
    """batch_size=5 on 12 samples: steps on rows 0-4, 5-9, then 10-11, each averaged."""
    config, X, y = small_problem()
    net = nn.Network.from_config(config)
    ref = nn.Network.from_config(config)
    net.fit(X, y, epochs=1, learning_rate=0.3, batch_size=5)
    weights = ref.get_weights()
    for rows in (slice(0, 5), slice(5, 10), slice(10, 12)):
        ref.set_weights(weights)
        _, grads = ref.loss_and_gradients(X[rows], y[rows])
        weights = [w - 0.3 * g for w, g in zip(weights, grads, strict=True)]
    for a, b in zip(net.get_weights(), weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
