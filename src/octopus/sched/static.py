"""``static``: the compile-time spatial mapping of a classic spatial architecture.

The TBUs are partitioned among the Task Blocks in proportion to expected demand, laid out so
that producer and consumer blocks are mesh neighbours (:mod:`octopus.sched.partition`), by
``partition``:

- ``machine``: one partition spans every TBU of the machine; instances are not homed: a ready
  firing may run on any server of its block.
- ``cluster``: every cluster holds the same partition of its own TBUs (each block gets at least
  one TBU per cluster) and instances are homed on clusters round-robin.
- ``auto`` (default): the one whose most loaded TBU has the lower estimated cycles per instance
  (:func:`~octopus.sched.partition.estimated_load`: demand with streamed weights, input
  transfers, and reloads where a TBU's blocks do not fit together); ``cluster`` on a tie.

A block's TBUs in a partition are cut, along the layout's path, into equal fixed *servers*:
groups of the widest of its widths up to ``width`` (a power of two, default 1: every TBU a
server on its own; tuned per workflow by the evaluation like any baseline parameter) and up
to its TBUs there. A firing runs on one server, as a compiler that maps a network onto equal
regions of the machine would run it. TBUs left over (fewer than a server) do not serve the
block (``scheduler_stats.tbus_left_over`` counts them above width 1): narrower servers
beside wide ones would take a fan-out's firings first come, first served, and the slowest
would hold the fan-out back. The partition is sized by single-TBU demand.

The mapping never changes. The run starts cold, as every scheduler's does: at cycle 0 each TBU
pre-loads its share of the first (most demanded) block it serves, paying the load through
off-chip memory; its other blocks load when they first run there, and reload when they do not
fit together. A configuration too large to be resident streams its weights on every firing.
Ready firings wait in one queue per block (per cluster, or for the machine); the oldest ready
firing whose block has an idle server goes to the lowest numbered one; with ``batch``
(default on) the next ready firings of its block that fit in the time it takes alone go with
it (:mod:`octopus.sched.batching`). With ``prefetch`` (default on), once no queued block has
an idle server, the oldest ready firing waits behind its block's server, running a single
dispatch on every member, that frees first, fetching its configuration and inputs meanwhile.
Control Blocks are resolved by the host (a round trip), as in a classic spatial machine
without a decoupled control plane.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, TypeVar

from pydantic import Field

from octopus.sched.base import Scheduler
from octopus.sched.batching import GroupWidthConfig, batch_limit
from octopus.sched.idle import IdleSet
from octopus.sched.partition import block_demand, estimated_load, static_layout
from octopus.sched.registry import register_scheduler
from octopus.sim.residency import shard_key
from octopus.sim.state import HOST, InstanceRun, Task

__all__ = ["Static", "StaticConfig"]

Pool = TypeVar("Pool", IdleSet, set[int])
Key = tuple[int, str]
"""A queue's and its servers' domain (cluster, or 0 for the machine) and block."""
Group = tuple[int, ...]

class StaticConfig(GroupWidthConfig):
    """Parameters of ``static``: how the compile-time partition spans the machine, how wide
    its servers are, and whether firings batch and prefetch."""

    name: Literal["static"] = "static"
    partition: Literal["auto", "machine", "cluster"] = Field(
        default="auto",
        description="'machine': one partition over all TBUs; 'cluster': the same partition in "
        "every cluster, instances homed round-robin; 'auto': the one with the lower "
        "estimated load of its most loaded TBU")


IDLE, RUNNING_ONE, BUSY = 0, 1, 2
"""What :class:`Static` last saw of a TBU: idle, running a single dispatch, anything else."""


@register_scheduler("static")
class Static(Scheduler):
    config_cls = StaticConfig

    def on_start(self) -> None:
        self.per_cluster = self.partition() == "cluster"
        self.stats["partition_machine"] = int(not self.per_cluster)
        layout = static_layout(self.workflow, self.machine, self.per_cluster)
        self.serves = [list(blocks) for blocks in layout.serves]
        self.blocks = list(block_demand(self.workflow, self.machine.capacity))
        self.queues: dict[Key, deque[Task]] = defaultdict(deque)
        self.servers: dict[Key, dict[int, Group]] = defaultdict(dict)  # lead -> members
        self.member_of: list[list[tuple[Key, int]]] = [[] for _ in self.serves]  # (key, lead)
        self.counts: dict[tuple[Key, int], list[int]] = {}  # members idle, running one
        self.idle_servers: dict[Key, IdleSet] = defaultdict(IdleSet)  # leads
        self.stageable: dict[Key, set[int]] = defaultdict(set)  # leads, every member running 1
        self.seen = [BUSY] * len(self.serves)
        self.dirty: set[int] = set()
        self._cut_servers(layout.path)
        for u, blocks in enumerate(self.serves):
            if not blocks or not self._preload(u, blocks[0]):
                self._see(u, IDLE)

    def partition(self) -> Literal["machine", "cluster"]:
        """The partition this run uses: the configured one, or the ``auto`` choice."""
        choice = self.config.partition
        if choice != "auto":
            return choice
        wf, machine = self.workflow, self.machine
        loads = {mode: estimated_load(wf, machine, static_layout(wf, machine, mode == "cluster"))
                 for mode in ("cluster", "machine")}
        return "machine" if loads["machine"] < loads["cluster"] else "cluster"

    def group_width(self) -> int:
        """The widest server (``width``)."""
        return self.config.width

    def on_ready(self, task: Task) -> None:
        domain = task.run.site if self.per_cluster else 0
        self.queues[(domain, task.block_id)].append(task)
        self.dirty.add(domain)

    def on_task_done(self, task: Task) -> None:
        tbus = self.machine.tbus
        for u in task.group:  # a waiting dispatch may now run on it: room for the next
            self._see(u, min(tbus[u].in_flight, BUSY))

    def on_tbu_idle(self, tbu: int) -> None:
        self._see(tbu, IDLE)

    def control_site(self, run: InstanceRun, control: int) -> int:
        return HOST

    def decide(self) -> None:
        for domain in sorted(self.dirty):
            self._place(domain)
        self.dirty.clear()

    def dispatch_batch(self, tasks: list[Task], group: list[int]) -> None:
        super().dispatch_batch(tasks, group)
        tbus = self.machine.tbus
        for u in group:
            self._see(u, RUNNING_ONE if tbus[u].in_flight == 1 else BUSY)

    def reassign(self, tbu: int, blocks: list[str]) -> None:
        """Make ``tbu`` serve ``blocks`` from now on, a server on its own (for rebalancing
        subclasses, whose servers are single TBUs)."""
        self._see(tbu, BUSY)  # out of every pool
        for key, lead in self.member_of[tbu]:
            del self.servers[key][lead], self.counts[(key, lead)]
        self.serves[tbu], self.member_of[tbu] = blocks, []
        for b in blocks:
            self._add_server((self._domain(tbu), b), (tbu,))
        state = self.machine.tbus[tbu]
        self._see(tbu, IDLE if tbu in self.machine.idle
                  else RUNNING_ONE if state.in_flight == 1 else BUSY)

    def _cut_servers(self, path: Sequence[int]) -> None:
        """Each block's TBUs of each domain, in ``path`` order, cut into equal servers of the
        widest of its widths up to :meth:`group_width` and its TBUs there; TBUs left over
        (fewer than one server) stop serving it."""
        tbus_of: dict[Key, list[int]] = defaultdict(list)
        for u in path:
            for b in self.serves[u]:
                tbus_of[(self._domain(u), b)].append(u)
        widest, left_over = self.group_width(), 0
        for (domain, b), tbus in tbus_of.items():
            widths = self.machine.parallel.widths(self.workflow.block(b))
            width = max(w for w in widths if w <= min(widest, len(tbus)))
            servers = len(tbus) // width
            for k in range(servers):
                self._add_server((domain, b), tuple(tbus[k * width:(k + 1) * width]))
            for u in tbus[servers * width:]:
                self.serves[u].remove(b)
                left_over += 1
        if widest > 1:
            self.stats["tbus_left_over"] = left_over

    def _add_server(self, key: Key, group: Group) -> None:
        self.servers[key][group[0]] = group
        self.counts[(key, group[0])] = [0, 0]
        for u in group:
            self.member_of[u].append((key, group[0]))

    def _preload(self, tbu: int, block_id: str) -> bool:
        """Pre-load ``tbu``'s share of ``block_id`` (its shard in its server); whether it
        loads."""
        key, lead = next((k, lead) for k, lead in self.member_of[tbu] if k[1] == block_id)
        group = self.servers[key][lead]
        block = self.workflow.block(block_id)
        return self.machine.preload(tbu, shard_key(block_id, len(group), group.index(tbu)),
                                    self.machine.parallel.shard_bytes(block, len(group)))

    def _see(self, tbu: int, now: int) -> None:
        """``tbu`` is now :data:`IDLE`, :data:`RUNNING_ONE` or :data:`BUSY`: its servers enter
        or leave the pools of idle and stageable servers as their members all are or not."""
        before = self.seen[tbu]
        if now != BUSY:
            self.dirty.add(self._domain(tbu))
        if now == before:
            return
        self.seen[tbu] = now
        for key, lead in self.member_of[tbu]:
            size, counts = len(self.servers[key][lead]), self.counts[(key, lead)]
            pools: tuple = (self.idle_servers[key], self.stageable[key])
            if before != BUSY:
                if counts[before] == size:
                    pools[before].discard(lead)
                counts[before] -= 1
            if now != BUSY:
                counts[now] += 1
                if counts[now] == size:
                    pools[now].add(lead)

    def _place(self, domain: int) -> None:
        """Start ``domain``'s ready firings, oldest first, each on the lowest idle server of
        its block (with the next firings of that block that ride along, :mod:`.batching`),
        until no queued block has an idle server; then, with ``prefetch``, behind the server
        of its block that frees first, until no queued block has one running a single
        dispatch."""
        self._place_on(domain, self.idle_servers, lambda leads, _: leads.lowest())
        if self.config.prefetch:
            busy = self.machine.tbus
            self._place_on(domain, self.stageable, lambda leads, servers: min(
                leads, key=lambda lead: (max(busy[u].busy_until for u in servers[lead]), lead)))

    def _place_on(self, domain: int, pools: Mapping[Key, Pool],
                  pick: Callable[[Pool, dict[int, Group]], int]) -> None:
        """:meth:`_place` from one kind of server pool: ``pools[(domain, block)]`` (leads), the
        server led by ``pick(pool, lead -> members)``."""
        while True:
            best = None
            for b in self.blocks:
                queue, leads = self.queues.get((domain, b)), pools.get((domain, b))
                if queue and leads and (best is None
                                        or queue[0].ready_cycle < best[0][0].ready_cycle):
                    best = queue, leads, (domain, b)
            if best is None:
                return
            queue, leads, key = best
            servers = self.servers[key]
            lead = pick(leads, servers)
            batch, group = [queue.popleft()], servers[lead]
            limit = (batch_limit(self.machine, batch[0], lead, len(group))
                     if self.config.batch and queue else 1)
            while queue and len(batch) < limit:
                batch.append(queue.popleft())
            self.dispatch_batch(batch, list(group))

    def _domain(self, tbu: int) -> int:
        """The queue domain ``tbu`` serves: its cluster, or 0 (the machine)."""
        return self.topology.cluster_of(tbu) if self.per_cluster else 0
