"""The whole flow through the app with AppTest: data, architecture, live training, prediction."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

import nn
from dashboard.common.text import md_escape
from dashboard.predict import results

HOSTILE_MODELS = Path(__file__).resolve().parent / "data" / "hostile_models"


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def epochs(at) -> int:
    return at.session_state["app.trainer"].epochs_trained


def test_choose_configure_train_pause_step_reset_predict_download(app):
    at = app("pages/1_Data.py")
    at.selectbox(key="data.source").set_value("wine").run()
    at.checkbox(key="data.split.standardize").check().run()
    at.switch_page("pages/2_Architecture.py").run()
    at.button(key="arch.preset.modern").click().run()
    at.number_input(key="arch.w.nodes.0").set_value(12).run()
    assert at.session_state["app.arch"]["hidden"][0] == 12

    at.switch_page("pages/3_Train.py").run()
    assert not at.exception
    at.number_input(key="train.epochs").set_value(400).run()
    at.button(key="train.start").click().run()
    counts = [epochs(at)]
    for _ in range(4):  # each run is one tick of the fragment's timer
        at.run()
        counts.append(epochs(at))
    assert counts[0] > 0 and all(b > a for a, b in itertools.pairwise(counts))
    assert at.session_state["app.trainer"].running
    assert metrics(at)["Epoch"] == f"{counts[-2]} / 400"  # drawn before the tick's chunk
    loss, accuracy = at.get("plotly_chart")[-2:]
    assert '"train_loss"' in loss.proto.spec and '"val_accuracy"' in accuracy.proto.spec

    at.button(key="train.pause").click().run()
    paused = epochs(at)
    at.run()
    assert epochs(at) == paused
    assert at.button(key="train.start").label == "Resume"
    at.button(key="train.step").click().run()
    assert epochs(at) == paused + 1
    lr = at.number_input(key="train.learning_rate")
    lr.set_value(0.003).run()
    at.button(key="train.step").click().run()
    assert at.session_state["app.trainer"].net.history[-1].learning_rate == 0.003

    at.button(key="train.reset").click().run()
    assert epochs(at) == 0
    assert at.button(key="train.start").label == "Start"

    at.radio(key="train.pace").set_value("fastest").run()
    at.number_input(key="train.epochs").set_value(60).run()
    at.button(key="train.start").click().run()
    for _ in range(30):
        if not at.session_state["app.trainer"].running:
            break
        at.run()
    assert epochs(at) == 60
    assert any("Finished" in s.value for s in at.success)
    assert at.get("download_button")  # the history CSV

    at.switch_page("pages/4_Predict.py").run()
    assert not at.exception
    classes = [str(c) for c in at.session_state["app.dataset"].class_names]
    inputs = [n for n in at.number_input if n.key.startswith("predict.x.")]
    assert len(inputs) == 13
    inputs[0].set_value(13.0)
    next(b for b in at.button if b.label == "Predict").click().run()
    assert metrics(at)["Predicted class"] in [md_escape(c) for c in classes]  # Markdown source
    accuracy = float(metrics(at)["Test accuracy"])
    assert 0.8 <= accuracy <= 1.0
    downloads = {b.proto.label for b in at.get("download_button")}
    assert "Download the model (.npz)" in downloads


def test_divergence_shows_its_message(app):
    at = app("pages/2_Architecture.py")
    at.selectbox(key="arch.w.output").set_value("linear").run()
    at.switch_page("pages/3_Train.py").run()
    at.number_input(key="train.learning_rate").set_value(1e6).run()
    at.button(key="train.start").click().run()
    for _ in range(10):
        if not at.session_state["app.trainer"].running:
            break
        at.run()
    assert not at.exception
    assert at.error and "diverged" in at.error[0].value
    assert "smaller learning rate" in at.error[0].value


def test_reproduce_the_article_trains_to_the_end_and_compares(app):
    at = app()
    at.button(key="home.reproduce").click().run()
    assert at.title[0].value == "Train"
    seen = []
    for _ in range(100):
        seen.append(epochs(at))
        if not at.session_state["app.trainer"].running:
            break
        at.run()
    assert len(set(seen)) > 5  # the curves grew over several redraws
    assert epochs(at) == 100
    shown = metrics(at)
    assert 0.0 <= float(shown["Test accuracy, this run"]) <= 1.0
    assert any(results.ARTICLE_FIGURE in m.value for m in at.markdown)
    at.switch_page("streamlit_app.py").run()
    assert "Test accuracy, this run" in metrics(at)


def trained_iris(app):
    at = app("pages/3_Train.py")
    at.radio(key="train.pace").set_value("fastest").run()
    at.number_input(key="train.epochs").set_value(20).run()
    at.button(key="train.start").click().run()
    while at.session_state["app.trainer"].running:
        at.run()
    return at.switch_page("pages/4_Predict.py").run()


def test_a_downloaded_model_uploads_back_to_the_same_predictions(app):
    at = trained_iris(app)
    net = at.session_state["app.trainer"].net
    X = at.session_state["app.split"].X_test
    saved = results.model_bytes(net)
    at.session_state["app.trainer"].net = nn.Network.from_config(net.config)  # forget it
    at.file_uploader(key="predict.model_upload").upload("model.npz", saved).run()
    assert not at.exception and not at.error
    loaded = at.session_state["app.trainer"].net
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    assert loaded.epochs_trained == 20


def test_a_bad_model_upload_is_refused_and_the_network_stays(app):
    at = trained_iris(app)
    trainer = at.session_state["app.trainer"]
    at.file_uploader(key="predict.model_upload").upload("model.npz", b"PK\x03\x04 not a zip").run()
    assert not at.exception
    assert at.error and "model file cannot be used" in at.error[0].value
    assert at.session_state["app.trainer"] is trainer and trainer.epochs_trained == 20


def test_a_model_for_other_data_is_refused_with_a_clear_message(app):
    at = trained_iris(app)
    saved = results.model_bytes(at.session_state["app.trainer"].net)
    at.switch_page("pages/1_Data.py").run()
    at.selectbox(key="data.source").set_value("wine").run()
    at.switch_page("pages/4_Predict.py").run()
    assert at.session_state["app.trainer"] is None
    at.file_uploader(key="predict.model_upload").upload("model.npz", saved).run()
    assert not at.exception
    assert at.error and "expects 4 input features" in at.error[0].value
    assert at.session_state["app.trainer"] is None


def test_batch_prediction_returns_a_csv(app):
    at = trained_iris(app)
    dataset = at.session_state["app.dataset"]
    header = ",".join(map(str, dataset.feature_names))
    rows = "\n".join(",".join(f"{v:g}" for v in x) for x in dataset.X[:7])
    at.file_uploader(key="predict.batch_upload").upload(
        "new.csv", f"{header}\n{rows}\n".encode()
    ).run()
    assert not at.exception and not at.error
    assert any("Predicted 7 rows" in s.value for s in at.success)
    assert "Download predictions (CSV)" in {b.proto.label for b in at.get("download_button")}
    at.file_uploader(key="predict.batch_upload").clear()
    at.file_uploader(key="predict.batch_upload").upload("bad.csv", b"x,y\n1,2\n").run()
    assert at.error and "lacks" in at.error[0].value


def test_a_sample_outside_the_training_range_gets_a_warning(app):
    at = trained_iris(app)
    assert not any("Outside what the network saw" in w.value for w in at.warning)
    first = next(n for n in at.number_input if n.key.startswith("predict.x."))
    assert first.value == float(np.median(at.session_state["app.split"].X_train[:, 0]))
    first.set_value(10.0)  # sepal length: training rows stop below 8 cm
    next(b for b in at.button if b.label == "Predict").click().run()
    assert any("Outside what the network saw" in w.value for w in at.warning)
    classes = at.session_state["app.dataset"].class_names
    assert metrics(at)["Predicted class"] in [md_escape(c) for c in classes]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("bz2_meta_bomb.npz", "only stored or deflated members are read"),
        ("zero_itemsize_V0.npz", "at most 200,000 can be loaded here"),
        ("complex_weights.npz", "must hold real numbers"),
        ("nan_history.npz", "NaN, which is not a number"),
    ],
)
def test_a_hostile_model_upload_shows_a_message_not_a_traceback(app, name, words):
    at = trained_iris(app)
    trainer = at.session_state["app.trainer"]
    data = (HOSTILE_MODELS / name).read_bytes()
    at.file_uploader(key="predict.model_upload").upload(name, data).run()
    assert not at.exception
    assert at.error and words in at.error[0].value.replace("\\", "")
    assert at.session_state["app.trainer"] is trainer and trainer.epochs_trained == 20


def wine_session(app, split_seed: int):
    """A session on wine, standardized, with this split seed, on the Predict page."""
    at = app("pages/1_Data.py")
    at.selectbox(key="data.source").set_value("wine").run()
    at.checkbox(key="data.split.standardize").check().run()
    at.number_input(key="data.split.seed").set_value(split_seed).run()
    return at


def test_a_model_from_another_split_predicts_in_the_page_as_it_did_when_saved(app):
    at = wine_session(app, 0)
    at.switch_page("pages/3_Train.py").run()
    at.radio(key="train.pace").set_value("fastest").run()
    at.number_input(key="train.epochs").set_value(15).run()
    at.button(key="train.start").click().run()
    while at.session_state["app.trainer"].running:
        at.run()
    net = at.session_state["app.trainer"].net
    wine = nn.data.load_dataset("wine")
    saved = results.model_bytes(net, wine)
    expected = net.predict_proba(net.preprocessor.transform(wine.X))

    other = wine_session(app, 5)
    other.switch_page("pages/4_Predict.py").run()
    assert other.session_state["app.split"].preprocessor != net.preprocessor
    other.file_uploader(key="predict.model_upload").upload("model.npz", saved).run()
    assert not other.exception and not other.error
    trainer = other.session_state["app.trainer"]
    loaded = trainer.net
    np.testing.assert_array_equal(
        loaded.predict_proba(loaded.preprocessor.transform(wine.X)), expected
    )
    # The rows it would go on training on are prepared with its own preprocessing too.
    split = other.session_state["app.split"]
    raw_train = split.preprocessor.inverse(split.X_train)
    np.testing.assert_allclose(trainer.X_train, net.preprocessor.transform(raw_train), atol=1e-12)
    # The page's test accuracy is the model's on the other session's test rows.
    raw_test = split.preprocessor.inverse(split.X_test)
    accuracy = nn.metrics.accuracy(split.y_test, net.predict(net.preprocessor.transform(raw_test)))
    other.run()
    assert metrics(other)["Test accuracy"] == f"{accuracy:.3f}"
