"""Architecture: layers, nodes, activations, output and loss, initialisation, with a diagram."""

import streamlit as st

from dashboard import state
from dashboard.architecture import arch_ui
from dashboard.common import charts, page_ui

page_ui.setup("Architecture")

st.title("Architecture")
dataset = state.dataset()
st.caption(arch_ui.layers_caption(dataset, state.n_inputs()))
page_ui.task_problem_ui("arch")
arch_ui.presets_ui()
confirm_box = st.container()

left, right = st.columns([2, 3])
with left:
    draft = arch_ui.architecture_ui()
problems = arch_ui.problems(draft)
applied = state.arch()
shown = draft if not problems else applied
config = state.current_network_config(shown)

with right:
    for problem in problems:
        st.error(problem)
    for note in arch_ui.pairing_notes(draft, dataset.task):
        st.warning(note, icon=":material/lightbulb:")
    arch_ui.parameters_ui(
        state.current_network_config(draft)["layers"], config["layers"], bool(problems)
    )
    st.plotly_chart(
        charts.network_figure(
            config["layers"],
            list(shown["activations"]),
            shown["output_activation"],
            state.split().preprocessor.input_names(),
            arch_ui.output_names(dataset),
        ),
        key="arch.diagram",
    )
    pending = " (the changed one, not applied yet)" if shown != applied else ""
    st.caption(
        " → ".join(map(str, config["layers"])) + f" nodes{pending}; hover a node for its name."
    )

if draft != applied and not problems and state.is_trained():
    with confirm_box:
        arch_ui.confirm_ui(state.trainer().epochs_trained)

st.page_link(page_ui.TRAIN, label="Next: train it", icon=":material/arrow_forward:")
