"""Indexes of idle TBUs that answer a scheduler's placement questions without scanning them all.

- :class:`IdleSet`: membership and the lowest id, ``O(log n)`` amortised per operation (a heap
  with lazy deletion, compacted when stale entries outnumber the members).
- :class:`IdleMesh`: an :class:`IdleSet` that also finds the member nearest a set of weighted
  sources on the TBU mesh (smallest sum of weight x hops), in ``O(rows x (log columns +
  sources))`` whatever the number of members.
- :class:`IdleRanges`: the aligned power-of-two ranges of TBU ids whose members are all idle,
  by width, kept as an :class:`IdleMesh` of their first TBUs: the lowest of a width, the
  lowest holding a configuration, or the nearest to some sources.
- :class:`IdleTbus`: a machine's idle TBUs as an :class:`IdleMesh`, plus, per Task Block, the
  idle TBUs that hold its configuration. A scheduler reports every TBU it frees and takes; a
  TBU's residency changes only while it is busy, so the index stays exact.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence

from octopus.arch import Topology
from octopus.sim.machine import Machine

__all__ = ["IdleMesh", "IdleRanges", "IdleSet", "IdleTbus"]

Source = tuple[int, int]
"""A TBU holding data a firing needs, and the bytes it holds (the weight of its distance)."""


class IdleSet:
    """A set of TBU ids that knows its lowest member."""

    __slots__ = ("_heap", "_members")

    def __init__(self, tbus: Iterable[int] = ()):
        self._members = set(tbus)
        self._heap = sorted(self._members)  # may hold stale ids (not members) and duplicates

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, tbu: int) -> bool:
        return tbu in self._members

    def __iter__(self) -> Iterator[int]:
        """The members, in no particular order."""
        return iter(self._members)

    def add(self, tbu: int) -> None:
        if tbu not in self._members:
            self._members.add(tbu)
            heapq.heappush(self._heap, tbu)

    def discard(self, tbu: int) -> None:
        if tbu in self._members:
            self._members.discard(tbu)
            if len(self._heap) > 2 * len(self._members) + 32:  # bound the stale entries
                self._heap = sorted(self._members)

    def lowest(self) -> int:
        """The smallest member.

        Raises:
            IndexError: the set is empty.
        """
        heap, members = self._heap, self._members
        while heap and heap[0] not in members:
            heapq.heappop(heap)
        return heap[0]


class IdleMesh(IdleSet):
    """An :class:`IdleSet` of TBUs of ``topology`` that finds the member nearest some sources."""

    __slots__ = ("_at", "_pos", "_rows")

    def __init__(self, topology: Topology):
        super().__init__()
        self._pos = [topology.position(u) for u in range(topology.num_tbus)]
        width = 1 + max(x for x, _ in self._pos)
        height = 1 + max(y for _, y in self._pos)
        self._at = [[topology.tbu_at(x, y) for x in range(width)] for y in range(height)]
        self._rows: list[list[int]] = [[] for _ in range(height)]  # sorted x of members per row

    def add(self, tbu: int) -> None:
        if tbu not in self:
            super().add(tbu)
            x, y = self._pos[tbu]
            insort(self._rows[y], x)

    def discard(self, tbu: int) -> None:
        if tbu in self:
            super().discard(tbu)
            x, y = self._pos[tbu]
            row = self._rows[y]
            del row[bisect_left(row, x)]

    def nearest(self, sources: Sequence[Source], prefer: Callable[[int], bool]) -> int:
        """The member with the smallest sum over ``sources`` of bytes x hops to it; ties go to
        a member for which ``prefer`` is true, then to the lowest id.

        In each mesh row the cost is convex in the column and smallest on the weighted-median
        interval of the sources' columns, so only the members on that interval and the nearest
        one on either side of it can be best: a few per row are scored.

        Raises:
            ValueError: the sources weigh nothing in total (every member would tie).
            IndexError: the mesh is empty.
        """
        if not self:
            raise IndexError("no idle TBU")
        points = sorted((*self._pos[u], nbytes) for u, nbytes in sources)
        total = sum(w for _, _, w in points)
        if total <= 0:
            raise ValueError("sources of zero bytes leave every TBU equally near")
        lo = hi = None  # the columns where the weighted median lies: [lo, hi]
        seen = 0
        for x, _, w in points:
            seen += w
            if lo is None and 2 * seen >= total:
                lo = x
            if 2 * seen > total:
                hi = x
                break
        best: tuple[int, bool, int] | None = None
        for y, row in enumerate(self._rows):
            if not row:
                continue
            row_cost = sum(w * abs(y - py) for _, py, w in points)
            first, last = bisect_left(row, lo), bisect_right(row, hi)
            for x in row[max(first - 1, 0):last + 1]:
                u = self._at[y][x]
                key = (row_cost + sum(w * abs(x - px) for px, _, w in points), not prefer(u), u)
                if best is None or key < best:
                    best = key
        assert best is not None
        return best[2]


class IdleRanges:
    """The ranges ``[s, s + w)`` of TBU ids of ``topology``, ``w`` a power of two up to
    ``max_width`` and ``s`` a multiple of ``w``, whose members are all idle; a range is known
    by its first TBU, its *lead*. Every TBU starts busy."""

    __slots__ = ("_full", "_idle", "_idle_members", "_widths")

    def __init__(self, topology: Topology, max_width: int):
        num_tbus = topology.num_tbus
        self._widths = tuple(1 << p for p in range(max_width.bit_length()) if 1 << p <= max_width)
        self._idle: set[int] = set()
        self._idle_members = {w: [0] * (num_tbus // w) for w in self._widths}  # per range
        self._full = {w: IdleMesh(topology) for w in self._widths}

    def free(self, tbu: int) -> None:
        """``tbu`` is idle (again); no change if it already was."""
        if tbu in self._idle:
            return
        self._idle.add(tbu)
        for w in self._widths:
            counts, k = self._idle_members[w], tbu // w
            if k < len(counts):
                counts[k] += 1
                if counts[k] == w:
                    self._full[w].add(k * w)

    def take(self, tbu: int) -> None:
        """``tbu`` is about to be busy; no change if it already was."""
        if tbu not in self._idle:
            return
        self._idle.discard(tbu)
        for w in self._widths:
            counts, k = self._idle_members[w], tbu // w
            if k < len(counts):
                counts[k] -= 1
                self._full[w].discard(k * w)

    def any(self, width: int) -> bool:
        """Whether some range of ``width`` TBUs is all idle."""
        return bool(self._full[width])

    def lowest(self, width: int) -> int | None:
        """The lead of the lowest all-idle range of ``width`` TBUs, or None."""
        full = self._full[width]
        return full.lowest() if full else None

    def nearest(self, width: int, sources: Sequence[Source], holders: IdleSet) -> int:
        """The lead of the all-idle range of ``width`` TBUs nearest ``sources`` (bytes x hops
        to its lead), ties to a lead in ``holders``, then to the lowest; with no source bytes,
        the lowest lead in ``holders``, else the lowest. Scans ``holders`` only then.

        Raises:
            IndexError: no range of ``width`` is all idle.
        """
        full = self._full[width]
        if any(nbytes for _, nbytes in sources):
            return full.nearest(sources, holders.__contains__)
        held = min((u for u in holders if u in full), default=None)
        return full.lowest() if held is None else held


class IdleTbus:
    """The idle TBUs of ``machine``: all of them (:class:`IdleMesh`) and, per Task Block, those
    holding its configuration (:meth:`holding`). Every TBU starts idle.

    The scheduler calls :meth:`take` before it dispatches on or pre-loads a TBU, and
    :meth:`free` when the TBU is idle again; a TBU's resident configurations are read then.
    """

    def __init__(self, machine: Machine):
        self._machine = machine
        self.all = IdleMesh(machine.topology)
        self._holding: dict[str, IdleMesh] = defaultdict(lambda: IdleMesh(machine.topology))
        for u in range(machine.topology.num_tbus):
            self.free(u)

    def __len__(self) -> int:
        return len(self.all)

    def free(self, tbu: int) -> None:
        """``tbu`` is idle (again)."""
        self.all.add(tbu)
        for b in self._machine.tbus[tbu].residency.held():
            self._holding[b].add(tbu)

    def take(self, tbu: int) -> None:
        """``tbu`` is about to be busy."""
        self.all.discard(tbu)
        for b in self._machine.tbus[tbu].residency.held():
            self._holding[b].discard(tbu)

    def holding(self, block_id: str) -> IdleMesh:
        """The idle TBUs that hold ``block_id``'s configuration (do not modify it)."""
        return self._holding[block_id]

    def nearest(self, sources: Sequence[Source], block_id: str, holders_only: bool = False
                ) -> int:
        """The idle TBU nearest ``sources`` by bytes x hops (only among those holding
        ``block_id``'s configuration if ``holders_only``); ties go to a holder, then to the
        lowest id. With no source bytes every TBU is as near: the lowest holder if there is
        one, else the lowest id.

        Raises:
            IndexError: no idle TBU (holding the configuration, if ``holders_only``).
        """
        holders = self._holding[block_id]
        mesh = holders if holders_only else self.all
        if any(nbytes for _, nbytes in sources):
            return mesh.nearest(sources, holders.__contains__)
        return holders.lowest() if holders else mesh.lowest()
