"""Widgets of the Compare page's cross-validation: folds, progress with Cancel, the results.

The folds run in the background (``dashboard.compare.cv.CVJob``); a fragment on a timer draws
their progress and keeps the job's training slot while the page is open, and reruns the page
when the job ends, which moves its result into the session and draws the tables and curves.
"""

from __future__ import annotations

import streamlit as st

import nn
from dashboard import state
from dashboard.common import capacity, limits
from dashboard.common.text import md_escape
from dashboard.compare import compare_ui, comparison, cv, runs
from dashboard.predict import evaluation_figures
from dashboard.training import train_ui

OWNER = "cv"  # the job's name in the training slots (capacity.SLOTS)
TICK_S = 0.5  # the progress fragment's timer while folds run
CURVE_KINDS = {"roc": "ROC", "pr": "Precision-recall"}


def _snapshot(req: cv.CVRequest) -> dict:
    """What a cross-validation depends on (to tell when its result is out of date)."""
    return {
        "network": req.network_config,
        "training": req.training,
        "data_version": st.session_state[state.DATA_VERSION],
        "k": req.k,
        "repeats": req.repeats,
        "split": (req.seed, req.standardize, req.val_size, req.engineered),
    }


def settings_ui() -> cv.CVRequest:
    """Folds, repeats and workers (clamped on the server), as a request for the current
    settings."""
    c1, c2, c3 = st.columns(3)
    k = c1.slider("Folds", nn.crossval.MIN_FOLDS, nn.crossval.MAX_FOLDS, 5, key="compare.cv.k")
    repeats = c2.number_input(
        "Repeats",
        1,
        cv.MAX_REPEATS,
        1,
        key="compare.cv.repeats",
        help="Repeat the k folds with other random fold assignments: more networks, a steadier "
        f"mean (at most {nn.crossval.MAX_FITS} networks in all).",
    )
    if limits.MAX_CV_JOBS > 1:
        jobs = c3.number_input(
            "Worker processes",
            1,
            limits.MAX_CV_JOBS,
            limits.MAX_CV_JOBS,
            key="compare.cv.jobs",
            help="Folds train side by side in this many processes (one per core).",
        )
    else:
        jobs = 1
        c3.caption("The folds train one after another on this server (one worker process).")
    req, messages = cv.request(
        state.dataset(),
        state.current_network_config(),
        state.train_settings(),
        state.split_settings(),
        k,
        repeats,
        jobs,
    )
    for message in messages:
        st.warning(md_escape(message), icon=":material/tune:")
    return req


def start(req: cv.CVRequest, kind: str = cv.CROSS_VALIDATION) -> bool:
    """Start the folds (a cross-validation or a learning curve) with one of the server's
    training slots (True), or say the server is busy (False)."""
    key = train_ui.session_key()
    job = cv.CVJob(req, kind=kind)
    ticket = capacity.SLOTS.acquire(key, OWNER, on_reclaim=lambda: job.cancel(cv.LEFT))
    if not ticket.granted:
        capacity.SLOTS.release(key, OWNER)
        st.warning(
            f"The server is training {ticket.training} runs, as many as it allows at once; "
            "run the folds when one of them finishes.",
            icon=":material/hourglass_top:",
        )
        return False
    st.session_state[state.COMPARE_CV_JOB] = {"job": job, "snapshot": _snapshot(req)}
    job.start(on_end=lambda: capacity.SLOTS.release(key, OWNER))
    return True


def _cancel() -> None:
    running = st.session_state.get(state.COMPARE_CV_JOB)
    if running is not None:
        running["job"].cancel()


def _finish(running: dict) -> None:
    """Keep what an ended job found, with the class names and task it was run on."""
    job: cv.CVJob = running["job"]
    ds = job.request.dataset
    where = state.COMPARE_CV if job.kind == cv.CROSS_VALIDATION else state.COMPARE_LEARNING
    st.session_state[where] = {
        "result": job.result,
        "error": job.error,
        "reason": job.reason,
        "snapshot": running["snapshot"],
        "class_names": list(ds.class_names),
        "task": ds.task,
        "seconds": job.elapsed,
        "n_jobs": job.request.n_jobs,
    }
    st.session_state.pop(state.COMPARE_CV_JOB, None)


def progress_ui() -> None:
    """The running job's progress bar and Cancel button, redrawn on a timer; the page is
    rerun when the job ends."""
    running = st.session_state.get(state.COMPARE_CV_JOB)
    if running is None:
        return
    job: cv.CVJob = running["job"]
    if not job.running:
        _finish(running)
        st.rerun(scope="app")
    # the job's heartbeat: a closed tab stops asking, and its slot (and the job) are given up
    capacity.SLOTS.acquire(train_ui.session_key(), OWNER, on_reclaim=lambda: job.cancel(cv.LEFT))
    what = "folds" if job.kind == cv.CROSS_VALIDATION else "networks of the learning curve"
    text = (
        f"{job.done} of {job.total} {what} done · {job.elapsed:.0f} s"
        if not job.reason
        else "Stopping after the folds in progress..."
    )
    st.progress(min(job.done / max(job.total, 1), 1.0), text=text)
    st.button(
        "Cancel",
        key="compare.cv.cancel",
        on_click=_cancel,
        icon=":material/stop_circle:",
        disabled=job.reason is not None,
    )


def cv_ui() -> None:
    """Cross-validation of the current settings: the settings, the run, the results."""
    st.caption(
        "Each fold trains the current settings (Architecture and Train pages) from scratch on "
        "the other folds' rows, with its own preprocessing fitted on those rows only, and is "
        "scored on the rows it held out; every row is held out once. Folds keep the classes' "
        "shares (stratified). The mean and spread over the folds say more than one split."
    )
    req = settings_ui()
    why = cv.problem(req)
    if why:
        st.warning(md_escape(why), icon=":material/block:")
    running = st.session_state.get(state.COMPARE_CV_JOB)
    busy = running is not None and running["job"].running
    c1, c2, _ = st.columns([1, 1, 2])
    kind = None
    if c1.button(
        "Run cross-validation",
        key="compare.cv.run",
        type="primary",
        icon=":material/view_week:",
        disabled=busy or why is not None,
    ):
        kind = cv.CROSS_VALIDATION
    if c2.button(
        "Learning curve",
        key="compare.cv.learning",
        icon=":material/trending_up:",
        disabled=busy or why is not None,
        help=f"The same folds, each trained on {', '.join(f'{s:.0%}' for s in cv.LEARNING_SHARES)} "
        "of its training rows: does more data still help?",
    ):
        kind = cv.LEARNING
    if kind is not None and start(req, kind):
        st.rerun()  # draw the page again with the job running (its buttons disabled)
    if st.session_state.get(state.COMPARE_CV_JOB) is not None:
        st.fragment(progress_ui, run_every=TICK_S)()
    results_ui(req)
    learning_ui(req)


def _ended(found: dict, req: cv.CVRequest, what: str):
    """Say whether a finished job is out of date, failed or was stopped; its result, or
    None when there is nothing to draw."""
    if found["snapshot"] != _snapshot(req):
        st.warning(
            f"These results are for earlier settings; run the {what} again to update them.",
            icon=":material/update:",
        )
    if found["error"]:
        st.error(md_escape(found["error"], 600), icon=":material/error:")
        return None
    result = found["result"]
    if found["reason"]:
        st.warning(
            f"{cv.REASONS[found['reason']]} after {len(result.folds)} of {result.total} "
            f"{'folds' if what == 'cross-validation' else 'networks'}; the figures below are "
            "for those.",
            icon=":material/stop_circle:",
        )
    return result if result.folds else None


def results_ui(req: cv.CVRequest) -> None:
    """The last cross-validation: what stopped it, mean ± std, tables, curves and bands."""
    found = st.session_state.get(state.COMPARE_CV)
    if found is None:
        return
    result: nn.crossval.CVResult | None = _ended(found, req, "cross-validation")
    if result is None:
        return
    task = found["task"]
    metric = nn.task.get(task).metric
    title = comparison.METRIC_TITLES[metric]
    summary = result.summary()
    values = [f.metrics[metric] for f in result.folds]
    c1, c2, c3 = st.columns(3)
    c1.metric(
        f"Mean held-out {title}",
        f"{summary[metric]['mean']:.3f} ± {summary[metric]['std']:.3f}",
    )
    c2.metric("Lowest fold", f"{min(values):.3f}")
    c3.metric("Highest fold", f"{max(values):.3f}")
    st.caption(
        f"{len(result.folds)} folds in {found['seconds']:.1f} s with {found['n_jobs']} worker "
        f"process{'es' if found['n_jobs'] > 1 else ''}; ± is the standard deviation over the "
        "folds (NumPy's, ddof=0, as scikit-learn's guide reports scores)."
    )
    st.dataframe(cv.summary_table(result), hide_index=True, key="compare.cv.summary")
    st.dataframe(cv.fold_table(result), hide_index=True, key="compare.cv.folds")
    chart = compare_ui.chosen_chart_metric(task)
    fig = comparison.run_comparison_figure(
        [
            (f"fold {f.fold}" + (f" · repeat {f.repeat}" if result.repeats > 1 else ""), f.history)
            for f in result.folds
        ],
        chart,
    )
    st.plotly_chart(fig, key="compare.cv.curves")
    st.caption("Each fold's training curve (solid) and validation curve (dashed, with a share).")
    if task == runs.CLASSIFICATION:
        bands_ui(result, found["class_names"])


def bands_ui(result, class_names: list[str]) -> None:
    """ROC or precision-recall curves of every fold's held-out rows, with the mean and a band
    of one standard deviation; for more than two classes, of the macro average or a class."""
    c1, c2 = st.columns([1, 2])
    kind = c1.segmented_control(
        "Curves over the folds",
        list(CURVE_KINDS),
        default="roc",
        required=True,
        format_func=CURVE_KINDS.get,
        key="compare.cv.kind",
    )
    kind = kind if kind in CURVE_KINDS else "roc"  # checked on the server
    choices = cv.curve_choices(class_names)
    which = choices[0]
    if len(choices) > 1:
        picked = c2.selectbox(
            "Curve",
            choices,
            format_func=lambda c: cv.curve_label(class_names, c),
            key="compare.cv.which",
        )
        which = picked if picked in choices else choices[0]
    curves = cv.fold_curves(result, class_names, kind, which)
    st.plotly_chart(evaluation_figures.band_figure(curves), key="compare.cv.band")
    subject = md_escape(cv.curve_label(class_names, which), 120)
    st.caption(
        f"The {CURVE_KINDS[kind]} curve ({subject}) of each fold's held-out rows (grey), their "
        "mean and a band of one standard deviation; the legend gives the mean area and its "
        "spread over the folds."
    )


def learning_ui(req: cv.CVRequest) -> None:
    """The last learning curve: the score on the training rows and on the held-out rows
    against the number of training rows, and its table."""
    found = st.session_state.get(state.COMPARE_LEARNING)
    if found is None:
        return
    st.markdown("**Learning curve**")
    lc: nn.crossval.LearningCurve | None = _ended(found, req, "learning curve")
    if lc is None:
        return
    points = lc.points()
    st.plotly_chart(
        comparison.learning_curve_figure(points, lc.metric), key="compare.cv.learning_chart"
    )
    title = comparison.METRIC_TITLES[lc.metric]
    st.caption(
        f"Each point: the {lc.k} folds' networks trained on that many of their training rows "
        f"(a stratified sample), their mean {title} on those rows (solid) and on the rows the "
        "fold held out (dashed), with one standard deviation. Still rising at the right: more "
        "rows would help; a wide gap between the two: the network learns the rows by heart."
    )
    # the share a point really trained on (a small share is raised to a least number of rows)
    full = next((p["n_train"] for p in points if p["share"] == 1.0), None)
    table = [
        {
            "share of the training rows": f"{p['n_train'] / full if full else p['share']:.0%}",
            "training rows": p["n_train"],
            f"{title} on them": p["train_mean"],
            f"± ({title}, training)": p["train_std"],
            f"held-out {title}": p["test_mean"],
            f"± ({title}, held out)": p["test_std"],
        }
        for p in points
    ]
    st.dataframe(table, hide_index=True)
