"""``static``: the compile-time spatial mapping of a classic spatial architecture.

The TBUs are partitioned among the Task Blocks in proportion to expected demand, laid out so
that producer and consumer blocks are mesh neighbours (:mod:`octopus.sched.partition`), by
``partition``:

- ``machine``: one partition spans every TBU of the machine; instances are not homed: a ready
  firing may run on any TBU serving its block.
- ``cluster``: every cluster holds the same partition of its own TBUs (each block gets at least
  one TBU per cluster) and instances are homed on clusters round-robin.
- ``auto`` (default): the one whose most loaded TBU has the lower estimated cycles per instance
  (:func:`~octopus.sched.partition.estimated_load`: demand with streamed weights, input
  transfers, and reloads where a TBU's blocks do not fit together); ``cluster`` on a tie.

The mapping never changes. The run starts cold, as every scheduler's does: at cycle 0 each TBU
pre-loads the first (most demanded) block it serves, paying the load through off-chip memory;
its other blocks load when they first run there, and reload when they do not fit together. A
configuration too large to be resident streams its weights on every firing. Ready firings
wait in one queue per block (per cluster, or for the machine); the oldest ready firing whose
block has an idle TBU goes to the lowest numbered one; with ``batch`` (default on) the next
ready firings of its block that fit in the time it takes alone go with it
(:mod:`octopus.sched.batching`). With ``prefetch`` (default on), once no queued block has an
idle TBU, the oldest ready firing waits behind its block's TBU that frees first (one waiting
dispatch per TBU), fetching its configuration and inputs meanwhile. Control Blocks are
resolved by the host (a round trip), as in a classic spatial machine without a decoupled
control plane.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from typing import Literal, TypeVar

from pydantic import Field

from octopus.sched.base import Scheduler
from octopus.sched.batching import PrefetchingConfig, batch_limit
from octopus.sched.idle import IdleSet
from octopus.sched.partition import block_demand, estimated_load, static_layout
from octopus.sched.registry import register_scheduler
from octopus.sim.state import HOST, InstanceRun, Task

__all__ = ["Static", "StaticConfig"]

Pool = TypeVar("Pool", IdleSet, set[int])

class StaticConfig(PrefetchingConfig):
    """Parameters of ``static``: how the compile-time partition spans the machine, and whether
    firings batch and prefetch."""

    name: Literal["static"] = "static"
    partition: Literal["auto", "machine", "cluster"] = Field(
        default="auto",
        description="'machine': one partition over all TBUs; 'cluster': the same partition in "
        "every cluster, instances homed round-robin; 'auto': the one with the lower "
        "estimated load of its most loaded TBU")


@register_scheduler("static")
class Static(Scheduler):
    config_cls = StaticConfig

    def on_start(self) -> None:
        self.per_cluster = self.partition() == "cluster"
        self.stats["partition_machine"] = int(not self.per_cluster)
        self.serves = [list(blocks) for blocks in
                       static_layout(self.workflow, self.machine, self.per_cluster).serves]
        self.blocks = list(block_demand(self.workflow, self.machine.capacity))
        self.queues: dict[tuple[int, str], deque[Task]] = defaultdict(deque)
        self.idle_servers: dict[tuple[int, str], IdleSet] = defaultdict(IdleSet)
        self.stageable: dict[tuple[int, str], set[int]] = defaultdict(set)  # running 1 dispatch
        self.dirty: set[int] = set()
        for u, blocks in enumerate(self.serves):
            first = blocks[0] if blocks else None
            if first is None or not self.machine.preload(
                    u, first, self.workflow.block(first).config_bytes):
                self._free(u)

    def partition(self) -> Literal["machine", "cluster"]:
        """The partition this run uses: the configured one, or the ``auto`` choice."""
        choice = self.config.partition
        if choice != "auto":
            return choice
        wf, machine = self.workflow, self.machine
        loads = {mode: estimated_load(wf, machine, static_layout(wf, machine, mode == "cluster"))
                 for mode in ("cluster", "machine")}
        return "machine" if loads["machine"] < loads["cluster"] else "cluster"

    def on_ready(self, task: Task) -> None:
        domain = task.run.site if self.per_cluster else 0
        self.queues[(domain, task.block_id)].append(task)
        self.dirty.add(domain)

    def on_task_done(self, task: Task) -> None:
        if self.machine.tbus[task.tbu].in_flight == 0:
            self._free(task.tbu)
        else:  # its waiting dispatch now runs: room for the next
            self._set_stageable(task.tbu, True)

    def on_tbu_idle(self, tbu: int) -> None:
        self._free(tbu)

    def control_site(self, run: InstanceRun, control: int) -> int:
        return HOST

    def decide(self) -> None:
        for domain in sorted(self.dirty):
            self._place(domain)
        self.dirty.clear()

    def dispatch_batch(self, tasks: list[Task], group: list[int]) -> None:
        (tbu,) = group
        domain = self._domain(tbu)
        for b in self.serves[tbu]:
            self.idle_servers[(domain, b)].discard(tbu)
        super().dispatch_batch(tasks, group)
        self._set_stageable(tbu, self.machine.tbus[tbu].in_flight == 1)

    def reassign(self, tbu: int, blocks: list[str]) -> None:
        """Make ``tbu`` serve ``blocks`` from now on (for rebalancing subclasses)."""
        domain = self._domain(tbu)
        for b in self.serves[tbu]:
            self.idle_servers[(domain, b)].discard(tbu)
        self._set_stageable(tbu, False)
        self.serves[tbu] = blocks
        if tbu in self.machine.idle:
            self._free(tbu)
        else:
            self._set_stageable(tbu, self.machine.tbus[tbu].in_flight == 1)

    def _place(self, domain: int) -> None:
        """Start ``domain``'s ready firings, oldest first, each on the lowest idle TBU serving
        its block (with the next firings of that block that ride along, :mod:`.batching`),
        until no queued block has an idle TBU; then, with ``prefetch``, behind the TBU serving
        its block that frees first, until no queued block has one running a single dispatch."""
        self._place_on(domain, self.idle_servers, IdleSet.lowest)
        if self.config.prefetch:
            busy = self.machine.tbus
            self._place_on(domain, self.stageable, lambda us: min(
                us, key=lambda u: (busy[u].busy_until, u)))

    def _place_on(self, domain: int, pools: Mapping[tuple[int, str], Pool],
                  pick: Callable[[Pool], int]) -> None:
        """:meth:`_place` from one kind of TBU pool: ``pools[(domain, block)]``, the TBU
        ``pick(pool)``."""
        while True:
            best = None
            for b in self.blocks:
                queue, servers = self.queues.get((domain, b)), pools.get((domain, b))
                if queue and servers and (best is None
                                          or queue[0].ready_cycle < best[0][0].ready_cycle):
                    best = queue, servers
            if best is None:
                return
            queue, servers = best
            batch, tbu = [queue.popleft()], pick(servers)
            limit = batch_limit(self.machine, batch[0], tbu) if self.config.batch and queue else 1
            while queue and len(batch) < limit:
                batch.append(queue.popleft())
            self.dispatch_batch(batch, [tbu])

    def _domain(self, tbu: int) -> int:
        """The queue domain ``tbu`` serves: its cluster, or 0 (the machine)."""
        return self.topology.cluster_of(tbu) if self.per_cluster else 0

    def _free(self, tbu: int) -> None:
        self._set_stageable(tbu, False)
        domain = self._domain(tbu)
        for b in self.serves[tbu]:
            self.idle_servers[(domain, b)].add(tbu)
        self.dirty.add(domain)

    def _set_stageable(self, tbu: int, running_one: bool) -> None:
        """Record whether ``tbu`` runs one dispatch and could take a waiting one."""
        domain = self._domain(tbu)
        for b in self.serves[tbu]:
            pool = self.stageable[(domain, b)]
            if running_one:
                pool.add(tbu)
            else:
                pool.discard(tbu)
        if running_one:
            self.dirty.add(domain)
