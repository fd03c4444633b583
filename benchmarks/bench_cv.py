"""Wall-clock time of 5-fold cross-validation on digits with 1 worker against 2 workers.

The workload: scikit-learn's digits (1,797 x 64, 10 classes), standardized per fold,
64-128-64-10 ReLU with a softmax output and cross-entropy, Adam (lr 0.001), batch 32, shuffled,
``--epochs`` epochs (30) per fold: ``nn.crossval.cross_validate(..., k=5)``.

Three contenders, timed in interleaved rounds (their order rotates every round, so load from
other processes hits all of them alike) after a warm-up that also starts joblib's worker pool:

- ``1 worker``: ``n_jobs=1``, the folds one after another in this process, BLAS as installed;
- ``1 worker, 1 BLAS thread``: the same with BLAS limited to one thread (threadpoolctl), as the
  app runs it (dashboard/common/threads.py);
- ``2 workers``: ``n_jobs=2``, joblib's loky processes (which limit each worker's BLAS to
  ``cpu_count // n_jobs`` threads).

Five folds on two workers take three rounds of folds, so the best ratio is 5/3 = 1.67, less the
cost of sending the data to the workers and collecting the results. Medians are printed, with
every round's times and the load average, and the results are checked to be identical.

Usage: ``python benchmarks/bench_cv.py [--rounds 7] [--epochs 30] [--quick] [--markdown]``
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from bench_engine import blas_info, cpu_model  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from nn import crossval  # noqa: E402
from nn.data import load_dataset  # noqa: E402

NETWORK = {
    "layers": [64, 128, 64, 10],
    "activation": "relu",
    "output_activation": "softmax",
    "loss": "cross_entropy",
    "init": "he",
    "seed": 0,
}
TRAINING = {
    "learning_rate": 0.001,
    "batch_size": 32,
    "optimizer": "adam",
    "shuffle": True,
}
CONTENDERS = ("1 worker", "1 worker, 1 BLAS thread", "2 workers")


def run(name: str, dataset, epochs: int) -> tuple[float, crossval.CVResult]:
    """Seconds of one cross-validation by contender ``name``, and its result."""
    training = {**TRAINING, "epochs": epochs}
    start = time.perf_counter()
    if name == "2 workers":
        result = crossval.cross_validate(dataset, NETWORK, training, k=5, n_jobs=2, max_jobs=2)
    elif name == "1 worker, 1 BLAS thread":
        with threadpool_limits(1, user_api="blas"):
            result = crossval.cross_validate(dataset, NETWORK, training, k=5)
    else:
        result = crossval.cross_validate(dataset, NETWORK, training, k=5)
    return time.perf_counter() - start, result


def same(a: crossval.CVResult, b: crossval.CVResult) -> bool:
    """The same folds, metrics and epochs (the histories' seconds differ, as they should)."""
    return [(f.fold, f.metrics, f.epochs) for f in a.folds] == [
        (f.fold, f.metrics, f.epochs) for f in b.folds
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (7)")
    parser.add_argument("--epochs", type=int, default=30, help="epochs per fold (30)")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 3 epochs: a smoke test")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table too")
    args = parser.parse_args()
    rounds, epochs = (2, 3) if args.quick else (args.rounds, args.epochs)
    dataset = load_dataset("digits")
    load_before = os.getloadavg()
    reference = None
    for name in CONTENDERS:  # warm-up: imports, the loky pool, the first allocations
        _, result = run(name, dataset, 1)
    times: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    loads = []
    for r in range(rounds):
        order = CONTENDERS[r % 3 :] + CONTENDERS[: r % 3]
        for name in order:
            seconds, result = run(name, dataset, epochs)
            times[name].append(seconds)
            if reference is None:
                reference = result
            elif not same(result, reference):
                raise SystemExit(f"{name} gave another result than the first run")
        loads.append(os.getloadavg()[0])
        line = ", ".join(f"{n} {times[n][-1]:.2f} s" for n in CONTENDERS)
        print(f"round {r + 1}/{rounds}: {line} (load {loads[-1]:.2f})", flush=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    accuracy = reference.summary()["accuracy"]
    print()
    print(
        f"digits, 5 folds, {epochs} epochs per fold, {NETWORK['layers']}: accuracy "
        f"{accuracy['mean']:.4f} ± {accuracy['std']:.4f} (identical for every contender)"
    )
    for name in CONTENDERS:
        print(f"{name:>24}: median {median[name]:.2f} s over {rounds} rounds")
    paired = {
        base: statistics.median(
            b / two for b, two in zip(times[base], times["2 workers"], strict=True)
        )
        for base in CONTENDERS
    }
    for base in CONTENDERS[:2]:
        print(
            f"speed-up of 2 workers over {base}: {median[base] / median['2 workers']:.2f}x "
            f"(ratio of medians), {paired[base]:.2f}x (median of the rounds' ratios)"
        )
    print(f"load average: {load_before[0]:.2f} before, {min(loads):.2f}-{max(loads):.2f} during")
    if args.markdown:
        print()
        print(f"- Date: {datetime.date.today().isoformat()}")
        print(f"- CPU: {cpu_model()}; {os.cpu_count()} logical cores")
        print(
            f"- Python {platform.python_version()}, NumPy {np.__version__} ({blas_info()}), "
            f"scikit-learn {sklearn.__version__}"
        )
        print(f"- Command: `python benchmarks/bench_cv.py --rounds {rounds} --epochs {epochs}`")
        print(
            f"- Load average: {load_before[0]:.2f} before, {min(loads):.2f}-{max(loads):.2f} during"
        )
        print()
        print("| contender | median s | rounds (s) | 2 workers: ratio of medians | median ratio |")
        print("|---|---:|---|---:|---:|")
        for name in CONTENDERS:
            each = ", ".join(f"{t:.2f}" for t in times[name])
            ratio = median[name] / median["2 workers"]
            print(f"| {name} | {median[name]:.2f} | {each} | {ratio:.2f}x | {paired[name]:.2f}x |")


if __name__ == "__main__":
    main()
