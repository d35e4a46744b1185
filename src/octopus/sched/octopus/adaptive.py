"""Adaptive TBU Scheduling: how wide a group and how large a batch each dispatch gets, and the
demand the replicas are planned from.

- **Batch**: a dispatch takes as many queued firings of its block as pays (up to
  ``tbu.max_batch``): the largest batch whose estimated time is at most 90% of its firings'
  times one by one. It pays where weights stream (read once per batch) or where a batch fills the
  array better (a decode step: one token uses one row of it); a compute-bound block runs its
  firings one by one, so the first is not held back by the rest.
- **Width**: an elastic dispatch runs on the group, of any of its block's *efficient* widths
  (:meth:`Sizing.efficient_widths`: those on which a mean firing keeps at least
  ``min_efficiency`` of the best efficiency of any width once its ring exchange is counted; a group
  across a die-to-die link mostly does not), on which its most urgent firing would *end
  first*: an idle TBU or aligned range now, or a busy range once its last member frees (the
  scheduler then reserves it: nothing less urgent starts there until it is idle), each with its
  configuration load if its shards are not held there, its compute on that width
  (:meth:`Sizing.dispatch_cycles`: a wider group computes sooner at a lower efficiency, a
  narrow one may stream). At light load the widest idle range wins (latency); as
  the machine fills, a wide range frees later than a narrow idle one, so widths shrink
  (throughput). While other ready firings wait, a width must keep ``crowded_efficiency``
  (more than ``min_efficiency``): an idle wide range that a firing alone would take for a
  small gain (a detector 32 wide across a die-to-die link, 13% sooner than 16 wide on twice
  the TBUs) is worth more to the firings behind it. A memory-bound block keeps
  ``min_efficiency``: its firings batch, and a lone firing's efficiency misjudges a batch's.
- **Demand**: the TBU-cycles each block used since the last re-plan, blended into the previous
  estimate (``ewma_alpha``); the replicas are re-planned from it every ``replan_cycles``.

Off: one firing per dispatch, elastic groups as narrow as residency allows, on idle TBUs only,
demand from the workflow's static expectation only.
"""

from __future__ import annotations

from collections.abc import Sequence

from octopus.sim.machine import Machine
from octopus.sim.noc import Noc
from octopus.sim.state import Task
from octopus.workflow import TaskBlock

__all__ = ["Sizing"]

BATCH_GAIN = 0.9  # a batch must cut the time per firing to at most this share of a lone one's


class Sizing:
    """Width and batch choices on ``machine`` (module doc); ``enabled`` is the switch,
    ``min_efficiency`` the share of the best width's efficiency a width must keep, and
    ``crowded_efficiency`` the share while other ready firings wait."""

    def __init__(self, machine: Machine, enabled: bool, min_efficiency: float,
                 crowded_efficiency: float):
        self.machine = machine
        self.enabled = enabled
        self.parallel = machine.parallel
        self.min_efficiency = min_efficiency
        self.crowded_efficiency = crowded_efficiency
        self._efficient: dict[tuple[str, float], tuple[int, ...]] = {}
        self._memory_bound: dict[str, bool] = {}
        controllers = len(machine.memory.controllers)
        self.tbus_per_controller = machine.topology.num_tbus // controllers if controllers else 1
        # A ring's transfers are all one size: one class times them alike and builds faster.
        arch = machine.arch
        self._one_class_arch = arch.model_copy(
            update={"noc": arch.noc.model_copy(update={"arbitration": "fifo"})})

    def streams(self, block: TaskBlock, width: int) -> bool:
        return not self.machine.fits(self.parallel.shard_bytes(block, width))

    def dispatch_cycles(self, block: TaskBlock, works: Sequence[float], width: int) -> int:
        """Estimated cycles of one dispatch: compute, or the streamed weights if longer (read
        by the group's members sharing a memory controller, each controller otherwise idle;
        the exchange of a group is left out)."""
        return max(self.parallel.compute_cycles(block, works, width),
                   self.stream_cycles(block, width))

    def stream_cycles(self, block: TaskBlock, width: int) -> int:
        """Cycles the group's streamed weights take through its memory controllers, each
        otherwise idle (0 if its shards can be resident)."""
        if not self.streams(block, width):
            return 0
        sharing = min(width, self.tbus_per_controller)
        shard = self.parallel.shard_bytes(block, width) * block.weight_passes * sharing
        return -(-shard // self.machine.arch.memory.bytes_per_cycle)

    def memory_bound(self, block: TaskBlock) -> bool:
        """Whether on some efficient width (:meth:`efficient_widths`) a mean firing of
        ``block`` waits longer for its streamed weights than it computes."""
        found = self._memory_bound.get(block.id)
        if found is None:
            mean = [block.work.mean]
            found = self._memory_bound[block.id] = any(
                self.stream_cycles(block, k) > self.parallel.compute_cycles(block, mean, k)
                for k in self.efficient_widths(block))
        return found

    def streams_cheaply(self, block: TaskBlock) -> bool:
        """Whether streaming ``block``'s weights on one TBU takes at most a tenth of its mean
        firing's compute there (a compute-bound block loses little by not being resident)."""
        stream = self.dispatch_cycles(block, [0.0], 1)
        return 10 * stream <= self.parallel.compute_cycles(block, [block.work.mean], 1)

    def batch(self, block: TaskBlock, queued: Sequence[Task], width: int) -> int:
        """How many of ``queued`` (most urgent first) one dispatch on ``width`` TBUs takes."""
        if not self.enabled or len(queued) < 2:
            return 1
        works = [t.work for t in queued[:self.parallel.max_batch]]
        alone = [self.dispatch_cycles(block, [w], width) for w in works]
        for b in range(len(works), 1, -1):
            if self.dispatch_cycles(block, works[:b], width) <= BATCH_GAIN * sum(alone[:b]):
                return b
        return 1

    def widths(self, block: TaskBlock, available: int, crowded: bool = False) -> list[int]:
        """Widths an elastic dispatch of ``block`` may take with ``available`` elastic TBUs:
        every efficient width of the block up to them (at ``crowded_efficiency`` when
        ``crowded``, other ready firings waiting, unless the block is memory-bound); off, only
        the narrowest whose shards can be resident (one TBU if even that streams or is wider
        than ``available``)."""
        if self.enabled:
            threshold = self.crowded_efficiency if crowded and not self.memory_bound(block) \
                else self.min_efficiency
            return [k for k in self.efficient_widths(block, threshold) if k <= available]
        narrowest = self.parallel.min_width(block)
        return [1 if narrowest > available or self.streams(block, narrowest) else narrowest]

    def efficient_widths(self, block: TaskBlock, threshold: float | None = None
                         ) -> tuple[int, ...]:
        """The widths of ``block`` on which a mean firing keeps at least ``threshold``
        (default ``min_efficiency``) of the best efficiency (fewest TBU-cycles) of any width,
        its streamed weights (:meth:`dispatch_cycles`) and its group's ring exchange
        (:meth:`exchange_cycles`) counted, and the narrowest width its shards can be resident
        on."""
        threshold = self.min_efficiency if threshold is None else threshold
        found = self._efficient.get((block.id, threshold))
        if found is None:
            mean, narrowest = [block.work.mean], self.parallel.min_width(block)
            cost = {k: k * (self.dispatch_cycles(block, mean, k) + self.exchange_cycles(block, k))
                    for k in self.parallel.widths(block)}
            best = min(cost.values())
            found = self._efficient[(block.id, threshold)] = tuple(
                k for k, c in cost.items() if k == narrowest or best >= threshold * c)
        return found

    def exchange_cycles(self, block: TaskBlock, width: int) -> int:
        """Cycles of one firing's ring all-gather on the group ``[0, width)`` of an idle NoC
        (the ring's own transfers contending as the machine books them)."""
        nbytes = self.parallel.exchange_bytes(block, 1, width)
        if not nbytes:
            return 0
        noc = Noc(self.machine.topology, self._one_class_arch, lambda: 0)
        return max(noc.transfer(u, (u + 1) % width, nbytes, 0)[1] for u in range(width))
