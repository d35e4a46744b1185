"""One simulation run from names and numbers: the entry point the CLI, evaluations and sweeps
share. Resolves the workflow, architecture and scheduler, runs, and optionally writes a run
directory (see :mod:`octopus.sim.output`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from octopus.arch import load_arch
from octopus.errors import InputError, validation_message
from octopus.sched import scheduler_factory
from octopus.sim.metrics import summarize
from octopus.sim.output import RunRecorder
from octopus.sim.simulator import Simulator, poisson_arrivals
from octopus.workflow import resolve_workflow
from octopus.workflow.model import workflow_to_dict

__all__ = ["RunSpec", "run_once"]


class RunSpec(BaseModel):
    """Everything that determines a run (the same spec and seed give the same summary)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workflow: str = Field(description="built-in workflow name or YAML file")
    arch: str = Field(default="chip", description="architecture preset or YAML file")
    scheduler: str = Field(default="octopus", description="registered scheduler name")
    scheduler_params: dict[str, Any] = Field(default_factory=dict,
                                             description="parameters of the scheduler's config")
    arch_overrides: dict[str, Any] = Field(default_factory=dict,
                                           description="dotted architecture fields to override")
    instances: int = Field(default=100, ge=1, description="workflow instances to run")
    seed: int = Field(default=0, ge=0, description="seed of every random stream")
    rate_per_s: float | None = Field(
        default=None, gt=0, description="open-loop Poisson arrivals per second; None: a batch")
    sram_policy: Literal["spill", "autochunk", "auto"] = Field(
        default="auto", description="torch-defined blocks whose activations exceed the SRAM: "
        "spill, chunk with AutoChunk, or the cheaper (see docs/cost-model.md)")

    @classmethod
    def checked(cls, source: str | None = None, **fields: Any) -> RunSpec:
        """Build a spec, turning a validation failure into an :class:`InputError`."""
        try:
            return cls(**fields)
        except ValidationError as exc:
            field, problem = validation_message(exc)
            raise InputError(source, field, problem) from None


def run_once(spec: RunSpec, out_dir: str | Path | None = None, trace: bool = True,
             workflow=None) -> dict[str, Any]:
    """Run ``spec``; return its summary. With ``out_dir``, also write the run directory.

    ``workflow`` may pass an already loaded (or modified) workflow instead of ``spec.workflow``.

    Raises:
        InputError: an unknown name, a bad file, or bad parameters.
    """
    wf = workflow if workflow is not None else resolve_workflow(spec.workflow)
    arch = load_arch(spec.arch, spec.arch_overrides or None)
    factory = scheduler_factory(spec.scheduler, spec.scheduler_params)
    arrivals = (poisson_arrivals(spec.instances, spec.rate_per_s, arch.clock_hz, spec.seed)
                if spec.rate_per_s else None)
    cycles = None
    if any(b.type == "task" and b.torch_model is not None for b in wf.blocks):
        from octopus.cost import fit_workflow  # only for torch-defined blocks: may import torch

        cycles = {k: v.fit.cycles for k, v in fit_workflow(wf, arch, spec.sram_policy).items()}
    if out_dir is None:
        sim = Simulator(wf, arch, factory, spec.instances, spec.seed, arrivals,
                        block_cycles=cycles).run()
        return summarize(sim)
    from octopus.arch import Topology

    with RunRecorder(out_dir, Topology(arch), arch.clock_hz, trace=trace) as rec:
        sim = Simulator(wf, arch, factory, spec.instances, spec.seed, arrivals, rec,
                        block_cycles=cycles).run()
        summary = summarize(sim)
        resolved = {
            "run": spec.model_dump(mode="json"),
            "scheduler": {"name": spec.scheduler, **sim.scheduler.config.model_dump(mode="json")},
            "arch": arch.model_dump(mode="json"),
            "workflow": workflow_to_dict(wf),
        }
        rec.commit(summary, resolved, sim.tbu_buckets())
    return summary
