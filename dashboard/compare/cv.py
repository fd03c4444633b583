"""Cross-validation of the current settings for the Compare page, in a background thread.

No Streamlit here. ``CVJob`` runs ``nn.crossval.cross_validate`` in a thread of the server so
that the page stays live: it draws the progress from ``CVJob.done``, and its Cancel button calls
``CVJob.cancel``; the folds themselves run in joblib's worker processes (``n_jobs`` of them,
at most ``limits.MAX_CV_JOBS``) or, with one job, in that thread.

The demo's limits bound it: the page starts a job only with one of the server's training slots
(``capacity.SLOTS``, as "Run 5 seeds"), and a job stops by itself, keeping the folds that
finished, once its wall-clock time times its workers reaches ``limits.MAX_RUN_CPU_S``, the
compute one run may use. The tables and curves it shows are made here too: the folds' table,
the mean and standard deviation of every metric, and each fold's ROC or precision-recall curve
from its held-out rows, for ``nn.evaluation.curve_band``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

import nn
from dashboard.common import limits
from dashboard.data import datasets
from nn import crossval, evaluation

log = logging.getLogger(__name__)

# Why a job ended before its last fold (CVJob.reason).
CANCELLED = "cancelled"  # the Cancel button
BUDGET = "budget"  # the compute one run may use (limits.MAX_RUN_CPU_S)
LEFT = "left"  # the page stopped asking for its training slot (the tab was closed)
REASONS = {
    CANCELLED: "Cancelled",
    BUDGET: f"Stopped at this demo's compute limit ({limits.duration_text(limits.MAX_RUN_CPU_S)})",
    LEFT: "Stopped: the page was closed or left for a while",
}
MACRO = -1  # the curve of the macro average, in fold_curves
CROSS_VALIDATION, LEARNING = "cv", "learning"  # what a CVJob runs
KINDS = (CROSS_VALIDATION, LEARNING)
LEARNING_SHARES = crossval.LEARNING_SHARES
MAX_REPEATS = 5  # repeats of the k folds (and at most crossval.MAX_FITS networks in all)


@dataclass(frozen=True)
class CVRequest:
    """Everything one cross-validation needs, checked by ``request``."""

    dataset: nn.data.Dataset
    network_config: dict
    training: dict
    k: int
    repeats: int
    seed: int
    standardize: bool
    val_size: float
    n_jobs: int
    engineered: str = "none"  # the split's engineered inputs (nn.config.SPLIT)

    @property
    def total(self) -> int:
        return self.k * self.repeats


def request(
    dataset,
    network_config: dict,
    train_settings: dict,
    split_settings: dict,
    k,
    repeats,
    n_jobs,
) -> tuple[CVRequest, list[str]]:
    """The cross-validation of the current settings: the network and training settings (the
    app's pace dropped), the split's seed, standardizing and validation share (needed for early
    stopping), with ``k``, ``repeats`` and ``n_jobs`` clamped to the demo's limits (whatever a
    widget sent). Returns the request and the messages of what was clamped."""
    messages = []
    k, m1 = limits.clamp_int("Folds", k, crossval.MIN_FOLDS, crossval.MAX_FOLDS, 5)
    most = max(1, crossval.MAX_FITS // k)
    repeats, m2 = limits.clamp_int("Repeats", repeats, 1, min(most, MAX_REPEATS), 1)
    n_jobs, m3 = limits.clamp_int("Workers", n_jobs, 1, limits.MAX_CV_JOBS, limits.MAX_CV_JOBS)
    messages += [m for m in (m1, m2, m3) if m]
    training = {name: train_settings[name] for name in nn.config.TRAINING if name in train_settings}
    val_size = float(split_settings.get("val_size", 0.0))
    if training.get("early_stopping") and not val_size:
        training["early_stopping"] = False
        messages.append("Early stopping needs a validation share (Data page); folds run without.")
    return (
        CVRequest(
            dataset=dataset,
            network_config=dict(network_config),
            training=training,
            k=int(k),
            repeats=int(repeats),
            seed=int(split_settings.get("seed", 0)),
            standardize=bool(split_settings.get("standardize", True)),
            val_size=val_size,
            n_jobs=int(n_jobs),
            engineered=datasets.fit_split_settings(dataset, split_settings).get(
                "engineered", nn.config.NO_NAMES
            ),
        ),
        messages,
    )


def problem(req: CVRequest) -> str | None:
    """Why this data cannot be cross-validated with ``req.k`` folds, in words (or None)."""
    ds = req.dataset
    if ds.is_regression:
        return (
            None if len(ds.y) >= 2 * req.k else f"{len(ds.y)} rows are too few for {req.k} folds."
        )
    counts = np.bincount(ds.y, minlength=ds.n_classes)
    if counts.min() < req.k:
        return (
            f"The class {ds.class_names[int(counts.argmin())]!r} has {int(counts.min())} rows, "
            f"fewer than the {req.k} folds: every fold needs a row of every class. Choose at "
            f"most {max(int(counts.min()), 1)} folds."
        )
    return None


class CVJob:
    """One cross-validation (``kind`` "cv") or learning curve ("learning": the ``k`` folds at
    each of ``LEARNING_SHARES`` of their training rows, repeats ignored) running in a thread:
    ``done`` of ``total`` networks so far, then ``result`` (a ``CVResult`` or
    ``LearningCurve``, possibly with fewer folds when stopped: ``reason`` says why) or
    ``error`` (a sentence). Thread-safe to read from the page while it runs."""

    def __init__(
        self,
        req: CVRequest,
        budget_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        kind: str = CROSS_VALIDATION,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        self.kind = kind
        self.request = req
        self.budget_s = limits.MAX_RUN_CPU_S if budget_s is None else float(budget_s)
        self._clock = clock
        self._stop = threading.Event()
        self.done = 0
        self.total = req.total if kind == CROSS_VALIDATION else req.k * len(LEARNING_SHARES)
        self.started = clock()
        self.finished: float | None = None
        self.result: crossval.CVResult | crossval.LearningCurve | None = None
        self.error: str | None = None
        self.reason: str | None = None
        self._thread = threading.Thread(target=self._run, name="cross-validation", daemon=True)
        self._on_end: Callable[[], None] | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else (self.reason or ("failed" if self.error else "done"))
        return f"CVJob({self.done}/{self.total} folds, {state})"

    def start(self, on_end: Callable[[], None] | None = None) -> CVJob:
        """Start the folds; ``on_end()`` is called in the job's thread when it ends."""
        self._on_end = on_end
        self._thread.start()
        return self

    def cancel(self, reason: str = CANCELLED) -> None:
        """Stop after the folds in progress (workers running one are stopped)."""
        if self.reason is None:
            self.reason = reason
        self._stop.set()

    @property
    def running(self) -> bool:
        return self.finished is None

    @property
    def elapsed(self) -> float:
        return (self.finished if self.finished is not None else self._clock()) - self.started

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the job to end (tests, the command line); True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _should_stop(self) -> bool:
        if self.elapsed * self.request.n_jobs >= self.budget_s:
            self.cancel(BUDGET)
        return self._stop.is_set()

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total  # a learning curve may drop a share: its count

    def _run(self) -> None:
        req = self.request
        try:
            if self.kind == CROSS_VALIDATION:
                run, counts = crossval.cross_validate, {"k": req.k, "repeats": req.repeats}
            else:
                run, counts = crossval.learning_curve, {"k": req.k, "shares": LEARNING_SHARES}
            self.result = run(
                req.dataset,
                req.network_config,
                req.training,
                **counts,
                seed=req.seed,
                standardize=req.standardize,
                val_size=req.val_size,
                n_jobs=req.n_jobs,
                progress=self._progress,
                should_stop=self._should_stop,
                max_jobs=limits.MAX_CV_JOBS,
                engineered=req.engineered,
            )
            if not self.result.cancelled:
                self.reason = None  # a cancel that came after the last fold changed nothing
        except (ValueError, nn.DivergenceError) as exc:
            self.error = str(exc)
        except Exception as exc:  # a worker that died, say: the page tells, the server goes on
            log.exception("cross-validation failed")
            self.error = f"The cross-validation failed: {type(exc).__name__}."
        finally:
            self.finished = self._clock()
            if self._on_end is not None:
                try:
                    self._on_end()
                except Exception:
                    log.exception("cross-validation clean-up failed")


def fold_table(result: crossval.CVResult) -> pd.DataFrame:
    """One row per finished fold: fold (and repeat), rows trained on and held out, every
    held-out metric, epochs, whether it stopped early, seconds."""
    rows = []
    for row in result.table():
        line = {"fold": row["fold"]}
        if result.repeats > 1:
            line["repeat"] = row["repeat"]
        line["training rows"] = row["n_train"]
        if row["n_val"]:
            line["validation rows"] = row["n_val"]
        line["held-out rows"] = row["n_test"]
        line.update({name: row[name] for name in result.metric_names})
        line["epochs"] = row["epochs"]
        line["stopped early"] = "yes" if row["stopped_early"] else "no"
        line["seconds"] = row["seconds"]
        rows.append(line)
    return pd.DataFrame(rows)


def summary_table(result: crossval.CVResult) -> pd.DataFrame:
    """One row per metric (and the epochs): its mean, standard deviation (``crossval.DDOF``),
    lowest and highest over the finished folds."""
    rows = []
    for name, figures in result.summary().items():
        values = [f.epochs if name == "epochs" else f.metrics[name] for f in result.folds]
        rows.append(
            {
                "metric": name,
                "mean": figures["mean"],
                "std": figures["std"],
                "lowest": float(np.min(values)),
                "highest": float(np.max(values)),
            }
        )
    return pd.DataFrame(rows)


def curve_choices(class_names: list[str]) -> list[int]:
    """Which curve the bands may show: the positive class's for two classes, else the macro
    average (``MACRO``) and each class against the rest."""
    if len(class_names) == 2:
        return [1]
    return [MACRO, *range(len(class_names))]


def fold_curves(result: crossval.CVResult, class_names: list[str], kind: str, which: int):
    """Each finished fold's ROC (``kind`` "roc") or precision-recall ("pr") curve of the
    class ``which`` (``MACRO`` for the macro average; for two classes, the positive class)
    from its held-out rows and probabilities, for ``nn.evaluation.curve_band``."""
    make = evaluation.roc_curves if kind == "roc" else evaluation.pr_curves
    curves = []
    for fold in result.folds:
        found = make(fold.y_true, fold.outputs, class_names)
        if found.binary:
            curves.append(found.curves[0])
        elif which == MACRO:
            curves.append(found.macro)
        else:
            curves.append(found.curves[which])
    return curves


def curve_label(class_names: list[str], which: int) -> str:
    """The name of a curve choice, as text (class names are the user's)."""
    if which == MACRO:
        return "macro average"
    return f"{class_names[which]} against the rest" if len(class_names) > 2 else class_names[which]
