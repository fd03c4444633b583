"""From the app's architecture settings to an ``nn`` network config, and back: the one builder.

No Streamlit here. ``network_config`` is the only place that turns the Architecture page's
settings (hidden layers, activations, output, loss, init, seed) and the data's task into a
config; the page, the URL codec and the session all call it. The output layer follows the
task (``nn.task``): ``outputs`` and ``losses`` are what a task allows, ``fit_to_task`` puts a
task's own output and loss on settings made for the other task.
"""

from __future__ import annotations

import nn
from dashboard.common import limits

CLASSIFICATION, REGRESSION = nn.task.CLASSIFICATION, nn.task.REGRESSION
# The order the Architecture page offers them in (the task's default first for regression).
OUTPUT_ORDER = ("linear", "sigmoid", "softmax")
CLASSIFICATION_OUTPUT_ORDER = ("sigmoid", "softmax", "linear")
LOSS_ORDER = ("squared_error", "cross_entropy", "huber")


def outputs(task: str) -> tuple[str, ...]:
    """The output activations a network for ``task`` may have, in the page's order."""
    order = CLASSIFICATION_OUTPUT_ORDER if task == CLASSIFICATION else OUTPUT_ORDER
    return tuple(o for o in order if o in nn.task.get(task).outputs)


def losses(task: str) -> tuple[str, ...]:
    """The losses a network for ``task`` may have, in the page's order."""
    return tuple(loss for loss in LOSS_ORDER if loss in nn.task.get(task).losses)


def network_config(arch: dict, n_inputs: int, n_outputs: int, task: str = CLASSIFICATION) -> dict:
    """An ``nn`` network config from the architecture settings and the data's shape and task."""
    return {
        "layers": [n_inputs, *arch["hidden"], n_outputs],
        "activation": list(arch["activations"]),
        "output_activation": arch["output_activation"],
        "loss": arch["loss"],
        "init": arch["init"],
        "seed": int(arch["seed"]),
        "dtype": "float64",
        "task": task,
    }


def suits_task(arch: dict, task: str) -> bool:
    """True when the output activation and the loss of ``arch`` are allowed for ``task``."""
    return arch["output_activation"] in outputs(task) and arch["loss"] in losses(task)


def fit_to_task(arch: dict, task: str, default: dict) -> dict:
    """``arch`` with the output and loss of ``default`` (settings made for ``task``): the hidden
    layers, initialisation and seed stay. A new dict."""
    return {
        **arch,
        "hidden": list(arch["hidden"]),
        "activations": list(arch["activations"]),
        "output_activation": default["output_activation"],
        "loss": default["loss"],
    }


LOSS_WORDS = {"squared_error": "squared-error", "cross_entropy": "cross-entropy", "huber": "Huber"}


def output_text(arch: dict) -> str:
    """The output layer in words: "softmax output with cross-entropy loss"."""
    loss = LOSS_WORDS.get(arch["loss"], str(arch["loss"]))
    return f"{arch['output_activation']} output with {loss} loss"


def architecture_problems(
    arch: dict, n_inputs: int, n_outputs: int, task: str = CLASSIFICATION
) -> list[str]:
    """Why ``arch`` cannot be built for data of this shape and task within the limits (empty:
    it can)."""
    config = network_config(arch, n_inputs, n_outputs, task)
    try:
        nn.normalize_config(config)
    except ValueError as exc:
        return [str(exc)]
    return limits.check_architecture(arch["hidden"], nn.count_params(config["layers"]))


def arch_from_config(config: dict) -> dict:
    """The app's architecture settings from an ``nn`` network config (its task is the data's,
    not a setting)."""
    config = nn.normalize_config(config)
    hidden = list(config["layers"][1:-1])
    acts = config["activation"]
    acts = [acts] * len(hidden) if isinstance(acts, str) else list(acts)
    return {
        "hidden": hidden,
        "activations": acts,
        "output_activation": config["output_activation"],
        "loss": config["loss"],
        "init": config["init"],
        "seed": config["seed"],
    }
