"""Figures of a regression network's predictions: predicted against actual, the errors, and
where one prediction falls among the training targets.

Pure functions from arrays to plotly figures; no Streamlit. The target's name comes from data
(a CSV header), so it is escaped with ``charts.safe`` before plotly sees it.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.common.charts import MARGIN, TRAIN_COLOR, VAL_COLOR, downsample, safe

MAX_POINTS = 2_000  # points drawn per scatter (the metrics use every row)
SCATTERGL_ABOVE = 1_000  # WebGL markers from this many points on
LINE_COLOR = "#444"


def _layout(fig: go.Figure, x_title: str, y_title: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        height=height,
        margin=MARGIN,
        xaxis={"title": {"text": x_title}},
        yaxis={"title": {"text": y_title}},
        # below the plot: beside the title it would run into it on a phone
        legend={"orientation": "h", "x": 0, "y": -0.2, "yanchor": "top"},
    )
    return fig


def _points(x: np.ndarray, y: np.ndarray, color: str, hover: str):
    """The test rows as markers (WebGL when there are many)."""
    trace = go.Scattergl if len(x) > SCATTERGL_ABOVE else go.Scatter
    return trace(
        x=x,
        y=y,
        mode="markers",
        name="test rows",
        marker={"color": color, "size": 7, "opacity": 0.75},
        hovertemplate=hover + "<extra></extra>",
    )


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=float).reshape(-1)
    b = np.asarray(b, dtype=float).reshape(-1)
    if a.shape != b.shape or a.size == 0:
        raise ValueError("give the same number (at least one) of actual and predicted values")
    return a, b


def predicted_vs_actual_figure(actual, predicted, target: str, max_points: int = MAX_POINTS):
    """Each test row as a point (actual across, predicted up) and the line y = x, where a
    perfect prediction would sit; both axes span the same range. Traces: the points, the line."""
    actual, predicted = _pair(actual, predicted)
    keep = downsample(len(actual), max_points)
    name = safe(target, 40)
    lo = float(min(actual.min(), predicted.min()))
    hi = float(max(actual.max(), predicted.max()))
    pad = 0.04 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
    span = [lo - pad, hi + pad]
    fig = go.Figure()
    fig.add_trace(
        _points(actual[keep], predicted[keep], TRAIN_COLOR, "actual %{x:.4g}<br>predicted %{y:.4g}")
    )
    fig.add_trace(
        go.Scatter(
            x=span,
            y=span,
            mode="lines",
            name="y = x (perfect)",
            line={"color": LINE_COLOR, "dash": "dash", "width": 1.5},
            hoverinfo="skip",
        )
    )
    _layout(fig, f"actual {name}", f"predicted {name}")
    fig.update_layout(title={"text": "<b>Predicted against actual</b>", "x": 0})
    fig.update_xaxes(range=span, constrain="domain")
    # one unit as long on both axes, so the y = x line runs at 45 degrees
    fig.update_yaxes(range=span, scaleanchor="x", scaleratio=1, constrain="domain")
    return fig


def residuals_figure(predicted, error, target: str, max_points: int = MAX_POINTS):
    """The error (predicted - actual) of each test row against its prediction, around the zero
    line: a pattern (a curve, a funnel) is something the network has not captured. Traces:
    the points, the zero line."""
    predicted, error = _pair(predicted, error)
    keep = downsample(len(predicted), max_points)
    name = safe(target, 40)
    lo, hi = float(predicted.min()), float(predicted.max())
    fig = go.Figure()
    fig.add_trace(
        _points(predicted[keep], error[keep], VAL_COLOR, "predicted %{x:.4g}<br>error %{y:.4g}")
    )
    fig.add_trace(
        go.Scatter(
            x=[lo, hi] if hi > lo else [lo - 1, lo + 1],
            y=[0.0, 0.0],
            mode="lines",
            name="no error",
            line={"color": LINE_COLOR, "dash": "dash", "width": 1.5},
            hoverinfo="skip",
        )
    )
    _layout(fig, f"predicted {name}", "error (predicted − actual)")
    fig.update_layout(title={"text": "<b>Errors against predictions</b>", "x": 0})
    return fig


def error_histogram_figure(error, target: str, bins: int = 30):
    """How the test errors (predicted - actual) are spread, with a line at zero."""
    error = np.asarray(error, dtype=float).reshape(-1)
    if error.size == 0:
        raise ValueError("give at least one error")
    fig = go.Figure(
        go.Histogram(
            x=error,
            nbinsx=bins,
            name="test rows",
            marker={"color": VAL_COLOR, "line": {"color": "white", "width": 1}},
            hovertemplate="error %{x}<br>%{y} rows<extra></extra>",
        )
    )
    fig.add_vline(x=0.0, line={"color": LINE_COLOR, "dash": "dash", "width": 1.5})
    _layout(fig, f"error in {safe(target, 40)} (predicted − actual)", "test rows")
    fig.update_layout(title={"text": "<b>Errors</b>", "x": 0}, bargap=0.02, showlegend=False)
    return fig


def value_context_figure(y_train, value: float, target: str, bins: int = 30):
    """The training targets as a histogram and the predicted ``value`` as a line among them."""
    y_train = np.asarray(y_train, dtype=float).reshape(-1)
    name = safe(target, 40)
    fig = go.Figure(
        go.Histogram(
            x=y_train,
            nbinsx=bins,
            name="training rows",
            marker={"color": "#b8c4d6", "line": {"color": "white", "width": 1}},
            hovertemplate=f"{name} %{{x}}<br>%{{y}} training rows<extra></extra>",
        )
    )
    fig.add_vline(
        x=float(value),
        line={"color": "#d62728", "width": 3},
        annotation={"text": f"prediction {float(value):.4g}", "font": {"color": "#d62728"}},
        annotation_position="top",
    )
    _layout(fig, name, "training rows", height=260)
    fig.update_layout(
        title={"text": "<b>Among the training targets</b>", "x": 0},
        bargap=0.02,
        showlegend=False,
    )
    return fig
