"""Hostile input below the browser: random files for the loaders, values past the app's limits.

The CSV loader and the model loader, on random and mutated input, either succeed with a valid
result or raise ``ValueError``; never another exception and never a hang (every example has a
deadline). Widget values and URL parameters past the demo's limits, sent the way a modified
client could send them, are refused on the server.
"""

from __future__ import annotations

import io
import json
import math
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

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
    body = "\n".join(
        ",".join(repr(v) for v in row) + f",{lab}" for row, lab in zip(X, labels, strict=True)
    )
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
    # the history holds each epoch's duration: zero it so the bytes, and with them the
    # examples hypothesis derives from them, are the same on every run
    with np.load(io.BytesIO(buffer.getvalue()), allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    meta = json.loads(str(arrays["meta"]))
    for record in meta.get("history", []):
        record["seconds"] = 0.0
    arrays["meta"] = np.array(json.dumps(meta))
    fixed = io.BytesIO()
    np.savez(fixed, **arrays)
    return fixed.getvalue()


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


def _zip_version(data: bytes, version: int) -> bytes:
    """``data`` with the "version needed to extract" of its first central record changed."""
    i = data.index(b"PK\x01\x02") + 6
    return data[:i] + version.to_bytes(2, "little") + data[i + 2 :]


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
        _zip_version(VALID_MODEL, 109),  # zipfile: NotImplementedError("zip file version 10.9")
        VALID_MODEL[:100],
        VALID_MODEL[:-1],
        _model_bytes(trained=False)[::-1],
    ],
    ids=[
        "empty",
        "not_a_zip",
        "pickled",
        "zip_version",
        "first_100_bytes",
        "one_short",
        "reversed",
    ],
)
def test_model_load_refuses_obvious_junk(data):
    with pytest.raises(ValueError):
        nn.Network.load(io.BytesIO(data))


def test_model_load_refuses_a_zip_bomb_without_inflating_it(tmp_path):
    """A small compressed .npz that inflates to 400 MB: refused before it is unpacked.

    An upload limit of a few MB is no limit for a compressed archive (deflate packs zeros about
    1000:1), so the loader must check the members' sizes first. Measured in a fresh process,
    whose peak memory is not shared with other tests.
    """
    with np.load(io.BytesIO(VALID_MODEL), allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["w0"] = np.zeros(50_000_000)  # 400 MB once inflated
    path = tmp_path / "bomb.npz"
    with open(path, "wb") as f:
        np.savez_compressed(f, **arrays)
    assert path.stat().st_size < 1024 * 1024
    # VmHWM (peak resident memory) is per address space, so it starts afresh in the child;
    # getrusage's ru_maxrss would carry over the peak of this (large) pytest process.
    code = (
        "import io, sys\n"
        "import nn\n"
        "def peak_kb():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM:'):\n"
        "            return int(line.split()[1])\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "base = peak_kb()\n"
        "try:\n"
        "    nn.Network.load(io.BytesIO(data))\n"
        "    print('loaded')\n"
        "except ValueError:\n"
        "    print('refused')\n"
        "print((peak_kb() - base) // 1024)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
        check=True,
    )
    verdict, grown_mb = result.stdout.split()
    assert verdict == "refused"
    assert int(grown_mb) < 100, f"loading the 0.4 MB file took {grown_mb} MB of memory"


# ---- widget values and URL parameters past the limits (AppTest) ----

APP = Path(__file__).resolve().parent.parent / "streamlit_app.py"


def open_page(page: str, query: dict | None = None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=60)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.switch_page(page)
    return at.run()


def shown_messages(at) -> str:
    return "\n".join(str(e.value) for e in [*at.warning, *at.error, *at.info])


@pytest.fixture
def fresh_caches():
    import streamlit

    streamlit.cache_data.clear()
    yield
    streamlit.cache_data.clear()


HOSTILE_QUERIES = {
    "bundled": {
        "data": "<img src=x onerror=alert(1)>",
        "epochs": "10000000",
        "lr": "nan",
        "batch": "-1",
        "hidden": ",".join(["256"] * 50),
        "act": "<script>alert(1)</script>",
        "test": "0.99",
        "seed": "-5",
        "momentum": "7",
        "patience": "9" * 300,
        "opt": "__import__('os')",
    },
    "synthetic": {
        "data": "moons",
        "samples": "1e12",
        "noise": "inf",
        "data_seed": "-1",
        "hidden": "100000,3",
        "l2": "1e308",
        "epochs": "-3",
    },
}


def within_limits(ss) -> None:
    from dashboard.common import limits
    from dashboard.data import datasets

    spec, split, arch, train = (
        ss["app.data_spec"],
        ss["app.split_settings"],
        ss["app.arch"],
        ss["app.train_settings"],
    )
    assert spec["source"] in datasets.SOURCES
    if spec["source"] in datasets.SYNTHETIC:
        assert 20 <= spec["n_samples"] <= limits.MAX_SYNTHETIC_SAMPLES
        assert 0.0 <= spec["noise"] <= 1.0
        assert 0 <= spec["seed"] <= limits.MAX_SEED
    assert 0.05 <= split["test_size"] <= 0.5 and 0.0 <= split["val_size"] <= 0.5
    assert len(arch["hidden"]) <= limits.MAX_HIDDEN_LAYERS
    assert all(1 <= n <= limits.MAX_NODES for n in arch["hidden"])
    ds = ss["app.dataset"]
    layers = [ds.X.shape[1], *arch["hidden"], len(ds.class_names)]
    assert nn.network.count_params(layers) <= limits.MAX_PARAMS
    assert 0 <= arch["seed"] <= limits.MAX_SEED
    assert 1 <= train["epochs"] <= limits.MAX_EPOCHS
    lr = train["learning_rate"]
    assert math.isfinite(lr) and limits.MIN_LEARNING_RATE <= lr <= limits.MAX_LEARNING_RATE
    assert 1 <= train["batch_size"] <= limits.MAX_BATCH_SIZE
    assert 0.0 <= train["l2"] <= limits.MAX_L2
    assert 0.0 <= train["momentum"] < 1.0
    assert 1 <= train["patience"] <= limits.MAX_PATIENCE
    assert train["optimizer"] in ("sgd", "momentum", "adam")


@pytest.mark.parametrize("case", sorted(HOSTILE_QUERIES))
@pytest.mark.parametrize(
    "page", ["pages/1_Data.py", "pages/2_Architecture.py", "pages/3_Train.py", "pages/4_Predict.py"]
)
def test_url_parameters_past_the_limits_are_refused_with_a_message(fresh_caches, page, case):
    query = HOSTILE_QUERIES[case]
    at = open_page(page, query)
    assert not at.exception, [e.value for e in at.exception]
    within_limits(at.session_state)
    ss = at.session_state
    assert ss["app.train_settings"]["epochs"] != int(float(query["epochs"]))
    messages = shown_messages(at)
    assert at.warning, "refused values must be explained"
    plain = messages.replace("\\", "")
    assert "Epochs" in plain
    if case == "synthetic":
        assert ss["app.data_spec"]["source"] == "moons"
        assert "Samples" in plain
    else:
        assert ss["app.data_spec"]["source"] == "iris"
    # the link's text is quoted escaped (a backslash before "<"), never as markup
    for element in [*at.markdown, *at.caption, *at.warning, *at.error, *at.info]:
        assert not re.search(r"(?<!\\)<(img|script)", str(element.value)), element.value


def _train(ss):
    return ss["app.train_settings"]


def _spec(ss):
    return ss["app.data_spec"]


def _split(ss):
    return ss["app.split_settings"]


def _arch(ss):
    return ss["app.arch"]


# (page, what to choose first, widget key, hostile value, where it lands, allowed range);
# "what to choose first" is a dataset on the Data page, an optimizer on the Train page.
PAST_THE_LIMITS = [
    ("pages/3_Train.py", None, "train.epochs", 10**7, lambda ss: _train(ss)["epochs"], (1, 2000)),
    ("pages/3_Train.py", None, "train.epochs", 0, lambda ss: _train(ss)["epochs"], (1, 2000)),
    (
        "pages/3_Train.py",
        None,
        "train.learning_rate",
        1e12,
        lambda ss: _train(ss)["learning_rate"],
        (1e-6, 1e6),
    ),
    (
        "pages/3_Train.py",
        None,
        "train.learning_rate",
        -1.0,
        lambda ss: _train(ss)["learning_rate"],
        (1e-6, 1e6),
    ),
    (
        "pages/3_Train.py",
        None,
        "train.learning_rate",
        float("nan"),
        lambda ss: _train(ss)["learning_rate"],
        (1e-6, 1e6),
    ),
    (
        "pages/3_Train.py",
        None,
        "train.batch_size",
        10**9,
        lambda ss: _train(ss)["batch_size"],
        (1, 114),
    ),
    ("pages/3_Train.py", None, "train.l2", 1e9, lambda ss: _train(ss)["l2"], (0.0, 10.0)),
    (
        "pages/3_Train.py",
        "momentum",
        "train.momentum",
        5.0,
        lambda ss: _train(ss)["momentum"],
        (0, 1),
    ),
    (
        "pages/1_Data.py",
        "moons",
        "data.n_samples",
        10**9,
        lambda ss: _spec(ss)["n_samples"],
        (20, 5000),
    ),
    ("pages/1_Data.py", "moons", "data.noise", 50.0, lambda ss: _spec(ss)["noise"], (0.0, 1.0)),
    ("pages/1_Data.py", "moons", "data.seed", -3, lambda ss: _spec(ss)["seed"], (0, 2**31 - 1)),
    (
        "pages/1_Data.py",
        None,
        "data.split.test_size",
        0.99,
        lambda ss: _split(ss)["test_size"],
        (0.05, 0.5),
    ),
    (
        "pages/1_Data.py",
        None,
        "data.split.seed",
        2**40,
        lambda ss: _split(ss)["seed"],
        (0, 2**31 - 1),
    ),
    (
        "pages/2_Architecture.py",
        None,
        "arch.w.nodes.0",
        10**6,
        lambda ss: _arch(ss)["hidden"][0],
        (1, 256),
    ),
    ("pages/2_Architecture.py", None, "arch.w.seed", -5, lambda ss: _arch(ss)["seed"], (0, 2**31)),
]


@pytest.mark.parametrize(
    ("page", "source", "key", "value", "where", "allowed"),
    PAST_THE_LIMITS,
    ids=[f"{row[2]}={row[3]!r}" for row in PAST_THE_LIMITS],
)
def test_widget_values_past_the_limits_are_refused_on_the_server(
    fresh_caches, page, source, key, value, where, allowed
):
    """A modified client can send any widget value: the server keeps the setting in bounds.

    Streamlit resets an out-of-range number or slider value to the widget's default, and the
    app clamps what still gets through with a message; either way the hostile value never
    becomes a setting.
    """
    at = open_page(page)
    if source is not None:
        chooser = "data.source" if page.endswith("Data.py") else "train.optimizer"
        at.selectbox(key=chooser).set_value(source).run()
    widget = at.get("number_input") + at.get("slider")
    (element,) = [w for w in widget if w.key == key]
    element.set_value(value).run()
    assert not at.exception, [e.value for e in at.exception]
    stored = where(at.session_state)
    lo, hi = allowed
    assert math.isfinite(stored) and lo <= stored <= hi, stored
    assert stored != value


def test_a_batch_larger_than_the_training_set_is_clamped_with_a_message(fresh_caches):
    at = open_page("pages/3_Train.py")
    at.number_input(key="train.batch_size").set_value(4000).run()
    assert not at.exception
    assert at.session_state["app.train_settings"]["batch_size"] == 114
    assert "114 training rows" in shown_messages(at).replace("\\", "")


def test_a_network_past_the_parameter_limit_is_refused_with_a_message(fresh_caches):
    at = open_page("pages/2_Architecture.py")
    for _ in range(4):
        at.button(key="arch.add").click().run()
    assert at.button(key="arch.add").disabled  # six hidden layers: the limit
    for i in range(4):
        at.number_input(key=f"arch.w.nodes.{i}").set_value(256).run()
    assert not at.exception
    assert "200,000" in shown_messages(at)
    applied = at.session_state["app.arch"]["hidden"]
    assert nn.network.count_params([4, *applied, 3]) <= 200_000
