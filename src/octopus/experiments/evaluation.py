"""What the serving evaluation measured, and how big it was: :class:`Size` and
:class:`Evaluation` (the results of :func:`octopus.experiments.evaluate.evaluate`, with the
statistics the report and ``headline.json`` read: goodput intervals over seeds, speedups and
their verdicts, curves, the ablation's ratios).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from octopus.experiments.goodput import GoodputSearch
from octopus.experiments.serving import Floor, Point
from octopus.experiments.stats import Interval, compare, interval
from octopus.workflow import MIX_NAME, builtin_names

__all__ = ["POISSON", "PRESETS", "REACTIVE_GRID", "TARGET", "TUNING", "WIDTH_GRID",
           "Evaluation", "Size", "geomean"]

TARGET = "octopus"
REACTIVE_GRID = tuple({"threshold_tasks_per_tbu": t, "window_cycles": w}
                      for t in (0.5, 2.0, 8.0) for w in (0, 1_000_000, 10_000_000))
WIDTH_GRID = tuple({"width": w} for w in (1, 4, 16, 64, 256))  # capped at a machine's TBUs
WIDENING = ("greedy", "affinity", "locality", "static")
"""The baselines that run a block on a fixed group width, tuned like any parameter."""
TUNING = {"reactive": REACTIVE_GRID, **dict.fromkeys(WIDENING, WIDTH_GRID)}
"""The baselines tuned per workflow and preset before anything is compared, and their grids."""
POISSON = 1.0
PRESETS = ("chip", "chip-4", "wafer")


@dataclass(frozen=True)
class Size:
    """How big the evaluation is; every field is stated in the report.

    Attributes:
        name: ``quick``, ``full`` or anything else for a size of one's own.
        presets: the machines.
        horizon_windows: how long an open-loop run should be, in SLO windows: its instances
            are this many times the instances that arrive, at capacity, within one SLO of the
            mean instance (capacity x ``slo_scale`` x the mean critical path), so that queues
            near capacity have time to build (shorter runs overstate goodput).
        min_instances: the fewest instances of an open-loop run.
        max_instances: the most instances of an open-loop run, by preset (the time budget).
        seeds: the replications (paired: every scheduler sees the same instances).
        loads: the grid of offered loads, fractions of capacity (curves; the search starts
            from it).
        arrival_cvs: inter-arrival CVs (1: Poisson; above 1: bursty).
        warmup_fraction: share of each run's first instances left out of its metrics.
        closed_instances: instances of the closed-batch throughput check, by preset.
        tuning: the baselines tuned per workflow and preset, and the settings each is tuned
            over (a baseline not registered is skipped).
        ablation_preset: the machine of the ablation (the first preset when it is not one of
            ``presets``): by default ``chip-4``, the smallest with several clusters, since
            ``proactive``'s homes and ``diffusion`` act only between clusters (on ``chip``
            their ablation could only read 1.00).
        workflows: the workflows (built-ins and the mix).
        slo_scale: an instance's SLO in multiples of its latency floor.
        target: the SLO attainment goodput requires.
        rel_tol: the goodput search stops when its bracket is this narrow (relative).
        min_load: the lowest load the search tries before it reports no goodput.
        slo_scales: the SLO scales of the attainment curve.
        reference_load: the load at which baselines are tuned, the attainment is drawn
            against the SLO scale and the runs' counters are tabulated (one of ``loads``).
    """

    name: str
    presets: tuple[str, ...]
    horizon_windows: float
    min_instances: int
    max_instances: Mapping[str, int]
    seeds: tuple[int, ...]
    loads: tuple[float, ...]
    arrival_cvs: tuple[float, ...]
    warmup_fraction: float
    closed_instances: Mapping[str, int]
    tuning: Mapping[str, tuple[dict, ...]] = field(default_factory=lambda: dict(TUNING))
    ablation_preset: str = "chip-4"
    workflows: tuple[str, ...] = (*builtin_names(), MIX_NAME)
    slo_scale: float = 5.0
    target: float = 0.99
    rel_tol: float = 0.05
    min_load: float = 1 / 32
    slo_scales: tuple[float, ...] = (1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 20.0)
    reference_load: float = 0.7

    @classmethod
    def quick(cls) -> Size:
        return cls(name="quick", presets=("chip",), horizon_windows=2.0, min_instances=24,
                   max_instances={"chip": 32}, seeds=(0, 1, 2), loads=(0.25, 0.6, 1.1),
                   arrival_cvs=(POISSON, 3.0), warmup_fraction=0.1,
                   closed_instances={"chip": 32},
                   tuning={"reactive": tuple(REACTIVE_GRID[i] for i in (1, 4, 7)),
                           **dict.fromkeys(WIDENING, WIDTH_GRID[:3])}, rel_tol=0.15,
                   reference_load=0.6)

    @classmethod
    def full(cls) -> Size:
        return cls(name="full", presets=PRESETS, horizon_windows=4.0, min_instances=32,
                   max_instances={"chip": 100, "chip-4": 64, "wafer": 32},
                   seeds=(0, 1, 2, 3, 4), loads=(0.25, 0.6, 1.1),
                   arrival_cvs=(POISSON, 3.0), warmup_fraction=0.1, rel_tol=0.1,
                   closed_instances={"chip": 128, "chip-4": 256, "wafer": 1024},
                   reference_load=0.6)

    def __post_init__(self) -> None:
        if self.reference_load not in self.loads:
            raise ValueError(f"reference_load {self.reference_load} is not one of the loads "
                             f"{list(self.loads)}")
        if min(self.loads) < self.min_load:
            raise ValueError(f"grid loads {list(self.loads)} go below min_load {self.min_load}")
        if POISSON not in self.arrival_cvs:
            raise ValueError("the arrival CVs must include 1 (Poisson), the headline's process")

    @property
    def ablation_on(self) -> str:
        """The preset the ablation runs on."""
        return self.ablation_preset if self.ablation_preset in self.presets else self.presets[0]

    def instances(self, capacity_per_s: float, critical_path_s: float) -> int:
        """Instances an open-loop run of a workflow of this capacity and mean critical path
        needs (see ``horizon_windows``), at least ``min_instances``; not cut to
        ``max_instances``."""
        window = capacity_per_s * self.slo_scale * critical_path_s
        return max(self.min_instances, math.ceil(self.horizon_windows * window))

    def warmup(self, instances: int) -> int:
        """Instances left out of the metrics of a run of ``instances``."""
        return round(self.warmup_fraction * instances)

    def with_instances(self, n: int) -> Size:
        """This size with ``n`` instances per open-loop run on every preset."""
        return replace(self, name=f"{self.name}, {n} instances", min_instances=n,
                       max_instances={p: n for p in self.presets})

    def describe(self) -> dict[str, Any]:
        """The size as plain data (for the report and the headline)."""
        return {"name": self.name, "presets": list(self.presets), "workflows": list(self.workflows),
                "horizon_windows": self.horizon_windows, "min_instances": self.min_instances,
                "max_instances": dict(self.max_instances),
                "warmup_fraction": self.warmup_fraction,
                "seeds": list(self.seeds), "loads": list(self.loads),
                "arrival_cvs": list(self.arrival_cvs), "slo_scale": self.slo_scale,
                "attainment_target": self.target, "search_rel_tol": self.rel_tol,
                "search_min_load": self.min_load,
                "slo_scales": list(self.slo_scales), "reference_load": self.reference_load,
                "tuning": {s: list(grid) for s, grid in self.tuning.items()},
                "ablation_preset": self.ablation_on,
                "closed_instances": dict(self.closed_instances)}


Cell = tuple[str, str, str, float]  # workflow, preset, scheduler, arrival CV


@dataclass
class Evaluation:
    """Results of :func:`evaluate` (goodputs in instances per second)."""

    size: Size
    baselines: tuple[str, ...]
    references: tuple[str, ...]
    mechanisms: dict[str, bool]
    arch_overrides: dict[str, Any] = field(default_factory=dict)
    capacity: dict[tuple[str, str], float] = field(default_factory=dict)  # (wf, preset)
    capacity_bounds: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)
    instances: dict[tuple[str, str], int] = field(default_factory=dict)  # per open-loop run
    wanted_instances: dict[tuple[str, str], int] = field(default_factory=dict)  # uncapped
    clock_hz: dict[str, float] = field(default_factory=dict)  # preset -> clock
    floors: dict[tuple[str, str, int], dict[str, Floor]] = field(default_factory=dict)
    tuned: dict[tuple[str, str, str], dict] = field(default_factory=dict)  # (sched, wf, preset)
    searches: dict[Cell, list[GoodputSearch[Point]]] = field(default_factory=dict)
    ablation: dict[tuple[str, str], list[GoodputSearch[Point]]] = field(default_factory=dict)
    closed: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    wall_s: float = 0.0
    cpu_s: float = 0.0  # CPU time of the runs, summed over the workers
    cpu_s_by_part: dict[tuple[str, str], float] = field(default_factory=dict)  # (part, preset)
    workers: int | None = None  # of the backend, when it says
    load_average: float | None = None  # of the machine over the last 15 minutes, at the end

    @property
    def schedulers(self) -> tuple[str, ...]:
        """Every scheduler evaluated: the baselines, the target, the references."""
        return (*self.baselines, TARGET, *self.references)

    def slo_floor(self, wf: str, preset: str, seed: int) -> np.ndarray:
        """Each instance's latency floor: its lowest latency alone over the schedulers."""
        floors = self.floors[(wf, preset, seed)]
        return np.min([f.latencies for f in floors.values()], axis=0)

    def floor_cycles(self, wf: str, preset: str, sched: str | None = None) -> float:
        """Mean latency floor over instances and seeds (``sched``: its own floor alone)."""
        per_seed = [np.mean(self.floors[(wf, preset, s)][sched].latencies) if sched
                    else float(np.mean(self.slo_floor(wf, preset, s))) for s in self.size.seeds]
        return float(np.mean(per_seed))

    def horizon(self, wf: str, preset: str) -> float:
        """How long an open-loop run of ``wf`` on ``preset`` is, in SLO windows: its instances
        over those arriving at capacity within one SLO of the mean floor."""
        floor_s = self.floor_cycles(wf, preset) / self.clock_hz[preset]
        return self.instances[(wf, preset)] / (self.capacity[(wf, preset)] * self.size.slo_scale
                                               * floor_s)

    def resolved(self, wf: str, preset: str) -> bool:
        """Whether runs of ``wf`` on ``preset`` have the size's ``horizon_windows`` (their
        instance count was not cut to ``max_instances``)."""
        return self.instances[(wf, preset)] >= self.wanted_instances[(wf, preset)]

    def critical_path_cycles(self, wf: str, preset: str) -> float:
        """Mean analytic critical path of the instances (the floor's bound on today's model)."""
        return float(np.mean([np.mean(next(iter(self.floors[(wf, preset, s)].values()))
                                      .critical_paths) for s in self.size.seeds]))

    def goodputs(self, wf: str, preset: str, sched: str, cv: float = POISSON) -> list[float]:
        """Goodput of each seed, instances/s (0 where even the lowest load searched failed)."""
        cap = self.capacity[(wf, preset)]
        return [s.goodput_load * cap for s in self.searches[(wf, preset, sched, cv)]]

    def goodput(self, wf: str, preset: str, sched: str, cv: float = POISSON) -> Interval:
        """Mean goodput over seeds and its 95% t-interval, instances/s, the interval clipped
        to what a goodput can be, [0, capacity]."""
        ci = interval(self.goodputs(wf, preset, sched, cv))
        cap = self.capacity[(wf, preset)]
        return Interval(ci.mean, max(0.0, ci.low), min(cap, ci.high), ci.n)

    def curve(self, wf: str, preset: str, sched: str, cv: float, attr: str) -> list[Interval]:
        """``attr`` of a search's probes (``attainment`` or a :class:`~octopus.experiments.
        serving.Point` field) at each grid load: mean and interval over seeds."""
        loads = self.size.loads
        per_seed = [[p.attainment if attr == "attainment" else getattr(p.detail, attr)
                     for p in s.curve(loads)] for s in self.searches[(wf, preset, sched, cv)]]
        return [interval(col) for col in zip(*per_seed, strict=True)]

    def reference_point(self, wf: str, preset: str, sched: str, cv: float = POISSON
                        ) -> list[Point]:
        """Each seed's probe at the reference load."""
        load = self.size.reference_load
        return [s.curve([load])[0].detail for s in self.searches[(wf, preset, sched, cv)]]

    def scale_curve(self, wf: str, preset: str, sched: str) -> list[Interval]:
        """SLO attainment at each SLO scale of the size, at the reference load, Poisson."""
        points = self.reference_point(wf, preset, sched)
        return [interval(col) for col in zip(*(p.attainment_by_scale for p in points),
                                             strict=True)]

    def speedup(self, wf: str, preset: str, baseline: str, cv: float = POISSON) -> float:
        """Octopus's mean goodput over ``baseline``'s (inf when the baseline's is 0)."""
        ours = self.goodput(wf, preset, TARGET, cv).mean
        theirs = self.goodput(wf, preset, baseline, cv).mean
        return ours / theirs if theirs > 0 else (math.inf if ours > 0 else 1.0)

    def verdict(self, wf: str, preset: str, baseline: str, cv: float = POISSON) -> str:
        """``better``, ``worse`` or ``tie``: Octopus against ``baseline`` by their intervals."""
        return compare(self.goodput(wf, preset, TARGET, cv), self.goodput(wf, preset, baseline,
                                                                          cv))

    def ablation_ratios(self, mechanism: str, wf: str) -> list[float]:
        """Per seed, goodput without ``mechanism`` over goodput with it (paired by seed; the
        flipped variant against default Octopus on the ablation preset, Poisson)."""
        preset = self.size.ablation_on
        default = [s.goodput_load for s in self.searches[(wf, preset, TARGET, POISSON)]]
        flipped = [s.goodput_load for s in self.ablation[(mechanism, wf)]]
        without, with_ = ((flipped, default) if self.mechanisms[mechanism]
                          else (default, flipped))
        return [a / b if b > 0 else (math.inf if a > 0 else 1.0)
                for a, b in zip(without, with_, strict=True)]

    def ablation_interval(self, mechanism: str, wf: str) -> Interval:
        """Interval of the per-seed ratios of :meth:`ablation_ratios` (seeds where the
        mechanism's presence had no goodput left out), clipped at 0."""
        ratios = [r for r in self.ablation_ratios(mechanism, wf) if math.isfinite(r)]
        if not ratios:
            return Interval(math.nan, math.nan, math.nan, 0)
        ci = interval(ratios)
        return Interval(ci.mean, max(0.0, ci.low), ci.high, ci.n)  # a ratio is not negative

    def ablation_ratio(self, mechanism: str, wf: str) -> float:
        """Mean goodput without ``mechanism`` over mean goodput with it."""
        preset = self.size.ablation_on
        default = np.mean([s.goodput_load for s in self.searches[(wf, preset, TARGET,
                                                                   POISSON)]])
        flipped = np.mean([s.goodput_load for s in self.ablation[(mechanism, wf)]])
        without, with_ = (flipped, default) if self.mechanisms[mechanism] else (default, flipped)
        return float(without / with_) if with_ > 0 else (math.inf if without > 0 else 1.0)

    def headline(self, cv: float = POISSON) -> dict[str, Any]:
        """``headline.json``: the issue's schema for Poisson arrivals, the same for each other
        arrival CV under ``by_arrival_cv``, and the bounds and sizes behind them."""
        size = self.size
        wfs, presets = size.workflows, size.presets
        out: dict[str, Any] = {
            "size": size.describe(),
            "schedulers": {"target": TARGET, "baselines": list(self.baselines),
                           "references": list(self.references)},
            "capacity": {w: {p: self.capacity[(w, p)] for p in presets} for w in wfs},
            "capacity_bounds": {w: {p: self.capacity_bounds.get((w, p), {}) for p in presets}
                                for w in wfs},
            "latency_floor_cycles": {w: {p: self.floor_cycles(w, p) for p in presets}
                                     for w in wfs},
            "critical_path_cycles": {w: {p: self.critical_path_cycles(w, p) for p in presets}
                                     for w in wfs},
            **self._goodput_block(cv),
            "ablation": {m: {w: self.ablation_ratio(m, w) for w in wfs} for m in self.mechanisms},
            "tuned": {s: {w: {p: self.tuned.get((s, w, p), {}) for p in presets} for w in wfs}
                      for s in size.tuning if s in self.baselines},
            "by_arrival_cv": {f"{c:g}": self._goodput_block(c) for c in size.arrival_cvs
                              if c != cv},
            "wall_s": self.wall_s,
            "cpu_s": self.cpu_s,
            "cpu_s_by_part": {part: {p: s for (q, p), s in self.cpu_s_by_part.items()
                                     if q == part}
                              for part in dict.fromkeys(q for q, _ in self.cpu_s_by_part)},
            "workers": self.workers,
            "load_average": self.load_average,
        }
        return _finite(out)

    def _goodput_block(self, cv: float) -> dict[str, Any]:
        wfs, presets = self.size.workflows, self.size.presets
        speed: dict[str, dict[str, Any]] = {k: {} for k in (
            "geomean", "max", "better", "tie", "worse", "baseline_no_goodput",
            "octopus_no_goodput", "neither_goodput")}
        for b in self.baselines:
            pairs = [(self.goodput(w, p, TARGET, cv).mean, self.goodput(w, p, b, cv).mean)
                     for w in wfs for p in presets]
            ratios = [ours / theirs for ours, theirs in pairs if ours > 0 and theirs > 0]
            speed["geomean"][b] = geomean(ratios) if ratios else None
            speed["max"][b] = max(ratios) if ratios else None
            speed["baseline_no_goodput"][b] = sum(o > 0 and t == 0 for o, t in pairs)
            speed["octopus_no_goodput"][b] = sum(o == 0 and t > 0 for o, t in pairs)
            speed["neither_goodput"][b] = sum(o == 0 and t == 0 for o, t in pairs)
            verdicts = [self.verdict(w, p, b, cv) for w in wfs for p in presets]
            for v in ("better", "tie", "worse"):
                speed[v][b] = verdicts.count(v)
        return {
            "arrival_cv": cv,
            "goodput": {w: {p: {s: self.goodput(w, p, s, cv).mean for s in self.schedulers}
                            for p in presets} for w in wfs},
            "goodput_interval": {w: {p: {s: [self.goodput(w, p, s, cv).low,
                                              self.goodput(w, p, s, cv).high]
                                         for s in self.schedulers} for p in presets}
                                 for w in wfs},
            "goodput_speedup": speed,
            "capacity_ratio": {w: {p: self.goodput(w, p, TARGET, cv).mean / self.capacity[(w, p)]
                                   for p in presets} for w in wfs},
        }

    def __repr__(self) -> str:
        runs = sum(len(s.probes) for v in (*self.searches.values(), *self.ablation.values())
                   for s in v)
        return (f"Evaluation({len(self.size.workflows)} workflows on {list(self.size.presets)},"
                f" {len(self.schedulers)} schedulers, seeds {list(self.size.seeds)}: "
                f"{runs} open-loop runs in {self.wall_s:.0f} s)")


def _finite(data: Any) -> Any:
    """``data`` with infinities as ``None`` (JSON has no infinity)."""
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_finite(v) for v in data]
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return data


def geomean(values: Iterable[float]) -> float:
    """Geometric mean of positive ``values``."""
    values = list(values)
    return math.exp(sum(math.log(v) for v in values) / len(values))
