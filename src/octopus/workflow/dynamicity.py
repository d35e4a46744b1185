"""Reshape a workflow's dynamicity: every work and count distribution replaced by one of the same
mean and a chosen coefficient of variation (the knob of the dynamicity sweeps)."""

from __future__ import annotations

import math

from octopus.workflow.distributions import Constant, LogNormal
from octopus.workflow.model import Workflow

__all__ = ["with_dynamicity"]


def with_dynamicity(wf: Workflow, cv: float) -> Workflow:
    """``wf`` with every work and count distribution replaced by one of the same mean and
    coefficient of variation ``cv`` (log-normal; a constant at 0), named ``<name>-cv<cv>``.

    Unresolved ``torch_model`` blocks (no ``work`` yet) are left as they are; a run times
    torch-defined blocks from their model whatever their work.

    Raises:
        ValueError: ``cv`` is negative or not finite.
    """
    if not (math.isfinite(cv) and cv >= 0):
        raise ValueError(f"dynamicity cv must be a finite number >= 0, got {cv!r}")

    def same_mean(dist, count: bool):
        mean = dist.count_mean if count else dist.mean
        if cv == 0 or mean == 0:
            return Constant(value=round(mean) if count else mean)
        return LogNormal(mean=mean, cv=cv)

    blocks = []
    for b in wf.blocks:
        if b.type == "task" and b.work is not None:
            b = b.model_copy(update={"work": same_mean(b.work, False)})
        elif b.type in ("loop", "fanout"):
            b = b.model_copy(update={"count": same_mean(b.count, True)})
        blocks.append(b)
    return wf.model_copy(update={"name": f"{wf.name}-cv{cv:g}", "blocks": blocks})
