"""Plotly figure builders: pure functions from plain data to a ``go.Figure`` (no Streamlit).

Names that come from data (feature and class names of an uploaded CSV) are HTML-escaped before
they go into a figure, because plotly renders a subset of HTML in titles, labels and hovers.
"""

from __future__ import annotations

import html
import re

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from dashboard.common.text import display_name
from nn import task as nn_task

CLASS_COLORS = qualitative.Plotly + qualitative.Dark24
TRAIN_COLOR, VAL_COLOR = "#1f77b4", "#ff7f0e"
RATE_COLOR = "#7f7f7f"  # the learning rate drawn beside the loss
NUMBER_COLOR = "#4c78a8"  # a regression target's points and bars
ACTIVATION_COLORS = {
    "input": "#9aa5b1",
    "sigmoid": "#4c78a8",
    "tanh": "#72b7b2",
    "relu": "#f58518",
    "leaky_relu": "#e45756",
    "linear": "#b279a2",
    "softmax": "#54a24b",
}
MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def safe(text, max_len: int = 80) -> str:
    """Text from data, shortened and escaped so plotly shows it literally (``display_name``:
    no bidirectional controls)."""
    return html.escape(display_name(text, max_len), quote=False)


def label(text) -> str:
    """A short axis or legend label from data."""
    return safe(text, max_len=24)


def labels(names) -> list[str]:
    """Short labels for categories, kept distinct (plotly merges equal category names)."""
    out = [label(n) for n in names]
    if len(set(out)) < len(out):
        out = [f"{text} ({i})" for i, text in enumerate(out)]
    return out


def class_color(i: int) -> str:
    """The colour of class ``i``, the same in every chart."""
    return CLASS_COLORS[i % len(CLASS_COLORS)]


def downsample(n: int, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` of ``n`` points, evenly spread, first and last kept."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(int))


HISTORY_METRICS = {  # metric -> (chart title, y axis range: None for from zero up)
    "loss": ("Loss", None),
    "accuracy": ("Accuracy", [0, 1.02]),
    "r2": ("R²", [-1.02, 1.02]),  # narrowed to the values drawn, never below -1 (see below)
}
METRIC_NAMES = {"loss": "loss", "accuracy": "accuracy", "r2": "R²"}
LOSS_NOTES = {"r2": " (standardized target)"}  # a regression loss is on the scaled target


def history_figures(
    history, target_epochs: int, max_points: int = 400, task: str = "classification"
) -> tuple[go.Figure, go.Figure]:
    """Loss and the task's figure per epoch (accuracy, or R² for regression: its metric in
    ``nn.task``), training and validation: two figures, so that the page can put them side by
    side on a wide screen and one above the other on a phone.

    ``history`` is a list of ``nn.EpochRecord``. The x axes span the whole run so the curves
    visibly grow while training. Long runs are thinned to at most ``max_points`` evenly spread
    epochs per curve, first and last always kept, and the hover says so: the Train page
    redraws these figures several times a second while training, so their size must not grow
    with the history. The values go in as NumPy arrays, which plotly validates and ships
    (as typed binary arrays) far faster than lists. R² has no floor (a network worse than the
    mean goes below 0 without end): its axis shows -1 to 1 at most, so the climb to 1 stays
    visible after a poor first epoch.

    When the rate changed during the run (a schedule, a warm-up, or a hand-set rate), the loss
    figure also shows the learning rate each epoch trained with, on a second axis at the right.
    """
    metric = nn_task.get(task).metric
    keep = downsample(len(history), max_points)
    rows = [history[i] for i in keep]
    epochs = np.array([r.epoch for r in rows], dtype=np.int64)
    has_val = any(r.val_loss is not None for r in rows)
    thinned = f" · {len(rows)} of {len(history)} epochs drawn" if len(rows) < len(history) else ""
    x_range = [0, max(target_epochs, len(history), 1) + 0.5]
    loss, score = (
        _history_figure(name, rows, epochs, has_val, thinned, x_range, metric)
        for name in ("loss", metric)
    )
    return loss, score


def _score_range(values: np.ndarray, y_range: list[float]) -> list[float]:
    """An R² axis: from a little below the lowest value drawn (at least down to 0, at most
    down to -1) up to 1."""
    finite = values[np.isfinite(values)]
    low = float(finite.min()) if finite.size else 0.0
    low = max(min(low, 0.0), -1.0)
    return [max(y_range[0], low - 0.05), y_range[1]]


def _history_figure(name, rows, epochs, has_val, thinned, x_range, metric) -> go.Figure:
    title, y_range = HISTORY_METRICS[name]
    axis_title = METRIC_NAMES[name] + (LOSS_NOTES.get(metric, "") if name == "loss" else "")
    curves = [("train_" + name, "training", TRAIN_COLOR, "solid")]
    if has_val:
        curves.append(("val_" + name, "validation", VAL_COLOR, "dash"))
    values = {attr: np.array([getattr(r, attr) for r in rows], dtype=float) for attr, *_ in curves}
    traces = [
        go.Scatter(
            x=epochs,
            y=values[attr],
            name=label_,
            mode="lines",
            line={"color": color, "dash": dash},
            hovertemplate="epoch %{x}: %{y:.4f}<extra>" + label_ + thinned + "</extra>",
            meta=attr,
        )
        for attr, label_, color, dash in curves
    ]
    if name == "r2":
        y_range = _score_range(np.concatenate(list(values.values())), y_range)
    y_axis = {"title": {"text": axis_title}}
    y_axis.update({"range": y_range} if y_range else {"rangemode": "tozero"})
    rates = np.array([r.learning_rate for r in rows], dtype=float)
    rate_axis = None
    if name == "loss" and rates.size and np.ptp(rates) > 0:
        traces.append(
            go.Scatter(
                x=epochs,
                y=rates,
                name="learning rate",
                mode="lines",
                yaxis="y2",
                line={"color": RATE_COLOR, "dash": "dot", "shape": "hv"},
                hovertemplate="epoch %{x}: %{y:.4g}<extra>learning rate" + thinned + "</extra>",
                meta="learning_rate",
            )
        )
        rate_axis = {
            "title": {"text": "learning rate"},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
            "tickformat": ".2g",
        }
    layout = {
        "height": 300,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "uirevision": "history",
        "title": {"text": f"<b>{title}</b>", "x": 0, "xanchor": "left", "xref": "paper"},
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
        "xaxis": {"range": x_range, "title": {"text": "epoch"}},
        "yaxis": y_axis,
    }
    if rate_axis is not None:
        layout["yaxis2"] = rate_axis
    return go.Figure(data=traces, layout=layout)


# ---- network diagrams: the shared frame of the Architecture page's and the Inside page's ----


def node_ys(size: int) -> np.ndarray:
    """Vertical positions of ``size`` nodes in a diagram's column (wider layers spread more)."""
    if size == 1:
        return np.zeros(1)
    return np.linspace(1.0, -1.0, size) * min(1.0, 0.25 + size / 16)


def node_name(layer: int, n_layers: int, i: int, feature_names=None, class_names=None) -> str:
    """A node's name in a diagram's hover text: the feature or class where known (escaped)."""
    if layer == 0:
        if feature_names is not None and i < len(feature_names):
            return f"input {safe(feature_names[i], 40)}"
        return f"input {i + 1}"
    if layer == n_layers - 1:
        if class_names is not None and i < len(class_names):
            return f"output {safe(class_names[i], 40)}"
        return f"output {i + 1}"
    return f"layer {layer} node {i + 1}"


def layer_role(layer: int, n_layers: int) -> str:
    return "input" if layer == 0 else "output" if layer == n_layers - 1 else "hidden"


def diagram_layout(fig: go.Figure, n_layers: int, annotations: list, **layout) -> go.Figure:
    """The frame every network diagram shares: layers across, no axes, captions below."""
    fig.update_layout(
        margin=MARGIN,
        annotations=annotations,
        xaxis={"visible": False, "range": [-0.5, n_layers - 0.5]},
        yaxis={"visible": False, "range": [-1.45, 1.3]},
        plot_bgcolor="rgba(0,0,0,0)",
        **layout,
    )
    return fig


def network_figure(
    sizes: list[int],
    hidden_activations: list[str],
    output_activation: str,
    feature_names: list[str] | None = None,
    class_names: list[str] | None = None,
    max_drawn: int = 12,
) -> go.Figure:
    """A diagram of a fully connected network: one column of nodes per layer, every edge drawn.

    Layers wider than ``max_drawn`` show their first nodes and a "+N more" note.
    """
    kinds = ["input", *hidden_activations, output_activation]
    n_layers = len(sizes)
    xs_nodes, ys_nodes, colors, hovers = [], [], [], []
    edge_x, edge_y = [], []
    captions = []
    previous: list[float] = []
    for layer, (size, kind) in enumerate(zip(sizes, kinds, strict=True)):
        drawn = min(size, max_drawn)
        ys = node_ys(drawn).tolist()
        for y_prev in previous:
            for y in ys:
                edge_x += [layer - 1, layer, None]
                edge_y += [y_prev, y, None]
        for i, y in enumerate(ys):
            xs_nodes.append(layer)
            ys_nodes.append(y)
            colors.append(ACTIVATION_COLORS.get(kind, "#888"))
            hovers.append(node_name(layer, n_layers, i, feature_names, class_names))
        role = layer_role(layer, n_layers)
        text = f"{role}<br>{size} nodes" if kind == "input" else f"{role}<br>{size} · {kind}"
        captions.append({"x": layer, "y": -1.28, "text": text, "showarrow": False})
        if size > drawn:
            captions.append({"x": layer, "y": 1.16, "text": f"+{size - drawn} more"})
        previous = ys
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=edge_x,
            y=edge_y,
            mode="lines",
            line={"color": "rgba(120,120,120,0.35)", "width": 1},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs_nodes,
            y=ys_nodes,
            mode="markers",
            marker={"size": 16, "color": colors, "line": {"color": "white", "width": 1}},
            hovertext=hovers,
            hoverinfo="text",
            showlegend=False,
        )
    )
    for caption in captions:
        caption.setdefault("showarrow", False)
    return diagram_layout(fig, n_layers, captions, height=380)


def class_balance_figure(counts, class_names: list[str]) -> go.Figure:
    """Number of rows per class as bars."""
    fig = go.Figure(
        go.Bar(
            x=labels(class_names),
            y=list(counts),
            marker={"color": [class_color(i) for i in range(len(class_names))]},
            hovertemplate="%{x}: %{y} rows<extra></extra>",
        )
    )
    fig.update_layout(height=300, margin=MARGIN, title="Rows per class", xaxis={"type": "category"})
    return fig


# where a label may break: after a space, _, -, / or ., and between a small letter and a capital
_LABEL_BREAKS = re.compile(r"(?<=[\s_\-/.])|(?<=[a-z])(?=[A-Z])")


def wrapped_label(text, width: int = 10, max_len: int = 24) -> str:
    """A short label from data on lines of at most about ``width`` characters, broken after
    spaces, "_", "-", "/" and "." and between a lower-case letter and a capital; two lines as
    even as the breaks allow ("SepalLengthCm" -> "Sepal", "LengthCm"), more where needed. Each
    line escaped, lines joined by plotly's ``<br>``. For axis titles side by side in narrow
    cells (a scatter matrix on a phone)."""
    name = display_name(text, max_len)
    parts = [p for p in _LABEL_BREAKS.split(name) if p]
    if len(name) <= width:
        lines = [name]
    elif len(name) <= 2 * width and len(parts) > 1:
        cut = min(
            range(1, len(parts)),
            key=lambda i: max(len("".join(parts[:i]).rstrip()), len("".join(parts[i:]))),
        )
        lines = ["".join(parts[:cut]), "".join(parts[cut:])]
    else:
        lines = []
        for part in parts:
            if lines and len(lines[-1]) + len(part.rstrip()) <= width:
                lines[-1] += part
            else:
                lines += [part[i : i + width] for i in range(0, len(part), width)]
    return "<br>".join(html.escape(line.strip(), quote=False) for line in lines)


def scatter_matrix_figure(X, y, feature_names: list[str], class_names: list[str]) -> go.Figure:
    """Every pair of the given features against each other, coloured by class.

    The classes are listed above the matrix and the feature names wrap onto short lines in
    small type, so that the cells keep the width and their titles do not run into each other
    on a narrow screen.
    """
    X, y = np.asarray(X), np.asarray(y)
    n = max(len(feature_names), 2)
    narrow = n > 4  # cells of about 50 px on a phone: shorter lines, smaller type
    names = [wrapped_label(f, width=8 if narrow else 10) for f in feature_names]
    fig = go.Figure()
    for k, name in enumerate(class_names):
        mask = y == k
        if not mask.any():
            continue
        fig.add_trace(
            go.Splom(
                dimensions=[{"label": names[j], "values": X[mask, j]} for j in range(len(names))],
                name=label(name),
                marker={"color": class_color(k), "size": 5, "opacity": 0.7},
                diagonal={"visible": False},
                showupperhalf=False,
            )
        )
    axis = {
        "title": {"font": {"size": 9 if narrow else 11}},
        "tickfont": {"size": 9 if narrow else 10},
        "nticks": 4,
    }
    axes = {f"{xy}axis{i if i > 1 else ''}": axis for xy in "xy" for i in range(1, n + 1)}
    fig.update_layout(
        height=min(170 * n, 720),
        margin={**MARGIN, "t": 30},
        dragmode="select",
        legend={"orientation": "h", "x": 0, "y": 1, "yanchor": "bottom"},
        **axes,
    )
    return fig


def feature_distribution_figure(x, y, feature_name: str, class_names: list[str]) -> go.Figure:
    """Histogram of one feature, one overlaid colour per class (one colour when there are no
    classes: a regression target)."""
    x, y = np.asarray(x), np.asarray(y)
    if not class_names:
        fig = go.Figure(go.Histogram(x=x, marker={"color": NUMBER_COLOR}, nbinsx=30))
        fig.update_layout(
            height=320,
            margin=MARGIN,
            title=f"Distribution of {safe(feature_name)}",
            xaxis={"title": safe(feature_name)},
            yaxis={"title": "rows"},
        )
        return fig
    fig = go.Figure()
    for k, name in enumerate(class_names):
        values = x[y == k]
        if not len(values):
            continue
        fig.add_trace(
            go.Histogram(
                x=values,
                name=label(name),
                marker={"color": class_color(k)},
                opacity=0.6,
                nbinsx=30,
            )
        )
    fig.update_layout(
        barmode="overlay",
        height=320,
        margin=MARGIN,
        title=f"Distribution of {safe(feature_name)} by class",
        xaxis={"title": safe(feature_name)},
        yaxis={"title": "rows"},
    )
    return fig


# ---- a regression target: a number per row ----


def target_histogram_figure(y, target_name: str) -> go.Figure:
    """Histogram of a regression target, with its mean marked: the guess that scores R² 0."""
    y = np.asarray(y, dtype=float)
    name = safe(target_name)
    fig = go.Figure(
        go.Histogram(
            x=y,
            nbinsx=30,
            marker={"color": NUMBER_COLOR},
            hovertemplate="%{x}: %{y} rows<extra></extra>",
        )
    )
    mean = float(np.mean(y)) if y.size else 0.0
    fig.add_vline(
        x=mean,
        line={"color": VAL_COLOR, "dash": "dash"},
        annotation={"text": f"mean {mean:.4g}", "showarrow": False},
        annotation_position="top right",
    )
    fig.update_layout(
        height=320,
        margin=MARGIN,
        title=f"Distribution of {name}",
        xaxis={"title": name},
        yaxis={"title": "rows"},
        bargap=0.05,
    )
    return fig


def features_vs_target_figure(X, y, feature_names: list[str], target_name: str) -> go.Figure:
    """One small scatter plot per feature: the feature across, the target up (shared), in a
    grid of up to three columns (two for four features)."""
    from plotly.subplots import make_subplots

    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    n = max(len(feature_names), 1)
    cols = 2 if n == 4 else min(n, 3)
    rows = -(-n // cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        vertical_spacing=min(0.12, 0.35 / rows) if rows > 1 else 0.0,
    )
    trace = go.Scattergl if len(y) > 1_000 else go.Scatter
    target = safe(target_name, 40)
    what = safe(feature_names[0], 40) if len(feature_names) == 1 else "Each feature"
    for j, feature in enumerate(feature_names):
        row, col = j // cols + 1, j % cols + 1
        name = safe(feature, 40)
        fig.add_trace(
            trace(
                x=X[:, j],
                y=y,
                mode="markers",
                marker={"color": NUMBER_COLOR, "size": 4, "opacity": 0.6},
                showlegend=False,
                hovertemplate=f"{name} %{{x:.4g}}<br>{target} %{{y:.4g}}<extra></extra>",
            ),
            row=row,
            col=col,
        )
        fig.update_xaxes(
            title={"text": wrapped_label(feature, width=12), "font": {"size": 11}},
            nticks=5,
            row=row,
            col=col,
        )
    fig.update_yaxes(title={"text": label(target_name)}, col=1)
    fig.update_layout(
        height=min(60 + 230 * rows, 760),
        margin={**MARGIN, "t": 30},
        title={"text": f"{what} against {target}", "font": {"size": 14}},
    )
    return fig


def target_by_category_figure(categories, y, feature_name: str, target_name: str) -> go.Figure:
    """Box plots of a regression target for each category of a feature."""
    categories = np.asarray(categories, dtype=object)
    y = np.asarray(y, dtype=float)
    names = [str(c) for c in dict.fromkeys(categories.tolist())]
    shown = labels(names)
    fig = go.Figure()
    for name, text in zip(names, shown, strict=True):
        fig.add_trace(
            go.Box(
                y=y[categories == name],
                name=text,
                marker={"color": NUMBER_COLOR},
                boxpoints="outliers",
                showlegend=False,
            )
        )
    fig.update_layout(
        height=340,
        margin=MARGIN,
        title=f"{safe(target_name)} by {safe(feature_name)}",
        xaxis={"title": safe(feature_name), "type": "category"},
        yaxis={"title": safe(target_name)},
    )
    return fig


def confusion_matrix_figure(cm, class_names: list[str]) -> go.Figure:
    """Heatmap of a confusion matrix: rows are true classes, columns predicted ones."""
    cm = np.asarray(cm)
    names = labels(class_names)
    fig = go.Figure(
        go.Heatmap(
            z=cm,
            x=names,
            y=names,
            colorscale="Blues",
            text=cm,
            texttemplate="%{text}",
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
            showscale=False,
        )
    )
    fig.update_layout(
        height=max(320, 160 + 36 * len(names)),
        margin=MARGIN,
        title="Confusion matrix",
        xaxis={"title": "predicted class", "type": "category"},
        yaxis={"title": "true class", "type": "category", "autorange": "reversed"},
    )
    return fig


def probability_figure(probs, class_names: list[str], title: str) -> go.Figure:
    """Horizontal bars, one per class (probabilities or raw output scores)."""
    probs = np.asarray(probs, dtype=float)
    best = int(np.argmax(probs))
    fig = go.Figure(
        go.Bar(
            x=probs,
            y=labels(class_names),
            orientation="h",
            marker={"color": [class_color(i) for i in range(len(probs))]},
            marker_line={"width": [3 if i == best else 0 for i in range(len(probs))]},
            text=[f"{p:.3f}" for p in probs],
            textposition="auto",
            hovertemplate="%{y}: %{x:.4f}<extra></extra>",
        )
    )
    fig.update_layout(
        height=100 + 32 * len(probs),
        margin=MARGIN,
        title=title,
        yaxis={"type": "category", "autorange": "reversed"},
    )
    return fig
