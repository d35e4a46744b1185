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

:class:`ClassedWindows` serves smaller requests first (the ``interleave`` arbitration of memory
controllers and NoC links).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence

__all__ = ["CLASS_RATIO", "BookedWindows", "ClassedWindows", "classed_windows"]

_PRUNE_AT = 8  # windows a resource keeps before those in the past are dropped
CLASS_RATIO = 4  # under interleave, a size class holds requests up to 4x the one below's
SIZE_CLASSES = 8  # the last: over 4**6 times the first class's largest (6.4 GB on the presets)


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


class ClassedWindows:
    """Booked windows of ``n`` resources whose requests are served smaller first.

    A request of ``nbytes`` falls in a size class: the first holds requests of at most
    ``first_bytes``, each next one up to ``ratio`` times larger, the last the rest (``classes``
    in all; one class is plain first come, first served). A request waits only for the windows
    of its class and the smaller ones, so it goes ahead of larger requests queued or in flight
    (as a memory controller or a router interleaves requests between the bursts of a long
    stream). Where it overtakes a larger request's window, its cycles are also booked after
    that window in the larger classes: the larger requests behind pay for them, so the
    resource is not granted more than its capacity for long (the overtaken request itself
    is not slowed; the error is bounded by the smaller traffic).
    """

    __slots__ = ("_first", "_lanes", "_ratio", "_used")

    def __init__(self, n: int, clock: Callable[[], int], classes: int, first_bytes: int,
                 ratio: int):
        self._lanes = [BookedWindows(n, clock) for _ in range(classes)]
        self._first, self._ratio = first_bytes, ratio
        self._used = 0  # the largest class booked so far: the lanes above hold nothing

    def size_class(self, nbytes: int) -> int:
        """The class of a request of ``nbytes``."""
        k, largest, last = 0, self._first, len(self._lanes) - 1
        while nbytes > largest and k < last:
            k, largest = k + 1, largest * self._ratio
        return k

    def earliest(self, resources: Sequence[int], at: int, hold: int, size_class: int) -> int:
        """The first cycle ``>= at`` from which every one of ``resources`` is free for ``hold``
        cycles of requests of ``size_class`` and the smaller classes."""
        lanes = self._lanes[:min(size_class, self._used) + 1]
        start, moved = at, True
        while moved:
            moved = False
            for lane in lanes:
                found = lane.earliest(resources, start, hold)
                if found != start:
                    start, moved = found, len(lanes) > 1
        return start

    def book(self, resources: Sequence[int], start: int, hold: int, size_class: int,
             at: int) -> None:
        """Book ``[start, start + hold)`` (found by :meth:`earliest`) for a request of
        ``size_class`` asked at ``at``, and its cycles after every larger window it
        overtakes (class doc)."""
        lanes = self._lanes
        lanes[size_class].book(resources, start, hold)
        for lane in lanes[size_class + 1:self._used + 1]:
            if max([lane.last_end[r] for r in resources]) > start:
                lane.book(resources, lane.earliest(resources, at, hold), hold)
        self._used = max(self._used, size_class)

    def book_free(self, resources: Sequence[int], start: int, hold: int,
                  size_class: int) -> None:
        """:meth:`BookedWindows.book_free` in ``size_class``: no class holds a window on
        ``resources`` ending after ``start`` (:meth:`last_end`, unchecked)."""
        self._lanes[size_class].book_free(resources, start, hold)
        self._used = max(self._used, size_class)

    def last_end(self, resource: int) -> int:
        """The cycle from which ``resource`` has no booking in any class."""
        return max(lane.last_end[resource] for lane in self._lanes[:self._used + 1])


def classed_windows(n: int, clock: Callable[[], int], interleave: bool,
                    first_bytes: int) -> ClassedWindows:
    """:class:`ClassedWindows` of ``n`` resources: :data:`SIZE_CLASSES` classes from
    ``first_bytes`` up by :data:`CLASS_RATIO` if ``interleave``, else one (first come, first
    served)."""
    return ClassedWindows(n, clock, SIZE_CLASSES if interleave else 1, first_bytes, CLASS_RATIO)
