"""How good a trained network's answers are beyond accuracy, and what it leans on.

- ROC and precision-recall curves with their AUC and average precision: the positive class of
  a binary task, or one curve per class (one-vs-rest) and their macro average;
- the figures of a binary classifier at a decision threshold, and the point they make on
  those curves;
- calibration: a reliability diagram's bins and the Brier score;
- the mean and spread of curves over cross-validation folds, on a common grid;
- permutation importance by raw feature column (a one-hot group is one feature).

The metrics are scikit-learn's (``roc_curve``, ``average_precision_score``,
``calibration_curve``, ``brier_score_loss``, ``permutation_importance`` ...); this module adapts
the network's outputs to them. Class labels are integers 0..k-1 and ``proba`` holds one column
per class, as ``class_probabilities`` makes it (a binary task may also give the positive
class's probability alone, ``(n,)`` or ``(n, 1)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nn import task as tasks

STRATEGIES = ("uniform", "quantile")
THRESHOLD_KEY = "decision_threshold"  # where a saved model's metadata keeps its threshold
DEFAULT_THRESHOLD = 0.5  # the network's own rule: the positive class when p > 0.5
BAND_POINTS = 101  # grid points of a curve averaged over folds
PROBABILITY_OUTPUTS = ("softmax",)  # outputs that are a distribution over classes as they are


# ---- probabilities from the network ----


def class_probabilities(net, X) -> np.ndarray:
    """Class probabilities (n, n_classes) of a classifier for network inputs ``X``.

    A softmax output is used as it is; a single sigmoid output ``p`` gives ``[1 - p, p]``.
    Other outputs (one sigmoid or linear node per class, trained on one-hot targets) are
    scores: negative ones count as 0 and each row is divided by its sum, and a row with no
    positive score gets the softmax of its scores. Either way the largest probability is the
    class ``net.predict`` gives, so a binary threshold of 0.5 reproduces ``net.predict``.
    """
    if net.task != tasks.CLASSIFICATION:
        raise ValueError("class probabilities need a classification network")
    P = np.asarray(net.predict_proba(X), dtype=np.float64)
    if P.shape[1] == 1:
        p = np.clip(P[:, 0], 0.0, 1.0)
        return np.column_stack([1.0 - p, p])
    if net.config["output_activation"] in PROBABILITY_OUTPUTS:
        return P
    scores = np.clip(P, 0.0, None)
    total = scores.sum(axis=1, keepdims=True)
    shifted = np.exp(P - P.max(axis=1, keepdims=True))
    soft = shifted / shifted.sum(axis=1, keepdims=True)
    return np.where(total > 0, scores / np.where(total > 0, total, 1.0), soft)


def positive_probability(proba) -> np.ndarray:
    """The positive class's probability (n,) from ``(n,)``, ``(n, 1)`` or ``(n, 2)`` values."""
    return _binary(_array(proba, "the probabilities"))


# ---- the decision threshold of a binary classifier ----


def check_threshold(threshold, what: str = "the decision threshold") -> float:
    """``threshold`` as a float, or ``ValueError`` unless it is a number from 0 to 1."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.number)):
        raise ValueError(f"{what} must be a number from 0 to 1, got {threshold!r}")
    value = float(threshold)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{what} must be a number from 0 to 1, got {value:g}")
    return value


def predict_at_threshold(p_positive, threshold: float) -> np.ndarray:
    """Class labels (n,): 1 where the positive class's probability is above ``threshold``.

    "Above", not "at least": at 0.5 this is the network's own rule (``net.predict``).
    """
    threshold = check_threshold(threshold)
    p = _probabilities(positive_probability(p_positive), "the probabilities")
    return (p > threshold).astype(np.int64)


def model_threshold(net) -> float:
    """The decision threshold saved in ``net.metadata`` (``DEFAULT_THRESHOLD`` if none);
    ``ValueError`` when the saved value is not a number from 0 to 1."""
    meta = net.metadata if isinstance(net.metadata, dict) else {}
    if THRESHOLD_KEY not in meta:
        return DEFAULT_THRESHOLD
    return check_threshold(meta[THRESHOLD_KEY], "the model's saved decision threshold")


def set_model_threshold(net, threshold: float) -> None:
    """Keep ``threshold`` in ``net.metadata`` so it is saved with the model (binary only)."""
    if net.task != tasks.CLASSIFICATION or net.n_classes != 2:
        raise ValueError("a decision threshold belongs to a two-class classifier")
    if not isinstance(net.metadata, dict):
        net.metadata = {}
    net.metadata[THRESHOLD_KEY] = check_threshold(threshold)


def predict_classes(net, X, threshold: float | None = None) -> np.ndarray:
    """Class labels (n,) for network inputs ``X``: a two-class network's at ``threshold``
    (default: the one saved with it, ``model_threshold``), any other's ``net.predict``."""
    if net.task != tasks.CLASSIFICATION:
        raise ValueError("class labels need a classification network")
    if net.n_classes != 2:
        return net.predict(X)
    t = model_threshold(net) if threshold is None else threshold
    return predict_at_threshold(class_probabilities(net, X), t)


@dataclass
class ThresholdMetrics:
    """A binary classifier's figures when it says "positive" for p > ``threshold``.

    ``confusion`` is 2 x 2, rows true class, columns predicted (negative, positive). A ratio
    whose denominator is 0 is 0 (scikit-learn's ``zero_division=0``). ``roc_point`` is
    ``(fpr, tpr)``; ``pr_point`` is ``(recall, precision)``, None when nothing is predicted
    positive (precision is then undefined, and no point of the PR curve matches).
    """

    threshold: float
    confusion: np.ndarray
    precision: float
    recall: float
    f1: float
    accuracy: float
    fpr: float
    roc_point: tuple[float, float]
    pr_point: tuple[float, float] | None


def binary_at_threshold(y_true, p_positive, threshold: float) -> ThresholdMetrics:
    """Confusion matrix, precision, recall, F1, accuracy and the points on the ROC and PR
    curves of a binary classifier at ``threshold`` (see ``ThresholdMetrics``)."""
    from sklearn import metrics

    threshold = check_threshold(threshold)
    p = _probabilities(positive_probability(p_positive), "the probabilities")
    y = _labels(y_true, len(p), 2)
    y_pred = (p > threshold).astype(np.int64)
    cm = metrics.confusion_matrix(y, y_pred, labels=[0, 1])
    tn, fp = int(cm[0, 0]), int(cm[0, 1])
    precision = float(metrics.precision_score(y, y_pred, zero_division=0))
    recall = float(metrics.recall_score(y, y_pred, zero_division=0))
    fpr = fp / (fp + tn) if fp + tn else 0.0
    return ThresholdMetrics(
        threshold=threshold,
        confusion=cm,
        precision=precision,
        recall=recall,
        f1=float(metrics.f1_score(y, y_pred, zero_division=0)),
        accuracy=float(metrics.accuracy_score(y, y_pred)),
        fpr=fpr,
        roc_point=(fpr, recall),
        pr_point=(recall, precision) if y_pred.any() else None,
    )


# ---- ROC and precision-recall curves ----


@dataclass
class RocCurve:
    """One ROC curve: false and true positive rates (points joined by straight lines), the
    score thresholds that give them (empty for an average) and the area under it.

    ``index`` is the class it is for (-1 for an average), ``label`` its name.
    """

    label: str
    index: int
    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    auc: float


@dataclass
class RocCurves:
    """A binary task's curve (its positive class), or one curve per class and ``macro``."""

    curves: list[RocCurve]
    macro: RocCurve | None

    @property
    def binary(self) -> bool:
        return self.macro is None


@dataclass
class PrCurve:
    """One precision-recall curve as scikit-learn gives it: recall falling from 1 to 0, the
    precision at each point (a step curve: between two points the precision is that of the
    point with the larger recall), thresholds (empty for an average), the average precision
    (the area under the steps) and ``prevalence``, the share of positive rows: the precision
    of a classifier that guesses (the baseline)."""

    label: str
    index: int
    recall: np.ndarray
    precision: np.ndarray
    thresholds: np.ndarray
    average_precision: float
    prevalence: float


@dataclass
class PrCurves:
    """A binary task's curve (its positive class), or one curve per class and ``macro``."""

    curves: list[PrCurve]
    macro: PrCurve | None

    @property
    def binary(self) -> bool:
        return self.macro is None


def roc_curves(y_true, proba, class_names) -> RocCurves:
    """ROC curves and their AUC (scikit-learn's ``roc_curve``, ``roc_auc_score``).

    Two classes: the curve of the positive class (``class_names[1]``). More: one curve per
    class against the rest, and the macro average. The macro curve is the mean of the class
    curves at every false positive rate where one of them bends (the union of their points,
    as scikit-learn's examples interpolate onto a common grid), taken on both sides of a
    vertical step, so it is the exact pointwise mean and its area is the macro AUC: the mean
    of the class AUCs, ``roc_auc_score(..., multi_class="ovr", average="macro")``.
    """
    from sklearn import metrics

    y, P, names = _inputs(y_true, proba, class_names)
    curves = []
    for c in _scored_classes(len(names)):
        positive = y == c
        if positive.all() or not positive.any():
            raise ValueError(_one_class(names, c, "ROC curve"))
        fpr, tpr, thresholds = metrics.roc_curve(positive, P[:, c])
        auc = float(metrics.roc_auc_score(positive, P[:, c]))
        curves.append(RocCurve(names[c], c, fpr, tpr, thresholds, auc))
    if len(names) == 2:
        return RocCurves(curves, None)
    grid = np.unique(np.concatenate([c.fpr for c in curves]))
    fpr, tpr = _roc_on_grid(curves, grid)
    auc = float(np.mean([c.auc for c in curves]))
    macro = RocCurve("macro average", -1, fpr, tpr.mean(axis=0), np.empty(0), auc)
    return RocCurves(curves, macro)


def pr_curves(y_true, proba, class_names) -> PrCurves:
    """Precision-recall curves and their average precision (scikit-learn's
    ``precision_recall_curve``, ``average_precision_score``).

    Two classes: the positive class's curve. More: one curve per class against the rest, and
    the macro average: at every recall where a class curve steps, the mean of the class
    curves' precision, so its average precision (area under its steps) is the mean of theirs,
    ``average_precision_score`` of the one-hot labels with ``average="macro"``. The macro
    baseline is the mean prevalence, 1 / k.
    """
    from sklearn import metrics

    y, P, names = _inputs(y_true, proba, class_names)
    curves = []
    for c in _scored_classes(len(names)):
        positive = y == c
        if not positive.any():
            raise ValueError(_one_class(names, c, "precision-recall curve"))
        precision, recall, thresholds = metrics.precision_recall_curve(positive, P[:, c])
        ap = float(metrics.average_precision_score(positive, P[:, c]))
        curves.append(
            PrCurve(names[c], c, recall, precision, thresholds, ap, float(positive.mean()))
        )
    if len(names) == 2:
        return PrCurves(curves, None)
    grid = np.unique(np.concatenate([c.recall for c in curves]))
    recall, precision = _pr_on_grid(curves, grid)
    macro = PrCurve(
        "macro average",
        -1,
        recall,
        precision.mean(axis=0),
        np.empty(0),
        float(np.mean([c.average_precision for c in curves])),
        float(np.mean([c.prevalence for c in curves])),
    )
    return PrCurves(curves, macro)


@dataclass
class Band:
    """Curves of several folds on one grid: their mean, standard deviation (``lower`` and
    ``upper`` are mean -/+ std, within 0..1), and the mean and standard deviation of their
    areas (AUC or average precision, each fold's own).

    ``kind`` "roc": ``x`` is the false positive rate, the values true positive rates (joined
    by lines; an x appears twice where a fold steps up). ``kind`` "pr": ``x`` is the recall,
    falling, the values precisions (steps, as ``PrCurve``); ``baseline`` is the mean
    prevalence.
    """

    kind: str
    label: str
    x: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    areas: np.ndarray
    area_mean: float
    area_std: float
    baseline: float | None = None


def curve_band(curves, n_points: int = BAND_POINTS) -> Band:
    """The mean and spread of one kind of curve (all ``RocCurve`` or all ``PrCurve``, e.g. a
    class's or the macro average's in each cross-validation fold) on ``n_points`` evenly
    spread rates from 0 to 1, as scikit-learn's cross-validation example averages ROC
    curves (standard deviations with ``ddof=0``)."""
    curves = list(curves)
    if not curves:
        raise ValueError("give at least one fold's curve")
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)) or n_points < 2:
        raise ValueError(f"n_points must be a whole number of at least 2, got {n_points!r}")
    grid = np.linspace(0.0, 1.0, int(n_points))
    if all(isinstance(c, RocCurve) for c in curves):
        kind, baseline = "roc", None
        x, values = _roc_on_grid(curves, grid)
        areas = np.array([c.auc for c in curves])
    elif all(isinstance(c, PrCurve) for c in curves):
        kind, baseline = "pr", float(np.mean([c.prevalence for c in curves]))
        x, values = _pr_on_grid(curves, grid)
        areas = np.array([c.average_precision for c in curves])
    else:
        raise ValueError("a band needs curves of one kind: all ROC or all precision-recall")
    mean, std = values.mean(axis=0), values.std(axis=0)
    return Band(
        kind=kind,
        label=curves[0].label,
        x=x,
        mean=mean,
        std=std,
        lower=np.clip(mean - std, 0.0, 1.0),
        upper=np.clip(mean + std, 0.0, 1.0),
        areas=areas,
        area_mean=float(areas.mean()),
        area_std=float(areas.std()),
        baseline=baseline,
    )


def _roc_on_grid(curves, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each ROC curve's true positive rate just left and just right of each grid rate:
    ``x`` (m,) with each grid rate twice, and ``values`` (n_curves, m); a rate keeps one
    point where every curve is continuous there."""
    x = np.repeat(grid, 2)
    values = np.array(
        [
            np.column_stack([_side_limit(c.fpr, c.tpr, grid, side) for side in (0, 1)]).ravel()
            for c in curves
        ]
    )
    steps = np.ones(len(x), dtype=bool)
    steps[1::2] = np.any(values[:, 1::2] != values[:, 0::2], axis=0)
    return x[steps], values[:, steps]


def _side_limit(x: np.ndarray, y: np.ndarray, grid: np.ndarray, side: int) -> np.ndarray:
    """The limit from the left (``side`` 0) or right (1) at each grid point of the line
    through the points (x, y), x rising (a repeated x is a vertical step), grid within x."""
    i = np.searchsorted(x, grid, side="right" if side else "left")
    i = np.clip(i, 1, len(x) - 1)
    x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
    width = x1 - x0
    t = np.where(width > 0, (grid - x0) / np.where(width > 0, width, 1.0), float(side))
    return y0 + t * (y1 - y0)


def _pr_on_grid(curves, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each precision-recall curve's step precision on the grid of recalls (rising, from 0
    to 1): recall ``grid`` reversed (falling, as ``PrCurve``), and per curve the precision
    of the step that ends at each recall (1 at recall 0, scikit-learn's last point)."""
    values = []
    for c in curves:
        recall, precision = c.recall[::-1], c.precision[::-1]  # recall rising
        i = np.minimum(np.searchsorted(recall, grid, side="left"), len(recall) - 1)
        steps = precision[i]
        steps[grid <= 0] = 1.0
        values.append(steps[::-1])
    return grid[::-1].copy(), np.array(values)


# ---- calibration ----


@dataclass
class Calibration:
    """A reliability diagram's bins (the non-empty ones, in order) and the Brier score.

    Per bin: ``lower`` and ``upper`` edges, the mean predicted probability, the fraction of
    its rows that are positive, and its ``counts`` of rows. ``kind`` says what is binned:
    "positive class" (binary: the positive class's probability, positive = that class) or
    "top label" (multi-class: the largest probability, the network's confidence, positive =
    the predicted class is right). ``brier`` is scikit-learn's ``brier_score_loss``: for two
    classes the mean squared error of the positive class's probability (0 to 1), for more the
    mean over rows of the sum over classes of the squared errors (0 to 2).
    """

    kind: str
    label: str
    lower: np.ndarray
    upper: np.ndarray
    mean_predicted: np.ndarray
    fraction_positive: np.ndarray
    counts: np.ndarray
    brier: float
    n_bins: int
    strategy: str


def calibration(y_true, proba, n_bins: int = 10, strategy: str = "uniform") -> Calibration:
    """The reliability diagram and Brier score of class probabilities (see ``Calibration``).

    Bins as scikit-learn's ``calibration_curve`` makes them (``strategy`` "uniform": equal
    widths over 0..1; "quantile": equal numbers of rows). Multi-class probabilities are read
    as the top label, the choice of Guo et al. (2017) for neural networks: one diagram of
    how often the network is right against how sure it is; each row must add up to 1.
    """
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import brier_score_loss

    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise ValueError(f"n_bins must be a whole number of at least 2, got {n_bins!r}")
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    P = _array(proba, "the probabilities")
    k = 2 if P.ndim == 1 or P.shape[1] <= 2 else P.shape[1]
    y, P, _ = _inputs(y_true, P, [str(c) for c in range(k)])
    if k == 2:
        kind, label = "positive class", "predicted probability of the positive class"
        p, hit = P[:, 1], (y == 1).astype(np.int64)
        brier = brier_score_loss(y, p, pos_label=1)
    else:
        if not np.allclose(P.sum(axis=1), 1.0, rtol=0.0, atol=1e-6):
            raise ValueError(
                "each row of class probabilities must add up to 1 (class_probabilities makes "
                "them so)"
            )
        P = P / P.sum(axis=1, keepdims=True)  # float32 rounding would make sklearn warn
        kind, label = "top label", "confidence (largest class probability)"
        p, hit = P.max(axis=1), (P.argmax(axis=1) == y).astype(np.int64)
        brier = brier_score_loss(y, P, labels=np.arange(k))
    fraction, mean = calibration_curve(hit, p, n_bins=int(n_bins), strategy=strategy, pos_label=1)
    # calibration_curve's own bins, for the edges and counts it does not return
    if strategy == "quantile":
        edges = np.percentile(p, np.linspace(0, 100, int(n_bins) + 1))
    else:
        edges = np.linspace(0.0, 1.0, int(n_bins) + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], p), minlength=int(n_bins))
    filled = np.flatnonzero(counts)
    return Calibration(
        kind=kind,
        label=label,
        lower=edges[filled],
        upper=edges[filled + 1],
        mean_predicted=mean,
        fraction_positive=fraction,
        counts=counts[filled],
        brier=float(brier),
        n_bins=int(n_bins),
        strategy=strategy,
    )


# ---- permutation importance ----


class NetworkEstimator:
    """scikit-learn's view of a trained network that reads raw tables: ``fit`` does nothing;
    ``predict``, ``predict_proba`` and ``score`` (accuracy or R^2) send the rows through the
    network's own preprocessing (``net.preprocessor``) and decoding (``net.predict``; a
    two-class network's labels at the decision threshold saved with it)."""

    def __init__(self, net) -> None:
        self.net = net

    def __repr__(self) -> str:
        return f"NetworkEstimator({self.net!r})"

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, RegressorTags, Tags, TargetTags

        tags = Tags(estimator_type=None, target_tags=TargetTags(required=True))
        if self.net.task == tasks.CLASSIFICATION:
            tags.estimator_type, tags.classifier_tags = "classifier", ClassifierTags()
        else:
            tags.estimator_type, tags.regressor_tags = "regressor", RegressorTags()
        tags.input_tags.allow_nan = True  # the preprocessing fills gaps
        return tags

    @property
    def classes_(self) -> np.ndarray:
        """The class labels 0..k-1 (what scikit-learn's scorers look up)."""
        return np.arange(self.net.n_classes)

    def fit(self, X=None, y=None) -> NetworkEstimator:
        return self

    def inputs(self, X) -> np.ndarray:
        pre = self.net.preprocessor
        return np.asarray(X, dtype=np.float64) if pre is None else pre.transform(X)

    def predict(self, X) -> np.ndarray:
        """Class labels at the model's own decision threshold (``predict_classes``), or the
        predicted numbers."""
        if self.net.task == tasks.CLASSIFICATION:
            return predict_classes(self.net, self.inputs(X))
        return self.net.predict(self.inputs(X))

    def predict_proba(self, X) -> np.ndarray:
        return class_probabilities(self.net, self.inputs(X))

    def score(self, X, y) -> float:
        from sklearn import metrics

        if self.net.task == tasks.CLASSIFICATION:
            return float(metrics.accuracy_score(y, self.predict(X)))
        return float(metrics.r2_score(y, self.predict(X)))


class RowsEstimator(NetworkEstimator):
    """``NetworkEstimator`` on a table of row numbers instead of raw values: cell (i, j) says
    which row's value of feature j row i gets. The raw rows are preprocessed once, into
    ``Z`` (n, n_inputs); each feature's block of inputs (``blocks[j]``, a slice: one input,
    or a one-hot group) is then gathered from the row its cell names. Preprocessing works
    column by column, so shuffling a column of row numbers gives the very inputs that
    preprocessing the table with that raw column shuffled gives, without preprocessing the
    table again for every shuffle."""

    def __init__(self, net, Z: np.ndarray, blocks: list[slice]) -> None:
        super().__init__(net)
        self.Z, self.blocks = Z, blocks

    def inputs(self, X) -> np.ndarray:
        rows = np.asarray(X, dtype=np.int64)
        out = np.empty((len(rows), self.Z.shape[1]), dtype=np.float64)
        for j, block in enumerate(self.blocks):
            out[:, block] = self.Z[rows[:, j], block]
        return out


@dataclass
class Importances:
    """Permutation importances by raw feature, largest mean first: how much the score falls
    when a feature's values are shuffled among the rows (``importances`` (n_features,
    n_repeats), one column per shuffle; ``mean`` and ``std`` over them, ddof 0)."""

    features: list[str]
    mean: np.ndarray
    std: np.ndarray
    importances: np.ndarray
    baseline: float
    scoring: str


def permutation_importance(
    net, raw_table, y, n_repeats: int = 5, seed: int = 0, scoring=None
) -> Importances:
    """Permutation importance of each raw feature column of ``raw_table`` on rows ``y``.

    scikit-learn's ``permutation_importance`` shuffles one raw feature column at a time (so a
    categorical column, several one-hot inputs, is one feature) and scores the network:
    ``scoring`` None is accuracy for classification and R^2 (in the target's units) for
    regression, or any scikit-learn scoring name ("roc_auc", "neg_log_loss",
    "neg_mean_absolute_error" ...). ``raw_table`` is a pandas DataFrame with the feature
    columns of ``net.preprocessor`` (other columns are left out), or, for a network without
    preprocessing, its inputs. The table is preprocessed once (``RowsEstimator``); the
    result is what ``NetworkEstimator`` on the raw table gives, with the same shuffles.
    """
    import pandas as pd
    from sklearn import inspection
    from sklearn.metrics import check_scoring

    if isinstance(n_repeats, bool) or not isinstance(n_repeats, (int, np.integer)):
        raise ValueError(f"n_repeats must be a whole number of at least 1, got {n_repeats!r}")
    if n_repeats < 1:
        raise ValueError(f"n_repeats must be a whole number of at least 1, got {n_repeats!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    pre = net.preprocessor
    if pre is not None:
        if not isinstance(raw_table, pd.DataFrame):
            raise ValueError("the rows must be a table (a pandas DataFrame) of raw feature values")
        absent = [f for f in pre.features if f not in raw_table.columns]
        if absent:
            raise ValueError(f"the table lacks the feature column(s): {', '.join(absent[:10])}")
        names = list(pre.features)
        if len(raw_table) == 0:
            raise ValueError("there are no rows to shuffle")
        Z = pre.transform(raw_table[names].reset_index(drop=True))
        widths = [c.n_inputs for c in pre.columns]
    else:
        X = raw_table.to_numpy() if isinstance(raw_table, pd.DataFrame) else raw_table
        Z = net.check_inputs(X, names=("the rows", "y"))[0].astype(np.float64)
        names = (
            [str(c) for c in raw_table.columns]
            if isinstance(raw_table, pd.DataFrame)
            else [f"input {j + 1}" for j in range(Z.shape[1])]
        )
        widths = [1] * Z.shape[1]
    y = np.asarray(y)
    if len(y) != len(Z):
        raise ValueError(f"there are {len(Z)} rows but {len(y)} targets")
    if net.task == tasks.CLASSIFICATION:
        y = _labels(y, len(Z), net.n_classes)
    ends = np.cumsum(widths)
    blocks = [slice(int(end - width), int(end)) for end, width in zip(ends, widths, strict=True)]
    estimator = RowsEstimator(net, Z, blocks)
    # the row numbers, named as the features (scikit-learn shuffles them column by column)
    rows = pd.DataFrame({j: np.arange(len(Z)) for j in range(len(names))})
    result = inspection.permutation_importance(
        estimator, rows, y, scoring=scoring, n_repeats=int(n_repeats), random_state=int(seed)
    )
    order = np.argsort(-result.importances_mean, kind="stable")
    baseline = check_scoring(estimator, scoring=scoring)(estimator, rows, y)
    if scoring is None:
        scoring = "accuracy" if net.task == tasks.CLASSIFICATION else "r2"
    return Importances(
        features=[names[j] for j in order],
        mean=result.importances_mean[order],
        std=result.importances_std[order],
        importances=result.importances[order],
        baseline=float(baseline),
        scoring=str(scoring),
    )


# ---- checking inputs ----


def _array(values, what: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numbers") from None
    if array.ndim not in (1, 2) or array.size == 0:
        raise ValueError(f"{what} must be one value per row or one column per class")
    return array


def _probabilities(p: np.ndarray, what: str) -> np.ndarray:
    if not np.all(np.isfinite(p)):
        raise ValueError(f"{what} contain NaN or infinite values")
    if p.min() < 0.0 or p.max() > 1.0:
        raise ValueError(f"{what} must lie between 0 and 1")
    return p


def _binary(P: np.ndarray) -> np.ndarray:
    """The positive class's column of binary probabilities."""
    if P.ndim == 1:
        return P
    if P.shape[1] in (1, 2):
        return P[:, -1]
    raise ValueError(
        f"two classes need one probability per row or two columns, not {P.shape[1]} columns"
    )


def _labels(y_true, n: int, k: int) -> np.ndarray:
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"there are {n} rows of probabilities but the labels have shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError("the labels must be whole-number class indices")
    elif y.dtype.kind not in "iub":
        raise ValueError(f"the labels must be class indices 0..{k - 1}, not {y.dtype}")
    y = y.astype(np.int64)
    if y.min() < 0 or y.max() >= k:
        raise ValueError(f"the labels must be class indices 0..{k - 1}")
    return y


def _inputs(y_true, proba, class_names) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Labels (n,), probabilities (n, k) (binary ones as ``[1 - p, p]``) and k class names."""
    if isinstance(class_names, str) or not hasattr(class_names, "__len__"):
        raise ValueError("class_names must list the class names")
    names = [str(c) for c in class_names]
    k = len(names)
    if k < 2:
        raise ValueError("there must be at least two classes")
    P = _array(proba, "the probabilities")
    if k == 2:
        p = _binary(P)
        P = np.column_stack([1.0 - p, p])
    elif P.ndim != 2 or P.shape[1] != k:
        raise ValueError(
            f"there are {k} classes but the probabilities have shape {P.shape}: one column "
            "per class is needed"
        )
    _probabilities(P, "the probabilities")
    return _labels(y_true, len(P), k), P, names


def _scored_classes(k: int) -> range:
    """The classes that get a curve: the positive one of two, else every one."""
    return range(1, 2) if k == 2 else range(k)


def _one_class(names: list[str], c: int, what: str) -> str:
    if len(names) == 2:
        return f"a {what} needs rows of both classes, but the labels hold only one"
    return (
        f"a {what} of the class {names[c]!r} against the rest needs rows of it and of other "
        "classes, but the labels hold only one kind"
    )
