"""Using a trained network: test-set report, single and batch predictions, model files.

Both tasks: a classifier's classes, accuracy and confusion matrix; a regression network's
values in the target's units, R^2 / MAE / RMSE and its largest errors. No Streamlit here; the
math is ``nn``'s (predict, metrics), this module only arranges tables.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pandas as pd

import nn
from dashboard.common import limits
from dashboard.common.text import csv_safe_cell, display_name
from nn import evaluation
from nn.preprocess import labels as label_text
from nn.text import strip_bidi

ARTICLE_FIGURE = "roughly 0.9 or better"  # the article's reported test accuracy on Iris
LARGEST_ERRORS = 20  # test rows listed in the regression report's table of largest errors


PARTS = ("train", "val", "test")


def raw_rows(split, part: str) -> np.ndarray:
    """A part's rows ("train", "val" or "test") in the data's own units: numbers, a table's
    categories as label indices, gaps as NaN (``Dataset.table`` turns them into labels)."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {', '.join(PARTS)}")
    return getattr(split, f"raw_{part}")


def inputs_for(net: nn.Network, dataset, rows) -> np.ndarray:
    """Rows in the data's own units as ``net`` takes them, through the preprocessing it was
    trained with (a table's rows as labels, so another session's categories line up)."""
    rows = np.atleast_2d(np.asarray(rows, dtype=float))
    pre = net.preprocessor
    if pre is None:
        return rows
    if pre.numeric_only and not dataset.is_table:
        return pre.transform(rows)
    return pre.transform(dataset.table(rows))


def network_inputs(net: nn.Network, split, dataset, part: str) -> np.ndarray:
    """A part of ``split`` as ``net`` takes it: the split's own inputs, unless the network was
    fitted with other preprocessing (a model uploaded from another session)."""
    pre = net.preprocessor
    if pre is None or pre == split.preprocessor:
        return getattr(split, f"X_{part}")
    return inputs_for(net, dataset, raw_rows(split, part))


def outputs_are_probabilities(net: nn.Network) -> bool:
    """True for a softmax output, whose values sum to one."""
    return net.config["output_activation"] == "softmax"


def test_report(net: nn.Network, split, dataset) -> dict:
    """Accuracy, confusion matrix, per-class scores and the misclassified test rows (a
    two-class network's classes at its saved decision threshold, ``predicted_class``)."""
    n_classes = len(dataset.class_names)
    y_true = np.asarray(split.y_test, dtype=int)
    if len(y_true) == 0:
        raise ValueError("The split has no test rows; raise the test share on the Data page.")
    y_pred = evaluation.predict_classes(net, network_inputs(net, split, dataset, "test"))
    scores = nn.metrics.precision_recall_f1(y_true, y_pred, n_classes)
    names = [str(c) for c in dataset.class_names]
    per_class = pd.DataFrame(
        {
            "class": names,
            "precision": scores["precision"],
            "recall": scores["recall"],
            "F1": scores["f1"],
            "support": scores["support"].astype(int),
        }
    )
    wrong = np.flatnonzero(y_true != y_pred)
    raw = raw_rows(split, "test")[wrong[: limits.MAX_TABLE_ROWS]]
    misclassified = dataset.table(raw)
    misclassified.insert(0, "predicted", [names[i] for i in y_pred[wrong[: len(raw)]]])
    misclassified.insert(0, "true", [names[i] for i in y_true[wrong[: len(raw)]]])
    return {
        "accuracy": nn.metrics.accuracy(y_true, y_pred),
        "n_test": len(y_true),
        "n_correct": int(np.sum(y_true == y_pred)),
        "confusion": nn.metrics.confusion_matrix(y_true, y_pred, n_classes),
        "per_class": per_class,
        "misclassified": misclassified,
        "n_misclassified": len(wrong),
    }


# ---- regression: values in the target's units ----


def target_name(dataset) -> str:
    """The regression target's name (a CSV header: untrusted text), "target" without one."""
    return str(dataset.target or "target")


def target_range(split) -> dict[str, float]:
    """The training targets' minimum, median and maximum, in the target's units (the context
    of a predicted value)."""
    y = np.asarray(split.y_train, dtype=float).reshape(len(split.y_train), -1)[:, 0]
    if len(y) == 0:
        raise ValueError("The split has no training rows.")
    return {"min": float(y.min()), "median": float(np.median(y)), "max": float(y.max())}


def predict_value(net: nn.Network, dataset, values) -> float:
    """A regression network's predicted value, in the target's units, for one sample given
    in the data's own units."""
    predicted = np.asarray(net.predict(inputs_for(net, dataset, values)), dtype=float)
    return float(predicted.reshape(len(predicted), -1)[0, 0])


def regression_scores(y_true, y_pred) -> dict[str, float]:
    """R^2, MAE and RMSE of predictions against targets (``nn.metrics``; target units)."""
    return {
        "r2": nn.metrics.r2_score(y_true, y_pred),
        "mae": nn.metrics.mean_absolute_error(y_true, y_pred),
        "rmse": nn.metrics.root_mean_squared_error(y_true, y_pred),
    }


def _free_name(name: str, taken) -> str:
    """``name``, with underscores added until no column in ``taken`` has it."""
    taken = {str(c) for c in taken}
    while name in taken:
        name += "_"
    return name


def largest_errors(raw, y_true, y_pred, dataset, n: int = LARGEST_ERRORS) -> pd.DataFrame:
    """The ``n`` rows with the largest absolute error, largest first: the actual value, the
    prediction, the error (predicted - actual), then the row's features in their own units
    (``raw`` rows as ``raw_rows`` holds them)."""
    y_true = np.asarray(y_true, dtype=float).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=float).reshape(-1)
    error = y_pred - y_true
    order = np.argsort(-np.abs(error), kind="stable")[: max(int(n), 0)]
    table = dataset.table(np.asarray(raw, dtype=float)[order]).reset_index(drop=True)
    for name, column in (("error", error), ("predicted", y_pred), ("actual", y_true)):
        table.insert(0, _free_name(name, table.columns), column[order])
    return table


def regression_report(net: nn.Network, split, dataset) -> dict:
    """On the test rows: R^2, MAE and RMSE, the actual and predicted values and their errors
    (predicted - actual), and the rows with the largest errors."""
    y_true = np.asarray(split.y_test, dtype=float)
    if len(y_true) == 0:
        raise ValueError("The split has no test rows; raise the test share on the Data page.")
    y_pred = np.asarray(net.predict(network_inputs(net, split, dataset, "test")), dtype=float)
    y_true = y_true.reshape(len(y_true), -1)[:, 0]
    y_pred = y_pred.reshape(len(y_pred), -1)[:, 0]
    return {
        **regression_scores(y_true, y_pred),
        "n_test": len(y_true),
        "actual": y_true,
        "predicted": y_pred,
        "error": y_pred - y_true,
        "largest": largest_errors(raw_rows(split, "test"), y_true, y_pred, dataset),
    }


def feature_ranges(split) -> pd.DataFrame:
    """Per feature, in the data's own units: training median, min, max, and input bounds
    (gaps left out; a categorical column's figures are label indices, used by nobody)."""
    raw = raw_rows(split, "train")
    raw = np.where(np.isnan(raw).all(axis=0), 0.0, raw)  # a column of gaps only
    lo, hi = _tidy(np.nanmin(raw, axis=0)), _tidy(np.nanmax(raw, axis=0))
    span = np.where(hi > lo, hi - lo, np.maximum(np.abs(hi), 1.0))
    return pd.DataFrame(
        {
            "median": _tidy(np.nanmedian(raw, axis=0)),
            "min": lo,
            "max": hi,
            "lower": _tidy(lo - span),
            "upper": _tidy(hi + span),
        }
    )


BLANK = "(blank)"  # the Predict form's choice for a gap the network fills itself


def gap_allowed(net: nn.Network, name: str) -> bool:
    """True when ``net`` fills a gap in the feature ``name`` itself (imputation)."""
    pre = net.preprocessor
    if pre is None or name not in pre.features:
        return False
    return pre.column(name).fill is not None


def form_categories(net: nn.Network, dataset, name: str) -> list[str]:
    """The choices of a categorical feature on the Predict form: the categories the network
    learned (else the dataset's), and ``BLANK`` where it fills gaps itself."""
    pre = net.preprocessor
    if pre is not None and name in pre.features and pre.column(name).kind == "categorical":
        column = pre.column(name)
        learned = [c for c in column.categories if c != nn.preprocess.MISSING]
        return learned + ([BLANK] if column.fill is not None else [])
    return list(dataset.categories.get(name, []))


def form_row(values, dataset) -> np.ndarray:
    """The Predict form's values as a row in the data's own units: numbers, categories as the
    dataset's label indices, a blank (or a label the dataset does not know) as a gap."""
    row = np.full(len(values), np.nan)
    for j, (name, kind) in enumerate(dataset.feature_kinds().items()):
        value = values[j]
        if kind == "categorical":
            known = dataset.categories.get(name, [])
            row[j] = known.index(value) if value in known else np.nan
        elif value is not None:
            row[j] = float(value)
    return row


def form_problems(values, names: list[str], ranges: pd.DataFrame, net=None, dataset=None):
    """What is wrong with the Predict form's values (empty when every number is within the
    bounds of ``feature_ranges``, or blank where the network fills gaps): one message per bad
    field, naming its range. Categorical fields come from a select box and are not checked."""
    kinds = dataset.feature_kinds() if dataset is not None else {}
    problems = []
    for name, value, (_, r) in zip(names, values, ranges.iterrows(), strict=True):
        if kinds.get(name) == "categorical":
            continue
        if value is None and net is not None and gap_allowed(net, name):
            continue
        if value is None or not np.isfinite(value):
            problems.append(f"{name} needs a number")
        elif not r["lower"] <= value <= r["upper"]:
            problems.append(f"{name} = {value:g} is outside {r['lower']:g} to {r['upper']:g}")
    return problems


def _tidy(values: np.ndarray) -> np.ndarray:
    """Six significant digits: undoing standardization leaves noise such as 2.2e-16."""
    return np.array([float(f"{v:.6g}") for v in values])


def predict_one(net: nn.Network, dataset, values) -> np.ndarray:
    """The network's outputs (n_outputs,) for one sample given in the data's own units."""
    return net.predict_proba(inputs_for(net, dataset, values))[0]


def predicted_class(net: nn.Network, dataset, values) -> int:
    """The class index the network predicts for one sample given in the data's own units: the
    largest output, or for two classes the positive one when its probability is above the
    network's saved decision threshold (``nn.evaluation.predict_classes``)."""
    return int(evaluation.predict_classes(net, inputs_for(net, dataset, values))[0])


def batch_predict(net: nn.Network, frame: pd.DataFrame, dataset) -> pd.DataFrame:
    """Predictions for every row of an uploaded table that has the dataset's feature columns
    (a two-class network's classes at its saved decision threshold).

    Its columns are named as ``nn.data.load_csv`` names them; every cell and column name
    follows the CSV rule of ``csv_safe_cell``, since the table is offered as a CSV download.
    """
    feature_names = [str(f) for f in dataset.feature_names]
    frame = frame.rename(columns=lambda c: strip_bidi(str(c)).strip())
    # A name the template had to write safely ("'=x" for "=x") counts as that feature.
    written = {csv_safe_cell(f): f for f in feature_names if csv_safe_cell(f) != f}
    frame = frame.rename(columns=lambda c: c if c in feature_names else written.get(c, c))
    missing = [f for f in feature_names if f not in frame.columns]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ValueError(
            f"The file lacks {len(missing)} of the {len(feature_names)} feature columns "
            f"the network needs: {shown}"
        )
    if len(frame) == 0:
        raise ValueError("The file has no rows to predict.")
    pre = net.preprocessor
    if pre is not None and not pre.numeric_only:  # a table: numbers, labels and gaps as read
        inputs = pre.transform(frame[feature_names])
    else:
        try:
            X = frame[feature_names].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
        except (ValueError, TypeError):
            raise ValueError("Some feature cells are not numbers.") from None
        if not np.all(np.isfinite(X)):
            raise ValueError("Some feature cells are empty or not finite numbers.")
        inputs = X if pre is None else pre.transform(X)
    if net.task == nn.task.REGRESSION:
        return _batch_values(net, inputs, frame, dataset)
    outputs = net.predict_proba(inputs)
    names = np.asarray([str(c) for c in dataset.class_names], dtype=object)
    labels = evaluation.predict_classes(net, inputs)
    result = frame.map(csv_safe_cell) if hasattr(frame, "map") else frame.copy()
    result["predicted_class"] = [csv_safe_cell(n) for n in names[labels]]
    if net.n_outputs > 1:
        for k, name in enumerate(names):
            result[f"output_{csv_safe_cell(name)}"] = outputs[:, k]
    result.columns = [csv_safe_cell(c) for c in result.columns]
    return result


def prediction_column(dataset, columns=()) -> str:
    """The name of a regression batch prediction's column: ``predicted_<target>`` (with
    underscores added while ``columns`` has it), written by the CSV rule."""
    return csv_safe_cell(_free_name(f"predicted_{target_name(dataset)}", columns))


def target_values(frame: pd.DataFrame, dataset) -> np.ndarray | None:
    """The numbers in an uploaded table's column of the regression target (NaN where a cell
    is blank or not a number), or None when it has no such column."""
    frame = frame.rename(columns=lambda c: strip_bidi(str(c)).strip())
    target = target_name(dataset)
    if not dataset.target or target not in frame.columns:
        return None
    column = frame[target]
    if isinstance(column, pd.DataFrame):  # the header twice: the first one counts
        column = column.iloc[:, 0]
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(values), values, np.nan)


def _batch_values(net: nn.Network, inputs, frame: pd.DataFrame, dataset) -> pd.DataFrame:
    """A regression batch: the table with the predicted value in the target's units and, when
    it has the target column, the error (predicted - actual; blank where the actual is)."""
    values = np.asarray(net.predict(inputs), dtype=float)
    values = values.reshape(len(values), -1)[:, 0]
    result = frame.map(csv_safe_cell) if hasattr(frame, "map") else frame.copy()
    result.columns = [csv_safe_cell(c) for c in result.columns]
    name = prediction_column(dataset, result.columns)
    result[name] = values
    actual = target_values(frame, dataset)
    if actual is not None:
        result[csv_safe_cell(_free_name("error", result.columns))] = values - actual
    return result


def typical_row(split, dataset) -> np.ndarray:
    """A row in the data's own units: each number's training median, each category its most
    frequent label (as an index), what a feature is held at when nobody chose a value."""
    row = feature_ranges(split)["median"].to_numpy().astype(float)
    raw = raw_rows(split, "train")
    for j, kind in enumerate(dataset.feature_kinds().values()):
        if kind == "categorical":
            codes = raw[:, j][~np.isnan(raw[:, j])]
            row[j] = np.bincount(codes.astype(int)).argmax() if len(codes) else np.nan
    return row


def template_csv(split, dataset) -> str:
    """A CSV to fill in for batch prediction: the feature columns and one example row (the
    training medians), written by the same CSV rule as every file the lab offers."""
    example = dataset.table(typical_row(split, dataset)[None, :])
    example.columns = [csv_safe_cell(str(f)) for f in dataset.feature_names]
    return example.map(csv_safe_cell).to_csv(index=False)


def unseen_categories(net: nn.Network, frame: pd.DataFrame) -> str | None:
    """A sentence naming the categories of an uploaded table never seen in training (their
    inputs are all zeros), or None."""
    pre = net.preprocessor
    if pre is None or pre.numeric_only:
        return None
    frame = frame.rename(columns=lambda c: strip_bidi(str(c)).strip())
    try:
        found = pre.unseen(frame)
    except ValueError:  # a missing column: batch_predict says so
        return None
    if not found:
        return None
    parts = [f"{name}: {', '.join(values[:5])}" for name, values in found.items()]
    return (
        "Values never seen in training (the network gets all zeros for that column): "
        + "; ".join(parts[:5])
    )


def batch_metrics(predicted: pd.DataFrame, frame: pd.DataFrame, target, dataset) -> dict | None:
    """Accuracy of a batch prediction when the uploaded table has the target column (rows
    with a label the dataset does not know are left out), else None. For regression (the
    dataset's own target column, ``target`` is not used): R^2, MAE and RMSE over the rows
    whose target is a number."""
    if dataset.is_regression:
        return _batch_scores(predicted, frame, dataset)
    frame = frame.rename(columns=lambda c: strip_bidi(str(c)).strip())
    if not target or target not in frame.columns:
        return None
    known = {str(c): i for i, c in enumerate(dataset.class_names)}
    truth = frame[target].map(lambda v: known.get(label_text([v])[0]))
    rows = truth.notna().to_numpy()
    if not rows.any():
        return None
    names = [str(c) for c in dataset.class_names]
    guess = predicted["predicted_class"].map(lambda c: names.index(c) if c in names else -1)
    right = int((guess.to_numpy()[rows] == truth.to_numpy()[rows].astype(int)).sum())
    return {"accuracy": right / int(rows.sum()), "rows": int(rows.sum())}


def _batch_scores(predicted: pd.DataFrame, frame: pd.DataFrame, dataset) -> dict | None:
    actual = target_values(frame, dataset)
    if actual is None:
        return None
    rows = ~np.isnan(actual)
    if not rows.any():
        return None
    # the first column batch_predict added after the file's own
    guess = predicted.iloc[:, frame.shape[1]].to_numpy(dtype=float)
    return {**regression_scores(actual[rows], guess[rows]), "rows": int(rows.sum())}


def read_table(data_bytes: bytes) -> pd.DataFrame:
    """An uploaded CSV for batch prediction, within the limits; ``ValueError`` if unusable."""
    too_big = limits.check_upload_size(len(data_bytes))
    if too_big:
        raise ValueError(too_big)
    if not data_bytes.strip():
        raise ValueError("The file is empty.")
    try:
        frame = pd.read_csv(io.BytesIO(data_bytes), nrows=limits.MAX_ROWS + 1)
    except UnicodeDecodeError:
        raise ValueError("The file is not UTF-8 text; save it as a UTF-8 CSV.") from None
    except Exception as exc:  # pandas raises many kinds for junk; all mean "not a CSV"
        raise ValueError(f"This does not look like a CSV table ({type(exc).__name__}).") from None
    if len(frame) > limits.MAX_ROWS:
        raise ValueError(f"The file has more than {limits.MAX_ROWS:,} rows, the limit here.")
    if frame.shape[1] > limits.MAX_COLUMNS + 1:
        raise ValueError(
            f"The file has {frame.shape[1]} columns; the limit is {limits.MAX_COLUMNS + 1}."
        )
    return frame


def model_bytes(net: nn.Network, dataset=None) -> bytes:
    """The network as the bytes of an ``.npz`` file, with the names of the data it was trained
    on added to its metadata (what it holds already, such as the decision threshold, stays; its
    preprocessing travels in the file too: ``net.preprocessor``)."""
    if dataset is not None:
        kept = net.metadata if isinstance(net.metadata, dict) else {}
        net.metadata = {**kept, **dataset.names()}
    buffer = io.BytesIO()
    net.save(buffer)
    return buffer.getvalue()


TASK_WORDS = {
    nn.task.CLASSIFICATION: "classes (classification)",
    nn.task.REGRESSION: "a number (regression)",
}


def check_model_task(net: nn.Network, dataset) -> None:
    """``ValueError`` when a model predicts another kind of answer than the current dataset's
    target: a number for classes, or classes for a number."""
    if net.task == dataset.task:
        return
    meta = net.metadata if isinstance(net.metadata, dict) else {}
    trained = meta.get("target")
    what = f" (it was trained to predict {display_name(trained, 60)})" if trained else ""
    raise ValueError(
        f"This model predicts {TASK_WORDS.get(net.task, net.task)}{what}, but the current "
        f"dataset's target is {TASK_WORDS.get(dataset.task, dataset.task)}. Choose the dataset "
        "it was trained on (Data page) and upload it again."
    )


def check_model_metadata(net: nn.Network, dataset, split) -> None:
    """``ValueError`` when a model's saved data facts contradict the current dataset and split."""
    meta = net.metadata if isinstance(net.metadata, dict) else {}
    checks = [
        (meta.get("feature_names"), dataset.feature_names, "features"),
        (meta.get("class_names"), dataset.class_names, "classes"),
    ]
    if net.preprocessor is not None:  # the columns its inputs are made from
        checks.append((net.preprocessor.features, dataset.feature_names, "features"))
    for theirs, ours, what in checks:
        if isinstance(theirs, list) and [str(t) for t in theirs] != [str(o) for o in ours]:
            raise ValueError(
                f"The model was trained on other {what} than the current dataset's. Choose the "
                "dataset it was trained on (Data page) and upload it again."
            )
    trained = meta.get("target")
    if dataset.is_regression and isinstance(trained, str) and trained != str(dataset.target):
        raise ValueError(
            f"The model was trained to predict {display_name(trained, 60)}, not the current "
            f"dataset's target {display_name(dataset.target, 60)}. Choose the dataset it was "
            "trained on (Data page) and upload it again."
        )
    # Files saved before the preprocessing travelled with the model only say whether it
    # standardized; such a model can only use the current split's preprocessing.
    standardized = meta.get("standardized")
    if (
        net.preprocessor is None
        and isinstance(standardized, bool)
        and standardized != (split.scaler is not None)
    ):
        wanted = "on" if standardized else "off"
        raise ValueError(
            f"The model was trained with Standardize {wanted}. Turn Standardize {wanted} on the "
            "Data page and upload it again."
        )


def load_model(data_bytes: bytes, dataset, split) -> nn.Network:
    """A network from an uploaded ``.npz`` that fits the current dataset; ``ValueError`` else.

    It predicts with the preprocessing saved in it, whatever the current split; a file without
    one (saved before it travelled with the model) gets the current split's.
    """
    too_big = limits.check_upload_size(len(data_bytes))
    if too_big:
        raise ValueError(too_big)
    try:
        # The demo's size limit is checked before the network is built.
        net = nn.Network.load(io.BytesIO(data_bytes), max_params=limits.MAX_PARAMS)
    except MemoryError:
        raise ValueError("This model file is too large to load here.") from None
    except ValueError as exc:
        raise ValueError(f"This model file cannot be used: {exc}") from None
    check_model_task(net, dataset)
    n_features, n_classes = dataset.X.shape[1], len(dataset.class_names)
    # Its preprocessing (saved with it) makes its inputs from the raw feature columns.
    takes = net.preprocessor.n_features if net.preprocessor is not None else net.n_inputs
    if takes != n_features:
        raise ValueError(
            f"The model expects {takes} input features but the current dataset has "
            f"{n_features}. Choose the dataset it was trained on (Data page) and upload it again."
        )
    # The app gives every class its own output node (a single sigmoid output for two classes
    # is not something it makes), so the outputs must be exactly the dataset's classes.
    if dataset.is_regression and net.n_outputs != dataset.n_outputs:
        raise ValueError(
            f"The model predicts {net.n_outputs} numbers but the current dataset has one "
            "target. Choose the dataset it was trained on (Data page) and upload it again."
        )
    if not dataset.is_regression and net.n_outputs != n_classes:
        raise ValueError(
            f"The model has {net.n_outputs} output node{'s' * (net.n_outputs != 1)} but the "
            f"current dataset has {n_classes} classes, and this app's models have one output "
            "per class. Choose the dataset it was trained on (Data page) and upload it again."
        )
    check_model_metadata(net, dataset, split)
    if net.task == nn.task.CLASSIFICATION:
        try:
            evaluation.model_threshold(net)
        except ValueError as exc:
            raise ValueError(f"This model file cannot be used: {exc}.") from None
    if net.preprocessor is None:
        net.preprocessor = split.preprocessor
    sizes = net.config["layers"]
    problems = limits.check_architecture(sizes[1:-1], net.n_params)
    if problems:
        raise ValueError("The model is larger than this demo allows: " + " ".join(problems))
    if len(net.history) > limits.MAX_HISTORY:
        net.history = net.history[-limits.MAX_HISTORY :]
    return net


# ---- evaluation beyond accuracy: curves, a decision threshold, permutation importance ----

THRESHOLD_MIN, THRESHOLD_MAX, THRESHOLD_STEP = 0.01, 0.99, 0.01  # the threshold slider
IMPORTANCE_REPEATS = 5  # shuffles per feature
IMPORTANCE_SEED = 0


def is_binary(net: nn.Network) -> bool:
    """True for a two-class classifier: the one kind that has a decision threshold."""
    return net.task == nn.task.CLASSIFICATION and net.n_classes == 2


def test_probabilities(net: nn.Network, split, dataset) -> tuple[np.ndarray, np.ndarray]:
    """The test rows' class labels (n,) and the network's class probabilities (n, k)."""
    y = np.asarray(split.y_test, dtype=int)
    if len(y) == 0:
        raise ValueError("The split has no test rows; raise the test share on the Data page.")
    inputs = network_inputs(net, split, dataset, "test")
    return y, evaluation.class_probabilities(net, inputs)


def curves_report(net: nn.Network, split, dataset) -> dict:
    """On the test rows: ROC and precision-recall curves, the reliability diagram, and the
    labels and probabilities they come from; ``ValueError`` (in words for the page) when the
    test rows cannot give them, e.g. a class missing from them."""
    y, proba = test_probabilities(net, split, dataset)
    names = [str(c) for c in dataset.class_names]
    try:
        roc = evaluation.roc_curves(y, proba, names)
        pr = evaluation.pr_curves(y, proba, names)
        cal = evaluation.calibration(y, proba)
    except ValueError as exc:
        raise ValueError(
            f"No curves from these test rows: {exc}. A larger test share (Data page) may help."
        ) from None
    return {"y": y, "proba": proba, "roc": roc, "pr": pr, "calibration": cal}


def slider_threshold(value) -> float:
    """The threshold slider's value checked on the server: a number from ``THRESHOLD_MIN`` to
    ``THRESHOLD_MAX``; ``ValueError`` naming the problem otherwise."""
    t = evaluation.check_threshold(value)
    if not THRESHOLD_MIN <= t <= THRESHOLD_MAX:
        raise ValueError(
            f"the decision threshold must be from {THRESHOLD_MIN:g} to {THRESHOLD_MAX:g}, got {t:g}"
        )
    return t


def slider_start(net: nn.Network) -> float:
    """Where the threshold slider starts: the network's saved threshold, within the slider."""
    t = evaluation.model_threshold(net)
    return float(min(max(round(t, 2), THRESHOLD_MIN), THRESHOLD_MAX))


def threshold_note(net: nn.Network, positive: str) -> str:
    """Which rule a two-class network's predictions follow, as a plain sentence (``positive``
    is the positive class's name, shown as given: escape it before Markdown)."""
    t = evaluation.model_threshold(net)
    meta = net.metadata if isinstance(net.metadata, dict) else {}
    saved = evaluation.THRESHOLD_KEY in meta
    source = "saved with the model" if saved else "the default"
    return (
        f"Predictions say {positive} when its probability is above {t:.2f} "
        f"(the decision threshold, {source})."
    )


def importance_key(net: nn.Network, split) -> str:
    """A digest of everything a test-set permutation importance depends on: the model file
    (weights, preprocessing, metadata) and the test rows and labels."""
    digest = hashlib.sha256()
    buffer = io.BytesIO()
    net.save(buffer)
    digest.update(buffer.getvalue())
    for array in (raw_rows(split, "test"), split.y_test):
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def test_importance(net: nn.Network, split, dataset) -> evaluation.Importances:
    """Permutation importance of each raw feature on the test rows: the fall in accuracy (R^2
    for regression) when that column is shuffled (``nn.evaluation.permutation_importance``)."""
    y = np.asarray(split.y_test)
    if len(y) == 0:
        raise ValueError("The split has no test rows; raise the test share on the Data page.")
    raw = raw_rows(split, "test")
    table = dataset.table(raw) if net.preprocessor is not None else raw
    if dataset.is_regression:
        y = np.asarray(y, dtype=float).reshape(len(y), -1)[:, 0]
    return evaluation.permutation_importance(
        net, table, y, n_repeats=IMPORTANCE_REPEATS, seed=IMPORTANCE_SEED
    )
