"""One BLAS/OpenMP thread per server process, unless ``NN_LAB_BLAS_THREADS`` says otherwise.

Every visitor of a server process trains in the same Python interpreter, and the hosted demo runs
one process per core (replicas behind a proxy). A multi-threaded BLAS in each of them would
oversubscribe the cores, and OpenBLAS's threads collapse when they have to wait for a shared core
(benchmarks/RESULTS.md, "Two BLAS threads on two shared cores"; benchmarks/LOAD.md, "One BLAS
thread per server process"); the engine's matrices are small enough that a second thread buys
little even alone. So every page's setup calls
:func:`limit_blas_threads`, which on its first call in a process

- limits the BLAS and OpenMP libraries already loaded (NumPy's OpenBLAS at that point) with
  ``threadpoolctl.threadpool_limits`` (threadpoolctl comes with scikit-learn), and
- sets ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and their kin in ``os.environ`` to the same
  number, for the libraries loaded later (SciPy's OpenBLAS and scikit-learn's OpenMP runtime
  load when the Compare page first fits a scikit-learn baseline; they read these variables as
  they load).

Later calls return at once (a string comparison), so it is safe on every rerun. The limit is
process-wide for OpenBLAS with its own threads (pip's NumPy and SciPy wheels); threadpoolctl lets
only one Python thread set it (the first that tries, while it lives), so a library that still
reports another number after the first call is named in a warning rather than passed over.

``NN_LAB_BLAS_THREADS`` in the server's environment chooses the number: a positive integer
(default 1), or ``auto`` to leave the libraries alone (their own defaults and variables such as
``OMP_NUM_THREADS`` apply). Any other value is logged as a warning and the default is used.
"""

from __future__ import annotations

import logging
import os
import threading

from threadpoolctl import threadpool_info, threadpool_limits

ENV = "NN_LAB_BLAS_THREADS"
DEFAULT = 1
AUTO = "auto"
# What the BLAS and OpenMP libraries read when they load (OpenBLAS, OpenMP runtimes, MKL, BLIS,
# Apple's Accelerate).
LIBRARY_ENV = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)

log = logging.getLogger(__name__)
_lock = threading.Lock()
# (the raw value of ENV the process was set up for, the limit applied or None for auto)
_applied: tuple[str | None, int | None] | None = None


def parse(value: str | None) -> int | None:
    """The thread limit ``value`` asks for: a positive integer, or None for ``auto``.

    An unset or empty value means the default; anything else that is not a positive integer is
    logged as a warning and means the default too.
    """
    text = (value or "").strip().lower()
    if not text:
        return DEFAULT
    if text == AUTO:
        return None
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        log.warning(
            "%s=%r is neither a positive whole number nor %r; using %d BLAS thread(s).",
            ENV,
            value,
            AUTO,
            DEFAULT,
        )
        return DEFAULT
    return number


def limit_blas_threads() -> int | None:
    """Apply ``NN_LAB_BLAS_THREADS`` (default 1) to BLAS and OpenMP once per process.

    Returns the limit in force, or None when the libraries are left alone (``auto``).
    """
    global _applied
    raw = os.environ.get(ENV)
    done = _applied
    if done is not None and done[0] == raw:  # every rerun after the first: no lock, no call
        return done[1]
    with _lock:
        if _applied is None or _applied[0] != raw:
            limit = parse(raw)
            if limit is not None:
                for name in LIBRARY_ENV:
                    os.environ[name] = str(limit)
                threadpool_limits(limits=limit)  # every BLAS and OpenMP library loaded so far
                _check(limit)
            _applied = (raw, limit)
        return _applied[1]


def _check(limit: int) -> None:
    """Log what the loaded libraries use now: info when all follow ``limit``, else a warning."""
    pools = [p for p in threadpool_info() if p.get("user_api") in ("blas", "openmp")]
    others = [
        f"{p.get('filepath')} ({p.get('num_threads')})"
        for p in pools
        if p.get("num_threads") not in (limit, None)
    ]
    if others:
        log.warning(
            "%s=%d: these libraries still use another number of threads: %s.",
            ENV,
            limit,
            ", ".join(others),
        )
    else:
        log.info("BLAS and OpenMP limited to %d thread(s) in this process (%s).", limit, ENV)
