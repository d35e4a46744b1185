"""The evaluation's tables, one row per dict: what ``octopus evaluate`` writes as CSV files
(see :mod:`octopus.experiments.report`)."""

from __future__ import annotations

from typing import Any

from octopus.experiments.evaluation import POISSON, TARGET, Evaluation

__all__ = ["ablation_rows", "bounds_rows", "closed_rows", "curve_rows", "goodput_rows",
           "point_rows"]


# --- tables --------------------------------------------------------------------------------
def bounds_rows(ev: Evaluation) -> list[dict[str, Any]]:
    """Per workflow and preset: capacity, run length, latency floors and critical path."""
    rows = []
    for wf in ev.size.workflows:
        for p in ev.size.presets:
            ms = 1e3 / ev.clock_hz[p]
            floor = ev.floor_cycles(wf, p)
            rows.append({
                "workflow": wf, "preset": p, "capacity_per_s": ev.capacity[(wf, p)],
                **{f"{k}_bound_per_s": v for k, v in ev.capacity_bounds.get((wf, p), {}).items()},
                "instances": ev.instances[(wf, p)],
                "wanted_instances": ev.wanted_instances[(wf, p)],
                "horizon_windows": ev.horizon(wf, p), "floor_ms": floor * ms,
                "critical_path_ms": ev.critical_path_cycles(wf, p) * ms,
                "floor_over_critical_path": floor / ev.critical_path_cycles(wf, p),
                **{f"floor_{s}_ms": ev.floor_cycles(wf, p, s) * ms for s in ev.schedulers}})
    return rows


def goodput_rows(ev: Evaluation) -> list[dict[str, Any]]:
    """Per workflow, preset, arrival CV and scheduler: the goodput of each seed, its mean and
    95% interval (instances/s and fraction of capacity), and how many searches were censored."""
    rows = []
    for wf in ev.size.workflows:
        for p in ev.size.presets:
            cap = ev.capacity[(wf, p)]
            for cv in ev.size.arrival_cvs:
                for s in ev.schedulers:
                    ci = ev.goodput(wf, p, s, cv)
                    searches = ev.searches[(wf, p, s, cv)]
                    rows.append({
                        "workflow": wf, "preset": p, "arrival_cv": cv, "scheduler": s,
                        "goodput_per_s": ci.mean, "low_per_s": ci.low, "high_per_s": ci.high,
                        "goodput_over_capacity": ci.mean / cap,
                        "at_capacity": sum(x.censored == "above" for x in searches),
                        "below_min_load": sum(x.censored == "below" for x in searches),
                        "runs": sum(len(x.probes) for x in searches),
                        "per_seed_per_s": " ".join(f"{g:.6g}" for g in ev.goodputs(wf, p, s,
                                                                                   cv))})
    return rows


def curve_rows(ev: Evaluation) -> list[dict[str, Any]]:
    """Per grid load: SLO attainment and latency (cycles and over the floor), mean and
    interval over seeds."""
    rows = []
    attrs = ("attainment", "latency_p50_cycles", "latency_p99_cycles", "slowdown_p50",
             "slowdown_p99")
    for (wf, p, s, cv) in ev.searches:
        curves = {a: ev.curve(wf, p, s, cv, a) for a in attrs}
        for i, load in enumerate(ev.size.loads):
            row: dict[str, Any] = {"workflow": wf, "preset": p, "scheduler": s,
                                   "arrival_cv": cv, "load": load}
            for a in attrs:
                ci = curves[a][i]
                row |= {a: ci.mean, f"{a}_low": ci.low, f"{a}_high": ci.high}
            rows.append(row)
    return rows


def point_rows(ev: Evaluation) -> list[dict[str, Any]]:
    """Every run of every search (the ablation's too) with every number it reported."""
    rows = []
    runs = [(("main", *key), searches) for key, searches in ev.searches.items()]
    runs += [(("ablation", wf, ev.size.ablation_on, f"{TARGET} without {m}", POISSON),
              searches) for (m, wf), searches in ev.ablation.items()]
    for (kind, wf, p, s, cv), searches in runs:
        for seed, search in zip(ev.size.seeds, searches, strict=True):
            for probe in search.probes:
                pt = probe.detail
                rows.append({"study": kind, "workflow": wf, "preset": p, "scheduler": s,
                             "arrival_cv": cv, "seed": seed, "load": probe.load,
                             "rate_per_s": pt.rate_per_s, "attainment": pt.attainment,
                             "slowdown_p50": pt.slowdown_p50, "slowdown_p99": pt.slowdown_p99,
                             **{f"attainment_x{k:g}": a for k, a in zip(
                                 ev.size.slo_scales, pt.attainment_by_scale, strict=True)},
                             **pt.metrics})
    return rows


def ablation_rows(ev: Evaluation) -> list[dict[str, Any]]:
    """Per mechanism and workflow: goodput without it over with it (mean of the means, and
    the interval of the per-seed ratios)."""
    rows = []
    for m in ev.mechanisms:
        for wf in ev.size.workflows:
            ci = ev.ablation_interval(m, wf)
            rows.append({"mechanism": m, "default_on": ev.mechanisms[m], "workflow": wf,
                         "preset": ev.size.ablation_on, "without_over_with":
                         ev.ablation_ratio(m, wf), "per_seed_mean": ci.mean,
                         "per_seed_low": ci.low, "per_seed_high": ci.high})
    return rows


def closed_rows(ev: Evaluation) -> list[dict[str, Any]]:
    """The closed batch: throughput against capacity and makespan against its bound."""
    return [{"workflow": wf, "preset": p, "scheduler": s, "instances": r["instances"],
             "throughput_per_s": r["throughput_instances_per_s"],
             "throughput_over_capacity": r["throughput_instances_per_s"] / ev.capacity[(wf, p)],
             "bound_ratio": r["bound_ratio"], "latency_p99_cycles": r["latency_p99_cycles"]}
            for (wf, p, s), r in ev.closed.items()]
