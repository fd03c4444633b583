"""Figures of how good a classifier's probabilities are and which features a network leans
on: ROC and precision-recall curves (with a decision threshold's point, or averaged over
cross-validation folds with a band), a reliability diagram, permutation importances.

Pure functions from ``nn.evaluation``'s results to plotly figures; no Streamlit. Class and
feature names come from data, so they reach plotly only through ``charts.label``/``labels``
(escaped, shortened) and never inside a hover template, where "%{...}" would be read as a
placeholder.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.common.charts import MARGIN, class_color, downsample, label, labels
from nn import evaluation

MAX_POINTS = 2_000  # points drawn per curve (the areas use every point)
MAX_FEATURES = 25  # bars of the importance chart (the largest importances)
GUIDE_COLOR = "#888"  # the chance diagonal, the no-skill baseline
MACRO_COLOR = "#222"
MARKER_COLOR = "#d62728"  # the decision threshold's point
BAND_COLOR = "rgba(31, 119, 180, 0.2)"
FOLD_COLOR = "rgba(120, 120, 120, 0.35)"


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, height: int = 420):
    fig.update_layout(
        height=height,
        margin=MARGIN,
        title={"text": title, "x": 0},
        xaxis={"title": {"text": x_title}},
        yaxis={"title": {"text": y_title}},
        # below the plot: beside the title it would run into it on a phone
        legend={"orientation": "h", "x": 0, "y": -0.18, "yanchor": "top"},
    )
    return fig


def _unit_square(fig: go.Figure) -> go.Figure:
    """Both axes from 0 to 1, one unit as long on both (a rate against a rate)."""
    span = [-0.02, 1.02]
    fig.update_xaxes(range=span, constrain="domain")
    fig.update_yaxes(range=span, scaleanchor="x", scaleratio=1, constrain="domain")
    return fig


def _threshold_texts(thresholds: np.ndarray) -> list[str]:
    """Hover text of score thresholds; scikit-learn's first ROC point has an infinite one."""
    return [f"{t:.4f}" if np.isfinite(t) else "none (all negative)" for t in thresholds]


def _point_trace(point, threshold: float | None) -> go.Scatter:
    what = "threshold" if threshold is None else f"threshold {float(threshold):.2f}"
    return go.Scatter(
        x=[float(point[0])],
        y=[float(point[1])],
        mode="markers",
        name=what,
        marker={"color": MARKER_COLOR, "size": 13, "symbol": "x", "line": {"width": 1}},
        hovertemplate="(%{x:.3f}, %{y:.3f})<extra>" + what + "</extra>",
    )


def _color(index: int) -> str:
    return MACRO_COLOR if index < 0 else class_color(index)


def roc_figure(roc: evaluation.RocCurves, point=None, threshold: float | None = None):
    """ROC curves: the chance diagonal, one line per class (the positive class's alone for a
    binary task) with its AUC in the legend, the macro average (dashed), and the decision
    threshold's ``point`` ``(fpr, tpr)`` when given. Traces in that order."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0.0, 1.0],
            y=[0.0, 1.0],
            mode="lines",
            name="chance · AUC 0.5",
            line={"color": GUIDE_COLOR, "dash": "dot", "width": 1.5},
            hoverinfo="skip",
        )
    )
    names = labels([c.label for c in roc.curves])
    for curve, name in zip(roc.curves, names, strict=True):
        keep = downsample(len(curve.fpr), MAX_POINTS)
        fig.add_trace(
            go.Scatter(
                x=curve.fpr[keep],
                y=curve.tpr[keep],
                mode="lines",
                name=f"{name} · AUC {curve.auc:.3f}",
                line={"color": _color(curve.index), "width": 2},
                customdata=_threshold_texts(curve.thresholds[keep]),
                hovertemplate="FPR %{x:.3f}<br>TPR %{y:.3f}<br>threshold %{customdata}",
            )
        )
    if roc.macro is not None:
        fig.add_trace(
            go.Scatter(
                x=roc.macro.fpr,
                y=roc.macro.tpr,
                mode="lines",
                name=f"macro average · AUC {roc.macro.auc:.3f}",
                line={"color": MACRO_COLOR, "dash": "dash", "width": 2.5},
                hovertemplate="FPR %{x:.3f}<br>TPR %{y:.3f}",
            )
        )
    if point is not None:
        fig.add_trace(_point_trace(point, threshold))
    title = "<b>ROC curve</b>" if roc.binary else "<b>ROC curves</b> (one class against the rest)"
    _layout(fig, title, "false positive rate", "true positive rate (recall)", height=460)
    return _unit_square(fig)


def pr_figure(pr: evaluation.PrCurves, point=None, threshold: float | None = None):
    """Precision-recall curves as steps (the area under them is the average precision, in the
    legend): first each class's no-skill baseline (its prevalence, dotted, in its colour),
    then one curve per class (the positive class's alone for a binary task), the macro
    average (dashed), and the decision threshold's ``point`` ``(recall, precision)``."""
    fig = go.Figure()
    names = labels([c.label for c in pr.curves])
    for curve in pr.curves:
        color = GUIDE_COLOR if pr.binary else _color(curve.index)
        fig.add_trace(
            go.Scatter(
                x=[0.0, 1.0],
                y=[curve.prevalence, curve.prevalence],
                mode="lines",
                name=f"no skill · {curve.prevalence:.3f}",
                legendgroup=f"class {curve.index}",
                showlegend=pr.binary,
                line={"color": color, "dash": "dot", "width": 1.5},
                hovertemplate="prevalence %{y:.3f}<extra></extra>",
            )
        )
    for curve, name in zip(pr.curves, names, strict=True):
        keep = downsample(len(curve.recall), MAX_POINTS)
        fig.add_trace(
            go.Scatter(
                x=curve.recall[keep],
                y=curve.precision[keep],
                mode="lines",
                line_shape="hv",
                name=f"{name} · AP {curve.average_precision:.3f}",
                legendgroup=f"class {curve.index}",
                line={"color": _color(curve.index), "width": 2},
                # the last point (recall 0, precision 1) has no threshold
                customdata=_threshold_texts(np.append(curve.thresholds, np.inf)[keep]),
                hovertemplate="recall %{x:.3f}<br>precision %{y:.3f}<br>threshold %{customdata}",
            )
        )
    if pr.macro is not None:
        fig.add_trace(
            go.Scatter(
                x=pr.macro.recall,
                y=pr.macro.precision,
                mode="lines",
                line_shape="hv",
                name=f"macro average · AP {pr.macro.average_precision:.3f}",
                line={"color": MACRO_COLOR, "dash": "dash", "width": 2.5},
                hovertemplate="recall %{x:.3f}<br>precision %{y:.3f}",
            )
        )
    if point is not None:
        fig.add_trace(_point_trace(point, threshold))
    title = (
        "<b>Precision-recall curve</b>"
        if pr.binary
        else "<b>Precision-recall curves</b> (one class against the rest)"
    )
    _layout(fig, title, "recall", "precision", height=460)
    return _unit_square(fig)


def reliability_figure(cal: evaluation.Calibration):
    """A reliability diagram: above, the diagonal (perfectly calibrated) and each bin's
    fraction of positives against its mean predicted probability; below, the rows per bin as
    bars. The Brier score is in the title. Traces: diagonal, bins, counts."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.74, 0.26], vertical_spacing=0.05
    )
    fig.add_trace(
        go.Scatter(
            x=[0.0, 1.0],
            y=[0.0, 1.0],
            mode="lines",
            name="perfectly calibrated",
            line={"color": GUIDE_COLOR, "dash": "dot", "width": 1.5},
            hoverinfo="skip",
        ),
        row=1,
        col=1,
    )
    right = "fraction right" if cal.kind == "top label" else "fraction positive"
    fig.add_trace(
        go.Scatter(
            x=cal.mean_predicted,
            y=cal.fraction_positive,
            mode="lines+markers",
            name="test rows, binned",
            line={"color": class_color(0), "width": 2},
            marker={"size": 8},
            customdata=cal.counts,
            hovertemplate=(
                "mean predicted %{x:.3f}<br>" + right + " %{y:.3f}<br>%{customdata} rows"
                "<extra></extra>"
            ),
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=(cal.lower + cal.upper) / 2,
            y=cal.counts,
            width=cal.upper - cal.lower,
            name="rows per bin",
            marker={"color": "#b8c4d6", "line": {"color": "white", "width": 1}},
            hovertemplate="%{y} rows<extra></extra>",
            showlegend=False,
        ),
        row=2,
        col=1,
    )
    what = "the top label" if cal.kind == "top label" else "the positive class"
    title = f"<b>Reliability</b> of {what} · Brier score {cal.brier:.4f}"
    _layout(fig, title, "", right, height=480)
    fig.update_xaxes(range=[-0.02, 1.02])
    fig.update_xaxes(title={"text": cal.label}, row=2, col=1)
    fig.update_yaxes(range=[-0.02, 1.02], row=1, col=1)
    fig.update_yaxes(title={"text": "rows"}, rangemode="tozero", row=2, col=1)
    return fig


SCORE_NAMES = {"accuracy": "accuracy", "r2": "R²"}


def importance_figure(imp: evaluation.Importances, max_features: int = MAX_FEATURES):
    """Permutation importances as horizontal bars, the largest on top, with error bars of
    one standard deviation over the repeats: how much the score falls when a feature's
    values are shuffled (the first ``max_features`` features)."""
    n = min(len(imp.features), max(int(max_features), 1))
    score = SCORE_NAMES.get(imp.scoring, label(imp.scoring))
    fig = go.Figure(
        go.Bar(
            x=imp.mean[:n],
            y=labels(imp.features[:n]),
            orientation="h",
            marker={"color": np.where(imp.mean[:n] >= 0, class_color(0), "#b8c4d6").tolist()},
            error_x={"type": "data", "array": imp.std[:n], "color": "#444"},
            customdata=imp.std[:n],
            hovertemplate="%{x:.4f} ± %{customdata:.4f}<extra></extra>",
            name="importance",
        )
    )
    shown = f" (the top {n} of {len(imp.features)})" if n < len(imp.features) else ""
    _layout(
        fig,
        f"<b>Permutation importance</b>{shown}",
        f"fall in {score} when the feature is shuffled",
        "",
        height=120 + 28 * n,
    )
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_layout(showlegend=False)
    return fig


def band_figure(fold_curves, n_points: int = evaluation.BAND_POINTS, show_folds: bool = True):
    """One kind of curve over cross-validation folds (all ROC or all precision-recall, e.g.
    a class's or the macro average's per fold): the chance diagonal or the mean no-skill
    baseline, each fold's curve (thin, when ``show_folds``), the band of mean ± one standard
    deviation on a common grid (``nn.evaluation.curve_band``: an upper edge, then the lower
    edge filled up to it) and the mean curve, whose legend gives the mean area ± its spread
    over the folds."""
    fold_curves = list(fold_curves)
    band = evaluation.curve_band(fold_curves, n_points)
    roc = band.kind == "roc"
    shape = "linear" if roc else "hv"
    area = "AUC" if roc else "AP"
    fig = go.Figure()
    level = 0.0 if roc else band.baseline
    fig.add_trace(
        go.Scatter(
            x=[0.0, 1.0],
            y=[level, 1.0] if roc else [level, level],
            mode="lines",
            name="chance · AUC 0.5" if roc else f"no skill · {band.baseline:.3f}",
            line={"color": GUIDE_COLOR, "dash": "dot", "width": 1.5},
            hoverinfo="skip",
        )
    )
    if show_folds:
        for i, curve in enumerate(fold_curves):
            x, y = (curve.fpr, curve.tpr) if roc else (curve.recall, curve.precision)
            keep = downsample(len(x), MAX_POINTS)
            fig.add_trace(
                go.Scatter(
                    x=x[keep],
                    y=y[keep],
                    mode="lines",
                    line_shape=shape,
                    name=f"fold {i + 1}",
                    legendgroup="folds",
                    showlegend=i == 0,
                    line={"color": FOLD_COLOR, "width": 1},
                    hoverinfo="skip",
                )
            )
    fig.add_trace(
        go.Scatter(
            x=band.x,
            y=band.upper,
            mode="lines",
            line_shape=shape,
            line={"width": 0},
            name="mean + 1 std",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=band.x,
            y=band.lower,
            mode="lines",
            line_shape=shape,
            line={"width": 0},
            fill="tonexty",
            fillcolor=BAND_COLOR,
            name="± 1 std",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=band.x,
            y=band.mean,
            mode="lines",
            line_shape=shape,
            name=f"mean · {area} {band.area_mean:.3f} ± {band.area_std:.3f}",
            line={"color": class_color(0), "width": 2.5},
            customdata=band.std,
            hovertemplate="%{x:.2f}: %{y:.3f} ± %{customdata:.3f}<extra>mean</extra>",
        )
    )
    what = "ROC" if roc else "Precision-recall"
    title = f"<b>{what} over {len(fold_curves)} folds</b> · {label(band.label)}"
    x_title, y_title = (
        ("false positive rate", "true positive rate") if roc else ("recall", "precision")
    )
    _layout(fig, title, x_title, y_title, height=460)
    return _unit_square(fig)
