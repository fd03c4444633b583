"""Activations as parameter-free layers: ``forward`` keeps its output, ``backward`` uses it.

Both work in place where they can: ``forward(z, out)`` writes into ``out`` (over ``z`` when
``out`` is None) and ``backward(grad)`` overwrites ``grad``, so the training loop runs on
preallocated buffers. ``forward`` leaves ``z`` unchanged when ``out`` is another array (softmax
shifts each row of ``z`` by its maximum, which is all the loss needs of the logits).
"""

from __future__ import annotations

import numpy as np

# Arrays of at most this many elements get fresh temporaries instead of a kept scratch buffer
# (for them the lookup costs more than the allocation).
SMALL = 1024


class Activation:
    """Base class: an element-wise (or row-wise, for softmax) function with no parameters."""

    name = "activation"

    def __init__(self) -> None:
        self.a: np.ndarray | None = None
        self._tmp: np.ndarray | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def forward(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return the activation of ``z``, written into ``out`` (or over ``z`` when None)."""
        raise NotImplementedError

    def backward(self, grad: np.ndarray) -> np.ndarray:
        """Turn the gradient with respect to the output into one with respect to the input
        (in place: ``grad`` is overwritten and returned)."""
        raise NotImplementedError

    def forward_hidden(self, full: np.ndarray, view: np.ndarray) -> np.ndarray:
        """Activate a hidden layer in place: ``view`` = ``full[:, :-1]`` holds the layer's
        ``z``; the last column of ``full`` (n, width + 1) is the next layer's bias input 1 and
        must stay 1."""
        return self.forward(view, out=view)

    def _scratch(self, like: np.ndarray) -> np.ndarray:
        """A reusable array shaped like ``like``, for intermediate values."""
        tmp = self._tmp
        if tmp is None or tmp.shape != like.shape or tmp.dtype != like.dtype:
            tmp = self._tmp = np.empty(like.shape, dtype=like.dtype)
        return tmp


class Sigmoid(Activation):
    """Logistic 1 / (1 + exp(-z)), computed as (1 + tanh(z/2)) / 2 so it never overflows."""

    name = "sigmoid"

    def forward(self, z, out=None):
        out = z if out is None else out
        np.multiply(z, 0.5, out=out)
        np.tanh(out, out=out)
        np.multiply(out, 0.5, out=out)
        np.add(out, 0.5, out=out)
        self.a = out
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        a = self.a
        grad *= a
        if a.size <= SMALL:
            return np.multiply(grad, 1.0 - a, out=grad)
        return np.multiply(grad, np.subtract(1.0, a, out=self._scratch(a)), out=grad)


class Tanh(Activation):
    """Hyperbolic tangent."""

    name = "tanh"

    def forward(self, z, out=None):
        self.a = np.tanh(z, out=z if out is None else out)
        return self.a

    def backward(self, grad: np.ndarray) -> np.ndarray:
        a = self.a
        if a.size <= SMALL:
            return np.multiply(grad, 1.0 - a * a, out=grad)
        slope = np.multiply(a, a, out=self._scratch(a))
        np.subtract(1.0, slope, out=slope)
        return np.multiply(grad, slope, out=grad)


class ReLU(Activation):
    """Rectified linear unit max(z, 0)."""

    name = "relu"

    def forward(self, z, out=None):
        self.a = np.maximum(z, 0.0, out=z if out is None else out)
        return self.a

    def forward_hidden(self, full, view):
        # max(1, 0) = 1: the bias column may go through too, and one contiguous pass is faster
        # than a strided one over the view
        np.maximum(full, 0.0, out=full)
        self.a = view
        return view

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
        if 0.0 <= self.alpha <= 1.0:
            # max(z, alpha * z) is z for z > 0 and alpha * z otherwise
            np.maximum(z, np.multiply(z, self.alpha, out=self._scratch(z)), out=out)
        else:
            np.copyto(out, np.where(z > 0.0, z, self.alpha * z))
        self.a = out
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        a = self.a
        slope = self._scratch(a)
        slope[...] = self.alpha
        np.copyto(slope, 1.0, where=a > 0.0)
        return np.multiply(grad, slope, out=grad)


class Linear(Activation):
    """Identity."""

    name = "linear"

    def forward(self, z, out=None):
        if out is not None and out is not z:
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
        out = z if out is None else out
        np.subtract(z, z.max(axis=1, keepdims=True), out=z)
        np.exp(z, out=out)
        out /= out.sum(axis=1, keepdims=True)
        self.a = out
        return out

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
