"""Property-based tests: the CSV loader and the model loader on random and mutated input.

Whatever they are given, they either succeed with a valid result or raise ``ValueError``; never
another exception and never a hang (every example has a deadline).
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nn

FUZZ = settings(
    max_examples=200,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
    database=None,
)


def check_dataset(ds) -> None:
    """What every Dataset the loader returns must satisfy."""
    X, y = np.asarray(ds.X), np.asarray(ds.y)
    assert X.ndim == 2 and X.shape[0] == len(y) >= 2
    assert X.shape[1] == len(ds.feature_names) >= 1
    assert X.dtype == np.float64 and np.isfinite(X).all()
    assert np.issubdtype(y.dtype, np.integer)
    assert len(ds.class_names) >= 2
    assert y.min() >= 0 and y.max() < len(ds.class_names)
    assert all(isinstance(name, str) for name in ds.feature_names)
    assert all(isinstance(name, str) for name in ds.class_names)


def load_csv_or_value_error(data, **kwargs):
    try:
        ds = nn.data.load_csv(data, **kwargs)
    except ValueError as exc:
        assert str(exc), "a ValueError needs a message"
        return None
    check_dataset(ds)
    return ds


# ---- CSV ----


@FUZZ
@given(st.binary(max_size=4096))
def test_load_csv_on_random_bytes(data):
    load_csv_or_value_error(io.BytesIO(data))


@FUZZ
@given(st.text(max_size=2000))
def test_load_csv_on_random_text(text):
    load_csv_or_value_error(text.encode("utf-8", errors="surrogatepass"))


NAMES = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    min_size=0,
    max_size=12,
)
CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["", "NaN", "nan", "NA", "null", "inf", "-inf", "1e400", " 3 ", "1,5"]),
    st.sampled_from(['=HYPERLINK("http://x","y")', "<script>alert(1)</script>", '"', "a\nb"]),
    NAMES,
)


@st.composite
def tables(draw):
    """A CSV written from a header and rows of mixed numbers, text and missing values."""
    n_cols = draw(st.integers(1, 6))
    header = draw(st.lists(NAMES, min_size=n_cols, max_size=n_cols))
    n_rows = draw(st.integers(0, 25))
    rows = draw(
        st.lists(
            # rows of any length: short and ragged rows on purpose
            st.lists(CELLS, min_size=max(0, n_cols - 2), max_size=n_cols + 2),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
    quote = draw(st.booleans())

    def field(cell: str) -> str:
        if quote or any(ch in cell for ch in ',"\n\r'):
            return '"' + cell.replace('"', '""') + '"'
        return cell

    lines = [",".join(field(c) for c in header)] + [",".join(field(c) for c in r) for r in rows]
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))


@FUZZ
@given(tables(), st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_load_csv_on_random_tables(text, encoding):
    load_csv_or_value_error(text.encode(encoding, errors="replace"))


@st.composite
def numeric_tables(draw):
    """A table that should load: finite numeric features and a label column with 2+ classes."""
    n_features = draw(st.integers(1, 5))
    n_rows = draw(st.integers(4, 30))
    X = draw(
        st.lists(
            st.lists(
                st.floats(-1e6, 1e6, allow_nan=False, width=32),
                min_size=n_features,
                max_size=n_features,
            ),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
    classes = st.sampled_from(["a", "b", "<b>c</b>", "=1+1"])
    labels = draw(st.lists(classes, min_size=n_rows, max_size=n_rows))
    return X, labels


@FUZZ
@given(numeric_tables())
def test_load_csv_reads_valid_tables_exactly(table):
    X, labels = table
    header = ",".join(f"f{j}" for j in range(len(X[0]))) + ",label"
    body = "\n".join(",".join(repr(v) for v in row) + f",{lab}" for row, lab in zip(X, labels))
    distinct = sorted(set(labels))
    counts = [labels.count(c) for c in distinct]
    try:
        ds = nn.data.load_csv(f"{header}\n{body}\n".encode())
    except ValueError as exc:
        # the only refusals a well-formed numeric table may get: too few classes or rows
        assert len(distinct) < 2 or len(labels) < 2 * len(distinct), str(exc)
        return
    check_dataset(ds)
    np.testing.assert_allclose(ds.X, np.asarray(X, dtype=np.float64), rtol=1e-15, atol=0)
    assert ds.class_names == distinct
    assert [ds.class_names[k] for k in ds.y] == labels
    assert sum(counts) == len(labels)


# ---- model files ----


def _model_bytes(layers=(4, 5, 3), trained: bool = True) -> bytes:
    net = nn.Network.from_config(
        {
            "layers": list(layers),
            "activation": "sigmoid",
            "output_activation": "softmax",
            "loss": "cross_entropy",
            "seed": 1,
        }
    )
    if trained:
        rng = np.random.default_rng(0)
        X = rng.normal(size=(20, layers[0]))
        y = rng.integers(0, layers[-1], 20)
        net.fit(X, y, epochs=2, learning_rate=0.1)
    buffer = io.BytesIO()
    net.save(buffer)
    return buffer.getvalue()


VALID_MODEL = _model_bytes()


def load_model_or_value_error(data: bytes):
    try:
        net = nn.Network.load(io.BytesIO(data))
    except ValueError as exc:
        assert str(exc)
        return None
    # a model that loads must work
    n_in = net.config["layers"][0]
    out = net.predict_proba(np.zeros((2, n_in)))
    assert out.shape == (2, net.config["layers"][-1])
    return net


def test_the_valid_model_loads_back_identically():
    net = nn.Network.load(io.BytesIO(VALID_MODEL))
    again = nn.Network.load(io.BytesIO(VALID_MODEL))
    for a, b in zip(net.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert net.epochs_trained == 2


@FUZZ
@given(st.binary(max_size=4096))
def test_model_load_on_random_bytes(data):
    load_model_or_value_error(data)


@FUZZ
@given(st.binary(min_size=1, max_size=64))
def test_model_load_on_random_bytes_with_a_zip_signature(tail):
    load_model_or_value_error(b"PK\x03\x04" + tail)


@st.composite
def mutations(draw):
    """A valid model file with a few bytes flipped, a slice cut out, or junk inserted."""
    data = bytearray(VALID_MODEL)
    kind = draw(st.sampled_from(["flip", "truncate", "cut", "insert"]))
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= draw(st.integers(1, 255))
    elif kind == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif kind == "cut":
        i = draw(st.integers(0, len(data) - 1))
        j = draw(st.integers(i + 1, min(len(data), i + 200)))
        del data[i:j]
    else:
        i = draw(st.integers(0, len(data)))
        data[i:i] = draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


@FUZZ
@given(mutations())
def test_model_load_on_mutated_model_files(data):
    load_model_or_value_error(data)


# Mutations of the JSON metadata inside a well-formed archive reach the config checks, which
# random byte flips rarely do (the zip's CRC catches those first).
META_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**6), 10**9),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=10),
    ),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)


@st.composite
def mutated_metadata(draw):
    with np.load(io.BytesIO(VALID_MODEL), allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    meta = json.loads(str(arrays["meta"]))
    target = draw(st.sampled_from(["meta", "config", "history", "weights"]))
    if target == "meta":
        key = draw(st.sampled_from([*meta.keys(), "extra"]))
        meta[key] = draw(META_VALUES)
    elif target == "config":
        key = draw(st.sampled_from([*meta["config"].keys(), "extra"]))
        meta["config"][key] = draw(META_VALUES)
    elif target == "history":
        meta["history"] = draw(st.lists(META_VALUES, max_size=3))
    else:
        name = draw(st.sampled_from(sorted(k for k in arrays if k != "meta")))
        shape = draw(st.sampled_from([(), (1,), (3, 3), (0,)]))
        arrays[name] = np.zeros(shape)
    arrays["meta"] = np.array(json.dumps(meta, allow_nan=True))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@FUZZ
@given(mutated_metadata())
def test_model_load_on_mutated_metadata(data):
    load_model_or_value_error(data)


def _pickled_npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, meta=np.array({"format": "x"}, dtype=object), w0=np.zeros(3))
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a zip",
        _pickled_npz(),  # an object array would need unpickling: refused, never loaded
        VALID_MODEL[:100],
        VALID_MODEL[:-1],
        _model_bytes(trained=False)[::-1],
    ],
)
def test_model_load_refuses_obvious_junk(data):
    with pytest.raises(ValueError):
        nn.Network.load(io.BytesIO(data))
