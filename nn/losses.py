"""Losses, each paired with the output activation so the output delta is computed directly."""

from __future__ import annotations

import numpy as np

LOSSES = ("squared_error", "cross_entropy")
_EPS = 1e-12


def value(loss: str, output_activation: str, P: np.ndarray, Y: np.ndarray) -> float:
    """Mean loss per sample of probabilities ``P`` against one-hot targets ``Y`` (both (n, k))."""
    if loss == "squared_error":
        diff = Y - P
        return 0.5 * float(np.einsum("ij,ij->", diff, diff)) / len(P)
    if output_activation == "softmax":
        return -float(np.sum(Y * np.log(np.clip(P, _EPS, 1.0)))) / len(P)
    P = np.clip(P, _EPS, 1.0 - _EPS)
    return -float(np.sum(Y * np.log(P) + (1.0 - Y) * np.log1p(-P))) / len(P)


def output_delta(loss: str, output, P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """dL/dz of the output layer, averaged over the batch.

    ``output`` is the output activation layer (its ``backward`` is used for squared error).
    Cross-entropy with a sigmoid or softmax output is fused: the delta is ``(P - Y) / n``.
    """
    delta = P - Y
    if len(P) != 1:
        delta /= len(P)
    if loss == "squared_error":
        return output.backward(delta)
    return delta
