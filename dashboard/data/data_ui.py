"""Widgets of the Data page: dataset choice, CSV upload, plot controls, split settings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

import nn
from dashboard import state
from dashboard.common import charts, limits
from dashboard.common.page_ui import bind, show_limit_messages
from dashboard.common.text import display_name, md_escape, sentence
from dashboard.data import datasets
from nn.preprocess import MAX_CATEGORIES


def source_ui() -> None:
    """Pick the dataset; a change is applied at once (a CSV after "Use this CSV")."""
    spec = state.data_spec()
    bind("data.source", spec["source"])
    source = st.selectbox(
        "Dataset",
        options=datasets.source_options(),
        format_func=datasets.source_label,
        key="data.source",
        help="Classes: the network answers which of a few kinds a row is. Numbers "
        "(regression): it predicts a quantity, scored by R².",
    )
    if source not in datasets.SOURCES:  # a widget value is checked, never trusted
        st.warning(f"Dataset: {md_escape(repr(source), 80)} is not offered.")
        return
    if source == datasets.CSV:
        csv_ui()
        return
    requested = {"source": source}
    if source in datasets.SYNTHETIC:
        requested.update(synthetic_ui(spec if spec["source"] in datasets.SYNTHETIC else {}))
    if requested != spec:
        try:
            state.set_dataset(datasets.load_spec(requested), requested)
        except ValueError as exc:
            st.error(f"That dataset could not be loaded: {md_escape(exc, 400)}")
            return
        st.rerun()


def synthetic_ui(spec: dict) -> dict:
    """Sample count, noise and seed of a generated set, checked against the limits."""
    defaults = {
        **datasets.SYNTHETIC_DEFAULTS,
        **{k: spec[k] for k in datasets.SYNTHETIC_DEFAULTS if k in spec},
    }
    bind("data.n_samples", defaults["n_samples"])
    bind("data.noise", defaults["noise"])
    bind("data.seed", defaults["seed"])
    c1, c2, c3 = st.columns(3)
    n = c1.number_input("Samples", 20, limits.MAX_SYNTHETIC_SAMPLES, step=50, key="data.n_samples")
    noise = c2.slider("Noise", 0.0, 1.0, step=0.05, key="data.noise")
    seed = c3.number_input("Seed", 0, limits.MAX_SEED, step=1, key="data.seed")
    checked, messages = datasets.check_synthetic_params(
        {"n_samples": n, "noise": noise, "seed": seed}
    )
    show_limit_messages(messages)
    return checked


def csv_ui() -> None:
    """Upload a CSV, preview it, pick the target, set each column's role and type and how gaps
    are filled, and use it (or keep the old data)."""
    st.caption(
        "One row per sample and a target column: a class, or a number to predict; other "
        "columns may hold numbers, categories or gaps. "
        f"Up to {limits.MAX_UPLOAD_MB} MB and {limits.MAX_COLUMNS} feature "
        f"columns; a longer file is sampled to {limits.MAX_ROWS:,} rows. Column names and class "
        f"labels of up to {limits.MAX_NAME_LENGTH} characters. The current dataset stays "
        "selected until you press **Use this CSV**."
    )
    upload = st.file_uploader("CSV file", type=["csv", "txt"], key="data.upload")
    if upload is None:
        return
    raw = upload.getvalue()
    try:
        sample = datasets.csv_sample(raw)
    except ValueError as exc:
        st.error(
            f"This file cannot be used: {md_escape(sentence(exc), 400)}", icon=":material/error:"
        )
        return
    st.dataframe(datasets.preview_frame(sample.head(5)), hide_index=True)
    columns = list(sample.columns)
    guess, why = nn.columns.default_target(sample)
    if st.session_state.get(state.CSV_TARGET_FILE) != upload.file_id:
        st.session_state[state.CSV_TARGET_FILE] = upload.file_id
        st.session_state.pop("data.target", None)  # a new file starts from its own default
    target = st.selectbox(
        "Target column (the class or number to predict)",
        columns,
        index=columns.index(guess),
        key="data.target",
    )
    if target not in columns:  # a widget value is checked, never trusted
        st.warning(f"Target: {md_escape(repr(target), 80)} is not a column of this file.")
        return
    if target == guess:
        st.caption(f"Picked {md_escape(guess, 80)}: {why}. Choose another above if needed.")
    task = task_ui(sample, target, upload.file_id)
    roles, types, fill = columns_ui(sample, target, upload.file_id)
    missing, fill = gaps_ui(sample, roles, types, target, fill)
    spec = {
        "source": datasets.CSV,
        "file_name": upload.name,
        "target": target,
        "task": task,
        "file_id": upload.file_id,
        "roles": roles,
        "types": types,
        "missing": missing,
        "fill": fill,
    }
    if state.data_spec() == spec:
        st.caption("This file is the current dataset.")
        leaks_ui(raw, spec)
    elif st.button("Use this CSV", key="data.use_csv", type="primary"):
        use_csv(raw, spec)


def task_ui(sample: pd.DataFrame, target: str, file_id: str) -> str:
    """What the target is predicted as: the detected task with its reason, switchable where the
    target allows (checked on the server: ``datasets.check_task``)."""
    choice = datasets.task_choice(target, sample[target])
    key = f"data.task.{file_id}.{target}"  # a new file or target starts from its detected task
    current = state.data_spec()
    if current.get("file_id") == file_id and current.get("target") == target:
        bind(key, current.get("task", choice.detected))
    else:
        bind(key, choice.detected)
    value = st.radio(
        "Predict",
        list(datasets.TASK_LABELS),
        format_func=datasets.TASK_LABELS.get,
        key=key,
        horizontal=True,
        disabled=len(choice.allowed) < 2,
        help="A class: the network answers which of the target's values a row has. A number: "
        "it predicts a quantity (one linear output, scored by R²).",
    )
    task, message = datasets.check_task(value, choice)
    detected = datasets.TASK_LABELS[choice.detected].lower()
    st.caption(f"Detected: {detected}, because {md_escape(choice.reason, 200)}.")
    if message:
        show_limit_messages([message])
    elif len(choice.allowed) < 2:
        st.caption(md_escape(choice.why_not, 300))
    return task


def use_csv(raw: bytes, spec: dict) -> None:
    """Load the upload as ``spec`` says and make it the dataset (or say why not)."""
    try:
        loaded = datasets.load_csv_spec(raw, spec)
        state.set_dataset(loaded, spec, raw=raw)
    except ValueError as exc:
        st.error(
            f"This file cannot be used: {md_escape(sentence(exc), 400)} "
            "The previous dataset stays selected.",
            icon=":material/error:",
        )
        return
    more = " The notes on what it skipped or dropped are under “The current dataset”."
    state.flash("Loaded the uploaded CSV." + (more if loaded.notes else ""), "success")
    st.rerun()


ROLE_CHOICES, TYPE_CHOICES = datasets.ROLE_CHOICES, datasets.TYPE_CHOICES


def columns_ui(sample: pd.DataFrame, target: str, file_id: str) -> tuple[dict, dict, dict]:
    """The table of columns (type, gaps, distinct values, examples) with an editable role,
    type and gap filling for each; the roles, types and fill choices, checked on the server."""
    infos = [i for i in nn.columns.describe(sample, target) if i.name != target]
    if not infos:
        return {}, {}, {}
    current = state.data_spec()
    fill = {}
    if current.get("file_id") == file_id and current.get("target") == target:
        fill = current.get("fill") or {}
        for info in infos:  # the table starts from what the current dataset uses
            info.role = current.get("roles", {}).get(info.name, info.role)
            if current.get("types", {}).get(info.name) == "categorical":
                info.type = nn.columns.CATEGORICAL
    uses = [datasets.default_use(i, sample[i.name]) for i in infos]
    cells = datasets.fill_cells(infos, uses, fill)
    table = pd.DataFrame(  # the editable cells first, so a narrow screen shows them
        {
            "column": [display_name(i.name, 60) for i in infos],
            "detected": [i.type for i in infos],
            "gaps": [i.missing for i in infos],
            "role": [i.role for i in infos],
            "use as": uses,
            **cells,
            "distinct": [i.distinct for i in infos],
            "examples": [display_name(", ".join(i.examples), 80) for i in infos],
            "why": [i.reason for i in infos],
        }
    )
    st.markdown("**Columns**")
    edited = st.data_editor(
        table,
        key=f"data.columns.{file_id}.{target}",
        hide_index=True,
        num_rows="fixed",
        disabled=["column", "detected", "gaps", "distinct", "examples", "why"],
        column_config={
            "role": st.column_config.SelectboxColumn(options=list(ROLE_CHOICES), required=True),
            "use as": st.column_config.SelectboxColumn(options=list(TYPE_CHOICES), required=True),
            "gaps become": st.column_config.SelectboxColumn(
                options=list(datasets.GAP_CHOICES),
                required=True,
                help="What a gap in this column becomes, learned on the training rows: the "
                "median, mean or a constant for numbers; its own category or the most "
                "frequent one for categories.",
            ),
            "constant": st.column_config.NumberColumn(
                help="The number a gap becomes when “gaps become” is constant."
            ),
            "flag gaps": st.column_config.CheckboxColumn(
                help="Add an input that is 1 where this number was missing."
            ),
        },
    )
    st.caption(
        "Counted on the first rows of the file. Identifiers, free text and constant columns "
        "are skipped by default; a whole-number column with few values (like a class 1/2/3) "
        "can be used as categorical. Change any role, type or gap filling in the table."
    )
    roles, types = datasets.choices_from_editor(infos, edited)
    fill, messages = datasets.fills_from_editor(infos, edited, roles, types)
    for message in messages:
        st.caption(md_escape(message, 300))
    return roles, types, fill


def gaps_ui(
    sample: pd.DataFrame, roles: dict, types: dict, target: str, fill: dict
) -> tuple[str, dict]:
    """Whether rows with a gap are filled (as the column table says) or dropped, and how rare
    categories are grouped; with the rows lost for want of a target."""
    features = [c for c, r in roles.items() if r == nn.columns.FEATURE]
    gaps = int(sample[features].isna().any(axis=1).sum()) if features else 0
    lost = int(sample[target].isna().sum())
    if lost:
        st.caption(f"{lost:,} row(s) without a {md_escape(target, 60)} value will be dropped.")
    how = "impute"
    if gaps:
        st.markdown(f"**Gaps**: {gaps:,} of the first {len(sample):,} rows have one.")
        how = st.radio(
            "Rows with a gap",
            ("impute", "drop"),
            format_func={
                "impute": "Fill the gaps (as the column table says)",
                "drop": "Drop those rows",
            }.get,
            key="data.gaps",
            horizontal=True,
        )
        how = "drop" if how == "drop" else "impute"  # a widget value is checked, never trusted
    if any(types.get(c) == "categorical" for c in features):
        rare = st.number_input(
            "Group categories with fewer rows than this into one input, (other); 0 keeps all",
            min_value=0,
            max_value=limits.MAX_ROWS,
            step=1,
            key="data.rare",
            help="Counted on the training rows. A column whose categories still number more "
            f"than {MAX_CATEGORIES} is skipped.",
        )
        fill = {**fill, "rare": datasets.check_rare(rare)}
    return how, fill


def leaks_ui(raw: bytes, spec: dict) -> None:
    """Flag a feature that alone predicts the target (on the training rows), with a one-click
    skip."""
    dataset, split = state.dataset(), state.split()
    for leak in state.leaks(dataset, split):
        st.warning(md_escape(leak.sentence(), 600), icon=":material/key:")
        label = f"Skip {md_escape(display_name(leak.column, 40), 80)}"  # labels are Markdown
        if st.button(label, key=f"data.skip_leak.{leak.column}"):
            roles = {**spec["roles"], leak.column: nn.columns.SKIP}
            st.session_state.pop(f"data.columns.{spec['file_id']}.{spec['target']}", None)
            use_csv(raw, {**spec, "roles": roles})


def target_metric(column, dataset) -> None:
    """The third tile of the dataset's numbers: its classes, or the number it predicts."""
    if dataset.is_regression:
        column.metric(
            "Predicts a number",
            md_escape(datasets.target_name(dataset), 40),
            help="Regression: the network has one linear output and is scored by R².",
        )
    else:
        column.metric("Classes", len(dataset.class_names))


def plot_features_ui(feature_names: list[str], max_features: int = limits.MAX_PLOT_FEATURES):
    """Which features (indices) to draw in the scatter matrix or the features-vs-target grid."""
    default = feature_names[: min(4, len(feature_names))]
    chosen = st.multiselect(
        f"Features to plot (up to {max_features})",
        feature_names,
        default=default,
        max_selections=max_features,
        key=f"data.plot_features.{st.session_state[state.DATA_VERSION]}",
    )
    chosen = [c for c in chosen if c in feature_names][:max_features]  # checked on the server
    return [feature_names.index(c) for c in chosen]


def imbalance_note(dataset) -> None:
    """A warning when the smallest class has under a fifth of the largest one's rows: the
    network can then score well by neglecting it; class weights (Train page) count its rows
    more."""
    if dataset.is_regression or not nn.task.imbalanced(dataset.y):
        return
    counts = np.bincount(np.asarray(dataset.y, dtype=int), minlength=len(dataset.class_names))
    rare, common = int(counts.argmin()), int(counts.argmax())
    st.warning(
        f"The classes are imbalanced: {md_escape(dataset.class_names[rare], 80)} has "
        f"{counts[rare]:,} rows, {md_escape(dataset.class_names[common], 80)} "
        f"{counts[common]:,}. A network can score well by neglecting the rare class; "
        "**Class weights: balanced** (Train page, under Regularization) counts each class's "
        "rows in inverse proportion to their number.",
        icon=":material/balance:",
    )


def overview(dataset) -> None:
    """Table, statistics and plots of a dataset: class balance, scatter matrix and
    distributions by class; for a number to predict, its histogram, each feature against it,
    and the distributions."""
    y = np.asarray(dataset.y, dtype=float if dataset.is_regression else int)
    rows = datasets.sample_rows(len(y), limits.MAX_PLOT_ROWS)
    sampled = (
        f"Plots show a random sample of {len(rows):,} of {len(y):,} rows; training uses all rows."
        if len(rows) < len(y)
        else None
    )
    for note in dataset.notes:  # what loading dropped, skipped or sampled, while it is current
        st.caption(md_escape(note, 600))
    imbalance_note(dataset)
    if dataset.is_regression:
        plots = ["Target", "Features vs target"]
    else:
        plots = ["Class balance", "Scatter matrix"]
    tabs = st.tabs(["Table", "Statistics", *plots, "Distributions"])
    with tabs[0]:
        st.dataframe(datasets.dataset_frame(dataset, rows=limits.MAX_TABLE_ROWS), hide_index=True)
        st.caption(f"The first {min(len(y), limits.MAX_TABLE_ROWS)} of {len(y):,} rows.")
    with tabs[1]:
        st.dataframe(datasets.statistics(dataset))
    if dataset.is_regression:
        target_tabs(dataset, tabs[2], tabs[3], rows, sampled)
    else:
        class_tabs(dataset, tabs[2], tabs[3], rows, sampled)
    distributions_tab(dataset, tabs[4], rows, sampled)


def class_tabs(dataset, balance_tab, matrix_tab, rows, sampled) -> None:
    """Rows per class, and the scatter matrix coloured by class."""
    names = [str(f) for f in dataset.feature_names]
    classes = [str(c) for c in dataset.class_names]
    X, y = np.asarray(dataset.X, dtype=float), np.asarray(dataset.y, dtype=int)
    with balance_tab:
        counts = np.bincount(y, minlength=len(classes))
        st.plotly_chart(charts.class_balance_figure(counts, classes), key="data.balance")
    kinds = dataset.feature_kinds()
    numeric = [n for n in names if kinds[n] == "numeric"]  # a scatter plot needs numbers
    with matrix_tab:
        chosen = [names.index(numeric[i]) for i in plot_features_ui(numeric)]
        if len(chosen) >= 2:
            fig = charts.scatter_matrix_figure(
                X[rows][:, chosen], y[rows], [names[j] for j in chosen], classes
            )
            if len(chosen) == 2:
                # plotly.js draws nothing at all for a splom with a single visible cell (two
                # features, no diagonal, lower half only): show the pair both ways
                fig.update_traces(showupperhalf=True)
            st.plotly_chart(fig, key="data.splom")
        else:
            st.info("Pick at least two features.")
        if sampled:
            st.caption(sampled)


def target_tabs(dataset, target_tab, scatter_tab, rows, sampled) -> None:
    """A regression target: its histogram, and each numeric feature plotted against it."""
    names = [str(f) for f in dataset.feature_names]
    target = datasets.target_name(dataset)
    X, y = np.asarray(dataset.X, dtype=float), np.asarray(dataset.y, dtype=float)
    with target_tab:
        st.plotly_chart(charts.target_histogram_figure(y, target), key="data.target_hist")
        st.caption(
            "The network predicts this number. Always guessing its mean (the dashed line) "
            "scores R² 0; a perfect fit scores 1. The network learns it standardized (mean 0, "
            "spread 1, fitted on the training rows) and answers in its own units."
        )
    kinds = dataset.feature_kinds()
    numeric = [n for n in names if kinds[n] == "numeric"]
    with scatter_tab:
        if not numeric:
            st.info("No numeric feature to plot; see Distributions for the categories.")
            return
        chosen = [names.index(numeric[i]) for i in plot_features_ui(numeric)]
        if chosen:
            fig = charts.features_vs_target_figure(
                X[rows][:, chosen], y[rows], [names[j] for j in chosen], target
            )
            st.plotly_chart(fig, key="data.vs_target")
        else:
            st.info("Pick at least one feature.")
        if sampled:
            st.caption(sampled)


def distributions_tab(dataset, tab, rows, sampled) -> None:
    """One feature's distribution: by class, or (regression) on its own, and a category's
    target values as box plots."""
    names = [str(f) for f in dataset.feature_names]
    classes = [str(c) for c in dataset.class_names]
    X = np.asarray(dataset.X, dtype=float)
    y = np.asarray(dataset.y, dtype=float if dataset.is_regression else int)
    kinds = dataset.feature_kinds()
    with tab:
        feature = st.selectbox(
            "Feature", names, key=f"data.dist.{st.session_state[state.DATA_VERSION]}"
        )
        if feature not in names:  # a widget value is checked, never trusted
            feature = names[0]
        j = names.index(feature)
        if kinds[feature] == "categorical" and dataset.is_regression:
            labels = dataset.table(X[rows])[feature].fillna("(missing)").astype(str)
            target = datasets.target_name(dataset)
            fig = charts.target_by_category_figure(labels.to_numpy(), y[rows], feature, target)
            st.plotly_chart(fig, key="data.dist_chart")
        elif kinds[feature] == "categorical":
            counts = datasets.category_counts(dataset, feature, rows)
            st.bar_chart(counts, stack=True, x_label=display_name(feature, 60), y_label="rows")
        else:
            fig = charts.feature_distribution_figure(X[rows, j], y[rows], feature, classes)
            st.plotly_chart(fig, key="data.dist_chart")
        if sampled:
            st.caption(sampled)


NO_STRATIFY = (
    "A number has no classes to keep in proportion: the rows of a regression target are "
    "split at random."
)


def engineered_ui(current: str) -> str:
    """Playground's extra inputs for a 2-D set (x1², x2², x1·x2, sin(x1), sin(x2)), as the
    setting's text; for other data nothing is drawn and none are used."""
    if not datasets.engineering_allowed(state.dataset()):
        return nn.config.NO_NAMES
    setting = nn.config.SPLIT["engineered"]
    names = [n for n in current.split(",") if n in setting.choices]
    bind("data.split.engineered", names)
    chosen = st.pills(
        setting.label,
        setting.choices,
        selection_mode="multi",
        format_func=datasets.ENGINEERED_LABELS.get,
        key="data.split.engineered",
        help="Extra inputs computed from x1 and x2, as in TensorFlow Playground. They are part "
        "of the model's preprocessing (saved with it) and appear as input nodes of the network; "
        "the decision surface stays in the x1, x2 plane. Two spirals with sin(x1) and sin(x2): "
        "a small network succeeds where x1 and x2 alone fail.",
    )
    return ",".join(chosen or []) or nn.config.NO_NAMES


def split_ui() -> None:
    """Test and validation shares, seed, stratify, standardize; applied when changed."""
    current = state.split_settings()
    for name, value in current.items():
        if nn.config.SPLIT[name].kind != "names":  # drawn as a list of choices
            bind(f"data.split.{name}", value)
    table, ranges = nn.config.SPLIT, limits.SPLIT_RANGES
    regression = state.dataset().is_regression
    c1, c2, c3 = st.columns(3)
    c4, c5 = st.columns(2)
    raw = {}
    for name, column in zip(table, (c1, c2, c3, c4, c5, None), strict=True):
        setting, key = table[name], f"data.split.{name}"
        if setting.kind == "names":
            raw[name] = engineered_ui(current.get(name, setting.default))
        elif name == "stratify" and regression:  # shown off, the setting kept for classes
            column.checkbox(
                setting.label, False, key="data.no_stratify", help=NO_STRATIFY, disabled=True
            )
            raw[name] = current[name]
        elif setting.kind == "bool":
            raw[name] = column.checkbox(setting.label, key=key, help=setting.help)
        elif setting.kind == "float":
            lo, hi = ranges[name]
            raw[name] = column.slider(setting.label, lo, hi, step=0.01, key=key, help=setting.help)
        else:
            lo, hi = ranges[name]
            raw[name] = column.number_input(
                setting.label, lo, hi, step=1, key=key, help=setting.help
            )
    requested, messages = datasets.check_split_settings(raw)
    show_limit_messages(messages)
    st.caption(datasets.standardize_note(state.dataset(), requested["standardize"]))
    if requested != current:
        try:
            state.set_split_settings(requested)
        except ValueError as exc:
            st.error(f"This split is not possible: {md_escape(exc, 400)}")
            return
        st.rerun()
