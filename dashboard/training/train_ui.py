"""Widgets of the Train page: settings, the Start/Pause/Step/Reset controls, progress."""

from __future__ import annotations

import threading
from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import nn
from dashboard import state
from dashboard.architecture import build
from dashboard.common import capacity, limits
from dashboard.common.page_ui import bind, show_limit_messages
from dashboard.store import store_ui
from dashboard.training import advice, loop, schedule_figure

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
# Where each training setting is drawn: two rows of five, then the "More settings" expander.
# Every widget comes from its row of the settings table (setting_widget); the page only adds
# its own words below.
SETTING_ROWS = (
    ("optimizer", "learning_rate", "batch_size", "epochs", "l2"),
    ("shuffle", "momentum", "early_stopping", "patience", "restore_best"),
)
MORE_SETTINGS = ("nesterov", "beta1", "beta2", "eps")
# The "Regularization and learning-rate schedule" expander: a row of regularization, then the
# schedule's rows and its curve (a parameter is disabled unless its schedule is chosen).
REGULARIZATION = ("l1", "dropout", "class_weight")
SCHEDULE_ROWS = (
    ("schedule", "warmup", "lr_step", "lr_drop"),
    ("lr_decay", "lr_min", "cosine_epochs"),
)
OPTIONS = (*REGULARIZATION, *(name for row in SCHEDULE_ROWS for name in row))
LABELS = {"shuffle": "Shuffle each epoch", "l2": "L2 penalty", "l1": "L1 penalty"}
CHOICE_LABELS = {
    "optimizer": {"sgd": "SGD", "momentum": "SGD with momentum", "adam": "Adam"},
    "schedule": {
        "constant": "Constant",
        "step": "Step decay",
        "exponential": "Exponential decay",
        "cosine": "Cosine annealing",
    },
}
NOTES = {
    "learning_rate": "Can be changed while training; it applies from the next chunk of epochs.",
    "epochs": "The run's total; raise it to continue a finished run.",
    "dropout": "Training only: predictions always use every unit.",
}
PLACEHOLDERS = {"dropout": "0.2 or 0.2,0.1", "class_weight": "none, balanced or 1,3,1"}
NUMBERS_ONLY_FOR_CLASSES = "Class weights apply to classes; this network predicts a number."
STEPS = {
    "learning_rate": 0.01,
    "epochs": 10,
    "l2": 0.0001,
    "l1": 0.0001,
    "momentum": 0.01,
    "lr_drop": 0.05,
    "lr_decay": 0.01,
    "lr_min": 0.01,
}
SLIDERS = {"momentum"}  # drawn as a slider over the demo's range instead of a number box
NO_VALIDATION = "Needs a validation set (Data page)."
TRAINING_LOCK = state.TRAINING_LOCK
_CREATING = threading.Lock()  # only makes creating a session's lock atomic; holds no user data
PACE_LABELS = {"watch": "Watch it learn", "fastest": "Fastest"}


def settings_ui(trainer: loop.Trainer) -> dict:
    """Draw the training settings, check them on the server and store them."""
    current = state.train_settings()
    for name, value in current.items():
        kind = SETTING_TYPES.get(name)
        bind(f"train.{name}", kind(value) if kind else value)
    has_val = trainer.has_validation
    raw: dict = {}
    for row in SETTING_ROWS:
        for column, name in zip(st.columns(len(row)), row, strict=True):
            off = not nn.config.applies(name, {**current, **raw})
            if name == "early_stopping" and not has_val:
                raw[name] = setting_widget(column, name, note=NO_VALIDATION, disabled=True)
            else:
                raw[name] = setting_widget(column, name, disabled=off)
    with st.expander("More settings (Nesterov, Adam's betas and epsilon)"):
        columns = st.columns(len(MORE_SETTINGS))
        for column, name in zip(columns, MORE_SETTINGS, strict=True):
            raw[name] = setting_widget(column, name)
    options_ui(trainer, current, raw)
    raw["pace"] = st.radio(
        "Pace",
        loop.PACES,
        format_func=PACE_LABELS.get,
        horizontal=True,
        key="train.pace",
        help="Watch: a quick run is spread over a few seconds so you can see the curves grow. "
        "Fastest: as many epochs per redraw as fit in a fifth of a second.",
    )
    settings, messages = loop.check_settings(
        {**current, **raw}, len(trainer.y_train), has_val, trainer.net
    )
    show_limit_messages(messages)
    if settings != current:
        state.set_train_settings(settings)
    trainer.settings = dict(settings)
    return settings


def options_ui(trainer: loop.Trainer, current: dict, raw: dict) -> None:
    """The "Regularization and learning-rate schedule" expander: L1, dropout and class
    weights, then the schedule with its parameters and its curve over the run's epochs. Open
    when any of them is away from its default. Fills ``raw`` with the widgets' values."""
    active = any(
        current.get(n, loop.DEFAULT_SETTINGS[n]) != loop.DEFAULT_SETTINGS[n] for n in OPTIONS
    )
    regression = trainer.net.task == nn.task.REGRESSION
    with st.expander("Regularization and learning-rate schedule", expanded=active):
        for column, name in zip(st.columns(len(REGULARIZATION)), REGULARIZATION, strict=True):
            if name == "class_weight" and regression:
                st.session_state[f"train.{name}"] = nn.config.NO_WEIGHTS  # no classes to weigh
                raw[name] = setting_widget(
                    column, name, note=NUMBERS_ONLY_FOR_CLASSES, disabled=True
                )
            else:
                raw[name] = setting_widget(column, name)
        for row in SCHEDULE_ROWS:
            for column, name in zip(st.columns(len(SCHEDULE_ROWS[0])), row, strict=False):
                off = not nn.config.applies(name, {**current, **raw})
                raw[name] = setting_widget(column, name, disabled=off)
        chosen = {**current, **raw}
        epochs = int(chosen.get("epochs") or trainer.target_epochs)
        figure = schedule_figure.schedule_figure(chosen, epochs, trainer.epochs_trained)
        st.plotly_chart(figure, key="train.schedule_chart")


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


def tick_every(trainer: loop.Trainer) -> float | None:
    """The training fragment's timer: fast while training, slow while queued, off when idle."""
    if not trainer.running:
        return None
    return QUEUED_TICK_S if trainer.status == loop.QUEUED else TICK_S


def train_tick(trainer: loop.Trainer) -> None:
    """One tick: a training slot (or the place in the queue), then a chunk of training, if the
    run is still on once the lock is held."""
    with training_lock():
        if trainer.running:  # a Pause may have come in while this tick waited for the lock
            trainer.slot_key = session_key() or trainer.slot_key
            loop.tick(trainer, capacity.SLOTS, BUDGET_S, loop.epochs_per_tick(trainer))


def setting_widget(container, name: str, note: str = "", disabled: bool = False):
    """A widget for the training setting ``name``, drawn from its row of the settings table
    (label, help, kind), the demo's range and the page's notes; its value."""
    setting = nn.config.TRAINING[name]
    key = f"train.{name}"
    text = note or " ".join(p for p in (setting.help, NOTES.get(name, "")) if p)
    options = {"key": key, "help": text, "disabled": disabled}
    if setting.kind == "bool":
        return container.checkbox(LABELS.get(name, setting.label), **options)
    if setting.kind == "choice":
        labels = CHOICE_LABELS.get(name, {})
        return container.selectbox(
            setting.label, setting.choices, format_func=lambda c: labels.get(c, c), **options
        )
    if setting.is_text:
        label = LABELS.get(name, setting.label)
        return container.text_input(label, placeholder=PLACEHOLDERS.get(name), **options)
    lo, hi = limits.TRAINING_RANGES[name]
    step = STEPS.get(name, 1 if setting.kind == "int" else None)
    label = LABELS.get(name, setting.label)
    if name in SLIDERS:
        return container.slider(label, lo, hi, step=step, **options)
    number_format = None if setting.kind == "int" else "%g"
    return container.number_input(label, lo, hi, step=step, format=number_format, **options)


def live_tick(trainer: loop.Trainer) -> None:
    """The end of a live fragment's tick (Train and Inside pages): train a chunk, and rerun the
    page when the run ended or got or lost a slot, so the timer matches (``tick_every``)."""
    if not trainer.running:
        return
    queued = trainer.status == loop.QUEUED
    train_tick(trainer)
    store_ui.save()  # the network as it is after this chunk (at most every few seconds)
    if not trainer.running or queued != (trainer.status == loop.QUEUED):
        st.rerun()


def release_idle_slot(trainer: loop.Trainer) -> None:
    """Give back this session's slot or queue place when its trainer is not running (a trainer
    discarded while it ran, when the data or architecture changed, never releases its own)."""
    key = session_key()
    if key and not trainer.running:
        capacity.SLOTS.release(key)


@exclusive
def _start() -> None:
    t = state.ensure_trainer()
    loop.start(t)
    if t.running:  # take a slot or join the queue now, so the page shows which at once
        t.slot_key = session_key() or t.slot_key
        loop.admit(t, capacity.SLOTS)


@exclusive
def _pause() -> None:
    t = state.trainer()
    if t is not None:
        loop.pause(t)


@exclusive
def _step() -> None:
    loop.step(state.ensure_trainer())


@exclusive
def _reset() -> None:
    t = state.trainer()
    if t is not None:
        loop.reset(t)


def controls_ui(trainer: loop.Trainer) -> None:
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


def status_ui(trainer: loop.Trainer) -> None:
    """What happened to the run, in plain words, and what to do when it went nowhere."""
    nowhere_ui(trainer)
    message = loop.status_text(trainer)
    if not message:
        return
    if trainer.status == loop.FINISHED and not trainer.at_target:
        st.info(message)
        return
    kind = {
        loop.DIVERGED: st.error,
        loop.FAILED: st.error,
        loop.EARLY_STOPPED: st.warning,
        loop.OUT_OF_COMPUTE: st.warning,
        loop.FINISHED: st.success,
    }.get(trainer.status, st.info)
    kind(message)


@exclusive
def _apply_fix(fix: str) -> None:
    """The one-click fix of a run that went nowhere (see ``advice.went_nowhere``)."""
    if fix == advice.STANDARDIZE:
        state.set_split_settings({**state.split_settings(), "standardize": True})
        state.forget_widgets("data.split.")
        state.flash("The inputs are standardized now: press Start to train a fresh network.")
    elif fix == advice.LOWER_RATE:
        rate = state.train_settings()["learning_rate"]
        lowest = limits.TRAINING_RANGES["learning_rate"][0]
        new = max(lowest, float(f"{rate / 10:.3g}"))
        state.set_train_settings({**state.train_settings(), "learning_rate": new})
        state.forget_widgets("train.learning_rate")
        t = state.trainer()
        if t is not None:
            loop.reset(t)
        state.flash(f"Learning rate lowered to {new:g} and the network reset: press Start.")
    elif fix == advice.MODERN:
        modern = nn.presets.for_task(nn.presets.MODERN, state.task())
        state.set_arch(build.arch_from_config(modern["network"]), "the modern preset was applied.")
        state.set_train_settings({**state.train_settings(), **modern["training"]})
        state.forget_widgets(*state.SETTING_WIDGETS)
        state.flash("The modern preset is applied: press Start to train it.")
    elif fix == advice.LINEAR_OUTPUT:
        state.set_arch({**state.arch(), "output_activation": "linear"}, "its output changed.")
        state.forget_widgets("arch.w.")
        state.flash("The output is linear now: press Start to train a fresh network.")


def nowhere_ui(trainer: loop.Trainer) -> None:
    """One sentence when a stopped or paused run learned nothing, with its one-click fix."""
    found = advice.went_nowhere(trainer)
    if found is None:
        return
    with st.container(border=True):
        st.warning(found.sentence, icon=":material/trending_flat:")
        if found.fix is not None:
            st.button(
                advice.FIX_LABELS[found.fix],
                key="train.fix",
                on_click=_apply_fix,
                args=(found.fix,),
                type="primary",
            )


METRIC_LABELS = {"accuracy": "accuracy", "r2": "R²"}
METRIC_HELP = {
    "accuracy": "The share of rows whose class the network gets right.",
    "r2": "R², the share of the target's variation the network explains: 1 is a perfect fit, "
    "0 is no better than always guessing the mean, below 0 is worse than that.",
}


def _figure(record, attr: str) -> str:
    """A record's figure for a metric tile ("–" when there is none yet)."""
    value = getattr(record, attr, None) if record is not None else None
    return "–" if value is None else f"{value:.3f}"


def progress_ui(trainer: loop.Trainer) -> None:
    """Epoch counter, progress bar and the latest numbers (drawn inside the fragment); a
    queued run's place in the queue."""
    if trainer.running and trainer.status == loop.QUEUED and trainer.ticket is not None:
        st.info(loop.queue_message(trainer.ticket), icon=":material/hourglass_top:")
    history = trainer.net.history
    last = history[-1] if history else None
    metric = nn.task.get(trainer.net.task).metric
    name = METRIC_LABELS[metric]
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Epoch", f"{trainer.epochs_trained} / {trainer.target_epochs}")
    c2.metric("Training loss", f"{last.train_loss:.4f}" if last else "–")
    c3.metric(f"Training {name}", _figure(last, f"train_{metric}"), help=METRIC_HELP[metric])
    c4.metric(f"Validation {name}", _figure(last, f"val_{metric}"), help=METRIC_HELP[metric])
    share = min(trainer.epochs_trained / max(trainer.target_epochs, 1), 1.0)
    st.progress(
        share, text=f"{trainer.status}: epoch {trainer.epochs_trained} of {trainer.target_epochs}"
    )
