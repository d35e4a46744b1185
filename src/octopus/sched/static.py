"""``static``: the compile-time spatial mapping of a classic spatial architecture.

Each cluster's TBUs are partitioned among the Task Blocks in proportion to expected demand
(:mod:`octopus.sched.partition`); every cluster holds the same mapping and instances are homed
on clusters round-robin. Configurations are installed before the run and never changed by the
mapping; Control Blocks are resolved by the host (a round trip). A TBU serving several blocks
takes the oldest ready firing among them.
"""

from __future__ import annotations

from collections import defaultdict, deque
from typing import Literal

from octopus.sched.base import Scheduler, SchedulerConfig
from octopus.sched.partition import block_demand, proportional_partition
from octopus.sched.registry import register_scheduler
from octopus.sim.state import HOST, InstanceRun, Task

__all__ = ["Static", "StaticConfig"]


class StaticConfig(SchedulerConfig):
    """``static`` has no parameters."""

    name: Literal["static"] = "static"


@register_scheduler("static")
class Static(Scheduler):
    config_cls = StaticConfig

    def on_start(self) -> None:
        topo = self.topology
        layout = proportional_partition(
            block_demand(self.workflow, self.machine.capacity),
            topo.tbus_per_cluster)
        self.serves: list[list[str]] = [list(layout[u % topo.tbus_per_cluster])
                                        for u in range(topo.num_tbus)]
        slots = self.machine.arch.tbu.config_slots
        for u, blocks in enumerate(self.serves):
            for b in blocks[:slots]:
                self.machine.install(u, b, self.workflow.block(b).config_bytes)
        self.queues: dict[tuple[int, str], deque[Task]] = defaultdict(deque)
        self.dirty: set[int] = set()

    def on_ready(self, task: Task) -> None:
        self.queues[(task.run.site, task.block_id)].append(task)
        self.dirty.add(task.run.site)

    def on_task_done(self, task: Task) -> None:
        self.dirty.add(self.topology.cluster_of(task.tbu))

    def control_site(self, run: InstanceRun, control: int) -> int:
        return HOST

    def decide(self) -> None:
        for c in sorted(self.dirty):
            for u in self.machine.idle_in(c):
                queue = self._oldest_queue(c, u)
                if queue is not None:
                    self.dispatch(queue.popleft(), u)
        self.dirty.clear()

    def _oldest_queue(self, cluster: int, tbu: int) -> deque[Task] | None:
        """Among the queues ``tbu`` serves in ``cluster``, the one whose head waited longest."""
        best = None
        for b in self.serves[tbu]:
            q = self.queues.get((cluster, b))
            if q and (best is None or q[0].ready_cycle < best[0].ready_cycle):
                best = q
        return best
