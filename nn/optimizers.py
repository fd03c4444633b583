"""Optimizers that know arrays, not networks: ``step(params, grads)`` updates params in place."""

from __future__ import annotations

import math

import numpy as np


class Optimizer:
    """Base class; state is created lazily on the first step."""

    name = "optimizer"

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update each array of ``params`` in place from the matching array of ``grads``."""
        raise NotImplementedError

    def hyperparameters(self) -> dict:
        """The settings a user chose (learning rate and friends)."""
        return {"learning_rate": self.learning_rate}

    def update(self, **settings) -> None:
        """Change hyperparameters without dropping state (used between training chunks)."""
        for key, val in settings.items():
            setattr(self, key, val)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Plain gradient descent: p <- p - lr * g."""

    name = "sgd"

    def step(self, params, grads) -> None:
        lr = float(self.learning_rate)
        for p, g in zip(params, grads, strict=True):
            g *= lr
            p -= g


class Momentum(Optimizer):
    """Momentum: v <- mu * v - lr * g; p <- p + v (Nesterov: p <- p + mu * v - lr * g)."""

    name = "momentum"

    def __init__(self, learning_rate: float, momentum: float = 0.9, nesterov: bool = False) -> None:
        super().__init__(learning_rate)
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocity: list[np.ndarray] | None = None

    def hyperparameters(self) -> dict:
        return {
            "learning_rate": self.learning_rate,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
        }

    def step(self, params, grads) -> None:
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in params]
        lr, mu = float(self.learning_rate), float(self.momentum)
        for p, g, v in zip(params, grads, self.velocity, strict=True):
            g *= lr
            v *= mu
            v -= g
            if self.nesterov:
                p += mu * v - g
            else:
                p += v


class Adam(Optimizer):
    """Adam (Kingma & Ba) with bias correction folded into the step size, as scikit-learn does.

    The moments are kept unnormalised, ``m' = m / (1 - beta1)`` and ``v' = v / (1 - beta2)``, so
    each update is a few in-place passes with no temporary arrays; the step is the textbook one,
    ``lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)``.
    """

    name = "adam"

    def __init__(
        self, learning_rate: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = 0
        self.m: list[np.ndarray] | None = None
        self.v: list[np.ndarray] | None = None

    def hyperparameters(self) -> dict:
        return {
            "learning_rate": self.learning_rate,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "eps": self.eps,
        }

    def moments(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The first and second moment estimates m and v in their textbook scale."""
        if self.m is None:
            return [], []
        return [(1.0 - self.beta1) * m for m in self.m], [(1.0 - self.beta2) * v for v in self.v]

    def step(self, params, grads) -> None:
        if self.m is None:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.t += 1
        # Python floats, not NumPy float64 scalars: those would make float32 arrays compute in
        # float64 (NumPy 2 promotion), several times slower.
        b1, b2 = float(self.beta1), float(self.beta2)
        lr_t = float(self.learning_rate) * math.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
        root = math.sqrt(1.0 - b2)
        scale = lr_t * (1.0 - b1) / root
        eps = float(self.eps) / root
        for p, g, m, v in zip(params, grads, self.m, self.v, strict=True):
            m *= b1
            m += g
            v *= b2
            g *= g
            v += g
            # g is scratch space from here on: the step is scale * m' / (sqrt(v') + eps')
            np.sqrt(v, out=g)
            g += eps
            np.divide(m, g, out=g)
            g *= scale
            p -= g


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make(name: str, learning_rate: float, **settings) -> Optimizer:
    """Build an optimizer by name with only the settings it understands."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    if name == "momentum":
        keys = ("momentum", "nesterov")
    elif name == "adam":
        keys = ("beta1", "beta2", "eps")
    else:
        keys = ()
    return OPTIMIZERS[name](learning_rate, **{k: settings[k] for k in keys if k in settings})
