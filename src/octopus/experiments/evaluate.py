"""The evaluation suite behind ``octopus evaluate``.

Every built-in workflow runs under every scheduler on one preset with paired seeds (each
scheduler sees the same instances). Before any speedup is quoted, ``reactive`` is tuned per
workflow: the best makespan over :data:`REACTIVE_GRID`. The suite also runs an ablation (each
Octopus mechanism flipped from its default in turn), a dynamicity sweep (work and count CV from
low to high) and a scaling study (1, 4, 16, 64 clusters at a fixed number of instances per
cluster), and collects per-TBU time for a utilization heatmap. ``octopus.experiments.report``
turns the results into CSV files, PNG plots and ``report.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from octopus.experiments.backends import Backend, LocalBackend
from octopus.run import RunResult, RunSpec, execute, resolve
from octopus.sched.octopus import OctopusConfig
from octopus.workflow import builtin_names

__all__ = ["BASELINES", "CV_LEVELS", "SCHEDULERS", "TARGET", "Evaluation", "Size", "evaluate",
           "geomean"]

TARGET = "octopus"
BASELINES = ("static", "reactive", "greedy")
SCHEDULERS = (*BASELINES, TARGET)
UNTUNED = ("static", "greedy", TARGET)  # the schedulers run without a tuning step
REACTIVE_GRID = [{"threshold_tasks_per_tbu": t, "window_cycles": w}
                 for t in (0.5, 2.0, 8.0) for w in (0, 1_000_000, 10_000_000)]
MECHANISMS = ("dual", "adaptive", "proactive", "diffusion")
CV_LEVELS = (0.0, 0.25, 0.5, 1.0, 2.0)
CLUSTER_MESHES = (1, 2, 4, 8)  # clusters per side: 1, 4, 16, 64 clusters
HEATMAP = ("static", TARGET)  # schedulers whose per-TBU utilization is drawn


@dataclass(frozen=True)
class Size:
    """How big the suite is: instances per run, seeds, and the study sizes."""

    instances: int
    seeds: tuple[int, ...]
    per_cluster: int  # instances per cluster in the scaling study
    sweep_workflow: str = "face-recognition"
    reactive_grid: tuple[dict, ...] = tuple(REACTIVE_GRID)

    @classmethod
    def quick(cls) -> Size:
        return cls(instances=600, seeds=(0,), per_cluster=12,
                   reactive_grid=tuple(REACTIVE_GRID[i] for i in (1, 4, 7)))

    @classmethod
    def full(cls) -> Size:
        return cls(instances=3000, seeds=(0, 1), per_cluster=48)


@dataclass
class Evaluation:
    """Results of :func:`evaluate`."""

    arch: str
    size: Size
    main: dict[str, dict[str, list[RunResult]]] = field(default_factory=dict)  # wf -> sched
    reactive_params: dict[str, dict] = field(default_factory=dict)
    ablation: dict[str, dict[str, list[RunResult]]] = field(default_factory=dict)  # wf -> variant
    dynamicity: list[dict] = field(default_factory=list)
    scaling: list[dict] = field(default_factory=list)
    tbu_positions: list[tuple[int, int]] = field(default_factory=list)  # (x, y) on the mesh

    def makespan(self, wf: str, sched: str) -> float:
        """Mean makespan over seeds, in cycles."""
        runs = self.main[wf][sched]
        return sum(r.makespan_cycles for r in runs) / len(runs)

    def speedup(self, wf: str, baseline: str) -> float:
        return self.makespan(wf, baseline) / self.makespan(wf, TARGET)

    @property
    def heatmap(self) -> dict[str, list]:
        """Per-TBU time of the dynamicity workflow's first seed under :data:`HEATMAP`'s
        schedulers (``TbuTime`` rows, in TBU order)."""
        wf = self.size.sweep_workflow
        return {s: list(self.main[wf][s][0].per_tbu) for s in HEATMAP if wf in self.main}

    def headline(self) -> dict[str, Any]:
        """The numbers ``octopus evaluate --json`` prints."""
        wfs = sorted(self.main)
        speed = {b: [self.speedup(w, b) for w in wfs] for b in BASELINES}
        ratios = [sum(r.bound_ratio for r in self.main[w][TARGET]) / len(self.main[w][TARGET])
                  for w in wfs]
        return {
            "arch": self.arch,
            "instances": self.size.instances,
            "seeds": list(self.size.seeds),
            "geomean_speedup": {b: geomean(v) for b, v in speed.items()},
            "max_speedup": {b: max(v) for b, v in speed.items()},
            "per_workflow": {w: {s: self.makespan(w, s) for s in self.main[w]} for w in wfs},
            "mean_bound_ratio": sum(ratios) / len(ratios),
            "scaling_efficiency": {str(r["clusters"]): r["efficiency"] for r in self.scaling},
            "reactive_tuned": self.reactive_params,
        }

    def __repr__(self) -> str:
        runs = sum(len(v) for w in self.main.values() for v in w.values())
        return (f"Evaluation(arch={self.arch!r}, {len(self.main)} workflows, {runs} main runs, "
                f"{self.size.instances} instances per run, seeds {list(self.size.seeds)})")


def evaluate(arch: str = "wafer", size: Size | None = None, backend: Backend | None = None,
             progress: Callable[..., Iterable] | None = None,
             arch_overrides: dict[str, Any] | None = None) -> Evaluation:
    """Run the whole suite on ``arch``; ``progress(iterable, total, stage)`` wraps each stage's
    result stream (e.g. a tqdm bar; ``stage`` says what the stage runs). Runs go to
    ``backend`` (default: a :class:`LocalBackend` of 2 workers). ``arch_overrides`` (dotted
    keys, see :func:`octopus.arch.load_arch`) apply to every run; the scaling study's cluster
    counts are set on top of them.

    Raises:
        InputError: a bad preset or override (before any run starts).
    """
    size = size or Size.full()
    backend = backend or LocalBackend(2)
    overrides = dict(arch_overrides or {})
    ev = Evaluation(arch, size)
    wfs = builtin_names()

    def spec(wf: str, sched: str | dict, seed: int, **kw: Any) -> RunSpec:
        return RunSpec(**{"workflow": wf, "arch": arch, "scheduler": sched, "seed": seed,
                          "instances": size.instances, "arch_overrides": overrides, **kw})

    topology = resolve(spec(size.sweep_workflow, TARGET, size.seeds[0])).topology
    ev.tbu_positions = [topology.position(u) for u in range(topology.num_tbus)]

    # Stage 1: tune reactive, and run everything else that does not depend on the tuning.
    jobs: dict[tuple, RunSpec] = {}
    for wf in wfs:
        for i, params in enumerate(size.reactive_grid):
            jobs[("tune", wf, i)] = spec(wf, {"name": "reactive", **params}, size.seeds[0])
        for seed in size.seeds:
            for sched in UNTUNED:
                jobs[("main", wf, sched, seed)] = spec(wf, sched, seed)
            for mech in MECHANISMS:
                flipped = {"name": TARGET, mech: not OctopusConfig.model_fields[mech].default}
                jobs[("ablation", wf, mech, seed)] = spec(wf, flipped, seed)
    for cv in CV_LEVELS:
        for sched in UNTUNED:
            jobs[("dyn", cv, sched)] = spec(size.sweep_workflow, sched, size.seeds[0],
                                            dynamicity_cv=cv)
    for side in CLUSTER_MESHES:
        for sched in ("greedy", TARGET):
            jobs[("scale", side, sched)] = spec(
                size.sweep_workflow, sched, size.seeds[0],
                instances=size.per_cluster * side * side,
                arch_overrides=overrides | {"chip.clusters_x": side, "chip.clusters_y": side})
    results = _run_all(jobs, backend, progress, "stage 1 of 2: reactive tuning, schedulers, "
                       "ablation, dynamicity, scaling")

    # Stage 2: the tuned reactive runs.
    for wf in wfs:
        best = min(range(len(size.reactive_grid)),
                   key=lambda i, wf=wf: results[("tune", wf, i)].makespan_cycles)
        ev.reactive_params[wf] = dict(size.reactive_grid[best])
    tuned = {("main", wf, "reactive", seed): spec(wf, {"name": "reactive",
                                                       **ev.reactive_params[wf]}, seed)
             for wf in wfs for seed in size.seeds}
    results |= _run_all(tuned, backend, progress, "stage 2 of 2: tuned reactive")

    for (kind, *key), result in sorted(results.items(), key=lambda kv: str(kv[0])):
        if kind == "main":
            wf, sched, _ = key
            ev.main.setdefault(wf, {}).setdefault(sched, []).append(result)
        elif kind == "ablation":
            wf, mech, _ = key
            variant = ("with_" if not OctopusConfig.model_fields[mech].default else "no_") + mech
            ev.ablation.setdefault(wf, {}).setdefault(variant, []).append(result)
    for cv in CV_LEVELS:
        ev.dynamicity.append({"cv": cv} | {s: results[("dyn", cv, s)].makespan_cycles
                                           for s in UNTUNED})
    ref = None
    for side in CLUSTER_MESHES:
        r = results[("scale", side, TARGET)]
        per_tbu = r.throughput_instances_per_s / r.tbus
        ref = ref or per_tbu
        ev.scaling.append({
            "clusters": side * side, "tbus": r.tbus, "instances": r.instances,
            "makespan_cycles": r.makespan_cycles,
            "greedy_makespan_cycles": results[("scale", side, "greedy")].makespan_cycles,
            "throughput_per_tbu": per_tbu, "efficiency": per_tbu / ref,
            "bound_efficiency": r.lower_bound_cycles / r.makespan_cycles,
        })
    return ev


def _run_job(job: tuple[tuple, RunSpec]) -> tuple[tuple, RunResult]:
    key, spec = job
    return key, execute(spec)


def _run_all(jobs: dict[tuple, RunSpec], backend: Backend, progress: Callable[..., Iterable] | None,
             stage: str) -> dict[tuple, RunResult]:
    stream: Iterable[tuple[tuple, RunResult]] = backend.map(_run_job, list(jobs.items()))
    if progress is not None:
        stream = progress(stream, len(jobs), stage)
    return dict(stream)


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))
