"""The article preset is exact per-sample gradient descent on 1/2 * sum (y - yhat)^2.

The reference below is written independently of the engine: Python lists and loops, its own
sigmoid 1 / (1 + exp(-z)), and backpropagation that computes every delta with the weights from
before the sample's update (the article's code updates a layer's weights before propagating
the error through them; ``update_first=True`` reproduces that, to show the test tells them apart).
"""

import math

import numpy as np
import pytest
from sklearn.datasets import load_iris

import nn

ARTICLE = nn.presets.ARTICLE


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def to_lists(weights):
    """[W1, b1, ...] arrays -> per layer (W as rows of the inputs, b)."""
    return [(w.tolist(), b.tolist()) for w, b in zip(weights[0::2], weights[1::2], strict=True)]


def forward(layers, x):
    """Activations of every layer, the input included."""
    acts = [list(x)]
    for W, b in layers:
        a = acts[-1]
        acts.append(
            [sigmoid(sum(a[i] * W[i][j] for i in range(len(a))) + b[j]) for j in range(len(b))]
        )
    return acts


def train_one_sample(layers, x, target, lr, update_first=False):
    acts = forward(layers, x)
    out = acts[-1]
    delta = [(out[j] - target[j]) * out[j] * (1.0 - out[j]) for j in range(len(out))]
    for layer in range(len(layers) - 1, -1, -1):
        W, b = layers[layer]
        a_in = acts[layer]
        if update_first:
            apply_update(W, b, a_in, delta, lr)
        if layer > 0:
            prev = [
                sum(W[i][j] * delta[j] for j in range(len(delta))) * a_in[i] * (1.0 - a_in[i])
                for i in range(len(a_in))
            ]
        if not update_first:
            apply_update(W, b, a_in, delta, lr)
        if layer > 0:
            delta = prev


def apply_update(W, b, a_in, delta, lr):
    for i in range(len(a_in)):
        for j in range(len(delta)):
            W[i][j] -= lr * a_in[i] * delta[j]
    for j in range(len(delta)):
        b[j] -= lr * delta[j]


def reference_epochs(weights, X, y, lr, epochs=1, update_first=False):
    layers = to_lists(weights)
    n_out = len(layers[-1][1])
    for _ in range(epochs):
        for x, label in zip(X.tolist(), y.tolist(), strict=True):
            target = [1.0 if k == label else 0.0 for k in range(n_out)]
            train_one_sample(layers, x, target, lr, update_first)
    return layers


def mean_loss(layers, X, y):
    total = 0.0
    for x, label in zip(X.tolist(), y.tolist(), strict=True):
        out = forward(layers, x)[-1]
        total += 0.5 * sum(((1.0 if k == label else 0.0) - o) ** 2 for k, o in enumerate(out))
    return total / len(X)


def max_difference(weights, layers):
    diffs = []
    for (W, b), w_arr, b_arr in zip(layers, weights[0::2], weights[1::2], strict=True):
        diffs.append(np.abs(np.array(W) - w_arr).max())
        diffs.append(np.abs(np.array(b) - b_arr).max())
    return max(diffs)


def iris_in_a_fixed_order(seed=0):
    """Iris as the article uses it: raw features, shuffled once, 85% * 90% of it for training."""
    X, y = load_iris(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(X))
    n_train = len(X) - math.ceil(0.15 * len(X))
    n_train -= math.ceil(0.10 * n_train)
    return X[order][:n_train], y[order][:n_train]


def test_article_preset_is_the_articles_settings():
    assert ARTICLE["network"]["layers"] == [4, 5, 10, 3]
    assert ARTICLE["network"]["activation"] == "sigmoid"
    assert ARTICLE["network"]["output_activation"] == "sigmoid"
    assert ARTICLE["network"]["loss"] == "squared_error"
    assert ARTICLE["network"]["init"] == "uniform"
    training = ARTICLE["training"]
    assert training["epochs"] == 100
    assert training["learning_rate"] == 0.15
    assert training["batch_size"] == 1
    assert training["optimizer"] == "sgd"
    assert training["shuffle"] is False
    assert ARTICLE["split"]["test_size"] == 0.15
    assert ARTICLE["split"]["val_size"] == 0.10
    assert ARTICLE["split"]["standardize"] is False


@pytest.mark.parametrize("seed", [0, 1])
def test_one_epoch_equals_exact_per_sample_gradient_descent(seed):
    X, y = iris_in_a_fixed_order(seed)
    assert len(X) == 114
    net = nn.Network.from_config({**ARTICLE["network"], "seed": seed})
    start = net.get_weights()
    for w in start[1::2]:  # the biases start from U[-1, 1] too, not from zero
        assert np.abs(w).max() > 0.05
    net.fit(X, y, **{**ARTICLE["training"], "epochs": 1})
    expected = reference_epochs(start, X, y, lr=0.15)
    got = net.get_weights()
    assert max_difference(got, expected) <= 1e-10
    assert max_difference(got, to_lists(start)) > 1e-2  # the epoch did move the weights
    assert net.history[0].train_loss == pytest.approx(mean_loss(expected, X, y), rel=1e-10)
    # the article's order of operations (update, then propagate) is measurably different
    article_order = reference_epochs(start, X, y, lr=0.15, update_first=True)
    assert max_difference(got, article_order) > 1e-3


def test_three_epochs_stay_exact():
    X, y = iris_in_a_fixed_order(2)
    net = nn.Network.from_config({**ARTICLE["network"], "seed": 2})
    start = net.get_weights()
    net.fit(X, y, **{**ARTICLE["training"], "epochs": 3})
    expected = reference_epochs(start, X, y, lr=0.15, epochs=3)
    assert max_difference(net.get_weights(), expected) <= 1e-10
