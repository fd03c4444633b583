"""Look inside a network: decision surfaces and fitted values, one backprop step in numbers,
gradient checks, health.

Everything here reads a network through its public methods and leaves its weights as they were
(``apply_trace`` is the one exception, and says so). The arithmetic is the engine's own: its
forward pass (``Network.forward``), its activation layers and its loss functions (nn/losses.py),
so what the lab shows is what training does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nn import config, losses
from nn.network import Network
from nn.task import CLASSIFICATION, REGRESSION

MAX_RESOLUTION = 400
# A sigmoid or tanh unit counts as saturated when its output is this close to a bound, measured as
# a share of the output range; there its slope is below 5% of the steepest slope.
SATURATION = 0.975
# Layers with fewer parameters than this are checked entry by entry; bigger ones are sampled.
CHECK_MAX_ENTRIES = 40


# ---- decision surface (classes) and fitted values (regression) ----


def decision_grid(
    net: Network,
    X,
    resolution: int = 100,
    margin: float = 0.5,
    fixed=None,
    features: tuple[int, int] = (0, 1),
    transform=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The network's outputs on a grid over two features, for a decision-surface plot.

    Classification only (a regression network's surface is ``value_grid``).

    Parameters
    ----------
    net : the network.
    X : data points that set the plotted range, (n, n_inputs) or just the two features (n, 2),
        in the same units as ``fixed`` (the units ``transform`` expects).
    resolution : grid points per axis.
    margin : padding beyond the data on each side, in standard deviations of that feature.
    fixed : a full feature vector (n_inputs, or the raw width with ``transform``) holding the
        other features; defaults to the median of ``X`` (needed when ``X`` holds only the two
        plotted columns).
    features : the indices of the two features on the x and y axes.
    transform : a callable applied to full rows before prediction (e.g. the standardizer).

    Returns
    -------
    xs : (resolution,) grid values of ``features[0]``.
    ys : (resolution,) grid values of ``features[1]``.
    probs : (resolution, resolution, k): ``probs[i, j]`` is the output at ``(xs[j], ys[i])``
        (row = y, as heatmaps expect); a single sigmoid output becomes two columns ``[1 - p, p]``.
    """
    if net.task != CLASSIFICATION:
        raise ValueError(
            "a decision surface shows classes; a regression network's surface is value_grid"
        )
    (xs, ys), rows = _grid_rows(net, X, resolution, margin, fixed, features, transform)
    probs = net.predict_proba(rows).astype(np.float64)
    if probs.shape[1] == 1:
        probs = np.hstack([1.0 - probs, probs])
    return xs, ys, probs.reshape(resolution, resolution, -1)


def value_grid(
    net: Network,
    X,
    resolution: int = 100,
    margin: float = 0.5,
    fixed=None,
    features: tuple[int, int] = (0, 1),
    transform=None,
    output: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A regression network's predicted values on a grid over two features (a value surface).

    The parameters are ``decision_grid``'s, plus ``output``: which target column to show when
    the network predicts several. Returns ``xs`` and ``ys`` (resolution,) and ``values``
    (resolution, resolution): ``values[i, j]`` is ``net.predict`` at ``(xs[j], ys[i])``, in
    the target's own units.
    """
    _check_regression(net, output)
    (xs, ys), rows = _grid_rows(net, X, resolution, margin, fixed, features, transform)
    values = _predicted(net, rows, output)
    return xs, ys, values.reshape(resolution, resolution)


def value_curve(
    net: Network,
    X,
    resolution: int = 200,
    margin: float = 0.1,
    fixed=None,
    feature: int = 0,
    transform=None,
    output: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A regression network's predicted values along one feature (a fitted curve).

    ``X`` (n, n_inputs, or the raw width with ``transform``; or just the feature's column
    (n, 1) with ``fixed``) sets the range, padded by ``margin`` standard deviations on each
    side; the other features are held at ``fixed`` (default: the median of ``X``). Returns
    ``xs`` (resolution,) evenly spaced and ``values`` (resolution,), ``net.predict`` at each
    in the target's own units (column ``output`` when it predicts several).
    """
    _check_regression(net, output)
    n_in = _raw_width(net, fixed, X, transform)
    if isinstance(feature, bool) or not isinstance(feature, (int, np.integer)):
        raise ValueError(f"feature must be a feature index, got {feature!r}")
    if not 0 <= feature < n_in:
        raise ValueError(f"feature must be an index in 0..{n_in - 1}, got {feature}")
    _check_resolution(resolution, margin)
    X = _check_points(X)
    if X.shape[1] == n_in:
        col = X[:, feature]
    elif X.shape[1] == 1:
        col = X[:, 0]
    else:
        raise ValueError(
            f"X has {X.shape[1]} columns; give all {n_in} features or just the plotted one"
        )
    base = _base_row(X, fixed, n_in)
    lo, hi = _padded_range(col.reshape(-1, 1), margin)
    xs = np.linspace(lo[0], hi[0], resolution)
    rows = np.tile(base, (resolution, 1))
    rows[:, feature] = xs
    if transform is not None:
        rows = np.asarray(transform(rows), dtype=np.float64)
    return xs, _predicted(net, rows, output)


def _check_regression(net: Network, output: int) -> None:
    if net.task != REGRESSION:
        raise ValueError("predicted values need a regression network; a classifier has classes")
    if isinstance(output, bool) or not isinstance(output, (int, np.integer)):
        raise ValueError(f"output must be a target index, got {output!r}")
    if not 0 <= output < net.n_outputs:
        raise ValueError(f"output must be a target index in 0..{net.n_outputs - 1}")


def _predicted(net: Network, rows: np.ndarray, output: int) -> np.ndarray:
    values = np.asarray(net.predict(rows), dtype=np.float64)
    return values[:, output] if values.ndim == 2 else values


def _raw_width(net: Network, fixed, X, transform) -> int:
    """How many features a grid row holds: the network's inputs, or with a ``transform`` the
    raw width (of ``fixed``, else of ``X``), which the transform turns into the inputs."""
    if transform is None:
        return net.n_inputs
    return np.asarray(fixed).size if fixed is not None else np.asarray(X).shape[-1]


def _check_resolution(resolution, margin) -> None:
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)):
        raise ValueError(f"resolution must be a whole number, got {resolution!r}")
    if not 2 <= resolution <= MAX_RESOLUTION:
        raise ValueError(f"resolution must be from 2 to {MAX_RESOLUTION}, got {resolution}")
    if not isinstance(margin, (int, float, np.floating)) or not 0 <= margin <= 10:
        raise ValueError(f"margin must be a number from 0 to 10, got {margin!r}")


def _check_points(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError("X must be a non-empty 2-D array (samples, features)")
    return X


def _base_row(X: np.ndarray, fixed, n_in: int) -> np.ndarray:
    """The values the features that are not plotted are held at."""
    if fixed is None:
        if X.shape[1] != n_in:
            raise ValueError("give 'fixed' values for the features that are not plotted")
        return np.median(X, axis=0)
    base = np.asarray(fixed, dtype=np.float64).reshape(-1)
    if base.shape != (n_in,):
        raise ValueError(f"'fixed' must hold all {n_in} feature values, got {base.size}")
    if not np.all(np.isfinite(base)):
        raise ValueError("'fixed' contains NaN or infinite values")
    return base


def _padded_range(cols: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """Per column, the data's range padded by ``margin`` standard deviations on each side."""
    if not np.all(np.isfinite(cols)):
        raise ValueError("X contains NaN or infinite values")
    std = cols.std(axis=0)
    pad = margin * np.where(std > 0, std, 1.0)
    lo, hi = cols.min(axis=0) - pad, cols.max(axis=0) + pad
    return lo, np.where(hi > lo, hi, lo + 1.0)


def _grid_rows(net, X, resolution, margin, fixed, features, transform):
    """``(xs, ys)`` and the grid's rows as the network takes them: every row holds ``fixed``
    (or the median of ``X``) but for the two plotted features, row-major with y slowest."""
    n_in = _raw_width(net, fixed, X, transform)
    _check_resolution(resolution, margin)
    f0, f1 = _check_features(features, n_in)
    X = _check_points(X)
    if X.shape[1] == n_in:
        cols = X[:, [f0, f1]]
    elif X.shape[1] == 2:
        cols = X
    else:
        raise ValueError(
            f"X has {X.shape[1]} columns; give all {n_in} features or just the two plotted"
        )
    lo, hi = _padded_range(cols, margin)
    base = _base_row(X, fixed, n_in)
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    rows = np.tile(base, (resolution * resolution, 1))
    rows[:, f0] = gx.ravel()
    rows[:, f1] = gy.ravel()
    if transform is not None:
        rows = np.asarray(transform(rows), dtype=np.float64)
    return (xs, ys), rows


def _check_features(features, n_in: int) -> tuple[int, int]:
    try:
        f0, f1 = (int(f) for f in features)
    except (TypeError, ValueError):
        raise ValueError(f"features must be two feature indices, got {features!r}") from None
    if n_in < 2:
        raise ValueError("a decision surface needs at least two input features")
    if f0 == f1 or not (0 <= f0 < n_in and 0 <= f1 < n_in):
        raise ValueError(f"features must be two different indices in 0..{n_in - 1}")
    return f0, f1


# ---- per-neuron maps and values ----

# Grid points per axis of the neuron maps. One redraw runs the forward pass on 40 x 40 = 1,600
# rows (about 2 x 1,600 x n_params multiply-adds: under a millisecond for [2, 8, 8, 2], about
# 2 ms for [2, 32, 32, 32, 3]) and ships 1,600 numbers per map drawn: the figure, not the
# arithmetic, is the cost (benchmarks/bench_neuron_maps.py).
NEURON_RESOLUTION = 40


@dataclass
class NeuronMaps:
    """Every neuron's activation over a plane of two features (see ``neuron_grid``)."""

    xs: np.ndarray  # (nx,) grid values of features[0]
    ys: np.ndarray  # (ny,) grid values of features[1]
    features: tuple[int, int]
    # Per layer, hidden layers then the output layer: (ny, nx, n_neurons); layers[l][i, j, k]
    # is neuron k's activation at (xs[j], ys[i]) (row = y, as heatmaps expect).
    layers: list[np.ndarray]
    activations: list[str]  # per layer, its activation's name

    def __repr__(self) -> str:
        sizes = [m.shape[2] for m in self.layers]
        return (
            f"NeuronMaps({len(self.ys)}x{len(self.xs)} grid over features {self.features}, "
            f"neurons per layer {sizes})"
        )

    @property
    def sizes(self) -> list[int]:
        """Neurons per layer (hidden layers, then the outputs)."""
        return [m.shape[2] for m in self.layers]


@dataclass
class NeuronValues:
    """Every neuron's activation on given rows (see ``neuron_values``)."""

    layers: list[np.ndarray]  # per layer, hidden layers then the outputs: (n_rows, n_neurons)
    activations: list[str]  # per layer, its activation's name
    output: bool = True  # whether the last layer is the output layer

    def __repr__(self) -> str:
        rows = len(self.layers[0]) if self.layers else 0
        return f"NeuronValues({rows} rows, neurons per layer {self.sizes})"

    @property
    def sizes(self) -> list[int]:
        """Neurons per layer."""
        return [v.shape[1] for v in self.layers]


def _layer_names(net: Network) -> list[str]:
    return [act.name for act in net.activations]


def neuron_grid(
    net: Network,
    X,
    resolution: int = NEURON_RESOLUTION,
    margin: float = 0.5,
    fixed=None,
    features: tuple[int, int] = (0, 1),
    transform=None,
) -> NeuronMaps:
    """Each hidden neuron's and each output's activation on a grid over two features.

    The grid is ``decision_grid``'s (same parameters: the plane of ``features``, the other
    features held at ``fixed`` or the median of ``X``, rows passed through ``transform``), and
    the values are the engine's forward pass (``Network.forward``) on its rows, for any task.
    Returns a ``NeuronMaps`` with ``layers[l]`` of shape (resolution, resolution, n_neurons).
    The default grid keeps a redraw cheap: see ``NEURON_RESOLUTION``.
    """
    (xs, ys), rows = _grid_rows(net, X, resolution, margin, fixed, features, transform)
    passed = net.forward(rows)
    layers = [
        np.asarray(values.a, dtype=np.float64).reshape(resolution, resolution, -1)
        for values in passed
    ]
    f0, f1 = (int(f) for f in features)  # checked by _grid_rows
    return NeuronMaps(xs=xs, ys=ys, features=(f0, f1), layers=layers, activations=_layer_names(net))


def neuron_values(net: Network, X, output: bool = True) -> NeuronValues:
    """Each hidden neuron's activation (and each output's, unless ``output`` is False) on the
    rows ``X`` as the network takes them (n, n_inputs): the forward pass's own values, for a
    distribution per neuron when the data has more features than a plane shows."""
    passed = net.forward(X)
    if not output:
        passed = passed[:-1]
    names = _layer_names(net)[: len(passed)]
    layers = [np.asarray(values.a, dtype=np.float64) for values in passed]
    return NeuronValues(layers=layers, activations=names, output=output)


# ---- one backprop step, every number ----


@dataclass
class LayerTrace:
    """One layer's share of a backprop step on one sample (vectors are 1-D, per node)."""

    index: int  # 1 for the first weight layer
    activation: str
    a_prev: np.ndarray  # (n_in,) the layer's input
    W: np.ndarray  # (n_in, n_out) before the update
    b: np.ndarray  # (n_out,)
    z: np.ndarray  # (n_out,) a_prev @ W + b
    a: np.ndarray  # (n_out,) activation(z)
    grad_a: np.ndarray | None  # dL/da; None at a fused softmax/sigmoid + cross-entropy output
    slope: np.ndarray | None  # activation'(z) for element-wise activations, else None
    delta: np.ndarray  # (n_out,) dL/dz
    grad_W: np.ndarray  # noqa: N815  (n_in, n_out) outer(a_prev, delta) (+ l2 * W)
    grad_b: np.ndarray  # (n_out,) delta
    W_new: np.ndarray  # W - learning_rate * grad_W
    b_new: np.ndarray  # b - learning_rate * grad_b

    def __repr__(self) -> str:
        n_in, n_out = self.W.shape
        return f"LayerTrace({self.index}: {n_in} -> {n_out}, {self.activation})"


@dataclass
class BackpropTrace:
    """Forward pass, loss, deltas, gradients and the gradient-descent update for one sample."""

    x: np.ndarray  # (n_inputs,)
    # (n_outputs,) one-hot (or 0/1 for a single sigmoid output); for regression the target
    # standardized as the network learns it, (value - mean) / scale
    target: np.ndarray
    output: np.ndarray  # (n_outputs,)
    loss: float  # the sample's loss (+ the l2 penalty if any)
    loss_name: str
    output_activation: str
    learning_rate: float
    l2: float
    layers: list[LayerTrace] = field(default_factory=list)
    task: str = CLASSIFICATION
    # Regression: the target and the output in the target's own units (n_outputs,), and the
    # mean and scale that turn one into the other; None for classification.
    target_value: np.ndarray | None = None
    output_value: np.ndarray | None = None
    target_mean: np.ndarray | None = None
    target_scale: np.ndarray | None = None

    def __repr__(self) -> str:
        return (
            f"BackpropTrace(loss={self.loss:.6g}, layers={len(self.layers)}, "
            f"learning_rate={self.learning_rate})"
        )

    def old_weights(self) -> list[np.ndarray]:
        """``[W1, b1, ...]`` before the update."""
        return [a for layer in self.layers for a in (layer.W, layer.b)]

    def new_weights(self) -> list[np.ndarray]:
        """``[W1, b1, ...]`` after the update."""
        return [a for layer in self.layers for a in (layer.W_new, layer.b_new)]

    def gradients(self) -> list[np.ndarray]:
        """``[dL/dW1, dL/db1, ...]``."""
        return [a for layer in self.layers for a in (layer.grad_W, layer.grad_b)]


def _slope(act, z_like: np.ndarray) -> np.ndarray | None:
    """activation'(z) from the activation's stored output (element-wise activations only)."""
    if act.name == "softmax":
        return None
    return act.backward(np.ones_like(z_like))


def backprop_trace(net: Network, x, y, learning_rate: float = 0.15, l2: float = 0.0):
    """Every number of one gradient-descent step on one sample, as the engine computes it.

    ``x`` is one row of features as the network sees it (already standardized if the split
    is); ``y`` an integer label or a one-hot row, or for a regression network the target
    value(s) in their own units (standardized with the network's ``target_scaler``, as
    training does). The network is not changed: the update is computed, not applied (see
    ``apply_trace``). Returns a ``BackpropTrace``.
    """
    checked = config.check_training({"learning_rate": learning_rate, "l2": l2}, fill=False)
    learning_rate, l2 = checked["learning_rate"], checked["l2"]
    names = ("the sample", "the label")
    X, _ = net.check_inputs(np.asarray(x, dtype=np.float64).reshape(1, -1), names=names)
    y_arr = np.asarray(y)
    if y_arr.ndim == 0:
        y_arr = y_arr.reshape(1)
    else:
        y_arr = y_arr.reshape(1, -1) if y_arr.size > 1 else y_arr.reshape(1)
    _, Y = net.check_inputs(X, y_arr, names=names)
    cfg = net.config
    passes = net.forward(X)
    acts = [p.activation for p in passes]
    P = passes[-1].a
    loss = losses.value(cfg["loss"], cfg["output_activation"], P, Y, logits=passes[-1].z)
    loss += net.penalty(l2)
    out_act = acts[-1]
    if cfg["loss"] == "squared_error":
        grad_a = P - Y  # dL/da of 1/2 * sum (a - y)^2
        slope = _slope(out_act, P)
    elif cfg["loss"] == "huber":
        grad_a = np.clip(P - Y, -losses.HUBER_DELTA, losses.HUBER_DELTA)  # dL/da of Huber
        slope = _slope(out_act, P)
    else:
        grad_a, slope = None, None
    # The engine's own fused/unfused output delta, so the numbers are identical.
    delta = losses.output_delta(cfg["loss"], out_act, P, Y)
    traces: list[LayerTrace] = []
    last = len(net.layers) - 1
    for i in range(last, -1, -1):
        layer = net.layers[i]
        if i != last:
            grad_a = delta @ net.layers[i + 1].W.T
            slope = _slope(acts[i], grad_a)
            delta = acts[i].backward(grad_a.copy())
        gWb = passes[i].inputs.T @ delta
        gW, gb = gWb[:-1].copy(), gWb[-1].copy()
        if l2:
            gW += l2 * layer.W
        W, b = layer.W.copy(), layer.b.copy()
        traces.append(
            LayerTrace(
                index=i + 1,
                activation=acts[i].name,
                a_prev=passes[i].inputs[0, :-1].copy(),
                W=W,
                b=b,
                z=passes[i].z[0].copy(),
                a=passes[i].a[0].copy(),
                grad_a=None if grad_a is None else grad_a[0].copy(),
                slope=None if slope is None else slope[0].copy(),
                delta=delta[0].copy(),
                grad_W=gW,
                grad_b=gb,
                W_new=W - gW * learning_rate,
                b_new=b - gb * learning_rate,
            )
        )
    traces.reverse()
    units = {}
    if net.task == REGRESSION:
        scaler = net.target_scaler
        mean = np.zeros(net.n_outputs) if scaler is None else scaler.mean.copy()
        scale = np.ones(net.n_outputs) if scaler is None else scaler.scale.copy()
        units = {
            "target_value": np.asarray(Y[0], dtype=np.float64) * scale + mean,
            "output_value": np.asarray(P[0], dtype=np.float64) * scale + mean,
            "target_mean": mean,
            "target_scale": scale,
        }
    return BackpropTrace(
        x=X[0].copy(),
        target=Y[0].copy(),
        output=P[0].copy(),
        loss=float(loss),
        loss_name=cfg["loss"],
        output_activation=cfg["output_activation"],
        learning_rate=float(learning_rate),
        l2=float(l2),
        layers=traces,
        task=net.task,
        **units,
    )


def apply_trace(net: Network, trace: BackpropTrace) -> None:
    """Advance the network by the trace's update (one plain gradient-descent step).

    The run's optimizer state and history are left alone. ``ValueError`` when the network's
    weights are no longer the ones the trace started from (it trained since).
    """
    current = net.get_weights()
    old = trace.old_weights()
    if len(current) != len(old) or any(
        c.shape != o.shape or not np.array_equal(c, o) for c, o in zip(current, old, strict=True)
    ):
        raise ValueError("the network changed since this step was computed; compute the step again")
    net.set_weights(trace.new_weights())


# ---- numerical gradient check ----


@dataclass
class LayerCheck:
    """The gradient check of one layer (its weights and biases together)."""

    layer: int
    relative_error: float
    max_abs_diff: float
    checked: int
    total: int
    passed: bool


@dataclass
class GradientCheck:
    """Analytic against central-difference gradients, per layer."""

    layers: list[LayerCheck]
    tolerance: float
    eps: float
    rows: int
    loss: float | None = None  # the loss the check differentiates, at the network's weights

    @property
    def passed(self) -> bool:
        """True when every layer is within the tolerance."""
        return all(layer.passed for layer in self.layers)

    def table(self) -> list[dict]:
        """One plain dict per layer (for a table)."""
        return [
            {
                "layer": c.layer,
                "relative error": c.relative_error,
                "max abs difference": c.max_abs_diff,
                "entries checked": f"{c.checked} of {c.total}",
                "result": "pass" if c.passed else "FAIL",
            }
            for c in self.layers
        ]


def gradient_check(
    net: Network,
    X,
    y,
    eps: float = 1e-5,
    l2: float = 0.0,
    tolerance: float = 1e-6,
    max_rows: int = 64,
    max_entries: int = CHECK_MAX_ENTRIES,
    seed: int = 0,
) -> GradientCheck:
    """Compare ``net.loss_and_gradients`` with central differences of the loss, layer by layer.

    The check runs on a float64 copy of the network (so float32 networks are checked too and
    the network itself is never touched), on at most ``max_rows`` rows, and on at most
    ``max_entries`` randomly chosen entries of each W and b. The numerical side differentiates
    the engine's own loss (``evaluate``, plus the ``penalty``), which cross-entropy computes
    from the logits, never clipped. Per layer, the relative error is
    ``|g_analytic - g_numeric| / (|g_analytic| + |g_numeric|)`` over the checked entries; a
    layer passes below ``tolerance``. Near a ReLU kink a correct gradient can exceed it.
    """
    if not isinstance(eps, (int, float, np.floating)) or not 0 < eps < 1:
        raise ValueError(f"eps must be a small positive number, got {eps!r}")
    clone = Network.from_config({**net.config, "dtype": "float64"})
    clone.set_weights(net.get_weights())
    # A regression network learns its targets standardized: the clone must scale them alike.
    clone.target_scaler = net.target_scaler
    X, _ = clone.check_inputs(X)
    y = np.asarray(y)
    if y.shape[:1] != (len(X),):
        raise ValueError(f"y has {y.shape[0] if y.ndim else 0} labels but X has {len(X)} rows")
    rng = np.random.default_rng(seed)
    if len(X) > max_rows:
        rows = np.sort(rng.choice(len(X), max_rows, replace=False))
        X, y = X[rows], y[rows]
    _, analytic = clone.loss_and_gradients(X, y, l2=l2)

    def loss() -> float:
        return clone.evaluate(X, y)["loss"] + clone.penalty(l2)

    checks = []
    for i, layer in enumerate(clone.layers):
        a_vals, n_vals, total = [], [], 0
        for param, grad in ((layer.W, analytic[2 * i]), (layer.b, analytic[2 * i + 1])):
            total += param.size
            if param.size > max_entries:
                picks = rng.choice(param.size, max_entries, replace=False)
            else:
                picks = np.arange(param.size)
            for flat in picks:
                idx = np.unravel_index(flat, param.shape)
                orig = param[idx]
                param[idx] = orig + eps
                plus = loss()
                param[idx] = orig - eps
                minus = loss()
                param[idx] = orig
                numeric = (plus - minus) / (2 * eps)
                a_vals.append(float(grad[idx]))
                n_vals.append(numeric)
        a_vals, n_vals = np.array(a_vals), np.array(n_vals)
        diffs = a_vals - n_vals
        scale = np.linalg.norm(a_vals) + np.linalg.norm(n_vals)
        rel = float(np.linalg.norm(diffs) / scale) if scale > 1e-300 else 0.0
        if not math.isfinite(rel):
            rel = math.inf
        checks.append(
            LayerCheck(
                layer=i + 1,
                relative_error=rel,
                max_abs_diff=float(np.abs(diffs).max()),
                checked=len(a_vals),
                total=total,
                passed=rel < tolerance,
            )
        )
    return GradientCheck(
        layers=checks, tolerance=tolerance, eps=float(eps), rows=len(X), loss=float(loss())
    )


# ---- training health ----


def _status(warn: bool) -> str:
    return "warning" if warn else "ok"


def training_health(
    net: Network,
    X,
    y,
    learning_rate: float | None = None,
    l2: float = 0.0,
    max_rows: int = 512,
    l1: float | None = None,
) -> dict:
    """Signs of trouble in the current network on a batch, each with a plain-language hint.

    Returns a dict of four parts, each a dict with ``status`` ("ok" or "warning") and ``hint``:

    - ``saturation``: per sigmoid/tanh hidden layer, the share of (unit, sample) outputs within
      2.5% of the activation's bounds (slope below 5% of its maximum), and the overall share.
    - ``dead_relu``: per ReLU hidden layer, the share of units that output 0 (leaky: never
      positive) for every row of the batch.
    - ``gradient_norms``: the L2 norm of each layer's gradient (W and b together), and, with a
      ``learning_rate``, the size of one update relative to the weights.
    - ``input_scale``: the largest absolute feature mean, the largest standard deviation and
      the ratio of the largest to the smallest standard deviation.

    A regression network gets a fifth part, ``output``: how the outputs (on the standardized
    target) compare with the targets: their spread (``spread``: standard deviation of the
    outputs over that of the targets) and, for a sigmoid output, which can only reach the
    values from the target's mean to one standard deviation above it, the share of targets
    out of its reach (``unreachable``) and of outputs at its limits (``saturated``).

    With ``l1`` (the run's L1 setting, 0 included) there is one more part, ``near_zero``: the
    share of weights (not biases) within ``NEAR_ZERO`` of 0, overall (``share``) and per layer
    (see ``near_zero_weights``), the figure L1 drives up.
    """
    X, _ = net.check_inputs(X)
    y = np.asarray(y)
    if len(X) > max_rows:
        rows = np.linspace(0, len(X) - 1, max_rows).round().astype(int)
        X, y = X[rows], y[rows]
    passes = net.forward(X)
    hidden = [(p.activation, p.a) for p in passes[:-1]]
    report = {
        "saturation": _saturation(hidden),
        "dead_relu": _dead_relu(hidden),
        "gradient_norms": _gradient_norms(net, X, y, learning_rate, l2),
        "input_scale": input_scale(X),
    }
    if net.task == REGRESSION:
        _, Y = net.check_inputs(X, y)
        report["output"] = _regression_output(net, passes[-1].a, Y)
    if l1 is not None:
        report["near_zero"] = near_zero_weights(net, l1)
    return report


NEAR_ZERO = 1e-3  # a weight this close to 0 barely passes anything on


def near_zero_weights(net: Network, l1: float = 0.0, tol: float = NEAR_ZERO) -> dict:
    """The share of weights (not biases) with ``|w| < tol``: ``share`` over the network,
    ``per_layer`` by layer (1-based), with a ``status`` and a ``hint`` that reads them in the
    light of the run's ``l1`` setting (L1 pushes useless weights to 0 on purpose)."""
    per_layer = {i + 1: float(np.mean(np.abs(layer.W) < tol)) for i, layer in enumerate(net.layers)}
    near = sum(int(np.count_nonzero(np.abs(layer.W) < tol)) for layer in net.layers)
    share = near / sum(layer.W.size for layer in net.layers)
    warn = share > 0.9
    if warn:
        hint = (
            f"{share:.0%} of the weights are within {tol:g} of zero: the network has almost no "
            "connections left to learn with. "
            + ("Lower the L1 penalty." if l1 else "Check the learning rate and the weight penalty.")
        )
    elif l1 and share >= 0.05:
        hint = (
            f"{share:.0%} of the weights are within {tol:g} of zero: L1 switches off the "
            "connections the network does not need, the stronger it is the more."
        )
    elif l1:
        hint = (
            f"Only {share:.0%} of the weights are within {tol:g} of zero although L1 is on: "
            "it is too weak for this network yet, or each step moves a weight by more than "
            f"{tol:g} (the learning rate; Adam's steps are about that size), so the weights it "
            "pulls to zero keep jumping around it."
        )
    else:
        hint = (
            f"{share:.0%} of the weights are within {tol:g} of zero. An L1 penalty would push "
            "the weights the network does not need to zero."
        )
    return {
        "share": share,
        "per_layer": per_layer,
        "tol": tol,
        "status": _status(warn),
        "hint": hint,
    }


def _regression_output(net: Network, P: np.ndarray, Y: np.ndarray) -> dict:
    """The output check of a regression network: outputs ``P`` and standardized targets ``Y``
    (n, k)."""
    P, Y = np.asarray(P, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    target_spread = float(Y.std())
    spread = float(P.std()) / target_spread if target_spread > 0 else 1.0
    result = {"spread": spread, "unreachable": None, "saturated": None}
    scaler = net.target_scaler
    if net.config["output_activation"] == "sigmoid":
        unreachable = float(np.mean((Y < 0.0) | (Y > 1.0)))
        saturated = float(np.mean(np.abs(2.0 * P - 1.0) > SATURATION))
        result.update(unreachable=unreachable, saturated=saturated)
        if scaler is not None and scaler.n_targets == 1:
            lo, hi = float(scaler.mean[0]), float(scaler.mean[0] + scaler.scale[0])
            reach = f"from {lo:.4g} to {hi:.4g} (the target's mean to one standard deviation above)"
        else:
            reach = "from the target's mean to one standard deviation above it"
        if unreachable > 0.05 or saturated > 0.3:
            hint = (
                f"A sigmoid output only reaches values {reach}: {unreachable:.0%} of the "
                f"targets lie outside, and {saturated:.0%} of the outputs sit at its limits, "
                "where it barely learns. Use a linear output for a number (Architecture page)."
            )
            return {**result, "status": "warning", "hint": hint}
        hint = f"The sigmoid output reaches values {reach}, where these targets lie."
        return {**result, "status": "ok", "hint": hint}
    if spread < 0.1:
        hint = (
            f"The outputs barely vary (their spread is {spread:.0%} of the targets'): the "
            "network gives about the mean to every row. Train longer, or check the learning "
            "rate and the hidden units (dead ReLUs)."
        )
        return {**result, "status": "warning", "hint": hint}
    hint = (
        "A linear output reaches any value. The network learns the target standardized "
        "(its training mean and standard deviation, saved with the model) and turns its "
        "output back into the target's units, so a target in large units is no problem."
    )
    return {**result, "status": "ok", "hint": hint}


def _saturation(hidden: list) -> dict:
    per_layer: dict[int, float] = {}
    saturated = counted = 0
    for i, (act, a) in enumerate(hidden):
        if act.name == "sigmoid":
            closeness = np.abs(2.0 * a - 1.0)
        elif act.name == "tanh":
            closeness = np.abs(a)
        else:
            continue
        hits = int(np.count_nonzero(closeness > SATURATION))
        per_layer[i + 1] = hits / a.size
        saturated += hits
        counted += a.size
    if not counted:
        return {
            "share": None,
            "per_layer": {},
            "status": "ok",
            "hint": "No sigmoid or tanh hidden layers, so nothing can saturate.",
        }
    share = saturated / counted
    if share > 0.3:
        hint = (
            f"{share:.0%} of the sigmoid/tanh hidden outputs sit at their limits, where the slope "
            "is almost flat, so those units barely learn. Standardize the inputs, use smaller "
            "initial weights (xavier) or a lower learning rate."
        )
    elif share > 0.05:
        hint = (
            f"{share:.0%} of the sigmoid/tanh hidden outputs are saturated; a few is normal, "
            "many slow learning down."
        )
    else:
        hint = f"Only {share:.0%} of the sigmoid/tanh hidden outputs are saturated: healthy."
    return {"share": share, "per_layer": per_layer, "status": _status(share > 0.3), "hint": hint}


def _dead_relu(hidden: list) -> dict:
    per_layer: dict[int, float] = {}
    dead = counted = 0
    for i, (act, a) in enumerate(hidden):
        if act.name not in ("relu", "leaky_relu"):
            continue
        never = int(np.count_nonzero(~np.any(a > 0.0, axis=0)))
        per_layer[i + 1] = never / a.shape[1]
        dead += never
        counted += a.shape[1]
    if not counted:
        return {
            "share": None,
            "per_layer": {},
            "status": "ok",
            "hint": "No ReLU hidden layers, so no unit can die.",
        }
    share = dead / counted
    if share > 0.25:
        hint = (
            f"{share:.0%} of the ReLU units output zero for every sample: they are dead and "
            "will not learn again. Lower the learning rate, use He initialisation, or try "
            "leaky ReLU."
        )
    elif dead:
        hint = f"{dead} ReLU unit(s) ({share:.0%}) are silent on every sample; a few is harmless."
    else:
        hint = "Every ReLU unit is active on some sample: healthy."
    return {"share": share, "per_layer": per_layer, "status": _status(share > 0.25), "hint": hint}


def _gradient_norms(net: Network, X, y, learning_rate, l2) -> dict:
    _, grads = net.loss_and_gradients(X, y, l2=l2)
    weights = net.get_weights()
    norms, update_ratio = {}, {}
    for i in range(len(net.layers)):
        g = math.sqrt(float(np.sum(grads[2 * i] ** 2) + np.sum(grads[2 * i + 1] ** 2)))
        w = math.sqrt(float(np.sum(weights[2 * i] ** 2) + np.sum(weights[2 * i + 1] ** 2)))
        norms[i + 1] = g
        if learning_rate is not None:
            update_ratio[i + 1] = learning_rate * g / w if w > 0 else math.inf
    values = list(norms.values())
    largest, smallest = max(values), min(values)
    warn = False
    if not all(math.isfinite(v) for v in values):
        hint, warn = "The gradient is not finite: training has diverged.", True
    elif largest == 0.0:
        hint = (
            "The gradient is zero: the network fits this batch exactly or every unit is "
            "dead/saturated, so nothing will change."
        )
        warn = True
    elif smallest < 1e-3 * largest:
        first, last = values[0], values[-1]
        where = "first" if first < last else "last"
        hint = (
            f"The {where} layers get gradients over 1000x smaller than others (vanishing "
            "gradients): they barely learn. ReLU hidden layers, xavier/he initialisation or "
            "standardized inputs help."
        )
        warn = True
    elif largest > 1e3:
        hint = "Very large gradients (exploding): lower the learning rate."
        warn = True
    else:
        hint = "Gradient sizes are within 1000x of each other across layers: healthy."
    result = {"per_layer": norms, "status": _status(warn), "hint": hint}
    if learning_rate is not None:
        result["update_ratio"] = update_ratio
        big = max(update_ratio.values())
        if not warn and big > 0.1:
            result["status"] = "warning"
            result["hint"] = (
                f"One step changes a layer's weights by up to {big:.0%} of their size: the "
                "learning rate is probably too high."
            )
    return result


def input_scale(X) -> dict:
    """How far the inputs are from standardized (mean 0, standard deviation 1), with a hint."""
    X = np.asarray(X, dtype=np.float64)
    means, stds = X.mean(axis=0), X.std(axis=0)
    # A constant column's std comes out as rounding noise (~1e-16 x its mean), not 0.
    constant = stds <= 1e-12 * np.maximum(np.abs(means), 1.0)
    positive = stds[~constant]
    ratio = float(positive.max() / positive.min()) if positive.size else 1.0
    max_mean = float(np.abs(means).max())
    max_std = float(stds.max())
    warn = max_mean > 1.5 or max_std > 5.0 or ratio > 10.0
    if warn:
        hint = (
            f"The inputs are not on a common scale (largest |mean| {max_mean:.3g}, largest "
            f"standard deviation {max_std:.3g}, {ratio:.3g}x between features). Standardize them "
            "(Data page) so no feature dominates and sigmoid/tanh units do not saturate."
        )
    else:
        hint = "The inputs are on a similar, moderate scale."
    return {
        "max_abs_mean": max_mean,
        "max_std": max_std,
        "std_ratio": ratio,
        "status": _status(warn),
        "hint": hint,
    }


def generalization_gap(history, window: int = 10) -> dict:
    """The gap between validation and training loss, and whether validation loss is rising.

    ``history`` holds ``EpochRecord`` objects or their dicts. Overfitting is flagged when the
    validation loss has not improved for ``window`` epochs and is 5% above its best while the
    training loss went on falling, or when it is more than 50% above the training loss.
    """
    records = [r.as_dict() if hasattr(r, "as_dict") else dict(r) for r in history]
    base = {"train_loss": None, "val_loss": None, "gap": None, "best_epoch": None}
    if not records:
        return {**base, "status": "ok", "hint": "Train first: no epochs yet."}
    last = records[-1]
    if last.get("val_loss") is None:
        return {
            **base,
            "train_loss": last["train_loss"],
            "status": "ok",
            "hint": "No validation part: give validation a share on the Data page to see the gap.",
        }
    val = np.array([r["val_loss"] for r in records], dtype=float)
    train = np.array([r["train_loss"] for r in records], dtype=float)
    best = int(np.argmin(val))
    since = len(val) - 1 - best
    gap = float(val[-1] - train[-1])
    rising = since >= window and val[-1] > 1.05 * val[best] and train[-1] < train[best]
    wide = gap > 0.5 * max(train[-1], 1e-12) and gap > 0.01
    if rising:
        hint = (
            f"Validation loss is up {val[-1] / val[best] - 1:.0%} since its best (epoch "
            f"{records[best]['epoch']}) while training loss kept falling: overfitting. Early "
            "stopping, L2 or a smaller network help."
        )
    elif wide:
        hint = (
            f"Validation loss is {gap:.3g} above training loss: the network fits the training "
            "rows better than new ones. Watch for it growing."
        )
    else:
        hint = "Training and validation losses are close: no sign of overfitting."
    return {
        "train_loss": float(train[-1]),
        "val_loss": float(val[-1]),
        "gap": gap,
        "best_epoch": int(records[best]["epoch"]),
        "epochs_since_best": since,
        "status": _status(rising or wide),
        "hint": hint,
    }
