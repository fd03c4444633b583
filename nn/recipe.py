"""A reproducible recipe: a standalone NumPy script plus the settings JSON that repeat a run.

``make_recipe(settings)`` returns the script's text and the settings as JSON; ``data_csv``
writes the dataset in the form the script reads; ``recipe_zip`` packs all three. The script
never imports this package: it repeats the lab's arithmetic on its own (the same split as
``nn.data.split``, the same random draws for initialisation and shuffling, the same updates), so
its numbers match the app's to rounding. It is the same text for every run; everything that
varies, including names taken from an uploaded CSV, lives in the JSON, never in the code.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile

import numpy as np

from nn import optimizers
from nn.network import normalize_config
from nn.text import csv_safe_cell

FORMAT = "nn-lab-recipe/1"
SCRIPT_NAME = "recipe.py"
SETTINGS_NAME = "settings.json"
DATA_NAME = "data.csv"

TRAINING_DEFAULTS = {
    "epochs": 100,
    "learning_rate": 0.15,
    "batch_size": 1,
    "optimizer": "sgd",
    "shuffle": False,
    "l2": 0.0,
    "seed": None,  # the shuffling stream's seed; None: the network's seed (as the app does)
    "momentum": 0.9,
    "nesterov": False,
    "beta1": 0.9,
    "beta2": 0.999,
    "eps": 1e-8,
    "early_stopping": False,
    "patience": 10,
    "restore_best": True,
}
SPLIT_DEFAULTS = {
    "test_size": 0.15,
    "val_size": 0.10,
    "seed": 0,
    "stratify": False,
    "standardize": False,
}


def _number(section: str, key: str, value, whole: bool = False) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{section}.{key} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{section}.{key} must be finite, got {value!r}")
    if whole:
        if value != int(value):
            raise ValueError(f"{section}.{key} must be a whole number, got {value!r}")
        return int(value)
    return float(value)


def normalize_settings(settings: dict) -> dict:
    """The recipe settings with defaults filled in and values checked (``ValueError``).

    ``settings`` has ``network`` (an ``nn`` config), ``training`` (the arguments of
    ``Network.train_epochs`` plus ``epochs`` and ``seed``), ``split`` (the arguments of
    ``nn.data.split``) and ``data`` (``target``, ``class_names``, ``feature_names``, as
    ``data_csv`` writes them). Keys the recipe does not use (such as the app's pace) are dropped.
    """
    if not isinstance(settings, dict):
        raise ValueError("the recipe settings must be a dict")
    for part in ("network", "training", "split"):
        if not isinstance(settings.get(part), dict):
            raise ValueError(f"the recipe settings need a '{part}' section (a dict)")
    network = normalize_config(settings["network"])
    raw = settings["training"]
    training = {}
    for key, default in TRAINING_DEFAULTS.items():
        value = raw.get(key, default)
        if key == "seed":
            value = network["seed"] if value is None else _number("training", key, value, True)
        elif key == "optimizer":
            if value not in optimizers.OPTIMIZERS:
                raise ValueError(
                    f"training.optimizer must be one of sgd, momentum, adam: {value!r}"
                )
        elif isinstance(default, bool):
            value = bool(value)
        else:
            value = _number("training", key, value, whole=isinstance(default, int))
        training[key] = value
    if training["epochs"] < 0 or training["batch_size"] < 1 or training["learning_rate"] <= 0:
        raise ValueError("training needs epochs >= 0, batch_size >= 1 and learning_rate > 0")
    raw = settings["split"]
    split = {}
    for key, default in SPLIT_DEFAULTS.items():
        value = raw.get(key, default)
        if isinstance(default, bool):
            split[key] = bool(value)
        else:
            split[key] = _number("split", key, value, whole=isinstance(default, int))
    if not 0 < split["test_size"] < 1 or not 0 <= split["val_size"] < 1:
        raise ValueError("split.test_size must be in (0, 1) and split.val_size in [0, 1)")
    data = dict(settings.get("data") or {})
    result = {"format": FORMAT, "network": network, "training": training, "split": split}
    out = {"file": str(data.get("file", DATA_NAME)), "target": str(data.get("target", "class"))}
    for key in ("class_names", "feature_names"):
        if data.get(key) is not None:
            out[key] = [str(v) for v in data[key]]
    n_out = network["layers"][-1]
    if "class_names" in out and len(out["class_names"]) != max(n_out, 2):
        raise ValueError(
            f"data.class_names lists {len(out['class_names'])} classes but the network has "
            f"{n_out} output nodes"
        )
    result["data"] = out
    return result


def make_recipe(settings: dict) -> tuple[str, str]:
    """The standalone script and the settings JSON that reproduce a run (see ``SCRIPT``).

    Run it as ``python recipe.py --data data.csv --settings settings.json``. To reproduce a run
    that was paused, pass the epochs trained so far as ``training.epochs``. A run whose settings
    changed while it trained cannot be repeated from one set of settings (see
    ``reproducibility_notes``).
    """
    normalized = normalize_settings(settings)
    return SCRIPT, json.dumps(normalized, indent=2) + "\n"


def reproducibility_notes(settings: dict, history) -> list[str]:
    """Reasons the recipe may not repeat this history exactly (empty when it should)."""
    training = normalize_settings(settings)["training"]
    records = [r.as_dict() if hasattr(r, "as_dict") else dict(r) for r in history]
    notes = []
    rates = {r["learning_rate"] for r in records}
    if rates and rates != {training["learning_rate"]}:
        notes.append(
            "The learning rate changed during the run; the recipe trains with "
            f"{training['learning_rate']:g} throughout."
        )
    # An early-stopped run ends before its epochs; the recipe stops at the same point.
    stops_early = training["early_stopping"] and len(records) < training["epochs"]
    if records and len(records) != training["epochs"] and not stops_early:
        notes.append(
            f"The run has {len(records)} epochs but the recipe trains {training['epochs']}."
        )
    return notes


def target_column(feature_names: list[str]) -> str:
    """A name for the class column that no feature uses."""
    name, i = "class", 0
    while name in feature_names:
        i += 1
        name = "target" if i == 1 else f"target_{i}"
    return name


def data_csv(X, y, feature_names: list[str], class_names: list[str], target: str | None = None):
    """The dataset as CSV text for the script: the features with every digit kept, then the
    class name of each row in the ``target`` column. Returns ``(text, target)``.

    Every cell follows the lab's one CSV rule (``nn.text.csv_safe_cell``): a name a spreadsheet
    would run as a formula gets a leading apostrophe, which the script removes when it reads
    the file back; the numbers are written as they are."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    if X.ndim != 2 or y.shape != (len(X),):
        raise ValueError("X must be (n, d) and y (n,)")
    feature_names = [str(f) for f in feature_names]
    if len(feature_names) != X.shape[1]:
        raise ValueError(f"{X.shape[1]} features but {len(feature_names)} feature names")
    if len(set(feature_names)) != len(feature_names):
        raise ValueError("feature names must be distinct")
    if y.size and (y.min() < 0 or y.max() >= len(class_names)):
        raise ValueError("labels must index class_names")
    target = target_column(feature_names) if target is None else str(target)
    if target in feature_names:
        raise ValueError(f"the target column {target!r} is also a feature name")
    names = [str(c) for c in class_names]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_safe_cell(c) for c in (*feature_names, target)])
    for row, label in zip(X.tolist(), y.tolist(), strict=True):
        writer.writerow([csv_safe_cell(c) for c in (*(repr(v) for v in row), names[label])])
    return buffer.getvalue(), target


def recipe_zip(settings: dict, X, y, feature_names: list[str], class_names: list[str]) -> bytes:
    """A zip of the script, its settings and the data, ready to run where it is unpacked."""
    text, target = data_csv(X, y, feature_names, class_names)
    settings = {
        **settings,
        "data": {
            "file": DATA_NAME,
            "target": target,
            "class_names": [str(c) for c in class_names],
            "feature_names": [str(f) for f in feature_names],
        },
    }
    script, settings_json = make_recipe(settings)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(SCRIPT_NAME, script)
        zf.writestr(SETTINGS_NAME, settings_json)
        zf.writestr(DATA_NAME, text)
    return buffer.getvalue()


SCRIPT = r'''"""Reproduce a run of the neural-network lab with NumPy alone.

    python recipe.py --data data.csv --settings settings.json [--out results.json]

This file does, step by step, what the lab did: the same train/validation/test split
(scikit-learn's train_test_split, written out here), the same random initial weights, the same
order of samples and the same updates. The losses and accuracies it prints match the app's to
rounding. Nothing but NumPy and the standard library is needed.
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
LOG_CLIP = 1e-12  # probabilities are clipped away from 0 and 1 before taking logs


# ---- data ----


def text_cell(cell):
    """A text cell of the lab's CSV as it was meant: the lab puts an apostrophe in front of
    text a spreadsheet would run as a formula (and of text that starts with one)."""
    cell = cell.strip()
    return cell[1:] if cell.startswith("'") else cell


def read_data(path, data):
    """Features X (n, d) and integer labels y (n,) from the CSV the lab wrote."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = [row for row in csv.reader(fh) if row]
    header, body = [text_cell(h) for h in rows[0]], rows[1:]
    target = header.index(data["target"])
    features = [i for i in range(len(header)) if i != target]
    if "feature_names" in data and [header[i] for i in features] != data["feature_names"]:
        sys.exit("error: the CSV's columns are not the ones in the settings")
    X = np.array([[float(row[i]) for i in features] for row in body])
    names = data.get("class_names") or sorted({text_cell(row[target]) for row in body})
    index = {name: k for k, name in enumerate(names)}
    y = np.array([index[text_cell(row[target])] for row in body], dtype=np.int64)
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


def split(X, y, test_size, val_size, seed, stratify, standardize):
    """Test part first, then the validation part from the rest; standardize with the training
    part's mean and standard deviation."""
    train, test = train_test_indices(y, test_size, seed, stratify)
    X_train, y_train, X_test, y_test = X[train], y[train], X[test], y[test]
    X_val, y_val = X[:0], y[:0]
    if val_size > 0:
        train, val = train_test_indices(y_train, val_size, seed, stratify)
        X_train, y_train, X_val, y_val = X_train[train], y_train[train], X_train[val], y_train[val]
    if standardize:
        mean, std = X_train.mean(axis=0), X_train.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        X_train, X_val, X_test = ((part - mean) / std for part in (X_train, X_val, X_test))
    return X_train, y_train, X_val, y_val, X_test, y_test


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


def forward(layers, names, X):
    """Every layer's input [a, 1] and the network's output."""
    inputs, a = [], X
    for Wb, name in zip(layers, names, strict=True):
        inputs.append(with_ones(a))
        a = activate(name, inputs[-1] @ Wb)
    return inputs, a


def mean_loss(loss, output, P, Y):
    n = len(P)
    if loss == "squared_error":
        return 0.5 * float(np.sum((Y - P) ** 2)) / n
    if output == "softmax":
        return -float(np.sum(Y * np.log(np.clip(P, LOG_CLIP, 1.0)))) / n
    P = np.clip(P, LOG_CLIP, 1.0 - LOG_CLIP)
    return -float(np.sum(Y * np.log(P) + (1.0 - Y) * np.log1p(-P))) / n


def gradients(layers, names, loss, X, Y, l2):
    """dL/dWb of every layer for the batch's mean loss (plus l2 / 2 * sum W^2)."""
    inputs, P = forward(layers, names, X)
    delta = P - Y  # dL/da of squared error; dL/dz of cross-entropy with sigmoid or softmax
    if len(P) != 1:
        delta = delta / len(P)
    if loss == "squared_error":
        delta = backward_through(names[-1], P, delta)
    grads = [None] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        grads[i] = inputs[i].T @ delta
        if l2:
            grads[i][:-1] += l2 * layers[i][:-1]  # biases are not regularized
        if i > 0:
            grad_a = delta @ layers[i][:-1].T
            delta = backward_through(names[i - 1], inputs[i][:, :-1], grad_a)
    return grads


def penalty(layers, l2):
    return 0.5 * l2 * sum(float(np.sum(Wb[:-1] ** 2)) for Wb in layers) if l2 else 0.0


class Optimizer:
    """sgd: p -= lr * g;  momentum: v = mu * v - lr * g, p += v (Nesterov: p += mu * v - lr * g);
    adam: the textbook moments and bias correction."""

    def __init__(self, s, layers):
        self.s, self.t = s, 0
        self.m = [np.zeros_like(p) for p in layers]  # velocity (momentum) or first moment (adam)
        self.v = [np.zeros_like(p) for p in layers]

    def step(self, layers, grads):
        s, lr = self.s, self.s["learning_rate"]
        self.t += 1
        for p, g, m, v in zip(layers, grads, self.m, self.v, strict=True):
            if s["optimizer"] == "sgd":
                p -= lr * g
            elif s["optimizer"] == "momentum":
                m *= s["momentum"]
                m -= lr * g
                p += s["momentum"] * m - lr * g if s["nesterov"] else m
            else:
                b1, b2 = s["beta1"], s["beta2"]
                m[...] = b1 * m + (1.0 - b1) * g
                v[...] = b2 * v + (1.0 - b2) * g * g
                lr_t = lr * np.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
                p -= lr_t * m / (np.sqrt(v) + s["eps"])


def metrics(layers, names, loss, X, Y):
    _, P = forward(layers, names, X)
    if P.shape[1] == 1:
        right = (P[:, 0] > 0.5) == (Y[:, 0] > 0.5)
    else:
        right = P.argmax(axis=1) == Y.argmax(axis=1)
    return mean_loss(loss, names[-1], P, Y), float(np.mean(right))


def targets(y, n_outputs, dtype):
    """One-hot rows, or the 0/1 label itself for a single sigmoid output."""
    if n_outputs == 1:
        return y.astype(dtype).reshape(-1, 1)
    Y = np.zeros((len(y), n_outputs), dtype=dtype)
    Y[np.arange(len(y)), y] = 1.0
    return Y


def train(settings, X, y, X_val, y_val, log_every):
    net, s = settings["network"], settings["training"]
    sizes, dtype = net["layers"], np.dtype(net["dtype"])
    hidden = net["activation"]
    hidden = [hidden] * (len(sizes) - 2) if isinstance(hidden, str) else hidden
    names = [*hidden, net["output_activation"]]
    layers = initial_layers(sizes, net["init"], net["seed"], dtype)
    X, Y = X.astype(dtype), targets(y, sizes[-1], dtype)
    val = (X_val.astype(dtype), targets(y_val, sizes[-1], dtype)) if len(y_val) else None
    n = len(X)
    eval_rows = np.arange(n)
    if n > TRAIN_EVAL_MAX:
        eval_rows = np.sort(np.random.default_rng(n).choice(n, TRAIN_EVAL_MAX, replace=False))
    optimizer = Optimizer(s, layers)
    shuffler = np.random.default_rng(s["seed"])
    early = s["early_stopping"] and val is not None
    best, best_layers, wait, stopped = math.inf, None, 0, False
    history = []
    for epoch in range(1, s["epochs"] + 1):
        last_good = [p.copy() for p in layers]
        order = shuffler.permutation(n) if s["shuffle"] else np.arange(n)
        for start in range(0, n, s["batch_size"]):
            batch = order[start : start + s["batch_size"]]
            grads = gradients(layers, names, net["loss"], X[batch], Y[batch], s["l2"])
            optimizer.step(layers, grads)
        train_loss, train_acc = metrics(layers, names, net["loss"], X[eval_rows], Y[eval_rows])
        val_loss = val_acc = None
        if val is not None:
            val_loss, val_acc = metrics(layers, names, net["loss"], *val)
        finite = math.isfinite(train_loss) and (val_loss is None or math.isfinite(val_loss))
        if not finite or not all(np.all(np.isfinite(p)) for p in layers):
            print(f"training diverged at epoch {epoch}: try a lower learning rate")
            return last_good, history, False, False
        history.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "train_accuracy": train_acc,
                "val_loss": val_loss,
                "val_accuracy": val_acc,
            }
        )
        if log_every and epoch % log_every == 0:
            print(f"Epoch {epoch}")
            print(f"Training Accuracy:{train_acc}")
            if val_acc is not None:
                print(f"Validation Accuracy:{val_acc}")
        if early:
            if val_loss < best:
                best, best_layers, wait = val_loss, [p.copy() for p in layers], 0
            else:
                wait += 1
            if wait >= s["patience"]:
                stopped = True
                print(f"Stopped early after epoch {epoch}: no better validation loss in a while")
                break
    if early and s["restore_best"] and best_layers is not None:
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
    X, y = read_data(args.data, settings["data"])
    sp = settings["split"]
    X_train, y_train, X_val, y_val, X_test, y_test = split(
        X, y, sp["test_size"], sp["val_size"], sp["seed"], sp["stratify"], sp["standardize"]
    )
    print(f"{len(y_train)} training, {len(y_val)} validation, {len(y_test)} test rows")
    net = settings["network"]
    layers, history, stopped, finished = train(
        settings, X_train, y_train, X_val, y_val, args.log_every
    )
    hidden = net["activation"]
    hidden = [hidden] * (len(net["layers"]) - 2) if isinstance(hidden, str) else hidden
    names = [*hidden, net["output_activation"]]
    dtype = np.dtype(net["dtype"])
    Y_test = targets(y_test, net["layers"][-1], dtype)
    test_loss, test_acc = metrics(layers, names, net["loss"], X_test.astype(dtype), Y_test)
    print(f"Testing Accuracy: {test_acc}")
    if args.out:
        weights = [a.tolist() for Wb in layers for a in (Wb[:-1], Wb[-1])]
        result = {
            "history": history,
            "weights": weights,
            "test": {"loss": test_loss, "accuracy": test_acc},
            "stopped_early": stopped,
            "diverged": not finished,
        }
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(result, fh)
    return 0 if finished else 1


if __name__ == "__main__":
    sys.exit(main())
'''
