"""The network-on-chip: timing of TBU-to-TBU transfers at two fidelities, plus traffic stats.

Both models send a transfer along the XY route of :class:`octopus.arch.Topology` as a
cut-through stream: data flows at the rate of the slowest link on the route (the bottleneck),
and each hop adds only its latency, so

    ``end = start + intra_hops * hop_latency + d2d_hops * d2d_latency + ceil(bytes / bottleneck)``

* ``analytic``: no contention, ``start = now``; identical to
  :func:`octopus.arch.transfer_cycles`.
* ``contention``: every link keeps a busy-until time. A transfer holds *all* links of its route
  for one window ``[start, start + ceil(bytes / bottleneck))`` (a wormhole that spans the route;
  per-hop latency delays arrival but is not reserved), where ``start`` is the first cycle
  ``>= now`` at which every link on the route is free. Links are granted in call order (FIFO);
  a later call never slips into a gap before an earlier reservation.

A transfer of zero bytes, or from a TBU to itself, takes no time, uses no link and is not
counted in the stats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from octopus.arch.config import ArchConfig
from octopus.arch.costs import bottleneck_bytes_per_cycle
from octopus.arch.topology import Topology
from octopus.sim.recorder import NULL_RECORDER, Recorder

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


class Noc:
    """Transfer timing on one architecture, with the fidelity chosen by ``arch.noc.model``.

    Args:
        topology: numbering and routes of ``arch``.
        arch: the architecture (link latencies and bandwidths).
        recorder: told of every link window of every counted transfer (``Recorder.link``).
    """

    def __init__(self, topology: Topology, arch: ArchConfig,
                 recorder: Recorder = NULL_RECORDER):
        self._topo = topology
        self._arch = arch
        self._contention = arch.noc.model == "contention"
        self._hop = arch.cluster.hop_latency_cycles
        self._d2d = arch.chip.d2d_latency_cycles
        self._busy_until = [0] * topology.num_links
        self._recorder = recorder
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
        start, end, route, hold = self._plan(src, dst, nbytes, now)
        if not route:
            return start, end
        release = start + hold
        busy, busy_cycles = self._busy_until, self.stats.link_busy_cycles
        for link in route:
            if self._contention:
                busy[link] = release
            busy_cycles[link] += hold
            self._recorder.link(link, start, release, nbytes)
        self._count(nbytes, src, dst, start - now)
        return start, end

    def estimate(self, src: int, dst: int, nbytes: int, now: int) -> int:
        """The ``end_cycle`` that :meth:`transfer` would return now, without reserving anything.

        Raises:
            IndexError: a TBU id is out of range.
            ValueError: ``nbytes`` is negative.
        """
        return self._plan(src, dst, _whole_bytes(nbytes), now)[1]

    def link_free_at(self, link: int) -> int:
        """The cycle from which ``link`` has no reservation (always 0 under ``analytic``)."""
        return self._busy_until[link]

    # --- internals ---------------------------------------------------------------------------
    def _plan(self, src: int, dst: int, nbytes: int, now: int) -> tuple[int, int, tuple, int]:
        """``(start, end, route, hold_cycles)`` of a transfer of whole bytes; no side effects."""
        intra, d2d = self._topo.hops(src, dst)
        if nbytes == 0 or intra + d2d == 0:
            return now, now, (), 0
        route = self._topo.route(src, dst)
        hold = -(-nbytes // bottleneck_bytes_per_cycle(self._arch, intra, d2d))
        start = now
        if self._contention:
            start = max(now, max(self._busy_until[link] for link in route))
        return start, start + intra * self._hop + d2d * self._d2d + hold, route, hold

    def _count(self, nbytes: int, src: int, dst: int, wait: int) -> None:
        intra, d2d = self._topo.hops(src, dst)
        s = self.stats
        s.transfers += 1
        s.total_bytes += nbytes
        s.byte_hops += nbytes * (intra + d2d)
        s.d2d_byte_hops += nbytes * d2d
        s.wait_cycles += wait


def _whole_bytes(nbytes: float) -> int:
    """Round a byte count up to whole bytes (a fractional byte still occupies one)."""
    if nbytes < 0:
        raise ValueError(f"bytes must be >= 0, got {nbytes}")
    return math.ceil(nbytes)
