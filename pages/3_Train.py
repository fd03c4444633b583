"""Train: settings, Start/Pause/Step/Reset, and live loss and accuracy (or R²) curves."""

import streamlit as st

from dashboard import state
from dashboard.common import charts, page_ui
from dashboard.inside import inside_ui
from dashboard.share import share_ui
from dashboard.training import loop, train_ui

page_ui.setup("Train")

st.title("Train")
if state.trainer() is None and page_ui.task_problem_ui("train"):
    st.stop()
trainer = state.ensure_trainer()
st.caption(
    "Network " + " → ".join(map(str, trainer.net.config["layers"])) + f" on "
    f"{len(trainer.y_train)} training and {len(trainer.y_val)} validation rows. "
    "Press Start; pause, step one epoch at a time or change the learning rate whenever you like."
)
train_ui.release_idle_slot(trainer)
train_ui.settings_ui(trainer)
train_ui.controls_ui(trainer)
train_ui.status_ui(trainer)
page_ui.article_result()
look, look_options = inside_ui.live_choice_ui("train")


@st.fragment(run_every=train_ui.tick_every(trainer))
def live_view() -> None:
    """One tick: redraw the counters and the chart, then train a time-boxed chunk of epochs
    (or, while all the server's training slots are taken, keep the place in the queue).

    Drawing first keeps the elements fresh while the chunk runs (Streamlit fades elements that
    a running script has not redrawn yet); the next tick shows this chunk's epochs.
    """
    t = state.trainer()
    if t is None:
        return
    train_ui.progress_ui(t)
    # side by side on a wide screen, one above the other on a phone (st.columns stacks there)
    loss, accuracy = charts.history_figures(t.net.history, t.target_epochs, task=t.net.task)
    left, right = st.columns(2)
    left.plotly_chart(loss, key="train.chart")
    right.plotly_chart(accuracy, key="train.accuracy_chart")
    inside_ui.draw_live(look, t, look_options, "train")
    train_ui.live_tick(t)


live_view()

if trainer.net.history and not trainer.running:
    st.download_button(
        "Download the history (CSV)",
        loop.history_csv(trainer.net.history, trainer.net.task),
        file_name="history.csv",
        mime="text/csv",
        key="train.history_download",
        on_click="ignore",
        icon=":material/download:",
    )
    share_ui.recipe_download(trainer, "train.recipe")
    st.page_link(page_ui.PREDICT, label="Next: predict", icon=":material/arrow_forward:")
