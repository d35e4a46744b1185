"""Open-loop arrival processes: when each instance of a run arrives.

Inter-arrival gaps are independent draws from the ARRIVALS stream of the run's seed
(:mod:`octopus.rng`) with mean ``1 / rate``; their coefficient of variation ``cv`` sets the
burstiness (as AlpaServe, OSDI 2023, sweeps it):

- ``cv == 1``: exponential gaps, a Poisson process (the same draws as
  :func:`~octopus.sim.simulator.poisson_arrivals`);
- ``cv > 1``: Gamma gaps of shape ``1 / cv**2`` (bursty: many short gaps, a few long ones);
- ``0 < cv < 1``: Gamma gaps too (smoother than Poisson);
- ``cv == 0``: every gap equal (periodic arrivals; no random draw).

Every gap is ``mean x`` a unit-mean draw, so under one seed a run at another rate sees the same
arrival pattern stretched in time (common random numbers across rates), floored to whole cycles.
"""

from __future__ import annotations

import numpy as np

from octopus.rng import ARRIVALS, stream
from octopus.sim.simulator import poisson_arrivals

__all__ = ["MAX_ARRIVAL_CV", "arrival_cycles"]

MAX_ARRIVAL_CV = 10.0
"""Largest inter-arrival CV (Gamma shape 0.01: nearly every instance in a handful of bursts)."""


def arrival_cycles(n: int, rate_per_s: float, clock_hz: float, seed: int, cv: float = 1.0
                   ) -> list[int]:
    """Arrival cycles of ``n`` instances at a mean of ``rate_per_s`` instances per second, with
    inter-arrival coefficient of variation ``cv`` (see the module doc); non-decreasing, the
    first one gap after cycle 0.

    Raises:
        ValueError: ``rate_per_s <= 0`` or ``cv`` outside ``[0, MAX_ARRIVAL_CV]``.
    """
    if not 0 <= cv <= MAX_ARRIVAL_CV:
        raise ValueError(f"inter-arrival CV must be in [0, {MAX_ARRIVAL_CV:g}], got {cv}")
    if cv == 1:
        return poisson_arrivals(n, rate_per_s, clock_hz, seed)
    if rate_per_s <= 0:
        raise ValueError(f"arrival rate must be > 0 instances/s, got {rate_per_s}")
    mean_gap = clock_hz / rate_per_s
    if cv == 0:
        gaps = np.full(n, mean_gap)
    else:
        shape = 1.0 / (cv * cv)
        gaps = mean_gap / shape * stream(seed, ARRIVALS).standard_gamma(shape, size=n)
    return [int(t) for t in np.floor(np.cumsum(gaps))]
