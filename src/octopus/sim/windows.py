"""Booked windows of shared resources (NoC links, memory controllers), with gaps reusable.

A resource is booked for half-open windows ``[start, end)`` of cycles that never overlap. A
request may be made for a future cycle (a group's exchange once its compute ends, a load
behind a busy TBU), so a resource can hold a booking that starts later than a request made
after it: :meth:`BookedWindows.earliest` lets such a request take the gap before that booking
if it fits, instead of queueing behind the booking's end (which would let a transfer booked to
start in a million cycles hold a link idle until then).

Windows that end before the clock (the simulation's current cycle, from ``clock``; no request
is ever made for an earlier cycle) are dropped as bookings are added, so each resource keeps
only the windows still to come.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence

__all__ = ["BookedWindows"]

_PRUNE_AT = 8  # windows a resource keeps before those in the past are dropped


class BookedWindows:
    """Windows booked on ``n`` resources (module doc); ``clock()`` is the current cycle."""

    __slots__ = ("_clock", "_ends", "_starts", "last_end")

    def __init__(self, n: int, clock: Callable[[], int]):
        self._clock = clock
        self._starts: list[list[int]] = [[] for _ in range(n)]
        self._ends: list[list[int]] = [[] for _ in range(n)]
        self.last_end = [0] * n
        """Per resource, the cycle from which it has no booking."""

    def earliest(self, resources: Sequence[int], at: int, hold: int) -> int:
        """The first cycle ``>= at`` from which every one of ``resources`` is free for
        ``hold`` cycles."""
        last_end = self.last_end
        if max(map(last_end.__getitem__, resources)) <= at:  # Speed: nothing booked ahead
            return at
        start, moved = at, True
        while moved:
            moved = False
            for r in resources:
                if last_end[r] <= start:
                    continue
                ends = self._ends[r]
                i = bisect_right(ends, start)  # the first window ending after ``start``
                if self._starts[r][i] < start + hold:
                    start, moved = ends[i], True
        return start

    def book(self, resources: Sequence[int], start: int, hold: int) -> None:
        """Book ``[start, start + hold)`` on each of ``resources`` (free then: see
        :meth:`earliest`)."""
        end = start + hold
        for r in resources:
            starts, ends = self._starts[r], self._ends[r]
            if start >= self.last_end[r]:
                starts.append(start)
                ends.append(end)
                self.last_end[r] = end
            else:
                i = bisect_right(ends, start)
                starts.insert(i, start)
                ends.insert(i, end)
            if len(ends) > _PRUNE_AT:
                self._prune(starts, ends)

    def book_free(self, resources: Sequence[int], start: int, hold: int) -> None:
        """Book ``[start, start + hold)`` on each of ``resources``, none of which has a booking
        ending after ``start`` (``last_end[r] <= start``, unchecked). The same windows and the
        same pruning as :meth:`book`, without its search for the gap a window goes in."""
        end = start + hold
        all_starts, all_ends, last_end = self._starts, self._ends, self.last_end
        for r in resources:
            starts, ends = all_starts[r], all_ends[r]
            starts.append(start)
            ends.append(end)
            last_end[r] = end
            if len(ends) > _PRUNE_AT:
                self._prune(starts, ends)

    def _prune(self, starts: list[int], ends: list[int]) -> None:
        """Drop one resource's windows that end before the clock."""
        past = bisect_right(ends, self._clock())
        del starts[:past], ends[:past]
