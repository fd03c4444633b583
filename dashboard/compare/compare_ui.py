"""Widgets of the Compare page: the kept runs side by side, and one setting over five seeds.

Runs are compared with runs of their own task: accuracy for classification, R^2 (with MAE and
RMSE in the table) for regression.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

import nn
from dashboard import state
from dashboard.common import capacity, limits
from dashboard.common.text import md_escape
from dashboard.compare import baselines, comparison, runs
from dashboard.training import train_ui

# The curves: the loss, or the task's own figure ("score": accuracy, or R² for regression).
METRICS = ("loss", "score")
TASK_LABELS = {runs.CLASSIFICATION: "Classification", runs.REGRESSION: "Regression"}


def metric_label(metric: str, task: str) -> str:
    """How the curves' choice reads: "loss", and "accuracy" or "R²" for the task's figure."""
    if metric != "score":
        return metric
    return comparison.METRIC_TITLES[nn.task.get(task).metric]


def chart_metric(metric, task: str) -> str:
    """The per-epoch figure to draw for the curves' choice (checked: "loss" when unknown)."""
    return nn.task.get(task).metric if metric == "score" else "loss"


def chosen_chart_metric(task: str) -> str:
    """The per-epoch figure the page's "Curves" choice asks for (the loss until it is drawn),
    for the other charts of the page (seeds, folds)."""
    return chart_metric(st.session_state.get("compare.metric", "loss"), task)


def task_ui(records: list[dict]) -> str:
    """The task whose runs are compared: the only one, or, when runs of both are kept, the
    one picked (the latest run's at first), with a sentence saying why."""
    counts = {t: 0 for t in TASK_LABELS}
    for record in records:
        counts[runs.record_task(record)] = counts.get(runs.record_task(record), 0) + 1
    present = [t for t, n in counts.items() if n]
    latest = runs.record_task(records[-1])
    if len(present) < 2:
        return latest
    chosen = st.segmented_control(
        "Task",
        present,
        default=latest,
        format_func=lambda t: f"{TASK_LABELS.get(t, t)} ({counts[t]})",
        required=True,
        key="compare.task",
    )
    task = chosen if chosen in present else latest  # checked on the server
    st.info(comparison.task_note(counts, task), icon=":material/rule:")
    return task


def runs_view(records: list[dict]) -> None:
    """Overlaid curves, the settings table with differences highlighted, and test metrics."""
    task = task_ui(records)
    records = [r for r in records if runs.record_task(r) == task]
    names = [r["name"] for r in records]
    c1, c2, c3 = st.columns([3, 1, 1])
    counter = st.session_state.get(state.COMPARE_COUNTER, 0)
    shown = c1.multiselect(
        "Runs to show",
        names,
        default=names,
        key=f"compare.shown.{task}.{counter}.{len(names)}",
    )
    metric = c2.segmented_control(
        "Curves",
        METRICS,
        default="loss",
        required=True,
        format_func=lambda m: metric_label(m, task),
        key="compare.metric",
    )
    metric = chart_metric(metric, task)
    log_y = c3.toggle(
        "Log scale",
        key="compare.log",
        disabled=metric != "loss",
        help="The loss on a log scale: one run that blew up no longer flattens the others.",
    )
    chosen = [r for r in records if r["name"] in shown]
    if not chosen:
        st.info("Pick at least one run.")
        return
    different = comparison.data_differences([r["settings"] for r in chosen])
    if different:
        st.warning(md_escape(different, 600), icon=":material/compare_arrows:")
    fig = comparison.run_comparison_figure(
        [(r["name"], r["history"]) for r in chosen],
        metric,
        log_y=bool(log_y) and metric == "loss",
    )
    st.plotly_chart(fig, key="compare.curves")
    st.caption("Solid: training; dashed: validation. One colour per run.")
    table, differing = settings_rows(chosen)
    st.dataframe(
        highlight_rows(table, differing),
        height=min(38 + 35 * len(table), 1200),
        # the index holds names such as "training.early_stopping": wide enough to read them
        column_config={"_index": st.column_config.Column("setting", width=200)},
    )
    st.caption(
        (
            f"Highlighted: the settings that differ ({', '.join(differing)}); then the test "
            "results; then the settings the runs share. "
            if differing
            else "The runs share every setting (only the results may differ). "
        )
        + f"The session keeps the last {runs.MAX_RUNS} finished runs; the oldest is dropped first."
    )
    st.button(
        "Forget all runs",
        key="compare.forget",
        on_click=state.forget_runs,
        icon=":material/delete:",
    )


def settings_rows(records: list[dict]) -> tuple[pd.DataFrame, list[str]]:
    """One column per run, one row per setting or result: differing settings first, then the
    results, then the shared settings. Returns the table and the names of the differing rows."""
    table, mask = comparison.settings_table(
        [r["settings"] for r in records],
        [r["name"] for r in records],
        [r["metrics"] for r in records],
    )
    results = [c for c in records[0]["metrics"] if c in table.columns]
    differing = [c for c in table.columns if bool(mask.get(c, False)) and c not in results]
    shared = [c for c in table.columns if c not in differing and c not in results]
    rows = table[differing + results + shared].astype(object).T
    rows.index.name = "setting"
    return rows, differing


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def highlight_rows(table: pd.DataFrame, rows: list[str], color: str = "#fff3b0") -> Styler:
    """A Styler that shades ``rows`` and holds every cell as short text."""

    def shade(row: pd.Series) -> list[str]:
        return [f"background-color: {color}" if row.name in rows else ""] * len(row)

    # Text in every cell, not just in what the Styler shows: a run's column mixes names and
    # numbers, which Arrow cannot hold in one column (Streamlit logged a conversion error on
    # every render). The grid would also draw an empty cell as "None": gaps become a dash.
    table = table.astype(object).where(table.notna(), "–").map(_cell)
    return table.style.apply(shade, axis=1)


def _seed_snapshot() -> dict:
    """What a five-seed study depends on (to tell when its result is out of date)."""
    config = state.current_network_config()
    return {
        "network": {k: v for k, v in config.items() if k != "seed"},
        "training": dict(state.train_settings()),
        "data_version": st.session_state[state.DATA_VERSION],
    }


def seeds(base: int) -> list[int]:
    """``runs.N_SEEDS`` seeds starting at ``base`` (wrapping within the allowed range)."""
    return [(base + i) % (limits.MAX_SEED + 1) for i in range(runs.N_SEEDS)]


def seeds_ui() -> None:
    """ "Run 5 seeds": the current settings trained from five seeds, then mean and range."""
    config = state.current_network_config()
    chosen = seeds(int(config["seed"]))
    st.caption(
        f"Trains the current settings (Architecture and Train pages) {runs.N_SEEDS} times, from "
        f"seeds {chosen[0]} to {chosen[-1]}: the initial weights and the shuffling change, the "
        "split stays. How much the results move is how much one run can be trusted."
    )
    clicked = st.button(
        f"Run {runs.N_SEEDS} seeds",
        key="compare.seeds_run",
        type="primary",
        icon=":material/casino:",
    )
    if clicked:
        bar = st.progress(0.0, text="Starting...")
        settings = {**state.train_settings(), "pace": "fastest"}
        target = int(settings["epochs"])

        def progress(i: int, done: int, total: int) -> None:
            share = (i + min(done, total) / max(total, 1)) / runs.N_SEEDS
            bar.progress(min(share, 1.0), text=f"Seed {chosen[i]}: epoch {done} of {target}")

        try:
            results = runs.train_seeds(
                config,
                state.split(),
                settings,
                chosen,
                progress,
                slots=capacity.SLOTS,
                slot_key=train_ui.session_key(),
            )
        except runs.ServerBusyError as exc:
            st.warning(str(exc), icon=":material/hourglass_top:")
        else:
            st.session_state[state.COMPARE_SEEDS] = {
                "results": results,
                "snapshot": _seed_snapshot(),
                "reference": seed_reference(config),
            }
        bar.empty()
    study = st.session_state.get(state.COMPARE_SEEDS)
    if study is None:
        return
    if study["snapshot"] != _seed_snapshot():
        st.warning("These results are for earlier settings; run the seeds again to update them.")
    results = study["results"]
    task = results[0].get("task", runs.CLASSIFICATION) if results else runs.CLASSIFICATION
    spread = runs.seed_spread(results)
    c1, c2, c3 = st.columns(3)
    if spread["n"]:
        name = comparison.METRIC_TITLES[nn.task.get(task).metric]
        c1.metric(f"Mean test {name}", f"{spread['mean']:.3f}")
        c2.metric("Lowest", f"{spread['min']:.3f}")
        c3.metric("Highest", f"{spread['max']:.3f}")
    if task == runs.REGRESSION and study.get("reference"):
        st.caption(reference_text(study["reference"]))
    diverged = [r["seed"] for r in results if r["status"] == "diverged"]
    if diverged:
        st.warning(f"Diverged with seed(s) {', '.join(map(str, diverged))}.")
    metric = chosen_chart_metric(task)
    log_y = bool(st.session_state.get("compare.log")) and metric == "loss"
    fig = comparison.seed_band_figure([r["history"] for r in results], metric, log_y=log_y)
    st.plotly_chart(fig, key="compare.seed_band")
    st.caption("Lines: the mean over the seeds per epoch; bands: from the lowest to the highest.")
    st.dataframe(runs.seed_table(results), hide_index=True)


def seed_reference(config: dict) -> dict | None:
    """For regression, the test R² of scikit-learn's linear regression and of always predicting
    the mean on the same split: what the seeds' R² means (quick; no MLP)."""
    split = state.split()
    if config.get("task") != runs.REGRESSION or not len(split.y_test):
        return None
    scores = baselines.regression_baselines(
        split.X_train, split.y_train, split.X_test, split.y_test, mlp=False
    )
    return {name: figures["r2"] for name, figures in scores.items()}


def reference_text(reference: dict) -> str:
    """The seeds' reference figures in a sentence."""
    return (
        f"For reference, on the same test rows: linear regression scores R² "
        f"{reference['LinearRegression']:.3f}, and always predicting the mean of the training "
        f"targets {reference[baselines.MEAN_PREDICTOR]:.3f}."
    )


def empty_view() -> None:
    """What to do when no run has finished yet."""
    t = state.trainer()
    where = ""
    if t is not None and t.epochs_trained and t.status not in runs.ENDED:
        where = (
            f" The current run is at epoch {t.epochs_trained} of {t.target_epochs} "
            f"({md_escape(t.status)})."
        )
    st.info(
        "No finished runs yet. Each run that finishes on the Train page (or stops early, or "
        f"diverges) is kept here, up to {runs.MAX_RUNS}, to compare curves and settings.{where}",
        icon=":material/info:",
    )
