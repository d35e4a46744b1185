"""Off-chip memory: controllers at mesh positions, shared by every TBU that reads through them.

Everything a TBU reads from off-chip memory goes through :meth:`MemorySystem.read`: a
configuration (weights and program) being loaded, weights streamed during a firing (a
configuration too large to be resident), and a firing's ``input_bytes``. By
``memory.placement``:

- ``private``: every TBU has its own link, ``tbu.config_load_bytes_per_cycle`` for
  configurations and ``tbu.memory_bytes_per_cycle`` for the rest; nothing is shared and there
  is no latency: ``end = now + ceil(bytes / rate)`` (the contention-free corner).
- ``per_cluster`` / ``chip_edge``: controllers at TBU positions (the first TBU of every cluster;
  or, for every cluster on the edge of the chip mesh, the TBU in the middle of that edge). A
  request goes to its cluster's controller (``per_cluster``: each die has its own memory, and
  the machine balance counts a controller per cluster's TBUs) or to the nearest (``chip_edge``;
  by hops, ties to the lowest id), and is served at ``memory.bytes_per_cycle`` in the first
  window from the cycle it is asked for in which the controller is free
  (:class:`~octopus.sim.windows.BookedWindows`: a read asked for a later cycle, such as a load
  behind a busy TBU, leaves the gap before it to reads that fit there; otherwise first come,
  first served); its data then crosses the NoC from the controller's TBU to the requester
  (reserving links under the ``contention`` model) and arrives ``memory.latency_cycles`` after
  the later of the two. The requesting TBU's own port (its ``tbu.*_bytes_per_cycle``) bounds the
  rate too.

``memory.arbitration: interleave`` (the default) serves smaller reads first
(:class:`~octopus.sim.windows.ClassedWindows`; size classes from one TBU's configuration
capacity, so a configuration, a shard or an input is in the first, each next class up to
:data:`~octopus.sim.windows.CLASS_RATIO` times larger): a controller interleaves requests between
the bursts of a long stream, so a 64 KB configuration, or a 30 MB stream, does not wait out a
5 GB decode stream; the larger reads behind pay for what overtook them. Against a fluid,
processor-sharing controller a small read ends sooner here (alone, not sharing) and a large one
is not slowed while it is overtaken; modelling that would move the end of every firing in flight
whenever a read arrives. ``fifo`` serves every read whole, first come, first served.

Traffic is counted in :class:`MemoryStats` by purpose.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from octopus.arch import ArchConfig, Topology, offchip_read_cycles
from octopus.sim.noc import Noc
from octopus.sim.windows import classed_windows

__all__ = ["PURPOSES", "MemoryStats", "MemorySystem"]

PURPOSES = ("weights", "inputs")
"""What a read is for: ``weights`` (configuration loads and streamed weights) or ``inputs``."""


@dataclass(slots=True)
class MemoryStats:
    """Off-chip traffic of a run (mutated by :meth:`MemorySystem.read`)."""

    bytes_by_purpose: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PURPOSES, 0))
    requests: int = 0
    wait_cycles: int = 0  # cycles requests waited for a busy controller

    @property
    def total_bytes(self) -> int:
        return sum(self.bytes_by_purpose.values())


class MemorySystem:
    """The off-chip memory of ``arch`` (module doc); its data crosses ``noc``; ``clock()`` is
    the current cycle."""

    def __init__(self, arch: ArchConfig, topology: Topology, noc: Noc,
                 clock: Callable[[], int]):
        self._arch, self._topo, self._noc = arch, topology, noc
        mem = arch.memory
        self._shared = mem.placement != "private"
        self._sites = _controller_sites(arch, topology) if self._shared else []
        self._booked = classed_windows(len(self._sites), clock, mem.arbitration == "interleave",
                                       arch.config_capacity_bytes)
        self._serving = _serving(mem.placement, topology, self._sites) if self._shared else []
        self.stats = MemoryStats()

    @property
    def controllers(self) -> list[int]:
        """TBU ids the shared controllers sit at (empty when memory is private)."""
        return list(self._sites)

    def read(self, tbu: int, nbytes: int, now: int, purpose: str) -> int:
        """Read ``nbytes`` into ``tbu`` for ``purpose``, asked at ``now``; returns the cycle the
        last byte arrives. Reserves the controller (and NoC links) when memory is shared."""
        if nbytes <= 0:
            return now
        self.stats.bytes_by_purpose[purpose] += nbytes
        self.stats.requests += 1
        port = self._port(purpose)
        if not self._shared:
            return now + offchip_read_cycles(self._arch, nbytes, port)
        ctrl, mem = (self.controller_of(tbu),), self._arch.memory
        hold = math.ceil(nbytes / mem.bytes_per_cycle)
        booked = self._booked
        k = booked.size_class(nbytes)
        start = booked.earliest(ctrl, now, hold, k)
        booked.book(ctrl, start, hold, k, now)
        self.stats.wait_cycles += start - now
        streamed = start + math.ceil(nbytes / min(port, mem.bytes_per_cycle))
        _, arrived = self._noc.transfer(self._sites[ctrl[0]], tbu, nbytes, start)
        return max(streamed, arrived) + mem.latency_cycles

    def estimate(self, tbu: int, nbytes: int, now: int, purpose: str) -> int:
        """The cycle :meth:`read` would return now, without reserving anything (the controller's
        queue counts; NoC contention does not)."""
        if nbytes <= 0:
            return now
        port = self._port(purpose)
        if not self._shared:
            return now + offchip_read_cycles(self._arch, nbytes, port)
        ctrl, mem = self.controller_of(tbu), self._arch.memory
        start = self._booked.earliest((ctrl,), now, math.ceil(nbytes / mem.bytes_per_cycle),
                                      self._booked.size_class(nbytes))
        arrived = self._noc.estimate(self._sites[ctrl], tbu, nbytes, start)
        return max(start + math.ceil(nbytes / min(port, mem.bytes_per_cycle)), arrived) \
            + mem.latency_cycles

    def _port(self, purpose: str) -> int:
        tbu = self._arch.tbu
        return tbu.config_load_bytes_per_cycle if purpose == "weights" \
            else tbu.memory_bytes_per_cycle

    def controller_of(self, tbu: int) -> int:
        """Index (into :attr:`controllers`) of the controller serving ``tbu`` (module doc).
        Only for shared memory (``controllers`` not empty)."""
        return self._serving[tbu]


def _serving(placement: str, topo: Topology, sites: list[int]) -> list[int]:
    """The controller (index into ``sites``) serving each TBU: its cluster's for
    ``per_cluster``, else the nearest by hops (ties to the lowest index)."""
    if placement == "per_cluster":
        return [topo.cluster_of(u) for u in range(topo.num_tbus)]
    pos = [topo.position(u) for u in sites]
    # Hops of the XY route = Manhattan distance on the global mesh (Topology.hops).
    return [min(range(len(sites)), key=lambda c: (
        abs(pos[c][0] - x) + abs(pos[c][1] - y), c)) for x, y in map(topo.position,
                                                                    range(topo.num_tbus))]


def _controller_sites(arch: ArchConfig, topo: Topology) -> list[int]:
    """TBU ids of the controllers of ``arch.memory.placement`` (module doc)."""
    per_x, per_y = arch.cluster.tbus_x, arch.cluster.tbus_y
    cx, cy = arch.chip.clusters_x, arch.chip.clusters_y
    if arch.memory.placement == "per_cluster":
        return [topo.tbus_of(c)[0] for c in range(topo.num_clusters)]
    sites = []
    for c in range(topo.num_clusters):
        x, y = c % cx, c // cx
        if 0 < x < cx - 1 and 0 < y < cy - 1:
            continue  # an inner cluster has no edge
        if y == 0:
            local = (per_x // 2, 0)
        elif y == cy - 1:
            local = (per_x // 2, per_y - 1)
        elif x == 0:
            local = (0, per_y // 2)
        else:
            local = (per_x - 1, per_y // 2)
        sites.append(topo.tbu_at(x * per_x + local[0], y * per_y + local[1]))
    return sites
