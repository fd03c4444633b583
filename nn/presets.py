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


def for_task(settings: dict, task: str) -> dict:
    """``settings`` (a preset's three sections) made to suit ``task``: for regression a linear
    output with squared error (Huber kept if chosen), one output, no stratified split, and
    early stopping when there is a validation part (a small table's numbers are easy to
    overfit: on diabetes it is the difference between R^2 0.4 and below 0); classification
    settings come back as they are. A new dict; ``settings`` is not changed."""
    import copy

    out = copy.deepcopy(settings)
    if task != "regression":
        return out
    net = out["network"]
    net["task"] = "regression"
    net["output_activation"] = "linear"
    if net.get("loss") != "huber":
        net["loss"] = "squared_error"
    if "layers" in net:
        net["layers"] = [*net["layers"][:-1], 1]
    out.setdefault("split", {})["stratify"] = False
    if "training" in out and out["split"].get("val_size", 0.10) > 0:
        out["training"]["early_stopping"] = True
    return out
