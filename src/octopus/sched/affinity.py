"""``affinity``: ``greedy`` that prefers a TBU already holding the firing's configuration.

One global first-in, first-out queue of ready firings. While a TBU is idle, the oldest ready
firing is placed: on the lowest numbered idle TBU that holds its block's configuration (no
load), or, if none does, on the lowest numbered idle TBU (which loads it). A residency-aware
FIFO: the simplest scheduler that does not reload what is already resident. Each choice costs
``O(log TBUs)`` (per-block sets of idle holders), whatever the number of idle TBUs. Batches,
Control Blocks and group widths as in ``greedy``; with a ``width`` above 1 a widened firing
goes to the lowest all-idle range of its width whose first TBU holds its first shard (the
group that ran it last), else to the lowest all-idle range; finding it scans the idle holders
of that shard.
"""

from __future__ import annotations

from typing import Literal

from octopus.sched.batching import GroupWidthConfig
from octopus.sched.greedy import Greedy
from octopus.sched.registry import register_scheduler
from octopus.sim.residency import shard_key
from octopus.sim.state import Task

__all__ = ["Affinity", "AffinityConfig"]


class AffinityConfig(GroupWidthConfig):
    """Parameters of ``affinity``."""

    name: Literal["affinity"] = "affinity"


@register_scheduler("affinity")
class Affinity(Greedy):
    config_cls = AffinityConfig

    def choose(self, task: Task) -> int:
        """The lowest idle TBU holding ``task``'s configuration, else the lowest idle TBU."""
        return self.idle.nearest((), task.block_id)

    def choose_range(self, task: Task, width: int) -> int:
        """The lowest all-idle range of ``width`` led by a holder of ``task``'s first shard,
        else the lowest all-idle range."""
        return self.ranges.nearest(width, (), self.idle.holding(shard_key(task.block_id, width, 0)))
