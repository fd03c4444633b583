"""nn.evaluation: curves, threshold figures, calibration and permutation importance equal
scikit-learn's on the same predictions of real networks; macro averages equal the hand
computation; bad inputs are refused in words."""

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn import inspection, metrics
from sklearn.calibration import calibration_curve
from sklearn.preprocessing import label_binarize

import nn
from nn import evaluation as ev

TABLES = Path(__file__).resolve().parent / "data" / "tables"
TOL = 1e-9


def train(dataset, hidden=6, epochs=3, learning_rate=0.05, seed=0, **config):
    """A briefly trained network (so its curves are not perfect) and its split."""
    sp = nn.data.split(dataset, seed=seed, standardize=True, stratify=True)
    layers = [sp.X_train.shape[1], hidden, dataset.n_outputs]
    net = nn.Network.from_config({"layers": layers, "seed": seed, "task": dataset.task, **config})
    net.preprocessor = sp.preprocessor
    net.fit(sp.X_train, sp.y_train, epochs=epochs, learning_rate=learning_rate, batch_size=16)
    return net, sp


@pytest.fixture(scope="module")
def cancer():
    """Breast cancer (binary), a softmax network: labels, probabilities (n, 2), class names."""
    ds = nn.data.load_dataset("breast_cancer")
    net, sp = train(ds, output_activation="softmax", loss="cross_entropy")
    return sp.y_test, ev.class_probabilities(net, sp.X_test), ds.class_names


@pytest.fixture(scope="module")
def wine():
    """Wine (3 classes), the article's sigmoid outputs and squared error: normalized scores."""
    ds = nn.data.load_dataset("wine")
    net, sp = train(ds, hidden=4, epochs=10, learning_rate=0.5)
    return sp.y_test, ev.class_probabilities(net, sp.X_test), ds.class_names


@pytest.fixture(scope="module")
def penguins():
    ds = nn.data.load_table(TABLES / "penguins.csv")
    net, sp = train(ds, epochs=10, output_activation="softmax", loss="cross_entropy")
    return net, ds, sp


@pytest.fixture(autouse=True)
def no_warnings():
    """A 0/0 must be handled, not warned about."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def on_polyline(point, x, y) -> float:
    """Distance of a point from the line through the points (x, y)."""
    p = np.asarray(point, dtype=float)
    a = np.column_stack([x[:-1], y[:-1]])
    b = np.column_stack([x[1:], y[1:]])
    d = b - a
    length = np.maximum((d * d).sum(axis=1), 1e-300)
    t = np.clip(((p - a) * d).sum(axis=1) / length, 0, 1)
    return float(np.min(np.linalg.norm(a + t[:, None] * d - p, axis=1)))


def step_value(recall, precision, r) -> float:
    """By hand: the precision of a PR curve's step over recall ``r`` (the point whose recall
    is the first at or above r, going down the curve: average precision's rule)."""
    for i in range(len(recall) - 1):
        if recall[i + 1] < r <= recall[i]:
            return precision[i]
    return precision[-1]


# ---- probabilities from the network ----


def test_class_probabilities_keep_the_networks_prediction():
    iris = nn.data.load_dataset("iris")
    for config in (
        {},  # sigmoid outputs: normalized scores
        {"output_activation": "softmax", "loss": "cross_entropy"},
        {"output_activation": "linear"},
    ):
        net, sp = train(iris, epochs=2, **config)
        P = ev.class_probabilities(net, sp.X_test)
        assert P.shape == (len(sp.X_test), 3)
        np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
        np.testing.assert_array_equal(P.argmax(axis=1), net.predict(sp.X_test))
    softmax = nn.Network.from_config({"layers": [4, 3], "output_activation": "softmax"})
    np.testing.assert_array_equal(
        ev.class_probabilities(softmax, sp.X_test), softmax.predict_proba(sp.X_test)
    )
    # linear outputs with no positive score fall back to their softmax
    linear = nn.Network.from_config({"layers": [4, 3], "output_activation": "linear"})
    linear.set_weights([np.zeros((4, 3)), np.array([-1.0, -0.5, -2.0])])
    P = ev.class_probabilities(linear, sp.X_test[:2])
    np.testing.assert_allclose(P[0], np.exp([-1.0, -0.5, -2.0]) / np.exp([-1, -0.5, -2]).sum())


def test_a_single_sigmoid_output_is_the_positive_probability():
    ds = nn.data.load_dataset("breast_cancer")
    net, sp = train(ds, epochs=2, output_activation="sigmoid")
    one = nn.Network.from_config({"layers": [30, 4, 1], "loss": "cross_entropy", "seed": 3})
    one.fit(sp.X_train, sp.y_train, epochs=2, learning_rate=0.01)
    P = ev.class_probabilities(one, sp.X_test)
    np.testing.assert_array_equal(P[:, 1], one.predict_proba(sp.X_test)[:, 0])
    np.testing.assert_array_equal(ev.predict_at_threshold(P, 0.5), one.predict(sp.X_test))
    two = ev.class_probabilities(net, sp.X_test)
    np.testing.assert_array_equal(ev.predict_at_threshold(two, 0.5), net.predict(sp.X_test))
    np.testing.assert_array_equal(ev.positive_probability(two), two[:, 1])


# ---- ROC and precision-recall ----


def test_a_hand_worked_roc_curve():
    # scikit-learn's own doc example: AUC 0.75
    roc = ev.roc_curves([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], ["no", "yes"])
    assert roc.binary and roc.macro is None and len(roc.curves) == 1
    assert roc.curves[0].auc == pytest.approx(0.75, abs=TOL)
    assert roc.curves[0].label == "yes" and roc.curves[0].index == 1


@pytest.mark.parametrize("form", ["two columns", "positive column", "one column"])
def test_binary_auc_and_average_precision_equal_scikit_learns(cancer, form):
    y, P, names = cancer
    given = {"two columns": P, "positive column": P[:, 1], "one column": P[:, 1:]}[form]
    roc = ev.roc_curves(y, given, names)
    pr = ev.pr_curves(y, given, names)
    (curve,) = roc.curves
    assert 0.6 < curve.auc < 0.999  # a real, imperfect classifier
    assert abs(curve.auc - metrics.roc_auc_score(y, P[:, 1])) < TOL
    fpr, tpr, thresholds = metrics.roc_curve(y, P[:, 1])
    np.testing.assert_array_equal(curve.fpr, fpr)
    np.testing.assert_array_equal(curve.tpr, tpr)
    np.testing.assert_array_equal(curve.thresholds, thresholds)
    (step,) = pr.curves
    assert abs(step.average_precision - metrics.average_precision_score(y, P[:, 1])) < TOL
    precision, recall, _ = metrics.precision_recall_curve(y, P[:, 1])
    np.testing.assert_array_equal(step.precision, precision)
    np.testing.assert_array_equal(step.recall, recall)
    assert step.prevalence == pytest.approx(np.mean(y == 1))
    assert pr.binary and pr.macro is None


def test_each_class_against_the_rest_equals_scikit_learn(wine):
    y, P, names = wine
    roc, pr = ev.roc_curves(y, P, names), ev.pr_curves(y, P, names)
    assert [c.label for c in roc.curves] == list(names) == [c.label for c in pr.curves]
    aucs = []
    for c in range(3):
        auc = metrics.roc_auc_score(y == c, P[:, c])
        assert abs(roc.curves[c].auc - auc) < TOL
        ap = metrics.average_precision_score(y == c, P[:, c])
        assert abs(pr.curves[c].average_precision - ap) < TOL
        aucs.append(auc)
    assert min(aucs) < 0.999  # not every class perfectly separated
    macro_auc = metrics.roc_auc_score(y, P, multi_class="ovr", average="macro")
    assert abs(roc.macro.auc - macro_auc) < TOL
    assert abs(roc.macro.auc - np.mean(aucs)) < TOL
    Y = label_binarize(y, classes=[0, 1, 2])
    assert abs(pr.macro.average_precision - metrics.average_precision_score(Y, P)) < TOL
    assert pr.macro.prevalence == pytest.approx(1 / 3)


def test_the_macro_curves_are_the_pointwise_mean_and_their_areas_the_macro_figures(wine):
    y, P, names = wine
    roc, pr = ev.roc_curves(y, P, names), ev.pr_curves(y, P, names)
    # the area of the drawn macro curve is the macro AUC / AP
    assert abs(metrics.auc(roc.macro.fpr, roc.macro.tpr) - roc.macro.auc) < TOL
    ap = -np.sum(np.diff(pr.macro.recall) * pr.macro.precision[:-1])
    assert abs(ap - pr.macro.average_precision) < TOL
    # at rates where no class curve bends, each curve is a plain interpolation
    rates = np.random.default_rng(0).uniform(0.001, 0.999, 50)
    for r in rates:
        by_hand = np.mean([np.interp(r, c.fpr, c.tpr) for c in roc.curves])
        assert abs(np.interp(r, roc.macro.fpr, roc.macro.tpr) - by_hand) < TOL
        by_hand = np.mean([step_value(c.recall, c.precision, r) for c in pr.curves])
        assert abs(step_value(pr.macro.recall, pr.macro.precision, r) - by_hand) < TOL
    assert roc.macro.fpr[0] == 0 and roc.macro.tpr[0] == 0 and roc.macro.tpr[-1] == 1
    assert np.all(np.diff(roc.macro.fpr) >= 0) and np.all(np.diff(pr.macro.recall) <= 0)


def test_macro_roc_with_vertical_steps_by_hand():
    # class curves with steps at fpr 0 and 0.5: the exact mean keeps both sides of a step
    y = np.array([0, 0, 1, 1, 2, 2])
    P = np.array(
        [
            [0.9, 0.05, 0.05],
            [0.2, 0.3, 0.5],
            [0.1, 0.8, 0.1],
            [0.5, 0.4, 0.1],
            [0.3, 0.3, 0.4],
            [0.1, 0.2, 0.7],
        ]
    )
    roc = ev.roc_curves(y, P, ["a", "b", "c"])
    aucs = [metrics.roc_auc_score(y == c, P[:, c]) for c in range(3)]
    assert abs(roc.macro.auc - np.mean(aucs)) < TOL
    assert abs(metrics.auc(roc.macro.fpr, roc.macro.tpr) - np.mean(aucs)) < TOL


def test_the_threshold_figures_equal_scikit_learns_and_their_points_lie_on_the_curves(cancer):
    y, P, names = cancer
    p = P[:, 1]
    roc, pr = ev.roc_curves(y, P, names).curves[0], ev.pr_curves(y, P, names).curves[0]
    for t in (0.0, 0.2, 0.5, float(np.median(p)), 0.9):
        m = ev.binary_at_threshold(y, P, t)
        y_pred = (p > t).astype(int)
        np.testing.assert_array_equal(m.confusion, metrics.confusion_matrix(y, y_pred))
        assert m.precision == pytest.approx(metrics.precision_score(y, y_pred), abs=TOL)
        assert m.recall == pytest.approx(metrics.recall_score(y, y_pred), abs=TOL)
        assert m.f1 == pytest.approx(metrics.f1_score(y, y_pred), abs=TOL)
        assert m.accuracy == pytest.approx(metrics.accuracy_score(y, y_pred), abs=TOL)
        (tn, fp), (fn, tp) = m.confusion
        assert m.roc_point == pytest.approx((fp / (fp + tn), tp / (tp + fn)))
        assert on_polyline(m.roc_point, roc.fpr, roc.tpr) < 1e-12
        # a vertex of the PR curve, which its steps pass through
        hits = (np.abs(pr.recall - m.pr_point[0]) < 1e-12) & (
            np.abs(pr.precision - m.pr_point[1]) < 1e-12
        )
        assert hits.any()


def test_nothing_predicted_positive_gives_zeros_not_warnings(cancer):
    y, P, _ = cancer
    m = ev.binary_at_threshold(y, P, 1.0)
    assert m.precision == m.recall == m.f1 == m.fpr == 0.0
    assert m.pr_point is None and m.roc_point == (0.0, 0.0)
    assert m.confusion[:, 1].sum() == 0
    only_negatives = ev.binary_at_threshold([0, 0, 0], [0.1, 0.6, 0.7], 0.5)
    assert only_negatives.recall == 0.0 and only_negatives.fpr == pytest.approx(2 / 3)


# ---- calibration ----


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_binary_calibration_equals_scikit_learns(cancer, strategy):
    y, P, _ = cancer
    cal = ev.calibration(y, P, n_bins=8, strategy=strategy)
    fraction, mean = calibration_curve(y, P[:, 1], n_bins=8, strategy=strategy)
    np.testing.assert_allclose(cal.fraction_positive, fraction, rtol=0, atol=TOL)
    np.testing.assert_allclose(cal.mean_predicted, mean, rtol=0, atol=TOL)
    assert abs(cal.brier - metrics.brier_score_loss(y, P[:, 1])) < TOL
    assert abs(cal.brier - np.mean((P[:, 1] - y) ** 2)) < TOL
    # the counts are the bins' own: they weigh the bin means back to the overall ones
    assert cal.counts.sum() == len(y) and np.all(cal.counts > 0)
    assert abs(np.sum(cal.counts * cal.mean_predicted) - P[:, 1].sum()) < 1e-8
    assert abs(np.sum(cal.counts * cal.fraction_positive) - y.sum()) < 1e-8
    assert np.all(cal.lower <= cal.mean_predicted) and np.all(cal.mean_predicted <= cal.upper)
    assert cal.kind == "positive class"


def test_multiclass_calibration_is_the_top_label_and_the_brier_sums_over_classes(wine):
    y, P, _ = wine
    cal = ev.calibration(y, P, n_bins=5)
    Y = label_binarize(y, classes=[0, 1, 2])
    by_hand = np.mean(np.sum((Y - P) ** 2, axis=1))
    assert abs(cal.brier - by_hand) < TOL
    assert abs(cal.brier - metrics.brier_score_loss(y, P, labels=[0, 1, 2])) < TOL
    right = (P.argmax(axis=1) == y).astype(int)
    fraction, mean = calibration_curve(right, P.max(axis=1), n_bins=5)
    np.testing.assert_allclose(cal.fraction_positive, fraction, rtol=0, atol=TOL)
    np.testing.assert_allclose(cal.mean_predicted, mean, rtol=0, atol=TOL)
    assert cal.counts.sum() == len(y) and cal.kind == "top label"


# ---- the band over folds ----


def test_a_band_is_the_mean_and_spread_of_the_fold_curves(cancer):
    y, P, names = cancer
    folds = np.array_split(np.random.default_rng(1).permutation(len(y)), 3)
    rocs = [ev.roc_curves(y[f], P[f], names).curves[0] for f in folds]
    prs = [ev.pr_curves(y[f], P[f], names).curves[0] for f in folds]
    band = ev.curve_band(rocs, n_points=41)
    assert band.kind == "roc"
    assert band.area_mean == pytest.approx(np.mean([c.auc for c in rocs]), abs=TOL)
    assert band.area_std == pytest.approx(np.std([c.auc for c in rocs]), abs=TOL)
    for g in np.linspace(0, 1, 41)[1:-1]:
        if any(np.isin(g, c.fpr) for c in rocs):
            continue
        values = [np.interp(g, c.fpr, c.tpr) for c in rocs]
        (at,) = np.flatnonzero(band.x == g)
        assert band.mean[at] == pytest.approx(np.mean(values), abs=TOL)
        assert band.std[at] == pytest.approx(np.std(values), abs=TOL)
    np.testing.assert_array_equal(band.lower, np.clip(band.mean - band.std, 0, 1))
    assert band.mean[0] == 0 and band.mean[-1] == 1
    pr = ev.curve_band(prs, n_points=21)
    assert pr.kind == "pr" and pr.baseline == pytest.approx(np.mean([c.prevalence for c in prs]))
    for g, value in zip(pr.x[:-1], pr.mean[:-1], strict=True):
        assert value == pytest.approx(
            np.mean([step_value(c.recall, c.precision, g) for c in prs]), abs=TOL
        )
    assert pr.area_mean == pytest.approx(np.mean([c.average_precision for c in prs]), abs=TOL)
    with pytest.raises(ValueError, match="one kind"):
        ev.curve_band([rocs[0], prs[0]])
    with pytest.raises(ValueError, match="at least one"):
        ev.curve_band([])


# ---- permutation importance ----


def hand_permutation(net, X, y, n_repeats, seed, score):
    """scikit-learn's permutation loop written out: one seed drawn from ``seed``, each column
    shuffled again and again from a fresh RandomState of that seed."""
    state = np.random.RandomState(seed)
    column_seed = state.randint(np.iinfo(np.int32).max + 1)
    baseline = score(y, net.predict(net.preprocessor.transform(X)))
    out = np.empty((X.shape[1], n_repeats))
    for j, name in enumerate(X.columns):
        rng = np.random.RandomState(column_seed)
        order = np.arange(len(X))
        shuffled = X.copy()
        for r in range(n_repeats):
            rng.shuffle(order)
            shuffled[name] = shuffled[name].to_numpy()[order]
            out[j, r] = baseline - score(y, net.predict(net.preprocessor.transform(shuffled)))
    return baseline, out


def test_importance_by_raw_feature_equals_the_hand_loop(penguins):
    net, ds, sp = penguins
    table = ds.table(sp.raw_test)
    assert net.n_inputs > ds.X.shape[1]  # one-hot groups
    imp = ev.permutation_importance(net, table, sp.y_test, n_repeats=4, seed=3)
    assert len(imp.features) == len(ds.feature_names) == imp.importances.shape[0]
    assert sorted(imp.features) == sorted(ds.feature_names)
    assert imp.importances.shape == (7, 4) and imp.scoring == "accuracy"
    baseline, by_hand = hand_permutation(net, table, sp.y_test, 4, 3, metrics.accuracy_score)
    order = [list(table.columns).index(f) for f in imp.features]
    np.testing.assert_allclose(imp.importances, by_hand[order], rtol=0, atol=TOL)
    np.testing.assert_allclose(imp.mean, by_hand[order].mean(axis=1), rtol=0, atol=TOL)
    np.testing.assert_allclose(imp.std, by_hand[order].std(axis=1), rtol=0, atol=TOL)
    assert imp.baseline == pytest.approx(baseline, abs=TOL)
    assert np.all(np.diff(imp.mean) <= 0)  # largest first
    assert imp.mean[0] > 0.05  # something matters
    again = ev.permutation_importance(net, table, sp.y_test, n_repeats=4, seed=3)
    np.testing.assert_array_equal(again.importances, imp.importances)
    # scikit-learn's own call with the adapter on the raw table (preprocessing every shuffle)
    direct = inspection.permutation_importance(
        ev.NetworkEstimator(net), table, sp.y_test, n_repeats=4, random_state=3
    )
    np.testing.assert_allclose(imp.importances, direct.importances[order], rtol=0, atol=TOL)


def test_regression_importance_is_the_fall_in_r2_in_the_targets_units():
    cars = nn.data.load_table(TABLES / "cars.csv", target="mpg", task="regression")
    net, sp = train(cars, epochs=10)
    assert net.target_scaler is not None
    table = cars.table(sp.raw_test)
    imp = ev.permutation_importance(net, table, sp.y_test, n_repeats=2, seed=0)
    assert len(imp.features) == len(cars.feature_names) and imp.scoring == "r2"
    baseline, by_hand = hand_permutation(net, table, sp.y_test, 2, 0, metrics.r2_score)
    order = [list(table.columns).index(f) for f in imp.features]
    np.testing.assert_allclose(imp.importances, by_hand[order], rtol=0, atol=TOL)
    assert imp.baseline == pytest.approx(baseline, abs=TOL)


def test_importance_with_a_scikit_learn_scoring_name():
    ds = nn.data.load_dataset("breast_cancer")
    net, sp = train(ds, output_activation="softmax", loss="cross_entropy")
    table = ds.table(sp.raw_test)
    imp = ev.permutation_importance(net, table, sp.y_test, n_repeats=2, scoring="roc_auc")
    P = ev.class_probabilities(net, sp.X_test)
    assert imp.baseline == pytest.approx(metrics.roc_auc_score(sp.y_test, P[:, 1]), abs=TOL)
    assert imp.scoring == "roc_auc" and len(imp.features) == 30


# ---- the threshold saved with the model ----


def test_the_threshold_travels_with_the_model_and_decides_its_predictions():
    ds = nn.data.load_dataset("breast_cancer")
    net, sp = train(ds, output_activation="softmax", loss="cross_entropy")
    assert ev.model_threshold(net) == 0.5
    np.testing.assert_array_equal(ev.predict_classes(net, sp.X_test), net.predict(sp.X_test))
    ev.set_model_threshold(net, 0.8)
    buffer = io.BytesIO()
    net.save(buffer)
    buffer.seek(0)
    loaded = nn.Network.load(buffer)
    assert ev.model_threshold(loaded) == 0.8
    p = ev.class_probabilities(loaded, sp.X_test)[:, 1]
    np.testing.assert_array_equal(ev.predict_classes(loaded, sp.X_test), (p > 0.8).astype(int))
    np.testing.assert_array_equal(
        ev.predict_classes(loaded, sp.X_test, threshold=0.1), (p > 0.1).astype(int)
    )
    loaded.metadata[ev.THRESHOLD_KEY] = "high"
    with pytest.raises(ValueError, match="saved decision threshold must be a number from 0 to 1"):
        ev.model_threshold(loaded)
    three = nn.Network.from_config({"layers": [4, 3]})
    with pytest.raises(ValueError, match="two-class"):
        ev.set_model_threshold(three, 0.3)


# ---- bad input ----


@pytest.mark.parametrize("threshold", [1.5, -0.1, float("nan"), "0.5", True, None])
def test_a_threshold_outside_0_to_1_is_refused(cancer, threshold):
    y, P, _ = cancer
    with pytest.raises(ValueError, match="threshold must be a number from 0 to 1"):
        ev.binary_at_threshold(y, P, threshold)
    with pytest.raises(ValueError, match="threshold must be a number from 0 to 1"):
        ev.predict_at_threshold(P, threshold)


def test_bad_probabilities_and_labels_are_refused(cancer, wine):
    y, P, names = cancer
    bad = P.copy()
    bad[3, 1] = np.nan
    for f in (ev.roc_curves, ev.pr_curves):
        with pytest.raises(ValueError, match="contain NaN"):
            f(y, bad, names)
        with pytest.raises(ValueError, match="between 0 and 1"):
            f(y, P * 2, names)
        with pytest.raises(ValueError, match=r"labels have shape \(\d+,\)"):
            f(y[:-1], P, names)
        with pytest.raises(ValueError, match="two columns, not 3"):
            f(y, np.column_stack([P, P[:, :1]]), names)
        with pytest.raises(ValueError, match=r"class indices 0\.\.1"):
            f(y + 1, P, names)
        with pytest.raises(ValueError, match="at least two classes"):
            f(y, P, ["only"])
    with pytest.raises(ValueError, match="contain NaN"):
        ev.binary_at_threshold(y, bad, 0.5)
    with pytest.raises(ValueError, match="contain NaN"):
        ev.calibration(y, bad)
    yw, Pw, wine_names = wine
    with pytest.raises(ValueError, match=r"3 classes but the probabilities have shape \(\d+, 2\)"):
        ev.roc_curves(yw, Pw[:, :2], wine_names)
    with pytest.raises(ValueError, match="must add up to 1"):
        ev.calibration(yw, Pw * 0.9)
    with pytest.raises(ValueError, match="n_bins must be a whole number of at least 2"):
        ev.calibration(y, P, n_bins=1)
    with pytest.raises(ValueError, match="strategy must be one of uniform, quantile"):
        ev.calibration(y, P, strategy="equal")


def test_one_class_only_has_no_roc_curve(cancer, wine):
    y, P, names = cancer
    ones = y == 1
    with pytest.raises(ValueError, match="needs rows of both classes"):
        ev.roc_curves(y[ones], P[ones], names)
    with pytest.raises(ValueError, match="needs rows of both classes"):
        ev.pr_curves(y[~ones], P[~ones], names)
    yw, Pw, wine_names = wine
    keep = yw != 2
    with pytest.raises(ValueError, match="class 'class_2' against the rest"):
        ev.roc_curves(yw[keep], Pw[keep], wine_names)


def test_bad_importance_requests_are_refused(penguins):
    net, ds, sp = penguins
    table = ds.table(sp.raw_test)
    with pytest.raises(ValueError, match="lacks the feature column"):
        ev.permutation_importance(net, table.drop(columns=["island"]), sp.y_test)
    with pytest.raises(ValueError, match="rows but"):
        ev.permutation_importance(net, table, sp.y_test[:-1])
    with pytest.raises(ValueError, match="n_repeats must be a whole number of at least 1"):
        ev.permutation_importance(net, table, sp.y_test, n_repeats=0)
    with pytest.raises(ValueError, match="seed must be a whole number"):
        ev.permutation_importance(net, table, sp.y_test, seed=-1)
    with pytest.raises(ValueError, match="must be a table"):
        ev.permutation_importance(net, table.to_numpy(), sp.y_test)


def test_a_binary_models_importance_scores_at_its_saved_threshold():
    ds = nn.data.load_dataset("breast_cancer")
    net, sp = train(ds, epochs=2, output_activation="softmax", loss="cross_entropy")
    X, y = ds.table(sp.raw_test), sp.y_test
    at_half = ev.permutation_importance(net, X, y, n_repeats=3, seed=1)
    p = ev.class_probabilities(net, sp.X_test)[:, 1]
    # a threshold whose accuracy differs from the default's
    threshold = next(
        t
        for t in np.quantile(p, [0.3, 0.15, 0.6, 0.8])
        if metrics.accuracy_score(y, p > t) != at_half.baseline
    )
    ev.set_model_threshold(net, threshold)
    moved = ev.permutation_importance(net, X, y, n_repeats=3, seed=1)
    assert moved.baseline == pytest.approx(metrics.accuracy_score(y, p > threshold), abs=TOL)
    assert moved.baseline != pytest.approx(at_half.baseline, abs=TOL)
    direct = inspection.permutation_importance(
        ev.NetworkEstimator(net), X, y, n_repeats=3, random_state=1
    )
    order = [list(ds.feature_names).index(f) for f in moved.features]
    np.testing.assert_allclose(moved.importances, direct.importances[order], rtol=0, atol=TOL)
