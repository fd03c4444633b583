"""Training throughput inside the app's live training loop against the bare ``nn`` loop.

The Train page (``pages/3_Train.py``) runs one tick per fragment rerun: ``run_chunk`` trains
whole epochs for ``BUDGET_S`` seconds, then the loss and accuracy figures are rebuilt from the
history and shipped to the browser, and so is the live view chosen under "Watch inside while it
learns". This script runs that tick in a loop, with the app's own helpers
(``dashboard.training.loop``, ``dashboard.common.charts``, ``dashboard.inside.inside_ui``) and the
same serialization that ``st.plotly_chart`` performs, and compares its epochs per second with
iterating ``nn.Network.train_epochs`` directly on the same work. Target (issues 3 and 14): the
page keeps at least 80% of the bare throughput at at least 4 redraws per second, with the
neuron maps shown too.

Workloads (``--workloads``, all by default):

- ``article``: the article preset (Iris, sigmoid 4-5-10-3, per-sample SGD, lr 0.15), curves
  only, with the number of epochs raised so that the run spans many ticks;
- ``moons``: moons (300 points, noise 0.2), a tanh [2, 8, 8, 2] network, Adam lr 0.01 batch 16,
  standardized inputs: curves only, and curves with the neuron maps live;
- ``spirals``: the two spirals (300 points), a tanh [2, 32, 32, 32, 2] network (50 maps drawn:
  16 per hidden layer and the outputs), the same training: curves only, and with the maps;
- ``deep``: the worst case the demo's limits allow for the maps: six hidden layers of 16 tanh
  neurons on the spirals (98 maps at the smallest grid), curves only, and with the maps;
- ``digits``: a table (64 features, 10 classes), a tanh [64, 32, 32, 10] network, the same
  training, 300 epochs per run: curves only, and with the Neurons view of a table, each
  neuron's distributions on the training rows by class.

The Neurons view is redrawn as the page does it (``inside_ui.draw_neurons``): the figures, built
when the view is chosen (before Start), are refreshed (in place, while the network keeps its
shape: ``figures.refresh_neuron_maps``) at most every ``inside_ui.REFRESH_S`` (the decision
surface's pace) and shipped on every tick, as ``st.plotly_chart`` must re-send every element of
a fragment that reruns. Each round runs every loop of a workload once, in a rotating order,
so that load from elsewhere hits them alike; medians over the rounds, and each loop's share of
the bare loop's epochs per second.

What is measured is server-side work only: the websocket transfer and the browser's drawing
happen elsewhere. The fragment's timer (``TICK_S``) is shorter than a tick, so the next tick is
already queued when one ends and no idle time is lost between ticks.

Usage: ``python benchmarks/bench_app_loop.py [--quick] [--markdown] [--epochs N] [--repeats N]
[--workloads article,moons,spirals,deep,digits]``
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import numpy as np  # noqa: E402
import plotly.io  # noqa: E402
import plotly.tools  # noqa: E402

import nn  # noqa: E402
import nn.data  # noqa: E402
from dashboard.common import charts, threads  # noqa: E402
from dashboard.training import loop  # noqa: E402

ARTICLE = nn.presets.ARTICLE
MODERN = nn.presets.MODERN


def app_modules():
    """``(train_ui, inside_ui, streamlit.util)``: the Train page's and the live views' modules.

    They import Streamlit (about a second, and a "no runtime" warning), so the import happens
    here with Streamlit's log quietened; every value and function used stays the app's own.
    """
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    with contextlib.redirect_stderr(io.StringIO()):
        from streamlit import util

        from dashboard.inside import inside_ui
        from dashboard.training import train_ui
    return train_ui, inside_ui, util


TRAIN_UI, INSIDE_UI, ST_UTIL = app_modules()


# ---- the app's tick: what pages/3_Train.py does per fragment run, minus Streamlit itself ----


def ship(fig, key: str) -> int:
    """What ``st.plotly_chart`` does with a figure on every call: turn it into a dict (a
    ``go.Figure`` is not validated again), serialize it, and hash the JSON into the element's
    id. Returns the size of the JSON in bytes."""
    figure = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
    spec = plotly.io.to_json(figure, validate=False)
    hasher = ST_UTIL.create_fast_hasher()
    for part in ("plotly_chart", key, spec):
        hasher.update(part.encode("utf-8"))
    hasher.hexdigest()
    return len(spec)


def chart_specs(trainer: loop.Trainer) -> int:
    """Build the history figures (loss, accuracy) and ship them; their JSON's bytes."""
    figures = charts.history_figures(trainer.net.history, trainer.target_epochs)
    return sum(ship(fig, f"train.chart{i}") for i, fig in enumerate(figures))


@dataclass
class NeuronsView:
    """The live Neurons view of the Train page for one run: the maps over the plane of the
    first two features (``kind`` "plane"), or each neuron's distributions on the training
    rows ("rows"), redrawn at most every ``REFRESH_S`` while training runs (as
    ``inside_ui.throttled`` does) and shipped on every tick."""

    kind: str
    dataset: object
    split: object
    figures: tuple = ()
    built_at: float = -1e9
    builds: int = 0
    build_s: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    def draw(self, trainer: loop.Trainer) -> None:
        now = time.monotonic()
        if not self.figures or now - self.built_at >= INSIDE_UI.REFRESH_S:
            start = time.perf_counter()
            self.figures = self.build(trainer)
            self.build_s.append(time.perf_counter() - start)
            self.built_at, self.builds = now, self.builds + 1
        keys = ("train.neurons", "train.neurons.large")[: len(self.figures)]
        shipped = zip(self.figures, keys, strict=True)
        self.sizes.append(sum(ship(fig, key) for fig, key in shipped))

    def build(self, trainer: loop.Trainer) -> tuple:
        """The view's figures, from those drawn last (as ``draw_neurons`` passes them)."""
        if self.kind == "rows":
            reuse = self.figures[0] if self.figures else None
            return (INSIDE_UI.neuron_rows_figure(trainer, reuse, self.dataset),)
        options = {"plane": True, "features": (0, 1), "neuron": (0, 0)}
        return INSIDE_UI.neuron_figures(
            trainer.net,
            options,
            dataset=self.dataset,
            split=self.split,
            reuse=self.figures or None,
        )


def app_tick(
    trainer: loop.Trainer,
    budget_s: float,
    view: NeuronsView | None = None,
    post_script_gc: bool = False,
) -> tuple[int, float]:
    """One tick: a time-boxed chunk of epochs, then the redraw. Returns (epochs, redraw s).

    With ``post_script_gc`` the redraw also includes the full ``gc.collect()`` that Streamlit
    runs after every script run, fragment runs included, unless ``runner.postScriptGC`` is off.
    """
    done = loop.run_chunk(trainer, budget_s, loop.epochs_per_tick(trainer))
    start = time.perf_counter()
    chart_specs(trainer)
    if view is not None:
        view.draw(trainer)
    if post_script_gc:
        gc.collect(2)
    return done, time.perf_counter() - start


# ---- the workloads ----


@dataclass
class Workload:
    """Data, network and training of one comparison, and the Neurons view drawn too."""

    name: str
    description: str
    dataset: object
    split: object
    config: dict
    training: dict
    neurons: str | None  # also run the app's loop with this Neurons view: "plane" or "rows"
    epochs: int | None = None  # epochs per run, unless the command line says

    def trainer(self, epochs: int, pace: str = "fastest") -> loop.Trainer:
        net = nn.Network.from_config(self.config)
        net.preprocessor = self.split.preprocessor  # as the app's new_trainer does
        settings = {**loop.DEFAULT_SETTINGS, **self.training, "epochs": epochs, "pace": pace}
        return loop.Trainer(
            net=net,
            X_train=self.split.X_train,
            y_train=self.split.y_train,
            X_val=self.split.X_val,
            y_val=self.split.y_val,
            settings=settings,
        )


def article_workload() -> Workload:
    """The article's Iris split (15% test, then 10% of the rest for validation) and preset."""
    dataset = nn.data.load_dataset("iris")
    return Workload(
        name="article",
        description="Iris, article preset (sigmoid 4-5-10-3, SGD batch 1, lr 0.15)",
        dataset=dataset,
        split=nn.data.split(dataset, seed=0, **ARTICLE["split"]),
        config=ARTICLE["network"],
        training=ARTICLE["training"],
        neurons=None,
    )


def maps_workload(name: str, source: str, hidden: list[int]) -> Workload:
    """A 2-D set as the app makes it (300 points, noise 0.2, the modern preset's standardized
    split and Adam training) and a tanh network with these hidden layers."""
    dataset = nn.data.load_dataset(source, n_samples=300, noise=0.2, seed=0)
    layers = [2, *hidden, len(dataset.class_names)]
    config = {
        **MODERN["network"],
        "layers": layers,
        "activation": "tanh",
        "init": "xavier",
    }
    shape = str(layers).replace(" ", "")
    return Workload(
        name=name,
        description=f"{source}, tanh {shape}, Adam lr 0.01 batch 16",
        dataset=dataset,
        split=nn.data.split(dataset, seed=0, **MODERN["split"]),
        config=config,
        training=MODERN["training"],
        neurons="plane",
    )


def digits_workload() -> Workload:
    """A table: digits (64 features, 10 classes), standardized as the modern preset splits
    it, a tanh [64, 32, 32, 10] network, Adam lr 0.01 batch 16; its Neurons view is the
    distributions on (up to 2,000) training rows by class. 300 epochs per run (an epoch
    trains on 1,374 rows)."""
    dataset = nn.data.load_dataset("digits")
    config = {**MODERN["network"], "layers": [64, 32, 32, 10], "activation": "tanh"}
    return Workload(
        name="digits",
        description="digits, tanh [64,32,32,10], Adam lr 0.01 batch 16",
        dataset=dataset,
        split=nn.data.split(dataset, seed=0, **MODERN["split"]),
        config={**config, "init": "xavier"},
        training=MODERN["training"],
        neurons="rows",
        epochs=300,
    )


WORKLOADS: dict[str, Callable[[], Workload]] = {
    "article": article_workload,
    "moons": lambda: maps_workload("moons", "moons", [8, 8]),
    "spirals": lambda: maps_workload("spirals", "spirals", [32, 32, 32]),
    "deep": lambda: maps_workload("deep", "spirals", [16] * 6),
    "digits": digits_workload,
}


# ---- the runs ----


def run_app(
    work: Workload,
    epochs: int,
    budget_s: float,
    pace: str = "fastest",
    neurons: bool = False,
    post_script_gc: bool = False,
) -> dict:
    """Run the app's loop from Start to the end of the run (with ``neurons``, the workload's
    Neurons view drawn live too)."""
    trainer = work.trainer(epochs, pace)
    view = NeuronsView(work.neurons, work.dataset, work.split) if neurons else None
    if view is not None:
        # On the page the view is built when it is chosen, before Start (the full rerun that
        # Start makes finds it up to date): training starts with the figures there to refresh.
        view.draw(trainer)
        view.builds, view.build_s = 0, []
    loop.start(trainer)
    ticks, redraw = 0, []
    start, cpu_start = time.perf_counter(), time.process_time()
    while trainer.running:
        _, seconds = app_tick(trainer, budget_s, view, post_script_gc)
        redraw.append(seconds)
        ticks += 1
    total = time.perf_counter() - start
    assert trainer.status == loop.FINISHED, trainer.message
    result = {
        "seconds": total,
        "cpu_seconds": time.process_time() - cpu_start,
        "epochs": trainer.epochs_trained,
        "ticks": ticks,
        "redraw_median": statistics.median(redraw),
        "redraw_max": max(redraw),
        "weights": trainer.net.get_weights(),
    }
    if view is not None:
        result.update(builds=view.builds, build_s=view.build_s, view_bytes=max(view.sizes))
    return result


def run_bare(work: Workload, epochs: int) -> dict:
    """The same work through ``train_epochs`` with nothing around it."""
    trainer = work.trainer(epochs)
    net = trainer.net
    kwargs = loop.train_kwargs(trainer)
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in net.train_epochs(trainer.X_train, trainer.y_train, epochs=epochs, **kwargs):
        pass
    return {
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - cpu_start,
        "epochs": net.epochs_trained,
        "weights": net.get_weights(),
    }


def same_weights(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def rate(runs: list[dict], clock: str = "seconds") -> float:
    """Median epochs per second of wall time (``clock="cpu_seconds"``: of this process's CPU
    time, which other jobs on the machine disturb less)."""
    return statistics.median(r["epochs"] / r[clock] for r in runs)


def load_average() -> str:
    return "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())


def measure(work: Workload, epochs: int, repeats: int, budget_s: float, gc_: bool) -> dict:
    """Interleaved rounds of the bare loop, the app's loop and the app's loop with the
    workload's Neurons view live; each loop's runs."""
    loops: dict[str, Callable[[int], dict]] = {
        "bare": lambda n: run_bare(work, n),
        "app": lambda n: run_app(work, n, budget_s, post_script_gc=gc_),
    }
    if work.neurons:
        loops["neurons"] = lambda n: run_app(work, n, budget_s, neurons=True, post_script_gc=gc_)
    for run in loops.values():  # warm-up
        run(20)
    names = list(loops)
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            runs[name].append(loops[name](epochs))
    return runs


def rows_of(work: Workload, runs: dict, budget_s: float) -> tuple[list[list[str]], list[str]]:
    """The table rows of one workload and its notes."""
    bare, bare_cpu = rate(runs["bare"]), rate(runs["bare"], "cpu_seconds")
    rows = [[work.name, "bare nn (train_epochs)", f"{bare:.0f}", "100%", "100%", "-", "-", "-", ""]]
    notes = []
    shown = "neuron maps" if work.neurons == "plane" else "neuron distributions"
    labels = {"app": "app: curves", "neurons": f"app: curves + {shown}"}
    for name in ("app", "neurons"):
        if name not in runs:
            continue
        app = runs[name]
        share = rate(app) / bare
        redraws = statistics.median(r["ticks"] / r["seconds"] for r in app)
        draw_ms = 1e3 * statistics.median(r["redraw_median"] for r in app)
        rebuilds = "-"
        if name == "neurons":
            rebuilds = f"{statistics.median(r['builds'] / r['seconds'] for r in app):.2f}"
            times = [s for r in app for s in r["build_s"]]
            took = (
                f"takes {1e3 * statistics.median(times):.0f} ms (median)"
                if times
                else "did not come within a run (too short)"
            )
            kb = max(r["view_bytes"] for r in app) / 1e3
            how = (
                "inside_ui.neuron_figures: the grid's forward pass, both figures refreshed"
                if work.neurons == "plane"
                else "inside_ui.neuron_rows_figure: a forward pass on the training rows, the "
                "boxes refreshed"
            )
            notes.append(
                f"{work.name}: a redraw of the {shown} while training ({how}) {took}; the "
                f"view ships {kb:.0f} kB of JSON per tick."
            )
        met = share >= 0.8 and redraws >= 4
        rows.append(
            [
                work.name,
                labels[name],
                f"{rate(app):.0f}",
                f"{share:.0%}",
                f"{rate(app, 'cpu_seconds') / bare_cpu:.0%}",
                f"{redraws:.2f}",
                rebuilds,
                f"{draw_ms:.1f}",
                "yes" if met else "NO",
            ]
        )
    identical = all(
        same_weights(a["weights"], b["weights"])
        for name in runs
        if name != "bare"
        for a, b in zip(runs[name], runs["bare"], strict=True)
    )
    epochs = runs["bare"][0]["epochs"]
    notes.insert(
        0,
        f"{work.name}: {work.description}; {len(work.split.X_train)} training and "
        f"{len(work.split.X_val)} validation rows (validation scored every epoch), {epochs} "
        f"epochs per run; every loop ends with the bare loop's weights: "
        + ("yes." if identical else "NO - the loops did different work!"),
    )
    return rows, notes, identical


def table(header: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return lines + ["| " + " | ".join(r) + " |" for r in rows]
    widths = [max(len(c) for c in col) for col in zip(header, *rows, strict=True)]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    parser.add_argument("--markdown", action="store_true", help="print markdown")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs of each loop")
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help=f"comma-separated, of: {', '.join(WORKLOADS)}",
    )
    parser.add_argument(
        "--post-script-gc",
        action="store_true",
        help="add Streamlit's default full gc.collect() after every tick to the redraw",
    )
    args = parser.parse_args(argv)
    chosen = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in chosen if w not in WORKLOADS]
    if unknown or not chosen:
        parser.error(f"unknown workloads: {', '.join(unknown) or '(none)'}")
    repeats = args.repeats or (1 if args.quick else 3)
    tick_s, budget_s = TRAIN_UI.TICK_S, TRAIN_UI.BUDGET_S
    blas = threads.limit_blas_threads()  # what every page's setup does, for every loop alike
    np.seterr(all="ignore")  # as run_chunk does: a diverging run is reported, not warned about
    load_start = load_average()

    header = [
        "workload",
        "loop",
        "epochs per second",
        "share of bare",
        "share of bare (CPU time)",
        "redraws per second",
        "Neurons view redrawn per second",
        "redraw ms (median)",
        "target met",
    ]
    rows, notes, ok = [], [], True
    for name in chosen:
        work = WORKLOADS[name]()
        n_epochs = args.epochs or (300 if args.quick else work.epochs or 2000)
        runs = measure(work, n_epochs, repeats, budget_s, args.post_script_gc)
        more_rows, more_notes, identical = rows_of(work, runs, budget_s)
        rows += more_rows
        notes += more_notes
        ok = ok and identical
    watch = None
    if "article" in chosen:
        watch = run_app(article_workload(), ARTICLE["training"]["epochs"], budget_s, "watch")
    load_end = load_average()

    bullet = "- " if args.markdown else "  "
    notes += [
        f"Median of {repeats} interleaved rounds per workload after a warm-up (each round runs "
        "every loop once, in a rotating order). Target: >= 80% of bare, >= 4 redraws/s (wall "
        "time). The share in CPU time divides epochs by this process's CPU seconds: other "
        "jobs on the machine change it less than the wall-time share.",
        f"App tick as on the Train page: run_chunk with BUDGET_S = {budget_s:g} s at the "
        "'fastest' pace, then charts.history_figures and, in the last loop of a workload, the "
        f"Neurons view (redrawn at most every REFRESH_S = {INSIDE_UI.REFRESH_S:g} s), each "
        "figure shipped as "
        "st.plotly_chart does it (to_dict, plotly.io.to_json, the element id's hash)"
        + (
            ", then a full gc.collect() as Streamlit's runner.postScriptGC does"
            if args.post_script_gc
            else " (with runner.postScriptGC off: no gc.collect() per tick)"
        )
        + ". The redraw is the tick's time outside run_chunk. Server side only; TICK_S = "
        f"{tick_s:g} s is shorter than a tick, so the next tick is already queued when one "
        "ends.",
        "BLAS threads: "
        + ("as the libraries choose" if blas is None else str(blas))
        + f" for every loop, as the app's pages set them ({threads.ENV}, default "
        f"{threads.DEFAULT}).",
    ]
    if watch is not None:
        notes.append(
            f"The article's own 100-epoch run at the default 'watch' pace takes "
            f"{watch['ticks']} ticks ({watch['seconds']:.2f} s of server work): that pace "
            f"spreads a short run over about {loop.WATCH_TICKS} redraws on purpose so the "
            "curves visibly grow."
        )
    notes.append(
        f"Load average (1/5/15 min): {load_start} at start, {load_end} at end "
        f"({os.cpu_count()} cores)."
    )
    print("\n".join(table(header, rows, args.markdown)))
    print()
    print("\n".join(bullet + n for n in notes))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
