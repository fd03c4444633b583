"""Figures and tables for seeing inside a network: decision surfaces, a living diagram of the
weights, run comparisons and a settings diff. Pure functions from arrays to plotly figures or
pandas frames; no Streamlit. Names from data are escaped with ``charts.safe`` before plotly
sees them (it renders a subset of HTML in labels and hovers).
"""

from __future__ import annotations

import itertools
import json
import warnings

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb

from dashboard.charts import MARGIN, class_color, downsample, label, labels, safe

MAX_POINTS = 1_000  # data points drawn per part on a decision surface
MAX_EDGES = 300  # edges drawn between two layers of the network diagram
POSITIVE, NEGATIVE = "#2166ac", "#b2182b"  # edge colours, the ends of the "RdBu" node scale
EDGE_WIDTHS = (0.6, 1.4, 2.6, 4.5)  # by quarter of the largest |w|
RUN_COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


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
        fig.add_trace(
            go.Scatter(
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
                hovertemplate="your sample: (%{x:.3g}, %{y:.3g})<extra></extra>",
            )
        )
    fig.update_layout(
        height=480,
        margin=MARGIN,
        uirevision="surface",
        legend={"orientation": "h", "y": -0.15},
        xaxis={
            "title": label(axis_names[0]),
            "range": [xs[0] - dx / 2, xs[-1] + dx / 2],
            "showgrid": False,
            "zeroline": False,
        },
        yaxis={
            "title": label(axis_names[1]),
            "range": [ys[0] - dy / 2, ys[-1] + dy / 2],
            "autorange": False,
            "showgrid": False,
            "zeroline": False,
        },
    )
    return fig


# ---- living network diagram ----


def _node_ys(size: int) -> np.ndarray:
    if size == 1:
        return np.zeros(1)
    return np.linspace(1.0, -1.0, size) * min(1.0, 0.25 + size / 16)


def _node_name(layer: int, n_layers: int, i: int, feature_names, class_names) -> str:
    if layer == 0:
        if feature_names is not None and i < len(feature_names):
            return f"input {safe(feature_names[i], 40)}"
        return f"input {i + 1}"
    if layer == n_layers - 1:
        if class_names is not None and i < len(class_names):
            return f"output {safe(class_names[i], 40)}"
        return f"output {i + 1}"
    return f"layer {layer} node {i + 1}"


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
    ys = [_node_ys(s) for s in sizes]
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
            src = _node_name(layer, n_layers, i, feature_names, class_names)
            dst = _node_name(layer + 1, n_layers, j, feature_names, class_names)
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
                _node_name(0, n_layers, i, feature_names, class_names) for i in range(sizes[0])
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
            name = _node_name(layer, n_layers, i, feature_names, class_names)
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
        {
            "x": layer,
            "y": -1.3,
            "text": "input" if layer == 0 else "output" if layer == n_layers - 1 else "hidden",
            "showarrow": False,
            "font": {"size": 12},
        }
        for layer in range(n_layers)
    ]
    fig.update_layout(
        height=420,
        margin=MARGIN,
        uirevision="weights",
        meta={"edges_drawn": drawn, "edges_total": total},
        annotations=captions + notes,
        legend={"orientation": "h", "y": 1.12, "x": 0},
        xaxis={"visible": False, "range": [-0.4, n_layers - 0.6]},
        yaxis={"visible": False, "range": [-1.4, 1.3]},
        plot_bgcolor="rgba(0,0,0,0)",
    )
    return fig


# ---- run comparison ----


def _records(history) -> list[dict]:
    if isinstance(history, pd.DataFrame):
        return history.to_dict("records")
    return [r.as_dict() if hasattr(r, "as_dict") else dict(r) for r in history]


def run_comparison_figure(runs, metric: str = "loss", max_points: int = 400) -> go.Figure:
    """Curves of several runs on one chart: training solid, validation dashed, one colour each.

    ``runs`` is a list of ``(name, history)`` with histories of ``EpochRecord`` objects, their
    dicts, or a history table. ``metric`` is "loss" or "accuracy".
    """
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"metric must be 'loss' or 'accuracy', got {metric!r}")
    fig = go.Figure()
    for r, (name, history) in enumerate(runs):
        records = _records(history)
        records = [records[i] for i in downsample(len(records), max_points)]
        color = RUN_COLORS[r % len(RUN_COLORS)]
        epochs = [rec["epoch"] for rec in records]
        for part, dash in (("train", "solid"), ("val", "dash")):
            values = [rec.get(f"{part}_{metric}") for rec in records]
            if not values or all(v is None for v in values):
                continue
            title = f"{safe(name, 40)} ({'training' if part == 'train' else 'validation'})"
            fig.add_trace(
                go.Scatter(
                    x=epochs,
                    y=values,
                    mode="lines",
                    name=title,
                    legendgroup=str(r),
                    line={"color": color, "dash": dash},
                    hovertemplate="epoch %{x}: %{y:.4f}<extra>" + title + "</extra>",
                )
            )
    fig.update_layout(
        height=380,
        margin=MARGIN,
        xaxis={"title": "epoch"},
        yaxis={"title": metric, **({"range": [0, 1.02]} if metric == "accuracy" else {})},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def seed_summary(histories, key: str) -> pd.DataFrame:
    """Mean, minimum and maximum of ``key`` (e.g. "val_loss") per epoch over several runs.

    Runs of different lengths (early stopping) count where they have that epoch; ``runs``
    says how many did.
    """
    frames = []
    for i, history in enumerate(histories):
        records = _records(history)
        frames.append(
            pd.DataFrame(
                {
                    "epoch": [r["epoch"] for r in records],
                    "run": i,
                    "value": [r.get(key) for r in records],
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["epoch", "mean", "min", "max", "runs"])
    data = pd.concat(frames).dropna(subset=["value"])
    data["value"] = data["value"].astype(float)
    grouped = data.groupby("epoch")["value"]
    out = pd.DataFrame(
        {"mean": grouped.mean(), "min": grouped.min(), "max": grouped.max(), "runs": grouped.size()}
    )
    return out.reset_index()


def seed_band_figure(histories, metric: str = "loss") -> go.Figure:
    """Mean curve and min-max band over several runs (e.g. five seeds), training and validation.

    Per part three traces: the band's lower edge, its upper edge (filled down to the lower),
    and the mean line.
    """
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"metric must be 'loss' or 'accuracy', got {metric!r}")
    fig = go.Figure()
    for part, name, color in (
        ("train", "training", RUN_COLORS[0]),
        ("val", "validation", RUN_COLORS[1]),
    ):
        summary = seed_summary(histories, f"{part}_{metric}")
        if summary.empty:
            continue
        r, g, b = hex_to_rgb(color)
        epochs = summary["epoch"].tolist()
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=summary["min"].tolist(),
                mode="lines",
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                legendgroup=part,
                name=f"{name} min",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=summary["max"].tolist(),
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=f"rgba({r},{g},{b},0.2)",
                hoverinfo="skip",
                legendgroup=part,
                name=f"{name} range",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=summary["mean"].tolist(),
                mode="lines",
                line={"color": color, "dash": "solid" if part == "train" else "dash"},
                legendgroup=part,
                name=f"{name} mean",
                hovertemplate="epoch %{x}: mean %{y:.4f}<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        height=380,
        margin=MARGIN,
        xaxis={"title": "epoch"},
        yaxis={"title": metric, **({"range": [0, 1.02]} if metric == "accuracy" else {})},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


# ---- settings diff ----


def flatten(settings: dict, prefix: str = "") -> dict:
    """Nested settings as one level with dotted keys; lists become JSON text (comparable)."""
    flat = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            flat[name] = json.dumps(list(value), default=str)
        elif isinstance(value, np.generic):
            flat[name] = value.item()
        else:
            flat[name] = value
    return flat


def settings_table(
    settings_list: list[dict], names: list[str] | None = None, metrics: list[dict] | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    """One row per run with its settings (dotted column names) and then its metrics.

    Returns the table and a boolean mask over its columns: True where the runs' settings
    differ (a setting missing from a run counts as different). Metric columns are never
    marked.
    """
    names = names or [f"run {i + 1}" for i in range(len(settings_list))]
    if len(names) != len(settings_list):
        raise ValueError("give one name per run")
    flat = [flatten(s) for s in settings_list]
    columns = list(dict.fromkeys(itertools.chain.from_iterable(flat)))
    table = pd.DataFrame([[f.get(c) for c in columns] for f in flat], columns=columns, index=names)
    mask = pd.Series(
        {c: len({json.dumps(v, default=str) for v in table[c].tolist()}) > 1 for c in columns},
        dtype=bool,
    )
    if metrics is not None:
        if len(metrics) != len(settings_list):
            raise ValueError("give one metrics dict per run")
        extra = pd.DataFrame([flatten(m) for m in metrics], index=names)
        extra = extra[[c for c in extra.columns if c not in table.columns]]
        table = pd.concat([table, extra], axis=1)
        mask = pd.concat([mask, pd.Series(False, index=extra.columns, dtype=bool)])
    table.index.name = "run"
    return table, mask


def highlight_differences(table: pd.DataFrame, mask: pd.Series, color: str = "#fff3b0"):
    """A pandas Styler that shades the columns whose settings differ (for ``st.dataframe``)."""
    differing = [c for c in table.columns if bool(mask.get(c, False))]

    def shade(column: pd.Series) -> list[str]:
        return [f"background-color: {color}"] * len(column)

    return table.style.apply(shade, subset=differing) if differing else table.style


# ---- the trust panel's reference models ----

SKLEARN_ACTIVATIONS = {
    "sigmoid": "logistic",
    "tanh": "tanh",
    "relu": "relu",
    "leaky_relu": "relu",
    "linear": "identity",
}


def sklearn_baselines(
    X_train, y_train, X_test, y_test, config: dict, training: dict, seed: int = 0
) -> dict[str, float]:
    """Test accuracy of scikit-learn's ``MLPClassifier`` (our architecture and optimizer as
    closely as it allows) and ``LogisticRegression``, trained on the same split.

    MLPClassifier has one activation for all hidden layers (the first one's is used), no leaky
    ReLU (plain ReLU stands in), and always a softmax/logistic output with cross-entropy; it is
    a reference, not a twin. ``X_train`` and ``X_test`` are the rows our network sees.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    hidden = list(config["layers"][1:-1])
    acts = config["activation"]
    act = acts if isinstance(acts, str) else (acts[0] if acts else "relu")
    optimizer = training.get("optimizer", "sgd")
    epochs = max(1, int(training.get("epochs", 100)))
    mlp = MLPClassifier(
        hidden_layer_sizes=tuple(hidden),
        activation=SKLEARN_ACTIVATIONS.get(act, "relu"),
        solver="adam" if optimizer == "adam" else "sgd",
        learning_rate_init=float(training.get("learning_rate", 0.001)),
        batch_size=min(int(training.get("batch_size", 32)), len(X_train)),
        momentum=float(training.get("momentum", 0.9)) if optimizer == "momentum" else 0.0,
        nesterovs_momentum=bool(training.get("nesterov", False)),
        alpha=float(training.get("l2", 0.0)),
        max_iter=epochs,
        shuffle=bool(training.get("shuffle", False)),
        n_iter_no_change=epochs + 1,
        tol=0.0,
        random_state=seed,
    )
    logistic = LogisticRegression(max_iter=2000)
    scores = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, model in (("MLPClassifier", mlp), ("LogisticRegression", logistic)):
            model.fit(X_train, y_train)
            scores[name] = float(np.mean(model.predict(X_test) == np.asarray(y_test)))
    return scores


# ---- backprop, step by step, as formulas with the numbers filled in ----

ACTIVATION_TEX = {
    "sigmoid": r"\sigma",
    "tanh": r"\tanh",
    "relu": r"\mathrm{ReLU}",
    "leaky_relu": r"\mathrm{LeakyReLU}",
    "linear": r"\mathrm{id}",
    "softmax": r"\mathrm{softmax}",
}
MAX_TEX_ENTRIES = 5  # entries per row or column written out; the rest become dots


def _num(value: float) -> str:
    text = f"{value:.3g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa}\times 10^{{{int(exponent)}}}"
    return text


def tex_vector(values, max_entries: int = MAX_TEX_ENTRIES) -> str:
    """A row vector in LaTeX, with dots after ``max_entries`` entries."""
    values = np.asarray(values, dtype=float).ravel()
    cells = [_num(v) for v in values[:max_entries]]
    if len(values) > max_entries:
        cells.append(r"\cdots")
    return r"\begin{bmatrix}" + " & ".join(cells) + r"\end{bmatrix}"


def tex_matrix(values, max_entries: int = MAX_TEX_ENTRIES) -> str:
    """A matrix in LaTeX, cut to ``max_entries`` rows and columns with dots."""
    values = np.asarray(values, dtype=float)
    rows = []
    for row in values[:max_entries]:
        cells = [_num(v) for v in row[:max_entries]]
        if values.shape[1] > max_entries:
            cells.append(r"\cdots")
        rows.append(" & ".join(cells))
    if values.shape[0] > max_entries:
        dots = [r"\vdots"] * min(values.shape[1], max_entries)
        rows.append(" & ".join(dots + ([r"\ddots"] if values.shape[1] > max_entries else [])))
    return r"\begin{bmatrix}" + r" \\ ".join(rows) + r"\end{bmatrix}"


def _aligned(*lines: str) -> str:
    return r"\begin{aligned}" + r" \\[2pt] ".join(lines) + r"\end{aligned}"


def backprop_steps(trace) -> list[dict]:
    """The formulas of one backprop step (an ``nn.inspect.BackpropTrace``) with its numbers.

    A list of ``{"title", "latex"}`` in reading order: the forward pass layer by layer, the
    loss, the deltas from the output back, and each layer's gradients and update. Each
    ``latex`` is one ``aligned`` block for ``st.latex``, a few short lines. Long vectors and
    matrices are cut with dots; the full numbers are in the trace.
    """
    steps = []
    last = len(trace.layers)
    a_name = "x"
    for layer in trace.layers:
        n, f = layer.index, ACTIVATION_TEX[layer.activation]
        z, a = rf"z^{{({n})}}", rf"a^{{({n})}}"
        steps.append(
            {
                "title": f"Forward, layer {n}",
                "latex": _aligned(
                    rf"{z} &= {a_name}\,W^{{({n})}} + b^{{({n})}} = {tex_vector(layer.z)}",
                    rf"{a} &= {f}({z}) = {tex_vector(layer.a)}",
                ),
            }
        )
        a_name = a
    if trace.loss_name == "squared_error":
        formula = r"\tfrac{1}{2}\sum_k (a_k - y_k)^2"
    elif trace.output_activation == "softmax":
        formula = r"-\sum_k y_k \log a_k"
    else:
        formula = r"-\sum_k \left[y_k \log a_k + (1 - y_k)\log(1 - a_k)\right]"
    penalty = r" + \tfrac{\lambda}{2}\sum W^2" if trace.l2 else ""
    steps.append(
        {
            "title": "Loss",
            "latex": _aligned(
                rf"a^{{({last})}} &= {tex_vector(trace.output)},"
                rf"\quad y = {tex_vector(trace.target)}",
                rf"L &= {formula}{penalty} = {_num(trace.loss)}",
            ),
        }
    )
    for layer in reversed(trace.layers):
        n, f = layer.index, ACTIVATION_TEX[layer.activation]
        d = rf"\delta^{{({n})}}"
        if layer.grad_a is None:
            latex = _aligned(rf"{d} &= a^{{({n})}} - y = {tex_vector(layer.delta)}")
        else:
            first = (
                rf"(a^{{({n})}} - y)"
                if n == last
                else rf"\left(\delta^{{({n + 1})}} W^{{({n + 1})\top}}\right)"
            )
            latex = _aligned(
                rf"{d} &= {first} \odot {f}'(z^{{({n})}})",
                rf"&= {tex_vector(layer.grad_a)}",
                rf"&\quad\odot {tex_vector(layer.slope)}",
                rf"&= {tex_vector(layer.delta)}",
            )
        steps.append({"title": f"Delta, layer {n}", "latex": latex})
    eta = _num(trace.learning_rate)
    for layer in trace.layers:
        n = layer.index
        a_prev = "x" if n == 1 else rf"a^{{({n - 1})}}"
        dW, W = rf"\tfrac{{\partial L}}{{\partial W^{{({n})}}}}", rf"W^{{({n})}}"
        reg = rf" + \lambda {W}" if trace.l2 else ""
        steps.append(
            {
                "title": f"Gradients and update, layer {n}",
                "latex": _aligned(
                    rf"{dW} &= {{{a_prev}}}^\top \delta^{{({n})}}{reg}"
                    rf" = {tex_matrix(layer.grad_W)}",
                    rf"\tfrac{{\partial L}}{{\partial b^{{({n})}}}} &= \delta^{{({n})}}"
                    rf" = {tex_vector(layer.grad_b)}",
                    rf"{W} &\leftarrow {W} - {eta}\,{dW} = {tex_matrix(layer.W_new)}",
                    rf"b^{{({n})}} &\leftarrow b^{{({n})}} - {eta}\,\delta^{{({n})}}"
                    rf" = {tex_vector(layer.b_new)}",
                ),
            }
        )
    return steps
