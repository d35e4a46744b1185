"""``locality``: ``greedy`` that places a firing near the outputs of its producers.

One global first-in, first-out queue of ready firings. While a TBU is idle, the oldest ready
firing goes to the idle TBU with the smallest sum, over its producers, of output bytes x hops
from the producer's TBU (the NoC traffic its inputs cause); ties go to a TBU that holds its
block's configuration, then to the lowest id. A firing with no producer data (a source) is
placed as ``affinity`` places it. Each choice scores a few TBUs per mesh row
(:class:`~octopus.sched.idle.IdleMesh`), whatever the number of idle TBUs. Batches, Control
Blocks and group widths as in ``greedy``; with a ``width`` above 1 a widened firing goes to
the all-idle range of its width whose first TBU is nearest its producers' outputs (ties to a
range led by a holder of its first shard), or, for a source, as ``affinity`` places it.
"""

from __future__ import annotations

from typing import Literal

from octopus.sched.batching import GroupWidthConfig
from octopus.sched.greedy import Greedy
from octopus.sched.registry import register_scheduler
from octopus.sim.residency import shard_key
from octopus.sim.state import Task

__all__ = ["Locality", "LocalityConfig", "producer_sources"]


class LocalityConfig(GroupWidthConfig):
    """Parameters of ``locality``."""

    name: Literal["locality"] = "locality"


def producer_sources(task: Task) -> list[tuple[int, int]]:
    """``(TBU, output bytes)`` of each producer whose output ``task`` reads (all finished)."""
    run = task.run
    return [(run.tbu_of[p], run.firings[p].task.output_bytes) for p in task.firing.data_from]


@register_scheduler("locality")
class Locality(Greedy):
    config_cls = LocalityConfig

    def choose(self, task: Task) -> int:
        """The idle TBU nearest ``task``'s producers' outputs (module doc)."""
        return self.idle.nearest(producer_sources(task), task.block_id)

    def choose_range(self, task: Task, width: int) -> int:
        """The all-idle range of ``width`` nearest ``task``'s producers' outputs (module doc)."""
        holders = self.idle.holding(shard_key(task.block_id, width, 0))
        return self.ranges.nearest(width, producer_sources(task), holders)
