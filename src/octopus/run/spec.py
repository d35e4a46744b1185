"""The run spec: everything that determines one simulation run, validated once.

A :class:`RunSpec` names its parts (a workflow, an architecture with overrides, a scheduler with
its parameters) and its size (instances, seed, arrival rate). :mod:`octopus.run.resolve` turns
the names into objects; :mod:`octopus.run.execute` runs them. Example::

    from octopus.run import RunSpec, execute
    spec = RunSpec(workflow="face-recognition", arch="chip-4",
                   scheduler={"name": "octopus", "proactive": False}, instances=500, seed=1)
    result = execute(spec)                 # a RunResult; execute(spec, out_dir=...) writes a run
    print(result.makespan_cycles, result.bound_ratio)
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from octopus.cost.fit import SRAM_POLICIES, SramPolicy
from octopus.errors import InputError, validation_message
from octopus.sched import SchedulerConfig, parse_scheduler_config
from octopus.sim.arrivals import MAX_ARRIVAL_CV
from octopus.workflow import Workflow
from octopus.workflow.distributions import MAX_CV

__all__ = ["DEFAULT_SCHEDULER", "MAX_RUN_FIRINGS", "MIN_RATE_PER_S", "SRAM_POLICIES", "RunSpec",
           "SramPolicy"]

DEFAULT_SCHEDULER = "octopus"
"""The scheduler a run uses when none is named (the CLI, sweeps and the Python API alike)."""
MAX_RUN_FIRINGS = 5_000_000
"""Largest run: instances x expected firings per instance (Task and Control Blocks). A closed
batch holds every instance's firings at once, about 0.7 KB each (measured: 630-700 bytes per
firing under greedy and octopus), so the limit is about 3.5 GB. Also the most instances."""
MIN_RATE_PER_S = 1e-6
"""Slowest open-loop arrival rate, instances per second (one in about 12 days)."""

Scheduler = Annotated[SerializeAsAny[SchedulerConfig], BeforeValidator(parse_scheduler_config)]


class RunSpec(BaseModel):
    """Everything that determines a run: the same spec gives byte-identical outputs.

    ``scheduler`` takes a name (``"greedy"``), a mapping of ``name`` and parameters
    (``{"name": "reactive", "window_cycles": 0}``) or a config object, and holds the validated
    config of that scheduler (a union discriminated by ``name`` over the scheduler registry).
    ``workflow`` is a built-in name, a YAML path, or a :class:`~octopus.workflow.Workflow`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    workflow: str | Workflow = Field(
        description="built-in workflow name, workflow YAML file, or a Workflow object")
    dynamicity_cv: float | None = Field(
        default=None, ge=0, le=MAX_CV, allow_inf_nan=False,
        description="replace every work and count distribution by one of the same mean and "
        "this coefficient of variation (None: as written)")
    arch: str = Field(default="chip", description="architecture preset or YAML file")
    arch_overrides: dict[str, Any] = Field(
        default_factory=dict, description="dotted architecture fields to override, e.g. "
        "{'cluster.tbus_x': 8}")
    scheduler: Scheduler = Field(
        default=DEFAULT_SCHEDULER, validate_default=True,
        description="scheduler name, or a mapping of name and parameters")
    instances: int = Field(default=100, ge=1, le=MAX_RUN_FIRINGS,
                           description="workflow instances to run")
    seed: int = Field(default=0, ge=0, description="seed of every random stream")
    rate_per_s: float | None = Field(
        default=None, ge=MIN_RATE_PER_S, allow_inf_nan=False,
        description="open-loop arrivals, instances per second; None: a closed batch")
    arrival_cv: float = Field(
        default=1.0, ge=0, le=MAX_ARRIVAL_CV, allow_inf_nan=False,
        description="coefficient of variation of the open-loop inter-arrival gaps: 1 Poisson, "
        "above 1 bursty (Gamma gaps), 0 periodic (see octopus.sim.arrivals)")
    slo_cycles: float | None = Field(
        default=None, gt=0, allow_inf_nan=False,
        description="latency SLO of every instance, cycles: the summary's slo_attainment is the "
        "share of measured instances within it (None: no SLO)")
    warmup_instances: int = Field(
        default=0, ge=0,
        description="the first instances to arrive, left out of the latency metrics and the "
        "SLO attainment (the machine warming up)")
    sram_policy: SramPolicy = Field(
        default="auto", description="torch-defined blocks whose activations exceed the SRAM: "
        "spill, chunk with AutoChunk, or the cheaper (see docs/cost-model.md)")

    @field_validator("arrival_cv")
    @classmethod
    def _open_loop(cls, cv: float, info: ValidationInfo) -> float:
        if cv != 1 and "rate_per_s" in info.data and info.data["rate_per_s"] is None:
            raise ValueError("shapes open-loop arrivals: give rate_per_s too")
        return cv

    @field_validator("warmup_instances")
    @classmethod
    def _some_measured(cls, warmup: int, info: ValidationInfo) -> int:
        instances = info.data.get("instances")
        if instances is not None and warmup >= instances:
            raise ValueError(f"{warmup} leaves none of the {instances} instances to measure")
        return warmup

    @property
    def workflow_name(self) -> str:
        """The workflow as named in the spec (a built-in, a path, or the object's ``name``)."""
        return self.workflow if isinstance(self.workflow, str) else self.workflow.name

    @classmethod
    def checked(cls, source: str | None = None, **fields: Any) -> RunSpec:
        """Build a spec, turning a validation failure into an :class:`InputError`."""
        try:
            return cls(**fields)
        except ValidationError as exc:
            field, problem = validation_message(exc)
            raise InputError(source, field, problem) from None
