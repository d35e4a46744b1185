"""Open-loop arrival processes: the mean rate and the inter-arrival CV they promise, Poisson as
before, periodic arrivals, the same pattern stretched across rates, and bad parameters."""

from __future__ import annotations

import numpy as np
import pytest

from octopus.sim import poisson_arrivals
from octopus.sim.arrivals import MAX_ARRIVAL_CV, arrival_cycles

CLOCK = 1e9
RATE = 1e3  # a mean gap of 1,000,000 cycles: flooring to whole cycles is negligible


@pytest.mark.parametrize("cv", [0.5, 1.0, 2.0, 3.0])
def test_gaps_have_the_requested_mean_and_cv(cv):
    """Over 40,000 gaps the mean gap is 1/rate within 3% and the gaps' CV is ``cv`` within 5%
    (the standard error of a sample CV of Gamma gaps at CV 3 is about 2%)."""
    gaps = np.diff([0, *arrival_cycles(40_000, RATE, CLOCK, seed=11, cv=cv)])
    assert gaps.mean() == pytest.approx(CLOCK / RATE, rel=0.03)
    assert gaps.std() / gaps.mean() == pytest.approx(cv, rel=0.05)


def test_poisson_is_the_same_draws_as_before():
    """CV 1 gives exactly :func:`poisson_arrivals` (earlier open-loop runs stay the same)."""
    assert arrival_cycles(500, RATE, CLOCK, seed=3) == poisson_arrivals(500, RATE, CLOCK, 3)
    assert arrival_cycles(500, RATE, CLOCK, 3, cv=1.0) == poisson_arrivals(500, RATE, CLOCK, 3)


def test_cv_zero_is_periodic_and_draws_nothing():
    """CV 0: every gap is 1/rate, whatever the seed."""
    a = arrival_cycles(5, RATE, CLOCK, seed=0, cv=0.0)
    assert a == [1_000_000, 2_000_000, 3_000_000, 4_000_000, 5_000_000]
    assert a == arrival_cycles(5, RATE, CLOCK, seed=9, cv=0.0)


def test_bursty_arrivals_are_seeded_ordered_and_stretch_with_the_rate():
    """Same seed, same arrivals; another seed, others; non-decreasing; at half the rate the
    same pattern takes twice as long (common random numbers across rates)."""
    a = arrival_cycles(300, RATE, CLOCK, seed=4, cv=3.0)
    assert a == arrival_cycles(300, RATE, CLOCK, seed=4, cv=3.0)
    assert a != arrival_cycles(300, RATE, CLOCK, seed=5, cv=3.0)
    assert a == sorted(a) and a[0] >= 0
    slow = arrival_cycles(300, RATE / 2, CLOCK, seed=4, cv=3.0)
    assert all(abs(s - 2 * x) <= 2 for s, x in zip(slow, a, strict=True))


def test_bursts_cluster_arrivals():
    """At CV 3 far more gaps are tiny than at CV 1: a burst brings many instances at once."""
    def short_share(cv: float) -> float:
        gaps = np.diff([0, *arrival_cycles(20_000, RATE, CLOCK, seed=2, cv=cv)])
        return float(np.mean(gaps < 0.01 * CLOCK / RATE))

    assert short_share(3.0) > 10 * short_share(1.0)


@pytest.mark.parametrize("kwargs, match", [
    ({"cv": -0.1}, "CV"), ({"cv": MAX_ARRIVAL_CV * 1.01}, "CV"),
    ({"cv": 2.0, "rate": 0.0}, "rate"), ({"cv": 0.0, "rate": -1.0}, "rate"),
])
def test_bad_parameters_are_refused(kwargs, match):
    """A CV outside [0, MAX_ARRIVAL_CV] or a rate that is not positive raises ValueError."""
    with pytest.raises(ValueError, match=match):
        arrival_cycles(3, kwargs.get("rate", RATE), CLOCK, 0, kwargs["cv"])
