"""Widgets of the Train page: settings, the Start/Pause/Step/Reset controls, progress."""

from __future__ import annotations

import threading
from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import nn
from dashboard import capacity, limits, state, training
from dashboard.widgets import bind, show_limit_messages

TICK_S = 0.1  # the fragment's timer; ticks that come while a chunk runs are merged into one
# A queued run's timer: it only asks for a slot (its heartbeat, well within
# limits.TRAINING_SLOT_TIMEOUT_S) and redraws its place in the queue.
QUEUED_TICK_S = 1.0
BUDGET_S = 0.2  # seconds of training per tick, then the chart is redrawn
# Widget value types, from the settings table (number inputs must get the right type).
SETTING_TYPES = {
    name: {"int": int, "float": float}[s.kind]
    for name, s in nn.config.TRAINING.items()
    if s.kind in ("int", "float")
}
# Settings drawn in the "More settings" expander, each by its kind, from the table.
MORE_SETTINGS = ("nesterov", "beta1", "beta2", "eps")
TRAINING_LOCK = state.TRAINING_LOCK
_CREATING = threading.Lock()  # only makes creating a session's lock atomic; holds no user data
PACE_LABELS = {"watch": "Watch it learn", "fastest": "Fastest"}
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "SGD with momentum", "adam": "Adam"}


def settings_ui(trainer: training.Trainer) -> dict:
    """Draw the training settings, check them on the server and store them."""
    current = state.train_settings()
    for name, value in current.items():
        kind = SETTING_TYPES.get(name)
        bind(f"train.{name}", kind(value) if kind else value)
    c1, c2, c3, c4, c5 = st.columns(5)
    raw = {
        "optimizer": c1.selectbox(
            "Optimizer",
            training.OPTIMIZERS,
            format_func=OPTIMIZER_LABELS.get,
            key="train.optimizer",
        ),
        "learning_rate": c2.number_input(
            "Learning rate",
            limits.MIN_LEARNING_RATE,
            limits.MAX_LEARNING_RATE,
            step=0.01,
            format="%g",
            key="train.learning_rate",
            help="Can be changed while training; it applies from the next chunk of epochs.",
        ),
        "batch_size": c3.number_input(
            "Batch size",
            1,
            limits.MAX_BATCH_SIZE,
            step=1,
            key="train.batch_size",
            help="1 = per-sample updates, as in the article.",
        ),
        "epochs": c4.number_input(
            "Epochs",
            1,
            limits.MAX_EPOCHS,
            step=10,
            key="train.epochs",
            help="Total epochs of the run; raise it to continue a finished run.",
        ),
        "l2": c5.number_input(
            "L2 penalty", 0.0, limits.MAX_L2, step=0.0001, format="%g", key="train.l2"
        ),
    }
    c1, c2, c3, c4, c5 = st.columns(5)
    raw["shuffle"] = c1.checkbox("Shuffle each epoch", key="train.shuffle")
    raw["momentum"] = c2.slider(
        "Momentum",
        *limits.TRAINING_RANGES["momentum"],
        step=0.01,
        key="train.momentum",
        disabled=raw["optimizer"] != "momentum",
    )
    has_val = trainer.has_validation
    raw["early_stopping"] = c3.checkbox(
        "Early stopping",
        key="train.early_stopping",
        disabled=not has_val,
        help="Stop when the validation loss has not improved for `patience` epochs."
        if has_val
        else "Needs a validation set (Data page).",
    )
    raw["patience"] = c4.number_input(
        "Patience",
        1,
        limits.MAX_PATIENCE,
        step=1,
        key="train.patience",
        disabled=not raw["early_stopping"],
    )
    raw["restore_best"] = c5.checkbox(
        "Restore best weights", key="train.restore_best", disabled=not raw["early_stopping"]
    )
    with st.expander("More settings (Nesterov, Adam's betas and epsilon)"):
        columns = st.columns(len(MORE_SETTINGS))
        for column, name in zip(columns, MORE_SETTINGS, strict=True):
            raw[name] = setting_widget(column, name)
    raw["pace"] = st.radio(
        "Pace",
        training.PACES,
        format_func=PACE_LABELS.get,
        horizontal=True,
        key="train.pace",
        help="Watch: a quick run is spread over a few seconds so you can see the curves grow. "
        "Fastest: as many epochs per redraw as fit in a fifth of a second.",
    )
    settings, messages = training.check_settings({**current, **raw}, len(trainer.y_train), has_val)
    show_limit_messages(messages)
    if settings != current:
        state.set_train_settings(settings)
    trainer.settings = dict(settings)
    return settings


def training_lock() -> threading.Lock:
    """This session's lock: held while a chunk trains and while a button changes the run.

    A click starts the next script run at once, in a new thread (Streamlit's fast reruns),
    while the previous run finishes its chunk of training before it notices that it has been
    stopped. Without the lock, Pause would return while that chunk still trains (the page
    would show a paused run whose epochs keep rising), and Step or Reset would change the
    network under a chunk that is training it. With it, a button waits for the chunk.
    """
    with _CREATING:
        lock = st.session_state.get(TRAINING_LOCK)
        if lock is None:
            lock = st.session_state[TRAINING_LOCK] = threading.Lock()
        return lock


def exclusive(change: Callable[..., None]) -> Callable[..., None]:
    """``change`` (a button's callback) run under the session's training lock."""

    def run(*args, **kwargs) -> None:
        with training_lock():
            change(*args, **kwargs)

    run.__doc__ = change.__doc__
    return run


def session_key() -> str:
    """This session's id: the key of its training slot ("" outside a script run)."""
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def tick_every(trainer: training.Trainer) -> float | None:
    """The training fragment's timer: fast while training, slow while queued, off when idle."""
    if not trainer.running:
        return None
    return QUEUED_TICK_S if trainer.status == training.QUEUED else TICK_S


def train_tick(trainer: training.Trainer) -> None:
    """One tick: a training slot (or the place in the queue), then a chunk of training, if the
    run is still on once the lock is held."""
    with training_lock():
        if trainer.running:  # a Pause may have come in while this tick waited for the lock
            trainer.slot_key = session_key() or trainer.slot_key
            training.tick(trainer, capacity.SLOTS, BUDGET_S, training.epochs_per_tick(trainer))


def setting_widget(container, name: str):
    """A widget for the training setting ``name``, drawn from its row of the settings table
    (label, help, kind) and the demo's range; its value."""
    setting = nn.config.TRAINING[name]
    key = f"train.{name}"
    if setting.kind == "bool":
        return container.checkbox(setting.label, key=key, help=setting.help)
    if setting.kind == "choice":
        return container.selectbox(setting.label, setting.choices, key=key, help=setting.help)
    lo, hi = limits.TRAINING_RANGES[name]
    return container.number_input(setting.label, lo, hi, format="%g", key=key, help=setting.help)


def live_tick(trainer: training.Trainer) -> None:
    """The end of a live fragment's tick (Train and Inside pages): train a chunk, and rerun the
    page when the run ended or got or lost a slot, so the timer matches (``tick_every``)."""
    if not trainer.running:
        return
    queued = trainer.status == training.QUEUED
    train_tick(trainer)
    if not trainer.running or queued != (trainer.status == training.QUEUED):
        st.rerun()


def release_idle_slot(trainer: training.Trainer) -> None:
    """Give back this session's slot or queue place when its trainer is not running (a trainer
    discarded while it ran, when the data or architecture changed, never releases its own)."""
    key = session_key()
    if key and not trainer.running:
        capacity.SLOTS.release(key)


@exclusive
def _start() -> None:
    t = state.ensure_trainer()
    training.start(t)
    if t.running:  # take a slot or join the queue now, so the page shows which at once
        t.slot_key = session_key() or t.slot_key
        training.admit(t, capacity.SLOTS)


@exclusive
def _pause() -> None:
    t = state.trainer()
    if t is not None:
        training.pause(t)


@exclusive
def _step() -> None:
    training.step(state.ensure_trainer())


@exclusive
def _reset() -> None:
    t = state.trainer()
    if t is not None:
        training.reset(t)


def controls_ui(trainer: training.Trainer) -> None:
    """Start/Resume, Pause, Step and Reset: callbacks outside the training fragment."""
    c1, c2, c3, c4 = st.columns(4)
    spent = trainer.at_target or trainer.out_of_compute
    c1.button(
        "Resume" if trainer.epochs_trained else "Start",
        key="train.start",
        on_click=_start,
        disabled=trainer.running or spent,
        type="primary",
        icon=":material/play_arrow:",
        width="stretch",
    )
    c2.button(
        "Pause",
        key="train.pause",
        on_click=_pause,
        disabled=not trainer.running,
        icon=":material/pause:",
        width="stretch",
    )
    c3.button(
        "Step",
        key="train.step",
        on_click=_step,
        disabled=trainer.running or spent,
        help="Train exactly one epoch.",
        icon=":material/skip_next:",
        width="stretch",
    )
    c4.button(
        "Reset",
        key="train.reset",
        on_click=_reset,
        disabled=trainer.epochs_trained == 0
        and not trainer.running
        and not state.manual_steps(trainer.net),
        help="Start over from freshly initialised weights (same seed).",
        icon=":material/restart_alt:",
        width="stretch",
    )


def status_ui(trainer: training.Trainer) -> None:
    """What happened to the run, in plain words."""
    if not trainer.message:
        return
    kind = {
        training.DIVERGED: st.error,
        training.FAILED: st.error,
        training.EARLY_STOPPED: st.warning,
        training.OUT_OF_COMPUTE: st.warning,
        training.FINISHED: st.success,
    }.get(trainer.status, st.info)
    kind(trainer.message)


def progress_ui(trainer: training.Trainer) -> None:
    """Epoch counter, progress bar and the latest numbers (drawn inside the fragment); a
    queued run's place in the queue."""
    if trainer.running and trainer.status == training.QUEUED and trainer.ticket is not None:
        st.info(training.queue_message(trainer.ticket), icon=":material/hourglass_top:")
    history = trainer.net.history
    last = history[-1] if history else None
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Epoch", f"{trainer.epochs_trained} / {trainer.target_epochs}")
    c2.metric("Training loss", f"{last.train_loss:.4f}" if last else "–")
    c3.metric("Training accuracy", f"{last.train_accuracy:.3f}" if last else "–")
    val = f"{last.val_accuracy:.3f}" if last and last.val_accuracy is not None else "–"
    c4.metric("Validation accuracy", val)
    share = min(trainer.epochs_trained / max(trainer.target_epochs, 1), 1.0)
    st.progress(
        share, text=f"{trainer.status}: epoch {trainer.epochs_trained} of {trainer.target_epochs}"
    )
