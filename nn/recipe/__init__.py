"""A reproducible recipe: a standalone NumPy script plus the settings JSON that repeat a run.

The script is ``nn/recipe/script.py``, a normal module of this package (linted, tested by
importing it) that is written verbatim into the zip as ``recipe.py``. It never imports ``nn``:
it repeats the lab's arithmetic on its own (the same split as ``nn.data.split``, the same random
draws for initialisation and shuffling, the same updates, losses and early-stopping rule), so
its numbers match the app's to rounding. It is the same text for every run; everything that
varies, including names taken from an uploaded CSV, lives in the JSON, never in the code.

``make_recipe(settings)`` returns the script's text and the settings as JSON; ``data_csv``
writes the dataset in the form the script reads; ``recipe_zip`` packs all three.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from importlib import resources

import numpy as np

from nn import config
from nn.network import normalize_config
from nn.recipe import script
from nn.text import csv_safe_cell

FORMAT = script.FORMAT
SCRIPT_NAME = "recipe.py"  # the script's name inside the zip
# The script's text, written into the zip as it is in the repository.
SCRIPT = resources.files(__name__).joinpath("script.py").read_text(encoding="utf-8")
SETTINGS_NAME = "settings.json"
DATA_NAME = "data.csv"

# Every training setting (nn.config.TRAINING), and the shuffling stream's seed: None means
# the network's seed, as the app does.
TRAINING_DEFAULTS = {**config.training_defaults(), "seed": None}
SPLIT_DEFAULTS = config.split_defaults()  # every split setting (nn.config.SPLIT)


def _number(section: str, key: str, value, whole: bool = False) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{section}.{key} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{section}.{key} must be finite, got {value!r}")
    if whole:
        if value != int(value):
            raise ValueError(f"{section}.{key} must be a whole number, got {value!r}")
        return int(value)
    return float(value)


def normalize_settings(settings: dict) -> dict:
    """The recipe settings with defaults filled in and values checked (``ValueError``).

    ``settings`` has ``network`` (an ``nn`` config), ``training`` (the arguments of
    ``Network.train_epochs`` plus ``epochs`` and ``seed``), ``split`` (the arguments of
    ``nn.data.split``) and ``data`` (``target``, ``class_names``, ``feature_names``, as
    ``data_csv`` writes them). Keys the recipe does not use (such as the app's pace) are dropped.
    """
    if not isinstance(settings, dict):
        raise ValueError("the recipe settings must be a dict")
    for part in ("network", "training", "split"):
        if not isinstance(settings.get(part), dict):
            raise ValueError(f"the recipe settings need a '{part}' section (a dict)")
    network = normalize_config(settings["network"])
    raw = settings["training"]
    training = {}
    for key, default in TRAINING_DEFAULTS.items():
        value = raw.get(key, default)
        if key == "seed":
            value = network["seed"] if value is None else _number("training", key, value, True)
        else:
            try:
                value = config.TRAINING[key].check(value)
            except ValueError as exc:
                raise ValueError(f"training.{exc}") from None
        training[key] = value
    raw = settings["split"]
    try:
        split = config.check_split({k: raw.get(k, d) for k, d in SPLIT_DEFAULTS.items()})
    except ValueError as exc:
        raise ValueError(f"split.{exc}") from None
    data = dict(settings.get("data") or {})
    result = {"format": FORMAT, "network": network, "training": training, "split": split}
    out = {"file": str(data.get("file", DATA_NAME)), "target": str(data.get("target", "class"))}
    for key in ("class_names", "feature_names"):
        if data.get(key) is not None:
            out[key] = [str(v) for v in data[key]]
    n_out = network["layers"][-1]
    if "class_names" in out and len(out["class_names"]) != max(n_out, 2):
        raise ValueError(
            f"data.class_names lists {len(out['class_names'])} classes but the network has "
            f"{n_out} output nodes"
        )
    result["data"] = out
    return result


def make_recipe(settings: dict) -> tuple[str, str]:
    """The standalone script and the settings JSON that reproduce a run (see ``script``).

    Run it as ``python recipe.py --data data.csv --settings settings.json``. To reproduce a run
    that was paused, pass the epochs trained so far as ``training.epochs``. A run whose settings
    changed while it trained cannot be repeated from one set of settings (see
    ``reproducibility_notes``).
    """
    normalized = normalize_settings(settings)
    return SCRIPT, json.dumps(normalized, indent=2) + "\n"


def reproducibility_notes(settings: dict, history) -> list[str]:
    """Reasons the recipe may not repeat this history exactly (empty when it should)."""
    training = normalize_settings(settings)["training"]
    records = [r.as_dict() if hasattr(r, "as_dict") else dict(r) for r in history]
    notes = []
    rates = {r["learning_rate"] for r in records}
    if rates and rates != {training["learning_rate"]}:
        notes.append(
            "The learning rate changed during the run; the recipe trains with "
            f"{training['learning_rate']:g} throughout."
        )
    # An early-stopped run ends before its epochs; the recipe stops at the same point.
    stops_early = training["early_stopping"] and len(records) < training["epochs"]
    if records and len(records) != training["epochs"] and not stops_early:
        notes.append(
            f"The run has {len(records)} epochs but the recipe trains {training['epochs']}."
        )
    return notes


def target_column(feature_names: list[str]) -> str:
    """A name for the class column that no feature uses."""
    name, i = "class", 0
    while name in feature_names:
        i += 1
        name = "target" if i == 1 else f"target_{i}"
    return name


def data_csv(X, y, feature_names: list[str], class_names: list[str], target: str | None = None):
    """The dataset as CSV text for the script: the features with every digit kept, then the
    class name of each row in the ``target`` column. Returns ``(text, target)``.

    Every cell follows the lab's one CSV rule (``nn.text.csv_safe_cell``): a name a spreadsheet
    would run as a formula gets a leading apostrophe, which the script removes when it reads
    the file back; the numbers are written as they are."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    if X.ndim != 2 or y.shape != (len(X),):
        raise ValueError("X must be (n, d) and y (n,)")
    feature_names = [str(f) for f in feature_names]
    if len(feature_names) != X.shape[1]:
        raise ValueError(f"{X.shape[1]} features but {len(feature_names)} feature names")
    if len(set(feature_names)) != len(feature_names):
        raise ValueError("feature names must be distinct")
    if y.size and (y.min() < 0 or y.max() >= len(class_names)):
        raise ValueError("labels must index class_names")
    target = target_column(feature_names) if target is None else str(target)
    if target in feature_names:
        raise ValueError(f"the target column {target!r} is also a feature name")
    names = [str(c) for c in class_names]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_safe_cell(c) for c in (*feature_names, target)])
    for row, label in zip(X.tolist(), y.tolist(), strict=True):
        writer.writerow([csv_safe_cell(c) for c in (*(repr(v) for v in row), names[label])])
    return buffer.getvalue(), target


def recipe_zip(settings: dict, X, y, feature_names: list[str], class_names: list[str]) -> bytes:
    """A zip of the script, its settings and the data, ready to run where it is unpacked."""
    text, target = data_csv(X, y, feature_names, class_names)
    settings = {
        **settings,
        "data": {
            "file": DATA_NAME,
            "target": target,
            "class_names": [str(c) for c in class_names],
            "feature_names": [str(f) for f in feature_names],
        },
    }
    script, settings_json = make_recipe(settings)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(SCRIPT_NAME, script)
        zf.writestr(SETTINGS_NAME, settings_json)
        zf.writestr(DATA_NAME, text)
    return buffer.getvalue()
