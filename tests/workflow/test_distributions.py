"""Each distribution's sampled moments agree with its exact moments."""

import math

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from octopus.workflow.distributions import (
    Constant,
    Distribution,
    Empirical,
    Geometric,
    LogNormal,
    Normal,
    Poisson,
    Uniform,
)

N = 100_000
CASES = [
    Constant(value=7.0),
    Uniform(low=2.0, high=10.0),
    Normal(mean=100.0, cv=0.2),
    Normal(mean=10.0, cv=1.5),  # heavily truncated: moments must account for the cut at 0
    LogNormal(mean=50.0, cv=0.8),
    Poisson(mean=3.5),
    Geometric(p_continue=0.8),
    Empirical(values=[1.0, 4.0, 9.0], weights=[0.5, 0.3, 0.2]),
]


def _draw(d, count=False):
    rng = np.random.default_rng(1234)
    f = d.sample_count if count else d.sample
    return np.array([f(rng) for _ in range(N)], dtype=float)


@pytest.mark.parametrize("dist", CASES, ids=lambda d: f"{d.dist}")
def test_sample_mean_and_variance_match_theory(dist):
    """Sample mean within 5 standard errors; sample variance within 5 standard errors."""
    x = _draw(dist)
    assert x.min() >= 0
    se_mean = math.sqrt(dist.variance / N)
    assert abs(x.mean() - dist.mean) <= 5 * se_mean + 1e-12
    # Standard error of the sample variance from the sample's fourth central moment.
    m4 = float(np.mean((x - x.mean()) ** 4))
    se_var = math.sqrt(max(m4 - dist.variance**2, 0.0) / N)
    assert abs(x.var() - dist.variance) <= 5 * se_var + 1e-9


@pytest.mark.parametrize("dist", CASES, ids=lambda d: f"{d.dist}")
def test_count_mean_matches_rounded_samples(dist):
    """count_mean is the exact mean of the integer counts sample_count draws."""
    x = _draw(dist, count=True)
    assert np.all(x == np.round(x)) and x.min() >= 0
    sd = math.sqrt(max(x.var(), 1e-12))
    assert abs(x.mean() - dist.count_mean) <= 5 * sd / math.sqrt(N) + 1e-12


def test_lognormal_is_parameterised_by_the_variable_not_its_log():
    """mean and cv describe the variable itself."""
    d = LogNormal(mean=20.0, cv=0.5)
    assert d.mean == 20.0 and math.isclose(d.cv, 0.5)


@pytest.mark.parametrize("bad", [
    {"dist": "normal", "mean": -1, "cv": 0.1},
    {"dist": "normal", "mean": float("nan"), "cv": 0.1},
    {"dist": "uniform", "low": 5, "high": 1},
    {"dist": "poisson", "mean": -2},
    {"dist": "geometric", "p_continue": 1.0},
    {"dist": "empirical", "values": [1, 2], "weights": [1]},
    {"dist": "lognormal", "mean": 1, "cv": 0.2, "sigma": 3},
    {"dist": "gamma", "mean": 1},
])
def test_bad_parameters_are_rejected(bad):
    """Negative, NaN, inconsistent or unknown parameters fail validation."""
    with pytest.raises(ValidationError):
        TypeAdapter(Distribution).validate_python(bad)


@pytest.mark.parametrize("value", [2.5, 3.0, 0.5, 7.49])
def test_a_constant_count_mean_is_the_count_drawn(value):
    """A constant count, half-integers included, has the mean of what sample_count draws."""
    dist = Constant(value=value)
    drawn = dist.sample_count(np.random.default_rng(0))
    assert dist.count_mean == drawn and dist.count_variance == 0
