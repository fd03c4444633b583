"""The settings tables: every training and split setting once, with type, default, range, help.

In the spirit of scikit-learn's ``_parameter_constraints``: ``Network.train_epochs`` validates
through ``check_training``, and everything else that lists training settings derives from
``TRAINING`` instead of re-declaring them: the CLI's flags (``Setting.flag``), the app's URL
codec (``Setting.url``), its widgets' ranges and help, the demo limits (which only narrow a
range), the recipe's settings.json and the run comparison's settings table.

Adding a setting: add a row here, then use it where it acts (the training loop, and the recipe
script if it changes what a run computes). tests/test_config.py walks the table and checks that
each row reaches the CLI, the URL codec and the recipe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nn import optimizers


@dataclass(frozen=True)
class Setting:
    """One setting: ``kind`` is "int", "float", "bool" or "choice".

    Numbers lie in ``[low, high]``; ``low_open``/``high_open`` exclude an end. ``url`` is its
    short name in the app's links, ``flag`` its command-line flag, ``label`` its name in words.
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
    def cli_flag(self) -> str:
        """The command-line flag (``--batch-size`` for ``batch_size`` unless ``flag`` says)."""
        return self.flag or "--" + self.name.replace("_", "-")

    def range_text(self) -> str:
        """The allowed values in words, for messages."""
        if self.kind == "choice":
            return "one of " + ", ".join(map(str, self.choices))
        if self.kind == "bool":
            return "true or false"
        lo = "" if self.low is None else f"{'>' if self.low_open else '>='} {self.low:g}"
        hi = "" if self.high is None else f"{'<' if self.high_open else '<='} {self.high:g}"
        whole = "a whole number" if self.kind == "int" else "a number"
        return " and ".join(p for p in (f"{whole} {lo}".strip(), hi) if p)

    def check(self, value):
        """``value`` as this setting's type, or ``ValueError`` naming the setting and range."""
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
        too_low = self.low is not None and (
            value < self.low or (self.low_open and value == self.low)
        )
        too_high = self.high is not None and (
            value > self.high or (self.high_open and value == self.high)
        )
        if too_low or too_high:
            raise ValueError(f"{self.name} must be {self.range_text()}, got {value!r}")
        return value


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
