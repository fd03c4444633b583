"""Load: N visitors at once (N = 1, 2, 4, 8), each training the article preset in Chromium.

One Streamlit server, one headless Chromium, N fresh browser contexts (N separate sessions).
For each N, every visitor presses **Reproduce the article** on the Home page, and we measure

- how long the article's 100 epochs take to finish at the app's default pace ("watch": the run is
  spread over ~40 redraws so the curves visibly grow), the slowest of the N visitors;
- the training throughput of each visitor at the "Fastest" pace with Epochs raised to 2000,
  read from the page's epoch counter over a fixed window (epochs per second, per session). The
  window opens only once every session's counter has moved (so all of them really train), and
  the table says how many sessions were training at the Fastest pace;
- the CPU used meanwhile by the server and by Chromium (both share this machine's cores), the
  1-minute load average at the start and end of the window (other work on the machine skews
  everything), and the server's memory: resident now and its peak (VmHWM), from /proc.

``--page-loads`` measures something else: how long a visitor waits for the Home page (a fresh
tab: first heading, then the whole page drawn) while ``--heavy`` other tabs train the largest run
a link can ask for (5,000 rows, six hidden layers of 180 nodes, batch 1: ~2 s of CPU per epoch),
on a server with the training limit (``dashboard.common.limits.MAX_TRAINING_SESSIONS``, or
``--limits``) and on one without it. That result goes between the markers ``page-loads``.

``--post-script-gc off`` starts the server with Streamlit's ``runner.postScriptGC`` off (by
default Streamlit runs a full ``gc.collect()`` after every script run, fragment runs included,
which holds the GIL for ~0.1 s per training tick). The result goes into benchmarks/LOAD.md
between markers named after that setting, leaving the rest of the file alone.

``--blas-threads 1,auto`` compares servers started with each value of ``NN_LAB_BLAS_THREADS``
(dashboard/common/threads.py; ``auto`` leaves the BLAS library at its own default, one thread per
core). ``--repeats`` rounds each start one fresh server per value in turn, so the settings
alternate (1, auto, 1, auto, ...); each server plays the article round and a *wide* run whose
matrices are large enough for BLAS to split them over threads (``--workloads``). The result goes
between the markers ``blas-threads``.

``--replicas 1,2`` plays the visitors through the proxy of deploy/serve.py (its ``Launcher``:
Streamlit replicas behind HAProxy with cookie stickiness; needs HAProxy) instead of one bare
server. For each round (``--repeats``) and each N (``--sessions``, default 2, 4, 8) it starts a
fresh deployment per number of replicas, back to back, the order flipping every time; one visitor
per replica warms it up on its own port, then the N visitors play the round above through the
proxy. Per row: every session's epochs/s, which replica held it, each replica's CPU and memory
(its process tree, warmed idle and during the window), the proxy's, the browser's and the rest of
the machine's CPU; then the medians, the ratios of the most replicas against the fewest at each
N, the memory per session and the sessions per core. The result goes between the markers
``replicas``.

Every wait has a deadline. Needs Chromium at /usr/bin/chromium and the pip package playwright,
like the browser tests.

    python benchmarks/load_sessions.py [--sessions 1,2,4,8] [--window 8] [--repeats 1]
        [--post-script-gc config|on|off] [--output FILE]
    python benchmarks/load_sessions.py --page-loads [--heavy 3] [--loads 5] [--limits 2,off]
    python benchmarks/load_sessions.py --blas-threads 1,auto --sessions 4 --repeats 3
        [--workloads article,wide]
    python benchmarks/load_sessions.py --replicas 1,2 [--sessions 2,4,8] [--repeats 2]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.common import threads  # noqa: E402
from deploy import serve  # noqa: E402
from tests.e2e.ui import (  # noqa: E402
    APP_READY,
    CHROMIUM,
    EPOCH_TEXT_JS,
    INSTALL_HINT,
    SIDEBAR,
    VIEWPORT,
    App,
    launch_chromium,
    parse_epoch,
    start_server,
    stop_server,
    wait_healthy,
)

DEFAULT_OUTPUT = ROOT / "benchmarks" / "LOAD.md"
TARGET = 2000  # epochs of the throughput run (the demo's limit)
POLL_S = 1.0  # between counter readings: each one costs the page's main thread some work
GC_ENV = "STREAMLIT_RUNNER_POST_SCRIPT_GC"  # Streamlit reads any option from STREAMLIT_<OPTION>
LIMIT_ENV = "NN_LAB_MAX_TRAINING"  # read by dashboard/common/limits.py
NO_LIMIT = 99  # "off": more slots than tabs
PROXY = "proxy"  # HAProxy's name among the server processes (``--replicas``)
# A run whose matrices are large enough for OpenBLAS to split its products over threads (the
# article's 4-5-10-3 network never is): digits, two hidden layers of 128, batches of 32.
WIDE = "/Train?data=digits&hidden=128,128&act=relu,relu&batch=32&lr=0.01&epochs=2000&pace=fastest"
# The largest run a link can ask for (no upload): 3,825 training rows, 163,983 parameters,
# one update per row, as fast as it goes.
HEAVY = (
    "/Train?data=spiral&samples=5000&hidden=180,180,180,180,180,180"
    "&act=relu,relu,relu,relu,relu,relu&batch=1&epochs=2000&pace=fastest"
)


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


def machine_busy() -> float:
    """CPU seconds every core of the machine has been busy so far (from /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return float("nan")
    # user, nice, system, idle, iowait, irq, softirq: all but idle and iowait are busy
    busy = sum(int(f) for i, f in enumerate(fields[:7]) if i not in (3, 4))
    return busy / os.sysconf("SC_CLK_TCK")


def _status_kb(path: Path, field: str) -> float:
    for line in path.read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1])
    return 0.0


# ---- one round of N visitors ----


def run_round(
    browser,
    url: str,
    n: int,
    window: float,
    servers: int | dict[str, int],
    deadline_s: float = 150,
) -> dict:
    """N visitors on ``url``: the article run at the default pace, then ``throughput`` at the
    Fastest pace. ``servers``: the server's pid, or each replica's (and the proxy's) by name."""
    contexts, apps = [], []
    sent = [0] * n  # websocket messages each browser sent: its timer's rerun requests, mostly
    try:
        for i in range(n):
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(60_000)
            contexts.append(context)
            page = context.new_page()
            page.on("websocket", lambda ws, i=i: ws.on("framesent", lambda _, i=i: _count(sent, i)))
            apps.append(App(page, url).open("/"))
        # which replica holds each session (the proxy's affinity cookie; None without a proxy)
        replica_of = [_cookie(context, serve.COOKIE) for context in contexts]
        server_pids = [
            p for name, pid in server_groups(servers).items() if name != PROXY for p in _tree(pid)
        ]
        # everyone presses "Reproduce the article" (as close together as one driver can)
        cpu_before = cpu_seconds(server_pids)
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
        article_cpu = cpu_seconds(server_pids) - cpu_before
        # throughput: the same network, Fastest pace, 2000 epochs, over a fixed window
        for app in apps:
            app.settle()
            app.page.get_by_text("Fastest", exact=True).click()
            app.settle()
            app.number("Epochs", TARGET)
        before = [read_epoch(app) for app in apps]
        for app in apps:
            app.button("Resume").click()
        done = [t for t in finish_times if t is not None]
        return {
            "n": n,
            "article_s": max(done) if len(done) == n else None,
            "unfinished": n - len(done),
            "article_cpu_s": article_cpu,
            "replica_of": replica_of,
            **throughput(apps, before, window, servers, sent),
        }
    finally:
        for context in contexts:
            context.close()


def run_link_round(browser, url: str, path: str, n: int, window: float, server_pid: int) -> dict:
    """N visitors open the Train page at ``path`` (a link with its settings) and press Start;
    each one's epochs/s over ``window`` seconds, as in ``run_round``."""
    contexts, apps = [], []
    sent = [0] * n
    try:
        for i in range(n):
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(60_000)
            contexts.append(context)
            page = context.new_page()
            page.on("websocket", lambda ws, i=i: ws.on("framesent", lambda _, i=i: _count(sent, i)))
            apps.append(App(page, url).open(path))
        for app in apps:
            app.button("Start").click()
        row = throughput(apps, [0] * n, window, server_pid, sent)
        return {"n": n, "article_s": None, "unfinished": 0, **row}
    finally:
        for context in contexts:
            context.close()


def server_groups(servers: int | dict[str, int]) -> dict[str, int]:
    """``{name: root pid}`` of the server processes: one server (``"server"``), or each replica
    and the proxy (``PROXY``) by name."""
    return {"server": servers} if isinstance(servers, int) else dict(servers)


def throughput(
    apps: list, before: list, window: float, servers: int | dict[str, int], sent: list[int]
) -> dict:
    """Epochs/s of each session over ``window`` seconds, once all of them train (their counters
    have moved past ``before``), with the CPU of each server process tree (``servers``: a pid,
    or ``{name: pid}``), of the proxy and of the browser meanwhile, and each server's memory at
    the end of the window (every session still open)."""
    n = len(apps)
    # the window opens once every session really trains at the Fastest pace: its counter
    # has moved past where it was before
    moving = [False] * n
    wait_until = time.monotonic() + 60
    while not all(moving) and time.monotonic() < wait_until:
        for i, app in enumerate(apps):
            if not moving[i]:
                moving[i] = (read_epoch(app) or 0) > (before[i] or 0)
        apps[0].page.wait_for_timeout(200)
    fastest = sum(_fastest_checked(app) for app in apps)
    samples: list[list[tuple[float, int]]] = [[] for _ in apps]
    groups = server_groups(servers)
    trees = {name: _tree(pid) for name, pid in groups.items()}
    ours = {p for tree in trees.values() for p in tree}
    client = [p for p in _tree(os.getpid()) if p not in ours and p != os.getpid()]
    load_start = os.getloadavg()[0]
    sent0 = list(sent)
    cpu0 = {name: cpu_seconds(tree) for name, tree in trees.items()}
    client0, self0, machine0 = cpu_seconds(client), cpu_seconds([os.getpid()]), machine_busy()
    began = time.monotonic()
    end = time.monotonic() + window
    # at least two readings per session, even when a busy browser makes a pass slow
    while time.monotonic() < end or (
        any(len(s) < 2 for s in samples) and time.monotonic() < end + 60
    ):
        for i, app in enumerate(apps):
            t0 = time.monotonic()
            epoch = read_epoch(app)
            if epoch is not None:  # stamped in the middle of the read, which takes a while
                samples[i].append(((t0 + time.monotonic()) / 2, epoch))
        apps[0].page.wait_for_timeout(POLL_S * 1000)  # also delivers the frame events
    rates = [rate(s) for s in samples]
    elapsed = time.monotonic() - began
    requests = [(b - a) / elapsed for a, b in zip(sent0, sent, strict=True)]
    cpu = {name: 100 * (cpu_seconds(tree) - cpu0[name]) / elapsed for name, tree in trees.items()}
    browser_cpu = 100 * (cpu_seconds(client) - client0) / elapsed
    machine_cpu = 100 * (machine_busy() - machine0) / elapsed
    driver_cpu = 100 * (cpu_seconds([os.getpid()]) - self0) / elapsed
    load_end = os.getloadavg()[0]
    memory = {name: memory_mb(pid) for name, pid in groups.items() if name != PROXY}
    errors = sum(app.page.locator("[data-testid='stException']").count() for app in apps)
    return {
        "rates": rates,
        "server_cpu": sum(v for name, v in cpu.items() if name != PROXY),
        "cpu_by": cpu,
        "rss_during": {name: m[0] for name, m in memory.items()},
        "browser_cpu": browser_cpu,
        # everything else on the machine: other people's work (the whole machine's busy time,
        # less the servers, the proxy, the browser and this script)
        "other_cpu": machine_cpu - sum(cpu.values()) - browser_cpu - driver_cpu,
        "errors": errors,
        "running": sum(moving),
        "fastest": fastest,
        "load": (load_start, load_end),
        "requests": requests,
    }


def _cookie(context, name: str) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == name), None)


def _count(counts: list[int], i: int) -> None:
    counts[i] += 1


def read_epoch(app) -> int | None:
    """The session's epoch counter ("12 / 2,000" -> 12) in one round trip to the page, or
    None when it cannot be read right now (being redrawn, or the page is busy)."""
    try:
        return parse_epoch(app.page.evaluate(EPOCH_TEXT_JS))[0]
    except Exception:
        return None


def _fastest_checked(app) -> bool:
    try:
        return app.page.get_by_role("radio", name="Fastest", exact=True).is_checked()
    except Exception:
        return False


def table(rows: list[dict]) -> str:
    lines = [
        "| Sessions | Load avg (1 min), start-end | Article run, slowest (s) "
        "| Training at Fastest | Epochs/s per session, mean (min-max) | Epochs/s all sessions "
        "| Tick requests/s per session | Server CPU | Epochs per server CPU-second "
        "| Browser CPU | Server RSS after (MB) | Server peak RSS (MB) | Errors |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(rows, key=lambda r: r["n"]):
        article = (
            f"{r['article_s']:.1f}"
            if r["article_s"] is not None
            else (f"{r['unfinished']} unfinished")
        )
        rates = [x for x in r["rates"] if not math.isnan(x)] or [float("nan")]
        lines.append(
            f"| {r['n']} | {r['load'][0]:.1f}-{r['load'][1]:.1f} | {article} "
            f"| {min(r['running'], r['fastest'])}/{r['n']} | {statistics.mean(rates):.0f} "
            f"({min(rates):.0f}-{max(rates):.0f}) | {sum(rates):.0f} "
            f"| {statistics.mean(r['requests']):.1f} | {r['server_cpu']:.0f}% "
            f"| {sum(rates) / max(r['server_cpu'] / 100, 1e-9):.0f} "
            f"| {r['browser_cpu']:.0f}% | {r['rss']:.0f} "
            f"| {r['peak']:.0f} | {r['errors']} |"
        )
    return "\n".join(lines)


def ratios(rows: list[dict]) -> list[str]:
    """Each N's rates against the single-session rate measured in the same sweep."""
    notes = []
    singles = {r["sweep"]: statistics.mean(r["rates"]) for r in rows if r["n"] == 1}
    for r in rows:
        base = singles.get(r["sweep"])
        if r["n"] == 1 or not base:
            continue
        rates = [x for x in r["rates"] if not math.isnan(x)] or [float("nan")]
        notes.append(
            f"- {r['n']} sessions: each gets {statistics.mean(rates) / base:.2f}x the "
            f"single-session rate of the same sweep (a fair share is {1 / r['n']:.2f}x); "
            f"together {sum(rates) / base:.2f}x."
        )
    return notes


def write_block(path: Path, key: str, block: str) -> None:
    """Put ``block`` into ``path`` between markers named ``key``; keep everything else."""
    begin, end = f"<!-- load_sessions {key} -->", f"<!-- /load_sessions {key} -->"
    text = path.read_text() if path.exists() else "# Load: concurrent sessions\n"
    wrapped = f"{begin}\n{block.strip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + wrapped + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + wrapped + "\n"
    path.write_text(text)


# ---- page loads while the largest runs train ----


def page_load(browser, url: str) -> tuple[float, float, float]:
    """A visitor's waits, in seconds: a fresh tab on the Home page until its heading shows and
    until its script has finished (this includes Chromium loading Streamlit's scripts), then
    the Data page from the sidebar until its script has finished (the server's part alone)."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        started = time.monotonic()
        page.goto(url + "/", timeout=180_000)
        page.wait_for_selector("h1", timeout=180_000)
        heading = time.monotonic() - started
        page.wait_for_selector(APP_READY, timeout=180_000)
        drawn = time.monotonic() - started
        started = time.monotonic()
        page.locator(SIDEBAR).get_by_role("link", name="Data", exact=True).first.click()
        page.locator("h1", has_text="Data").first.wait_for(timeout=180_000)
        page.wait_for_selector(APP_READY, timeout=180_000)
        return heading, drawn, time.monotonic() - started
    finally:
        context.close()


def _queued(app) -> bool:
    try:
        return any(a.startswith("Queued") for a in app.alerts("info"))
    except Exception:
        return False


def run_page_loads(browser, url: str, n_heavy: int, n_loads: int, server_pid: int) -> dict:
    """Open ``n_heavy`` tabs that train the largest run, then load the Home page ``n_loads``
    times in fresh tabs; what the visitors waited, and what the heavy tabs did meanwhile."""
    contexts, apps = [], []
    try:
        for _ in range(n_heavy):
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(120_000)
            contexts.append(context)
            apps.append(App(context.new_page(), url).open(HEAVY))
        for app in apps:
            app.button("Start").click()
        # every heavy tab has either trained an epoch or shown that it waits in the queue
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if all((read_epoch(app) or 0) > 0 or _queued(app) for app in apps):
                break
            time.sleep(1)
        before = [read_epoch(app) or 0 for app in apps]
        server = _tree(server_pid)
        client = [p for p in _tree(os.getpid()) if p not in server and p != os.getpid()]
        cpu0 = (cpu_seconds(server), cpu_seconds(client), time.monotonic())
        load_start = os.getloadavg()[0]
        loads = []
        for _ in range(n_loads):
            loads.append(page_load(browser, url))
            time.sleep(1)
        elapsed = time.monotonic() - cpu0[2]
        after = [read_epoch(app) or 0 for app in apps]
        return {
            "heavy": n_heavy,
            "loads": loads,
            "training": sum(b > a for a, b in zip(before, after, strict=True)),
            "queued": sum(_queued(app) for app in apps),
            "epochs": sum(b - a for a, b in zip(before, after, strict=True)),
            "elapsed": elapsed,
            "server_cpu": 100 * (cpu_seconds(server) - cpu0[0]) / elapsed,
            "browser_cpu": 100 * (cpu_seconds(client) - cpu0[1]) / elapsed,
            "load": (load_start, os.getloadavg()[0]),
            "errors": sum(app.page.locator("[data-testid='stException']").count() for app in apps),
        }
    finally:
        for context in contexts:
            context.close()


def page_loads_table(rows: list[dict]) -> str:
    lines = [
        "| Training limit | Heavy tabs | Trained during the loads | Queued | Fresh tab, Home "
        "heading shown: median (max) s | Fresh tab, Home drawn: median (max) s | Then the "
        "Data page: median (max) s | Epochs (all heavy tabs) | Server CPU | Browser CPU "
        "| Load avg (1 min), start-end | Errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        waits = [
            f"{statistics.median(column):.2f} ({max(column):.2f})"
            for column in zip(*r["loads"], strict=True)
        ]
        lines.append(
            f"| {r['limit']} | {r['heavy']} | {r['training']} | {r['queued']} "
            f"| {' | '.join(waits)} | {r['epochs']} "
            f"| {r['server_cpu']:.0f}% | {r['browser_cpu']:.0f}% "
            f"| {r['load'][0]:.1f}-{r['load'][1]:.1f} | {r['errors']} |"
        )
    return "\n".join(lines)


def page_loads_main(args) -> int:
    """``--page-loads``: one server per training limit; a quiet round, then the heavy round."""
    from playwright.sync_api import sync_playwright

    from dashboard.common import limits

    rows = []
    for text in args.limits.split(","):
        limit = NO_LIMIT if text.strip() == "off" else int(text)
        label = "none" if limit == NO_LIMIT else f"{limit} at once"
        os.environ[LIMIT_ENV] = str(limit)
        log_path = Path(tempfile.mkdtemp(prefix="load_page_loads_")) / "server.log"
        proc, url = start_server(log_path)
        os.environ.pop(LIMIT_ENV, None)
        try:
            wait_healthy(proc, url, log_path, timeout=60)
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                try:
                    page_load(browser, url)  # warm up: the first visit imports the libraries
                    if not rows:
                        quiet = run_page_loads(browser, url, 0, args.loads, proc.pid)
                        rows.append({**quiet, "limit": "(no training)"})
                    row = run_page_loads(browser, url, args.heavy, args.loads, proc.pid)
                    rows.append({**row, "limit": label})
                finally:
                    browser.close()
        finally:
            stop_server(proc)
        print(f"limit {label}: done", file=sys.stderr)
    block = "\n".join(
        [
            "### Page loads while the largest runs train",
            "",
            f"Measured {dt.datetime.now().isoformat(timespec='minutes')} with `python "
            f"benchmarks/load_sessions.py --page-loads --heavy {args.heavy} --loads "
            f"{args.loads} --limits {args.limits}` on {os.cpu_count()} CPU cores, Python "
            f"{platform.python_version()}, Streamlit {_version('streamlit')}. Each heavy tab "
            f"opens `{HEAVY}` and presses Start; then a visitor opens the Home page in a fresh "
            f"tab and goes on to the Data page, {args.loads} times, one after the other (a "
            "fresh tab includes Chromium loading Streamlit's scripts on the same two cores; "
            "the Data page is the server's part alone). The app's default limit is "
            f"{limits.MAX_TRAINING_SESSIONS} runs at once.",
            "",
            page_loads_table(rows),
        ]
    )
    print(block)
    write_block(args.output, "page-loads", block)
    print(f"written to {args.output}", file=sys.stderr)
    return 0


# ---- BLAS threads per server process: the app's limit against the libraries' default ----


def blas_settings(text: str) -> list[str]:
    """``--blas-threads``: comma-separated values of NN_LAB_BLAS_THREADS (a number, or auto)."""
    settings = [t.strip().lower() for t in text.split(",") if t.strip()]
    for t in settings:
        if t != threads.AUTO and not (t.isdigit() and int(t) >= 1):
            raise argparse.ArgumentTypeError(f"{t!r}: a positive number of threads, or auto")
    return settings


def installed_blas(env: dict[str, str]) -> str:
    """What NumPy's BLAS starts with in a fresh interpreter with ``env`` (what ``auto`` keeps)."""
    code = (
        "import numpy, threadpoolctl\n"
        "print('; '.join(f\"{p['internal_api']} {p['version']}: {p['num_threads']} threads\" "
        "for p in threadpoolctl.threadpool_info() if p['user_api'] == 'blas'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    return done.stdout.strip() or "unknown"


def blas_rounds(browser, args, counts: list[int], settings: list[str], workloads) -> list[dict]:
    """For each round, one fresh server per setting in turn (1, auto, 1, auto, ...); in each,
    every workload with each number of visitors."""
    rows = []
    began = time.monotonic()
    for round_ in range(1, args.repeats + 1):
        for setting in settings:
            os.environ[threads.ENV] = setting
            log_path = Path(tempfile.mkdtemp(prefix="load_blas_")) / "server.log"
            proc, url = start_server(log_path)
            try:
                wait_healthy(proc, url, log_path, timeout=60)
                for n in counts:
                    for workload in workloads:
                        if workload == "article":
                            row = run_round(browser, url, n, args.window, proc.pid)
                        else:
                            row = run_link_round(browser, url, WIDE, n, args.window, proc.pid)
                        row["rss"], row["peak"] = memory_mb(proc.pid)
                        rows.append({**row, "setting": setting, "round": round_, "work": workload})
                        print(
                            f"round {round_}, BLAS {setting}, {workload}, N={n}: "
                            f"{sum(_finite(row['rates'])):.0f} epochs/s together "
                            f"({time.monotonic() - began:.0f} s)",
                            file=sys.stderr,
                        )
            finally:
                stop_server(proc)
    return rows


def _finite(rates: list[float]) -> list[float]:
    return [x for x in rates if not math.isnan(x)] or [float("nan")]


def blas_table(rows: list[dict]) -> str:
    lines = [
        "| Round | NN_LAB_BLAS_THREADS | Workload | Sessions | Load avg (1 min), start-end "
        "| Training at Fastest | Epochs/s per session, mean (min-max) | Epochs/s all sessions "
        "| Server CPU | Browser CPU | Server peak RSS (MB) | Errors |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        rates = _finite(r["rates"])
        lines.append(
            f"| {r['round']} | {r['setting']} | {r['work']} | {r['n']} "
            f"| {r['load'][0]:.1f}-{r['load'][1]:.1f} | {min(r['running'], r['fastest'])}/{r['n']} "
            f"| {statistics.mean(rates):.1f} ({min(rates):.1f}-{max(rates):.1f}) "
            f"| {sum(rates):.0f} | {r['server_cpu']:.0f}% | {r['browser_cpu']:.0f}% "
            f"| {r['peak']:.0f} | {r['errors']} |"
        )
    return "\n".join(lines)


def blas_summary(rows: list[dict], settings: list[str]) -> list[str]:
    """Medians over the rounds of each setting, and the first setting against the others:
    the ratio of the medians, and the median of the rounds' paired ratios (each round ran
    every setting back to back)."""
    lines = [
        "| Workload | Sessions | NN_LAB_BLAS_THREADS | Rounds | Epochs/s per session: median "
        "of the rounds' means (each round's) | Epochs/s all sessions: median | Server CPU: "
        "median |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    notes = []
    keys = sorted({(r["work"], r["n"]) for r in rows})
    for work, n in keys:
        per = {}
        for setting in settings:
            mine = sorted(
                (r for r in rows if (r["work"], r["n"], r["setting"]) == (work, n, setting)),
                key=lambda r: r["round"],
            )
            means = [statistics.mean(_finite(r["rates"])) for r in mine]
            per[setting] = {r["round"]: m for r, m in zip(mine, means, strict=True)}
            lines.append(
                f"| {work} | {n} | {setting} | {len(mine)} | {statistics.median(means):.1f} "
                f"({', '.join(f'{m:.1f}' for m in means)}) "
                f"| {statistics.median(sum(_finite(r['rates'])) for r in mine):.0f} "
                f"| {statistics.median(r['server_cpu'] for r in mine):.0f}% |"
            )
        first = settings[0]
        for other in settings[1:]:
            rounds = [k for k in per[first] if k in per[other]]
            paired = [per[first][k] / per[other][k] for k in rounds if per[other][k] > 0]
            shown = [
                f"{per[first][k] / per[other][k]:.2f}x"
                if per[other][k] > 0
                else f"{per[first][k]:.1f} epochs/s against 0"
                for k in rounds
            ]
            ratio = statistics.median(per[first].values()) / statistics.median(per[other].values())
            notes.append(
                f"- {work}, {n} session{'' if n == 1 else 's'}: per session, "
                f"NN_LAB_BLAS_THREADS={first} gets {ratio:.2f}x the rate of {other} (ratio of "
                f"the medians); round by round {', '.join(shown)} (median of the finite "
                f"ratios {statistics.median(paired) if paired else float('nan'):.2f}x)."
            )
    return [*lines, "", *notes]


def blas_main(args, counts: list[int]) -> int:
    """``--blas-threads``: the same visitors on servers with each BLAS setting, interleaved."""
    from playwright.sync_api import sync_playwright

    settings = args.blas_threads
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    if not workloads or set(workloads) - {"article", "wide"}:
        print(f"--workloads {args.workloads!r}: article and/or wide", file=sys.stderr)
        return 2
    saved = {name: os.environ.get(name) for name in (threads.ENV, LIMIT_ENV, *threads.LIBRARY_ENV)}
    # "auto" means the libraries' own default: nothing in the servers' environment limits them
    for name in threads.LIBRARY_ENV:
        os.environ.pop(name, None)
    os.environ[LIMIT_ENV] = str(NO_LIMIT)  # every visitor trains at once
    installed = installed_blas(dict(os.environ))
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                rows = blas_rounds(browser, args, counts, settings, workloads)
            finally:
                browser.close()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    command = (
        f"python benchmarks/load_sessions.py --blas-threads {','.join(settings)} "
        f"--sessions {','.join(map(str, counts))} --repeats {args.repeats} "
        f"--workloads {','.join(workloads)} --window {args.window:g}"
    )
    block = "\n".join(
        [
            "### One BLAS thread per server process against the libraries' default",
            "",
            f"Measured {dt.datetime.now().isoformat(timespec='minutes')} with `{command}` on "
            f"{os.cpu_count()} CPU cores, Python {platform.python_version()}, Streamlit "
            f"{_version('streamlit')}, NumPy {_version('numpy')} (BLAS as installed: "
            f"{installed}). Each round starts one fresh server per setting, in this order "
            f"({', '.join(settings)}), so the settings alternate. Workloads: *article* is the "
            "round above (Reproduce the article, then the Fastest pace with 2000 epochs), "
            f"*wide* opens `{WIDE}` and presses Start. Epochs/s over {args.window:g} s.",
            "",
            blas_table(rows),
            "",
            *blas_summary(rows, settings),
        ]
    )
    print(block)
    write_block(args.output, "blas-threads", block)
    print(f"written to {args.output}", file=sys.stderr)
    return 0


# ---- N visitors through the proxy of deploy/serve.py, on 1 or 2 replicas ----


def replica_counts(text: str) -> list[int]:
    """``--replicas``: comma-separated numbers of replicas behind the proxy, e.g. ``1,2``."""
    try:
        counts = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: numbers of replicas, e.g. 1,2") from None
    if not counts or not all(1 <= c <= serve.MAX_REPLICAS for c in counts):
        raise argparse.ArgumentTypeError(f"{text!r}: 1 to {serve.MAX_REPLICAS} replicas each")
    return counts


@contextlib.contextmanager
def deployment(replicas: int, haproxy: str):
    """deploy/serve.py's replicas and HAProxy, started afresh on free ports by its ``Launcher``
    (its messages go to stderr) and stopped on the way out. Yields the proxy's URL, ``{name:
    pid}`` of each replica and of the proxy (``PROXY``), and each replica's own URL."""
    workdir = Path(tempfile.mkdtemp(prefix=f"load_replicas{replicas}_"))
    (port,) = serve.free_ports(1, set())
    argv = ["--replicas", str(replicas), "--port", str(port), "--address", "127.0.0.1"]
    args = serve.parse_args([*argv, "--workdir", str(workdir)])
    launcher = serve.Launcher(args, haproxy, workdir)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            launcher.start_replicas()
            launcher.start_proxy()
        pids = {r.name: r.proc.pid for r in launcher.replicas}
        urls = [r.url for r in launcher.replicas]
        yield f"http://127.0.0.1:{port}", {**pids, PROXY: launcher.proxy.pid}, urls
    finally:
        with contextlib.redirect_stdout(sys.stderr):
            launcher.stop_all()


def warm_up(browser, urls: list[str], deadline_s: float = 120) -> None:
    """One visitor per server, straight to its port (not through the proxy, whose round robin
    it would shift), reproduces the article once: every library a round uses is imported
    before the round measures anything."""
    contexts = []
    try:
        apps = []
        for url in urls:
            contexts.append(browser.new_context(viewport=VIEWPORT))
            apps.append(App(contexts[-1].new_page(), url).open("/"))
        for app in apps:
            app.button("Reproduce the article").click()
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if all("Finished: 100 epochs" in app.main_text() for app in apps):
                break
            apps[0].page.wait_for_timeout(250)
    finally:
        for context in contexts:
            context.close()


def replica_rounds(
    browser, args, counts: list[int], settings: list[int], haproxy: str, raw: Path
) -> list[dict]:
    """For each round and each N, one fresh deployment per number of replicas, back to back
    (the order flips from one N to the next and from one round to the next): a warm-up visit
    per replica, then N visitors through the proxy. Every row is also written to ``raw`` (JSON)
    as soon as it is measured."""
    rows = []
    began = time.monotonic()
    flip = False
    for round_ in range(1, args.repeats + 1):
        for n in counts:
            for replicas in settings[::-1] if flip else settings:
                with deployment(replicas, haproxy) as (url, servers, urls):
                    names = [name for name in servers if name != PROXY]
                    fresh = {name: memory_mb(servers[name])[0] for name in names}
                    warm_up(browser, urls)
                    idle = {name: memory_mb(servers[name])[0] for name in names}
                    row = run_round(browser, url, n, args.window, servers)
                    peak = {name: memory_mb(servers[name])[1] for name in names}
                row.update(round=round_, replicas=replicas, fresh=fresh, idle=idle, peak_by=peak)
                rows.append(row)
                raw.write_text(json.dumps(rows, indent=1))
                print(
                    f"round {round_}, N={n}, {replicas} replica(s): "
                    f"{sum(_finite(row['rates'])):.0f} epochs/s together, on each replica "
                    f"{_split(row)} ({time.monotonic() - began:.0f} s)",
                    file=sys.stderr,
                )
            flip = not flip
    return rows


def _on_each(row: dict) -> dict[str, int]:
    """How many of the round's sessions each replica held (by the proxy's cookie)."""
    counts = {name: 0 for name in row["rss_during"]}
    for name in row["replica_of"]:
        if name in counts:
            counts[name] += 1
    return counts


def _split(row: dict) -> str:
    return "+".join(str(k) for k in _on_each(row).values())


def _cpu_split(row: dict) -> str:
    return " + ".join(f"{v:.0f}%" for name, v in row["cpu_by"].items() if name != PROXY)


def replicas_table(rows: list[dict]) -> str:
    lines = [
        "| Round | Replicas | Sessions | On each replica | Load avg (1 min), start-end "
        "| Training at Fastest | Article run, slowest (s) | Server CPU-s per article run "
        "| Epochs/s per session, mean (min) | Sessions read | Epochs/s all sessions "
        "| Epochs per server CPU-second | Server CPU per replica "
        "| Proxy CPU | Browser CPU | Other work | RSS per replica, warmed idle -> with the "
        "sessions (MB) | Peak RSS per replica (MB) | Errors |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---|---:|",
    ]
    for r in rows:
        rates = _finite(r["rates"])
        article = f"{r['article_s']:.1f}" if r["article_s"] else f"{r['unfinished']} unfinished"
        rss = ", ".join(
            f"{r['idle'][name]:.0f} -> {r['rss_during'][name]:.0f}" for name in r["rss_during"]
        )
        lines.append(
            f"| {r['round']} | {r['replicas']} | {r['n']} | {_split(r)} "
            f"| {r['load'][0]:.1f}-{r['load'][1]:.1f} | {min(r['running'], r['fastest'])}/{r['n']} "
            f"| {article} | {r['article_cpu_s'] / r['n']:.2f} "
            f"| {statistics.mean(rates):.0f} ({min(rates):.0f}) "
            f"| {sum(not math.isnan(x) for x in r['rates'])}/{r['n']} | {sum(rates):.0f} "
            f"| {sum(rates) / max(r['server_cpu'] / 100, 1e-9):.0f} | {_cpu_split(r)} "
            f"| {r['cpu_by'][PROXY]:.0f}% | {r['browser_cpu']:.0f}% "
            f"| {r['other_cpu']:.0f}% "
            f"| {rss} | {', '.join(f'{v:.0f}' for v in r['peak_by'].values())} | {r['errors']} |"
        )
    return "\n".join(lines)


def replicas_summary(rows: list[dict], settings: list[int]) -> tuple[list[str], dict]:
    """Medians over the rounds for each N and number of replicas, and the ratios of the most
    replicas against the fewest at each N: of the medians, and round by round (each round ran
    both back to back)."""
    lines = [
        "| Sessions | Replicas | Rounds | Epochs/s all sessions: median (each round's) "
        "| Per session: median of the means | Per session: median of the minimums "
        "| Server CPU, all replicas: median | Browser CPU: median | Other work: median "
        "| Article run, slowest: median (s) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    figures: dict = {}
    for n in sorted({r["n"] for r in rows}):
        for replicas in settings:
            mine = [r for r in rows if (r["n"], r["replicas"]) == (n, replicas)]
            if not mine:
                continue
            together = [sum(_finite(r["rates"])) for r in mine]
            means = [statistics.mean(_finite(r["rates"])) for r in mine]
            minimums = [min(_finite(r["rates"])) for r in mine]
            articles = [r["article_s"] for r in mine if r["article_s"]]
            figures[n, replicas] = {
                "together": {r["round"]: t for r, t in zip(mine, together, strict=True)},
                "mean": statistics.median(means),
                "min": statistics.median(minimums),
            }
            lines.append(
                f"| {n} | {replicas} | {len(mine)} | {statistics.median(together):.0f} "
                f"({', '.join(f'{t:.0f}' for t in together)}) "
                f"| {statistics.median(means):.0f} | {statistics.median(minimums):.0f} "
                f"| {statistics.median(r['server_cpu'] for r in mine):.0f}% "
                f"| {statistics.median(r['browser_cpu'] for r in mine):.0f}% "
                f"| {statistics.median(r['other_cpu'] for r in mine):.0f}% "
                f"| {statistics.median(articles) if articles else float('nan'):.1f} |"
            )
    notes = []
    few, most = min(settings), max(settings)
    for n in sorted({r["n"] for r in rows}):
        if few == most or (n, few) not in figures or (n, most) not in figures:
            continue
        a, b = figures[n, most], figures[n, few]
        ratio = statistics.median(a["together"].values()) / statistics.median(
            b["together"].values()
        )
        paired = [
            a["together"][k] / b["together"][k]
            for k in sorted(a["together"])
            if k in b["together"] and b["together"][k] > 0
        ]
        per_min = a["min"] / b["min"] if b["min"] > 0 else float("nan")
        unread = sum(
            math.isnan(x)
            for r in rows
            if r["n"] == n and r["replicas"] in (few, most)
            for x in r["rates"]
        )
        notes.append(
            f"- {n} sessions: {most} replicas give {ratio:.2f}x the epochs/s of {few} "
            f"(all sessions together, ratio of the medians); round by round "
            f"{', '.join(f'{p:.2f}x' for p in paired)}; the slowest session "
            f"{per_min:.2f}x"
            + (f" ({unread} sessions unread in these rows, left out)." if unread else ".")
        )
    return [*lines, "", *notes], figures


def watch_seconds() -> tuple[float, str]:
    """The shortest the article run can take at the default pace, and why (ticks x interval)."""
    from dashboard.training import loop, train_ui

    return loop.WATCH_TICKS * train_ui.TICK_S, f"{loop.WATCH_TICKS} ticks of {train_ui.TICK_S} s"


def memory_and_cores(rows: list[dict], watch: tuple[float, str]) -> list[str]:
    """Memory per session (each replica's growth over its warmed idle size, per session it
    held) and sessions per core (what one visitor watching the article run costs the server);
    ``watch``: ``watch_seconds()``."""
    points = []  # (sessions held, MB over the warmed idle replica), one per replica per round
    for r in rows:
        for name, k in _on_each(r).items():
            if k:
                points.append((k, r["rss_during"][name] - r["idle"][name]))
    per_session = [mb / k for k, mb in points]
    slope = _slope(points)
    fixed = [mb for r in rows for mb in r["idle"].values()]
    fresh = [mb for r in rows for mb in r["fresh"].values()]
    watch_s, ticks = watch
    cost = [r["article_cpu_s"] / r["n"] for r in rows if r["article_s"]]
    per_core = [watch_s / c for c in cost if c > 0]
    return [
        f"- Memory per session: {statistics.median(per_session):.1f} MB (median over "
        f"{len(points)} replica-rounds of the replica's growth over its warmed idle size, per "
        f"session it held; range {min(per_session):.1f}-{max(per_session):.1f}); least-squares "
        f"slope of that growth against the sessions held: {slope:.1f} MB per added session. A "
        f"replica itself: {statistics.median(fresh):.0f} MB started, "
        f"{statistics.median(fixed):.0f} MB once a first visit has imported the libraries.",
        f"- Sessions per core: one visitor watching the article run costs the servers "
        f"{statistics.median(cost):.2f} CPU-s (median over {len(cost)} rounds, range "
        f"{min(cost):.2f}-{max(cost):.2f}); the run lasts at least {watch_s:g} s "
        f"({ticks}), so one core keeps about "
        f"{statistics.median(per_core):.0f} visitors training at once at that pace "
        f"(range {min(per_core):.0f}-{max(per_core):.0f}). A visitor who is not training "
        "costs CPU only for the page runs their clicks ask for.",
    ]


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y against x."""
    if len({x for x, _ in points}) < 2:
        return float("nan")
    mx = statistics.mean(x for x, _ in points)
    my = statistics.mean(y for _, y in points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx


def replicas_main(args, counts: list[int]) -> int:
    """``--replicas``: N visitors through deploy/serve.py's proxy, on each number of replicas."""
    from playwright.sync_api import sync_playwright

    haproxy = serve.find_haproxy(None)
    watch = watch_seconds()  # imports the app's modules now rather than after the rounds
    settings = args.replicas
    saved = os.environ.get(LIMIT_ENV)
    os.environ[LIMIT_ENV] = str(NO_LIMIT)  # every visitor trains at once, as in the sweeps
    raw = Path(tempfile.mkdtemp(prefix="load_replicas_")) / "rows.json"
    print(f"every row's figures go to {raw}", file=sys.stderr)
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                rows = replica_rounds(browser, args, counts, settings, haproxy, raw)
            finally:
                browser.close()
    finally:
        if saved is None:
            os.environ.pop(LIMIT_ENV, None)
        else:
            os.environ[LIMIT_ENV] = saved
    summary, _ = replicas_summary(rows, settings)
    command = (
        f"python benchmarks/load_sessions.py --replicas {','.join(map(str, settings))} "
        f"--sessions {','.join(map(str, counts))} --repeats {args.repeats} "
        f"--window {args.window:g}"
    )
    block = "\n".join(
        [
            "### Replicas behind the proxy",
            "",
            f"Measured {dt.datetime.now().isoformat(timespec='minutes')} with `{command}` on "
            f"{os.cpu_count()} CPU cores ({_cpu_model()}), Python {platform.python_version()}, "
            f"Streamlit {_version('streamlit')}, {_haproxy_version(haproxy)}. Every row starts "
            "a fresh `deploy/serve.py` deployment (its Launcher: the replicas with "
            f"`{serve.THREADS_ENV}=1`, HAProxy with cookie stickiness), warms each replica up "
            "with one visitor who reproduces the article on its own port, then plays the "
            "visitors through the proxy: the article run at the default pace, then the Fastest "
            f"pace with 2000 epochs, epochs/s over {args.window:g} s. The numbers of replicas "
            "alternate, and the order flips at every row pair. *On each replica*: the sessions "
            "each one held (the proxy's cookie). CPU in % of one core (2 cores = 200%) during "
            "the window; *Other work*: the rest of the machine's busy time (other people's "
            "processes). RSS of each replica's process tree, during the window with every "
            "session open. A session whose counter could not be read twice in the window "
            "(its page busy) has no rate: the table says how many were read.",
            "",
            replicas_table(rows),
            "",
            *summary,
            *memory_and_cores(rows, watch),
        ]
    )
    print(block)
    write_block(args.output, "replicas", block)
    print(f"written to {args.output}", file=sys.stderr)
    return 0


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return " ".join(line.split(":", 1)[1].split())
    return platform.machine()


def _haproxy_version(haproxy: str) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run([haproxy, "-v"], capture_output=True, text=True, timeout=10)
        words = done.stdout.split()
        if len(words) > 2:
            return f"HAProxy {words[2]}"
    return "HAProxy"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sessions",
        default=None,
        help="comma-separated session counts (1,2,4,8; with --replicas 2,4,8)",
    )
    parser.add_argument("--window", type=float, default=8.0, help="seconds of throughput reading")
    parser.add_argument("--repeats", type=int, default=1, help="sweeps over the session counts")
    parser.add_argument(
        "--post-script-gc",
        choices=("config", "on", "off"),
        default="config",
        help="Streamlit's runner.postScriptGC for the server: as .streamlit/config.toml says, "
        "or forced on or off (a full gc.collect() after every script and fragment run)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--page-loads",
        action="store_true",
        help="measure Home page loads while --heavy tabs train the largest runs",
    )
    parser.add_argument("--heavy", type=int, default=3, help="tabs training the largest run")
    parser.add_argument("--loads", type=int, default=5, help="Home page loads per round")
    parser.add_argument(
        "--limits", default="2,off", help="training limits to compare (a number, or off)"
    )
    parser.add_argument(
        "--blas-threads",
        type=blas_settings,
        default=None,
        help="compare servers started with these NN_LAB_BLAS_THREADS values, e.g. 1,auto "
        "(auto: the BLAS library's own default); --repeats rounds, the settings alternating",
    )
    parser.add_argument(
        "--workloads",
        default="article,wide",
        help="with --blas-threads: article (the sweep's round) and/or wide (a link whose "
        "matrices are large enough for BLAS threads to matter)",
    )
    parser.add_argument(
        "--replicas",
        type=replica_counts,
        default=None,
        help="play the visitors through deploy/serve.py's proxy on these numbers of replicas, "
        "e.g. 1,2 (a fresh deployment per row, alternating; --repeats rounds)",
    )
    args = parser.parse_args(argv)
    default_sessions = "2,4,8" if args.replicas else "1,2,4,8"
    counts = [int(n) for n in (args.sessions or default_sessions).split(",")]
    if not Path(CHROMIUM).exists():
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    if args.page_loads:
        return page_loads_main(args)
    if args.blas_threads:
        return blas_main(args, counts)
    if args.replicas:
        return replicas_main(args, counts)
    from playwright.sync_api import sync_playwright

    # every visitor trains at once here: no queue (the limit has its own round, --page-loads)
    os.environ[LIMIT_ENV] = str(NO_LIMIT)
    if args.post_script_gc != "config":  # the server inherits our environment
        os.environ[GC_ENV] = "true" if args.post_script_gc == "on" else "false"
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
                for sweep in range(args.repeats):
                    for n in counts:
                        row = run_round(browser, url, n, args.window, proc.pid)
                        row["rss"], row["peak"] = memory_mb(proc.pid)
                        row["sweep"] = sweep
                        rows.append(row)
                        print(f"N={n}: done ({time.monotonic() - began:.0f} s)", file=sys.stderr)
            finally:
                browser.close()
        time.sleep(2)
        after_rss, _ = memory_mb(proc.pid)
    finally:
        stop_server(proc)
        os.environ.pop(GC_ENV, None)
        os.environ.pop(LIMIT_ENV, None)

    gc_setting = {
        "config": "as in .streamlit/config.toml",
        "on": "forced on",
        "off": "forced off",
    }[args.post_script_gc]
    block = "\n".join(
        [
            f"### runner.postScriptGC {gc_setting}",
            "",
            f"Measured {dt.datetime.now().isoformat(timespec='minutes')} with `python "
            f"benchmarks/load_sessions.py --post-script-gc {args.post_script_gc}"
            f"{f' --repeats {args.repeats}' if args.repeats > 1 else ''}` on "
            f"{os.cpu_count()} CPU cores, Python {platform.python_version()}, "
            f"Streamlit {_version('streamlit')}; epochs/s over {args.window:.0f} s per round. "
            f"Idle server before the first session: {idle_rss:.0f} MB; after all sessions "
            f"closed: {after_rss:.0f} MB.",
            "",
            table(rows),
            "",
            *ratios(rows),
        ]
    )
    print(block)
    write_block(args.output, f"post-script-gc={args.post_script_gc}", block)
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
