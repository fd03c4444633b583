"""A neural network engine written from scratch in NumPy.

>>> import nn
>>> net = nn.Network.from_config(nn.presets.ARTICLE["network"])
>>> reg = nn.Network.from_config({"layers": [1, 16, 1], "task": nn.task.REGRESSION})
"""

from nn import config, metrics, presets, schedules, task, train
from nn.errors import DivergenceError
from nn.network import Network, count_params, normalize_config
from nn.train import EarlyStopping, EpochRecord

__all__ = [
    "DivergenceError",
    "EarlyStopping",
    "EpochRecord",
    "Network",
    "columns",
    "config",
    "count_params",
    "data",
    "metrics",
    "normalize_config",
    "presets",
    "schedules",
    "task",
    "train",
]


def __getattr__(name: str):
    # nn.data and nn.columns pull in pandas (and scikit-learn); import them on first use only.
    if name in ("data", "columns"):
        import importlib

        return importlib.import_module(f"nn.{name}")
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
