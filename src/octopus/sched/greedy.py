"""``greedy``: one global ready queue; any idle TBU takes the oldest ready firing.

A strong non-paper reference, like a GPU or Ray-style dynamic scheduler: it never lets a TBU
idle while work is ready, but ignores configuration residency and data locality (the lowest
numbered idle TBU takes the work). With ``batch`` (default on) the firing takes along the next
ready firings of its block that fit in the time it takes alone (:mod:`octopus.sched.batching`).
With ``prefetch`` (default on), when no TBU is idle the oldest ready firing waits behind the
busy TBU that frees first (one each), its configuration and inputs fetched while that TBU
computes (the machine's double buffering). Control Blocks run on the instance's cluster CBU.

:class:`Greedy` is also the first-in, first-out skeleton of ``affinity`` and ``locality``:
they keep its queue, its batches and its loop and choose the TBU differently
(:meth:`Greedy.choose`).
"""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from typing import Literal

from octopus.sched.base import Scheduler
from octopus.sched.batching import PrefetchingConfig, batch_limit
from octopus.sched.idle import IdleTbus
from octopus.sched.registry import register_scheduler
from octopus.sim.state import Task

__all__ = ["Greedy", "GreedyConfig"]


class GreedyConfig(PrefetchingConfig):
    """Parameters of ``greedy``."""

    name: Literal["greedy"] = "greedy"


@register_scheduler("greedy")
class Greedy(Scheduler):
    config_cls = GreedyConfig
    config: PrefetchingConfig

    def on_start(self) -> None:
        self.ready: deque[Task] = deque()  # may hold firings that left in an older one's batch
        self.by_block: dict[str, deque[Task]] = defaultdict(deque)  # the same, by block
        self.idle = IdleTbus(self.machine)
        self.soonest: list[tuple[int, int]] = []  # (busy until, TBU) running one dispatch

    def on_ready(self, task: Task) -> None:
        self.ready.append(task)
        if self.config.batch:
            self.by_block[task.block_id].append(task)

    def on_task_done(self, task: Task) -> None:
        state = self.machine.tbus[task.tbu]
        if state.in_flight == 0:
            self.idle.free(task.tbu)
        elif self.config.prefetch:  # its waiting dispatch now runs: room for the next
            heapq.heappush(self.soonest, (state.busy_until, task.tbu))

    def decide(self) -> None:
        """Oldest ready firing first (with its batch), each on the idle TBU :meth:`choose`
        picks, until either runs out; then, with ``prefetch``, behind the busy TBUs that free
        first."""
        while self.ready and self.idle:
            task = self._next()
            if task is None:
                return
            tbu = self.choose(task)
            self.idle.take(tbu)
            self.dispatch_batch(self._batch(task, tbu), [tbu])
            if self.config.prefetch:
                heapq.heappush(self.soonest, (self.machine.tbus[tbu].busy_until, tbu))
        while self.soonest and (task := self._next()) is not None:
            tbu = self._busy_tbu_freeing_first()
            if tbu is None:
                self.ready.appendleft(task)
                return
            self.dispatch_batch(self._batch(task, tbu), [tbu])

    def _busy_tbu_freeing_first(self) -> int | None:
        """The TBU running one dispatch that frees first, removed from :attr:`soonest`."""
        while self.soonest:
            free, tbu = heapq.heappop(self.soonest)
            state = self.machine.tbus[tbu]
            if state.in_flight == 1 and state.busy_until == free:
                return tbu
            # stale: idle since, or already holding a waiting dispatch
        return None

    def _next(self) -> Task | None:
        """The oldest ready firing not yet dispatched (in an older firing's batch), removed."""
        while self.ready:
            task = self.ready.popleft()
            if task.dispatch_cycle < 0:
                return task
        return None

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
