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
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from octopus.experiments.run import RunSpec, run_once
from octopus.sched.octopus import OctopusConfig
from octopus.workflow import Workflow, builtin_names, load_builtin
from octopus.workflow.distributions import Constant, LogNormal

__all__ = ["BASELINES", "Evaluation", "Size", "evaluate", "geomean", "with_dynamicity"]

BASELINES = ("static", "reactive", "greedy")
REACTIVE_GRID = [{"threshold_tasks_per_tbu": t, "window_cycles": w}
                 for t in (0.5, 2.0, 8.0) for w in (0, 1_000_000, 10_000_000)]
MECHANISMS = ("dual", "adaptive", "proactive", "diffusion")
CV_LEVELS = (0.0, 0.25, 0.5, 1.0, 2.0)
CLUSTER_MESHES = (1, 2, 4, 8)  # clusters per side: 1, 4, 16, 64 clusters


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
    """Results of :func:`evaluate` (summaries are ``summary.json`` dicts)."""

    arch: str
    size: Size
    main: dict[str, dict[str, list[dict]]] = field(default_factory=dict)  # wf -> sched -> runs
    reactive_params: dict[str, dict] = field(default_factory=dict)
    ablation: dict[str, dict[str, list[dict]]] = field(default_factory=dict)  # wf -> variant
    dynamicity: list[dict] = field(default_factory=list)
    scaling: list[dict] = field(default_factory=list)
    heatmap: dict[str, list[dict]] = field(default_factory=dict)  # scheduler -> tbu buckets
    tbu_positions: list[tuple[int, int]] = field(default_factory=list)  # (x, y) on the mesh

    def makespan(self, wf: str, sched: str) -> float:
        """Mean makespan over seeds, in cycles."""
        runs = self.main[wf][sched]
        return sum(r["makespan_cycles"] for r in runs) / len(runs)

    def speedup(self, wf: str, baseline: str) -> float:
        return self.makespan(wf, baseline) / self.makespan(wf, "octopus")

    def headline(self) -> dict[str, Any]:
        """The numbers ``octopus evaluate --json`` prints."""
        wfs = sorted(self.main)
        speed = {b: [self.speedup(w, b) for w in wfs] for b in BASELINES}
        ratios = [sum(r["bound_ratio"] for r in self.main[w]["octopus"])
                  / len(self.main[w]["octopus"]) for w in wfs]
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


def evaluate(arch: str = "wafer", size: Size | None = None, workers: int = 2,
             progress: Callable[[Iterable, int], Iterable] | None = None,
             arch_overrides: dict[str, Any] | None = None) -> Evaluation:
    """Run the whole suite on ``arch``; ``progress(iterable, total)`` wraps the result stream
    (e.g. a tqdm bar). Runs go to a pool of ``workers`` processes (1: in this process).
    ``arch_overrides`` (dotted keys, see :func:`octopus.arch.load_arch`) apply to every run; the
    scaling study's cluster counts are set on top of them."""
    size = size or Size.full()
    overrides = dict(arch_overrides or {})
    ev = Evaluation(arch, size)
    wfs = builtin_names()

    def base(wf: str, sched: str, seed: int, **kw: Any) -> RunSpec:
        return RunSpec(workflow=wf, arch=arch, scheduler=sched, instances=size.instances,
                       seed=seed, arch_overrides=overrides, **kw)

    # Stage 1: tune reactive, and run everything else that does not depend on the tuning.
    jobs: dict[tuple, tuple[RunSpec, dict | None]] = {}
    for wf in wfs:
        for i, params in enumerate(size.reactive_grid):
            jobs[("tune", wf, i)] = (base(wf, "reactive", size.seeds[0],
                                          scheduler_params=params), None)
        for seed in size.seeds:
            for sched in ("static", "greedy", "octopus"):
                jobs[("main", wf, sched, seed)] = (base(wf, sched, seed), None)
            for mech in MECHANISMS:
                flipped = {mech: not OctopusConfig.model_fields[mech].default}
                jobs[("ablation", wf, mech, seed)] = (
                    base(wf, "octopus", seed, scheduler_params=flipped), None)
    sweep = load_builtin(size.sweep_workflow)
    for cv in CV_LEVELS:
        doc = with_dynamicity(sweep, cv).model_dump(mode="json", by_alias=True)
        for sched in ("static", "greedy", "octopus"):
            jobs[("dyn", cv, sched)] = (base(size.sweep_workflow, sched, size.seeds[0]), doc)
    for side in CLUSTER_MESHES:
        for sched in ("greedy", "octopus"):
            spec = RunSpec(workflow=size.sweep_workflow, arch=arch, scheduler=sched,
                           instances=size.per_cluster * side * side, seed=size.seeds[0],
                           arch_overrides=overrides | {"chip.clusters_x": side,
                                                       "chip.clusters_y": side})
            jobs[("scale", side, sched)] = (spec, None)
    results = _run_all(jobs, workers, progress)

    # Stage 2: the tuned reactive runs.
    for wf in wfs:
        best = min(range(len(size.reactive_grid)),
                   key=lambda i, wf=wf: results[("tune", wf, i)]["makespan_cycles"])
        ev.reactive_params[wf] = dict(size.reactive_grid[best])
    tuned = {("main", wf, "reactive", seed): (base(wf, "reactive", seed,
                                                   scheduler_params=ev.reactive_params[wf]), None)
             for wf in wfs for seed in size.seeds}
    results |= _run_all(tuned, workers, progress)

    for (kind, *key), summary in sorted(results.items(), key=lambda kv: str(kv[0])):
        if kind == "main":
            wf, sched, _ = key
            ev.main.setdefault(wf, {}).setdefault(sched, []).append(summary)
        elif kind == "ablation":
            wf, mech, _ = key
            variant = ("with_" if not OctopusConfig.model_fields[mech].default else "no_") + mech
            ev.ablation.setdefault(wf, {}).setdefault(variant, []).append(summary)
    for cv in CV_LEVELS:
        row = {"cv": cv} | {s: results[("dyn", cv, s)]["makespan_cycles"]
                            for s in ("static", "greedy", "octopus")}
        ev.dynamicity.append(row)
    ref = None
    for side in CLUSTER_MESHES:
        r = results[("scale", side, "octopus")]
        per_tbu = r["throughput_instances_per_s"] / r["tbus"]
        ref = ref or per_tbu
        ev.scaling.append({
            "clusters": side * side, "tbus": r["tbus"], "instances": r["instances"],
            "makespan_cycles": r["makespan_cycles"],
            "greedy_makespan_cycles": results[("scale", side, "greedy")]["makespan_cycles"],
            "throughput_per_tbu": per_tbu, "efficiency": per_tbu / ref,
            "bound_efficiency": r["lower_bound_cycles"] / r["makespan_cycles"],
        })
    ev.heatmap, ev.tbu_positions = _heatmaps(arch, size, overrides)
    return ev


def with_dynamicity(wf: Workflow, cv: float) -> Workflow:
    """``wf`` with every work and count distribution replaced by one of the same mean and
    coefficient of variation ``cv`` (log-normal; a constant at 0)."""
    def same_mean(dist, count: bool):
        mean = dist.count_mean if count else dist.mean
        if cv == 0 or mean == 0:
            return Constant(value=round(mean) if count else mean)
        return LogNormal(mean=mean, cv=cv)

    blocks = []
    for b in wf.blocks:
        if b.type == "task":
            b = b.model_copy(update={"work": same_mean(b.work, False)})
        elif b.type in ("loop", "fanout"):
            b = b.model_copy(update={"count": same_mean(b.count, True)})
        blocks.append(b)
    return wf.model_copy(update={"name": f"{wf.name}-cv{cv:g}", "blocks": blocks})


def _run_job(args: tuple[RunSpec, dict | None]) -> dict:
    spec, doc = args
    workflow = Workflow.model_validate(doc) if doc is not None else None
    return run_once(spec, workflow=workflow)


def _run_all(jobs: dict[tuple, tuple[RunSpec, dict | None]], workers: int,
             progress) -> dict[tuple, dict]:
    keys = list(jobs)
    items = [jobs[k] for k in keys]
    if workers <= 1:
        stream: Iterable = map(_run_job, items)
        stream = progress(stream, len(items)) if progress else stream
        return dict(zip(keys, stream, strict=True))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        stream = pool.map(_run_job, items, chunksize=1)
        stream = progress(stream, len(items)) if progress else stream
        return dict(zip(keys, stream, strict=True))


def _heatmaps(arch: str, size: Size, overrides: dict[str, Any]
              ) -> tuple[dict[str, list[dict]], list[tuple[int, int]]]:
    """Per-TBU time buckets of the dynamicity workflow under static and octopus, and every
    TBU's position on the mesh."""
    from octopus.arch import Topology, load_arch
    from octopus.sched import scheduler_factory
    from octopus.sim.simulator import Simulator

    hw, wf = load_arch(arch, overrides or None), load_builtin(size.sweep_workflow)
    buckets = {s: Simulator(wf, hw, scheduler_factory(s), size.instances, size.seeds[0])
               .run().tbu_buckets() for s in ("static", "octopus")}
    topo = Topology(hw)
    return buckets, [topo.position(u) for u in range(topo.num_tbus)]


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))
