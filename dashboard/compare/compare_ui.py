"""Widgets of the Compare page: the kept runs side by side, and one setting over five seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from dashboard import state
from dashboard.common import capacity, limits
from dashboard.common.text import md_escape
from dashboard.compare import comparison, runs
from dashboard.training import train_ui

METRICS = ("loss", "accuracy")


def runs_view(records: list[dict]) -> None:
    """Overlaid curves, the settings table with differences highlighted, and test metrics."""
    names = [r["name"] for r in records]
    c1, c2, c3 = st.columns([3, 1, 1])
    shown = c1.multiselect(
        "Runs to show",
        names,
        default=names,
        key=f"compare.shown.{st.session_state.get(state.COMPARE_COUNTER, 0)}.{len(names)}",
    )
    metric = c2.segmented_control(
        "Curves", METRICS, default="loss", required=True, key="compare.metric"
    )
    log_y = c3.toggle(
        "Log scale",
        key="compare.log",
        disabled=metric == "accuracy",
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
        metric if metric in METRICS else "loss",
        log_y=bool(log_y) and metric != "accuracy",
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
            }
        bar.empty()
    study = st.session_state.get(state.COMPARE_SEEDS)
    if study is None:
        return
    if study["snapshot"] != _seed_snapshot():
        st.warning("These results are for earlier settings; run the seeds again to update them.")
    results = study["results"]
    spread = runs.seed_spread(results)
    c1, c2, c3 = st.columns(3)
    if spread["n"]:
        c1.metric("Mean test accuracy", f"{spread['mean']:.3f}")
        c2.metric("Lowest", f"{spread['min']:.3f}")
        c3.metric("Highest", f"{spread['max']:.3f}")
    diverged = [r["seed"] for r in results if r["status"] == "diverged"]
    if diverged:
        st.warning(f"Diverged with seed(s) {', '.join(map(str, diverged))}.")
    metric = st.session_state.get("compare.metric", "loss")
    metric = metric if metric in METRICS else "loss"
    log_y = bool(st.session_state.get("compare.log")) and metric != "accuracy"
    fig = comparison.seed_band_figure([r["history"] for r in results], metric, log_y=log_y)
    st.plotly_chart(fig, key="compare.seed_band")
    st.caption("Lines: the mean over the seeds per epoch; bands: from the lowest to the highest.")
    st.dataframe(runs.seed_table(results), hide_index=True)


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
