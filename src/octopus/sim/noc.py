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
  gap before it; otherwise links are granted in call order, except that under
  ``noc.arbitration: interleave`` (the default) a transfer waits only for transfers of its size
  class and smaller ones (:class:`~octopus.sim.windows.ClassedWindows`, the classes of the
  memory controllers): a router interleaves packets, so an activation does not wait out the
  whole of a weight stream crossing the same link from a memory controller.

A transfer of zero bytes, or from a TBU to itself, takes no time, uses no link and is not
counted in the stats.

A group's ring all-gather (:meth:`Noc.ring`: member ``i`` sends to member ``i + 1``, the last to
the first) is the sum of its transfers made one by one in ring order, but it is timed in one
step when no transfer can wait: under ``analytic``, and under ``contention`` when the routes
share no link (links are directed, so a ring of neighbours rarely does) and none of their links
is booked past the request.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from octopus.arch.config import ArchConfig
from octopus.arch.costs import bottleneck_bytes_per_cycle
from octopus.arch.topology import Topology
from octopus.sim.recorder import NULL_RECORDER, Recorder
from octopus.sim.windows import classed_windows

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
RING_CACHE_GROUPS = 1 << 12
"""Rings (:class:`_Ring`) a :class:`Noc` keeps, one per group; past that it starts over."""

_Path = tuple[tuple[int, ...], int, int, int, int]
"""``(route, latency cycles, bottleneck bytes/cycle, hops, d2d hops)`` of a TBU pair."""


class _Ring:
    """The transfers of one group's ring all-gather, summed for :meth:`Noc.ring`.

    Args:
        paths: each transfer's :data:`_Path`, in ring order.

    Attributes:
        paths: as given.
        classes: ``(bottleneck bytes/cycle, latency cycles, links)`` per bottleneck: the
            longest latency of the transfers with that bottleneck, and the links of their
            routes (a link once per route through it).
        links: the links of every route (a link once per route through it).
        disjoint: whether no link is on two routes.
        transfers: the transfers that use a link.
        hops, d2d: their (intra + d2d) hops and their d2d hops, summed.
    """

    __slots__ = ("classes", "d2d", "disjoint", "hops", "links", "paths", "transfers")

    def __init__(self, paths: Sequence[_Path]):
        self.paths = tuple(paths)
        latencies: dict[int, int] = {}
        links: dict[int, list[int]] = {}
        for route, latency, bottleneck, _, _ in self.paths:
            if route:
                latencies[bottleneck] = max(latency, latencies.get(bottleneck, 0))
                links.setdefault(bottleneck, []).extend(route)
        self.classes = tuple((b, latencies[b], tuple(links[b])) for b in latencies)
        self.links = tuple(link for _, _, of_class in self.classes for link in of_class)
        self.disjoint = len(set(self.links)) == len(self.links)
        self.transfers = sum(1 for route, *_ in self.paths if route)
        self.hops = sum(path[3] for path in self.paths)
        self.d2d = sum(path[4] for path in self.paths)


class Noc:
    """Transfer timing on one architecture, with the fidelity chosen by ``arch.noc.model``.

    Args:
        topology: numbering and routes of ``arch``.
        arch: the architecture (link latencies and bandwidths).
        clock: the current cycle (bookings that ended before it are forgotten).
        recorder: told of every link window of every counted transfer (``Recorder.link``).
    """

    __slots__ = ("_arch", "_booked", "_contention", "_d2d", "_hop", "_paths", "_recorder",
                 "_records", "_rings", "_topo", "stats")

    def __init__(self, topology: Topology, arch: ArchConfig, clock: Callable[[], int],
                 recorder: Recorder = NULL_RECORDER):
        self._topo = topology
        self._arch = arch
        self._contention = arch.noc.model == "contention"
        self._hop = arch.cluster.hop_latency_cycles
        self._d2d = arch.chip.d2d_latency_cycles
        self._booked = classed_windows(topology.num_links, clock,
                                       arch.noc.arbitration == "interleave",
                                       arch.config_capacity_bytes)
        self._recorder = recorder
        self._records = recorder is not NULL_RECORDER  # Speed: skip a call per link otherwise
        # (src, dst) -> (route, latency cycles, bottleneck bytes/cycle, hops, d2d hops)
        self._paths: dict[tuple[int, int], _Path] = {}
        self._rings: dict[tuple[int, ...], _Ring] = {}
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
        return self._send(self._path(src, dst), nbytes, now)

    def ring(self, group: Sequence[int], nbytes: int, at: int) -> int:
        """A ring all-gather on ``group``: member ``i`` sends ``nbytes`` to member ``i + 1`` and
        the last member to the first, each requested at cycle ``at``.

        Returns the cycle the last byte arrives (``at`` when nothing moves). Links, stats and
        the recorder end up exactly as after :meth:`transfer` called for each pair in ring
        order; the transfers are summed in one step when none can wait (module doc), and made
        one by one otherwise or when a recorder is attached.

        Raises:
            IndexError: a TBU id is out of range.
            ValueError: ``nbytes`` is negative.
        """
        nbytes = _whole_bytes(nbytes)
        if nbytes == 0:
            return at
        ring = self._ring(tuple(group))
        if self._records or self._may_wait(ring, at):
            return max(self._send(path, nbytes, at)[1] for path in ring.paths)
        end = at
        busy_cycles = self.stats.link_busy_cycles
        size_class = self._booked.size_class(nbytes)
        for bottleneck, latency, links in ring.classes:
            hold = -(-nbytes // bottleneck)
            if self._contention:
                self._booked.book_free(links, at, hold, size_class)
            for link in links:
                busy_cycles[link] += hold
            end = max(end, at + latency + hold)
        self._count(ring.transfers, nbytes, ring.hops, ring.d2d, 0)
        return end

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
        start = self._booked.earliest(route, now, hold, self._booked.size_class(nbytes)) \
            if self._contention else now
        return start + latency + hold

    def unloaded(self, src: int, dst: int, nbytes: int, now: int) -> int:
        """The ``end_cycle`` of a transfer sent now over idle links: a lower bound of
        :meth:`estimate` (equal to it under ``analytic``)."""
        _, latency, bottleneck, _, _ = self._path(src, dst)
        return now + latency + -(-nbytes // bottleneck) if nbytes > 0 and bottleneck else now

    def link_free_at(self, link: int) -> int:
        """The cycle from which ``link`` has no reservation (always 0 under ``analytic``)."""
        return self._booked.last_end(link)

    # --- internals ---------------------------------------------------------------------------
    def _send(self, path: _Path, nbytes: int, now: int) -> tuple[int, int]:
        """:meth:`transfer` of ``nbytes`` (whole, >= 0) along ``path``, requested at ``now``."""
        route, latency, bottleneck, hops, d2d = path
        if nbytes == 0 or not route:
            return now, now
        hold = -(-nbytes // bottleneck)
        start = now
        if self._contention:
            booked = self._booked
            size_class = booked.size_class(nbytes)
            start = booked.earliest(route, now, hold, size_class)
            booked.book(route, start, hold, size_class, now)
        release = start + hold
        busy_cycles = self.stats.link_busy_cycles
        for link in route:
            busy_cycles[link] += hold
        if self._records:
            for link in route:
                self._recorder.link(link, start, release, nbytes)
        self._count(1, nbytes, hops, d2d, start - now)
        return start, start + latency + hold

    def _may_wait(self, ring: _Ring, at: int) -> bool:
        """Whether a transfer of ``ring`` asked for at cycle ``at`` might start after it: under
        ``contention``, when two of its routes share a link or a link is booked past ``at``."""
        return self._contention and (not ring.disjoint or max(
            map(self._booked.last_end, ring.links), default=at) > at)

    def _count(self, transfers: int, nbytes: int, hops: int, d2d: int, wait: int) -> None:
        """Add to the stats ``transfers`` transfers of ``nbytes`` each, which took ``hops``
        (intra + d2d) hops, ``d2d`` d2d hops and waited ``wait`` cycles in all."""
        stats = self.stats
        stats.transfers += transfers
        stats.total_bytes += nbytes * transfers
        stats.byte_hops += nbytes * hops
        stats.d2d_byte_hops += nbytes * d2d
        stats.wait_cycles += wait

    def _ring(self, group: tuple[int, ...]) -> _Ring:
        """The :class:`_Ring` of ``group``, built once per group."""
        found = self._rings.get(group)
        if found is None:
            found = _Ring([self._path(src, dst)
                           for src, dst in zip(group, group[1:] + group[:1], strict=True)])
            if len(self._rings) >= RING_CACHE_GROUPS:
                self._rings.clear()
            self._rings[group] = found
        return found

    def _path(self, src: int, dst: int) -> _Path:
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
