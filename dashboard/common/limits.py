"""Hosted-demo limits in one place, enforced on the server (widget bounds are only a browser hint).

Every value a page gets from a widget, an upload or a URL goes through one of the checks below,
which clamp or refuse it and return a message in plain words for the page to show.
"""

from __future__ import annotations

import math
import os


def _env_number(name: str, default: float, lo: float) -> float:
    """``default``, or the number in the environment variable ``name`` (at least ``lo``).

    For tests and for a server with more cores; a value that is not a number is ignored.
    """
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return max(value, lo) if math.isfinite(value) else default


MAX_UPLOAD_MB = 5  # keep equal to server.maxUploadSize in .streamlit/config.toml
MAX_ROWS = 5_000
MAX_COLUMNS = 100  # feature columns
MAX_CLASSES = 20
MAX_NAME_LENGTH = 200  # characters in a column name or a class label of an upload
MAX_SYNTHETIC_SAMPLES = 5_000
MAX_HIDDEN_LAYERS = 6
MAX_NODES = 256  # per hidden layer
MAX_PARAMS = 200_000  # weights and biases of the whole network
MAX_EPOCHS = 2_000  # per run; the history never grows beyond this
MAX_HISTORY = MAX_EPOCHS
MAX_BATCH_SIZE = MAX_ROWS
MIN_LEARNING_RATE = 1e-6
MAX_LEARNING_RATE = 1e6
MAX_L2 = 10.0
MAX_PATIENCE = 500
# The demo's ranges of the numeric training settings: each narrows the range of its row of
# nn.config.TRAINING (tests/test_config.py checks that it lies inside it).
TRAINING_RANGES = {
    "epochs": (1, MAX_EPOCHS),
    "learning_rate": (MIN_LEARNING_RATE, MAX_LEARNING_RATE),
    "batch_size": (1, MAX_BATCH_SIZE),
    "l2": (0.0, MAX_L2),
    "momentum": (0.0, 0.99),
    "beta1": (0.0, 0.999),
    "beta2": (0.0, 0.99999),
    "eps": (1e-12, 0.1),
    "patience": (1, MAX_PATIENCE),
    "l1": (0.0, 1.0),
    "warmup": (0, MAX_EPOCHS),
    "lr_step": (1, MAX_EPOCHS),
    "lr_drop": (0.01, 1.0),
    "lr_decay": (0.5, 1.0),
    "lr_min": (0.0, 1.0),
    "cosine_epochs": (0, MAX_EPOCHS),
}
MAX_SEED = 2**31 - 1
# The demo's ranges of the numeric split settings, inside their rows of nn.config.SPLIT.
SPLIT_RANGES = {"test_size": (0.05, 0.5), "val_size": (0.0, 0.5), "seed": (0, MAX_SEED)}
MAX_PLOT_ROWS = 1_000  # rows drawn in scatter plots (training always uses every row)
MAX_PLOT_FEATURES = 6  # features in the scatter matrix
MAX_TABLE_ROWS = 200  # rows shown in tables such as the misclassified samples
MAX_PREDICT_INPUTS = 100  # number inputs drawn in the single-sample form
# Training work of the whole server (one process for every visitor, 2 cores): runs that train at
# the same time (more wait in a first-come, first-served queue), and the CPU time one run may use
# (its own thread's, measured around each chunk of epochs; Reset starts a new run).
MAX_TRAINING_SESSIONS = int(_env_number("NN_LAB_MAX_TRAINING", 2, 1))
MAX_RUN_CPU_S = _env_number("NN_LAB_MAX_RUN_CPU_S", 600.0, 1.0)
# A run that has not asked for its slot (or its place in the queue) for this long loses it: its
# tab was closed, or the browser throttles a hidden tab's timer. It asks again at its next tick.
TRAINING_SLOT_TIMEOUT_S = 20.0
# Worker processes one cross-validation may use (Compare page). A cross-validation holds one
# training slot and counts its workers' wall-clock time against MAX_RUN_CPU_S; a hosted server
# with one process per core sets NN_LAB_CV_JOBS=1 so its folds never take a second core.
MAX_CV_JOBS = int(_env_number("NN_LAB_CV_JOBS", min(2, os.cpu_count() or 1), 1))


def duration_text(seconds: float) -> str:
    """``600`` -> "10 minutes", ``90`` -> "1.5 minutes", ``5`` -> "5 seconds"."""
    if seconds >= 60:
        minutes = seconds / 60
        return f"{minutes:g} minute{'' if minutes == 1 else 's'}"
    return f"{seconds:g} second{'' if seconds == 1 else 's'}"


LIMITS_TEXT = (
    f"Limits of this demo: uploads up to {MAX_UPLOAD_MB} MB (longer files are sampled to "
    f"{MAX_ROWS:,} rows) and {MAX_COLUMNS} feature columns, {MAX_CLASSES} classes; up to "
    f"{MAX_HIDDEN_LAYERS} hidden layers of at most {MAX_NODES} nodes and {MAX_PARAMS:,} "
    f"parameters; up to {MAX_EPOCHS:,} epochs and {duration_text(MAX_RUN_CPU_S)} of compute "
    f"per run; {MAX_TRAINING_SESSIONS} "
    f"{'run trains' if MAX_TRAINING_SESSIONS == 1 else 'runs train'} at once on this server, "
    "more wait in a queue."
)


def clamp_int(name: str, value, lo: int, hi: int, default: int) -> tuple[int, str | None]:
    """``value`` as an int within ``[lo, hi]``, and a message when it had to be changed."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default, f"{name}: {value!r} is not a number; using {default}."
    if not math.isfinite(number):
        return default, f"{name} must be a finite number; using {default}."
    whole = round(number)
    if whole < lo:
        return lo, f"{name} must be at least {lo}; using {lo}."
    if whole > hi:
        return hi, f"{name} is limited to {hi:,} in this demo; using {hi:,}."
    return whole, None


def clamp_float(name: str, value, lo: float, hi: float, default: float) -> tuple[float, str | None]:
    """``value`` as a float within ``[lo, hi]``, and a message when it had to be changed."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default, f"{name}: {value!r} is not a number; using {default:g}."
    if not math.isfinite(number):
        return default, f"{name} must be a finite number; using {default:g}."
    if number < lo:
        return lo, f"{name} must be at least {lo:g}; using {lo:g}."
    if number > hi:
        return hi, f"{name} is limited to {hi:g} in this demo; using {hi:g}."
    return number, None


def check_choice(name: str, value, options, default) -> tuple[object, str | None]:
    """``value`` if it is one of ``options``, else ``default`` and a message."""
    if value in options:
        return value, None
    return (
        default,
        f"{name}: {value!r} is not one of {', '.join(map(str, options))}; using {default}.",
    )


def check_upload_size(n_bytes: int) -> str | None:
    """A message when an upload is larger than the limit, else None."""
    if n_bytes > MAX_UPLOAD_MB * 1024 * 1024:
        return (
            f"The file is {n_bytes / 1024 / 1024:.1f} MB; this demo accepts up to "
            f"{MAX_UPLOAD_MB} MB."
        )
    return None


def check_table_shape(n_rows: int, n_features: int, n_classes: int | None = None) -> str | None:
    """A message when a dataset is larger than the limits, else None."""
    if n_rows > MAX_ROWS:
        return f"The data has {n_rows:,} rows; this demo accepts up to {MAX_ROWS:,}."
    if n_features > MAX_COLUMNS:
        return f"The data has {n_features} feature columns; this demo accepts up to {MAX_COLUMNS}."
    if n_classes is not None and n_classes > MAX_CLASSES:
        return f"The target has {n_classes} classes; this demo accepts up to {MAX_CLASSES}."
    return None


def check_architecture(hidden: list[int], n_params: int) -> list[str]:
    """Messages for every limit a hidden-layer list breaks (empty when it is fine)."""
    problems = []
    if len(hidden) > MAX_HIDDEN_LAYERS:
        problems.append(f"{len(hidden)} hidden layers; this demo allows up to {MAX_HIDDEN_LAYERS}.")
    for i, n in enumerate(hidden, start=1):
        if not 1 <= n <= MAX_NODES:
            problems.append(f"Hidden layer {i} has {n} nodes; allowed are 1 to {MAX_NODES}.")
    if n_params > MAX_PARAMS:
        problems.append(
            f"The network has {n_params:,} parameters; this demo allows up to {MAX_PARAMS:,}."
        )
    return problems
