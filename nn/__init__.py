"""A neural network engine written from scratch in NumPy.

>>> import nn
>>> net = nn.Network.from_config(nn.presets.ARTICLE["network"])
"""

from nn import metrics, presets
from nn.errors import DivergenceError
from nn.network import EpochRecord, Network, count_params, normalize_config

__all__ = [
    "DivergenceError",
    "EpochRecord",
    "Network",
    "count_params",
    "data",
    "metrics",
    "normalize_config",
    "presets",
]


def __getattr__(name: str):
    # nn.data pulls in pandas and scikit-learn; import it on first use only.
    if name == "data":
        import importlib

        return importlib.import_module("nn.data")
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
