"""Views inside the network: decision surface (for regression the fitted curve or the value
surface), every neuron's map, living diagram, health, backprop step, trust checks.

The numbers come from ``nn.inspect`` and the figures from ``dashboard.inside``; this module picks
the data, draws the widgets and keeps heavy figures to about one redraw a second while training.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import nn
import nn.inspect
from dashboard import state
from dashboard.common.charts import downsample
from dashboard.common.page_ui import bind
from dashboard.common.text import display_name, md_escape
from dashboard.compare import baselines
from dashboard.inside import backprop, figures
from dashboard.predict import results
from dashboard.training import loop, train_ui

SURFACE, NEURONS, NETWORK, HEALTH, BACKPROP, TRUST = (
    "Decision surface",
    "Neurons",
    "Network",
    "Health",
    "Backprop step",
    "Trust",
)
# A regression network's first view: its prediction along one feature, or over two.
CURVE, VALUE_SURFACE = "Fitted curve", "Value surface"
VIEWS = (SURFACE, NEURONS, NETWORK, HEALTH, BACKPROP, TRUST)  # a classifier's; see ``views``
SURFACES = (SURFACE, CURVE, VALUE_SURFACE)
# The views the Train page offers to watch live (the surface's label follows the task:
# ``view_label``); the Inside page's first four tabs follow training too.
LIVE_VIEWS = (SURFACE, NEURONS, NETWORK, HEALTH)
REFRESH_S = 1.0  # heavy figures are rebuilt at most this often while training runs
FIGURES = state.INSIDE_FIGURES
FEATURES = state.INSIDE_FEATURES
LAST_STEP = state.INSIDE_LAST_STEP
TRUST_RESULT = state.INSIDE_TRUST
GRID_BUDGET = 2e8  # grid rows x network parameters per surface; sets the resolution
MAX_RESOLUTION = 100
MIN_RESOLUTION = 30
LEGEND_BELOW = 4  # with more classes the surface's legend goes beside the plot
MAX_ASPECT = 3.0  # equal units on both axes of a surface only while their spans are this close
SKLEARN_UPDATES = 60_000  # at most this many scikit-learn batch updates (epochs are capped)
T = TypeVar("T")
MODE_LABELS = {"soft": "Soft (probabilities)", "hard": "Hard (predicted class)"}
CURVE_POINTS = 300  # points along a fitted curve


# ---- the task's views ----


def is_regression(net: nn.Network | None = None) -> bool:
    """True when the network (else the current dataset) predicts a number."""
    if net is not None:
        return net.task == nn.task.REGRESSION
    return bool(state.dataset().is_regression)


def numeric_axes(dataset) -> list[int]:
    """The features that can span an axis: the numeric ones (a category has no axis)."""
    return [j for j, kind in enumerate(dataset.feature_kinds().values()) if kind == "numeric"]


def surface_label(net: nn.Network | None = None) -> str:
    """The first view's name: a classifier's decision surface, or for regression the fitted
    curve (one numeric feature) or the value surface (two or more)."""
    if not is_regression(net):
        return SURFACE
    return CURVE if len(numeric_axes(state.dataset())) < 2 else VALUE_SURFACE


def views(net: nn.Network | None = None) -> tuple[str, ...]:
    """The Inside page's tabs for this network's task."""
    return (surface_label(net), *VIEWS[1:])


def view_label(view: str, net: nn.Network | None = None) -> str:
    """How a view is named for this network (the surface follows the task)."""
    return surface_label(net) if view in SURFACES else view


def ensure_target_scale(trainer: loop.Trainer) -> None:
    """Give an untrained regression network the target scale its first epoch would fit (the
    mean and standard deviation of the training targets), so that its outputs read in the
    target's units from the start. Training then keeps it, exactly as if it had fitted it."""
    net = trainer.net
    if net.task != nn.task.REGRESSION or net.target_scaler is not None or not len(trainer.y_train):
        return
    task = nn.task.get(net.task)
    net.target_scaler = task.fit_scaler(trainer.y_train, len(trainer.y_train), net.n_outputs)


# ---- throttling ----


def progress_key(net: nn.Network) -> tuple:
    """Changes whenever the weights do: the network, its epochs and the steps made by hand."""
    return (id(net), net.epochs_trained, state.manual_steps(net))


def throttled(slot: str, what: tuple, net: nn.Network, running: bool, build: Callable[[], T]) -> T:
    """``build()``, or the value built for ``slot`` less than ``REFRESH_S`` ago while training.

    ``what`` names what is shown (view options, dataset); a change of it rebuilds at once, as
    does any change of the weights when training is not running.
    """
    cache = st.session_state.setdefault(FIGURES, {})
    entry = cache.get(slot)
    now = time.monotonic()
    progress = progress_key(net)
    fresh = entry is not None and entry["what"] == what
    if fresh and (entry["progress"] == progress or (running and now - entry["time"] < REFRESH_S)):
        return entry["value"]
    value = build()
    cache[slot] = {"what": what, "progress": progress, "time": now, "value": value}
    return value


def last_built(slot: str, what: tuple):
    """The value ``throttled`` last built for ``slot`` while it showed ``what``, else None."""
    entry = st.session_state.get(FIGURES, {}).get(slot)
    return entry["value"] if entry is not None and entry["what"] == what else None


# ---- decision surface (classes), fitted curve and value surface (regression) ----


def default_features(X, y, regression: bool = False) -> tuple[int, int]:
    """The two features whose class means differ most relative to their spread; for a
    regression target, the two most correlated with it (either sign)."""
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    if X.shape[1] <= 2:
        return 0, 1
    spread = X.std(axis=0)
    if regression:
        target = np.asarray(y, dtype=float).reshape(len(y), -1)[:, 0]
        centred = (X - X.mean(axis=0)) * (target - target.mean())[:, None]
        scale = spread * target.std()
        score = np.abs(
            np.divide(centred.mean(axis=0), scale, out=np.zeros(len(spread)), where=scale > 0)
        )
    else:
        means = np.stack([X[y == k].mean(axis=0) for k in np.unique(y)])
        score = np.where(spread > 0, means.std(axis=0) / np.where(spread > 0, spread, 1.0), 0.0)
    first, second = np.argsort(-score, kind="stable")[:2]
    return int(first), int(second)


def resolution(net: nn.Network) -> int:
    """Grid points per axis so that one surface costs about the same for any network size."""
    side = int(math.sqrt(GRID_BUDGET / max(net.n_params, 1)))
    return max(MIN_RESOLUTION, min(MAX_RESOLUTION, side))


def surface_options_ui(prefix: str, colours: bool = True, pickers: list | None = None) -> dict:
    """The first view's options: its ``kind`` ("classes", or for regression "curve" over one
    numeric feature or "values" over two), the soft/hard toggle (classes) and, for tabular
    data, the feature(s) on the axes (``features``, None when there are too few).

    ``colours`` False leaves out the soft/hard toggle (views of the same plane that are not
    the surface); ``pickers`` are two containers to draw the feature pickers in (default: a
    new row of columns). The pickers' keys depend on ``prefix`` alone, so the views of one
    page that call this share their plane.
    """
    dataset, split = state.dataset(), state.split()
    names = [str(f) for f in dataset.feature_names]
    version = st.session_state[state.DATA_VERSION]
    axes = numeric_axes(dataset)
    regression = bool(dataset.is_regression)
    if regression and len(axes) < 2:
        return {"kind": "curve", "mode": "soft", "features": tuple(axes[:1]) or None}
    kind = "values" if regression else "classes"
    options = {
        "kind": kind,
        "mode": "soft",
        "features": tuple(axes[:2]) if len(axes) >= 2 else None,
    }
    plain = regression or not colours  # no soft/hard toggle
    if len(names) < 2 or len(axes) < 2 or (plain and len(axes) == 2):
        return options
    if plain:
        pickers = pickers if pickers is not None else st.columns(2)
    else:
        cols = st.columns([2, 2, 2] if len(names) > 2 else [2, 4])
        pickers = cols[1:] if pickers is None else pickers
        mode_key = f"{prefix}.surface_mode"
        bind(mode_key, "soft")
        mode = cols[0].segmented_control(
            "Colours",
            list(MODE_LABELS),
            format_func=MODE_LABELS.get,
            required=True,
            key=mode_key,
            help="Soft mixes the class colours by the network's outputs, paler where it is "
            "unsure; hard paints every point with the class it would predict.",
        )
        options["mode"] = mode if mode in MODE_LABELS else "soft"
    if len(axes) == 2:
        return options
    stored = st.session_state.get(FEATURES)
    if stored is None or stored[0] != version:
        raw = results.raw_rows(split, "train")[:, axes]
        raw = np.where(np.isnan(raw), np.nanmedian(raw, axis=0), raw)
        first, second = default_features(raw, split.y_train, regression)
        f0, f1 = axes[first], axes[second]
    else:
        f0, f1 = stored[1], stored[2]
    x_key, y_key = f"{prefix}.surface_x.{version}", f"{prefix}.surface_y.{version}"
    bind(x_key, f0)

    def label(j: int) -> str:
        return names[j][:60]  # shown as plain text by the selectbox

    if st.session_state.get(x_key, f0) not in axes:
        st.session_state[x_key] = axes[0]
    f0 = pickers[0].selectbox("x axis", axes, format_func=label, key=x_key)
    others = [j for j in axes if j != f0]
    if st.session_state.get(y_key, f1) == f0:
        st.session_state[y_key] = others[0]
    bind(y_key, f1 if f1 != f0 else others[0])
    f1 = pickers[1].selectbox("y axis", others, format_func=label, key=y_key)
    f0, f1 = int(f0), int(f1)  # checked server-side: options are indices of this dataset
    if not (f0 in axes and f1 in axes and f0 != f1):
        f0, f1 = axes[0], axes[1]
    st.session_state[FEATURES] = (version, f0, f1)
    options["features"] = (f0, f1)
    return options


@dataclass
class Plane:
    """What a view over one or two features needs, in the data's own units."""

    names: list[str]  # every feature's name
    raw_train: np.ndarray  # the training rows
    raw_test: np.ndarray  # the test rows
    fixed: np.ndarray  # the row the other features are held at
    extent: np.ndarray  # the rows that set the plotted range (no gap in the plotted features)
    transform: Callable  # rows in the data's units -> the network's inputs

    def __repr__(self) -> str:
        return f"Plane({len(self.names)} features, {len(self.raw_train)} training rows)"


def plane(
    net: nn.Network, features: tuple[int, ...], sample=None, dataset=None, split=None
) -> Plane:
    """The data of a view over ``features``: the other features are held at ``sample`` (the
    Predict form's values), or at the typical row (training medians) when there is none.
    ``dataset`` and ``split`` default to the session's."""
    dataset = state.dataset() if dataset is None else dataset
    split = state.split() if split is None else split
    raw_train = results.raw_rows(split, "train")
    typical = results.typical_row(split, dataset)
    fixed = typical if sample is None else np.asarray(sample, dtype=float)
    fixed = np.where(np.isnan(fixed), typical, fixed)  # a blank held at the typical value
    extent = raw_train if sample is None else np.vstack([raw_train, fixed])
    extent = extent[~np.isnan(extent[:, list(features)]).any(axis=1)]

    def transform(rows):
        return results.inputs_for(net, dataset, rows)

    return Plane(
        names=[str(f) for f in dataset.feature_names],
        raw_train=raw_train,
        raw_test=results.raw_rows(split, "test"),
        fixed=fixed,
        extent=extent,
        transform=transform,
    )


def surface_figure(net: nn.Network, options: dict, sample=None) -> go.Figure:
    """The first view of ``net`` over the chosen feature(s), in the data's own units: the
    decision surface, or for regression the fitted curve or the value surface (in the
    target's units).

    The other features are held at ``sample`` (the Predict form's values), or at the training
    median when there is no sample; the sample is drawn as a star.
    """
    dataset, split = state.dataset(), state.split()
    features = options["features"]
    view = plane(net, features, sample)
    names, raw_train, raw_test = view.names, view.raw_train, view.raw_test
    fixed, extent, transform = view.fixed, view.extent, view.transform
    if options.get("kind") == "curve":
        (f0,) = features
        xs, values = nn.inspect.value_curve(
            net, extent, resolution=CURVE_POINTS, fixed=fixed, feature=f0, transform=transform
        )
        marked = None
        if sample is not None:
            marked = (fixed[f0], results.predict_value(net, dataset, fixed))
        return figures.fitted_curve_figure(
            xs,
            values,
            train=(raw_train[:, f0], split.y_train),
            test=(raw_test[:, f0], split.y_test),
            sample=marked,
            axis_names=(names[f0], results.target_name(dataset)),
        )
    f0, f1 = features
    grid = {"resolution": resolution(net), "fixed": fixed, "features": (f0, f1)}
    drawn = {
        "train": (raw_train[:, [f0, f1]], split.y_train),
        "test": (raw_test[:, [f0, f1]], split.y_test),
        "sample": None if sample is None else (fixed[f0], fixed[f1]),
        "axis_names": (names[f0], names[f1]),
    }
    if options.get("kind") == "values":
        xs, ys, values = nn.inspect.value_grid(net, extent, transform=transform, **grid)
        return figures.value_surface_figure(
            xs, ys, values, target_name=results.target_name(dataset), **drawn
        )
    xs, ys, probs = nn.inspect.decision_grid(net, extent, transform=transform, **grid)
    classes = [str(c) for c in dataset.class_names]
    fig = figures.decision_surface_figure(xs, ys, probs, classes, mode=options["mode"], **drawn)
    # The soft surface is an image, which plotly draws with one unit as long on both axes;
    # features in very different units (wine: proline ~1000, hue ~1) would leave a sliver.
    span = (xs[-1] - xs[0]) / max(ys[-1] - ys[0], 1e-12)
    if not 1 / MAX_ASPECT <= span <= MAX_ASPECT:
        fig.update_yaxes(scaleanchor=False)
    if probs.shape[2] > LEGEND_BELOW:
        # Two legend entries per class: beside the plot, not under it, so the plot keeps its size.
        fig.update_layout(legend={"orientation": "v", "x": 1.02, "y": 1, "font": {"size": 11}})
    return fig


def surface_caption(options: dict, sample) -> str:
    """What the first view shows, in words (names from data escaped for Markdown)."""
    dataset = state.dataset()
    names = [str(f) for f in dataset.feature_names]
    kind = options.get("kind", "classes")
    target = md_escape(results.target_name(dataset), 60)
    if kind == "curve":
        feature = md_escape(names[options["features"][0]], 60)
        text = (
            f"Line: the {target} the network predicts along {feature}. Circles: training "
            "rows; diamonds: test rows."
        )
    elif kind == "values":
        text = (
            f"Background: the {target} the network predicts at each point (scale below the "
            f"plot). Circles: training rows; diamonds: test rows, coloured by their actual "
            f"{target}: a point whose colour stands out from the background is one the "
            "network gets wrong."
        )
    else:
        text = (
            "Background: the class the network gives each point (paler where it is unsure). "
            "Circles: training rows; diamonds: test rows."
        )
    shown = len(options["features"])
    if len(names) > shown:
        held = "the Predict form's values" if sample is not None else "their training medians"
        what = "this feature" if shown == 1 else "these two features"
        where = (
            "in a region its other features disagree with"
            if kind == "classes"
            else "away from the network's answer because of its other features"
        )
        text += (
            f" The other {len(names) - shown} features are held at {held}; the rows are drawn "
            f"by {what} only, so a row may sit {where}."
        )
    if sample is not None:
        text += " The star is the Predict form's sample" + (
            " and its prediction." if kind == "curve" else "."
        )
    return text


NO_SURFACE = (
    "A decision surface needs two numeric features to span its axes; this dataset has fewer."
)
NO_CURVE = "A fitted curve needs a numeric feature to span its axis; this dataset has none."


def no_surface_text(options: dict) -> str:
    """Why the first view cannot be drawn for this dataset."""
    return NO_CURVE if options.get("kind") == "curve" else NO_SURFACE


def untrained_text(options: dict) -> str:
    """What an untrained network's first view shows, and what to do."""
    if options.get("kind") == "curve":
        return (
            "Not trained yet: this line comes from the random initial weights. Press Start and "
            "watch the network bend it to the points. "
        )
    if options.get("kind") == "values":
        return (
            "Not trained yet: these colours come from the random initial weights. Press Start "
            "and watch the surface take the shape of the points. "
        )
    return (
        "Not trained yet: these colours come from the random initial weights, which often "
        "give every class about the same probability (hence pale). Press Start and watch "
        "the regions form. "
    )


def draw_surface(trainer: loop.Trainer, options: dict, slot: str, sample=None) -> None:
    """The first view (throttled while training) and its caption."""
    if options["features"] is None:
        st.info(no_surface_text(options))
        return
    ensure_target_scale(trainer)
    what = (
        options.get("kind"),
        options["mode"],
        options["features"],
        st.session_state[state.DATA_VERSION],
        sample,
    )
    fig = throttled(
        slot,
        what,
        trainer.net,
        trainer.running,
        lambda: surface_figure(trainer.net, options, sample),
    )
    st.plotly_chart(fig, key=slot)
    caption = surface_caption(options, sample)
    if trainer.epochs_trained == 0 and not state.manual_steps(trainer.net):
        caption = untrained_text(options) + caption
    st.caption(caption)


def sample_surface_ui(net: nn.Network, x) -> None:
    """On the Predict page: the surface (or fitted curve) around the form's sample, which
    moves with the form."""
    st.markdown("**Where this sample lies**")
    options = surface_options_ui("predict")
    if options["features"] is None:
        st.caption(no_surface_text(options))
        return
    st.plotly_chart(surface_figure(net, options, sample=x), key="predict.surface")
    st.caption(surface_caption(options, x))


# ---- neurons: a map per neuron over a plane, or their values on the training rows ----

ON_ROWS, ON_PLANE = "rows", "plane"
NEURON_VIEW_LABELS = {ON_ROWS: "On the training rows", ON_PLANE: "Over two features"}
MAX_DISTRIBUTION_ROWS = 2_000  # training rows whose activations make the distributions


def output_names(net: nn.Network, dataset=None) -> list[str]:
    """What each output node stands for: a class, a single sigmoid output's positive class,
    or the target (names from data, unescaped); ``dataset`` defaults to the session's."""
    dataset = state.dataset() if dataset is None else dataset
    if is_regression(net):
        return [results.target_name(dataset)] * net.n_outputs
    classes = [str(c) for c in dataset.class_names]
    if net.n_outputs == 1 and len(classes) == 2:
        return [classes[1]]
    return classes if len(classes) == net.n_outputs else []


def neuron_choices(net: nn.Network) -> list[str]:
    """Every hidden neuron and output as "layer.neuron" (1-based), layer by layer."""
    sizes = net.config["layers"][1:]
    return [f"{layer}.{k}" for layer, size in enumerate(sizes, start=1) for k in range(1, size + 1)]


def neuron_label(net: nn.Network, choice: str) -> str:
    """A choice of ``neuron_choices`` as plain text: "layer 1 · neuron 3", "output · setosa"."""
    layer, k = (int(part) for part in choice.split("."))
    if layer == len(net.config["layers"]) - 1:
        names = output_names(net)
        return f"output · {display_name(names[k - 1], 40)}" if k <= len(names) else f"output {k}"
    return f"layer {layer} · neuron {k}"


def neuron_choice_ui(prefix: str, net: nn.Network, where) -> tuple[int, int]:
    """A picker of the neuron to show large, drawn in ``where``; returns its (layer, neuron),
    0-based. The value is checked on the server: a stale or forged one becomes the first."""
    key = f"{prefix}.neuron"
    choices = neuron_choices(net)
    stored = st.session_state.get(key)
    if not isinstance(stored, str) or stored not in choices:
        st.session_state[key] = choices[0]
    choice = where.selectbox(
        "Show large",
        choices,
        format_func=lambda c: neuron_label(net, c),
        key=key,
        help="One neuron's map, drawn large with the data points on top.",
    )
    if choice not in choices:
        choice = choices[0]
    layer, k = (int(part) for part in choice.split("."))
    return layer - 1, k - 1


def neuron_options_ui(prefix: str, net: nn.Network) -> dict:
    """The Neurons view's options: ``plane`` (maps over two features, else the distributions
    on the training rows), the ``features`` of the plane (the decision surface's pickers, so
    both views show one plane) and the ``neuron`` drawn large.

    Data with two features is always shown over its plane; with more, the training rows come
    first and the plane is a choice (it needs two numeric features)."""
    dataset = state.dataset()
    n_features = len(dataset.feature_names)
    can_map = len(numeric_axes(dataset)) >= 2
    on_plane = can_map
    if can_map and n_features > 2:
        key = f"{prefix}.neuron_view"
        if st.session_state.get(key) not in NEURON_VIEW_LABELS:  # unset, or a forged value
            st.session_state[key] = ON_ROWS
        choice = st.segmented_control(
            "Show the neurons",
            list(NEURON_VIEW_LABELS),
            format_func=NEURON_VIEW_LABELS.get,
            required=True,
            key=key,
            help="On the training rows: each neuron's activations, split by class. Over two "
            "features: each neuron's activation at every point of a plane of two features, "
            "the others held fixed (as on the decision surface).",
        )
        on_plane = choice == ON_PLANE  # anything else (a forged value too) is the rows view
    options = {"plane": on_plane, "features": None, "neuron": (0, 0)}
    if on_plane:
        cols = st.columns(3)
        chosen = surface_options_ui(prefix, colours=False, pickers=cols[:2])
        options["features"] = chosen["features"]
        has_pickers = len(numeric_axes(dataset)) > 2  # else the first two columns stay empty
        options["neuron"] = neuron_choice_ui(prefix, net, cols[2] if has_pickers else cols[0])
    return options


def neuron_figures(
    net: nn.Network, options: dict, sample=None, dataset=None, split=None, reuse=None
) -> tuple[go.Figure, go.Figure]:
    """All the neurons' maps over the chosen plane and the chosen neuron's map drawn large
    with the data, from one forward pass on the grid. ``dataset`` and ``split`` default to
    the session's (``benchmarks/bench_app_loop.py`` passes its own).

    ``reuse`` is the pair this returned before for the same view (options, data, sample):
    when it fits (a network of the same shape) its figures get the new values in place and
    are returned, which costs about a tenth of building them (``figures.refresh_neuron_maps``)
    and keeps a live view within the Train page's budget.
    """
    dataset = state.dataset() if dataset is None else dataset
    split = state.split() if split is None else split
    f0, f1 = options["features"]
    view = plane(net, (f0, f1), sample, dataset, split)
    maps = nn.inspect.neuron_grid(
        net,
        view.extent,
        resolution=figures.map_resolution(net.config["layers"][1:]),
        fixed=view.fixed,
        features=(f0, f1),
        transform=view.transform,
    )
    outputs = output_names(net, dataset)
    regression = is_regression(net)

    def targets(y):
        y = np.asarray(y, dtype=float)
        return y.reshape(len(y), -1)[:, 0] if regression else y

    layer, neuron = options["neuron"]
    if not (layer < len(maps.layers) and neuron < maps.layers[layer].shape[2]):
        layer, neuron = 0, 0  # chosen for a network since replaced
    if reuse is not None:
        grid, large = reuse
        if figures.refresh_neuron_maps(grid, maps) and figures.refresh_neuron_map(
            large, maps, layer, neuron, outputs
        ):
            return grid, large
    large = figures.neuron_map_figure(
        maps,
        layer,
        neuron,
        class_names=None if regression else [str(c) for c in dataset.class_names],
        train=(view.raw_train[:, [f0, f1]], targets(split.y_train)),
        test=(view.raw_test[:, [f0, f1]], targets(split.y_test)),
        sample=None if sample is None else (view.fixed[f0], view.fixed[f1]),
        axis_names=(view.names[f0], view.names[f1]),
        output_names=outputs,
        target_name=results.target_name(dataset),
    )
    return figures.neuron_maps_figure(maps, output_names=outputs), large


def row_groups(net: nn.Network, y, dataset=None) -> tuple[np.ndarray, list[str]]:
    """Each training row's group for the distributions and the groups' names: its class, or
    for regression the third of the target's range it falls in (lowest, middle, highest).
    ``dataset`` defaults to the session's."""
    dataset = state.dataset() if dataset is None else dataset
    if not is_regression(net):
        return np.asarray(y).astype(int), [str(c) for c in dataset.class_names]
    target = np.asarray(y, dtype=float).reshape(len(y), -1)[:, 0]
    edges = np.quantile(target, [1 / 3, 2 / 3]) if len(target) else np.zeros(2)
    name = results.target_name(dataset)
    names = [f"lowest third of {name}", f"middle third of {name}", f"highest third of {name}"]
    return np.searchsorted(edges, target, side="right"), names


def neuron_rows_figure(
    trainer: loop.Trainer, reuse: go.Figure | None = None, dataset=None
) -> go.Figure:
    """Each neuron's activations on (up to ``MAX_DISTRIBUTION_ROWS``) training rows, by class.

    ``reuse`` is the figure this returned before for the same data: refreshed in place when
    it fits (a network of the same shape), as ``neuron_figures`` does with the maps.
    ``dataset`` defaults to the session's."""
    net = trainer.net
    keep = downsample(len(trainer.X_train), MAX_DISTRIBUTION_ROWS)
    values = nn.inspect.neuron_values(net, trainer.X_train[keep])
    groups, names = row_groups(net, np.asarray(trainer.y_train)[keep], dataset)
    if reuse is not None and figures.refresh_neuron_distributions(reuse, values, groups, names):
        return reuse
    outputs = output_names(net, dataset)
    return figures.neuron_distributions_figure(values, groups, names, outputs)


def neurons_caption(net: nn.Network, options: dict, sample) -> str:
    """What the Neurons view shows, in words (names from data escaped for Markdown)."""
    names = [str(f) for f in state.dataset().feature_names]
    capped = any(size > figures.MAX_NEURONS for size in net.config["layers"][1:])
    if not options["plane"]:
        by = "third of the target" if is_regression(net) else "class"
        text = (
            f"Each box shows one neuron's activations on the training rows of one {by}: the "
            "box spans the middle half of them, the line is the median, the whiskers reach the "
            "lowest and highest value. A neuron whose boxes sit apart tells them apart."
        )
        if len(numeric_axes(state.dataset())) >= 2:
            text += " Choose *Over two features* to see each neuron as a map."
        if capped:
            text += f" Layers wider than {figures.MAX_NEURONS} neurons show their first ones."
        return text
    f0, f1 = options["features"]
    text = (
        f"Each small map is one neuron's activation at every point of the plane of "
        f"{md_escape(names[f0], 60)} and {md_escape(names[f1], 60)}, laid out like the "
        "network: a column per layer, the outputs last. The neurons of a layer share the "
        "colour scale above their column. The large map is the neuron picked above, with the "
        "training rows (circles) and test rows (diamonds) on top."
    )
    if capped:
        text += (
            f" Layers wider than {figures.MAX_NEURONS} neurons show their first "
            f"{figures.MAX_NEURONS} maps; any neuron can be drawn large."
        )
    if len(names) > 2:
        held = "the Predict form's values" if sample is not None else "their training medians"
        text += f" The other {len(names) - 2} features are held at {held}."
    return text


def draw_neurons(trainer: loop.Trainer, options: dict, slot: str, sample=None) -> None:
    """The Neurons view (throttled while training, as the decision surface is) and its
    caption."""
    net = trainer.net
    version = st.session_state[state.DATA_VERSION]
    if options["plane"]:
        what = ("plane", options["features"], options["neuron"], version, sample)
        reuse = last_built(slot, what)  # refreshed in place rather than built anew
        grid, large = throttled(
            slot,
            what,
            net,
            trainer.running,
            lambda: neuron_figures(net, options, sample, reuse=reuse),
        )
        left, right = st.columns([3, 2])
        left.plotly_chart(grid, key=slot)
        right.plotly_chart(large, key=f"{slot}.large")
    else:
        if len(trainer.y_train) == 0:
            st.info("There are no training rows to show the neurons on.")
            return
        what = ("rows", version)
        reuse = last_built(slot, what)
        fig = throttled(
            slot, what, net, trainer.running, lambda: neuron_rows_figure(trainer, reuse)
        )
        st.plotly_chart(fig, key=slot)
    caption = neurons_caption(net, options, sample)
    if trainer.epochs_trained == 0 and not state.manual_steps(net):
        caption = (
            "Not trained yet: these neurons respond as their random initial weights make them. "
            "Press Start and watch each one find its role. " + caption
        )
    st.caption(caption)


# ---- living network diagram ----


def draw_network(trainer: loop.Trainer, slot: str) -> None:
    """The network with its current weights (throttled while training)."""
    dataset = state.dataset()
    what = (st.session_state[state.DATA_VERSION],)

    outputs = [str(c) for c in dataset.class_names]
    if is_regression(trainer.net):
        outputs = [results.target_name(dataset)]

    def build():
        return figures.network_weights_figure(trainer.net.get_weights(), input_names(), outputs)

    fig = throttled(slot, what, trainer.net, trainer.running, build)
    st.plotly_chart(fig, key=slot)
    meta = fig.layout.meta or {}
    caption = (
        "Edges: blue for positive weights, red for negative, thicker for larger |w|. Nodes are "
        "coloured by their bias. Hover an edge's middle or a node to read its value."
    )
    if meta.get("edges_drawn", 0) < meta.get("edges_total", 0):
        caption += (
            f" Only the strongest {meta['edges_drawn']:,} of {meta['edges_total']:,} weights "
            "are drawn."
        )
    st.caption(caption)


# ---- training health ----

HEALTH_ROWS = (
    ("saturation", "Saturated sigmoid/tanh units"),
    ("dead_relu", "Dead ReLU units"),
    ("gradient_norms", "Gradient size per layer"),
    ("gap", "Training vs validation loss"),
    ("input_scale", "Input scale"),
    ("near_zero", "Near-zero weights"),
)
OUTPUT_ROW = ("output", "Output vs target")  # regression networks only


def health_report(trainer: loop.Trainer) -> dict:
    """``nn.inspect.training_health`` on the training rows plus the generalization gap."""
    ensure_target_scale(trainer)
    net, s = trainer.net, trainer.settings
    report = nn.inspect.training_health(
        net,
        trainer.X_train,
        trainer.y_train,
        learning_rate=float(s["learning_rate"]),
        l2=float(s["l2"]),
        l1=float(s.get("l1", 0.0)),  # the share of near-zero weights, which L1 drives up
    )
    report["gap"] = nn.inspect.generalization_gap(net.history)
    # Columns that are constant in the training rows (digits' blank border pixels) have a
    # standard deviation of ~1e-16 after standardizing; they would make the spread between
    # features look astronomically large, so the scale check leaves them out.
    X = np.asarray(trainer.X_train, dtype=float)
    spread = X.std(axis=0)
    informative = spread > 1e-8 * max(float(spread.max()), 1e-300)
    if informative.any() and not informative.all():
        report["input_scale"] = nn.inspect.input_scale(X[:, informative])
    return report


def _share(value) -> str:
    return "–" if value is None else f"{value:.0%}"


def _percent(value) -> str:
    """A share as "12.3%", or "–" where the check does not apply."""
    return "–" if value is None or pd.isna(value) else f"{value:.1%}"


def health_value(name: str, part: dict) -> str:
    """The one number shown next to a health check."""
    if name in ("saturation", "dead_relu", "near_zero"):
        return _share(part.get("share"))
    if name == "gradient_norms":
        norms = list(part["per_layer"].values())
        return f"{min(norms):.2g} to {max(norms):.2g}"
    if name == "gap":
        return "–" if part.get("gap") is None else f"{part['gap']:+.3g}"
    if name == "output":
        if part.get("unreachable") is not None:
            return f"{part['unreachable']:.0%} out of reach"
        return f"spread {part['spread']:.2f}x"
    if part["max_abs_mean"] > 1.5:
        return f"mean {part['max_abs_mean']:.3g}"
    if part["std_ratio"] > 10 and part["max_std"] <= 5:
        return f"std ratio {part['std_ratio']:.3g}"
    return f"std {part['max_std']:.3g}"


def health_layers(trainer: loop.Trainer, report: dict) -> pd.DataFrame:
    """Per layer: activation, saturated share, dead ReLU share, gradient norm, update size and
    the share of near-zero weights."""
    config = trainer.net.config
    acts = config["activation"]
    n_hidden = len(config["layers"]) - 2
    acts = [acts] * n_hidden if isinstance(acts, str) else list(acts)
    acts.append(config["output_activation"])
    grads = report["gradient_norms"]
    rows = []
    for i, act in enumerate(acts, start=1):
        rows.append(
            {
                "layer": f"{i} ({'output' if i == len(acts) else 'hidden'})",
                "activation": act,
                "saturated": report["saturation"]["per_layer"].get(i),
                "dead ReLU": report["dead_relu"]["per_layer"].get(i),
                "gradient norm": grads["per_layer"][i],
                "update / weights": grads.get("update_ratio", {}).get(i),
                "near-zero weights": report["near_zero"]["per_layer"].get(i),
            }
        )
    return pd.DataFrame(rows)


def draw_health(trainer: loop.Trainer, slot: str) -> None:
    """Six checks, each with its number and a plain-language hint, then a per-layer table."""
    if len(trainer.y_train) == 0:
        st.info("There are no training rows to check.")
        return
    what = (st.session_state[state.DATA_VERSION],)
    report = throttled(slot, what, trainer.net, trainer.running, lambda: health_report(trainer))
    rows = HEALTH_ROWS + ((OUTPUT_ROW,) if "output" in report else ())
    for name, title in rows:
        part = report[name]
        c1, c2 = st.columns([4, 9], vertical_alignment="center")
        c1.metric(title, health_value(name, part))
        kind = c2.warning if part["status"] == "warning" else c2.success
        kind(part["hint"], icon=":material/warning:" if part["status"] == "warning" else None)
    table = health_layers(trainer, report)
    if table["dead ReLU"].isna().all():
        table = table.drop(columns="dead ReLU")  # no ReLU layer: a column of blanks says nothing
    for column in ("saturated", "dead ReLU", "near-zero weights"):
        if column in table:
            # as text: the grid would write "None" in the rows a check does not apply to
            table[column] = [_percent(v) for v in table[column]]
    st.dataframe(
        table,
        hide_index=True,
        column_config={
            "saturated": st.column_config.TextColumn(
                help="Share of outputs at a sigmoid/tanh limit (hidden layers only)."
            ),
            "dead ReLU": st.column_config.TextColumn(
                help="Share of ReLU units that never fire on these rows (ReLU layers only)."
            ),
            "gradient norm": st.column_config.NumberColumn(format="%.3g"),
            "update / weights": st.column_config.NumberColumn(
                format="%.3g", help="learning rate x gradient norm / weight norm: one step's size"
            ),
            "near-zero weights": st.column_config.TextColumn(
                help=f"Share of the layer's weights within {nn.inspect.NEAR_ZERO:g} of zero "
                "(L1 pushes the ones the network does not need there)."
            ),
        },
    )
    st.caption(
        f"Measured on up to 512 training rows with the current weights (epoch "
        f"{trainer.epochs_trained})."
    )


# ---- live: the views that follow training ----


def live_choice_ui(prefix: str, net: nn.Network | None = None) -> tuple[str | None, dict]:
    """Which inside view to draw under the Train page's curves (None for none), and its
    options, drawn here (outside the training fragment) with ``prefix`` keys of their own.

    ``net`` is the network the options are for (default: the session trainer's). The choice
    is checked on the server: a value that is not one of ``LIVE_VIEWS`` shows nothing.
    """
    key = f"{prefix}.inside_view"
    if st.session_state.get(key) not in (None, *LIVE_VIEWS):  # stale or forged
        st.session_state[key] = None
    choice = st.segmented_control(
        "Watch inside while it learns",
        LIVE_VIEWS,
        format_func=view_label,  # the surface is named after the task: "Fitted curve", ...
        key=key,
        help="Redrawn about once a second while training runs.",
    )
    if choice not in LIVE_VIEWS:
        return None, {}
    if net is None:
        trainer = state.trainer()
        if trainer is None:
            return None, {}
        net = trainer.net
    return choice, view_options_ui(choice, prefix, net)


def view_options_ui(view: str, prefix: str, net: nn.Network) -> dict:
    """The options of a live view, drawn above it (outside its training fragment): the
    surface's or the neurons' plane and choices; none for the other views."""
    if view in SURFACES:
        return surface_options_ui(prefix)
    if view == NEURONS:
        return neuron_options_ui(prefix, net)
    return {}


def draw_live(view: str | None, trainer, options: dict, prefix: str) -> None:
    """Draw one live view (inside a training fragment)."""
    if view in SURFACES:
        draw_surface(trainer, options, f"{prefix}.surface", state.predict_sample())
    elif view == NEURONS:
        draw_neurons(trainer, options, f"{prefix}.neurons", state.predict_sample())
    elif view == NETWORK:
        draw_network(trainer, f"{prefix}.network")
    elif view == HEALTH:
        draw_health(trainer, f"{prefix}.health")


def progress_line(trainer: loop.Trainer) -> None:
    """Epoch, status and the latest losses in one progress bar."""
    last = trainer.net.history[-1] if trainer.net.history else None
    text = f"{trainer.status}: epoch {trainer.epochs_trained} of {trainer.target_epochs}"
    if last is not None:
        text += f" · training loss {last.train_loss:.4f}, {score_text(last)}"
    share = min(trainer.epochs_trained / max(trainer.target_epochs, 1), 1.0)
    st.progress(share, text=text)


def score_text(record) -> str:
    """An epoch's training figure in words: "accuracy 0.953", or "R² 0.953" for regression."""
    if record.train_accuracy is not None:
        return f"accuracy {record.train_accuracy:.3f}"
    r2 = getattr(record, "train_r2", None)
    return "R² –" if r2 is None else f"R² {r2:.3f}"


def live_fragment(view: str | None, options: dict, trainer) -> None:
    """The Inside page's ticker: draw the view, then train a chunk while the run is on (or
    keep its place in the server's queue), as the Train page does."""

    @st.fragment(run_every=train_ui.tick_every(trainer))
    def tick() -> None:
        t = state.trainer()
        if t is None:
            return
        progress_line(t)
        draw_live(view, t, options, "inside")
        train_ui.live_tick(t)

    tick()


# ---- backprop, one sample, step by step ----


def input_names() -> list[str]:
    """The network's input nodes by name: a feature, or "feature=category" for a one-hot
    input (the current network's preprocessing, else the split's)."""
    t = state.trainer()
    pre = t.net.preprocessor if t is not None and t.net.preprocessor else None
    return (pre or state.split().preprocessor).input_names()


def _node_labels(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i + 1}" for i in range(n)]


def _input_labels(layer: int, n: int) -> list[str]:
    if layer == 1:
        names = [str(f)[:40] for f in input_names()]
        return names if len(names) == n else _node_labels("x", n)
    return _node_labels(f"a{layer - 1}.", n)


def _matrix(values, rows: list[str], cols: list[str]) -> pd.DataFrame:
    return pd.DataFrame(np.asarray(values, dtype=float), index=rows, columns=cols)


def _numbers(frame: pd.DataFrame, **kwargs) -> None:
    """A table of numbers with four significant digits (tiny gradients stay readable)."""
    st.dataframe(
        frame,
        column_config={str(c): st.column_config.NumberColumn(format="%.4g") for c in frame.columns},
        **kwargs,
    )


@train_ui.exclusive
def _apply_step(row: int) -> None:
    """Advance the real network by one plain gradient-descent step on one training row."""
    t, s = state.trainer(), state.split()
    if t is None or t.running or not 0 <= row < len(s.y_train):
        return
    lr, l2 = float(t.settings["learning_rate"]), float(t.settings["l2"])
    trace = nn.inspect.backprop_trace(t.net, s.X_train[row], s.y_train[row], lr, l2)
    nn.inspect.apply_trace(t.net, trace)
    after = nn.inspect.backprop_trace(t.net, s.X_train[row], s.y_train[row], lr, l2).loss
    st.session_state[LAST_STEP] = {
        "row": row,
        "before": trace.loss,
        "after": after,
        "count": state.count_manual_step(t.net),
        "epochs": t.epochs_trained,
    }


def _pick_row(n: int) -> int:
    key = "inside.bp_row"
    bind(key, 1)
    row = st.number_input(
        f"Training row (1 to {n})",
        1,
        n,
        step=1,
        key=key,
        help="One row of the training part, as the network sees it.",
    )
    try:
        row = int(row)
    except (TypeError, ValueError):
        row = 1
    return min(max(row, 1), n) - 1  # checked on the server: the bounds are a browser hint


def _sample_table(row: int, trainer: loop.Trainer) -> pd.DataFrame:
    dataset, split = state.dataset(), state.split()
    frame = pd.DataFrame(
        {"value": dataset.table(results.raw_rows(split, "train")[row : row + 1]).iloc[0]},
        index=[str(f)[:40] for f in dataset.feature_names],
    )
    pre = trainer.net.preprocessor
    if pre is not None and pre.standardize and pre.numeric_only:  # one input per feature...
        # ...then any engineered inputs (x1², sin(x1), ...), which come after them
        frame["as the network sees it (standardized)"] = trainer.X_train[row][: pre.n_features]
    frame.index.name = "feature"
    return frame


def backprop_ui(trainer: loop.Trainer) -> None:
    """Forward pass, loss, deltas, gradients and the update for one sample, with its numbers."""
    split, dataset = state.split(), state.dataset()
    n = len(split.y_train)
    if n == 0:
        st.info("There are no training rows.")
        return
    ensure_target_scale(trainer)
    net, s = trainer.net, trainer.settings
    regression = is_regression(net)
    lr, l2 = float(s["learning_rate"]), float(s["l2"])
    c1, c2 = st.columns([1, 2])
    with c1:
        row = _pick_row(n)
        if regression:
            label = split.y_train[row]
            value = float(np.asarray(label, dtype=float).reshape(-1)[0])
            st.metric(f"Its {md_escape(results.target_name(dataset), 40)}", f"{value:.4g}")
        else:
            label = int(split.y_train[row])
            st.metric("Its class", md_escape(dataset.class_names[label], 40))
        st.caption(
            f"Learning rate {lr:g}" + (f", L2 {l2:g}" if l2 else "") + " (Train page settings)."
        )
    c2.dataframe(_sample_table(row, trainer))
    trace = nn.inspect.backprop_trace(net, trainer.X_train[row], label, lr, l2)
    steps = {step["title"]: step["latex"] for step in backprop.backprop_steps(trace)}
    notes = []
    if s["optimizer"] != "sgd":
        notes.append(
            f"Training uses {train_ui.CHOICE_LABELS['optimizer'][s['optimizer']]}; this view "
            "shows the plain "
            "gradient-descent step, which is what SGD does with batch size 1."
        )
    if int(s["batch_size"]) > 1:
        notes.append(
            f"Training averages the gradient over {int(s['batch_size'])} rows per step; this "
            "view follows a single row."
        )
    if regression and trace.target_mean is not None:
        notes.append(
            "The network learns the target standardized, y = (target − μ) / s, with the "
            f"training rows' mean μ = {float(trace.target_mean[0]):.4g} and standard deviation "
            f"s = {float(trace.target_scale[0]):.4g}; its output a turns back into a "
            f"prediction as μ + s·a (here {float(trace.output_value[0]):.4g})."
        )
    for note in notes:
        st.caption(note)

    st.subheader("1. Forward pass")
    st.caption("Each layer multiplies its input by W, adds b (z), then applies its activation (a).")
    for layer in trace.layers:
        st.latex(steps[f"Forward, layer {layer.index}"])
        with st.columns([1, 3, 1])[1]:
            _numbers(
                pd.DataFrame(
                    {"z": layer.z, "a": layer.a},
                    index=_node_labels(f"node {layer.index}.", len(layer.z)),
                ),
                height=min(38 + 35 * len(layer.z), 300),
            )

    st.subheader("2. Loss")
    st.latex(steps["Loss"])
    st.metric("Loss on this sample", f"{trace.loss:.6g}")

    st.subheader("3. Deltas, from the output back")
    st.caption(
        "δ = ∂L/∂z says how much the loss changes when a node's z changes; each layer's δ comes "
        "from the next layer's δ through its weights, times the slope of its activation."
    )
    for layer in reversed(trace.layers):
        st.latex(steps[f"Delta, layer {layer.index}"])
        columns = {"δ (dL/dz)": layer.delta}
        if layer.grad_a is not None:
            columns = {"dL/da": layer.grad_a, "slope f'(z)": layer.slope, **columns}
        with st.columns([1, 3, 1])[1]:
            _numbers(
                pd.DataFrame(columns, index=_node_labels(f"node {layer.index}.", len(layer.delta))),
                height=min(38 + 35 * len(layer.delta), 300),
            )

    st.subheader("4. Gradients and the update")
    st.caption(f"Every weight moves against its gradient, scaled by the learning rate ({lr:g}).")
    for layer in trace.layers:
        st.latex(steps[f"Gradients and update, layer {layer.index}"])
        n_in, n_out = layer.W.shape
        rows = _input_labels(layer.index, n_in)
        cols = _node_labels(f"node {layer.index}.", n_out)
        with st.expander(f"Layer {layer.index}: every number ({n_in} x {n_out} weights)"):
            tabs = st.tabs(["dL/dW", "W before", "W after", "Biases"])
            for tab, matrix in zip(tabs, (layer.grad_W, layer.W, layer.W_new), strict=False):
                with tab:
                    _numbers(_matrix(matrix, rows, cols))
            with tabs[3]:
                _numbers(
                    pd.DataFrame(
                        {"b before": layer.b, "dL/db = δ": layer.grad_b, "b after": layer.b_new},
                        index=cols,
                    )
                )

    st.button(
        "Apply this update",
        key="inside.bp_apply",
        type="primary",
        on_click=_apply_step,
        args=(row,),
        disabled=trainer.running,
        icon=":material/play_arrow:",
        help="Pause training first." if trainer.running else None,
    )
    if trainer.running:
        st.caption("Training is running: pause it to apply a step by hand.")
    last = st.session_state.get(LAST_STEP)
    if last is not None and last["count"] == state.manual_steps(net) and last["count"]:
        st.success(
            f"Applied one step for training row {last['row'] + 1}: its loss went from "
            f"{last['before']:.6g} to {last['after']:.6g}. That is one sample, not an epoch: "
            f"the epoch counter stays at {trainer.epochs_trained} and the history has no entry "
            f"for it; training continues from these weights. Steps by hand on this network: "
            f"{last['count']}."
        )
    else:
        st.caption(
            "Applying moves the real network by this one sample's step. It is not an epoch: the "
            "epoch counter and the history stay as they are."
        )


# ---- trust: a gradient check and scikit-learn on the same split ----


def sklearn_epochs(settings: dict, n_train: int) -> int:
    """The epochs scikit-learn trains: the run's, capped at ``SKLEARN_UPDATES`` batch updates."""
    per_epoch = math.ceil(max(n_train, 1) / max(int(settings["batch_size"]), 1))
    return max(1, min(int(settings["epochs"]), SKLEARN_UPDATES // per_epoch))


def trust_checks(trainer: loop.Trainer, split) -> dict:
    """Gradient check of the current network, and its test figure (accuracy, or R^2 for
    regression) next to scikit-learn's."""
    ensure_target_scale(trainer)
    net, s = trainer.net, trainer.settings
    X_test = results.network_inputs(net, split, state.dataset(), "test")
    X_train = trainer.X_train
    check = nn.inspect.gradient_check(net, X_train, split.y_train, l2=float(s["l2"]))
    epochs = sklearn_epochs(s, len(split.y_train))
    scores = baselines.sklearn_baselines(
        X_train,
        split.y_train,
        X_test,
        split.y_test,
        net.config,
        {**s, "epochs": epochs},
        seed=int(net.config["seed"]),
    )
    metric = nn.task.get(net.task).metric
    ours = net.evaluate(X_test, split.y_test)[metric] if len(split.y_test) else None
    return {
        "task": net.task,
        "check": check.table(),
        "passed": check.passed,
        "tolerance": check.tolerance,
        "rows": check.rows,
        "ours": ours,
        "sklearn": scores,
        "sklearn_epochs": epochs,
        "epochs_set": int(s["epochs"]),
        "early_stopping": bool(s.get("early_stopping")),
        "progress": progress_key(net),
        "epoch": trainer.epochs_trained,
    }


def trust_ui(trainer: loop.Trainer) -> None:
    """One button: the gradient check and the scikit-learn comparison, then their results."""
    st.markdown(
        "Two ways to trust this lab: the **gradient check** compares the gradients "
        "backpropagation computes with a slow numerical estimate (nudging each weight a tiny bit "
        "up and down); the **comparison** trains scikit-learn's models on the same rows and "
        "tests them on the same test rows."
    )
    if len(state.split().y_test) == 0:
        st.info("The split has no test rows; raise the test share on the Data page.")
        return
    clicked = st.button(
        "Run the checks",
        key="inside.trust_run",
        type="primary",
        disabled=trainer.running,
        icon=":material/verified:",
        help="Pause training first." if trainer.running else None,
    )
    if clicked and not trainer.running:
        with st.spinner("Checking the gradients and training scikit-learn's models..."):
            st.session_state[TRUST_RESULT] = trust_checks(trainer, state.split())
    result = st.session_state.get(TRUST_RESULT)
    if result is None:
        st.caption("Takes a few seconds (longer for big networks and datasets).")
        return
    if result["progress"] != progress_key(trainer.net):
        st.warning(
            f"These results are for the network at epoch {result['epoch']}; it has changed "
            "since. Run the checks again to update them."
        )
    st.markdown("**Gradient check**")
    if result["passed"]:
        st.success(
            f"Every layer passes: backpropagation's gradients agree with the numerical ones to "
            f"a relative error below {result['tolerance']:g} (on {result['rows']} training rows)."
        )
    else:
        st.error(
            f"Some layer's gradient differs from the numerical estimate by more than "
            f"{result['tolerance']:g}. With ReLU units this can happen when a unit sits right at "
            "its kink (0), where the slope jumps; elsewhere it would point to a bug."
        )
    st.dataframe(
        pd.DataFrame(result["check"]),
        hide_index=True,
        column_config={
            "relative error": st.column_config.NumberColumn(format="%.2e"),
            "max abs difference": st.column_config.NumberColumn(format="%.2e"),
        },
    )
    if result.get("task") == nn.task.REGRESSION:
        regression_trust(result)
        return
    st.markdown("**Test accuracy on the same split**")
    c1, c2, c3 = st.columns(3)
    ours = result["ours"]
    c1.metric("This network", "–" if ours is None else f"{ours:.3f}")
    c2.metric("scikit-learn MLPClassifier", f"{result['sklearn']['MLPClassifier']:.3f}")
    c3.metric("scikit-learn LogisticRegression", f"{result['sklearn']['LogisticRegression']:.3f}")
    if result["epoch"] == 0:
        st.info(
            "This network was not trained when the checks ran: its accuracy is that of its "
            "random initial weights, while scikit-learn's models were trained. Train it, then "
            "run the checks again for a fair comparison."
        )
    st.caption(
        f"MLPClassifier gets the same hidden layers, activation, optimizer, learning rate and "
        f"batch size, and {result['sklearn_epochs']} epochs{_capped(result)}; it always uses a "
        "softmax/logistic output with cross-entropy, so it is a reference, not a twin. "
        "LogisticRegression is the linear baseline: a network should at least match it."
    )


def _capped(result: dict) -> str:
    if result["sklearn_epochs"] < result["epochs_set"]:
        return f" (capped from {result['epochs_set']} to keep the check quick)"
    return ""


def regression_trust(result: dict) -> None:
    """A regression network's test R^2 beside scikit-learn's regressors on the same split."""
    st.markdown("**Test R² on the same split**")
    ours, scores = result["ours"], result["sklearn"]
    cols = st.columns(4)
    cols[0].metric("This network", "–" if ours is None else f"{ours:.3f}")
    cols[1].metric("scikit-learn MLPRegressor", f"{scores['MLPRegressor']:.3f}")
    cols[2].metric("scikit-learn LinearRegression", f"{scores['LinearRegression']:.3f}")
    cols[3].metric("Always the mean", f"{scores[baselines.MEAN_PREDICTOR]:.3f}")
    if result["epoch"] == 0:
        st.info(
            "This network was not trained when the checks ran: its R² is that of its random "
            "initial weights, while scikit-learn's models were trained. Train it, then run the "
            "checks again for a fair comparison."
        )
    stopping = (
        " (early stopping on a tenth of its training rows)" if result.get("early_stopping") else ""
    )
    st.caption(
        f"R² is 1 for perfect predictions and 0 for always predicting the mean of the training "
        f"targets (the last figure; a little below 0 on new rows). MLPRegressor gets the same "
        f"hidden layers, activation, optimizer, learning rate and batch size, and "
        f"{result['sklearn_epochs']} epochs{_capped(result)}{stopping}, with a linear output, "
        "squared error and the target standardized on the training rows, as here; it is a "
        "reference, not a twin. LinearRegression is the straight-line baseline: a network "
        "should at least match it, and beats it where the relation bends."
    )
