"""Reproduce a run of the neural-network lab with NumPy alone.

    python recipe.py --data data.csv --settings settings.json [--out results.json]

This file does, step by step, what the lab did: the same train/validation/test split
(scikit-learn's train_test_split, written out here), the same preprocessing fitted on the
training rows (for a table with categories or gaps: gaps filled, categories one-hot, numbers
standardized, as scikit-learn's SimpleImputer, OneHotEncoder and StandardScaler do it), the same
random initial weights, the same order of samples, the same updates, the same losses
(cross-entropy from the logits, never from clipped probabilities) and the same early-stopping
rule. The losses and accuracies it prints match the app's to rounding. Nothing but NumPy and the
standard library is needed.

The training options follow the lab too: the learning-rate schedule and warm-up (the same
formulas, so the same rate every epoch), the L1 penalty beside L2, dropout (masks drawn from the
shuffling stream, the same numbers in the same order as the lab draws them) and class weights
(each row's loss weighted by its class's; "balanced" computed on the training rows).

A run that predicts a number (regression: the settings' network has "task": "regression") reads
the target as numbers, standardizes it with the training rows' mean and standard deviation, and
trains the network on the standardized target with squared error or the Huber loss. It prints
the loss and R^2 where a classification run prints the accuracy, and at the end the test R^2,
MAE and RMSE in the target's own units.
"""

import argparse
import csv
import itertools
import json
import math
import sys

import numpy as np

FORMAT = "nn-lab-recipe/1"
TRAIN_EVAL_MAX = 2048  # training metrics use at most this many rows, as the lab does
MISSING = "(missing)"  # the category a gap becomes (fill "category")
OTHER = "(other)"  # the one input that the categories rarer than "rare" share
HUBER_DELTA = 1.0  # the Huber loss is quadratic up to this residual (in standard deviations)
# The training options as they are when the settings do not name them (none of them in use)
OPTION_DEFAULTS = {
    "l1": 0.0,
    "dropout": "0",
    "class_weight": "none",
    "schedule": "constant",
    "warmup": 0,
    "lr_step": 10,
    "lr_drop": 0.5,
    "lr_decay": 0.95,
    "lr_min": 0.0,
    "cosine_epochs": 0,
}


# ---- data ----


def text_cell(cell):
    """A text cell of the lab's CSV as it was meant: the lab puts an apostrophe in front of
    text a spreadsheet would run as a formula (and of text that starts with one)."""
    cell = cell.strip()
    return cell[1:] if cell.startswith("'") else cell


def is_regression(settings):
    """True when the run predicts a number rather than a class."""
    return settings["network"].get("task") == "regression"


def read_data(path, data, regression=False):
    """The features and the integer labels y (n,) from the CSV the lab wrote (for regression,
    the target's numbers y (n,) as floats).

    A table of numbers gives X (n, d) as floats. A table with categories or gaps (its settings
    have "columns") gives a list with one array per feature column, as the column's kind says:
    numbers with NaN for an empty cell, or text with None for an empty cell.
    """
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = [row for row in csv.reader(fh) if row]
    header, body = [text_cell(h) for h in rows[0]], rows[1:]
    target = header.index(data["target"])
    features = [i for i in range(len(header)) if i != target]
    if "feature_names" in data and [header[i] for i in features] != data["feature_names"]:
        sys.exit("error: the CSV's columns are not the ones in the settings")
    if regression:
        y = np.array([float(row[target]) for row in body])
    else:
        names = data.get("class_names") or sorted({text_cell(row[target]) for row in body})
        index = {name: k for k, name in enumerate(names)}
        y = np.array([index[text_cell(row[target])] for row in body], dtype=np.int64)
    if "columns" not in data:
        return np.array([[float(row[i]) for i in features] for row in body]), y
    X = []
    for i, column in zip(features, data["columns"], strict=True):
        cells = [row[i].strip() for row in body]
        if column["kind"] == "numeric":
            X.append(np.array([float(c) if c else math.nan for c in cells]))
        else:
            X.append(np.array([text_cell(c) if c else None for c in cells], dtype=object))
    return X, y


# ---- the split (scikit-learn's train_test_split, shuffled with a seed) ----


def approximate_mode(class_counts, n_draws, rng):
    """Rows per class for a stratified part of n_draws rows; ties broken at random."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            inds = rng.choice(inds, size=add_now, replace=False)
            floored[inds] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)


def train_test_indices(y, test_size, seed, stratify):
    """Row indices (train, test): ceil(test_size * n) rows go to the test part."""
    n = len(y)
    n_test = math.ceil(test_size * n)
    n_train = n - n_test
    rng = np.random.RandomState(seed)
    if not stratify:
        permutation = rng.permutation(n)
        return permutation[n_test : n_test + n_train], permutation[:n_test]
    classes, y_indices, class_counts = np.unique(y, return_inverse=True, return_counts=True)
    class_indices = np.split(np.argsort(y_indices, kind="stable"), np.cumsum(class_counts)[:-1])
    n_i = approximate_mode(class_counts, n_train, rng)
    t_i = approximate_mode(class_counts - n_i, n_test, rng)
    train, test = [], []
    for i in range(len(classes)):
        rows = class_indices[i].take(rng.permutation(class_counts[i]), mode="clip")
        train.extend(rows[: n_i[i]])
        test.extend(rows[n_i[i] : n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)


def split_rows(y, test_size, val_size, seed, stratify):
    """Row indices (train, validation, test): the test part first, then the validation part
    from the rest (empty when val_size is 0)."""
    train, test = train_test_indices(y, test_size, seed, stratify)
    val = train[:0]
    if val_size > 0:
        inner_train, inner_val = train_test_indices(y[train], val_size, seed, stratify)
        train, val = train[inner_train], train[inner_val]
    return train, val, test


def engineered_inputs(X, names):
    """Extra inputs made from the two features x1, x2 of a 2-D set, as TensorFlow Playground
    makes them: x1_sq, x2_sq, x1_x2, sin_x1, sin_x2 (in the order given), from the raw values."""
    x1, x2 = X[:, 0], X[:, 1]
    made = {
        "x1_sq": x1 * x1,
        "x2_sq": x2 * x2,
        "x1_x2": x1 * x2,
        "sin_x1": np.sin(x1),
        "sin_x2": np.sin(x2),
    }
    return np.column_stack([X] + [made[name] for name in names])


def split(X, y, test_size, val_size, seed, stratify, standardize, engineered=()):
    """A table of numbers split, with the ``engineered`` inputs after its features;
    standardized with the training part's mean and standard deviation (a standard deviation of
    0 divides by 1)."""
    if engineered:
        X = engineered_inputs(X, engineered)
    train, val, test = split_rows(y, test_size, val_size, seed, stratify)
    X_train, X_val, X_test = X[train], X[val], X[test]
    if standardize:
        mean, std = X_train.mean(axis=0), X_train.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        X_train, X_val, X_test = ((part - mean) / std for part in (X_train, X_val, X_test))
    return X_train, y[train], X_val, y[val], X_test, y[test]


# ---- preprocessing ----
# A table with categories or gaps: each column's step is fitted on the training rows only,
# then applied to every part. A step is a dict in the form the lab saves it in a model:
#   numeric:     fill (what a gap becomes), indicator (a second input, 1 where the value was
#                missing), mean and scale (standardization, or None)
#   categorical: fill (the category a gap becomes), categories (one input each, in order),
#                other (the categories too rare to have their own input; they share OTHER)


def fit_numeric(column, x, standardize):
    """The step of a numeric column from its training values x (NaN for a gap)."""
    gaps = np.isnan(x)
    present = x[~gaps]
    if column["fill"] == "constant":
        fill = float(column.get("value", 0.0))
    elif len(present) == 0:
        sys.exit(f"error: the column {column['name']} has no value in the training rows")
    elif column["fill"] == "median":
        fill = float(np.median(present))
    else:  # mean: the sum with every gap as 0, over the number of values (scikit-learn's way)
        fill = float(np.where(gaps, 0.0, x).sum() / len(present))
    # The "was missing" input only where the training rows have a gap to learn from.
    step = {"name": column["name"], "kind": "numeric", "fill": fill}
    step["indicator"] = bool(column.get("indicator", False) and gaps.any())
    step["mean"] = step["scale"] = None
    if standardize:
        # Standardize the filled values: the variance by the corrected two-pass formula, and a
        # scale of 1 for a column that cannot be told from a constant (rounding alone would
        # give it a tiny variance), as scikit-learn's StandardScaler does.
        filled = np.where(gaps, fill, x)
        n = len(filled)
        mean = filled.sum() / n
        centred = filled - mean
        var = (np.sum(centred**2) - centred.sum() ** 2 / n) / n
        eps = np.finfo(np.float64).eps
        constant = var <= n * eps * var + (n * mean * eps) ** 2
        step["mean"], step["scale"] = float(mean), 1.0 if constant else float(np.sqrt(var))
    return step


def fit_categorical(column, x, rare):
    """The step of a categorical column from its training labels x (None for a gap)."""
    gaps = np.array([v is None for v in x], dtype=bool)
    if column["fill"] == "category":
        fill = MISSING
    elif gaps.all():
        sys.exit(f"error: the column {column['name']} has no value in the training rows")
    else:  # the most frequent category; a tie goes to the first in sorted order
        values, counts = np.unique(x[~gaps], return_counts=True)
        fill = str(values[np.argmax(counts)])
    # The categories sorted (as text); with rare > 1, those with fewer training rows share OTHER.
    values, counts = np.unique(np.where(gaps, fill, x), return_counts=True)
    grouped = counts < rare if rare > 1 else np.zeros(len(values), dtype=bool)
    categories = [str(v) for v in values[~grouped]]
    other = [str(v) for v in values[grouped]]
    step = {"name": column["name"], "kind": "categorical", "fill": fill}
    step["categories"] = [*categories, OTHER] if other else categories
    if other:
        step["other"] = other
    return step


def fit_preprocessing(columns, X, rare, standardize):
    """One step per feature column, fitted on the training rows X (one array per column)."""
    steps = []
    for column, x in zip(columns, X, strict=True):
        if column["kind"] == "numeric":
            steps.append(fit_numeric(column, x, standardize))
        else:
            steps.append(fit_categorical(column, x, rare))
    return steps


def transform(steps, X):
    """Raw columns (one array per feature column) -> network inputs (n, n_inputs)."""
    parts = []
    for step, x in zip(steps, X, strict=True):
        if step["kind"] == "numeric":
            gaps = np.isnan(x)
            x = np.where(gaps, step["fill"], x)
            if step["scale"] is not None:
                x = (x - step["mean"]) / step["scale"]
            parts.append(x[:, None])
            if step["indicator"]:
                parts.append(gaps.astype(np.float64)[:, None])
        else:
            x = np.array([step["fill"] if v is None else v for v in x], dtype=object)
            if step.get("other"):
                x = np.where(np.isin(x, step["other"]), OTHER, x)
            # One-hot: 1 in the input of its category; a category never seen in training
            # matches none and gives all zeros.
            categories = np.array(step["categories"], dtype=object)
            parts.append((x[:, None] == categories[None, :]).astype(np.float64))
    return np.hstack(parts)


def prepare_data(path, settings):
    """The training, validation and test parts as the network takes them, and the steps of the
    preprocessing fitted on the training rows (None for a table of numbers)."""
    data, sp = settings["data"], settings["split"]
    regression = is_regression(settings)
    X, y = read_data(path, data, regression)
    stratify = sp["stratify"] and not regression  # a number has no classes to keep in proportion
    if "columns" not in data:
        engineered = [n for n in sp.get("engineered", "none").split(",") if n != "none"]
        parts = split(
            X,
            y,
            sp["test_size"],
            sp["val_size"],
            sp["seed"],
            stratify,
            sp["standardize"],
            engineered,
        )
        return (*parts, None)
    train, val, test = split_rows(y, sp["test_size"], sp["val_size"], sp["seed"], stratify)
    parts = [[x[rows] for x in X] for rows in (train, val, test)]  # each part's raw columns
    steps = fit_preprocessing(data["columns"], parts[0], data.get("rare", 0), sp["standardize"])
    X_train, X_val, X_test = (transform(steps, part) for part in parts)
    return X_train, y[train], X_val, y[val], X_test, y[test], steps


# ---- the network ----
# Each layer is one matrix Wb (n_in + 1, n_out): the weights W with the bias b as an extra
# last row, fed by an input that has an extra 1 at its end (the article's "bias as an input").


def with_ones(X):
    return np.hstack([X, np.ones((len(X), 1), dtype=X.dtype)])


def initial_layers(sizes, init, seed, dtype):
    """Draw W, then b, layer by layer from one generator seeded with the network's seed."""
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in itertools.pairwise(sizes):
        if init == "uniform":
            W = rng.uniform(-1.0, 1.0, size=(n_in, n_out))
            b = rng.uniform(-1.0, 1.0, size=n_out)
        elif init == "xavier":
            limit = np.sqrt(6.0 / (n_in + n_out))
            W = rng.uniform(-limit, limit, size=(n_in, n_out))
            b = np.zeros(n_out)
        else:  # he
            W = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
            b = np.zeros(n_out)
        layers.append(np.vstack([W, b]).astype(dtype))
    return layers


def activate(name, z):
    if name == "sigmoid":
        return 0.5 * np.tanh(0.5 * z) + 0.5  # = 1 / (1 + exp(-z)), and never overflows
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0.0, z, 0.01 * z)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return z  # linear


def backward_through(name, a, grad):
    """dL/dz from dL/da, using the activation's output a."""
    if name == "sigmoid":
        return grad * a * (1.0 - a)
    if name == "tanh":
        return grad * (1.0 - a * a)
    if name == "relu":
        return grad * (a > 0.0)
    if name == "leaky_relu":
        return grad * np.where(a > 0.0, 1.0, 0.01).astype(grad.dtype)
    if name == "softmax":
        return a * (grad - (grad * a).sum(axis=1, keepdims=True))
    return grad


def forward(layers, names, X, masks=None):
    """Every layer's input [a, 1], the output layer's logits z and the network's output.

    With dropout ``masks`` (one per hidden layer, None where its rate is 0), each hidden
    layer's output is multiplied by its mask before the next layer takes it."""
    inputs, _, z, a = forward_pass(layers, names, X, masks)
    return inputs, z, a


def forward_pass(layers, names, X, masks=None):
    """``forward``, plus every hidden layer's own output (before dropout), which backward
    needs for the activation's slope."""
    inputs, hidden, a = [], [], X
    for i, (Wb, name) in enumerate(zip(layers, names, strict=True)):
        inputs.append(with_ones(a))
        z = inputs[-1] @ Wb
        a = activate(name, z)
        if i < len(layers) - 1:
            hidden.append(a)
            if masks is not None and masks[i] is not None:
                a = a * masks[i]
    return inputs, hidden, z, a


def dropout_masks(rng, rates, n, sizes, dtype):
    """One batch's dropout masks (inverted dropout): per hidden layer whose rate is above 0,
    in order, one draw of n x width uniform numbers; a unit is kept where its number is at
    least the rate, and a kept unit's output is scaled by 1 / (1 - rate)."""
    masks = []
    for rate, width in zip(rates, sizes[1:-1], strict=True):
        if rate == 0:
            masks.append(None)
            continue
        keep = rng.random((n, width)) >= rate
        masks.append((keep * (1.0 / (1.0 - rate))).astype(dtype))
    return masks


def dropout_rates(text, n_hidden):
    """The dropout rate of each hidden layer: one rate for all, or one per layer."""
    rates = [float(part) for part in str(text).split(",")]
    return rates * n_hidden if len(rates) == 1 else rates


def class_weights(setting, y_train, n_classes):
    """The weight of each class, or None: "balanced" is n_rows / (k * rows of the class) over
    the k classes of the training rows (scikit-learn's formula), 1 for a class without rows;
    otherwise the listed numbers."""
    if setting == "none":
        return None
    if setting != "balanced":
        return np.array([float(part) for part in setting.split(",")])
    counts = np.bincount(y_train, minlength=n_classes).astype(np.float64)
    present = counts > 0
    weights = np.ones(n_classes)
    weights[present] = len(y_train) / (np.count_nonzero(present) * counts[present])
    return weights


def learning_rate(s, epoch, run_epochs):
    """The learning rate of epoch ``epoch`` (0-based) of a run of ``run_epochs`` epochs.

    A warm-up of w epochs climbs in a line: lr (epoch + 1) / (w + 1). After it, with t the
    epochs since the warm-up: constant lr; step lr * lr_drop ^ (t // lr_step); exponential
    lr * lr_decay ^ t; cosine low + (lr - low) (1 + cos(pi min(t, L) / L)) / 2 with
    low = lr_min * lr and L = max(T - w, 1), T being cosine_epochs, or the run's epochs when
    that is 0.
    """
    lr = float(s["learning_rate"])
    warmup = int(s["warmup"])
    if epoch < warmup:
        return lr * (epoch + 1) / (warmup + 1)
    t = epoch - warmup
    if s["schedule"] == "constant":
        return lr
    if s["schedule"] == "step":
        return lr * float(s["lr_drop"]) ** (t // int(s["lr_step"]))
    if s["schedule"] == "exponential":
        return lr * float(s["lr_decay"]) ** t
    length = max((int(s["cosine_epochs"]) or int(run_epochs)) - warmup, 1)
    low = float(s["lr_min"]) * lr
    return low + (lr - low) * (1.0 + math.cos(math.pi * min(t, length) / length)) / 2.0


def mean_loss(loss, output, P, Y, Z, weights=None):
    """Mean loss per row of outputs P (n, k) against targets Y, from the logits Z.

    Cross-entropy is computed from the logits, exactly and without overflow: log softmax(z) =
    z - max(z) - log(sum(exp(z - max(z)))), and for a sigmoid output
    -[y log s(z) + (1 - y) log(1 - s(z))] = max(z, 0) - y z + log(1 + exp(-|z|)).
    A confident wrong answer costs what it should (a logit gap of 40 costs about 40).

    With class weights (``weights``: each row's), the loss is sum(w * row loss) / n.
    """
    rows = row_losses(loss, output, P, Y, Z)
    total = np.sum(rows) if weights is None else np.dot(weights, rows)
    return float(total) / len(P)


def row_losses(loss, output, P, Y, Z):
    """The loss of each row (n,), as mean_loss computes it."""
    if loss == "squared_error":
        diff = Y - P
        return 0.5 * np.einsum("ij,ij->i", diff, diff)
    if loss == "huber":
        r = np.abs(P - Y)
        quadratic = np.minimum(r, HUBER_DELTA)
        return np.sum(0.5 * quadratic * quadratic + HUBER_DELTA * (r - quadratic), axis=1)
    if output == "softmax":
        log_p = Z - Z.max(axis=1, keepdims=True)
        log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
        return -np.sum(Y * log_p, axis=1)
    return np.sum(np.maximum(Z, 0.0) - Y * Z + np.log1p(np.exp(-np.abs(Z))), axis=1)


def gradients(layers, names, loss, X, Y, l2, l1=0.0, masks=None, weights=None):
    """dL/dWb of every layer for the batch's mean loss (plus l2 / 2 * sum W^2 and
    l1 * sum |W|), through the dropout ``masks`` and with each row's class ``weights``."""
    inputs, hidden, _, P = forward_pass(layers, names, X, masks)
    delta = P - Y  # dL/da of squared error; dL/dz of cross-entropy with sigmoid or softmax
    if loss == "huber":
        delta = np.clip(delta, -HUBER_DELTA, HUBER_DELTA)  # dL/da of Huber: the residual, capped
    if len(P) != 1:
        delta = delta / len(P)
    if loss != "cross_entropy":
        delta = backward_through(names[-1], P, delta)
    if weights is not None:
        delta = delta * weights[:, None]
    grads = [None] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        grads[i] = inputs[i].T @ delta
        if i > 0:
            grad_a = delta @ layers[i][:-1].T
            if masks is not None and masks[i - 1] is not None:
                grad_a = grad_a * masks[i - 1]  # a dropped unit passes no gradient back
            delta = backward_through(names[i - 1], hidden[i - 1], grad_a)
    if l2:
        for g, Wb in zip(grads, layers, strict=True):
            g[:-1] += l2 * Wb[:-1]  # biases are not regularized
    if l1:
        for g, Wb in zip(grads, layers, strict=True):
            g[:-1] += l1 * np.sign(Wb[:-1])  # the sub-gradient of |w| (0 at 0)
    return grads


class Optimizer:
    """sgd: p -= lr * g;  momentum: v = mu * v - lr * g, p += v (Nesterov: p += mu * v - lr * g);
    adam: the textbook moments and bias correction (see step)."""

    def __init__(self, s, layers):
        self.s, self.t = s, 0
        self.learning_rate = float(s["learning_rate"])  # the epoch's rate (see learning_rate)
        self.m = [np.zeros_like(p) for p in layers]  # velocity (momentum) or first moment (adam)
        self.v = [np.zeros_like(p) for p in layers]

    def step(self, layers, grads):
        s, lr = self.s, self.learning_rate
        self.t += 1
        for p, g, m, v in zip(layers, grads, self.m, self.v, strict=True):
            if s["optimizer"] == "sgd":
                p -= lr * g
            elif s["optimizer"] == "momentum":
                mu = float(s["momentum"])
                m *= mu
                m -= lr * g
                p += mu * m - lr * g if s["nesterov"] else m
            else:
                # Textbook Adam, m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2 and the step
                # lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps), with m and v kept
                # divided by (1 - b1) and (1 - b2) as the lab keeps them: the same numbers,
                # rounded the same way.
                b1, b2 = float(s["beta1"]), float(s["beta2"])
                lr_t = lr * math.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
                root = math.sqrt(1.0 - b2)
                m *= b1
                m += g
                v *= b2
                v += g * g
                p -= m / (np.sqrt(v) + float(s["eps"]) / root) * (lr_t * (1.0 - b1) / root)


def accuracy(P, Y):
    """Share of rows whose largest output is the target's class (output > 0.5 for one output)."""
    if P.shape[1] == 1:
        right = (P[:, 0] > 0.5) == (Y[:, 0] > 0.5)
    else:
        right = P.argmax(axis=1) == Y.argmax(axis=1)
    return float(np.mean(right))


def r2_score(Y, P):
    """R^2 = 1 - SS_res / SS_tot of each column of targets Y against outputs P (n, k), then the
    mean over the columns. A column without spread scores 1 when predicted exactly, else 0
    (scikit-learn's force_finite)."""
    Y, P = Y.astype(np.float64), P.astype(np.float64)
    residual = Y - P
    ss_res = np.einsum("ij,ij->j", residual, residual)
    centred = Y - Y.mean(axis=0)
    ss_tot = np.einsum("ij,ij->j", centred, centred)
    spread = ss_tot != 0
    scores = np.where(ss_res == 0, 1.0, 0.0)
    scores[spread] = 1.0 - ss_res[spread] / ss_tot[spread]
    return float(np.mean(scores))


def metrics(layers, names, loss, X, Y, regression=False, weights=None):
    """Mean loss (class-weighted with each row's ``weights``) and the run's figure on rows X
    with targets Y: the accuracy, or for regression R^2 (on the standardized target, which
    gives the same R^2)."""
    _, Z, P = forward(layers, names, X)
    figure = r2_score(Y, P) if regression else accuracy(P, Y)
    return mean_loss(loss, names[-1], P, Y, Z, weights), figure


def evaluate(layers, names, loss, X, Y, scale=None):
    """The test figures, as the lab's Network.evaluate gives them: the loss and the accuracy;
    for regression (``scale`` given) the loss on the standardized target, then R^2, MAE and
    RMSE in the target's units."""
    _, Z, P = forward(layers, names, X)
    scores = {"loss": mean_loss(loss, names[-1], P, Y, Z)}
    if scale is None:
        scores["accuracy"] = accuracy(P, Y)
        return scores
    mean, std = scale
    y_true = Y.astype(np.float64) * std + mean  # back in the target's units
    y_pred = P.astype(np.float64) * std + mean
    errors = y_true - y_pred
    scores["r2"] = r2_score(y_true, y_pred)
    scores["mae"] = float(np.mean(np.mean(np.abs(errors), axis=0)))
    scores["rmse"] = float(np.mean(np.sqrt(np.mean(errors * errors, axis=0))))
    return scores


def fit_target_scale(y):
    """The mean and the scale, each (1,), that standardize the training targets y (n,).

    The scale is the standard deviation (dividing by n), as scikit-learn's StandardScaler
    computes it; a target that cannot be told from a constant (its variance within rounding
    of 0) gets scale 1, so it is only centred.
    """
    values = y.reshape(len(y), 1)
    mean, var = values.mean(axis=0), values.var(axis=0)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
        sys.exit("error: the target has values too large to standardize")
    n, eps = len(values), np.finfo(np.float64).eps
    constant = var <= n * eps * var + (n * mean * eps) ** 2
    scale = np.sqrt(var)
    scale[constant | (scale < 10 * eps)] = 1.0
    return mean, scale


def targets(y, n_outputs, dtype, scale=None):
    """One-hot rows, or the 0/1 label itself for a single sigmoid output; for regression
    (``scale`` given) the standardized target (y - mean) / scale as one column."""
    if scale is not None:
        mean, std = scale
        return ((y.reshape(len(y), 1) - mean) / std).astype(dtype)
    if n_outputs == 1:
        return y.astype(dtype).reshape(-1, 1)
    Y = np.zeros((len(y), n_outputs), dtype=dtype)
    Y[np.arange(len(y)), y] = 1.0
    return Y


def layer_names(net):
    """The activation of every layer: the hidden ones, then the output."""
    hidden = net["activation"]
    hidden = [hidden] * (len(net["layers"]) - 2) if isinstance(hidden, str) else hidden
    return [*hidden, net["output_activation"]]


def train(settings, X, y, X_val, y_val, log_every, log=print, scale=None):
    """Train as the lab does; return (layers, history, stopped early, finished).

    For regression the targets are standardized with ``scale`` (the mean and scale of the
    training targets, fitted on y when not given), the validation targets too.

    Every epoch trains at its scheduled rate (learning_rate, recorded in the history). With
    class weights the training and validation losses are weighted as training weighs them.

    Early stopping (with validation rows only): an epoch whose validation loss is below the
    best so far becomes the best (its weights are kept) and resets the count; any other epoch
    adds one, and training stops when the count reaches the patience. With restore_best the
    best weights are the result, whether it stopped or ran all its epochs. A loss or weight
    that is not finite ends the run at the weights of the epoch before (finished is False).
    """
    net, s = settings["network"], {**OPTION_DEFAULTS, **settings["training"]}
    sizes, dtype = net["layers"], np.dtype(net["dtype"])
    names = layer_names(net)
    regression = is_regression(settings)
    if regression and scale is None:
        scale = fit_target_scale(y)
    layers = initial_layers(sizes, net["init"], net["seed"], dtype)
    X, Y = X.astype(dtype), targets(y, sizes[-1], dtype, scale)
    val = None
    if len(y_val):
        val = (X_val.astype(dtype), targets(y_val, sizes[-1], dtype, scale))
    n = len(X)
    eval_rows = np.arange(n)
    if n > TRAIN_EVAL_MAX:
        eval_rows = np.sort(np.random.default_rng(n).choice(n, TRAIN_EVAL_MAX, replace=False))
    optimizer = Optimizer(s, layers)
    shuffler = np.random.default_rng(s["seed"])
    early = s["early_stopping"] and val is not None
    best, best_layers, wait, stopped = math.inf, [p.copy() for p in layers], 0, False
    rates = dropout_rates(s["dropout"], len(sizes) - 2)
    # Class weights: each training (and validation) row gets its class's weight.
    per_class = None if regression else class_weights(s["class_weight"], y, max(sizes[-1], 2))
    w = w_eval = w_val = None
    if per_class is not None:
        w = per_class[y].astype(dtype)
        w_eval = w[eval_rows]
        if val is not None:
            w_val = per_class[y_val].astype(dtype)
    history = []
    for epoch in range(1, s["epochs"] + 1):
        last_good = [p.copy() for p in layers]
        optimizer.learning_rate = learning_rate(s, epoch - 1, s["epochs"])
        order = shuffler.permutation(n) if s["shuffle"] else np.arange(n)
        # Overflow on the way to divergence is reported below, not warned about.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for start in range(0, n, s["batch_size"]):
                batch = order[start : start + s["batch_size"]]
                masks = None
                if any(rates):  # drawn from the shuffling stream, after the epoch's order
                    masks = dropout_masks(shuffler, rates, len(batch), sizes, dtype)
                grads = gradients(
                    layers,
                    names,
                    net["loss"],
                    X[batch],
                    Y[batch],
                    s["l2"],
                    s["l1"],
                    masks,
                    None if w is None else w[batch],
                )
                optimizer.step(layers, grads)
            train_loss, train_fig = metrics(
                layers, names, net["loss"], X[eval_rows], Y[eval_rows], regression, w_eval
            )
            val_loss = val_fig = None
            if val is not None:
                val_loss, val_fig = metrics(layers, names, net["loss"], *val, regression, w_val)
        # R^2 can overflow to -inf on the way to divergence before the loss does
        figures = (train_loss, val_loss, train_fig, val_fig)
        finite = all(math.isfinite(f) for f in figures if f is not None)
        if not finite or not all(np.all(np.isfinite(p)) for p in layers):
            log(f"training diverged at epoch {epoch}: try a lower learning rate")
            return last_good, history, False, False
        figure = "r2" if regression else "accuracy"
        history.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                f"train_{figure}": train_fig,
                "val_loss": val_loss,
                f"val_{figure}": val_fig,
                "learning_rate": optimizer.learning_rate,
            }
        )
        if log_every and epoch % log_every == 0:
            log(f"Epoch {epoch}")
            if regression:
                log(f"Training loss: {train_loss}, R^2: {train_fig}")
                if val_fig is not None:
                    log(f"Validation loss: {val_loss}, R^2: {val_fig}")
            else:
                log(f"Training Accuracy:{train_fig}")
                if val_fig is not None:
                    log(f"Validation Accuracy:{val_fig}")
        if early:
            if val_loss < best:
                best, best_layers, wait = val_loss, [p.copy() for p in layers], 0
            else:
                wait += 1
            if wait >= s["patience"]:
                stopped = True
                log(f"Stopped early after epoch {epoch}: no better validation loss in a while")
                break
    if early and s["restore_best"] and best < math.inf:
        layers = best_layers
    return layers, history, stopped, True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="data.csv", help="the CSV the lab wrote")
    parser.add_argument("--settings", default="settings.json", help="the settings JSON")
    parser.add_argument("--out", help="write the history, weights and test metrics to this JSON")
    parser.add_argument("--log-every", type=int, default=20, help="print every N epochs (0: never)")
    args = parser.parse_args(argv)
    with open(args.settings, encoding="utf-8") as fh:
        settings = json.load(fh)
    if settings.get("format") != FORMAT:
        sys.exit(f"error: {args.settings} is not a settings file of this recipe ({FORMAT})")
    X_train, y_train, X_val, y_val, X_test, y_test, steps = prepare_data(args.data, settings)
    print(f"{len(y_train)} training, {len(y_val)} validation, {len(y_test)} test rows")
    if steps is not None:
        one_hot = sum(step["kind"] == "categorical" for step in steps)
        flags = sum(bool(step.get("indicator")) for step in steps)
        print(
            f"Preprocessing fitted on the training rows: {len(steps)} columns -> "
            f"{X_train.shape[1]} inputs ({one_hot} one-hot, {flags} with a 'was missing' input)"
        )
    if X_train.shape[1] != settings["network"]["layers"][0]:
        sys.exit(
            f"error: the data give {X_train.shape[1]} inputs but the network takes "
            f"{settings['network']['layers'][0]}"
        )
    net = settings["network"]
    scale = None
    if is_regression(settings):
        scale = fit_target_scale(y_train)
        print(
            f"Target {settings['data']['target']!r} standardized with the training rows' mean "
            f"{scale[0][0]} and standard deviation {scale[1][0]}"
        )
    layers, history, stopped, finished = train(
        settings, X_train, y_train, X_val, y_val, args.log_every, scale=scale
    )
    dtype = np.dtype(net["dtype"])
    Y_test = targets(y_test, net["layers"][-1], dtype, scale)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        test = evaluate(layers, layer_names(net), net["loss"], X_test.astype(dtype), Y_test, scale)
    if scale is None:
        print(f"Testing Accuracy: {test['accuracy']}")
    else:
        units = f"in the units of {settings['data']['target']!r}"  # a name from the data
        print(f"Testing R^2: {test['r2']}")
        print(f"Testing MAE: {test['mae']} ({units})")
        print(f"Testing RMSE: {test['rmse']} ({units})")
    if args.out:
        weights = [a.tolist() for Wb in layers for a in (Wb[:-1], Wb[-1])]
        result = {
            "history": history,
            "weights": weights,
            "test": test,
            "stopped_early": stopped,
            "diverged": not finished,
        }
        if steps is not None:
            result["preprocessing"] = steps
        if scale is not None:
            result["target_scale"] = {"mean": scale[0].tolist(), "scale": scale[1].tolist()}
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(result, fh)
    return 0 if finished else 1


if __name__ == "__main__":
    sys.exit(main())
