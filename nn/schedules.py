"""Learning-rate schedules: the rate of every epoch from the settings, as pure functions.

The rate depends only on the settings and the epoch's index in the run (0 for the first epoch
ever trained, counting across pauses), so a run paused and resumed follows the same curve as
one that never stopped. With ``lr`` the learning rate, ``w`` the warm-up epochs and
``t = epoch - w`` the epochs since the warm-up:

- warm-up (``epoch < w``): ``lr * (epoch + 1) / (w + 1)``, a straight climb that reaches
  ``lr`` at the first epoch after it;
- constant: ``lr``;
- step: ``lr * lr_drop ** (t // lr_step)``;
- exponential: ``lr * lr_decay ** t``;
- cosine: ``low + (lr - low) * (1 + cos(pi * min(t, L) / L)) / 2`` with ``low = lr_min * lr``
  (``lr_min`` is a share of the learning rate, so the curve keeps its shape when the rate
  changes) and ``L = max(T - w, 1)``, where ``T`` is ``cosine_epochs`` or, when that is 0, the
  run's epochs: PyTorch's ``CosineAnnealingLR`` over the epochs after the warm-up, which then
  stays at ``low``.

The recipe script (nn/recipe/script.py) repeats these formulas operation for operation, so its
rates are the same floats.
"""

from __future__ import annotations

import math

# The settings (rows of nn.config.TRAINING) a schedule reads.
SETTINGS = ("learning_rate", "schedule", "warmup", "lr_step", "lr_drop", "lr_decay", "lr_min",
            "cosine_epochs")  # fmt: skip


def is_constant(settings: dict) -> bool:
    """True when every epoch trains at the learning rate itself (no schedule, no warm-up)."""
    return settings["schedule"] == "constant" and not settings["warmup"]


def horizon(settings: dict, run_epochs: int) -> int:
    """The epochs a cosine schedule spans: ``cosine_epochs``, or the run's when that is 0."""
    return int(settings["cosine_epochs"]) or int(run_epochs)


def rate(settings: dict, epoch: int, run_epochs: int = 0) -> float:
    """The learning rate of epoch ``epoch`` (0-based, counted from the run's start).

    ``settings`` holds the rows named in ``SETTINGS`` (checked, as ``nn.config.check_training``
    gives them); ``run_epochs`` is the run's length, used by a cosine schedule whose
    ``cosine_epochs`` is 0.
    """
    lr = float(settings["learning_rate"])
    warmup = int(settings["warmup"])
    if epoch < warmup:
        return lr * (epoch + 1) / (warmup + 1)
    t = epoch - warmup
    kind = settings["schedule"]
    if kind == "constant":
        return lr
    if kind == "step":
        return lr * float(settings["lr_drop"]) ** (t // int(settings["lr_step"]))
    if kind == "exponential":
        return lr * float(settings["lr_decay"]) ** t
    if kind == "cosine":
        length = max(horizon(settings, run_epochs) - warmup, 1)
        low = float(settings["lr_min"]) * lr
        return low + (lr - low) * (1.0 + math.cos(math.pi * min(t, length) / length)) / 2.0
    raise ValueError(f"unknown schedule {kind!r}")


def rates(settings: dict, epochs: int, run_epochs: int | None = None) -> list[float]:
    """The rates of the epochs ``0 .. epochs - 1`` (``run_epochs``: the run's length for a
    cosine schedule, ``epochs`` when None)."""
    run = epochs if run_epochs is None else run_epochs
    return [rate(settings, epoch, run) for epoch in range(epochs)]


class Schedule:
    """A schedule bound to its settings: ``schedule(epoch)`` is ``rate(settings, epoch, ...)``;
    ``schedule(epoch, learning_rate)`` scales another base rate the same way."""

    def __init__(self, settings: dict, run_epochs: int = 0) -> None:
        self.settings = {key: settings[key] for key in SETTINGS}
        self.run_epochs = run_epochs

    def __repr__(self) -> str:
        s = self.settings
        kind = s["schedule"]
        parts = [f"{kind!r}", f"learning_rate={s['learning_rate']!r}"]
        params = {
            "step": ("lr_step", "lr_drop"),
            "exponential": ("lr_decay",),
            "cosine": ("lr_min", "cosine_epochs"),
        }.get(kind, ())
        parts += [f"{key}={s[key]!r}" for key in params]
        if s["warmup"]:
            parts.append(f"warmup={s['warmup']!r}")
        return f"Schedule({', '.join(parts)})"

    def __call__(self, epoch: int, learning_rate: float | None = None) -> float:
        settings = self.settings
        if learning_rate is not None and learning_rate != settings["learning_rate"]:
            settings = {**settings, "learning_rate": learning_rate}
        return rate(settings, epoch, self.run_epochs)
