"""The recipe download: the settings, notes and zip that let a script repeat the app's run.

Every dataset gets one: classes or a number to predict, a table of numbers or one with
categories and gaps. No Streamlit here; the script itself is ``nn/recipe/script.py``.
"""

from __future__ import annotations

import numpy as np

from dashboard.training import loop
from nn import recipe
from nn.task import TargetScaler

DONE = (loop.FINISHED, loop.EARLY_STOPPED)


def recipe_epochs(trainer: loop.Trainer) -> int:
    """How many epochs the recipe should train to repeat this run.

    An early-stopped run is repeated by asking for the epochs set (the script stops at the same
    epoch); any other run by the epochs it has trained; an untrained one trains the epochs set.
    """
    if trainer.epochs_trained == 0 or (
        trainer.status == loop.EARLY_STOPPED and trainer.net.stopped_early
    ):
        return trainer.target_epochs
    return trainer.epochs_trained


def recipe_settings(trainer: loop.Trainer, split_settings: dict) -> dict:
    """The settings ``nn.recipe`` needs to repeat the trainer's run on the current split."""
    kwargs = loop.train_kwargs(trainer)
    kwargs.pop("validation_data", None)
    return {
        "network": dict(trainer.net.config),
        "training": {**kwargs, "epochs": recipe_epochs(trainer)},
        "split": {k: split_settings[k] for k in recipe.SPLIT_DEFAULTS},
    }


def recipe_notes(
    trainer: loop.Trainer, split_settings: dict, manual_steps: int = 0, preprocessor=None
) -> list[str]:
    """Why the recipe may not repeat what the app shows (empty when it should).

    ``preprocessor``: the current split's; a network that brought other preprocessing (a model
    uploaded from another session) is noted, since the recipe fits it again on this split."""
    settings = recipe_settings(trainer, split_settings)
    history = trainer.net.history
    # Only the learning-rate check: how many epochs the recipe trains is decided above.
    counted = {**settings, "training": {**settings["training"], "epochs": len(history)}}
    notes = recipe.reproducibility_notes(counted, history)
    if manual_steps:
        notes.append(
            f"{manual_steps} single-sample step(s) from the Backprop view were applied by hand; "
            "the recipe does not repeat them."
        )
    own = trainer.net.preprocessor
    if preprocessor is not None and own is not None and own != preprocessor:
        notes.append(
            "The model came with its own preprocessing (it was uploaded); the recipe fits the "
            "preprocessing again on this split's training rows."
        )
    if _other_target_scale(trainer):
        notes.append(
            "The model came with its own target scale (it was uploaded); the recipe fits the "
            "target's mean and standard deviation again on this split's training rows."
        )
    if trainer.status == loop.DIVERGED:
        notes.append(
            f"The run diverged after epoch {trainer.epochs_trained}; the recipe trains those "
            f"{trainer.epochs_trained} epochs, up to the last finite weights."
        )
    return notes


def _other_target_scale(trainer: loop.Trainer) -> bool:
    """True when a regression network's target scale is not the one its training rows give
    (a model uploaded from another session), which the recipe cannot repeat."""
    scaler = trainer.net.target_scaler
    if scaler is None or len(trainer.y_train) == 0:
        return False
    try:
        here = TargetScaler.fit(trainer.y_train)
    except ValueError:
        return True
    return here.n_targets != scaler.n_targets or not (
        np.array_equal(here.mean, scaler.mean) and np.array_equal(here.scale, scaler.scale)
    )


def _table(dataset) -> dict:
    """How a table with categories or gaps travels: its columns' kinds and fill choices."""
    if not dataset.is_table:
        return {}
    return {"kinds": dataset.feature_kinds(), "fill": dataset.fill}


def recipe_data(dataset) -> dict:
    """The settings' ``data`` section for ``dataset`` (see ``nn.recipe.data_settings``): its
    class names, or for a number to predict the target's name."""
    return recipe.data_settings(
        [str(f) for f in dataset.feature_names],
        [str(c) for c in dataset.class_names],
        task=dataset.task,
        target=str(dataset.target),
        **_table(dataset),
    )


def settings_json(settings: dict, dataset) -> str:
    """The settings file of the recipe zip for ``dataset``, as it is written into the zip."""
    return recipe.make_recipe({**settings, "data": recipe_data(dataset)})[1]


def recipe_zip(settings: dict, dataset) -> bytes:
    """The script, ``settings`` and the dataset as one zip (see ``nn.recipe.recipe_zip``): a
    table with categories or gaps travels as its raw values, with how each column is prepared;
    a number to predict as the target's values, with every digit."""
    return recipe.recipe_zip(
        settings,
        dataset.table() if dataset.is_table else dataset.X,
        dataset.y,
        [str(f) for f in dataset.feature_names],
        [str(c) for c in dataset.class_names],
        target=str(dataset.target),
        **_table(dataset),
    )
