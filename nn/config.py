"""The settings tables: every training and split setting once, with type, default, range, help.

In the spirit of scikit-learn's ``_parameter_constraints``: ``Network.train_epochs`` validates
through ``check_training``, and everything else that lists training settings derives from
``TRAINING`` instead of re-declaring them: the CLI's flags (``Setting.flag``), the app's URL
codec (``Setting.url``), its widgets' ranges and help, the demo limits (which only narrow a
range), the recipe's settings.json and the run comparison's settings table.

Adding a setting: add a row here, then use it where it acts (the training loop, and the recipe
script if it changes what a run computes). tests/test_config.py walks the table and checks that
each row reaches the CLI, the URL codec and the recipe.

Two kinds hold a short text so that they travel unchanged through a URL, a flag and JSON:
"rates" (dropout: one rate for every hidden layer, ``"0.2"``, or one per hidden layer,
``"0.2,0.1"``) and "weights" (class weights: ``"none"``, ``"balanced"`` or one positive number
per class, ``"1,3,0.5"``). ``check`` gives their canonical text (numbers written exactly and
shortest, ``"0.2"``, ``"1"``); ``dropout_rates`` and ``class_weight`` read it, and the count
(hidden layers, classes) is checked when the network is known, as training starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nn import optimizers

SCHEDULES = ("constant", "step", "exponential", "cosine")
MAX_DROPOUT = 0.9  # a higher rate leaves too few units to learn from


@dataclass(frozen=True)
class Setting:
    """One setting: ``kind`` is "int", "float", "bool", "choice", "rates", "weights" or
    "names" (some of ``choices``, as comma-separated text).

    Numbers lie in ``[low, high]`` (for "rates" and "weights" each number of the list);
    ``low_open``/``high_open`` exclude an end. ``url`` is its short name in the app's links,
    ``flag`` its command-line flag, ``label`` its name in words.
    """

    name: str
    kind: str
    default: object
    help: str
    label: str
    url: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    flag: str = ""
    # (setting, value) that this one takes effect with, e.g. ("optimizer", "adam")
    only_with: tuple[str, object] | None = None

    @property
    def is_text(self) -> bool:
        """True for the kinds whose value is a short text ("rates", "weights", "names")."""
        return self.kind in TEXT_KINDS

    @property
    def cli_flag(self) -> str:
        """The command-line flag (``--batch-size`` for ``batch_size`` unless ``flag`` says)."""
        return self.flag or "--" + self.name.replace("_", "-")

    def range_text(self) -> str:
        """The allowed values in words, for messages."""
        if self.kind == "choice":
            return "one of " + ", ".join(map(str, self.choices))
        if self.kind == "bool":
            return "true or false"
        if self.kind == "rates":
            return (
                f"a rate {self._interval()} for every hidden layer, or one per hidden layer "
                "separated by commas (0.2,0.1)"
            )
        if self.kind == "weights":
            return (
                f"{NO_WEIGHTS}, {BALANCED}, or one number {self._interval()} per class "
                "separated by commas (1,3,1)"
            )
        if self.kind == "names":
            return f"{NO_NAMES}, or some of {', '.join(self.choices)} separated by commas"
        lo = "" if self.low is None else f"{'>' if self.low_open else '>='} {self.low:g}"
        hi = "" if self.high is None else f"{'<' if self.high_open else '<='} {self.high:g}"
        whole = "a whole number" if self.kind == "int" else "a number"
        return " and ".join(p for p in (f"{whole} {lo}".strip(), hi) if p)

    def _interval(self) -> str:
        lo = "" if self.low is None else f"{'>' if self.low_open else '>='} {self.low:g}"
        hi = "" if self.high is None else f"{'<' if self.high_open else '<='} {self.high:g}"
        return " and ".join(p for p in (lo, hi) if p)

    def _in_range(self, value: float) -> bool:
        too_low = self.low is not None and (
            value < self.low or (self.low_open and value == self.low)
        )
        too_high = self.high is not None and (
            value > self.high or (self.high_open and value == self.high)
        )
        return not (too_low or too_high)

    def _check_numbers(self, value) -> str:
        """A list of numbers (text, a number, or a list), each in range, as canonical text."""
        if self.kind == "weights" and isinstance(value, str):
            word = value.strip().lower()
            if word in (NO_WEIGHTS, BALANCED):
                return word
        numbers = _numbers(value)
        if numbers is None or not all(math.isfinite(v) and self._in_range(v) for v in numbers):
            raise ValueError(f"{self.name} must be {self.range_text()}, got {value!r}")
        return ",".join(number_text(v) for v in numbers)

    def _check_names(self, value) -> str:
        """Some of ``choices`` (a comma-separated text or a list; "none" or "" for none) as
        canonical text: in the order of ``choices``, each once, or "none"."""
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",")] if len(value) <= 200 else None
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            parts = [v.strip() for v in value]
        else:
            parts = None
        if parts is not None:
            parts = [p for p in parts if p and p != NO_NAMES]
        if parts is None or any(p not in self.choices for p in parts):
            raise ValueError(f"{self.name} must be {self.range_text()}, got {value!r}")
        return ",".join(c for c in self.choices if c in parts) or NO_NAMES

    def check(self, value):
        """``value`` as this setting's type, or ``ValueError`` naming the setting and range."""
        if self.kind == "names":
            return self._check_names(value)
        if self.is_text:
            return self._check_numbers(value)
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise ValueError(f"{self.name} must be {self.range_text()}, got {value!r}")
        if self.kind == "bool":
            if isinstance(value, (bool, np.bool_)) or (
                isinstance(value, (int, np.integer)) and value in (0, 1)
            ):
                return bool(value)
            raise ValueError(f"{self.name} must be true or false, got {value!r}")
        if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)
        ):
            raise ValueError(f"{self.name} must be {self.range_text()}, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{self.name} must be a finite number, got {value!r}")
        if self.kind == "int":
            if value != int(value):
                raise ValueError(f"{self.name} must be a whole number, got {value!r}")
            value = int(value)
        else:
            value = float(value)
        if not self._in_range(value):
            raise ValueError(f"{self.name} must be {self.range_text()}, got {value!r}")
        return value


TEXT_KINDS = ("rates", "weights", "names")
NO_WEIGHTS, BALANCED = "none", "balanced"
NO_NAMES = "none"  # a "names" setting with no name chosen
MAX_LIST = 1000  # numbers in a "rates" or "weights" text (hidden layers or classes)


def number_text(value: float) -> str:
    """A number as the shortest text that reads back as the same float ("0.2", "1", "1e-05")."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _numbers(value) -> list[float] | None:
    """The numbers in ``value``: a text of comma-separated numbers, one number, or a list of
    numbers (None when it is none of these)."""
    if isinstance(value, str):
        parts = value.split(",")
        if not value.strip() or len(parts) > MAX_LIST:
            return None
        try:
            return [float(part) for part in parts]
        except ValueError:
            return None
    if isinstance(value, (list, tuple)):
        if not value or len(value) > MAX_LIST:
            return None
        items = list(value)
    else:
        items = [value]
    if any(
        isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating))
        for v in items
    ):
        return None
    return [float(v) for v in items]


TRAINING: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("epochs", "int", 100, "Passes over the training rows.", "Epochs", "epochs", 0),
        Setting(
            "learning_rate",
            "float",
            0.15,
            "How far each update moves the weights along the gradient.",
            "Learning rate",
            "lr",
            0.0,
            low_open=True,
            flag="--lr",
        ),
        Setting(
            "batch_size",
            "int",
            1,
            "Rows per update: 1 is the article's per-sample descent, the whole set full batch.",
            "Batch size",
            "batch",
            1,
        ),
        Setting(
            "optimizer",
            "choice",
            "sgd",
            "sgd: plain steps; momentum: steps that keep a velocity; adam: per-weight step sizes.",
            "Optimizer",
            "opt",
            choices=tuple(optimizers.OPTIMIZERS),
        ),
        Setting(
            "shuffle", "bool", False, "Shuffle the rows before every epoch.", "Shuffle", "shuffle"
        ),
        Setting("l2", "float", 0.0, "Weight decay: a penalty on large weights.", "L2", "l2", 0.0),
        Setting(
            "l1",
            "float",
            0.0,
            "A penalty on the size of every weight that drives the useless ones to zero.",
            "L1",
            "l1",
            0.0,
        ),
        Setting(
            "dropout",
            "rates",
            "0",
            "Share of each hidden layer's units switched off at random in every training step "
            "(never when predicting): one rate for every hidden layer, or one per layer "
            "separated by commas.",
            "Dropout",
            "dropout",
            0.0,
            MAX_DROPOUT,
        ),
        Setting(
            "class_weight",
            "weights",
            NO_WEIGHTS,
            "How much each class's rows count in the loss: none (all alike), balanced (rare "
            "classes count more, n_rows / (n_classes * rows of the class)), or one number per "
            "class separated by commas. Classification only.",
            "Class weights",
            "cw",
            0.0,
            low_open=True,
        ),
        Setting(
            "schedule",
            "choice",
            "constant",
            "How the learning rate changes over the epochs: constant; step (multiplied by the "
            "step factor every few epochs); exponential (multiplied by the decay every epoch); "
            "cosine (down to the final rate along half a cosine).",
            "Schedule",
            "sched",
            choices=SCHEDULES,
        ),
        Setting(
            "warmup",
            "int",
            0,
            "Epochs at the start whose rate climbs in a straight line up to the learning rate "
            "(the schedule starts after them).",
            "Warm-up epochs",
            "warmup",
            0,
        ),
        Setting(
            "lr_step",
            "int",
            10,
            "Step schedule: epochs between two drops of the rate.",
            "Step every (epochs)",
            "lr_step",
            1,
            only_with=("schedule", "step"),
        ),
        Setting(
            "lr_drop",
            "float",
            0.5,
            "Step schedule: what each drop multiplies the rate by.",
            "Step factor",
            "lr_drop",
            0.0,
            1.0,
            low_open=True,
            only_with=("schedule", "step"),
        ),
        Setting(
            "lr_decay",
            "float",
            0.95,
            "Exponential schedule: what every epoch multiplies the rate by.",
            "Decay per epoch",
            "lr_decay",
            0.0,
            1.0,
            low_open=True,
            only_with=("schedule", "exponential"),
        ),
        Setting(
            "lr_min",
            "float",
            0.0,
            "Cosine schedule: the final rate, as a share of the learning rate (0.01: a "
            "hundredth of it).",
            "Final rate (share)",
            "lr_min",
            0.0,
            1.0,
            only_with=("schedule", "cosine"),
        ),
        Setting(
            "cosine_epochs",
            "int",
            0,
            "Cosine schedule: epochs from the start (warm-up included) to the final rate, "
            "which then stays; 0: the run's epochs.",
            "Cosine length (epochs)",
            "cos_epochs",
            0,
            only_with=("schedule", "cosine"),
        ),
        Setting(
            "momentum",
            "float",
            0.9,
            "The share of the last step a momentum step keeps.",
            "Momentum",
            "momentum",
            0.0,
            1.0,
            high_open=True,
            only_with=("optimizer", "momentum"),
        ),
        Setting(
            "nesterov",
            "bool",
            False,
            "Nesterov's look-ahead momentum.",
            "Nesterov",
            "nesterov",
            only_with=("optimizer", "momentum"),
        ),
        Setting(
            "beta1",
            "float",
            0.9,
            "Adam's decay of the mean gradient.",
            "Adam beta1",
            "beta1",
            0.0,
            1.0,
            high_open=True,
            only_with=("optimizer", "adam"),
        ),
        Setting(
            "beta2",
            "float",
            0.999,
            "Adam's decay of the mean squared gradient.",
            "Adam beta2",
            "beta2",
            0.0,
            1.0,
            high_open=True,
            only_with=("optimizer", "adam"),
        ),
        Setting(
            "eps",
            "float",
            1e-8,
            "Adam's guard against division by zero.",
            "Adam epsilon",
            "eps",
            0.0,
            1.0,
            low_open=True,
            high_open=True,
            only_with=("optimizer", "adam"),
        ),
        Setting(
            "early_stopping",
            "bool",
            False,
            "Stop when the validation loss has not improved for `patience` epochs.",
            "Early stopping",
            "early_stop",
        ),
        Setting(
            "patience",
            "int",
            10,
            "Epochs without a better validation loss before early stopping stops.",
            "Patience",
            "patience",
            1,
            only_with=("early_stopping", True),
        ),
        Setting(
            "restore_best",
            "bool",
            True,
            "After early stopping, go back to the weights of the best validation loss.",
            "Restore best weights",
            "restore_best",
            only_with=("early_stopping", True),
        ),
    )
}


# How the rows are split and prepared (the arguments of ``nn.data.split``), in the same form: the
# recipe's settings.json, the URL codec and the Data page's controls derive from it.
SPLIT: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting(
            "test_size",
            "float",
            0.15,
            "Share of the rows held out to test the trained network.",
            "Test share",
            "test",
            0.0,
            1.0,
            low_open=True,
            high_open=True,
        ),
        Setting(
            "val_size",
            "float",
            0.10,
            "Share of the remaining rows used for validation while training (0: none).",
            "Validation share (of the rest)",
            "val",
            0.0,
            1.0,
            high_open=True,
        ),
        Setting(
            "seed",
            "int",
            0,
            "Seed of the shuffle that deals the rows into the parts.",
            "Split seed",
            "split_seed",
            0,
            flag="--seed",
        ),
        Setting(
            "stratify",
            "bool",
            False,
            "Keep each class's share the same in every part.",
            "Stratify",
            "stratify",
        ),
        Setting(
            "standardize",
            "bool",
            False,
            "Scale every input to mean 0 and standard deviation 1 on the training rows.",
            "Standardize",
            "standardize",
        ),
        Setting(
            "engineered",
            "names",
            NO_NAMES,
            "Extra inputs made from a 2-D set's two features, as in TensorFlow Playground: "
            "x1², x2², x1·x2, sin(x1), sin(x2) (nn/preprocess.py, ENGINEERED).",
            "Engineered inputs",
            "inputs",
            choices=("x1_sq", "x2_sq", "x1_x2", "sin_x1", "sin_x2"),
            flag="--inputs",
        ),
    )
}


def applies(name: str, settings: dict) -> bool:
    """True when the setting ``name`` takes effect with these settings (momentum only for the
    momentum optimizer, patience only with early stopping, ...)."""
    condition = TRAINING[name].only_with
    if condition is None:
        return True
    other, value = condition
    return settings.get(other, TRAINING[other].default) == value


def defaults(table: dict[str, Setting]) -> dict:
    """Every setting of ``table`` at its default."""
    return {name: s.default for name, s in table.items()}


def check(table: dict[str, Setting], settings: dict, what: str, fill: bool = True) -> dict:
    """``settings`` checked against ``table`` (``ValueError`` naming the first bad one), with
    defaults filled in when ``fill``; unknown names are refused. ``what`` names the table."""
    if not isinstance(settings, dict):
        raise ValueError(f"the {what} settings must be a dict")
    unknown = sorted(set(settings) - set(table))
    if unknown:
        raise ValueError(f"unknown {what} settings: {', '.join(map(str, unknown))}")
    base = defaults(table) if fill else {}
    return {name: table[name].check(value) for name, value in {**base, **settings}.items()}


def dropout_rates(value: str, n_hidden: int) -> list[float]:
    """The dropout rate of each of ``n_hidden`` hidden layers from a checked ``dropout`` text;
    ``ValueError`` when it lists a rate per layer for another number of layers."""
    rates = [float(part) for part in value.split(",")]
    if len(rates) == 1:
        return rates * n_hidden
    if len(rates) != n_hidden:
        layers = f"{n_hidden} hidden layer{'' if n_hidden == 1 else 's'}"
        raise ValueError(
            f"dropout lists {len(rates)} rates but the network has {layers}: give one rate "
            "for all, or one per hidden layer"
        )
    return rates


def class_weight(value: str) -> str | list[float]:
    """A checked ``class_weight`` text as "none", "balanced" or the list of weights."""
    if value in (NO_WEIGHTS, BALANCED):
        return value
    return [float(part) for part in value.split(",")]


def training_defaults() -> dict:
    """Every training setting at its default."""
    return defaults(TRAINING)


def check_training(settings: dict, fill: bool = True) -> dict:
    """The training settings checked, with defaults filled in when ``fill``."""
    return check(TRAINING, settings, "training", fill)


def split_defaults() -> dict:
    """Every split setting at its default."""
    return defaults(SPLIT)


def check_split(settings: dict, fill: bool = True) -> dict:
    """The split settings checked, with defaults filled in when ``fill``."""
    return check(SPLIT, settings, "split", fill)
