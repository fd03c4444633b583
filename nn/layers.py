"""The dense layer: the article's "bias as an extra input", so ``[X, 1] @ Wb`` is one product.

``Wb`` (n_in + 1, n_out) stacks the weights ``W`` (n_in, n_out) on top of the bias row ``b``
(n_out,); ``W`` and ``b`` are views into it, so one matrix product computes ``X @ W + b``
forward and one computes both gradients backward.
"""

from __future__ import annotations

import numpy as np


class Dense:
    """A fully connected layer whose parameters and gradients are views into the network's flat
    parameter and gradient buffers."""

    def __init__(self, Wb: np.ndarray, gWb: np.ndarray, input_grad: bool = True) -> None:
        self.Wb, self.gWb = Wb, gWb
        self.W, self.b = Wb[:-1], Wb[-1]
        self.gW, self.gb = gWb[:-1], gWb[-1]
        self._WT = self.W.T  # a view, kept so that backward does not make it every call
        self.input_grad = input_grad
        self.X1: np.ndarray | None = None

    def __repr__(self) -> str:
        n_in, n_out = self.W.shape
        return f"Dense({n_in}, {n_out})"

    def forward(self, X1: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return ``X @ W + b`` (n_samples, n_out) from ``X1 = [X, 1]`` (n_samples, n_in + 1),
        written into ``out`` when given."""
        self.X1 = X1
        return np.matmul(X1, self.Wb, out=out)

    def backward(self, grad: np.ndarray, out: np.ndarray | None = None) -> np.ndarray | None:
        """Store dL/dW and dL/db from ``grad`` = dL/dz; return dL/dX (None for the first layer),
        written into ``out`` (n_samples, n_in) when given."""
        np.matmul(self.X1.T, grad, out=self.gWb)
        if self.input_grad:
            return np.matmul(grad, self._WT, out=out)
        return None


def with_ones(X: np.ndarray) -> np.ndarray:
    """``[X, 1]``: X with a trailing column of ones (the bias input)."""
    X1 = np.empty((X.shape[0], X.shape[1] + 1), dtype=X.dtype)
    X1[:, :-1] = X
    X1[:, -1] = 1.0
    return X1
