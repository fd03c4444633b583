"""Widgets of the Predict page: the single-sample form, test report, curves, batch CSV, model
files.

A classifier shows classes and accuracy, ROC and precision-recall curves, calibration and (two
classes) a decision threshold; a regression network values in the target's units, R^2 / MAE /
RMSE and its errors (``figures``); both the permutation importance of each feature.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from dashboard import state
from dashboard.architecture import build
from dashboard.common import charts, limits
from dashboard.common.page_ui import bind
from dashboard.common.text import md_escape, sentence
from dashboard.predict import evaluation_figures, figures, results
from dashboard.training import loop
from nn import evaluation

MODEL_UPLOADS = state.MODEL_UPLOADS


def sample_form(net, split, dataset) -> np.ndarray | None:
    """One input per raw feature: a number (prefilled with the training median; blank allowed
    where the network fills gaps) or a select box of the learned categories; the submitted row
    in the data's own units, or None (and no prediction shown) while a value is refused.

    The bounds are checked here on the server, not by the browser: a browser-side bound keeps
    the last accepted value and would show the old prediction next to a field it marks red.
    """
    ranges = results.feature_ranges(split)
    kinds = dataset.feature_kinds()
    names = list(kinds)
    version = st.session_state[state.DATA_VERSION]
    n_cols = 4 if len(names) > 8 else 2
    # where each field starts: the training median, or the most frequent category
    start = dataset.table(results.typical_row(split, dataset)[None, :]).iloc[0]
    with st.form("predict.form"):
        cols = st.columns(n_cols)
        values = []
        for j, name in enumerate(names):
            r, column = ranges.iloc[j], cols[j % n_cols]
            if kinds[name] == "categorical":
                options = results.form_categories(net, dataset, name)
                key = f"predict.c.{version}.{j}"
                bind(key, start[name] if start[name] in options else options[0])
                values.append(column.selectbox(md_escape(name, 60), options, key=key))
                continue
            key = f"predict.x.{version}.{j}"
            bind(key, float(r["median"]))
            blank = " Leave it empty for a gap: the network fills it." * results.gap_allowed(
                net, name
            )
            values.append(
                column.number_input(
                    md_escape(name, 60),
                    value=None,
                    format="%g",
                    key=key,
                    help=f"Training rows range from {r['min']:g} to {r['max']:g}; the form "
                    f"takes {r['lower']:g} to {r['upper']:g}.{blank}",
                )
            )
        st.form_submit_button("Predict", type="primary", icon=":material/online_prediction:")
    bad = results.form_problems(values, names, ranges, net, dataset)
    if bad:
        st.error(
            "No prediction for these values: "
            + "; ".join(md_escape(b, 200) for b in bad[:6])
            + ("; ..." if len(bad) > 6 else "."),
            icon=":material/block:",
        )
        return None
    x = results.form_row(values, dataset)
    state.set_predict_sample(x)  # the decision surfaces hold the other features at these values
    numeric = np.array([k == "numeric" for k in kinds.values()])
    present = ~np.isnan(x)
    outside_rows = numeric & present & ((x < ranges["min"]) | (x > ranges["max"]))
    outside = [names[j] for j in np.flatnonzero(outside_rows)]
    if outside:
        shown = ", ".join(md_escape(n, 40) for n in outside[:6])
        more = f" and {len(outside) - 6} more" if len(outside) > 6 else ""
        st.warning(
            f"Outside what the network saw in training: {shown}{more}. Its answer there is an "
            "extrapolation; trust it less."
        )
    return x


def prediction_view(net, x, split, dataset) -> None:
    """The predicted class and a bar chart of the outputs for one sample (for regression, the
    predicted value among the training targets)."""
    if dataset.is_regression:
        value_view(net, x, split, dataset)
        return
    outputs = results.predict_one(net, dataset, x)
    k = results.predicted_class(net, dataset, x)
    classes = [str(c) for c in dataset.class_names]
    probabilistic = results.outputs_are_probabilities(net)
    c1, c2 = st.columns([1, 2])
    c1.metric("Predicted class", md_escape(classes[k], 80))
    if results.is_binary(net):
        threshold_caption(net, dataset, c1)
    if net.n_outputs == 1:
        c1.caption(f"Output {outputs[0]:.3f}.")
        shown, labels = np.array([1 - outputs[0], outputs[0]]), classes
    else:
        shown, labels = outputs, classes
    title = "Class probabilities" if probabilistic else "Output per class (not normalised)"
    c2.plotly_chart(charts.probability_figure(shown, labels, title), key="predict.proba")
    if not probabilistic:
        c1.caption(
            f"The {net.config['output_activation']} outputs are scores, one per class; they need "
            "not sum to one. A softmax output gives probabilities."
        )


def value_view(net, x, split, dataset) -> None:
    """A regression network's predicted value for one sample, in the target's units, with the
    range of the training targets for context."""
    value = results.predict_value(net, dataset, x)
    target = results.target_name(dataset)
    span = results.target_range(split)
    c1, c2 = st.columns([1, 2])
    c1.metric(f"Predicted {md_escape(target, 60)}", f"{value:.4g}")
    c1.caption(
        f"The training rows' {md_escape(target, 60)} ranges from {span['min']:.4g} to "
        f"{span['max']:.4g} (median {span['median']:.4g})."
    )
    if not span["min"] <= value <= span["max"]:
        c1.caption(
            "This prediction lies beyond every training target: the network is extrapolating."
        )
    c2.plotly_chart(figures.value_context_figure(split.y_train, value, target), key="predict.value")


def test_set_view(net, split, dataset) -> None:
    """Accuracy, confusion matrix, per-class precision/recall/F1 and misclassified rows (for
    regression: ``regression_test_view``)."""
    if dataset.is_regression:
        regression_test_view(net, split, dataset)
        return
    try:
        report = results.test_report(net, split, dataset)
    except ValueError as exc:
        st.info(str(exc))
        return
    c1, c2 = st.columns(2)
    c1.metric("Test accuracy", f"{report['accuracy']:.3f}")
    c2.metric("Correct", f"{report['n_correct']} of {report['n_test']}")
    if results.is_binary(net):
        threshold_caption(net, dataset)
    c1, c2 = st.columns(2)
    classes = [str(c) for c in dataset.class_names]
    c1.plotly_chart(
        charts.confusion_matrix_figure(report["confusion"], classes), key="predict.confusion"
    )
    c2.markdown("**Per class**")
    c2.dataframe(
        report["per_class"],
        hide_index=True,
        column_config={
            name: st.column_config.NumberColumn(format="%.3f")
            for name in ("precision", "recall", "F1")
        },
    )
    n_wrong = report["n_misclassified"]
    st.markdown(f"**Misclassified test rows** ({n_wrong})")
    if n_wrong:
        st.dataframe(report["misclassified"], hide_index=True)
        if n_wrong > len(report["misclassified"]):
            st.caption(f"The first {len(report['misclassified'])} are shown.")
    else:
        st.caption("None: every test row is classified correctly.")


def regression_test_view(net, split, dataset) -> None:
    """R^2, MAE and RMSE on the test rows, predicted against actual, the errors against the
    predictions and as a histogram, and the rows with the largest errors."""
    try:
        report = results.regression_report(net, split, dataset)
    except ValueError as exc:
        st.info(str(exc))
        return
    target = results.target_name(dataset)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "Test R²",
        f"{report['r2']:.3f}",
        help="1 is perfect; 0 is no better than always predicting the mean of the targets.",
    )
    c2.metric("MAE", f"{report['mae']:.4g}", help="Mean absolute error, in the target's units.")
    c3.metric(
        "RMSE", f"{report['rmse']:.4g}", help="Root mean squared error, in the target's units."
    )
    c4.metric("Test rows", f"{report['n_test']:,}")
    st.caption(
        f"MAE and RMSE are in the units of {md_escape(target, 60)}; an error is predicted − actual."
    )
    c1, c2 = st.columns(2)
    c1.plotly_chart(
        figures.predicted_vs_actual_figure(report["actual"], report["predicted"], target),
        key="predict.actual",
    )
    c2.plotly_chart(
        figures.residuals_figure(report["predicted"], report["error"], target),
        key="predict.residuals",
    )
    st.plotly_chart(figures.error_histogram_figure(report["error"], target), key="predict.errors")
    largest = report["largest"]
    st.markdown(f"**The {len(largest)} test rows with the largest errors**")
    st.dataframe(
        largest,
        hide_index=True,
        column_config={
            str(c): st.column_config.NumberColumn(format="%.4g") for c in largest.columns[:3]
        },
    )


def threshold_caption(net, dataset, where=None, here: bool = False) -> None:
    """Which decision threshold a two-class network's predictions use (a caption; ``here``
    on the Curves tab, where it is set)."""
    positive = md_escape(str(dataset.class_names[1]), 80)
    where_set = "" if here else " It is set on the Curves tab."
    (where or st).caption(results.threshold_note(net, f"“{positive}”") + where_set)


def evaluation_view(net, split, dataset) -> None:
    """The Curves tab: a classifier's ROC and precision-recall curves with their areas, the
    decision threshold of a two-class one, its reliability diagram; for a regression network
    only the permutation importance of each feature."""
    if dataset.is_regression:
        st.caption(
            "ROC, precision-recall and reliability curves are for classes; this network "
            "predicts a number. Here is which features it leans on."
        )
        importance_view(net, split, dataset)
        return
    try:
        report = results.curves_report(net, split, dataset)
    except ValueError as exc:
        st.info(md_escape(sentence(exc), 400))
        return
    n = len(report["y"])
    classes = [str(c) for c in dataset.class_names]
    if results.is_binary(net):
        st.caption(
            f"On the {n} test rows, for the class “{md_escape(classes[1], 60)}” (the positive "
            "one) against the other."
        )
        at = threshold_view(net, dataset, report)
        point_roc, point_pr, t = at.roc_point, at.pr_point, at.threshold
    else:
        st.caption(
            f"On the {n} test rows: each class against the rest, and their macro average (the "
            "mean of the class curves)."
        )
        at, point_roc, point_pr, t = None, None, None, None
    c1, c2 = st.columns(2)
    c1.plotly_chart(
        evaluation_figures.roc_figure(report["roc"], point=point_roc, threshold=t),
        key="predict.roc",
    )
    c2.plotly_chart(
        evaluation_figures.pr_figure(report["pr"], point=point_pr, threshold=t),
        key="predict.pr",
    )
    c1, c2 = st.columns(2)
    cal = report["calibration"]
    if at is not None:
        c1.plotly_chart(
            charts.confusion_matrix_figure(at.confusion, classes), key="predict.curves_confusion"
        )
        c1.caption(f"The test rows at the threshold {at.threshold:.2f}.")
    c2.plotly_chart(evaluation_figures.reliability_figure(cal), key="predict.reliability")
    (c2 if at is not None else c1).caption(
        "A well-calibrated network's probabilities are frequencies: of the rows it gives 0.8, "
        "about 80% are right. Points below the diagonal are over-confident. The Brier score is "
        "the mean squared error of the probabilities (0 is perfect)."
    )
    importance_view(net, split, dataset)


def threshold_view(net, dataset, report) -> evaluation.ThresholdMetrics:
    """The decision threshold slider (checked on the server), the test figures at it, and a
    button that makes the network's predictions use it."""
    positive = md_escape(str(dataset.class_names[1]), 40)
    saved = evaluation.model_threshold(net)
    # Keyed by the network: a new one starts at its own saved threshold. Streamlit puts a
    # value outside the bounds back to ``value``, the saved threshold; checked again below.
    key = f"predict.threshold.{id(net)}"
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    value = c1.slider(
        f"Decision threshold: “{positive}” when its probability is above",
        value=results.slider_start(net),
        min_value=results.THRESHOLD_MIN,
        max_value=results.THRESHOLD_MAX,
        step=results.THRESHOLD_STEP,
        format="%.2f",
        key=key,
        help="Lower it to catch more positives (higher recall) at the cost of more false "
        "alarms (lower precision); raise it for the reverse.",
    )
    try:
        t = results.slider_threshold(value)
    except ValueError as exc:
        st.error(
            f"{md_escape(sentence(exc), 200)} The saved threshold {saved:.2f} is used instead.",
            icon=":material/block:",
        )
        t = saved
    c2.button(
        "Use this threshold for predictions",
        key="predict.use_threshold",
        on_click=use_threshold,
        args=(net, key),
        disabled=t == saved,
        icon=":material/check:",
        help="One sample, the test set, batch CSV and the saved model file then use it.",
    )
    threshold_caption(net, dataset, here=True)
    at = evaluation.binary_at_threshold(report["y"], report["proba"], t)
    c = st.columns(4)
    c[0].metric("Accuracy", f"{at.accuracy:.3f}")
    c[1].metric(
        "Precision", f"{at.precision:.3f}", help="Of the rows called positive, the share that are."
    )
    c[2].metric("Recall", f"{at.recall:.3f}", help="Of the positive rows, the share found.")
    c[3].metric("F1", f"{at.f1:.3f}", help="The harmonic mean of precision and recall.")
    return at


def use_threshold(net, key: str) -> None:
    """The button's callback: the slider's threshold (checked again) becomes the network's."""
    try:
        t = results.slider_threshold(st.session_state.get(key))
    except ValueError:
        return  # the page says why and keeps the saved threshold
    evaluation.set_model_threshold(net, t)


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def cached_importance(digest: str, _net, _split, _dataset) -> evaluation.Importances:
    """``results.test_importance``, kept for the model and test rows ``digest`` names."""
    return results.test_importance(_net, _split, _dataset)


def importance_view(net, split, dataset) -> None:
    """Permutation importance by raw feature, computed when asked (it can take seconds) and
    kept, so a rerun shows it again without shuffling anew."""
    score = "R²" if dataset.is_regression else "accuracy"
    st.markdown("**Permutation importance**")
    st.caption(
        f"How much the test {score} falls when one feature's values are shuffled among the test "
        f"rows ({results.IMPORTANCE_REPEATS} shuffles each; a categorical column is one "
        "feature). A large fall: the network leans on it; near zero: it does not, or another "
        "feature carries the same information."
    )
    if not st.toggle("Compute the permutation importance", key="predict.importance"):
        return
    with st.spinner("Shuffling each feature of the test rows..."):
        try:
            imp = cached_importance(results.importance_key(net, split), net, split, dataset)
        except ValueError as exc:
            st.info(md_escape(sentence(exc), 400))
            return
    st.plotly_chart(evaluation_figures.importance_figure(imp), key="predict.importance_chart")
    st.caption(f"With no feature shuffled, the test {score} is {imp.baseline:.3f}.")


def batch_view(net, split, dataset) -> None:
    """Upload a CSV with the feature columns; download it back with the predictions."""
    with_target = (
        f"with the target column ({md_escape(results.target_name(dataset), 60)}), each row's "
        "error and the R², MAE and RMSE are shown"
        if dataset.is_regression
        else "with the target column, the accuracy is shown"
    )
    st.caption(
        "A CSV with the same feature columns as the training data, in any order (other "
        f"columns are kept and ignored; {with_target}). Up to "
        f"{limits.MAX_UPLOAD_MB} MB and {limits.MAX_ROWS:,} rows."
    )
    st.download_button(
        "Download a template (the columns and one example row)",
        results.template_csv(split, dataset),
        file_name="template.csv",
        mime="text/csv",
        key="predict.template_download",
        on_click="ignore",
        icon=":material/table_view:",
    )
    if results.is_binary(net):
        threshold_caption(net, dataset)
    upload = st.file_uploader("CSV to predict", type=["csv", "txt"], key="predict.batch_upload")
    if upload is None:
        return
    try:
        frame = results.read_table(upload.getvalue())
        predicted = results.batch_predict(net, frame, dataset)
    except ValueError as exc:
        st.error(
            f"This file cannot be used: {md_escape(sentence(exc), 400)}", icon=":material/error:"
        )
        return
    st.success(f"Predicted {len(predicted):,} rows.")
    unseen = results.unseen_categories(net, frame)
    if unseen:
        st.warning(md_escape(unseen, 600), icon=":material/help:")
    scores = results.batch_metrics(predicted, frame, state.data_spec().get("target"), dataset)
    if scores is not None and dataset.is_regression:
        c1, c2, c3 = st.columns(3)
        c1.metric("R² on the file's own targets", f"{scores['r2']:.3f}")
        c2.metric("MAE", f"{scores['mae']:.4g}")
        c3.metric("RMSE", f"{scores['rmse']:.4g}")
        st.caption(f"Over the {scores['rows']:,} rows whose target is a number.")
    elif scores is not None:
        st.metric(
            "Accuracy on the file's own labels",
            f"{scores['accuracy']:.3f}",
            help=f"Over the {scores['rows']:,} rows whose label the dataset knows.",
        )
    st.dataframe(predicted.head(limits.MAX_TABLE_ROWS), hide_index=True)
    st.download_button(
        "Download predictions (CSV)",
        predicted.to_csv(index=False),
        file_name="predictions.csv",
        mime="text/csv",
        key="predict.batch_download",
        on_click="ignore",
        icon=":material/download:",
    )


def model_download(net) -> None:
    """The trained network as an .npz file."""
    st.download_button(
        "Download the model (.npz)",
        results.model_bytes(net, state.dataset()),
        file_name="model.npz",
        mime="application/octet-stream",
        key="predict.model_download",
        on_click="ignore",
        icon=":material/download:",
    )


def model_upload() -> None:
    """Upload a saved model; it replaces the current network if it fits the current dataset."""
    st.caption(
        "A model saved by this app, trained on the current dataset's features and target. It "
        "brings the preprocessing it was trained with (standardization), whatever the split here."
    )
    upload = st.file_uploader("Model file (.npz)", type=["npz"], key="predict.model_upload")
    if upload is None:
        return
    handled = st.session_state.setdefault(MODEL_UPLOADS, {})
    if upload.file_id not in handled:
        handled.clear()  # remember only the latest upload
        try:
            net = results.load_model(upload.getvalue(), state.dataset(), state.split())
        except ValueError as exc:
            handled[upload.file_id] = (
                "error",
                f"{md_escape(sentence(exc), 400)} The current network is unchanged.",
            )
        else:
            install_model(net)
            message = (
                f"Loaded the model: {' → '.join(map(str, net.config['layers']))}, "
                f"{net.epochs_trained} epochs trained."
            )
            # At the top of the page: after the rerun the page may show its tabs, with this
            # uploader in a tab that is not the selected one. Here, a quiet reminder.
            state.flash(message, "success")
            handled[upload.file_id] = ("caption", message)
            st.rerun()
    kind, message = handled[upload.file_id]
    getattr(st, kind)(message)


def install_model(net) -> None:
    """Make an uploaded network the session's network (architecture follows it)."""
    state.set_arch(build.arch_from_config(net.config), reason="a model file replaced it.")
    settings = dict(state.train_settings())
    if net.epochs_trained:  # the model's run is complete at the epochs it trained
        settings["epochs"] = min(net.epochs_trained, limits.MAX_EPOCHS)
    state.set_train_settings(settings)
    state.forget_widgets("train.epochs")
    t = state.new_trainer(net)
    t.status = loop.loaded_status(t)
    if t.status == loop.FINISHED:
        t.message = (
            f"Loaded a model trained for {t.epochs_trained} epochs. Raise Epochs (Train page) "
            "to train it further."
        )
