"""``greedy``: one global ready queue; any idle TBU takes the oldest ready firing.

A strong non-paper reference, like a GPU or Ray-style dynamic scheduler: it never lets a TBU
idle while work is ready, but ignores configuration residency and data locality (the lowest
numbered idle TBU takes the work). Control Blocks run on the instance's cluster CBU.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Literal

from octopus.sched.base import Scheduler, SchedulerConfig
from octopus.sched.registry import register_scheduler
from octopus.sim.state import Task

__all__ = ["Greedy", "GreedyConfig"]


class GreedyConfig(SchedulerConfig):
    """``greedy`` has no parameters."""

    name: Literal["greedy"] = "greedy"


@register_scheduler("greedy")
class Greedy(Scheduler):
    config_cls = GreedyConfig

    def on_start(self) -> None:
        self.ready: deque[Task] = deque()
        self.free = list(range(self.topology.num_tbus))  # a heap of idle TBU ids

    def on_ready(self, task: Task) -> None:
        self.ready.append(task)

    def on_task_done(self, task: Task) -> None:
        heapq.heappush(self.free, task.tbu)

    def decide(self) -> None:
        while self.ready and self.free:
            self.dispatch(self.ready.popleft(), heapq.heappop(self.free))
