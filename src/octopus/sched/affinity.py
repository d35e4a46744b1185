"""``affinity``: ``greedy`` that prefers a TBU already holding the firing's configuration.

One global first-in, first-out queue of ready firings. While a TBU is idle, the oldest ready
firing is placed: on the lowest numbered idle TBU that holds its block's configuration (no
load), or, if none does, on the lowest numbered idle TBU (which loads it). A residency-aware
FIFO: the simplest scheduler that does not reload what is already resident. Each choice costs
``O(log TBUs)`` (per-block sets of idle holders), whatever the number of idle TBUs. Batches
and Control Blocks as in ``greedy``.
"""

from __future__ import annotations

from typing import Literal

from octopus.sched.batching import PrefetchingConfig
from octopus.sched.greedy import Greedy
from octopus.sched.registry import register_scheduler
from octopus.sim.state import Task

__all__ = ["Affinity", "AffinityConfig"]


class AffinityConfig(PrefetchingConfig):
    """Parameters of ``affinity``."""

    name: Literal["affinity"] = "affinity"


@register_scheduler("affinity")
class Affinity(Greedy):
    config_cls = AffinityConfig

    def group_width(self) -> int:
        """One TBU per firing: :meth:`choose` places on single TBUs."""
        return 1

    def choose(self, task: Task) -> int:
        """The lowest idle TBU holding ``task``'s configuration, else the lowest idle TBU."""
        return self.idle.nearest((), task.block_id)
