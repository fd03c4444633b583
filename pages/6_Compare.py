"""Compare: finished runs side by side, five seeds of one setting, the link and the recipe."""

import streamlit as st

from dashboard import state
from dashboard.common import page_ui
from dashboard.compare import compare_ui, cv_ui, runs
from dashboard.share import share_ui

page_ui.setup("Compare")

st.title("Compare")
st.caption(
    "Change one thing, train again, and see what it did: every finished run of this session is "
    "kept here with its settings and test results."
)
records = state.run_records()
if records:
    compare_ui.runs_view(records)
else:
    compare_ui.empty_view()

st.subheader(f"The current settings over {runs.N_SEEDS} seeds")
compare_ui.seeds_ui()

st.subheader("Cross-validation of the current settings")
cv_ui.cv_ui()

st.subheader("Share these settings")
share_ui.share_link_ui()

st.subheader("Reproduce the current run anywhere")
share_ui.recipe_ui(state.trainer())
