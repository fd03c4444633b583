"""The cost of one redraw of the Inside page's neuron maps against one decision-surface redraw.

A redraw of the Neurons view (``dashboard.inside.inside_ui.neuron_figures``) is: the forward
pass on the grid (``nn.inspect.neuron_grid`` at ``figures.map_resolution``), the grid of small
maps (``figures.neuron_maps_figure``) and one neuron's map drawn large with the data
(``figures.neuron_map_figure``), then what ``st.plotly_chart`` does with each figure (validate
it, serialize it to JSON). A decision-surface redraw is ``nn.inspect.decision_grid`` at the
surface's resolution (``inside_ui.resolution``), ``figures.decision_surface_figure`` and the same
serialization. Both on moons (standardized, the app's split), for a [2, 8, 8, 2] and a
[2, 32, 32, 32, 3] tanh network; medians of ``--runs`` runs, server-side work only (the
websocket transfer and the browser's drawing happen elsewhere).

Usage: ``python benchmarks/bench_neuron_maps.py [--runs N]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import numpy as np  # noqa: E402
import plotly.io  # noqa: E402
import plotly.tools  # noqa: E402

import nn  # noqa: E402
import nn.data  # noqa: E402
import nn.inspect  # noqa: E402
from dashboard.inside import figures  # noqa: E402

NETWORKS = ([2, 8, 8, 2], [2, 32, 32, 32, 3])


def surface_resolution():
    """``inside_ui.resolution``: the decision surface's grid for a network (the module imports
    Streamlit, quietened here)."""
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    with contextlib.redirect_stderr(io.StringIO()):
        from dashboard.inside import inside_ui
    return inside_ui.resolution


def ship(fig) -> int:
    """What ``st.plotly_chart`` does with a figure: validate it, then serialize it; the size of
    the JSON in bytes."""
    figure = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
    return len(plotly.io.to_json(figure, validate=False).encode())


def median_ms(work, runs: int) -> tuple[float, float, object]:
    """Median and minimum wall time of ``work()`` in milliseconds, and its last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times), min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per measurement")
    args = parser.parse_args()
    resolution = surface_resolution()
    split = nn.data.split(nn.data.load_dataset("moons"), seed=0, standardize=True)
    X, y = split.X_train, split.y_train
    classes = ["0", "1", "2"]
    print(f"moons: {len(y)} training rows; medians of {args.runs} runs (min in brackets)\n")
    header = (
        f"{'network':>20} {'maps':>5} {'grid':>6} {'compute ms':>14} {'figures ms':>14} "
        f"{'ship ms':>14} {'total ms':>14} {'JSON kB':>8} {'surface ms':>14} {'ratio':>13}"
    )
    print(header)
    for layers in NETWORKS:
        net = nn.Network.from_config(
            {
                "layers": layers,
                "activation": "tanh",
                "output_activation": "softmax",
                "loss": "cross_entropy",
                "init": "xavier",
            }
        )
        net.fit(X, y, epochs=5, learning_rate=0.05)
        side = figures.map_resolution(layers[1:])
        n_maps = sum(min(n, figures.MAX_NEURONS) for n in layers[1:])

        def compute(net=net, side=side):
            return nn.inspect.neuron_grid(net, X, resolution=side)

        maps = compute()

        def build(maps=maps):
            grid = figures.neuron_maps_figure(maps, output_names=classes)
            large = figures.neuron_map_figure(
                maps, 0, 0, class_names=classes, train=(X, y), test=(split.X_test, split.y_test)
            )
            return grid, large

        grid, large = build()

        def send(grid=grid, large=large):
            return ship(grid) + ship(large)

        def maps_redraw(compute=compute):
            maps = compute()
            grid = figures.neuron_maps_figure(maps, output_names=classes)
            large = figures.neuron_map_figure(
                maps, 0, 0, class_names=classes, train=(X, y), test=(split.X_test, split.y_test)
            )
            return ship(grid) + ship(large)

        def surface_redraw(net=net):
            xs, ys, probs = nn.inspect.decision_grid(net, X, resolution=resolution(net))
            fig = figures.decision_surface_figure(
                xs, ys, probs, classes[: probs.shape[2]], train=(X, y), test=None
            )
            return ship(fig)

        t_compute = median_ms(compute, args.runs)
        t_build = median_ms(build, args.runs)
        t_ship = median_ms(send, args.runs)
        t_total = median_ms(maps_redraw, args.runs)
        t_surface = median_ms(surface_redraw, args.runs)
        size = t_total[2]

        def cell(t):
            return f"{t[0]:7.1f} ({t[1]:5.1f})"

        name = str(layers).replace(" ", "")
        print(
            f"{name:>20} {n_maps:>5} {f'{side}x{side}':>6} {cell(t_compute):>14} "
            f"{cell(t_build):>14} {cell(t_ship):>14} {cell(t_total):>14} {size / 1e3:8.0f} "
            f"{cell(t_surface):>14} {t_total[0] / t_surface[0]:6.2f} "
            f"({t_total[1] / t_surface[1]:4.2f})"
        )
    print(
        "\ncompute: the forward pass on the grid; figures: the grid of maps and the large map; "
        "ship: st.plotly_chart's validation and JSON for both; total: a whole redraw; surface: "
        "a whole decision-surface redraw (grid "
        f"{resolution(nn.Network.from_config({'layers': NETWORKS[0]}))} per axis for the small "
        "network); ratio: total / surface, of the medians (of the minima; on a busy machine "
        "the minima are the steadier figures)."
    )


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
