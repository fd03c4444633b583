"""What every page does first: page config, session state, the navigation and one-shot messages."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import streamlit as st

from dashboard import runs, state
from dashboard.text import md_escape

ROOT = Path(__file__).resolve().parent.parent
APP_TITLE = "Neural network lab"


class Page(NamedTuple):
    """One entry of the navigation."""

    path: str  # relative to the app's root, as st.page_link and st.switch_page want it
    label: str
    icon: str
    description: str = ""


# Add a page here (one line) and it appears in every page's navigation once its file exists.
PAGES = (
    Page("streamlit_app.py", "Home", ":material/home:", "What this is; reproduce the article."),
    Page(
        "pages/1_Data.py",
        "Data",
        ":material/table_chart:",
        "Choose a dataset or upload a CSV, look at it, and set how it is split.",
    ),
    Page(
        "pages/2_Architecture.py",
        "Architecture",
        ":material/account_tree:",
        "Layers, nodes, activations, output and loss, initialisation.",
    ),
    Page(
        "pages/3_Train.py",
        "Train",
        ":material/model_training:",
        "Start, pause, step and reset training while the curves grow.",
    ),
    Page(
        "pages/4_Predict.py",
        "Predict",
        ":material/online_prediction:",
        "Classify a sample, evaluate on the test set, save or load the model.",
    ),
    Page(
        "pages/5_Inside.py",
        "Inside",
        ":material/visibility:",
        "Decision surface, the living network, backprop step by step, trust checks, health.",
    ),
    Page(
        "pages/6_Compare.py",
        "Compare",
        ":material/compare_arrows:",
        "Compare finished runs, train five seeds, share the settings, download a recipe.",
    ),
)
HOME, DATA, ARCHITECTURE, TRAIN, PREDICT = (p.path for p in PAGES[:5])


def available_pages() -> list[Page]:
    """The pages whose files exist."""
    return [p for p in PAGES if (ROOT / p.path).is_file()]


def setup(label: str) -> None:
    """Page config, state, navigation and queued messages: the first call of every page."""
    page = next((p for p in PAGES if p.label == label), None)
    st.set_page_config(
        page_title=f"{label} · {APP_TITLE}",
        page_icon=page.icon if page else None,
        layout="wide",
    )
    state.init()
    state.apply_url_once()
    runs.remember_finished_run()
    state.sync_url()
    with st.sidebar:
        st.markdown(f"**{APP_TITLE}**")
        for p in available_pages():
            st.page_link(p.path, label=p.label, icon=p.icon)
        st.divider()
        for line in status_lines():
            st.caption(line)
    for kind, message in state.pop_flashes():
        getattr(st, kind)(message)


def status_lines() -> list[str]:
    """Where the session stands, as short markdown lines (user text escaped)."""
    ds, s = state.dataset(), state.split()
    sizes = [state.current_network_config()["layers"]]
    lines = [
        f"**Data:** {md_escape(state.dataset_label())}: {len(ds.y):,} rows, "
        f"{ds.X.shape[1]} features, {len(ds.class_names)} classes "
        f"(train {len(s.y_train)} / val {len(s.y_val)} / test {len(s.y_test)})",
        f"**Network:** {' → '.join(map(str, sizes[0]))}, "
        f"{', '.join(sorted(set(state.arch()['activations']))) or 'no hidden layers'} hidden, "
        f"{state.arch()['output_activation']} output",
    ]
    t = state.trainer()
    if t is None or (t.epochs_trained == 0 and not t.running):
        lines.append("**Training:** not started")
    elif t.running:
        lines.append(f"**Training:** {t.status}")
    else:
        last = t.net.history[-1] if t.net.history else None
        acc = f", train accuracy {last.train_accuracy:.3f}" if last else ""
        lines.append(
            f"**Training:** {t.status}, epoch {t.epochs_trained} of {t.target_epochs}{acc}"
        )
    return lines
