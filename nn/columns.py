"""What each column of a table is, and what it should do by default: the first look at a CSV.

``describe(frame)`` gives one ``ColumnInfo`` per column: its detected type (numeric, categorical,
boolean, identifier, free text, constant), missing count, distinct values, a few examples, and a
default role (feature, target or skip) with the reason in a few words. The Data page shows it as
an editable table; the command line uses the same defaults. pandas does the reading; nothing
here decides how values are encoded (``nn.preprocess`` does, from the roles and types chosen).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

NUMERIC, CATEGORICAL, BOOLEAN = "numeric", "categorical", "boolean"
IDENTIFIER, FREE_TEXT, CONSTANT = "identifier", "free text", "constant"
TYPES = (NUMERIC, CATEGORICAL, BOOLEAN, IDENTIFIER, FREE_TEXT, CONSTANT)
FEATURE, TARGET, SKIP = "feature", "target", "skip"
ROLES = (FEATURE, TARGET, SKIP)

MAX_CATEGORIES = 50  # a text column with more distinct values is free text (skipped)
FEW_VALUES = 10  # a whole-number column with at most this many values may be a category
MIN_ROWS_FOR_ID = 10  # fewer rows cannot tell an identifier from a short table
TARGET_WORDS = ("class", "classes", "label", "labels", "target", "species", "outcome", "survived")
ID_WORDS = ("id", "index", "key", "uuid", "unnamed: 0", "")
TRUE_WORDS = {"true", "yes", "y", "t", "1"}
FALSE_WORDS = {"false", "no", "n", "f", "0"}


@dataclass
class ColumnInfo:
    """One column as first seen: its type, its numbers, and the default role with its reason."""

    name: str
    type: str
    missing: int
    distinct: int
    examples: list[str] = field(default_factory=list)
    role: str = FEATURE
    reason: str = ""
    few_values: bool = False  # whole numbers with few values: numeric, may be switched

    def as_dict(self) -> dict:
        return {
            "column": self.name,
            "type": self.type,
            "missing": self.missing,
            "distinct": self.distinct,
            "examples": ", ".join(self.examples),
            "role": self.role,
            "why": self.reason,
        }


def words(name: str) -> list[str]:
    """The words of a column name: "TargetClass" and "target_class" give ["target", "class"]."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name))
    return [w for w in re.split(r"[^0-9a-zA-Z]+", spaced.lower()) if w]


def is_boolean(values: pd.Series) -> bool:
    """True for a column of two values that read as yes/no (true/false, y/n, 1/0)."""
    present = values.dropna()
    if pd.api.types.is_bool_dtype(present):
        return True
    seen = {str(v).strip().lower() for v in present.unique()}
    if pd.api.types.is_float_dtype(present):
        seen = {s.removesuffix(".0") for s in seen}
    return len(seen) == 2 and seen <= TRUE_WORDS | FALSE_WORDS and bool(seen & TRUE_WORDS)


def as_numbers(values: pd.Series) -> pd.Series | None:
    """The column as numbers when every present value is one (text like "3.5" included)."""
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    converted = pd.to_numeric(values.dropna().astype(str).str.strip(), errors="coerce")
    if converted.isna().any():
        return None
    return pd.to_numeric(values, errors="coerce").astype(float)


def _is_running_count(numbers: pd.Series) -> bool:
    v = numbers.dropna().to_numpy()
    if len(v) < 2 or not np.all(v == np.round(v)):
        return False
    steps = np.diff(v)
    return bool(np.all(steps == 1) or np.all(steps == -1))


def detect(name: str, values: pd.Series) -> tuple[str, str, bool]:
    """``(type, reason, few_values)`` of one column, in a word or two of reason."""
    present = values.dropna()
    n, distinct = len(present), present.nunique()
    if distinct <= 1:
        return CONSTANT, "one value only" if n else "empty", False
    if is_boolean(values):
        return BOOLEAN, "two values, yes or no", False
    numbers = as_numbers(values)
    typos = 0
    if numbers is None:  # text in under half of a column of numbers: typos, read as gaps
        coerced = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
        typos = int(coerced.isna().sum())
        if n and typos < n / 2:
            numbers = pd.to_numeric(values, errors="coerce").astype(float)
        else:
            typos = 0
    unique_rows = distinct == n and n >= MIN_ROWS_FOR_ID
    named_id = "".join(words(name)) in ID_WORDS or (words(name)[-1:] == ["id"])
    if numbers is not None:
        whole = bool(np.all(numbers.dropna() == np.round(numbers.dropna())))
        if unique_rows and whole and (named_id or _is_running_count(numbers)):
            return IDENTIFIER, "a different whole number on every row: an id", False
        if typos:
            return NUMERIC, f"numbers; {typos} text value(s) read as gaps", False
        if whole and distinct <= FEW_VALUES:
            return NUMERIC, f"numbers, {distinct} whole values: could be categories", True
        return NUMERIC, "numbers", False
    if unique_rows:
        return IDENTIFIER, "different text on every row: an id or a name", False
    if distinct > MAX_CATEGORIES:
        return (
            FREE_TEXT,
            f"text with {distinct} different values (more than {MAX_CATEGORIES})",
            False,
        )
    return CATEGORICAL, f"text with {distinct} values", False


def default_target(frame: pd.DataFrame, types: dict[str, str] | None = None) -> tuple[str, str]:
    """The column to predict when nobody chose one, and why, in a few words.

    A column named like a label (class, label, target, species, outcome, survived; as the whole
    name first, then as one word of it), else the last category (text or yes/no with at least
    two rows per value), else the last column. A numeric measurement is never picked over a
    category. ``types``: the detected type per column, when already known.
    """
    columns = [str(c) for c in frame.columns]
    types = types or {c: detect(c, frame[c])[0] for c in columns}
    usable = [c for c in columns if types[c] not in (CONSTANT, IDENTIFIER, FREE_TEXT)]
    for whole in (True, False):  # a name wins even over an odd column: the loader says why
        for name in columns:
            w = words(name)
            if ("".join(w) in TARGET_WORDS) if whole else (set(w) & set(TARGET_WORDS)):
                return name, "its name says it is the label"
    for name in reversed(usable):
        present = frame[name].dropna()
        k = present.nunique()
        if types[name] in (CATEGORICAL, BOOLEAN) and len(present) >= 2 * k:
            return name, f"the last text column with few values ({k} distinct)"
    last = usable[-1] if usable else columns[-1]
    return last, "the last column (none is named like a label or holds a category)"


def describe(frame: pd.DataFrame, target: str | None = None) -> list[ColumnInfo]:
    """One ``ColumnInfo`` per column of ``frame``, with default roles: the ``target`` (or the
    default one), features, and skipped identifiers, free text and constants."""
    infos = []
    for name in frame.columns:
        values = frame[name]
        kind, reason, few = detect(str(name), values)
        present = values.dropna()
        examples = [str(v)[:40] for v in present.unique()[:3]]
        infos.append(
            ColumnInfo(
                name=str(name),
                type=kind,
                missing=int(values.isna().sum()),
                distinct=int(present.nunique()),
                examples=examples,
                reason=reason,
                few_values=few,
            )
        )
    types = {i.name: i.type for i in infos}
    if target is None:
        target, why = default_target(frame, types)
    else:
        why = "chosen"
    for info in infos:
        if info.name == target:
            info.role, info.reason = TARGET, why
        elif info.type in (IDENTIFIER, FREE_TEXT, CONSTANT):
            info.role = SKIP
    return infos


MAX_AUTO_CLASSES = 20  # a whole-number target with more distinct values is a quantity


def default_task(values: pd.Series) -> tuple[str, str]:
    """The task a target column suggests, and why in a few words: numbers with fractions, or
    whole numbers with more than ``MAX_AUTO_CLASSES`` values, are a quantity to predict
    (regression); text, yes/no and a few whole numbers are classes."""
    numbers = as_numbers(values)
    if numbers is None and not pd.api.types.is_bool_dtype(values):
        coerced = pd.to_numeric(values.dropna().astype(str).str.strip(), errors="coerce")
        if len(coerced) and coerced.isna().sum() < len(coerced) / 2:  # numbers with typos
            numbers = coerced
    if numbers is None:
        return "classification", "it holds text labels"
    present = numbers.dropna()
    distinct = int(present.nunique())
    if len(present) and not np.all(present == np.round(present)):
        return "regression", "it holds numbers with fractions"
    if distinct > MAX_AUTO_CLASSES:
        return "regression", f"it holds {distinct:,} different numbers"
    return "classification", f"it holds {distinct} different whole numbers"


LEAK_SCORE = 0.99  # a single column this accurate alone is suspicious...
LEAK_BASELINE = 0.95  # ...unless always answering the most frequent class does nearly as well


@dataclass
class Leak:
    """A feature that alone predicts the target almost perfectly."""

    column: str
    accuracy: float  # the share predicted right, or R^2 for a number
    metric: str = "accuracy"

    def sentence(self) -> str:
        if self.metric == "r2":
            how = f"explains {self.accuracy:.1%} of the target's variation (R² {self.accuracy:.3f})"
        else:
            how = f"predicts the target {self.accuracy:.0%} right"
        return (
            f"{self.column} alone {how} on the training rows: it may be the answer in disguise "
            "(recorded after the fact, or the target spelled differently). Skip it unless you "
            "are sure."
        )


def leaks(frame: pd.DataFrame, y, kinds: dict[str, str], folds: int = 3) -> list[Leak]:
    """The features of ``frame`` (training rows) that alone predict ``y`` with a cross-validated
    accuracy of at least ``LEAK_SCORE`` while the most frequent class scores below
    ``LEAK_BASELINE``: a category by its majority class, a number by a depth-2 tree."""
    from sklearn.model_selection import StratifiedKFold
    from sklearn.tree import DecisionTreeClassifier

    y = np.asarray(y)
    if len(kinds) < 2:
        return []  # the only feature is all there is: "alone" says nothing
    if y.dtype.kind == "f":
        return _number_leaks(frame, y, kinds, folds)
    counts = np.bincount(y)
    if len(y) < 3 * folds or counts.max() / len(y) >= LEAK_BASELINE or counts.min() < folds:
        return []
    found = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for name, kind in kinds.items():
        values = frame[name].to_numpy()
        right = 0
        for train, test in splitter.split(values.reshape(-1, 1), y):
            if kind == "categorical":
                labels = pd.Series(values[train]).astype(str)
                majority = (
                    pd.Series(y[train])
                    .groupby(labels.to_numpy())
                    .agg(lambda s: s.value_counts().idxmax())
                )
                fallback = np.bincount(y[train]).argmax()
                guess = pd.Series(values[test]).astype(str).map(majority).fillna(fallback)
                right += int((guess.to_numpy(dtype=int) == y[test]).sum())
            else:
                x = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
                x = np.where(np.isnan(x), np.nanmedian(x) if np.isfinite(x).any() else 0.0, x)
                tree = DecisionTreeClassifier(max_depth=2, random_state=0)
                tree.fit(x[train].reshape(-1, 1), y[train])
                right += int((tree.predict(x[test].reshape(-1, 1)) == y[test]).sum())
        accuracy = right / len(y)
        if accuracy >= LEAK_SCORE:
            found.append(Leak(str(name), accuracy))
    return found


def _number_leaks(frame: pd.DataFrame, y: np.ndarray, kinds: dict[str, str], folds: int):
    """``leaks`` for a numeric target: a feature whose cross-validated R^2 alone (a category
    by its mean target, a number by a depth-8 tree or a straight line) is ``LEAK_SCORE``."""
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import KFold
    from sklearn.tree import DecisionTreeRegressor

    if len(y) < 3 * folds or np.var(y) == 0:
        return []
    found = []
    splitter = KFold(n_splits=folds, shuffle=True, random_state=0)
    spread = float(np.sum((y - y.mean()) ** 2))
    for name, kind in kinds.items():
        values = frame[name].to_numpy()
        errors = np.zeros(2)
        for train, test in splitter.split(values.reshape(-1, 1)):
            if kind == "categorical":
                labels = pd.Series(values, dtype=object).astype(str).to_numpy()
                means = pd.Series(y[train]).groupby(labels[train]).mean()
                guess = pd.Series(labels[test]).map(means).fillna(y[train].mean()).to_numpy()
                errors += np.sum((guess - y[test]) ** 2)
                continue
            x = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
            x = np.where(np.isnan(x), np.nanmedian(x) if np.isfinite(x).any() else 0.0, x)
            x = x.reshape(-1, 1)
            for k, model in enumerate(
                (DecisionTreeRegressor(max_depth=8, random_state=0), LinearRegression())
            ):
                guess = model.fit(x[train], y[train]).predict(x[test])
                errors[k] += np.sum((guess - y[test]) ** 2)
        r2 = 1.0 - float(errors.min()) / spread
        if r2 >= LEAK_SCORE:
            found.append(Leak(str(name), r2, "r2"))
    return found
