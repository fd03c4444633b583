"""Inside: decision surface or fitted curve, every neuron's map, the living network, health,
backprop step by step, trust checks."""

import streamlit as st

from dashboard import state
from dashboard.common import page_ui
from dashboard.inside import inside_ui
from dashboard.training import train_ui

page_ui.setup("Inside")

st.title("Inside")
trainer = state.ensure_trainer()
st.caption(
    "Network " + " → ".join(map(str, trainer.net.config["layers"])) + ". The first four views "
    "follow training live: press Start here or on the Train page and watch them change."
)
train_ui.controls_ui(trainer)
train_ui.status_ui(trainer)

# The open tab lives in the URL (?inside.view=Network), so a link opens the same view.
# The first tab follows the task: "Decision surface", or "Fitted curve"/"Value surface".
views = inside_ui.views(trainer.net)
tabs = st.tabs(views, key="inside.view", bind="query-params")
for tab, view in zip(tabs, views, strict=True):
    if not tab.open:
        continue
    with tab:
        options = inside_ui.view_options_ui(view, "inside", trainer.net)
        inside_ui.live_fragment(view, options, trainer)
        if view == inside_ui.BACKPROP:
            inside_ui.backprop_ui(trainer)
        elif view == inside_ui.TRUST:
            inside_ui.trust_ui(trainer)
