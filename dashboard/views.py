"""Drawers shared by several pages."""

from __future__ import annotations

import streamlit as st

from dashboard import page, results, state, training


def article_result() -> None:
    """The article run: its progress, then its test accuracy next to the article's figure."""
    t = state.trainer()
    if t is None or t.tag != "article":
        return
    if t.status != training.FINISHED:
        if t.running or t.status == training.READY:
            st.info(
                "Reproducing the article: Iris with its split (15% test, then 10% of the rest "
                "for validation), the 4-5-10-3 sigmoid network with U[-1, 1] weights, per-sample "
                "gradient descent at learning rate 0.15 for 100 epochs. The test accuracy "
                "appears here when it is done.",
                icon=":material/science:",
            )
        return
    report = results.test_report(t.net, state.split(), state.dataset())
    with st.container(border=True):
        st.markdown("**The article, reproduced**")
        c1, c2 = st.columns(2)
        c1.metric("Test accuracy, this run", f"{report['accuracy']:.3f}")
        c2.metric("Test flowers right", f"{report['n_correct']} of {report['n_test']}")
        st.markdown(
            f"The article reports a test accuracy of {results.ARTICLE_FIGURE} for this setup."
        )
        st.caption(
            "One run on a couple of dozen test flowers moves by a few points with the seeds of "
            "the split and the weights; change them (Data and Architecture pages) to see the "
            "spread."
        )


def no_network_yet() -> None:
    """Say what to do when there is no trained network."""
    st.info(
        "There is no trained network yet. Train one on the Train page (press Start), or upload "
        "a saved model (.npz) below.",
        icon=":material/info:",
    )
    st.page_link(page.TRAIN, label="Go to Train", icon=":material/model_training:")
