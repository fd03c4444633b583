"""Data: choose or upload a dataset, look at it, and decide how it is split."""

import streamlit as st

from dashboard import state
from dashboard.common import limits, page_ui
from dashboard.data import data_ui

page_ui.setup("Data")

st.title("Data")
st.caption(limits.LIMITS_TEXT)
data_ui.source_ui()

dataset, split = state.dataset(), state.split()
st.subheader("The current dataset")
st.text(state.dataset_label())
c1, c2, c3 = st.columns(3)
c1.metric("Rows", f"{len(dataset.y):,}")
c2.metric("Features", dataset.X.shape[1])
data_ui.target_metric(c3, dataset)
data_ui.overview(dataset)

st.subheader("Split")
if state.is_trained():
    st.caption(
        f"Changing the dataset or the split discards the trained network "
        f"({state.trainer().epochs_trained} epochs)."
    )
data_ui.split_ui()
c1, c2, c3 = st.columns(3)
c1.metric("Training rows", len(split.y_train))
c2.metric("Validation rows", len(split.y_val))
c3.metric("Test rows", len(split.y_test))
if split.scaler is not None:
    st.caption("Standardized with the mean and spread of the training rows only.")

st.page_link(page_ui.ARCHITECTURE, label="Next: the architecture", icon=":material/arrow_forward:")
