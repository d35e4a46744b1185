"""The serving evaluation behind ``octopus evaluate`` (the protocol: ``docs/evaluation.md``).

Every workflow (the seven built-ins and their mix) runs on every preset of the size under every
registered scheduler, open loop: Poisson arrivals and bursty ones (Gamma inter-arrivals of
CV > 1), the rate swept from light load past the machine's capacity, under several seeds.

1. **Bounds.** The capacity of each workflow on each preset (the lower of the compute and
   memory bounds of :func:`~octopus.experiments.serving.capacity_bounds`), and each instance's
   latency floor: its latency alone on the machine, measured under every scheduler; the SLO of
   an instance is ``slo_scale`` x its lowest floor (one SLO per instance, the same for every
   scheduler).
2. **Tuning.** The baselines of ``Size.tuning`` (``reactive``'s thresholds, ``greedy``'s
   group width) are tuned per workflow and preset before anything is compared: the grid point
   with the best SLO attainment (then p99 latency) at ``reference_load`` x capacity, Poisson,
   first seed.
3. **Goodput.** For each (workflow, preset, scheduler, arrival CV, seed) a goodput search
   (:mod:`~octopus.experiments.goodput`): the grid of loads draws the latency and attainment
   curves, the bisection finds the highest rate at which ``target`` of the instances meet
   their SLO. The ablation searches Octopus with each mechanism flipped (Poisson, on
   ``ablation_preset``); a closed batch per (workflow, preset, scheduler) checks throughput.

Schedulers come from the registry: ``octopus`` is the target, a scheduler named in
:data:`REFERENCES` or whose class has a true ``reference`` attribute (e.g. a clairvoyant one)
is shown as a reference and every other one is a baseline. Octopus's mechanisms are its
config's boolean switches.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from octopus.experiments.backends import Backend, LocalBackend
from octopus.experiments.evaluation import (
    POISSON,
    REACTIVE_GRID,
    TARGET,
    Evaluation,
    Size,
    geomean,
)
from octopus.experiments.serving import (
    SearchJob,
    capacity_bounds,
    closed_batch,
    goodput_job,
    measure_floor,
    run_point,
)
from octopus.run import RunSpec, resolve
from octopus.sched import scheduler_class, scheduler_config, scheduler_names
from octopus.workflow import expected_critical_path, expected_firings

__all__ = ["POISSON", "PRELOAD", "REACTIVE_GRID", "REFERENCES", "TARGET", "Evaluation", "Size",
           "evaluate", "geomean", "mechanisms", "roles"]

PRELOAD = ("octopus.experiments.evaluate",)
"""What a :class:`LocalBackend` running the evaluation should import before forking."""


REFERENCES = ("clairvoyant",)
"""Schedulers that are references whatever their class says: the clairvoyant list scheduler
knows every outcome and duration at arrival (issue 12: "not a baseline, it shows the
headroom")."""


def roles() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(baselines, references)`` among the registered schedulers (module doc)."""
    others = [n for n in scheduler_names() if n != TARGET]
    refs = tuple(n for n in others
                 if n in REFERENCES or getattr(scheduler_class(n), "reference", False))
    return tuple(n for n in others if n not in refs), refs


def mechanisms() -> dict[str, bool]:
    """Octopus's mechanisms, each its config's boolean switch, with its default."""
    fields = type(scheduler_config(TARGET)).model_fields
    return {name: f.default for name, f in fields.items() if f.annotation is bool}


def evaluate(size: Size | None = None, backend: Backend | None = None,
             progress: Callable[..., Iterable] | None = None,
             arch_overrides: dict[str, Any] | None = None) -> Evaluation:
    """Run the serving evaluation (module doc); ``progress(iterable, total, stage)`` wraps each
    stage's result stream. Runs go to ``backend`` (default: a :class:`LocalBackend` of 2
    workers); ``arch_overrides`` (dotted keys) apply to every run.

    Raises:
        InputError: a bad preset or override (before any run starts).
    """
    start = time.perf_counter()
    size = size or Size.full()
    baselines, references = roles()
    ev = Evaluation(size, baselines, references, mechanisms(), dict(arch_overrides or {}))
    plan = _Plan(ev, backend or LocalBackend(2, PRELOAD), progress)
    _measure_floors(plan)
    _tune(plan)
    _search(plan)
    ev.wall_s = time.perf_counter() - start
    ev.workers = getattr(plan.backend, "workers", None)
    ev.load_average = os.getloadavg()[2] if hasattr(os, "getloadavg") else None
    return ev


class _Plan:
    """What every stage needs: the evaluation being filled, where runs go, the bounds and run
    lengths of every workflow and preset (set here), and the runs' specs and costs."""

    def __init__(self, ev: Evaluation, backend: Backend,
                 progress: Callable[..., Iterable] | None):
        self.ev, self.backend, self.progress = ev, backend, progress
        self.firings: dict[tuple[str, str], float] = {}  # expected firings of an instance
        self.slo_floors: dict[tuple[str, str, int], tuple[float, ...]] = {}
        size = ev.size
        for wf in size.workflows:
            for p in size.presets:
                scenario = resolve(RunSpec(workflow=wf, arch=p, arch_overrides=ev.arch_overrides))
                ev.capacity_bounds[(wf, p)] = bounds = capacity_bounds(scenario.spec)
                ev.capacity[(wf, p)] = min(bounds.values())
                ev.clock_hz[p] = scenario.arch.clock_hz
                path_s = (expected_critical_path(scenario.workflow, scenario.capacity).cycles
                          / scenario.arch.clock_hz)
                wanted = size.instances(ev.capacity[(wf, p)], path_s)
                ev.wanted_instances[(wf, p)] = wanted
                ev.instances[(wf, p)] = min(wanted, size.max_instances[p])
                self.firings[(wf, p)] = sum(expected_firings(scenario.workflow).values())

    def spec(self, wf: str, preset: str, sched: str | dict, seed: int, **kw: Any) -> RunSpec:
        """An open-loop run's spec (no rate yet), with the size's instances and warm-up."""
        n = self.ev.instances[(wf, preset)]
        return RunSpec(**{"workflow": wf, "arch": preset, "scheduler": sched, "seed": seed,
                          "instances": n, "arch_overrides": self.ev.arch_overrides,
                          "warmup_instances": self.ev.size.warmup(n), **kw})

    def cost(self, wf: str, preset: str, runs: float = 1, instances: int | None = None
             ) -> float:
        """Expected firings of ``runs`` runs (the heaviest jobs start first)."""
        return runs * (instances or self.ev.instances[(wf, preset)]) * self.firings[(wf, preset)]

    def scheduler(self, wf: str, preset: str, sched: str) -> str | dict:
        """``sched`` as it runs: with its tuned parameters, if it was tuned."""
        params = self.ev.tuned.get((sched, wf, preset))
        return {"name": sched, **params} if params else sched

    def run(self, jobs: Mapping[tuple, tuple[float, Callable[[], Any]]], stage: str,
            group: Callable[[tuple], tuple], part: Callable[[tuple], tuple[str, str]]
            ) -> dict[tuple, Any]:
        return _run_all(jobs, self.backend, self.progress, stage, group, part, self.ev)


def _measure_floors(plan: _Plan) -> None:
    """Stage 1: every instance's latency floor under every scheduler, and its SLO floor."""
    ev, size = plan.ev, plan.ev.size
    jobs = {(wf, p, seed, s): (plan.cost(wf, p), functools.partial(
                measure_floor, plan.spec(wf, p, s, seed)))
            for wf in size.workflows for p in size.presets for seed in size.seeds
            for s in ev.schedulers}
    for (wf, p, seed, s), floor in plan.run(jobs, "stage 1 of 3: latency floors",
                                            lambda key: key[:2],
                                            lambda key: ("latency floors", key[1])).items():
        ev.floors.setdefault((wf, p, seed), {})[s] = floor
    plan.slo_floors = {k: tuple(float(x) for x in ev.slo_floor(*k)) for k in ev.floors}


def _tune(plan: _Plan) -> None:
    """Stage 2: each tuned baseline's best grid setting per workflow and preset: the highest
    SLO attainment, then the lowest p99, at the reference load, Poisson, first seed."""
    ev, size = plan.ev, plan.ev.size
    grids = {s: grid for s, grid in size.tuning.items() if s in ev.baselines}
    seed = size.seeds[0]
    jobs = {}
    for wf in size.workflows:
        for p in size.presets:
            for s, grid in grids.items():
                for i, params in enumerate(grid):
                    spec = plan.spec(wf, p, {"name": s, **params}, seed,
                                     rate_per_s=size.reference_load * ev.capacity[(wf, p)])
                    jobs[(wf, p, s, i)] = (plan.cost(wf, p), functools.partial(
                        run_point, spec, plan.slo_floors[(wf, p, seed)], size.slo_scale, ()))
    tuned = plan.run(jobs, "stage 2 of 3: tuning baselines", lambda key: key[:2],
                     lambda key: ("tuning", key[1]))
    for wf in size.workflows:
        for p in size.presets:
            for s, grid in grids.items():
                best = max(range(len(grid)), key=lambda i, wf=wf, p=p, s=s: (
                    tuned[(wf, p, s, i)].attainment, -tuned[(wf, p, s, i)].latency_p99_cycles))
                ev.tuned[(s, wf, p)] = dict(grid[best])


def _search(plan: _Plan) -> None:
    """Stage 3: the goodput searches (every scheduler, arrival CV and seed), the ablation's
    and the closed batch. Results are kept in seed order, so seeds pair across schedulers."""
    ev, size = plan.ev, plan.ev.size
    probes = len(size.loads) + 3  # the grid and a typical bisection

    def search(wf: str, p: str, sched: str | dict, cv: float, seed: int
               ) -> tuple[float, Callable]:
        return plan.cost(wf, p, probes), functools.partial(goodput_job, SearchJob(
            plan.spec(wf, p, sched, seed), cv, ev.capacity[(wf, p)],
            plan.slo_floors[(wf, p, seed)], tuple(size.loads), size.slo_scale,
            tuple(size.slo_scales), size.target, size.rel_tol, size.min_load))

    jobs: dict[tuple, tuple[float, Callable]] = {}
    for wf in size.workflows:
        for p in size.presets:
            for s in ev.schedulers:
                for cv in size.arrival_cvs:
                    for seed in size.seeds:
                        jobs[("main", wf, p, s, cv, seed)] = search(
                            wf, p, plan.scheduler(wf, p, s), cv, seed)
                closed = plan.spec(wf, p, plan.scheduler(wf, p, s), size.seeds[0],
                                   instances=size.closed_instances[p], warmup_instances=0)
                jobs[("closed", wf, p, s)] = (
                    plan.cost(wf, p, instances=size.closed_instances[p]),
                    functools.partial(closed_batch, closed))
        for mech, default in ev.mechanisms.items():
            for seed in size.seeds:
                jobs[("ablation", mech, wf, seed)] = search(
                    wf, size.ablation_on, {"name": TARGET, mech: not default}, POISSON, seed)
    parts = {"main": "goodput searches", "closed": "closed batch", "ablation": "ablation"}
    results = plan.run(jobs, "stage 3 of 3: goodput searches, ablation, closed batch",
                       lambda key: key[:4] if key[0] == "main" else key[:3],
                       lambda key: (parts[key[0]], size.ablation_on if key[0] == "ablation"
                                    else key[2]))
    for key in jobs:  # in the order made: seeds ascending within each cell
        kind, *rest = key
        if kind == "main":
            wf, p, s, cv, _ = rest
            ev.searches.setdefault((wf, p, s, cv), []).append(results[key])
        elif kind == "ablation":
            mech, wf, _ = rest
            ev.ablation.setdefault((mech, wf), []).append(results[key])
        else:
            ev.closed[tuple(rest)] = results[key]


def _call(group: list[tuple[tuple, Callable[[], Any]]]
          ) -> tuple[list[tuple[tuple, Any]], float]:
    """Run a group of jobs; their results by key, and the CPU seconds they took."""
    start = time.process_time()
    done = [(key, fn()) for key, fn in group]
    return done, time.process_time() - start


def _run_all(jobs: Mapping[tuple, tuple[float, Callable[[], Any]]], backend: Backend,
             progress: Callable[..., Iterable] | None, stage: str,
             group: Callable[[tuple], tuple], part: Callable[[tuple], tuple[str, str]],
             ev: Evaluation) -> dict[tuple, Any]:
    """Run ``jobs`` (key -> (expected cost, job)) on ``backend`` and collect their results by
    key, adding their CPU time to ``ev.cpu_s`` and to ``ev.cpu_s_by_part`` under
    ``part(key)`` (what the job is for, its preset). Jobs whose keys ``group`` maps alike run
    one after the other in one worker (a worker process per job would cost more than the
    job), the costliest groups first; ``part`` must map them alike too."""
    groups: dict[tuple, list[tuple[tuple, Callable[[], Any]]]] = {}
    costs: dict[tuple, float] = {}
    for key, (cost, fn) in jobs.items():
        groups.setdefault(group(key), []).append((key, fn))
        costs[group(key)] = costs.get(group(key), 0.0) + cost
    order = [groups[g] for g in sorted(groups, key=lambda g: -costs[g])]
    stream: Iterable[tuple[list[tuple[tuple, Any]], float]] = backend.map(_call, order)
    if progress is not None:
        stream = progress(stream, len(order), stage)
    results = {}
    for done, cpu_s in stream:
        results.update(done)
        ev.cpu_s += cpu_s
        where = part(done[0][0])
        ev.cpu_s_by_part[where] = ev.cpu_s_by_part.get(where, 0.0) + cpu_s
    return results
