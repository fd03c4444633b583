"""The learning-rate schedule as a small curve: the rate of every epoch of the run (no Streamlit).

The Train page draws it under the schedule settings, so that a change of schedule, warm-up or
their parameters shows at once what the run will do. The rates are ``nn.schedules.rate``'s,
the very numbers training uses.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

import nn
from dashboard.common import charts

RATE_COLOR = charts.RATE_COLOR
DONE_COLOR = "#1f77b4"
MAX_POINTS = 400  # epochs drawn at most (first and last always): the figure stays small


def schedule_settings(chosen: dict) -> dict:
    """The settings a curve is drawn from: the schedule's rows of ``chosen`` (the Train page's
    widgets), each checked by its row of the table (a value the table refuses is drawn at its
    default, as training would not run with it)."""
    s = {}
    for name in nn.schedules.SETTINGS:
        setting = nn.config.TRAINING[name]
        try:
            s[name] = setting.check(chosen.get(name, setting.default))
        except ValueError:
            s[name] = setting.default
    return s


def schedule_rates(settings: dict, epochs: int) -> np.ndarray:
    """The rate of each epoch 1..``epochs`` for these training settings (see
    ``schedule_settings``); a cosine over "the run's epochs" spans ``epochs``."""
    s = schedule_settings(settings)
    return np.array(nn.schedules.rates(s, max(int(epochs), 0)), dtype=float)


def schedule_figure(settings: dict, epochs: int, trained: int = 0) -> go.Figure:
    """The rate against the epoch over a run of ``epochs`` epochs, the ``trained`` ones (if
    any) marked: a 160-pixel-high line chart."""
    epochs = max(int(epochs), 1)
    rates = schedule_rates(settings, epochs)
    keep = charts.downsample(epochs, MAX_POINTS)
    x = keep + 1
    traces = [
        go.Scatter(
            x=x,
            y=rates[keep],
            mode="lines",
            name="learning rate",
            line={"color": RATE_COLOR, "shape": "hv" if len(keep) == epochs else "linear"},
            hovertemplate="epoch %{x}: %{y:.4g}<extra></extra>",
            meta="schedule",
        )
    ]
    done = keep[keep < trained]
    if done.size:
        traces.append(
            go.Scatter(
                x=done + 1,
                y=rates[done],
                mode="lines",
                name="trained",
                line={"color": DONE_COLOR, "width": 3, "shape": "hv"},
                hovertemplate="epoch %{x}: %{y:.4g} (trained)<extra></extra>",
                meta="trained",
            )
        )
    top = float(rates.max()) if rates.size else 1.0
    layout = {
        "height": 160,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "title": {
            "text": "Learning rate per epoch",
            "x": 0,
            "xanchor": "left",
            "font": {"size": 13},
        },
        "showlegend": False,
        "xaxis": {"range": [0.5, epochs + 0.5], "title": {"text": "epoch"}},
        "yaxis": {"range": [0, top * 1.08 if top > 0 else 1.0], "tickformat": ".3g"},
    }
    return go.Figure(data=traces, layout=layout)
