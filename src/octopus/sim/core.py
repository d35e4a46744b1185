"""The event core: an integer-cycle clock and a heap of callbacks. It knows no event meanings.

Heap entries are ``(time, prio, seq, fn, args)``. At equal ``time`` a lower ``prio`` fires first;
at equal ``time`` and ``prio``, the earlier ``schedule`` call fires first (``seq``). The named
priorities fix the tie order the simulator relies on:

* :data:`COMPLETION` (0): a TB firing, transfer or configuration load finishes and frees state;
* :data:`RELEASE` (1): work becomes ready (an instance arrives, a dependency is met);
* :data:`DECISION` (2): a scheduler is invoked, and so sees every completion and release of
  its cycle before it decides.

Example::

    >>> core = EventCore()
    >>> order = []
    >>> core.schedule(5, DECISION, order.append, "decide")
    >>> core.schedule(5, COMPLETION, order.append, "done")
    >>> core.run(), order
    (5, ['done', 'decide'])
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from heapq import heappop, heappush
from itertools import count
from typing import Any

__all__ = ["COMPLETION", "DECISION", "RELEASE", "EventCore"]

COMPLETION = 0
RELEASE = 1
DECISION = 2

_STOP_PRIO = float("-inf")  # sorts before every integer priority at the same time


class _Stop(Exception):
    """Raised by the stop sentinel event; caught by :meth:`EventCore.run`."""


def _raise_stop() -> None:
    raise _Stop


class EventCore:
    """A discrete-event loop over integer cycles.

    Callbacks are plain callables ``fn(*args)`` and return nothing; they schedule follow-ups
    themselves. An exception raised by a callback propagates out of :meth:`step`/:meth:`run`
    with the clock at that event's time and the event removed.
    """

    __slots__ = ("_heap", "_next_seq", "_now")

    def __init__(self, start_cycle: int = 0):
        self._now = start_cycle
        self._heap: list[tuple[Any, ...]] = []
        self._next_seq = count().__next__  # bound once: cheaper than next(it)

    @property
    def now(self) -> int:
        """The current time in cycles: the time of the event being (or last) fired."""
        return self._now

    def __len__(self) -> int:
        """Number of pending events."""
        return len(self._heap)

    def schedule(self, delay_cycles: int, prio: int, fn: Callable[..., object], *args: Any) -> None:
        """Fire ``fn(*args)`` at ``now + delay_cycles`` with tie priority ``prio``.

        Raises:
            ValueError: ``delay_cycles`` is negative (scheduling in the past).
        """
        if delay_cycles < 0:
            raise ValueError(f"cannot schedule in the past (delay {delay_cycles} cycles)")
        heappush(self._heap, (self._now + delay_cycles, prio, self._next_seq(), fn, args))

    def schedule_at(
        self, time_cycle: int, prio: int, fn: Callable[..., object], *args: Any
    ) -> None:
        """Fire ``fn(*args)`` at absolute cycle ``time_cycle`` with tie priority ``prio``.

        Raises:
            ValueError: ``time_cycle`` is before :attr:`now`.
        """
        if time_cycle < self._now:
            raise ValueError(f"cannot schedule at cycle {time_cycle} < now ({self._now})")
        heappush(self._heap, (time_cycle, prio, self._next_seq(), fn, args))

    def peek(self) -> int | None:
        """Time of the next event in cycles, or ``None`` when nothing is pending."""
        return self._heap[0][0] if self._heap else None

    def step(self) -> bool:
        """Fire the next event; return ``False`` (and do nothing) when none is pending."""
        if not self._heap:
            return False
        self._now, _, _, fn, args = heappop(self._heap)
        with suppress(_Stop):
            fn(*args)
        return True

    def stop(self) -> None:
        """Make the running :meth:`run` return once the current callback has returned.

        Pending events are kept; a later :meth:`run` resumes with them. Called outside ``run``,
        the next ``run`` returns before firing anything.
        """
        # A sentinel event at now that sorts first, rather than a flag tested per event.
        heappush(self._heap, (self._now, _STOP_PRIO, self._next_seq(), _raise_stop, ()))

    def run(self, until: int | None = None) -> int:
        """Fire events in order until none is left, ``until`` is passed, or :meth:`stop`.

        Args:
            until: fire only events at times ``<= until`` cycles, then set the clock to
                ``until``. ``None`` runs until the heap is empty.

        Returns:
            :attr:`now`: the time of the last event fired (or ``until``, or the stop time).

        Raises:
            ValueError: ``until`` is before :attr:`now`.
        """
        heap = self._heap
        try:
            if until is None:
                # Speed: locals only; this loop is the simulator's inner loop.
                while heap:
                    self._now, _, _, fn, args = heappop(heap)
                    fn(*args)
                return self._now
            if until < self._now:
                raise ValueError(f"run(until={until}) is before now ({self._now})")
            while heap and heap[0][0] <= until:
                self._now, _, _, fn, args = heappop(heap)
                fn(*args)
            self._now = until
        except _Stop:
            pass
        return self._now
