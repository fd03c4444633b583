"""Cross-validation: scikit-learn's folds, per-fold preprocessing without leaks, hand-made runs."""

import json
import threading

import numpy as np
import pytest
from sklearn.model_selection import (
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedKFold,
    train_test_split,
)

from nn import crossval
from nn.data import Dataset, load_dataset
from nn.errors import DivergenceError
from nn.network import Network
from nn.preprocess import Preprocessor

SMALL = {
    "layers": [4, 8, 3],
    "activation": "tanh",
    "output_activation": "softmax",
    "loss": "cross_entropy",
    "init": "xavier",
    "seed": 3,
}
TRAINING = {"epochs": 15, "learning_rate": 0.02, "batch_size": 16, "optimizer": "adam"}
REGRESSION = {"layers": [10, 8, 1], "activation": "relu", "task": "regression", "seed": 1}
REGRESSION_TRAINING = {
    "epochs": 40,
    "learning_rate": 0.01,
    "batch_size": 32,
    "optimizer": "adam",
    "shuffle": True,
    "early_stopping": True,
    "patience": 5,
}


@pytest.fixture(scope="module")
def iris():
    return load_dataset("iris")


@pytest.fixture(scope="module")
def diabetes():
    return load_dataset("diabetes")


def same_pairs(ours, theirs):
    theirs = list(theirs)
    assert len(ours) == len(theirs)
    for (a_train, a_test), (b_train, b_test) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a_train, b_train)
        np.testing.assert_array_equal(a_test, b_test)


@pytest.mark.parametrize(("k", "seed"), [(3, 0), (5, 7), (10, 42)])
def test_folds_are_scikit_learns_stratified_and_plain_kfold(iris, diabetes, k, seed):
    ours = crossval.folds(iris.y, k, "classification", seed)
    same_pairs(ours, StratifiedKFold(k, shuffle=True, random_state=seed).split(iris.X, iris.y))
    ours = crossval.folds(diabetes.y, k, "regression", seed)
    same_pairs(ours, KFold(k, shuffle=True, random_state=seed).split(diabetes.X))


@pytest.mark.parametrize(("k", "repeats", "seed"), [(3, 4, 0), (5, 2, 11)])
def test_repeated_folds_are_scikit_learns_repeated_splitters(iris, diabetes, k, repeats, seed):
    ours = crossval.folds(iris.y, k, "classification", seed, repeats)
    theirs = RepeatedStratifiedKFold(n_splits=k, n_repeats=repeats, random_state=seed)
    same_pairs(ours, theirs.split(iris.X, iris.y))
    ours = crossval.folds(diabetes.y, k, "regression", seed, repeats)
    theirs = RepeatedKFold(n_splits=k, n_repeats=repeats, random_state=seed)
    same_pairs(ours, theirs.split(diabetes.X))


def test_every_row_is_held_out_once_per_repeat(iris):
    pairs = crossval.folds(iris.y, 4, "classification", 1, repeats=3)
    for r in range(3):
        held_out = np.concatenate([test for _, test in pairs[4 * r : 4 * r + 4]])
        np.testing.assert_array_equal(np.sort(held_out), np.arange(150))


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"k": 2}, "number of folds must be from 3 to 10, got 2"),
        ({"k": 11}, "number of folds must be from 3 to 10, got 11"),
        ({"k": 5.0}, "k must be a whole number"),
        ({"k": 10, "repeats": 6}, "train 60 networks; the limit is 50"),
        ({"repeats": 0}, "repeats must be at least 1"),
        ({"task": "ranking"}, "task must be classification or regression"),
    ],
)
def test_bad_fold_counts_are_refused_in_words(iris, kwargs, words):
    with pytest.raises(ValueError, match=words):
        crossval.folds(iris.y, **{"k": 5, "task": "classification", **kwargs})


def test_a_class_with_fewer_rows_than_folds_is_refused(iris):
    y = np.r_[np.zeros(20, int), np.ones(4, int)]
    with pytest.raises(ValueError, match="class 1 has 4 rows, fewer than the 5 folds"):
        crossval.folds(y, 5, "classification")
    assert len(crossval.folds(y, 4, "classification")) == 4
    small = Dataset(iris.X[:24], y, iris.feature_names, ["many", "few"], name="small")
    with pytest.raises(ValueError, match="the class 'few' has 4 rows, fewer than the 5 folds"):
        crossval.cross_validate(small, SMALL, TRAINING, k=5)


def by_hand(dataset, config, training, pairs, seed, val_size=0.0, standardize=True):
    """Each fold made with scikit-learn's rows and the engine's public pieces, not crossval."""
    runs = []
    for train_idx, test_idx in pairs:
        if val_size:
            strat = None if dataset.is_regression else dataset.y[train_idx]
            train_idx, val_idx = train_test_split(
                train_idx, test_size=val_size, random_state=seed, stratify=strat
            )
        else:
            train_idx = np.random.default_rng(seed).permutation(train_idx)
            val_idx = train_idx[:0]
        pre = Preprocessor.fit(dataset.X[train_idx], dataset.feature_names, standardize)
        net = Network.from_config(config)
        settings = dict(training)
        val = (pre.transform(dataset.X[val_idx]), dataset.y[val_idx]) if len(val_idx) else None
        net.fit(
            pre.transform(dataset.X[train_idx]),
            dataset.y[train_idx],
            epochs=settings.pop("epochs"),
            validation_data=val,
            seed=seed,
            **settings,
        )
        runs.append(net.evaluate(pre.transform(dataset.X[test_idx]), dataset.y[test_idx]))
    return runs


def check_against_hand(result, runs):
    assert [f.metrics for f in result.folds] == runs  # the same arithmetic, bit for bit
    summary = result.summary()
    for name in runs[0]:
        values = np.array([run[name] for run in runs])
        assert summary[name]["mean"] == pytest.approx(values.mean(), rel=1e-12)
        assert summary[name]["std"] == pytest.approx(values.std(ddof=0), rel=1e-12, abs=1e-15)


def test_classification_summary_is_the_mean_and_std_of_runs_by_hand(iris):
    result = crossval.cross_validate(iris, SMALL, TRAINING, k=5, seed=4)
    pairs = StratifiedKFold(5, shuffle=True, random_state=4).split(iris.X, iris.y)
    check_against_hand(result, by_hand(iris, SMALL, TRAINING, pairs, seed=4))
    assert result.summary()["accuracy"]["mean"] > 0.8  # and it learned something
    assert [(f.fold, f.repeat) for f in result.folds] == [(i, 1) for i in range(1, 6)]
    assert [(f.n_train, f.n_val, f.n_test) for f in result.folds] == [(120, 0, 30)] * 5
    assert all(f.epochs == 15 and len(f.history) == 15 for f in result.folds)
    assert not result.cancelled and result.total == 5


def test_regression_with_early_stopping_matches_runs_by_hand(diabetes):
    result = crossval.cross_validate(
        diabetes, REGRESSION, REGRESSION_TRAINING, k=3, repeats=2, seed=5, val_size=0.15
    )
    pairs = RepeatedKFold(n_splits=3, n_repeats=2, random_state=5).split(diabetes.X)
    runs = by_hand(diabetes, REGRESSION, REGRESSION_TRAINING, pairs, seed=5, val_size=0.15)
    check_against_hand(result, runs)
    assert result.metric_names == ["loss", "r2", "mae", "rmse"]
    assert [(f.repeat, f.fold) for f in result.folds] == [(r, f) for r in (1, 2) for f in (1, 2, 3)]
    assert all(f.n_val > 0 and "val_r2" in f.history[0] for f in result.folds)
    assert result.summary()["r2"]["mean"] > 0.3


def scaled_fold_dataset(iris, k, seed, fold):
    """Iris with the first column 1000 times larger on the held-out rows of one fold."""
    X = iris.X.copy()
    X[crossval.folds(iris.y, k, "classification", seed)[fold][1], 0] *= 1000.0
    return Dataset(X, iris.y, iris.feature_names, iris.class_names, name="scaled")


@pytest.mark.parametrize("val_size", [0.0, 0.2])
def test_no_statistic_leaks_from_a_folds_held_out_rows(iris, val_size):
    k, seed, fold = 5, 2, 3
    data = scaled_fold_dataset(iris, k, seed, fold)
    result = crossval.cross_validate(data, SMALL, TRAINING, k=k, seed=seed, val_size=val_size)
    for i, ((train_idx, _), f) in enumerate(
        zip(crossval.folds(data.y, k, "classification", seed), result.folds, strict=True)
    ):
        if val_size:  # the validation rows are not training rows either
            train_idx, _ = train_test_split(
                train_idx, test_size=val_size, random_state=seed, stratify=data.y[train_idx]
            )
        rows = data.X[train_idx]
        np.testing.assert_allclose(f.preprocessor.mean, rows.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(f.preprocessor.scale, rows.std(axis=0), rtol=1e-12)
        # the large rows are in every other fold's training rows, never in their own fold's
        assert (f.preprocessor.mean[0] < 10) == (i == fold)


def test_a_tables_fills_and_categories_come_from_the_folds_training_rows(iris):
    k, seed = 3, 0
    pairs = crossval.folds(iris.y, k, "classification", seed)
    X = iris.X[:, :3].copy()
    X[::7, 1] = np.nan  # gaps, filled with the training rows' median
    colour = np.zeros(len(X))
    colour[1::2] = 1.0
    colour[pairs[1][1][:5]] = 2.0  # "red": only fold 2's held-out rows have it
    data = Dataset(
        np.c_[X, colour],
        iris.y,
        ["a", "b", "c", "colour"],
        iris.class_names,
        kinds=["numeric", "numeric", "numeric", "categorical"],
        categories={"colour": ["blue", "green", "red"]},
    )
    # the config's input size is replaced by each fold's number of inputs (5 or 6 here)
    result = crossval.cross_validate(data, {**SMALL, "layers": [1, 8, 3]}, TRAINING, k=k)
    for i, ((train_idx, _), f) in enumerate(zip(pairs, result.folds, strict=True)):
        b = f.preprocessor.column("b")
        assert b.fill == pytest.approx(np.nanmedian(X[train_idx, 1]))
        assert b.mean == pytest.approx(
            np.nanmean(np.where(np.isnan(X[train_idx, 1]), b.fill, X[train_idx, 1]))
        )
        expected = ["blue", "green"] if i == 1 else ["blue", "green", "red"]
        assert f.preprocessor.column("colour").categories == expected
        assert f.preprocessor.n_inputs == 3 + len(expected)


def test_fold_split_makes_exactly_the_given_parts(iris):
    train_idx, test_idx = crossval.folds(iris.y, 5, "classification", 0)[2]
    parts = crossval.fold_split(iris, train_idx, test_idx, val_size=0.25, seed=1)
    assert parts.sizes == {"train": 90, "validation": 30, "test": 30}
    np.testing.assert_array_equal(parts.raw_test, iris.X[test_idx])
    seen = np.concatenate([parts.raw_train, parts.raw_val])
    np.testing.assert_array_equal(np.sort(seen, axis=0), np.sort(iris.X[train_idx], axis=0))
    np.testing.assert_allclose(parts.preprocessor.mean, parts.raw_train.mean(axis=0))


def without_seconds(result):
    return [
        ({**f.row(), "seconds": 0}, [{**r, "seconds": 0} for r in f.history], f.preprocessor)
        for f in result.folds
    ]


def test_two_workers_give_the_same_result_as_one(iris):
    one = crossval.cross_validate(iris, SMALL, TRAINING, k=4, repeats=2, seed=9)
    two = crossval.cross_validate(iris, SMALL, TRAINING, k=4, repeats=2, seed=9, n_jobs=2)
    assert without_seconds(two) == without_seconds(one)
    assert two.summary() == one.summary() and two.n_jobs == 2


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_cancel_after_the_first_fold(iris, n_jobs):
    calls = []
    result = crossval.cross_validate(
        iris,
        SMALL,
        TRAINING,
        k=5,
        n_jobs=n_jobs,
        progress=lambda done, total: calls.append((done, total)),
        should_stop=lambda: len(calls) >= 1,
    )
    assert calls == [(1, 5)]
    assert result.cancelled and len(result.folds) == 1 and result.total == 5
    assert set(result.summary()) == {"loss", "accuracy", "epochs"}
    assert result.to_dict()["completed"] == 1
    if n_jobs == 1:
        full = crossval.cross_validate(iris, SMALL, TRAINING, k=5)
        assert result.folds[0].metrics == full.folds[0].metrics


def test_a_stop_before_the_first_fold_trains_nothing(iris):
    result = crossval.cross_validate(iris, SMALL, TRAINING, should_stop=lambda: True)
    assert result.cancelled and result.folds == [] and result.summary() == {}


def test_progress_counts_every_fold_in_the_parent(iris):
    calls = []
    crossval.cross_validate(
        iris, SMALL, {**TRAINING, "epochs": 2}, k=3, n_jobs=2, progress=lambda *a: calls.append(a)
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"k": 1}, "number of folds must be from 3 to 10, got 1"),
        ({"k": 12}, "number of folds must be from 3 to 10, got 12"),
        ({"k": 10, "repeats": 10}, "the limit is 50"),
        ({"n_jobs": 3, "max_jobs": 2}, "n_jobs=3 is more than the 2 worker"),
        ({"n_jobs": 0}, "n_jobs must be a whole number of workers, at least 1"),
        ({"n_jobs": -1}, "n_jobs must be a whole number of workers, at least 1"),
        ({"val_size": 1.5}, "val_size must be"),
        ({"training": {"epochs": 5, "early_stopping": True}}, "early stopping needs validation"),
        ({"training": {"epoch": 5}}, "unknown training settings: epoch"),
        ({"network_config": {"layers": [4, 3], "loss": "hinge"}}, "unknown loss 'hinge'"),
    ],
)
def test_bad_settings_are_refused_before_any_fold_runs(iris, kwargs, words):
    args = {"network_config": SMALL, "training": TRAINING, **kwargs}
    with pytest.raises(ValueError, match=words):
        crossval.cross_validate(iris, **args)


def test_a_diverging_fold_raises_and_names_the_fold(iris):
    config = {"layers": [4, 1], "output_activation": "linear", "task": "regression"}
    data = Dataset(iris.X, iris.X[:, 0] * 1e3, iris.feature_names, [], task="regression")
    with pytest.raises(DivergenceError, match=r"diverged at epoch \d+.*\(fold 1, repeat 1\)"):
        crossval.cross_validate(data, config, {"epochs": 5, "learning_rate": 1e6}, k=3)


def test_the_result_is_json_ready_with_curves(iris):
    result = crossval.cross_validate(iris, SMALL, {**TRAINING, "epochs": 3}, k=3)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["k"] == 3 and data["completed"] == 3 and data["ddof"] == crossval.DDOF
    assert [row["fold"] for row in data["folds"]] == [1, 2, 3]
    assert len(data["folds"][0]["history"]) == 3
    again = Preprocessor.from_dict(data["folds"][0]["preprocessor"])
    assert again == result.folds[0].preprocessor
    assert data["summary"] == result.summary()
    assert "history" not in result.to_dict(history=False)["folds"][0]
    assert len(result.curves("train_loss")) == 3 and len(result.curves()[0]) == 3
    assert repr(result) == "CVResult(classification, k=3, repeats=1, 3/3 folds)"


def test_a_cancel_leaves_another_parallel_cross_validation_alone(iris):
    """joblib's worker pool is shared by the process: one run's cancel must not end another's."""
    training = {**TRAINING, "epochs": 60}
    other = {}

    def cancelled_run():
        calls = []
        other["result"] = crossval.cross_validate(
            iris,
            SMALL,
            training,
            n_jobs=2,
            progress=lambda *a: calls.append(a),
            should_stop=lambda: bool(calls),
        )

    thread = threading.Thread(target=cancelled_run)

    def start_the_other(done, total):
        if done == 1:
            thread.start()

    full = crossval.cross_validate(iris, SMALL, training, n_jobs=2, progress=start_the_other)
    thread.join(timeout=120)
    assert other["result"].cancelled and len(other["result"].folds) == 1
    serial = crossval.cross_validate(iris, SMALL, training)
    assert without_seconds(full) == without_seconds(serial)


def test_each_fold_keeps_its_held_out_rows_and_outputs(iris):
    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

    result = crossval.cross_validate(iris, SMALL, TRAINING, k=5, seed=4)
    pairs = list(StratifiedKFold(5, shuffle=True, random_state=4).split(iris.X, iris.y))
    for fold, (_, test_idx) in zip(result.folds, pairs, strict=True):
        assert np.array_equal(fold.test_index, test_idx)
        assert np.array_equal(fold.y_true, iris.y[test_idx])
        assert fold.outputs.shape == (len(test_idx), 3)
        assert np.allclose(fold.outputs.sum(axis=1), 1.0)
        # the outputs are what the fold's scores were computed from
        assert accuracy_score(fold.y_true, fold.outputs.argmax(axis=1)) == pytest.approx(
            fold.metrics["accuracy"], abs=1e-12
        )
        assert log_loss(fold.y_true, fold.outputs, labels=[0, 1, 2]) == pytest.approx(
            fold.metrics["loss"], rel=1e-6
        )
    y_true, outputs, numbers = result.held_out()
    assert sorted(np.concatenate([f.test_index for f in result.folds])) == list(range(150))
    assert np.array_equal(y_true, np.concatenate([iris.y[t] for _, t in pairs]))
    assert outputs.shape == (150, 3) and list(np.bincount(numbers)) == [30] * 5
    assert 0.5 < roc_auc_score(y_true, outputs, multi_class="ovr") <= 1.0


def test_a_regression_folds_outputs_are_its_predictions_in_the_targets_units(diabetes):
    from sklearn.metrics import mean_absolute_error, r2_score

    result = crossval.cross_validate(
        diabetes, REGRESSION, REGRESSION_TRAINING, k=3, seed=5, val_size=0.15
    )
    for fold in result.folds:
        assert fold.outputs.shape == fold.y_true.shape == (fold.n_test,)
        assert r2_score(fold.y_true, fold.outputs) == pytest.approx(fold.metrics["r2"], abs=1e-9)
        assert mean_absolute_error(fold.y_true, fold.outputs) == pytest.approx(
            fold.metrics["mae"], rel=1e-9
        )


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_cancel_stops_the_folds_in_progress_at_their_next_epoch(iris, n_jobs):
    """A fold of 3000 epochs takes seconds; a stop asked for a few tenths of a second in must
    end it (in this process or in a worker) instead of waiting for it, and keep no fold."""
    import time

    t0 = time.monotonic()
    result = crossval.cross_validate(
        iris,
        SMALL,
        {**TRAINING, "epochs": 3000, "batch_size": 1},
        k=3,
        n_jobs=n_jobs,
        should_stop=lambda: time.monotonic() > t0 + 0.3,
    )
    assert result.cancelled and result.folds == []
    # the workers were not killed: the next parallel run works
    again = crossval.cross_validate(iris, SMALL, TRAINING, k=3, n_jobs=2)
    assert len(again.folds) == 3 and not again.cancelled


def test_a_learning_curve_trains_each_share_of_each_folds_rows_as_by_hand(iris):
    shares = (0.25, 1.0)
    lc = crossval.learning_curve(iris, SMALL, TRAINING, shares=shares, k=3, seed=2)
    assert lc.total == 6 and len(lc.folds) == 6 and not lc.cancelled
    pairs = list(StratifiedKFold(3, shuffle=True, random_state=2).split(iris.X, iris.y))
    for i, share in enumerate(shares, start=1):
        runs = [f for f in lc.folds if f.repeat == i]
        subsets = []
        for train_idx, test_idx in pairs:
            rows = train_idx
            if share < 1:  # a stratified subsample of the fold's training rows
                rows, _ = train_test_split(
                    train_idx,
                    train_size=round(share * len(train_idx)),
                    random_state=2,
                    stratify=iris.y[train_idx],
                )
            subsets.append((rows, test_idx))
        assert [f.n_train for f in runs] == [len(r) for r, _ in subsets]
        assert [f.metrics for f in runs] == by_hand(iris, SMALL, TRAINING, subsets, seed=2)
        if share < 1:  # every class in the subsample, in its share
            for rows, _ in subsets:
                assert np.bincount(iris.y[rows]).min() >= 7
    points = lc.points()
    assert [p["share"] for p in points] == [0.25, 1.0]
    assert [p["n_train"] for p in points] == [25.0, 100.0]
    held = [f.metrics["accuracy"] for f in lc.folds if f.repeat == 2]
    assert points[1]["test_mean"] == pytest.approx(np.mean(held))
    assert points[1]["test_std"] == pytest.approx(np.std(held))
    fitted = [f.train_metrics["accuracy"] for f in lc.folds if f.repeat == 1]
    assert points[0]["train_mean"] == pytest.approx(np.mean(fitted))
    # the training rows' score is the network's on the rows it trained on
    assert all(0.0 <= f.train_metrics["accuracy"] <= 1.0 for f in lc.folds)


@pytest.mark.parametrize(
    ("shares", "words"),
    [((0.0, 1.0), "above 0"), ((0.5, 1.5), "at most 1"), (("half",), "numbers"), ((), "above 0")],
)
def test_bad_learning_curve_shares_are_refused(iris, shares, words):
    with pytest.raises(ValueError, match=words):
        crossval.learning_curve(iris, SMALL, TRAINING, shares=shares, k=3)


def test_a_learning_curve_past_the_fit_limit_is_refused(iris):
    shares = [i / 10 for i in range(1, 11)]
    with pytest.raises(ValueError, match="limit is 50"):
        crossval.learning_curve(iris, SMALL, TRAINING, shares=shares, k=6)
