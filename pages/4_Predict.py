"""Predict: one sample's class or value, the test-set report, curves and feature importance, a
CSV predicted, the model saved or loaded."""

import streamlit as st

from dashboard import state
from dashboard.common import page_ui
from dashboard.inside import inside_ui
from dashboard.predict import predict_ui

page_ui.setup("Predict")

st.title("Predict")
trainer = state.trainer()
trained = trainer is not None and trainer.epochs_trained > 0
if trained:
    net, split, dataset = trainer.net, state.split(), state.dataset()
    st.caption(
        f"The network after {trainer.epochs_trained} epochs ({trainer.status}). "
        + ("Training goes on when you return to the Train page." if trainer.running else "")
    )
    curves_tab = "Importance" if dataset.is_regression else "Curves"
    sample, test, curves, batch, files = st.tabs(
        ["One sample", "Test set", curves_tab, "Batch CSV", "Model file"]
    )
    with sample:
        x = predict_ui.sample_form(net, split, dataset)
        if x is not None:  # no prediction beside a value the form refused
            predict_ui.prediction_view(net, x, split, dataset)
            inside_ui.sample_surface_ui(net, x)
    with test:
        predict_ui.test_set_view(net, split, dataset)
    with curves:
        predict_ui.evaluation_view(net, split, dataset)
    with batch:
        predict_ui.batch_view(net, split, dataset)
    with files:
        st.markdown("**Save**")
        predict_ui.model_download(net)
        st.markdown("**Load**")
        predict_ui.model_upload()
else:
    page_ui.no_network_yet()
    st.subheader("Load a model")
    predict_ui.model_upload()
