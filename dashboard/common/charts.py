"""Plotly figure builders: pure functions from plain data to a ``go.Figure`` (no Streamlit).

Names that come from data (feature and class names of an uploaded CSV) are HTML-escaped before
they go into a figure, because plotly renders a subset of HTML in titles, labels and hovers.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from dashboard.common.text import display_name

CLASS_COLORS = qualitative.Plotly + qualitative.Dark24
TRAIN_COLOR, VAL_COLOR = "#1f77b4", "#ff7f0e"
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


def history_figure(history, target_epochs: int, max_points: int = 400) -> go.Figure:
    """Loss (left) and accuracy (right) per epoch, training and validation.

    ``history`` is a list of ``nn.EpochRecord``. The x axes span the whole run so the curves
    visibly grow while training. Long runs are thinned to at most ``max_points`` evenly spread
    epochs per curve, first and last always kept, and the hover says so: the Train page
    redraws this figure several times a second while training, so its size must not grow
    with the history. The values go in as NumPy arrays, which plotly validates and ships
    (as typed binary arrays) far faster than lists.
    """
    keep = downsample(len(history), max_points)
    rows = [history[i] for i in keep]
    epochs = np.array([r.epoch for r in rows], dtype=np.int64)
    has_val = any(r.val_loss is not None for r in rows)
    thinned = f" · {len(rows)} of {len(history)} epochs drawn" if len(rows) < len(history) else ""
    curves = [
        ("train_loss", "training", TRAIN_COLOR, "x", "y", True),
        ("val_loss", "validation", VAL_COLOR, "x", "y", has_val),
        ("train_accuracy", "training", TRAIN_COLOR, "x2", "y2", True),
        ("val_accuracy", "validation", VAL_COLOR, "x2", "y2", has_val),
    ]
    traces = [
        go.Scatter(
            x=epochs,
            y=np.array([getattr(r, attr) for r in rows], dtype=float),
            name=name,
            mode="lines",
            line={"color": color, "dash": "solid" if "train" in attr else "dash"},
            xaxis=xaxis,
            yaxis=yaxis,
            legendgroup=name,
            showlegend=attr.endswith("loss"),
            hovertemplate="epoch %{x}: %{y:.4f}<extra>" + name + thinned + "</extra>",
            meta=attr,
        )
        for attr, name, color, xaxis, yaxis, show in curves
        if show
    ]
    x_range = [0, max(target_epochs, len(history), 1) + 0.5]
    layout = {
        "height": 340,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "uirevision": "history",
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.12},
        "xaxis": {"domain": [0, 0.46], "range": x_range, "title": {"text": "epoch"}},
        "yaxis": {"title": {"text": "loss"}, "rangemode": "tozero"},
        "xaxis2": {
            "domain": [0.54, 1],
            "range": x_range,
            "title": {"text": "epoch"},
            "anchor": "y2",
        },
        "yaxis2": {"title": {"text": "accuracy"}, "range": [0, 1.02], "anchor": "x2"},
        "annotations": [_title(0.23, "Loss"), _title(0.77, "Accuracy")],
    }
    return go.Figure(data=traces, layout=layout)


def _title(x: float, text: str) -> dict:
    return {
        "text": f"<b>{text}</b>",
        "x": x,
        "y": 1.08,
        "xref": "paper",
        "yref": "paper",
        "showarrow": False,
    }


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


def scatter_matrix_figure(X, y, feature_names: list[str], class_names: list[str]) -> go.Figure:
    """Every pair of the given features against each other, coloured by class."""
    X, y = np.asarray(X), np.asarray(y)
    fig = go.Figure()
    for k, name in enumerate(class_names):
        mask = y == k
        if not mask.any():
            continue
        fig.add_trace(
            go.Splom(
                dimensions=[
                    {"label": label(f), "values": X[mask, j]} for j, f in enumerate(feature_names)
                ],
                name=label(name),
                marker={"color": class_color(k), "size": 5, "opacity": 0.7},
                diagonal={"visible": False},
                showupperhalf=False,
            )
        )
    side = 170 * max(len(feature_names), 2)
    fig.update_layout(height=min(side, 720), margin=MARGIN, dragmode="select")
    return fig


def feature_distribution_figure(x, y, feature_name: str, class_names: list[str]) -> go.Figure:
    """Histogram of one feature, one overlaid colour per class."""
    x, y = np.asarray(x), np.asarray(y)
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
