"""From the app's architecture settings to an ``nn`` network config, and back: the one builder.

No Streamlit here. ``network_config`` is the only place that turns the Architecture page's
settings (hidden layers, activations, output, loss, init, seed) into a config; the page, the
URL codec and the session all call it.
"""

from __future__ import annotations

import nn
from dashboard.common import limits


def network_config(arch: dict, n_inputs: int, n_outputs: int) -> dict:
    """An ``nn`` network config from the architecture settings and the data's shape."""
    return {
        "layers": [n_inputs, *arch["hidden"], n_outputs],
        "activation": list(arch["activations"]),
        "output_activation": arch["output_activation"],
        "loss": arch["loss"],
        "init": arch["init"],
        "seed": int(arch["seed"]),
        "dtype": "float64",
    }


def architecture_problems(arch: dict, n_inputs: int, n_outputs: int) -> list[str]:
    """Why ``arch`` cannot be built for data of this shape within the limits (empty: it can)."""
    config = network_config(arch, n_inputs, n_outputs)
    try:
        nn.normalize_config(config)
    except ValueError as exc:
        return [str(exc)]
    return limits.check_architecture(arch["hidden"], nn.count_params(config["layers"]))


def arch_from_config(config: dict) -> dict:
    """The app's architecture settings from an ``nn`` network config."""
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
