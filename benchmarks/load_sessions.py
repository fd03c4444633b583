"""Load: N visitors at once (N = 1, 2, 4, 8), each training the article preset in Chromium.

One Streamlit server, one headless Chromium, N fresh browser contexts (N separate sessions).
For each N, every visitor presses **Reproduce the article** on the Home page, and we measure

- how long the article's 100 epochs take to finish at the app's default pace ("watch": the run is
  spread over ~40 redraws so the curves visibly grow), the slowest of the N visitors;
- the training throughput of each visitor at the "Fastest" pace with Epochs raised to 2000,
  read from the page's epoch counter over a fixed window (epochs per second, per session);
- the server's memory: resident now and its peak (VmHWM) so far, from /proc (or psutil).

Prints a markdown table and writes it to benchmarks/LOAD.md. Bounded in time: every wait has
a deadline (about 3 minutes in all on 2 cores). Needs Chromium at /usr/bin/chromium and the
pip package playwright, like the browser tests.

    python benchmarks/load_sessions.py [--sessions 1,2,4,8] [--window 8] [--output FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.ui import (  # noqa: E402
    CHROMIUM,
    INSTALL_HINT,
    VIEWPORT,
    App,
    launch_chromium,
    start_server,
    stop_server,
    wait_healthy,
)

DEFAULT_OUTPUT = ROOT / "benchmarks" / "LOAD.md"
TARGET = 2000  # epochs of the throughput run (the demo's limit)


def rate(samples: list[tuple[float, int]]) -> float:
    """Epochs per second from (time, epoch counter) readings, before the run hit its end."""
    moving = [(t, e) for t, e in samples if 0 < e < TARGET]
    if len(moving) < 2 or moving[-1][0] == moving[0][0]:
        return float("nan")
    (t0, e0), (t1, e1) = moving[0], moving[-1]
    return (e1 - e0) / (t1 - t0)


# ---- memory of the server process tree ----


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) in MB, summed over the process tree."""
    try:
        import psutil  # optional

        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        rss = sum(p.memory_info().rss for p in procs) / 2**20
        peak = 0.0
        for p in procs:
            status = Path(f"/proc/{p.pid}/status")
            if status.exists():
                peak += _status_kb(status, "VmHWM") / 1024
        return rss, peak or rss
    except ImportError:
        pass
    rss = peak = 0.0
    for p in _tree(pid):
        status = Path(f"/proc/{p}/status")
        try:
            rss += _status_kb(status, "VmRSS") / 1024
            peak += _status_kb(status, "VmHWM") / 1024
        except OSError:
            continue
    return rss, peak


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (from /proc/<pid>/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _status_kb(path: Path, field: str) -> float:
    for line in path.read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1])
    return 0.0


# ---- one round of N visitors ----


def run_round(
    browser, url: str, n: int, window: float, server_pid: int, deadline_s: float = 150
) -> dict:
    contexts, apps = [], []
    try:
        for _ in range(n):
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(60_000)
            contexts.append(context)
            apps.append(App(context.new_page(), url).open("/"))
        # everyone presses "Reproduce the article" (as close together as one driver can)
        started = time.monotonic()
        for app in apps:
            app.button("Reproduce the article").click()
        finish_times: list[float | None] = [None] * n
        deadline = started + deadline_s
        while None in finish_times and time.monotonic() < deadline:
            for i, app in enumerate(apps):
                if finish_times[i] is None and "Finished: 100 epochs" in app.main_text():
                    finish_times[i] = time.monotonic() - started
            apps[0].page.wait_for_timeout(200)
        # throughput: the same network, Fastest pace, 2000 epochs, over a fixed window
        for app in apps:
            app.settle()
            app.page.get_by_text("Fastest", exact=True).click()
            app.settle()
            app.number("Epochs", TARGET)
        for app in apps:
            app.button("Resume").click()
        time.sleep(1.0)  # let every session get going
        samples: list[list[tuple[float, int]]] = [[] for _ in apps]
        server = _tree(server_pid)
        client = [p for p in _tree(os.getpid()) if p not in server and p != os.getpid()]
        cpu0 = (cpu_seconds(server), cpu_seconds(client), time.monotonic())
        end = time.monotonic() + window
        while time.monotonic() < end:
            for i, app in enumerate(apps):
                with contextlib.suppress(Exception):  # the counter is redrawn as we read it
                    samples[i].append((time.monotonic(), app.epoch()[0]))
            time.sleep(0.25)
        rates = [rate(s) for s in samples]
        elapsed = time.monotonic() - cpu0[2]
        server_cpu = 100 * (cpu_seconds(server) - cpu0[0]) / elapsed
        browser_cpu = 100 * (cpu_seconds(client) - cpu0[1]) / elapsed
        errors = sum(app.page.locator("[data-testid='stException']").count() for app in apps)
        done = [t for t in finish_times if t is not None]
        return {
            "n": n,
            "article_s": max(done) if len(done) == n else None,
            "unfinished": n - len(done),
            "rates": rates,
            "server_cpu": server_cpu,
            "browser_cpu": browser_cpu,
            "errors": errors,
        }
    finally:
        for context in contexts:
            context.close()


def table(rows: list[dict]) -> str:
    lines = [
        "| Sessions | Article run, slowest (s) | Epochs/s per session, mean (min-max) "
        "| Epochs/s all sessions | Server CPU | Browser CPU | Server RSS after (MB) "
        "| Server peak RSS (MB) | Errors |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        article = (
            f"{r['article_s']:.1f}"
            if r["article_s"] is not None
            else (f"{r['unfinished']} unfinished")
        )
        rates = [x for x in r["rates"] if not math.isnan(x)] or [float("nan")]
        lines.append(
            f"| {r['n']} | {article} | {statistics.mean(rates):.0f} "
            f"({min(rates):.0f}-{max(rates):.0f}) | {sum(rates):.0f} "
            f"| {r['server_cpu']:.0f}% | {r['browser_cpu']:.0f}% | {r['rss']:.0f} "
            f"| {r['peak']:.0f} | {r['errors']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,2,4,8", help="comma-separated session counts")
    parser.add_argument("--window", type=float, default=8.0, help="seconds of throughput reading")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.sessions.split(",")]
    if not Path(CHROMIUM).exists():
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    log_path = Path(tempfile.mkdtemp(prefix="load_sessions_")) / "server.log"
    proc, url = start_server(log_path)
    rows = []
    began = time.monotonic()
    try:
        wait_healthy(proc, url, log_path, timeout=60)
        idle_rss, _ = memory_mb(proc.pid)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                for n in counts:
                    row = run_round(browser, url, n, args.window, proc.pid)
                    row["rss"], row["peak"] = memory_mb(proc.pid)
                    rows.append(row)
                    print(f"N={n}: done ({time.monotonic() - began:.0f} s)", file=sys.stderr)
            finally:
                browser.close()
        time.sleep(2)
        after_rss, _ = memory_mb(proc.pid)
    finally:
        stop_server(proc)

    result = table(rows)
    single = rows[0]["rates"] if rows and rows[0]["n"] == 1 else None
    notes = []
    if single:
        base = statistics.mean(single)
        for r in rows[1:]:
            notes.append(
                f"- {r['n']} sessions: each gets {statistics.mean(r['rates']) / base:.2f}x the "
                f"single-session rate; together {sum(r['rates']) / base:.2f}x."
            )
    text = "\n".join(
        [
            "# Load: concurrent sessions",
            "",
            f"Measured {dt.date.today().isoformat()} with `python benchmarks/load_sessions.py` on "
            f"{os.cpu_count()} CPU cores, Python {platform.python_version()}, "
            f"Streamlit {_version('streamlit')}, headless Chromium driving N browser contexts "
            "against one server.",
            "",
            "Each session presses **Reproduce the article** (Iris, 4-5-10-3 sigmoid, per-sample "
            "SGD, 100 epochs). *Article run* is the wall time until the slowest session shows "
            "its result at the default pace (spread over ~40 redraws on purpose). Then each "
            "session switches to the *Fastest* pace with 2000 epochs and *epochs/s* is read off "
            f"its epoch counter over {args.window:.0f} s (readings before the run reached "
            f"{TARGET} epochs). Memory is the server process tree's "
            "resident set (peak = VmHWM since start). CPU is the share of one core used during "
            f"the throughput window ({os.cpu_count()} cores = {100 * (os.cpu_count() or 1)}%) by "
            "the server and by the headless Chromium that plays the visitors: both run on this "
            "machine, so the browser's rendering competes with the server for the same cores. "
            f"Idle server before the first session: "
            f"{idle_rss:.0f} MB; after all sessions closed: {after_rss:.0f} MB.",
            "",
            result,
            "",
            *notes,
            "",
        ]
    )
    print(text)
    args.output.write_text(text)
    print(f"written to {args.output}", file=sys.stderr)
    return 0


def _version(package: str) -> str:
    from importlib.metadata import version

    try:
        return version(package)
    except Exception:
        return "?"


if __name__ == "__main__":
    raise SystemExit(main())
