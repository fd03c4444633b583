"""Optimizers that know arrays, not networks: ``step(params, grads)`` updates params in place.

An optimizer's state (Momentum's velocity, Adam's moments and step count) can leave as plain
data, ``to_data``, and come back checked, ``from_data``, so a run can go on in another process.
"""

from __future__ import annotations

import math

import numpy as np


class Optimizer:
    """Base class; state is created lazily on the first step.

    ``SETTINGS`` names the hyperparameters (constructor arguments and attributes), ``STATE``
    the attributes holding per-parameter state: lists of arrays shaped like ``params``, None
    before the first step. ``COUNTERS`` names whole-number state (Adam's step count).
    """

    name = "optimizer"
    SETTINGS: tuple[str, ...] = ("learning_rate",)
    STATE: tuple[str, ...] = ()
    COUNTERS: tuple[str, ...] = ()

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = learning_rate

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Update each array of ``params`` in place from the matching array of ``grads``."""
        raise NotImplementedError

    def hyperparameters(self) -> dict:
        """The settings a user chose (learning rate and friends)."""
        return {key: getattr(self, key) for key in self.SETTINGS}

    def update(self, **settings) -> None:
        """Change hyperparameters without dropping state (used between training chunks)."""
        for key, val in settings.items():
            setattr(self, key, val)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"

    def to_data(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The optimizer as plain data: JSON-ready facts and copies of its state arrays.

        The facts are its ``name``, its ``hyperparameters`` as currently set, its counters
        (Adam's ``t``) and ``arrays``, the names of the arrays: ``"<state>.<i>"`` for the
        state of ``params[i]`` (``"velocity.0"``, ``"m.0"``, ``"v.0"``), none before the
        first step. ``from_data`` builds the optimizer again.
        """
        arrays = {}
        for key in self.STATE:
            for i, array in enumerate(getattr(self, key) or ()):
                arrays[f"{key}.{i}"] = array.copy()
        meta = {"name": self.name, "hyperparameters": self.hyperparameters()}
        meta.update({key: int(getattr(self, key)) for key in self.COUNTERS})
        meta["arrays"] = list(arrays)
        return meta, arrays

    def _check_state(self) -> None:
        """Refuse restored state that no run could have made (``ValueError``)."""


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
    SETTINGS = ("learning_rate", "momentum", "nesterov")
    STATE = ("velocity",)

    def __init__(self, learning_rate: float, momentum: float = 0.9, nesterov: bool = False) -> None:
        super().__init__(learning_rate)
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocity: list[np.ndarray] | None = None

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
    ``lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)``. ``to_data`` gives the
    moments as kept (unnormalised), so a restored run goes on to the last bit.
    """

    name = "adam"
    SETTINGS = ("learning_rate", "beta1", "beta2", "eps")
    STATE = ("m", "v")
    COUNTERS = ("t",)

    def __init__(
        self, learning_rate: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = 0
        self.m: list[np.ndarray] | None = None
        self.v: list[np.ndarray] | None = None

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

    def _check_state(self) -> None:
        # The moments are made by the first step, which also counts t from 0 to 1.
        if self.m is None and self.t > 0:
            raise ValueError(f"optimizer 't' is {self.t} but it has no moments")
        if self.m is not None and self.t == 0:
            raise ValueError("optimizer 't' is 0 (no step yet) but it has moments")
        if self.v is not None and any(np.any(v < 0) for v in self.v):
            raise ValueError("optimizer 'v' (a mean of squares) has negative values")


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make(name: str, learning_rate: float, **settings) -> Optimizer:
    """Build an optimizer by name with only the settings it understands."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    cls = OPTIMIZERS[name]
    return cls(learning_rate, **{k: settings[k] for k in cls.SETTINGS[1:] if k in settings})


def from_data(meta: dict, arrays: dict[str, np.ndarray], params: list[np.ndarray]) -> Optimizer:
    """The optimizer ``to_data`` described, its state checked against ``params`` (the arrays it
    steps: each state array must have their shape and dtype); ``ValueError`` names what is
    wrong. The arrays are copied."""
    # nn.config imports this module (for the optimizer names): import it when it is needed.
    from nn import config

    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        raise ValueError("the optimizer must be a dict with a 'name'")
    if meta["name"] not in OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {meta['name']!r}; choose one of {', '.join(OPTIMIZERS)}"
        )
    cls = OPTIMIZERS[meta["name"]]
    check_fields(meta, ("name", "hyperparameters", *cls.COUNTERS, "arrays"), "optimizer")
    hyper = check_fields(meta["hyperparameters"], cls.SETTINGS, f"{cls.name} hyperparameters")
    try:
        opt = cls(**config.check_training(hyper, fill=False))
    except ValueError as exc:
        raise ValueError(f"optimizer {exc}") from None
    for key in cls.COUNTERS:
        setattr(opt, key, check_count(meta[key], f"optimizer {key!r}"))
    expected = [f"{key}.{i}" for key in cls.STATE for i in range(len(params))]
    names = check_array_names(meta["arrays"], arrays, [set(), set(expected)], "optimizer")
    if names:
        for key in cls.STATE:
            state = [
                copy_state_array(arrays, f"{key}.{i}", p, "optimizer") for i, p in enumerate(params)
            ]
            setattr(opt, key, state)
    opt._check_state()
    return opt


# ---- checks for state that comes back as plain data (also used by nn.train) ----


def check_fields(data, fields: tuple[str, ...], what: str) -> dict:
    """``data`` itself if it is a dict with exactly the keys ``fields``, else ``ValueError``."""
    if not isinstance(data, dict):
        raise ValueError(f"{what} must be a dict, got {type(data).__name__}")
    missing = [f for f in fields if f not in data]
    unknown = sorted(map(str, set(data) - set(fields)))
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown {', '.join(unknown)}")
        raise ValueError(f"{what} has the wrong fields ({'; '.join(parts)})")
    return data


def check_count(value, what: str) -> int:
    """``value`` as a whole number >= 0 (not a bool), else ``ValueError`` naming ``what``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{what} must be a whole number >= 0, got {value!r}")
    if value < 0:
        raise ValueError(f"{what} must be a whole number >= 0, got {value!r}")
    return int(value)


def check_array_names(listed, arrays: dict, choices: list[set[str]], what: str) -> set[str]:
    """The array names a state lists (one of ``choices``), once they name exactly ``arrays``."""
    if (
        not isinstance(listed, list)
        or not all(isinstance(name, str) for name in listed)
        or len(set(listed)) != len(listed)
    ):
        raise ValueError(f"{what} 'arrays' must be a list of distinct names")
    names = set(listed)
    if names not in choices:
        allowed = " or ".join(str(sorted(c)) for c in choices)
        raise ValueError(f"{what} lists the arrays {sorted(names)}; expected {allowed}")
    if names != set(arrays):
        raise ValueError(f"{what} lists the arrays {sorted(names)} but {sorted(arrays)} were given")
    return names


def copy_state_array(arrays: dict, name: str, like: np.ndarray, what: str) -> np.ndarray:
    """A copy of ``arrays[name]`` once it has the shape and dtype of ``like`` and finite
    values, else ``ValueError``; ``what`` is the part of the training state it belongs to
    ("optimizer"), the prefix of its name there."""
    array = arrays[name]
    if not isinstance(array, np.ndarray):
        raise ValueError(f"array '{what}.{name}' must be a NumPy array, got {type(array).__name__}")
    if array.dtype != like.dtype:
        raise ValueError(
            f"array '{what}.{name}' must hold {like.dtype.name} like the network, "
            f"not {array.dtype.name}"
        )
    if array.shape != like.shape:
        raise ValueError(
            f"array '{what}.{name}' must have shape {like.shape} like the network's "
            f"parameters, got {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"array '{what}.{name}' holds NaN or infinite values")
    return np.array(array, dtype=like.dtype, order="C", copy=True)
