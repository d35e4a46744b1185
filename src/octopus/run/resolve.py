"""Spec -> scenario: the one place where a run's names become objects.

:func:`resolve` reads a :class:`~octopus.run.spec.RunSpec` and returns a :class:`Scenario`: the
checked workflow with its ``torch_model`` blocks filled in and its dynamicity applied, the
architecture with its overrides, one topology, the scheduler factory, each block's timing and
the arrival cycles. Timings: a torch-defined block takes its fit into the TBU's SRAM (fixed
cycles per firing); an AI block whose ``model:`` names a shipped layer table computes at the
efficiency its layers get on the array (:mod:`octopus.cost.tables`); any other block at the
preset's efficiency. This module is the
only caller of :mod:`octopus.cost` (torch is imported only for workflows with torch-defined
blocks whose profile is not cached on disk yet).

Workflows, architectures and topologies named by a string are cached per process (a file is
read again when its modification time or size changes), so a process running many specs over
the same names resolves each once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from octopus.arch import ArchConfig, Topology, load_arch
from octopus.cost import BlockFit, fit_known, fit_workflow, has_torch_blocks, resolve_torch_blocks
from octopus.cost.fit import SramPolicy
from octopus.cost.tables import TableScaling, table_layers
from octopus.errors import InputError, raise_all
from octopus.run.spec import MAX_RUN_FIRINGS, RunSpec
from octopus.sched import scheduler_factory
from octopus.sim.arrivals import arrival_cycles
from octopus.sim.capacity import AtEfficiency, FixedCycles, arch_capacity
from octopus.sim.recorder import NULL_RECORDER, Recorder
from octopus.sim.simulator import SchedulerFactory, Simulator
from octopus.workflow import (
    BlockTiming,
    Capacity,
    TorchModel,
    Workflow,
    check_limits,
    compile_workflow,
    expected_firings,
    find_workflow,
    with_dynamicity,
)

__all__ = ["Scenario", "block_timing", "check_run_size", "fit_torch_model", "resolve",
           "resolve_arch", "resolve_workflow"]


@dataclass(frozen=True)
class Scenario:
    """A run with every name resolved; :meth:`simulator` builds its (fresh) simulator.

    Attributes:
        spec: what was asked for.
        workflow: checked, ``torch_model`` blocks filled in, dynamicity applied.
        arch: the architecture with the spec's overrides.
        topology: ``arch``'s topology (shared by the machine and the run directory).
        scheduler: builds the scheduler from the machine and the workflow.
        block_fits: each torch-defined block's fit into the TBU's SRAM under the spec's policy.
        block_timing: the blocks not timed at the preset's efficiency (module doc), by id.
        arrivals: arrival cycle of every instance, or ``None`` for a closed batch at cycle 0.
    """

    spec: RunSpec
    workflow: Workflow
    arch: ArchConfig
    topology: Topology
    scheduler: SchedulerFactory
    block_fits: Mapping[str, BlockFit]
    block_timing: Mapping[str, BlockTiming]
    arrivals: tuple[int, ...] | None

    @property
    def capacity(self) -> Capacity:
        """The machine as the analysis and the bounds see it (cycles as the simulator times)."""
        return arch_capacity(self.arch, self.block_timing)

    def __repr__(self) -> str:
        spec = self.spec
        arrivals = (f"{_process(spec.arrival_cv)} arrivals at {spec.rate_per_s:g}/s"
                    if spec.rate_per_s else "a closed batch")
        return (f"Scenario({self.workflow.name!r} ({len(self.workflow.blocks)} blocks, "
                f"{len(self.block_fits)} torch-defined) on {self.arch.name!r} "
                f"({self.topology.num_tbus} TBUs) under {spec.scheduler.name!r}: "
                f"{spec.instances} instances, seed {spec.seed}, {arrivals})")

    def simulator(self, recorder: Recorder = NULL_RECORDER) -> Simulator:
        """A new simulator of this scenario, not yet run."""
        spec = self.spec
        return Simulator(self.workflow, self.arch, self.scheduler, spec.instances, spec.seed,
                         self.arrivals, recorder, self.block_timing, self.topology)


def _process(cv: float) -> str:
    return {0.0: "periodic", 1.0: "Poisson"}.get(cv, f"Gamma (CV {cv:g})")


def resolve(spec: RunSpec) -> Scenario:
    """Resolve every name in ``spec``.

    Raises:
        InputError: an unknown name, a bad file, a bad override, an unknown torch model, a
            size over a limit (of the workflow, the machine, or :data:`MAX_RUN_FIRINGS`).
    """
    wf = resolve_workflow(spec.workflow, spec.dynamicity_cv)
    check_run_size(wf, spec.instances)
    arch = resolve_arch(spec.arch, spec.arch_overrides)
    fits = fit_workflow(wf, arch, spec.sram_policy) if has_torch_blocks(wf) else {}
    arrivals = (tuple(arrival_cycles(spec.instances, spec.rate_per_s, arch.clock_hz, spec.seed,
                                     spec.arrival_cv))
                if spec.rate_per_s else None)
    return Scenario(spec, wf, arch, _topology(*_arch_key(spec.arch, spec.arch_overrides)),
                    scheduler_factory(spec.scheduler), fits, block_timing(wf, arch, fits),
                    arrivals)


def block_timing(wf: Workflow, arch: ArchConfig, fits: Mapping[str, BlockFit]
                 ) -> dict[str, BlockTiming]:
    """The timing of every block not timed at the preset's efficiency (module doc), by id."""
    timing: dict[str, BlockTiming] = {k: FixedCycles(v.fit.cycles) for k, v in fits.items()}
    pea = arch.pea
    for b in wf.blocks:
        if (b.type == "task" and b.kind == "ai" and b.id not in timing and b.model
                and table_layers(b.model)):
            scaling = TableScaling(b.model, pea.rows, pea.cols, pea.dataflow)
            timing[b.id] = AtEfficiency(arch, scaling)
    return timing


def check_run_size(wf: Workflow, instances: int) -> None:
    """Raise unless ``instances`` of ``wf`` stay within :data:`MAX_RUN_FIRINGS` expected
    firings.

    Raises:
        InputError: naming ``instances``, the firings it would take and the limit.
    """
    per_instance = sum(expected_firings(wf).values())
    if instances * per_instance > MAX_RUN_FIRINGS:
        raise InputError(None, "instances", f"{instances:,} instances of {per_instance:.4g} "
                         f"firings each (expected) make {instances * per_instance:.3g} firings, "
                         f"over the limit of {MAX_RUN_FIRINGS:,} per run (about 0.7 KB of "
                         "memory each); run fewer instances")


def resolve_workflow(workflow: str | Path | Workflow, dynamicity_cv: float | None = None
                     ) -> Workflow:
    """A workflow by built-in name, YAML path or object: checked, ``torch_model`` blocks filled
    in from their models' costs, and reshaped to ``dynamicity_cv`` when given.

    Raises:
        InputError: no such built-in, a bad file or graph, an unknown torch model, a size over
            a limit (:mod:`octopus.workflow.limits`; checked again once torch models and the
            dynamicity have set the work and counts).
    """
    if isinstance(workflow, Workflow):
        compile_workflow(workflow)
        wf = resolve_torch_blocks(workflow) if has_torch_blocks(workflow) else workflow
        check_limits(wf)
    else:
        wf = _named_workflow(str(workflow), _stamp(str(workflow)))
    if dynamicity_cv is None:
        return wf
    reshaped = with_dynamicity(wf, dynamicity_cv)
    try:
        check_limits(reshaped)
    except InputError as exc:
        raise_all([InputError(None, "dynamicity_cv", f"{dynamicity_cv:g} makes "
                              + ": ".join(p for p in (e.where, e.problem) if p))
                   for e in exc.problems])
    return reshaped


def resolve_arch(arch: str | Path, overrides: Mapping[str, Any] | None = None) -> ArchConfig:
    """An architecture by preset name or YAML path, with dotted ``overrides`` (cached).

    Raises:
        InputError: see :func:`octopus.arch.load_arch`.
    """
    return _arch(*_arch_key(str(arch), overrides or {}))


def fit_torch_model(model: TorchModel, arch: ArchConfig, policy: SramPolicy = "auto") -> BlockFit:
    """How one known torch model fits a TBU of ``arch`` under ``policy`` (costs cached on disk).

    Raises:
        ValueError: an unknown model, dtype or malformed shape.
    """
    return fit_known(model, arch, policy)


# --- per-process caches, keyed by name and, for files, modification time and size -----------
def _stamp(name: str) -> tuple[int, int] | None:
    try:
        st = Path(name).stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=64)
def _named_workflow(name: str, stamp: tuple[int, int] | None) -> Workflow:
    wf = find_workflow(name)
    if not has_torch_blocks(wf):
        return wf
    wf = resolve_torch_blocks(wf, name)
    check_limits(wf, source=name)
    return wf


def _arch_key(arch: str, overrides: Mapping[str, Any]) -> tuple[str, tuple | None, str]:
    return arch, _stamp(arch), json.dumps(dict(overrides), sort_keys=True, default=str)


@lru_cache(maxsize=64)
def _arch(name: str, stamp: tuple | None, overrides: str) -> ArchConfig:
    return load_arch(name, json.loads(overrides) or None)


@lru_cache(maxsize=16)
def _topology(name: str, stamp: tuple | None, overrides: str) -> Topology:
    return Topology(_arch(name, stamp, overrides))
