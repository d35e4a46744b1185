"""``octopus``: Discriminate Dual-Scheduling, Adaptive TBU Scheduling, Proactive Cluster
Scheduling and diffusion load balancing, each switchable for ablation (``docs/schedulers.md``).

Ready firings wait in per-cluster, per-block priority queues. ``decide`` visits the idle TBUs
of every cluster in which something changed and picks work for each:

- **dual** (Discriminate Dual-Scheduling): a TBU that already holds a block's configuration
  (*resident*) is preferred; another (*elastic*) TBU is reconfigured for a block only when the
  block's resident TBUs would take longer to reach its work than the reconfiguration costs, and
  never away from a *stable* block (low variance, fixed frequency) that it serves within that
  block's quota of dedicated TBUs. Control Blocks run on CBUs. Off: the first free TBU takes
  the most urgent firing whatever it holds, and Control Blocks go to the host.
- **adaptive** (Adaptive TBU Scheduling): queues are ordered by urgency (oldest instance first,
  then larger downstream critical-path rank), and the stable blocks' quotas and the expected
  firing durations follow EWMAs of what ran. Off: first-ready-first-served, quotas and
  durations from the static expectations.
- **proactive** (Proactive Cluster Scheduling): an arriving instance is homed on the cluster
  with the least predicted load; when a Control Block reveals work, the configurations of its
  not-yet-ready blocks are pre-loaded on spare idle TBUs; a firing that waits for a resident TBU
  has its input data pre-staged there. Off: instances are homed round-robin, nothing is early.
- **diffusion**: every ``diffusion_period_cycles`` each cluster compares its queued work per
  TBU with its mesh neighbours and moves queued firings down the gradient
  (:mod:`octopus.sched.diffusion`).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from itertools import count
from typing import Literal

from pydantic import Field

from octopus.arch import config_load_cycles
from octopus.sched.base import Scheduler, SchedulerConfig
from octopus.sched.diffusion import diffusion_flows
from octopus.sched.partition import block_demand
from octopus.sched.registry import register_scheduler
from octopus.sim.core import DECISION
from octopus.sim.state import HOST, InstanceRun, Task
from octopus.workflow import compile_workflow, expected_firings
from octopus.workflow.analysis import downstream_ranks
from octopus.workflow.structure import TaskItem

__all__ = ["Octopus", "OctopusConfig"]

INF = float("inf")


class OctopusConfig(SchedulerConfig):
    """Parameters of ``octopus``: each mechanism's switch (for the ablation) and its knobs."""

    name: Literal["octopus"] = "octopus"
    dual: bool = Field(default=True, description="Discriminate Dual-Scheduling on")
    adaptive: bool = Field(default=True, description="Adaptive TBU Scheduling on")
    proactive: bool = Field(default=True, description="Proactive Cluster Scheduling on")
    diffusion: bool = Field(
        default=False, description="diffusion load balancing on (off by default: see docs)")
    stable_cv: float = Field(
        default=0.25, ge=0, description="a top-level block with work CV at most this is stable")
    ewma_alpha: float = Field(default=0.05, gt=0, le=1, description="weight of a new observation")
    diffusion_period_cycles: int = Field(
        default=200_000, ge=1, description="cycles between diffusion rounds")
    diffusion_alpha: float = Field(
        default=0.2, gt=0, le=0.5, description="fraction of a neighbour gap moved per round")
    diffusion_dead_band_firings: float = Field(
        default=1.0, ge=0,
        description="predicted-load gap per TBU (in mean firings) that moves nothing")


@register_scheduler("octopus")
class Octopus(Scheduler):
    config_cls = OctopusConfig
    config: OctopusConfig

    # --- set-up ------------------------------------------------------------------------------
    def on_start(self) -> None:
        wf, cfg, topo = self.workflow, self.config, self.topology
        cap = self.machine.capacity
        self.rank = downstream_ranks(wf, cap)
        self.mean_cycles = {b.id: float(cap.cycles(b.kind, b.work.mean, b.id))
                            for b in wf.blocks if b.type == "task"}
        self.duration = dict(self.mean_cycles)  # EWMA of observed compute cycles (adaptive)
        top = {it.block.id for it in compile_workflow(wf).items if isinstance(it, TaskItem)}
        self.stable = {b.id for b in wf.blocks if b.id in top and b.work.cv <= cfg.stable_cv}
        self.demand = block_demand(wf, cap)
        self.reload_cycles = {b.id: config_load_cycles(self.machine.arch, b.config_bytes)
                              for b in wf.blocks if b.type == "task"}
        self.firings_seen: dict[str, int] = defaultdict(int)
        self.pending: dict[str, int] = defaultdict(int)  # revealed, unfinished firings
        self.arrived = 0
        self.quota = self._quotas(self.demand)
        self.queues: list[dict[str, list]] = [defaultdict(list) for _ in range(topo.num_clusters)]
        self.queued_cycles = [0.0] * topo.num_clusters  # expected cycles of queued firings
        self.queued = [0] * topo.num_clusters  # queued firings
        self.predicted = [0.0] * topo.num_clusters  # revealed, unfinished expected work
        self.site: dict[Task, int] = {}  # firings placed away from their instance's home
        self.dirty: set[int] = set()
        self.seq = count().__next__
        self.timer_armed = False
        self.done = 0
        self.refused: set[int] = set()  # clusters whose heads every non-holding TBU refuses
        self.idle_holders: dict[str, list[int]] | None = None  # per decision, see below
        self.neighbors = [topo.cluster_neighbors(c) for c in range(topo.num_clusters)]
        self.by_distance = [sorted(range(topo.num_clusters),
                                   key=lambda o, c=c: (topo.cluster_distance(c, o), o))
                            for c in range(topo.num_clusters)]
        self.backlogged: set[int] = set()  # clusters with queued firings
        firings = expected_firings(wf)
        per_instance = sum(firings[b] for b in self.mean_cycles)
        self.mean_firing_cycles = sum(firings[b] * self.mean_cycles[b]
                                      for b in self.mean_cycles) / per_instance

    def _quotas(self, demand: dict[str, float]) -> dict[str, int]:
        """Dedicated TBUs per stable block and cluster, in proportion to its demand share."""
        total = sum(demand.values()) or 1.0
        per = self.topology.tbus_per_cluster
        return {b: max(1, round(per * demand[b] / total)) for b in self.stable}

    # --- events ------------------------------------------------------------------------------
    def on_arrival(self, run: InstanceRun) -> None:
        self.arrived += 1
        run.site = self.home_cluster(run)
        self._predict(run.site, [k for k, f in enumerate(run.firings) if f.revealed_by < 0], run)

    def home_cluster(self, run: InstanceRun) -> int:
        """The cluster an arriving instance is homed on: the least predicted load (proactive),
        else round-robin."""
        loads = self.predicted
        if self.config.proactive and len(loads) > 1:
            return min(range(len(loads)), key=loads.__getitem__)
        return run.index % len(loads)

    def on_reveal(self, run: InstanceRun, control: int, revealed: list[int]) -> None:
        self._predict(run.site, revealed, run)
        if self.config.proactive:
            self._preload(run, control, revealed)

    def control_site(self, run: InstanceRun, control: int) -> int:
        return run.site if self.config.dual else HOST

    def on_ready(self, task: Task) -> None:
        c = self.site.get(task, task.run.site)
        self._push(c, task)
        self.dirty.add(c)
        if self.config.diffusion and self.topology.num_clusters > 1 and not self.timer_armed:
            self.timer_armed = True
            self.machine.core.schedule(self.config.diffusion_period_cycles, DECISION, self._diffuse)

    def on_task_done(self, task: Task) -> None:
        b = task.block_id
        self.predicted[self.site.pop(task, task.run.site)] -= self.mean_cycles[b]
        self.pending[b] -= 1
        self.dirty.add(self.topology.cluster_of(task.tbu))
        if self.config.adaptive:
            a = self.config.ewma_alpha
            self.duration[b] += a * (task.end_cycle - task.start_cycle - self.duration[b])
            self.firings_seen[b] += 1
            self.done += 1
            if self.done % 64 == 0:
                self.quota = self._quotas({k: self.firings_seen[k] / self.arrived * self.duration[k]
                                           for k in self.demand})

    def on_tbu_idle(self, tbu: int) -> None:
        self.dirty.add(self.topology.cluster_of(tbu))

    # --- decisions -----------------------------------------------------------------------------
    def decide(self) -> None:
        self.refused: set[int] = set()
        self.idle_holders: dict[str, list[int]] | None = None
        for c in sorted(self.dirty):
            self._serve(c, c)
        self.dirty.clear()
        if self.config.adaptive and self.backlogged and self.machine.idle:
            for c in sorted(self.backlogged):
                self._steal_for(c)

    def _serve(self, c: int, target: int) -> None:
        """Idle TBUs of cluster ``target`` take work queued in cluster ``c``.

        Speed: a TBU holding none of the queue heads' configurations pays the same load for
        each head whichever TBU it is (a dedicated one only more), so once such an undedicated
        TBU has refused every head (``c`` in ``self.refused``), every other TBU holding none of
        them would too, until the next dispatch changes the queues or the holders' load; those
        TBUs are not asked again."""
        view = None
        for u in self.machine.idle_in(target):
            if not self.queued[c]:
                return
            view = view or _Residency(self.machine, self.topology.tbus_of(c))
            holds_head = any(self.machine.is_resident(u, b) for b, q in self.queues[c].items()
                             if q)
            if c in self.refused and not holds_head:
                continue
            task = self._pick(c, u, view)
            if task is None:
                if self.config.dual and not holds_head and not self._guard_cost(u, view):
                    self.refused.add(c)
                continue
            self.refused.clear()  # a dispatch changes what the holders can reach: ask again
            self._pop(c, task)
            if target != c:
                self._relocate(task, c, target, "steals")
            if self.machine.reconfig_cost(task, u):
                view = None  # u's configurations change
            self.dispatch(task, u)

    def _steal_for(self, c: int) -> None:
        """Offer backlogged cluster ``c``'s queue to idle TBUs of the nearest clusters (once
        its heads are refused, only to clusters with an idle TBU holding one of them)."""
        idle_per_cluster = self.machine.idle_per_cluster
        for other in self.by_distance[c]:
            if not self.queued[c] or not self.machine.idle:
                return
            if other == c or not idle_per_cluster[other]:
                continue
            if c in self.refused and other not in self._clusters_holding_heads(c):
                continue
            self._serve(c, other)

    def _clusters_holding_heads(self, c: int) -> set[int]:
        """Clusters with an idle TBU that holds the configuration of one of ``c``'s queue
        heads (idle TBUs' configurations are read once per decision)."""
        if self.idle_holders is None:
            self.idle_holders = defaultdict(list)
            for u in self.machine.idle:
                for b in self.machine.tbus[u].residency.held():
                    self.idle_holders[b].append(u)
        idle, cluster_of = self.machine.idle, self.topology.cluster_of
        return {cluster_of(u) for b, q in self.queues[c].items() if q
                for u in self.idle_holders.get(b, ()) if u in idle}

    def _pick(self, c: int, u: int, view: _Residency) -> Task | None:
        """The firing idle TBU ``u`` of cluster ``c`` should run now, or None to stay idle."""
        heads = [q[0] for q in self.queues[c].values() if q]
        if not self.config.dual:
            return min(heads)[2]
        best, best_key = None, None
        for key, _, task, _ in heads:
            cost = self.machine.reconfig_cost(task, u)
            if cost:
                wait = self._resident_wait(c, task.block_id, view)
                if wait <= cost:
                    self._prestage(task, view)
                    continue
                if wait <= cost + self._guard_cost(u, view):
                    continue
            candidate = (cost > 0, key)
            if best_key is None or candidate < best_key:
                best, best_key = task, candidate
        return best

    def _guard_cost(self, u: int, view: _Residency) -> float:
        """Cycles it costs to take ``u`` away from a stable block it is dedicated to (within
        that block's quota, while the block has revealed firings to come): the reload it will
        need when that work arrives. 0 for an elastic TBU."""
        b = view.current.get(u)
        if b in self.stable and self.pending[b] > 0 and view.serving[b] <= self.quota[b]:
            return self.reload_cycles[b]
        return 0.0

    def _resident_wait(self, c: int, block: str, view: _Residency) -> float:
        """Cycles until block's resident TBUs in ``c`` could start its queue's head."""
        holders = view.holders.get(block)
        if not holders:
            return INF
        now = self.machine.now
        soonest = min(max(0, self.machine.tbus[v].busy_until - now) for v in holders)
        waiting = len(self.queues[c][block]) - 1
        return soonest + waiting * self.duration[block] / len(holders)

    # --- proactive mechanisms ------------------------------------------------------------------
    def _predict(self, c: int, firings: list[int], run: InstanceRun) -> None:
        """Count revealed work: predicted load of cluster ``c`` and pending firings per block."""
        for k in firings:
            f = run.firings[k]
            if f.task is not None:
                self.predicted[c] += self.mean_cycles[f.block_id]
                self.pending[f.block_id] += 1

    def _preload(self, run: InstanceRun, control: int, revealed: list[int]) -> None:
        """Pre-load configurations of revealed blocks that are not ready yet on spare TBUs."""
        c = run.site
        later: dict[str, int] = defaultdict(int)
        ready_now = 0
        for k in revealed:
            f = run.firings[k]
            if f.task is None:
                continue
            if f.preds == (control,):
                ready_now += 1
            else:
                later[f.block_id] += 1
        view = _Residency(self.machine, self.topology.tbus_of(c))
        idle = [u for u in self.machine.idle_in(c) if not self._guard_cost(u, view)]
        spare = idle[ready_now + sum(len(q) for q in self.queues[c].values()):]
        for b, n in sorted(later.items(), key=lambda kv: -self.rank[kv[0]]):
            have = len(view.holders.get(b, ()))
            for _ in range(max(0, min(n, len(spare)) - have)):
                u = spare.pop()
                self.machine.preload(u, b, self.workflow.block(b).config_bytes)
                self.stats["preloads"] = self.stats.get("preloads", 0) + 1

    def _prestage(self, task: Task, view: _Residency) -> None:
        """Send a waiting firing's inputs to the resident TBU that frees first."""
        if not self.config.proactive or task.staged_tbu >= 0:
            return
        holders = view.holders[task.block_id]
        target = min(holders, key=lambda v: self.machine.tbus[v].busy_until)
        if self.machine.prestage(task, target):
            self.stats["prestages"] = self.stats.get("prestages", 0) + 1

    def _diffuse(self) -> None:
        """One diffusion round between neighbouring clusters on predicted load (revealed,
        unfinished work per TBU); re-arms while work is queued."""
        topo, cfg = self.topology, self.config
        per = topo.tbus_per_cluster
        loads = [p / per for p in self.predicted]
        for src, dst, amount in diffusion_flows(
                loads, self.neighbors, cfg.diffusion_alpha,
                cfg.diffusion_dead_band_firings * self.mean_firing_cycles):
            self._move(src, dst, amount * per)
        if any(self.queued):
            self.machine.core.schedule(cfg.diffusion_period_cycles, DECISION, self._diffuse)
        else:
            self.timer_armed = False

    def _move(self, src: int, dst: int, cycles: float) -> None:
        """Move queued firings worth about ``cycles`` from ``src`` to ``dst``: least urgent
        first (heap leaves), each firing at most once (so work never ping-pongs)."""
        moved = 0.0
        for queue in sorted(self.queues[src].values(), key=len, reverse=True):
            keep = []
            while queue and moved < cycles:
                entry = queue.pop()  # a leaf: the heap stays valid
                task = entry[2]
                if task in self.site:
                    keep.append(entry)
                    continue
                self._unqueue(src, entry)
                moved += entry[3]
                self._relocate(task, src, dst, "diffusion_moves")
                self._push(dst, task)
            for entry in keep:
                heapq.heappush(queue, entry)
            if moved >= cycles:
                break
        self.dirty.update((src, dst))

    def _relocate(self, task: Task, src: int, dst: int, reason: str) -> None:
        """Account ``task`` (already out of ``src``'s queue) to cluster ``dst``; counted as a
        migration and under ``reason`` in the stats."""
        self.site[task] = dst
        self.predicted[src] -= self.mean_cycles[task.block_id]
        self.predicted[dst] += self.mean_cycles[task.block_id]
        self.stats["migrations"] += 1
        self.stats[reason] = self.stats.get(reason, 0) + 1

    # --- queues ----------------------------------------------------------------------------------
    def _key(self, task: Task) -> tuple:
        if self.config.adaptive:
            return (task.run.arrival_cycle, -self.rank[task.block_id], task.run.index)
        return (task.ready_cycle,)

    def _push(self, c: int, task: Task) -> None:
        cycles = self.duration[task.block_id]
        heapq.heappush(self.queues[c][task.block_id], (self._key(task), self.seq(), task, cycles))
        self.queued_cycles[c] += cycles
        self.queued[c] += 1
        self.backlogged.add(c)

    def _pop(self, c: int, task: Task) -> None:
        entry = heapq.heappop(self.queues[c][task.block_id])
        assert entry[2] is task
        self._unqueue(c, entry)

    def _unqueue(self, c: int, entry: tuple) -> None:
        """Remove a popped entry's share from cluster ``c``'s totals (the amount it added)."""
        self.queued_cycles[c] -= entry[3]
        self.queued[c] -= 1
        if not self.queued[c]:
            self.backlogged.discard(c)


class _Residency:
    """Which TBUs of a cluster hold which configurations, read once per decision."""

    __slots__ = ("current", "holders", "serving")

    def __init__(self, machine, tbus) -> None:
        self.holders: dict[str, list[int]] = defaultdict(list)
        self.current: dict[int, str] = {}  # most recently used configuration per TBU
        self.serving: dict[str, int] = defaultdict(int)  # TBUs whose current config is the block
        for v in tbus:
            resident = machine.tbus[v].residency.held()
            for b in resident:
                self.holders[b].append(v)
            if resident:
                self.current[v] = resident[-1]
                self.serving[resident[-1]] += 1
