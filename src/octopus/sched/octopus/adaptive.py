"""Adaptive TBU Scheduling: how wide a group and how large a batch each dispatch gets, and the
demand the replicas are planned from.

- **Batch**: a dispatch takes as many queued firings of its block as pays (up to
  ``tbu.max_batch``): the largest batch whose estimated time is at most 90% of its firings'
  times one by one. It pays where weights stream (read once per batch) or where a batch fills the
  array better (a decode step: one token uses one row of it); a compute-bound block runs its
  firings one by one, so the first is not held back by the rest.
- **Width**: an elastic dispatch of a block that can be resident on one TBU is widened while
  there are idle elastic TBUs for it and each array keeps ``min_group_efficiency`` of its
  efficiency on one: when TBUs would idle anyway, a firing finishes nearly ``k`` times sooner.
  A block that streams is widened from one TBU on the same rule, its members' streams counted
  as one controller's (a wider group may only queue at the same memory); so is a block too
  large for one TBU when too few TBUs are idle for its narrowest group and streaming costs at
  most a tenth of its compute.
- **Demand**: the TBU-cycles each block used since the last re-plan, blended into the previous
  estimate (``ewma_alpha``); the replicas are re-planned from it every ``replan_cycles``.

Off: one firing per dispatch, elastic groups as narrow as residency allows, demand from the
workflow's static expectation only.
"""

from __future__ import annotations

from collections.abc import Sequence

from octopus.sim.machine import Machine
from octopus.sim.state import Task
from octopus.workflow import TaskBlock

__all__ = ["Sizing"]

BATCH_GAIN = 0.9  # a batch must cut the time per firing to at most this share of a lone one's


class Sizing:
    """Width and batch choices on ``machine`` (module doc); ``enabled`` is the switch."""

    def __init__(self, machine: Machine, enabled: bool, min_group_efficiency: float):
        self.machine = machine
        self.enabled = enabled
        self.min_group_efficiency = min_group_efficiency
        self.parallel = machine.parallel

    def streams(self, block: TaskBlock, width: int) -> bool:
        return not self.machine.fits(self.parallel.shard_bytes(block, width))

    def dispatch_cycles(self, block: TaskBlock, works: Sequence[float], width: int) -> int:
        """Estimated cycles of one dispatch: compute, or the streamed weights if longer (an
        uncontended read; the exchange of a group is left out)."""
        compute = self.parallel.compute_cycles(block, works, width)
        if not self.streams(block, width):
            return compute
        shard = self.parallel.shard_bytes(block, width) * block.weight_passes
        return max(compute, -(-shard // self.machine.arch.memory.bytes_per_cycle))

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

    def elastic_width(self, block: TaskBlock, idle: int, queued: int) -> int:
        """Width of an elastic dispatch of ``block`` with ``idle`` idle elastic TBUs and
        ``queued`` firings of any block waiting (this one included): each gets its share of the
        idle TBUs."""
        narrowest = self.parallel.min_width(block)
        if self.streams(block, narrowest) or (narrowest > idle and self.streams_cheaply(block)):
            narrowest = 1
        if narrowest > idle or not self.enabled:
            return narrowest
        share = max(narrowest, idle // max(1, queued))
        base = self.group_cycles(block, narrowest) * narrowest
        best = narrowest
        for k in self.parallel.widths(block):
            # each array's efficiency relative to the narrowest group's: work per array-cycle
            if narrowest < k <= share and \
                    base >= self.min_group_efficiency * self.group_cycles(block, k) * k:
                best = k
        return best

    def group_cycles(self, block: TaskBlock, width: int) -> int:
        """Cycles of a mean firing on ``width`` TBUs: compute, then the exchange over one link
        (hop latencies left out); or, if longer, every member's streamed shard through one
        memory controller."""
        exchange = self.parallel.exchange_bytes(block, 1, width)
        link = self.machine.arch.cluster.link_bytes_per_cycle
        compute = self.parallel.compute_cycles(block, [block.work.mean], width)
        return max(compute + -(-exchange // link), self.dispatch_cycles(block, [0.0], width)
                   * width)
