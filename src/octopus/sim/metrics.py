"""Run metrics: everything ``summary.json`` reports, with units in the key names."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["summarize"]

BUCKETS = ("compute", "reconfig", "wait_data", "starved", "no_work")


def summarize(sim) -> dict[str, Any]:
    """Metrics of a finished :class:`~octopus.sim.simulator.Simulator` run.

    Times are cycles (``_cycles``) or seconds (``_s``); fractions are of total TBU time
    (TBUs x makespan). Deterministic: the same run gives the same dict.
    """
    makespan = sim.makespan
    units = sim.capacity.units
    buckets = sim.tbu_buckets()
    totals = {b: sum(row[b] for row in buckets) for b in BUCKETS}
    tbu_time = units * makespan
    lat = np.asarray(sim.latencies)
    bound = sim.lower_bound_cycles
    hz = sim.arch.clock_hz
    noc = sim.machine.noc.stats
    return {
        "workflow": sim.workflow.name,
        "arch": sim.arch.name,
        "scheduler": sim.scheduler.name,
        "instances": sim.n,
        "seed": sim.seed,
        "tbus": units,
        "makespan_cycles": makespan,
        "makespan_s": makespan / hz,
        "lower_bound_cycles": bound,
        "bound_ratio": makespan / bound if bound else 1.0,
        "throughput_instances_per_s": sim.n / (makespan / hz) if makespan else 0.0,
        "latency_p50_cycles": float(np.percentile(lat, 50)),
        "latency_p99_cycles": float(np.percentile(lat, 99)),
        "latency_mean_cycles": float(lat.mean()),
        "utilization": totals["compute"] / tbu_time if tbu_time else 0.0,
        "idle_breakdown": {f"{b}_fraction": totals[b] / tbu_time if tbu_time else 0.0
                           for b in BUCKETS},
        "tbu_cycles": totals,
        "task_firings": sim.task_firings,
        "control_firings": sim.control_firings,
        "reconfigurations": sum(t.reconfigurations for t in sim.machine.tbus),
        "migrations": sim.scheduler.stats.get("migrations", 0),
        "scheduler_stats": dict(sim.scheduler.stats),
        "noc_bytes": noc.total_bytes,
        "noc_byte_hops": noc.byte_hops,
        "noc_d2d_byte_hops": noc.d2d_byte_hops,
        "noc_wait_cycles": noc.wait_cycles,
        "noc_model": sim.machine.noc.model,
    }
