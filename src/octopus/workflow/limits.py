"""Size limits of a workflow, checked before anything runs.

Every number a workflow file accepts must simulate, in bounded memory. The simulator unrolls
every firing of an instance (about 0.7 KB each), so counts and work are bounded where they are
read, each by the value a draw exceeds with probability below
:data:`~octopus.workflow.distributions.TAIL` (``upper``, the largest value for a bounded
distribution):

- :data:`MAX_COUNT`: the count of one loop or fan-out execution (its ``count_upper``); a
  uniform count must hold an integer;
- :data:`MAX_WORK`: the work of one Task Block firing (its ``upper``), in MACs or operations;
- :data:`MAX_INSTANCE_FIRINGS`: the firings of one instance (a per-iteration loop's decisions
  included), every count at its ``count_upper`` and every branch on its largest path.

A run adds its own limit on instances x expected firings (:data:`octopus.run.MAX_RUN_FIRINGS`).
"""

from __future__ import annotations

from pathlib import Path

from octopus.errors import InputError, raise_all
from octopus.workflow.model import FanoutBlock, LoopBlock, TaskBlock, Workflow
from octopus.workflow.structure import BranchItem, Region, TaskItem, compile_workflow

__all__ = ["MAX_COUNT", "MAX_INSTANCE_FIRINGS", "MAX_WORK", "check_limits", "max_firings"]

MAX_COUNT = 1_000_000
"""Largest loop or fan-out count of one execution."""
MAX_WORK = 1e18
"""Largest work of one Task Block firing, MACs or operations (a million seconds of a
1 GMAC/s unit)."""
MAX_INSTANCE_FIRINGS = 1_000_000
"""Largest number of firings (Task and Control Block executions) of one instance."""


def check_limits(wf: Workflow, top: Region | None = None, source: str | Path | None = None
                 ) -> None:
    """Check ``wf`` (compiled to ``top``, compiled here when not given) against the limits.

    Raises:
        InputError: naming each block over a limit, the limit and the value
            (:class:`~octopus.errors.InputErrors` when several).
    """
    problems = [InputError(source, f"block '{b.id}': {field}", problem)
                for b in wf.blocks for field, problem in _block_problems(b)]
    raise_all(problems)
    firings = max_firings(top if top is not None else compile_workflow(wf))
    if firings > MAX_INSTANCE_FIRINGS:
        raise InputError(source, None, f"an instance may fire up to {_number(firings)} blocks "
                                       f"(every count at its upper bound), over the limit of "
                                       f"{MAX_INSTANCE_FIRINGS:,} per instance")


def max_firings(region: Region) -> float:
    """Firings of ``region`` in its largest instance: every count at its ``count_upper``,
    every branch on its largest path (``inf`` when unbounded)."""
    total = 0.0
    for item in region.items:
        if isinstance(item, TaskItem):
            total += 1
        elif isinstance(item, BranchItem):
            total += 1 + max(max_firings(path) for _, path in item.paths)
        else:  # a per-iteration loop adds a decision to every iteration
            body = max_firings(item.body) + int(item.per_iteration)
            total += 1 + item.block.count.count_upper * body
    return total


def _block_problems(block: object) -> list[tuple[str, str]]:
    """``(field, problem)`` for each limit ``block`` breaks."""
    if isinstance(block, TaskBlock) and block.work is not None:
        if block.work.upper > MAX_WORK:
            return [("work", f"draws up to {_number(block.work.upper)} (upper bound), over the "
                             f"limit of {MAX_WORK:.0e} per firing")]
    elif isinstance(block, LoopBlock | FanoutBlock):
        count = block.count
        if count.dist == "uniform" and count.count_upper < count.low:
            return [("count", f"uniform count [{count.low:g}, {count.high:g}] holds no "
                              "integer")]
        if count.count_upper > MAX_COUNT:
            return [("count", f"draws up to {_number(count.count_upper)} (upper bound), over "
                              f"the limit of {MAX_COUNT:,} per execution")]
    return []


def _number(x: float) -> str:
    return f"{x:.3g}" if x < float("inf") else "more than a float holds"
