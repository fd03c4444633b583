"""Every page opened first in a fresh session, navigation, the Data and Architecture pages."""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

from dashboard.common import limits, page_ui
from tests.conftest import ROOT

PAGE_FILES = [p.path for p in page_ui.available_pages()]


def texts(at) -> str:
    """Every message, markdown and caption on the page, as one string."""
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def iris_csv(**changes) -> bytes:
    X, y = load_iris(return_X_y=True)
    frame = pd.DataFrame(X, columns=["sepal_length", "sepal_width", "petal_length", "petal_width"])
    frame["species"] = np.array(["setosa", "versicolor", "virginica"])[y]
    for column, values in changes.items():
        frame[column] = values
    return frame.to_csv(index=False).encode()


@pytest.mark.parametrize("path", PAGE_FILES)
def test_each_page_opened_first_works_and_shows_the_navigation(app, path):
    at = app(None if path == "streamlit_app.py" else path)
    assert not at.exception
    assert at.title
    links = [e.proto.label for e in at.get("page_link")]
    for p in page_ui.available_pages():
        assert p.label in links


def test_the_navigation_lists_only_pages_that_exist():
    labels = [p.label for p in page_ui.available_pages()]
    assert labels[:5] == ["Home", "Data", "Architecture", "Train", "Predict"]
    for p in page_ui.PAGES:
        assert (p.label in labels) == (ROOT / p.path).is_file()


def test_fresh_pages_say_what_to_do_next(app):
    home = app()
    assert "not started" in texts(home)
    assert home.button(key="home.reproduce").label == "Reproduce the article"
    train = app("pages/3_Train.py")
    assert [b.label for b in train.button] == ["Start", "Pause", "Step", "Reset"]
    assert "Press Start" in texts(train)
    predict = app("pages/4_Predict.py")
    assert "no trained network yet" in texts(predict)
    assert predict.get("file_uploader")


def test_config_matches_the_limits():
    config = tomllib.loads((ROOT / ".streamlit/config.toml").read_text())
    assert config["server"]["maxUploadSize"] == limits.MAX_UPLOAD_MB
    assert config["client"]["showSidebarNavigation"] is False
    assert config["browser"]["gatherUsageStats"] is False
    # a full gc.collect() after every training tick starved concurrent sessions (LOAD.md)
    assert config["runner"]["postScriptGC"] is False


def test_data_page_switches_bundled_and_synthetic_sets(app):
    at = app("pages/1_Data.py")
    assert at.session_state["app.data_spec"] == {"source": "iris"}
    at.selectbox(key="data.source").set_value("wine").run()
    assert not at.exception
    assert at.session_state["app.dataset"].X.shape == (178, 13)
    at.selectbox(key="data.source").set_value("moons").run()
    at.number_input(key="data.n_samples").set_value(400).run()
    dataset = at.session_state["app.dataset"]
    assert dataset.X.shape == (400, 2)
    assert at.session_state["app.data_spec"]["n_samples"] == 400
    assert len(at.get("plotly_chart")) >= 3
    split = at.session_state["app.split"]
    assert len(split.y_train) + len(split.y_val) + len(split.y_test) == 400


def test_data_page_split_settings_change_the_parts(app):
    at = app("pages/1_Data.py")
    before = len(at.session_state["app.split"].y_test)
    at.slider(key="data.split.test_size").set_value(0.3).run()
    at.checkbox(key="data.split.standardize").check().run()
    split = at.session_state["app.split"]
    assert len(split.y_test) > before
    assert split.scaler is not None
    assert abs(float(np.mean(split.X_train))) < 0.1
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test rows"] == str(len(split.y_test))


def upload_csv(at, content: bytes, name: str = "data.csv"):
    at.selectbox(key="data.source").set_value("csv").run()
    at.file_uploader(key="data.upload").upload(name, content, "text/csv")
    return at.run()


def test_a_good_csv_upload_becomes_the_dataset(app):
    at = upload_csv(app("pages/1_Data.py"), iris_csv(), "flowers.csv")
    assert not at.error
    assert at.selectbox(key="data.target").value == "species"
    at.button(key="data.use_csv").click().run()
    assert not at.exception and not at.error
    dataset = at.session_state["app.dataset"]
    assert dataset.X.shape == (150, 4)
    assert sorted(map(str, dataset.class_names)) == ["setosa", "versicolor", "virginica"]
    assert at.session_state["app.data_spec"]["file_name"] == "flowers.csv"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\x00\xff\xfe\x00junk\x00" * 50, "cannot be used"),
        (b"", "empty"),
        (b"only_one_column\n1\n2\n", "fewer than two columns"),
        (b"a,b,c\n" + b"1,2,x\n" * 50, "no feature column"),
        (b"a,b\n" + b"1,2\n" * (limits.MAX_UPLOAD_MB * 1024 * 1024 // 4 + 10), "MB"),
    ],
)
def test_a_bad_csv_upload_is_refused_and_the_previous_dataset_stays(app, content, words):
    at = upload_csv(app("pages/1_Data.py"), content)
    if not at.error:  # the header was readable: the full check runs on "Use this CSV"
        at.button(key="data.use_csv").click().run()
    assert not at.exception
    assert at.error and words in at.error[0].value
    assert at.session_state["app.data_spec"] == {"source": "iris"}
    assert at.session_state["app.dataset"].X.shape == (150, 4)


def test_a_csv_with_a_constant_text_column_loads_without_it(app):
    bad = iris_csv(sepal_length=["abc"] * 150)
    at = upload_csv(app("pages/1_Data.py"), bad)
    at.button(key="data.use_csv").click().run()
    assert not at.exception and not at.error
    dataset = at.session_state["app.dataset"]
    assert "sepal_length" not in dataset.feature_names and dataset.X.shape == (150, 3)
    assert "Not used: sepal_length (one value only)" in " ".join(dataset.notes)


def test_html_in_a_csv_is_never_rendered(app):
    hostile = "<img src=x onerror=alert(1)>"
    content = iris_csv(**{hostile: np.arange(150.0)})
    at = upload_csv(app("pages/1_Data.py"), content)
    at.button(key="data.use_csv").click().run()
    assert not at.exception
    for element in at.markdown:
        assert hostile not in element.value
    for chart in at.get("plotly_chart"):
        assert hostile not in chart.proto.spec


def test_architecture_edits_update_the_diagram_and_parameter_count(app):
    at = app("pages/2_Architecture.py")
    params = {m.label: m.value for m in at.metric}["Parameters (weights and biases)"]
    assert params == "118"  # 4-5-10-3: 5*5 + 6*10 + 11*3
    at.button(key="arch.add").click().run()
    at.number_input(key="arch.w.nodes.2").set_value(4).run()
    at.selectbox(key="arch.w.act.2").set_value("relu").run()
    assert not at.exception
    assert at.session_state["app.arch"]["hidden"] == [5, 10, 4]
    assert at.session_state["app.arch"]["activations"] == ["sigmoid", "sigmoid", "relu"]
    params = {m.label: m.value for m in at.metric}["Parameters (weights and biases)"]
    assert params == str(5 * 5 + 6 * 10 + 11 * 4 + 5 * 3)
    at.button(key="arch.remove").click().run()
    assert at.session_state["app.arch"]["hidden"] == [5, 10]


def test_architecture_warns_about_odd_pairs_and_refuses_impossible_ones(app):
    at = app("pages/2_Architecture.py")
    at.selectbox(key="arch.w.output").set_value("softmax").run()
    assert any("odd pair" in w.value for w in at.warning)
    at.selectbox(key="arch.w.output").set_value("linear").run()
    at.selectbox(key="arch.w.loss").set_value("cross_entropy").run()
    assert at.error and "cross_entropy" in at.error[0].value
    assert at.session_state["app.arch"]["loss"] == "squared_error"  # not applied


def test_presets_set_the_network_and_the_training(app):
    at = app("pages/2_Architecture.py")
    at.button(key="arch.preset.modern").click().run()
    arch = at.session_state["app.arch"]
    assert arch["output_activation"] == "softmax" and arch["loss"] == "cross_entropy"
    assert set(arch["activations"]) == {"relu"} and arch["init"] == "he"
    assert at.session_state["app.train_settings"]["optimizer"] == "adam"
    at.button(key="arch.preset.article").click().run()
    assert at.session_state["app.arch"]["hidden"] == [5, 10]


def test_changing_a_trained_architecture_asks_first(app):
    at = app("pages/3_Train.py")
    at.button(key="train.step").click().run()
    trainer = at.session_state["app.trainer"]
    assert trainer.epochs_trained == 1
    at.switch_page("pages/2_Architecture.py").run()
    at.number_input(key="arch.w.nodes.0").set_value(7).run()
    assert at.session_state["app.arch"]["hidden"] == [5, 10]  # not applied yet
    assert at.session_state["app.trainer"] is trainer
    assert any("discards the trained network" in w.value for w in at.warning)
    at.button(key="arch.keep").click().run()
    assert at.number_input(key="arch.w.nodes.0").value == 5
    assert at.session_state["app.trainer"] is trainer
    at.number_input(key="arch.w.nodes.0").set_value(7).run()
    at.button(key="arch.confirm").click().run()
    assert at.session_state["app.arch"]["hidden"] == [7, 10]
    assert at.session_state["app.trainer"] is None
    assert any("discarded" in w.value for w in at.warning)


def test_limits_are_enforced_on_the_server():
    assert limits.clamp_int("Nodes", 10**6, 1, limits.MAX_NODES, 8) == (
        limits.MAX_NODES,
        f"Nodes is limited to {limits.MAX_NODES:,} in this demo; using {limits.MAX_NODES:,}.",
    )
    assert limits.clamp_float("Noise", float("nan"), 0, 1, 0.2)[0] == 0.2
    assert limits.clamp_int("Seed", "abc", 0, 9, 0) == (0, "Seed: 'abc' is not a number; using 0.")
    assert limits.check_architecture([8] * 7, 100)
    assert limits.check_architecture([8, 8], limits.MAX_PARAMS + 1)
    assert limits.check_architecture([8, 8], 100) == []
    assert "rows" in limits.check_table_shape(limits.MAX_ROWS + 1, 4)
    assert limits.check_upload_size(limits.MAX_UPLOAD_MB * 1024 * 1024 + 1)
