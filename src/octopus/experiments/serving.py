"""The runs of the serving evaluation, one job each (they run in worker processes).

- :func:`capacity_per_s`: the highest sustainable arrival rate of a workflow on a machine: the
  lower of the compute bound (every TBU busy with the expected work of an instance) and the
  memory bound (the off-chip memory busy with the bytes every instance must read).
- :func:`measure_floor`: each instance's latency alone on the machine (warm from the instances
  before it), measured by running the instances periodically, far enough apart that none
  overlaps the next (checked; the gap doubles until it holds), with the analytic critical
  path of each instance beside it.
- :func:`goodput_job`: a goodput search (:mod:`octopus.experiments.goodput`) at one operating
  point (workflow, machine, scheduler, arrival CV, seed), each probe a run through
  :func:`octopus.run.execute`, measured against per-instance SLOs.

Every run is a :class:`~octopus.run.RunSpec`, so the machine model, whatever it becomes, is
what these measure.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from octopus.experiments.goodput import GoodputSearch, search_goodput
from octopus.run import RunResult, RunSpec, Scenario, execute, resolve
from octopus.run.result import slo_attainment
from octopus.sim import Machine
from octopus.workflow import (
    compile_workflow,
    expected_firings,
    instance_critical_path,
    sample_instance,
)
from octopus.workflow.analysis import work_cycles_moments

__all__ = ["FLOOR_GAP_FACTOR", "Floor", "Point", "SearchJob", "capacity_bounds", "capacity_per_s",
           "closed_batch",
           "flat_metrics", "goodput_job", "measure_floor", "run_point"]

FLOOR_GAP_FACTOR = 4
"""Periodic arrivals of a floor run start this many times the longest critical path apart."""
_FLOOR_TRIES = 6


def capacity_per_s(spec: RunSpec) -> float:
    """Highest sustainable arrival rate of ``spec``'s workflow on its machine, instances/s: the
    lower of :func:`capacity_bounds`."""
    return min(capacity_bounds(spec).values())


def capacity_bounds(spec: RunSpec) -> dict[str, float]:
    """Two rates no schedule can sustain beyond, instances/s:

    - ``compute``: every TBU computing the expected Task Block cycles of an instance, each
      firing at the best a dispatch can do (any group width and batch: the machine's
      :meth:`~octopus.sim.parallel.ParallelModel.bound_capacities`, which the simulator's own
      lower bound uses);
    - ``memory``: the off-chip memory moving the bytes every instance must read whatever the
      schedule: its firings' ``input_bytes``, and the weights of blocks that cannot be resident
      even sharded over their widest group (read ``weight_passes`` times per dispatch, shared
      by a batch of at most ``tbu.max_batch``), through every shared controller at
      ``memory.bytes_per_cycle`` (or, for private memory, every TBU's ports); infinite when
      nothing must be read. Configuration loads are left out: a resident one loads once.
    """
    scenario = resolve(spec)
    machine = scenario.simulator().machine
    work, _ = machine.parallel.bound_capacities()
    mean_cycles, _ = work_cycles_moments(scenario.workflow, work)
    return {"compute": work.units * scenario.arch.clock_hz / mean_cycles,
            "memory": _memory_bound_per_s(scenario, machine)}


def _memory_bound_per_s(scenario: Scenario, machine: Machine) -> float:
    arch, wf, parallel = scenario.arch, scenario.workflow, machine.parallel
    firings = expected_firings(wf)
    inputs = streamed = 0.0
    for b in wf.blocks:
        if b.type == "task":
            inputs += firings[b.id] * b.input_bytes
            shard = math.ceil(b.config_bytes / max(parallel.widths(b)))
            if shard > arch.config_capacity_bytes:
                streamed += firings[b.id] * b.config_bytes * b.weight_passes / parallel.max_batch
    controllers = len(machine.memory.controllers)
    clock = arch.clock_hz

    def rate(bytes_per_cycle: float, nbytes: float) -> float:
        return bytes_per_cycle * clock / nbytes if nbytes else math.inf

    if controllers:
        return rate(controllers * arch.memory.bytes_per_cycle, inputs + streamed)
    units = scenario.capacity.units
    return min(rate(units * arch.tbu.memory_bytes_per_cycle, inputs),
               rate(units * arch.tbu.config_load_bytes_per_cycle, streamed))


@dataclass(frozen=True)
class Floor:
    """Per instance (by index): its latency alone on the machine and its critical path (the
    chain of its firing durations, each at the fastest a dispatch can run it, no transfers:
    the simulator's bound), in cycles; the instances ran ``gap_cycles`` apart."""

    latencies: tuple[int, ...]
    critical_paths: tuple[int, ...]
    gap_cycles: int


def measure_floor(spec: RunSpec) -> Floor:
    """The latency floor of every instance of ``spec`` (module doc); its rate, arrival CV and
    SLO are replaced, its warm-up ignored.

    Raises:
        RuntimeError: instances still overlapped with the gap at 2**5 times its first guess.
    """
    scenario = resolve(spec)
    top = compile_workflow(scenario.workflow)
    _, path = scenario.simulator().machine.parallel.bound_capacities()
    paths = tuple(instance_critical_path(sample_instance(scenario.workflow, spec.seed, i, top),
                                         path) for i in range(spec.instances))
    gap = FLOOR_GAP_FACTOR * max(1, max(paths))
    clock = scenario.arch.clock_hz
    for _ in range(_FLOOR_TRIES):
        run = resolve(spec.model_copy(update={"rate_per_s": clock / gap, "arrival_cv": 0.0,
                                              "slo_cycles": None, "warmup_instances": 0}))
        lat = execute(run).latencies
        finish = [a + x for a, x in zip(run.arrivals, lat, strict=True)]
        if all(f <= a for f, a in zip(finish, run.arrivals[1:], strict=False)):
            return Floor(lat, paths, gap)
        gap = 2 * max(gap, max(lat))
    raise RuntimeError(f"{spec.workflow_name} on {spec.arch}: instances overlap even "
                       f"{gap // 2:,} cycles apart")


@dataclass(frozen=True)
class Point:
    """One probe of a goodput search: the latency metrics over the measured instances (after
    the warm-up), their SLO attainment at each SLO scale of the search, and every number the
    run reported (:func:`flat_metrics`)."""

    rate_per_s: float
    attainment: float
    latency_p50_cycles: float
    latency_p99_cycles: float
    slowdown_p50: float  # latency / the instance's floor
    slowdown_p99: float
    attainment_by_scale: tuple[float, ...]
    metrics: Mapping[str, float]


def flat_metrics(result: RunResult) -> dict[str, float]:
    """Every number in ``result``'s summary, nested mappings as ``outer.inner`` (so counters a
    newer machine model or scheduler reports come along by name)."""
    out: dict[str, float] = {}
    for key, value in result.to_dict().items():
        if isinstance(value, Mapping):
            out.update({f"{key}.{k}": float(v) for k, v in value.items()
                        if isinstance(v, int | float) and not isinstance(v, bool)})
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = float(value)
    return out


def run_point(spec: RunSpec, floors: Sequence[float], slo_scale: float,
              slo_scales: Sequence[float]) -> Point:
    """Run ``spec`` and measure it against per-instance SLOs of ``slo_scale`` x ``floors``
    (one floor per instance, cycles), leaving out the spec's warm-up."""
    result = execute(spec)
    warm = spec.warmup_instances
    lat = np.asarray(result.latencies[warm:], dtype=float)
    floor = np.asarray(floors[warm:], dtype=float)
    slowdown = lat / floor
    return Point(
        rate_per_s=float(spec.rate_per_s or 0.0),
        attainment=slo_attainment(lat, slo_scale * floor),
        latency_p50_cycles=float(np.percentile(lat, 50)),
        latency_p99_cycles=float(np.percentile(lat, 99)),
        slowdown_p50=float(np.percentile(slowdown, 50)),
        slowdown_p99=float(np.percentile(slowdown, 99)),
        attainment_by_scale=tuple(slo_attainment(lat, k * floor) for k in slo_scales),
        metrics=flat_metrics(result),
    )


@dataclass(frozen=True)
class SearchJob:
    """A goodput search at one operating point: ``base`` (workflow, machine, scheduler, seed,
    instances, warm-up) at rates ``load x capacity_per_s`` with inter-arrival CV
    ``arrival_cv``, each instance's SLO ``slo_scale`` x its floor."""

    base: RunSpec
    arrival_cv: float
    capacity_per_s: float
    floors: tuple[float, ...]
    grid: tuple[float, ...]
    slo_scale: float
    slo_scales: tuple[float, ...]
    target: float
    rel_tol: float
    min_load: float

    def spec(self, load: float) -> RunSpec:
        return self.base.model_copy(update={"rate_per_s": load * self.capacity_per_s,
                                            "arrival_cv": self.arrival_cv})


def goodput_job(job: SearchJob) -> GoodputSearch[Point]:
    """Run the search ``job`` describes (see :mod:`octopus.experiments.goodput`)."""

    def measure(load: float) -> tuple[float, Point]:
        point = run_point(job.spec(load), job.floors, job.slo_scale, job.slo_scales)
        return point.attainment, point

    return search_goodput(measure, job.grid, job.target, job.rel_tol, job.min_load)


def closed_batch(spec: RunSpec) -> dict[str, Any]:
    """A closed-batch run's summary (every instance at cycle 0), without its per-TBU rows."""
    result = execute(spec)
    return dataclasses.replace(result, per_tbu=(), latencies=()).to_dict()

