"""A reproducible recipe: a standalone NumPy script plus the settings JSON that repeat a run.

The script is ``nn/recipe/script.py``, a normal module of this package (linted, tested by
importing it) that is written verbatim into the zip as ``recipe.py``. It never imports ``nn``:
it repeats the lab's arithmetic on its own (the same split as ``nn.data.split``, the same random
draws for initialisation and shuffling, the same updates, losses and early-stopping rule), so
its numbers match the app's to rounding. It is the same text for every run; everything that
varies, including names taken from an uploaded CSV, lives in the JSON, never in the code.

A regression run (the network config's ``"task": "regression"``) travels the same way: the
target column holds numbers with every digit, the ``data`` section names the target and has no
class names, and the script standardizes the target with the training rows' mean and standard
deviation as ``nn.task.TargetScaler`` does, reporting R^2 (and at the end MAE and RMSE in the
target's units) where a classification run reports accuracy.

A table with categories or gaps travels as its raw values (numbers, category labels, empty
cells), and the settings' ``data`` section says how the lab prepared each column (``columns``:
its kind, what a gap becomes, a "was missing" input; ``rare``): the script fits that
preprocessing on its training rows as ``nn.preprocess.Preprocessor.fit_table`` does.

The training options are settings like the others and the script honours each: the
learning-rate schedule and warm-up (nn/schedules.py's formulas, so every epoch's rate is the
same float, and the script's history records it), L1 beside L2, dropout per hidden layer (its
masks drawn from the shuffling stream in the lab's order: after the epoch's shuffle, one draw
per batch and hidden layer with a rate above 0) and class weights (each row's loss weighted by
its class's, "balanced" computed on the training rows). A cosine schedule over "the run's
epochs" spans ``training.epochs``; the app writes the length out (``cosine_epochs``) so that a
recipe of a paused run follows the run's curve.

``make_recipe(settings)`` returns the script's text and the settings as JSON; ``data_settings``
gives the ``data`` section for a dataset, ``data_csv`` writes the dataset in the form the script
reads; ``recipe_zip`` packs all three.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from importlib import resources

import numpy as np

from nn import config, schedules
from nn import task as tasks
from nn.network import normalize_config
from nn.preprocess import CATEGORICAL, CATEGORY_FILLS, NUMERIC, NUMERIC_FILLS, labels, numbers
from nn.recipe import script
from nn.task import CLASSIFICATION, REGRESSION
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
    ``nn.data.split``) and ``data`` (``target``, ``class_names``, ``feature_names``, and for a
    table with categories or gaps ``columns`` and ``rare``, as ``data_settings`` gives them).
    Keys the recipe does not use (such as the app's pace) are dropped.

    A regression network (``"task": "regression"``) predicts the one number in the ``target``
    column: it has one output, its ``data`` has no ``class_names``, and its split is never
    stratified (``split.stratify`` is false, as ``nn.data.split`` does for a number).

    The training options are checked against the network as training checks them: a dropout
    list has one rate per hidden layer, class weights one number per class, and a regression
    network has none.
    """
    if not isinstance(settings, dict):
        raise ValueError("the recipe settings must be a dict")
    for part in ("network", "training", "split"):
        if not isinstance(settings.get(part), dict):
            raise ValueError(f"the recipe settings need a '{part}' section (a dict)")
    network = normalize_config(settings["network"])
    regression = network.get("task", CLASSIFICATION) == REGRESSION
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
    try:  # the checks training makes (no training rows are needed to count)
        config.dropout_rates(training["dropout"], len(network["layers"]) - 2)
        tasks.get(network.get("task", CLASSIFICATION)).class_weights(
            config.class_weight(training["class_weight"]),
            np.zeros(0, dtype=np.int64),
            network["layers"][-1],
        )
    except ValueError as exc:
        raise ValueError(f"training.{exc}") from None
    raw = settings["split"]
    try:
        split = config.check_split({k: raw.get(k, d) for k, d in SPLIT_DEFAULTS.items()})
    except ValueError as exc:
        raise ValueError(f"split.{exc}") from None
    if regression:
        split["stratify"] = False  # a number has no classes to keep in proportion
    data = dict(settings.get("data") or {})
    result = {"format": FORMAT, "network": network, "training": training, "split": split}
    target = data.get("target", "target" if regression else "class")
    out = {"file": str(data.get("file", DATA_NAME)), "target": str(target)}
    for key in ("class_names", "feature_names"):
        if data.get(key) is not None:
            out[key] = [str(v) for v in data[key]]
    if data.get("columns") is not None:
        out["columns"] = _table_columns(data["columns"])
        names = [c["name"] for c in out["columns"]]
        if out.setdefault("feature_names", names) != names:
            raise ValueError("data.columns must follow data.feature_names, in order")
        out["rare"] = _number("data", "rare", data.get("rare", 0), whole=True)
        if out["rare"] < 0:
            raise ValueError(f"data.rare must be at least 0, got {out['rare']}")
    n_out = network["layers"][-1]
    if regression and "class_names" in out:
        raise ValueError(
            "data.class_names: a regression network predicts a number, not classes (remove "
            "class_names, or build the network with task 'classification')"
        )
    if regression and n_out != 1:
        raise ValueError(
            f"the recipe predicts one target column, but the regression network has {n_out} outputs"
        )
    if "class_names" in out and len(out["class_names"]) != max(n_out, 2):
        raise ValueError(
            f"data.class_names lists {len(out['class_names'])} classes but the network has "
            f"{n_out} output nodes"
        )
    result["data"] = out
    return result


def _table_columns(raw) -> list[dict]:
    """``data.columns`` checked, with defaults filled in: one entry per feature column."""
    if not isinstance(raw, list) or not raw:
        raise ValueError("data.columns must be a list with one entry per feature column")
    columns = []
    for i, column in enumerate(raw):
        where = f"data.columns[{i}]"
        if not isinstance(column, dict) or not isinstance(column.get("name"), str):
            raise ValueError(f"{where} must be a dict with the column's name")
        kind = column.get("kind", NUMERIC)
        if kind == NUMERIC:
            fills, default = NUMERIC_FILLS, "median"
        elif kind == CATEGORICAL:
            fills, default = CATEGORY_FILLS, "category"
        else:
            raise ValueError(f"{where}.kind must be {NUMERIC} or {CATEGORICAL}, not {kind!r}")
        fill = column.get("fill", default)
        if fill not in fills:
            raise ValueError(f"{where}.fill must be one of {', '.join(fills)}, not {fill!r}")
        out = {"name": column["name"], "kind": kind, "fill": fill}
        if kind == NUMERIC:
            indicator = column.get("indicator", False)
            if not isinstance(indicator, (bool, np.bool_)):
                raise ValueError(f"{where}.indicator must be true or false, not {indicator!r}")
            out["indicator"] = bool(indicator)
            if fill == "constant":
                out["value"] = _number(where, "value", column.get("value", 0.0))
        columns.append(out)
    names = [c["name"] for c in columns]
    if len(set(names)) != len(names):
        raise ValueError("data.columns must name each feature column once")
    return columns


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
    # Each epoch's rate against the one the recipe will use (the schedule's, or the rate).
    expected = [schedules.rate(training, r["epoch"] - 1, training["epochs"]) for r in records]
    if any(r["learning_rate"] != rate for r, rate in zip(records, expected, strict=True)):
        if schedules.is_constant(training):
            what = f"trains with {training['learning_rate']:g} throughout"
        else:
            what = f"follows the {training['schedule']} schedule from {training['learning_rate']:g}"
        notes.append(f"The learning rate changed during the run; the recipe {what}.")
    # An early-stopped run ends before its epochs; the recipe stops at the same point.
    stops_early = training["early_stopping"] and len(records) < training["epochs"]
    if records and len(records) != training["epochs"] and not stops_early:
        notes.append(
            f"The run has {len(records)} epochs but the recipe trains {training['epochs']}."
        )
    return notes


def target_column(feature_names: list[str], name: str = "class") -> str:
    """A name for the target column that no feature uses: ``name`` when it is free, else
    "target", "target_2", ..."""
    taken, i = set(feature_names), 1
    candidate = name or "target"
    while candidate in taken:
        candidate = "target" if i == 1 else f"target_{i}"
        i += 1
    return candidate


def data_settings(
    feature_names: list[str],
    class_names: list[str],
    kinds: dict[str, str] | None = None,
    fill: dict | None = None,
    task: str = CLASSIFICATION,
    target: str = "",
) -> dict:
    """The settings' ``data`` section for a dataset with these names, as ``recipe_zip`` writes it.

    For classification the target column is "class" (or a name no feature takes) and
    ``class_names`` are listed. For regression (``task`` "regression", ``class_names`` empty)
    the target column is named ``target`` (the target's name, when no feature takes it) and
    there are no class names.

    For a table with categories or gaps, ``kinds`` gives each feature column's kind, in order
    ("numeric" or "categorical"), and ``fill`` the dataset's choices (the keys of
    ``nn.data.FILL_DEFAULTS``: each fill a choice for every column or a dict by column name);
    they become one entry per column in ``columns`` (its kind, what a gap becomes, the constant,
    the "was missing" input) and ``rare``, which is how ``nn.data.split`` prepares the table.
    """
    feature_names = [str(f) for f in feature_names]
    if task == REGRESSION:
        if len(class_names):
            raise ValueError("a number to predict has no class names")
        data = {
            "file": DATA_NAME,
            "target": target_column(feature_names, str(target)),
            "feature_names": feature_names,
        }
    else:
        data = {
            "file": DATA_NAME,
            "target": target_column(feature_names),
            "class_names": [str(c) for c in class_names],
            "feature_names": feature_names,
        }
    if kinds is None:
        return data
    from nn.data import FILL_DEFAULTS  # pandas, on first use only

    fill = {**FILL_DEFAULTS, **(fill or {})}

    def choice(key: str, name: str, default):
        # A choice for every column, or a dict by column name (Preprocessor.fit_table's rule).
        value = fill[key]
        return value.get(name, default) if isinstance(value, dict) else value

    columns = []
    for name, kind in kinds.items():
        name = str(name)
        if kind == NUMERIC:
            how = choice("numeric_fill", name, "median")
            column = {"name": name, "kind": kind, "fill": how}
            column["indicator"] = choice("indicators", name, False)
            if how == "constant":
                column["value"] = (fill["fill_values"] or {}).get(name, 0.0)
        else:
            column = {"name": name, "kind": kind, "fill": choice("category_fill", name, "category")}
        columns.append(column)
    if [c["name"] for c in columns] != feature_names:
        raise ValueError("the column kinds must follow the feature names, in order")
    return {**data, "columns": columns, "rare": fill["rare"]}


def data_csv(
    X,
    y,
    feature_names: list[str],
    class_names: list[str],
    target: str | None = None,
    kinds: dict[str, str] | None = None,
    task: str = CLASSIFICATION,
):
    """The dataset as CSV text for the script: the features with every digit kept, then the
    class name of each row in the ``target`` column (for ``task`` "regression", with
    ``class_names`` empty: the row's number, with every digit). Returns ``(text, target)``.

    ``X`` is an array of numbers (n, d), or with ``kinds`` (each feature's kind, in order) a
    table of raw values such as ``nn.data.Dataset.table`` gives: a category is written as its
    label, a gap as an empty cell.

    Every cell follows the lab's one CSV rule (``nn.text.csv_safe_cell``): a name a spreadsheet
    would run as a formula gets a leading apostrophe, which the script removes when it reads
    the file back; the numbers are written as they are."""
    feature_names = [str(f) for f in feature_names]
    if kinds is None:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError("X must be (n, d) and y (n,)")
        if len(feature_names) != X.shape[1]:
            raise ValueError(f"{X.shape[1]} features but {len(feature_names)} feature names")
        rows = [[repr(v) for v in row] for row in X.tolist()]
    else:
        if [str(k) for k in kinds] != feature_names:
            raise ValueError("the column kinds must follow the feature names, in order")
        rows = _table_cells(X, kinds)
    regression = task == REGRESSION
    y = np.asarray(y, dtype=np.float64 if regression else np.int64)
    if y.shape != (len(rows),):
        raise ValueError("X must be (n, d) and y (n,)")
    if len(set(feature_names)) != len(feature_names):
        raise ValueError("feature names must be distinct")
    if regression:
        if len(class_names):
            raise ValueError("a number to predict has no class names")
        if not np.all(np.isfinite(y)):
            raise ValueError("the target has missing or infinite values")
        answers = [repr(v) for v in y.tolist()]
    else:
        if y.size and (y.min() < 0 or y.max() >= len(class_names)):
            raise ValueError("labels must index class_names")
        names = [str(c) for c in class_names]
        answers = [names[label] for label in y.tolist()]
    target = target_column(feature_names) if target is None else str(target)
    if target in feature_names:
        raise ValueError(f"the target column {target!r} is also a feature name")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_safe_cell(c) for c in (*feature_names, target)])
    for row, answer in zip(rows, answers, strict=True):
        writer.writerow([csv_safe_cell(c) for c in (*row, answer)])
    return buffer.getvalue(), target


def _table_cells(table, kinds: dict[str, str]) -> list[list[str]]:
    """The cells of a table's rows: numbers with every digit, category labels as the lab
    reads them (``nn.preprocess.labels``), an empty cell for a gap."""
    if not (hasattr(table, "columns") and hasattr(table, "to_numpy")):
        raise ValueError("a table's rows must come as a table of raw values (Dataset.table)")
    absent = [name for name in kinds if name not in table.columns]
    if absent:
        raise ValueError(f"missing column(s): {', '.join(map(str, absent[:10]))}")
    columns = []
    for name, kind in kinds.items():
        values = table[name].to_numpy()
        if kind == CATEGORICAL:
            columns.append(["" if v is None else v for v in labels(values)])
        else:
            x = numbers(values)  # as the lab reads them: anything not a number is a gap
            if np.isinf(x).any():
                raise ValueError(f"the column {name} has infinite values")
            columns.append(["" if math.isnan(v) else repr(v) for v in x.tolist()])
    return [list(row) for row in zip(*columns, strict=True)] if columns else []


def recipe_zip(
    settings: dict,
    X,
    y,
    feature_names: list[str],
    class_names: list[str],
    kinds: dict[str, str] | None = None,
    fill: dict | None = None,
    target: str = "",
) -> bytes:
    """A zip of the script, its settings and the data, ready to run where it is unpacked.

    ``X`` is an array of numbers, or with ``kinds`` and ``fill`` a table of raw values (see
    ``data_settings`` and ``data_csv``). The network config's task says what ``y`` holds:
    class labels indexing ``class_names``, or for regression the numbers of the target called
    ``target`` (``class_names`` empty)."""
    network = settings.get("network") if isinstance(settings, dict) else None
    task = network.get("task", CLASSIFICATION) if isinstance(network, dict) else CLASSIFICATION
    data = data_settings(feature_names, class_names, kinds, fill, task=task, target=target)
    text, _ = data_csv(X, y, feature_names, class_names, data["target"], kinds, task=task)
    script, settings_json = make_recipe({**settings, "data": data})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(SCRIPT_NAME, script)
        zf.writestr(SETTINGS_NAME, settings_json)
        zf.writestr(DATA_NAME, text)
    return buffer.getvalue()
