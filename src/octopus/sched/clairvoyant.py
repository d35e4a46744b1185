"""``clairvoyant``: a list scheduler that knows the future; a reference for the headroom, not a
baseline (no real scheduler can know what it knows).

What it knows that the others do not: when an instance arrives, its whole sampled DAG
(``InstanceRun.instance``): every Control Block outcome (branch taken, loop and fan-out
counts) and every firing's work, hence every firing's duration. Every other scheduler learns
a count when its Control Block decides and a duration when the firing ends.

Policy:

- **Priority**: the ready firing with the longest remaining path first: its upward rank over
  the instance's DAG, each Task Block firing at its exact busy cycles alone on one TBU
  (:meth:`~octopus.workflow.Capacity.busy_cycles`, streamed weights included) and each control
  firing at the CBU latency; ties go to the earlier instance, then to the earlier firing.
- **Placement**: the earliest estimated finish among (a) the idle TBU nearest the firing's
  producers, ties to a holder of its configuration, then the lowest id, (b) the idle holder
  nearest its producers and (c) waiting for the busy holder that frees first. An idle TBU
  finishes at :meth:`~octopus.sim.machine.Machine.start_estimate` (reconfiguration with the
  memory queue, input transfer) plus the busy cycles; a busy one at the later of its
  ``busy_until`` and the inputs' arrival, plus the busy cycles. Ties go to an idle TBU, then
  the lowest id. A wait reserves the TBU for the firing (nobody else waits for it) and
  pre-stages the inputs there.
- **Batches** (``batch``): a firing takes along the next queued firings of its block by rank
  that fit in the time it takes alone (:mod:`.batching`).
- **Preloads** (``preload``): TBUs still idle after placement load configurations of blocks
  with more known, undispatched firings than TBUs holding them (largest shortfall first),
  only onto a TBU with room for it or whose resident configurations all have more holders
  than known, undispatched firings (nothing still needed is evicted).

Control Blocks run on the instance's cluster CBU; instances are homed round-robin. ``stats``
counts ``waits`` and ``preloads``.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from typing import Literal

from pydantic import Field

from octopus.sched.base import Scheduler
from octopus.sched.batching import BatchingConfig, batch_limit
from octopus.sched.idle import IdleTbus
from octopus.sched.locality import producer_sources
from octopus.sched.registry import register_scheduler
from octopus.sim.state import InstanceRun, Task

__all__ = ["Clairvoyant", "ClairvoyantConfig"]


class ClairvoyantConfig(BatchingConfig):
    """Parameters of ``clairvoyant``."""

    name: Literal["clairvoyant"] = "clairvoyant"
    preload: bool = Field(
        default=True, description="load configurations of known upcoming firings on idle TBUs")


@register_scheduler("clairvoyant")
class Clairvoyant(Scheduler):
    config_cls = ClairvoyantConfig
    config: ClairvoyantConfig

    def on_start(self) -> None:
        self.idle = IdleTbus(self.machine)
        self.rank: dict[Task, int] = {}  # known, not yet ready firings
        self.queued: set[Task] = set()  # ready, not placed
        self.by_rank: list[tuple[int, int, int, Task]] = []  # heap of (-rank, instance, firing)
        self.by_block: dict[str, list[tuple[int, int, int, Task]]] = defaultdict(list)
        self.pending: dict[str, int] = defaultdict(int)  # known, undispatched firings per block
        self.held: dict[str, int] = defaultdict(int)  # TBUs holding each configuration
        self.config_bytes = {b.id: b.config_bytes for b in self.workflow.blocks
                             if b.type == "task"}
        self.recheck: set[int] = set()  # idle TBUs not examined for a preload since they freed
        self.rescan = False  # a block's shortfall changed sign: examine every idle TBU again
        self.stats.update(waits=0, preloads=0)
        self.busy_holders: dict[str, list[tuple[int, int]]] = defaultdict(list)  # heaps
        self.reserved: dict[int, Task] = {}  # busy TBU -> the firing waiting for it
        self.claimed: list[int] = []  # reserved TBUs that are idle now

    # --- events ------------------------------------------------------------------------------
    def on_arrival(self, run: InstanceRun) -> None:
        """Home ``run`` round-robin and rank all its firings, revealed or not."""
        super().on_arrival(run)
        firings, cap = run.firings, self.machine.capacity
        rank = [0] * len(firings)
        for k in reversed(range(len(firings))):
            rank[k] = cap.firing_cycles(firings[k]) + max((rank[s] for s in run.succs[k]),
                                                          default=0)
        for k, task in run.tasks.items():
            self.rank[task] = rank[k]
            self._adjust(task.block_id, pending=1)

    def on_ready(self, task: Task) -> None:
        rank = self.rank.pop(task)
        key = (task.run.index, task.idx, task)
        heapq.heappush(self.by_rank, (-rank, *key))
        if self.config.batch:
            heapq.heappush(self.by_block[task.block_id], (-rank, *key))
        self.queued.add(task)

    def on_task_done(self, task: Task) -> None:
        self._freed(task.tbu)

    def on_tbu_idle(self, tbu: int) -> None:
        self._freed(tbu)

    # --- decisions ---------------------------------------------------------------------------
    def decide(self) -> None:
        for tbu in self.claimed:
            self._run(self._batch(self.reserved.pop(tbu), tbu), tbu)
        self.claimed.clear()
        while self.queued and self.idle:
            task = self._next()
            tbu, wait = self._place(task)
            if wait:
                self.reserved[tbu] = task
                self.machine.prestage(task, tbu)
                self.stats["waits"] += 1
            else:
                self.idle.take(tbu)
                self._run(self._batch(task, tbu), tbu)
        if self.config.preload:
            self._preload()

    def _next(self) -> Task:
        """Take the queued firing of highest priority (module doc); one is queued."""
        heap = self.by_rank
        while heap[0][-1] not in self.queued:
            heapq.heappop(heap)  # it left in another firing's batch
        task = heapq.heappop(heap)[-1]
        self.queued.discard(task)
        return task

    def _place(self, task: Task) -> tuple[int, bool]:
        """The TBU with the earliest estimated finish for ``task`` and whether it means waiting
        for that TBU to free (module doc: placement); at least one TBU is idle."""
        machine, b = self.machine, task.block_id
        sources = producer_sources(task)
        cycles = machine.capacity.busy_cycles(task.firing.task, task.work)
        idle = [self.idle.nearest(sources, b)]
        if self.idle.holding(b):
            idle.append(self.idle.nearest(sources, b, holders_only=True))
        options = [(machine.start_estimate(task, u) + cycles, False, u) for u in idle]
        holder = self._first_free_holder(b)
        if holder is not None:
            start = max(machine.tbus[holder].busy_until, machine.data_ready_cycle(task, holder))
            options.append((start + cycles, True, holder))
        _, wait, tbu = min(options)
        return tbu, wait

    def _batch(self, task: Task, tbu: int) -> list[Task]:
        """``task`` and the next queued firings of its block by rank that ride along on ``tbu``
        (:func:`~octopus.sched.batching.batch_limit`)."""
        heap, batch = self.by_block.get(task.block_id), [task]
        if not heap:
            return batch
        limit = batch_limit(self.machine, task, tbu)
        while heap and (len(batch) < limit or heap[0][-1] not in self.queued):
            mate = heapq.heappop(heap)[-1]
            if mate in self.queued:  # else placed already
                self.queued.discard(mate)
                batch.append(mate)
        return batch

    def _first_free_holder(self, block_id: str) -> int | None:
        """The busy, unreserved TBU holding ``block_id`` that frees first, if any."""
        heap = self.busy_holders[block_id]
        while heap:
            if self._holds(block_id, *heap[0]):
                return heap[0][1]
            heapq.heappop(heap)  # stale: the TBU freed, was reserved or evicted the block
        return None

    def _holds(self, block_id: str, until: int, tbu: int) -> bool:
        """Whether ``tbu`` is still busy until ``until``, unreserved, holding ``block_id``."""
        state = self.machine.tbus[tbu]
        return (state.busy_until == until and tbu not in self.machine.idle
                and tbu not in self.reserved and block_id in state.residency)

    def _preload(self) -> None:
        """Load configurations of known upcoming firings onto spare idle TBUs (module doc).

        An idle TBU found not spare stays so until it is busy again or some block's shortfall
        changes sign, so only TBUs freed since, or all after such a change, are examined."""
        machine = self.machine
        short = {b: n - self.held[b] for b, n in self.pending.items()
                 if n > self.held[b] and machine.fits(self.config_bytes[b])}
        candidates = self.idle.all if self.rescan else self.recheck & set(self.idle.all)
        self.rescan = False
        self.recheck.clear()
        for u in sorted(candidates):
            if not short:
                return
            residency = machine.tbus[u].residency
            keys = residency.held()
            expendable = all(self.held[x] > self.pending[x] for x in keys)
            for b in sorted(short, key=lambda x: (-short[x], x)):
                nbytes = self.config_bytes[b]
                room = (len(keys) < residency.slots
                        and residency.used_bytes + nbytes <= residency.capacity)
                if b in residency or not (room or expendable):
                    continue
                self.idle.take(u)
                machine.preload(u, b, nbytes)  # idle, not resident, fits: it loads
                self.stats["preloads"] += 1
                self._resident_changed(u, keys)
                short[b] -= 1
                if not short[b]:
                    del short[b]
                break

    # --- bookkeeping -------------------------------------------------------------------------
    def _run(self, tasks: list[Task], tbu: int) -> None:
        """Dispatch ``tasks`` as one batch on ``tbu``."""
        before = self.machine.tbus[tbu].residency.held()
        for task in tasks:
            self._adjust(task.block_id, pending=-1)
        self.dispatch_batch(tasks, [tbu])
        self._resident_changed(tbu, before)

    def _resident_changed(self, tbu: int, before: list[str]) -> None:
        """Count holders after ``tbu`` (now busy) loaded or evicted configurations."""
        state = self.machine.tbus[tbu]
        after = state.residency.held()
        for b in set(before) - set(after):
            self._adjust(b, held=-1)
        for b in after:
            if b not in before:
                self._adjust(b, held=1)
            heap = self.busy_holders[b]
            heapq.heappush(heap, (state.busy_until, tbu))
            if len(heap) > 2 * self.topology.num_tbus + 32:  # bound the stale entries
                self.busy_holders[b] = [e for e in heap if self._holds(b, *e)]
                heapq.heapify(self.busy_holders[b])

    def _adjust(self, block_id: str, pending: int = 0, held: int = 0) -> None:
        """Change ``block_id``'s known, undispatched firings and holders; note when the
        shortfall (firings - holders) of a block that can be resident changes sign."""
        gap = self.pending[block_id] - self.held[block_id]
        self.pending[block_id] += pending
        self.held[block_id] += held
        new_gap = self.pending[block_id] - self.held[block_id]
        if ((gap > 0) - (gap < 0) != (new_gap > 0) - (new_gap < 0)
                and self.machine.fits(self.config_bytes[block_id])):
            self.rescan = True

    def _freed(self, tbu: int) -> None:
        """``tbu`` is idle: its reservation claims it, else it joins the idle index (once per
        batch: every firing of a batch reports the same TBU)."""
        if tbu in self.reserved:
            if tbu not in self.claimed:
                self.claimed.append(tbu)
        else:
            self.idle.free(tbu)
            self.recheck.add(tbu)
