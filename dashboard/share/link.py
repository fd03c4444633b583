"""Sharing an experiment: its settings as URL parameters.

No Streamlit here. ``encode`` turns the dataset choice, split, architecture and training settings
into short URL parameters (only those that differ from the app's defaults); ``decode_data`` and
``decode_model`` read them back, every value checked against ``dashboard.common.limits`` with the
default and a plain message for anything that does not fit. A URL is untrusted text: the
messages quote it, so pages escape them before showing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import nn
from dashboard.architecture import build
from dashboard.architecture.build import architecture_problems
from dashboard.common import limits
from dashboard.data import datasets
from dashboard.training import loop
from nn import activations

DATA_KEYS = ("data", "samples", "noise", "data_seed")
SPLIT_KEYS = {s.url: name for name, s in nn.config.SPLIT.items()}  # URL name -> split setting
ARCH_KEYS = ("hidden", "act", "out", "loss", "init", "seed")
# URL name -> training setting: every row of nn.config.TRAINING, and the app's pace
TRAIN_KEYS = {s.url: name for name, s in nn.config.TRAINING.items()} | {"pace": "pace"}
PARAMS = (*DATA_KEYS, *SPLIT_KEYS, *ARCH_KEYS, *TRAIN_KEYS)  # every URL parameter of ours
MAX_PARAM_LEN = 200  # longer URL values are refused, not parsed
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
NO_HIDDEN = "none"


@dataclass
class Experiment:
    """What a link carries: dataset choice, split, architecture and training settings."""

    spec: dict
    split: dict
    arch: dict
    train: dict = field(default_factory=lambda: dict(loop.DEFAULT_SETTINGS))


def default_experiment(spec: dict | None = None) -> Experiment:
    """The settings an experiment starts with on ``spec``'s dataset (the app's first dataset when
    None): Iris gets the article's own protocol (its network and training, inputs as they are);
    every other dataset the modern preset with standardized inputs, because the article's setup
    goes nowhere there (wine at test accuracy 0.48 unscaled; digits 0.88 even when scaled). A
    dataset of numbers gets the preset made for its task (``nn.presets.for_task``: a linear
    output with squared error, early stopping)."""
    spec = dict(spec or datasets.DEFAULT_SPEC)
    article = spec.get("source") == datasets.ARTICLE_SOURCE
    preset = nn.presets.ARTICLE if article else nn.presets.MODERN
    preset = nn.presets.for_task(preset, datasets.spec_task(spec))
    return Experiment(
        spec=spec,
        split={**nn.config.split_defaults(), **preset["split"], "seed": 0},
        arch=build.arch_from_config(preset["network"]),
        train={**loop.DEFAULT_SETTINGS, **preset["training"]},
    )


def _text(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return format(value, ".10g")
    return str(value)


def to_params(exp: Experiment) -> dict[str, str]:
    """Every setting of ``exp`` as URL parameter text."""
    spec = exp.spec
    params = {"data": str(spec.get("source"))}
    synthetic = {**datasets.SYNTHETIC_DEFAULTS, **spec}
    params.update(
        samples=_text(synthetic["n_samples"]),
        noise=_text(float(synthetic["noise"])),
        data_seed=_text(synthetic["seed"]),
    )
    for name, key in SPLIT_KEYS.items():
        # a split from before a setting existed (an old workspace) has its default
        params[name] = _text(exp.split.get(key, nn.config.SPLIT[key].default))
    arch = exp.arch
    params["hidden"] = ",".join(map(str, arch["hidden"])) or NO_HIDDEN
    acts = list(arch["activations"])
    params["act"] = acts[0] if len(set(acts)) == 1 else ",".join(acts)
    if not acts:
        params["act"] = ""
    params.update(
        out=arch["output_activation"],
        loss=arch["loss"],
        init=arch["init"],
        seed=_text(int(arch["seed"])),
    )
    train = {**loop.DEFAULT_SETTINGS, **exp.train}
    for name, key in TRAIN_KEYS.items():
        params[name] = _text(train[key])
    if spec.get("source") not in datasets.SYNTHETIC:
        for key in ("samples", "noise", "data_seed"):
            del params[key]
    return params


def encode(exp: Experiment, defaults: Experiment | None = None) -> dict[str, str]:
    """The URL parameters of ``exp`` that differ from ``defaults`` (defaults give a bare URL).

    Without ``defaults``, the defaults of ``exp``'s dataset (``default_experiment``): a link
    names its dataset unless it is the app's first one, and then only what differs from what
    that dataset starts with.
    """
    if defaults is None:
        defaults = default_experiment(exp.spec)
        defaults.spec = dict(datasets.DEFAULT_SPEC)
    mine, base = to_params(exp), to_params(defaults)
    synthetic = to_params(
        Experiment({"source": "moons", **datasets.SYNTHETIC_DEFAULTS}, exp.split, exp.arch)
    )
    base.update({k: synthetic[k] for k in ("samples", "noise", "data_seed")})
    out = {k: v for k, v in mine.items() if base.get(k) != v}
    if exp.arch["hidden"] != defaults.arch["hidden"] and mine.get("act"):
        out["act"] = mine["act"]  # keep the activations with the layers they belong to
    return out


def _value(params: dict, key: str, fallback: str) -> str:
    value = params.get(key, fallback)
    if isinstance(value, list):
        value = value[-1] if value else fallback
    return str(value)


def _flag(params: dict, key: str, name: str, default: bool, messages: list) -> bool:
    text = _value(params, key, "1" if default else "0").strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    messages.append(
        f"{name}: {text!r} is not yes or no (1 or 0); using {'yes' if default else 'no'}."
    )
    return default


def _too_long(params: dict, messages: list) -> dict:
    """``params`` without values longer than ``MAX_PARAM_LEN`` (a message for each dropped)."""
    kept = {}
    for key, value in params.items():
        if len(_value(params, key, "")) > MAX_PARAM_LEN:
            messages.append(f"The link's value for {key} is too long; using the default.")
            continue
        kept[key] = value
    return kept


def decode_data(params: dict, defaults: Experiment) -> tuple[dict, dict, list[str]]:
    """The dataset spec and split settings a link asks for, checked; messages for changes."""
    messages: list[str] = []
    params = _too_long({k: v for k, v in params.items() if k in PARAMS}, messages)
    base = to_params(defaults)
    source = _value(params, "data", base["data"])
    known = (*datasets.BUNDLED, *datasets.SYNTHETIC)
    if source == datasets.CSV:
        messages.append(
            "The link was made with an uploaded CSV file, which a link cannot carry; upload it "
            f"on the Data page. Showing {datasets.SOURCES[defaults.spec['source']].split(' (')[0]} "
            "for now."
        )
        source = defaults.spec["source"]
    source, m = limits.check_choice("Dataset", source, known, defaults.spec["source"])
    messages += [m] if m else []
    spec = {"source": source}
    if source in datasets.SYNTHETIC:
        raw = {
            "n_samples": _value(params, "samples", str(datasets.SYNTHETIC_DEFAULTS["n_samples"])),
            "noise": _value(params, "noise", str(datasets.SYNTHETIC_DEFAULTS["noise"])),
            "seed": _value(params, "data_seed", str(datasets.SYNTHETIC_DEFAULTS["seed"])),
        }
        checked, more = datasets.check_synthetic_params(raw)
        spec.update(checked)
        messages += more
    # The split's defaults are those of the dataset the link names.
    base = to_params(default_experiment(spec))
    raw = {key: _value(params, name, base[name]) for name, key in SPLIT_KEYS.items()}
    for name, setting in nn.config.SPLIT.items():
        if setting.kind == "bool":
            default = base[setting.url] == "1"
            raw[name] = _flag(params, setting.url, setting.label, default, messages)
    split, more = datasets.check_split_settings(raw)
    return spec, split, messages + more


def _hidden(text: str, default: list[int], messages: list) -> list[int]:
    text = text.strip().lower()
    if text in (NO_HIDDEN, ""):
        return []
    parts = text.replace(" ", "").split(",")
    if len(parts) > limits.MAX_HIDDEN_LAYERS:
        messages.append(
            f"The link asks for {len(parts)} hidden layers; this demo allows up to "
            f"{limits.MAX_HIDDEN_LAYERS}, so the first {limits.MAX_HIDDEN_LAYERS} are used."
        )
        parts = parts[: limits.MAX_HIDDEN_LAYERS]
    if not all(part.isdigit() for part in parts):
        messages.append(f"Hidden layers: {text!r} is not a list of node counts; using the default.")
        return list(default)
    sizes = []
    for i, part in enumerate(parts, start=1):
        n, m = limits.clamp_int(f"Hidden layer {i}", part, 1, limits.MAX_NODES, 8)
        messages += [m] if m else []
        sizes.append(n)
    return sizes


def _activations(text: str, n: int, messages: list) -> list[str]:
    names = [a.strip() for a in text.split(",") if a.strip()] or ["sigmoid"]
    if len(names) == 1:
        names = names * n
    if len(names) != n:
        messages.append(
            f"Activations: {text!r} does not give one activation per hidden layer ({n}); "
            "using sigmoid for every layer."
        )
        return ["sigmoid"] * n
    checked, refused = [], []
    for name in names:
        value, m = limits.check_choice("Activation", name, tuple(activations.HIDDEN), "sigmoid")
        refused += [m] if m else []
        checked.append(value)
    messages += dict.fromkeys(refused)  # one message per refused name, not one per layer
    return checked


def decode_model(
    params: dict,
    defaults: Experiment,
    n_inputs: int,
    n_outputs: int,
    n_train: int,
    has_validation: bool,
    task: str = build.CLASSIFICATION,
) -> tuple[dict, dict, list[str]]:
    """The architecture and training settings a link asks for, checked against the limits and
    the data's shape and task (a regression dataset takes only its task's outputs and
    losses); anything that does not fit falls back to the default, with a message."""
    messages: list[str] = []
    params = _too_long({k: v for k, v in params.items() if k in PARAMS}, [])
    base = to_params(defaults)
    hidden = _hidden(_value(params, "hidden", base["hidden"]), defaults.arch["hidden"], messages)
    fallback_act = base["act"] if len(hidden) == len(defaults.arch["hidden"]) else "sigmoid"
    acts = _activations(_value(params, "act", fallback_act), len(hidden), messages)
    choices = {
        "output_activation": ("Output activation", "out", build.outputs(task)),
        "loss": ("Loss", "loss", build.losses(task)),
        "init": ("Initial weights", "init", nn.network.INITS),
    }
    arch = {"hidden": hidden, "activations": acts}
    for key, (name, param, options) in choices.items():
        value, m = limits.check_choice(
            name, _value(params, param, base[param]), options, defaults.arch[key]
        )
        messages += [m] if m else []
        arch[key] = value
    arch["seed"], m = limits.clamp_int(
        "Seed", _value(params, "seed", base["seed"]), 0, limits.MAX_SEED, defaults.arch["seed"]
    )
    messages += [m] if m else []
    problems = architecture_problems(arch, n_inputs, n_outputs, task)
    if problems:
        messages.append(
            "The link's architecture cannot be built here (" + " ".join(problems) + "); using "
            "the default architecture."
        )
        arch = {
            **defaults.arch,
            "hidden": list(defaults.arch["hidden"]),
            "activations": list(defaults.arch["activations"]),
        }
    raw = {key: _value(params, name, base[name]) for name, key in TRAIN_KEYS.items()}
    for name, setting in nn.config.TRAINING.items():
        if setting.kind == "bool":
            raw[name] = _flag(
                params, setting.url, setting.label, bool(defaults.train[name]), messages
            )
    train, more = loop.check_settings(raw, n_train, has_validation)
    return arch, train, messages + more
