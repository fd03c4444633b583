"""Finished runs kept for comparison, and the same settings trained on several seeds.

A run record is plain data (task, settings, history, test metrics), not a network: the session
keeps at most ``MAX_RUNS`` of them (``dashboard.state.remember_finished_run`` keeps them). A
classification run is scored by accuracy, a regression run by R^2, MAE and RMSE (in the
target's units); runs are compared with runs of their own task. No Streamlit here.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np
import pandas as pd

import nn
from dashboard.common import capacity
from dashboard.predict import results
from dashboard.training import loop

MAX_RUNS = 10
N_SEEDS = 5
ENDED = (loop.FINISHED, loop.EARLY_STOPPED, loop.DIVERGED, loop.OUT_OF_COMPUTE)
CLASSIFICATION, REGRESSION = nn.task.CLASSIFICATION, nn.task.REGRESSION
# What a test figure is called, per evaluate() key: in the run table and the seed table.
SCORE_NAMES = {"accuracy": "accuracy", "r2": "R²", "mae": "MAE", "rmse": "RMSE", "loss": "loss"}


def test_keys(task: str) -> tuple[str, ...]:
    """The test figures of a task, as ``Network.evaluate`` names them (the loss last)."""
    if task == REGRESSION:
        return ("r2", "mae", "rmse", "loss")
    return ("accuracy", "loss")


def record_task(record: dict) -> str:
    """A run record's task (records kept before there were tasks are classification)."""
    return record.get("task", CLASSIFICATION)


def describe(trainer: loop.Trainer, dataset_label: str, split_settings: dict) -> dict:
    """The settings of a run, nested by part, in the words of the app's controls."""
    config, s = trainer.net.config, trainer.settings
    acts = config["activation"]
    acts = acts if isinstance(acts, str) else ",".join(acts) or "none"
    early = bool(s.get("early_stopping")) and trainer.has_validation
    applied = {**s, "early_stopping": early}
    return {
        "data": {"dataset": dataset_label, "rows": len(trainer.y_train)},
        "split": {
            k: split_settings[k]
            for k in ("test_size", "val_size", "seed", "stratify", "standardize")
        }
        # a number has no classes to keep in proportion: a regression split never stratifies
        | ({"stratify": None} if config.get("task") == REGRESSION else {}),
        "network": {
            "layers": "-".join(map(str, config["layers"])),
            "activation": acts,
            "output": config["output_activation"],
            "loss": config["loss"],
            "init": config["init"],
            "seed": config["seed"],
        },
        # every setting of the table; None where it does not take effect
        "training": {
            name: (applied.get(name, setting.default) if nn.config.applies(name, applied) else None)
            for name, setting in nn.config.TRAINING.items()
        }
        | {"epochs": trainer.target_epochs},
    }


def test_metrics(net: nn.Network, split, dataset=None) -> dict:
    """Test loss and accuracy of ``net`` (for regression loss, R^2, MAE and RMSE in the
    target's units; None without test rows). ``dataset``: needed only for a network with its
    own preprocessing (an uploaded model)."""
    if len(split.y_test) == 0:
        return dict.fromkeys(test_keys(net.task))
    return net.evaluate(results.network_inputs(net, split, dataset, "test"), split.y_test)


def make_record(
    name: str, trainer: loop.Trainer, dataset_label: str, split_settings: dict, split, dataset=None
) -> dict:
    """A finished run as plain data: name, settings, metrics and a copy of the history."""
    history = [r.as_dict() for r in trainer.net.history]
    last = history[-1] if history else {}
    task = trainer.net.task
    test = test_metrics(trainer.net, split, dataset)
    metric = nn.task.get(task).metric
    return {
        "name": name,
        "task": task,
        "settings": describe(trainer, dataset_label, split_settings),
        "metrics": {
            **{f"test {SCORE_NAMES[key]}": test[key] for key in test_keys(task)},
            "training loss": last.get("train_loss"),
            f"validation {SCORE_NAMES[metric]}": last.get(f"val_{metric}"),
            "epochs trained": trainer.epochs_trained,
            "status": trainer.status,
        },
        "history": history,
        # To recognise the same run when it is continued; never keeps the network alive.
        "net": weakref.ref(trainer.net),
    }


def add_record(records: list[dict], record: dict, max_runs: int = MAX_RUNS) -> list[dict]:
    """Add ``record`` (replacing an earlier record of the same network); returns the dropped."""
    for i, old in enumerate(records):
        if old["net"]() is not None and old["net"]() is record["net"]():
            records[i] = {**record, "name": old["name"]}
            return []
    records.append(record)
    dropped = records[: max(0, len(records) - max_runs)]
    del records[: len(dropped)]
    return dropped


def train_seeds(
    config: dict,
    split,
    settings: dict,
    seeds: list[int],
    progress: Callable[[int, int, int], None] | None = None,
    budget_s: float = 0.25,
    slots: capacity.Slots | None = None,
    slot_key: str = "",
) -> list[dict]:
    """Train the same settings from each seed (initial weights and shuffling) to the end.

    ``progress(seed_index, epochs_done, epochs_set)`` is called after every chunk of epochs.
    Returns one dict per seed: seed, history, status, epochs, and its test figures as
    ``test_<key>`` for the keys of ``test_keys`` (loss and accuracy, or loss, R^2, MAE and
    RMSE).

    With ``slots`` (the server's training slots), the seeds train only while the session
    ``slot_key`` holds one (``ServerBusyError`` when none is free: they run in one click, so they do
    not wait in the queue), and all of them share one run's compute budget.
    """
    owner = "seeds"
    if slots is not None:
        ticket = slots.acquire(slot_key, owner)
        if not ticket.granted:
            slots.release(slot_key, owner)
            raise ServerBusyError(
                f"The server is training {ticket.training} runs, as many as it allows at once; "
                "run the seeds when one of them finishes."
            )
    results = []
    cpu_s = 0.0
    try:
        for i, seed in enumerate(seeds):
            net = nn.Network.from_config({**config, "seed": int(seed)})
            trainer = loop.Trainer(
                net=net,
                X_train=split.X_train,
                y_train=split.y_train,
                X_val=split.X_val,
                y_val=split.y_val,
                settings=dict(settings),
                cpu_s=cpu_s,  # what the earlier seeds used counts against this one
            )
            loop.start(trainer)
            while trainer.running:
                if slots is not None:
                    slots.acquire(slot_key, owner)  # still here: keep the slot
                loop.run_chunk(trainer, budget_s)
                if progress is not None:
                    progress(i, trainer.epochs_trained, trainer.target_epochs)
            cpu_s = trainer.cpu_s
            net.release_workspaces()
            test = test_metrics(net, split)
            results.append(
                {
                    "seed": int(seed),
                    "task": net.task,
                    "history": [r.as_dict() for r in net.history],
                    "status": trainer.status,
                    "epochs": trainer.epochs_trained,
                    **{f"test_{key}": test[key] for key in test_keys(net.task)},
                }
            )
    finally:
        if slots is not None:
            slots.release(slot_key, owner)
    return results


class ServerBusyError(RuntimeError):
    """All the server's training slots are taken (``train_seeds``)."""


def seed_table(results: list[dict]) -> pd.DataFrame:
    """One row per seed: its test figures (accuracy and loss, or R^2, MAE, RMSE and loss),
    epochs and how the run ended."""
    return pd.DataFrame(
        [
            {
                "seed": r["seed"],
                **{
                    f"test {SCORE_NAMES[key]}": r.get(f"test_{key}")
                    for key in test_keys(r.get("task", CLASSIFICATION))
                },
                "epochs": r["epochs"],
                "status": r["status"],
            }
            for r in results
        ]
    )


def seed_key(results: list[dict]) -> str:
    """The key of the seeds' headline figure: ``test_accuracy``, or ``test_r2``."""
    task = results[0].get("task", CLASSIFICATION) if results else CLASSIFICATION
    return f"test_{nn.task.get(task).metric}"


def seed_spread(results: list[dict], key: str | None = None) -> dict:
    """Mean, minimum and maximum of ``key`` over the seeds (None where nothing to measure);
    by default the task's test figure (``seed_key``)."""
    key = seed_key(results) if key is None else key
    values = np.array([r[key] for r in results if r.get(key) is not None], dtype=float)
    if not len(values):
        return {"mean": None, "min": None, "max": None, "n": 0}
    return {
        "mean": float(values.mean()),
        "min": float(values.min()),
        "max": float(values.max()),
        "n": len(values),
    }
