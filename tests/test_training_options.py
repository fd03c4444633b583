"""The training options beside the schedule: L1, dropout per hidden layer and class weights.

Gradient checks by central differences (float64), dropout's behaviour at training and at
prediction time, class weights against scikit-learn's, pausing and resuming with each option,
and the defaults reproducing the plain run bit for bit.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.utils.class_weight import compute_class_weight

import nn
from dashboard.training import loop
from nn import config, inspect, losses, task, train

EPS = 1e-6


def numeric_gradients(net: nn.Network, loss_of) -> list[np.ndarray]:
    """Central differences of ``loss_of()`` for every weight and bias (layout of get_weights)."""
    weights = net.get_weights()
    grads = []
    for k, array in enumerate(weights):
        grad = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            values = []
            for step in (EPS, -EPS):
                changed = [a.copy() for a in weights]
                changed[k][index] += step
                net.set_weights(changed)
                values.append(loss_of())
            grad[index] = (values[0] - values[1]) / (2 * EPS)
        grads.append(grad)
    net.set_weights(weights)
    return grads


def assert_gradients_match(analytic, numeric, tol=1e-7):
    """Each array's relative error ``|a - n| / (|a| + |n|)`` (norms) below ``tol``, and every
    entry within rounding of the differences (about 1e-10 at EPS = 1e-6)."""
    for a, n in zip(analytic, numeric, strict=True):
        rel = np.linalg.norm(a - n) / max(np.linalg.norm(a) + np.linalg.norm(n), 1e-12)
        assert rel < tol, (rel, a, n)
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-9)


def small_net(layers, hidden="tanh", output="softmax", loss="cross_entropy", seed=0):
    return nn.Network.from_config(
        {
            "layers": layers,
            "activation": hidden,
            "output_activation": output,
            "loss": loss,
            "init": "xavier",
            "seed": seed,
        }
    )


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    rows = np.random.default_rng(1).permutation(len(y))
    return X[rows[:120]], y[rows[:120]], X[rows[120:]], y[rows[120:]]


# ---- L1 ----


def away_from_zero(net: nn.Network, margin: float = 0.05) -> None:
    """Move every weight at least ``margin`` away from 0, where |w| has no derivative."""
    weights = net.get_weights()
    for k in range(0, len(weights), 2):
        W = weights[k]
        weights[k] = np.where(W >= 0, W + margin, W - margin)
    net.set_weights(weights)


def test_l1_gradient_matches_central_differences():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(7, 3)), rng.integers(0, 3, 7)
    net = small_net([3, 4, 3])
    away_from_zero(net)
    loss, grads = net.loss_and_gradients(X, y, l1=0.03)
    numeric = numeric_gradients(net, lambda: net.loss_and_gradients(X, y, l1=0.03)[0])
    assert_gradients_match(grads, numeric)
    # the penalty is on the weights only: l1 * sum |W| on top of the plain loss, sign(W) on
    # top of the plain weight gradients, and the bias gradients untouched
    plain_loss, plain = net.loss_and_gradients(X, y)
    weights = net.get_weights()
    assert loss == pytest.approx(plain_loss + 0.03 * sum(np.abs(weights[k]).sum() for k in (0, 2)))
    for k, (g, p) in enumerate(zip(grads, plain, strict=True)):
        expected = p + 0.03 * np.sign(weights[k]) if k % 2 == 0 else p
        np.testing.assert_allclose(g, expected, rtol=0, atol=1e-15)


def test_l1_and_l2_together_add_up():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(5, 4)), rng.integers(0, 2, 5)
    net = small_net([4, 3, 1], hidden="sigmoid", output="sigmoid")
    away_from_zero(net)
    _, grads = net.loss_and_gradients(X, y, l2=0.1, l1=0.02)
    numeric = numeric_gradients(net, lambda: net.loss_and_gradients(X, y, l2=0.1, l1=0.02)[0])
    assert_gradients_match(grads, numeric)
    assert net.penalty(0.1, 0.02) == pytest.approx(net.penalty(0.1) + net.penalty(0.0, 0.02))


def test_l1_makes_weights_near_zero_and_the_health_check_counts_them(iris):
    X, y, _, _ = iris
    plain, sparse = small_net([4, 16, 3], seed=2), small_net([4, 16, 3], seed=2)
    kwargs = {"epochs": 60, "learning_rate": 0.05, "batch_size": 8, "shuffle": True}
    plain.fit(X, y, **kwargs)
    sparse.fit(X, y, l1=0.01, **kwargs)
    few = inspect.training_health(plain, X, y, l1=0.0)["near_zero"]
    many = inspect.training_health(sparse, X, y, l1=0.01)["near_zero"]
    W = np.concatenate([layer.W.ravel() for layer in sparse.layers])
    assert many["share"] == pytest.approx(np.mean(np.abs(W) < inspect.NEAR_ZERO))
    assert many["per_layer"][1] == pytest.approx(np.mean(np.abs(sparse.layers[0].W) < 1e-3))
    assert many["share"] > few["share"] + 0.2
    assert "L1 switches off" in many["hint"] and many["status"] == "ok"
    assert "near_zero" not in inspect.training_health(sparse, X, y)  # only when asked
    assert sparse.evaluate(X, y)["accuracy"] > 0.85  # still a working classifier


def test_l1_that_leaves_the_weights_away_from_zero_is_said_to_be_weak():
    net = small_net([3, 4, 2], seed=1)  # fresh uniform weights: none within 1e-3 of zero
    part = inspect.near_zero_weights(net, l1=1e-4)
    assert part["share"] < 0.05 and part["status"] == "ok"
    assert "although L1 is on" in part["hint"] and "switches off" not in part["hint"]
    assert "would push" in inspect.near_zero_weights(net, l1=0.0)["hint"]


def test_nearly_all_weights_at_zero_is_a_warning():
    net = small_net([3, 4, 2])
    net.set_weights([np.zeros_like(a) for a in net.get_weights()])
    part = inspect.near_zero_weights(net, l1=0.5)
    assert part["share"] == 1.0 and part["status"] == "warning"
    assert "Lower the L1 penalty" in part["hint"]


# ---- dropout ----


def fixed_masks(rng, n, widths, rates):
    """Masks as training draws them: 0 for a dropped unit, 1 / (1 - rate) for a kept one."""
    masks = []
    for width, rate in zip(widths, rates, strict=True):
        keep = rng.random((n, width)) >= rate
        masks.append(keep / (1.0 - rate) if rate else None)
    return masks


@pytest.mark.parametrize(
    ("hidden", "output", "loss"),
    [
        ("tanh", "softmax", "cross_entropy"),
        ("sigmoid", "sigmoid", "squared_error"),
        ("leaky_relu", "softmax", "squared_error"),
    ],
)
def test_dropout_gradient_with_a_fixed_mask_matches_central_differences(hidden, output, loss):
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 3, 6)
    net = small_net([3, 5, 4, 3], hidden=hidden, output=output, loss=loss, seed=4)
    masks = fixed_masks(rng, 6, [5, 4], [0.4, 0.25])
    assert any((m == 0).any() for m in masks) and any((m > 1).any() for m in masks)
    _, grads = net.loss_and_gradients(X, y, dropout_masks=masks)
    numeric = numeric_gradients(net, lambda: net.loss_and_gradients(X, y, dropout_masks=masks)[0])
    assert_gradients_match(grads, numeric)
    # and the mask matters: without it the gradient is another one
    _, plain = net.loss_and_gradients(X, y)
    assert not np.allclose(plain[0], grads[0])


def test_a_dropped_unit_passes_nothing_on():
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(4, 3)), rng.integers(0, 2, 4)
    net = small_net([3, 4, 2], seed=1)
    mask = np.full((4, 4), 2.0)
    mask[:, 1] = 0.0  # unit 2 dropped for every row
    _, grads = net.loss_and_gradients(X, y, dropout_masks=[mask])
    assert np.all(grads[2][1] == 0.0)  # its outgoing weights learn nothing
    assert np.all(grads[0][:, 1] == 0.0) and grads[1][1] == 0.0  # nor its incoming ones
    with pytest.raises(ValueError, match="one entry per hidden layer"):
        net.loss_and_gradients(X, y, dropout_masks=[mask, mask])
    with pytest.raises(ValueError, match=r"dropout mask 1 must be finite numbers of shape"):
        net.loss_and_gradients(X, y, dropout_masks=[mask[:2]])


def test_dropout_masks_keep_the_expected_activation():
    """Over many draws, a layer's mean output with dropout is its mean output without: inverted
    dropout scales the kept units by 1 / (1 - rate), so nothing needs correcting later."""
    net = small_net([4, 6, 5, 3], hidden="sigmoid", seed=7)
    X = np.random.default_rng(8).normal(size=(10, 4))
    X1 = nn.layers.with_ones(X)
    ws = net._workspace(len(X1))
    net._forward(X1, ws)
    plain = [view.copy() for _, view in ws.hidden]
    dropout = train.Dropout([0.3, 0.6])
    rng = np.random.default_rng(9)
    draws = 4000
    # per layer: the differences (dropped - undropped) of every draw, and the undropped sums
    diffs = [np.empty((draws, *p.shape)) for p in plain]
    undropped = [np.zeros_like(p) for p in plain]
    for k in range(draws):
        masks = dropout.draw(rng, ws)
        net._forward(X1, ws, masks)
        for i, (_, view) in enumerate(ws.hidden):
            dropped = ws.dropout(i)[0]
            assert np.all(dropped[:, -1] == 1.0)  # the bias input stays 1
            assert np.array_equal(dropped[:, :-1], view * masks[i])
            diffs[i][k] = dropped[:, :-1] - view
            undropped[i] += view
    for i, rate in enumerate((0.3, 0.6)):
        # E[a * mask - a] = 0: the mean difference is within 5 standard errors of 0
        error = diffs[i].std(axis=0) / np.sqrt(draws)
        assert np.all(np.abs(diffs[i].mean(axis=0)) < 5 * error + 1e-12)
        assert diffs[i].std() > 0.1  # and dropout did change the outputs
        masks = dropout.draw(rng, ws)
        assert set(np.unique(masks[i]).tolist()) == {0.0, 1.0 / (1.0 - rate)}
        kept = np.mean([np.mean(dropout.draw(rng, ws)[i] > 0) for _ in range(200)])
        assert kept == pytest.approx(1 - rate, abs=0.02)
    # the first layer's input is never dropped: its own outputs are the plain ones every draw
    assert np.allclose(undropped[0] / draws, plain[0], rtol=0, atol=1e-12)
    # without masks the forward pass is the plain one again (activations are never scaled)
    net._forward(X1, ws)
    for i, (_, view) in enumerate(ws.hidden):
        assert np.array_equal(view, plain[i])


def test_predictions_and_evaluation_never_drop(iris):
    X, y, Xv, yv = iris
    net = small_net([4, 12, 8, 3], hidden="relu", seed=3)
    net.fit(X, y, epochs=15, batch_size=8, shuffle=True, dropout="0.5,0.3", learning_rate=0.05)
    twin = small_net([4, 12, 8, 3], hidden="relu", seed=3)
    twin.set_weights(net.get_weights())  # the same weights in a network that never dropped
    rng_state = net._training.rng.bit_generator.state
    first = net.predict_proba(Xv)
    assert np.array_equal(first, net.predict_proba(Xv))  # deterministic
    assert np.array_equal(first, twin.predict_proba(Xv))
    assert net.evaluate(Xv, yv) == twin.evaluate(Xv, yv)
    values = net.forward(Xv)
    assert np.array_equal(values[-1].a, first)
    assert net._training.rng.bit_generator.state == rng_state  # predicting draws nothing
    # the history's losses are measured without dropout too
    assert net.history[-1].train_loss == pytest.approx(twin.evaluate(X, y)["loss"], rel=1e-12)


def test_dropout_rates_per_layer_and_a_zero_rate_draws_nothing(iris):
    X, y, _, _ = iris
    kwargs = {"epochs": 3, "batch_size": 10, "shuffle": True}
    plain = small_net([4, 6, 5, 3])
    plain.fit(X, y, **kwargs)
    zeros = small_net([4, 6, 5, 3])
    zeros.fit(X, y, dropout="0,0", **kwargs)
    for a, b in zip(plain.get_weights(), zeros.get_weights(), strict=True):
        assert np.array_equal(a, b)
    first_only, second_only = small_net([4, 6, 5, 3]), small_net([4, 6, 5, 3])
    first_only.fit(X, y, dropout="0.5,0", **kwargs)
    second_only.fit(X, y, dropout="0,0.5", **kwargs)
    assert not np.array_equal(first_only.get_weights()[0], second_only.get_weights()[0])
    net = small_net([4, 6, 5, 3])
    with pytest.raises(ValueError, match="dropout lists 3 rates but the network has 2 hidden"):
        net.fit(X, y, dropout="0.1,0.2,0.3", **kwargs)
    assert net.epochs_trained == 0


def test_dropout_uses_the_runs_stream_not_the_global_one(iris):
    X, y, _, _ = iris
    kwargs = {"epochs": 2, "batch_size": 16, "dropout": "0.3", "seed": 11}
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    one = small_net([4, 8, 3])
    one.fit(X, y, **kwargs)
    assert np.array_equal(np.random.get_state()[1], before)
    np.random.seed(123)
    np.random.random(7)
    two = small_net([4, 8, 3])
    two.fit(X, y, **kwargs)
    for a, b in zip(one.get_weights(), two.get_weights(), strict=True):
        assert np.array_equal(a, b)
    other = small_net([4, 8, 3])
    other.fit(X, y, **{**kwargs, "seed": 12})  # another stream, other masks
    assert not np.array_equal(one.get_weights()[0], other.get_weights()[0])


def test_dropout_repr():
    assert repr(train.Dropout([0.2, 0.0])) == "Dropout(rates=[0.2, 0.0])"


# ---- class weights ----


def test_balanced_weights_equal_scikit_learns():
    y = np.array([0] * 50 + [1] * 7 + [2] * 13)
    expected = compute_class_weight("balanced", classes=np.unique(y), y=y)
    np.testing.assert_allclose(task.balanced_weights(y, 3), expected, rtol=1e-15)
    # a class with no training rows gets 1 (there is nothing to weigh); the others as sklearn
    y2 = np.array([0] * 9 + [2] * 3)
    got = task.balanced_weights(y2, 3)
    np.testing.assert_allclose(
        got[[0, 2]], compute_class_weight("balanced", classes=np.array([0, 2]), y=y2)
    )
    assert got[1] == 1.0


def test_the_network_weighs_each_training_row_by_its_class():
    y = np.array([0] * 30 + [1] * 6 + [2] * 4)
    X = np.random.default_rng(0).normal(size=(40, 3))
    net = small_net([3, 4, 3])
    _, Y = net.check_inputs(X, y)
    rows = net._row_weights("balanced", Y)
    per_class = compute_class_weight("balanced", classes=np.arange(3), y=y)
    np.testing.assert_allclose(rows, per_class[y], rtol=1e-15)
    assert rows.mean() == pytest.approx(1.0)  # balanced weights average 1 over the rows
    np.testing.assert_array_equal(net._row_weights("1,2,4", Y), np.array([1.0, 2.0, 4.0])[y])
    assert net._row_weights("none", Y) is None
    binary = small_net([3, 2, 1], output="sigmoid")  # one output, two classes
    yb = (y > 0).astype(int)
    _, Yb = binary.check_inputs(X, yb)
    expected = compute_class_weight("balanced", classes=np.arange(2), y=yb)[yb]
    np.testing.assert_allclose(binary._row_weights("balanced", Yb), expected, rtol=1e-15)


@pytest.mark.parametrize(
    ("layers", "output", "loss", "weights"),
    [
        ([3, 4, 3], "softmax", "cross_entropy", "1,3,0.5"),
        ([3, 4, 3], "softmax", "cross_entropy", "balanced"),
        ([3, 4, 1], "sigmoid", "cross_entropy", "0.3,2"),
        ([3, 4, 3], "sigmoid", "squared_error", "2,1,5"),
    ],
)
def test_class_weighted_loss_gradient_matches_central_differences(layers, output, loss, weights):
    rng = np.random.default_rng(6)
    n_classes = max(layers[-1], 2)
    y = np.array([0, 0, 0, 0, 1, 1, 2, 0][:8]) % n_classes
    X = rng.normal(size=(len(y), 3))
    net = small_net(layers, output=output, loss=loss, seed=2)
    value, grads = net.loss_and_gradients(X, y, class_weight=weights)
    numeric = numeric_gradients(net, lambda: net.loss_and_gradients(X, y, class_weight=weights)[0])
    assert_gradients_match(grads, numeric)
    # the value: each row's loss weighted by its class, summed, over the number of rows
    P = net.predict_proba(X)
    _, Y = net.check_inputs(X, y)
    if weights == "balanced":
        per_class = compute_class_weight("balanced", classes=np.unique(y), y=y)
    else:
        per_class = np.array([float(w) for w in weights.split(",")])
    w = per_class[y]
    if loss == "cross_entropy" and output == "softmax":
        rows = -np.log(P[np.arange(len(y)), y])
    elif loss == "cross_entropy":
        p = P[:, 0]
        rows = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    else:
        rows = 0.5 * np.sum((Y - P) ** 2, axis=1)
    assert value == pytest.approx(np.sum(w * rows) / len(y), rel=1e-10)
    unweighted, _ = net.loss_and_gradients(X, y)
    assert unweighted == pytest.approx(np.mean(rows), rel=1e-10)


def test_per_sample_losses_average_to_the_loss():
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(9, 3)) * 3
    Y = np.eye(3)[rng.integers(0, 3, 9)]
    for loss, output in [("cross_entropy", "softmax"), ("squared_error", "sigmoid"),
                         ("huber", "linear"), ("cross_entropy", "sigmoid")]:  # fmt: skip
        P = nn.activations.get(output, output=True).forward(Z.copy())
        rows = losses.per_sample(loss, output, P, Y, logits=Z.copy())
        assert rows.mean() == pytest.approx(losses.value(loss, output, P, Y, logits=Z.copy()))
        ones = np.ones(9)
        weighted = losses.value(loss, output, P, Y, logits=Z.copy(), sample_weight=ones)
        assert weighted == pytest.approx(losses.value(loss, output, P, Y, logits=Z.copy()))


def imbalanced_blobs(seed=0):
    """Two overlapping classes, the second 8 times rarer."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0.0, 1.0, (400, 2)), rng.normal(1.2, 1.0, (50, 2))])
    y = np.array([0] * 400 + [1] * 50)
    rows = rng.permutation(len(y))
    return X[rows], y[rows]


def test_balanced_weights_raise_the_rare_class_recall_and_the_loss_reported_is_weighted():
    X, y = imbalanced_blobs()
    kwargs = {"epochs": 30, "batch_size": 16, "shuffle": True, "learning_rate": 0.05}
    plain, weighted = small_net([2, 8, 2], seed=1), small_net([2, 8, 2], seed=1)
    plain.fit(X, y, **kwargs)
    weighted.fit(X, y, class_weight="balanced", validation_data=(X[:100], y[:100]), **kwargs)

    def recall(net):
        return float(np.mean(net.predict(X)[y == 1] == 1))

    assert recall(weighted) > recall(plain) + 0.3
    # the history's losses are the weighted ones (validation rows weighted with the training
    # rows' class weights); evaluate() reports the plain mean
    per_class = compute_class_weight("balanced", classes=np.arange(2), y=y)
    P = weighted.predict_proba(X)
    rows = -np.log(P[np.arange(len(y)), y])
    last = weighted.history[-1]
    assert last.train_loss == pytest.approx(np.sum(per_class[y] * rows) / len(y), rel=1e-10)
    assert last.val_loss == pytest.approx(np.sum(per_class[y[:100]] * rows[:100]) / 100, rel=1e-10)
    assert weighted.evaluate(X, y)["loss"] == pytest.approx(rows.mean(), rel=1e-10)


def test_batch_metrics_are_weighted_too():
    X, y = imbalanced_blobs(1)
    net = small_net([2, 4, 2])
    _, Y = net.check_inputs(X, y)
    rows = net._row_weights("balanced", Y)
    start = net.predict_proba(X)
    expected = np.sum(rows * -np.log(start[np.arange(len(y)), y])) / len(y)
    # one full batch: the epoch's forward pass is the initial network's
    net.fit(X, y, epochs=1, batch_size=len(y), class_weight="balanced", train_metrics="batches")
    assert net.history[0].train_loss == pytest.approx(expected, rel=1e-10)


def test_class_weights_that_do_not_fit_are_refused_before_training():
    X, y = imbalanced_blobs()
    net = small_net([2, 4, 2])
    with pytest.raises(ValueError, match="class_weight lists 3 weights but there are 2 classes"):
        net.fit(X, y, epochs=1, class_weight="1,2,3")
    reg = nn.Network.from_config({"layers": [2, 4, 1], "task": "regression"})
    with pytest.raises(ValueError, match="class_weight applies to classes"):
        reg.fit(X, X[:, 0], epochs=1, class_weight="balanced")
    assert net.epochs_trained == reg.epochs_trained == 0
    reg.fit(X, X[:, 0], epochs=1, class_weight="none")  # none is every task's
    assert reg.epochs_trained == 1


def test_imbalance_is_the_smallest_class_over_the_largest():
    assert task.imbalance([0, 0, 0, 0, 1, 1, 2, 2, 2, 2]) == 0.5
    assert task.imbalance([]) is None
    assert not task.imbalanced([0] * 10 + [1] * 2)  # exactly a fifth: not under it
    assert task.imbalanced([0] * 11 + [1] * 2)
    assert task.imbalanced(np.array([2] * 100 + [0] * 3 + [1] * 40))
    assert not task.imbalanced([0, 1, 1, 0])
    assert task.imbalanced([0] * 10 + [1] * 4, share=0.5)


# ---- all options together: pausing, the defaults, the app ----


OPTIONS = {
    "l1": {"l1": 0.002},
    "dropout": {"dropout": "0.3,0.2"},
    "class weights": {"class_weight": "1,2,0.5"},
    "everything": {
        "l1": 0.001,
        "l2": 0.001,
        "dropout": "0.25",
        "class_weight": "balanced",
        "schedule": "cosine",
        "warmup": 2,
        "cosine_epochs": 10,
    },
}


@pytest.mark.parametrize("name", OPTIONS)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_five_then_five_epochs_equal_ten_bit_for_bit(name, optimizer, iris):
    X, y, Xv, yv = iris
    kwargs = {
        "validation_data": (Xv, yv),
        "batch_size": 12,
        "shuffle": True,
        "optimizer": optimizer,
        "learning_rate": 0.02 if optimizer == "adam" else 0.1,
        **OPTIONS[name],
    }
    whole = small_net([4, 7, 5, 3], hidden="relu", seed=6)
    whole.fit(X, y, epochs=10, **kwargs)
    halves = small_net([4, 7, 5, 3], hidden="relu", seed=6)
    halves.fit(X, y, epochs=5, **kwargs)
    halves.fit(X, y, epochs=5, **kwargs)
    assert [r.train_loss for r in halves.history] == [r.train_loss for r in whole.history]
    assert [r.val_loss for r in halves.history] == [r.val_loss for r in whole.history]
    for a, b in zip(halves.get_weights(), whole.get_weights(), strict=True):
        assert np.array_equal(a, b)
    # through storage: the model file and the training state, in a fresh network
    first = small_net([4, 7, 5, 3], hidden="relu", seed=6)
    first.fit(X, y, epochs=5, **kwargs)
    buffer = io.BytesIO()
    first.save(buffer)
    buffer.seek(0)
    later = nn.Network.load(buffer)
    later.restore_training_state(*first.training_state_data())
    later.fit(X, y, epochs=5, **kwargs)
    for a, b in zip(later.get_weights(), whole.get_weights(), strict=True):
        assert np.array_equal(a, b)


def test_the_options_at_their_defaults_are_the_plain_run_bit_for_bit(iris):
    X, y, Xv, yv = iris
    kwargs = {"validation_data": (Xv, yv), "batch_size": 4, "shuffle": True, "epochs": 6}
    plain = small_net([4, 6, 3], seed=9)
    plain.fit(X, y, **kwargs)
    explicit = small_net([4, 6, 3], seed=9)
    explicit.fit(
        X,
        y,
        l1=0.0,
        dropout="0",
        class_weight="none",
        schedule="constant",
        warmup=0,
        lr_step=3,
        lr_decay=0.5,
        lr_min=0.3,
        cosine_epochs=4,
        **kwargs,
    )
    assert [r.train_loss for r in plain.history] == [r.train_loss for r in explicit.history]
    assert [r.learning_rate for r in explicit.history] == [0.15] * 6
    for a, b in zip(plain.get_weights(), explicit.get_weights(), strict=True):
        assert np.array_equal(a, b)
    assert explicit._training.rng.bit_generator.state == plain._training.rng.bit_generator.state


def test_the_app_fits_the_options_to_the_network():
    net = small_net([4, 6, 3])
    raw = {**loop.DEFAULT_SETTINGS, "dropout": "0.2,0.1", "class_weight": "1,2"}
    checked, messages = loop.check_settings(raw, 100, True, net)
    assert checked["dropout"] == "0" and checked["class_weight"] == "none"
    assert any("dropout lists 2 rates but the network has 1 hidden layer" in m for m in messages)
    assert any("2 weights for 3 classes" in m for m in messages)
    fine = {**loop.DEFAULT_SETTINGS, "dropout": "0.3", "class_weight": "balanced"}
    assert loop.check_settings(fine, 100, True, net) == (fine, [])
    bad = {**loop.DEFAULT_SETTINGS, "dropout": "lots", "class_weight": "1,-1,2"}
    checked, messages = loop.check_settings(bad, 100, True)
    assert checked["dropout"] == "0" and checked["class_weight"] == "none"
    assert messages[0].startswith("Dropout: 'lots' is not a rate >= 0 and <= 0.9")
    reg = nn.Network.from_config({"layers": [4, 3, 1], "task": "regression"})
    checked, messages = loop.check_settings(fine, 100, True, reg)
    assert checked["class_weight"] == "none" and "predicts a number" in messages[0]
    X, y = np.random.default_rng(0).normal(size=(20, 4)), np.arange(20.0)
    trainer = loop.Trainer(reg, X, y, X[:0], y[:0], settings=fine)
    assert loop.train_kwargs(trainer)["class_weight"] == "none"  # never refused mid-run


def test_every_option_is_a_row_of_the_table():
    for name in ("l1", "dropout", "class_weight", "schedule", "warmup", "lr_step", "lr_drop",
                 "lr_decay", "lr_min", "cosine_epochs"):  # fmt: skip
        assert name in config.TRAINING
    assert config.TRAINING["dropout"].kind == "rates"
    assert config.TRAINING["class_weight"].kind == "weights"
    assert config.TRAINING["schedule"].choices == ("constant", "step", "exponential", "cosine")
