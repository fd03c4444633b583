"""Datasets for the app: the catalogue, cached loaders, CSV uploads within limits, splits."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
import streamlit as st

import nn
from dashboard import limits

BUNDLED = {
    "iris": "Iris (150 flowers, 4 features, 3 species)",
    "wine": "Wine (178 wines, 13 features, 3 cultivars)",
    "breast_cancer": "Breast cancer (569 tumours, 30 features, 2 classes)",
    "digits": "Digits (1,797 8x8 images, 64 pixels, 10 digits)",
}
SYNTHETIC = {
    "moons": "Moons (2-D, 2 classes)",
    "circles": "Circles (2-D, 2 classes)",
    "xor": "XOR (2-D, 2 classes)",
    "spiral": "Spiral (2-D, 3 classes)",
    "blobs": "Blobs (2-D, 3 classes)",
}
CSV = "csv"
SOURCES = {**BUNDLED, **SYNTHETIC, CSV: "Upload a CSV file"}
SYNTHETIC_DEFAULTS = {"n_samples": 300, "noise": 0.2, "seed": 0}
DEFAULT_SPEC = {"source": "iris"}
DEFAULT_SPLIT = {**nn.presets.ARTICLE["split"], "seed": 0}


@st.cache_data(max_entries=48, show_spinner=False)
def load_builtin(name: str, n_samples: int | None = None, noise: float | None = None, seed=None):
    """A bundled or generated dataset (cached: the same for every visitor)."""
    if name in SYNTHETIC:
        return nn.data.load_dataset(name, n_samples=n_samples, noise=noise, seed=seed)
    return nn.data.load_dataset(name)


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


def csv_columns(data: bytes) -> list[str]:
    """Column names of an uploaded CSV, read from its first rows; ``ValueError`` if unreadable."""
    too_big = limits.check_upload_size(len(data))
    if too_big:
        raise ValueError(too_big)
    if not data.strip():
        raise ValueError("The file is empty.")
    try:
        head = pd.read_csv(io.BytesIO(data), nrows=5)
    except UnicodeDecodeError:
        raise ValueError("The file is not UTF-8 text; save it as a UTF-8 CSV.") from None
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
    return [str(c) for c in head.columns]


def load_uploaded_csv(data: bytes, target: str, name: str):
    """A Dataset from an uploaded CSV within the limits; ``ValueError`` with a clear message."""
    columns = csv_columns(data)
    if target not in columns:
        raise ValueError("The chosen target column is not in the file.")
    n_lines = data.count(b"\n")
    if n_lines > limits.MAX_ROWS + 1:
        raise ValueError(
            f"The file has about {n_lines:,} rows; this demo accepts up to {limits.MAX_ROWS:,}."
        )
    try:
        dataset = nn.data.load_csv(io.BytesIO(data), target=target)
    except ValueError as exc:
        raise ValueError(f"The file could not be used: {exc}") from None
    except Exception as exc:  # the loader promises ValueError; never let junk crash the page
        raise ValueError(f"The file could not be read ({type(exc).__name__}: {exc}).") from None
    problem = limits.check_table_shape(len(dataset.y), dataset.X.shape[1], len(dataset.class_names))
    if problem:
        raise ValueError(problem)
    if len(dataset.class_names) < 2:
        raise ValueError("The target column has a single class; a classifier needs two or more.")
    with contextlib.suppress(AttributeError):  # a frozen dataclass keeps the loader's name
        dataset.name = name
    return dataset


def make_split(dataset, settings: dict):
    """The train/validation/test split of ``dataset`` for these settings."""
    return nn.data.split(
        dataset,
        test_size=settings["test_size"],
        val_size=settings["val_size"],
        seed=settings["seed"],
        stratify=settings["stratify"],
        standardize=settings["standardize"],
    )


def check_split_settings(settings: dict) -> tuple[dict, list[str]]:
    """Clamp the split controls to sensible ranges; messages for what changed."""
    test, m1 = limits.clamp_float("Test share", settings.get("test_size"), 0.05, 0.5, 0.15)
    val, m2 = limits.clamp_float("Validation share", settings.get("val_size"), 0.0, 0.5, 0.10)
    seed, m3 = limits.clamp_int("Split seed", settings.get("seed"), 0, limits.MAX_SEED, 0)
    checked = {
        "test_size": test,
        "val_size": val,
        "seed": seed,
        "stratify": bool(settings.get("stratify")),
        "standardize": bool(settings.get("standardize")),
    }
    return checked, [m for m in (m1, m2, m3) if m]


def scaler_arrays(scaler) -> tuple[np.ndarray, np.ndarray] | None:
    """``(mean, std)`` of a split's scaler, whatever shape the scaler object has, or None."""
    if scaler is None:
        return None
    if isinstance(scaler, dict):
        return np.asarray(scaler["mean"], float), np.asarray(scaler["std"], float)
    if isinstance(scaler, (tuple, list)):
        return np.asarray(scaler[0], float), np.asarray(scaler[1], float)
    return np.asarray(scaler.mean, float), np.asarray(scaler.std, float)


def to_network_units(X, scaler) -> np.ndarray:
    """Raw feature values as the network sees them (standardized when the split was)."""
    X = np.asarray(X, dtype=float)
    ms = scaler_arrays(scaler)
    return X if ms is None else (X - ms[0]) / ms[1]


def to_raw_units(X, scaler) -> np.ndarray:
    """Network inputs back in the data's own units."""
    X = np.asarray(X, dtype=float)
    ms = scaler_arrays(scaler)
    return X if ms is None else X * ms[1] + ms[0]


def target_column_name(feature_names: list[str]) -> str:
    """A name for the class column of a table that no feature already uses."""
    name = "class"
    while name in feature_names:
        name += "_"
    return name


def dataset_frame(dataset, rows: int | None = None) -> pd.DataFrame:
    """The dataset as a table: features and the class name of each row."""
    X = dataset.X if rows is None else dataset.X[:rows]
    y = dataset.y if rows is None else dataset.y[:rows]
    names = [str(n) for n in dataset.feature_names]
    frame = pd.DataFrame(np.asarray(X), columns=names)
    classes = np.asarray([str(c) for c in dataset.class_names], dtype=object)
    frame[target_column_name(names)] = classes[np.asarray(y, dtype=int)]
    return frame


def sample_rows(n: int, max_rows: int, seed: int = 0) -> np.ndarray:
    """Row indices to plot: all of them, or a fixed random sample of ``max_rows``."""
    if n <= max_rows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_rows, replace=False))
