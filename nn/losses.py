"""Losses, each paired with the output activation so the output delta is computed directly.

Cross-entropy is computed from the logits when they are given: ``log softmax(z)`` as
``z - max(z) - log(sum(exp(z - max(z))))``, and for a sigmoid output
``-[y log s(z) + (1 - y) log(1 - s(z))] = max(z, 0) - y z + log(1 + exp(-|z|))``. Both are
exact and never overflow, so a confident wrong prediction costs what it should (a logit gap of
40 costs about 40, not the ``-log(1e-12) = 27.6`` that clipping the probabilities would give).

Huber (for regression) is squared error for residuals up to ``HUBER_DELTA`` and grows linearly
beyond it, so a few far-off targets pull the fit less: per output ``r**2 / 2`` for
``|r| <= delta``, else ``delta * (|r| - delta / 2)``. Regression trains on standardized
targets, so the delta is in standard deviations of the target.

Class weights enter as one weight per row (``sample_weight``): the loss is then
``sum_i w_i * loss_i / n``, Keras's convention (the weighted sum over the batch's row count,
not over the sum of the weights). A batch of one row, the article's per-sample descent, still
feels the weights that way; and "balanced" weights average 1 over the training rows, so over
them the weighted loss is the weighted mean.
"""

from __future__ import annotations

import numpy as np

LOSSES = ("squared_error", "cross_entropy", "huber")
HUBER_DELTA = 1.0


def value(
    loss: str,
    output_activation: str,
    P: np.ndarray,
    Y: np.ndarray,
    logits: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
) -> float:
    """Mean loss per sample of outputs ``P`` against targets ``Y`` (both (n, k)): one-hot rows
    for classification, standardized values for regression.

    ``logits`` are the output layer's pre-activations (n, k), any row shift allowed for
    softmax; cross-entropy uses them when given. Without them it is computed from ``P``, whose
    probabilities are floored at the smallest normal number of their dtype (so a prediction
    that underflowed to 0 costs about 708 in float64 rather than infinity).

    ``sample_weight`` (n,): each row's weight; the loss is then ``sum(w * loss_i) / n``.
    """
    rows = per_sample(loss, output_activation, P, Y, logits)
    total = np.sum(rows) if sample_weight is None else np.dot(sample_weight, rows)
    return float(total) / len(P)


def per_sample(
    loss: str,
    output_activation: str,
    P: np.ndarray,
    Y: np.ndarray,
    logits: np.ndarray | None = None,
) -> np.ndarray:
    """The loss of each row (n,): ``value`` is their mean (weighted sum over n), so see
    ``value`` for the logits and the floor."""
    if loss == "squared_error":
        diff = Y - P
        return 0.5 * np.einsum("ij,ij->i", diff, diff)
    if loss == "huber":
        r = np.abs(P - Y)
        quadratic = np.minimum(r, HUBER_DELTA)
        return np.sum(0.5 * quadratic * quadratic + HUBER_DELTA * (r - quadratic), axis=1)
    if output_activation == "softmax":
        if logits is None:
            log_p = np.log(np.maximum(P, np.finfo(P.dtype).tiny))
        else:
            log_p = logits - logits.max(axis=1, keepdims=True)
            log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
        return -np.sum(Y * log_p, axis=1)
    if logits is None:
        floor = np.log(np.finfo(P.dtype).tiny)
        with np.errstate(divide="ignore"):
            log_p = np.maximum(np.log(P), floor)
            log_q = np.maximum(np.log1p(-P), floor)
        return -np.sum(Y * log_p + (1.0 - Y) * log_q, axis=1)
    z = logits
    return np.sum(np.maximum(z, 0.0) - Y * z + np.log1p(np.exp(-np.abs(z))), axis=1)


def output_delta(
    loss: str,
    output,
    P: np.ndarray,
    Y: np.ndarray,
    out: np.ndarray | None = None,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """dL/dz of the output layer, averaged over the batch (written into ``out`` if given).

    ``output`` is the output activation layer (its ``backward`` is used for squared error and
    Huber, whose dL/dP is ``P - Y`` clipped to ``[-HUBER_DELTA, HUBER_DELTA]``). Cross-entropy
    with a sigmoid or softmax output is fused: the delta is ``(P - Y) / n``. With
    ``sample_weight`` (n,) each row's delta is multiplied by its weight.
    """
    delta = np.subtract(P, Y, out=out)
    if loss == "huber":
        np.clip(delta, -HUBER_DELTA, HUBER_DELTA, out=delta)
    if len(P) != 1:
        delta /= len(P)
    if loss != "cross_entropy":
        delta = output.backward(delta)
    if sample_weight is not None:
        # Every activation's backward is linear in its gradient row by row, so weighting
        # before or after it is the same.
        delta *= sample_weight[:, None]
    return delta
