"""Datasets: CSV loading with clear errors, bundled and synthetic sets, the article's split."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from nn.preprocess import CATEGORICAL, NUMERIC, Preprocessor, check_engineered
from nn.text import strip_bidi

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
BUNDLED = ("iris", "wine", "breast_cancer", "digits", "diabetes")
SYNTHETIC = ("moons", "circles", "xor", "spiral", "spirals", "blobs", "sine", "plane", "bump")
DATASETS = BUNDLED + SYNTHETIC
# The sets whose target is a number (the others are classes).
REGRESSION_SETS = ("diabetes", "sine", "plane", "bump")
CLASSIFICATION, REGRESSION = "classification", "regression"
TASK_CHOICES = ("auto", CLASSIFICATION, REGRESSION)
ID_NAMES = {"id", "index", "unnamed: 0", ""}
ENCODINGS = ("utf-8-sig", "latin-1")
MIN_REGRESSION_ROWS = 10
# How split fills a table's gaps and groups rare categories (``Preprocessor.fit_table``'s
# arguments; the fills may be dicts by column name).
FILL_DEFAULTS = {
    "numeric_fill": "median",
    "category_fill": "category",
    "indicators": False,
    "fill_values": {},
    "rare": 0,
}


@dataclass
class Dataset:
    """Features ``X`` (n, d) float64, labels ``y`` (n,) int64 in 0..k-1, and their names.

    For regression (``task`` "regression") ``y`` is the float64 target (n,), ``class_names``
    is empty and ``target`` names the column (its values' units).
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    class_names: list[str]
    name: str = "data"
    task: str = CLASSIFICATION
    target: str = ""
    # A table's features (``load_table``): "numeric" or "categorical" per feature, and each
    # categorical feature's labels (its column in ``X`` holds the label's index; a gap is NaN).
    kinds: list[str] | None = None
    categories: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what loading did (rows dropped, sampled)
    # How the preprocessing fills this table's gaps: split's numeric_fill, category_fill and
    # indicators when it is not told otherwise.
    fill: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        n, d = self.X.shape
        what = f"target {self.target!r}" if self.is_regression else f"{self.n_classes} classes"
        return f"Dataset({self.name!r}, {n} rows, {d} features, {what})"

    @property
    def is_regression(self) -> bool:
        """True when the target is a number to predict."""
        return self.task == REGRESSION

    @property
    def n_classes(self) -> int:
        """Number of classes (0 for regression)."""
        return len(self.class_names)

    @property
    def n_outputs(self) -> int:
        """Output nodes a network needs: one per class, one for a number."""
        return 1 if self.is_regression else self.n_classes

    def names(self) -> dict:
        """Its feature and class names, as a saved model's metadata records them (and, for
        regression, the task and the target's name)."""
        names = {
            "feature_names": [str(f) for f in self.feature_names],
            "class_names": [str(c) for c in self.class_names],
        }
        if self.is_regression:
            names.update(task=REGRESSION, target=str(self.target))
        return names

    @property
    def is_table(self) -> bool:
        """True when a feature is categorical or has gaps: the preprocessing then works on
        ``table`` rows, not plain numbers."""
        return bool(self.kinds and CATEGORICAL in self.kinds) or bool(np.isnan(self.X).any())

    def feature_kinds(self) -> dict[str, str]:
        """Each feature's kind, in order ("numeric" unless the table says "categorical")."""
        kinds = self.kinds or [NUMERIC] * len(self.feature_names)
        return dict(zip(map(str, self.feature_names), kinds, strict=True))

    def table(self, X=None) -> pd.DataFrame:
        """Rows of ``X`` (default: all) as raw values: numbers, category labels, gaps as None."""
        X = self.X if X is None else np.asarray(X, dtype=np.float64)
        columns = {}
        for j, (name, kind) in enumerate(self.feature_kinds().items()):
            if kind == CATEGORICAL:
                labels = np.asarray(self.categories[name], dtype=object)
                codes = X[:, j]
                present = ~np.isnan(codes)
                values = np.full(len(codes), None, dtype=object)
                values[present] = labels[codes[present].astype(int)]
                columns[name] = values
            else:
                columns[name] = X[:, j]
        return pd.DataFrame(columns)

    def frame(self) -> pd.DataFrame:
        """The data as a table: the features and a ``class`` column of class names (for
        regression, the target's column of numbers)."""
        df = pd.DataFrame(self.X, columns=self.feature_names)
        column = (self.target or "target") if self.is_regression else "class"
        while column in df.columns:
            column = f"{column}_"
        if self.is_regression:
            df[column] = np.asarray(self.y, dtype=np.float64)
        else:
            df[column] = np.asarray(self.class_names, dtype=object)[self.y]
        return df


@dataclass
class Split:
    """Training, validation and test parts, as network inputs, and the ``Preprocessor`` fitted
    on the training part that made them from the raw rows.

    Without a validation part (``val_size=0``) ``X_val`` is an empty ``(0, n_features)`` array
    and ``y_val`` an empty label array, never ``None``: test ``len(split.y_val)``.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    preprocessor: Preprocessor
    sizes: dict = field(default_factory=dict)
    # The same rows before preprocessing (a table's categories as label indices, gaps NaN).
    raw_train: np.ndarray | None = None
    raw_val: np.ndarray | None = None
    raw_test: np.ndarray | None = None
    # A table's raw rows -> its raw values (labels for categories): ``Dataset.table``.
    decode: object = field(default=None, repr=False, compare=False)

    @property
    def scaler(self) -> Preprocessor | None:
        """The preprocessor when it standardizes, else None (the parts are the raw values)."""
        return self.preprocessor if self.preprocessor.standardize else None

    def transform(self, X) -> np.ndarray:
        """Prepare raw feature rows (as ``raw_train`` holds them) the way the training part was
        prepared."""
        if self.decode is not None:
            return self.preprocessor.transform(self.decode(X))
        return self.preprocessor.transform(X)


# ---- CSV ----


def _read_text(source) -> str:
    """Return the text of a path, bytes or file-like, trying a few encodings."""
    if isinstance(source, (str, os.PathLike)):
        try:
            raw = Path(source).read_bytes()
        except (OSError, ValueError) as exc:  # ValueError: a NUL character in the path
            reason = getattr(exc, "strerror", None) or "not a valid file path"
            raise ValueError(f"cannot read the file {str(source)[:200]!r}: {reason}") from None
    elif isinstance(source, (bytes, bytearray)):
        raw = bytes(source)
    elif hasattr(source, "read"):
        raw = source.read()
        if isinstance(raw, str):
            return raw
    else:
        raise ValueError("the CSV source must be a path, bytes or a file-like object")
    return decode_text(raw)


def decode_text(raw: bytes) -> str:
    """The text of a CSV file's bytes: UTF-16 only with a byte-order mark, else UTF-8 (with or
    without BOM), then Latin-1; ``ValueError`` for an empty or binary file.

    Whatever previews a file must decode it with this, or the preview and the loader disagree
    about its columns (UTF-16 without a BOM turns bytes that are not UTF-8 into CJK text).
    """
    if not raw or not raw.strip():
        raise ValueError("the file is empty")
    encodings = ENCODINGS
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    elif b"\x00" in raw[:4096]:
        raise ValueError("the file looks binary, not like a CSV text file")
    for enc in encodings:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise ValueError("the file's text encoding is not readable (save it as UTF-8)")


def _is_id_column(name: str, values: pd.Series) -> bool:
    if str(name).strip().lower() not in ID_NAMES:
        return False
    v = pd.to_numeric(values, errors="coerce")
    if v.isna().any():
        return False
    steps = np.diff(v.to_numpy())
    return bool(len(v) > 0 and v.iloc[0] in (0, 1) and np.all(steps == 1))


def read_table(
    source, max_rows: int | None = None, max_columns: int | None = None, sample_over: bool = False
) -> pd.DataFrame:
    """The table of a CSV file (path, bytes or file-like), its names cleaned, checked as a whole:
    readable, a header without repeats, data rows, at least two columns. ``max_rows`` refuses a
    longer file, unless ``sample_over`` (then every row is read; ``load_table`` samples).
    ``ValueError`` says what is wrong with the file."""
    text = _read_text(source)
    header = _header(text)
    if max_columns is not None and len(header) > max_columns:
        raise ValueError(f"the file has {len(header)} columns; the limit is {max_columns}")
    try:
        df = pd.read_csv(
            io.StringIO(text),
            nrows=None if max_rows is None or sample_over else max_rows + 1,
            skipinitialspace=True,
            on_bad_lines="error",
        )
    except pd.errors.EmptyDataError:
        raise ValueError("the file is empty or has no columns") from None
    except (pd.errors.ParserError, csv.Error, UnicodeError, ValueError, OverflowError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"the file is not a readable CSV table: {msg[:200]}") from None
    # When the rows have more values than the header has names, pandas makes the first
    # column(s) the index: fine for an unnamed running index (dropped like an Id), else an error.
    n = len(df)
    if not (df.index.equals(pd.RangeIndex(n)) or df.index.equals(pd.RangeIndex(1, n + 1))):
        raise ValueError("the data rows have more values than the header has column names")
    df = df.reset_index(drop=True)
    if max_rows is not None and len(df) > max_rows and not sample_over:
        raise ValueError(f"the file has more than {max_rows} rows; the limit is {max_rows}")
    if max_columns is not None and df.shape[1] > max_columns:
        raise ValueError(f"the file has {df.shape[1]} columns; the limit is {max_columns}")
    df.columns = [strip_bidi(str(c)).strip() for c in df.columns]
    # pandas renames a repeated header name ("a", "a.1"); the raw header shows the repeat
    names = header if len(header) == df.shape[1] else list(df.columns)
    repeated = sorted({c for c in names if names.count(c) > 1})
    if repeated:
        raise ValueError(f"the header has duplicate column names: {', '.join(repeated[:10])}")
    if df.shape[0] == 0:
        raise ValueError("the file has a header but no data rows")
    if df.shape[1] < 2:
        hint = ""
        if ";" in text[:1000] or "\t" in text[:1000]:
            hint = " (columns must be separated by commas, not semicolons or tabs)"
        raise ValueError(
            f"the file needs at least two columns: one or more features and a target{hint}"
        )
    return df


def load_csv(
    source, target: str | None = None, max_rows: int | None = None, max_columns: int | None = None
) -> Dataset:
    """Read a comma-separated file (path, bytes or file-like) into a ``Dataset``.

    The target is the last column unless named. A first column named like an index (``Id``,
    ``index``, an empty name) that holds a running count from 0 or 1 is dropped. Class names are
    the target's distinct values, sorted (as numbers when they are numbers), as strings. Features
    must be numbers without gaps; the target needs two or more classes and at least two rows per
    class on average (else it is a measurement or an id, not a label). Text is read as UTF-8
    (with or without BOM), UTF-16 with BOM, or Latin-1. Column names and class names lose
    surrounding whitespace and bidirectional control characters (``nn.text.BIDI_CONTROLS``,
    which would make a name read as something else). ``max_rows`` and ``max_columns`` cap the
    table. Any problem is a ``ValueError`` whose message says what is wrong with the file.
    """
    df = read_table(source, max_rows=max_rows, max_columns=max_columns)
    if target is None:
        target = df.columns[-1]
    target = strip_bidi(str(target))
    if target not in df.columns:
        raise ValueError(f"the target column {target!r} does not exist in the file")
    y_raw = df.pop(target)
    for col in list(df.columns[:1]):
        if _is_id_column(col, df[col]):
            df = df.drop(columns=col)
    if df.shape[1] == 0:
        raise ValueError("there is no feature column besides the target")
    missing = [c for c in df.columns if df[c].isna().any()]
    if y_raw.isna().any():
        missing.append(target)
    if missing:
        raise ValueError(f"missing values in column(s): {', '.join(missing[:10])}")
    bad = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    converted = {}
    for c in bad:
        num = pd.to_numeric(df[c], errors="coerce")
        if not num.isna().any():
            converted[c] = num
    bad = [c for c in bad if c not in converted]
    if bad:
        if len(bad) == df.shape[1]:
            raise ValueError(
                f"no numeric feature column: {', '.join(bad[:10])} hold text; "
                "features must be numbers"
            )
        raise ValueError(
            f"non-numeric feature column(s): {', '.join(bad[:10])}; features must be numbers"
        )
    for c, num in converted.items():
        df[c] = num
    try:
        X = df.to_numpy(dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError("the feature columns could not be read as numbers") from None
    infinite = [
        str(c) for c, ok in zip(df.columns, np.isfinite(X).all(axis=0), strict=True) if not ok
    ]
    if infinite:
        raise ValueError(f"infinite or too large values in column(s): {', '.join(infinite[:10])}")
    class_names, y = _classes(y_raw)
    _check_classes(target, class_names, y)
    return Dataset(
        X=X,
        y=y.astype(np.int64),
        feature_names=[str(c) for c in df.columns],
        class_names=class_names,
        name=target if isinstance(source, (bytes, bytearray)) else _source_name(source),
    )


def load_table(
    source,
    target: str | None = None,
    roles: dict[str, str] | None = None,
    types: dict[str, str] | None = None,
    missing: str = "impute",
    max_rows: int | None = None,
    max_columns: int | None = None,
    seed: int = 0,
    fill: dict | None = None,
    task: str = "auto",
) -> Dataset:
    """Read a CSV of any columns into a ``Dataset``: the tables people actually have.

    Each column gets a role and a type (``nn.columns.describe``: identifiers, free text and
    constant columns are skipped; the target is ``target`` or the default one); ``roles`` and
    ``types`` override them by column name (roles "feature", "target", "skip"; types "numeric",
    "categorical"). Rows without a target are dropped. Gaps in features stay as NaN for the
    preprocessing to fill (``missing="impute"``), or their rows are dropped (``"drop"``). A
    file longer than ``max_rows`` is sampled to ``max_rows`` rows, stratified by class, with
    ``seed``. ``Dataset.notes`` says what was dropped, skipped or sampled. ``fill`` (keys of
    ``FILL_DEFAULTS``) is how ``split`` fills the gaps by default. ``task`` "classification"
    or "regression" (a numeric target), or "auto": ``nn.columns.default_task`` decides; the
    notes say which.
    """
    from nn import columns as cols

    if task not in TASK_CHOICES:
        raise ValueError(f"task must be one of {', '.join(TASK_CHOICES)}, got {task!r}")
    if missing not in ("impute", "drop"):
        raise ValueError(f"missing must be 'impute' or 'drop', got {missing!r}")
    fill = _check_fill(fill or {})
    rare = fill.get("rare", 0)
    df = read_table(source, max_rows=max_rows, max_columns=max_columns, sample_over=True)
    roles = {strip_bidi(str(k)).strip(): v for k, v in (roles or {}).items()}
    types = {strip_bidi(str(k)).strip(): v for k, v in (types or {}).items()}
    for name in (*roles, *types):
        if name not in df.columns:
            raise ValueError(f"there is no column {name!r} in the file")
    bad = {r for r in roles.values() if r not in cols.ROLES} | {
        t for t in types.values() if t not in (NUMERIC, CATEGORICAL)
    }
    if bad:
        raise ValueError(f"unknown role or type: {', '.join(map(str, sorted(bad)))}")
    chosen = [n for n, r in roles.items() if r == cols.TARGET]
    if target is None and chosen:
        target = chosen[0]
    if target is not None:
        target = strip_bidi(str(target)).strip()
        if target not in df.columns:
            raise ValueError(f"the target column {target!r} does not exist in the file")
    infos = cols.describe(df, target)
    for info in infos:
        if info.name in roles:
            info.role = roles[info.name]
        elif info.name in types and info.role == cols.SKIP:
            info.role = cols.FEATURE  # a type chosen for a skipped column asks to use it
    targets = [i.name for i in infos if i.role == cols.TARGET]
    if not targets:
        raise ValueError("there is no target column left: the target may not be skipped")
    if len(targets) > 1:
        raise ValueError(f"choose one target column, not {len(targets)}: {', '.join(targets)}")
    target = targets[0]
    notes = []
    y_raw = df[target]
    if task == "auto":
        task, why = cols.default_task(y_raw)
        if task == REGRESSION:
            notes.append(f"{target} is a number to predict (regression): {why}.")
    if task == REGRESSION:
        numbers = cols.as_numbers(y_raw)
        if numbers is None:
            numbers = pd.to_numeric(y_raw, errors="coerce").astype(float)
            if numbers.notna().sum() < y_raw.notna().sum() / 2:
                raise ValueError(
                    f"the target {target} holds text, not numbers; predict it as classes"
                )
            lost = int((numbers.isna() & y_raw.notna()).sum())
            notes.append(f"{lost:,} value(s) of {target} are not numbers: their rows are dropped.")
        y_raw = numbers
        if not np.all(np.isfinite(y_raw.dropna().to_numpy())):
            raise ValueError(f"infinite or too large values in the target {target}")
    keep = y_raw.notna().to_numpy()
    if not keep.all():
        notes.append(f"{int((~keep).sum()):,} row(s) without a value in {target} were dropped.")
        df, y_raw = df[keep].reset_index(drop=True), y_raw[keep].reset_index(drop=True)
    skipped = [i for i in infos if i.role == cols.SKIP]
    if skipped:
        notes.append("Not used: " + "; ".join(f"{i.name} ({i.reason})" for i in skipped[:10]) + ".")
    columns, kinds, names, categories = [], [], [], {}
    for info in infos:
        if info.role != cols.FEATURE:
            continue
        values = df[info.name]
        kind = types.get(info.name) or (NUMERIC if info.type == cols.NUMERIC else CATEGORICAL)
        if kind == NUMERIC:
            numbers = pd.to_numeric(values, errors="coerce").astype(float)
            lost = int((numbers.isna() & values.notna()).sum())
            if lost == values.notna().sum():
                raise ValueError(f"the column {info.name} holds no numbers; make it categorical")
            if lost:
                notes.append(f"{lost:,} value(s) of {info.name} are not numbers: read as gaps.")
            columns.append(numbers.to_numpy())
        else:
            from nn.preprocess import MAX_CATEGORIES, labels

            text = labels(values.to_numpy())
            counts = pd.Series(text).value_counts()
            present = sorted(counts.index)
            inputs = int((counts >= rare).sum()) + int(bool((counts < rare).any()))
            if inputs > MAX_CATEGORIES:
                grouped = f" with fewer than {rare} rows grouped" if rare > 1 else ""
                notes.append(
                    f"{info.name} was skipped: {len(present):,} different values are too many "
                    f"categories (the limit is {MAX_CATEGORIES}, categories{grouped})."
                )
                continue
            index = {label: float(i) for i, label in enumerate(present)}
            columns.append(np.array([np.nan if t is None else index[t] for t in text]))
            categories[info.name] = present
        kinds.append(kind)
        names.append(info.name)
    if not columns:
        raise ValueError("there is no feature column besides the target")
    X = np.column_stack(columns).astype(np.float64)
    if not np.all(np.isfinite(X) | np.isnan(X)):
        bad_cols = [n for n, ok in zip(names, np.all(~np.isinf(X), axis=0), strict=True) if not ok]
        raise ValueError(f"infinite or too large values in column(s): {', '.join(bad_cols[:10])}")
    if missing == "drop":
        complete = ~np.isnan(X).any(axis=1)
        if not complete.all():
            notes.append(f"{int((~complete).sum()):,} row(s) with a gap were dropped.")
            X, y_raw = X[complete], y_raw[complete].reset_index(drop=True)
    if task == REGRESSION:
        class_names, y = [], y_raw.to_numpy(dtype=np.float64)
        if len(y) < MIN_REGRESSION_ROWS:
            raise ValueError(
                f"the target {target} has {len(y)} rows with a value; at least "
                f"{MIN_REGRESSION_ROWS} are needed"
            )
    else:
        class_names, y = _classes(y_raw)
        _check_classes(target, class_names, y)
        y = y.astype(np.int64)
    if max_rows is not None and len(y) > max_rows:
        X, y = _sample(X, y, max_rows, seed)
        how = "" if task == REGRESSION else ", stratified by class"
        notes.append(
            f"Of its {len(y_raw):,} usable rows, this uses a random sample of {max_rows:,}"
            f"{how} (seed {seed})."
        )
    return Dataset(
        X=X,
        y=y,
        feature_names=names,
        class_names=class_names,
        name=target if isinstance(source, (bytes, bytearray)) else _source_name(source),
        task=task,
        target=target,
        kinds=kinds,
        categories=categories,
        notes=notes,
        fill=fill,
    )


def _check_fill(fill: dict) -> dict:
    rare = fill.get("rare", 0)
    if isinstance(rare, bool) or not isinstance(rare, (int, np.integer)) or rare < 0:
        raise ValueError(f"rare must be a whole number of rows, at least 0; got {rare!r}")
    unknown = set(fill) - set(FILL_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown fill choices: {', '.join(sorted(map(str, unknown)))}")
    return dict(fill)


def _check_classes(target: str, class_names: list[str], y: np.ndarray) -> None:
    if len(class_names) < 2:
        raise ValueError(
            f"the target column {target!r} has a single class; at least two are needed"
        )
    if len(y) < 2 * len(class_names):
        # far fewer rows than classes: a measurement or an id column chosen as the target
        raise ValueError(
            f"the target column {target!r} has {len(class_names)} classes in {len(y)} rows: "
            "fewer rows than two per class; choose a column of class labels as the target"
        )


def _sample(X: np.ndarray, y: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows drawn at random, stratified by class where every class has two rows (a
    numeric target: not stratified)."""
    from sklearn.model_selection import train_test_split

    stratify = None
    if y.dtype.kind in "iu":
        counts = np.bincount(y)
        stratify = y if counts[counts > 0].min() >= 2 else None
    rows = np.arange(len(y))
    try:
        kept, _ = train_test_split(rows, train_size=n, random_state=seed, stratify=stratify)
    except ValueError:
        kept, _ = train_test_split(rows, train_size=n, random_state=seed)
    kept = np.sort(kept)
    return X[kept], y[kept]


def _header(text: str) -> list[str]:
    """The column names of the first line, stripped (empty if it cannot be parsed)."""
    first_line = text.lstrip("\r\n").splitlines()[0] if text.strip() else ""
    try:
        return [
            strip_bidi(c).strip() for c in next(csv.reader([first_line], skipinitialspace=True))
        ]
    except (csv.Error, StopIteration):
        return []


def _classes(y_raw: pd.Series) -> tuple[list[str], np.ndarray]:
    """Sorted class names and labels 0..k-1; numbers sort as numbers (2 before 10)."""
    if pd.api.types.is_numeric_dtype(y_raw):
        values, y = np.unique(y_raw.to_numpy(), return_inverse=True)
        if np.issubdtype(values.dtype, np.floating) and np.all(values == np.round(values)):
            values = values.astype(np.int64)  # 0/1 read as floats (a gap elsewhere): "0", "1"
        return [str(v.item()) for v in values], y
    labels = y_raw.astype(str).map(strip_bidi).str.strip().to_numpy()
    values, y = np.unique(labels, return_inverse=True)
    return [str(v) for v in values], y


def _source_name(source) -> str:
    name = getattr(source, "name", None) if not isinstance(source, (str, os.PathLike)) else source
    return Path(str(name)).stem if name else "csv"


# ---- bundled and synthetic ----


def load_dataset(name: str, n_samples: int = 300, noise: float = 0.2, seed: int = 0) -> Dataset:
    """A bundled dataset by name, or a 2-D synthetic one (``n_samples``, ``noise``, ``seed``)."""
    if name == "iris":
        ds = load_csv(DATA_DIR / "Iris.csv", target="Species")
        ds.name = "iris"
        return ds
    if name == "diabetes":
        from sklearn.datasets import load_diabetes

        bunch = load_diabetes(scaled=False)  # in the measurements' own units
        return Dataset(
            X=np.asarray(bunch.data, dtype=np.float64),
            y=np.asarray(bunch.target, dtype=np.float64),
            feature_names=[str(f) for f in bunch.feature_names],
            class_names=[],
            name=name,
            task=REGRESSION,
            target="progression",
        )
    if name in BUNDLED:
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{name}")()
        return Dataset(
            X=np.asarray(bunch.data, dtype=np.float64),
            y=np.asarray(bunch.target, dtype=np.int64),
            feature_names=[str(f) for f in bunch.feature_names],
            class_names=[str(c) for c in bunch.target_names],
            name=name,
        )
    if name not in SYNTHETIC:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
        raise ValueError(f"n_samples must be a whole number, got {n_samples!r}")
    if n_samples < 6:
        raise ValueError(f"n_samples must be at least 6, got {n_samples}")
    if not isinstance(noise, (int, float, np.floating)) or not 0 <= noise <= 10:
        raise ValueError(f"noise must be a number from 0 to 10, got {noise!r}")
    if name in REGRESSION_SETS:
        X, y = _surface(name, int(n_samples), float(noise), int(seed))
        return Dataset(
            X=X,
            y=y,
            feature_names=["x"] if X.shape[1] == 1 else ["x1", "x2"],
            class_names=[],
            name=name,
            task=REGRESSION,
            target="y",
        )
    X, y = _synthetic(name, int(n_samples), float(noise), int(seed))
    n_classes = int(y.max()) + 1
    return Dataset(
        X=X.astype(np.float64),
        y=y.astype(np.int64),
        feature_names=["x1", "x2"],
        class_names=[f"class {c}" for c in range(n_classes)],
        name=name,
    )


def _surface(name: str, n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic regression set: a sine over x in [-3, 3] (1-D), or a plane or a bump over
    [-1, 1]^2 (2-D, as in TensorFlow Playground), plus Gaussian noise whose standard deviation
    is ``noise`` times a quarter of the signal's range (0.5 for the sine, whose range is 2)."""
    rng = np.random.default_rng(seed)
    if name == "sine":
        x = np.sort(rng.uniform(-3.0, 3.0, size=n))
        y = np.sin(1.5 * x) + rng.normal(0.0, noise * 2.0 / 4, size=n)
        return x.reshape(-1, 1), y
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    if name == "plane":
        y = X[:, 0] + 0.5 * X[:, 1]
        span = 3.0
    else:  # bump: a Gaussian hill in the middle
        y = np.exp(-4.0 * (X[:, 0] ** 2 + X[:, 1] ** 2))
        span = 1.0
    return X, y + rng.normal(0.0, noise * span / 4, size=n)


def _two_spirals(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """TensorFlow Playground's spiral: two arms of 1.75 turns each, out to radius 5, the second
    the first turned by half a turn, each point moved by up to ``noise`` in x1 and in x2
    (uniformly). Hard for a small network on x1 and x2 alone; easy once sin(x1) and sin(x2)
    are inputs too (``nn.preprocess.ENGINEERED``)."""
    sizes = (n - n // 2, n // 2)
    X, y = [], []
    for label, (m, turn) in enumerate(zip(sizes, (0.0, np.pi), strict=True)):
        share = np.arange(m) / max(m, 1)
        r = 5.0 * share
        t = 1.75 * 2 * np.pi * share + turn
        points = np.c_[r * np.sin(t), r * np.cos(t)]
        X.append(points + rng.uniform(-1.0, 1.0, size=(m, 2)) * noise)
        y.append(np.full(m, label))
    order = rng.permutation(n)  # the rows in no particular order, as the other sets give them
    return np.vstack(X)[order], np.concatenate(y).astype(np.int64)[order]


def _synthetic(name: str, n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if name == "moons":
        from sklearn.datasets import make_moons

        return make_moons(n, noise=noise, random_state=seed)
    if name == "circles":
        from sklearn.datasets import make_circles

        return make_circles(n, noise=noise / 2, factor=0.5, random_state=seed)
    if name == "blobs":
        from sklearn.datasets import make_blobs

        return make_blobs(n, centers=3, cluster_std=1.0 + 2 * noise, random_state=seed)
    if name == "xor":
        X = rng.uniform(-1.0, 1.0, size=(n, 2))
        y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64)
        return X + rng.normal(0.0, noise / 4, size=X.shape), y
    if name == "spirals":
        return _two_spirals(n, noise, rng)
    # spiral: three interleaved arms
    k = 3
    y = np.arange(n) % k
    r = rng.uniform(0.05, 1.0, size=n)
    theta = y * (2 * np.pi / k) + 4.0 * r + rng.normal(0.0, noise / 2, size=n)
    return np.c_[r * np.sin(theta), r * np.cos(theta)], y


# ---- splitting ----


def split_sizes(n: int, test_size: float = 0.15, val_size: float = 0.10) -> dict[str, int]:
    """Rows in each part for ``n`` rows, as ``split`` makes them (scikit-learn's rounding)."""
    _check_ratios(test_size, val_size)
    n_test = int(np.ceil(test_size * n))
    rest = n - n_test
    n_val = int(np.ceil(val_size * rest)) if val_size > 0 else 0
    return {"train": rest - n_val, "validation": n_val, "test": n_test}


def _check_ratios(test_size: float, val_size: float) -> None:
    for name, value in (("test_size", test_size), ("val_size", val_size)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
            raise ValueError(f"{name} must be a number, got {value!r}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be between 0 and 1 (exclusive), got {test_size}")
    if not 0 <= val_size < 1:
        raise ValueError(f"val_size must be at least 0 and below 1, got {val_size}")


def split(
    data,
    test_size: float = 0.15,
    val_size: float = 0.10,
    seed: int = 0,
    stratify: bool = False,
    standardize: bool = False,
    shuffle: bool = True,
    numeric_fill: str | None = None,
    category_fill: str | None = None,
    indicators: bool | None = None,
    engineered="none",
) -> Split:
    """The article's protocol: ``test_size`` of the rows for testing, then ``val_size`` of the
    rest for validation (0 gives an empty validation part); shuffled with ``seed``.

    ``data`` is a ``Dataset`` or a pair ``(X, y)``. The parts are made by a ``Preprocessor``
    fitted on the training part only: with ``standardize`` it subtracts the training mean and
    divides by the training standard deviation. A table's ``Dataset`` (categories or gaps)
    gets ``Preprocessor.fit_table`` with ``numeric_fill`` ("median"), ``category_fill``
    ("category") and ``indicators`` (False), or the dataset's own ``fill`` choices when not given.
    ``engineered`` (names of ``nn.preprocess.ENGINEERED``, a list or comma-separated text, or
    "none"; for two numeric features) adds
    inputs such as x1² and sin(x1), fitted with the rest (``Preprocessor.with_engineered``).
    """
    from sklearn.model_selection import train_test_split

    X, y = _features_and_labels(data)
    if isinstance(data, Dataset):
        features = [str(f) for f in data.feature_names]
    else:
        features = [f"x{j}" for j in range(X.shape[1])]
    fractions = y.ndim == 1 and y.dtype.kind == "f" and not np.all(y == np.round(y))
    if fractions or (isinstance(data, Dataset) and data.is_regression):
        stratify = False  # a number has no classes to keep in proportion
    _check_ratios(test_size, val_size)
    sizes = split_sizes(len(X), test_size, val_size)
    if min(sizes["train"], sizes["test"]) < 1:
        raise ValueError(f"{len(X)} rows are too few to split into {sizes}")
    # stratify on class labels, also when y is one-hot
    labels = y.argmax(axis=1) if y.ndim == 2 else y
    strat = labels if stratify else None
    if stratify:
        _check_stratify(labels, sizes, shuffle)
    try:
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=test_size, random_state=seed, stratify=strat, shuffle=shuffle
        )
        if val_size > 0:
            X_tr, X_va, y_tr, y_va = train_test_split(
                X_tr,
                y_tr,
                test_size=val_size,
                random_state=seed,
                stratify=(y_tr.argmax(axis=1) if y_tr.ndim == 2 else y_tr) if stratify else None,
                shuffle=shuffle,
            )
        else:
            X_va, y_va = X[:0].copy(), y[:0].copy()
    except ValueError as exc:
        raise ValueError(f"cannot split these rows: {exc}") from None
    raw = (X_tr, X_va, X_te)
    engineered = check_engineered(engineered)
    if isinstance(data, Dataset) and data.is_table:
        chosen = {
            "numeric_fill": numeric_fill,
            "category_fill": category_fill,
            "indicators": indicators,
        }
        fill = {**FILL_DEFAULTS, **data.fill, **{k: v for k, v in chosen.items() if v is not None}}
        pre = Preprocessor.fit_table(
            data.table(X_tr), data.feature_kinds(), standardize=standardize, **fill
        )
        if engineered:
            pre = pre.with_engineered(data.table(X_tr), engineered)
        X_tr, X_va, X_te = (pre.transform(data.table(a)) for a in raw)
    else:
        pre = Preprocessor.fit(X_tr, features, standardize=standardize)
        if engineered:
            pre = pre.with_engineered(X_tr, engineered)
        X_tr, X_va, X_te = (pre.transform(a) for a in raw)
    return Split(
        X_train=X_tr,
        y_train=y_tr,
        X_val=X_va,
        y_val=y_va,
        X_test=X_te,
        y_test=y_te,
        preprocessor=pre,
        sizes={"train": len(X_tr), "validation": len(X_va), "test": len(X_te)},
        raw_train=raw[0],
        raw_val=raw[1],
        raw_test=raw[2],
        decode=data.table if isinstance(data, Dataset) and data.is_table else None,
    )


def _features_and_labels(data) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` from a ``Dataset`` or a pair, checked: 2-D numeric ``X``, one label per row."""
    if isinstance(data, Dataset):
        X, y = data.X, data.y
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        X, y = data
    else:
        raise ValueError("split needs a Dataset or a pair (X, y)")
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("the features X must be numbers") from None
    y = np.asarray(y)
    if X.ndim != 2:
        raise ValueError(
            f"the features X must be a 2-D table (rows, features), got shape {X.shape}"
        )
    if y.ndim not in (1, 2) or len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has shape {y.shape}: one label per row needed")
    return X, y


def _check_stratify(labels: np.ndarray, sizes: dict[str, int], shuffle: bool) -> None:
    """Stratifying is possible: shuffled, two rows per class, a row per class in every part."""
    if not shuffle:
        raise ValueError("stratify needs shuffle=True")
    counts = np.unique(labels, return_counts=True)[1]
    if counts.min() < 2:
        raise ValueError("cannot stratify: some class has fewer than 2 rows")
    parts = [sizes["test"], sizes["train"] + sizes["validation"]]
    if sizes["validation"]:
        parts += [sizes["validation"], sizes["train"]]
    if min(parts) < len(counts):
        raise ValueError(
            f"too few rows to stratify: each part needs at least one row per class "
            f"({len(counts)} classes; parts of {sizes})"
        )
