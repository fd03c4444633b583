"""Per-session state: one place for the keys, their defaults and the rules that tie them together.

Everything of one user lives in ``st.session_state`` (a browser tab); nothing here is global.
Invariant: the trainer, when there is one, was built from the current dataset, split and
architecture. Changing any of those discards it (the Architecture page asks first).
"""

from __future__ import annotations

import streamlit as st

import nn
from dashboard import data, training

DATA_SPEC = "app.data_spec"  # which dataset: {"source": ..., plus generator params or file name}
DATASET = "app.dataset"
SPLIT_SETTINGS = "app.split_settings"
SPLIT = "app.split"
DATA_VERSION = "app.data_version"  # bumped whenever the dataset or the split changes
ARCH = "app.arch"  # hidden layers, activations, output, loss, init, seed
TRAIN_SETTINGS = "app.train_settings"
TRAINER = "app.trainer"
FLASHES = "app.flashes"  # messages to show once, on the next page drawn


def arch_from_config(config: dict) -> dict:
    """The app's architecture settings from an ``nn`` network config."""
    config = nn.normalize_config(config)
    hidden = list(config["layers"][1:-1])
    acts = config["activation"]
    acts = [acts] * len(hidden) if isinstance(acts, str) else list(acts)
    return {
        "hidden": hidden,
        "activations": acts,
        "output_activation": config["output_activation"],
        "loss": config["loss"],
        "init": config["init"],
        "seed": config["seed"],
    }


def network_config(arch: dict, n_inputs: int, n_outputs: int) -> dict:
    """An ``nn`` network config from the architecture settings and the data's shape."""
    return {
        "layers": [n_inputs, *arch["hidden"], n_outputs],
        "activation": list(arch["activations"]),
        "output_activation": arch["output_activation"],
        "loss": arch["loss"],
        "init": arch["init"],
        "seed": int(arch["seed"]),
        "dtype": "float64",
    }


def init() -> None:
    """Fill in whatever this session lacks (every page calls this first)."""
    ss = st.session_state
    ss.setdefault(FLASHES, [])
    ss.setdefault(DATA_VERSION, 0)
    ss.setdefault(SPLIT_SETTINGS, dict(data.DEFAULT_SPLIT))
    ss.setdefault(ARCH, arch_from_config(nn.presets.ARTICLE["network"]))
    ss.setdefault(TRAIN_SETTINGS, dict(training.DEFAULT_SETTINGS))
    ss.setdefault(TRAINER, None)
    if DATASET not in ss:
        ss[DATA_SPEC] = dict(data.DEFAULT_SPEC)
        ss[DATASET] = data.load_spec(ss[DATA_SPEC])
        ss[SPLIT] = data.make_split(ss[DATASET], ss[SPLIT_SETTINGS])


def flash(message: str, kind: str = "info") -> None:
    """Queue a message for the next page drawn (kind: info, success, warning, error)."""
    st.session_state[FLASHES].append((kind, message))


def pop_flashes() -> list[tuple[str, str]]:
    """The queued messages, emptying the queue."""
    messages = list(st.session_state.get(FLASHES, []))
    st.session_state[FLASHES] = []
    return messages


def dataset():
    """The current dataset."""
    return st.session_state[DATASET]


def data_spec() -> dict:
    """How the current dataset was chosen."""
    return st.session_state[DATA_SPEC]


def split():
    """The current train/validation/test split."""
    return st.session_state[SPLIT]


def split_settings() -> dict:
    """The current split settings."""
    return st.session_state[SPLIT_SETTINGS]


def arch() -> dict:
    """The current (applied) architecture settings."""
    return st.session_state[ARCH]


def train_settings() -> dict:
    """The current training settings."""
    return st.session_state[TRAIN_SETTINGS]


def trainer() -> training.Trainer | None:
    """The trainer, or None when nothing has been built yet."""
    return st.session_state.get(TRAINER)


def is_trained() -> bool:
    """True when there is a network with at least one epoch behind it."""
    t = trainer()
    return t is not None and t.epochs_trained > 0


def n_classes() -> int:
    """Number of classes of the current dataset."""
    return len(dataset().class_names)


def current_network_config(arch_settings: dict | None = None) -> dict:
    """The network config for the current data and (given or applied) architecture."""
    ds = dataset()
    return network_config(arch_settings or arch(), ds.X.shape[1], len(ds.class_names))


def discard_trainer(reason: str) -> None:
    """Drop the trainer; tell the user when that threw away trained epochs."""
    t = trainer()
    if t is not None and t.epochs_trained > 0:
        flash(f"The trained network ({t.epochs_trained} epochs) was discarded: {reason}", "warning")
    st.session_state[TRAINER] = None


def set_dataset(dataset, spec: dict) -> None:
    """Switch to a new dataset (split with the current settings); ``ValueError`` keeps the old."""
    new_split = data.make_split(dataset, split_settings())
    st.session_state[DATASET] = dataset
    st.session_state[DATA_SPEC] = dict(spec)
    st.session_state[SPLIT] = new_split
    st.session_state[DATA_VERSION] += 1
    discard_trainer("it was trained on the previous dataset.")


def set_split_settings(settings: dict) -> None:
    """Re-split the current dataset; ``ValueError`` keeps the old split."""
    new_split = data.make_split(dataset(), settings)
    st.session_state[SPLIT_SETTINGS] = dict(settings)
    st.session_state[SPLIT] = new_split
    st.session_state[DATA_VERSION] += 1
    discard_trainer("the split changed, so its test rows may have been training rows.")


def set_arch(arch_settings: dict, reason: str = "the architecture changed.") -> None:
    """Apply new architecture settings; discards the trainer."""
    st.session_state[ARCH] = {
        **arch_settings,
        "hidden": list(arch_settings["hidden"]),
        "activations": list(arch_settings["activations"]),
    }
    discard_trainer(reason)


def set_train_settings(settings: dict) -> None:
    """Store training settings; the trainer picks them up at its next chunk."""
    st.session_state[TRAIN_SETTINGS] = dict(settings)
    t = trainer()
    if t is not None:
        t.settings = dict(settings)


def ensure_trainer() -> training.Trainer:
    """The trainer, built from the current data and architecture if there is none."""
    t = trainer()
    if t is None:
        t = new_trainer(nn.Network.from_config(current_network_config()))
    return t


def new_trainer(net: nn.Network, tag: str = "") -> training.Trainer:
    """Install a trainer for ``net`` on the current split and training settings."""
    s = split()
    t = training.Trainer(
        net=net,
        X_train=s.X_train,
        y_train=s.y_train,
        X_val=s.X_val,
        y_val=s.y_val,
        settings=dict(train_settings()),
        tag=tag,
        data_version=st.session_state[DATA_VERSION],
    )
    st.session_state[TRAINER] = t
    return t


def reproduce_article() -> training.Trainer:
    """Iris, the article's split, network and training settings; training started."""
    preset = nn.presets.ARTICLE
    st.session_state[SPLIT_SETTINGS] = {**preset["split"], "seed": 0}
    set_dataset(data.load_spec({"source": "iris"}), {"source": "iris"})
    st.session_state[ARCH] = arch_from_config(preset["network"])
    st.session_state[TRAIN_SETTINGS] = {**training.DEFAULT_SETTINGS, **preset["training"]}
    st.session_state[TRAINER] = None
    t = ensure_trainer()
    t.tag = "article"
    training.start(t)
    return t


def dataset_label() -> str:
    """A short name of the current dataset (may contain a user's file name)."""
    spec = data_spec()
    if spec.get("source") == data.CSV:
        return f"CSV file {spec.get('file_name', '')}".strip()
    label = data.SOURCES.get(spec.get("source"), str(spec.get("source")))
    return label.split(" (")[0]
