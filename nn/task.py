"""The two tasks, classification and regression: the one seam where they differ.

A task says which output activations and losses suit it, turns the targets a caller gives into
what the network trains on (``encode``), turns the network's outputs back into answers
(``decode``), and scores outputs against targets (the epoch record's figure and ``evaluate``).

- Classification: integer class labels (or one-hot rows) are encoded as one-hot rows (a 0/1
  column for a single sigmoid output); outputs decode to class labels; the figure is accuracy.
- Regression: float targets ``(n,)`` or ``(n, k)`` are standardized per column with a
  ``TargetScaler`` fitted on the training rows; outputs decode to values in the target's own
  units; the figure is R^2, and ``evaluate`` adds MAE and RMSE (in the target's units).

The network and the training loop call the task's methods and never ask which task it is.

Class weights (the ``class_weight`` training setting) are a classification matter:
``Task.sample_weights`` gives each training row its class's weight, and a regression task
refuses any. ``imbalanced`` says when a target's classes are lopsided enough to suggest them.
"""

from __future__ import annotations

import math

import numpy as np

from nn import metrics

CLASSIFICATION = "classification"
REGRESSION = "regression"
TASKS = (CLASSIFICATION, REGRESSION)
# Classes are imbalanced when the smallest has fewer rows than this share of the largest.
IMBALANCE_SHARE = 0.2


def class_counts(y) -> np.ndarray:
    """Rows per class of integer labels ``y`` (n,), for the classes that occur, in order."""
    _, counts = np.unique(np.asarray(y), return_counts=True)
    return counts


def imbalance(y) -> float | None:
    """The smallest class's rows over the largest one's, among the classes in labels ``y``
    (None without labels): 1 for even classes, near 0 for a rare class."""
    counts = class_counts(y)
    if counts.size == 0:
        return None
    return float(counts.min() / counts.max())


def imbalanced(y, share: float = IMBALANCE_SHARE) -> bool:
    """True when the smallest class in labels ``y`` has fewer rows than ``share`` (a fifth)
    of the largest one's: a case for class weights."""
    ratio = imbalance(y)
    return ratio is not None and ratio < share


def balanced_weights(labels, n_classes: int) -> np.ndarray:
    """scikit-learn's "balanced" class weights (n_classes,): ``n_rows / (k * rows of the
    class)`` over the ``k`` classes present in ``labels`` (scikit-learn's
    ``compute_class_weight``); 1 for a class with no rows (it has no row to weigh)."""
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.asarray(labels, dtype=np.int64)
    present = np.unique(labels)
    weights = np.ones(n_classes, dtype=np.float64)
    if present.size:
        weights[present] = compute_class_weight("balanced", classes=present, y=labels)
    return weights


class TargetScaler:
    """Per-column ``mean`` and ``scale`` (k,) of regression targets, fitted on training rows.

    ``transform`` gives ``(y - mean) / scale``, ``inverse_transform`` undoes it. A column
    without spread gets scale 1 (as scikit-learn's ``StandardScaler`` does), so it is only
    centred. Saved as plain JSON numbers (``to_dict``/``from_dict``).
    """

    def __init__(self, mean, scale) -> None:
        mean = np.array(mean, dtype=np.float64).reshape(-1)
        scale = np.array(scale, dtype=np.float64).reshape(-1)
        if mean.size == 0 or mean.shape != scale.shape:
            raise ValueError("a target scaler needs one mean and one scale per target column")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(scale)) and np.all(scale > 0)):
            raise ValueError("a target scaler needs finite means and positive finite scales")
        self.mean, self.scale = mean, scale

    def __repr__(self) -> str:
        return f"TargetScaler(mean={self.mean.tolist()}, scale={self.scale.tolist()})"

    @property
    def n_targets(self) -> int:
        """Number of target columns."""
        return int(self.mean.size)

    @classmethod
    def fit(cls, y, what: str = "y") -> TargetScaler:
        """Mean and standard deviation (ddof 0) of each column of ``y`` ((n,) or (n, k))."""
        values = np.asarray(y, dtype=np.float64)
        values = values.reshape(len(values), -1)
        with np.errstate(over="ignore", invalid="ignore"):
            mean = values.mean(axis=0)
            var = values.var(axis=0)
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
            raise ValueError(f"{what} has values too large to standardize")
        # scikit-learn's test for a constant column: a variance within rounding error of 0
        eps = np.finfo(np.float64).eps
        n = len(values)
        constant = var <= n * eps * var + (n * mean * eps) ** 2
        scale = np.sqrt(var)
        scale[constant | (scale < 10 * eps)] = 1.0
        return cls(mean, scale)

    def transform(self, y: np.ndarray) -> np.ndarray:
        """Standardized targets (n, k) from values (n, k)."""
        return (y - self.mean) / self.scale

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """Values in the target's units (n, k) from standardized ones (n, k), as float64."""
        return np.asarray(Z, dtype=np.float64) * self.scale + self.mean

    def to_dict(self) -> dict:
        """The scaler as plain JSON numbers."""
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, data) -> TargetScaler:
        """A scaler from ``to_dict``'s output; ``ValueError`` when it is malformed."""
        if not isinstance(data, dict) or set(data) != {"mean", "scale"}:
            raise ValueError("the target scale is malformed")
        for key in ("mean", "scale"):
            values = data[key]
            if not isinstance(values, list) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
            ):
                raise ValueError(f"the target scale's {key} must be a list of numbers")
        return cls(data["mean"], data["scale"])


class Task:
    """What a task decides: its outputs and losses, targets in and answers out, its scores.

    ``metric`` names the figure an ``EpochRecord`` carries for the task (``train_<metric>``
    and ``val_<metric>``); ``default_output`` is the output activation a config gets when it
    names none.
    """

    name = ""
    metric = ""
    outputs: tuple[str, ...] = ()
    losses: tuple[str, ...] = ()
    default_output = ""
    divergence_advice = ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def check_network(self, output_activation: str, loss: str) -> None:
        """``ValueError`` when the output activation or the loss does not suit the task."""
        if output_activation not in self.outputs:
            raise ValueError(
                f"a {self.name} network needs a {' or '.join(self.outputs)} output, "
                f"not {output_activation}"
            )
        if loss not in self.losses:
            raise ValueError(
                f"{loss} is not a {self.name} loss; choose one of {', '.join(self.losses)}"
            )

    def fit_scaler(self, y, n: int, n_outputs: int, what: str = "y") -> TargetScaler | None:
        """The target scaling learned from training targets ``y`` (None: the task has none)."""
        return None

    def class_weights(self, class_weight, truth: np.ndarray, n_outputs: int) -> np.ndarray | None:
        """The weight of each class (None: every row counts alike) from the ``class_weight``
        setting (``nn.config.class_weight``: "none", "balanced" or a list) and the training
        rows' ``truth``; ``ValueError`` when the setting does not suit the task or the data."""
        if class_weight != "none":
            raise ValueError(
                f"class_weight applies to classes, but this {self.name} network predicts "
                "numbers: use class_weight none"
            )
        return None

    def encode(self, y, n: int, n_outputs: int, dtype, scaler, what: str = "y") -> np.ndarray:
        """Targets (n, n_outputs) in ``dtype`` as the network trains on them, or ``ValueError``
        naming what is wrong with ``y`` (``what`` is its name in the message)."""
        raise NotImplementedError

    def decode(self, P: np.ndarray, scaler) -> np.ndarray:
        """The answers the outputs ``P`` (n, n_outputs) stand for."""
        raise NotImplementedError

    def truth(self, Y: np.ndarray) -> np.ndarray:
        """What ``score`` compares outputs with, from encoded targets ``Y`` (computed once)."""
        raise NotImplementedError

    def score(self, P: np.ndarray, truth: np.ndarray) -> float:
        """The task's figure (``metric``) for outputs ``P`` against ``truth(Y)``."""
        raise NotImplementedError

    def scores(self, P: np.ndarray, Y: np.ndarray, scaler) -> dict[str, float]:
        """What ``Network.evaluate`` reports besides the loss."""
        return {self.metric: self.score(P, self.truth(Y))}

    def record_fields(self, train: float, val: float | None) -> dict:
        """The figures of an ``EpochRecord`` (its keyword arguments) for this task."""
        return {
            "train_accuracy": None,
            "val_accuracy": None,
            f"train_{self.metric}": train,
            f"val_{self.metric}": val,
        }


class Classification(Task):
    """Classes: one-hot targets, labels out, accuracy."""

    name = CLASSIFICATION
    metric = "accuracy"
    outputs = ("sigmoid", "softmax", "linear")
    losses = ("squared_error", "cross_entropy")
    default_output = "sigmoid"
    divergence_advice = "standardized inputs, or a sigmoid/softmax output"

    def encode(self, y, n, n_outputs, dtype, scaler, what="y"):
        """One-hot rows (a 0/1 column for a single output) from integer labels or one-hot."""
        y = np.asarray(y)
        if y.shape[:1] != (n,):
            got = y.shape[0] if y.ndim else "a scalar"
            raise ValueError(f"{what} has {got} labels but there are {n} samples")
        if y.ndim == 2 and y.shape[1] == n_outputs and n_outputs > 1:
            if not np.all(np.isfinite(y.astype(float))):
                raise ValueError(f"{what} contains NaN or infinite values")
            return np.ascontiguousarray(y, dtype=dtype)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(
                f"{what} must be integer labels (n,) or one-hot (n, {n_outputs}), "
                f"got shape {y.shape}"
            )
        if y.dtype.kind == "f":
            if not np.all(np.isfinite(y)):
                raise ValueError(f"{what} contains NaN or infinite values")
            if not np.all(y == np.round(y)):
                raise ValueError(
                    f"{what} must hold whole-number class labels; it holds fractions, "
                    "a regression target (build the network with task 'regression')"
                )
        elif y.dtype.kind not in "iub":
            raise ValueError(f"{what} must hold integer class labels, got {y.dtype}")
        labels = y.astype(np.int64)
        n_classes = max(n_outputs, 2)
        if labels.min() < 0 or labels.max() >= n_classes:
            raise ValueError(
                f"{what} has labels outside 0..{n_classes - 1} "
                f"(the network has {n_outputs} output nodes)"
            )
        if n_outputs == 1:
            return labels.astype(dtype).reshape(-1, 1)
        Y = np.zeros((n, n_outputs), dtype=dtype)
        Y[np.arange(n), labels] = 1.0
        return Y

    def decode(self, P, scaler=None):
        """Class labels (n,): the largest output, or output > 0.5 for a single one."""
        if P.shape[1] == 1:
            return (P[:, 0] > 0.5).astype(np.int64)
        return P.argmax(axis=1)

    def truth(self, Y):
        """The class of each one-hot (or 0/1) target row."""
        return Y[:, 0] > 0.5 if Y.shape[1] == 1 else Y.argmax(axis=1)

    def score(self, P, truth):
        """Accuracy."""
        return float(np.mean(self.decode(P) == truth))

    def record_fields(self, train, val):
        return {"train_accuracy": train, "val_accuracy": val}

    def class_weights(self, class_weight, truth, n_outputs):
        """Per-class weights (max(n_outputs, 2),): balanced on ``truth``, or the listed ones."""
        if class_weight == "none":
            return None
        n_classes = max(n_outputs, 2)
        labels = np.asarray(truth).astype(np.int64)
        if class_weight == "balanced":
            return balanced_weights(labels, n_classes)
        if len(class_weight) != n_classes:
            raise ValueError(
                f"class_weight lists {len(class_weight)} weights but there are {n_classes} "
                "classes: give one per class, in the order of the class labels"
            )
        return np.array(class_weight, dtype=np.float64)


class Regression(Task):
    """Numbers: standardized targets, values out in the target's units, R^2 (MAE, RMSE)."""

    name = REGRESSION
    metric = "r2"
    outputs = ("linear", "sigmoid")
    losses = ("squared_error", "huber")
    default_output = "linear"
    divergence_advice = "standardized inputs, or the huber loss"

    def values(self, y, n: int, n_outputs: int, what: str = "y") -> np.ndarray:
        """The targets as float64 (n, n_outputs), or ``ValueError`` naming what is wrong."""
        y = np.asarray(y)
        if y.shape[:1] != (n,):
            got = y.shape[0] if y.ndim else "a scalar"
            raise ValueError(f"{what} has {got} values but there are {n} samples")
        if y.dtype.kind == "b":
            raise ValueError(
                f"{what} holds True/False labels, a classification target, but this is a "
                "regression network"
            )
        if y.dtype.kind not in "iuf":
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{what} must hold numbers for a regression network, got {y.dtype} (text "
                    "labels are a classification target)"
                ) from None
        columns = 1 if y.ndim == 1 else math.prod(y.shape[1:])
        if y.ndim > 2 or columns != n_outputs:
            hint = ""
            if y.ndim == 1 and y.dtype.kind in "iu":
                hint = " (class labels? build the network with task 'classification')"
            raise ValueError(
                f"{what} has {columns} target columns (shape {y.shape}) but the network has "
                f"{n_outputs} outputs{hint}"
            )
        values = y.astype(np.float64).reshape(n, n_outputs)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{what} contains NaN or infinite values")
        return values

    def fit_scaler(self, y, n, n_outputs, what="y"):
        """Mean and standard deviation of each target column of these (training) rows."""
        return TargetScaler.fit(self.values(y, n, n_outputs, what), what)

    def encode(self, y, n, n_outputs, dtype, scaler, what="y"):
        """Standardized targets (the values as they are while no scaler is fitted)."""
        values = self.values(y, n, n_outputs, what)
        Z = values if scaler is None else scaler.transform(values)
        Z = np.ascontiguousarray(Z, dtype=dtype)
        if not np.all(np.isfinite(Z)):
            raise ValueError(f"{what} has values too large for the network's target scale")
        return Z

    def decode(self, P, scaler):
        """Values in the target's units: (n,) for one target, (n, k) for several."""
        values = np.array(P, dtype=np.float64) if scaler is None else scaler.inverse_transform(P)
        return values[:, 0] if values.shape[1] == 1 else values

    def truth(self, Y):
        """The standardized targets themselves."""
        return Y

    def score(self, P, truth):
        """R^2, the mean over target columns (unchanged by standardizing the target)."""
        return metrics.r2_score(truth, P)

    def scores(self, P, Y, scaler):
        """R^2, MAE and RMSE, in the target's units."""
        y_true, y_pred = self.decode(Y, scaler), self.decode(P, scaler)
        return {
            "r2": metrics.r2_score(y_true, y_pred),
            "mae": metrics.mean_absolute_error(y_true, y_pred),
            "rmse": metrics.root_mean_squared_error(y_true, y_pred),
        }


_TASKS = {CLASSIFICATION: Classification(), REGRESSION: Regression()}


def get(name: str) -> Task:
    """The task called ``name``; ``ValueError`` for an unknown name."""
    if not isinstance(name, str) or name not in _TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    return _TASKS[name]
