"""The training loop: a generator that trains one epoch per ``next``, early stopping, divergence.

``Network.train_epochs`` delegates here. A run keeps what carries over between calls in a
``TrainingState`` (the optimizer with its moments, the shuffling stream, the ``EarlyStopping``),
so a run paused after any epoch and resumed by a new call trains exactly as one call would.
The options that act within an epoch follow the same rule: a learning-rate schedule
(nn/schedules.py) is a function of the epoch's index in the run, and dropout draws its masks
from the run's shuffling stream, so a paused and resumed run draws the masks one call would.
The state leaves as plain data (``TrainingState.to_data``: JSON-ready facts and named arrays)
and comes back checked (``TrainingState.from_data``), so a run can go on in another process.
Inputs and settings are checked once, when the generator is made; the loop then drives the
network's batch methods (see ``Network``) on its preallocated work arrays.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from nn import config, losses, optimizers, schedules
from nn.errors import DivergenceError
from nn.layers import with_ones

if TYPE_CHECKING:
    from nn.network import Network

# Training metrics are measured after each epoch on at most this many training rows.
TRAIN_EVAL_MAX = 2048
# Where an epoch's training loss and score come from (see ``train_epochs``).
TRAIN_METRICS = ("after_epoch", "batches")
# The training state as plain data (``TrainingState.to_data``): its format and its fields
STATE_FORMAT = "nn-lab-training-state/1"
STATE_FIELDS = ("format", "optimizer", "rng", "early_stopping")
RNG_FIELDS = ("bit_generator", "state", "has_uint32", "uinteger")
EARLY_STOPPING_FIELDS = ("patience", "restore_best", "best", "wait", "stopped", "arrays")


@dataclass
class EpochRecord:
    """What one epoch of training did.

    The task's figure (``nn.task``'s ``metric``): ``train_accuracy``/``val_accuracy`` for
    classification; for regression ``train_r2``/``val_r2`` (R^2), with the accuracies None.

    ``train_loss`` and the training figure are measured after the epoch, with its final
    weights, on (up to ``TRAIN_EVAL_MAX`` rows of) the training data; with
    ``train_metrics="batches"`` they are instead what the epoch's samples scored in the forward
    passes that trained on them (the figure Keras and scikit-learn report). The validation
    figures are always measured after the epoch. Losses exclude the L2 and L1 penalties (and
    are measured without dropout); with class weights both losses are weighted as training
    weighs them (the training rows' class weights, see ``nn.losses.value``), while
    ``Network.evaluate`` reports the plain mean; a regression loss is on the standardized
    target (see ``Network.evaluate``). ``learning_rate`` is the rate the epoch trained with: the
    schedule's (nn/schedules.py) when there is one.
    """

    epoch: int
    train_loss: float
    train_accuracy: float | None
    val_loss: float | None
    val_accuracy: float | None
    learning_rate: float
    seconds: float
    train_r2: float | None = None
    val_r2: float | None = None

    def as_dict(self) -> dict:
        """The record as a plain dict (JSON-serializable). A classification record has no R^2
        keys, so it is the dict it was before regression existed."""
        record = asdict(self)
        if self.train_r2 is None and self.val_r2 is None:
            del record["train_r2"], record["val_r2"]
        return record


class Dropout:
    """Inverted dropout at training time: each hidden layer's units are kept with probability
    ``1 - rate`` and the kept ones scaled by ``1 / (1 - rate)``, so every unit's expected
    output is unchanged and prediction needs no correction.

    ``draw`` makes one batch's masks from the run's random stream: per hidden layer whose rate
    is above 0, in order, one ``rng.random((n, width))`` draw; a unit is kept where the draw is
    at least the rate. The recipe script draws the same numbers the same way.
    """

    def __init__(self, rates: list[float]) -> None:
        self.rates = [float(r) for r in rates]

    def __repr__(self) -> str:
        return f"Dropout(rates={self.rates})"

    def draw(self, rng: np.random.Generator, ws) -> list[np.ndarray | None]:
        """Masks for the batch of workspace ``ws``: per hidden layer (n, width) or None."""
        masks: list[np.ndarray | None] = []
        for i, rate in enumerate(self.rates):
            if not rate:
                masks.append(None)
                continue
            _, mask, uniform, keep = ws.dropout(i)
            rng.random(out=uniform)
            np.greater_equal(uniform, rate, out=keep)
            np.multiply(keep, 1.0 / (1.0 - rate), out=mask)
            masks.append(mask)
        return masks


class EarlyStopping:
    """Stop when the validation loss has not improved for ``patience`` epochs; keep the best.

    One object lives through all the calls of a run, so ``best``, ``wait`` and
    ``best_weights`` carry over a pause. With ``restore_best``, a call that ends without
    stopping shows the best weights and keeps the run's real weights in ``resume_point``; the
    next call starts from them again (``resume``). ``params`` is the network's flat parameter
    array, updated in place.
    """

    def __init__(self, params: np.ndarray, patience: int = 10, restore_best: bool = True) -> None:
        self.patience = patience
        self.restore_best = restore_best
        self.best = math.inf
        self.best_weights = params.copy()
        self.wait = 0
        self.stopped = False
        self.resume_point: np.ndarray | None = None

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(best={self.best:.6g}, wait={self.wait}, patience={self.patience}, "
            f"restore_best={self.restore_best}, stopped={self.stopped})"
        )

    def resume(self, params: np.ndarray) -> None:
        """Begin a call: back to where the run was if the last call showed the best weights;
        after a stop, count the epochs without improvement afresh."""
        if self.resume_point is not None and not self.stopped:
            params[...] = self.resume_point
        self.resume_point = None
        if self.stopped:
            self.wait = 0
            self.stopped = False

    def update(self, val_loss: float, params: np.ndarray) -> bool:
        """Count one epoch's validation loss; True when training must stop, with the best
        weights restored when ``restore_best``."""
        if val_loss < self.best:
            self.best, self.wait = val_loss, 0
            self.best_weights[...] = params
        else:
            self.wait += 1
        if self.wait < self.patience:
            return False
        self.stopped = True
        if self.restore_best:
            params[...] = self.best_weights
        return True

    def show_best(self, params: np.ndarray) -> None:
        """End a call that ran all its epochs: with ``restore_best``, show the best weights and
        keep the run's own in ``resume_point``."""
        if self.restore_best and self.best < math.inf:
            self.resume_point = params.copy()
            params[...] = self.best_weights

    def to_data(self) -> tuple[dict, dict[str, np.ndarray]]:
        """Early stopping as plain data: JSON-ready facts and copies of its arrays.

        The facts are ``patience``, ``restore_best``, ``best`` (None before the first
        validation loss), ``wait``, ``stopped`` and ``arrays``, the names of the arrays:
        ``"best_weights"`` and, between calls with ``restore_best``, ``"resume_point"``.
        """
        arrays = {"best_weights": self.best_weights.copy()}
        if self.resume_point is not None:
            arrays["resume_point"] = self.resume_point.copy()
        meta = {
            "patience": int(self.patience),
            "restore_best": bool(self.restore_best),
            "best": None if self.best == math.inf else float(self.best),
            "wait": int(self.wait),
            "stopped": bool(self.stopped),
            "arrays": list(arrays),
        }
        return meta, arrays

    @classmethod
    def from_data(
        cls, meta: dict, arrays: dict[str, np.ndarray], params: np.ndarray
    ) -> EarlyStopping:
        """The early stopping ``to_data`` described, its arrays checked against the network's
        flat ``params`` (shape and dtype); ``ValueError`` names what is wrong."""
        optimizers.check_fields(meta, EARLY_STOPPING_FIELDS, "early_stopping")
        try:
            patience = config.TRAINING["patience"].check(meta["patience"])
            restore_best = config.TRAINING["restore_best"].check(meta["restore_best"])
        except ValueError as exc:
            raise ValueError(f"early_stopping {exc}") from None
        best = meta["best"]
        if best is not None and (
            isinstance(best, bool) or not isinstance(best, (int, float)) or not math.isfinite(best)
        ):
            raise ValueError(f"early_stopping 'best' must be a finite number or None, got {best!r}")
        wait = optimizers.check_count(meta["wait"], "early_stopping 'wait'")
        stopped = meta["stopped"]
        if not isinstance(stopped, bool):
            raise ValueError(f"early_stopping 'stopped' must be true or false, got {stopped!r}")
        names = optimizers.check_array_names(
            meta["arrays"],
            arrays,
            [{"best_weights"}, {"best_weights", "resume_point"}],
            "early_stopping",
        )
        # What a run cannot reach: counting or stopping before any validation loss, or
        # weights to resume from that were not put aside by showing the best ones.
        if best is None and (wait or stopped):
            raise ValueError("early_stopping counts epochs or stopped before any validation loss")
        if "resume_point" in names and (best is None or stopped or not restore_best):
            raise ValueError(
                "early_stopping has a 'resume_point' but no best weights shown to resume from"
            )
        early = cls(params, patience, restore_best)
        early.best = math.inf if best is None else float(best)
        early.wait, early.stopped = wait, stopped
        early.best_weights = optimizers.copy_state_array(
            arrays, "best_weights", params, "early_stopping"
        )
        if "resume_point" in names:
            early.resume_point = optimizers.copy_state_array(
                arrays, "resume_point", params, "early_stopping"
            )
        return early


@dataclass
class TrainingState:
    """What a run carries from one call of ``train_epochs`` to the next."""

    optimizer: optimizers.Optimizer | None = None
    rng: np.random.Generator | None = None  # the shuffling stream
    early_stopping: EarlyStopping | None = None

    @property
    def stopped_early(self) -> bool:
        """True when the last call ended because early stopping fired."""
        return self.early_stopping is not None and self.early_stopping.stopped

    def to_data(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The state as plain data: JSON-ready facts and copies of its arrays by name.

        The facts are ``format`` (``STATE_FORMAT``) and, each None until the run has one,
        ``optimizer`` (``Optimizer.to_data``), ``rng`` (the shuffling stream's
        ``bit_generator.state``: PCG64, a dict of ints of up to 128 bits) and
        ``early_stopping`` (``EarlyStopping.to_data``). Array names carry their part:
        ``"optimizer.m.0"``, ``"optimizer.v.0"``, ``"optimizer.velocity.0"``,
        ``"early_stopping.best_weights"``, ``"early_stopping.resume_point"``.
        """
        meta = {"format": STATE_FORMAT, "optimizer": None, "rng": None, "early_stopping": None}
        arrays: dict[str, np.ndarray] = {}
        parts = {"optimizer": self.optimizer, "early_stopping": self.early_stopping}
        for part, obj in parts.items():
            if obj is not None:
                meta[part], part_arrays = obj.to_data()
                arrays.update({f"{part}.{name}": a for name, a in part_arrays.items()})
        if self.rng is not None:
            meta["rng"] = self.rng.bit_generator.state
        return meta, arrays

    @classmethod
    def from_data(
        cls, meta: dict, arrays: dict[str, np.ndarray], params: np.ndarray
    ) -> TrainingState:
        """The state ``to_data`` described, every part checked (the arrays against the
        network's flat ``params``: shape and dtype); ``ValueError`` names what is wrong."""
        optimizers.check_fields(meta, STATE_FIELDS, "the training state")
        if meta["format"] != STATE_FORMAT:
            raise ValueError(f"the training state's format is not {STATE_FORMAT}")
        if not isinstance(arrays, dict) or not all(isinstance(k, str) for k in arrays):
            raise ValueError("the training state's arrays must be a dict of named arrays")
        by_part: dict[str, dict[str, np.ndarray]] = {"optimizer": {}, "early_stopping": {}}
        for name, array in arrays.items():
            part, _, rest = name.partition(".")
            if part not in by_part or not rest:
                raise ValueError(f"the training state has an unknown array {name!r}")
            by_part[part][rest] = array
        for part, part_arrays in by_part.items():
            if meta[part] is None and part_arrays:
                raise ValueError(f"the training state has {part} arrays but no {part}")
        state = cls()
        if meta["optimizer"] is not None:
            state.optimizer = optimizers.from_data(
                meta["optimizer"], by_part["optimizer"], [params]
            )
        if meta["rng"] is not None:
            state.rng = rng_from_data(meta["rng"])
        if meta["early_stopping"] is not None:
            state.early_stopping = EarlyStopping.from_data(
                meta["early_stopping"], by_part["early_stopping"], params
            )
        return state


def rng_from_data(data: dict) -> np.random.Generator:
    """The shuffling stream from its ``bit_generator.state`` (PCG64, as ``default_rng`` makes
    it), each number checked; ``ValueError`` names what is wrong."""
    optimizers.check_fields(data, RNG_FIELDS, "rng")
    if data["bit_generator"] != "PCG64":
        raise ValueError(f"rng must be a PCG64 stream, not {data['bit_generator']!r}")
    inner = optimizers.check_fields(data["state"], ("state", "inc"), "rng 'state'")
    state = optimizers.check_count(inner["state"], "rng 'state'")
    inc = optimizers.check_count(inner["inc"], "rng 'inc'")
    has_uint32 = optimizers.check_count(data["has_uint32"], "rng 'has_uint32'")
    uinteger = optimizers.check_count(data["uinteger"], "rng 'uinteger'")
    if state >= 2**128:
        raise ValueError("rng 'state' must fit in 128 bits")
    # PCG's increment is odd by construction: an even one is not a stream a seed makes.
    if inc >= 2**128 or inc % 2 == 0:
        raise ValueError("rng 'inc' must be an odd number of at most 128 bits")
    if has_uint32 > 1:
        raise ValueError(f"rng 'has_uint32' must be 0 or 1, got {has_uint32}")
    if uinteger >= 2**32:
        raise ValueError("rng 'uinteger' must fit in 32 bits")
    bit_generator = np.random.PCG64(0)
    bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": state, "inc": inc},
        "has_uint32": has_uint32,
        "uinteger": uinteger,
    }
    return np.random.Generator(bit_generator)


def train_epochs(
    net: Network,
    state: TrainingState,
    X,
    y,
    validation_data: tuple | None = None,
    seed: int = 0,
    train_metrics: str = "after_epoch",
    **settings,
) -> Iterator[EpochRecord]:
    """Return a generator that trains ``net`` one epoch per ``next`` and yields its record.

    ``settings`` are the training settings of ``nn.config.TRAINING`` (epochs, learning_rate,
    batch_size, optimizer, shuffle, l2, l1, dropout, class_weight, schedule and its parameters,
    momentum, nesterov, beta1, beta2, eps, early_stopping, patience, restore_best), each at the
    table's default unless given, and checked through it.

    A schedule sets each epoch's rate from ``learning_rate`` and the epoch's index in the run
    (``nn.schedules.rate``); a cosine schedule with ``cosine_epochs`` 0 spans the epochs trained
    so far plus this call's. Dropout masks are drawn from the shuffling stream. Class weights
    ("balanced" computed on these training rows) weigh each row's loss; a regression network
    refuses them.

    Resumable: a later call with the same ``state`` (or a new generator) continues from where
    the last one stopped, optimizer state, shuffling stream and early stopping included, as
    long as the optimizer name stays the same. ``seed`` seeds the shuffling stream when it is
    created. Inputs and settings are checked here, before the first epoch runs.

    Targets are checked and encoded by the network's task (nn/task.py). For regression, the
    first call fits the network's ``target_scaler`` on these training targets; later calls
    keep it (the validation targets are scaled with it too).

    ``train_metrics`` says where each record's training loss and figure come from:
    ``"after_epoch"`` (the default) evaluates the training data with the epoch's final
    weights, a forward pass over up to ``TRAIN_EVAL_MAX`` rows after every epoch;
    ``"batches"`` averages what the epoch's own forward passes scored, at almost no cost
    (for minibatch training this can be a large share of the time), but with weights that
    moved during the epoch.

    A non-finite loss or weight raises ``DivergenceError`` after restoring the weights of the
    last finite epoch; the optimizer starts afresh on the next call.
    """
    X = net._check_X(X)
    scaler = net.target_scaler
    if scaler is None:
        scaler = net._task.fit_scaler(y, len(X), net.n_outputs)
    Y = net._check_y(y, len(X), scaler=scaler)
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (X_val, y_val)")
        Xv, yv = validation_data
        if np.asarray(Xv).size:
            Xv = net._check_X(Xv, "X_val")
            val = (with_ones(Xv), net._check_y(yv, len(Xv), "y_val", scaler=scaler))
    s = config.check_training(settings)
    if s["early_stopping"] and val is None:
        raise ValueError("early stopping needs validation data")
    rates = config.dropout_rates(s["dropout"], len(net.layers) - 1)
    dropout = Dropout(rates) if any(rates) else None
    weights = net._row_weights(s["class_weight"], Y)
    if weights is not None and val is not None:
        val = (*val, net._row_weights(s["class_weight"], val[1], train_Y=Y))
    schedule = None
    if not schedules.is_constant(s):
        schedule = schedules.Schedule(s, run_epochs=len(net.history) + s["epochs"])
    if not isinstance(train_metrics, str) or train_metrics not in TRAIN_METRICS:
        raise ValueError(
            f"train_metrics must be one of {', '.join(TRAIN_METRICS)}, got {train_metrics!r}"
        )
    hyper = {k: s[k] for k in ("momentum", "nesterov", "beta1", "beta2", "eps")}
    opt = state.optimizer
    if opt is None or opt.name != s["optimizer"]:
        opt = optimizers.make(s["optimizer"], s["learning_rate"], **hyper)
    else:
        keep = {k: v for k, v in hyper.items() if k in opt.hyperparameters()}
        opt.update(learning_rate=s["learning_rate"], **keep)
    state.optimizer = opt
    if state.rng is None:
        state.rng = np.random.default_rng(seed)
    if s["early_stopping"] and state.early_stopping is None:
        state.early_stopping = EarlyStopping(net._params)
    if state.early_stopping is not None:
        state.early_stopping.resume(net._params)
    early = None
    if s["early_stopping"]:
        early = state.early_stopping
        early.patience, early.restore_best = s["patience"], s["restore_best"]
    net.target_scaler = scaler
    return _epochs(
        net,
        state,
        with_ones(X),
        Y,
        val,
        s["epochs"],
        s["batch_size"],
        s["shuffle"],
        s["l2"],
        early,
        train_metrics == "batches",
        s["l1"],
        dropout,
        weights,
        schedule,
    )


def train_eval_rows(n: int) -> np.ndarray | None:
    """The training rows that after-epoch metrics are measured on (None: all ``n``)."""
    if n <= TRAIN_EVAL_MAX:
        return None
    return np.sort(np.random.default_rng(n).choice(n, TRAIN_EVAL_MAX, replace=False))


def _epochs(
    net: Network,
    state: TrainingState,
    X: np.ndarray,
    Y: np.ndarray,
    val: tuple | None,
    epochs: int,
    batch_size: int,
    shuffle: bool,
    l2: float,
    early: EarlyStopping | None,
    batch_metrics: bool,
    l1: float = 0.0,
    dropout: Dropout | None = None,
    weights: np.ndarray | None = None,
    schedule: schedules.Schedule | None = None,
) -> Iterator[EpochRecord]:
    """The generator behind ``train_epochs``; ``X`` is ``[X, 1]``, ``Y`` the encoded targets,
    ``weights`` each training row's class weight (None: unweighted), ``val`` the validation
    ``(X1, Y)`` (with their weights when ``weights`` is given)."""
    n = len(X)
    batch_size = min(batch_size, n)
    truth = net._truth(Y)
    weights_eval = None
    if batch_metrics:
        # What each sample scored when it was trained on, in the epoch's order
        seen_logits = np.empty_like(Y)
        seen_out = np.empty_like(Y)
    else:
        rows = train_eval_rows(n)
        X_eval, Y_eval = (X, Y) if rows is None else (X[rows], Y[rows])
        truth_eval = truth if rows is None else truth[rows]
        if weights is not None:
            weights_eval = weights if rows is None else weights[rows]
    val_weights = None
    if val is not None:
        if weights is not None:
            val, val_weights = val[:2], val[2]
        val = (*val, net._truth(val[1]), val_weights)
    params, opt = net._params, state.optimizer
    params_list, grads_list = [params], [net._grads]
    forward, backward, step = net._forward, net._backward, opt.step
    loss_name, output_name = net.config["loss"], net.config["output_activation"]
    task = net._task
    wb = masks = None
    for _ in range(epochs):
        start = time.perf_counter()
        last_good = params.copy()
        # The schedule scales the rate set (the call's learning_rate, or set_learning_rate's)
        # for this epoch only, so the optimizer's own rate stays the one set between epochs.
        base = opt.learning_rate
        if schedule is not None:
            opt.learning_rate = schedule(len(net.history), base)
        order = state.rng.permutation(n) if shuffle else None
        ws_full = net._workspace(batch_size)
        ws_last = net._workspace(n % batch_size) if n % batch_size else ws_full
        # Overflow on the way to divergence is reported as DivergenceError below; the
        # context is scoped to one epoch, never held across a yield.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for i in range(0, n, batch_size):
                stop = i + batch_size  # slices stop at n by themselves
                ws = ws_full if stop <= n else ws_last
                if order is None:
                    Xb, Yb = X[i:stop], Y[i:stop]
                    if weights is not None:
                        wb = weights[i:stop]
                else:
                    # Gather the batch into a reused array rather than copying all of X
                    # in shuffled order every epoch.
                    Xb, Yb = ws.batch()
                    rows_b = order[i:stop]
                    X.take(rows_b, axis=0, out=Xb, mode="wrap")
                    Y.take(rows_b, axis=0, out=Yb, mode="wrap")
                    if weights is not None:
                        wb = weights[rows_b]
                if dropout is not None:
                    masks = dropout.draw(state.rng, ws)
                P = forward(Xb, ws, masks)
                if batch_metrics:
                    seen_logits[i:stop] = ws.logits
                    seen_out[i:stop] = P
                backward(P, Yb, ws, masks, wb)
                if l2:
                    net._add_l2(l2)
                if l1:
                    net._add_l1(l1)
                step(params_list, grads_list)
            used, opt.learning_rate = opt.learning_rate, base
            if batch_metrics:
                Ys, truth_s = (Y, truth) if order is None else (Y[order], truth[order])
                seen_w = None if weights is None else (weights if order is None else weights[order])
                train_loss = losses.value(
                    loss_name, output_name, seen_out, Ys, logits=seen_logits, sample_weight=seen_w
                )
                train_score = net._score(seen_out, truth_s)
            else:
                train_loss, train_score = net._metrics(X_eval, Y_eval, truth_eval, weights_eval)
            val_loss = val_score = None
            if val is not None:
                val_loss, val_score = net._metrics(*val)
        epoch = len(net.history) + 1
        # R^2 can overflow to -inf on the way to divergence before the loss does
        figures = (train_loss, val_loss, train_score, val_score)
        finite = all(math.isfinite(f) for f in figures if f is not None)
        if not finite or not np.all(np.isfinite(params)):
            params[...] = last_good
            # Its moments are poisoned too: the next call starts the optimizer afresh.
            state.optimizer = None
            raise DivergenceError(
                epoch,
                f"The last finite weights (after epoch {epoch - 1}) were restored. Try a lower "
                f"learning rate (now {opt.learning_rate:g}), {task.divergence_advice}.",
            )
        record = EpochRecord(
            epoch=epoch,
            train_loss=train_loss,
            val_loss=val_loss,
            learning_rate=used,
            seconds=time.perf_counter() - start,
            **task.record_fields(train_score, val_score),
        )
        net.history.append(record)
        if early is not None and early.update(val_loss, params):
            yield record
            return
        yield record
    if early is not None:
        early.show_best(params)
