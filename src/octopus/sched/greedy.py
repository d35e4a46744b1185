"""``greedy``: one global ready queue; any idle TBU takes the oldest ready firing.

A strong non-paper reference, like a GPU or Ray-style dynamic scheduler: it never lets a TBU
idle while work is ready, but ignores configuration residency and data locality (the lowest
numbered idle TBU takes the work). Control Blocks run on the instance's cluster CBU.

:class:`Greedy` is also the first-in, first-out skeleton of ``affinity`` and ``locality``:
they keep its queue and its loop and choose the TBU differently (:meth:`Greedy.choose`).
"""

from __future__ import annotations

from collections import deque
from typing import Literal

from octopus.sched.base import Scheduler, SchedulerConfig
from octopus.sched.idle import IdleTbus
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
        self.idle = IdleTbus(self.machine)

    def on_ready(self, task: Task) -> None:
        self.ready.append(task)

    def on_task_done(self, task: Task) -> None:
        self.idle.free(task.tbu)

    def decide(self) -> None:
        """Oldest ready firing first, each on the idle TBU :meth:`choose` picks, until either
        runs out."""
        while self.ready and self.idle:
            task = self.ready.popleft()
            tbu = self.choose(task)
            self.idle.take(tbu)
            self.dispatch(task, tbu)

    def choose(self, task: Task) -> int:
        """The idle TBU ``task`` runs on (at least one is idle): the lowest id."""
        return self.idle.all.lowest()
