"""The preprocessing that belongs to a model: raw feature rows in, network inputs out.

A ``Preprocessor`` is fitted on the training rows only, travels inside the saved model as JSON
(``to_dict``/``from_dict``, never pickled), and is what every path that turns raw values into
network inputs calls: training, single and batch predictions, decision surfaces, the CLI. Today
it holds the feature columns and the optional standardization; imputation and one-hot columns
are the next steps it is shaped for (each a per-column step, fitted and saved the same way).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FORMAT = "nn-lab-preprocessor/1"


@dataclass(eq=False)
class Preprocessor:
    """Feature columns and, when ``standardize``, ``(x - mean) / scale`` per column.

    ``mean`` and ``scale`` are (n_features,) float64 arrays fitted on the training rows (a
    constant column gets scale 1), or None without standardization.
    """

    features: list[str]
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.features = [str(f) for f in self.features]
        if (self.mean is None) != (self.scale is None):
            raise ValueError("a preprocessor needs both mean and scale, or neither")
        if self.mean is not None:
            self.mean = np.asarray(self.mean, dtype=np.float64)
            self.scale = np.asarray(self.scale, dtype=np.float64)
            n = len(self.features)
            if self.mean.shape != (n,) or self.scale.shape != (n,):
                raise ValueError(
                    f"the preprocessor's mean and scale must have one value per feature ({n})"
                )
            if not (np.all(np.isfinite(self.mean)) and np.all(np.isfinite(self.scale))):
                raise ValueError("the preprocessor's mean and scale must be finite numbers")
            if np.any(self.scale <= 0):
                raise ValueError("the preprocessor's scales must be positive")

    def __repr__(self) -> str:
        return f"Preprocessor({len(self.features)} features, standardize={self.standardize})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, Preprocessor):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    @property
    def standardize(self) -> bool:
        """True when the inputs are standardized."""
        return self.mean is not None

    @property
    def n_features(self) -> int:
        """Number of raw feature columns it takes (and, today, of network inputs it gives)."""
        return len(self.features)

    @classmethod
    def fit(cls, X, features: list[str], standardize: bool = False) -> Preprocessor:
        """Fit on the training rows ``X`` (n, n_features) with these column names."""
        X = _rows(X, len(features))
        if not standardize:
            return cls(list(features))
        scale = X.std(axis=0)
        return cls(list(features), X.mean(axis=0), np.where(scale > 0, scale, 1.0))

    def transform(self, X) -> np.ndarray:
        """Raw rows (n, n_features) -> network inputs (n, n_inputs), float64 (a new array)."""
        X = _rows(X, self.n_features)
        return (X - self.mean) / self.scale if self.standardize else X.copy()

    def inverse(self, X) -> np.ndarray:
        """Network inputs back in the data's own units (undo ``transform``)."""
        X = _rows(X, self.n_features)
        return X * self.scale + self.mean if self.standardize else X.copy()

    def to_dict(self) -> dict:
        """Plain JSON-serializable data (``from_dict`` reads it back)."""
        data = {"format": FORMAT, "features": list(self.features), "standardize": None}
        if self.standardize:
            data["standardize"] = {"mean": self.mean.tolist(), "scale": self.scale.tolist()}
        return data

    @classmethod
    def from_dict(cls, data) -> Preprocessor:
        """Read ``to_dict``'s output; ``ValueError`` naming what is wrong for anything else."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"the preprocessing is not in the format {FORMAT}")
        features = data.get("features")
        if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
            raise ValueError("the preprocessing's feature names must be a list of text")
        std = data.get("standardize")
        if std is None:
            return cls(features)
        if not isinstance(std, dict) or set(std) != {"mean", "scale"}:
            raise ValueError("the preprocessing's standardization is malformed")
        for key in ("mean", "scale"):
            values = std[key]
            if not isinstance(values, list) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in values
            ):
                raise ValueError(f"the preprocessing's {key} must be a list of finite numbers")
        return cls(features, np.array(std["mean"], float), np.array(std["scale"], float))


def _rows(X, n_features: int) -> np.ndarray:
    """``X`` as float rows with ``n_features`` columns (one row may be given as a 1-D array,
    and comes back as one)."""
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("the feature values must be numbers") from None
    if X.ndim not in (1, 2) or X.shape[-1] != n_features:
        raise ValueError(
            f"expected rows of {n_features} feature values, got an array of shape {X.shape}"
        )
    return X
