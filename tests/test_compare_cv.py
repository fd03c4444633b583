"""Cross-validation on the Compare page: the background job, its limits, tables and bands."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import auc, roc_auc_score

import nn
from dashboard.common import limits
from dashboard.compare import cv
from nn import crossval, evaluation

SMALL = {
    "layers": [4, 6, 3],
    "activation": "tanh",
    "output_activation": "softmax",
    "loss": "cross_entropy",
    "init": "xavier",
    "seed": 2,
}
TRAIN = {**nn.config.training_defaults(), "epochs": 8, "learning_rate": 0.05, "batch_size": 8}
TRAIN_APP = {**TRAIN, "pace": "fastest"}  # the app's settings carry its pace too
SPLIT = {"seed": 3, "standardize": True, "val_size": 0.0}


@pytest.fixture(scope="module")
def iris():
    return nn.data.load_dataset("iris")


def make(iris, k=3, repeats=1, n_jobs=1, train=TRAIN_APP, split=SPLIT):
    req, messages = cv.request(iris, SMALL, train, split, k, repeats, n_jobs)
    return req, messages


def test_the_request_is_the_current_settings_without_the_pace(iris):
    req, messages = make(iris)
    assert messages == []
    assert req.training == TRAIN and "pace" not in req.training
    assert (req.k, req.repeats, req.n_jobs, req.total) == (3, 1, 1, 3)
    assert (req.seed, req.standardize, req.val_size) == (3, True, 0.0)


@pytest.mark.parametrize(
    ("k", "repeats", "n_jobs", "expected", "words"),
    [
        (50, 1, 1, (10, 1, 1), "Folds"),
        (2, 1, 1, (3, 1, 1), "Folds"),
        (10, 9, 1, (10, 5, 1), "Repeats"),
        (5, 1, 99, (5, 1, limits.MAX_CV_JOBS), "Workers"),
        ("5; rm", 1, 1, (5, 1, 1), "Folds"),
    ],
)
def test_widget_values_are_clamped_on_the_server(iris, k, repeats, n_jobs, expected, words):
    req, messages = make(iris, k, repeats, n_jobs)
    assert (req.k, req.repeats, req.n_jobs) == expected
    assert any(words in m for m in messages), messages
    assert req.total <= crossval.MAX_FITS


def test_early_stopping_without_validation_rows_is_switched_off_with_a_message(iris):
    req, messages = make(iris, train={**TRAIN_APP, "early_stopping": True})
    assert req.training["early_stopping"] is False
    assert any("validation" in m for m in messages)
    req, messages = make(
        iris, train={**TRAIN_APP, "early_stopping": True}, split={**SPLIT, "val_size": 0.2}
    )
    assert req.training["early_stopping"] is True and messages == []


def test_a_class_with_fewer_rows_than_folds_is_explained_before_running(iris):
    keep = np.r_[np.flatnonzero(iris.y != 2), np.flatnonzero(iris.y == 2)[:4]]
    small = nn.data.Dataset(
        X=iris.X[keep], y=iris.y[keep], feature_names=iris.feature_names,
        class_names=["a", "b", "*rare*"], name="cut",
    )  # fmt: skip
    req, _ = cv.request(small, SMALL, TRAIN_APP, SPLIT, 5, 1, 1)
    assert "'*rare*' has 4 rows" in cv.problem(req) and "at most 4 folds" in cv.problem(req)
    req, _ = cv.request(small, SMALL, TRAIN_APP, SPLIT, 4, 1, 1)
    assert cv.problem(req) is None


def test_a_job_gives_what_cross_validate_gives(iris):
    req, _ = make(iris, k=4, n_jobs=limits.MAX_CV_JOBS)
    ended = []
    job = cv.CVJob(req).start(on_end=lambda: ended.append(True))
    assert job.wait(120) and not job.running and ended == [True]
    assert job.error is None and job.reason is None and job.done == 4
    direct = crossval.cross_validate(
        iris, SMALL, TRAIN, k=4, seed=3, standardize=True, val_size=0.0
    )
    assert [f.metrics for f in job.result.folds] == [f.metrics for f in direct.folds]
    table = cv.fold_table(job.result)
    assert list(table["fold"]) == [1, 2, 3, 4] and "repeat" not in table
    assert list(table["accuracy"]) == [f.metrics["accuracy"] for f in direct.folds]
    assert list(table["held-out rows"]) == [f.n_test for f in direct.folds]
    summary = cv.summary_table(job.result).set_index("metric")
    values = np.array([f.metrics["accuracy"] for f in direct.folds])
    assert summary.loc["accuracy", "mean"] == pytest.approx(values.mean(), rel=1e-12)
    assert summary.loc["accuracy", "std"] == pytest.approx(values.std(ddof=0), abs=1e-15)
    assert summary.loc["accuracy", "lowest"] == values.min()
    assert summary.loc["accuracy", "highest"] == values.max()


def test_a_cancelled_job_keeps_the_folds_that_finished(iris):
    req, _ = make(iris, k=5)
    job = cv.CVJob(req)
    job.cancel()  # before the first fold
    job.start()
    assert job.wait(60)
    assert job.reason == cv.CANCELLED and job.result.cancelled and job.result.folds == []

    job = cv.CVJob(req)
    job._progress = lambda done, total: (setattr(job, "done", done), job.cancel())
    job.start()
    assert job.wait(60)
    assert job.reason == cv.CANCELLED and len(job.result.folds) == 1 and job.done == 1


def test_a_job_stops_at_the_compute_budget(iris):
    req, _ = make(iris, k=5)
    clock = iter(np.arange(0.0, 1000.0, 1.0))  # each look at the clock: one more second
    job = cv.CVJob(req, budget_s=3.5, clock=lambda: float(next(clock)))
    job.start()
    assert job.wait(60)
    assert job.reason == cv.BUDGET and job.result.cancelled
    assert 0 < len(job.result.folds) < 5
    assert "compute limit" in cv.REASONS[cv.BUDGET]


def test_a_diverging_fold_is_an_error_in_words_not_a_crash(iris):
    req, _ = make(iris, train={**TRAIN_APP, "learning_rate": 1e6, "optimizer": "sgd"})
    req = cv.CVRequest(**{**req.__dict__, "network_config": {**SMALL, "activation": "relu"}})
    job = cv.CVJob(req).start()
    assert job.wait(60)
    assert job.result is None and "fold 1" in job.error


def test_fold_curves_are_each_folds_curves_and_the_band_their_mean(iris):
    req, _ = make(iris, k=3)
    job = cv.CVJob(req).start()
    assert job.wait(60)
    names = list(iris.class_names)
    assert cv.curve_choices(names) == [cv.MACRO, 0, 1, 2]
    assert cv.curve_choices(["no", "yes"]) == [1]
    macro = cv.fold_curves(job.result, names, "roc", cv.MACRO)
    for curve, fold in zip(macro, job.result.folds, strict=True):
        assert curve.auc == pytest.approx(
            roc_auc_score(fold.y_true, fold.outputs, multi_class="ovr", average="macro"),
            abs=1e-9,
        )
    second = cv.fold_curves(job.result, names, "pr", 1)
    for curve, fold in zip(second, job.result.folds, strict=True):
        assert curve.label == names[1]
        assert curve.prevalence == pytest.approx(np.mean(fold.y_true == 1))
    band = evaluation.curve_band(macro)
    assert band.area_mean == pytest.approx(np.mean([c.auc for c in macro]), rel=1e-12)
    assert 0.0 <= auc(band.x, band.mean) <= 1.0
    assert cv.curve_label(names, cv.MACRO) == "macro average"
    assert cv.curve_label(names, 0) == f"{names[0]} against the rest"


def test_two_class_fold_curves_are_the_positive_class(iris):
    keep = iris.y != 0
    binary = nn.data.Dataset(
        X=iris.X[keep], y=iris.y[keep] - 1, feature_names=iris.feature_names,
        class_names=["versicolor", "virginica"], name="two",
    )  # fmt: skip
    req, _ = cv.request(binary, {**SMALL, "layers": [4, 6, 2]}, TRAIN_APP, SPLIT, 3, 1, 1)
    job = cv.CVJob(req).start()
    assert job.wait(60)
    curves = cv.fold_curves(job.result, list(binary.class_names), "roc", 1)
    for curve, fold in zip(curves, job.result.folds, strict=True):
        assert curve.label == "virginica"
        assert curve.auc == pytest.approx(roc_auc_score(fold.y_true, fold.outputs[:, 1]))
