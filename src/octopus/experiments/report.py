"""Write an :class:`~octopus.experiments.evaluate.Evaluation` as a report directory.

``report.md`` states the protocol and the sizes, checks the issue's targets against what was
measured, and ties together the figures (:mod:`octopus.experiments.figures`) and the CSV files:
``bounds.csv`` (capacity, latency floors, critical paths, run lengths), ``goodput.csv`` (per
workflow, preset, scheduler and arrival CV: each seed's goodput, the mean and its interval),
``curves.csv`` (the grid loads: attainment and latency, mean and interval over seeds),
``points.csv`` (every run of every search, with every number it reported), ``ablation.csv``,
``closed.csv`` (the closed-batch throughput check) and ``headline.json``. The directory is
staged and moved into place only when complete (kind ``evaluation``: see
:mod:`octopus.run.outdir` for what it may replace).
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np

from octopus.experiments.evaluation import POISSON, TARGET, Evaluation
from octopus.experiments.figures import draw_figures
from octopus.experiments.tables import (
    ablation_rows,
    bounds_rows,
    closed_rows,
    curve_rows,
    goodput_rows,
    point_rows,
)
from octopus.experiments.targets import check_targets
from octopus.run import StagedDirectory
from octopus.workflow import MIX_NAME

__all__ = ["write_report"]

# Counters the report tabulates per instance when the runs report them; any other number a run
# reports that is not in TODAYS_FIELDS (a newer machine model's) is tabulated too.
COUNTERS = ("reconfigurations", "migrations", "noc_bytes", "noc_wait_cycles", "offchip_bytes",
            "offchip_weight_bytes", "offchip_wait_cycles", "weight_loads")
TODAYS_FIELDS = frozenset((
    "instances", "seed", "tbus", "makespan_cycles", "makespan_s", "lower_bound_cycles",
    "bound_ratio", "throughput_instances_per_s", "latency_p50_cycles", "latency_p99_cycles",
    "latency_mean_cycles", "slo_cycles", "slo_attainment", "utilization", "task_firings",
    "control_firings", "reconfigurations", "migrations", "noc_bytes", "noc_byte_hops",
    "noc_d2d_byte_hops", "noc_wait_cycles"))


def write_report(ev: Evaluation, out_dir: str | Path, command: str) -> Path:
    """Write the report for ``ev`` to ``out_dir`` (replacing an older evaluation report there);
    ``command`` is the command line that produced it, quoted in ``report.md``.

    Raises:
        InputError: ``out_dir`` holds something other than an evaluation report.
    """
    with StagedDirectory(out_dir, "evaluation") as staged:
        stage = staged.path
        _csv(stage / "bounds.csv", bounds_rows(ev))
        _csv(stage / "goodput.csv", goodput_rows(ev))
        _csv(stage / "curves.csv", curve_rows(ev))
        _csv(stage / "points.csv", point_rows(ev))
        _csv(stage / "ablation.csv", ablation_rows(ev))
        _csv(stage / "closed.csv", closed_rows(ev))
        headline = ev.headline()
        (stage / "headline.json").write_text(json.dumps(headline, indent=2) + "\n")
        draw_figures(ev, stage)
        (stage / "report.md").write_text(_markdown(ev, headline, command))
        return staged.publish()


def _csv(path: Path, rows: list[dict]) -> None:
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


# --- report.md -----------------------------------------------------------------------------
def _markdown(ev: Evaluation, headline: dict, command: str) -> str:
    size = ev.size
    lines = [
        "# Octopus as a serving system",
        "",
        f"Produced by `{command}` in {_timing(ev)}. Every run goes through "
        "`octopus.run` (a `RunSpec`), so these numbers are those of the machine model the runs "
        "resolved.",
        "",
        *_protocol(ev),
        "",
        "## Targets",
        "",
        *check_targets(ev, headline),
        "",
        "## Bounds: capacity and latency floor",
        "",
        "Capacity: the highest sustainable rate, the lower of two bounds: *compute*, all TBUs "
        "busy with an instance's expected work at the best any dispatch can do, and *memory*, "
        "the off-chip memory busy with the bytes every instance must read (its inputs and the "
        "weights no group can hold). Floor: an instance's latency alone on the machine "
        "(measured; the SLO uses the lowest over the schedulers, per instance), beside the "
        "analytic critical path (its firings each at the fastest any dispatch could run them, "
        "no transfers). Horizon: a run's instances over those "
        "arriving at capacity within one SLO of the mean floor; *cut* marks runs shortened "
        f"below {size.horizon_windows:g} windows by the time budget.",
        "",
        "| workflow | preset | capacity (inst/s) | bound by | instances (wanted) | "
        "horizon (windows) | "
        "floor (ms) | critical path (ms) | floor / path | "
        + " | ".join(f"{s} floor / lowest" for s in ev.schedulers) + " |",
        "|---|---|---|---|---|---|---|---|---|" + "---|" * len(ev.schedulers),
        *[f"| {r['workflow']} | {r['preset']} | {r['capacity_per_s']:.4g} | "
          f"{_bound_by(ev, r['workflow'], r['preset'])} | {r['instances']} "
          f"({r['wanted_instances']}) | {r['horizon_windows']:.2g}"
          f"{'' if ev.resolved(r['workflow'], r['preset']) else ' cut'} | {r['floor_ms']:.4g} | "
          f"{r['critical_path_ms']:.4g} | {r['floor_over_critical_path']:.3f} | "
          + " | ".join(f"{r[f'floor_{s}_ms'] / r['floor_ms']:.3f}" for s in ev.schedulers)
          + " |" for r in bounds_rows(ev)],
        "",
    ]
    for cv in size.arrival_cvs:
        lines += _goodput_section(ev, headline, cv)
    lines += [
        "## Latency against load",
        "",
        "Latency over the instance's floor (p99 solid, p50 dotted) against the offered load, per "
        "workflow; the dashed line is the SLO. Below, p50 / p99 latency in ms at load "
        f"{size.reference_load:g} (Poisson).",
        "",
        *[f"![latency on {p}](latency_{p}.png)" for p in size.presets],
        "",
        *_latency_table(ev),
        "",
        "## SLO attainment",
        "",
        "Attainment against the load (dashed: the target), and against the SLO scale at load "
        f"{size.reference_load:g} (Poisson).",
        "",
        *[f"![attainment on {p}](attainment_{p}.png)" for p in size.presets],
        "",
        "![attainment against the SLO scale](slo_scale.png)",
        "",
        *_ablation_section(ev),
        "",
        *_counters_section(ev),
        "",
        *_closed_section(ev),
        "",
    ]
    return "\n".join(lines)


def _protocol(ev: Evaluation) -> list[str]:
    size = ev.size
    cvs = ", ".join(_process(cv) for cv in size.arrival_cvs)
    refs = (f"; references (not baselines): {', '.join(ev.references)}" if ev.references
            else "")
    grids = {s: grid for s, grid in size.tuning.items() if s in ev.baselines}
    tuned = [f"- **Tuned `{s}`**: " + "; ".join(
        f"{wf} on {p}: {_params(ev.tuned.get((s, wf, p), {}))}"
        for wf in size.workflows for p in size.presets) + "." for s in grids]
    return [
        "## Protocol",
        "",
        f"- **Machines** {', '.join(f'`{p}`' for p in size.presets)}; **workflows**: "
        f"{', '.join(size.workflows)}"
        + (" (`mix`: every built-in on one machine, each instance one of them with equal "
           "probability)" if MIX_NAME in size.workflows else "") + ".",
        f"- **Schedulers**: target `{TARGET}`; baselines {', '.join(ev.baselines)}{refs}. "
        + " ".join(f"`{s}` is tuned per workflow and preset before anything is compared: the "
                   f"best SLO attainment (then p99) at load {size.reference_load:g}, Poisson, "
                   f"seed {size.seeds[0]}, over its {len(grid)} settings "
                   + "; ".join(f"({_params(g)})" for g in grid) + "."
                   for s, grid in grids.items()),
        f"- **Arrivals**: open loop, {cvs}; the rate as a *load*, a fraction of the capacity. "
        f"Grid loads {', '.join(f'{x:g}' for x in size.loads)} (the curves), then a bisection.",
        f"- **Runs**: the instances of a run are {size.horizon_windows:g} SLO windows (see the "
        f"bounds), at least {size.min_instances} and at most "
        + ", ".join(f"{n} on {p}" for p, n in size.max_instances.items())
        + f"; the first {size.warmup_fraction:.0%} of each run are a warm-up, left out of "
        f"its metrics. Seeds {list(size.seeds)}, paired (every scheduler sees the same "
        "instances and arrival pattern).",
        f"- **SLO**: each instance's own, {size.slo_scale:g} x its latency floor (dynamic "
        "workflows' instances differ by orders of magnitude; a mix needs one SLO per "
        "request). **Goodput**: the highest rate, at most the capacity, at which at least "
        f"{size.target:.0%} of the measured instances meet their SLO: grid loads, then "
        f"bisection to {size.rel_tol:.0%} of the rate; a rate measured to pass, never read off "
        "the grid or interpolated.",
        f"- **Intervals**: 95% Student t over the {len(size.seeds)} seeds. Octopus is called "
        "*better* or *worse* than a baseline only where the intervals do not overlap.",
        f"- **Ablation**: Octopus with each of its switches ({', '.join(ev.mechanisms)}) "
        f"flipped, on `{size.ablation_on}`, Poisson.",
        *tuned,
    ]


def _goodput_section(ev: Evaluation, headline: dict, cv: float) -> list[str]:
    block = headline if cv == POISSON else headline["by_arrival_cv"][f"{cv:g}"]
    speed = block["goodput_speedup"]
    title = _process(cv)
    lines = [
        f"## Goodput, {title}",
        "",
        "Goodput / capacity, mean [95% interval over seeds, clipped to [0, 1]]; *cut*: runs "
        "shorter than the planned horizon (their goodput is overstated, up to the capacity).",
        "",
    ]
    if cv == ev.size.arrival_cvs[0]:
        lines += ["![goodput](goodput.png)", ""]
    lines += [
        "| workflow | preset | " + " | ".join(ev.schedulers) + " |",
        "|---|---|" + "---|" * len(ev.schedulers),
    ]
    for wf in ev.size.workflows:
        for p in ev.size.presets:
            cap = ev.capacity[(wf, p)]
            cells = []
            for s in ev.schedulers:
                ci = ev.goodput(wf, p, s, cv)
                low, high = max(0.0, ci.low / cap), min(1.0, ci.high / cap)
                text = f"{ci.mean / cap:.3f} [{low:.3f}, {high:.3f}]"
                cells.append(f"**{text}**" if s == TARGET else text)
            cut = "" if ev.resolved(wf, p) else " (cut)"
            lines.append(f"| {wf} | {p}{cut} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Octopus over each baseline: the goodput ratio of the means over the workflow x preset "
        "cells where both have goodput; *better* / *tie* / *worse* count the cells by their "
        "intervals; the last three columns count the cells where only Octopus, only the "
        "baseline, or neither met the SLO at some load searched (down to "
        f"{ev.size.min_load:g} x capacity).",
        "",
        "| baseline | geometric mean | maximum | better | tie | worse | only Octopus has goodput "
        "| only the baseline | neither |",
        "|---|---|---|---|---|---|---|---|---|",
        *[f"| {b} | {_x(speed['geomean'][b])} | {_x(speed['max'][b])} | {speed['better'][b]} | "
          f"{speed['tie'][b]} | {speed['worse'][b]} | {speed['baseline_no_goodput'][b]} | "
          f"{speed['octopus_no_goodput'][b]} | {speed['neither_goodput'][b]} |"
          for b in ev.baselines],
        "",
    ]
    return lines


def _latency_table(ev: Evaluation) -> list[str]:
    lines = ["| workflow | preset | " + " | ".join(ev.schedulers) + " |",
             "|---|---|" + "---|" * len(ev.schedulers)]
    for wf in ev.size.workflows:
        for p in ev.size.presets:
            ms = 1e3 / ev.clock_hz[p]
            cells = []
            for s in ev.schedulers:
                pts = ev.reference_point(wf, p, s)
                p50 = np.mean([x.latency_p50_cycles for x in pts]) * ms
                p99 = np.mean([x.latency_p99_cycles for x in pts]) * ms
                cells.append(f"{p50:.3g} / {p99:.3g}")
            lines.append(f"| {wf} | {p} | " + " | ".join(cells) + " |")
    return lines


def _ablation_section(ev: Evaluation) -> list[str]:
    mechs = list(ev.mechanisms)
    lines = [
        "## Ablation",
        "",
        f"Goodput without each mechanism over with it, on `{ev.size.ablation_on}`, Poisson: the "
        "ratio of the mean goodputs [95% interval of the per-seed ratios]. Below 1: the "
        "mechanism helps. (A mechanism that is off by default is measured by switching it on.)",
        "",
        "![ablation](ablation.png)",
        "",
        "| workflow | " + " | ".join(f"{m}{'' if ev.mechanisms[m] else ' (off by default)'}"
                                      for m in mechs) + " |",
        "|---|" + "---|" * len(mechs),
    ]
    for wf in ev.size.workflows:
        cells = []
        for m in mechs:
            ci = ev.ablation_interval(m, wf)
            cells.append(f"{_num(ev.ablation_ratio(m, wf))} [{_num(ci.low)}, {_num(ci.high)}]")
        lines.append(f"| {wf} | " + " | ".join(cells) + " |")
    stats = sorted({k for wf in ev.size.workflows
                    for pt in ev.reference_point(wf, ev.size.ablation_on, TARGET)
                    for k in pt.metrics if k.startswith("scheduler_stats.")})
    if stats:
        lines += [
            "",
            f"What Octopus decided, per instance, at load {ev.size.reference_load:g} on "
            f"`{ev.size.ablation_on}` (Poisson; its own counters, mean over seeds):",
            "",
            "| workflow | " + " | ".join(k.removeprefix("scheduler_stats.") for k in stats)
            + " |",
            "|---|" + "---|" * len(stats),
        ]
        for wf in ev.size.workflows:
            pts = ev.reference_point(wf, ev.size.ablation_on, TARGET)
            lines.append(f"| {wf} | " + " | ".join(
                f"{np.mean([pt.metrics.get(k, 0.0) / pt.metrics['instances'] for pt in pts]):.3g}"
                for k in stats) + " |")
    return lines


def _counters_section(ev: Evaluation) -> list[str]:
    sample = ev.reference_point(ev.size.workflows[0], ev.size.presets[0], TARGET)[0].metrics
    counters = [c for c in COUNTERS if c in sample]
    new = sorted(k for k in sample if "." not in k and k not in TODAYS_FIELDS
                 and k not in COUNTERS)
    lines = [
        "## What the runs report",
        "",
        f"At load {ev.size.reference_load:g} (Poisson), mean over seeds: utilization, per "
        "instance " + ", ".join(counters)
        + (", and as reported " + ", ".join(new) if new else "")
        + " (every number of every run: `points.csv`).",
        "",
        "| workflow | preset | scheduler | utilization | "
        + " | ".join([*(f"{c} / instance" for c in counters), *new]) + " |",
        "|---|---|---|---|" + "---|" * (len(counters) + len(new)),
    ]
    for wf in ev.size.workflows:
        for p in ev.size.presets:
            for s in ev.schedulers:
                pts = ev.reference_point(wf, p, s)
                util = np.mean([pt.metrics["utilization"] for pt in pts])
                values = [np.mean([pt.metrics.get(c, math.nan) / pt.metrics["instances"]
                                   for pt in pts]) for c in counters]
                values += [np.mean([pt.metrics.get(c, math.nan) for pt in pts]) for c in new]
                lines.append(f"| {wf} | {p} | {s} | {util:.1%} | "
                             + " | ".join(f"{v:.4g}" for v in values) + " |")
    return lines


def _closed_section(ev: Evaluation) -> list[str]:
    size = ev.size
    lines = [
        "## Closed batch (throughput check)",
        "",
        "Every instance at cycle 0 ("
        + ", ".join(f"{n} on {p}" for p, n in size.closed_instances.items())
        + f"; seed {size.seeds[0]}): throughput / capacity (makespan / lower bound).",
        "",
        "| workflow | preset | " + " | ".join(ev.schedulers) + " |",
        "|---|---|" + "---|" * len(ev.schedulers),
    ]
    for wf in size.workflows:
        for p in size.presets:
            cells = []
            for s in ev.schedulers:
                r = ev.closed[(wf, p, s)]
                cells.append(f"{r['throughput_instances_per_s'] / ev.capacity[(wf, p)]:.3f} "
                             f"({r['bound_ratio']:.3f})")
            lines.append(f"| {wf} | {p} | " + " | ".join(cells) + " |")
    return lines


def _timing(ev: Evaluation) -> str:
    """Wall time, the runs' CPU time and what it means on idle cores; the machine's load."""
    text = (f"{ev.wall_s / 60:.1f} minutes of wall time; the runs took {ev.cpu_s / 60:.1f} "
            "CPU-minutes, summed over the workers")
    if ev.workers:
        text += (f" (so at least {ev.cpu_s / 60 / ev.workers:.1f} minutes on {ev.workers} idle "
                 "cores)")
    if ev.load_average is not None:
        text += f"; the machine's 15-minute load average was {ev.load_average:.1f} at the end"
    if ev.cpu_s_by_part:
        parts = sorted(ev.cpu_s_by_part.items(), key=lambda kv: -kv[1])
        text += ". CPU-minutes by part and preset, costliest first: " + ", ".join(
            f"{part} on `{preset}` {s / 60:.1f}" for (part, preset), s in parts)
    return text


def _bound_by(ev: Evaluation, wf: str, preset: str) -> str:
    bounds = ev.capacity_bounds.get((wf, preset), {})
    return min(bounds, key=bounds.__getitem__) if bounds else "n/a"


def _process(cv: float) -> str:
    return "Poisson arrivals" if cv == 1 else f"bursty arrivals (Gamma, CV {cv:g})"


def _params(params: dict) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in params.items()) or "defaults"


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}x"


def _num(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.3f}"

