"""Wall time of realistic simulator runs (spec section 6: a 64-cluster wafer with 10,000 workflow
instances in under a minute on 2 cores).

Two stages:

1. every built-in workflow, ``--small`` instances on ``--arch``, under each scheduler: firings
   per instance (measured) x wall seconds per firing (measured) = wall seconds per instance,
   the measure of how heavy a workflow is to simulate;
2. the heaviest workflow (largest seconds per instance under greedy), ``--instances`` instances,
   under each scheduler.

Each run is one process, one thread, timed around ``Simulator.run()`` (sampling of instances is
inside it; resolving the run spec, :func:`octopus.run.resolve`, is not). A run that passes
``--limit-s`` is stopped and reported as such. Other processes on the machine inflate wall
times; compare the best of ``--repeat`` runs and note the load average printed at the start.
Run::

    .venv/bin/python benchmarks/sim_bench.py --repeat 3
    .venv/bin/python benchmarks/sim_bench.py --profile   # cProfile of the big runs, top 25
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import resource
import signal
import statistics
import sys
import time
from dataclasses import dataclass

from octopus.run import RunSpec, resolve
from octopus.sched import scheduler_names
from octopus.workflow import builtin_names


class _TooSlow(Exception):
    pass


@dataclass(frozen=True)
class Result:
    workflow: str
    scheduler: str
    instances: int
    wall_s: float | None  # None: stopped at the limit
    events: int
    firings: int
    makespan_cycles: int
    bound_ratio: float

    def row(self) -> str:
        if self.wall_s is None:
            return f"{self.workflow:20} {self.scheduler:9} {self.instances:>7}  did not finish"
        per_inst = self.firings / self.instances
        return (f"{self.workflow:20} {self.scheduler:9} {self.instances:>7} {self.wall_s:8.2f} "
                f"{per_inst:9.1f} {self.events / self.wall_s:12,.0f} "
                f"{self.firings / self.wall_s:11,.0f} {1e3 * self.wall_s / self.instances:9.3f} "
                f"{self.bound_ratio:6.3f}")


HEADER = (f"{'workflow':20} {'scheduler':9} {'inst':>7} {'wall_s':>8} {'fire/inst':>9} "
          f"{'events/s':>12} {'firings/s':>11} {'ms/inst':>9} {'ratio':>6}")


def run(workflow: str, arch_name: str, scheduler: str, instances: int, seed: int,
        limit_s: int, profile: cProfile.Profile | None = None) -> Result:
    """One timed run; the wall clock covers ``Simulator.run()`` only."""
    sim = resolve(RunSpec(workflow=workflow, arch=arch_name, scheduler=scheduler,
                          instances=instances, seed=seed)).simulator()

    def expire(signum: int, frame: object) -> None:
        raise _TooSlow

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(limit_s)
    start = time.perf_counter()
    try:
        if profile is not None:
            profile.enable()
        sim.run()
        wall: float | None = time.perf_counter() - start
    except _TooSlow:
        wall = None
    finally:
        if profile is not None:
            profile.disable()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    # Events scheduled on the core: its sequence counter (read once, after the run; reading it
    # advances it by one, which does not matter here).
    events = sim.core._next_seq()
    firings = sim.task_firings + sim.control_firings
    ratio = sim.makespan / sim.lower_bound_cycles if wall is not None else float("nan")
    return Result(workflow, scheduler, instances, wall, events, firings, sim.makespan, ratio)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", default="wafer")
    ap.add_argument("--instances", type=int, default=10_000)
    ap.add_argument("--small", type=int, default=1_000, help="instances per workflow, stage 1")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--schedulers", nargs="*", default=None,
                    help="default: greedy, static and octopus when registered")
    ap.add_argument("--workflow", default=None, help="skip stage 1 and use this workflow")
    ap.add_argument("--limit-s", type=int, default=300, help="stop a run after this long")
    ap.add_argument("--repeat", type=int, default=1,
                    help="stage-2 runs per scheduler; each is printed, then the best and median")
    ap.add_argument("--profile", action="store_true", help="cProfile the stage-2 runs")
    args = ap.parse_args(argv)

    names = scheduler_names()
    scheds = args.schedulers or [s for s in ("greedy", "static", "octopus") if s in names]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"python {platform.python_version()} ({platform.python_implementation()}), "
          f"{platform.machine()}, cores usable: {cores} (os.cpu_count {os.cpu_count()})")
    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    print(f"arch {args.arch}, seed {args.seed}, schedulers {scheds} (registered: {names}), "
          f"load average {' '.join(f'{x:.2f}' for x in load)}\n")

    heaviest = args.workflow
    if heaviest is None:
        print(f"stage 1: every built-in workflow, {args.small} instances")
        print(HEADER)
        cost: dict[str, float] = {}
        for wf in builtin_names():
            for s in scheds:
                r = run(wf, args.arch, s, args.small, args.seed, args.limit_s)
                print(r.row(), flush=True)
                if s == scheds[0] and r.wall_s is not None:
                    cost[wf] = r.wall_s / r.instances
        heaviest = max(cost, key=cost.__getitem__)
        print(f"\nheaviest under {scheds[0]}: {heaviest} "
              f"({1e3 * cost[heaviest]:.3f} ms of wall time per instance)\n")

    print(f"stage 2: {heaviest}, {args.instances} instances")
    print(HEADER)
    for s in scheds:
        walls: list[float] = []
        for _ in range(args.repeat):
            prof = cProfile.Profile() if args.profile else None
            r = run(heaviest, args.arch, s, args.instances, args.seed, args.limit_s, prof)
            print(r.row(), flush=True)
            if prof is not None:
                pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(25)
            if r.wall_s is None:
                break
            walls.append(r.wall_s)
        if len(walls) > 1:
            print(f"{'':20} {s:9} best {min(walls):.2f} s, median {statistics.median(walls):.2f} s "
                  f"of {len(walls)}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
