"""The app's live training loop: a trainer kept in session state, advanced in time-boxed chunks.

No Streamlit here: the Train page calls ``run_chunk`` from a ``run_every`` fragment, and
``benchmarks/bench_app_loop.py`` calls it directly to measure the loop's overhead.
"""

from __future__ import annotations

import io
import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import nn

READY, RUNNING, PAUSED, FINISHED, EARLY_STOPPED, DIVERGED, FAILED = (
    "ready",
    "running",
    "paused",
    "finished",
    "stopped early",
    "diverged",
    "failed",
)
OPTIMIZERS = ("sgd", "momentum", "adam")
# "watch" spreads a quick run over about WATCH_TICKS redraws so the curves visibly grow;
# "fastest" trains as many epochs per tick as the time budget allows.
PACES = ("watch", "fastest")
WATCH_TICKS = 40
# A chunk trains for its wall-clock budget, and longer when the session spent too much of the
# last tick elsewhere. With several sessions in one server (one Python process, one GIL), other
# processes on the cores, or a browser that asks for the next tick late, a fixed wall-clock chunk
# shrinks the training per tick while drawing the page costs the same: drawing and waiting end
# up taking most of each tick. So a chunk goes on until both the wall time it took and the CPU
# time it got are at least (1 - DRAW_SHARE) / DRAW_SHARE times what went by since the last chunk
# ended, but never longer than MAX_CHUNK_S, so that every session still redraws about once a
# second however busy the server is. Gaps longer than MAX_GAP_S (a pause) are not counted.
DRAW_SHARE = 0.2
MAX_CHUNK_S = 1.0
MAX_GAP_S = 5.0
DEFAULT_SETTINGS = {
    **nn.presets.ARTICLE["training"],
    "momentum": 0.9,
    "early_stopping": False,
    "patience": 10,
    "restore_best": True,
    "pace": "watch",
}


@dataclass
class Trainer:
    """A network, the data it trains on, its settings and where the run stands."""

    net: nn.Network
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    settings: dict = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    running: bool = False
    status: str = READY
    message: str = ""
    tag: str = ""  # "article" for the run started by "Reproduce the article"
    data_version: int = 0
    # (thread id, its CPU time, wall time) when the last chunk ended: see chunk_floor
    last_chunk_end: tuple[int, float, float] | None = field(default=None, repr=False, compare=False)

    @property
    def epochs_trained(self) -> int:
        """Epochs trained so far in this run."""
        return self.net.epochs_trained

    @property
    def target_epochs(self) -> int:
        """Total epochs the run aims for (the Epochs setting)."""
        return int(self.settings["epochs"])

    @property
    def at_target(self) -> bool:
        """True when the run has trained all the epochs set."""
        return self.epochs_trained >= self.target_epochs

    @property
    def has_validation(self) -> bool:
        """True when there is a validation set."""
        return len(self.X_val) > 0


def train_kwargs(trainer: Trainer) -> dict:
    """Keyword arguments for ``nn.Network.train_epochs`` from the trainer's settings."""
    s = trainer.settings
    kwargs = {
        "learning_rate": float(s["learning_rate"]),
        "batch_size": int(s["batch_size"]),
        "optimizer": s["optimizer"],
        "shuffle": bool(s["shuffle"]),
        "l2": float(s["l2"]),
        "seed": int(trainer.net.config["seed"]),
        "momentum": float(s.get("momentum", 0.9)),
        "early_stopping": bool(s.get("early_stopping")) and trainer.has_validation,
        "patience": int(s.get("patience", 10)),
        "restore_best": bool(s.get("restore_best", True)),
    }
    if trainer.has_validation:
        kwargs["validation_data"] = (trainer.X_val, trainer.y_val)
    return kwargs


def epochs_per_tick(trainer: Trainer) -> int | None:
    """The cap on epochs per tick that the pace setting asks for (None: no cap)."""
    if trainer.settings.get("pace", "watch") == "fastest":
        return None
    return max(1, math.ceil(trainer.target_epochs / WATCH_TICKS))


def run_chunk(trainer: Trainer, budget_s: float = 0.2, max_epochs: int | None = None) -> int:
    """Train whole epochs for about ``budget_s`` seconds (at least one epoch).

    The chunk goes on past ``budget_s`` as ``chunk_floor`` asks (a busy server or a slow
    browser), up to ``max(MAX_CHUNK_S, budget_s)`` seconds. A budget of 0 trains exactly one
    epoch. Returns the number of epochs trained. Updates ``trainer.status``, ``running`` and
    ``message`` when the run finishes, stops early or diverges. The learning rate and the
    other settings are read afresh for every chunk; the optimizer state carries over as long
    as the optimizer stays the same.
    """
    remaining = trainer.target_epochs - trainer.epochs_trained
    if remaining <= 0:
        _finish(trainer)
        return 0
    limit = remaining if max_epochs is None else min(remaining, max_epochs)
    min_wall, min_cpu = chunk_floor(trainer, budget_s)
    # Overflow on the way to a divergence is reported as nn.DivergenceError, not as warnings.
    # The errstate is scoped to this chunk: it is never held across a yield to the page.
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return _run(trainer, remaining, limit, budget_s, min_wall, min_cpu)
    finally:
        trainer.last_chunk_end = (threading.get_ident(), time.thread_time(), time.perf_counter())


def chunk_floor(trainer: Trainer, budget_s: float) -> tuple[float, float]:
    """``(wall, cpu)`` seconds the next chunk should last and get, so that training keeps at
    least ``1 - DRAW_SHARE`` of each tick.

    Each is ``(1 - DRAW_SHARE) / DRAW_SHARE`` times what went by since the last chunk ended:
    wall time (drawing, waiting for the GIL and for the browser's next tick) and this thread's
    CPU time (drawing and Streamlit's own work, counted when the fragment reruns in the same
    thread, as it does while ticks keep coming). ``(budget_s, 0)`` when nothing is known, after
    a pause, or for a budget of 0.
    """
    end = trainer.last_chunk_end
    if budget_s <= 0 or end is None:
        return budget_s, 0.0
    factor = (1 - DRAW_SHARE) / DRAW_SHARE
    gap = time.perf_counter() - end[2]
    if not 0 <= gap <= MAX_GAP_S:
        return budget_s, 0.0
    cpu = time.thread_time() - end[1] if end[0] == threading.get_ident() else 0.0
    return max(budget_s, factor * gap), factor * max(cpu, 0.0)


def _run(
    trainer: Trainer,
    remaining: int,
    limit: int,
    budget_s: float,
    min_wall: float,
    min_cpu: float,
) -> int:
    done = 0
    max_wall = max(MAX_CHUNK_S, budget_s)
    cpu_start, wall_start = time.thread_time(), time.perf_counter()
    try:
        # Ask for every remaining epoch and stop pulling when the chunk is over: the
        # generator only runs its end-of-run code (restore the best weights) after the
        # last epoch, never after a chunk boundary.
        epochs = trainer.net.train_epochs(
            trainer.X_train, trainer.y_train, epochs=remaining, **train_kwargs(trainer)
        )
        try:
            for _ in epochs:
                done += 1
                if trainer.net.stopped_early or trainer.at_target:
                    continue
                if done >= limit:
                    break
                wall = time.perf_counter() - wall_start
                if wall >= max_wall or (
                    wall >= min_wall and time.thread_time() - cpu_start >= min_cpu
                ):
                    break
        finally:
            epochs.close()
    except nn.DivergenceError as exc:
        trainer.running = False
        trainer.status = DIVERGED
        trainer.message = divergence_message(exc, trainer)
        return done
    except ValueError as exc:
        trainer.running = False
        trainer.status = FAILED
        trainer.message = f"Training could not run: {exc}"
        return done
    if trainer.net.stopped_early:
        trainer.running = False
        trainer.status = EARLY_STOPPED
        trainer.message = early_stopping_message(trainer)
    elif trainer.at_target:
        _finish(trainer)
    else:
        trainer.status = RUNNING if trainer.running else PAUSED
        trainer.message = ""
    return done


def _finish(trainer: Trainer) -> None:
    trainer.running = False
    trainer.status = FINISHED
    trainer.message = (
        f"Finished: {trainer.epochs_trained} epochs trained. Raise Epochs to train further, "
        "or Reset to start again."
    )


def step(trainer: Trainer) -> int:
    """Train exactly one epoch (Step); returns 1, or 0 when the run is already complete."""
    trainer.running = False
    if trainer.at_target:
        trainer.message = (
            f"All {trainer.target_epochs} epochs are trained. Raise Epochs to step further."
        )
        return 0
    return run_chunk(trainer, budget_s=math.inf, max_epochs=1)


def start(trainer: Trainer) -> None:
    """Start or resume (the Start/Resume button)."""
    if trainer.at_target:
        trainer.message = (
            f"All {trainer.target_epochs} epochs are trained. Raise Epochs to train further, "
            "or Reset to start again."
        )
        return
    trainer.running = True
    trainer.status = RUNNING
    trainer.message = ""


def pause(trainer: Trainer) -> None:
    """Pause after the current chunk (the Pause button); finished epochs are kept."""
    trainer.running = False
    if trainer.status == RUNNING:
        trainer.status = PAUSED


def reset(trainer: Trainer) -> None:
    """Forget the training: a freshly initialised network with the same config and seed."""
    trainer.net = nn.Network.from_config(trainer.net.config)
    trainer.running = False
    trainer.status = READY
    trainer.message = ""
    trainer.tag = ""


def divergence_message(exc: nn.DivergenceError, trainer: Trainer) -> str:
    """A plain-words explanation of ``nn.DivergenceError`` with what to try next."""
    lr = trainer.settings["learning_rate"]
    return (
        f"Training diverged at epoch {exc.epoch}: the loss became infinite or not a number, "
        "because the weight updates grew bigger and bigger instead of settling down. The "
        f"weights from before that epoch were kept ({trainer.epochs_trained} epochs). "
        f"What to try: a smaller learning rate (now {lr:g}, e.g. {lr / 10:g}); "
        "standardized inputs (Data page); a sigmoid or softmax output instead of a linear one; "
        "or Adam, which scales its steps by itself."
    )


def early_stopping_message(trainer: Trainer) -> str:
    """A plain-words explanation of why early stopping ended the run."""
    history = trainer.net.history
    patience = int(trainer.settings.get("patience", 10))
    val = [r.val_loss for r in history if r.val_loss is not None]
    best = int(np.argmin(val)) + 1 if val else trainer.epochs_trained
    restored = (
        f" The weights of the best epoch ({best}) were restored."
        if trainer.settings.get("restore_best", True)
        else ""
    )
    return (
        f"Stopped early after epoch {trainer.epochs_trained}: the validation loss has not "
        f"improved for {patience} epochs, so more training would most likely only fit the "
        f"training rows more closely and generalise worse (overfitting).{restored} To go on "
        "anyway, raise Patience or turn early stopping off and press Resume."
    )


HISTORY_COLUMNS = [
    "epoch",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "learning_rate",
    "seconds",
]


def history_frame(history: list[nn.EpochRecord]) -> pd.DataFrame:
    """The training history as a table, one row per epoch."""
    return pd.DataFrame([r.as_dict() for r in history], columns=HISTORY_COLUMNS)


def history_csv(history: list[nn.EpochRecord]) -> str:
    """The training history as CSV text."""
    buffer = io.StringIO()
    history_frame(history).to_csv(buffer, index=False)
    return buffer.getvalue()


def check_settings(raw: dict, n_train: int, has_validation: bool) -> tuple[dict, list[str]]:
    """Training settings clamped to the demo's limits and the data; messages for changes."""
    from dashboard import limits

    messages: list[str | None] = []

    def _keep(value_and_message):
        value, message = value_and_message
        messages.append(message)
        return value

    s = {
        "optimizer": _keep(
            limits.check_choice("Optimizer", raw.get("optimizer"), OPTIMIZERS, "sgd")
        ),
        "learning_rate": _keep(
            limits.clamp_float(
                "Learning rate",
                raw.get("learning_rate"),
                limits.MIN_LEARNING_RATE,
                limits.MAX_LEARNING_RATE,
                0.15,
            )
        ),
        "batch_size": _keep(
            limits.clamp_int("Batch size", raw.get("batch_size"), 1, limits.MAX_BATCH_SIZE, 1)
        ),
        "epochs": _keep(limits.clamp_int("Epochs", raw.get("epochs"), 1, limits.MAX_EPOCHS, 100)),
        "l2": _keep(limits.clamp_float("L2", raw.get("l2"), 0.0, limits.MAX_L2, 0.0)),
        "shuffle": bool(raw.get("shuffle")),
        "momentum": _keep(
            limits.clamp_float("Momentum", raw.get("momentum", 0.9), 0.0, 0.999, 0.9)
        ),
        "early_stopping": bool(raw.get("early_stopping")),
        "patience": _keep(
            limits.clamp_int("Patience", raw.get("patience", 10), 1, limits.MAX_PATIENCE, 10)
        ),
        "restore_best": bool(raw.get("restore_best", True)),
        "pace": _keep(limits.check_choice("Pace", raw.get("pace", "watch"), PACES, "watch")),
    }
    if n_train > 0 and s["batch_size"] > n_train:
        messages.append(
            f"Batch size {s['batch_size']} is more than the {n_train} training rows; "
            f"using {n_train} (the whole training set per step)."
        )
        s["batch_size"] = n_train
    if s["early_stopping"] and not has_validation:
        messages.append(
            "Early stopping needs a validation set; set a validation share on the Data page."
        )
        s["early_stopping"] = False
    return s, [m for m in messages if m]
