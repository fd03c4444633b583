"""The server-wide training limit in Chromium: with two training slots, a third visitor's run
waits in a visible queue, can leave it and join it again, and starts by itself when a slot frees.

Runs against a server of its own (``limited_server``, ``NN_LAB_MAX_TRAINING=2``).
"""

from __future__ import annotations

import pytest

from tests.e2e.ui import expect

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

# Spiral with 5,000 rows (3,825 training rows), the article's network, one update per row at
# the watch pace: a few epochs a second per tab, so a 2,000-epoch run lasts many minutes.
LONG_RUN = "/Train?data=spiral&samples=5000&epochs=2000"


def epochs(tab) -> int:
    return tab.epoch()[0]


def moves(tab, by: int = 2, timeout: float = 90) -> None:
    """Wait until the tab's epoch counter has risen by ``by``."""
    start = epochs(tab)
    tab.wait_until(lambda: epochs(tab) >= start + by, timeout=timeout, what="the run to train")


def test_a_third_run_waits_in_the_queue_and_starts_when_a_slot_frees(
    limited_server, new_limited_app
):
    assert limited_server.env["NN_LAB_MAX_TRAINING"] == "2"
    queued = "Queued: 2 runs ahead; it starts when one finishes."
    first, second, third = (new_limited_app(LONG_RUN) for _ in range(3))
    for tab in (first, second):
        tab.start_training()
    for tab in (first, second):
        moves(tab)

    third.start_training()  # returns once Pause is enabled: it is while the run waits
    third.expect_alert(queued, "info")
    expect(third.button("Start")).to_be_disabled()
    third.expect_main_text("queued: epoch 0 of 2000")
    third.page.wait_for_timeout(3000)
    assert epochs(third) == 0  # it waits, and the two runs ahead go on
    moves(first)
    moves(second)

    third.pause_training()  # gives up its place
    third.expect_main_text("ready: epoch 0 of 2000")
    assert not [a for a in third.alerts("info") if a.startswith("Queued")]
    third.start_training()
    third.expect_alert(queued, "info")

    first.pause_training()  # a slot frees: the queued run starts by itself
    moves(third, by=3)
    third.wait_until(
        lambda: not [a for a in third.alerts("info") if a.startswith("Queued")],
        timeout=30,
        what="the queue message to go",
    )
    third.expect_main_text("running: epoch")
    paused = epochs(first)
    moves(second)
    assert epochs(first) == paused

    for tab in (second, third):
        tab.pause_training()
    # with both slots free again, the paused first run resumes at once
    first.start_training("Resume")
    moves(first)
    first.pause_training()
    for tab in (first, second, third):
        tab.assert_no_exception()
