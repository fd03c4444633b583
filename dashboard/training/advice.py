"""When a run goes nowhere: one plain sentence on the Train page with the likely cause and a fix.

No Streamlit here. ``went_nowhere`` looks at a run that has ended or is paused and says so when
its validation score is no better than the simplest guess (always answering the most frequent
class; for a number, always its mean, which scores R² 0), or its loss has barely moved. The
cause it names is the first that fits: inputs on very different scales, a sigmoid output on a
number (it cannot reach half the standardized targets), a learning rate so high that the loss
climbs or jumps, the article's sigmoid and squared-error setup (slow on most data), or else
too few epochs or too small a rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import nn.inspect
from dashboard.training import loop

MIN_EPOCHS = 5  # judged only after this many epochs
FLAT = 0.01  # the loss "barely moved": less than 1% below where it started
NO_BETTER = 0.01  # accuracy within a point of always answering the most frequent class

STANDARDIZE, LOWER_RATE, MODERN = "standardize", "lower_rate", "modern"
LINEAR_OUTPUT = "linear_output"
FIX_LABELS = {
    STANDARDIZE: "Standardize the inputs",
    LOWER_RATE: "Lower the learning rate",
    MODERN: "Use the modern preset",
    LINEAR_OUTPUT: "Use a linear output",
}


@dataclass(frozen=True)
class Advice:
    """What went wrong, in one sentence, and the one-click fix (a key of ``FIX_LABELS``) or
    None when the page has no button for it."""

    sentence: str
    fix: str | None


def majority_share(y) -> float:
    """The accuracy of always answering the most frequent class of ``y``."""
    y = np.asarray(y)
    return float(np.bincount(y).max() / len(y)) if len(y) else 0.0


def went_nowhere(trainer: loop.Trainer) -> Advice | None:
    """Advice for a run that has stopped or paused without learning; None for a run that
    learns (or is still running, or has trained fewer than ``MIN_EPOCHS`` epochs)."""
    history = trainer.net.history
    if trainer.running or len(history) < MIN_EPOCHS:
        return None
    regression = trainer.net.task == nn.task.REGRESSION
    metric = nn.task.get(trainer.net.task).metric
    last = history[-1]
    val = getattr(last, f"val_{metric}")
    if trainer.has_validation and val is not None:
        score, part, y = val, "validation", trainer.y_val
    else:
        score, part, y = getattr(last, f"train_{metric}"), "training", trainer.y_train
    if score is None or not math.isfinite(score):
        return None
    baseline = 0.0 if regression else majority_share(y)
    losses = np.array([r.train_loss for r in history], dtype=float)
    start = losses[0]
    flat = bool(np.all(np.isfinite(losses))) and start - losses[-1] <= FLAT * abs(start)
    no_better = score <= baseline + NO_BETTER
    halfway = baseline + (1 - baseline) / 2  # a flat loss matters only while the score is low
    if not (no_better or (flat and score < halfway)):
        return None
    if not no_better:
        what = f"The training loss has barely moved in {len(history)} epochs"
    elif regression:
        what = f"The {part} R² ({score:.2f}) is no better than always predicting the mean (R² 0)"
    else:
        what = (
            f"The {part} accuracy ({score:.2f}) is no better than always answering the most "
            f"frequent class ({baseline:.2f})"
        )
    if nn.inspect.input_scale(trainer.X_train)["status"] != "ok":
        return Advice(
            f"{what}: the inputs are on very different scales, so some features swamp the "
            "others and sigmoid units saturate. Standardize them.",
            STANDARDIZE,
        )
    config = trainer.net.config
    if regression and config["output_activation"] == "sigmoid":
        return Advice(
            f"{what}: a sigmoid output only reaches values between 0 and 1, while the network "
            "learns the target standardized (half of it below 0). A linear output can give "
            "any number.",
            LINEAR_OUTPUT,
        )
    steps = np.diff(losses)
    # Too high a rate: the loss ends well above its best, or rises in a third of the epochs
    # (a run that learns lowers it in most).
    climbing = losses[-1] > 1.2 * losses.min() or np.sum(steps > 0) >= len(steps) / 3
    if climbing:
        return Advice(
            f"{what}: the loss climbs or jumps between epochs, a sign that the learning rate "
            f"({trainer.settings['learning_rate']:g}) is too high. Lower it.",
            LOWER_RATE,
        )
    acts = config["activation"]
    acts = [acts] if isinstance(acts, str) else list(acts)
    if regression and "sigmoid" in acts:
        return Advice(
            f"{what}: sigmoid units learn slowly on most data (the article's setup is for "
            "Iris). The modern preset (ReLU, Adam, a linear output) usually learns in a few "
            "epochs.",
            MODERN,
        )
    if not regression and (config["loss"] == "squared_error" or "sigmoid" in acts):
        return Advice(
            f"{what}: sigmoid units with a squared-error loss learn slowly on most data (the "
            "article's setup is for Iris). The modern preset (ReLU, softmax, Adam) usually "
            "learns in a few epochs.",
            MODERN,
        )
    return Advice(
        f"{what}: train for more epochs or raise the learning rate "
        f"({trainer.settings['learning_rate']:g}) a little.",
        None,
    )
