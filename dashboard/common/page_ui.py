"""What every page does first: page config, session state, the navigation and one-shot messages."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import streamlit as st

import nn
from dashboard import state
from dashboard.common import threads
from dashboard.common.text import md_escape
from dashboard.predict import results
from dashboard.share import link
from dashboard.store import store_ui
from dashboard.training import loop

ROOT = Path(__file__).resolve().parents[2]
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
        "Start, pause, step and reset training while the loss and accuracy (or R²) curves grow.",
    ),
    Page(
        "pages/4_Predict.py",
        "Predict",
        ":material/online_prediction:",
        "Classify a sample or predict a number, evaluate on the test set, save or load the model.",
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


# Below this width Streamlit's sidebar is an overlay (its "md" breakpoint, 768 px): it starts
# collapsed, but once opened it stays over the page after a link in it is used. There the page
# links move to a row at the top of the main area and leave the sidebar.
NARROW = "(max-width: 767.98px)"
# Below this width st.columns stack (Streamlit's 640 px "columns" breakpoint).
PHONE = "(max-width: 639.98px)"
NAV_TOP, NAV_SIDE = "nav.top", "nav.side"  # the two link containers (CSS classes st-key-nav-...)
# The app's own constant CSS (never user text), sent by setup() with every page run:
# - the navigation rows above;
# - chart toolbars: plotly shows its toolbar ("modebar") only while the pointer is over a chart,
#   except on screens without hover (phones), where it shows it always, over the chart's title
#   and legend; there it appears once the chart is touched (so do the tables' toolbars);
# - tab bars wrap onto a second line on a phone instead of cutting off their last tabs;
# - wide equations (st.latex) scroll sideways (Streamlit's own rule) with a visible scroll bar
#   (Streamlit makes it transparent) and a shadow at an edge with more beyond it, which a phone
#   shows even where scroll bars only appear while scrolling. The shadow's covers are painted in
#   the theme's background colour (.streamlit/config.toml).
BACKGROUND = st.get_option("theme.backgroundColor") or (
    "#0e1117" if st.get_option("theme.base") == "dark" else "#ffffff"
)
PAGE_CSS = f"""<style>
@media not all and {NARROW} {{
  .st-key-nav-top,
  [data-testid="stLayoutWrapper"]:has(> .st-key-nav-top),
  [data-testid="stElementContainer"]:has(> .st-key-nav-top) {{ display: none; }}
}}
@media {NARROW} {{
  .st-key-nav-top {{ gap: 0.1rem 0.25rem; }}
  .st-key-nav-top [data-testid="stPageLink"] {{ width: auto; }}
  .st-key-nav-top [data-testid="stPageLink-NavLink"] {{ padding: 0.2rem 0.4rem; }}
  .st-key-nav-side {{ display: none; }}
}}
@media (hover: none) {{
  [data-testid="stPlotlyChart"] .modebar-container,
  [data-testid="stElementToolbar"] {{ visibility: hidden; }}
  [data-testid="stPlotlyChart"]:hover .modebar-container,
  [data-testid="stPlotlyChart"]:focus-within .modebar-container,
  [data-testid="stFullScreenFrame"]:hover [data-testid="stElementToolbar"],
  [data-testid="stFullScreenFrame"]:focus-within [data-testid="stElementToolbar"] {{
    visibility: visible;
  }}
}}
@media {PHONE} {{
  [data-testid="stTabs"] [role="tablist"] {{ flex-wrap: wrap; overflow-x: visible; row-gap: 0; }}
  [data-testid="stTabsScrollLeft"], [data-testid="stTabsScrollRight"] {{ display: none; }}
}}
[data-testid="stMarkdownContainer"] .katex-display {{
  overflow-x: auto;
  overflow-y: hidden;
  padding-bottom: 0.4rem;
  scrollbar-width: thin;
  scrollbar-color: rgba(128, 128, 128, 0.6) transparent;
  background:
    linear-gradient(to right, {BACKGROUND} 40%, transparent) left / 2.5rem 100% no-repeat local,
    linear-gradient(to left, {BACKGROUND} 40%, transparent) right / 2.5rem 100% no-repeat local,
    radial-gradient(farthest-side at 0 50%, rgba(0, 0, 0, 0.2), transparent)
      left / 0.8rem 100% no-repeat scroll,
    radial-gradient(farthest-side at 100% 50%, rgba(0, 0, 0, 0.2), transparent)
      right / 0.8rem 100% no-repeat scroll;
}}
</style>"""


def settings_params() -> dict[str, str]:
    """The experiment's settings as the address holds them (``state.sync_url`` wrote them),
    and the workspace token."""
    keys = (*link.PARAMS, store_ui.TOKEN)
    return {k: v for k, v in st.query_params.to_dict().items() if k in keys}


def page_link(path: str, label: str, icon: str) -> None:
    """A link to another page that carries the settings in its address, so that the page it
    opens (in this tab, or in a new one) shows the same experiment."""
    st.page_link(path, label=label, icon=icon, query_params=settings_params() or None)


def navigation() -> None:
    """The page links: in the sidebar, and in a row at the top of the page on narrow screens
    (CSS picks one by the screen's width)."""
    st.html(PAGE_CSS)
    pages = available_pages()
    with st.container(key=NAV_TOP, horizontal=True, gap="small"):
        for p in pages:
            page_link(p.path, p.label, p.icon)
    with st.sidebar:
        st.markdown(f"**{APP_TITLE}**")
        with st.container(key=NAV_SIDE):
            for p in pages:
                page_link(p.path, p.label, p.icon)
        st.divider()
        for line in status_lines():
            st.caption(line)


def setup(label: str) -> None:
    """Page config, state, navigation and queued messages: the first call of every page."""
    threads.limit_blas_threads()  # acts once per server process; reruns only compare a string
    page = next((p for p in PAGES if p.label == label), None)
    st.set_page_config(
        page_title=f"{label} · {APP_TITLE}",
        page_icon=page.icon if page else None,
        layout="wide",
        initial_sidebar_state="auto",  # collapsed on narrow screens, open on wide ones
    )
    state.init()
    store_ui.open_once()  # the workspace of the address, or the settings of a shared link
    state.remember_finished_run()
    state.sync_url()  # and saves what changed (state.AFTER_CHANGE: store_ui.save)
    navigation()
    for kind, message in state.pop_flashes():
        getattr(st, kind)(message)


def status_lines() -> list[str]:
    """Where the session stands, as short markdown lines (user text escaped)."""
    ds, s = state.dataset(), state.split()
    sizes = [state.current_network_config()["layers"]]
    target = (
        f"a number to predict ({md_escape(ds.target or 'target', 60)})"
        if ds.is_regression
        else f"{len(ds.class_names)} classes"
    )
    lines = [
        f"**Data:** {md_escape(state.dataset_label())}: {len(ds.y):,} rows, "
        f"{ds.X.shape[1]} feature{'' if ds.X.shape[1] == 1 else 's'}, {target} "
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
        metric = nn.task.get(t.net.task).metric
        value = getattr(last, f"train_{metric}", None) if last else None
        name = "R²" if metric == "r2" else metric
        acc = f", train {name} {value:.3f}" if value is not None else ""
        lines.append(
            f"**Training:** {t.status}, epoch {t.epochs_trained} of {t.target_epochs}{acc}"
        )
    return lines


def article_result() -> None:
    """The article run: its progress, then its test accuracy next to the article's figure."""
    t = state.trainer()
    if t is None or t.tag != "article":
        return
    if t.status != loop.FINISHED:
        if t.running or t.status == loop.READY:
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
    page_link(TRAIN, "Go to Train", ":material/model_training:")


def task_problem_ui(prefix: str) -> bool:
    """An output layer made for the other task (it cannot be built on this data), said in
    words, with its one-click fix (``state.fit_arch_to_task``); True when it was shown."""
    problem = state.arch_task_problem()
    if problem is None:
        return False
    with st.container(border=True):
        st.error(problem, icon=":material/error:")
        st.button(
            "Fit the output layer to the data",
            key=f"{prefix}.fit_task",
            on_click=state.fit_arch_to_task,
            type="primary",
        )
    return True


def bind(key: str, value) -> None:
    """Give the widget ``key`` the value ``value`` unless it already has one.

    Streamlit drops a widget's value when its page is not shown; the app keeps the value in its
    own state and seeds the widget from it here, before the widget is drawn.
    """
    if key not in st.session_state:
        st.session_state[key] = value


def show_limit_messages(messages: list[str]) -> None:
    """Tell the user which values were clamped to the demo's limits."""
    for message in messages:
        st.warning(md_escape(message, max_len=400), icon=":material/block:")
