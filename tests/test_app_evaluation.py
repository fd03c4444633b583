"""The Predict page's Curves tab (AppTest): ROC and precision-recall curves that agree with
scikit-learn, a two-class network's decision threshold (checked on the server, followed by the
confusion matrix and, once chosen, by every prediction and the model file), calibration, and
permutation importance computed once per model."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

import nn
from dashboard import state
from dashboard.predict import results
from nn import evaluation
from tests.e2e.ui import decode_typed

DATA, TRAIN, PREDICT = "pages/1_Data.py", "pages/3_Train.py", "pages/4_Predict.py"


def trained(app, source: str, epochs: int = 30):
    """A session on ``source`` with a network trained by the app for ``epochs``, on Predict."""
    at = app(DATA, timeout=120)
    at.selectbox(key="data.source").set_value(source).run()
    at.switch_page(TRAIN).run()
    at.radio(key="train.pace").set_value("fastest").run()
    at.number_input(key="train.epochs").set_value(epochs).run()
    at.button(key="train.start").click().run()
    while at.session_state[state.TRAINER].running:
        at.run()
    at.switch_page(PREDICT).run()
    assert not at.exception
    return at


def chart(at, key: str) -> list[dict]:
    """The traces of the chart drawn with ``key`` (arrays as lists)."""
    for element in at.get("plotly_chart"):
        if element.proto.id.endswith("-" + key):
            return [decode_typed(t) for t in json.loads(element.proto.spec)["data"]]
    raise AssertionError(f"no chart {key}")


def confusion(at) -> np.ndarray:
    """The Curves tab's 2 x 2 confusion matrix, as drawn."""
    return np.reshape(chart(at, "predict.curves_confusion")[0]["z"], (2, 2))


def has_chart(at, key: str) -> bool:
    return any(e.proto.id.endswith("-" + key) for e in at.get("plotly_chart"))


def threshold_slider(at):
    found = [s for s in at.slider if str(s.key).startswith("predict.threshold.")]
    assert len(found) <= 1
    return found[0] if found else None


def probabilities_of(at) -> tuple[np.ndarray, np.ndarray]:
    """The test labels and the network's probability of the positive class, computed here."""
    net, split = at.session_state[state.TRAINER].net, at.session_state[state.SPLIT]
    proba = evaluation.class_probabilities(net, split.X_test)
    return np.asarray(split.y_test, dtype=int), proba


def metric_values(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture
def cancer(app):
    return trained(app, "breast_cancer")


def test_the_curves_agree_with_sklearn_and_the_slider_moves_the_confusion_matrix(cancer):
    at = cancer
    labels = [t.label for t in at.tabs]
    assert labels.index("Curves") == labels.index("Test set") + 1
    y, proba = probabilities_of(at)
    p = proba[:, 1]

    roc = chart(at, "predict.roc")
    curve = next(t for t in roc if "AUC" in t["name"] and "chance" not in t["name"])
    auc = metrics.roc_auc_score(y, p)
    assert f"AUC {auc:.3f}" in curve["name"]
    # the drawn curve itself has sklearn's area
    assert np.trapezoid(curve["y"], curve["x"]) == pytest.approx(auc, abs=1e-9)
    pr = chart(at, "predict.pr")
    ap = metrics.average_precision_score(y, p)
    assert any(f"AP {ap:.3f}" in t["name"] for t in pr)
    reliability = chart(at, "predict.reliability")
    assert reliability  # its Brier score is in the title (evaluation_figures' own tests)

    slider = threshold_slider(at)
    assert slider.value == 0.5 and (slider.min, slider.max) == (0.01, 0.99)
    cm = confusion(at)
    np.testing.assert_array_equal(cm, metrics.confusion_matrix(y, (p > 0.5).astype(int)))
    # a threshold where some test row changes class
    t = next(t for t in np.round(np.arange(0.05, 0.96, 0.05), 2) if ((p > t) != (p > 0.5)).any())
    slider.set_value(float(t)).run()
    assert not at.exception
    expected = metrics.confusion_matrix(y, (p > t).astype(int))
    moved = confusion(at)
    np.testing.assert_array_equal(moved, expected)
    assert not np.array_equal(moved, cm)
    assert metric_values(at)["Recall"] == f"{metrics.recall_score(y, p > t):.3f}"
    assert metric_values(at)["F1"] == f"{metrics.f1_score(y, p > t):.3f}"
    # the threshold's point on both curves
    fpr = expected[0, 1] / expected[0].sum()
    marker = next(tr for tr in chart(at, "predict.roc") if tr["name"].startswith("threshold"))
    assert marker["x"] == [pytest.approx(fpr)]
    assert marker["y"] == [pytest.approx(metrics.recall_score(y, p > t))]
    assert any(tr["name"].startswith("threshold") for tr in chart(at, "predict.pr"))
    # moving the slider alone changes no prediction
    assert evaluation.THRESHOLD_KEY not in at.session_state[state.TRAINER].net.metadata


def flipping_row(p: np.ndarray) -> tuple[float, int]:
    """A threshold of the slider and a test row whose class it flips, the row's probability
    clear of both the threshold and 0.5."""
    for t in np.round(np.arange(0.01, 1.0, 0.01), 2):
        clear = (np.abs(p - t) > 0.004) & (np.abs(p - 0.5) > 0.004)
        rows = np.flatnonzero(((p > t) != (p > 0.5)) & clear)
        if len(rows):
            return float(t), int(rows[0])
    raise AssertionError("no test row whose class a threshold from 0.01 to 0.99 flips")


def test_use_this_threshold_moves_every_prediction_and_the_model_file(cancer, app):
    at = cancer
    y, proba = probabilities_of(at)
    p = proba[:, 1]
    t, row = flipping_row(p)
    before = int(p[row] > 0.5)
    assert int(p[row] > t) != before
    use = at.button(key="predict.use_threshold")
    assert use.disabled  # nothing to use yet: the slider is at the saved 0.5
    threshold_slider(at).set_value(t).run()
    at.button(key="predict.use_threshold").click().run()
    assert not at.exception
    net = at.session_state[state.TRAINER].net
    assert evaluation.model_threshold(net) == t
    assert at.button(key="predict.use_threshold").disabled
    assert any(
        f"above {t:.2f} (the decision threshold, saved with the model)" in c.value
        for c in at.caption
    )

    # one sample: the row's own values in the form
    split, dataset = at.session_state[state.SPLIT], at.session_state[state.DATASET]
    raw = split.raw_test[row]
    version = at.session_state[state.DATA_VERSION]
    for j, value in enumerate(raw):
        at.number_input(key=f"predict.x.{version}.{j}").set_value(float(value))
    next(b for b in at.button if b.label == "Predict").click().run()
    names = [str(c) for c in dataset.class_names]
    assert metric_values(at)["Predicted class"] == names[int(p[row] > t)]

    # the test set's report follows it too
    expected_accuracy = metrics.accuracy_score(y, p > t)
    assert metric_values(at)["Test accuracy"] == f"{expected_accuracy:.3f}"

    # a batch of the test rows
    frame = pd.DataFrame(split.raw_test, columns=[str(f) for f in dataset.feature_names])
    at.file_uploader(key="predict.batch_upload").upload(
        "rows.csv", frame.to_csv(index=False, float_format="%.17g").encode()
    ).run()
    assert not at.exception and not at.error
    table = next(d.value for d in at.dataframe if "predicted_class" in d.value.columns)
    np.testing.assert_array_equal(
        table["predicted_class"].to_numpy(), np.asarray(names, dtype=object)[(p > t).astype(int)]
    )

    # the model file keeps it, with the data's names, and loads back with it
    saved = results.model_bytes(net, dataset)
    loaded = results.load_model(saved, dataset, split)
    assert evaluation.model_threshold(loaded) == t
    assert loaded.metadata["class_names"] == names
    np.testing.assert_array_equal(
        evaluation.predict_classes(loaded, split.X_test), (p > t).astype(int)
    )

    # another visitor uploads it: the slider starts at its threshold
    other = app(DATA, timeout=120)
    other.selectbox(key="data.source").set_value("breast_cancer").run()
    other.switch_page(PREDICT).run()
    other.file_uploader(key="predict.model_upload").upload("model.npz", saved).run()
    assert not other.exception and not other.error
    assert threshold_slider(other).value == t


def test_a_forged_slider_value_falls_back_to_the_saved_threshold(cancer):
    at = cancer
    y, proba = probabilities_of(at)
    threshold_slider(at).set_value(0.3).run()
    at.button(key="predict.use_threshold").click().run()
    for forged in (1.5, -0.2, 0.0, 1.0, float("nan")):
        threshold_slider(at).set_value(forged).run()
        assert not at.exception
        assert threshold_slider(at).value == 0.3  # the saved threshold, not the forged value
        np.testing.assert_array_equal(confusion(at), metrics.confusion_matrix(y, proba[:, 1] > 0.3))
        assert at.button(key="predict.use_threshold").disabled  # nothing new to use
        assert evaluation.model_threshold(at.session_state[state.TRAINER].net) == 0.3


@pytest.mark.parametrize("value", [0.0, 1.0, 0.005, 0.995, float("nan"), "0.5", None, True])
def test_the_server_checks_the_slider_value(value):
    with pytest.raises(ValueError, match="decision threshold must be"):
        results.slider_threshold(value)
    assert results.slider_threshold(0.01) == 0.01 and results.slider_threshold(0.99) == 0.99


@pytest.mark.parametrize("forged", ["0.3; drop", 7, None, True])
def test_a_model_file_with_a_malformed_threshold_is_refused(cancer, forged):
    at = cancer
    net = at.session_state[state.TRAINER].net
    dataset = at.session_state[state.DATASET]
    good = results.model_bytes(net, dataset)
    bad = nn.Network.load(io.BytesIO(good))
    bad.metadata[evaluation.THRESHOLD_KEY] = forged
    buffer = io.BytesIO()
    bad.save(buffer)
    at.file_uploader(key="predict.model_upload").upload("model.npz", buffer.getvalue()).run()
    assert not at.exception
    assert at.error
    message = at.error[0].value.replace("\\", "")
    assert "decision threshold must be a number from 0 to 1" in message
    assert at.session_state[state.TRAINER].net is net


def test_wine_shows_one_curve_per_class_and_the_macro_average_and_no_slider(app):
    at = trained(app, "wine")
    assert threshold_slider(at) is None
    assert not [b for b in at.button if b.key == "predict.use_threshold"]
    y, proba = probabilities_of(at)
    roc = chart(at, "predict.roc")
    names = [t["name"] for t in roc]
    classes = [str(c) for c in at.session_state[state.DATASET].class_names]
    for k, c in enumerate(classes):
        auc = metrics.roc_auc_score(y == k, proba[:, k])
        assert f"{c} · AUC {auc:.3f}" in names
    macro = metrics.roc_auc_score(y, proba, multi_class="ovr", average="macro")
    assert f"macro average · AUC {macro:.3f}" in names
    assert not any(n.startswith("threshold") for n in names)
    pr = [t["name"] for t in chart(at, "predict.pr")]
    assert sum("AP" in n for n in pr) == len(classes) + 1
    assert not has_chart(at, "predict.curves_confusion")
    assert has_chart(at, "predict.reliability")


def test_permutation_importance_is_computed_once_per_model(cancer, monkeypatch):
    at = cancer
    calls = []
    real = results.test_importance

    def counted(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(results, "test_importance", counted)
    assert not has_chart(at, "predict.importance_chart")  # only when asked
    at.toggle(key="predict.importance").set_value(True).run()
    assert not at.exception
    bars = chart(at, "predict.importance_chart")[0]
    assert len(bars["y"]) == 25  # the largest 25 of breast cancer's 30 features
    threshold_slider(at).set_value(0.3).run()  # another rerun: no shuffling again
    assert has_chart(at, "predict.importance_chart")
    assert len(calls) == 1
    net, split = at.session_state[state.TRAINER].net, at.session_state[state.SPLIT]
    accuracy = metrics.accuracy_score(split.y_test, net.predict(split.X_test))
    assert any(f"the test accuracy is {accuracy:.3f}" in c.value for c in at.caption)


def test_a_regression_network_gets_the_importance_tab_in_r2(clear_streamlit_caches):
    from tests.test_app_regression_views import regression_session

    at = regression_session("diabetes", PREDICT, epochs=20)
    assert not at.exception
    labels = [t.label for t in at.tabs]
    assert "Importance" in labels and "Curves" not in labels
    assert threshold_slider(at) is None and not has_chart(at, "predict.roc")
    assert any("curves are for classes" in c.value for c in at.caption)
    at.toggle(key="predict.importance").set_value(True).run()
    assert not at.exception
    bars = chart(at, "predict.importance_chart")[0]
    assert len(bars["y"]) == 10  # diabetes's ten features
    net, split = at.session_state[state.TRAINER].net, at.session_state[state.SPLIT]
    r2 = metrics.r2_score(split.y_test, np.ravel(net.predict(split.X_test)))
    assert any(f"the test R² is {r2:.3f}" in c.value for c in at.caption)
