"""Simulator speed against the bare event core (issue 16), in one process and one run.

1. **Core**: events/s of :class:`~octopus.sim.core.EventCore` on the synthetic load of
   ``core_bench.py`` (best of ``--core-repeat``).
2. **Simulator**: firings/s (Task and Control Block firings over the wall time of
   ``Simulator.run()``; sampling the instances is inside it, resolving the spec is not) of each
   scheduler on every built-in workflow and the mix, on ``chip`` and ``wafer``, open-loop at
   ``--load`` (80%) of the workflow's capacity on that preset
   (:func:`~octopus.experiments.serving.capacity_per_s`, the evaluation's: the lower of the
   compute and memory bounds) and as a closed batch. Each run has about ``--firings`` expected
   firings. The ``width`` column is the mean group width (TBUs per dispatch): a firing on a
   group of ``k`` books, configures and exchanges on each of its ``k`` members. Every
   workflow and preset is run once untimed first, so that per-process caches (layer-table
   efficiencies) are warm.
3. **Ratios**: each run's firings/s over the core's events/s (target >= 1/10 for ``greedy``,
   ``static`` and ``affinity``), and each scheduler's wall time over ``greedy``'s on the same
   run (target <= 1.5 for ``octopus``); then the worst of each, and the peak resident memory.
4. ``--million``: a ``--big-instances`` (1,000,000) instance open-loop run of ``--big-workflow``
   on ``wafer`` under ``octopus`` at ``--big-load`` of its capacity, written to a run
   directory without a trace (its outputs streamed), with its wall time and the peak resident
   memory after it.

Wall times depend on the machine's load: compare ratios (measured minutes apart in one process),
not absolute rates, and note the load average printed first. Run::

    .venv/bin/python benchmarks/sim_bench.py                # about 2 minutes on 2 cores
    .venv/bin/python benchmarks/sim_bench.py --million      # adds the 1,000,000-instance run
    .venv/bin/python benchmarks/sim_bench.py --profile --arch wafer --workflows mix
"""

from __future__ import annotations

import argparse
import cProfile
import math
import os
import platform
import pstats
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from core_bench import run_core

from octopus.experiments.serving import capacity_per_s
from octopus.run import RunSpec, execute, resolve
from octopus.workflow import MIX_NAME, builtin_names, expected_firings

RATIO_TARGET = 0.1  # firings/s over core events/s, for the schedulers in FAST
FAST = ("greedy", "static", "affinity")
OCTOPUS_TARGET = 1.5  # octopus wall time over greedy's


@dataclass(frozen=True)
class Run:
    """One timed simulator run."""

    arch: str
    workflow: str
    mode: str  # "open" or "closed"
    scheduler: str
    instances: int
    firings: int
    wall_s: float
    width: float  # mean TBUs per dispatch

    @property
    def firings_per_s(self) -> float:
        return self.firings / self.wall_s


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def core_events_per_s(events: int, repeat: int) -> float:
    """Best events/s of the bare core on ``core_bench``'s load (1000 chains, delays 1-1000)."""
    return max(events / run_core(events, 1000, 1000)[0] for _ in range(repeat))


def spec_of(workflow: str, arch: str, scheduler: str, instances: int, rate: float | None,
            seed: int) -> RunSpec:
    return RunSpec(workflow=workflow, arch=arch, scheduler=scheduler, instances=instances,
                   seed=seed, rate_per_s=rate)


def timed(spec: RunSpec, profile: cProfile.Profile | None) -> tuple[int, float, float]:
    """``(firings, wall seconds, mean TBUs per dispatch)`` of ``Simulator.run()`` for
    ``spec``."""
    sim = resolve(spec).simulator()
    start = time.perf_counter()
    if profile is not None:
        profile.enable()
    sim.run()
    if profile is not None:
        profile.disable()
    wall = time.perf_counter() - start
    widths = sim.machine.widths
    mean_width = sum(w * c for w, c in widths.items()) / max(1, sum(widths.values()))
    return sim.task_firings + sim.control_firings, wall, mean_width


def million(args: argparse.Namespace) -> None:
    """The 1,000,000-instance open-loop run on ``wafer`` under ``octopus`` (module doc)."""
    probe = spec_of(args.big_workflow, "wafer", "octopus", 1, None, args.seed)
    rate = args.big_load * capacity_per_s(probe)
    spec = spec_of(args.big_workflow, "wafer", "octopus", args.big_instances, rate, args.seed)
    print(f"\n{args.big_instances:,} instances of {args.big_workflow} on wafer under octopus, "
          f"open-loop at {rate:,.1f}/s ({args.big_load:.0%} of capacity), outputs streamed to "
          "a run "
          "directory without trace.json")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = execute(spec, out_dir=Path(tmp) / "run", trace=False)
        wall = time.perf_counter() - start
        size = (Path(tmp) / "run" / "firings.csv").stat().st_size
    clock = result.makespan_cycles / result.makespan_s
    print(f"finished in {wall:,.1f} s ({result.instances:,} instances, firings.csv "
          f"{size / 2**30:.2f} GiB); peak resident memory {peak_rss_mib():,.0f} MiB")
    print(f"simulated: arrivals over {args.big_instances / rate:,.2f} s, makespan "
          f"{result.makespan_s:,.2f} s, latency p50 {result.latency_p50_cycles / clock * 1e3:,.2f}"
          f" ms, p99 {result.latency_p99_cycles / clock * 1e3:,.2f} ms (a makespan far past the "
          "last arrival means the rate was not sustained)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", nargs="*", default=["chip", "wafer"])
    ap.add_argument("--workflows", nargs="*", default=[*builtin_names(), MIX_NAME])
    ap.add_argument("--schedulers", nargs="*", default=["greedy", "static", "affinity",
                                                         "octopus"],
                    help="greedy first: the others' wall times are compared with its")
    ap.add_argument("--firings", type=int, default=5000, help="expected firings per run")
    ap.add_argument("--load", type=float, default=0.8, help="open-loop rate / capacity")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--core-events", type=int, default=1_000_000)
    ap.add_argument("--core-repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true",
                    help="cProfile every timed run together; print the top 30 by own time")
    ap.add_argument("--million", action="store_true", help="add the 1,000,000-instance run")
    ap.add_argument("--big-workflow", default=MIX_NAME)
    ap.add_argument("--big-load", type=float, default=0.8,
                    help="its rate / capacity: a rate the scheduler sustains keeps memory flat")
    ap.add_argument("--big-instances", type=int, default=1_000_000)
    args = ap.parse_args(argv)

    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    print(f"python {platform.python_version()} ({platform.python_implementation()}), "
          f"{platform.machine()}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in load)}")
    core = core_events_per_s(args.core_events, args.core_repeat)
    print(f"core: {core:,.0f} events/s (best of {args.core_repeat} x {args.core_events:,} "
          f"events); target for {', '.join(FAST)}: >= {RATIO_TARGET * core:,.0f} firings/s\n")

    profile = cProfile.Profile() if args.profile else None
    runs: list[Run] = []
    print(f"{'arch':6} {'workflow':19} {'mode':6} {'scheduler':9} {'inst':>6} {'firings':>8} "
          f"{'wall_s':>7} {'firings/s':>10} {'/core':>6} {'/greedy':>8} {'width':>6}")
    for arch in args.arch:
        for wf in args.workflows:
            probe = spec_of(wf, arch, "greedy", 1, None, args.seed)
            per_instance = sum(expected_firings(resolve(probe).workflow).values())
            n = max(1, math.ceil(args.firings / per_instance))
            rate = args.load * capacity_per_s(probe)
            timed(spec_of(wf, arch, "greedy", max(1, n // 10), rate, args.seed), None)  # warm
            for mode, r in (("open", rate), ("closed", None)):
                greedy_wall = None
                for s in args.schedulers:
                    firings, wall, width = timed(spec_of(wf, arch, s, n, r, args.seed),
                                                 profile)
                    run = Run(arch, wf, mode, s, n, firings, wall, width)
                    runs.append(run)
                    greedy_wall = wall if s == "greedy" else greedy_wall
                    vs = f"{wall / greedy_wall:8.2f}" if greedy_wall else f"{'':8}"
                    print(f"{arch:6} {wf:19} {mode:6} {s:9} {n:>6} {firings:>8} {wall:7.3f} "
                          f"{run.firings_per_s:10,.0f} {run.firings_per_s / core:6.3f} {vs} "
                          f"{width:6.1f}",
                          flush=True)

    print("\nsummary (worst run of each scheduler):")
    for s in args.schedulers:
        mine = [r for r in runs if r.scheduler == s]
        worst = min(mine, key=lambda r: r.firings_per_s)
        line = (f"  {s:9} firings/s / core events/s >= {worst.firings_per_s / core:.3f} "
                f"({worst.arch} {worst.workflow} {worst.mode})")
        if s in FAST:
            line += " [target >= 0.1: " + ("met" if worst.firings_per_s >= RATIO_TARGET * core
                                         else "missed") + "]"
        if s != "greedy" and "greedy" in args.schedulers:
            base = {(r.arch, r.workflow, r.mode): r.wall_s for r in runs
                    if r.scheduler == "greedy"}
            slow = max(mine, key=lambda r: r.wall_s / base[(r.arch, r.workflow, r.mode)])
            ratio = slow.wall_s / base[(slow.arch, slow.workflow, slow.mode)]
            line += f"; wall / greedy's <= {ratio:.2f} ({slow.arch} {slow.workflow} {slow.mode})"
            if s == "octopus":
                line += f" [target <= {OCTOPUS_TARGET}: " + (
                    "met" if ratio <= OCTOPUS_TARGET else "missed") + "]"
        print(line)
    print(f"peak resident memory: {peak_rss_mib():,.0f} MiB")
    if profile is not None:
        pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(30)
    if args.million:
        million(args)


if __name__ == "__main__":
    main()
