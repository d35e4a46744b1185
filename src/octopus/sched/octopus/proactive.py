"""Proactive Cluster Scheduling and diffusion: where instances live, and work seen coming.

- **Homes**: an arriving instance is homed on the cluster with the least *predicted load*, the
  expected cycles of the revealed, unfinished firings of the instances homed there. Its
  Control Blocks are evaluated on that cluster's CBU and its elastic firings run as near it as
  idle TBUs allow. Off: round-robin homes.
- **Preloads**: when a Control Block reveals firings that are not ready yet (a loop's next
  iteration, a fan-out's copies, a branch's path), the configurations of their elastic blocks
  are loaded onto idle elastic TBUs of the home cluster that hold none of them, one per firing,
  so the firings find them there. Off: nothing is loaded before it is needed.
- **Diffusion** (its own switch): every ``diffusion_period_cycles`` each cluster compares its
  predicted load per TBU with its mesh neighbours' and re-homes unfinished instances down the
  gradient (first-order diffusion, :func:`octopus.sched.diffusion.diffusion_flows`): no
  coordinator, and a wafer's hot spots spread to their neighbours.
"""

from __future__ import annotations

from collections.abc import Callable

from octopus.arch import Topology
from octopus.sched.diffusion import diffusion_flows
from octopus.sim.state import InstanceRun

__all__ = ["Homes"]


class Homes:
    """Instance homes and each cluster's predicted load, in expected cycles (module doc)."""

    def __init__(self, topology: Topology, balanced: bool):
        self.topology = topology
        self.balanced = balanced
        self.predicted = [0.0] * topology.num_clusters
        self.homed: list[dict[int, InstanceRun]] = [{} for _ in range(topology.num_clusters)]
        self.left: dict[int, float] = {}  # per instance: expected cycles revealed, unfinished
        self._neighbors = [topology.cluster_neighbors(c) for c in range(topology.num_clusters)]
        self._changed = False  # since the last diffusion round: if not, the round moves nothing

    def place(self, run: InstanceRun) -> None:
        """Home ``run`` on arrival (least predicted load when balanced, else round-robin)."""
        loads = self.predicted
        run.site = (min(range(len(loads)), key=loads.__getitem__) if self.balanced
                    else run.index % len(loads))
        self.homed[run.site][run.index] = run
        self.left[run.index] = 0.0
        self._changed = True

    def add(self, run: InstanceRun, cycles: float) -> None:
        """``cycles`` of ``run``'s work were revealed (or, negative, finished)."""
        self.predicted[run.site] += cycles
        self.left[run.index] += cycles
        self._changed = True

    def finish(self, run: InstanceRun) -> None:
        """``run`` is done: it leaves its home."""
        self.predicted[run.site] -= self.left.pop(run.index)
        del self.homed[run.site][run.index]
        self._changed = True

    def diffuse(self, alpha: float, moved: Callable[[InstanceRun], None]) -> int:
        """One diffusion round (module doc); calls ``moved(run)`` for every re-homed instance
        and returns how many there were."""
        if not self.left or not self._changed:
            return 0
        self._changed = False
        per = self.topology.tbus_per_cluster
        loads = [p / per for p in self.predicted]
        count = 0
        for src, dst, amount in diffusion_flows(loads, self._neighbors, alpha, 0.0):
            budget = amount * per
            for index, run in list(self.homed[src].items()):
                if budget <= 0:
                    break
                left = self.left[index]
                if left <= 0 or left > 2 * budget:
                    continue
                budget -= left
                self._rehome(run, dst)
                moved(run)
                count += 1
        return count

    def _rehome(self, run: InstanceRun, dst: int) -> None:
        left = self.left[run.index]
        del self.homed[run.site][run.index]
        self.predicted[run.site] -= left
        run.site = dst
        self.homed[dst][run.index] = run
        self.predicted[dst] += left
        self._changed = True
