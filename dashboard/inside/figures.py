"""Figures for seeing inside a network: decision surfaces, a regression network's fitted curve
and value surface, a living diagram of the weights, and every neuron's map over a plane (or its
activations on the data rows).

Pure functions from arrays to plotly figures; no Streamlit. Names from data are escaped with
``charts.safe`` before plotly sees them (it renders a subset of HTML in labels and hovers).
"""

from __future__ import annotations

import base64
import copy
import math

import numpy as np
import plotly.graph_objects as go
from _plotly_utils.utils import (  # what go.Figure.to_dict encodes arrays with
    convert_to_base64,
    plotlyjsShortTypes,
)
from plotly.colors import hex_to_rgb

from dashboard.common.charts import (
    MARGIN,
    class_color,
    diagram_layout,
    downsample,
    label,
    labels,
    layer_role,
    node_name,
    node_ys,
    safe,
)
from nn.inspect import NEURON_RESOLUTION

MAX_POINTS = 1_000  # data points drawn per part on a decision surface
MAX_EDGES = 300  # edges drawn between two layers of the network diagram
POSITIVE, NEGATIVE = "#2166ac", "#b2182b"  # edge colours, the ends of the "RdBu" node scale
EDGE_WIDTHS = (0.6, 1.4, 2.6, 4.5)  # by quarter of the largest |w|


# ---- decision surface ----


def _rgb(color: str) -> np.ndarray:
    return np.array(hex_to_rgb(color), dtype=float)


def soft_colors(probs: np.ndarray) -> np.ndarray:
    """(h, w, 3) uint8 colours: the class colours mixed by probability, paler where unsure.

    Outputs that are not probabilities (a linear output layer) are clipped at 0 and normalized
    per point; where they are all 0 the point is white.
    """
    probs = np.clip(np.asarray(probs, dtype=float), 0.0, None)
    k = probs.shape[-1]
    total = probs.sum(axis=-1, keepdims=True)
    weights = np.divide(probs, total, out=np.full_like(probs, 1.0 / k), where=total > 0)
    palette = np.stack([_rgb(class_color(c)) for c in range(k)])
    mix = weights @ palette
    confidence = (weights.max(axis=-1, keepdims=True) - 1.0 / k) / (1.0 - 1.0 / k)
    strength = np.where(total > 0, 0.15 + 0.6 * confidence, 0.0)
    rgb = 255.0 + (mix - 255.0) * strength
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def _discrete_scale(k: int, alpha: float = 1.0) -> list:
    scale = []
    for c in range(k):
        r, g, b = hex_to_rgb(class_color(c))
        color = f"rgba({r},{g},{b},{alpha})"
        scale += [[c / k, color], [(c + 1) / k, color]]
    return scale


def decision_surface_figure(
    xs,
    ys,
    probs,
    class_names: list[str],
    train=None,
    test=None,
    sample=None,
    mode: str = "soft",
    axis_names: tuple[str, str] = ("x1", "x2"),
    max_points: int = MAX_POINTS,
) -> go.Figure:
    """The classifier's regions over two features, with the data on top.

    ``xs``, ``ys``, ``probs`` come from ``nn.inspect.decision_grid``. ``train`` and ``test`` are
    pairs ``(X2, y)`` of the two plotted columns and the labels; ``sample`` is one point
    ``(x, y)`` (the prediction form's row). ``mode`` "soft" mixes the class colours by
    probability (paler where the network is unsure); "hard" paints each point's predicted
    class. Trace order: the surface, then the training points per class, the test points per
    class, and the sample.
    """
    if mode not in ("soft", "hard"):
        raise ValueError(f"mode must be 'soft' or 'hard', got {mode!r}")
    xs, ys, probs = np.asarray(xs, float), np.asarray(ys, float), np.asarray(probs, float)
    if probs.shape[:2] != (len(ys), len(xs)):
        raise ValueError(f"probs must be ({len(ys)}, {len(xs)}, k), got {probs.shape}")
    k = probs.shape[2]
    names = labels(list(class_names)[:k]) + [f"class {c}" for c in range(len(class_names), k)]
    dx = xs[1] - xs[0] if len(xs) > 1 else 1.0
    dy = ys[1] - ys[0] if len(ys) > 1 else 1.0
    fig = go.Figure()
    if mode == "soft":
        fig.add_trace(
            go.Image(
                z=soft_colors(probs),
                x0=xs[0],
                dx=dx,
                y0=ys[0],
                dy=dy,
                hoverinfo="skip",
                name="surface",
            )
        )
    else:
        winner = probs.argmax(axis=2)
        fig.add_trace(
            go.Heatmap(
                z=winner,
                x=xs,
                y=ys,
                text=np.asarray(names, dtype=object)[winner],
                colorscale=_discrete_scale(k, alpha=0.45),
                zmin=-0.5,
                zmax=k - 0.5,
                showscale=False,
                hovertemplate="(%{x:.3g}, %{y:.3g}): %{text}<extra></extra>",
                name="surface",
            )
        )
    for part, symbol, data in (("training", "circle", train), ("test", "diamond", test)):
        if data is None:
            continue
        X2, y = np.asarray(data[0], float), np.asarray(data[1])
        keep = downsample(len(X2), max_points)
        X2, y = X2[keep], y[keep]
        for c in range(k):
            mask = y == c
            if not mask.any():
                continue
            fig.add_trace(
                go.Scattergl(
                    x=X2[mask, 0],
                    y=X2[mask, 1],
                    mode="markers",
                    name=f"{names[c]} ({part})",
                    legendgroup=part,
                    marker={
                        "color": class_color(c),
                        "symbol": symbol,
                        "size": 7 if part == "training" else 9,
                        "line": {"color": "white" if part == "training" else "black", "width": 1},
                    },
                    hovertemplate=f"{names[c]} ({part}): (%{{x:.3g}}, %{{y:.3g}})<extra></extra>",
                )
            )
    if sample is not None:
        fig.add_trace(_sample_trace(sample, "your sample: (%{x:.3g}, %{y:.3g})"))
    fig.update_layout(
        height=480,
        margin=MARGIN,
        uirevision="surface",
        legend={"orientation": "h", "y": -0.15},
        **_grid_axes(xs, ys, axis_names),
    )
    return fig


# ---- regression: the fitted curve and the value surface ----

VALUE_SCALE = "Viridis"
CURVE_COLOR = "#d62728"


def _points(data, max_points: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(X, y)`` of a part as float arrays, thinned to ``max_points`` rows (None: no part)."""
    if data is None:
        return None
    X, y = np.asarray(data[0], float), np.asarray(data[1], float).reshape(-1)
    keep = downsample(len(X), max_points)
    return X[keep], y[keep]


def _y_range(curve: np.ndarray, targets: list[np.ndarray]) -> list[float]:
    """A y range that holds the data and the curve, but lets the curve run off rather than
    squash the data when it is far out (early in training)."""
    data = np.concatenate([t for t in targets if t.size] or [curve])
    lo, hi = float(data.min()), float(data.max())
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    lo = max(min(lo, float(np.min(curve))), lo - span)
    hi = min(max(hi, float(np.max(curve))), hi + span)
    pad = 0.06 * (hi - lo)
    return [lo - pad, hi + pad]


def fitted_curve_figure(
    xs,
    values,
    train=None,
    test=None,
    sample=None,
    axis_names: tuple[str, str] = ("x", "y"),
    max_points: int = MAX_POINTS,
) -> go.Figure:
    """A regression network's prediction along one feature as a line over the data.

    ``xs`` and ``values`` come from ``nn.inspect.value_curve``; ``train`` and ``test`` are
    pairs ``(x, y)`` of the feature and the target; ``sample`` is one point ``(x, value)``
    (the prediction form's row and its prediction). ``axis_names`` are the feature's and the
    target's names. Trace order: the training points, the test points, the curve, the sample.
    """
    xs, values = np.asarray(xs, float).reshape(-1), np.asarray(values, float).reshape(-1)
    if xs.shape != values.shape or xs.size < 2:
        raise ValueError("xs and values must be two arrays of the same length (at least 2)")
    fig = go.Figure()
    targets = []
    for part, symbol, color, data in (
        ("training", "circle", "#7f9fc6", train),
        ("test", "diamond", "#ff7f0e", test),
    ):
        points = _points(data, max_points)
        if points is None:
            continue
        x, y = points[0].reshape(len(points[0]), -1)[:, 0], points[1]
        targets.append(y)
        fig.add_trace(
            go.Scattergl(
                x=x,
                y=y,
                mode="markers",
                name=f"{part} rows",
                marker={
                    "color": color,
                    "symbol": symbol,
                    "size": 6 if part == "training" else 8,
                    "opacity": 0.75,
                    "line": {"color": "white" if part == "training" else "black", "width": 1},
                },
                hovertemplate=f"{part}: (%{{x:.3g}}, %{{y:.3g}})<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=values,
            mode="lines",
            name="the network's prediction",
            line={"color": CURVE_COLOR, "width": 3},
            hovertemplate="%{x:.3g} → predicted %{y:.4g}<extra></extra>",
        )
    )
    if sample is not None:
        fig.add_trace(_sample_trace(sample, "your sample: %{x:.3g} → predicted %{y:.4g}"))
    fig.update_layout(
        height=440,
        margin=MARGIN,
        uirevision="curve",
        legend={"orientation": "h", "y": -0.18},
        xaxis={"title": label(axis_names[0]), "range": [float(xs[0]), float(xs[-1])]},
        yaxis={"title": label(axis_names[1]), "range": _y_range(values, targets)},
    )
    return fig


def _grid_axes(xs: np.ndarray, ys: np.ndarray, axis_names) -> dict:
    """The axes of a figure over a grid: each spans its grid cells, without grid lines."""
    dx = xs[1] - xs[0] if len(xs) > 1 else 1.0
    dy = ys[1] - ys[0] if len(ys) > 1 else 1.0
    axes = {}
    for name, values, step, title in (
        ("xaxis", xs, dx, axis_names[0]),
        ("yaxis", ys, dy, axis_names[1]),
    ):
        axes[name] = {
            "title": label(title),
            "range": [values[0] - step / 2, values[-1] + step / 2],
            "autorange": False,
            "showgrid": False,
            "zeroline": False,
        }
    return axes


def _sample_trace(sample, hover: str) -> go.Scatter:
    return go.Scatter(
        x=[float(sample[0])],
        y=[float(sample[1])],
        mode="markers",
        name="your sample",
        marker={
            "symbol": "star",
            "size": 18,
            "color": "gold",
            "line": {"color": "black", "width": 1.5},
        },
        hovertemplate=hover + "<extra></extra>",
    )


def _valued_points(points, part: str, symbol: str, coloraxis: str, name: str) -> go.Scattergl:
    """A part's rows ``(X2, y)`` over two features, coloured by their target on ``coloraxis``
    (``name``: the target's escaped name)."""
    X2, y = points
    return go.Scattergl(
        x=X2[:, 0],
        y=X2[:, 1],
        mode="markers",
        name=f"{part} rows",
        marker={
            "color": y,
            "coloraxis": coloraxis,
            "symbol": symbol,
            "size": 8 if part == "training" else 10,
            "line": {"color": "white" if part == "training" else "black", "width": 1},
        },
        hovertemplate=f"{part}: (%{{x:.3g}}, %{{y:.3g}}), {name} %{{marker.color:.4g}}"
        "<extra></extra>",
    )


def value_surface_figure(
    xs,
    ys,
    values,
    train=None,
    test=None,
    sample=None,
    axis_names: tuple[str, str] = ("x1", "x2"),
    target_name: str = "y",
    max_points: int = MAX_POINTS,
) -> go.Figure:
    """A regression network's predicted value over two features as a heatmap, with the data
    points coloured by their actual target on the same colour scale (a point that stands out
    from the background is one the network gets wrong).

    ``xs``, ``ys``, ``values`` come from ``nn.inspect.value_grid``; ``train`` and ``test``
    are pairs ``(X2, y)`` of the two plotted columns and the targets; ``sample`` a point
    ``(x, y)``. Trace order: the surface, the training points, the test points, the sample.
    """
    xs, ys, values = np.asarray(xs, float), np.asarray(ys, float), np.asarray(values, float)
    if values.shape != (len(ys), len(xs)):
        raise ValueError(f"values must be ({len(ys)}, {len(xs)}), got {values.shape}")
    parts = [
        (part, symbol, _points(data, max_points))
        for part, symbol, data in (("training", "circle", train), ("test", "diamond", test))
    ]
    shown = [values.ravel()] + [p[1] for _, _, p in parts if p is not None]
    lo = float(min(np.min(v) for v in shown if v.size))
    hi = float(max(np.max(v) for v in shown if v.size))
    name = label(target_name)
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            z=values,
            x=xs,
            y=ys,
            coloraxis="coloraxis",
            hovertemplate=f"(%{{x:.3g}}, %{{y:.3g}}): predicted {name} %{{z:.4g}}<extra></extra>",
            name="surface",
        )
    )
    for part, symbol, points in parts:
        if points is not None:
            fig.add_trace(_valued_points(points, part, symbol, "coloraxis", name))
    if sample is not None:
        fig.add_trace(_sample_trace(sample, "your sample: (%{x:.3g}, %{y:.3g})"))
    fig.update_layout(
        height=520,
        margin=MARGIN,
        uirevision="surface",
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        coloraxis={
            "colorscale": VALUE_SCALE,
            "cmin": lo,
            "cmax": hi if hi > lo else lo + 1.0,
            # below the plot, across: beside it, it would take half a phone's plot width
            "colorbar": {
                "title": {"text": name, "side": "top"},
                "orientation": "h",
                "thickness": 12,
                "len": 0.8,
                "x": 0.5,
                "xanchor": "center",
                "y": -0.2,
                "yanchor": "top",
            },
        },
        **_grid_axes(xs, ys, axis_names),
    )
    return fig


# ---- living network diagram ----


def strongest_edges(W: np.ndarray, max_edges: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the ``max_edges`` largest ``|W|`` (all when it has fewer)."""
    W = np.asarray(W)
    if W.size <= max_edges:
        rows, cols = np.indices(W.shape)
        return rows.ravel(), cols.ravel()
    flat = np.argpartition(np.abs(W).ravel(), W.size - max_edges)[W.size - max_edges :]
    flat = np.sort(flat)
    return np.unravel_index(flat, W.shape)


def network_weights_figure(
    weights: list[np.ndarray],
    feature_names: list[str] | None = None,
    class_names: list[str] | None = None,
    max_edges: int = MAX_EDGES,
) -> go.Figure:
    """The network with its current weights: edges blue for positive and red for negative
    weights, thicker for larger |w|; nodes coloured by their bias; hovering shows the values.

    Between two layers with more than ``max_edges`` weights only the ``max_edges`` largest
    |w| are drawn, and a note above the gap says so. ``fig.layout.meta`` holds
    ``edges_drawn`` and ``edges_total``. Trace order: edge lines (by sign and width), the
    invisible edge midpoints that carry the hover text, the input nodes, the other nodes.
    """
    Ws, bs = (
        [np.asarray(w, float) for w in weights[0::2]],
        [np.asarray(b, float) for b in weights[1::2]],
    )
    if not Ws or len(Ws) != len(bs):
        raise ValueError("weights must be [W1, b1, W2, b2, ...]")
    sizes = [Ws[0].shape[0], *(W.shape[1] for W in Ws)]
    n_layers = len(sizes)
    ys = [node_ys(s) for s in sizes]
    biggest = max(float(np.abs(W).max()) for W in Ws) or 1.0
    segments: dict[tuple[bool, int], tuple[list, list]] = {}
    mid_x, mid_y, mid_text = [], [], []
    notes, drawn, total = [], 0, 0
    for layer, W in enumerate(Ws):
        rows, cols = strongest_edges(W, max_edges)
        total += W.size
        drawn += len(rows)
        if len(rows) < W.size:
            notes.append(
                {
                    "x": layer + 0.5,
                    "y": 1.2,
                    "text": f"{len(rows)} strongest of {W.size:,}",
                    "showarrow": False,
                    "font": {"size": 11},
                }
            )
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            w = W[i, j]
            bucket = min(int(abs(w) / biggest * len(EDGE_WIDTHS)), len(EDGE_WIDTHS) - 1)
            xs_, ys_ = segments.setdefault((w >= 0, bucket), ([], []))
            y0, y1 = ys[layer][i], ys[layer + 1][j]
            xs_ += [layer, layer + 1, None]
            ys_ += [y0, y1, None]
            mid_x.append(layer + 0.5)
            mid_y.append((y0 + y1) / 2)
            src = node_name(layer, n_layers, i, feature_names, class_names)
            dst = node_name(layer + 1, n_layers, j, feature_names, class_names)
            mid_text.append(f"{src} → {dst}<br>w = {w:.4g}")
    fig = go.Figure()
    # Thin edges first so thick ones are drawn on top; the legend shows each sign's thickest.
    thickest = {sign: max(b for s, b in segments if s == sign) for sign, _ in segments}
    for (positive, bucket), (xs_, ys_) in sorted(segments.items(), key=lambda kv: kv[0][1]):
        name = "positive weight" if positive else "negative weight"
        fig.add_trace(
            go.Scatter(
                x=xs_,
                y=ys_,
                mode="lines",
                line={"color": POSITIVE if positive else NEGATIVE, "width": EDGE_WIDTHS[bucket]},
                opacity=0.35 + 0.15 * bucket,
                hoverinfo="skip",
                name=name,
                legendgroup=name,
                showlegend=bucket == thickest[positive],
            )
        )
    fig.add_trace(
        go.Scatter(
            x=mid_x,
            y=mid_y,
            mode="markers",
            marker={"size": 8, "opacity": 0},
            hovertext=mid_text,
            hoverinfo="text",
            showlegend=False,
            name="weights",
        )
    )
    node_size = max(6, min(18, 260 // max(sizes)))
    fig.add_trace(
        go.Scatter(
            x=[0] * sizes[0],
            y=ys[0],
            mode="markers",
            marker={"size": node_size, "color": "#9aa5b1", "line": {"color": "white", "width": 1}},
            hovertext=[
                node_name(0, n_layers, i, feature_names, class_names) for i in range(sizes[0])
            ],
            hoverinfo="text",
            showlegend=False,
            name="inputs",
        )
    )
    node_x, node_y, node_bias, node_text = [], [], [], []
    for layer, b in enumerate(bs, start=1):
        for i, value in enumerate(b.tolist()):
            node_x.append(layer)
            node_y.append(ys[layer][i])
            node_bias.append(value)
            name = node_name(layer, n_layers, i, feature_names, class_names)
            node_text.append(f"{name}<br>bias = {value:.4g}")
    limit = max(float(np.abs(node_bias).max()), 1e-12)
    fig.add_trace(
        go.Scatter(
            x=node_x,
            y=node_y,
            mode="markers",
            marker={
                "size": node_size,
                "color": node_bias,
                "colorscale": "RdBu",
                "cmin": -limit,
                "cmax": limit,
                "line": {"color": "#444", "width": 1},
                "colorbar": {"title": {"text": "bias"}, "thickness": 12, "len": 0.6},
            },
            hovertext=node_text,
            hoverinfo="text",
            showlegend=False,
            name="nodes",
        )
    )
    captions = [
        {"x": layer, "y": -1.3, "text": layer_role(layer, n_layers), "showarrow": False}
        for layer in range(n_layers)
    ]
    return diagram_layout(
        fig,
        n_layers,
        captions + notes,
        height=420,
        uirevision="weights",
        meta={"edges_drawn": drawn, "edges_total": total},
        legend={"orientation": "h", "y": 1.12, "x": 0},
    )


# ---- per-neuron maps and distributions ----


class CachedFigure(go.Figure):
    """A ``go.Figure`` that keeps the dict ``to_dict`` made until the figure changes.

    ``st.plotly_chart`` calls ``to_dict`` on every draw: a deep copy of the figure with every
    array encoded afresh, 8-30 ms for the 18-100 neuron maps on this project's 2-core server,
    paid on every tick of a live view (about five a second) although the figure changes about
    once a second. This figure makes the dict once and hands the same one out (treat it as
    read-only). Every change made through plotly (a trace's or the layout's property, traces
    added, removed or moved, ``update_*``, ``batch_update``) ends in one of the ``_send_*_msg``
    hooks that plotly keeps for ``FigureWidget`` (no-ops in ``go.Figure``), which drop it;
    ``update_values`` puts new values into the dict instead.
    """

    _spec: dict | None = None

    def to_dict(self) -> dict:
        if self._spec is None:
            self._spec = super().to_dict()
        return self._spec

    def _changed(self, *args, **kwargs) -> None:
        self._spec = None

    # plotly's hooks for every change (their arguments say what changed; any change drops
    # the dict); their names are plotly's
    _send_addTraces_msg = _send_moveTraces_msg = _send_deleteTraces_msg = _changed  # noqa: N815
    _send_restyle_msg = _send_relayout_msg = _send_update_msg = _send_animate_msg = _changed

    def update_values(self, restyle: dict, relayout: dict, trace_indexes: list[int]) -> None:
        """``plotly_update(restyle, relayout, trace_indexes)`` that keeps the dict made before,
        with the new values put in, rather than dropping it: making it afresh (a deep copy of
        the figure) costs twice the update itself for the many maps. ``restyle`` maps a trace
        property to one new value per trace;
        ``relayout`` maps dotted layout paths to values. The dict is then the one ``to_dict``
        would make afresh (``tests/test_app_inside.py`` compares their JSON)."""
        spec = self._spec
        self.plotly_update(restyle, relayout, trace_indexes=trace_indexes)
        if spec is None:
            return
        for name, new in restyle.items():
            for i, value in zip(trace_indexes, new, strict=True):
                spec["data"][i][name] = _as_in_dict(value)
        for path, value in relayout.items():
            *parents, last = path.split(".")
            node = spec["layout"]
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = _as_in_dict(value)
        self._spec = spec


def _as_in_dict(value):
    """``value`` as ``go.Figure.to_dict`` writes it: a copy, numpy arrays as plotly.js typed
    arrays (plotly's own ``convert_to_base64``, which makes a new object for an array and
    encodes a dict's arrays in place)."""
    if isinstance(value, np.ndarray) and value.size and value.dtype.kind == "f":
        # the same spec, without the per-array detour through narwhals (a quarter ms each)
        flat = np.ascontiguousarray(value)
        spec = {
            "dtype": plotlyjsShortTypes[str(flat.dtype)],
            "bdata": base64.b64encode(flat).decode("ascii"),
        }
        if flat.ndim > 1:
            spec["shape"] = str(flat.shape)[1:-1]
        return spec
    holder = {"value": copy.deepcopy(value)}
    convert_to_base64(holder)
    return holder["value"]


def update_values(fig: go.Figure, restyle: dict, relayout: dict, trace_indexes: list[int]):
    """New values into ``fig`` in one ``plotly_update``, keeping a ``CachedFigure``'s dict."""
    if isinstance(fig, CachedFigure):
        fig.update_values(restyle, relayout, trace_indexes)
    else:
        fig.plotly_update(restyle, relayout, trace_indexes=trace_indexes)


NEURON_SCALE = "Viridis"  # one scale for every neuron; its range is set per layer
MAX_NEURONS = 16  # maps (or distributions) drawn per layer; a note counts the others
# Grid values shipped per redraw of all the maps (float32): 40 x 40 per map for up to 40 maps
# (~0.35 MB of JSON), coarser grids beyond (see map_resolution).
MAP_BUDGET = 40 * 40 * 40
MIN_MAP_RESOLUTION = 24
ROWS_PER_COLUMN = 8  # a layer with more maps than this stacks them in several columns
GRID_WIDTH_PX = 640  # about the width the maps get on a desktop screen
NEURON_CELL_PX = (72, 150)  # the least and most height of one map with its title
NEURON_HEADER_PX = 84  # above the maps: each layer's name and colour bar
NEURON_TITLE_PX = 16  # above each map: its neuron's name
NEURON_NOTE_PX = 26  # below the maps, when a layer has more neurons than are drawn
COLUMN_PAD = 0.012  # paper width left free on each side of a map
BLOCK_GAP = 0.4  # between two layers' blocks, in map columns


def grid_steps(maps) -> dict[str, float]:
    """A heatmap's ``x0``, ``dx``, ``y0`` and ``dy`` for the evenly spaced grid of ``maps``:
    the small maps give these rather than every point, so that each map ships (and plotly
    encodes on every draw) one array instead of three."""
    steps = {}
    for axis, points in (("x", maps.xs), ("y", maps.ys)):
        points = np.asarray(points, float)
        step = (points[-1] - points[0]) / (len(points) - 1) if len(points) > 1 else 1.0
        steps[f"{axis}0"], steps[f"d{axis}"] = float(points[0]), float(step)
    return steps


def map_resolution(sizes, max_per_layer: int = MAX_NEURONS) -> int:
    """Grid points per axis of each map when the layers have ``sizes`` neurons (hidden layers
    and outputs): ``nn.inspect.NEURON_RESOLUTION`` (40) while at most 40 maps are drawn, then
    coarser, down to ``MIN_MAP_RESOLUTION``, so a redraw ships at most ``MAP_BUDGET`` values."""
    n_maps = sum(min(int(size), max_per_layer) for size in sizes)
    side = math.isqrt(MAP_BUDGET // max(n_maps, 1))
    return max(MIN_MAP_RESOLUTION, min(NEURON_RESOLUTION, side))


def neuron_title(layer: int, neuron: int, n_layers: int, output_names=None) -> str:
    """A neuron's name: "layer 1 · neuron 3", or "output · setosa" (0-based in, 1-based out;
    names from data escaped)."""
    if layer == n_layers - 1:
        if output_names is not None and neuron < len(output_names):
            return f"output · {safe(output_names[neuron], 24)}"
        return f"output {neuron + 1}"
    return f"layer {layer + 1} · neuron {neuron + 1}"


def layer_title(layer: int, n_layers: int, activation: str, sep: str = " · ") -> str:
    """A layer's name with its activation: "layer 1 · tanh", "outputs · softmax"."""
    return f"{'outputs' if layer == n_layers - 1 else f'layer {layer + 1}'}{sep}{activation}"


def layer_range(values: np.ndarray) -> tuple[float, float]:
    """The colour range shared by a layer's neurons: the min and max of all its values (a flat
    layer gets a unit range, so that plotly still draws a scale)."""
    lo, hi = float(np.min(values)), float(np.max(values))
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _coloraxis(c: int) -> str:
    return "coloraxis" if c == 0 else f"coloraxis{c + 1}"


def _axis_suffix(n: int) -> str:
    """The n-th (0-based) pair of axes is ``xaxis{suffix}``/``yaxis{suffix}`` in the layout and
    ``x{suffix}``/``y{suffix}`` in a trace."""
    return "" if n == 0 else str(n + 1)


def map_columns(shown: int, rows_per_column: int = ROWS_PER_COLUMN) -> tuple[int, int]:
    """How a layer's ``shown`` maps are arranged: (columns, rows), filled column by column."""
    columns = max(1, math.ceil(shown / rows_per_column))
    return columns, math.ceil(shown / columns)


def neuron_maps_figure(maps, output_names=None, max_per_layer: int = MAX_NEURONS) -> go.Figure:
    """A small heatmap per neuron, laid out like the network diagram: a block per layer, left
    to right (hidden layers, then the outputs), its neurons stacked and centred; a layer with
    more than ``ROWS_PER_COLUMN`` maps stacks them in several columns, filled top to bottom.

    ``maps`` is an ``nn.inspect.NeuronMaps``. The neurons of a layer share one colour scale
    (``coloraxis`` per layer, from the min to the max of all the layer's maps, its colour bar
    above the block). At most ``max_per_layer`` maps are drawn per layer, the first ones; a
    note under the block counts the others. One heatmap trace per map drawn, layer by layer,
    its grid given by its start and step (``grid_steps``).
    ``fig.layout.meta`` holds ``sizes`` (neurons per layer), ``drawn`` and ``ranges``.
    """
    if max_per_layer < 1:
        raise ValueError("max_per_layer must be at least 1")
    xs, ys = np.asarray(maps.xs, float), np.asarray(maps.ys, float)
    layers = [np.asarray(m) for m in maps.layers]
    n_layers = len(layers)
    sizes = [m.shape[2] for m in layers]
    drawn = [min(s, max_per_layer) for s in sizes]
    blocks = [map_columns(shown) for shown in drawn]
    # map columns across the figure, and a gap between two layers' blocks
    units = sum(columns for columns, _ in blocks) + BLOCK_GAP * (n_layers - 1)
    n_rows = max(rows for _, rows in blocks)
    # maps about square on a desktop screen: as tall as they will be wide there
    cell = int(np.clip(GRID_WIDTH_PX / units + NEURON_TITLE_PX, *NEURON_CELL_PX))
    note = NEURON_NOTE_PX if any(d < s for d, s in zip(drawn, sizes, strict=True)) else 4
    plot_h = NEURON_HEADER_PX + n_rows * cell + note
    x_span = float(xs[-1] - xs[0]) or 1.0
    y_span = float(ys[-1] - ys[0]) or 1.0
    steps = grid_steps(maps)

    def paper_y(px: float) -> float:  # pixels from the top of the plot area -> paper y
        return 1.0 - px / plot_h

    data, layout_axes, notes, ranges = [], {}, [], []
    n, start = 0, 0
    for c, (values, shown, (columns, rows)) in enumerate(zip(layers, drawn, blocks, strict=True)):
        lo, hi = layer_range(values)
        ranges.append([lo, hi])
        block_left, block_right = start / units, (start + columns) / units
        start += columns + BLOCK_GAP
        centre = (block_left + block_right) / 2
        top = NEURON_HEADER_PX + (n_rows - rows) / 2 * cell
        for k in range(shown):
            column, row = divmod(k, rows)
            left = block_left + column / units + COLUMN_PAD
            right = block_left + (column + 1) / units - COLUMN_PAD
            title = neuron_title(c, k, n_layers, output_names)
            # above the map a short name (its block names the layer); the hover has it all
            short = f"neuron {k + 1}"
            if c == n_layers - 1:
                named = output_names is not None and k < len(output_names)
                short = safe(output_names[k], 14) if named else f"output {k + 1}"
            map_top = top + row * cell + NEURON_TITLE_PX
            map_bottom = top + (row + 1) * cell - 4
            suffix = _axis_suffix(n)
            # A dict, not go.Heatmap: the figure validates it once, not twice.
            data.append(
                {
                    "type": "heatmap",
                    "z": values[:, :, k].astype(np.float32),  # half the bytes of float64
                    **steps,  # the grid's start and step, not its points: a third of the arrays
                    "coloraxis": _coloraxis(c),
                    "xaxis": f"x{suffix}",
                    "yaxis": f"y{suffix}",
                    "name": title,
                    "hovertemplate": f"{title}<br>(%{{x:.3g}}, %{{y:.3g}}): %{{z:.3f}}"
                    "<extra></extra>",
                }
            )
            layout_axes[f"xaxis{suffix}"] = {
                "domain": [left, right],
                "anchor": f"y{suffix}",
                "range": [float(xs[0]), float(xs[-1])],
                "visible": False,
                "fixedrange": True,
                "constrain": "domain",
            }
            layout_axes[f"yaxis{suffix}"] = {
                "domain": [paper_y(map_bottom), paper_y(map_top)],
                "anchor": f"x{suffix}",
                "range": [float(ys[0]), float(ys[-1])],
                "visible": False,
                "fixedrange": True,
                # every map square on screen, whatever the units of the two features
                "scaleanchor": f"x{suffix}",
                "scaleratio": x_span / y_span,
                "constrain": "domain",
                "constraintoward": "top",
            }
            notes.append(
                {
                    # over the map as drawn (its domain shrinks to keep it square)
                    "x": 0.5,
                    "y": 1,
                    "xref": f"x{suffix} domain",
                    "yref": f"y{suffix} domain",
                    "yanchor": "bottom",
                    "text": short,
                    "showarrow": False,
                    "font": {"size": 10},
                }
            )
            n += 1
        if shown < sizes[c]:
            notes.append(
                {
                    "x": centre,
                    "y": paper_y(plot_h - 2),
                    "xref": "paper",
                    "yref": "paper",
                    "yanchor": "bottom",
                    "text": f"+{sizes[c] - shown} more",  # as the network diagram says it
                    "showarrow": False,
                    "font": {"size": 11},
                }
            )
        layout_axes[_coloraxis(c)] = {
            "colorscale": NEURON_SCALE,
            "cmin": lo,
            "cmax": hi,
            "colorbar": {
                "title": {
                    # on two lines: a narrow block (the outputs) has room for a word
                    "text": layer_title(c, n_layers, maps.activations[c], "<br>"),
                    "side": "top",
                    "font": {"size": 11},
                },
                "orientation": "h",
                "x": centre,
                "xanchor": "center",
                "y": paper_y(2),
                "yanchor": "top",
                "ypad": 0,
                "len": max((block_right - block_left) * 0.85, 0.16),
                "xpad": 0,
                "thickness": 10,
                "nticks": 4,
                "tickfont": {"size": 10},
            },
        }
    margin = {"l": 4, "r": 4, "t": 8, "b": 4}
    return CachedFigure(
        data=data,
        layout={
            "height": plot_h + margin["t"] + margin["b"],
            "margin": margin,
            "annotations": notes,
            "uirevision": "neurons",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "meta": {"sizes": sizes, "drawn": drawn, "ranges": ranges},
            **layout_axes,
        },
    )


def _same_grid(trace, maps) -> bool:
    """True when a heatmap trace spans the grid of ``maps``: its points (``x``, ``y``), or
    its start, step and size (``x0``, ``dx``, ``y0``, ``dy`` and the shape of ``z``)."""
    xs, ys = np.asarray(maps.xs, float), np.asarray(maps.ys, float)
    if trace.x is not None:
        return np.array_equal(np.asarray(trace.x, float), xs) and (
            np.array_equal(np.asarray(trace.y, float), ys)
        )
    z = trace.z
    same_size = z is not None and np.shape(z) == (len(ys), len(xs))
    return same_size and all(trace[k] == v for k, v in grid_steps(maps).items())


def refresh_neuron_maps(fig: go.Figure, maps) -> bool:
    """Put the values of ``maps`` into ``fig``, a ``neuron_maps_figure`` of maps over the same
    grid and with the same layer sizes (the same view of a network of the same shape): each
    map's values and each layer's colour range, in place. The figure then equals one built
    anew from ``maps`` (with the same output names) at a fraction of the cost, as no trace or
    axis is made and checked again. Returns False, changing nothing, when ``fig`` does not fit
    ``maps``.
    """
    layers = [np.asarray(m) for m in maps.layers]
    sizes = [m.shape[2] for m in layers]
    meta = fig.layout.meta
    if not isinstance(meta, dict) or meta.get("sizes") != sizes:
        return False
    drawn = meta.get("drawn")
    if (
        not isinstance(drawn, list)
        or len(drawn) != len(sizes)
        or any(not 1 <= d <= s for d, s in zip(drawn, sizes, strict=True))
        or len(fig.data) != sum(drawn)
        or not _same_grid(fig.data[0], maps)
    ):
        return False
    ranges = [list(layer_range(values)) for values in layers]
    zs = [
        values[:, :, k].astype(np.float32)
        for values, shown in zip(layers, drawn, strict=True)
        for k in range(shown)
    ]
    relayout = {"meta": {**meta, "ranges": ranges}}
    for c, (lo, hi) in enumerate(ranges):
        relayout[f"{_coloraxis(c)}.cmin"], relayout[f"{_coloraxis(c)}.cmax"] = lo, hi
    # One update for all the maps: a sixth of the time of setting each trace's z in turn, as
    # plotly checks the property names but not the values again (arrays of the same kind as
    # the build's, which checked them).
    update_values(fig, {"z": zs}, relayout, list(range(len(zs))))
    return True


def neuron_map_figure(
    maps,
    layer: int,
    neuron: int,
    class_names: list[str] | None = None,
    train=None,
    test=None,
    sample=None,
    axis_names: tuple[str, str] = ("x1", "x2"),
    output_names=None,
    target_name: str = "y",
    max_points: int = MAX_POINTS,
) -> go.Figure:
    """One neuron's map drawn large (0-based ``layer`` and ``neuron`` of ``maps``), on its
    layer's colour range as in ``neuron_maps_figure``, with the data on top.

    ``train`` and ``test`` are pairs ``(X2, y)`` of the two plotted columns and the targets:
    class labels coloured by class when ``class_names`` is given, else numbers coloured on a
    second scale (regression). ``sample`` is one point ``(x, y)``. Trace order: the map, the
    training points (per class), the test points (per class), the sample.
    """
    layers = maps.layers
    if not (0 <= layer < len(layers) and 0 <= neuron < layers[layer].shape[2]):
        raise ValueError(f"no neuron {neuron + 1} in layer {layer + 1}")
    xs, ys = np.asarray(maps.xs, float), np.asarray(maps.ys, float)
    lo, hi = layer_range(layers[layer])
    title = neuron_title(layer, neuron, len(layers), output_names)
    fig = CachedFigure()
    fig.add_trace(
        go.Heatmap(
            z=np.asarray(layers[layer][:, :, neuron], dtype=np.float32),
            x=xs,
            y=ys,
            zsmooth="best",
            coloraxis="coloraxis",
            name=title,
            hovertemplate=f"(%{{x:.3g}}, %{{y:.3g}}): {title} %{{z:.3f}}<extra></extra>",
        )
    )
    regression = class_names is None
    names = [] if regression else labels(list(class_names))
    for part, symbol, data in (("training", "circle", train), ("test", "diamond", test)):
        points = _points(data, max_points)
        if points is None:
            continue
        X2, y = points
        outline = {"color": "white" if part == "training" else "black", "width": 1.5}
        size = 8 if part == "training" else 10
        if regression:
            fig.add_trace(_valued_points(points, part, symbol, "coloraxis2", label(target_name)))
            continue
        for c in np.unique(y.astype(int)).tolist():
            mask = y == c
            name = names[c] if c < len(names) else f"class {c}"
            fig.add_trace(
                go.Scattergl(
                    x=X2[mask, 0],
                    y=X2[mask, 1],
                    mode="markers",
                    # one legend entry per class (it shows and hides both parts); the caption
                    # tells circles (training) from diamonds (test)
                    name=name if part == "training" else f"{name} (test)",
                    legendgroup=f"class {c}",
                    showlegend=part == "training",
                    marker={
                        "color": class_color(c),
                        "symbol": symbol,
                        "size": size,
                        "line": outline,
                    },
                    hovertemplate=f"{name} ({part}): (%{{x:.3g}}, %{{y:.3g}})<extra></extra>",
                )
            )
    if sample is not None:
        fig.add_trace(_sample_trace(sample, "your sample: (%{x:.3g}, %{y:.3g})"))
    coloraxes = {
        "coloraxis": {
            "colorscale": NEURON_SCALE,
            "cmin": lo,
            "cmax": hi,
            # below the map, across: beside it, it would take a third of a narrow column
            "colorbar": {
                "title": {"text": title, "side": "top"},
                "orientation": "h",
                "thickness": 12,
                "len": 0.8,
                "x": 0.5,
                "xanchor": "center",
                "y": -0.22,
                "yanchor": "top",
            },
        }
    }
    if regression:
        targets = [p[1] for p in (_points(d, max_points) for d in (train, test)) if p is not None]
        shown = np.concatenate(targets) if targets else np.zeros(1)
        t_lo, t_hi = float(shown.min()), float(shown.max())
        coloraxes["coloraxis2"] = {
            "colorscale": "Greys",
            "cmin": t_lo,
            "cmax": t_hi if t_hi > t_lo else t_lo + 1.0,
            "colorbar": {"title": {"text": label(target_name)}, "thickness": 12, "len": 0.7},
        }
    fig.update_layout(
        height=520,
        margin=MARGIN,
        uirevision="neuron",
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        **coloraxes,
        **_grid_axes(xs, ys, axis_names),
    )
    return fig


def refresh_neuron_map(fig: go.Figure, maps, layer: int, neuron: int, output_names=None) -> bool:
    """Put the values of ``maps`` into ``fig``, a ``neuron_map_figure`` of the same neuron
    (0-based ``layer`` and ``neuron``, named with the same ``output_names``) over the same
    grid: the map's values and its colour range, in place; the data points stay. Returns
    False, changing nothing, when ``fig`` does not show that neuron over that grid."""
    layers = maps.layers
    if not (0 <= layer < len(layers) and 0 <= neuron < layers[layer].shape[2]) or not fig.data:
        return False
    first = fig.data[0]
    title = neuron_title(layer, neuron, len(layers), output_names)
    if first.type != "heatmap" or first.name != title or not _same_grid(first, maps):
        return False
    lo, hi = layer_range(layers[layer])
    z = np.asarray(layers[layer][:, :, neuron], dtype=np.float32)
    update_values(fig, {"z": [z]}, {"coloraxis.cmin": lo, "coloraxis.cmax": hi}, [0])
    return True


def _box_stats(rows: np.ndarray) -> dict[str, np.ndarray]:
    """A box per column of ``rows`` (n, neurons): its quartiles, median, mean and extremes."""
    q1, median, q3 = np.percentile(rows, [25, 50, 75], axis=0)
    return {
        "q1": q1,
        "median": median,
        "q3": q3,
        "lowerfence": rows.min(axis=0),
        "upperfence": rows.max(axis=0),
        "mean": rows.mean(axis=0),
    }


def neuron_distributions_figure(
    values,
    groups,
    group_names: list[str],
    output_names=None,
    max_per_layer: int = MAX_NEURONS,
) -> go.Figure:
    """Each neuron's activations on the data rows as boxes, one per group (class), one row of
    boxes per layer: the view for data with more features than a plane shows.

    ``values`` is an ``nn.inspect.NeuronValues``; ``groups`` (n,) holds each row's group index
    (its class) and ``group_names`` the groups' names. A box spans a group's middle half (first
    to third quartile, the line at the median, the dashed line at the mean) and its whiskers
    the group's lowest to highest value; the statistics are computed here, so the figure's size
    does not grow with the rows. One box trace per group and layer; at most ``max_per_layer``
    neurons per layer (the first ones). ``fig.layout.meta`` holds ``sizes`` and ``drawn``.
    """
    if max_per_layer < 1:
        raise ValueError("max_per_layer must be at least 1")
    layers = [np.asarray(v, dtype=float) for v in values.layers]
    groups = np.asarray(groups).astype(int).reshape(-1)
    if not layers or any(len(v) != len(groups) for v in layers):
        raise ValueError("groups must give one group per row of values")
    names = labels(list(group_names))
    n_layers = len(layers)
    output_last = bool(getattr(values, "output", True))
    sizes = [v.shape[1] for v in layers]
    drawn = [min(s, max_per_layer) for s in sizes]
    row_px, gap_px = 200, 72
    plot_h = n_layers * (row_px + gap_px)
    data, axes, notes = [], {}, []
    present = [g for g in range(len(names)) if np.any(groups == g)]
    for i, (v, shown) in enumerate(zip(layers, drawn, strict=True)):
        suffix = _axis_suffix(i)
        is_output = output_last and i == n_layers - 1
        ticks = [
            neuron_title(n_layers - 1, k, n_layers, output_names).removeprefix("output · ")
            if is_output
            else str(k + 1)
            for k in range(shown)
        ]
        for g in present:
            data.append(
                go.Box(
                    x=ticks,
                    **_box_stats(v[groups == g, :shown]),
                    name=names[g],
                    legendgroup=names[g],
                    showlegend=i == 0,
                    offsetgroup=str(g),
                    marker={"color": class_color(g)},
                    xaxis=f"x{suffix}",
                    yaxis=f"y{suffix}",
                )
            )
        top = i * (row_px + gap_px) + gap_px
        title = values.activations[i] if i < len(values.activations) else ""
        if is_output:
            head = f"outputs ({title})"
        else:
            head = f"layer {i + 1} ({title}): neurons 1 to {shown}"
            head += f" of {sizes[i]}" if shown < sizes[i] else ""
        axes[f"xaxis{suffix}"] = {
            "domain": [0, 1],
            "anchor": f"y{suffix}",
            "type": "category",
            "fixedrange": True,
        }
        axes[f"yaxis{suffix}"] = {
            "domain": [1 - (top + row_px) / plot_h, 1 - top / plot_h],
            "anchor": f"x{suffix}",
            "fixedrange": True,
            "zeroline": False,
            "title": {"text": "activation", "font": {"size": 11}},
        }
        notes.append(
            {
                "x": 0,
                "y": 1 - (top - 6) / plot_h,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "left",
                "yanchor": "bottom",
                "text": f"<b>{head}</b>",
                "showarrow": False,
            }
        )
    margin = {"l": 10, "r": 10, "t": 30, "b": 10}
    return CachedFigure(
        data=data,
        layout={
            "height": plot_h + margin["t"] + margin["b"],
            "margin": margin,
            "boxmode": "group",
            "annotations": notes,
            "uirevision": "distributions",
            "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1, "yanchor": "bottom"},
            "meta": {"sizes": sizes, "drawn": drawn},
            **axes,
        },
    )


def refresh_neuron_distributions(fig: go.Figure, values, groups, group_names: list[str]) -> bool:
    """Put the statistics of ``values`` into ``fig``, a ``neuron_distributions_figure`` of the
    same layer sizes and the same rows' ``groups`` (the same view of a network of the same
    shape), in place: every box's quartiles, median, mean and extremes, in one update. The
    figure then equals one built anew at a fraction of the cost. Returns False, changing
    nothing, when ``fig`` does not fit."""
    layers = [np.asarray(v, dtype=float) for v in values.layers]
    groups = np.asarray(groups).astype(int).reshape(-1)
    meta = fig.layout.meta
    sizes = [v.shape[1] for v in layers]
    if any(len(v) != len(groups) for v in layers) or not isinstance(meta, dict):
        return False
    drawn = meta.get("drawn")
    if meta.get("sizes") != sizes or not isinstance(drawn, list) or len(drawn) != len(sizes):
        return False
    names = labels(list(group_names))
    present = [g for g in range(len(names)) if np.any(groups == g)]
    expected = [(str(g), names[g]) for _ in layers for g in present]
    if [(t.offsetgroup, t.name) for t in fig.data] != expected:
        return False
    boxes = [
        _box_stats(v[groups == g, :shown])
        for v, shown in zip(layers, drawn, strict=True)
        for g in present
    ]
    if any(len(box["median"]) != len(trace.x) for box, trace in zip(boxes, fig.data, strict=True)):
        return False
    update = {key: [box[key] for box in boxes] for key in boxes[0]} if boxes else {}
    update_values(fig, update, {}, list(range(len(boxes))))
    return True
