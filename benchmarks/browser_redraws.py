"""What a visitor sees while training: epoch-counter updates and epochs per second in Chromium.

``bench_app_loop.py`` measures the server's side of the Train page's loop; this script measures
the same loop where a user meets it. One Streamlit server, one headless Chromium context per
setting: open the Train page by its URL (Epochs 2000), choose the pace, press Start, and let a
``MutationObserver`` inside the page record every change of the epoch counter for a window of
``--window`` seconds. Nothing polls the page from outside meanwhile: a driver reading the page
several times a second competes with the server and the browser for the same cores and halves
what it measures. Each counter change is one redraw of the page's training view (counter,
progress bar and charts come in the same rerun).

    python benchmarks/browser_redraws.py [--window 10]

Needs Chromium at /usr/bin/chromium and the pip package playwright, like the browser tests.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.ui import (  # noqa: E402
    CHROMIUM,
    EPOCH_TEXT_JS,
    INSTALL_HINT,
    VIEWPORT,
    App,
    launch_chromium,
    parse_epoch,
    start_server,
    stop_server,
    wait_healthy,
)

SETTINGS = [
    ("Iris, article preset", "/Train?epochs=2000", "Watch it learn"),
    ("Iris, article preset", "/Train?epochs=2000", "Fastest"),
    ("digits, article network", "/Train?data=digits&epochs=2000", "Watch it learn"),
    ("digits, article network", "/Train?data=digits&epochs=2000", "Fastest"),
]

# Records [time in ms, counter text] each time the Train page's epoch counter changes.
OBSERVE_JS = f"""() => {{
    window.__epochs = [];
    let last = null;
    const text = {EPOCH_TEXT_JS};
    const read = () => {{
        const now = text();
        if (now !== null && now !== last) {{
            last = now;
            window.__epochs.push([performance.now(), now]);
        }}
    }};
    new MutationObserver(read).observe(
        document.body, {{subtree: true, childList: true, characterData: true}});
}}"""


def measure(browser, url: str, path: str, pace: str, window: float) -> tuple[float, float]:
    """(counter updates per second, epochs per second) over ``window`` seconds of training."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        app = App(context.new_page(), url).open(path)
        app.page.get_by_text(pace, exact=True).click()
        app.settle()
        app.start_training()
        app.page.wait_for_timeout(2000)  # past the first chunks
        app.page.evaluate(OBSERVE_JS)
        app.page.wait_for_timeout(window * 1000)
        seen = app.page.evaluate("() => window.__epochs")
    finally:
        context.close()
    if len(seen) < 2:
        return 0.0, 0.0
    span = (seen[-1][0] - seen[0][0]) / 1000
    first, last = (parse_epoch(text)[0] for _, text in (seen[0], seen[-1]))
    return (len(seen) - 1) / span, (last - first) / span


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=10.0, help="seconds observed per setting")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    log_path = Path(tempfile.mkdtemp(prefix="browser_redraws_")) / "server.log"
    proc, url = start_server(log_path)
    load_start = os.getloadavg()[0]
    began = time.monotonic()
    rows = []
    try:
        wait_healthy(proc, url, log_path, timeout=60)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                for work, path, pace in SETTINGS:
                    updates, epochs = measure(browser, url, path, pace, args.window)
                    rows.append(f"| {work} | {pace} | {updates:.1f} | {epochs:,.1f} |")
            finally:
                browser.close()
    finally:
        stop_server(proc)
    print("| work (Epochs 2000) | pace | counter updates per second | epochs per second |")
    print("|---|---|---:|---:|")
    print("\n".join(rows))
    print(
        f"\n{args.window:.0f} s observed per setting after 2 s of training; "
        f"{time.monotonic() - began:.0f} s in total; load average {load_start:.1f} at the start "
        f"and {os.getloadavg()[0]:.1f} at the end on {os.cpu_count()} cores "
        "(server and browser share them)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
