"""Training throughput inside the app's live training loop against the bare ``nn`` loop.

The Train page (``pages/3_Train.py``) runs one tick per fragment rerun: ``run_chunk`` trains
whole epochs for ``BUDGET_S`` seconds, then the loss and accuracy figures are rebuilt from the
history and shipped to the browser. This script runs that tick in a loop, with the app's own
helpers (``dashboard.training.loop``, ``dashboard.common.charts``) and the same serialization that
``st.plotly_chart`` performs, and compares its epochs per second with iterating
``nn.Network.train_epochs`` directly on the same work: the article preset (Iris, sigmoid
4-5-10-3, per-sample SGD, lr 0.15) with the number of epochs raised so that the run spans many
ticks. Targets (issue 3): at least 80% of the bare throughput, at least 4 redraws per second.

What is measured is server-side work only: the websocket transfer and the browser's drawing
happen elsewhere. The fragment's timer (``TICK_S``) is shorter than a tick, so the next tick is
already queued when one ends and no idle time is lost between ticks.

Usage: ``python benchmarks/bench_app_loop.py [--quick] [--markdown] [--epochs N]``
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import numpy as np  # noqa: E402
import plotly.io  # noqa: E402
import plotly.tools  # noqa: E402

import nn  # noqa: E402
import nn.data  # noqa: E402
from dashboard.common import charts  # noqa: E402
from dashboard.training import loop  # noqa: E402

ARTICLE = nn.presets.ARTICLE


def tick_settings() -> tuple[float, float]:
    """``(TICK_S, BUDGET_S)`` of the Train page, read from ``dashboard.training.train_ui``.

    That module imports Streamlit (about a second, and a "no runtime" warning), so the import
    happens here with Streamlit's log quietened; the values stay the app's own.
    """
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    with contextlib.redirect_stderr(io.StringIO()):
        from dashboard.training import train_ui
    return train_ui.TICK_S, train_ui.BUDGET_S


# ---- the app's tick: what pages/3_Train.py does per fragment run, minus Streamlit itself ----


def chart_specs(trainer: loop.Trainer) -> list[str]:
    """Build the history figures (loss, accuracy) and serialize each the way
    ``st.plotly_chart`` does."""
    specs = []
    for fig in charts.history_figures(trainer.net.history, trainer.target_epochs):
        figure = plotly.tools.return_figure_from_figure_or_data(fig, validate_figure=True)
        specs.append(plotly.io.to_json(figure, validate=False))
    return specs


def app_tick(
    trainer: loop.Trainer, budget_s: float, post_script_gc: bool = False
) -> tuple[int, float]:
    """One tick: a time-boxed chunk of epochs, then the redraw. Returns (epochs, redraw s).

    With ``post_script_gc`` the redraw also includes the full ``gc.collect()`` that Streamlit
    runs after every script run, fragment runs included, unless ``runner.postScriptGC`` is off.
    """
    done = loop.run_chunk(trainer, budget_s, loop.epochs_per_tick(trainer))
    start = time.perf_counter()
    chart_specs(trainer)
    if post_script_gc:
        gc.collect(2)
    return done, time.perf_counter() - start


# ---- the runs ----


def article_data():
    """The article's Iris split (15% test, then 10% of the rest for validation)."""
    return nn.data.split(nn.data.load_dataset("iris"), seed=0, **ARTICLE["split"])


def make_trainer(split, epochs: int, pace: str) -> loop.Trainer:
    settings = {**loop.DEFAULT_SETTINGS, "epochs": epochs, "pace": pace}
    return loop.Trainer(
        net=nn.Network.from_config(ARTICLE["network"]),
        X_train=split.X_train,
        y_train=split.y_train,
        X_val=split.X_val,
        y_val=split.y_val,
        settings=settings,
    )


def run_app(
    split, epochs: int, budget_s: float, pace: str = "fastest", post_script_gc: bool = False
) -> dict:
    """Run the app's loop from Start to the end of the run."""
    trainer = make_trainer(split, epochs, pace)
    loop.start(trainer)
    ticks, redraw = 0, []
    start = time.perf_counter()
    while trainer.running:
        _, seconds = app_tick(trainer, budget_s, post_script_gc)
        redraw.append(seconds)
        ticks += 1
    total = time.perf_counter() - start
    assert trainer.status == loop.FINISHED, trainer.message
    return {
        "seconds": total,
        "epochs": trainer.epochs_trained,
        "ticks": ticks,
        "redraw_median": statistics.median(redraw),
        "redraw_max": max(redraw),
        "weights": trainer.net.get_weights(),
    }


def run_bare(split, epochs: int) -> dict:
    """The same work through ``train_epochs`` with nothing around it."""
    trainer = make_trainer(split, epochs, "fastest")
    net = trainer.net
    kwargs = loop.train_kwargs(trainer)
    start = time.perf_counter()
    for _ in net.train_epochs(split.X_train, split.y_train, epochs=epochs, **kwargs):
        pass
    return {
        "seconds": time.perf_counter() - start,
        "epochs": net.epochs_trained,
        "weights": net.get_weights(),
    }


def same_weights(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    parser.add_argument("--markdown", action="store_true", help="print markdown")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs of each loop")
    parser.add_argument(
        "--post-script-gc",
        action="store_true",
        help="add Streamlit's default full gc.collect() after every tick to the redraw",
    )
    args = parser.parse_args(argv)
    epochs = args.epochs or (300 if args.quick else 2000)
    repeats = args.repeats or (1 if args.quick else 3)
    tick_s, budget_s = tick_settings()
    split = article_data()
    load_start = "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())

    run_bare(split, 20)  # warm-up
    run_app(split, 20, budget_s)
    app_runs, bare_runs = [], []
    for _ in range(repeats):  # interleaved, so load from elsewhere hits both alike
        bare_runs.append(run_bare(split, epochs))
        app_runs.append(run_app(split, epochs, budget_s, post_script_gc=args.post_script_gc))
    watch = run_app(split, ARTICLE["training"]["epochs"], budget_s, pace="watch")

    bare_rate = statistics.median(r["epochs"] / r["seconds"] for r in bare_runs)
    app_rate = statistics.median(r["epochs"] / r["seconds"] for r in app_runs)
    redraws = statistics.median(r["ticks"] / r["seconds"] for r in app_runs)
    redraw_s = statistics.median(r["redraw_median"] for r in app_runs)
    redraw_max = max(r["redraw_max"] for r in app_runs)
    identical = all(
        same_weights(a["weights"], b["weights"]) for a, b in zip(app_runs, bare_runs, strict=True)
    )
    share = app_rate / bare_rate
    load_end = "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())

    header = ["loop", "epochs per second", "share of bare", "redraws per second", "target", "met"]
    rows = [
        ["bare nn (train_epochs)", f"{bare_rate:.0f}", "100%", "-", "", ""],
        [
            f"app (run_chunk {budget_s:g} s + figure)",
            f"{app_rate:.0f}",
            f"{share:.0%}",
            f"{redraws:.2f}",
            ">= 80% of bare, >= 4 redraws/s",
            "yes" if share >= 0.8 and redraws >= 4 else "NO",
        ],
    ]
    if args.markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
    else:
        widths = [max(len(c) for c in col) for col in zip(header, *rows, strict=True)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header]]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    bullet = "- " if args.markdown else "  "
    notes = [
        f"Work: the article preset (Iris, {len(split.X_train)} training and "
        f"{len(split.X_val)} validation rows, sigmoid 4-5-10-3, SGD batch 1, lr 0.15, "
        f"validation scored every epoch) for {epochs} epochs, so that a run spans many ticks; "
        f"median of {repeats} interleaved runs of each loop after a warm-up.",
        f"App tick as on the Train page: run_chunk with BUDGET_S = {budget_s:g} s at the "
        f"'fastest' pace, then charts.history_figures and their serialization as st.plotly_chart "
        f"does it (to_dict + plotly.io.to_json)"
        + (
            ", then a full gc.collect() as Streamlit's runner.postScriptGC does"
            if args.post_script_gc
            else " (with runner.postScriptGC off: no gc.collect() per tick)"
        )
        + f". Redraw median {redraw_s * 1e3:.1f} ms, "
        f"slowest {redraw_max * 1e3:.1f} ms. Server side only; TICK_S = {tick_s:g} s is "
        "shorter than a tick, so the next tick is already queued when one ends.",
        "Both loops end with identical weights: "
        + ("yes (same work)." if identical else "NO - the loops did different work!"),
        f"The article's own 100-epoch run at the default 'watch' pace takes {watch['ticks']} "
        f"ticks ({watch['seconds']:.2f} s of server work): that pace spreads a short run over "
        f"about {loop.WATCH_TICKS} redraws on purpose so the curves visibly grow.",
        f"Load average (1/5/15 min): {load_start} at start, {load_end} at end (2 cores).",
    ]
    print("\n".join(lines))
    print()
    print("\n".join(bullet + n for n in notes))
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
