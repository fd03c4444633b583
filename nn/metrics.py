"""Metrics: classification on integer labels, regression on values (scikit-learn's formulas).

The regression metrics take targets and predictions of shape (n,) or (n, k); with several
target columns each figure is the plain mean of the per-column figures (scikit-learn's
``multioutput="uniform_average"``).
"""

from __future__ import annotations

import numpy as np


def accuracy(y_true, y_pred) -> float:
    """Share of labels predicted right (0.0 for empty input)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    return float(np.mean(y_true == y_pred)) if y_true.size else 0.0


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """Counts (n_classes, n_classes): row = true class, column = predicted class."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    if n_classes is None:
        n_classes = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    if y_true.size and (
        min(y_true.min(), y_pred.min()) < 0 or max(y_true.max(), y_pred.max()) >= n_classes
    ):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}")
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def precision_recall_f1(y_true, y_pred, n_classes: int | None = None) -> dict[str, np.ndarray]:
    """Per-class precision, recall, F1 and support; 0.0 where a ratio has no denominator."""
    cm = confusion_matrix(y_true, y_pred, n_classes)
    tp = np.diag(cm).astype(float)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": actual}


def _regression_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays as float64 (n, k), or ``ValueError`` when their shapes differ or are empty."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    if y_true.ndim not in (1, 2) or y_true.size == 0:
        raise ValueError(f"targets must be (n,) or (n, k) and not empty, got {y_true.shape}")
    if y_true.ndim == 1:
        return y_true.reshape(-1, 1), y_pred.reshape(-1, 1)
    return y_true, y_pred


def r2_score(y_true, y_pred) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot``, the mean over target columns.

    A column without spread (``SS_tot = 0``, always so for a single row) scores 1.0 when
    predicted exactly and 0.0 otherwise, as scikit-learn's ``force_finite=True`` does, so the
    figure is always finite (scikit-learn returns NaN below two rows).
    """
    y_true, y_pred = _regression_pair(y_true, y_pred)
    residual = y_true - y_pred
    ss_res = np.einsum("ij,ij->j", residual, residual)
    centred = y_true - y_true.mean(axis=0)
    ss_tot = np.einsum("ij,ij->j", centred, centred)
    spread = ss_tot != 0
    scores = np.where(ss_res == 0, 1.0, 0.0)
    scores[spread] = 1.0 - ss_res[spread] / ss_tot[spread]
    return float(np.mean(scores))


def mean_absolute_error(y_true, y_pred) -> float:
    """Mean of ``|y_true - y_pred|`` (in the targets' units)."""
    y_true, y_pred = _regression_pair(y_true, y_pred)
    return float(np.mean(np.mean(np.abs(y_true - y_pred), axis=0)))


def root_mean_squared_error(y_true, y_pred) -> float:
    """Square root of the mean squared error per column, then the mean over columns."""
    y_true, y_pred = _regression_pair(y_true, y_pred)
    residual = y_true - y_pred
    return float(np.mean(np.sqrt(np.mean(residual * residual, axis=0))))
