"""Classification metrics on hand-worked examples, and against scikit-learn."""

import numpy as np
import pytest
import sklearn.metrics

from nn import metrics

# true:  0 0 1 1 1 2 2 2 2
# pred:  0 1 1 1 2 2 2 1 2
Y_TRUE = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
Y_PRED = np.array([0, 1, 1, 1, 2, 2, 2, 1, 2])


def test_accuracy_by_hand():
    assert metrics.accuracy(Y_TRUE, Y_PRED) == pytest.approx(6 / 9)
    assert metrics.accuracy([1, 2, 3], [1, 2, 3]) == 1.0
    assert metrics.accuracy([1, 2, 3], [0, 0, 0]) == 0.0
    assert metrics.accuracy([], []) == 0.0


def test_confusion_matrix_by_hand():
    cm = metrics.confusion_matrix(Y_TRUE, Y_PRED, 3)
    expected = np.array(
        [
            [1, 1, 0],  # true 0: once right, once called 1
            [0, 2, 1],  # true 1: twice right, once called 2
            [0, 1, 3],  # true 2: three times right, once called 1
        ]
    )
    np.testing.assert_array_equal(cm, expected)
    assert cm.sum() == len(Y_TRUE)
    padded = metrics.confusion_matrix(Y_TRUE, Y_PRED, 5)
    assert padded.shape == (5, 5)
    np.testing.assert_array_equal(padded[:3, :3], expected)
    assert padded[3:].sum() == 0 and padded[:, 3:].sum() == 0
    np.testing.assert_array_equal(metrics.confusion_matrix(Y_TRUE, Y_PRED), expected)


def test_precision_recall_f1_by_hand():
    result = metrics.precision_recall_f1(Y_TRUE, Y_PRED, 3)
    # predicted counts per class: 1, 4, 4; true counts: 2, 3, 4; right: 1, 2, 3
    np.testing.assert_allclose(result["precision"], [1 / 1, 2 / 4, 3 / 4])
    np.testing.assert_allclose(result["recall"], [1 / 2, 2 / 3, 3 / 4])
    np.testing.assert_allclose(result["f1"], [2 / 3, 4 / 7, 3 / 4])
    np.testing.assert_array_equal(result["support"], [2, 3, 4])


def test_classes_never_seen_or_never_predicted_score_zero():
    result = metrics.precision_recall_f1([0, 0, 1], [0, 0, 0], 3)
    np.testing.assert_allclose(result["precision"], [2 / 3, 0.0, 0.0])
    np.testing.assert_allclose(result["recall"], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(result["f1"], [0.8, 0.0, 0.0])
    np.testing.assert_array_equal(result["support"], [2, 1, 0])
    assert not np.isnan(result["f1"]).any()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_agree_with_sklearn(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 5, size=200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 5, size=200))
    y_pred[y_pred == 4] = 3  # class 4 is never predicted
    labels = list(range(6))  # class 5 never occurs at all
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(
        sklearn.metrics.accuracy_score(y_true, y_pred)
    )
    np.testing.assert_array_equal(
        metrics.confusion_matrix(y_true, y_pred, 6),
        sklearn.metrics.confusion_matrix(y_true, y_pred, labels=labels),
    )
    ours = metrics.precision_recall_f1(y_true, y_pred, 6)
    p, r, f, s = sklearn.metrics.precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    np.testing.assert_allclose(ours["precision"], p)
    np.testing.assert_allclose(ours["recall"], r)
    np.testing.assert_allclose(ours["f1"], f)
    np.testing.assert_array_equal(ours["support"], s)


def test_metric_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"y_true has shape \(3,\) but y_pred has shape \(2,\)"):
        metrics.accuracy([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="y_true has shape"):
        metrics.confusion_matrix([0, 1, 2], [0, 1], 3)
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.2"):
        metrics.confusion_matrix([0, 1, 3], [0, 1, 2], 3)
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.2"):
        metrics.precision_recall_f1([0, 1, 2], [0, -1, 2], 3)
