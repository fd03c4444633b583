"""The preprocessing that belongs to a model: raw feature values in, network inputs out.

A ``Preprocessor`` is fitted on the training rows only, travels inside the saved model as JSON
(``to_dict``/``from_dict``, never pickled), and is what every path that turns raw values into
network inputs calls: training, single and batch predictions, decision surfaces, the CLI.

It is one step per raw feature column, in order:

- a numeric column gives one input: its value, a gap filled with the training median, mean or
  a constant, then (when standardizing) ``(x - mean) / scale``; optionally a second input that
  is 1 where the value was missing;
- a categorical column gives one input per category seen in the training rows (one-hot); a gap
  is its own category (or the most frequent one), categories with fewer training rows than a
  threshold may share one input, "(other)", and a category never seen in training gives all
  zeros.

How a gap is filled is chosen per column.

The values are fitted with scikit-learn's ``SimpleImputer``, ``StandardScaler`` and
``OneHotEncoder`` and exported as plain numbers and strings; ``transform`` applies them with
NumPy (tests/test_preprocess.py checks it against scikit-learn's ``ColumnTransformer``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

FORMAT = "nn-lab-preprocessor/2"
FORMATS = ("nn-lab-preprocessor/1", FORMAT)
NUMERIC, CATEGORICAL = "numeric", "categorical"
NUMERIC_FILLS = ("median", "mean", "constant")
CATEGORY_FILLS = ("category", "most_frequent")
MISSING = "(missing)"  # the category a gap becomes with the "category" strategy
OTHER = "(other)"  # the one input that the categories rarer than ``rare`` share
MAX_CATEGORIES = 50
# Inputs made from a 2-D set's two features, as in TensorFlow Playground: each name, and how
# its input's name reads for features named a and b. Computed from the raw values (a gap
# filled first), then standardized like the other inputs when standardizing.
ENGINEERED = {
    "x1_sq": "{a}²",
    "x2_sq": "{b}²",
    "x1_x2": "{a}·{b}",
    "sin_x1": "sin({a})",
    "sin_x2": "sin({b})",
}


@dataclass
class Column:
    """The fitted step of one raw feature column (see the module's docstring).

    ``fill``: the value a gap becomes (None: the training rows had no gap and none is
    expected; a gap then raises). ``mean``/``scale``: standardization of a numeric value.
    ``categories``: a categorical column's inputs, one per category, in order; ``other``: the
    training categories that share the input ``OTHER`` (too rare to have their own).
    """

    name: str
    kind: str = NUMERIC
    fill: float | str | None = None
    indicator: bool = False
    mean: float | None = None
    scale: float | None = None
    categories: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    @property
    def n_inputs(self) -> int:
        if self.kind == CATEGORICAL:
            return len(self.categories)
        return 1 + int(self.indicator)

    def input_names(self) -> list[str]:
        if self.kind == CATEGORICAL:
            return [f"{self.name}={c}" for c in self.categories]
        return [self.name] + ([f"{self.name} (missing)"] if self.indicator else [])

    def to_dict(self) -> dict:
        data = {"name": self.name, "kind": self.kind, "fill": self.fill}
        if self.kind == CATEGORICAL:
            data["categories"] = list(self.categories)
            if self.other:
                data["other"] = list(self.other)
        else:
            data.update(indicator=self.indicator, mean=self.mean, scale=self.scale)
        return data


@dataclass(eq=False)
class Preprocessor:
    """The fitted steps of every raw feature column, in order (see the module's docstring).

    ``Preprocessor(features, mean, scale)`` still builds the numeric-only kind: every feature a
    number with no gaps, standardized when ``mean`` and ``scale`` are given.
    """

    features: list[str]
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    columns: list[Column] | None = None
    # engineered inputs (names of ENGINEERED, in its order) after the columns' inputs, and
    # their standardization (fitted on the training rows; None when not standardizing)
    engineered: tuple[str, ...] = ()
    engineered_mean: np.ndarray | None = None
    engineered_scale: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.features = [str(f) for f in self.features]
        if self.columns is None:
            self.columns = _numeric_columns(self.features, self.mean, self.scale)
        if [c.name for c in self.columns] != self.features:
            raise ValueError("the preprocessor's steps must follow its feature columns")
        for column in self.columns:
            _check_column(column)
        numeric = [c for c in self.columns if c.kind == NUMERIC]
        scaled = [c.scale is not None for c in numeric]
        if any(scaled) and not all(scaled):
            raise ValueError("the preprocessor standardizes all numeric columns or none")
        if numeric and all(scaled):
            self.mean = np.array([c.mean for c in numeric], dtype=np.float64)
            self.scale = np.array([c.scale for c in numeric], dtype=np.float64)
        else:
            self.mean = self.scale = None
        self.engineered = check_engineered(self.engineered)
        if self.engineered:
            if not self.numeric_only or self.n_features != 2:
                raise ValueError(
                    "engineered inputs (x1², sin(x1), ...) need exactly two numeric features"
                )
            n = len(self.engineered)
            for name in ("engineered_mean", "engineered_scale"):
                value = getattr(self, name)
                if value is not None:
                    value = np.asarray(value, dtype=np.float64)
                    if value.shape != (n,) or not np.isfinite(value).all():
                        raise ValueError(f"the preprocessing's {name} must be {n} numbers")
                    setattr(self, name, value)
            if (self.engineered_mean is None) != (self.engineered_scale is None):
                raise ValueError("the engineered inputs need both a mean and a scale, or neither")
            if self.engineered_scale is not None and (self.engineered_scale <= 0).any():
                raise ValueError("the engineered inputs' scales must be above 0")
        else:
            self.engineered_mean = self.engineered_scale = None

    def __repr__(self) -> str:
        extra = f", engineered={list(self.engineered)}" if self.engineered else ""
        return (
            f"Preprocessor({self.n_features} features -> {self.n_inputs} inputs, "
            f"standardize={self.standardize}{extra})"
        )

    def __eq__(self, other) -> bool:
        if not isinstance(other, Preprocessor):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    @property
    def standardize(self) -> bool:
        """True when the numeric inputs are standardized."""
        return self.mean is not None

    @property
    def n_features(self) -> int:
        """Number of raw feature columns it takes."""
        return len(self.features)

    @property
    def n_inputs(self) -> int:
        """Number of network inputs it gives (the columns', then the engineered ones)."""
        return sum(c.n_inputs for c in self.columns) + len(self.engineered)

    @property
    def numeric_only(self) -> bool:
        """True when every column is a number giving one input (no categories, no indicator):
        then ``inverse`` exists and raw rows are plain float arrays."""
        return all(c.kind == NUMERIC and not c.indicator for c in self.columns)

    def input_names(self) -> list[str]:
        """One name per network input ("sex=male", "age", "age (missing)", "sin(x1)")."""
        names = [name for c in self.columns for name in c.input_names()]
        if self.engineered:
            a, b = self.features
            names += [ENGINEERED[e].format(a=a, b=b) for e in self.engineered]
        return names

    def with_engineered(self, X, engineered) -> Preprocessor:
        """A copy that also gives the ``engineered`` inputs (names of ``ENGINEERED``) of a
        two-feature set, standardized (when this one standardizes) with the mean and standard
        deviation of their values on the training rows ``X`` (raw values, as ``transform``
        takes them). ``ValueError`` for another kind of data or an unknown name."""
        names = check_engineered(engineered)
        plain = Preprocessor(list(self.features), columns=[*self.columns])
        if not names:
            return plain
        made = Preprocessor(list(self.features), columns=[*self.columns], engineered=names)
        if not self.standardize:
            return made
        values = made._engineered_values(plain.transform(X))
        scale = values.std(axis=0)
        made.engineered_mean = values.mean(axis=0)
        made.engineered_scale = np.where(scale > 0, scale, 1.0)
        return made

    def _engineered_values(self, base: np.ndarray) -> np.ndarray:
        """The engineered inputs, not standardized, from the columns' inputs ``base`` (n, 2):
        computed on the raw values (standardizing undone)."""
        x = base * self.scale + self.mean if self.standardize else base
        x1, x2 = x[:, 0], x[:, 1]
        made = {
            "x1_sq": x1 * x1,
            "x2_sq": x2 * x2,
            "x1_x2": x1 * x2,
            "sin_x1": np.sin(x1),
            "sin_x2": np.sin(x2),
        }
        return np.column_stack([made[e] for e in self.engineered])

    def _with_engineered_inputs(self, base: np.ndarray) -> np.ndarray:
        if not self.engineered:
            return base
        extra = self._engineered_values(base)
        if self.engineered_mean is not None:
            extra = (extra - self.engineered_mean) / self.engineered_scale
        return np.hstack([base, extra])

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    # ---- fitting ----

    @classmethod
    def fit(cls, X, features: list[str], standardize: bool = False) -> Preprocessor:
        """Fit on numeric training rows ``X`` (n, n_features) with these column names."""
        X = _rows(X, len(features))
        if not standardize:
            return cls(list(features))
        scale = X.std(axis=0)
        return cls(list(features), X.mean(axis=0), np.where(scale > 0, scale, 1.0))

    @classmethod
    def fit_table(
        cls,
        frame,
        kinds: dict[str, str],
        standardize: bool = False,
        numeric_fill: str | dict = "median",
        category_fill: str | dict = "category",
        indicators: bool | dict = False,
        fill_values: dict[str, float] | None = None,
        rare: int = 0,
    ) -> Preprocessor:
        """Fit on the training rows of a table (a pandas DataFrame of raw values).

        ``kinds`` maps each feature column, in order, to "numeric" or "categorical". What a gap
        becomes, for every column or per column name (a dict; columns it does not name get the
        default): ``numeric_fill`` "median", "mean" or "constant" (``fill_values[name]``, else
        0); ``category_fill`` "category" (the category ``MISSING``) or "most_frequent";
        ``indicators`` adds a "was missing" input to a numeric column that has gaps in the
        training rows. Categories with fewer than ``rare`` training rows share the input
        ``OTHER`` (0 or 1: every category has its own). Fitted with scikit-learn's
        ``SimpleImputer``, ``StandardScaler`` and ``OneHotEncoder(min_frequency=rare)``.
        """
        from sklearn.impute import SimpleImputer
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        if isinstance(rare, bool) or not isinstance(rare, (int, np.integer)) or rare < 0:
            raise ValueError(f"rare must be a whole number of rows, at least 0; got {rare!r}")
        steps = []
        for name, kind in kinds.items():
            values = frame[name]
            if kind == NUMERIC:
                how = _choice(numeric_fill, name, "median", NUMERIC_FILLS, "a missing number")
                x = numbers(values).reshape(-1, 1)
                gaps = bool(np.isnan(x).any())
                constant = (fill_values or {}).get(name, 0.0)
                if not _finite(constant):
                    raise ValueError(f"the fill value of {name} must be a finite number")
                imputer = SimpleImputer(strategy=how, fill_value=float(constant)).fit(x)
                fill = float(imputer.statistics_[0])
                if not math.isfinite(fill):
                    raise ValueError(f"the column {name} has no value in the training rows")
                flag = _choice(indicators, name, False, (False, True), "a gap indicator")
                step = Column(name, NUMERIC, fill=fill, indicator=bool(flag) and gaps)
                if standardize:
                    scaler = StandardScaler().fit(imputer.transform(x))
                    step.mean, step.scale = float(scaler.mean_[0]), float(scaler.scale_[0])
                steps.append(step)
            elif kind == CATEGORICAL:
                how = _choice(category_fill, name, "category", CATEGORY_FILLS, "a missing category")
                x = labels(values)
                x = np.where(x == None, np.nan, x).reshape(-1, 1)  # noqa: E711 (the imputer's gap)
                if how == "category":
                    imputer = SimpleImputer(strategy="constant", fill_value=MISSING)
                else:
                    imputer = SimpleImputer(strategy="most_frequent")
                filled = imputer.fit(x).transform(x)
                encoder = OneHotEncoder(
                    handle_unknown="ignore", min_frequency=int(rare) if rare > 1 else None
                ).fit(filled)
                grouped = getattr(encoder, "infrequent_categories_", [None])[0]
                other = sorted(str(c) for c in grouped) if grouped is not None else []
                categories = [str(c) for c in encoder.categories_[0] if str(c) not in other]
                if other:
                    if OTHER in categories:
                        raise ValueError(
                            f"the column {name} has a category called {OTHER}; rename it to "
                            "group the rare categories"
                        )
                    categories.append(OTHER)
                if len(categories) > MAX_CATEGORIES:
                    raise ValueError(
                        f"the column {name} has {len(categories)} categories; the limit is "
                        f"{MAX_CATEGORIES}"
                    )
                fill = str(imputer.statistics_[0])
                steps.append(
                    Column(name, CATEGORICAL, fill=fill, categories=categories, other=other)
                )
            else:
                raise ValueError(f"a column is numeric or categorical, not {kind!r}")
        return cls([s.name for s in steps], columns=steps)

    # ---- applying ----

    def transform(self, X) -> np.ndarray:
        """Raw rows -> network inputs (n, n_inputs), float64 (a new array).

        ``X`` is a table with the feature columns by name (any order, other columns ignored),
        or rows of values in the order of ``features`` (a 1-D row comes back as one row).
        """
        if self.numeric_only and not _is_table(X):
            X = _rows(X, self.n_features)
            out = (X - self.mean) / self.scale if self.standardize else X.copy()
            if not self.engineered:
                return out
            made = self._with_engineered_inputs(np.atleast_2d(out))
            return made[0] if X.ndim == 1 else made
        one = not _is_table(X) and np.ndim(X) == 1
        cells = self._cells(X)
        parts = []
        for j, column in enumerate(self.columns):
            values = cells[j]
            if column.kind == NUMERIC:
                x = numbers(values)
                missing = np.isnan(x)
                if missing.any():
                    if column.fill is None:
                        raise ValueError(f"the column {column.name} has gaps")
                    x = np.where(missing, column.fill, x)
                if column.scale is not None:
                    x = (x - column.mean) / column.scale
                parts.append(x[:, None])
                if column.indicator:
                    parts.append(missing.astype(np.float64)[:, None])
            else:
                text = labels(values)
                text = np.where(text == None, column.fill, text)  # noqa: E711 (object array)
                if column.other:
                    text = np.where(np.isin(text, column.other), OTHER, text)
                parts.append((text[:, None] == np.array(column.categories)[None, :]) * 1.0)
        out = np.hstack(parts) if parts else np.zeros((len(cells[0]) if cells else 0, 0))
        out = self._with_engineered_inputs(out)
        return out[0] if one else out

    def unseen(self, X) -> dict[str, list[str]]:
        """Per categorical column, the values in ``X`` never seen in training (all-zero inputs)."""
        cells = self._cells(X)
        found = {}
        for j, column in enumerate(self.columns):
            if column.kind != CATEGORICAL:
                continue
            text = labels(cells[j])
            new = sorted({t for t in text if t is not None} - {*column.categories, *column.other})
            if new:
                found[column.name] = new
        return found

    def inverse(self, X) -> np.ndarray:
        """Network inputs back in the data's own units (numeric-only preprocessors)."""
        if not self.numeric_only:
            raise ValueError("only numeric inputs can be turned back into raw values")
        X = _rows(X, self.n_features)
        return X * self.scale + self.mean if self.standardize else X.copy()

    def _cells(self, X) -> list:
        """One 1-D sequence of raw values per feature column."""
        if _is_table(X):
            absent = [f for f in self.features if f not in X.columns]
            if absent:
                raise ValueError(f"missing column(s): {', '.join(absent[:10])}")
            return [X[f].to_numpy() for f in self.features]
        rows = np.asarray(X, dtype=object)
        if rows.ndim == 1:
            rows = rows[None, :]
        if rows.ndim != 2 or rows.shape[1] != self.n_features:
            raise ValueError(
                f"expected rows of {self.n_features} feature values, got shape {rows.shape}"
            )
        return [rows[:, j] for j in range(self.n_features)]

    # ---- saving ----

    def to_dict(self) -> dict:
        """Plain JSON-serializable data (``from_dict`` reads it back)."""
        data = {"format": FORMAT, "columns": [c.to_dict() for c in self.columns]}
        if self.engineered:
            data["engineered"] = list(self.engineered)
            if self.engineered_mean is not None:
                data["engineered_mean"] = self.engineered_mean.tolist()
                data["engineered_scale"] = self.engineered_scale.tolist()
        return data

    @classmethod
    def from_dict(cls, data) -> Preprocessor:
        """Read ``to_dict``'s output (or the numeric-only format 1); ``ValueError`` naming what
        is wrong for anything else."""
        if not isinstance(data, dict) or data.get("format") not in FORMATS:
            raise ValueError(f"the preprocessing is not in the format {FORMAT}")
        if data["format"] == FORMATS[0]:
            return _from_format_1(data)
        raw = data.get("columns")
        if not isinstance(raw, list):
            raise ValueError("the preprocessing's columns must be a list")
        steps = [_column_from_dict(c) for c in raw]
        engineered = data.get("engineered", [])
        if not isinstance(engineered, list):
            raise ValueError("the preprocessing's engineered inputs must be a list")
        extra = {}
        for name in ("engineered_mean", "engineered_scale"):
            value = data.get(name)
            if value is not None:
                if not isinstance(value, list) or not all(_finite(v) for v in value):
                    raise ValueError(f"the preprocessing's {name} must be a list of numbers")
                extra[name] = np.array(value, dtype=np.float64)
        return cls([s.name for s in steps], columns=steps, engineered=tuple(engineered), **extra)


def check_engineered(names) -> tuple[str, ...]:
    """Engineered input names (``ENGINEERED``) in their canonical order, each once;
    ``ValueError`` naming an unknown one."""
    if names is None:
        return ()
    if isinstance(names, str):
        names = [n for n in names.split(",") if n.strip()]
    names = [str(n).strip() for n in names if str(n).strip() != "none"]  # the settings' "none"
    unknown = [n for n in names if n not in ENGINEERED]
    if unknown:
        raise ValueError(
            f"unknown engineered input {unknown[0][:40]!r}; choose from {', '.join(ENGINEERED)}"
        )
    return tuple(e for e in ENGINEERED if e in names)


# ---- raw values ----


def numbers(values) -> np.ndarray:
    """Raw values as float64, a gap (None, NaN, empty or unreadable text) as NaN."""
    import pandas as pd

    return pd.to_numeric(pd.Series(np.asarray(values, dtype=object)), errors="coerce").to_numpy(
        dtype=np.float64
    )


def labels(values) -> np.ndarray:
    """Raw values as category labels (stripped text; whole numbers without ".0"), a gap as None."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out[i] = None
            continue
        if isinstance(v, (bool, np.bool_)):
            out[i] = str(bool(v))
            continue
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)
        text = str(v).strip()
        out[i] = text if text else None
    return out


def _is_table(X) -> bool:
    return hasattr(X, "columns") and hasattr(X, "to_numpy")


def _rows(X, n_features: int) -> np.ndarray:
    """``X`` as float rows with ``n_features`` columns (one row may be given as a 1-D array,
    and comes back as one)."""
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("the feature values must be numbers") from None
    if X.ndim not in (1, 2) or X.shape[-1] != n_features:
        raise ValueError(
            f"expected rows of {n_features} feature values, got an array of shape {X.shape}"
        )
    return X


# ---- reading and checking ----


def _numeric_columns(features: list[str], mean, scale) -> list[Column]:
    if (mean is None) != (scale is None):
        raise ValueError("a preprocessor needs both mean and scale, or neither")
    if mean is None:
        return [Column(f) for f in features]
    mean = np.asarray(mean, dtype=np.float64)
    scale = np.asarray(scale, dtype=np.float64)
    n = len(features)
    if mean.shape != (n,) or scale.shape != (n,):
        raise ValueError(f"the preprocessor's mean and scale must have one value per feature ({n})")
    return [
        Column(f, mean=float(m), scale=float(s))
        for f, m, s in zip(features, mean, scale, strict=True)
    ]


def _choice(choice, name: str, default, allowed: tuple, what: str):
    """The choice for column ``name``: ``choice`` itself, or its entry when it is a dict by
    column name (``default`` for a column it does not name); checked against ``allowed``."""
    value = choice.get(name, default) if isinstance(choice, dict) else choice
    if isinstance(value, (bool, np.bool_)) and any(isinstance(a, bool) for a in allowed):
        return bool(value)
    if isinstance(value, str) and value in allowed:
        return value
    shown = ", ".join(map(str, allowed))
    raise ValueError(f"{what} in {name} becomes one of {shown}, not {value!r}")


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_column(c: Column) -> None:
    if not isinstance(c.name, str):
        raise ValueError("the preprocessing's column names must be text")
    if c.kind == NUMERIC:
        if c.fill is not None and not _finite(c.fill):
            raise ValueError(f"the fill value of {c.name} must be a finite number")
        if (c.mean is None) != (c.scale is None):
            raise ValueError(f"the standardization of {c.name} needs a mean and a scale")
        if c.mean is not None:
            if not (_finite(c.mean) and _finite(c.scale)):
                raise ValueError("the preprocessor's mean and scale must be finite numbers")
            if c.scale <= 0:
                raise ValueError("the preprocessor's scales must be positive")
        if not isinstance(c.indicator, bool):
            raise ValueError(f"the indicator of {c.name} must be true or false")
        if c.indicator and c.fill is None:
            raise ValueError(f"the column {c.name} has a gap indicator but no fill value")
    elif c.kind == CATEGORICAL:
        cats = c.categories
        if not isinstance(cats, list) or not cats or not all(isinstance(x, str) for x in cats):
            raise ValueError(f"the categories of {c.name} must be a list of text")
        if len(set(cats)) != len(cats) or len(cats) > MAX_CATEGORIES:
            raise ValueError(
                f"the categories of {c.name} must be distinct, at most {MAX_CATEGORIES}"
            )
        if not isinstance(c.fill, str):
            raise ValueError(f"the gap category of {c.name} must be text")
        other = c.other
        if not isinstance(other, list) or not all(isinstance(x, str) for x in other):
            raise ValueError(f"the rare categories of {c.name} must be a list of text")
        if other and (OTHER not in cats or set(other) & set(cats)):
            raise ValueError(f"the rare categories of {c.name} must share the input {OTHER}")
    else:
        raise ValueError(f"a column is numeric or categorical, not {c.kind!r}")


def _column_from_dict(raw) -> Column:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ValueError("each preprocessing column needs a name")
    kind = raw.get("kind")
    if kind == CATEGORICAL:
        known = {"name", "kind", "fill", "categories", "other"}
    elif kind == NUMERIC:
        known = {"name", "kind", "fill", "indicator", "mean", "scale"}
    else:
        raise ValueError(f"a column is numeric or categorical, not {kind!r}")
    if set(raw) - known:
        raise ValueError(f"unknown fields in the preprocessing of {raw['name']}")
    return Column(**{k: raw[k] for k in known if k in raw})


def _from_format_1(data: dict) -> Preprocessor:
    features = data.get("features")
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        raise ValueError("the preprocessing's feature names must be a list of text")
    std = data.get("standardize")
    if std is None:
        return Preprocessor(features)
    if not isinstance(std, dict) or set(std) != {"mean", "scale"}:
        raise ValueError("the preprocessing's standardization is malformed")
    for key in ("mean", "scale"):
        values = std[key]
        if not isinstance(values, list) or not all(_finite(v) for v in values):
            raise ValueError(f"the preprocessing's {key} must be a list of finite numbers")
    return Preprocessor(features, np.array(std["mean"], float), np.array(std["scale"], float))
