"""The network-on-chip: timing of TBU-to-TBU transfers at two fidelities, plus traffic stats.

Both models send a transfer along the XY route of :class:`octopus.arch.Topology` as a
cut-through stream: data flows at the rate of the slowest link on the route (the bottleneck),
and each hop adds only its latency, so

    ``end = start + intra_hops * hop_latency + d2d_hops * d2d_latency + ceil(bytes / bottleneck)``

* ``analytic``: no contention, ``start = now``; identical to
  :func:`octopus.arch.transfer_cycles`.
* ``contention``: every link keeps the windows it is booked for
  (:class:`~octopus.sim.windows.BookedWindows`). A transfer holds *all* links of its route for
  one window ``[start, start + ceil(bytes / bottleneck))`` (a wormhole that spans the route;
  per-hop latency delays arrival but is not reserved), where ``start`` is the first cycle
  ``>= now`` at which every link on the route is free for that long. A transfer may be asked
  for a future cycle (a group's exchange after its compute), so one asked later may fit in the
  gap before it; otherwise links are granted in call order.

A transfer of zero bytes, or from a TBU to itself, takes no time, uses no link and is not
counted in the stats.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from octopus.arch.config import ArchConfig
from octopus.arch.costs import bottleneck_bytes_per_cycle
from octopus.arch.topology import Topology
from octopus.sim.recorder import NULL_RECORDER, Recorder
from octopus.sim.windows import BookedWindows

__all__ = ["Noc", "NocStats"]


@dataclass(slots=True)
class NocStats:
    """Traffic counters accumulated by a :class:`Noc` (mutated in place by ``transfer``)."""

    transfers: int = 0
    """Transfers that used at least one link."""
    total_bytes: int = 0
    """Bytes sent, each transfer counted once."""
    byte_hops: int = 0
    """Sum over transfers of bytes x (intra + d2d) hops."""
    d2d_byte_hops: int = 0
    """Sum over transfers of bytes x d2d hops."""
    wait_cycles: int = 0
    """Sum over transfers of ``start - now``: cycles lost to contention (0 when analytic)."""
    link_busy_cycles: list[int] = field(default_factory=list)
    """Per link id, the cycles it was reserved. Under ``analytic`` windows may overlap, so a
    value above the makespan shows demand the contention-free model ignores."""


PATH_CACHE_PAIRS = 1 << 16
"""Routes (with their latency and bottleneck) a :class:`Noc` keeps; past that it starts over."""


class Noc:
    """Transfer timing on one architecture, with the fidelity chosen by ``arch.noc.model``.

    Args:
        topology: numbering and routes of ``arch``.
        arch: the architecture (link latencies and bandwidths).
        clock: the current cycle (bookings that ended before it are forgotten).
        recorder: told of every link window of every counted transfer (``Recorder.link``).
    """

    __slots__ = ("_arch", "_booked", "_contention", "_d2d", "_hop", "_paths", "_recorder",
                 "_records", "_topo", "stats")

    def __init__(self, topology: Topology, arch: ArchConfig, clock: Callable[[], int],
                 recorder: Recorder = NULL_RECORDER):
        self._topo = topology
        self._arch = arch
        self._contention = arch.noc.model == "contention"
        self._hop = arch.cluster.hop_latency_cycles
        self._d2d = arch.chip.d2d_latency_cycles
        self._booked = BookedWindows(topology.num_links, clock)
        self._recorder = recorder
        self._records = recorder is not NULL_RECORDER  # Speed: skip a call per link otherwise
        # (src, dst) -> (route, latency cycles, bottleneck bytes/cycle, hops, d2d hops)
        self._paths: dict[tuple[int, int], tuple[tuple[int, ...], int, int, int, int]] = {}
        self.stats = NocStats(link_busy_cycles=[0] * topology.num_links)

    @property
    def model(self) -> str:
        """``"analytic"`` or ``"contention"``."""
        return "contention" if self._contention else "analytic"

    def transfer(self, src: int, dst: int, nbytes: int, now: int) -> tuple[int, int]:
        """Send ``nbytes`` from TBU ``src`` to TBU ``dst``, requested at cycle ``now``.

        Returns ``(start_cycle, end_cycle)``: when data starts to flow (``now`` unless links
        are busy) and when the last byte arrives at ``dst``. Under ``contention`` the route's
        links are reserved; stats and the recorder are updated in both models.

        Raises:
            IndexError: a TBU id is out of range.
            ValueError: ``nbytes`` is negative.
        """
        nbytes = _whole_bytes(nbytes)
        route, latency, bottleneck, hops, d2d = self._path(src, dst)
        if nbytes == 0 or not route:
            return now, now
        hold = -(-nbytes // bottleneck)
        start = now
        if self._contention:
            start = self._booked.earliest(route, now, hold)
            self._booked.book(route, start, hold)
        release = start + hold
        stats = self.stats
        busy_cycles = stats.link_busy_cycles
        for link in route:
            busy_cycles[link] += hold
        if self._records:
            for link in route:
                self._recorder.link(link, start, release, nbytes)
        stats.transfers += 1
        stats.total_bytes += nbytes
        stats.byte_hops += nbytes * hops
        stats.d2d_byte_hops += nbytes * d2d
        stats.wait_cycles += start - now
        return start, start + latency + hold

    def estimate(self, src: int, dst: int, nbytes: int, now: int) -> int:
        """The ``end_cycle`` that :meth:`transfer` would return now, without reserving anything.

        Raises:
            IndexError: a TBU id is out of range.
            ValueError: ``nbytes`` is negative.
        """
        nbytes = _whole_bytes(nbytes)
        route, latency, bottleneck, _, _ = self._path(src, dst)
        if nbytes == 0 or not route:
            return now
        hold = -(-nbytes // bottleneck)
        start = self._booked.earliest(route, now, hold) if self._contention else now
        return start + latency + hold

    def link_free_at(self, link: int) -> int:
        """The cycle from which ``link`` has no reservation (always 0 under ``analytic``)."""
        return self._booked.last_end[link]

    # --- internals ---------------------------------------------------------------------------
    def _path(self, src: int, dst: int) -> tuple[tuple[int, ...], int, int, int, int]:
        """``(route, latency cycles, bottleneck bytes/cycle, hops, d2d hops)`` from ``src`` to
        ``dst``, computed once per pair (an empty route, with zeros, from a TBU to itself)."""
        found = self._paths.get((src, dst))
        if found is None:
            intra, d2d = self._topo.hops(src, dst)  # raises IndexError on a bad id
            if intra + d2d == 0:
                found = ((), 0, 0, 0, 0)
            else:
                found = (self._topo.route(src, dst), intra * self._hop + d2d * self._d2d,
                         bottleneck_bytes_per_cycle(self._arch, intra, d2d), intra + d2d, d2d)
            if len(self._paths) >= PATH_CACHE_PAIRS:
                self._paths.clear()
            self._paths[(src, dst)] = found
        return found


def _whole_bytes(nbytes: float) -> int:
    """Round a byte count up to whole bytes (a fractional byte still occupies one)."""
    if type(nbytes) is int and nbytes >= 0:  # Speed: the common case
        return nbytes
    if nbytes < 0:
        raise ValueError(f"bytes must be >= 0, got {nbytes}")
    return math.ceil(nbytes)
