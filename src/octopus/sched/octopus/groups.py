"""The elastic groups of each width, searched in a few array operations whatever the machine.

A group of width ``k`` is an aligned range of TBU ids ``[s, s + k)``, ``s`` a multiple of
``k``. :class:`GroupIndex` mirrors what the search needs of every TBU (cycle it is busy until,
dispatches in flight, whether it is elastic) in numpy arrays; the scheduler refreshes the TBUs
whose state it changed (a dispatch, a preload, a completion), so a search costs ``O(n / k)``
vector work per width instead of a Python loop over every TBU. Searches between two changes
share their vector work: a decision round that places nothing asks the same questions for
every queued block, differing only in the home cluster.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import numpy as np

from octopus.arch import Topology
from octopus.sim.machine import Machine

__all__ = ["GroupIndex"]


class GroupIndex:
    """Busy-until cycles, dispatches in flight and elastic membership of ``machine``'s TBUs."""

    def __init__(self, machine: Machine, topology: Topology):
        n = topology.num_tbus
        self.machine = machine
        self.busy_until = np.zeros(n, dtype=np.int64)
        self.in_flight = np.zeros(n, dtype=np.int64)
        self.elastic = np.zeros(n, dtype=bool)
        self.cluster = np.array([topology.cluster_of(u) for u in range(n)])
        clusters = topology.num_clusters
        self.distance = np.array([[topology.cluster_distance(a, b) for b in range(clusters)]
                                  for a in range(clusters)])
        self._groups: dict[tuple, tuple[np.ndarray, tuple[int, int] | None]] = {}
        self._leads: dict[tuple, set[int]] = {}
        self._usable: dict[int, np.ndarray] = {}  # width -> whether each group is all elastic
        self.refresh(range(n))

    def set_elastic(self, elastic: Collection[int]) -> None:
        self.elastic[:] = False
        self.elastic[list(elastic)] = True
        self._usable.clear()
        self._forget()

    def refresh(self, tbus: Iterable[int]) -> None:
        """Read the state of ``tbus`` from the machine (after it changed)."""
        states = self.machine.tbus
        for u in tbus:
            self.busy_until[u] = states[u].busy_until
            self.in_flight[u] = states[u].in_flight
        self._forget()

    def _forget(self) -> None:
        self._groups.clear()
        self._leads.clear()

    def search(self, width: int, now: int, home: int, reserved: tuple[int, ...],
               busy_too: bool) -> tuple[int | None, tuple[int, int] | None]:
        """The groups of ``width`` that are all elastic and outside ``reserved``: the lead of
        the idle one nearest cluster ``home`` (lowest id on ties), and ``(free cycle, lead)``
        of the busy one (every member with room for one more dispatch) that frees first
        (``busy_too``); None where there is none."""
        idle, busy = self._found(width, reserved, busy_too)
        lead = None
        if len(idle):
            dist = self.distance[home, self.cluster[idle * width]]
            lead = int(idle[np.argmin(dist)] * width)  # the first (lowest id) on ties
        return lead, (busy if busy is None else (max(now, busy[0]), busy[1]))

    def idle_leads(self, width: int, reserved: tuple[int, ...]) -> set[int]:
        """The leads of every idle group of ``width`` that is all elastic and outside
        ``reserved``; not to be modified."""
        key = (width, reserved)
        leads = self._leads.get(key)
        if leads is None:
            idle, _ = self._found(width, reserved, False)
            leads = self._leads[key] = set((idle * width).tolist())
        return leads

    def _found(self, width: int, reserved: tuple[int, ...], busy_too: bool
               ) -> tuple[np.ndarray, tuple[int, int] | None]:
        key = (width, reserved, busy_too)
        found = self._groups.get(key)
        if found is None:
            found = self._groups[key] = self._scan(width, reserved, busy_too)
        return found

    def _scan(self, width: int, reserved: tuple[int, ...], busy_too: bool
              ) -> tuple[np.ndarray, tuple[int, int] | None]:
        """The indices of the idle usable groups of ``width``, and ``(free cycle, lead)`` of
        the busy one that frees first (or None; not searched unless ``busy_too``)."""
        count = len(self.busy_until) // width
        span = count * width

        def per_group(a: np.ndarray) -> np.ndarray:
            return a[:span].reshape(count, width)

        usable = self._usable.get(width)
        if usable is None:  # Speed: kept until set_elastic (a re-plan), which is rare
            usable = self._usable[width] = per_group(self.elastic).all(axis=1)
        if reserved:
            usable = usable.copy()
            usable[sorted({u // width for u in reserved if u < span})] = False
        flight = per_group(self.in_flight)
        idle = usable & (flight == 0).all(axis=1)
        busy = None
        if busy_too:
            takes = usable & ~idle & (flight <= 1).all(axis=1)
            if takes.any():
                groups = np.flatnonzero(takes)
                free = per_group(self.busy_until).max(axis=1)[groups]
                best = int(np.argmin(free))  # the first (lowest id) on ties
                busy = (int(free[best]), int(groups[best] * width))
        return np.flatnonzero(idle), busy
