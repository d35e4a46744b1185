"""``greedy``: one global ready queue; any idle TBU takes the oldest ready firing.

A strong non-paper reference, like a GPU or Ray-style dynamic scheduler: it never lets a TBU
idle while work is ready, but ignores configuration residency and data locality (the lowest
numbered idle TBU takes the work). With ``batch`` (default on) the firing takes along the next
ready firings of its block that fit in the time it takes alone (:mod:`octopus.sched.batching`).
Control Blocks run on the instance's cluster CBU.

:class:`Greedy` is also the first-in, first-out skeleton of ``affinity`` and ``locality``:
they keep its queue, its batches and its loop and choose the TBU differently
(:meth:`Greedy.choose`).
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Literal

from octopus.sched.base import Scheduler
from octopus.sched.batching import BatchingConfig, batch_limit
from octopus.sched.idle import IdleTbus
from octopus.sched.registry import register_scheduler
from octopus.sim.state import Task

__all__ = ["Greedy", "GreedyConfig"]


class GreedyConfig(BatchingConfig):
    """Parameters of ``greedy``."""

    name: Literal["greedy"] = "greedy"


@register_scheduler("greedy")
class Greedy(Scheduler):
    config_cls = GreedyConfig
    config: BatchingConfig

    def on_start(self) -> None:
        self.ready: deque[Task] = deque()  # may hold firings that left in an older one's batch
        self.by_block: dict[str, deque[Task]] = defaultdict(deque)  # the same, by block
        self.idle = IdleTbus(self.machine)

    def on_ready(self, task: Task) -> None:
        self.ready.append(task)
        if self.config.batch:
            self.by_block[task.block_id].append(task)

    def on_task_done(self, task: Task) -> None:
        self.idle.free(task.tbu)

    def decide(self) -> None:
        """Oldest ready firing first (with its batch), each on the idle TBU :meth:`choose`
        picks, until either runs out."""
        while self.ready and self.idle:
            task = self.ready.popleft()
            if task.dispatch_cycle >= 0:
                continue  # it left in an older firing's batch
            tbu = self.choose(task)
            self.idle.take(tbu)
            self.dispatch_batch(self._batch(task, tbu), [tbu])

    def choose(self, task: Task) -> int:
        """The idle TBU ``task`` runs on (at least one is idle): the lowest id."""
        return self.idle.all.lowest()

    def _batch(self, task: Task, tbu: int) -> list[Task]:
        """``task`` and the next ready firings of its block that ride along on ``tbu``
        (:func:`~octopus.sched.batching.batch_limit`), oldest first."""
        queue = self.by_block.get(task.block_id)
        if not queue:
            return [task]
        while queue and (queue[0] is task or queue[0].dispatch_cycle >= 0):
            queue.popleft()  # task is its block's oldest undispatched firing
        if not queue:
            return [task]
        batch, limit = [task], batch_limit(self.machine, task, tbu)
        while queue and len(batch) < limit:
            batch.append(queue.popleft())
        return batch
