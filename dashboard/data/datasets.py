"""Datasets for the app: the catalogue, cached loaders, CSV uploads within limits, splits."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import math

import numpy as np
import pandas as pd

import nn
import nn.inspect
import nn.preprocess
from dashboard.common import limits
from dashboard.common.text import display_name, sentence
from nn.text import strip_bidi

CLASSIFICATION, REGRESSION = nn.task.CLASSIFICATION, nn.task.REGRESSION
BUNDLED = {
    "iris": "Iris (150 flowers, 4 features, 3 species)",
    "wine": "Wine (178 wines, 13 features, 3 cultivars)",
    "breast_cancer": "Breast cancer (569 tumours, 30 features, 2 classes)",
    "digits": "Digits (1,797 8x8 images, 64 pixels, 10 digits)",
    "diabetes": "Diabetes (442 patients, 10 features, predict a number: disease progression)",
}
SYNTHETIC = {
    "moons": "Moons (2-D, 2 classes)",
    "circles": "Circles (2-D, 2 classes)",
    "xor": "XOR (2-D, 2 classes)",
    "spiral": "Spiral (2-D, 3 classes)",
    "spirals": "Two spirals (2-D, 2 classes, as in TensorFlow Playground)",
    "blobs": "Blobs (2-D, 3 classes)",
    "sine": "Sine curve (1-D, predict a number)",
    "plane": "Plane (2-D, predict a number)",
    "bump": "Bump (2-D, predict a number)",
}
CSV = "csv"
# The sets whose target is a number (regression); every other set's target is a class.
REGRESSION_SETS = tuple(nn.data.REGRESSION_SETS)
SOURCES = {**BUNDLED, **SYNTHETIC, CSV: "Upload a CSV file"}
# The order of the dataset picker: the sets of classes, then those of numbers, then a CSV.
SOURCE_GROUPS = {
    CLASSIFICATION: tuple(s for s in (*BUNDLED, *SYNTHETIC) if s not in REGRESSION_SETS),
    REGRESSION: tuple(s for s in (*BUNDLED, *SYNTHETIC) if s in REGRESSION_SETS),
}
SYNTHETIC_DEFAULTS = {"n_samples": 300, "noise": 0.2, "seed": 0}
ARTICLE_SOURCE = "iris"  # the article's dataset: it keeps the article's own protocol
DEFAULT_SPEC = {"source": ARTICLE_SOURCE}


@functools.lru_cache(maxsize=48)
def _cached_builtin(name: str, n_samples, noise, seed) -> nn.data.Dataset:
    if name in SYNTHETIC:
        dataset = nn.data.load_dataset(name, n_samples=n_samples, noise=noise, seed=seed)
    else:
        dataset = nn.data.load_dataset(name)
    dataset.X.setflags(write=False)  # shared by every visitor: nobody may change it in place
    dataset.y.setflags(write=False)
    return dataset


def source_options() -> list[str]:
    """The dataset picker's options in order: classes, numbers, then the CSV upload."""
    return [*SOURCE_GROUPS[CLASSIFICATION], *SOURCE_GROUPS[REGRESSION], CSV]


def source_label(source: str) -> str:
    """A source as the picker shows it (a set of numbers says "predict a number")."""
    return SOURCES.get(source, str(source))


def spec_task(spec: dict) -> str:
    """The task of the dataset ``spec`` describes: a regression set's, a CSV's chosen task,
    else classification."""
    source = spec.get("source")
    if source in REGRESSION_SETS:
        return REGRESSION
    if source == CSV and spec.get("task") == REGRESSION:
        return REGRESSION
    return CLASSIFICATION


def load_builtin(name: str, n_samples: int | None = None, noise: float | None = None, seed=None):
    """A bundled or generated dataset, made once per server and shared by every visitor: its
    arrays are read-only, the rest is a fresh copy per call."""
    shared = _cached_builtin(name, n_samples, noise, seed)
    return dataclasses.replace(
        shared, feature_names=list(shared.feature_names), class_names=list(shared.class_names)
    )


def load_spec(spec: dict):
    """The dataset a non-CSV spec describes; ``ValueError`` for anything unknown."""
    source = spec.get("source")
    if source in BUNDLED:
        return load_builtin(source)
    if source in SYNTHETIC:
        return load_builtin(source, spec["n_samples"], spec["noise"], spec["seed"])
    raise ValueError(f"unknown dataset {source!r}")


def check_synthetic_params(params: dict) -> tuple[dict, list[str]]:
    """Clamp the synthetic-set controls to the limits; messages for what changed."""
    n, m1 = limits.clamp_int(
        "Samples", params.get("n_samples"), 20, limits.MAX_SYNTHETIC_SAMPLES, 300
    )
    noise, m2 = limits.clamp_float("Noise", params.get("noise"), 0.0, 1.0, 0.2)
    seed, m3 = limits.clamp_int("Seed", params.get("seed"), 0, limits.MAX_SEED, 0)
    return {"n_samples": n, "noise": noise, "seed": seed}, [m for m in (m1, m2, m3) if m]


def csv_text(data: bytes) -> str:
    """The text of an uploaded CSV, decoded as ``nn.data.load_csv`` decodes it (the preview
    must read a file exactly as the loader will)."""
    try:
        return nn.data.decode_text(data)
    except ValueError as exc:
        raise ValueError(sentence(exc)) from None


def csv_head(data: bytes, rows: int = 5) -> pd.DataFrame:
    """The first rows of an uploaded CSV, to pick the target from; ``ValueError`` if unreadable.

    Only a preview: ``nn.data.load_csv`` reads and checks the whole file once a target is picked.
    """
    too_big = limits.check_upload_size(len(data))
    if too_big:
        raise ValueError(too_big)
    text = csv_text(data)
    try:
        head = pd.read_csv(io.StringIO(text), nrows=rows, skipinitialspace=True)
    except Exception as exc:  # pandas raises many kinds for junk; all mean "not a CSV"
        raise ValueError(f"This does not look like a CSV table ({type(exc).__name__}).") from None
    if head.shape[1] < 2:
        raise ValueError(
            "The file has fewer than two columns: it needs at least one feature and a target."
        )
    if head.shape[1] > limits.MAX_COLUMNS + 1:
        raise ValueError(
            f"The file has {head.shape[1]} columns; this demo accepts up to "
            f"{limits.MAX_COLUMNS} feature columns plus the target."
        )
    # named as nn.data.load_csv names them, so the target picked here is found there
    head.columns = [strip_bidi(str(c)).strip() for c in head.columns]
    too_long = check_name_lengths(list(head.columns), "column")
    if too_long:
        raise ValueError(too_long)
    return head


SAMPLE_ROWS = 2_000  # rows read to judge the columns (the preview shows the first five)


def csv_sample(data: bytes, rows: int = SAMPLE_ROWS) -> pd.DataFrame:
    """The first ``rows`` rows of an uploaded CSV, checked as ``csv_head`` checks them; only the
    first five when a later row is broken (the loader then says what is wrong with it)."""
    try:
        return csv_head(data, rows=rows)
    except ValueError:
        return csv_head(data)


ROLE_CHOICES = ("feature", "skip")  # what the column table offers (the target is picked above)
TYPE_CHOICES = ("numeric", "categorical")


def default_use(info, values: pd.Series) -> str:
    """How a column would be used if made a feature: as numbers when it holds numbers (an
    id of whole numbers too), else as categories."""
    numbers = nn.columns.as_numbers(values) is not None
    if info.type == "numeric" or (info.type != "categorical" and numbers):
        return "numeric"
    return "categorical"


# What a gap becomes, as the column table offers it: (label, kind it suits, fit_table's choice).
GAP_CHOICES = {
    "median": ("numeric", "median"),
    "mean": ("numeric", "mean"),
    "constant": ("numeric", "constant"),
    "own category": ("categorical", "category"),
    "most frequent": ("categorical", "most_frequent"),
}
GAP_DEFAULTS = {"numeric": "median", "categorical": "own category"}
MAX_FILL_VALUE = 1e12  # a constant beyond this is a typo, not a value


def fills_from_editor(
    infos: list, edited: pd.DataFrame, roles: dict, types: dict
) -> tuple[dict, list[str]]:
    """The fill choices (``nn.data.FILL_DEFAULTS``' keys, per column) from the edited column
    table's "gaps become", "constant" and "flag gaps", checked; with a sentence for each
    choice that did not suit its column and was replaced by the default."""
    numeric, category, values, flags, messages = {}, {}, {}, {}, []
    for i, info in enumerate(infos):
        name = info.name
        if roles.get(name) != "feature":
            continue
        kind = types[name]

        def cell(column, i=i):
            return edited[column].iloc[i] if i < len(edited) and column in edited else None

        label = cell("gaps become")
        suits, how = GAP_CHOICES.get(label, (None, None))
        if suits != kind:
            if label in GAP_CHOICES and label != GAP_DEFAULTS[suits]:
                messages.append(
                    f"Gaps in {name} become its {GAP_DEFAULTS[kind]}: “{label}” suits "
                    f"{suits} columns."
                )
            suits, how = GAP_CHOICES[GAP_DEFAULTS[kind]]
        if kind == "categorical":
            category[name] = how
            continue
        numeric[name] = how
        if how == "constant":
            value = cell("constant")
            try:
                value = float(value)
            except (TypeError, ValueError):
                value = float("nan")
            if not (math.isfinite(value) and abs(value) <= MAX_FILL_VALUE):
                messages.append(f"Gaps in {name} become 0: the constant must be a number.")
                value = 0.0
            values[name] = value
        flags[name] = cell("flag gaps") is True or cell("flag gaps") is np.True_
    fill = {
        "numeric_fill": numeric,
        "category_fill": category,
        "indicators": flags,
        "fill_values": values,
    }
    return fill, messages


def fill_cells(infos: list, uses: list[str], fill: dict) -> dict[str, list]:
    """The column table's gap cells: each column's choice in ``fill`` (the current dataset's),
    else the default for the way it is used."""

    def per_column(key: str) -> dict:
        return fill.get(key) if isinstance(fill.get(key), dict) else {}

    chosen = {**per_column("numeric_fill"), **per_column("category_fill")}
    labels = {how: label for label, (_, how) in GAP_CHOICES.items()}
    flags, values = per_column("indicators"), per_column("fill_values")
    return {
        "gaps become": [
            labels.get(chosen.get(i.name), GAP_DEFAULTS[use])
            for i, use in zip(infos, uses, strict=True)
        ],
        "constant": [float(values.get(i.name, 0.0)) for i in infos],
        "flag gaps": [bool(flags.get(i.name, False)) for i in infos],
    }


def check_rare(value) -> int:
    """The rare-category threshold from its widget, checked: a whole number of rows in
    0..``limits.MAX_ROWS`` (anything else keeps every category)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0
    if not math.isfinite(number) or not 0 <= number <= limits.MAX_ROWS:
        return 0
    return int(number)


def choices_from_editor(infos: list, edited: pd.DataFrame) -> tuple[dict, dict]:
    """The role and type of every column from the edited column table, checked: a value the
    table does not offer (a forged widget value, a missing row) keeps the detected default."""
    roles, types = {}, {}
    for i, info in enumerate(infos):
        role = edited["role"].iloc[i] if i < len(edited) and "role" in edited else None
        kind = edited["use as"].iloc[i] if i < len(edited) and "use as" in edited else None
        roles[info.name] = role if role in ROLE_CHOICES else info.role
        default = "numeric" if info.type == "numeric" else "categorical"
        types[info.name] = kind if kind in TYPE_CHOICES else default
    return roles, types


def check_name_lengths(names: list[str], kind: str) -> str | None:
    """A message naming the first name longer than ``limits.MAX_NAME_LENGTH`` (``kind``:
    "column" for the header, by position; "class" for the target's labels), else None."""
    for i, name in enumerate(names, start=1):
        if len(name) <= limits.MAX_NAME_LENGTH:
            continue
        start = display_name(name, 40)
        if kind == "column":
            where, what = f"Column {i}'s name", "column names"
        else:
            where, what = "A class label in the target column", "class labels"
        return (
            f"{where} is {len(name):,} characters long (it starts “{start}”); this demo accepts "
            f"{what} of up to {limits.MAX_NAME_LENGTH} characters."
        )
    return None


def preview_frame(head: pd.DataFrame) -> pd.DataFrame:
    """The preview as it is shown: text cells as ``display_name`` shows names, shortened to
    ``limits.MAX_NAME_LENGTH`` (a cell may hold a class label that is refused later)."""

    def shown(value):
        return display_name(value, limits.MAX_NAME_LENGTH) if isinstance(value, str) else value

    return head.map(shown)


TASK_LABELS = {
    CLASSIFICATION: "A class (classification)",
    REGRESSION: "A number (regression)",
}


@dataclasses.dataclass(frozen=True)
class TaskChoice:
    """What a CSV's target can be predicted as: the detected task and why, and the tasks
    allowed (a text target only as classes; numbers as classes only up to the class limit)."""

    detected: str
    reason: str
    allowed: tuple[str, ...]
    why_not: str = ""  # why the other task is not allowed ("" when both are)


def task_choice(target: str, values: pd.Series) -> TaskChoice:
    """The tasks a target column (its first rows, ``values``) allows, and the detected one
    (``nn.columns.default_task``)."""
    detected, reason = nn.columns.default_task(values)
    name = display_name(target, 60)
    numbers = nn.columns.as_numbers(values)
    if numbers is None:
        return TaskChoice(
            CLASSIFICATION,
            reason,
            (CLASSIFICATION,),
            f"{name} holds text, so it is predicted as classes.",
        )
    distinct = int(numbers.dropna().nunique())
    if distinct > limits.MAX_CLASSES:
        return TaskChoice(
            detected,
            reason,
            (REGRESSION,),
            f"{name} holds {distinct:,} different numbers; this demo allows up to "
            f"{limits.MAX_CLASSES} classes, so it is predicted as a number.",
        )
    return TaskChoice(detected, reason, (CLASSIFICATION, REGRESSION))


def check_task(value, choice: TaskChoice) -> tuple[str, str | None]:
    """The task from its widget, checked on the server: one ``choice`` allows, else the
    detected task (or the one allowed) and a message."""
    if value in choice.allowed:
        return value, None
    fallback = choice.detected if choice.detected in choice.allowed else choice.allowed[0]
    if value in TASK_LABELS:
        return fallback, choice.why_not
    return fallback, f"Predict: {value!r} is not a class or a number; using {fallback}."


def load_uploaded_csv(
    data: bytes,
    target: str,
    name: str,
    roles: dict | None = None,
    types: dict | None = None,
    missing: str = "impute",
    fill: dict | None = None,
    task: str = "auto",
):
    """A Dataset from an uploaded CSV within the limits (``nn.data.load_table``: roles and types
    per column, gaps filled or their rows dropped, a long file sampled to ``MAX_ROWS``; the
    target predicted as ``task``, "auto" for the detected one); ``ValueError`` with a clear
    message."""
    if target not in csv_head(data).columns:
        raise ValueError("The chosen target column is not in the file.")
    if task not in ("auto", *TASK_LABELS):
        raise ValueError(f"Predict: {task!r} is not a class or a number.")
    try:
        dataset = nn.data.load_table(
            io.BytesIO(data),
            target=target,
            roles=roles,
            types=types,
            missing=missing,
            max_rows=limits.MAX_ROWS,
            max_columns=limits.MAX_COLUMNS + 1,
            fill=fill,
            task=task,
        )
    except ValueError as exc:
        raise ValueError(sentence(exc)) from None
    except Exception as exc:  # the loader promises ValueError; never let junk crash the page
        raise ValueError(f"The file could not be read ({type(exc).__name__}: {exc}).") from None
    regression = dataset.is_regression
    n_classes = None if regression else len(dataset.class_names)
    problem = limits.check_table_shape(len(dataset.y), dataset.X.shape[1], n_classes)
    problem = problem or check_name_lengths([str(c) for c in dataset.class_names], "class")
    if problem and not regression and n_classes > limits.MAX_CLASSES:
        problem += " Predict it as a number (regression) if it is a quantity."
    if problem:
        raise ValueError(problem)
    if not regression and len(dataset.class_names) < 2:
        raise ValueError("The target column has a single class; a classifier needs two or more.")
    if regression and float(np.ptp(dataset.y)) == 0.0:
        raise ValueError("The target column holds one value on every row: there is nothing to fit.")
    with contextlib.suppress(AttributeError):  # a frozen dataclass keeps the loader's name
        dataset.name = name
    return dataset


def load_csv_spec(data: bytes, spec: dict):
    """The Dataset an upload's ``spec`` describes (its target, task, roles, types and gap
    choices, as the Data page sets them): ``load_uploaded_csv`` with the spec's fields."""
    return load_uploaded_csv(
        data,
        spec["target"],
        spec["file_name"],
        roles=spec["roles"],
        types=spec["types"],
        missing=spec["missing"],
        fill=spec["fill"],
        task=spec.get("task", "auto"),
    )


ENGINEERED_LABELS = {  # how the engineered inputs read for a set whose features are x1, x2
    name: text.format(a="x1", b="x2") for name, text in nn.preprocess.ENGINEERED.items()
}


def engineering_allowed(dataset) -> bool:
    """True when ``dataset`` can take engineered inputs (x1², sin(x1), ...): two features,
    both numbers without gaps (the 2-D sets, or such a CSV)."""
    return len(dataset.feature_names) == 2 and not dataset.is_table


def make_split(dataset, settings: dict):
    """The train/validation/test split of ``dataset`` for these settings (engineered inputs
    only for a set that can take them)."""
    engineered = fit_split_settings(dataset, settings).get("engineered", nn.config.NO_NAMES)
    return nn.data.split(
        dataset,
        test_size=settings["test_size"],
        val_size=settings["val_size"],
        seed=settings["seed"],
        stratify=settings["stratify"],
        standardize=settings["standardize"],
        engineered=engineered,
    )


def fit_split_settings(dataset, settings: dict) -> dict:
    """``settings`` for ``dataset``: no engineered inputs for a set that cannot take them."""
    if engineering_allowed(dataset):
        return dict(settings)
    return {**settings, "engineered": nn.config.NO_NAMES}


def check_split_settings(settings: dict) -> tuple[dict, list[str]]:
    """Clamp the split controls to the demo's ranges; messages for what changed."""
    checked, messages = {}, []
    for name, setting in nn.config.SPLIT.items():
        value = settings.get(name)
        if setting.kind == "bool":
            checked[name] = bool(value)
            continue
        if setting.kind == "names":
            try:
                checked[name] = setting.check(setting.default if value is None else value)
            except ValueError:
                checked[name] = setting.default
                messages.append(
                    f"{setting.label}: that choice is not one of "
                    f"{', '.join(ENGINEERED_LABELS.values())}; none are used."
                )
            continue
        clamp = limits.clamp_int if setting.kind == "int" else limits.clamp_float
        lo, hi = limits.SPLIT_RANGES[name]
        checked[name], message = clamp(setting.label, value, lo, hi, setting.default)
        messages += [message] if message else []
    return checked, messages


def target_name(dataset) -> str:
    """What the target is called: a regression target's column name (or "target"), else
    "class"."""
    if dataset.is_regression:
        return str(dataset.target or "target")
    return "class"


def target_column_name(feature_names: list[str], name: str = "class") -> str:
    """A name for the target column of a table (``name``) that no feature already uses."""
    while name in feature_names:
        name += "_"
    return name


def dataset_frame(dataset, rows: int | None = None) -> pd.DataFrame:
    """The dataset as a table: features and each row's target (its class name, or the number
    a regression target holds)."""
    X = dataset.X if rows is None else dataset.X[:rows]
    y = dataset.y if rows is None else dataset.y[:rows]
    names = [str(n) for n in dataset.feature_names]
    frame = dataset.table(X)  # numbers, category labels, gaps
    column = target_column_name(names, target_name(dataset))
    if dataset.is_regression:
        frame[column] = np.asarray(y, dtype=float)
        return frame
    classes = np.asarray([str(c) for c in dataset.class_names], dtype=object)
    frame[column] = classes[np.asarray(y, dtype=int)]
    return frame


def _number_row(numbers: pd.Series) -> dict:
    return {
        "mean": numbers.mean(),
        "std": numbers.std(),
        "min": numbers.min(),
        "max": numbers.max(),
    }


def statistics(dataset) -> pd.DataFrame:
    """One row per feature: its kind, gaps, and the figures that fit it (mean, spread and range
    of a number; the distinct values and the most frequent label of a category); a regression
    target's own row last (kind "target")."""
    table = dataset.table()
    rows = []
    for name, kind in dataset.feature_kinds().items():
        values = table[name]
        row = {"feature": name, "kind": kind, "gaps": int(values.isna().sum())}
        if kind == "numeric":
            row.update(_number_row(values.astype(float)))
        else:
            counts = values.value_counts()
            row.update(
                distinct=len(counts), most_frequent=str(counts.index[0]) if len(counts) else ""
            )
        rows.append(row)
    if dataset.is_regression:
        names = [str(n) for n in dataset.feature_names]
        target = pd.Series(np.asarray(dataset.y, dtype=float))
        rows.append(
            {
                "feature": target_column_name(names, target_name(dataset)),
                "kind": "target",
                "gaps": 0,
                **_number_row(target),
            }
        )
    return pd.DataFrame(rows).set_index("feature")


def category_counts(dataset, feature: str, rows=None) -> pd.DataFrame:
    """Rows per category of ``feature`` and per class (gaps counted as "(missing)"); one
    column of rows for a regression target."""
    X = dataset.X if rows is None else dataset.X[rows]
    y = dataset.y if rows is None else dataset.y[rows]
    values = dataset.table(X)[feature].fillna("(missing)").astype(str)
    if dataset.is_regression:
        return values.value_counts().sort_index().to_frame("rows")
    classes = np.asarray([str(c) for c in dataset.class_names], dtype=object)[y]
    return pd.crosstab(values, classes)


def sample_rows(n: int, max_rows: int, seed: int = 0) -> np.ndarray:
    """Row indices to plot: all of them, or a fixed random sample of ``max_rows``."""
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_rows, replace=False))


def standardize_note(dataset, standardize: bool) -> str:
    """One line on the Data page: why the inputs are (or should be) standardized."""
    if standardize:
        return (
            "Standardize is on: each input is scaled to mean 0 and standard deviation 1 on the "
            "training rows, so features measured in different units learn at the same pace."
        )
    scale = nn.inspect.input_scale(dataset.X)
    if dataset.name == ARTICLE_SOURCE:
        return "Standardize is off: the inputs go in as they are, as the article did on Iris."
    if scale["status"] != "ok":
        why = (
            f"this data's features differ {scale['std_ratio']:,.0f}-fold in spread"
            if scale["std_ratio"] > 10
            else f"this data's values lie far from 0 (means up to {scale['max_abs_mean']:,.3g})"
        )
        return f"Standardize is off, and {why}: training will be slow or stall. Tick Standardize."
    return "Standardize is off: the inputs go in as they are (they are on a similar scale)."
