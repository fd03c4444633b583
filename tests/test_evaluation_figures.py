"""dashboard.predict.evaluation_figures: each figure draws exactly what nn.evaluation computed,
and names from data reach plotly escaped."""

import json

import numpy as np
import pytest

from dashboard.predict import evaluation_figures as figs
from nn import evaluation as ev

HOSTILE = "<b>x</b>"
ESCAPED = "&lt;b&gt;x&lt;/b&gt;"


@pytest.fixture
def binary():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 80)
    p = np.clip(0.35 * y + rng.uniform(0, 0.65, 80), 0, 1)
    return y, p, ["negative", HOSTILE]


@pytest.fixture
def three():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], 30)
    P = rng.dirichlet([1, 1, 1], 90) + 1.5 * np.eye(3)[y]
    return y, P / P.sum(axis=1, keepdims=True), ["setosa", HOSTILE, "virginica"]


def strings(value):
    """Every string inside a figure's dict."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, (list, tuple, np.ndarray)):
        for item in value:
            yield from strings(item)


def assert_escaped(fig):
    json.loads(fig.to_json())  # serializable, infinite thresholds included
    texts = list(strings(fig.to_dict()))
    assert not any(HOSTILE in text for text in texts)
    for trace in fig.data:
        assert HOSTILE not in (trace.hovertemplate or "")
        assert "&lt;b&gt;" not in (trace.hovertemplate or "")  # names stay out of templates


def test_roc_figure_draws_each_class_the_macro_average_and_the_point(three):
    y, P, names = three
    roc = ev.roc_curves(y, P, names)
    fig = figs.roc_figure(roc)
    assert len(fig.data) == 1 + 3 + 1
    diagonal, *curves, macro = fig.data
    assert list(diagonal.x) == [0, 1] and list(diagonal.y) == [0, 1]
    for trace, curve in zip(curves, roc.curves, strict=True):
        np.testing.assert_array_equal(trace.x, curve.fpr)
        np.testing.assert_array_equal(trace.y, curve.tpr)
        assert trace.name.endswith(f"AUC {curve.auc:.3f}")
    assert curves[1].name.startswith(ESCAPED)
    np.testing.assert_array_equal(macro.x, roc.macro.fpr)
    np.testing.assert_array_equal(macro.y, roc.macro.tpr)
    assert macro.name == f"macro average · AUC {roc.macro.auc:.3f}"
    assert_escaped(fig)


def test_binary_roc_figure_marks_the_threshold(binary):
    y, p, names = binary
    roc = ev.roc_curves(y, p, names)
    m = ev.binary_at_threshold(y, p, 0.4)
    fig = figs.roc_figure(roc, point=m.roc_point, threshold=0.4)
    assert [t.name.split(" ·")[0] for t in fig.data] == ["chance", ESCAPED, "threshold 0.40"]
    marker = fig.data[-1]
    assert (marker.x[0], marker.y[0]) == pytest.approx(m.roc_point)
    assert fig.data[1].customdata[0] == "none (all negative)"  # scikit-learn's infinite one
    assert_escaped(fig)


def test_pr_figure_has_the_prevalence_baseline_and_steps(binary, three):
    y, p, names = binary
    pr = ev.pr_curves(y, p, names)
    m = ev.binary_at_threshold(y, p, 0.5)
    fig = figs.pr_figure(pr, point=m.pr_point, threshold=0.5)
    baseline, curve, marker = fig.data
    assert list(baseline.y) == [pr.curves[0].prevalence] * 2
    assert baseline.name == f"no skill · {np.mean(y == 1):.3f}"
    np.testing.assert_array_equal(curve.x, pr.curves[0].recall)
    np.testing.assert_array_equal(curve.y, pr.curves[0].precision)
    assert curve.line.shape == "hv" and len(curve.customdata) == len(curve.x)
    assert (marker.x[0], marker.y[0]) == pytest.approx(m.pr_point)
    assert_escaped(fig)

    y, P, names = three
    pr = ev.pr_curves(y, P, names)
    fig = figs.pr_figure(pr)
    assert len(fig.data) == 3 + 3 + 1
    baselines, curves, macro = fig.data[:3], fig.data[3:6], fig.data[6]
    for base, trace, c in zip(baselines, curves, pr.curves, strict=True):
        assert base.y[0] == pytest.approx(c.prevalence) and not base.showlegend
        assert base.legendgroup == trace.legendgroup  # hiding a class hides its baseline
        np.testing.assert_array_equal(trace.y, c.precision)
    np.testing.assert_array_equal(macro.x, pr.macro.recall)
    np.testing.assert_array_equal(macro.y, pr.macro.precision)
    assert macro.name == f"macro average · AP {pr.macro.average_precision:.3f}"
    assert_escaped(fig)


def test_reliability_figure_draws_the_bins_and_names_the_brier_score(binary):
    y, p, _ = binary
    cal = ev.calibration(y, p, n_bins=5)
    fig = figs.reliability_figure(cal)
    diagonal, points, bars = fig.data
    assert list(diagonal.x) == [0, 1] and list(diagonal.y) == [0, 1]
    np.testing.assert_array_equal(points.x, cal.mean_predicted)
    np.testing.assert_array_equal(points.y, cal.fraction_positive)
    np.testing.assert_array_equal(bars.y, cal.counts)
    np.testing.assert_allclose(bars.x, (cal.lower + cal.upper) / 2)
    assert f"Brier score {cal.brier:.4f}" in fig.layout.title.text
    assert bars.yaxis == "y2" and points.yaxis == "y"


def test_importance_figure_is_sorted_with_the_spread_as_error_bars():
    imp = ev.Importances(
        features=["island", HOSTILE, "sex"],
        mean=np.array([0.2, 0.05, -0.01]),
        std=np.array([0.03, 0.02, 0.01]),
        importances=np.zeros((3, 2)),
        baseline=0.9,
        scoring="accuracy",
    )
    fig = figs.importance_figure(imp)
    (bars,) = fig.data
    assert list(bars.y) == ["island", ESCAPED, "sex"]
    np.testing.assert_array_equal(bars.x, imp.mean)
    np.testing.assert_array_equal(bars.error_x.array, imp.std)
    assert fig.layout.yaxis.autorange == "reversed"  # the largest on top
    assert "fall in accuracy" in fig.layout.xaxis.title.text
    assert_escaped(fig)
    top = figs.importance_figure(imp, max_features=2)
    assert list(top.data[0].y) == ["island", ESCAPED] and "top 2 of 3" in top.layout.title.text


@pytest.mark.parametrize("kind", ["roc", "pr"])
def test_band_figure_draws_folds_the_band_and_the_mean(three, kind):
    y, P, names = three
    folds = np.array_split(np.random.default_rng(2).permutation(len(y)), 3)
    make = ev.roc_curves if kind == "roc" else ev.pr_curves
    curves = [make(y[f], P[f], names).curves[1] for f in folds]
    band = ev.curve_band(curves)
    fig = figs.band_figure(curves)
    assert len(fig.data) == 1 + 3 + 3
    guide, *fold_traces, upper, lower, mean = fig.data
    assert [t.name for t in fold_traces] == ["fold 1", "fold 2", "fold 3"]
    np.testing.assert_array_equal(upper.y, band.upper)
    np.testing.assert_array_equal(lower.y, band.lower)
    assert lower.fill == "tonexty"
    np.testing.assert_array_equal(mean.x, band.x)
    np.testing.assert_array_equal(mean.y, band.mean)
    area = "AUC" if kind == "roc" else "AP"
    assert mean.name == f"mean · {area} {band.area_mean:.3f} ± {band.area_std:.3f}"
    if kind == "pr":
        assert guide.y[0] == pytest.approx(band.baseline) and mean.line.shape == "hv"
    assert ESCAPED in fig.layout.title.text
    assert_escaped(fig)
    assert len(figs.band_figure(curves, show_folds=False).data) == 4
