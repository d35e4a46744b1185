"""``reactive``: the per-cluster static mapping plus threshold-triggered rebalancing.

``static``'s ``cluster`` partition (every cluster the same, instances homed round-robin). Inside
a cluster, the *imbalance* is the largest minus the smallest queue length per owned TBU
over the Task Block partitions. Once it has stayed at or above ``threshold_tasks_per_tbu`` for
``window_cycles``, one TBU moves from the least loaded partition (which keeps at least one) to
the most loaded: the first free one of the donor partition, or, if none is free, the donor's
first TBU once it frees up. The moved TBU pays a reconfiguration on its next firing. Across
clusters, once one cluster's queue exceeds the emptiest cluster's by ``threshold_tasks_per_tbu``
x TBUs per cluster for a window, half the difference of queued firings migrates there (their
input data then moves over the NoC). Batches and Control Blocks (on the host) as in ``static``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from octopus.sched.batching import PrefetchingConfig
from octopus.sched.registry import register_scheduler
from octopus.sched.static import Static
from octopus.sim.state import Task

__all__ = ["Reactive", "ReactiveConfig"]


class ReactiveConfig(PrefetchingConfig):
    """Parameters of ``reactive``: when a partition or a cluster is imbalanced enough, for long
    enough, to move work."""

    name: Literal["reactive"] = "reactive"
    threshold_tasks_per_tbu: float = Field(
        default=2.0, gt=0, description="imbalance (queued firings per TBU) that triggers a move")
    window_cycles: int = Field(
        default=1_000_000, ge=0, description="how long the imbalance must last before acting")


@register_scheduler("reactive")
class Reactive(Static):
    config_cls = ReactiveConfig

    def partition(self) -> Literal["cluster"]:
        """Always per cluster: the rebalancing moves TBUs and firings between clusters' queues."""
        return "cluster"

    def group_width(self) -> int:
        """Single-TBU servers: the rebalancing moves TBUs one at a time."""
        return 1

    def on_start(self) -> None:
        super().on_start()
        self.over_since: dict[object, int] = {}  # cluster id or "clusters" -> first cycle over
        self.queued = [0] * self.topology.num_clusters

    def on_ready(self, task: Task) -> None:
        super().on_ready(task)
        self.queued[task.run.site] += 1

    def dispatch_batch(self, tasks: list[Task], group: list[int]) -> None:
        self.queued[self.topology.cluster_of(group[0])] -= len(tasks)
        super().dispatch_batch(tasks, group)

    def decide(self) -> None:
        for c in sorted(self.dirty):
            self._rebalance_partitions(c)
        if self.topology.num_clusters > 1:
            self._migrate_between_clusters()
        super().decide()

    def _sustained(self, key: object, over: bool) -> bool:
        """Whether the condition for ``key`` has held for a whole window (then re-arm it)."""
        now = self.machine.now
        if not over:
            self.over_since.pop(key, None)
            return False
        since = self.over_since.setdefault(key, now)
        if now - since >= self.config.window_cycles:
            del self.over_since[key]
            return True
        return False

    def _rebalance_partitions(self, c: int) -> None:
        tbus = list(self.topology.tbus_of(c))
        owners: dict[str, list[int]] = {}
        for u in tbus:
            for b in self.serves[u]:
                owners.setdefault(b, []).append(u)
        load = {b: len(self.queues.get((c, b), ())) / len(us) for b, us in owners.items()}
        hot = max(load, key=load.__getitem__)
        donors = [b for b in owners if len(owners[b]) > 1 and b != hot]
        if not donors:
            return
        cold = min(donors, key=load.__getitem__)
        if not self._sustained(c, load[hot] - load[cold] >= self.config.threshold_tasks_per_tbu):
            return
        idle = [u for u in owners[cold] if u in self.machine.idle and len(self.serves[u]) == 1]
        candidates = idle or [u for u in owners[cold] if len(self.serves[u]) == 1]
        if candidates:
            self.reassign(candidates[0], [hot])
            self.stats["migrations"] += 1

    def _migrate_between_clusters(self) -> None:
        q = self.queued
        heavy = max(range(len(q)), key=q.__getitem__)
        light = min(range(len(q)), key=q.__getitem__)
        gap = q[heavy] - q[light]
        limit = self.config.threshold_tasks_per_tbu * self.topology.tbus_per_cluster
        if not self._sustained("clusters", gap >= limit):
            return
        for _ in range(gap // 2):
            key = max((k for k in self.queues if k[0] == heavy), key=lambda k: len(self.queues[k]))
            task = self.queues[key].pop()  # the youngest: it has waited least
            self.queues[(light, key[1])].append(task)
            q[heavy] -= 1
            q[light] += 1
            self.stats["migrations"] += 1
        self.dirty.update((heavy, light))
