"""Confidence intervals over seeds: Student t-intervals, and the rule for calling one result
better than another.

A metric measured under ``n`` seeds (independent replications) has the 95% interval
``mean +- t(0.975, n - 1) * s / sqrt(n)``, ``s`` the sample standard deviation. One result is
*better* than another only when their intervals do not overlap (:func:`compare`); otherwise the
two are reported as indistinguishable. Student's t quantile is computed here (numerical
integration of the density and bisection) rather than taken from SciPy, which Octopus does not
depend on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np

__all__ = ["Interval", "compare", "interval", "t_quantile"]

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A mean and its confidence interval ``[low, high]`` over ``n`` replications (a single
    replication has no spread: ``low == high == mean``)."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def __str__(self) -> str:
        return f"{self.mean:.4g} [{self.low:.4g}, {self.high:.4g}]"


def interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """The t-interval of the mean of ``values`` (see the module doc).

    Raises:
        ValueError: no values, a value that is not finite, or ``confidence`` outside (0, 1).
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("no values to take an interval of")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"values must be finite, got {list(values)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    mean = float(x.mean())
    if x.size == 1:
        return Interval(mean, mean, mean, 1)
    half = t_quantile((1 + confidence) / 2, x.size - 1) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return Interval(mean, mean - half, mean + half, int(x.size))


def compare(a: Interval, b: Interval) -> Literal["better", "worse", "tie"]:
    """``a`` against ``b`` where higher is better: ``better`` only when ``a``'s interval lies
    wholly above ``b``'s, ``worse`` when wholly below, else ``tie``."""
    if a.low > b.high:
        return "better"
    if a.high < b.low:
        return "worse"
    return "tie"


@cache
def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t distribution with ``df`` degrees of freedom.

    Raises:
        ValueError: ``p`` outside (0, 1) or ``df < 1``.
    """
    if not 0 < p < 1:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    if df == 1:
        return math.tan(math.pi * (p - 0.5))  # Cauchy: exact, and too heavy-tailed to integrate
    lo, hi = 0.0, 1.0
    while _t_cdf(hi, df) < p:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _t_cdf(mid, df) < p else (lo, mid)
    return (lo + hi) / 2


def _t_cdf(x: float, df: int) -> float:
    """P(T <= x) for x >= 0: one half plus the density integrated over [0, x] (Simpson's rule
    on 2,001 points, accurate to about 1e-10 over the range a quantile search visits)."""
    u = np.linspace(0.0, x, 2001)
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    f = np.exp(log_norm - (df + 1) / 2 * np.log1p(u * u / df))
    h = x / 2000
    return 0.5 + h / 3 * float(f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum())
