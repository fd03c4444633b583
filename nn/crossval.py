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
import math
import os
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nn import config, evaluation
from nn.data import CLASSIFICATION, REGRESSION, Dataset, Split, split
from nn.errors import DivergenceError
from nn.network import Network, normalize_config
from nn.preprocess import Preprocessor, check_engineered

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
    epoch; ``preprocessor`` is the one fitted on this fold's training rows, ``train_metrics``
    the network's scores on those rows after training (``Network.evaluate``). ``test_index``
    holds the dataset rows the fold held out, ``y_true`` their targets and ``outputs`` what
    the fold's network made of them: class probabilities ``(n_test, n_classes)``
    (``nn.evaluation.class_probabilities``) or predicted numbers ``(n_test,)`` in the
    target's units, for curves over the folds (ROC and precision-recall bands).
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
    test_index: np.ndarray = field(default_factory=lambda: np.zeros(0, int), repr=False)
    train_metrics: dict[str, float] = field(default_factory=dict, repr=False)
    y_true: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    outputs: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

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

    def held_out(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every finished fold's held-out rows pooled: ``(y_true, outputs, fold_number)``
        where ``fold_number`` counts the folds from 0 in table order. With one repeat each row
        of the dataset appears once (when every fold finished)."""
        if not self.folds:
            return np.zeros(0), np.zeros(0), np.zeros(0, int)
        numbers = [np.full(len(f.y_true), i) for i, f in enumerate(self.folds)]
        return (
            np.concatenate([f.y_true for f in self.folds]),
            np.concatenate([f.outputs for f in self.folds]),
            np.concatenate(numbers),
        )

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
    engineered=(),
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
        engineered=engineered,
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
    engineered=(),
) -> CVResult:
    """Cross-validate ``network_config`` trained with ``training`` on ``dataset``.

    Each of the ``k * repeats`` folds (``folds``) gets its parts from ``fold_split`` (its own
    preprocessing, fitted on its training rows; ``val_size`` of them for validation, needed for
    early stopping), a fresh ``Network.from_config(network_config)`` whose input size is the
    fold's number of inputs (a table's categories can differ between folds), trained with the
    ``training`` settings (``nn.config.TRAINING``, epochs included) and shuffling seed
    ``seed``, the same for every fold; the network's own seed is its config's. It is scored on
    the held-out rows with ``Network.evaluate``. ``engineered`` (``nn.preprocess.ENGINEERED``
    names, for a 2-D set) adds inputs such as sin(x1) to every fold's preprocessing.

    ``n_jobs`` worker processes (joblib, loky) run the folds; 1 runs them in this process. At
    most ``max_jobs`` (default ``MAX_JOBS``) and ``MAX_FITS`` folds in all. Parallel
    cross-validations in one process take turns with joblib's worker pool (see ``_POOL``).
    ``progress(done, total)`` is called here as folds finish; ``should_stop()`` is asked before
    the first fold, while waiting for the pool, after each fold and, from a watching thread,
    every ``POOL_POLL_S`` seconds while folds train: when it is true the folds in progress stop
    at their next epoch (in worker processes too, see ``_StopFlag``), the remaining ones never
    start, and the result, holding the folds that had finished, is marked ``cancelled``. A
    fold whose training diverges raises ``DivergenceError`` naming the fold.
    """
    network_config, training, val_size, standardize, task = _checked(
        dataset, network_config, training, k, repeats, standardize, val_size, n_jobs, max_jobs
    )
    pairs = folds(dataset.y, k, task, seed, repeats)
    jobs = [
        (i // k + 1, i % k + 1, train_idx, test_idx)
        for i, (train_idx, test_idx) in enumerate(pairs)
    ]
    start = time.perf_counter()
    run = _FoldRun(
        dataset, network_config, training, seed, standardize, val_size, check_engineered(engineered)
    )
    done = _run_jobs(run, jobs, n_jobs, progress, should_stop)
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


LEARNING_SHARES = (0.1, 0.25, 0.5, 0.75, 1.0)  # shares of each fold's training rows


@dataclass
class LearningCurve:
    """Scores against the number of training rows (``learning_curve``).

    ``folds`` holds one ``FoldResult`` per finished (share, fold) pair, its ``repeat`` being
    the share's position in ``shares`` counted from 1; ``metric`` is the task's figure
    ("accuracy" or "r2").
    """

    task: str
    k: int
    seed: int
    shares: list[float]
    metric: str
    folds: list[FoldResult]
    cancelled: bool = False
    n_jobs: int = 1
    seconds: float = 0.0

    def __repr__(self) -> str:
        flag = ", cancelled" if self.cancelled else ""
        return (
            f"LearningCurve({self.task}, k={self.k}, shares={self.shares}, "
            f"{len(self.folds)}/{self.total} fits{flag})"
        )

    @property
    def total(self) -> int:
        return self.k * len(self.shares)

    def points(self) -> list[dict]:
        """One point per share with a finished fold: the share, the mean number of training
        rows, and the mean and standard deviation (``DDOF``) over the folds of the figure on
        the training rows and on the held-out rows."""
        out = []
        for i, share in enumerate(self.shares, start=1):
            runs = [f for f in self.folds if f.repeat == i]
            if not runs:
                continue
            fitted = np.array([f.train_metrics[self.metric] for f in runs], float)
            held = np.array([f.metrics[self.metric] for f in runs], float)
            out.append(
                {
                    "share": share,
                    "n_train": float(np.mean([f.n_train for f in runs])),
                    "folds": len(runs),
                    "train_mean": float(fitted.mean()),
                    "train_std": float(fitted.std(ddof=DDOF)),
                    "test_mean": float(held.mean()),
                    "test_std": float(held.std(ddof=DDOF)),
                }
            )
        return out


def learning_curve(
    dataset: Dataset,
    network_config: dict,
    training: dict,
    shares=LEARNING_SHARES,
    k: int = 5,
    seed: int = 0,
    standardize: bool = True,
    val_size: float = 0.0,
    n_jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    max_jobs: int | None = None,
    engineered=(),
) -> LearningCurve:
    """The score as a function of the training-set size, as scikit-learn's
    ``learning_curve`` draws it: for each of the ``k`` folds (``folds``) and each share of
    its training rows, a fresh network trained on that many of them (a subsample drawn with
    ``seed``, stratified by class; at least two rows a class, ten for a number, and enough
    for ``val_size`` to hold a row of every class: a share whose sample would be no larger
    than the share before it is left out) and scored on the fold's held-out rows and on the
    rows it trained on. Everything else, and the
    arguments, as ``cross_validate``; the shares are numbers in (0, 1], at most ``MAX_FITS``
    networks in all."""
    from sklearn.model_selection import train_test_split

    network_config, training, val_size, standardize, task = _checked(
        dataset, network_config, training, k, 1, standardize, val_size, n_jobs, max_jobs
    )
    try:
        shares = sorted({float(x) for x in shares})
    except (TypeError, ValueError):
        raise ValueError(f"shares must be numbers from 0 to 1, got {shares!r}") from None
    if not shares or not all(0.0 < x <= 1.0 and math.isfinite(x) for x in shares):
        raise ValueError(f"shares must be numbers above 0 and at most 1, got {shares}")
    if k * len(shares) > MAX_FITS:
        raise ValueError(
            f"{k} folds at {len(shares)} sizes train {k * len(shares)} networks; "
            f"the limit is {MAX_FITS}"
        )
    least = 2 * dataset.n_classes if task == CLASSIFICATION else 10
    if val_size:  # a validation part needs a row of every class, and training rows beside it
        least = max(least, math.ceil(max(dataset.n_classes, 2) / val_size) + least)
    pairs = folds(dataset.y, k, task, seed)
    # shares whose sample the minimum makes as large as a smaller share's are dropped
    sizes = [min(len(pairs[0][0]), max(least, round(x * len(pairs[0][0])))) for x in shares]
    shares = [x for i, x in enumerate(shares) if i == 0 or sizes[i] > sizes[i - 1]]
    jobs = []
    for fold, (train_idx, test_idx) in enumerate(pairs, start=1):
        for i, share in enumerate(shares, start=1):
            n = min(len(train_idx), max(least, round(share * len(train_idx))))
            rows = train_idx
            if n < len(train_idx):
                strat = dataset.y[train_idx] if task == CLASSIFICATION else None
                rows, _ = train_test_split(
                    train_idx, train_size=n, random_state=seed, stratify=strat
                )
            jobs.append((i, fold, rows, test_idx))
    start = time.perf_counter()
    run = _FoldRun(
        dataset, network_config, training, seed, standardize, val_size, check_engineered(engineered)
    )
    done = _run_jobs(run, jobs, n_jobs, progress, should_stop)
    done.sort(key=lambda f: (f.repeat, f.fold))
    return LearningCurve(
        task=task,
        k=k,
        seed=seed,
        shares=shares,
        metric="accuracy" if task == CLASSIFICATION else "r2",
        folds=done,
        cancelled=len(done) < len(jobs),
        n_jobs=int(n_jobs),
        seconds=time.perf_counter() - start,
    )


def _checked(
    dataset, network_config, training, k, repeats, standardize, val_size, n_jobs, max_jobs
):
    """The arguments of ``cross_validate`` and ``learning_curve`` checked (``ValueError`` in
    words): the network config, training settings, validation share, standardizing, task."""
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
    return network_config, training, val_size, standardize, task


def _run_jobs(
    run: _FoldRun,
    jobs: list[tuple],
    n_jobs: int,
    progress: Callable[[int, int], None] | None,
    should_stop: Callable[[], bool] | None,
) -> list[FoldResult]:
    """Run the folds ``jobs`` (``(repeat, fold, train_idx, test_idx)``) with ``run`` in
    ``n_jobs`` workers; the finished ones, in the order they finished (see ``cross_validate``
    for ``progress`` and ``should_stop``)."""
    stop = should_stop or (lambda: False)
    done: list[FoldResult] = []
    flag = _StopFlag(stop if should_stop is not None else None)
    run.stop_path = flag.path
    try:
        if not stop():
            flag.watch()
            outcomes = _outcomes(run, jobs, min(int(n_jobs), len(jobs)), stop)
            try:
                for outcome in outcomes:
                    if flag.is_set():
                        continue  # stopping: the folds still out end at their next epoch
                    if outcome[0] == "stopped":  # the flag went up as this fold trained
                        continue
                    done.append(_unpack(outcome))
                    if progress is not None:
                        progress(len(done), len(jobs))
                    if len(done) < len(jobs) and stop():
                        flag.set()
            finally:
                flag.set()  # a fold that raised: the others stop at their next epoch
                # Closing abandons the folds not yet finished; joblib warns that folds in
                # progress were abandoned, which is what an error asks for.
                with warnings.catch_warnings():
                    warnings.filterwarnings(
                        "ignore", "(?s).*tasks which were still being processed"
                    )
                    outcomes.close()
    finally:
        flag.close()
        run.stop_path = None
    return done


@dataclass
class _FoldRun:
    """What every fold shares (sent once per fold to a worker)."""

    dataset: Dataset
    network_config: dict
    training: dict
    seed: int
    standardize: bool
    val_size: float
    engineered: tuple[str, ...] = ()  # extra inputs of a 2-D set (nn.preprocess.ENGINEERED)
    stop_path: str | None = None  # a file whose existence asks the folds to stop (_StopFlag)

    def stopped(self) -> bool:
        return self.stop_path is not None and os.path.exists(self.stop_path)

    def __call__(self, repeat: int, fold: int, train_idx, test_idx) -> tuple:
        """``("ok", FoldResult)``, ``("stopped",)`` when the stop flag went up before or
        while it trained, or ``("diverged", repeat, fold, epoch, hint)``: a
        ``DivergenceError`` is returned, not raised, as its arguments do not survive pickling."""
        if self.stopped():
            return ("stopped",)
        start = time.perf_counter()
        parts = fold_split(
            self.dataset,
            train_idx,
            test_idx,
            self.val_size,
            self.seed,
            self.standardize,
            self.engineered,
        )
        layers = list(self.network_config["layers"])
        layers[0] = parts.X_train.shape[1]
        net = Network.from_config({**self.network_config, "layers": layers})
        settings = dict(self.training)
        epochs = settings.pop("epochs", config.TRAINING["epochs"].default)
        val = (parts.X_val, parts.y_val) if len(parts.y_val) else None
        try:
            for _ in net.train_epochs(
                parts.X_train,
                parts.y_train,
                epochs=epochs,
                validation_data=val,
                seed=self.seed,
                **settings,
            ):
                if self.stopped():
                    return ("stopped",)
        except DivergenceError as exc:
            return ("diverged", repeat, fold, exc.epoch, exc.hint)
        metrics = {name: float(v) for name, v in net.evaluate(parts.X_test, parts.y_test).items()}
        fitted = net.evaluate(parts.X_train, parts.y_train)
        if net.task == CLASSIFICATION:
            outputs = evaluation.class_probabilities(net, parts.X_test)
        else:
            outputs = np.asarray(net.predict(parts.X_test), dtype=np.float64).reshape(-1)
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
                test_index=np.asarray(test_idx),
                train_metrics={name: float(v) for name, v in fitted.items()},
                y_true=np.asarray(parts.y_test),
                outputs=outputs,
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


class _StopFlag:
    """The folds' stop signal, seen by worker processes too: a file in a fresh temporary
    directory that exists once the run is stopping. A fold looks for it before each epoch (a
    ``stat``, microseconds), so a cancel ends the folds in progress within an epoch and the
    workers stay up for the next run. ``watch`` starts a thread that asks ``should_stop``
    every ``POOL_POLL_S`` seconds while the folds run and raises the flag when it says so.
    Without ``should_stop`` there is no file and nothing to watch."""

    def __init__(self, should_stop: Callable[[], bool] | None) -> None:
        self._should_stop = should_stop
        self._dir = tempfile.mkdtemp(prefix="nn-cv-") if should_stop is not None else None
        self.path = os.path.join(self._dir, "stop") if self._dir else None
        self._ended = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self) -> None:
        if self._should_stop is None:
            return

        def poll() -> None:
            while not self._ended.wait(POOL_POLL_S):
                if self._should_stop():
                    self.set()
                    return

        self._thread = threading.Thread(target=poll, name="cross-validation stop", daemon=True)
        self._thread.start()

    def set(self) -> None:
        if self.path is not None and not os.path.exists(self.path):
            with open(self.path, "w"):
                pass

    def is_set(self) -> bool:
        return self.path is not None and os.path.exists(self.path)

    def close(self) -> None:
        self._ended.set()
        if self._thread is not None:
            self._thread.join()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


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
