"""Memory: what a training tab leaves in the server after it closes, and where it is held.

Starts the app in a server process that answers SIGUSR1 with a report (resident memory, the
sessions Streamlit still holds, the networks and datasets alive and the bytes of their arrays,
glibc's heap: in use and free but kept), then plays visitors in Chromium: each opens the Train
page with the largest run a link can ask for (5,000 rows, six hidden layers of 180 nodes,
batch 1), trains for a while and closes the tab. The server is probed after each tab, again
after Streamlit's ``server.disconnectedSessionTTL`` (when a closed session may be dropped), and
once more after ``malloc_trim(0)`` (what glibc gives back when asked).

    python benchmarks/memory_sessions.py [--tabs 4] [--train-s 15] [--ttl 20] [--output FILE]

``--ttl`` sets the server's ``server.disconnectedSessionTTL`` (Streamlit's default is 120 s)
to keep the run short; the result goes into benchmarks/LOAD.md between markers.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_OUTPUT = ROOT / "benchmarks" / "LOAD.md"
REPORT_ENV = "NN_LAB_MEMORY_REPORT"  # where the server writes its report
HEAVY = (
    "/Train?data=spiral&samples=5000&hidden=180,180,180,180,180,180&act=relu,relu,relu,relu,"
    "relu,relu&batch=1&epochs=2000&pace=fastest"
)


# ---- inside the server ----


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def heap_mb() -> dict:
    """glibc's view of the heap (main arena only): in use and free-but-kept, in MB."""
    libc = _libc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        return {}
    libc.mallinfo2.restype = _Mallinfo2
    info = libc.mallinfo2()
    return {
        "heap_in_use": info.uordblks / 2**20,
        "heap_free_kept": info.fordblks / 2**20,
        "mmapped": info.hblkhd / 2**20,
    }


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1]) / 1024
    return 0.0


def _arrays(obj, seen: set[int], depth: int = 0):
    """The NumPy arrays reachable from ``obj`` through attributes and containers (bases only)."""
    import numpy as np

    if isinstance(obj, np.ndarray):
        base = obj
        while isinstance(base.base, np.ndarray):
            base = base.base
        if id(base) not in seen:
            seen.add(id(base))
            yield base
        return
    if id(obj) in seen or depth > 6:
        return
    seen.add(id(obj))
    if isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, (list, tuple, set)):
        children = list(obj)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        children = list(vars(obj).values())
    else:
        return
    for child in children:
        yield from _arrays(child, seen, depth + 1)


def _sessions() -> dict:
    """Sessions Streamlit holds: connected, and disconnected but kept for a reconnect."""
    try:
        from streamlit.runtime import Runtime

        manager = Runtime.instance()._session_mgr
        return {
            "connected": len(manager._active_session_info_by_id),
            "kept_after_disconnect": len(manager._session_storage._cache._data),
        }
    except Exception as exc:  # a debug probe: report what went wrong, never crash the server
        return {"error": repr(exc)}


def report(trim: bool = False) -> dict:
    """What the server holds now (after ``malloc_trim(0)`` when ``trim``)."""
    gc.collect()
    if trim and _libc() is not None:
        _libc().malloc_trim(0)
    kinds = {"Network": 0, "Trainer": 0, "Dataset": 0, "Split": 0}
    seen: set[int] = set()
    array_mb = {"Network": 0.0, "Dataset": 0.0, "Split": 0.0}
    workspaces_mb = 0.0
    for obj in gc.get_objects():
        name = type(obj).__name__
        if name in kinds and type(obj).__module__.startswith(("nn.", "dashboard.")):
            kinds[name] += 1
            if name in array_mb:
                array_mb[name] += sum(a.nbytes for a in _arrays(obj, seen)) / 2**20
            if name == "Network":
                ws_seen: set[int] = set()
                workspaces_mb += (
                    sum(a.nbytes for a in _arrays(getattr(obj, "_workspaces", {}), ws_seen)) / 2**20
                )
    top = []
    if tracemalloc.is_tracing():
        stats = tracemalloc.take_snapshot().statistics("lineno")
        top = [(str(s.traceback[0]), s.size / 2**20) for s in stats[:12]]
    return {
        "time": time.time(),
        "top": top,
        "rss": _status_mb("VmRSS"),
        "peak": _status_mb("VmHWM"),
        "threads": len(os.listdir("/proc/self/task")),
        "sessions": _sessions(),
        "alive": kinds,
        "arrays_mb": array_mb,
        "workspaces_mb": workspaces_mb,
        **heap_mb(),
    }


def serve(port: int) -> None:
    """Run the app in this process; SIGUSR1 writes ``report()``, SIGUSR2 trims first."""
    out = Path(os.environ[REPORT_ENV])

    def write(trim: bool) -> None:
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(report(trim)))
        tmp.replace(out)

    signal.signal(signal.SIGUSR1, lambda *_: write(False))
    signal.signal(signal.SIGUSR2, lambda *_: write(True))
    os.chdir(ROOT)
    from streamlit.web import cli

    from tests.e2e.ui import streamlit_args

    sys.argv = ["streamlit", *streamlit_args(port)]
    cli.main()


# ---- the driver ----


def probe(proc: subprocess.Popen, path: Path, trim: bool = False) -> dict:
    """Ask the server for a report and wait for it."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    os.kill(proc.pid, signal.SIGUSR2 if trim else signal.SIGUSR1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_mtime_ns != before:
            return json.loads(path.read_text())
        time.sleep(0.1)
    raise RuntimeError("the server wrote no memory report")


def row(label: str, r: dict) -> str:
    s = r["sessions"]
    alive = r["alive"]
    return (
        f"| {label} | {r['rss']:.0f} | {r.get('heap_in_use', float('nan')):.0f} "
        f"| {r.get('heap_free_kept', float('nan')):.0f} | {s.get('connected', '?')} "
        f"| {s.get('kept_after_disconnect', '?')} | {alive['Network']} "
        f"| {r['arrays_mb']['Network']:.1f} | {r['workspaces_mb']:.1f} "
        f"| {r['arrays_mb']['Split']:.1f} | {r['threads']} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tabs", type=int, default=4, help="visitors, one after the other")
    parser.add_argument("--train-s", type=float, default=15.0, help="seconds each one trains")
    parser.add_argument(
        "--ttl", type=int, default=20, help="server.disconnectedSessionTTL for this server (s)"
    )
    parser.add_argument("--path", default=HEAVY, help="the page and link each tab opens")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="trace Python allocations (slow); print the top"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0

    from playwright.sync_api import sync_playwright

    from tests.e2e.ui import (
        VIEWPORT,
        App,
        free_port,
        launch_chromium,
        stop_server,
        wait_healthy,
    )

    work = Path(tempfile.mkdtemp(prefix="memory_sessions_"))
    report_path, log_path = work / "report.json", work / "server.log"
    port = free_port()
    env = {
        **os.environ,
        REPORT_ENV: str(report_path),
        "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(args.ttl),
        "NN_LAB_MAX_TRAINING": "99",  # one tab at a time anyway
    }
    if args.tracemalloc:
        env["PYTHONTRACEMALLOC"] = "1"
    log = open(log_path, "wb")  # noqa: SIM115 - closed by stop_server
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proc.log_file = log  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    rows = []
    try:
        wait_healthy(proc, url, log_path, timeout=60)
        rows.append(("idle server", probe(proc, report_path)))
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                for i in range(args.tabs):
                    context = browser.new_context(viewport=VIEWPORT)
                    context.set_default_timeout(60_000)
                    app = App(context.new_page(), url).open(args.path)
                    app.button("Start").click()
                    app.page.wait_for_timeout(args.train_s * 1000)
                    epochs = app.epoch()[0]
                    rows.append(
                        (f"tab {i + 1} training ({epochs} epochs)", probe(proc, report_path))
                    )
                    context.close()
                    time.sleep(2)
                    rows.append((f"tab {i + 1} closed", probe(proc, report_path)))
                time.sleep(args.ttl + 5)
                rows.append((f"{args.ttl + 5} s later", probe(proc, report_path)))
                # Streamlit drops expired sessions only when it stores another one: a visitor
                # who comes and goes
                context = browser.new_context(viewport=VIEWPORT)
                App(context.new_page(), url).open("/")
                context.close()
                time.sleep(2)
                rows.append(("after one more visit", probe(proc, report_path)))
            finally:
                browser.close()
        rows.append(("after malloc_trim(0)", probe(proc, report_path, trim=True)))
    finally:
        stop_server(proc)

    header = [
        "| Moment | Server RSS (MB) | Heap in use (MB) | Heap free but kept (MB) "
        "| Sessions connected | Sessions kept after disconnect | Networks alive "
        "| Their arrays (MB) | of which workspaces (MB) | Split arrays (MB) | Threads |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    block = "\n".join(
        [
            "### Memory of closed training tabs",
            "",
            f"Measured {dt.datetime.now().isoformat(timespec='minutes')} with `python "
            f"benchmarks/memory_sessions.py --tabs {args.tabs} --train-s {args.train_s:g} "
            f"--ttl {args.ttl}`: each tab opens `{args.path}`, presses Start, trains "
            f"{args.train_s:g} s and closes.",
            "",
            *header,
            *(row(label, r) for label, r in rows),
        ]
    )
    print(block)
    for label, r in rows:
        if r.get("top"):
            print(f"\n{label}: top allocation sites (MB)", file=sys.stderr)
            for where, mb in r["top"]:
                print(f"  {mb:8.1f}  {where}", file=sys.stderr)
    if not args.no_write:
        from benchmarks.load_sessions import write_block

        write_block(args.output, "memory", block)
        print(f"written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
