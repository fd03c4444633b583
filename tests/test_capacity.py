"""The server's training slots (dashboard.common.capacity) and how runs use them."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import nn
from dashboard.common import capacity, limits
from dashboard.training import loop
from tests.test_app_training import make_trainer


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def slots(clock):
    return capacity.Slots(2, stale_s=20.0, clock=clock)


# ---- the registry ----


def test_slots_are_granted_up_to_the_limit_then_queued_in_order(slots):
    assert slots.acquire("a") == capacity.Ticket(True, 0, 1, 2)
    assert slots.acquire("b") == capacity.Ticket(True, 0, 2, 2)
    assert slots.acquire("c") == capacity.Ticket(False, 0, 2, 2)
    assert slots.acquire("d") == capacity.Ticket(False, 1, 2, 2)
    assert slots.status() == (["a", "b"], ["c", "d"])
    # asking again is a heartbeat: the same answer, the same place
    assert slots.acquire("a").granted
    assert slots.acquire("d") == capacity.Ticket(False, 1, 2, 2)
    assert slots.acquire("c") == capacity.Ticket(False, 0, 2, 2)


def test_a_freed_slot_goes_to_the_first_in_line_even_if_a_later_one_asks_first(slots):
    for key in "abcd":
        slots.acquire(key)
    slots.release("a")
    assert slots.acquire("d") == capacity.Ticket(False, 1, 1, 2)  # "c" is first in line
    assert slots.acquire("c").granted
    assert slots.acquire("d") == capacity.Ticket(False, 0, 2, 2)
    slots.release("b")
    assert slots.acquire("d").granted
    assert slots.status() == (["c", "d"], [])


def test_a_newcomer_waits_behind_the_queue_and_a_released_place_moves_it_up(slots):
    for key in "abcd":
        slots.acquire(key)
    assert slots.acquire("e").ahead == 2
    slots.release("c")  # Pause while queued: the place is given up
    assert slots.acquire("e").ahead == 1
    assert slots.acquire("c") == capacity.Ticket(False, 2, 2, 2)  # back of the line


def test_stale_slots_and_places_are_reclaimed_and_reported(slots, clock):
    reclaimed = []
    slots.acquire("a", on_reclaim=lambda: reclaimed.append("a"))
    slots.acquire("b")
    slots.acquire("c", on_reclaim=lambda: reclaimed.append("c"))
    slots.acquire("d")
    clock.now += 15
    slots.acquire("b")  # b and d keep ticking; a (a slot) and c (a place) stop
    slots.acquire("d")
    assert reclaimed == []
    clock.now += 10  # a and c last asked 25 s ago, more than stale_s
    assert slots.acquire("d").granted  # a's slot is free and c no longer stands before d
    assert sorted(reclaimed) == ["a", "c"]
    assert slots.status() == (["b", "d"], [])
    assert slots.acquire("a") == capacity.Ticket(False, 0, 2, 2)  # comes back: waits its turn


def test_a_holder_that_keeps_asking_is_never_stale(slots, clock):
    slots.acquire("a")
    for _ in range(10):
        clock.now += 19
        assert slots.acquire("a").granted
    slots.acquire("b")
    assert slots.acquire("c").granted is False


def test_release_is_harmless_for_unknown_keys_and_respects_the_owner(slots):
    slots.release("nobody")
    slots.acquire("session", owner="run-2")
    slots.release("session", owner="run-1")  # an older trainer of the session
    assert slots.status() == (["session"], [])
    slots.release("session", owner="run-2")
    assert slots.status() == ([], [])


def test_a_failing_reclaim_callback_does_not_break_the_caller(slots, clock):
    def boom():
        raise RuntimeError("boom")

    slots.acquire("a", on_reclaim=boom)
    clock.now += 30
    assert slots.acquire("b").granted
    assert slots.status() == (["b"], [])


def test_the_limit_is_read_at_every_call():
    limit = [1]
    slots = capacity.Slots(lambda: limit[0], stale_s=20.0)
    assert slots.acquire("a").granted
    assert not slots.acquire("b").granted
    limit[0] = 2
    assert slots.acquire("b").granted


def test_concurrent_sessions_never_exceed_the_limit():
    slots = capacity.Slots(3, stale_s=60.0)
    holding, peak, lock = set(), [0], threading.Lock()
    barrier = threading.Barrier(12)

    def session(i: int) -> None:
        key = f"s{i}"
        barrier.wait()
        for _ in range(200):
            if slots.acquire(key).granted:
                with lock:
                    holding.add(key)
                    peak[0] = max(peak[0], len(holding))
                with lock:
                    holding.discard(key)
                slots.release(key)

    threads = [threading.Thread(target=session, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert 1 <= peak[0] <= 3
    assert slots.status() == ([], [])


def test_the_server_registry_follows_the_limits_module(monkeypatch):
    monkeypatch.setattr(limits, "MAX_TRAINING_SESSIONS", 5)
    monkeypatch.setattr(limits, "TRAINING_SLOT_TIMEOUT_S", 7.0)
    assert capacity.SLOTS.limit == 5 and capacity.SLOTS.stale_s == 7.0


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 2), ("3", 3), ("0", 1), ("lots", 2), ("nan", 2)]
)
def test_the_limit_can_be_set_by_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("NN_LAB_MAX_TRAINING", raising=False)
    else:
        monkeypatch.setenv("NN_LAB_MAX_TRAINING", value)
    assert int(limits._env_number("NN_LAB_MAX_TRAINING", 2, 1)) == expected


def test_the_limits_text_names_both_training_limits():
    assert f"{limits.MAX_TRAINING_SESSIONS} runs train at once" in limits.LIMITS_TEXT
    assert f"{limits.duration_text(limits.MAX_RUN_CPU_S)} of compute per run" in (
        limits.LIMITS_TEXT
    )
    assert limits.duration_text(600) == "10 minutes"
    assert limits.duration_text(90) == "1.5 minutes"
    assert limits.duration_text(1) == "1 second"


# ---- runs and their slots ----


def started(slots, **settings) -> loop.Trainer:
    trainer = make_trainer(**{"epochs": 10_000, **settings})
    loop.start(trainer)
    return trainer


def test_runs_past_the_limit_queue_and_start_when_a_slot_frees(slots):
    a, b, c = (started(slots) for _ in range(3))
    assert loop.tick(a, slots, 0.0) == 1
    assert loop.tick(b, slots, 0.0) == 1
    assert loop.tick(c, slots, 0.0) == 0
    assert c.status == loop.QUEUED and c.running and c.epochs_trained == 0
    assert c.ticket == capacity.Ticket(False, 0, 2, 2)
    assert loop.queue_message(c.ticket).startswith(
        "Queued: 2 runs ahead; it starts when one finishes."
    )
    loop.pause(a)
    assert a.status == loop.PAUSED and a.slots is None
    assert loop.tick(c, slots, 0.0) == 1
    assert c.status == loop.RUNNING and c.ticket is None
    assert slots.status() == ([b.run_id, c.run_id], [])


ENDINGS = {  # how a run stops, and the status it then has
    "finish": loop.FINISHED,
    "pause": loop.PAUSED,
    "reset": loop.READY,
    "diverge": loop.DIVERGED,
    "fail": loop.FAILED,
    "stop early": loop.EARLY_STOPPED,
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_a_run_gives_its_slot_back_whenever_it_stops(slots, ending):
    settings = {"epochs": 3 if ending == "finish" else 10_000}
    if ending == "stop early":
        settings.update(learning_rate=0.5, batch_size=4, early_stopping=True, patience=1)
    trainer = started(slots, **settings)
    other = started(slots)
    waiting = started(slots)
    assert loop.tick(trainer, slots, 0.0) == 1
    loop.tick(other, slots, 0.0)
    assert not loop.admit(waiting, slots)
    if ending == "pause":
        loop.pause(trainer)
    elif ending == "reset":
        loop.reset(trainer)
    elif ending == "diverge":
        trainer.settings["learning_rate"] = 1e6
        trainer.net = nn.Network.from_config(
            {"layers": [4, 8, 3], "activation": "relu", "output_activation": "linear",
             "loss": "squared_error", "init": "he", "seed": 0}
        )  # fmt: skip
        trainer.X_train = trainer.X_train * 100
    elif ending == "fail":
        trainer.y_train = np.full_like(trainer.y_train, 7)  # a label the network cannot have
    for _ in range(2000):
        if not trainer.running:
            break
        loop.tick(trainer, slots, 0.0)
    assert not trainer.running and trainer.slots is None
    assert trainer.status == ENDINGS[ending]
    assert trainer.run_id not in slots.status()[0]
    assert loop.admit(waiting, slots)  # the queued run takes the freed slot


def test_pause_while_queued_gives_up_the_place_and_resets_the_status(slots):
    a, b, c, d = (started(slots) for _ in range(4))
    for t in (a, b, c, d):
        loop.admit(t, slots)
    assert d.ticket.ahead == 1
    loop.pause(c)
    assert c.status == loop.READY and not c.running and c.ticket is None
    loop.admit(d, slots)
    assert d.ticket.ahead == 0
    loop.start(c)
    loop.admit(c, slots)
    assert c.ticket.ahead == 1  # joined again, at the back


def test_a_session_holds_one_slot_whichever_of_its_trainers_asks(slots):
    old, new = started(slots), started(slots)
    old.slot_key = new.slot_key = "session-1"
    assert loop.admit(old, slots)
    assert loop.admit(new, slots)  # the session's slot, now owned by the new trainer
    assert slots.status() == (["session-1"], [])
    loop.release(old)  # the replaced trainer cannot give its successor's slot away
    assert slots.status() == (["session-1"], [])
    loop.pause(new)
    assert slots.status() == ([], [])


def test_step_needs_no_slot(slots):
    a, b = started(slots), started(slots)
    loop.admit(a, slots)
    loop.admit(b, slots)
    paused = make_trainer(epochs=10)
    assert loop.step(paused) == 1  # all slots taken, one epoch anyway
    assert slots.status() == ([a.run_id, b.run_id], [])


def test_a_stale_slot_frees_the_network_s_work_arrays(slots, clock):
    trainer = started(slots)
    loop.tick(trainer, slots, 0.0)
    assert trainer.net._workspaces  # batch and evaluation buffers kept between chunks
    clock.now += 30  # the tab was closed: no more ticks
    other = started(slots)
    assert loop.admit(other, slots)  # any call reaps
    assert not trainer.net._workspaces
    assert slots.status()[0] == [other.run_id]
    # the session comes back (a network blip): it asks again and trains on
    assert loop.tick(trainer, slots, 0.0) == 1


def test_a_run_that_loses_its_slot_waits_without_its_work_arrays(slots):
    trainer = started(slots)
    loop.tick(trainer, slots, 0.0)
    assert trainer.net._workspaces
    slots.clear()  # as if its slot had gone stale and two others had taken the slots
    for key in ("x", "y"):
        slots.acquire(key)
    assert loop.tick(trainer, slots, 0.0) == 0
    assert trainer.status == loop.QUEUED and not trainer.net._workspaces
