"""What a run measured: :class:`RunResult`, read by attribute, written as ``summary.json``.

Times are cycles (``_cycles``) or seconds (``_s``); fractions are of total TBU time (TBUs x
makespan). Latency metrics and the SLO attainment leave out the spec's ``warmup_instances`` (the
first instances to arrive). Deterministic: the same run gives an equal result and
byte-identical JSON.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from octopus.sim.simulator import BUCKETS, Simulator

__all__ = ["RunResult", "TbuTime", "slo_attainment", "summarize"]


_NOT_SERIALISED = ("per_tbu", "latencies")


class TbuTime(NamedTuple):
    """Where one TBU's cycles went; the five sum to the makespan (see ``BUCKETS``)."""

    compute: int
    reconfig: int
    wait_data: int
    starved: int
    no_work: int


@dataclass(frozen=True)
class RunResult:
    """The metrics of one finished run (the fields of ``summary.json``, in its order), plus
    :attr:`per_tbu` (per-TBU time) and :attr:`latencies` (every instance's latency in cycles,
    by instance index, warm-up included), neither in the JSON (empty when read back from a
    file)."""

    workflow: str
    arch: str
    scheduler: str
    instances: int
    seed: int
    tbus: int
    makespan_cycles: int
    makespan_s: float
    lower_bound_cycles: int
    bound_ratio: float
    throughput_instances_per_s: float
    latency_p50_cycles: float
    latency_p99_cycles: float
    latency_mean_cycles: float
    slo_cycles: float | None  # the spec's SLO
    slo_attainment: float | None  # share of measured instances within it; None: no SLO
    utilization: float
    idle_breakdown: Mapping[str, float]  # "<bucket>_fraction" -> share of TBU time
    tbu_cycles: Mapping[str, int]  # bucket -> TBU-cycles summed over TBUs
    task_firings: int
    control_firings: int
    reconfigurations: int
    migrations: int
    scheduler_stats: Mapping[str, int]
    noc_bytes: int
    noc_byte_hops: int
    noc_d2d_byte_hops: int
    noc_wait_cycles: int
    noc_model: str
    offchip_bytes: int  # read from off-chip memory: weights and inputs
    offchip_weight_bytes: int  # configuration loads and streamed weights
    offchip_wait_cycles: int  # summed over requests: waiting for a busy memory controller
    weight_loads: int  # configuration loads and streamed-weight firings
    group_widths: Mapping[str, int]  # TBUs per dispatch -> dispatches
    batch_sizes: Mapping[str, int]  # firings per dispatch -> dispatches
    mean_group_width: float  # TBUs per dispatch, mean over dispatches
    mean_batch_size: float  # firings per dispatch, mean over dispatches
    per_tbu: tuple[TbuTime, ...] = field(default=(), repr=False, compare=False)
    latencies: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def seconds(self, cycles: float) -> float:
        """``cycles`` of this run in seconds (at its clock)."""
        return cycles * self.makespan_s / self.makespan_cycles if self.makespan_cycles else 0.0

    def idle_fraction(self, bucket: str) -> float:
        """Share of TBU time spent in ``bucket`` (one of ``BUCKETS``)."""
        return self.idle_breakdown[f"{bucket}_fraction"]

    def to_dict(self) -> dict[str, Any]:
        """The ``summary.json`` mapping (every field but :attr:`per_tbu` and
        :attr:`latencies`)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
               if f.name not in _NOT_SERIALISED}
        for name in ("idle_breakdown", "tbu_cycles", "scheduler_stats"):
            out[name] = dict(out[name])
        return out

    def to_json(self) -> str:
        """``summary.json``'s text."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunResult:
        """Read back :meth:`to_dict` (e.g. a parsed ``summary.json``).

        Raises:
            TypeError: missing or unknown keys.
        """
        return cls(**data)

    def __repr__(self) -> str:
        return (f"RunResult({self.workflow!r} on {self.arch!r} under {self.scheduler!r}, "
                f"{self.instances} instances, seed {self.seed}: makespan "
                f"{self.makespan_cycles:,} cycles ({self.makespan_s:.4g} s), "
                f"{self.bound_ratio:.3f}x the lower bound, utilization {self.utilization:.1%}, "
                f"latency p99 {self.latency_p99_cycles:,.0f} cycles)")


def slo_attainment(latencies: Sequence[float], slo_cycles: float | Sequence[float]) -> float:
    """Share of ``latencies`` within their SLO: one SLO for all, or one per latency.

    Raises:
        ValueError: no latencies, or per-latency SLOs of another length.
    """
    lat = np.asarray(latencies, dtype=float)
    slo = np.asarray(slo_cycles, dtype=float)
    if lat.size == 0:
        raise ValueError("no latencies to measure the SLO attainment of")
    if slo.ndim and slo.shape != lat.shape:
        raise ValueError(f"{slo.size} SLOs for {lat.size} latencies")
    return float(np.count_nonzero(lat <= slo)) / lat.size


def summarize(sim: Simulator, slo_cycles: float | None = None, warmup_instances: int = 0
              ) -> RunResult:
    """The metrics of a finished simulator run; latency metrics over the instances after the
    first ``warmup_instances``, SLO attainment against ``slo_cycles`` (when given)."""
    makespan = sim.makespan
    units = sim.capacity.units
    per_tbu = tuple(TbuTime(**row) for row in sim.tbu_buckets())
    totals = {b: sum(getattr(row, b) for row in per_tbu) for b in BUCKETS}
    tbu_time = units * makespan
    latencies = tuple(sim.instance_latencies)
    lat = np.asarray(latencies[warmup_instances:])
    bound = sim.lower_bound_cycles
    hz = sim.arch.clock_hz
    noc = sim.machine.noc.stats
    memory = sim.machine.memory.stats
    return RunResult(
        workflow=sim.workflow.name,
        arch=sim.arch.name,
        scheduler=sim.scheduler.name,
        instances=sim.n,
        seed=sim.seed,
        tbus=units,
        makespan_cycles=makespan,
        makespan_s=makespan / hz,
        lower_bound_cycles=bound,
        bound_ratio=makespan / bound if bound else 1.0,
        throughput_instances_per_s=sim.n / (makespan / hz) if makespan else 0.0,
        latency_p50_cycles=float(np.percentile(lat, 50)),
        latency_p99_cycles=float(np.percentile(lat, 99)),
        latency_mean_cycles=float(lat.mean()),
        slo_cycles=slo_cycles,
        slo_attainment=slo_attainment(lat, slo_cycles) if slo_cycles is not None else None,
        utilization=totals["compute"] / tbu_time if tbu_time else 0.0,
        idle_breakdown={f"{b}_fraction": totals[b] / tbu_time if tbu_time else 0.0
                        for b in BUCKETS},
        tbu_cycles=totals,
        task_firings=sim.task_firings,
        control_firings=sim.control_firings,
        reconfigurations=sum(t.reconfigurations for t in sim.machine.tbus),
        migrations=sim.scheduler.stats.get("migrations", 0),
        scheduler_stats=dict(sim.scheduler.stats),
        noc_bytes=noc.total_bytes,
        noc_byte_hops=noc.byte_hops,
        noc_d2d_byte_hops=noc.d2d_byte_hops,
        noc_wait_cycles=noc.wait_cycles,
        noc_model=sim.machine.noc.model,
        offchip_bytes=memory.total_bytes,
        offchip_weight_bytes=memory.bytes_by_purpose["weights"],
        offchip_wait_cycles=memory.wait_cycles,
        weight_loads=sim.machine.weight_loads,
        group_widths=_by_size(sim.machine.widths),
        batch_sizes=_by_size(sim.machine.batches),
        mean_group_width=_mean_size(sim.machine.widths),
        mean_batch_size=_mean_size(sim.machine.batches),
        per_tbu=per_tbu,
        latencies=latencies,
    )


def _by_size(counts: Mapping[int, int]) -> dict[str, int]:
    """``{size: dispatches}`` with string keys, smallest size first (JSON-ready)."""
    return {str(k): counts[k] for k in sorted(counts)}


def _mean_size(counts: Mapping[int, int]) -> float:
    total = sum(counts.values())
    return sum(k * n for k, n in counts.items()) / total if total else 0.0
