"""Analysis without simulation: expected firings and work, critical paths, makespan lower bounds.

Expectations are exact for the model: a Task Block's expected firings per instance is the product,
over its enclosing Control Blocks, of the expected loop/fan-out count or the path probability
(counts are drawn independently, so Wald's identity applies). A loop whose count is not known
ahead fires ``count + 1`` decisions per execution (one per iteration and one that ends it), each
on the critical path; every other Control Block fires once per execution.

Durations need a machine: :class:`Capacity` turns work into integer cycles with the function
the simulator uses, and knows which configurations cannot be resident (their firings stream
their weights from off-chip memory) and how fast weights move, which is what makes
:class:`MakespanBound` a true lower bound on any simulated makespan.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from octopus.workflow.model import TaskBlock, Workflow
from octopus.workflow.sampling import CONTROL, Firing, Instance
from octopus.workflow.structure import BranchItem, Region, RepeatItem, TaskItem, compile_workflow

__all__ = [
    "BlockTiming",
    "Capacity",
    "CriticalPath",
    "MakespanBound",
    "batch_lower_bound",
    "downstream_ranks",
    "expected_critical_path",
    "expected_firings",
    "expected_lower_bound",
    "expected_work",
    "instance_critical_path",
    "instance_work_cycles",
    "looped_blocks",
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
        config_capacity_bytes: the largest configuration (or shard of one) one unit can hold
            resident; a larger one is streamed from off-chip memory on every dispatch. ``None``:
            every configuration can be resident.
        weight_port_bytes_per_cycle: the fastest rate, in bytes per cycle, at which one unit
            receives weights from off-chip memory (what a streaming unit reads at, at best).
        weight_bytes_per_cycle: the off-chip bandwidth of the whole machine for weights, in
            bytes per cycle (every weight load and stream shares it). ``None``: unbounded.
        group_width: the widest group of units one AI firing may run on, its weights split
            across them (general blocks and ``single_blocks`` run on one unit).
        single_blocks: ids of AI blocks that run on one unit only.
        max_batch: firings one dispatch may serve at once (one weight stream serves them all).
    """

    units: int
    work_cycles: WorkCycles
    control_cycles: int = 0
    block_timing: Mapping[str, BlockTiming] = field(default_factory=dict)
    config_capacity_bytes: int | None = None
    weight_port_bytes_per_cycle: int = 1
    weight_bytes_per_cycle: int | None = None
    group_width: int = 1
    single_blocks: frozenset[str] = frozenset()
    max_batch: int = 1

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

    def fits(self, config_bytes: int) -> bool:
        """Whether a configuration (or shard) of ``config_bytes`` can be resident on one unit."""
        return self.config_capacity_bytes is None or config_bytes <= self.config_capacity_bytes

    def streamed_bytes(self, block: TaskBlock) -> int:
        """Weight bytes one firing of ``block`` alone on one unit reads from off-chip memory
        while it runs: all its weights, ``weight_passes`` times, when its configuration cannot
        be resident there; else 0."""
        return 0 if self.fits(block.config_bytes) else block.config_bytes * block.weight_passes

    def busy_cycles(self, block: TaskBlock, work: float) -> int:
        """The least cycles one firing of ``block`` with ``work`` holds one unit alone: its
        compute, or, if longer, its streamed weights at ``weight_port_bytes_per_cycle``."""
        compute = self.cycles(block.kind, work, block.id)
        return max(compute, -(-self.streamed_bytes(block) // self.weight_port_bytes_per_cycle))

    def widest(self, block: TaskBlock) -> int:
        """The widest group ``block`` may run on."""
        single = block.kind != "ai" or block.id in self.single_blocks
        return 1 if single else self.group_width

    def always_streams(self, block: TaskBlock) -> bool:
        """Whether ``block``'s weights are too large to be resident even split over its widest
        group: every dispatch then streams them all, ``weight_passes`` times."""
        return not self.fits(-(-block.config_bytes // self.widest(block)))

    def fastest_cycles(self, block: TaskBlock, work: float) -> int:
        """The least cycles one firing of ``block`` with ``work`` takes, on any group this
        capacity allows: its :meth:`cycles` (a bound's capacity times the fastest group), or,
        if longer and it :meth:`always_streams`, its widest group's shards streamed at
        ``weight_port_bytes_per_cycle``."""
        compute = self.cycles(block.kind, work, block.id)
        if not self.always_streams(block):
            return compute
        shard = -(-block.config_bytes // self.widest(block))
        return max(compute, -(-shard * block.weight_passes // self.weight_port_bytes_per_cycle))

    def firing_cycles(self, firing: Firing) -> int:
        """:meth:`fastest_cycles` of a Task Block firing; the control latency of a control one."""
        if firing.task is None:
            return self.control_cycles
        return self.fastest_cycles(firing.task, firing.work)


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


def looped_blocks(wf: Workflow) -> set[str]:
    """Ids of the Task Blocks inside a loop's body (nested in it at any depth): in an
    instance, such a block's firing is followed by the loop's next decision and, if the loop
    goes on, by another firing of the same block."""
    out: set[str] = set()

    def visit(region: Region, looped: bool) -> None:
        for item in region.items:
            if isinstance(item, TaskItem):
                if looped:
                    out.add(item.block.id)
            elif isinstance(item, RepeatItem):
                visit(item.body, looped or not item.parallel)
            else:
                for _, path in item.paths:
                    visit(path, looped)

    visit(compile_workflow(wf), False)
    return out


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
    """Critical path of the *mean* instance: every work at its mean (its firing's
    :meth:`Capacity.busy_cycles`), loops at their mean count, a branch weighted by its
    probabilities, fan-out copies in parallel. A summary, not a bound."""
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
        return CriticalPath(cap.busy_cycles(blk, blk.work.mean), (blk.id,))
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
            rank[i] = cap.busy_cycles(blk, blk.work.mean) + after
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
    """Longest chain of firing durations through the instance's DAG, in cycles: each Task Block
    firing at its :meth:`Capacity.fastest_cycles` (streaming counted), each control firing at
    the control latency; no transfers."""
    finish = [0] * len(inst.firings)
    for i, f in enumerate(inst.firings):
        start = max((finish[p] for p in f.preds), default=0)
        finish[i] = start + cap.firing_cycles(f)
    return max(finish, default=0)


def instance_work_cycles(inst: Instance, cap: Capacity) -> int:
    """Total compute unit-cycles of the instance's Task Block firings (no streaming)."""
    return sum(cap.cycles(f.kind, f.work, f.block_id) for f in inst.firings if f.kind != CONTROL)


class MakespanBound:
    """A lower bound on the makespan of a run, built instance by instance: work timed by
    ``cap``, critical paths by ``path_cap`` (default ``cap``; a machine whose firings may spread
    over several units times paths faster than work), weights as ``cap`` says they move.

    The bound, in cycles, is the largest of:

    (a) for every arrival cycle ``t``: ``t`` plus the compute unit-cycles
        (:func:`instance_work_cycles`) of the instances arriving at or after ``t``, spread over
        all units;
    (b) for every instance: its arrival plus its critical path (:func:`instance_critical_path`,
        a firing that :meth:`~Capacity.always_streams` at least as long as its stream);
    (c) for every arrival cycle ``t``: ``t`` plus the weights that the instances arriving at or
        after ``t`` must stream (``config_bytes x weight_passes`` per firing of a block that
        always streams, a dispatch serving at most ``max_batch`` firings), over the machine's
        ``weight_bytes_per_cycle``;
    (d) from cycle 0: every block's weights read at least once, over the same bandwidth: a
        block that always streams, once per dispatch (its firings over ``max_batch``); any
        other, one load of its configuration.

    (d) holds because a run starts cold: no configuration is resident before the first cycle
    (every scheduler loads what it uses, through off-chip memory). Transfers, reconfiguration
    setup, memory latency and control-block latency beyond the minimum only add time.
    """

    def __init__(self, cap: Capacity, path_cap: Capacity | None = None):
        self._cap = cap
        self._path_cap = path_cap if path_cap is not None else cap
        self._facts: list[tuple[int, int, int, int]] = []  # arrival, work, path, streamed bytes
        self._streams: dict[str, list[int]] = {}  # always streaming: block -> [firings, bytes]
        self._loads: dict[str, int] = {}  # any other block with weights -> bytes

    def add(self, arrival: int, inst: Instance) -> None:
        """Count ``inst``, arriving at cycle ``arrival``."""
        cap, streamed = self._cap, 0
        for f in inst.firings:
            block = f.task
            if block is None or not block.config_bytes:
                continue
            if cap.always_streams(block):
                nbytes = block.config_bytes * block.weight_passes
                streamed += nbytes
                self._streams.setdefault(block.id, [0, nbytes])[0] += 1
            else:
                self._loads[block.id] = block.config_bytes
        self._facts.append((arrival, instance_work_cycles(inst, cap),
                            instance_critical_path(inst, self._path_cap), streamed))

    @property
    def cycles(self) -> int:
        """The bound over every instance added so far (0 before any)."""
        cap = self._cap
        units, bandwidth, batch = cap.units, cap.weight_bytes_per_cycle, cap.max_batch
        bound, later_work, later_streamed = 0, 0, 0
        for t, work, path, streamed in sorted(self._facts, reverse=True):
            later_work += work
            later_streamed += streamed
            bound = max(bound, t + -(-later_work // units), t + path)
            if bandwidth is not None:
                bound = max(bound, t + -(-later_streamed // (batch * bandwidth)))
        if bandwidth is not None:
            once = sum(-(-n // batch) * nbytes for n, nbytes in self._streams.values())
            bound = max(bound, -(-(once + sum(self._loads.values())) // bandwidth))
        return bound


def batch_lower_bound(
    instances: Sequence[Instance], cap: Capacity, arrivals: Iterable[int] | None = None,
    path_cap: Capacity | None = None,
) -> int:
    """A lower bound on the makespan of running ``instances`` on ``cap``, in cycles (critical
    paths timed by ``path_cap``, default ``cap``). Arrivals default to 0 (a closed batch). See
    :class:`MakespanBound`.
    """
    arrivals = list(arrivals) if arrivals is not None else [0] * len(instances)
    if len(arrivals) != len(instances):
        raise ValueError(f"{len(arrivals)} arrivals for {len(instances)} instances")
    bound = MakespanBound(cap, path_cap)
    for t, inst in zip(arrivals, instances, strict=True):
        bound.add(t, inst)
    return bound.cycles


def expected_lower_bound(wf: Workflow, n: int, cap: Capacity) -> float:
    """Expected-value form of the batch bound for ``n`` instances arriving at once, each firing
    alone on one unit, in cycles: the largest of the mean busy cycles
    (:meth:`Capacity.busy_cycles`) spread over all units, the mean instance's critical path,
    and the mean streamed weight bytes plus one load of every resident configuration over the
    machine's weight bandwidth (see :class:`MakespanBound`)."""
    firings = expected_firings(wf)
    tasks = [b for b in wf.blocks if b.type == "task" and firings[b.id] > 0]
    busy = sum(firings[b.id] * cap.busy_cycles(b, b.work.mean) for b in tasks)
    bound = max(n * busy / cap.units, expected_critical_path(wf, cap).cycles)
    if cap.weight_bytes_per_cycle is not None:
        streamed = sum(firings[b.id] * cap.streamed_bytes(b) for b in tasks)
        loads = sum(b.config_bytes for b in tasks if cap.fits(b.config_bytes))
        bound = max(bound, (n * streamed + loads) / cap.weight_bytes_per_cycle)
    return bound
