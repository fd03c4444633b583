"""Widgets for sharing: the link that recreates the experiment, and the recipe download."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from dashboard import state
from dashboard.common import page_ui
from dashboard.share import bundle, link
from dashboard.training import loop
from nn import recipe

LINK_PAGE = page_ui.TRAIN  # a shared link opens on the Train page, ready to press Start


def _page_name(path: str) -> str:
    stem = Path(path).stem
    return stem.split("_", 1)[1] if "_" in stem and stem[0].isdigit() else ""


def share_link(query: str) -> str:
    """The link for ``query``: this app's Train page when the app's address is known."""
    url = st.context.url or ""
    if not url.startswith(("http://", "https://")):
        return "?" + query if query else "(the app's address, with no parameters)"
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    names = {_page_name(p.path) for p in page_ui.PAGES} - {""}
    if segments and segments[-1] in names:
        segments = segments[:-1]
    path = "/" + "/".join([*segments, _page_name(LINK_PAGE)])
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def share_link_ui() -> None:
    """The link that recreates the current settings, with what it does and does not carry."""
    params = link.encode(state.current_experiment())
    st.code(share_link(urlencode(params)), language=None, wrap_lines=True)
    notes = [
        "The address bar holds the same settings on every page: copy it from there or from "
        "here. Opening the link in a new tab loads the dataset, split, architecture and "
        "training settings (each value checked; anything out of range falls back to the "
        "default). The training itself is not in the link: press Start to run it again.",
    ]
    if state.data_spec().get("source") == "csv":
        notes.append("An uploaded CSV cannot travel in a link: whoever opens it uploads it again.")
    for note in notes:
        st.caption(note)


def recipe_download(trainer: loop.Trainer, key: str) -> None:
    """Download the standalone script, its settings and the data that repeat this run."""
    settings = bundle.recipe_settings(trainer, state.split_settings())
    dataset = state.dataset()
    st.download_button(
        "Download the recipe (.zip)",
        lambda: bundle.recipe_zip(settings, dataset),  # built on click, not on every rerun
        file_name="recipe.zip",
        mime="application/zip",
        key=key,
        on_click="ignore",
        icon=":material/receipt_long:",
        help=f"{recipe.SCRIPT_NAME} (NumPy only), {recipe.SETTINGS_NAME} and {recipe.DATA_NAME}. "
        f"Run: python {recipe.SCRIPT_NAME} --data {recipe.DATA_NAME} "
        f"--settings {recipe.SETTINGS_NAME}",
    )
    for note in bundle.recipe_notes(
        trainer,
        state.split_settings(),
        state.manual_steps(trainer.net),
        state.split().preprocessor,
    ):
        st.caption(note)


def recipe_ui(trainer: loop.Trainer | None) -> None:
    """The recipe of the current run: what it is, its settings, the download."""
    if trainer is None:
        trainer = state.ensure_trainer()
    what = "the current run"
    if trainer.epochs_trained == 0:
        what = (
            f"the run the current settings make ({trainer.target_epochs} epochs; nothing is "
            "trained yet)"
        )
    st.markdown(
        f"A standalone Python script (NumPy only, no code of this lab) that repeats {what} step "
        f"by step: the same split, initial weights, sample order and updates, so its numbers "
        f"match the app's to rounding. Unzip and run `python {recipe.SCRIPT_NAME}`."
    )
    recipe_download(trainer, "compare.recipe")
    with st.expander(f"The settings ({recipe.SETTINGS_NAME})"):
        settings = bundle.recipe_settings(trainer, state.split_settings())
        st.code(bundle.settings_json(settings, state.dataset()), language="json")
