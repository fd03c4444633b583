"""The dense layer ``X @ W + b``: ``forward`` keeps its input, ``backward`` fills its gradients."""

from __future__ import annotations

import numpy as np


class Dense:
    """A fully connected layer whose ``W`` (n_in, n_out) and ``b`` (n_out,) are views into the
    network's flat parameter buffer, and whose gradients are views into its flat gradient buffer."""

    def __init__(
        self, W: np.ndarray, b: np.ndarray, gW: np.ndarray, gb: np.ndarray, input_grad: bool = True
    ) -> None:
        self.W, self.b, self.gW, self.gb = W, b, gW, gb
        self.input_grad = input_grad
        self.X: np.ndarray | None = None

    def __repr__(self) -> str:
        n_in, n_out = self.W.shape
        return f"Dense({n_in}, {n_out})"

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Return ``X @ W + b`` (n_samples, n_out)."""
        self.X = X
        z = X @ self.W
        z += self.b
        return z

    def backward(self, grad: np.ndarray) -> np.ndarray | None:
        """Store dL/dW and dL/db from ``grad`` = dL/dz; return dL/dX (None for the first layer)."""
        np.matmul(self.X.T, grad, out=self.gW)
        np.sum(grad, axis=0, out=self.gb)
        if self.input_grad:
            return grad @ self.W.T
        return None
