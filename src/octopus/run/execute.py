"""Scenario -> result: run a resolved spec, optionally into a run directory.

Every door to the simulator (the CLI, sweeps, the evaluation, the benchmarks) comes through
:func:`execute` (or :meth:`~octopus.run.resolve.Scenario.simulator` when it times the run
itself), so a spec means the same run wherever it is run.
"""

from __future__ import annotations

from pathlib import Path

from octopus.run.directory import RunFiles
from octopus.run.resolve import Scenario, resolve
from octopus.run.result import RunResult, summarize
from octopus.run.spec import RunSpec
from octopus.workflow import workflow_to_dict

__all__ = ["execute"]


def execute(run: RunSpec | Scenario, out_dir: str | Path | None = None,
            trace: bool = True) -> RunResult:
    """Run a spec (or an already resolved scenario); with ``out_dir``, also write the run
    directory (:mod:`octopus.run.directory`; ``trace=False`` leaves out ``trace.json``).

    Raises:
        InputError: a name that does not resolve, or an ``out_dir`` that may not be written
            (both before the run starts).
    """
    scenario = run if isinstance(run, Scenario) else resolve(run)
    spec = scenario.spec
    if out_dir is None:
        return summarize(scenario.simulator().run(), spec.slo_cycles, spec.warmup_instances)
    with RunFiles(out_dir, scenario.topology, scenario.arch.clock_hz, trace=trace) as files:
        result = summarize(scenario.simulator(files).run(), spec.slo_cycles,
                           spec.warmup_instances)
        files.commit(result, {
            "run": scenario.spec.model_dump(mode="json", exclude={"workflow", "scheduler"})
            | {"workflow": scenario.spec.workflow_name, "scheduler": scenario.spec.scheduler.name},
            "scheduler": scenario.spec.scheduler.model_dump(mode="json"),
            "arch": scenario.arch.model_dump(mode="json"),
            "workflow": workflow_to_dict(scenario.workflow),
        })
    return result
