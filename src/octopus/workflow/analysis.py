"""Analysis without simulation: expected firings and work, critical paths, makespan lower bounds.

Expectations are exact for the model: a Task Block's expected firings per instance is the product,
over its enclosing Control Blocks, of the expected loop/fan-out count or the path probability
(counts are drawn independently, so Wald's identity applies). A loop whose count is not known
ahead fires ``count + 1`` decisions per execution (one per iteration and one that ends it), each
on the critical path; every other Control Block fires once per execution.

Durations need a machine: :class:`Capacity` turns work into integer cycles with the function
the simulator uses, which is what makes :func:`batch_lower_bound` a true lower
bound on any simulated makespan.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from octopus.workflow.model import Workflow
from octopus.workflow.sampling import CONTROL, Instance
from octopus.workflow.structure import BranchItem, Region, RepeatItem, TaskItem, compile_workflow

__all__ = [
    "BlockTiming",
    "Capacity",
    "CriticalPath",
    "batch_lower_bound",
    "downstream_ranks",
    "expected_critical_path",
    "expected_firings",
    "expected_lower_bound",
    "expected_work",
    "instance_critical_path",
    "instance_work_cycles",
    "lower_bound_from",
    "work_cycles_moments",
]


WorkCycles = Callable[[str, float], int]
BlockTiming = Callable[[float], int]
"""Cycles of one firing of one Task Block on one unit, from its work."""


@dataclass(frozen=True, slots=True)
class Capacity:
    """What a machine offers, as far as bounds are concerned.

    Attributes:
        units: Task Block Units that run firings in parallel.
        work_cycles: integer cycles one unit needs for ``(kind, work)``; the simulator must time
            Task Block firings with the same function for the bounds to hold.
        control_cycles: the least time a Control Block evaluation takes, in cycles.
        block_timing: the timing of some Task Blocks, by id, overriding ``work_cycles``
            (blocks timed from a torch model or a layer table, see ``octopus.run.resolve``).
    """

    units: int
    work_cycles: WorkCycles
    control_cycles: int = 0
    block_timing: Mapping[str, BlockTiming] = field(default_factory=dict)

    @classmethod
    def from_rates(cls, units: int, ai_work_per_cycle: float, general_work_per_cycle: float,
                   control_cycles: int = 0) -> Capacity:
        """A capacity whose units do ``ai_work_per_cycle`` MACs or ``general_work_per_cycle``
        operations per cycle (rounded up to whole cycles)."""
        rates = {"ai": ai_work_per_cycle, "general": general_work_per_cycle}
        return cls(units, lambda kind, work: math.ceil(work / rates[kind]), control_cycles)

    def cycles(self, kind: str, work: float, block_id: str | None = None) -> int:
        """Cycles of one firing on one unit (a control firing: the control latency)."""
        if kind == CONTROL:
            return self.control_cycles
        timing = self.block_timing.get(block_id) if block_id is not None else None
        return timing(work) if timing is not None else self.work_cycles(kind, work)


def _walk(region: Region, weight: float, visit) -> None:
    """Call ``visit(block, expected firings)`` for every block in ``region``, nested ones too."""
    for item in region.items:
        per_iteration = isinstance(item, RepeatItem) and item.per_iteration
        decisions = 1 + item.block.count.count_mean if per_iteration else 1.0  # per execution
        visit(item.block, weight * decisions)
        if isinstance(item, RepeatItem):
            _walk(item.body, weight * item.block.count.count_mean, visit)
        elif isinstance(item, BranchItem):
            for p, path in item.paths:
                _walk(path, weight * p, visit)


def expected_firings(wf: Workflow) -> dict[str, float]:
    """Expected executions per instance of every block (Task and Control Blocks), by id."""
    out: dict[str, float] = {}
    _walk(compile_workflow(wf), 1.0, lambda b, w: out.__setitem__(b.id, out.get(b.id, 0.0) + w))
    return out


def expected_work(wf: Workflow) -> dict[str, float]:
    """Expected work per instance by kind: ``{"ai": MACs, "general": operations}``."""
    out = {"ai": 0.0, "general": 0.0}
    firings = expected_firings(wf)
    for b in wf.blocks:
        if b.type == "task":
            out[b.kind] += firings[b.id] * b.work.mean
    return out


def work_cycles_moments(wf: Workflow, cap: Capacity) -> tuple[float, float]:
    """Mean and variance of an instance's Task Block work in TBU-cycles (what
    :func:`instance_work_cycles` totals), from the distributions' moments.

    Exact for the model (counts as rounded when sampled, draws independent) but for the
    rounding of each firing's cycles up to a whole cycle: a work distribution ``X`` contributes
    ``cycles(E[X]) / E[X]`` cycles per unit of work (every timing is linear in the work).
    """
    return _region_moments(compile_workflow(wf), cap)


def _region_moments(region: Region, cap: Capacity) -> tuple[float, float]:
    mean = var = 0.0
    for item in region.items:
        m, v = _item_moments(item, cap)
        mean, var = mean + m, var + v
    return mean, var


def _item_moments(item, cap: Capacity) -> tuple[float, float]:
    blk = item.block
    if isinstance(item, TaskItem):
        work = blk.work.mean
        cycles = cap.cycles(blk.kind, work, blk.id)
        if work == 0:
            return float(cycles), 0.0
        return float(cycles), (cycles / work) ** 2 * blk.work.variance
    if isinstance(item, RepeatItem):  # a sum of N independent bodies
        m, v = _region_moments(item.body, cap)
        n, n_var = blk.count.count_mean, blk.count.count_variance
        return n * m, n * v + n_var * m * m
    paths = [(p, _region_moments(r, cap)) for p, r in item.paths]  # a mixture of the paths
    mean = sum(p * m for p, (m, _) in paths)
    return mean, sum(p * (v + m * m) for p, (m, v) in paths) - mean * mean


@dataclass(frozen=True, slots=True)
class CriticalPath:
    """The longest chain of blocks, its length in cycles, and each block's share."""

    cycles: float
    blocks: tuple[str, ...]


def expected_critical_path(wf: Workflow, cap: Capacity) -> CriticalPath:
    """Critical path of the *mean* instance: every work at its mean, loops at their mean count,
    a branch weighted by its probabilities, fan-out copies in parallel. A summary, not a bound."""
    return _region_path(compile_workflow(wf), cap)


def _region_path(region: Region, cap: Capacity) -> CriticalPath:
    best: list[CriticalPath] = []
    for item, preds in zip(region.items, region.preds, strict=True):
        before = max((best[p] for p in preds), key=lambda c: c.cycles, default=CriticalPath(0, ()))
        own = _item_path(item, cap)
        best.append(CriticalPath(before.cycles + own.cycles, before.blocks + own.blocks))
    return max(best, key=lambda c: c.cycles, default=CriticalPath(0, ()))


def _item_path(item, cap: Capacity) -> CriticalPath:
    blk = item.block
    if isinstance(item, TaskItem):
        return CriticalPath(cap.cycles(blk.kind, blk.work.mean, blk.id), (blk.id,))
    head = CriticalPath(cap.control_cycles, (blk.id,))
    if isinstance(item, BranchItem):
        paths = [(p, _region_path(r, cap)) for p, r in item.paths]
        likely = max(paths, key=lambda pc: pc[0] * pc[1].cycles)[1]
        return CriticalPath(head.cycles + sum(p * c.cycles for p, c in paths),
                            head.blocks + likely.blocks)
    body = _region_path(item.body, cap)
    n = blk.count.count_mean
    repeats = n if not item.parallel else min(n, 1.0)
    step = body.cycles + (cap.control_cycles if item.per_iteration else 0)
    return CriticalPath(head.cycles + repeats * step, head.blocks + body.blocks)


def downstream_ranks(wf: Workflow, cap: Capacity) -> dict[str, float]:
    """Expected cycles from the start of each block to the end of the mean instance (the block
    itself included): the "upward rank" list schedulers use to run critical work first."""
    ranks: dict[str, float] = {}
    _rank_region(compile_workflow(wf), cap, 0.0, ranks)
    return ranks


def _rank_region(region: Region, cap: Capacity, tail: float, ranks: dict[str, float]) -> float:
    """Fill ``ranks`` for ``region`` followed by ``tail`` cycles; return its entry rank."""
    succs: list[list[int]] = [[] for _ in region.items]
    for i, preds in enumerate(region.preds):
        for p in preds:
            succs[p].append(i)
    rank = [0.0] * len(region.items)
    for i in reversed(range(len(region.items))):
        after = max((rank[s] for s in succs[i]), default=tail)
        item, blk = region.items[i], region.items[i].block
        if isinstance(item, TaskItem):
            rank[i] = cap.cycles(blk.kind, blk.work.mean, blk.id) + after
        elif isinstance(item, BranchItem):
            rank[i] = cap.control_cycles + max(
                (_rank_region(path, cap, after, ranks) for _, path in item.paths), default=after)
        else:
            more = 0.0 if item.parallel else max(blk.count.count_mean - 1, 0.0)
            decision = cap.control_cycles if item.per_iteration else 0  # after every iteration
            step = _region_path(item.body, cap).cycles + decision
            body_tail = after + decision + more * step
            rank[i] = cap.control_cycles + _rank_region(item.body, cap, body_tail, ranks)
        ranks[blk.id] = rank[i]
    return max((rank[i] for i in range(len(rank)) if not region.preds[i]), default=tail)


def instance_critical_path(inst: Instance, cap: Capacity) -> int:
    """Longest chain of firing durations through the instance's DAG, in cycles (no transfers)."""
    finish = [0] * len(inst.firings)
    for i, f in enumerate(inst.firings):
        start = max((finish[p] for p in f.preds), default=0)
        finish[i] = start + cap.cycles(f.kind, f.work, f.block_id)
    return max(finish, default=0)


def instance_work_cycles(inst: Instance, cap: Capacity) -> int:
    """Total TBU-cycles of the instance's Task Block firings."""
    return sum(cap.cycles(f.kind, f.work, f.block_id) for f in inst.firings if f.kind != CONTROL)


def batch_lower_bound(
    instances: Sequence[Instance], cap: Capacity, arrivals: Iterable[int] | None = None,
    path_cap: Capacity | None = None,
) -> int:
    """A lower bound on the makespan of running ``instances`` on ``cap``, in cycles: work timed
    by ``cap``, critical paths by ``path_cap`` (default ``cap``; a machine whose firings may
    spread over several units times paths faster than work).

    Arrivals default to 0 (a closed batch). See :func:`lower_bound_from`.
    """
    path_cap = path_cap if path_cap is not None else cap
    arrivals = list(arrivals) if arrivals is not None else [0] * len(instances)
    if len(arrivals) != len(instances):
        raise ValueError(f"{len(arrivals)} arrivals for {len(instances)} instances")
    return lower_bound_from(
        [(t, instance_work_cycles(i, cap), instance_critical_path(i, path_cap))
         for t, i in zip(arrivals, instances, strict=True)],
        cap.units,
    )


def lower_bound_from(per_instance: Iterable[tuple[int, int, int]], units: int) -> int:
    """Makespan lower bound from ``(arrival, work cycles, critical path cycles)`` per instance.

    The larger of: (a) for every arrival time t, t plus the work of the instances arriving at or
    after t spread over all ``units``; (b) for every instance, its arrival plus its critical
    path. Transfers, reconfigurations and control-block latency beyond the minimum only add time.
    """
    bound, later_work = 0, 0
    for t, work, path in sorted(per_instance, reverse=True):
        later_work += work
        bound = max(bound, t + -(-later_work // units), t + path)
    return bound


def expected_lower_bound(wf: Workflow, n: int, cap: Capacity) -> float:
    """Expected-value form of the batch bound for ``n`` instances arriving at once, in cycles:
    the larger of the mean work spread over all units and the mean instance's critical path."""
    firings = expected_firings(wf)
    per_instance = sum(firings[b.id] * cap.cycles(b.kind, b.work.mean, b.id)
                       for b in wf.blocks if b.type == "task")
    return max(n * per_instance / cap.units, expected_critical_path(wf, cap).cycles)
