"""The multilayer perceptron: configuration, training loop and prediction (files: nn/io.py)."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass

import numpy as np

from nn import activations, losses, optimizers
from nn.errors import DivergenceError
from nn.layers import Dense, with_ones

INITS = ("uniform", "xavier", "he")
DTYPES = ("float64", "float32")
CONFIG_KEYS = ("layers", "activation", "output_activation", "loss", "init", "seed", "dtype")
# Training metrics are measured after each epoch on at most this many training rows.
TRAIN_EVAL_MAX = 2048
# Where an epoch's training loss and accuracy come from (see ``Network.train_epochs``).
TRAIN_METRICS = ("after_epoch", "batches")
# Work arrays are kept for this many batch sizes, and only for batches of at most this many rows.
WORKSPACES_MAX = 6
WORKSPACE_ROWS_MAX = 8192


@dataclass
class EpochRecord:
    """What one epoch of training did.

    ``train_loss`` and ``train_accuracy`` are measured after the epoch, with its final weights,
    on (up to ``TRAIN_EVAL_MAX`` rows of) the training data; with ``train_metrics="batches"``
    they are instead the mean over the epoch's samples of what each scored in the forward pass
    that trained on it (the figure Keras and scikit-learn report). The validation figures are
    always measured after the epoch. Losses exclude the L2 penalty.
    """

    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    learning_rate: float
    seconds: float

    def as_dict(self) -> dict:
        """The record as a plain dict (JSON-serializable)."""
        return asdict(self)


def count_params(sizes: list[int]) -> int:
    """Weights plus biases of a network with these layer sizes."""
    return sum((n_in + 1) * n_out for n_in, n_out in itertools.pairwise(sizes))


def normalize_config(config: dict) -> dict:
    """Check a network config and fill in defaults; ``ValueError`` names what is wrong."""
    if not isinstance(config, dict):
        raise ValueError("the network config must be a dict")
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise ValueError(f"unknown config keys: {', '.join(map(str, unknown))}")
    if "layers" not in config:
        raise ValueError("the config needs 'layers', e.g. [4, 5, 10, 3]")
    layers = config["layers"]
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__len__") or len(layers) < 2:
        raise ValueError("'layers' must list at least two sizes: inputs and outputs")
    sizes = []
    for i, n in enumerate(layers):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"layer {i} must have a whole number of nodes >= 1, got {n!r}")
        sizes.append(int(n))
    n_hidden = len(sizes) - 2
    act = config.get("activation", "sigmoid")
    if not isinstance(act, (str, list, tuple)):
        raise ValueError(f"'activation' must be a name or a list of names, got {act!r}")
    acts = [act] * n_hidden if isinstance(act, str) else list(act)
    if len(acts) != n_hidden:
        raise ValueError(
            f"'activation' lists {len(acts)} activations but the network has "
            f"{n_hidden} hidden layers"
        )
    for a in acts:
        activations.get(a)
    out = config.get("output_activation", "sigmoid")
    activations.get(out, output=True)
    loss = config.get("loss", "squared_error")
    if not isinstance(loss, str) or loss not in losses.LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(losses.LOSSES)}")
    if loss == "cross_entropy" and out == "linear":
        raise ValueError("cross_entropy needs a sigmoid or softmax output, not linear")
    if out == "softmax" and sizes[-1] < 2:
        raise ValueError("a softmax output needs at least 2 output nodes")
    init = config.get("init", "uniform")
    if not isinstance(init, str) or init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    seed = config.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"'seed' must be a whole number >= 0, got {seed!r}")
    dtype = config.get("dtype", "float64")
    if dtype in (np.float64, np.float32):
        dtype = np.dtype(dtype).name
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    return {
        "layers": sizes,
        "activation": act if isinstance(act, str) else acts,
        "output_activation": out,
        "loss": loss,
        "init": init,
        "seed": int(seed),
        "dtype": dtype,
    }


class Workspace:
    """Preallocated arrays for batches of ``n`` rows, so a training step allocates nothing.

    ``hidden[i]`` is ``(full, view)``: an (n, width + 1) array whose last column is the bias
    input 1, and a view of the rest, into which the layer's product and then its activation are
    written in place. ``logits`` and ``out`` hold the output layer's pre-activations and
    activations. Gradient arrays (``delta`` (n, n_outputs) and ``dx[i]`` (n, n_in of layer i))
    and the batch arrays (``X1``, ``Y``, for shuffled batches) are made on first use.
    """

    def __init__(self, sizes: list[int], n: int, dtype: np.dtype) -> None:
        self.sizes, self.n, self.dtype = sizes, n, dtype
        self.hidden = []
        for width in sizes[1:-1]:
            full = np.ones((n, width + 1), dtype=dtype)
            self.hidden.append((full, full[:, :-1]))
        self.logits = np.empty((n, sizes[-1]), dtype=dtype)
        self.out = np.empty((n, sizes[-1]), dtype=dtype)
        self.delta: np.ndarray | None = None
        self.dx: list | None = None
        self._batch: tuple[np.ndarray, np.ndarray] | None = None

    def __repr__(self) -> str:
        return f"Workspace(rows={self.n}, layers={self.sizes})"

    def make_grads(self) -> None:
        """Make ``delta`` (n, n_outputs) and, per layer, its input gradient array ``dx[i]``
        (None for the first layer, whose input gradient is never needed)."""
        n, sizes = self.n, self.sizes
        self.dx = [None] + [np.empty((n, width), dtype=self.dtype) for width in sizes[1:-1]]
        self.delta = np.empty((n, sizes[-1]), dtype=self.dtype)

    def batch(self) -> tuple[np.ndarray, np.ndarray]:
        """``X1`` (n, n_inputs + 1) and ``Y`` (n, n_outputs) to gather a shuffled batch into."""
        if self._batch is None:
            n, sizes = self.n, self.sizes
            self._batch = (
                np.empty((n, sizes[0] + 1), dtype=self.dtype),
                np.empty((n, sizes[-1]), dtype=self.dtype),
            )
        return self._batch


class Network:
    """A fully connected feed-forward classifier, trained by backpropagation.

    All weights and biases live in one flat buffer (``W`` and ``b`` of each layer are views into
    it), so an optimizer step is a handful of NumPy calls however many layers there are.
    """

    def __init__(self, config: dict) -> None:
        self.config = normalize_config(config)
        sizes = self.config["layers"]
        self.dtype = np.dtype(self.config["dtype"])
        n_total = count_params(sizes)
        self._params = np.zeros(n_total, dtype=self.dtype)
        self._grads = np.zeros(n_total, dtype=self.dtype)
        self.layers: list[Dense] = []
        offset = 0
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            size = (n_in + 1) * n_out
            Wb = self._params[offset : offset + size].reshape(n_in + 1, n_out)
            gWb = self._grads[offset : offset + size].reshape(n_in + 1, n_out)
            self.layers.append(Dense(Wb, gWb, input_grad=i > 0))
            offset += size
        acts = self.config["activation"]
        hidden = [acts] * (len(sizes) - 2) if isinstance(acts, str) else acts
        self.activations = [activations.get(a) for a in hidden]
        self.activations.append(activations.get(self.config["output_activation"], output=True))
        self._workspaces: dict[int, Workspace] = {}
        self.history: list[EpochRecord] = []
        # JSON-serializable facts that travel with the saved model (feature names, scaler, ...)
        self.metadata: dict = {}
        # The preprocessing fitted on the training rows (nn.data.Preprocessor), saved with it
        self.preprocessor = None
        self.stopped_early = False
        self._optimizer: optimizers.Optimizer | None = None
        self._rng: np.random.Generator | None = None
        self._early: dict | None = None
        self._initialize(np.random.default_rng(self.config["seed"]))

    @classmethod
    def from_config(cls, config: dict) -> Network:
        """Build a freshly initialised network from a config dict (see ``normalize_config``)."""
        return cls(config)

    def __repr__(self) -> str:
        c = self.config
        return (
            f"Network(layers={c['layers']}, activation={c['activation']!r}, "
            f"output_activation={c['output_activation']!r}, loss={c['loss']!r}, "
            f"epochs_trained={self.epochs_trained})"
        )

    def _initialize(self, rng: np.random.Generator) -> None:
        """Draw W then b for each layer in order (the order the recipe script repeats)."""
        init = self.config["init"]
        for layer in self.layers:
            n_in, n_out = layer.W.shape
            if init == "uniform":
                layer.W[...] = rng.uniform(-1.0, 1.0, size=(n_in, n_out))
                layer.b[...] = rng.uniform(-1.0, 1.0, size=n_out)
            elif init == "xavier":
                limit = np.sqrt(6.0 / (n_in + n_out))
                layer.W[...] = rng.uniform(-limit, limit, size=(n_in, n_out))
                layer.b[...] = 0.0
            else:
                layer.W[...] = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
                layer.b[...] = 0.0

    @property
    def n_inputs(self) -> int:
        """Number of input features."""
        return self.config["layers"][0]

    @property
    def n_outputs(self) -> int:
        """Number of output nodes."""
        return self.config["layers"][-1]

    @property
    def n_classes(self) -> int:
        """Number of classes: the outputs, or 2 for a single sigmoid output."""
        return max(self.n_outputs, 2)

    @property
    def n_params(self) -> int:
        """Number of trainable numbers (weights and biases)."""
        return int(self._params.size)

    @property
    def epochs_trained(self) -> int:
        """Epochs trained so far, over all calls."""
        return len(self.history)

    @property
    def optimizer(self) -> optimizers.Optimizer | None:
        """The optimizer of the current run (None before training); its state survives pauses."""
        return self._optimizer

    def get_weights(self) -> list[np.ndarray]:
        """Copies of ``[W1, b1, W2, b2, ...]`` with W (n_in, n_out) and b (n_out,)."""
        return [a.copy() for layer in self.layers for a in (layer.W, layer.b)]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Replace all weights and biases; ``ValueError`` naming the layer on a mismatch."""
        weights = list(weights)
        if len(weights) != 2 * len(self.layers):
            raise ValueError(
                f"expected {2 * len(self.layers)} arrays (W and b for {len(self.layers)} layers), "
                f"got {len(weights)}"
            )
        for i, layer in enumerate(self.layers):
            for name, target, new in (
                ("W", layer.W, weights[2 * i]),
                ("b", layer.b, weights[2 * i + 1]),
            ):
                new = np.asarray(new)
                if new.shape != target.shape:
                    raise ValueError(
                        f"layer {i + 1} {name} must have shape {target.shape}, got {new.shape}"
                    )
                # Real numbers only: complex, timedelta or bool values would be cast silently.
                if new.dtype.kind not in "fiu" or not np.all(np.isfinite(new)):
                    raise ValueError(f"layer {i + 1} {name} must hold finite real numbers")
        for i, layer in enumerate(self.layers):
            layer.W[...] = weights[2 * i]
            layer.b[...] = weights[2 * i + 1]

    # ---- checks at the public edge ----

    def _check_X(self, X, what: str = "X") -> np.ndarray:
        try:
            X = np.asarray(X, dtype=self.dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{what} must be numeric: {exc}") from None
        if X.size == 0:
            raise ValueError(f"{what} is empty: it has no samples")
        if X.ndim == 1 and self.n_inputs > 1 and X.size == self.n_inputs:
            X = X.reshape(1, -1)
        if X.ndim != 2:
            raise ValueError(f"{what} must be a 2-D array (samples, features), got {X.ndim}-D")
        if X.shape[0] == 0:
            raise ValueError(f"{what} is empty: it has no samples")
        if X.shape[1] != self.n_inputs:
            raise ValueError(
                f"{what} has {X.shape[1]} features but the network expects {self.n_inputs}"
            )
        if not np.all(np.isfinite(X)):
            raise ValueError(f"{what} contains NaN or infinite values")
        return np.ascontiguousarray(X)

    def _check_y(self, y, n: int, what: str = "y") -> np.ndarray:
        """Return one-hot targets (n, n_outputs) in the network's dtype."""
        y = np.asarray(y)
        if y.shape[:1] != (n,):
            got = y.shape[0] if y.ndim else "a scalar"
            raise ValueError(f"{what} has {got} labels but there are {n} samples")
        if y.ndim == 2 and y.shape[1] == self.n_outputs and self.n_outputs > 1:
            if not np.all(np.isfinite(y.astype(float))):
                raise ValueError(f"{what} contains NaN or infinite values")
            return np.ascontiguousarray(y, dtype=self.dtype)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(
                f"{what} must be integer labels (n,) or one-hot (n, {self.n_outputs}), "
                f"got shape {y.shape}"
            )
        if y.dtype.kind == "f":
            if not np.all(np.isfinite(y)):
                raise ValueError(f"{what} contains NaN or infinite values")
            if not np.all(y == np.round(y)):
                raise ValueError(f"{what} must hold whole-number class labels")
        elif y.dtype.kind not in "iub":
            raise ValueError(f"{what} must hold integer class labels, got {y.dtype}")
        labels = y.astype(np.int64)
        if labels.min() < 0 or labels.max() >= self.n_classes:
            raise ValueError(
                f"{what} has labels outside 0..{self.n_classes - 1} "
                f"(the network has {self.n_outputs} output nodes)"
            )
        if self.n_outputs == 1:
            return labels.astype(self.dtype).reshape(-1, 1)
        Y = np.zeros((n, self.n_outputs), dtype=self.dtype)
        Y[np.arange(n), labels] = 1.0
        return Y

    # ---- the math ----

    def _workspace(self, n: int) -> Workspace:
        """The work arrays for batches of ``n`` rows (kept for a few sizes)."""
        ws = self._workspaces.get(n)
        if ws is None:
            ws = Workspace(self.config["layers"], n, self.dtype)
            if n <= WORKSPACE_ROWS_MAX:
                if len(self._workspaces) >= WORKSPACES_MAX:
                    self._workspaces.clear()
                self._workspaces[n] = ws
        return ws

    def release_workspaces(self) -> None:
        """Forget the work arrays kept between batches (made again on the next use).

        They can take far more memory than the weights (a batch's activations for every
        layer); a network that is not training need not hold them.
        """
        self._workspaces.clear()

    def _forward(self, X1: np.ndarray, ws: Workspace | None = None) -> np.ndarray:
        """Output activations from ``X1`` = ``[X, 1]``, in ``ws.out`` (the logits in
        ``ws.logits``); every layer keeps what backward needs."""
        if ws is None:
            ws = self._workspace(len(X1))
        a = X1
        for layer, act, (full, view) in zip(self.layers, self.activations, ws.hidden, strict=False):
            layer.forward(a, out=view)
            act.forward_hidden(full, view)
            a = full
        z = self.layers[-1].forward(a, out=ws.logits)
        return self.activations[-1].forward(z, out=ws.out)

    def _backward(self, P: np.ndarray, Y: np.ndarray, ws: Workspace | None = None) -> None:
        """Fill the flat gradient buffer from the last forward pass."""
        if ws is None:
            ws = self._workspace(len(P))
        if ws.delta is None:
            ws.make_grads()
        dx = ws.dx
        grad = losses.output_delta(self.config["loss"], self.activations[-1], P, Y, out=ws.delta)
        last = len(self.layers) - 1
        for i in range(last, -1, -1):
            if i != last:
                grad = self.activations[i].backward(grad)
            grad = self.layers[i].backward(grad, out=dx[i])

    def _add_l2(self, l2: float) -> None:
        for layer in self.layers:
            layer.gW += l2 * layer.W

    def _penalty(self, l2: float) -> float:
        if not l2:
            return 0.0
        return 0.5 * l2 * sum(float(np.sum(layer.W * layer.W)) for layer in self.layers)

    def loss_and_gradients(self, X, y, l2: float = 0.0) -> tuple[float, list[np.ndarray]]:
        """Mean loss (plus ``l2 / 2 * sum W**2``) on a batch and its gradients, without updating.

        Gradients come back as copies in the layout of ``get_weights``.
        """
        X = self._check_X(X)
        Y = self._check_y(y, len(X))
        ws = self._workspace(len(X))
        P = self._forward(with_ones(X), ws)
        loss = self._loss(P, Y, ws)
        self._backward(P, Y, ws)
        if l2:
            self._add_l2(l2)
        grads = [g.copy() for layer in self.layers for g in (layer.gW, layer.gb)]
        return loss + self._penalty(l2), grads

    def _proba(self, X: np.ndarray) -> np.ndarray:
        return self._forward(with_ones(X))

    def _labels(self, P: np.ndarray) -> np.ndarray:
        if self.n_outputs == 1:
            return (P[:, 0] > 0.5).astype(np.int64)
        return P.argmax(axis=1)

    def _truth(self, Y: np.ndarray) -> np.ndarray:
        """The class of each one-hot (or 0/1) target row."""
        return Y[:, 0] > 0.5 if self.n_outputs == 1 else Y.argmax(axis=1)

    def _loss(self, P: np.ndarray, Y: np.ndarray, ws: Workspace) -> float:
        """Mean loss of the last forward pass, from its logits where the loss needs them."""
        cfg = self.config
        return losses.value(cfg["loss"], cfg["output_activation"], P, Y, logits=ws.logits)

    def _metrics(
        self, X1: np.ndarray, Y: np.ndarray, truth: np.ndarray | None = None
    ) -> tuple[float, float]:
        """Mean loss and accuracy on ``X1`` = ``[X, 1]``; ``truth`` is ``_truth(Y)`` if known."""
        ws = self._workspace(len(X1))
        P = self._forward(X1, ws)
        if truth is None:
            truth = self._truth(Y)
        return self._loss(P, Y, ws), float(np.mean(self._labels(P) == truth))

    # ---- prediction ----

    def predict_proba(self, X) -> np.ndarray:
        """Output activations (n, n_outputs): class probabilities for softmax, scores otherwise."""
        return self._proba(self._check_X(X)).copy()

    def predict(self, X) -> np.ndarray:
        """Predicted class indices (n,)."""
        return self._labels(self._proba(self._check_X(X)))

    def evaluate(self, X, y) -> dict[str, float]:
        """Mean loss and accuracy on labelled data."""
        X = self._check_X(X)
        loss, acc = self._metrics(with_ones(X), self._check_y(y, len(X)))
        return {"loss": loss, "accuracy": acc}

    # ---- training ----

    def set_learning_rate(self, learning_rate: float) -> None:
        """Change the learning rate of a run in progress; it applies from the next batch.

        Before any training there is no run: the rate given to ``fit``/``train_epochs`` counts.
        """
        if (
            isinstance(learning_rate, bool)
            or not isinstance(learning_rate, (int, float, np.floating))
            or not math.isfinite(learning_rate)
            or learning_rate <= 0
        ):
            raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
        if self._optimizer is not None:
            self._optimizer.learning_rate = float(learning_rate)

    def reset_training(self) -> None:
        """Forget optimizer state, the shuffling stream and early-stopping state (not weights)."""
        self._optimizer = None
        self._rng = None
        self._early = None
        self.stopped_early = False

    def fit(self, X, y, epochs: int = 100, **settings) -> list[EpochRecord]:
        """Train for ``epochs`` more epochs (see ``train_epochs``) and return the whole history."""
        for _ in self.train_epochs(X, y, epochs=epochs, **settings):
            pass
        return self.history

    def train_epochs(
        self,
        X,
        y,
        epochs: int = 100,
        learning_rate: float = 0.15,
        batch_size: int = 1,
        optimizer: str = "sgd",
        shuffle: bool = False,
        validation_data: tuple | None = None,
        l2: float = 0.0,
        seed: int = 0,
        momentum: float = 0.9,
        nesterov: bool = False,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        early_stopping: bool = False,
        patience: int = 10,
        restore_best: bool = True,
        train_metrics: str = "after_epoch",
    ) -> Iterator[EpochRecord]:
        """Return a generator that trains one epoch per ``next`` and yields its ``EpochRecord``.

        Resumable: a later call (or a new generator) continues from where the last one stopped,
        optimizer state, shuffling stream and early-stopping state included, as long as the
        optimizer name stays the same. ``seed`` seeds the shuffling stream when it is created.
        Inputs are checked here, before the first epoch runs.

        ``train_metrics`` says where each record's training loss and accuracy come from:
        ``"after_epoch"`` (the default) evaluates the training data with the epoch's final
        weights, a forward pass over up to ``TRAIN_EVAL_MAX`` rows after every epoch;
        ``"batches"`` averages what the epoch's own forward passes scored, at almost no cost
        (for minibatch training this can be a large share of the time), but with weights that
        moved during the epoch.
        """
        X = self._check_X(X)
        Y = self._check_y(y, len(X))
        val = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (X_val, y_val)")
            Xv, yv = validation_data
            if np.asarray(Xv).size:
                Xv = self._check_X(Xv, "X_val")
                val = (with_ones(Xv), self._check_y(yv, len(Xv), "y_val"))
        if early_stopping and val is None:
            raise ValueError("early stopping needs validation data")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be a whole number >= 0, got {epochs!r}")
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or batch_size < 1
        ):
            raise ValueError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
        for name, value in (("learning_rate", learning_rate), ("l2", l2)):
            if not isinstance(value, (int, float, np.floating)) or not np.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
        if l2 < 0:
            raise ValueError(f"l2 must be >= 0, got {l2!r}")
        if (
            isinstance(patience, bool)
            or not isinstance(patience, (int, np.integer))
            or patience < 1
        ):
            raise ValueError(f"patience must be a whole number >= 1, got {patience!r}")
        for name, value in (("momentum", momentum), ("beta1", beta1), ("beta2", beta2)):
            if not isinstance(value, (int, float, np.floating)) or not 0 <= value < 1:
                raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
        if not isinstance(eps, (int, float, np.floating)) or not 0 < eps < 1:
            raise ValueError(f"eps must be a small positive number, got {eps!r}")
        if not isinstance(train_metrics, str) or train_metrics not in TRAIN_METRICS:
            raise ValueError(
                f"train_metrics must be one of {', '.join(TRAIN_METRICS)}, got {train_metrics!r}"
            )
        settings = {
            "momentum": float(momentum),
            "nesterov": bool(nesterov),
            "beta1": float(beta1),
            "beta2": float(beta2),
            "eps": float(eps),
        }
        opt = self._optimizer
        if opt is None or opt.name != optimizer:
            opt = optimizers.make(optimizer, float(learning_rate), **settings)
        else:
            keep = {k: v for k, v in settings.items() if k in opt.hyperparameters()}
            opt.update(learning_rate=float(learning_rate), **keep)
        self._optimizer = opt
        if self._rng is None:
            self._rng = np.random.default_rng(seed)
        if early_stopping and self._early is None:
            self._early = {"best": np.inf, "weights": self._params.copy(), "wait": 0}
        if self._early is not None:
            if self._early.pop("last", None) is not None and not self.stopped_early:
                # The previous call ended without stopping and showed the best weights;
                # resuming continues the run from where it really was.
                self._params[...] = self._early.pop("resume")
            if self.stopped_early:
                self._early["wait"] = 0
        self.stopped_early = False
        return self._epochs(
            with_ones(X),
            Y,
            val,
            int(epochs),
            int(batch_size),
            bool(shuffle),
            float(l2),
            bool(early_stopping),
            int(patience),
            bool(restore_best),
            train_metrics == "batches",
        )

    def _train_eval_rows(self, n: int) -> np.ndarray | None:
        if n <= TRAIN_EVAL_MAX:
            return None
        return np.sort(np.random.default_rng(n).choice(n, TRAIN_EVAL_MAX, replace=False))

    def _epochs(
        self,
        X,
        Y,
        val,
        epochs,
        batch_size,
        shuffle,
        l2,
        early_stopping,
        patience,
        restore_best,
        batch_metrics,
    ) -> Iterator[EpochRecord]:
        n = len(X)
        batch_size = min(batch_size, n)
        truth = self._truth(Y)
        if batch_metrics:
            # What each sample scored when it was trained on, in the epoch's order
            seen_logits = np.empty_like(Y)
            seen_out = np.empty_like(Y)
        else:
            rows = self._train_eval_rows(n)
            X_eval, Y_eval = (X, Y) if rows is None else (X[rows], Y[rows])
            truth_eval = truth if rows is None else truth[rows]
        if val is not None:
            val = (*val, self._truth(val[1]))
        params, grads, opt = [self._params], [self._grads], self._optimizer
        early = self._early if early_stopping else None
        forward, backward, step = self._forward, self._backward, opt.step
        for _ in range(epochs):
            start = time.perf_counter()
            last_good = self._params.copy()
            order = self._rng.permutation(n) if shuffle else None
            ws_full = self._workspace(batch_size)
            ws_last = self._workspace(n % batch_size) if n % batch_size else ws_full
            # Overflow on the way to divergence is reported as DivergenceError below; the
            # context is scoped to one epoch, never held across a yield.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for i in range(0, n, batch_size):
                    stop = i + batch_size  # slices stop at n by themselves
                    ws = ws_full if stop <= n else ws_last
                    if order is None:
                        Xb, Yb = X[i:stop], Y[i:stop]
                    else:
                        # Gather the batch into a reused array rather than copying all of X
                        # in shuffled order every epoch.
                        Xb, Yb = ws.batch()
                        rows_b = order[i:stop]
                        X.take(rows_b, axis=0, out=Xb, mode="wrap")
                        Y.take(rows_b, axis=0, out=Yb, mode="wrap")
                    P = forward(Xb, ws)
                    if batch_metrics:
                        seen_logits[i:stop] = ws.logits
                        seen_out[i:stop] = P
                    backward(P, Yb, ws)
                    if l2:
                        self._add_l2(l2)
                    step(params, grads)
                if batch_metrics:
                    Ys, truth_s = (Y, truth) if order is None else (Y[order], truth[order])
                    train_loss = losses.value(
                        self.config["loss"],
                        self.config["output_activation"],
                        seen_out,
                        Ys,
                        logits=seen_logits,
                    )
                    train_acc = float(np.mean(self._labels(seen_out) == truth_s))
                else:
                    train_loss, train_acc = self._metrics(X_eval, Y_eval, truth_eval)
                val_loss = val_acc = None
                if val is not None:
                    val_loss, val_acc = self._metrics(*val)
            epoch = len(self.history) + 1
            record = EpochRecord(
                epoch=epoch,
                train_loss=train_loss,
                train_accuracy=train_acc,
                val_loss=val_loss,
                val_accuracy=val_acc,
                learning_rate=opt.learning_rate,
                seconds=time.perf_counter() - start,
            )
            finite = math.isfinite(train_loss) and (val_loss is None or math.isfinite(val_loss))
            if not finite or not np.all(np.isfinite(self._params)):
                self._params[...] = last_good
                # Its moments are poisoned too: the next call starts the optimizer afresh.
                self._optimizer = None
                raise DivergenceError(
                    epoch,
                    f"The last finite weights (after epoch {epoch - 1}) were restored. Try a lower "
                    f"learning rate (now {opt.learning_rate:g}), standardized inputs, or a "
                    "sigmoid/softmax output.",
                )
            self.history.append(record)
            if early is not None:
                if val_loss < early["best"]:
                    early.update(best=val_loss, wait=0)
                    early["weights"][...] = self._params
                else:
                    early["wait"] += 1
                if early["wait"] >= patience:
                    self.stopped_early = True
                    if restore_best:
                        self._params[...] = early["weights"]
                    yield record
                    return
            yield record
        if early is not None and restore_best and early["best"] < np.inf:
            early["resume"] = self._params.copy()
            early["last"] = True
            self._params[...] = early["weights"]

    # ---- persistence (nn/io.py) ----

    def save(self, file) -> None:
        """Write weights, config, history and ``metadata`` to one ``.npz`` (see ``nn.io.save``)."""
        from nn import io as nn_io

        nn_io.save(self, file)

    @classmethod
    def load(cls, file, **options) -> Network:
        """Read a network written by ``save``; ``ValueError`` for anything else (``nn.io.load``).

        ``options``: ``max_params``, the largest network to accept (None: no bound).
        """
        from nn import io as nn_io

        return nn_io.load(file, **options)
