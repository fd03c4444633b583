"""Widgets of the Architecture page: presets, hidden layers, output and loss, init, seed.

The widgets edit a draft. A draft is applied at once while there is no trained network; with one,
the page asks before discarding it.
"""

from __future__ import annotations

import streamlit as st

import nn
from dashboard import state
from dashboard.architecture import build
from dashboard.common import limits
from dashboard.common.page_ui import bind
from dashboard.common.text import md_escape
from dashboard.data import datasets

DRAFT = state.ARCH_DRAFT
BASE = state.ARCH_DRAFT_BASE
PENDING = state.ARCH_PENDING_TRAINING
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
OUTPUT_ACTIVATIONS = build.outputs(build.CLASSIFICATION)  # a regression network's: build.outputs
LOSSES = build.losses(build.CLASSIFICATION)
LOSS_HELP = {
    build.CLASSIFICATION: "Squared error: the article's loss. Cross-entropy: softmax's partner, "
    "it pushes hardest on confident mistakes.",
    build.REGRESSION: "Squared error: the mean of the squared misses. Huber: squared for small "
    "misses and linear for large ones, so a few outliers pull the fit less.",
}
OUTPUT_HELP = {
    build.CLASSIFICATION: "Sigmoid: one 0-1 score per class. Softmax: probabilities that sum "
    "to one. Linear: unbounded scores.",
    build.REGRESSION: "Linear: the number itself, any size (the usual choice). Sigmoid: squeezed "
    "between 0 and 1.",
}
INITS = ("uniform", "xavier", "he")
INIT_LABELS = {"uniform": "U[-1, 1]", "xavier": "Xavier", "he": "He"}
PRESET_LABELS = {"article": "The article's network", "modern": "A modern network"}
MAX_LAYERS_NOTE = f"{limits.MAX_HIDDEN_LAYERS} hidden layers is this demo's maximum."
PRESET_NOTE = " (a preset: its training settings apply with it)"


def draft() -> dict:
    """The architecture being edited; starts over whenever the applied one changes."""
    ss = st.session_state
    if DRAFT not in ss or ss.get(BASE) != state.arch():
        ss[DRAFT], ss[BASE] = _copy(state.arch()), _copy(state.arch())
        state.forget_widgets("arch.w.")
    return ss[DRAFT]


def _copy(arch: dict) -> dict:
    return {**arch, "hidden": list(arch["hidden"]), "activations": list(arch["activations"])}


def _set_draft(arch: dict) -> None:
    st.session_state[DRAFT] = _copy(arch)
    state.forget_widgets("arch.w.")
    _apply_if_free()


def _from_widgets() -> dict:
    """The draft as the widgets currently show it."""
    d, ss = draft(), st.session_state
    n = len(d["hidden"])
    return {
        "hidden": [int(ss.get(f"arch.w.nodes.{i}", d["hidden"][i])) for i in range(n)],
        "activations": [ss.get(f"arch.w.act.{i}", d["activations"][i]) for i in range(n)],
        "output_activation": ss.get("arch.w.output", d["output_activation"]),
        "loss": ss.get("arch.w.loss", d["loss"]),
        "init": ss.get("arch.w.init", d["init"]),
        "seed": int(ss.get("arch.w.seed", d["seed"])),
    }


def _apply_if_free() -> None:
    """Apply the draft when it is valid and no trained network would be lost."""
    d = draft()
    if d != state.arch() and not problems(d) and not state.is_trained():
        _apply(d)


def _apply(arch: dict) -> None:
    """Apply ``arch``, and the training settings of a preset chosen with it: one change."""
    state.set_arch(arch)
    pending = st.session_state.pop(PENDING, None)
    if pending is None:
        return
    name, training = pending
    state.set_train_settings({**state.train_settings(), **training})
    state.forget_widgets("train.")
    state.flash(
        f"{PRESET_LABELS[name]}: training set to {training['optimizer']}, learning rate "
        f"{training['learning_rate']:g}, batch size {training['batch_size']}, "
        f"{training['epochs']} epochs.",
        "info",
    )


def _on_change() -> None:
    st.session_state[DRAFT] = _from_widgets()
    _apply_if_free()


def _add_layer() -> None:
    d = _from_widgets()
    if len(d["hidden"]) >= limits.MAX_HIDDEN_LAYERS:
        state.flash(f"This demo allows up to {limits.MAX_HIDDEN_LAYERS} hidden layers.", "warning")
        return
    d["hidden"].append(d["hidden"][-1] if d["hidden"] else 8)
    d["activations"].append(d["activations"][-1] if d["activations"] else "relu")
    _set_draft(d)


def _remove_layer() -> None:
    d = _from_widgets()
    if d["hidden"]:
        d["hidden"].pop()
        d["activations"].pop()
    _set_draft(d)


def _apply_preset(name: str) -> None:
    """A preset's network and training settings, as one change: applied together at once, or
    together after the trained network is discarded (confirm_ui)."""
    preset = nn.presets.for_task(nn.presets.PRESETS[name], state.task())
    st.session_state[PENDING] = (name, dict(preset["training"]))
    _set_draft(build.arch_from_config(preset["network"]))
    if PENDING in st.session_state and state.arch() == draft():  # same network: only training
        _apply(draft())
    standardize = preset["split"]["standardize"]
    if standardize and not state.split_settings()["standardize"]:
        state.flash(
            "This preset is meant for standardized inputs: turn on Standardize on the Data page.",
            "info",
        )


def _discard_and_apply() -> None:
    _apply(draft())


def _keep_trained() -> None:
    st.session_state.pop(PENDING, None)  # a preset's training settings go with its network
    _set_draft(state.arch())


def presets_ui() -> None:
    """One button per preset."""
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown("**Presets:**")
        for name, label in PRESET_LABELS.items():
            st.button(label, key=f"arch.preset.{name}", on_click=_apply_preset, args=(name,))


def architecture_ui() -> dict:
    """Draw the editors of the draft and return it."""
    d = draft()
    st.markdown("**Hidden layers**")
    for i, (nodes, act) in enumerate(zip(d["hidden"], d["activations"], strict=True)):
        bind(f"arch.w.nodes.{i}", int(nodes))
        bind(f"arch.w.act.{i}", act)
        c1, c2 = st.columns(2)
        c1.number_input(
            f"Layer {i + 1}: nodes",
            1,
            limits.MAX_NODES,
            step=1,
            key=f"arch.w.nodes.{i}",
            on_change=_on_change,
        )
        c2.selectbox(
            f"Layer {i + 1}: activation",
            HIDDEN_ACTIVATIONS,
            key=f"arch.w.act.{i}",
            on_change=_on_change,
        )
    if not d["hidden"]:
        st.caption("No hidden layers: the inputs connect straight to the outputs.")
    c1, c2 = st.columns(2)
    full = len(d["hidden"]) >= limits.MAX_HIDDEN_LAYERS
    c1.button(
        "Add hidden layer",
        key="arch.add",
        on_click=_add_layer,
        disabled=full,
        help=MAX_LAYERS_NOTE if full else None,
    )
    c2.button(
        "Remove last hidden layer",
        key="arch.remove",
        on_click=_remove_layer,
        disabled=not d["hidden"],
    )
    if full:
        st.caption(MAX_LAYERS_NOTE)
    st.markdown("**Output, loss, initialisation**")
    bind("arch.w.output", d["output_activation"])
    bind("arch.w.loss", d["loss"])
    bind("arch.w.init", d["init"])
    bind("arch.w.seed", int(d["seed"]))
    task = state.task()
    outputs, losses = build.outputs(task), build.losses(task)
    for key, options in (("arch.w.output", outputs), ("arch.w.loss", losses)):
        if st.session_state[key] not in options:  # made for the other task (or forged)
            st.session_state[key] = options[0]
    c1, c2 = st.columns(2)
    c1.selectbox(
        "Output activation",
        outputs,
        key="arch.w.output",
        on_change=_on_change,
        help=OUTPUT_HELP[task],
    )
    c2.selectbox("Loss", losses, key="arch.w.loss", on_change=_on_change, help=LOSS_HELP[task])
    c3, c4 = st.columns(2)
    c3.selectbox(
        "Initial weights",
        INITS,
        format_func=INIT_LABELS.get,
        key="arch.w.init",
        on_change=_on_change,
    )
    c4.number_input(
        "Seed (initial weights and shuffling)",
        0,
        limits.MAX_SEED,
        step=1,
        key="arch.w.seed",
        on_change=_on_change,
    )
    # Values may arrive without a callback (first draw, tests): keep the draft in step.
    st.session_state[DRAFT] = _from_widgets()
    return draft()


def layers_caption(dataset, n_inputs: int) -> str:
    """What the input and output layers hold for this dataset (its names escaped)."""
    inputs = (
        f"The input layer has one node per input ({n_inputs}: one per number, one per category)"
    )
    if dataset.is_regression:
        target = md_escape(datasets.target_name(dataset), 60)
        return (
            f"{inputs}, the output layer one node for the number to predict ({target}); you "
            "choose what lies between. The output layer follows the task: a number needs a "
            "linear (or sigmoid) output and squared error or Huber loss."
        )
    return (
        f"{inputs}, the output layer one per class ({len(dataset.class_names)}); you choose "
        "what lies between."
    )


def output_names(dataset) -> list[str]:
    """The output nodes' names for the diagram: the classes, or the target's name."""
    if dataset.is_regression:
        return [datasets.target_name(dataset)]
    return [str(c) for c in dataset.class_names]


def problems(arch: dict) -> list[str]:
    """Why this architecture cannot be built for the current data (empty when it can)."""
    ds = state.dataset()
    return build.architecture_problems(arch, state.n_inputs(), ds.n_outputs, ds.task)


def parameters_ui(draft_layers: list[int], applied_layers: list[int], broken: bool) -> None:
    """The parameter count: the applied network's, or the changed one's beside the limit when
    the change breaks a limit (the diagram then still shows the applied network)."""
    if not broken:
        st.metric("Parameters (weights and biases)", f"{count_params(applied_layers):,}")
        return
    attempted = count_params(draft_layers)
    over = attempted > limits.MAX_PARAMS
    st.metric(
        "Parameters of the changed network",
        f"{attempted:,}",
        delta=f"limit {limits.MAX_PARAMS:,}" if over else None,
        delta_color="inverse",
        delta_arrow="off",
    )
    st.caption(
        f"Not applied: the diagram shows the network in use ({count_params(applied_layers):,} "
        "parameters) until the change fits the limits."
    )


def count_params(sizes: list[int]) -> int:
    """Weights and biases of a network with these layer sizes."""
    return nn.network.count_params(sizes)


def pairing_notes(arch: dict, task: str = build.CLASSIFICATION) -> list[str]:
    """Warnings for unusual choices that still train (for the dataset's ``task``)."""
    out, loss = arch["output_activation"], arch["loss"]
    notes = []
    if task == build.REGRESSION:
        if out == "sigmoid":
            notes.append(
                "A sigmoid output only gives values between 0 and 1, but the network learns the "
                "target standardized (mean 0, standard deviation 1): half the standardized "
                "targets are negative, and those above 1 are out of reach too. A linear output "
                "can give any number."
            )
    elif out == "softmax" and loss == "squared_error":
        notes.append(
            "Softmax with squared error is an odd pair: it trains, but slowly, because squared "
            "error barely pushes a confident wrong softmax. Cross-entropy is softmax's partner."
        )
    elif out == "linear" and loss == "squared_error":
        notes.append(
            "A linear output gives unbounded scores, not probabilities, and diverges more easily "
            "with a large learning rate. Sigmoid or softmax keeps outputs between 0 and 1."
        )
    elif out == "sigmoid" and loss == "cross_entropy":
        notes.append(
            "Sigmoid with cross-entropy treats each class as its own yes/no question; fine, but "
            "the outputs need not sum to one. Softmax makes them a probability distribution."
        )
    relu = {"relu", "leaky_relu"} & set(arch["activations"])
    if relu and arch["init"] == "uniform":
        notes.append(
            "ReLU layers with U[-1, 1] weights can start with many dead or exploding units; "
            "He initialisation is made for ReLU."
        )
    return notes


def confirm_ui(epochs: int) -> None:
    """Ask before a changed architecture discards the trained network."""
    with st.container(border=True):
        st.warning(
            f"You changed the architecture{PRESET_NOTE if PENDING in st.session_state else ''}. "
            f"Applying it discards the trained network ({epochs} epochs).",
            icon=":material/warning:",
        )
        c1, c2 = st.columns(2)
        c1.button(
            "Discard the trained network and apply",
            key="arch.confirm",
            on_click=_discard_and_apply,
            type="primary",
        )
        c2.button("Keep the trained network", key="arch.keep", on_click=_keep_trained)
