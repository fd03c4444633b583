"""Speed of the ``nn`` engine against scikit-learn's MLPClassifier and the article's own code.

Four workloads (issue 2, section 6; issue 11 for the fourth), each timed in the same run:

1. Iris, the article preset (sigmoid 4-5-10-3, per-sample SGD, lr 0.15): seconds per epoch for
   ``nn``, the article's ``np.matrix`` code (``article_reference.py``) and sklearn's SGD at
   batch 1. Target: ``nn`` at least 3x faster than both.
2. digits, 64-128-64-10 ReLU, Adam, batch 32: samples per second. Target: at least 2x sklearn.
3. MNIST-sized synthetic data (10,000 x 784 float32, labels from a random linear teacher),
   784-256-128-10 ReLU, Adam, batch 128, float32: samples per second (target: 1.5x sklearn) and
   the GFLOP/s that ``nn`` achieves as a share of this machine's float32 matmul peak measured in
   the same run (target: 55%).
4. Regression on diabetes (442 x 10, standardized inputs and target), 10-64-32-1 ReLU with a
   linear output and squared error, Adam, batch 16: samples per second against sklearn's
   MLPRegressor with the same settings. Target: at least 2x.

Every contender gets the same data, architecture, batch size and number of epochs; repeats are
interleaved (nn, reference, nn, reference, ...) after a warm-up so that load from other
processes hits all of them alike, and the median is reported.

Usage: ``python benchmarks/bench_engine.py [--quick] [--markdown] [--repeats N]``
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import article_reference  # noqa: E402
import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402

import nn  # noqa: E402
import nn.data  # noqa: E402

ARTICLE = nn.presets.ARTICLE


@dataclass
class Row:
    """One line of the results table."""

    workload: str
    metric: str
    ours: float
    article: float | None
    sklearn: float | None
    higher_is_better: bool
    target: str
    met: bool | None
    note: str = ""
    result: str = ""

    def ratio(self, other: float | None) -> float | None:
        """How many times better ours is than ``other`` (>1 means ours wins)."""
        if other is None:
            return None
        return self.ours / other if self.higher_is_better else other / self.ours


# ---- machine ----


def cpu_model() -> str:
    """CPU model name, family/model numbers, clock and SIMD level from /proc/cpuinfo."""
    fields: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key in fields:
                if key == "processor":
                    break
                continue
            fields[key] = value.strip()
    if "model name" not in fields:
        return platform.processor() or platform.machine()
    flags = set(fields.get("flags", "").split())
    simd = next((f for f in ("avx512f", "avx2", "avx", "sse4_2") if f in flags), "?")
    return (
        f"{fields['model name']} (family {fields.get('cpu family', '?')}, model "
        f"{fields.get('model', '?')}, {fields.get('cpu MHz', '?')} MHz, {simd.upper()})"
    )


def blas_info() -> str:
    """BLAS library, version, kernel architecture and thread count (via threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    seen = []
    for pool in threadpool_info():
        if pool.get("user_api") != "blas" or "numpy" not in pool.get("filepath", ""):
            continue
        seen.append(
            f"{pool.get('internal_api')} {pool.get('version')} "
            f"({pool.get('architecture', '?')} kernels, threads: {pool.get('num_threads')})"
        )
    return "; ".join(seen) or "unknown"


def blas_thread_count() -> int | None:
    """Threads NumPy's BLAS uses right now (None when threadpoolctl is missing)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    for pool in threadpool_info():
        if pool.get("user_api") == "blas" and "numpy" in pool.get("filepath", ""):
            return pool.get("num_threads")
    return None


def machine_info() -> dict[str, str]:
    """What the numbers were measured on."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return {
        "CPU": cpu_model(),
        "cores": f"{os.cpu_count()} logical, {affinity} usable by this process",
        "Python": platform.python_version(),
        "NumPy": f"{np.__version__}, BLAS: {blas_info()}",
        "scikit-learn": sklearn.__version__,
        "OS": platform.platform(),
    }


def load_1min() -> float:
    """The 1-minute load average (0 where the OS does not report it)."""
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return 0.0


def load() -> str:
    """The 1/5/15-minute load averages."""
    with contextlib.suppress(OSError, AttributeError):
        return "{:.2f} / {:.2f} / {:.2f}".format(*os.getloadavg())
    return "unknown"


# ---- timing ----


def time_interleaved(
    contenders: dict[str, tuple[Callable[[], object], Callable[[object], object]]],
    repeats: int,
    warmup: int = 1,
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall times and CPU times (of the whole process) of ``run(make())`` per contender and
    repeat; only ``run`` is timed.

    Rounds go through every contender in turn so that a burst of load from elsewhere on the
    machine lands on all of them rather than on one.
    """
    times: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(warmup + repeats):
        for name, (make, run) in contenders.items():
            state = make()
            start, start_cpu = time.perf_counter(), time.process_time()
            run(state)
            elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
            if round_ >= warmup:
                times[name].append(elapsed)
                cpu[name].append(elapsed_cpu)
    return times, cpu


def spread(times: dict[str, list[float]], cpu: dict[str, list[float]], ours: str = "ours") -> str:
    """Ours' range over the repeats, the ratios of the fastest repeats and of the median CPU
    times (less sensitive to other processes taking the CPU away): how noisy a row is."""
    best = {name: min(ts) for name, ts in times.items()}
    cpu_median = {name: statistics.median(ts) for name, ts in cpu.items()}
    mine = times[ours]
    others = [name for name in best if not name.startswith("ours")]
    fastest = ", ".join(f"{best[name] / best[ours]:.2f}x vs {name}" for name in others)
    by_cpu = ", ".join(f"{cpu_median[name] / cpu_median[ours]:.2f}x vs {name}" for name in others)
    return (
        f"{ours}' repeats took {min(mine):.3g}-{max(mine):.3g} s; fastest repeats compared: "
        f"{fastest}; median CPU times compared: {by_cpu}"
    )


def sklearn_mlp(hidden: tuple[int, ...], activation: str, solver: str, **kwargs) -> MLPClassifier:
    """An MLPClassifier that runs exactly ``max_iter`` epochs: no tolerance stop, no L2."""
    max_iter = kwargs.pop("max_iter")
    return MLPClassifier(
        hidden_layer_sizes=hidden,
        activation=activation,
        solver=solver,
        alpha=0.0,
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=max_iter + 1,
        early_stopping=False,
        random_state=0,
        **kwargs,
    )


def fit_sklearn(model: MLPClassifier, X: np.ndarray, y: np.ndarray) -> MLPClassifier:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert model.n_iter_ == model.max_iter, "sklearn stopped before the set number of epochs"
    return model


# ---- 1. Iris, the article preset ----


def bench_iris(epochs: int, repeats: int) -> Row:
    """Seconds per epoch of the article's per-sample SGD on the article's Iris split."""
    split = nn.data.split(nn.data.load_dataset("iris"), seed=0, **ARTICLE["split"])
    X, y, Xv, yv = split.X_train, split.y_train, split.X_val, split.y_val
    k = int(y.max()) + 1
    Y1, Yv1 = np.eye(k)[y], np.eye(k)[yv]
    training = {**ARTICLE["training"], "epochs": epochs}
    nodes = ARTICLE["network"]["layers"]

    def make_ours():
        return nn.Network.from_config(ARTICLE["network"])

    def run_ours(net):
        net.fit(X, y, validation_data=(Xv, yv), **training)

    def make_article():
        np.random.seed(0)

    def run_article(_):
        article_reference.NeuralNetwork(
            X, Y1, Xv, Yv1, epochs=epochs, nodes=nodes, lr=training["learning_rate"], verbose=False
        )

    def make_sklearn():
        return sklearn_mlp(
            tuple(nodes[1:-1]),
            "logistic",
            "sgd",
            batch_size=1,
            learning_rate_init=training["learning_rate"],
            learning_rate="constant",
            momentum=0.0,
            nesterovs_momentum=False,
            shuffle=False,
            max_iter=epochs,
        )

    def run_sklearn(model):
        fit_sklearn(model, X, y)

    t, cpu = time_interleaved(
        {
            "ours": (make_ours, run_ours),
            "article": (make_article, run_article),
            "sklearn": (make_sklearn, run_sklearn),
        },
        repeats,
    )
    per_epoch = {name: statistics.median(ts) / epochs for name, ts in t.items()}
    row = Row(
        workload=f"Iris, article preset (4-5-10-3 sigmoid, SGD batch 1, {len(X)} rows)",
        metric="ms per epoch",
        ours=per_epoch["ours"] * 1e3,
        article=per_epoch["article"] * 1e3,
        sklearn=per_epoch["sklearn"] * 1e3,
        higher_is_better=False,
        target=">= 3x faster than both",
        met=None,
        note=f"{epochs} epochs; ours also scores train+validation every epoch; {spread(t, cpu)}",
    )
    row.met = row.ratio(row.article) >= 3 and row.ratio(row.sklearn) >= 3
    return row


# ---- 2 and 3: ReLU networks with Adam ----


def bench_relu_adam(
    name: str,
    X: np.ndarray,
    y: np.ndarray,
    hidden: list[int],
    batch_size: int,
    epochs: int,
    repeats: int,
    dtype: str,
) -> tuple[dict[str, float], dict[str, float], dict[str, str]]:
    """Samples per second, final training accuracy and noise notes of nn and sklearn.

    Ours runs twice: as ``fit`` does by default (training loss and accuracy measured after
    every epoch, a forward pass over up to 2048 training rows), and with
    ``train_metrics="batches"`` (taken from the batches' own forward passes, which is what
    sklearn does: its ``loss_curve_`` is the mean of the batch losses and it measures no
    training accuracy).
    """
    k = int(y.max()) + 1
    config = {
        "layers": [X.shape[1], *hidden, k],
        "activation": "relu",
        "output_activation": "softmax",
        "loss": "cross_entropy",
        "init": "he",
        "seed": 0,
        "dtype": dtype,
    }
    fit_args = {
        "epochs": epochs,
        "learning_rate": 1e-3,
        "batch_size": batch_size,
        "optimizer": "adam",
        "shuffle": True,
    }
    last: dict[str, object] = {}

    def make_ours():
        return nn.Network.from_config(config)

    def run_ours(net):
        net.fit(X, y, **fit_args)
        last["ours"] = net

    def run_ours_batches(net):
        net.fit(X, y, train_metrics="batches", **fit_args)
        last["ours_batches"] = net

    def make_sklearn():
        return sklearn_mlp(
            tuple(hidden),
            "relu",
            "adam",
            batch_size=batch_size,
            learning_rate_init=1e-3,
            shuffle=True,
            max_iter=epochs,
        )

    def run_sklearn(model):
        last["sklearn"] = fit_sklearn(model, X, y)

    t, cpu = time_interleaved(
        {
            "ours": (make_ours, run_ours),
            "ours_batches": (make_ours, run_ours_batches),
            "sklearn": (make_sklearn, run_sklearn),
        },
        repeats,
    )
    rate = {who: len(X) * epochs / statistics.median(ts) for who, ts in t.items()}
    accuracy = {who: float(np.mean(model.predict(X) == y)) for who, model in last.items()}
    noise = {who: spread(t, cpu, who) for who in ("ours", "ours_batches")}
    return rate, accuracy, noise


BATCH_METRICS_NOTE = (
    'ours with train_metrics="batches": the training loss and accuracy of each epoch come from '
    "the batches' own forward passes, as sklearn takes its loss_curve_ (no extra pass)"
)


def bench_digits(epochs: int, repeats: int) -> list[Row]:
    """digits, 64-128-64-10 ReLU, Adam, batch 32, float64 (sklearn's dtype for float64 input)."""
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    rate, acc, noise = bench_relu_adam("digits", X, y, [128, 64], 32, epochs, repeats, "float64")
    rows = []
    for who, workload in (
        ("ours", "digits (1797 x 64), 64-128-64-10 ReLU, Adam batch 32, float64"),
        ("ours_batches", 'digits, same run, ours with train_metrics="batches"'),
    ):
        row = Row(
            workload=workload,
            metric="samples per second",
            ours=rate[who],
            article=None,
            sklearn=rate["sklearn"],
            higher_is_better=True,
            target=">= 2x sklearn",
            met=None,
            note=(
                f"{epochs} epochs, shuffled; train accuracy ours {acc[who]:.3f}, "
                f"sklearn {acc['sklearn']:.3f}; {noise[who]}"
            ),
        )
        row.met = row.ratio(row.sklearn) >= 2
        rows.append(row)
    return rows


def bench_regression(epochs: int, repeats: int) -> Row:
    """diabetes, 10-64-32-1 ReLU, linear output, squared error, Adam batch 16, float64."""
    split = nn.data.split(nn.data.load_dataset("diabetes"), seed=0, standardize=True)
    X, y = split.X_train, split.y_train
    z = (y - y.mean()) / y.std()  # sklearn is given the standardized target ours trains on
    hidden = [64, 32]
    config = {
        "layers": [X.shape[1], *hidden, 1],
        "task": "regression",
        "activation": "relu",
        "output_activation": "linear",
        "loss": "squared_error",
        "init": "he",
        "seed": 0,
    }
    fit_args = {
        "epochs": epochs,
        "learning_rate": 1e-3,
        "batch_size": 16,
        "optimizer": "adam",
        "shuffle": True,
    }
    last: dict[str, float] = {}

    def make_ours():
        return nn.Network.from_config(config)

    def run_ours(net):
        net.fit(X, y, train_metrics="batches", **fit_args)
        last["ours"] = net.evaluate(split.X_test, split.y_test)["r2"]

    def make_sklearn():
        return MLPRegressor(
            hidden_layer_sizes=tuple(hidden),
            activation="relu",
            solver="adam",
            alpha=0.0,
            batch_size=16,
            learning_rate_init=1e-3,
            shuffle=True,
            max_iter=epochs,
            tol=0.0,
            n_iter_no_change=epochs + 1,
            early_stopping=False,
            random_state=0,
        )

    def run_sklearn(model):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, z)
        predicted = model.predict(split.X_test) * y.std() + y.mean()
        residual = np.sum((split.y_test - predicted) ** 2)
        last["sklearn"] = 1 - residual / np.sum((split.y_test - split.y_test.mean()) ** 2)

    t, cpu = time_interleaved(
        {"ours": (make_ours, run_ours), "sklearn": (make_sklearn, run_sklearn)}, repeats
    )
    rate = {who: len(X) * epochs / statistics.median(ts) for who, ts in t.items()}
    row = Row(
        workload="diabetes regression (337 training rows x 10), 10-64-32-1 ReLU, Adam batch 16",
        metric="samples per second",
        ours=rate["ours"],
        article=None,
        sklearn=rate["sklearn"],
        higher_is_better=True,
        target=">= 2x sklearn",
        met=None,
        note=(
            f'{epochs} epochs, shuffled; ours with train_metrics="batches" (as sklearn '
            f"measures its loss); test R^2 ours {last['ours']:.3f}, sklearn "
            f"{last['sklearn']:.3f}; {spread(t, cpu)}"
        ),
    )
    row.met = row.ratio(row.sklearn) >= 2
    return row


MNIST_SIZES = [784, 256, 128, 10]


def training_flops_per_sample(sizes: list[int]) -> int:
    """FLOPs of one training sample, counting matrix products only.

    Forward: 2 * n_in * n_out per layer. Backward: 2 * n_in * n_out for the weight gradient of
    every layer plus 2 * n_in * n_out for the input gradient of every layer but the first (the
    gradient with respect to the data is never needed). Bias terms, activations, the loss and
    the optimizer update are not counted (they are O(n_out) or O(params), not O(batch * params)).
    """
    pairs = list(itertools.pairwise(sizes))
    forward = sum(2 * a * b for a, b in pairs)
    backward = forward + sum(2 * a * b for a, b in pairs[1:])
    return forward + backward


def matmul_gflops(m: int, k: int, n: int, repeats: int, min_seconds: float = 0.05) -> float:
    """Best GFLOP/s of ``np.matmul`` of float32 (m, k) @ (k, n) over ``repeats`` timings."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((m, k), dtype=np.float32)
    B = rng.standard_normal((k, n), dtype=np.float32)
    C = np.empty((m, n), dtype=np.float32)
    np.matmul(A, B, out=C)
    calls = 1
    start = time.perf_counter()
    np.matmul(A, B, out=C)
    one = time.perf_counter() - start
    calls = max(1, int(min_seconds / max(one, 1e-9)))
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            np.matmul(A, B, out=C)
        best = min(best, (time.perf_counter() - start) / calls)
    return 2.0 * m * k * n / best / 1e9


def matmul_bound_gflops(sizes: list[int], batch: int, repeats: int) -> float:
    """GFLOP/s of only the matrix products of one training step, nothing else.

    The products of ``training_flops_per_sample`` for one batch, on preallocated float32
    arrays (forward, weight gradients, input gradients but the first), best of ``repeats``:
    the ceiling for any NumPy implementation of this workload on this machine.
    """
    rng = np.random.default_rng(0)
    pairs = list(itertools.pairwise(sizes))
    A = [rng.standard_normal((batch, a), dtype=np.float32) for a, _ in pairs]
    W = [rng.standard_normal((a, b), dtype=np.float32) for a, b in pairs]
    G = [rng.standard_normal((batch, b), dtype=np.float32) for _, b in pairs]
    Z = [np.empty((batch, b), dtype=np.float32) for _, b in pairs]
    dW = [np.empty_like(w) for w in W]
    dX = [np.empty_like(a) for a in A]

    def step():
        for i in range(len(pairs)):
            np.matmul(A[i], W[i], out=Z[i])
        for i in reversed(range(len(pairs))):
            np.matmul(A[i].T, G[i], out=dW[i])
            if i:
                np.matmul(G[i], W[i].T, out=dX[i])

    step()
    calls = 50
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            step()
        best = min(best, (time.perf_counter() - start) / calls)
    return batch * training_flops_per_sample(sizes) / best / 1e9


def bench_mnist(n: int, epochs: int, repeats: int) -> list[Row]:
    """MNIST-sized synthetic float32 data: throughput against sklearn and share of matmul peak."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, MNIST_SIZES[0]), dtype=np.float32)
    teacher = rng.standard_normal((MNIST_SIZES[0], MNIST_SIZES[-1]), dtype=np.float32)
    y = np.argmax(X @ teacher, axis=1)
    peak_before = matmul_gflops(2048, 2048, 2048, repeats=5)
    rate, acc, noise = bench_relu_adam(
        "mnist", X, y, MNIST_SIZES[1:-1], 128, epochs, repeats, "float32"
    )
    peak_after = matmul_gflops(2048, 2048, 2048, repeats=5)
    peak = max(peak_before, peak_after)
    bound = matmul_bound_gflops(MNIST_SIZES, 128, repeats=5)
    flops = training_flops_per_sample(MNIST_SIZES)
    sklearn_gflops = rate["sklearn"] * flops / 1e9
    rows = []
    for who, workload in (
        (
            "ours",
            f"MNIST-sized synthetic ({n} x 784), 784-256-128-10 ReLU, Adam batch 128, float32",
        ),
        ("ours_batches", 'MNIST-sized, same run, ours with train_metrics="batches"'),
    ):
        throughput = Row(
            workload=workload,
            metric="samples per second",
            ours=rate[who],
            article=None,
            sklearn=rate["sklearn"],
            higher_is_better=True,
            target=">= 1.5x sklearn",
            met=None,
            note=(
                f"{epochs} epochs, shuffled; sklearn given float32 X; train accuracy ours "
                f"{acc[who]:.3f}, sklearn {acc['sklearn']:.3f}; {noise[who]}"
            ),
        )
        throughput.met = throughput.ratio(throughput.sklearn) >= 1.5
        rows.append(throughput)
    for who, workload in (
        ("ours", "MNIST-sized synthetic, same run"),
        ("ours_batches", 'MNIST-sized, same run, train_metrics="batches"'),
    ):
        achieved = rate[who] * flops / 1e9
        rows.append(
            Row(
                workload=workload,
                metric=f"GFLOP/s (peak {peak:.0f} with {blas_thread_count()} BLAS threads)",
                ours=achieved,
                article=None,
                sklearn=sklearn_gflops,
                higher_is_better=True,
                target=">= 55% of peak",
                met=achieved / peak >= 0.55,
                result=f"{achieved / peak:.0%} of peak",
                note=(
                    f"FLOPs counted: {flops / 1e6:.3f} MFLOP per training sample (matrix "
                    "products only: forward 2*n_in*n_out per layer; backward 2*n_in*n_out for "
                    "every weight gradient and for every input gradient except the first "
                    "layer's; biases, activations, loss, optimizer and the per-epoch metrics "
                    "pass not counted). Peak: best of 5 np.matmul 2048x2048x2048 float32 = "
                    f"{peak:.1f} GFLOP/s (before the workload {peak_before:.1f}, after "
                    f"{peak_after:.1f}). The matrix products of one batch-128 training step "
                    f"alone, on preallocated arrays, reach {bound:.1f} GFLOP/s "
                    f"({bound / peak:.0%} of peak): the ceiling at this batch size; ours "
                    f"reaches {achieved / bound:.0%} of that ceiling, sklearn "
                    f"{sklearn_gflops / bound:.0%}."
                ),
            )
        )
    return rows


# ---- output ----


def fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def table(rows: list[Row], markdown: bool) -> str:
    """The results as a markdown table or aligned plain text."""
    header = [
        "workload",
        "metric",
        "nn (ours)",
        "article code",
        "sklearn",
        "ours vs article",
        "ours vs sklearn",
        "target",
        "met",
    ]
    body = []
    for r in rows:
        ratio_sk = r.ratio(r.sklearn)
        if r.metric.startswith("GFLOP/s"):
            ratio_sk = None
        body.append(
            [
                r.workload,
                r.metric,
                fmt(r.ours),
                fmt(r.article),
                fmt(r.sklearn),
                fmt_ratio(r.ratio(r.article)),
                fmt_ratio(ratio_sk),
                r.target,
                ("yes" if r.met else "NO") + (f" ({r.result})" if r.result else ""),
            ]
        )
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines)
    widths = [max(len(c) for c in col) for col in zip(header, *body, strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) for cells in body]
    return "\n".join(lines)


def report(rows: list[Row], info: dict[str, str], markdown: bool) -> str:
    """Machine description, the table, and notes per row."""
    bullet = "- " if markdown else "  "
    out = ["Machine:" if not markdown else "**Machine**", ""]
    out += [f"{bullet}{key}: {value}" for key, value in info.items()]
    out += ["", table(rows, markdown), "", "Notes:" if not markdown else "**Notes**", ""]
    out += [f"{bullet}{r.workload.split(',')[0]} / {r.metric}: {r.note}" for r in rows]
    out += [
        f"{bullet}Ratios are how many times better ours is (time: theirs / ours; rate: "
        "ours / theirs). Medians of interleaved repeats after one warm-up round.",
        f"{bullet}sklearn's MLPClassifier always uses a softmax output with log-loss for "
        "several classes; the article preset's sigmoid output with squared error has no "
        "sklearn equivalent, so that row compares the same architecture, solver, batch size "
        "and epochs with sklearn's own output layer.",
    ]
    return "\n".join(out)


def blas_threads(n: int | None):
    """A context that limits BLAS to ``n`` threads for every contender (no-op for None)."""
    if n is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n, user_api="blas")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    parser.add_argument("--markdown", action="store_true", help="print markdown")
    parser.add_argument("--repeats", type=int, default=None, help="timed rounds per workload")
    parser.add_argument(
        "--threads", type=int, default=None, help="limit BLAS threads (all contenders alike)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        repeats = args.repeats or 1
        iris_epochs, digits_epochs, mnist_n, mnist_epochs, reg_epochs = 5, 2, 2000, 1, 2
    else:
        repeats = args.repeats or 7
        iris_epochs, digits_epochs, mnist_n, mnist_epochs, reg_epochs = 100, 20, 10_000, 5, 50
    load_start, busy_start = load(), load_1min()
    started = time.perf_counter()
    with blas_threads(args.threads), contextlib.redirect_stdout(io.StringIO()):
        info = machine_info()
        rows = [bench_iris(iris_epochs, repeats), *bench_digits(digits_epochs, repeats)]
        rows += bench_mnist(mnist_n, mnist_epochs, repeats)
        rows.append(bench_regression(reg_epochs, repeats))
    info["load average (1/5/15 min)"] = f"{load_start} at start, {load()} at end"
    info["run"] = (
        f"{'--quick' if args.quick else 'full'}, {repeats} timed repeats per contender, "
        f"BLAS threads {'as installed' if args.threads is None else f'limited to {args.threads}'}"
        f", {time.perf_counter() - started:.0f} s in total"
    )
    print(report(rows, info, args.markdown))
    busy = max(busy_start, load_1min())
    if busy > 0.5 * (os.cpu_count() or 1):
        print(
            f"\nWARNING: load average {busy:.1f} on {os.cpu_count()} cores: other processes "
            "compete for the CPU. Multi-threaded BLAS slows down badly when its threads are "
            "descheduled; rerun on a quiet machine (or compare with --threads 1)."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
