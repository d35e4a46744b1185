"""One home for a run: spec -> scenario -> result.

- :class:`RunSpec` (:mod:`~octopus.run.spec`): everything that determines a run, validated
  once (the scheduler's parameters included);
- :func:`resolve` (:mod:`~octopus.run.resolve`): names become objects (workflow with its torch
  blocks filled in, architecture, topology, scheduler, per-block cycles); the only caller of
  :mod:`octopus.cost`;
- :func:`execute` (:mod:`~octopus.run.execute`): runs a scenario, returns a :class:`RunResult`
  and optionally writes the run directory.

Example::

    from octopus.run import RunSpec, execute
    result = execute(RunSpec(workflow="face-recognition", arch="chip-4", scheduler="greedy"))
    result.makespan_cycles, result.bound_ratio
"""

from octopus.run.execute import execute
from octopus.run.outdir import StagedDirectory, check_target
from octopus.run.resolve import Scenario, fit_torch_model, resolve, resolve_arch, resolve_workflow
from octopus.run.result import RunResult, TbuTime
from octopus.run.spec import (
    DEFAULT_SCHEDULER,
    MAX_RUN_FIRINGS,
    MIN_RATE_PER_S,
    SRAM_POLICIES,
    RunSpec,
    SramPolicy,
)

__all__ = [
    "DEFAULT_SCHEDULER",
    "MAX_RUN_FIRINGS",
    "MIN_RATE_PER_S",
    "SRAM_POLICIES",
    "RunResult",
    "RunSpec",
    "Scenario",
    "SramPolicy",
    "StagedDirectory",
    "TbuTime",
    "check_target",
    "execute",
    "fit_torch_model",
    "resolve",
    "resolve_arch",
    "resolve_workflow",
]
