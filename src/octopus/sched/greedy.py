"""``greedy``: one global ready queue; any idle TBU takes the oldest ready firing.

A strong non-paper reference, like a GPU or Ray-style dynamic scheduler: it never lets a TBU
idle while work is ready, but ignores configuration residency and data locality (the lowest
numbered idle TBU takes the work). With ``batch`` (default on) the firing takes along the next
ready firings of its block that fit in the time it takes alone (:mod:`octopus.sched.batching`).
With ``prefetch`` (default on), when no TBU is idle the oldest ready firing waits behind the
busy TBU that frees first (one each), its configuration and inputs fetched while that TBU
computes (the machine's double buffering). Control Blocks run on the instance's cluster CBU.

With ``width`` above 1 (a fixed group width, tuned per workflow by the evaluation like any
baseline parameter), a block that may widen runs every firing on a group of the widest of its
widths up to ``width``: an aligned range of TBU ids (:class:`~octopus.sched.idle.IdleRanges`),
an all-idle one (the lowest, :meth:`Greedy.choose_range`), or, with prefetch, behind the
range of that width that frees first. The oldest ready firing that has such a group goes
first: a firing waiting for a wide range does not hold back narrower ones behind it. Width 1
(default) is one firing per TBU.

:class:`Greedy` is also the first-in, first-out skeleton of ``affinity`` and ``locality``:
they keep its queue, its batches, its widths and its loop and choose the TBU and the range
differently (:meth:`Greedy.choose`, :meth:`Greedy.choose_range`).
"""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from typing import Literal

from octopus.sched.base import Scheduler
from octopus.sched.batching import GroupWidthConfig, batch_limit
from octopus.sched.idle import IdleRanges, IdleTbus
from octopus.sched.registry import register_scheduler
from octopus.sim.state import Task

__all__ = ["Greedy", "GreedyConfig"]

Group = tuple[int, ...]


class GreedyConfig(GroupWidthConfig):
    """Parameters of ``greedy``."""

    name: Literal["greedy"] = "greedy"


@register_scheduler("greedy")
class Greedy(Scheduler):
    config_cls = GreedyConfig
    config: GroupWidthConfig

    def on_start(self) -> None:
        num_tbus = self.machine.topology.num_tbus
        self.widest = min(self.config.width, 1 << (num_tbus.bit_length() - 1))
        self.queues: dict[int, deque[tuple[int, Task]]] = defaultdict(deque)  # by width
        self.readied = 0  # firings ready so far: their order across the queues
        self.by_block: dict[str, deque[Task]] = defaultdict(deque)  # ready, by block, to batch
        self.width_of: dict[str, int] = {}
        self.idle = IdleTbus(self.machine)
        self.ranges = (IdleRanges(self.machine.topology, self.widest) if self.widest > 1
                       else None)
        if self.ranges is not None:
            for u in range(num_tbus):
                self.ranges.free(u)
        self.soonest: dict[int, list[tuple[int, int]]] = defaultdict(list)  # (busy until, lead)

    def on_ready(self, task: Task) -> None:
        self.queues[self._width(task)].append((self.readied, task))
        self.readied += 1
        if self.config.batch:
            self.by_block[task.block_id].append(task)

    def on_task_done(self, task: Task) -> None:
        tbus = self.machine.tbus
        if all(tbus[u].in_flight == 0 for u in task.group):
            for u in task.group:
                self.idle.free(u)
                if self.ranges is not None:
                    self.ranges.free(u)
        elif self.config.prefetch:  # its waiting dispatch now runs: room for the next
            heapq.heappush(self.soonest[len(task.group)], (tbus[task.tbu].busy_until, task.tbu))

    def decide(self) -> None:
        """Oldest ready firing with an idle group first (with its batch), on the group
        :meth:`choose` picks, until none has one; then, with ``prefetch``, behind the busy
        groups that free first."""
        while (found := self._oldest(self._idle_group)) is not None:
            task, group = found
            for u in group:
                self.idle.take(u)
                if self.ranges is not None:
                    self.ranges.take(u)
            self._dispatch(task, group)
            if self.config.prefetch:
                heapq.heappush(self.soonest[len(group)],
                               (self.machine.tbus[group[0]].busy_until, group[0]))
        if self.config.prefetch:
            while (found := self._oldest(self._busy_group)) is not None:
                self._dispatch(*found)

    def _oldest(self, find) -> tuple[Task, Group] | None:
        """The oldest ready firing, not yet dispatched, for which ``find(task, width)`` gives
        a group, removed from its queue, and that group; None if there is none."""
        heads = []
        for width, queue in self.queues.items():
            while queue and queue[0][1].dispatch_cycle >= 0:
                queue.popleft()  # it left in an older firing's batch
            if queue:
                heads.append((queue[0][0], width))
        for _, width in sorted(heads):
            task = self.queues[width][0][1]
            group = find(task, width)
            if group is not None:
                self.queues[width].popleft()
                return task, group
        return None

    def _idle_group(self, task: Task, width: int) -> Group | None:
        """The idle group ``task`` would run on: :meth:`choose`'s TBU, or the all-idle range of
        ``width`` :meth:`choose_range` leads; None if there is none."""
        if width == 1:
            return (self.choose(task),) if self.idle else None
        if not self.ranges.any(width):
            return None
        lead = self.choose_range(task, width)
        return tuple(range(lead, lead + width))

    def _busy_group(self, task: Task, width: int) -> Group | None:
        """The group of ``width`` running one dispatch that frees first, removed from
        :attr:`soonest`; None if there is none."""
        heap, tbus = self.soonest[width], self.machine.tbus
        while heap:
            free, lead = heapq.heappop(heap)
            group = tuple(range(lead, lead + width)) if width > 1 else (lead,)
            if all(tbus[u].in_flight == 1 and tbus[u].busy_until == free for u in group):
                return group
            # stale: idle since, or already holding a waiting dispatch
        return None

    def _width(self, task: Task) -> int:
        """The group width ``task``'s block runs on: its widest up to :attr:`widest`."""
        found = self.width_of.get(task.block_id)
        if found is None:
            widths = self.machine.parallel.widths(task.firing.task)
            found = self.width_of[task.block_id] = max(w for w in widths if w <= self.widest)
        return found

    def _dispatch(self, task: Task, group: Group) -> None:
        self.dispatch_batch(self._batch(task, group), list(group))

    def choose(self, task: Task) -> int:
        """The idle TBU ``task`` runs on alone (at least one is idle): the lowest id."""
        return self.idle.all.lowest()

    def choose_range(self, task: Task, width: int) -> int:
        """The first TBU of the all-idle aligned range of ``width`` TBUs ``task`` runs on (at
        least one is idle): the lowest."""
        return self.ranges.lowest(width)

    def _batch(self, task: Task, group: Group) -> list[Task]:
        """``task`` and the next ready firings of its block that ride along on ``group``
        (:func:`~octopus.sched.batching.batch_limit`), oldest first."""
        queue = self.by_block.get(task.block_id)
        if not queue:
            return [task]
        while queue and (queue[0] is task or queue[0].dispatch_cycle >= 0):
            queue.popleft()  # task is its block's oldest undispatched firing
        if not queue:
            return [task]
        batch, limit = [task], batch_limit(self.machine, task, group[0], len(group))
        while queue and len(batch) < limit:
            batch.append(queue.popleft())
        return batch
