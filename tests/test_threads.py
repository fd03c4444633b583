"""One BLAS/OpenMP thread per server process (dashboard/common/threads.py): the default, the
NN_LAB_BLAS_THREADS override, bad values, repeated calls, libraries loaded later, page setup."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import threadpoolctl
from threadpoolctl import threadpool_info, threadpool_limits

from dashboard.common import threads
from tests.conftest import ROOT


def release_openblas() -> None:
    """Let any thread set OpenBLAS's limit again: threadpoolctl (3.7 and later) lets only the
    first thread that set it do so while that thread lives, and the tests set it from the main
    thread, the pages from Streamlit's script threads."""
    controller = getattr(threadpoolctl, "OpenBLASController", None)
    if hasattr(controller, "clear_controlling_thread"):
        controller.clear_controlling_thread(force=True)


def blas_threads() -> list[int]:
    """The thread count of every BLAS library loaded in this process."""
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


@pytest.fixture
def fresh(monkeypatch):
    """A process that has not applied the limit yet, with BLAS at two threads where it can run
    two (else a limit to one could not be seen); the libraries, the variables and the module's
    memory are put back afterwards."""
    original = threadpool_info()
    saved = {name: os.environ.get(name) for name in (threads.ENV, *threads.LIBRARY_ENV)}
    monkeypatch.setattr(threads, "_applied", None)
    os.environ.pop(threads.ENV, None)
    np.ones((4, 4)) @ np.ones((4, 4))  # NumPy's BLAS is loaded (it is, by importing numpy)
    threadpool_limits(limits=2, user_api="blas")
    release_openblas()
    if not blas_threads() or min(blas_threads()) < 2:
        pytest.skip("this machine's BLAS cannot run 2 threads, so a limit to 1 cannot be seen")
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    release_openblas()
    threadpool_limits(limits=original)
    release_openblas()


def test_the_default_is_one_thread_for_every_blas_library(fresh):
    assert threads.limit_blas_threads() == 1
    assert blas_threads() and set(blas_threads()) == {1}
    # libraries that load later read these when they load
    assert all(os.environ[name] == "1" for name in threads.LIBRARY_ENV)


def test_the_environment_variable_chooses_another_number(fresh):
    os.environ[threads.ENV] = " 2 "
    threadpool_limits(limits=1, user_api="blas")
    assert threads.limit_blas_threads() == 2
    assert set(blas_threads()) == {2}
    assert os.environ["OPENBLAS_NUM_THREADS"] == "2"


def test_auto_leaves_the_libraries_alone(fresh):
    os.environ[threads.ENV] = "AUTO"
    os.environ.pop("OMP_NUM_THREADS", None)
    assert threads.limit_blas_threads() is None
    assert set(blas_threads()) == {2}
    assert "OMP_NUM_THREADS" not in os.environ


@pytest.mark.parametrize("value", ["two", "0", "-1", "1.5", "1e3"])
def test_a_bad_value_is_logged_and_the_default_used(fresh, caplog, value):
    os.environ[threads.ENV] = value
    with caplog.at_level(logging.WARNING, logger=threads.__name__):
        assert threads.limit_blas_threads() == 1
    assert set(blas_threads()) == {1}
    [record] = [r for r in caplog.records if r.name == threads.__name__]
    assert record.levelno == logging.WARNING
    assert threads.ENV in record.getMessage() and repr(value) in record.getMessage()


def test_an_empty_value_is_the_default_without_a_warning(fresh, caplog):
    os.environ[threads.ENV] = ""
    with caplog.at_level(logging.WARNING, logger=threads.__name__):
        assert threads.limit_blas_threads() == 1
    assert not caplog.records


def test_calling_again_does_nothing_more(fresh, monkeypatch):
    calls = []
    monkeypatch.setattr(threads, "threadpool_limits", lambda **kw: calls.append(kw))
    assert [threads.limit_blas_threads() for _ in range(5)] == [1] * 5
    assert calls == [{"limits": 1}]
    # a bad value warns once, not on every rerun
    os.environ[threads.ENV] = "many"
    assert [threads.limit_blas_threads() for _ in range(3)] == [1] * 3
    assert len(calls) == 2


def test_a_limit_that_does_not_take_is_named_in_a_warning(fresh, caplog):
    """threadpoolctl ignores a thread other than the one that controls OpenBLAS's limit."""
    if not hasattr(getattr(threadpoolctl, "OpenBLASController", None), "clear_controlling_thread"):
        pytest.skip("this threadpoolctl lets every thread set OpenBLAS's limit")
    if not any(p["internal_api"] == "openblas" for p in threadpool_info()):
        pytest.skip("NumPy's BLAS is not OpenBLAS here")
    threadpool_limits(limits=2, user_api="blas")  # the main thread takes control
    worker = threading.Thread(target=threads.limit_blas_threads)
    with caplog.at_level(logging.WARNING, logger=threads.__name__):
        worker.start()
        worker.join()
    assert set(blas_threads()) == {2}
    [record] = [r for r in caplog.records if r.name == threads.__name__]
    assert "openblas" in record.getMessage() and "(2)" in record.getMessage()


def test_libraries_loaded_after_the_call_get_one_thread_too():
    """SciPy's OpenBLAS and scikit-learn's OpenMP load only when the Compare page first fits a
    baseline, after page setup: a fresh interpreter shows what they start with."""
    code = (
        "import json, numpy\n"
        "from dashboard.common import threads\n"
        "threads.limit_blas_threads()\n"
        "import sklearn.neural_network, sklearn.linear_model\n"
        "from threadpoolctl import threadpool_info\n"
        "print(json.dumps([[p['filepath'], p['num_threads']] for p in threadpool_info()]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in (threads.ENV, *threads.LIBRARY_ENV)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    pools = json.loads(done.stdout)
    assert len(pools) >= 2, pools  # NumPy's BLAS and at least one library loaded afterwards
    assert {n for _, n in pools} == {1}, pools


def test_opening_a_page_limits_blas(fresh, app):
    app()  # the Home page, through page_ui.setup like every page
    assert set(blas_threads()) == {1}
