"""The broken-CSV corpus (tests/data/bad/) through ``nn.data.load_csv`` and the app's upload.

Every broken file gets a ``ValueError`` with a clear message from the loader, and on the Data
page a clear message while the previous dataset stays selected and the app keeps working.
Files that are numerically valid but carry formulas or HTML load, with that text kept as plain
data and never rendered as HTML. The files too big to commit are made in a temporary directory.
"""

from __future__ import annotations

import importlib.util
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nn
from dashboard.common import limits
from dashboard.common.text import WORD_JOINER, md_escape
from dashboard.data import datasets
from dashboard.predict import results
from dashboard.training import loop
from nn.text import BIDI_CONTROLS
from tests.test_text import AUTOLINK_EMAIL, AUTOLINK_URL

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "data" / "bad"

_spec = importlib.util.spec_from_file_location("make_bad_csvs", BAD.parent / "make_bad_csvs.py")
make = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make)

# file -> a pattern the loader's message must match (case-insensitive)
REFUSED = {
    "empty.csv": r"empty",
    "whitespace_only.csv": r"empty",
    "header_only.csv": r"header but no data rows",
    "binary_junk.csv": r"binary",
    "utf16_without_bom.csv": r"binary",
    "utf32.csv": r"encoding",
    "ragged_rows.csv": r"not a readable CSV.*expected 5 fields",
    "short_rows.csv": r"missing values.*PetalWidthCm",
    "text_in_features.csv": r"non-numeric feature column.*SepalWidthCm",
    "html_in_feature_cells.csv": r"non-numeric feature column.*SepalLengthCm",
    "nans.csv": r"missing values.*SepalLengthCm.*PetalLengthCm.*PetalWidthCm",
    "missing_target.csv": r"missing values.*Species",
    "single_class.csv": r"single class",
    "one_column.csv": r"at least two columns",
    "semicolons.csv": r"at least two columns.*semicolons",
    "id_and_target_only.csv": r"no feature column",
    "duplicate_header.csv": r"duplicate column names.*SepalLengthCm",
    "infinite_values.csv": r"infinite.*SepalLengthCm.*PetalLengthCm",
    "unterminated_quote.csv": r"not a readable CSV",
    "class_per_row.csv": r"30 classes in 30 rows",
}
# file -> what the Data page says (it checks the header itself before the loader runs)
# Files the strict numeric loader (load_csv) refuses but the Data page takes as the tables
# people have (nn.data.load_table): file -> what its notes must say.
APP_TAKES = {
    "nans.csv": r"",
    "text_in_features.csv": r"10 value\(s\) of SepalWidthCm are not numbers: read as gaps",
    "html_in_feature_cells.csv": r"8 value\(s\) of SepalLengthCm are not numbers",
    "missing_target.csv": r"row\(s\) without a value in Species were dropped",
}
APP_REFUSED = {
    **{k: v for k, v in REFUSED.items() if k not in APP_TAKES},
    "ragged_rows.csv": r"does not look like a CSV table",
    # its short rows lack the target: 15 rows are left, too few to stratify 3 classes
    "short_rows.csv": r"too few rows to stratify",
    "one_column.csv": r"fewer than two columns",
    "semicolons.csv": r"fewer than two columns",
}
LOADS = {
    "formula_injection.csv",
    "markdown_and_addresses_in_names.csv",
    "html_in_headers_and_cells.csv",
    "utf16_with_bom.csv",
    "invalid_utf8_bytes.csv",
}
HOSTILE = [
    make.SCRIPT,
    make.IMG,
    make.FORMULA,
    "<b>bold</b>",
    make.MD_IMAGE,
    make.MD_LINK,
    make.ADDRESSES,
    "www.evil",
    "](",
]


def corpus_files() -> list[str]:
    return sorted(p.name for p in BAD.iterdir() if p.is_file())


def iris_subset():
    """The 30 Iris rows every corpus file starts from."""
    rows = make.iris_rows()
    X = np.array([[float(v) for v in r[:4]] for r in rows])
    return X, [r[4] for r in rows]


def test_the_corpus_is_complete_and_committed_as_generated():
    assert corpus_files() == sorted(set(REFUSED) | LOADS)
    for name, content in make.corpus().items():
        assert (BAD / name).read_bytes() == content, f"{name}: run tests/data/make_bad_csvs.py"


# ---- the loader ----


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_loader_refuses_a_broken_file_with_a_clear_message(name):
    with pytest.raises(ValueError, match=re.compile(REFUSED[name], re.I | re.S)):
        nn.data.load_csv(BAD / name)
    # the same through bytes and a file object, as the app passes it
    with pytest.raises(ValueError, match=re.compile(REFUSED[name], re.I | re.S)):
        nn.data.load_csv(io.BytesIO((BAD / name).read_bytes()))


def test_formula_cells_load_as_plain_text():
    ds = nn.data.load_csv(BAD / "formula_injection.csv")
    X, species = iris_subset()
    np.testing.assert_array_equal(ds.X, X)
    injected = {"Iris-setosa": make.FORMULA, "Iris-versicolor": "@SUM(1+1)"}
    expected = [injected.get(s, "+cmd|' /C calc'!A0") for s in species]
    assert [ds.class_names[k] for k in ds.y] == expected
    assert sorted(ds.class_names) == sorted([make.FORMULA, "@SUM(1+1)", "+cmd|' /C calc'!A0"])


def test_html_in_headers_and_cells_loads_as_plain_text():
    ds = nn.data.load_csv(BAD / "html_in_headers_and_cells.csv")
    X, _ = iris_subset()
    np.testing.assert_array_equal(ds.X, X)
    assert ds.feature_names == [make.SCRIPT, make.IMG, "<b>petal</b> length", "petal width"]
    assert sorted(ds.class_names) == sorted([make.IMG, make.SCRIPT, "<b>bold</b>"])


def test_utf16_with_a_bom_reads_like_utf8():
    ds = nn.data.load_csv(BAD / "utf16_with_bom.csv")
    X, species = iris_subset()
    np.testing.assert_array_equal(ds.X, X)
    assert ds.feature_names == make.HEADER[:4]
    assert [ds.class_names[k] for k in ds.y] == species


def test_invalid_utf8_bytes_fall_back_to_latin1():
    ds = nn.data.load_csv(BAD / "invalid_utf8_bytes.csv")
    np.testing.assert_array_equal(ds.X, iris_subset()[0])
    assert ds.feature_names[0] == "Sepal\xff\xfeLength"


def test_an_enormous_header_is_refused_by_the_column_limit(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(make.enormous_header(20_000))
    with pytest.raises(ValueError, match="20000 columns; the limit is 101"):
        nn.data.load_csv(path, max_columns=limits.MAX_COLUMNS + 1)


def test_a_megabyte_header_name_is_refused_or_kept_verbatim(tmp_path):
    path = tmp_path / "long_name.csv"
    path.write_bytes(make.megabyte_header_line())
    try:
        ds = nn.data.load_csv(path, max_columns=limits.MAX_COLUMNS + 1)
    except ValueError as exc:
        assert re.search(r"column name|header", str(exc), re.I), exc
        assert len(str(exc)) < 1000, "the message must not repeat the megabyte name"
    else:
        assert ds.feature_names == ["x" * 1024 * 1024]
        assert ds.X.shape == (4, 1)


def test_more_rows_than_the_limit_are_refused():
    data = make.just_over(limits.MAX_UPLOAD_MB * 1024 * 1024)
    with pytest.raises(ValueError, match=f"more than {limits.MAX_ROWS} rows"):
        nn.data.load_csv(io.BytesIO(data), max_rows=limits.MAX_ROWS)


# ---- the app's upload (AppTest) ----


def texts(at) -> list[str]:
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "text", "title"):
        out += [str(e.value) for e in getattr(at, kind)]
    out += [str(m.label) + " " + str(m.value) for m in at.metric]
    return out


def upload(at, name: str, content: bytes):
    """Choose "Upload a CSV", upload, and press "Use this CSV" when the preview accepts it."""
    at.selectbox(key="data.source").set_value("csv").run()
    at.file_uploader(key="data.upload").upload(name, content, "text/csv")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    previewed = not at.error
    if previewed:
        at.button(key="data.use_csv").click().run()
        assert not at.exception, [e.value for e in at.exception]
    return previewed


def unescape(markdown: str, keep_joiners: bool = False) -> str:
    """Markdown with backslash escapes (and the invisible word joiners ``md_escape`` puts into
    addresses) removed: the text a user reads."""
    text = re.sub(r"\\(.)", r"\1", markdown)
    return text if keep_joiners else text.replace(WORD_JOINER, "")


def assert_refused_and_usable(at, pattern: str) -> None:
    assert at.error, "a refused file must show an error"
    message = unescape(at.error[0].value)
    assert re.search(pattern, message, re.I | re.S), message
    assert len(message) < 1000
    # the previous dataset stays selected ...
    assert at.session_state["app.data_spec"] == {"source": "iris"}
    assert at.session_state["app.dataset"].X.shape == (150, 4)
    # ... and the app keeps working: another dataset can be chosen
    at.selectbox(key="data.source").set_value("wine").run()
    assert not at.exception
    assert at.session_state["app.dataset"].X.shape == (178, 13)


@pytest.mark.parametrize("name", sorted(APP_REFUSED))
def test_the_data_page_refuses_a_broken_file_and_keeps_working(app, name):
    at = app("pages/1_Data.py")
    upload(at, name, (BAD / name).read_bytes())
    assert_refused_and_usable(at, APP_REFUSED[name])


GENERATED = {
    "enormous_header.csv": (lambda: make.enormous_header(20_000), r"20000 columns"),
    "just_over_the_limit.csv": (
        lambda: make.just_over(limits.MAX_UPLOAD_MB * 1024 * 1024),
        rf"accepts up to {limits.MAX_UPLOAD_MB} MB",
    ),
}


def test_a_file_over_the_row_limit_is_sampled_not_refused(app):
    at = app("pages/1_Data.py")
    assert upload(at, "too_many_rows.csv", make.too_many_rows(limits.MAX_ROWS + 700))
    assert not at.error and not at.exception
    dataset = at.session_state["app.dataset"]
    assert len(dataset.y) == limits.MAX_ROWS
    assert f"random sample of {limits.MAX_ROWS:,}" in " ".join(dataset.notes)
    shares = np.bincount(dataset.y) / len(dataset.y)
    assert np.allclose(shares, 1 / 3, atol=0.01)  # stratified by class


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_the_data_page_refuses_generated_oversized_files(app, name, tmp_path):
    make_bytes, pattern = GENERATED[name]
    path = tmp_path / name
    path.write_bytes(make_bytes())
    at = app("pages/1_Data.py")
    upload(at, name, path.read_bytes())
    assert_refused_and_usable(at, pattern)


@pytest.mark.parametrize("name", sorted(APP_TAKES))
def test_files_with_gaps_and_typos_are_taken_by_the_data_page_with_notes(app, name):
    at = app("pages/1_Data.py")
    content = (BAD / name).read_bytes()
    assert upload(at, name, content), [unescape(e.value) for e in at.error]
    assert not at.error and not at.exception
    dataset = at.session_state["app.dataset"]
    assert at.session_state["app.data_spec"]["file_name"] == name
    assert dataset.feature_names == make.HEADER[:-1]  # every measurement kept as a feature
    assert re.search(APP_TAKES[name], " ".join(dataset.notes))
    split = at.session_state["app.split"]
    assert np.all(np.isfinite(split.X_train)) and np.all(np.isfinite(split.X_test))
    assert "<img" not in " ".join(unescape(t) for t in markdown_texts(at))


@pytest.mark.parametrize("name", sorted(LOADS))
def test_files_the_loader_reads_are_accepted_by_the_app_too(app, name):
    """The preview decodes a file as the loader does, so both see the same columns."""
    at = app("pages/1_Data.py")
    content = (BAD / name).read_bytes()
    expected = nn.data.load_csv(io.BytesIO(content))
    assert list(datasets.csv_head(content).columns)[:-1] == expected.feature_names  # last: target
    assert upload(at, name, content), [unescape(e.value) for e in at.error]
    assert not at.error
    assert at.session_state["app.data_spec"]["file_name"] == name
    np.testing.assert_array_equal(at.session_state["app.dataset"].X, expected.X)
    assert at.session_state["app.dataset"].feature_names == expected.feature_names


def markdown_texts(at) -> list[str]:
    """Every text on the page that Streamlit renders as Markdown."""
    out = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "subheader"):
        out += [str(e.value) for e in getattr(at, kind)]
    out += [t for m in at.metric for t in (str(m.label), str(m.value))]
    for kind in ("number_input", "selectbox", "multiselect", "button", "checkbox", "tabs"):
        out += [str(getattr(w, "label", "")) for w in getattr(at, kind)]
    return out


def assert_shown_as_text(at) -> None:
    """No hostile string reaches Markdown unescaped, no address in it can become a link, no
    bidirectional control is shown, and no chart spec holds un-HTML-escaped names."""
    for value in markdown_texts(at):
        for hostile in HOSTILE:
            assert hostile not in value, (hostile, value)
        read = unescape(value, keep_joiners=True)
        assert not AUTOLINK_URL.search(read) and not AUTOLINK_EMAIL.search(read), read
        assert not set(value) & BIDI_CONTROLS, value
    for chart in at.get("plotly_chart"):
        spec = chart.proto.spec
        assert "<script" not in spec and "<img" not in spec, spec[:300]


@pytest.mark.parametrize(
    "name",
    [
        "html_in_headers_and_cells.csv",
        "formula_injection.csv",
        "markdown_and_addresses_in_names.csv",
    ],
)
def test_html_and_formulas_load_as_plain_data_on_every_page(app, name):
    at = app("pages/1_Data.py")
    assert upload(at, name, (BAD / name).read_bytes())
    assert not at.error
    assert at.session_state["app.data_spec"]["source"] == "csv"
    assert_shown_as_text(at)
    shown = "\n".join(unescape(t) for t in texts(at))
    assert name in shown  # the file name, as text
    # the rest of the app with this data: architecture, a few epochs, predictions
    at.switch_page("pages/2_Architecture.py").run()
    assert not at.exception
    assert_shown_as_text(at)
    at.switch_page("pages/3_Train.py").run()
    for _ in range(3):
        at.button(key="train.step").click().run()
    assert not at.exception
    assert at.session_state["app.trainer"].epochs_trained == 3
    assert_shown_as_text(at)
    at.switch_page("pages/4_Predict.py").run()
    assert not at.exception
    assert_shown_as_text(at)
    predicted = [m.value for m in at.metric if m.label == "Predicted class"]
    dataset = at.session_state["app.dataset"]
    assert predicted and predicted[0] in [md_escape(c) for c in dataset.class_names]
    labels = [unescape(n.label) for n in at.number_input]
    if name == "html_in_headers_and_cells.csv":
        # the form's labels are the feature names, escaped so they read literally
        assert make.SCRIPT in labels and make.IMG in labels
    if name == "markdown_and_addresses_in_names.csv":
        assert make.MD_IMAGE in labels and make.MD_LINK in labels
        assert "petal gnp.exe" in labels  # without its bidi control
    at.switch_page("pages/5_Inside.py").run()
    at.session_state["inside.view"] = "Backprop step"
    at.run()
    assert not at.exception
    assert_shown_as_text(at)
    its_class = [m.value for m in at.metric if m.label == "Its class"]
    assert its_class and its_class[0] in [md_escape(c, 40) for c in dataset.class_names]
    at.switch_page("pages/6_Compare.py").run()
    assert not at.exception
    assert_shown_as_text(at)


def test_a_megabyte_header_name_leaves_the_app_usable(app, tmp_path):
    path = tmp_path / "long_name.csv"
    path.write_bytes(make.megabyte_header_line())
    at = app("pages/1_Data.py")
    if upload(at, "long_name.csv", path.read_bytes()) and not at.error:
        assert at.session_state["app.data_spec"]["source"] == "csv"
    else:
        assert re.search(r"column name|header", unescape(at.error[0].value), re.I)
    for text in texts(at):
        assert len(text) < 10_000, "a megabyte name must be shortened where it is shown"
    at.switch_page("pages/2_Architecture.py").run()
    assert not at.exception


# ---- long names and bidirectional controls ----

LONG = limits.MAX_NAME_LENGTH + 1


def named_csv(header: list[str], labels: dict[str, str] | None = None) -> bytes:
    """30 Iris rows under ``header``, species renamed by ``labels``."""
    rows = [[*r[:4], (labels or {}).get(r[4], r[4])] for r in make.iris_rows()]
    return make.to_csv(header, rows).encode()


def test_a_column_name_over_the_limit_is_refused_naming_its_position():
    ok = ["a" * limits.MAX_NAME_LENGTH, *make.HEADER[1:]]
    assert list(datasets.csv_head(named_csv(ok)).columns) == ok
    header = [*make.HEADER[:2], "petal " + "z" * LONG, *make.HEADER[3:]]
    with pytest.raises(ValueError) as refused:
        datasets.csv_head(named_csv(header))
    message = str(refused.value)
    assert message.startswith(f"Column 3's name is {LONG + 6:,} characters long")
    assert "“petal zzz" in message and f"up to {limits.MAX_NAME_LENGTH} characters" in message
    assert len(message) < 300, "the name is shortened in the message"


def test_a_class_label_over_the_limit_is_refused():
    ok = named_csv(make.HEADER, {"Iris-setosa": "s" * limits.MAX_NAME_LENGTH})
    assert (
        "s" * limits.MAX_NAME_LENGTH in datasets.load_uploaded_csv(ok, "Species", "x").class_names
    )
    long_label = named_csv(make.HEADER, {"Iris-virginica": "v" * 45_000})
    with pytest.raises(ValueError, match="A class label in the target column is 45,000 char") as e:
        datasets.load_uploaded_csv(long_label, "Species", "x")
    assert len(str(e.value)) < 300


def test_the_preview_shortens_long_cells():
    content = named_csv(make.HEADER, {"Iris-setosa": "s" * 45_000 + "\u202e"})
    shown = datasets.preview_frame(datasets.csv_head(content))
    longest = max(len(v) for v in shown["Species"])
    assert longest == limits.MAX_NAME_LENGTH
    assert not any("\u202e" in v for v in shown["Species"])


def test_the_data_page_refuses_huge_headers_and_keeps_working(app):
    """The finding: 100 headers of 45 KB each used to push 26 MB to the browser."""
    header = [f"{j}" + "h" * 45_000 for j in range(limits.MAX_COLUMNS)] + ["class"]
    row = ",".join(["1"] * limits.MAX_COLUMNS)
    content = (",".join(header) + f"\n{row},a\n{row},b\n").encode()
    at = app("pages/1_Data.py")
    upload(at, "huge_names.csv", content)
    assert_refused_and_usable(at, r"Column 1's name is 45,001 characters long")
    assert not at.dataframe or all(len(str(c)) < 1000 for d in at.dataframe for c in d.value)


def test_the_data_page_refuses_a_long_class_label(app):
    content = named_csv(make.HEADER, {"Iris-versicolor": "v" * 500})
    at = app("pages/1_Data.py")
    assert upload(at, "long_label.csv", content), "the preview accepts it; Use refuses it"
    assert_refused_and_usable(at, r"class label .* 500 characters long")


BIDI_HEADER = ["Sepal\u202eLength", "\u2066SepalWidth\u2069", *make.HEADER[2:4], "Spe\u200fcies"]


def test_bidi_controls_leave_column_and_class_names_when_read():
    content = named_csv(BIDI_HEADER, {"Iris-setosa": "\u202egnp.exe", "Iris-virginica": "v\u061c"})
    ds = nn.data.load_csv(io.BytesIO(content))
    assert ds.feature_names == ["SepalLength", "SepalWidth", *make.HEADER[2:4]]
    assert ds.class_names == ["Iris-versicolor", "gnp.exe", "v"]
    # the preview names the columns the same way, so the target picked there is found
    assert list(datasets.csv_head(content).columns) == [*ds.feature_names, "Species"]
    picked = datasets.load_uploaded_csv(content, "Species", "bidi.csv")
    assert picked.feature_names == ds.feature_names
    assert nn.data.load_csv(io.BytesIO(content), target="Spe\u200fcies").class_names == (
        ds.class_names
    )


def test_batch_columns_are_matched_as_the_loader_names_them():
    ds = nn.data.load_csv(io.BytesIO(named_csv(BIDI_HEADER)))
    net = nn.Network.from_config({"layers": [4, 3]})
    batch = pd.read_csv(io.BytesIO(named_csv(BIDI_HEADER)))
    predicted = results.batch_predict(net, batch, ds)
    assert len(predicted) == 30 and "SepalLength" in predicted.columns


def test_the_one_output_caption_names_the_class_as_text(app):
    """A single sigmoid output says which class a probability above the threshold means: that
    name is escaped too."""
    two = {"Iris-setosa": make.MD_IMAGE, "Iris-versicolor": make.ADDRESSES}
    rows = [[*r[:4], two[r[4]]] for r in make.iris_rows(150) if r[4] in two]
    at = app("pages/1_Data.py")
    assert upload(at, "two.csv", make.to_csv(make.HEADER, rows).encode())
    split = at.session_state["app.split"]
    net = nn.Network.from_config({"layers": [4, 3, 1], "output_activation": "sigmoid"})
    net.fit(split.X_train, split.y_train, epochs=1)
    at.session_state["app.trainer"] = loop.Trainer(
        net, split.X_train, split.y_train, split.X_val, split.y_val
    )
    at.switch_page("pages/4_Predict.py").run()
    assert not at.exception
    names = at.session_state["app.dataset"].class_names
    caption = next(c.value for c in at.caption if "when its probability is above 0.50" in c.value)
    assert f"“{md_escape(names[1], 80)}”" in caption, caption
    assert_shown_as_text(at)
