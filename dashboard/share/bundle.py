"""The recipe download: the settings, notes and zip that let a script repeat the app's run.

No Streamlit here; the script itself is ``nn/recipe/script.py``.
"""

from __future__ import annotations

from dashboard.training import loop
from nn import recipe

# ---- the recipe ----

NOT_COVERED = (
    "The recipe repeats runs on tables of numbers; this one has categories or gaps, which its "
    "standalone script does not encode yet, so there is no recipe for it."
)


def recipe_covers(dataset) -> bool:
    """True when the standalone script can repeat a run on ``dataset`` (numbers, no gaps)."""
    return not dataset.is_table


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


def recipe_notes(trainer: loop.Trainer, split_settings: dict, manual_steps: int = 0) -> list[str]:
    """Why the recipe may not repeat what the app shows (empty when it should)."""
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
    if trainer.status == loop.DIVERGED:
        notes.append(
            f"The run diverged after epoch {trainer.epochs_trained}; the recipe trains those "
            f"{trainer.epochs_trained} epochs, up to the last finite weights."
        )
    return notes


def recipe_zip(settings: dict, dataset) -> bytes:
    """The script, ``settings`` and the dataset as one zip (see ``nn.recipe.recipe_zip``)."""
    return recipe.recipe_zip(
        settings,
        dataset.X,
        dataset.y,
        [str(f) for f in dataset.feature_names],
        [str(c) for c in dataset.class_names],
    )
