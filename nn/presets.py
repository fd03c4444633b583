"""Ready-made settings: the article's network and a modern default."""

from __future__ import annotations

ARTICLE = {
    "network": {
        "layers": [4, 5, 10, 3],
        "activation": "sigmoid",
        "output_activation": "sigmoid",
        "loss": "squared_error",
        "init": "uniform",
        "seed": 0,
        "dtype": "float64",
    },
    "training": {
        "epochs": 100,
        "learning_rate": 0.15,
        "batch_size": 1,
        "optimizer": "sgd",
        "shuffle": False,
        "l2": 0.0,
    },
    "split": {"test_size": 0.15, "val_size": 0.10, "stratify": False, "standardize": False},
}

MODERN = {
    "network": {
        "layers": [4, 16, 16, 3],
        "activation": "relu",
        "output_activation": "softmax",
        "loss": "cross_entropy",
        "init": "he",
        "seed": 0,
        "dtype": "float64",
    },
    "training": {
        "epochs": 100,
        "learning_rate": 0.01,
        "batch_size": 16,
        "optimizer": "adam",
        "shuffle": True,
        "l2": 0.0,
    },
    "split": {"test_size": 0.15, "val_size": 0.10, "stratify": True, "standardize": True},
}

PRESETS = {"article": ARTICLE, "modern": MODERN}
