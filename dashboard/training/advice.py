"""When a run goes nowhere: one plain sentence on the Train page with the likely cause and a fix.

No Streamlit here. ``went_nowhere`` looks at a run that has ended or is paused and says so when
its validation accuracy is no better than always answering the most frequent class, or its
loss has barely moved. The cause it names is the first that fits: inputs on very different
scales, a learning rate so high that the loss climbs or jumps, the article's sigmoid and
squared-error setup (slow on most data), or else too few epochs or too small a rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import nn.inspect
from dashboard.training import loop

MIN_EPOCHS = 5  # judged only after this many epochs
FLAT = 0.01  # the loss "barely moved": less than 1% below where it started
NO_BETTER = 0.01  # accuracy within a point of always answering the most frequent class

STANDARDIZE, LOWER_RATE, MODERN = "standardize", "lower_rate", "modern"
FIX_LABELS = {
    STANDARDIZE: "Standardize the inputs",
    LOWER_RATE: "Lower the learning rate",
    MODERN: "Use the modern preset",
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
    last = history[-1]
    if trainer.has_validation and last.val_accuracy is not None:
        accuracy, part, baseline = last.val_accuracy, "validation", majority_share(trainer.y_val)
    else:
        accuracy, part, baseline = last.train_accuracy, "training", majority_share(trainer.y_train)
    losses = np.array([r.train_loss for r in history], dtype=float)
    start = losses[0]
    flat = bool(np.all(np.isfinite(losses))) and start - losses[-1] <= FLAT * abs(start)
    no_better = accuracy <= baseline + NO_BETTER
    halfway = baseline + (1 - baseline) / 2  # a flat loss matters only while accuracy is low
    if not (no_better or (flat and accuracy < halfway)):
        return None
    what = (
        f"The {part} accuracy ({accuracy:.2f}) is no better than always answering the most "
        f"frequent class ({baseline:.2f})"
        if no_better
        else f"The training loss has barely moved in {len(history)} epochs"
    )
    if nn.inspect.input_scale(trainer.X_train)["status"] != "ok":
        return Advice(
            f"{what}: the inputs are on very different scales, so some features swamp the "
            "others and sigmoid units saturate. Standardize them.",
            STANDARDIZE,
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
    config = trainer.net.config
    acts = config["activation"]
    acts = [acts] if isinstance(acts, str) else list(acts)
    if config["loss"] == "squared_error" or "sigmoid" in acts:
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
