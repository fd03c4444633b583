"""Training slots shared by every session of this server process: a few runs train at once.

No Streamlit here. One server process serves every visitor on two cores, so the app lets at
most ``limits.MAX_TRAINING_SESSIONS`` runs train at the same time. A run asks for a slot at
every tick of its page (``acquire`` is also its heartbeat); when all slots are taken it waits in
a first-come, first-served queue and learns how many runs are ahead of it, and it takes a slot
by itself at a later tick once it is first in line. ``release`` gives the slot or the place in
the queue back (Pause, Reset, the end of the run). A run that stops asking for ``stale_s``
seconds (its tab was closed, or the browser throttles a hidden tab's timer) loses its slot or
place, and whoever asked for it is told (``on_reclaim``), so a closed tab never holds a slot
for long; a run that comes back simply asks again.

Keys are the sessions' ids: a session holds at most one slot, whichever of its trainers asks.
``owner`` names the trainer that holds it, so that a trainer the session has since replaced
cannot give away its successor's slot.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from dashboard.common import limits


@dataclass(frozen=True)
class Ticket:
    """The answer to ``acquire``: a slot, or a place in the queue."""

    granted: bool
    ahead: int  # runs waiting before this one (0 when granted)
    training: int  # runs holding a slot right now
    slots: int  # how many runs may train at once


@dataclass
class _Entry:
    seen: float  # clock time of the last acquire
    owner: str
    on_reclaim: Callable[[], None] | None


class Slots:
    """At most ``limit`` holders at a time, the others queued in order of arrival.

    ``limit`` and ``stale_s`` may be callables, read at every call (the app passes the current
    values of ``dashboard.common.limits``). Thread-safe: every session ticks in its own thread.
    """

    def __init__(
        self,
        limit: int | Callable[[], int],
        stale_s: float | Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._stale_s = stale_s
        self._clock = clock
        self._lock = threading.Lock()
        self._holders: dict[str, _Entry] = {}
        self._waiting: OrderedDict[str, _Entry] = OrderedDict()  # first come first

    def __repr__(self) -> str:
        holders, waiting = self.status()
        return f"Slots(limit={self.limit}, training={len(holders)}, waiting={len(waiting)})"

    @property
    def limit(self) -> int:
        """How many runs may train at once."""
        return max(1, int(self._limit() if callable(self._limit) else self._limit))

    @property
    def stale_s(self) -> float:
        """Seconds without an ``acquire`` after which a slot or a place is given up."""
        return float(self._stale_s() if callable(self._stale_s) else self._stale_s)

    def acquire(
        self, key: str, owner: str = "", on_reclaim: Callable[[], None] | None = None
    ) -> Ticket:
        """Keep or take a slot for ``key``, or keep (or join) its place in the queue.

        A waiting key gets a slot only when every key before it in the queue got one: a slot
        that frees while the first in line has not asked yet stays free for it (until that one
        goes stale). ``on_reclaim`` is called, outside the lock, if the key's slot or place is
        later given up because it stopped asking.
        """
        with self._lock:
            now = self._clock()
            reclaimed = self._reap(now)
            limit = self.limit
            entry = self._holders.get(key)
            if entry is not None:
                entry.seen, entry.owner, entry.on_reclaim = now, owner, on_reclaim
                ticket = Ticket(True, 0, len(self._holders), limit)
            else:
                entry = self._waiting.get(key)
                if entry is None:
                    self._waiting[key] = _Entry(now, owner, on_reclaim)
                else:
                    entry.seen, entry.owner, entry.on_reclaim = now, owner, on_reclaim
                position = list(self._waiting).index(key)
                if position < limit - len(self._holders):
                    self._holders[key] = self._waiting.pop(key)
                    ticket = Ticket(True, 0, len(self._holders), limit)
                else:
                    ticket = Ticket(False, position, len(self._holders), limit)
        _call(reclaimed)
        return ticket

    def release(self, key: str, owner: str | None = None) -> None:
        """Give back ``key``'s slot or place (nothing when it has none, or when ``owner`` is
        given and another owner holds it now)."""
        with self._lock:
            reclaimed = self._reap(self._clock())
            for table in (self._holders, self._waiting):
                entry = table.get(key)
                if entry is not None and (owner is None or entry.owner == owner):
                    del table[key]
        _call(reclaimed)

    def status(self) -> tuple[list[str], list[str]]:
        """The keys holding a slot and the keys waiting, in queue order (stale ones dropped)."""
        with self._lock:
            reclaimed = self._reap(self._clock())
            holders, waiting = list(self._holders), list(self._waiting)
        _call(reclaimed)
        return holders, waiting

    def clear(self) -> None:
        """Forget every slot and place (tests)."""
        with self._lock:
            self._holders.clear()
            self._waiting.clear()

    def _reap(self, now: float) -> list[Callable[[], None]]:
        """Drop the entries not seen for ``stale_s``; their callbacks, to call after the lock."""
        cutoff = now - self.stale_s
        callbacks = []
        for table in (self._holders, self._waiting):
            for key in [k for k, e in table.items() if e.seen < cutoff]:
                entry = table.pop(key)
                if entry.on_reclaim is not None:
                    callbacks.append(entry.on_reclaim)
        return callbacks


def _call(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        # another session's clean-up must never break the tick of the session that reaped it
        with contextlib.suppress(Exception):
            callback()


# The server's one registry. Module globals are shared by every visitor: this holds only
# session ids, clock times and weak callbacks, never a session's data.
SLOTS = Slots(lambda: limits.MAX_TRAINING_SESSIONS, lambda: limits.TRAINING_SLOT_TIMEOUT_S)
