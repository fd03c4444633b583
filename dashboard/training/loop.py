"""The app's live training loop: a trainer kept in session state, advanced in time-boxed chunks.

No Streamlit here: the Train page calls ``tick`` (a slot from ``dashboard.common.capacity``, then
``run_chunk``) from a ``run_every`` fragment, and ``benchmarks/bench_app_loop.py`` calls
``run_chunk`` directly to measure the loop's overhead.

Two server-wide bounds from ``dashboard.common.limits`` apply here: a run trains only while it holds
one of the server's training slots (otherwise it is ``QUEUED`` and waits its turn), and a run
stops for good once it has used ``MAX_RUN_CPU_S`` of CPU time (``OUT_OF_COMPUTE``, weights
kept). Step trains one epoch without a slot: it is one epoch per click, at most a few seconds
of CPU, and it counts towards the run's compute budget like any other epoch.
"""

from __future__ import annotations

import io
import math
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

import nn
from dashboard.common import capacity, limits


class Status(StrEnum):
    """Where a run stands: the one source of truth (``Trainer.running`` is read off it)."""

    READY = "ready"  # nothing trained yet
    RUNNING = "running"  # on: trains a chunk at every tick
    QUEUED = "queued"  # on, waiting for one of the server's training slots
    PAUSED = "paused"
    FINISHED = "finished"
    EARLY_STOPPED = "stopped early"
    DIVERGED = "diverged"
    FAILED = "failed"
    OUT_OF_COMPUTE = "out of compute"  # stopped at the run's compute budget (MAX_RUN_CPU_S)


READY, RUNNING, QUEUED, PAUSED = Status.READY, Status.RUNNING, Status.QUEUED, Status.PAUSED
FINISHED, EARLY_STOPPED, DIVERGED = Status.FINISHED, Status.EARLY_STOPPED, Status.DIVERGED
FAILED, OUT_OF_COMPUTE = Status.FAILED, Status.OUT_OF_COMPUTE
ON = (RUNNING, QUEUED)
OPTIMIZERS = nn.config.TRAINING["optimizer"].choices
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
# Every setting of nn.config.TRAINING (the article's where it sets one), and the app's pace.
DEFAULT_SETTINGS = {
    **nn.config.training_defaults(),
    **nn.presets.ARTICLE["training"],
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
    status: Status = READY
    message: str = ""
    tag: str = ""  # "article" for the run started by "Reproduce the article"
    data_version: int = 0
    # (thread id, its CPU time, wall time) when the last chunk ended: see chunk_floor
    last_chunk_end: tuple[int, float, float] | None = field(default=None, repr=False, compare=False)
    cpu_s: float = 0.0  # CPU seconds this run has trained (its thread's, chunk by chunk)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex, repr=False, compare=False)
    # Who asks for a training slot: the session's id (one slot per session), else ``run_id``.
    slot_key: str = field(default="", repr=False, compare=False)
    # The registry holding this run's slot or queue place, and its last answer while queued.
    slots: capacity.Slots | None = field(default=None, repr=False, compare=False)
    ticket: capacity.Ticket | None = field(default=None, repr=False, compare=False)

    @property
    def running(self) -> bool:
        """True while the run is on (training, or queued for a slot): Start until Pause or the
        run's end."""
        return self.status in ON

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

    @property
    def out_of_compute(self) -> bool:
        """True when the run has used its compute budget (``limits.MAX_RUN_CPU_S``)."""
        return self.cpu_s >= limits.MAX_RUN_CPU_S


def train_kwargs(trainer: Trainer) -> dict:
    """Keyword arguments for ``nn.Network.train_epochs`` from the trainer's settings.

    A cosine schedule over "the run's epochs" (``cosine_epochs`` 0) gets the Epochs setting
    written out, so that a recipe of the run paused part-way follows the same curve; a
    regression network trains without class weights (they are a classification setting).
    """
    s = {**DEFAULT_SETTINGS, **trainer.settings}
    kwargs = {name: s[name] for name in nn.config.TRAINING if name != "epochs"}
    if kwargs["schedule"] == "cosine" and not kwargs["cosine_epochs"]:
        kwargs["cosine_epochs"] = trainer.target_epochs
    if trainer.net.task == nn.task.REGRESSION:
        kwargs["class_weight"] = nn.config.NO_WEIGHTS
    kwargs["seed"] = int(trainer.net.config["seed"])
    kwargs["early_stopping"] = bool(s["early_stopping"]) and trainer.has_validation
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
    epoch. Returns the number of epochs trained. Updates ``trainer.status`` and
    ``message`` when the run finishes, stops early or diverges. The learning rate and the
    other settings are read afresh for every chunk; the optimizer state carries over as long
    as the optimizer stays the same.
    """
    remaining = trainer.target_epochs - trainer.epochs_trained
    if remaining <= 0:
        _finish(trainer)
        return 0
    if trainer.out_of_compute:
        _stop(trainer, OUT_OF_COMPUTE, out_of_compute_message(trainer))
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
    cpu_left = limits.MAX_RUN_CPU_S - trainer.cpu_s
    spent = False
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
                cpu = time.thread_time() - cpu_start
                if cpu >= cpu_left:
                    spent = True
                    break
                if done >= limit:
                    break
                wall = time.perf_counter() - wall_start
                if wall >= max_wall or (wall >= min_wall and cpu >= min_cpu):
                    break
        finally:
            epochs.close()
            trainer.cpu_s += time.thread_time() - cpu_start
    except nn.DivergenceError as exc:
        _stop(trainer, DIVERGED, divergence_message(exc, trainer))
        return done
    except ValueError as exc:
        _stop(trainer, FAILED, f"Training could not run: {exc}")
        return done
    if trainer.net.stopped_early:
        _stop(trainer, EARLY_STOPPED, early_stopping_message(trainer))
    elif trainer.at_target:
        _finish(trainer)
    elif spent:
        _stop(trainer, OUT_OF_COMPUTE, out_of_compute_message(trainer))
    else:
        trainer.status = RUNNING if trainer.running else PAUSED
        trainer.message = ""
    return done


def _finish(trainer: Trainer) -> None:
    _stop(
        trainer,
        FINISHED,
        f"Finished: {trainer.epochs_trained} epochs trained. Raise Epochs to train further, "
        "or Reset to start again.",
    )


def status_text(trainer: Trainer) -> str:
    """What the page says about the run now: its last message, unless the Epochs setting has
    since moved past a finished run (then how to train the rest)."""
    if trainer.status == FINISHED and not trainer.at_target:
        rest = trainer.target_epochs - trainer.epochs_trained
        return (
            f"{trainer.epochs_trained} epochs trained; Epochs is now {trainer.target_epochs}: "
            f"press Resume to train the other {rest}."
        )
    return trainer.message


def loaded_status(trainer: Trainer) -> Status:
    """Where an uploaded model's run stands: finished when it has trained the epochs set (or
    stopped early), paused part-way, ready when untrained."""
    if trainer.epochs_trained == 0:
        return READY
    if trainer.net.stopped_early:
        return EARLY_STOPPED
    return FINISHED if trainer.at_target else PAUSED


def _stop(trainer: Trainer, status: str, message: str) -> None:
    """End the run's training (for now): its slot goes to the next run in the queue."""
    trainer.status = status
    trainer.message = message
    release(trainer)


def step(trainer: Trainer) -> int:
    """Train exactly one epoch (Step); returns 1, or 0 when the run is already complete.

    Step needs no training slot (see the module's docstring); it does count towards the run's
    compute budget.
    """
    if trainer.running:
        trainer.status = PAUSED if trainer.epochs_trained else READY
    release(trainer)
    if trainer.at_target:
        trainer.message = (
            f"All {trainer.target_epochs} epochs are trained. Raise Epochs to step further."
        )
        return 0
    return run_chunk(trainer, budget_s=math.inf, max_epochs=1)


def start(trainer: Trainer) -> None:
    """Start or resume (the Start/Resume button); the run trains once it holds a slot."""
    if trainer.at_target:
        trainer.message = (
            f"All {trainer.target_epochs} epochs are trained. Raise Epochs to train further, "
            "or Reset to start again."
        )
        return
    if trainer.out_of_compute:
        trainer.status = OUT_OF_COMPUTE
        trainer.message = out_of_compute_message(trainer)
        return
    trainer.status = RUNNING
    trainer.message = ""


def pause(trainer: Trainer) -> None:
    """Pause after the current chunk (the Pause button); finished epochs are kept. A queued
    run gives up its place in the queue."""
    if trainer.status == RUNNING:
        trainer.status = PAUSED
    elif trainer.status == QUEUED:
        trainer.status = PAUSED if trainer.epochs_trained else READY
    release(trainer)


def reset(trainer: Trainer) -> None:
    """Forget the training: a freshly initialised network with the same config and seed, and
    the same preprocessing and names (the rows it trains on were prepared with them)."""
    release(trainer)
    old = trainer.net
    trainer.net = nn.Network.from_config(old.config)
    trainer.net.preprocessor = old.preprocessor
    trainer.net.metadata = dict(old.metadata)
    trainer.status = READY
    trainer.message = ""
    trainer.tag = ""
    trainer.cpu_s = 0.0


# ---- the server's training slots (dashboard.common.capacity) ----


def tick(
    trainer: Trainer,
    slots: capacity.Slots,
    budget_s: float = 0.2,
    max_epochs: int | None = None,
) -> int:
    """One tick of a live run: hold a training slot (or wait in the queue), then train a
    chunk (``run_chunk``). Returns the number of epochs trained (0 while queued)."""
    if not admit(trainer, slots):
        return 0
    return run_chunk(trainer, budget_s, max_epochs)


def admit(trainer: Trainer, slots: capacity.Slots) -> bool:
    """Keep or take a training slot for a run that is on, or keep its place in the queue.

    True when the run may train now. A queued run has status ``QUEUED`` and its place in
    ``trainer.ticket``; it turns ``RUNNING`` again at the tick that gets it a slot.
    """
    if not trainer.running:
        release(trainer)
        return False
    key = trainer.slot_key or trainer.run_id
    ticket = slots.acquire(key, trainer.run_id, _reclaimer(trainer))
    trainer.slots = slots
    if not trainer.running:  # paused meanwhile (Pause released before this acquire)
        slots.release(key, trainer.run_id)
        return False
    if ticket.granted:
        trainer.ticket = None
        if trainer.status == QUEUED:
            trainer.status = RUNNING
        return True
    trainer.ticket = ticket
    if trainer.status != QUEUED:
        trainer.status = QUEUED
        trainer.net.release_workspaces()
    return False


def release(trainer: Trainer) -> None:
    """Give the run's slot or queue place back, and let its network drop its work arrays."""
    if trainer.slots is not None:
        trainer.slots.release(trainer.slot_key or trainer.run_id, trainer.run_id)
        trainer.slots = None
    trainer.ticket = None
    # The work arrays are ~20-100 MB per network at the largest settings against ~1-2 MB of
    # weights: a run that is not training, and a closed tab that Streamlit keeps for a while
    # (benchmarks/LOAD.md), need not hold them. They are made again on the next use.
    trainer.net.release_workspaces()


def _reclaimer(trainer: Trainer):
    """What the registry calls if this run's slot goes stale (its tab stopped ticking): free
    the work arrays. Holds the trainer weakly, so the registry never keeps a session alive."""
    ref = weakref.ref(trainer)

    def reclaimed() -> None:
        t = ref()
        if t is not None:
            t.net.release_workspaces()

    return reclaimed


def queue_message(ticket: capacity.Ticket) -> str:
    """What a queued run shows: how many runs are ahead and when it starts."""
    ahead = ticket.training + ticket.ahead
    runs = f"{ahead} run{'' if ahead == 1 else 's'} ahead"
    if ticket.ahead:
        runs += f" ({ticket.training} training, {ticket.ahead} waiting before this one)"
        when = "its turn comes"
    else:
        when = "one finishes"
    return (
        f"Queued: {runs}; it starts when {when}. This server trains "
        f"{ticket.slots} run{'' if ticket.slots == 1 else 's'} at a time; the run starts by "
        "itself, keep this tab open. Pause gives up the place in the queue."
    )


def out_of_compute_message(trainer: Trainer) -> str:
    """Why a run stopped at its compute budget, and what is kept."""
    return (
        f"Stopped: this run used its {limits.duration_text(limits.MAX_RUN_CPU_S)} of compute "
        f"(the limit per run in this demo, so that every visitor gets a turn). The weights of "
        f"its {trainer.epochs_trained} epochs are kept: predict with them or download the "
        "model on the Predict page, or Reset to start a new run."
    )


def divergence_message(exc: nn.DivergenceError, trainer: Trainer) -> str:
    """A plain-words explanation of ``nn.DivergenceError`` with what to try next."""
    lr = trainer.settings["learning_rate"]
    output = DIVERGENCE_OUTPUT.get(trainer.net.task, DIVERGENCE_OUTPUT[nn.task.CLASSIFICATION])
    return (
        f"Training diverged at epoch {exc.epoch}: the loss became infinite or not a number, "
        "because the weight updates grew bigger and bigger instead of settling down. The "
        f"weights from before that epoch were kept ({trainer.epochs_trained} epochs). "
        f"What to try: a smaller learning rate (now {lr:g}, e.g. {lr / 10:g}); "
        f"standardized inputs (Data page); {output}; "
        "or Adam, which scales its steps by itself."
    )


# The divergence message's advice on the output layer, per task.
DIVERGENCE_OUTPUT = {
    nn.task.CLASSIFICATION: "a sigmoid or softmax output instead of a linear one",
    nn.task.REGRESSION: "the Huber loss, which large misses pull less than squared error",
}


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


def history_columns(task: str = nn.task.CLASSIFICATION) -> list[str]:
    """The columns of a history table: the loss and the task's figure (``nn.task``'s metric:
    accuracy, or r2 for regression), training and validation."""
    metric = nn.task.get(task).metric
    return [
        "epoch",
        "train_loss",
        f"train_{metric}",
        "val_loss",
        f"val_{metric}",
        "learning_rate",
        "seconds",
    ]


HISTORY_COLUMNS = history_columns()  # a classification run's


def history_task(history: list[nn.EpochRecord]) -> str:
    """The task a history was trained for, read off its records (regression records carry R²)."""
    if any(r.train_r2 is not None for r in history):
        return nn.task.REGRESSION
    return nn.task.CLASSIFICATION


def history_frame(history: list[nn.EpochRecord], task: str | None = None) -> pd.DataFrame:
    """The training history as a table, one row per epoch (``task`` None: read off the
    records)."""
    columns = history_columns(task or history_task(history))
    return pd.DataFrame([r.as_dict() for r in history], columns=columns)


def history_csv(history: list[nn.EpochRecord], task: str | None = None) -> str:
    """The training history as CSV text."""
    buffer = io.StringIO()
    history_frame(history, task).to_csv(buffer, index=False)
    return buffer.getvalue()


def check_settings(
    raw: dict, n_train: int, has_validation: bool, net: nn.Network | None = None
) -> tuple[dict, list[str]]:
    """Training settings clamped to the demo's limits and the data; messages for changes.

    Every setting of ``nn.config.TRAINING`` (its default where ``raw`` lacks it), in the
    narrower ranges of ``limits.TRAINING_RANGES``, and the app's pace. A dropout rate list or
    class weights (text settings) that the table refuses fall back to the default. With the
    ``net`` to train, they are checked against it too: one dropout rate per hidden layer, one
    weight per class, and no class weights for a network that predicts a number.
    """
    messages: list[str | None] = []
    s = {}
    for name, setting in nn.config.TRAINING.items():
        value = raw.get(name, DEFAULT_SETTINGS[name])
        if setting.kind == "bool":
            s[name] = bool(value)
            continue
        if setting.is_text:
            checked = _check_text(setting, value, DEFAULT_SETTINGS[name])
        elif setting.kind == "choice":
            checked = limits.check_choice(
                setting.label, value, setting.choices, DEFAULT_SETTINGS[name]
            )
        else:
            lo, hi = limits.TRAINING_RANGES[name]
            clamp = limits.clamp_int if setting.kind == "int" else limits.clamp_float
            checked = clamp(setting.label, value, lo, hi, DEFAULT_SETTINGS[name])
        s[name], message = checked
        messages.append(message)
    s["pace"], message = limits.check_choice("Pace", raw.get("pace", "watch"), PACES, "watch")
    messages.append(message)
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
    if net is not None:
        messages += _fit_to_network(s, net)
    return s, [m for m in messages if m]


def _check_text(setting: nn.config.Setting, value, default: str) -> tuple[str, str | None]:
    """A text setting (dropout rates, class weights) checked by its row of the table."""
    try:
        return setting.check(value), None
    except ValueError:
        message = f"{setting.label}: {value!r} is not {setting.range_text()}; using {default}."
        return default, message


def _fit_to_network(s: dict, net: nn.Network) -> list[str]:
    """Fit the dropout rates and class weights of ``s`` to ``net`` (in place); messages."""
    messages = []
    n_hidden = len(net.config["layers"]) - 2
    try:
        nn.config.dropout_rates(s["dropout"], n_hidden)
    except ValueError as exc:
        messages.append(f"Dropout: {exc}; using no dropout.")
        s["dropout"] = DEFAULT_SETTINGS["dropout"]
    weights = nn.config.class_weight(s["class_weight"])
    if net.task == nn.task.REGRESSION and weights != nn.config.NO_WEIGHTS:
        messages.append("Class weights apply to classes, and this network predicts a number; none.")
        s["class_weight"] = nn.config.NO_WEIGHTS
    n_classes = max(net.n_outputs, 2)
    if isinstance(weights, list) and len(weights) != n_classes:
        messages.append(
            f"Class weights: {len(weights)} weights for {n_classes} classes (one per class, in "
            "the order of the classes); using none."
        )
        s["class_weight"] = nn.config.NO_WEIGHTS
    return messages
