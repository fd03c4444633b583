"""Home: what the lab is, the article reproduced in one click, where the session stands."""

import streamlit as st

from dashboard import state
from dashboard.common import page_ui
from dashboard.store import store_ui

page_ui.setup("Home")

st.title("Neural network lab")
st.markdown(
    "A neural network written from scratch in NumPy, in your browser. Pick a dataset, shape a "
    "network, train it while you watch the loss fall, then ask it questions. Nothing to install, "
    "no code to write.\n\n"
    "It tells classes apart (flowers, wines, digits) or predicts a number (a noisy sine curve, "
    "the progression of diabetes, your own table's prices or measurements).\n\n"
    "It grew out of the article *How to Create a Python-Based Neural Network From Scratch*: "
    "Iris flowers, a small sigmoid network trained one sample at a time by backpropagation. "
    "Start there, then change one thing at a time and see what happens."
)

c1, c2 = st.columns([1, 2], vertical_alignment="center")
if c1.button(
    "Reproduce the article",
    key="home.reproduce",
    type="primary",
    icon=":material/science:",
    width="stretch",
):
    state.reproduce_article()
    st.switch_page(page_ui.TRAIN, query_params=page_ui.settings_params())  # keeps ?ws=
c2.caption(
    "Loads Iris with the article's split (15% test, then 10% of the rest for validation), builds "
    "its 4-5-10-3 sigmoid network with U[-1, 1] weights and trains it for 100 epochs at learning "
    "rate 0.15, one sample at a time, on the Train page. The test accuracy appears next to the "
    "article's when it is done."
)
page_ui.article_result()

st.subheader("Where you are")
for line in page_ui.status_lines():
    st.markdown(line)

st.subheader("The pages")
for p in page_ui.available_pages()[1:]:
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    with c1:
        st.page_link(p.path, label=p.label, icon=p.icon)
    c2.caption(p.description)

store_ui.workspace_ui()
