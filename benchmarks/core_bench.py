"""Events per second of the Octopus event core and of SimPy on the same synthetic load.

The load: ``--chains`` independent chains; each event reschedules its chain after a delay drawn
from a fixed pseudo-random table (1..``--max-delay`` cycles) until ``--events`` events have
fired in total. In SimPy each chain is a process looping on ``env.timeout(delay)``: one heap
event per step, as in the core (plus one start and one end event per process). Runs of
the two engines alternate; each rate is the best (and median) of ``--repeat`` runs (wall clock,
one process). Run::

    .venv/bin/python benchmarks/core_bench.py
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time

import simpy

from octopus.sim.core import COMPLETION, EventCore


def _delays(max_delay: int, seed: int = 1) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(1, max_delay) for _ in range(4096)]


def run_core(events: int, chains: int, max_delay: int) -> tuple[float, int]:
    """Return (seconds, end cycle) of the load on :class:`EventCore`."""
    core = EventCore()
    schedule, delays, left = core.schedule, _delays(max_delay), [events]

    def tick(chain: int) -> None:
        left[0] -= 1
        if left[0] >= chains:  # stop rescheduling once the remaining events are in flight
            schedule(delays[(chain * 31 + left[0]) & 4095], COMPLETION, tick, chain)

    for chain in range(chains):
        schedule(0, COMPLETION, tick, chain)
    start = time.perf_counter()
    end = core.run()
    return time.perf_counter() - start, end


def run_simpy(events: int, chains: int, max_delay: int) -> tuple[float, int]:
    """Return (seconds, end time) of the same load on SimPy."""
    env = simpy.Environment()
    delays, left = _delays(max_delay), [events]

    def chain_proc(chain: int):
        while True:
            left[0] -= 1
            if left[0] < chains:
                return
            yield env.timeout(delays[(chain * 31 + left[0]) & 4095])

    for chain in range(chains):
        env.process(chain_proc(chain))
    start = time.perf_counter()
    env.run()
    return time.perf_counter() - start, int(env.now)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events per run")
    parser.add_argument("--chains", type=int, default=1000, help="concurrent chains (heap size)")
    parser.add_argument("--max-delay", type=int, default=1000, help="largest delay, cycles")
    parser.add_argument("--repeat", type=int, default=5, help="runs per engine; best is kept")
    a = parser.parse_args(argv)
    args = (a.events, a.chains, a.max_delay)
    print(
        f"python {sys.version.split()[0]} ({platform.python_implementation()}), "
        f"{os.cpu_count()} cores, {platform.machine()}, {platform.platform()}"
    )
    print(
        f"load: {a.events:,} events, {a.chains} chains, delays 1..{a.max_delay} cycles, "
        f"best of {a.repeat}"
    )
    engines = {"octopus core": run_core, "simpy": run_simpy}
    times: dict[str, list[float]] = {name: [] for name in engines}
    ends: dict[str, int] = {}
    for _ in range(a.repeat):  # interleaved, so both engines see the same background load
        for name, fn in engines.items():
            seconds, ends[name] = fn(*args)
            times[name].append(seconds)
    for name, ts in times.items():
        print(
            f"{name:>13}: {a.events / min(ts):12,.0f} events/s best "
            f"({a.events / statistics.median(ts):,.0f} median), end time {ends[name]}"
        )
    if len(set(ends.values())) != 1:
        print(f"WARNING: end times differ: {ends}")


if __name__ == "__main__":
    main()
