"""The multilayer perceptron: its config, layers, forward and backward passes, prediction.

Training runs in nn/train.py (``Network.train_epochs`` delegates to it), saving and loading in
nn/io.py.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from nn import activations, config, losses, optimizers, train
from nn import task as tasks
from nn.layers import Dense, with_ones
from nn.train import EpochRecord

INITS = ("uniform", "xavier", "he")
DTYPES = ("float64", "float32")
CONFIG_KEYS = ("layers", "activation", "output_activation", "loss", "init", "seed", "dtype", "task")
# Work arrays are kept for this many batch sizes, and only for batches of at most this many rows.
WORKSPACES_MAX = 6
WORKSPACE_ROWS_MAX = 8192


def count_params(sizes: list[int]) -> int:
    """Weights plus biases of a network with these layer sizes."""
    return sum((n_in + 1) * n_out for n_in, n_out in itertools.pairwise(sizes))


def normalize_config(config: dict) -> dict:
    """Check a network config and fill in defaults; ``ValueError`` names what is wrong.

    ``task`` is "classification" (the default) or "regression" (see nn/task.py); it decides
    the default output activation (sigmoid or linear) and which outputs and losses are
    allowed. The normalized config names the task only for regression, so a classification
    config is what it was before there were tasks (and saved models stay as they were).
    """
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
    task = tasks.get(config.get("task", tasks.CLASSIFICATION))
    out = config.get("output_activation", task.default_output)
    activations.get(out, output=True)
    loss = config.get("loss", "squared_error")
    if not isinstance(loss, str) or loss not in losses.LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(losses.LOSSES)}")
    task.check_network(out, loss)
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
    normalized = {
        "layers": sizes,
        "activation": act if isinstance(act, str) else acts,
        "output_activation": out,
        "loss": loss,
        "init": init,
        "seed": int(seed),
        "dtype": dtype,
    }
    if task.name != tasks.CLASSIFICATION:
        normalized["task"] = task.name
    return normalized


class Workspace:
    """Preallocated arrays for batches of ``n`` rows, so a training step allocates nothing.

    ``hidden[i]`` is ``(full, view)``: an (n, width + 1) array whose last column is the bias
    input 1, and a view of the rest, into which the layer's product and then its activation are
    written in place. ``logits`` and ``out`` hold the output layer's pre-activations and
    activations. Gradient arrays (``delta`` (n, n_outputs) and ``dx[i]`` (n, n_in of layer i))
    and the batch arrays (``X1``, ``Y``, for shuffled batches) are made on first use. So are
    the dropout arrays of hidden layer ``i`` (``dropout(i)``): its output with units dropped, in
    the same ``[a, 1]`` form, and the mask it was multiplied by.
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
        self._dropout: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}

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

    def dropout(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Hidden layer ``i``'s dropout arrays: ``dropped`` (n, width + 1), its output with
        units dropped and the bias input 1 last; ``mask`` (n, width), what each output is
        multiplied by (0, or ``1 / (1 - rate)``); and, to draw the mask into, ``uniform``
        (n, width) float64 and ``keep`` (n, width) bool."""
        arrays = self._dropout.get(i)
        if arrays is None:
            width = self.sizes[i + 1]
            shape = (self.n, width)
            arrays = self._dropout[i] = (
                np.ones((self.n, width + 1), dtype=self.dtype),
                np.empty(shape, dtype=self.dtype),
                np.empty(shape, dtype=np.float64),
                np.empty(shape, dtype=bool),
            )
        return arrays


@dataclass
class LayerValues:
    """What one layer computed in a forward pass, row by row (see ``Network.forward``)."""

    inputs: np.ndarray  # (n, n_in + 1): the layer's input with the bias input 1, [a_prev, 1]
    z: np.ndarray  # (n, n_out): inputs @ Wb
    a: np.ndarray  # (n, n_out): the activation of z
    # A copy of the layer's activation holding ``a``: its ``backward(dL/da)`` returns dL/dz
    # for these rows (in place).
    activation: activations.Activation


class Network:
    """A fully connected feed-forward network for classification or regression, trained by
    backpropagation.

    All weights and biases live in one flat buffer (``W`` and ``b`` of each layer are views into
    it), so an optimizer step is a handful of NumPy calls however many layers there are.

    The config's task (nn/task.py) decides what targets mean: class labels trained as one-hot
    rows, or numbers trained standardized by ``target_scaler`` (fitted on the training rows
    by the first call of ``train_epochs``, saved with the model) and predicted in their own
    units.

    The public methods check their inputs. The batch methods (``_workspace``, ``_forward``,
    ``_backward``, ``_add_l2``, ``_add_l1``, ``_metrics``, ``_score``, ``_truth``) trust theirs
    and work on preallocated arrays; the public methods here and the training loop in
    nn/train.py drive them.

    Dropout and class weights are training-time arguments of the batch methods: ``masks``
    (per hidden layer, the (n, width) factors its outputs are multiplied by, or None) and
    ``weights`` (n,), each row's weight in the loss. Prediction and ``evaluate`` use neither.
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
        self._task = tasks.get(self.task)
        # Regression: the mean and scale of each target column on the training rows (None for
        # classification, and before a regression network first trains)
        self.target_scaler: tasks.TargetScaler | None = None
        self._workspaces: dict[int, Workspace] = {}
        self.history: list[EpochRecord] = []
        # JSON-serializable facts that travel with the saved model (feature names, scaler, ...)
        self.metadata: dict = {}
        # The preprocessing fitted on the training rows (nn.data.Preprocessor), saved with it
        self.preprocessor = None
        # Optimizer, shuffling stream and early stopping: what a run carries between calls
        self._training = train.TrainingState()
        self._initialize(np.random.default_rng(self.config["seed"]))

    @classmethod
    def from_config(cls, config: dict) -> Network:
        """Build a freshly initialised network from a config dict (see ``normalize_config``)."""
        return cls(config)

    def __repr__(self) -> str:
        c = self.config
        task = "" if self.task == tasks.CLASSIFICATION else f"task={self.task!r}, "
        return (
            f"Network({task}layers={c['layers']}, activation={c['activation']!r}, "
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
    def task(self) -> str:
        """The task, "classification" or "regression" (``nn.task.CLASSIFICATION``, ...)."""
        return self.config.get("task", tasks.CLASSIFICATION)

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
        """Number of classes: the outputs, or 2 for a single sigmoid output (classification)."""
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
        return self._training.optimizer

    @property
    def early_stopping(self) -> train.EarlyStopping | None:
        """The run's early stopping (None until a call asks for it); it survives pauses."""
        return self._training.early_stopping

    @property
    def stopped_early(self) -> bool:
        """True when the last call of ``train_epochs`` ended because early stopping fired."""
        return self._training.stopped_early

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

    def check_inputs(
        self, X, y=None, names: tuple[str, str] = ("X", "y")
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The inputs as the network uses them, or ``ValueError`` naming what is wrong.

        Returns ``X`` (n, n_inputs), contiguous, in the network's dtype (a single sample may
        be given as 1-D) and, when ``y`` is given, the targets ``Y`` (n, n_outputs) as the
        network trains on them: for classification one-hot rows (a 0/1 column for a single
        sigmoid output) from integer labels or one-hot rows; for regression the values
        ((n,) or (n, n_outputs)) standardized by ``target_scaler``. ``names`` are what the
        messages call ``X`` and ``y``.
        """
        X = self._check_X(X, names[0])
        if y is None:
            return X, None
        return X, self._check_y(y, len(X), names[1])

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

    def _check_y(self, y, n: int, what: str = "y", scaler=None) -> np.ndarray:
        """Targets (n, n_outputs) in the network's dtype as training uses them (see
        ``check_inputs``); regression scales them with ``scaler``, else ``target_scaler``."""
        scaler = self.target_scaler if scaler is None else scaler
        return self._task.encode(y, n, self.n_outputs, self.dtype, scaler, what)

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

    def _forward(
        self, X1: np.ndarray, ws: Workspace | None = None, masks: list | None = None
    ) -> np.ndarray:
        """Output activations from ``X1`` = ``[X, 1]``, in ``ws.out`` (the logits in
        ``ws.logits``); every layer keeps what backward needs. With ``masks`` (training with
        dropout), hidden layer ``i``'s outputs are multiplied by ``masks[i]`` (when not None)
        before the next layer takes them; its activation keeps the outputs as they were."""
        if ws is None:
            ws = self._workspace(len(X1))
        a = X1
        layers = zip(self.layers, self.activations, ws.hidden, strict=False)
        for i, (layer, act, (full, view)) in enumerate(layers):
            layer.forward(a, out=view)
            act.forward_hidden(full, view)
            a = full
            if masks is not None and masks[i] is not None:
                a = ws.dropout(i)[0]
                np.multiply(view, masks[i], out=a[:, :-1])
        z = self.layers[-1].forward(a, out=ws.logits)
        return self.activations[-1].forward(z, out=ws.out)

    def _backward(
        self,
        P: np.ndarray,
        Y: np.ndarray,
        ws: Workspace | None = None,
        masks: list | None = None,
        weights: np.ndarray | None = None,
    ) -> None:
        """Fill the flat gradient buffer from the last forward pass (made with ``masks``);
        ``weights`` (n,): each row's weight in the loss."""
        if ws is None:
            ws = self._workspace(len(P))
        if ws.delta is None:
            ws.make_grads()
        dx = ws.dx
        grad = losses.output_delta(
            self.config["loss"], self.activations[-1], P, Y, out=ws.delta, sample_weight=weights
        )
        last = len(self.layers) - 1
        for i in range(last, -1, -1):
            if i != last:
                if masks is not None and masks[i] is not None:
                    grad *= masks[i]  # dL/d(dropped a) -> dL/da: a dropped unit gets none
                grad = self.activations[i].backward(grad)
            grad = self.layers[i].backward(grad, out=dx[i])

    def _add_l2(self, l2: float) -> None:
        for layer in self.layers:
            layer.gW += l2 * layer.W

    def _add_l1(self, l1: float) -> None:
        # The sub-gradient of |w|: sign(w), and 0 at 0
        for layer in self.layers:
            layer.gW += l1 * np.sign(layer.W)

    def penalty(self, l2: float, l1: float = 0.0) -> float:
        """The penalties ``l2 / 2 * sum W**2 + l1 * sum |W|`` over every layer's weights (not
        the biases)."""
        total = 0.0
        if l2:
            total += 0.5 * l2 * sum(float(np.sum(layer.W * layer.W)) for layer in self.layers)
        if l1:
            total += l1 * sum(float(np.sum(np.abs(layer.W))) for layer in self.layers)
        return total

    def loss_and_gradients(
        self,
        X,
        y,
        l2: float = 0.0,
        l1: float = 0.0,
        dropout_masks: list | None = None,
        class_weight="none",
    ) -> tuple[float, list[np.ndarray]]:
        """Mean loss (plus ``l2 / 2 * sum W**2 + l1 * sum |W|``) on a batch and its gradients,
        without updating.

        Gradients come back as copies in the layout of ``get_weights``. ``dropout_masks``: one
        entry per hidden layer, None or the (n, width) factors its outputs are multiplied by
        (0 for a dropped unit, ``1 / (1 - rate)`` for a kept one), as a training step with
        dropout draws them. ``class_weight``: the training setting ("none", "balanced" on
        these rows, or one weight per class), each row's loss weighted by its class's.
        """
        X, Y = self.check_inputs(X, y)
        masks = self._check_masks(dropout_masks, len(X))
        weights = self._row_weights(config.TRAINING["class_weight"].check(class_weight), Y)
        ws = self._workspace(len(X))
        P = self._forward(with_ones(X), ws, masks)
        loss = self._loss(P, Y, ws, weights)
        self._backward(P, Y, ws, masks, weights)
        if l2:
            self._add_l2(l2)
        if l1:
            self._add_l1(l1)
        grads = [g.copy() for layer in self.layers for g in (layer.gW, layer.gb)]
        return loss + self.penalty(l2, l1), grads

    def _row_weights(
        self, class_weight: str, Y: np.ndarray, train_Y: np.ndarray | None = None
    ) -> np.ndarray | None:
        """Each row's weight (n,) in the network's dtype for a checked ``class_weight`` text
        (None for "none"); "balanced" is computed on ``train_Y`` (default: ``Y``)."""
        fit_on = Y if train_Y is None else train_Y
        per_class = self._task.class_weights(
            config.class_weight(class_weight), self._truth(fit_on), self.n_outputs
        )
        if per_class is None:
            return None
        return per_class[self._truth(Y).astype(np.int64)].astype(self.dtype)

    def _check_masks(self, masks, n: int) -> list | None:
        """Dropout masks checked: one entry per hidden layer, None or (n, width) finite."""
        if masks is None:
            return None
        widths = self.config["layers"][1:-1]
        if not isinstance(masks, (list, tuple)) or len(masks) != len(widths):
            raise ValueError(f"dropout_masks must list one entry per hidden layer ({len(widths)})")
        checked = []
        for i, (mask, width) in enumerate(zip(masks, widths, strict=True)):
            if mask is not None:
                mask = np.ascontiguousarray(mask, dtype=self.dtype)
                if mask.shape != (n, width) or not np.all(np.isfinite(mask)):
                    raise ValueError(
                        f"dropout mask {i + 1} must be finite numbers of shape {(n, width)}"
                    )
            checked.append(mask)
        return checked

    def forward(self, X) -> list[LayerValues]:
        """The forward pass on rows ``X`` (checked as ``predict`` checks them), layer by layer.

        It is the pass training runs, on work arrays of its own, so the values are the
        caller's to keep; ``predict_proba`` gives just the outputs.
        """
        X, _ = self.check_inputs(X)
        X1 = with_ones(X)
        ws = Workspace(self.config["layers"], len(X1), self.dtype)
        self._forward(X1, ws)
        inputs = [X1, *(full for full, _ in ws.hidden)]
        outputs = [*(view for _, view in ws.hidden), ws.out]
        # z is computed again: the pass writes each activation over its z (and softmax
        # shifts the logits).
        return [
            LayerValues(inputs=a_in, z=a_in @ layer.Wb, a=a, activation=copy.copy(act))
            for layer, act, a_in, a in zip(
                self.layers, self.activations, inputs, outputs, strict=True
            )
        ]

    def _proba(self, X: np.ndarray) -> np.ndarray:
        return self._forward(with_ones(X))

    def _truth(self, Y: np.ndarray) -> np.ndarray:
        """What ``_score`` compares with, from encoded targets: the class of each one-hot
        (or 0/1) row, or the standardized values themselves."""
        return self._task.truth(Y)

    def _score(self, P: np.ndarray, truth: np.ndarray) -> float:
        """The task's figure of outputs ``P`` against ``truth``: accuracy or R^2."""
        return self._task.score(P, truth)

    def _loss(
        self, P: np.ndarray, Y: np.ndarray, ws: Workspace, weights: np.ndarray | None = None
    ) -> float:
        """Mean loss of the last forward pass, from its logits where the loss needs them;
        ``weights`` (n,): each row's weight (see ``nn.losses.value``)."""
        cfg = self.config
        return losses.value(
            cfg["loss"], cfg["output_activation"], P, Y, logits=ws.logits, sample_weight=weights
        )

    def _metrics(
        self,
        X1: np.ndarray,
        Y: np.ndarray,
        truth: np.ndarray | None = None,
        weights: np.ndarray | None = None,
    ) -> tuple[float, float]:
        """Mean loss (weighted by ``weights`` (n,) when given) and the task's figure (accuracy
        or R^2) on ``X1`` = ``[X, 1]``; ``truth`` is ``_truth(Y)`` if known."""
        ws = self._workspace(len(X1))
        P = self._forward(X1, ws)
        if truth is None:
            truth = self._truth(Y)
        return self._loss(P, Y, ws, weights), self._score(P, truth)

    # ---- prediction ----

    def predict_proba(self, X) -> np.ndarray:
        """Output activations (n, n_outputs): class probabilities for softmax, scores otherwise
        (for regression, the standardized values the network outputs)."""
        return self._proba(self._check_X(X)).copy()

    def predict(self, X) -> np.ndarray:
        """Predicted class indices (n,); for regression, values in the target's units: (n,)
        for one target column, (n, k) for several."""
        return self._task.decode(self._proba(self._check_X(X)), self.target_scaler)

    def evaluate(self, X, y) -> dict[str, float]:
        """Mean loss and the task's scores on labelled data.

        Classification: ``loss`` and ``accuracy``. Regression: ``loss``, ``r2``, ``mae`` and
        ``rmse``; the loss is the training loss, on the standardized target (squared error
        ``0.5 * sum_k ((y_k - mean_k) / scale_k - output_k)**2`` per sample, so predicting the
        mean costs 0.5 per target column), while MAE and RMSE are in the target's own units
        (the mean over target columns when there are several).
        """
        X, Y = self.check_inputs(X, y)
        ws = self._workspace(len(X))
        P = self._forward(with_ones(X), ws)
        return {"loss": self._loss(P, Y, ws), **self._task.scores(P, Y, self.target_scaler)}

    # ---- training ----

    def set_learning_rate(self, learning_rate: float) -> None:
        """Change the learning rate of a run in progress; it applies from the next batch.

        Before any training there is no run: the rate given to ``fit``/``train_epochs`` counts.
        With a schedule or a warm-up (nn/schedules.py) this is the base rate that the schedule
        scales, from the next epoch on; the optimizer's ``learning_rate`` between epochs is
        always the base rate, and each record has the rate its epoch used.
        """
        learning_rate = config.TRAINING["learning_rate"].check(learning_rate)
        if self._training.optimizer is not None:
            self._training.optimizer.learning_rate = learning_rate

    def reset_training(self) -> None:
        """Forget optimizer state, the shuffling stream and early-stopping state (not weights)."""
        self._training = train.TrainingState()

    def training_state_data(self) -> tuple[dict, dict[str, np.ndarray]]:
        """What the run carries between calls of ``train_epochs``, as plain data.

        Returns JSON-ready facts (the optimizer's name, hyperparameters as now set and step
        count, the shuffling stream's state, early stopping's counters) and copies of the
        state's arrays by name (``"optimizer.m.0"``, ``"early_stopping.best_weights"``, ...):
        see ``nn.train.TrainingState.to_data``. ``save`` does not include it; keep it beside
        the model file and give it to ``restore_training_state`` to go on with the run. Before
        any training it is an empty state.
        """
        return self._training.to_data()

    def restore_training_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Install a state from ``training_state_data`` (of this network or its saved copy), so
        the next ``train_epochs`` call continues that run exactly.

        Everything is checked (fields, types, ranges, the arrays' names, shapes and dtypes
        against this network's parameters, finite values, the shuffling stream's state) and
        any problem is a ``ValueError`` that names it; the current state is kept then. The
        arrays are copied. The settings of the next call still apply as they do to a paused
        run: its learning rate and optimizer settings, and another optimizer starts afresh.
        """
        try:
            state = train.TrainingState.from_data(meta, arrays, self._params)
        except ValueError as exc:
            raise ValueError(f"not a training state for this network: {exc}") from None
        self._training = state

    def fit(self, X, y, epochs: int = 100, **settings) -> list[EpochRecord]:
        """Train for ``epochs`` more epochs (see ``train_epochs``) and return the whole history."""
        for _ in self.train_epochs(X, y, epochs=epochs, **settings):
            pass
        return self.history

    def train_epochs(self, X, y, epochs: int = 100, **settings) -> Iterator[EpochRecord]:
        """Return a generator that trains one epoch per ``next`` and yields its ``EpochRecord``.

        Resumable: a later call (or a new generator) continues from where the last one stopped,
        optimizer state, shuffling stream and early-stopping state included, as long as the
        optimizer name stays the same. Inputs and settings are checked here, before the first
        epoch runs. The settings are those of the table ``nn.config.TRAINING`` (defaults and
        ranges there), plus ``validation_data``, ``seed`` and ``train_metrics``: see
        ``nn.train.train_epochs``.
        """
        return train.train_epochs(self, self._training, X, y, epochs=epochs, **settings)

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
