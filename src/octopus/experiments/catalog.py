"""What the workflows are, without simulating them: the built-ins' summary (size, expected
work, dynamicity) and one workflow's static analysis on an architecture.

Both resolve through :mod:`octopus.run`, so a torch-defined block is timed as a run times it
(its fitted roofline on the architecture), not from its MACs alone.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from octopus.run import RunSpec, resolve
from octopus.workflow import (
    builtin_names,
    expected_critical_path,
    expected_firings,
    expected_lower_bound,
    expected_work,
)
from octopus.workflow.analysis import Capacity, work_cycles_moments

__all__ = ["BlockAnalysis", "WorkflowAnalysis", "WorkflowSummary", "analyze_workflow",
           "dynamicity", "workflow_summaries"]


@dataclass(frozen=True)
class WorkflowSummary:
    """One line of ``octopus workflows``: size, expected work per instance and dynamicity."""

    name: str
    task_blocks: int
    control_blocks: int
    expected_ai_macs: float
    expected_general_ops: float
    dynamicity_cv: float  # CV of the work per instance, in TBU-cycles
    description: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class BlockAnalysis:
    """One block's expectations per instance (work in MACs or operations, time in cycles)."""

    block: str
    type: str  # ai, general, branch, loop or fanout
    expected_firings: float
    mean_work: float
    expected_work: float
    expected_cycles: float


@dataclass(frozen=True)
class WorkflowAnalysis:
    """``octopus analyze``: per-block expectations, the mean instance's critical path and a
    batch lower bound, on one architecture (cycles at ``clock_hz``)."""

    workflow: str
    description: str
    arch: str
    clock_hz: float
    units: int  # TBUs
    blocks: tuple[BlockAnalysis, ...]
    critical_path_cycles: float
    critical_path_blocks: tuple[str, ...]
    lower_bound_instances: int
    lower_bound_cycles: float

    @property
    def tbus(self) -> int:
        return self.units

    def seconds(self, cycles: float) -> float:
        return cycles / self.clock_hz

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        del out["description"], out["clock_hz"]
        out["critical_path_blocks"] = list(self.critical_path_blocks)
        return out


def dynamicity(wf: Any, cap: Capacity) -> float:
    """Coefficient of variation of a workflow's work per instance in TBU-cycles (exact, from
    the distributions' moments: :func:`~octopus.workflow.analysis.work_cycles_moments`)."""
    mean, var = work_cycles_moments(wf, cap)
    return math.sqrt(var) / mean if mean > 0 else 0.0


def workflow_summaries(arch: str = "chip") -> list[WorkflowSummary]:
    """The built-in workflows, weighed on ``arch``.

    Raises:
        InputError: a bad architecture.
    """
    rows = []
    for name in builtin_names():
        scenario = resolve(RunSpec(workflow=name, arch=arch))
        wf = scenario.workflow
        work = expected_work(wf)
        rows.append(WorkflowSummary(
            name=wf.name,
            task_blocks=sum(b.type == "task" for b in wf.blocks),
            control_blocks=sum(b.type in ("branch", "loop", "fanout") for b in wf.blocks),
            expected_ai_macs=work["ai"],
            expected_general_ops=work["general"],
            dynamicity_cv=round(dynamicity(wf, scenario.capacity), 4),
            description=wf.description))
    return rows


def analyze_workflow(workflow: str, arch: str = "chip", instances: int = 1000
                     ) -> WorkflowAnalysis:
    """Static analysis of ``workflow`` on ``arch`` for a batch of ``instances``.

    Raises:
        InputError: a bad workflow or architecture.
    """
    scenario = resolve(RunSpec(workflow=workflow, arch=arch))
    wf, cap = scenario.workflow, scenario.capacity
    firings = expected_firings(wf)
    blocks = []
    for b in wf.blocks:
        if b.type == "merge":
            continue
        task = b.type == "task"
        work = b.work.mean if task else 0.0
        per_firing = cap.cycles(b.kind, work, b.id) if task else cap.control_cycles
        blocks.append(BlockAnalysis(
            block=b.id, type=b.kind if task else b.type, expected_firings=firings[b.id],
            mean_work=work, expected_work=firings[b.id] * work,
            expected_cycles=firings[b.id] * per_firing))
    path = expected_critical_path(wf, cap)
    return WorkflowAnalysis(
        workflow=wf.name, description=wf.description, arch=scenario.arch.name,
        clock_hz=scenario.arch.clock_hz, units=cap.units, blocks=tuple(blocks),
        critical_path_cycles=path.cycles, critical_path_blocks=tuple(path.blocks),
        lower_bound_instances=instances,
        lower_bound_cycles=expected_lower_bound(wf, instances, cap))
