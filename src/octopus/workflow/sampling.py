"""Sample concrete workflow instances.

An :class:`Instance` is one run of a workflow: every Control Block outcome and every Task Block
work drawn from the instance's own seeded stream (:func:`octopus.rng.stream`), unrolled into a DAG
of :class:`Firing` s. Firings are listed in a topological order (every predecessor index is
smaller), and each records which control firing *revealed* it: a body's firings exist only once
its loop, fan-out or branch has been evaluated, which is what a proactive scheduler may exploit
and a reactive one may not.

A loop whose count is not known ahead (``count_known`` false) fires one decision per iteration:
decision ``k`` (label ``<loop>[k]?``) waits for iteration ``k - 1`` (or, for ``k = 0``, for what
precedes the loop) and reveals iteration ``k`` and decision ``k + 1``; decision ``count`` reveals
nothing and ends the loop, and the loop's successors wait for it. The count is still drawn once,
at entry, from the same stream position, so an instance's work is the same either way; only what
is revealed when differs. A ``count_known`` loop fires one decision (label ``<loop>``) that
reveals every iteration.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from octopus.rng import INSTANCES, stream
from octopus.workflow.model import TaskBlock, Workflow
from octopus.workflow.structure import (
    BranchItem,
    Region,
    RepeatItem,
    TaskItem,
    compile_workflow,
)

__all__ = ["CONTROL", "Firing", "Instance", "iter_instances", "sample_instance"]

CONTROL = "control"
ARRIVAL = -1  # ``revealed_by`` of firings known when the instance arrives


@dataclass(frozen=True, slots=True)
class Firing:
    """One execution of a block within an instance.

    Attributes:
        block_id: the block that fires.
        kind: ``"ai"`` or ``"general"`` for a Task Block, ``"control"`` for a CB evaluation.
        work: MACs (ai) or operations (general) of this firing; 0 for control.
        task: the Task Block (None for control), for its bytes and configuration footprint.
        preds: indices of the firings that must finish first.
        data_from: indices of the Task Block firings whose output this firing consumes.
        revealed_by: index of the control firing whose outcome created this one, or -1.
        outcome: for control firings, the copies or iterations revealed (fan-out, loop with a
            known count; a per-iteration loop decision: 1 to continue, 0 to end the loop) or
            the path taken (branch).
        label: a readable name, e.g. ``faces[2]/embed`` or ``agent[3]?`` (a loop's decision
            whether iteration 3 runs).
    """

    block_id: str
    kind: str
    work: float
    task: TaskBlock | None
    preds: tuple[int, ...]
    data_from: tuple[int, ...]
    revealed_by: int
    outcome: int
    label: str


@dataclass(frozen=True, slots=True)
class Instance:
    """One sampled run of a workflow: its firings in topological order."""

    index: int
    firings: tuple[Firing, ...]

    def tasks(self) -> list[Firing]:
        return [f for f in self.firings if f.kind != CONTROL]


def sample_instance(wf: Workflow, seed: int, index: int, top: Region | None = None) -> Instance:
    """Instance ``index`` of ``wf`` under ``seed`` (independent of any other index)."""
    top = top if top is not None else compile_workflow(wf)
    return _Unroller(stream(seed, INSTANCES, index)).run(top, index)


def iter_instances(wf: Workflow, n: int, seed: int) -> Iterator[Instance]:
    """Instances ``0..n-1`` of ``wf`` under ``seed``."""
    top = compile_workflow(wf)
    for i in range(n):
        yield sample_instance(wf, seed, i, top)


Ends = tuple[tuple[int, ...], tuple[int, ...]]  # (control ends, data ends) of an emitted region


class _Unroller:
    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.firings: list[Firing] = []

    def run(self, top: Region, index: int) -> Instance:
        self.region(top, (), (), ARRIVAL, "")
        return Instance(index, tuple(self.firings))

    def emit(self, firing: Firing) -> int:
        self.firings.append(firing)
        return len(self.firings) - 1

    def decision(self, block_id: str, deps, revealed_by: int, outcome: int, label: str) -> int:
        """Emit a Control Block firing (it carries no work and consumes no data)."""
        return self.emit(Firing(block_id, CONTROL, 0.0, None, deps, (), revealed_by, outcome,
                                label))

    def region(self, reg: Region, deps, data, revealed_by: int, prefix: str) -> Ends:
        ends: list[Ends] = []
        for item, preds in zip(reg.items, reg.preds, strict=True):
            if preds:
                deps_i = _union(ends[p][0] for p in preds)
                data_i = _union(ends[p][1] for p in preds)
            else:
                deps_i, data_i = deps, data
            ends.append(self.item(item, deps_i, data_i, revealed_by, prefix))
        if not ends:  # an empty branch path passes control and data straight through
            return deps, data
        sinks = reg.sinks
        return _union(ends[s][0] for s in sinks), _union(ends[s][1] for s in sinks)

    def item(self, item, deps, data, revealed_by: int, prefix: str) -> Ends:
        if isinstance(item, TaskItem):
            blk = item.block
            # Speed: positional (block_id, kind, work, task, preds, data_from, revealed_by,
            # outcome, label), one Firing per Task Block firing sampled.
            f = self.emit(Firing(blk.id, blk.kind, blk.work.sample(self.rng), blk, deps, data,
                                 revealed_by, -1, prefix + blk.id))
            return (f,), (f,)
        blk = item.block
        if isinstance(item, RepeatItem) and item.per_iteration:
            return self.loop_by_iteration(item, deps, data, revealed_by, prefix)
        if isinstance(item, BranchItem):
            probs = np.fromiter((p for p, _ in item.paths), float)
            outcome = int(self.rng.choice(len(probs), p=probs / probs.sum()))
        else:
            outcome = blk.count.sample_count(self.rng)
        c = self.decision(blk.id, deps, revealed_by, outcome, prefix + blk.id)
        if isinstance(item, BranchItem):
            return self.region(item.paths[outcome][1], (c,), data, c, prefix)
        if outcome == 0:
            return (c,), data
        if item.parallel:
            copies = [self.region(item.body, (c,), data, c, f"{prefix}{blk.id}[{k}]/")
                      for k in range(outcome)]
            return _union(e[0] for e in copies), _union(e[1] for e in copies)
        ends: Ends = ((c,), data)
        for k in range(outcome):
            ends = self.region(item.body, ends[0], ends[1], c, f"{prefix}{blk.id}[{k}]/")
        return ends

    def loop_by_iteration(self, item: RepeatItem, deps, data, revealed_by: int,
                          prefix: str) -> Ends:
        """Decision ``k`` waits for iteration ``k - 1`` and reveals iteration ``k`` and the next
        decision; decision ``count`` ends the loop (module docstring)."""
        blk = item.block
        count = blk.count.sample_count(self.rng)
        for k in range(count + 1):
            c = self.decision(blk.id, deps, revealed_by, int(k < count), f"{prefix}{blk.id}[{k}]?")
            if k < count:
                deps, data = self.region(item.body, (c,), data, c, f"{prefix}{blk.id}[{k}]/")
            revealed_by = c
        return (c,), data


def _union(groups) -> tuple[int, ...]:
    return tuple(dict.fromkeys(i for g in groups for i in g))
