"""Comparing runs: their curves on one chart, the spread over seeds, and a settings diff.

Pure functions to plotly figures or pandas frames; no Streamlit. Run names are escaped with
``charts.safe`` before plotly sees them.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb

from dashboard.common.charts import MARGIN, downsample, safe

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


# The per-epoch figures a chart can show: the loss, and each task's figure.
METRICS = ("loss", "accuracy", "r2")
METRIC_TITLES = {"loss": "loss", "accuracy": "accuracy", "r2": "R²"}
R2_FLOOR = -1.0  # an R² axis goes down to the lowest value drawn, but never below this


# ---- run comparison ----


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")


def _r2_range(fig: go.Figure) -> list[float]:
    """An R² axis from a little below the lowest value drawn (down to 0 at least, to
    ``R2_FLOOR`` at most: a network far worse than the mean early on would flatten the climb
    to 1) up to just above 1."""
    values = [
        float(v)
        for trace in fig.data
        for v in (trace.y if trace.y is not None else ())
        if v is not None and np.isfinite(float(v))
    ]
    low = max(min(min(values, default=0.0), 0.0), R2_FLOOR)
    return [low - 0.02, 1.02]


def _epoch_layout(fig: go.Figure, metric: str, log_y: bool = False) -> go.Figure:
    """The layout of every per-epoch comparison chart: epochs across, ``metric`` up (the loss
    on a log scale with ``log_y``, so one run that blew up does not flatten the others)."""
    if metric == "accuracy":
        yaxis = {"title": metric, "range": [0, 1.02]}
    elif metric == "r2":
        yaxis = {"title": METRIC_TITLES[metric], "range": _r2_range(fig)}
    else:
        yaxis = {"title": f"{metric} (log scale)" if log_y else metric}
        yaxis |= {"type": "log"} if log_y else {}
    fig.update_layout(
        height=380,
        margin=MARGIN,
        xaxis={"title": "epoch"},
        yaxis=yaxis,
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def task_note(counts: dict[str, int], shown: str) -> str | None:
    """A sentence when the kept runs are of both tasks (``counts``: runs per task) and only
    those of the task ``shown`` are compared, else None."""
    if len([n for n in counts.values() if n]) < 2:
        return None

    def runs_of(task: str) -> str:
        n = counts.get(task, 0)
        return f"{n} {task} run{'s' * (n != 1)}"

    hidden = " and ".join(runs_of(t) for t, n in counts.items() if t != shown and n)
    return (
        "Accuracy and R² measure different things, so runs are compared with runs of the same "
        f"task: the {runs_of(shown)} here; pick the other task above for the {hidden}."
    )


def data_differences(settings_list: list[dict]) -> str | None:
    """A sentence when runs were trained on different data or splits (their test figures then
    measure different things), else None. ``settings_list``: the runs' ``describe`` dicts."""
    datasets = list(dict.fromkeys(str(s.get("data", {}).get("dataset")) for s in settings_list))
    if len(datasets) > 1:
        return (
            f"These runs were trained on different datasets ({', '.join(datasets)}): compare "
            "their curves with care, and not their test figures."
        )
    splits = {json.dumps(s.get("split"), sort_keys=True, default=str) for s in settings_list}
    if len(splits) > 1:
        return (
            "These runs used different splits or scaling of the data: their test rows differ, "
            "so their test figures are not measured on the same rows."
        )
    return None


def _records(history) -> list[dict]:
    if isinstance(history, pd.DataFrame):
        return history.to_dict("records")
    return [r.as_dict() if hasattr(r, "as_dict") else dict(r) for r in history]


def run_comparison_figure(
    runs, metric: str = "loss", max_points: int = 400, log_y: bool = False
) -> go.Figure:
    """Curves of several runs on one chart: training solid, validation dashed, one colour each.

    ``runs`` is a list of ``(name, history)`` with histories of ``EpochRecord`` objects, their
    dicts, or a history table. ``metric`` is "loss", "accuracy" or "r2" (regression runs).
    """
    _check_metric(metric)
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
    return _epoch_layout(fig, metric, log_y)


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


def seed_band_figure(histories, metric: str = "loss", log_y: bool = False) -> go.Figure:
    """Mean curve and min-max band over several runs (e.g. five seeds), training and validation.

    Per part three traces: the band's lower edge, its upper edge (filled down to the lower),
    and the mean line. ``metric`` is "loss", "accuracy" or "r2".
    """
    _check_metric(metric)
    fig = go.Figure()
    for part, name, color in (
        ("train", "training", RUN_COLORS[0]),
        ("val", "validation", RUN_COLORS[1]),
    ):
        summary = seed_summary(histories, f"{part}_{metric}")
        if summary.empty:
            continue
        _add_band(
            fig,
            summary["epoch"].tolist(),
            (summary["min"], summary["max"], summary["mean"]),
            part,
            color,
            (f"{name} min", f"{name} range", f"{name} mean"),
            hovertemplate="epoch %{x}: mean %{y:.4f}<extra>" + name + "</extra>",
        )
    return _epoch_layout(fig, metric, log_y)


def _add_band(fig, x, lines, part: str, color: str, names, hovertemplate: str, **mean_style):
    """A band and its middle line: ``lines`` is (lower edge, upper edge, middle); the upper
    edge is filled down to the lower one in ``color``, the middle drawn solid for the
    training part and dashed for the other; ``names`` name the three traces."""
    lower, upper, middle = (np.asarray(v, dtype=float).tolist() for v in lines)
    r, g, b = hex_to_rgb(color)
    edge = {"mode": "lines", "line": {"width": 0}, "hoverinfo": "skip", "legendgroup": part}
    fig.add_trace(go.Scatter(x=x, y=lower, showlegend=False, name=names[0], **edge))
    fig.add_trace(
        go.Scatter(
            x=x, y=upper, fill="tonexty", fillcolor=f"rgba({r},{g},{b},0.2)", name=names[1], **edge
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=middle,
            mode=mean_style.pop("mode", "lines"),
            line={"color": color, "dash": "solid" if part == "train" else "dash"},
            legendgroup=part,
            name=names[2],
            hovertemplate=hovertemplate,
            **mean_style,
        )
    )


def learning_curve_figure(points: list[dict], metric: str) -> go.Figure:
    """The score against the number of training rows (``nn.crossval.LearningCurve.points``):
    on the rows each network trained on and on the fold's held-out rows, each the mean over
    the folds with a band of one standard deviation. ``metric`` is "accuracy" or "r2"."""
    _check_metric(metric)
    fig = go.Figure()
    x = [p["n_train"] for p in points]
    for part, name, color in (
        ("train", "training rows", RUN_COLORS[0]),
        ("test", "held-out rows", RUN_COLORS[1]),
    ):
        mean = np.array([p[f"{part}_mean"] for p in points])
        std = np.array([p[f"{part}_std"] for p in points])
        # neither figure exceeds 1, and an accuracy is never below 0: the band stops there
        upper = np.minimum(mean + std, 1.0)
        lower = np.maximum(mean - std, 0.0) if metric == "accuracy" else mean - std
        _add_band(
            fig,
            x,
            (lower, upper, mean),
            part,
            color,
            (f"{name} - 1 std", f"{name} ± 1 std", f"{name}, mean"),
            hovertemplate="%{x:.0f} rows: %{y:.3f} ± %{customdata:.3f}<extra>" + name + "</extra>",
            mode="lines+markers",
            customdata=std,
        )
    fig.update_layout(
        height=380,
        margin=MARGIN,
        xaxis_title="training rows",
        yaxis_title=METRIC_TITLES[metric],
        legend={"orientation": "h", "y": -0.25},
        hovermode="x unified",
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
