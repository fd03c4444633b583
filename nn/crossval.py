"""K-fold cross-validation: every fold trains the settings from scratch on its own preprocessing.

The folds are scikit-learn's (``StratifiedKFold`` for classes, ``KFold`` for numbers, their
``Repeated*`` kinds for repeats), so a fold assignment can be checked against theirs. A fold's
parts are made by ``nn.data.split`` itself (see ``fold_split``): the ``Preprocessor`` (and, for
regression, the network's target scaler) is fitted on that fold's training rows only, never on
its held-out rows. Folds run in joblib's worker processes (the default loky backend) or, with
``n_jobs=1``, in this process; the result is the same either way.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nn import config
from nn.data import CLASSIFICATION, REGRESSION, Dataset, Split, split
from nn.errors import DivergenceError
from nn.network import Network, normalize_config
from nn.preprocess import Preprocessor

MIN_FOLDS, MAX_FOLDS = 3, 10
MAX_FITS = 50  # folds times repeats: the networks one cross-validation may train
MAX_JOBS = os.cpu_count() or 1  # workers allowed unless the caller (the app's limits) says
# The standard deviation of a metric over the folds divides by n - DDOF: 0 is NumPy's default
# and what scikit-learn's user guide reports as "scores.std()".
DDOF = 0
# joblib's loky workers are one pool per process, shared by every parallel call, and abandoning
# folds (a cancel, an error) terminates that pool's workers: parallel cross-validations in one
# process (the app's sessions) take turns with it, waiting this long between looks at should_stop.
_POOL = threading.Lock()
POOL_POLL_S = 0.1


@dataclass
class FoldResult:
    """One fold's run: its sizes, held-out scores (``Network.evaluate``), epochs and curves.

    ``fold`` and ``repeat`` count from 1. ``history`` holds one ``EpochRecord.as_dict()`` per
    epoch; ``preprocessor`` is the one fitted on this fold's training rows.
    """

    fold: int
    repeat: int
    n_train: int
    n_val: int
    n_test: int
    metrics: dict[str, float]
    epochs: int
    stopped_early: bool
    history: list[dict]
    preprocessor: Preprocessor = field(repr=False)
    seconds: float = 0.0

    def row(self) -> dict:
        """The fold's line of the results table (no curves)."""
        return {
            "fold": self.fold,
            "repeat": self.repeat,
            "n_train": self.n_train,
            "n_val": self.n_val,
            "n_test": self.n_test,
            **self.metrics,
            "epochs": self.epochs,
            "stopped_early": self.stopped_early,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class CVResult:
    """What a cross-validation found: one ``FoldResult`` per finished fold, in fold order.

    ``cancelled`` says it stopped before every fold ran (``should_stop``); ``folds`` then
    holds the folds that finished.
    """

    task: str
    k: int
    repeats: int
    seed: int
    folds: list[FoldResult]
    cancelled: bool = False
    n_jobs: int = 1
    seconds: float = 0.0

    def __repr__(self) -> str:
        done = f"{len(self.folds)}/{self.total} folds"
        flag = ", cancelled" if self.cancelled else ""
        return f"CVResult({self.task}, k={self.k}, repeats={self.repeats}, {done}{flag})"

    @property
    def total(self) -> int:
        """Folds it was asked for: ``k * repeats``."""
        return self.k * self.repeats

    @property
    def metric_names(self) -> list[str]:
        """The held-out metrics of every fold ("loss", "accuracy" or "loss", "r2", ...)."""
        return list(self.folds[0].metrics) if self.folds else []

    def table(self) -> list[dict]:
        """One row per finished fold: fold, repeat, sizes, every metric, epochs, seconds."""
        return [f.row() for f in self.folds]

    def summary(self) -> dict[str, dict[str, float]]:
        """Mean and standard deviation (``ddof=DDOF``) over the finished folds of every metric
        and of the epochs trained: ``{"accuracy": {"mean": ..., "std": ...}, ...}``; empty
        when no fold finished."""
        if not self.folds:
            return {}
        out = {}
        for name in [*self.metric_names, "epochs"]:
            values = np.array(
                [f.epochs if name == "epochs" else f.metrics[name] for f in self.folds], float
            )
            out[name] = {"mean": float(values.mean()), "std": float(values.std(ddof=DDOF))}
        return out

    def curves(self, key: str = "val_loss") -> list[list[float | None]]:
        """One list per finished fold of an ``EpochRecord`` field, epoch by epoch."""
        return [[record.get(key) for record in f.history] for f in self.folds]

    def to_dict(self, history: bool = True) -> dict:
        """Plain JSON-ready data: the settings, the table, the summary, and (``history``) each
        fold's curves and fitted preprocessing."""
        folds = []
        for f in self.folds:
            row = f.row()
            if history:
                row.update(history=f.history, preprocessor=f.preprocessor.to_dict())
            folds.append(row)
        return {
            "task": self.task,
            "k": self.k,
            "repeats": self.repeats,
            "seed": self.seed,
            "n_jobs": self.n_jobs,
            "total": self.total,
            "completed": len(self.folds),
            "cancelled": self.cancelled,
            "ddof": DDOF,
            "seconds": round(self.seconds, 3),
            "folds": folds,
            "summary": self.summary(),
        }


def folds(
    y, k: int = 5, task: str = CLASSIFICATION, seed: int = 0, repeats: int = 1
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``(train_idx, test_idx)`` pairs of ``k``-fold cross-validation, ``repeats`` times.

    Exactly scikit-learn's ``StratifiedKFold(k, shuffle=True, random_state=seed)`` for
    classification (``y`` class labels) and ``KFold`` for regression; with ``repeats > 1``
    ``RepeatedStratifiedKFold`` / ``RepeatedKFold(n_splits=k, n_repeats=repeats,
    random_state=seed)``. Ordered repeat by repeat, fold by fold. ``ValueError`` in words when
    ``k`` is not 3 to 10, the folds times repeats exceed ``MAX_FITS``, or a class has fewer
    rows than folds.
    """
    from sklearn.model_selection import (
        KFold,
        RepeatedKFold,
        RepeatedStratifiedKFold,
        StratifiedKFold,
    )

    _check_counts(k, repeats)
    if task not in (CLASSIFICATION, REGRESSION):
        raise ValueError(f"task must be {CLASSIFICATION} or {REGRESSION}, got {task!r}")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must hold one label or number per row, got shape {y.shape}")
    if len(y) < k:
        raise ValueError(f"{len(y)} rows are too few for {k} folds")
    if task == CLASSIFICATION:
        labels, counts = np.unique(y, return_counts=True)
        if counts.min() < k:
            rare = labels[counts.argmin()]
            raise ValueError(
                f"class {rare} has {counts.min()} rows, fewer than the {k} folds: stratified "
                f"cross-validation needs a row of every class in every fold; choose at most "
                f"{max(counts.min(), 1)} folds"
            )
        if repeats == 1:
            splitter = StratifiedKFold(k, shuffle=True, random_state=seed)
        else:
            splitter = RepeatedStratifiedKFold(n_splits=k, n_repeats=repeats, random_state=seed)
    elif repeats == 1:
        splitter = KFold(k, shuffle=True, random_state=seed)
    else:
        splitter = RepeatedKFold(n_splits=k, n_repeats=repeats, random_state=seed)
    return list(splitter.split(np.zeros((len(y), 1)), y))


def fold_split(
    dataset: Dataset,
    train_idx,
    test_idx,
    val_size: float = 0.0,
    seed: int = 0,
    standardize: bool = True,
) -> Split:
    """One fold's parts, made by ``nn.data.split`` from these rows of ``dataset``.

    The training rows are dealt in an order shuffled with ``seed`` (as ``split`` deals them, so
    a run without per-epoch shuffling does not see them class by class); with ``val_size`` a
    validation part is carved from them by scikit-learn's ``train_test_split`` (stratified for
    classes), the way ``split`` carves it. ``split`` then gets the rows in the order train,
    validation, test with ``shuffle=False`` and part sizes that make exactly these parts, so the
    preprocessing (standardizing, a table's fills and categories, ``dataset.fill``) is fitted on
    the training rows only, by the one code that does it for a single run.
    """
    from sklearn.model_selection import train_test_split

    train_idx, test_idx = np.asarray(train_idx), np.asarray(test_idx)
    if val_size:
        strat = None if dataset.is_regression else dataset.y[train_idx]
        try:
            train_idx, val_idx = train_test_split(
                train_idx, test_size=val_size, random_state=seed, stratify=strat
            )
        except ValueError as exc:
            raise ValueError(f"cannot carve a validation part from a fold: {exc}") from None
    else:
        train_idx = np.random.default_rng(seed).permutation(train_idx)
        val_idx = train_idx[:0]
    order = np.concatenate([train_idx, val_idx, test_idx])
    n_rest = len(train_idx) + len(val_idx)
    # split rounds a share up (ceil); half a row below each size makes exactly that many rows
    parts = split(
        dataclasses.replace(dataset, X=dataset.X[order], y=dataset.y[order]),
        test_size=(len(test_idx) - 0.5) / len(order),
        val_size=(len(val_idx) - 0.5) / n_rest if len(val_idx) else 0.0,
        seed=seed,
        stratify=False,
        standardize=standardize,
        shuffle=False,
    )
    expected = {"train": len(train_idx), "validation": len(val_idx), "test": len(test_idx)}
    if parts.sizes != expected:  # a guard on the size arithmetic above, not a user error
        raise RuntimeError(f"fold parts of {parts.sizes}, expected {expected}")
    return parts


def cross_validate(
    dataset: Dataset,
    network_config: dict,
    training: dict,
    k: int = 5,
    repeats: int = 1,
    seed: int = 0,
    standardize: bool = True,
    val_size: float = 0.0,
    n_jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    max_jobs: int | None = None,
) -> CVResult:
    """Cross-validate ``network_config`` trained with ``training`` on ``dataset``.

    Each of the ``k * repeats`` folds (``folds``) gets its parts from ``fold_split`` (its own
    preprocessing, fitted on its training rows; ``val_size`` of them for validation, needed for
    early stopping), a fresh ``Network.from_config(network_config)`` whose input size is the
    fold's number of inputs (a table's categories can differ between folds), trained with the
    ``training`` settings (``nn.config.TRAINING``, epochs included) and shuffling seed
    ``seed``, the same for every fold; the network's own seed is its config's. It is scored on
    the held-out rows with ``Network.evaluate``.

    ``n_jobs`` worker processes (joblib, loky) run the folds; 1 runs them in this process. At
    most ``max_jobs`` (default ``MAX_JOBS``) and ``MAX_FITS`` folds in all. Parallel
    cross-validations in one process take turns with joblib's worker pool (see ``_POOL``).
    ``progress(done, total)`` is called here as folds finish; ``should_stop()`` is asked before
    the first fold, while waiting for the pool and after each fold: when it is true the
    remaining folds are abandoned (workers running one are stopped) and the result is marked
    ``cancelled``. A fold whose training diverges raises ``DivergenceError`` naming the fold.
    """
    if not isinstance(dataset, Dataset):
        raise ValueError("cross_validate needs a Dataset (nn.data.load_dataset or load_table)")
    _check_counts(k, repeats)
    limit = MAX_JOBS if max_jobs is None else max_jobs
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a whole number of workers, at least 1; got {n_jobs!r}")
    if n_jobs > limit:
        raise ValueError(f"n_jobs={n_jobs} is more than the {limit} worker(s) allowed here")
    network_config = normalize_config(network_config)
    training = config.check_training(training, fill=False)
    val_size = config.SPLIT["val_size"].check(val_size)
    standardize = config.SPLIT["standardize"].check(standardize)
    if training.get("early_stopping") and not val_size:
        raise ValueError("early stopping needs validation rows: give val_size above 0")
    task = REGRESSION if dataset.is_regression else CLASSIFICATION
    if task == CLASSIFICATION:
        counts = np.bincount(dataset.y, minlength=dataset.n_classes)
        if counts.min() < k:
            name = dataset.class_names[int(counts.argmin())]
            raise ValueError(
                f"the class {name!r} has {counts.min()} rows, fewer than the {k} folds: "
                f"stratified cross-validation needs a row of every class in every fold"
            )
    pairs = folds(dataset.y, k, task, seed, repeats)
    jobs = [
        (i // k + 1, i % k + 1, train_idx, test_idx)
        for i, (train_idx, test_idx) in enumerate(pairs)
    ]
    run = _FoldRun(dataset, network_config, training, seed, standardize, val_size)
    stop = should_stop or (lambda: False)
    done: list[FoldResult] = []
    start = time.perf_counter()
    if not stop():
        outcomes = _outcomes(run, jobs, min(int(n_jobs), len(jobs)), stop)
        try:
            for outcome in outcomes:
                done.append(_unpack(outcome))
                if progress is not None:
                    progress(len(done), len(jobs))
                if len(done) < len(jobs) and stop():
                    break
        finally:
            # Closing abandons the folds not yet finished; joblib warns that folds in progress
            # were abandoned, which is what a cancel asks for.
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "(?s).*tasks which were still being processed")
                outcomes.close()
    cancelled = len(done) < len(jobs)  # stopped before the first fold, between folds or waiting
    done.sort(key=lambda f: (f.repeat, f.fold))
    return CVResult(
        task=task,
        k=k,
        repeats=repeats,
        seed=seed,
        folds=done,
        cancelled=cancelled,
        n_jobs=int(n_jobs),
        seconds=time.perf_counter() - start,
    )


@dataclass
class _FoldRun:
    """What every fold shares (sent once per fold to a worker)."""

    dataset: Dataset
    network_config: dict
    training: dict
    seed: int
    standardize: bool
    val_size: float

    def __call__(self, repeat: int, fold: int, train_idx, test_idx) -> tuple:
        """``("ok", FoldResult)``, or ``("diverged", repeat, fold, epoch, hint)``: a
        ``DivergenceError`` is returned, not raised, as its arguments do not survive pickling."""
        start = time.perf_counter()
        parts = fold_split(
            self.dataset, train_idx, test_idx, self.val_size, self.seed, self.standardize
        )
        layers = list(self.network_config["layers"])
        layers[0] = parts.X_train.shape[1]
        net = Network.from_config({**self.network_config, "layers": layers})
        settings = dict(self.training)
        epochs = settings.pop("epochs", config.TRAINING["epochs"].default)
        val = (parts.X_val, parts.y_val) if len(parts.y_val) else None
        try:
            net.fit(
                parts.X_train,
                parts.y_train,
                epochs=epochs,
                validation_data=val,
                seed=self.seed,
                **settings,
            )
        except DivergenceError as exc:
            return ("diverged", repeat, fold, exc.epoch, exc.hint)
        metrics = {name: float(v) for name, v in net.evaluate(parts.X_test, parts.y_test).items()}
        return (
            "ok",
            FoldResult(
                fold=fold,
                repeat=repeat,
                n_train=len(parts.y_train),
                n_val=len(parts.y_val),
                n_test=len(parts.y_test),
                metrics=metrics,
                epochs=net.epochs_trained,
                stopped_early=net.stopped_early,
                history=[record.as_dict() for record in net.history],
                preprocessor=parts.preprocessor,
                seconds=time.perf_counter() - start,
            ),
        )


def _outcomes(run: _FoldRun, jobs: list[tuple], n_jobs: int, stop: Callable[[], bool]):
    """The folds' outcomes as they finish: in this process for one job, else from joblib's
    loky workers (unordered; closing the generator abandons the rest). A parallel run waits
    for the process's worker pool (``_POOL``), and gives up when ``stop()`` says so."""
    if n_jobs == 1:
        for job in jobs:
            yield run(*job)
        return
    from joblib import Parallel, delayed

    while not _POOL.acquire(timeout=POOL_POLL_S):
        if stop():
            return
    try:
        # Dispatch a fold only when a worker is free, so that a cancel abandons little work.
        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered", pre_dispatch="n_jobs")
        yield from parallel(delayed(run)(*job) for job in jobs)
    finally:
        _POOL.release()


def _unpack(outcome: tuple) -> FoldResult:
    if outcome[0] == "diverged":
        _, repeat, fold, epoch, hint = outcome
        raise DivergenceError(epoch, f"(fold {fold}, repeat {repeat}) {hint}")
    return outcome[1]


def _check_counts(k, repeats) -> None:
    for name, value in (("k", k), ("repeats", repeats)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be a whole number, got {value!r}")
    if not MIN_FOLDS <= k <= MAX_FOLDS:
        raise ValueError(f"the number of folds must be from {MIN_FOLDS} to {MAX_FOLDS}, got {k}")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if k * repeats > MAX_FITS:
        raise ValueError(
            f"{k} folds repeated {repeats} times train {k * repeats} networks; "
            f"the limit is {MAX_FITS}"
        )
