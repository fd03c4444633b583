"""Activations as parameter-free layers: ``forward`` keeps its output, ``backward`` uses it."""

from __future__ import annotations

import numpy as np


class Activation:
    """Base class: an element-wise (or row-wise, for softmax) function with no parameters."""

    name = "activation"

    def __init__(self) -> None:
        self.a: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def forward(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return the activation of ``z``, written into ``out`` (or over ``z`` when None)."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """Turn the gradient with respect to the output into one with respect to the input."""
        raise NotImplementedError


class Sigmoid(Activation):
    """Logistic 1 / (1 + exp(-z)), computed as (1 + tanh(z/2)) / 2 so it never overflows."""

    name = "sigmoid"

    def forward(self, z, out=None):
        out = z if out is None else out
        np.multiply(z, 0.5, out=z)
        np.tanh(z, out=z)
        np.multiply(z, 0.5, out=out)
        np.add(out, 0.5, out=out)
        self.a = out
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        a = self.a
        grad *= a
        return np.multiply(grad, 1.0 - a, out=grad)


class Tanh(Activation):
    """Hyperbolic tangent."""

    name = "tanh"

    def forward(self, z, out=None):
        self.a = np.tanh(z, out=z if out is None else out)
        return self.a

    def backward(self, grad: np.ndarray) -> np.ndarray:
        a = self.a
        return grad * (1.0 - a * a)


class ReLU(Activation):
    """Rectified linear unit max(z, 0)."""

    name = "relu"

    def forward(self, z, out=None):
        self.a = np.maximum(z, 0.0, out=z if out is None else out)
        return self.a

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return np.multiply(grad, self.a > 0.0, out=grad)


class LeakyReLU(Activation):
    """Leaky ReLU: z for z > 0, ``alpha * z`` otherwise."""

    name = "leaky_relu"

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = alpha

    def __repr__(self) -> str:
        return f"LeakyReLU(alpha={self.alpha})"

    def forward(self, z, out=None):
        out = z if out is None else out
        np.copyto(out, np.where(z > 0.0, z, self.alpha * z))
        self.a = out
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad * np.where(self.a > 0.0, 1.0, self.alpha).astype(grad.dtype, copy=False)


class Linear(Activation):
    """Identity."""

    name = "linear"

    def forward(self, z, out=None):
        if out is not None:
            out[...] = z
            z = out
        self.a = z
        return z

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad


class Softmax(Activation):
    """Row-wise softmax; its Jacobian is applied as a product, never built as a matrix."""

    name = "softmax"

    def forward(self, z, out=None):
        if out is not None:
            out[...] = z
            z = out
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        self.a = z
        return z

    def backward(self, grad: np.ndarray) -> np.ndarray:
        a = self.a
        return a * (grad - (grad * a).sum(axis=1, keepdims=True))


HIDDEN = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU, "leaky_relu": LeakyReLU, "linear": Linear}
OUTPUT = {"sigmoid": Sigmoid, "softmax": Softmax, "linear": Linear}


def get(name: str, output: bool = False) -> Activation:
    """Return a fresh activation layer by name; ``ValueError`` for an unknown name."""
    table = OUTPUT if output else HIDDEN
    if not isinstance(name, str) or name not in table:
        kind = "output activation" if output else "activation"
        raise ValueError(f"unknown {kind} {name!r}; choose one of {', '.join(table)}")
    return table[name]()
