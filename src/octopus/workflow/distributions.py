"""Distributions of Task Block work and Control Block counts.

Each distribution is a frozen pydantic model tagged by ``dist`` and parameterised the way users
think about it (a mean and a coefficient of variation where that fits). Two views are offered:

- as a **work** distribution: ``sample(rng)`` returns a non-negative float, ``mean``/``variance``
  are its exact moments (the normal is truncated at 0, and its moments account for that);
- as a **count** distribution (loop iterations, fan-out width): ``sample_count(rng)`` returns a
  non-negative int (continuous values rounded half up) and ``count_mean`` is the exact mean of
  that rounded value.

``upper`` (and ``count_upper``) is a value a draw exceeds with probability below :data:`TAIL`
(the largest value, for a bounded distribution): what the size limits of
:mod:`octopus.workflow.limits` are checked against. A coefficient of variation is at most
:data:`MAX_CV`.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "MAX_CV",
    "TAIL",
    "Constant",
    "Distribution",
    "Empirical",
    "Geometric",
    "LogNormal",
    "Normal",
    "Poisson",
    "Uniform",
]

_FINITE = {"allow_inf_nan": False}
_TAIL = 1e-13  # stop summing a count tail once the remaining probability is below this
TAIL = 1e-15
"""A draw exceeds ``upper`` with a probability below this."""
MAX_CV = 100.0
"""The largest coefficient of variation of a normal or log-normal (std = 100 x mean): beyond
it a sample's mean no longer approaches the distribution's in any run we can simulate."""
_Z = 8.3  # P(Z > 8.3) = 5e-17: twice that (a normal truncated at 0) is still below TAIL


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    def mean(self) -> float:
        raise NotImplementedError

    @property
    def variance(self) -> float:
        raise NotImplementedError

    @property
    def cv(self) -> float:
        """Coefficient of variation (std / mean); 0 for a zero mean."""
        return math.sqrt(self.variance) / self.mean if self.mean > 0 else 0.0

    def sample(self, rng: np.random.Generator) -> float:
        raise NotImplementedError

    def sample_count(self, rng: np.random.Generator) -> int:
        return int(math.floor(self.sample(rng) + 0.5))

    @property
    def upper(self) -> float:
        """A value a draw exceeds with probability below :data:`TAIL` (the largest value when
        there is one); ``inf`` when too large for a float."""
        raise NotImplementedError

    @property
    def count_upper(self) -> float:
        """The count ``sample_count`` exceeds with probability below :data:`TAIL`."""
        return _half_up(self.upper)

    @property
    def count_mean(self) -> float:
        """Exact mean of ``sample_count``: sum over k >= 1 of P(N >= k) = P(X >= k - 1/2)."""
        return sum(self._count_tails())

    @property
    def count_variance(self) -> float:
        """Exact variance of ``sample_count``: E[N^2] - E[N]^2, E[N^2] = sum (2k - 1) P(N >= k)."""
        tails = self._count_tails()
        second = sum((2 * k - 1) * t for k, t in enumerate(tails, start=1))
        return max(0.0, second - sum(tails) ** 2)

    def _count_tails(self) -> list[float]:
        """``P(N >= k)`` for k = 1, 2, ... until the tail is negligible."""
        tails, k = [], 1
        limit = self.mean + 60.0 * math.sqrt(self.variance) + 2
        while k <= limit:
            tail = 1.0 - self._cdf(k - 0.5)
            if tail < _TAIL:
                break
            tails.append(tail)
            k += 1
        return tails

    def _cdf(self, x: float) -> float:
        raise NotImplementedError


class Constant(_Dist):
    """Always ``value``."""

    dist: Literal["constant"] = "constant"
    value: float = Field(ge=0, description="the value (MACs, operations, or a count)", **_FINITE)

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    def sample(self, rng: np.random.Generator) -> float:
        return self.value

    @property
    def upper(self) -> float:
        return self.value

    @property
    def count_mean(self) -> float:
        return float(_half_up(self.value))  # what summing the tails gives, in one step

    @property
    def count_variance(self) -> float:
        return 0.0

    def _cdf(self, x: float) -> float:
        return 1.0 if x >= self.value else 0.0


class Uniform(_Dist):
    """Uniform on ``[low, high]``; as a count, uniform over the integers ``low..high``."""

    dist: Literal["uniform"] = "uniform"
    low: float = Field(ge=0, description="smallest value", **_FINITE)
    high: float = Field(ge=0, description="largest value", **_FINITE)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    @property
    def upper(self) -> float:
        return self.high

    @property
    def count_upper(self) -> float:
        return math.floor(self.high)

    def sample_count(self, rng: np.random.Generator) -> int:
        lo, hi = self._int_bounds()
        return int(rng.integers(lo, hi + 1))

    @property
    def count_mean(self) -> float:
        lo, hi = self._int_bounds()
        return (lo + hi) / 2

    @property
    def count_variance(self) -> float:
        lo, hi = self._int_bounds()
        return ((hi - lo + 1) ** 2 - 1) / 12

    def _int_bounds(self) -> tuple[int, int]:
        lo, hi = math.ceil(self.low), math.floor(self.high)
        if hi < lo:
            raise ValueError(f"uniform count [{self.low}, {self.high}] holds no integer")
        return lo, hi


class Normal(_Dist):
    """Normal with the given ``mean`` and ``cv`` before truncation, truncated at 0.

    ``mean``/``variance`` are the moments *after* truncation, so they are exact for what
    ``sample`` returns (they differ from the parameters only when cv is large).
    """

    dist: Literal["normal"] = "normal"
    mean_: float = Field(alias="mean", ge=0, description="mean before truncation", **_FINITE)
    cv_: float = Field(alias="cv", ge=0, le=MAX_CV, description="std / mean before truncation",
                       **_FINITE)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def _sigma(self) -> float:
        return self.mean_ * self.cv_

    def _alpha(self) -> tuple[float, float]:
        """(phi(a), Z) for the truncation point a = -mu/sigma: density and kept mass."""
        a = -self.mean_ / self._sigma
        return _phi(a), 1.0 - _Phi(a)

    @property
    def mean(self) -> float:
        if self._sigma == 0:
            return self.mean_
        phi_a, z = self._alpha()
        return self.mean_ + self._sigma * phi_a / z

    @property
    def variance(self) -> float:
        if self._sigma == 0:
            return 0.0
        a = -self.mean_ / self._sigma
        phi_a, z = self._alpha()
        lam = phi_a / z
        return self._sigma**2 * (1 + a * lam - lam**2)

    def sample(self, rng: np.random.Generator) -> float:
        if self._sigma == 0:
            return self.mean_
        while True:  # rejection: acceptance >= 1/2 because the mean is >= 0
            x = rng.normal(self.mean_, self._sigma)
            if x >= 0:
                return float(x)

    @property
    def upper(self) -> float:
        return self.mean_ + _Z * self._sigma

    def _cdf(self, x: float) -> float:
        if self._sigma == 0:
            return 1.0 if x >= self.mean_ else 0.0
        if x <= 0:
            return 0.0
        lo = _Phi(-self.mean_ / self._sigma)
        return (_Phi((x - self.mean_) / self._sigma) - lo) / (1.0 - lo)


class LogNormal(_Dist):
    """Log-normal with the given ``mean`` and ``cv`` (of the variable itself, not its log)."""

    dist: Literal["lognormal"] = "lognormal"
    mean_: float = Field(alias="mean", gt=0, description="mean of the variable", **_FINITE)
    cv_: float = Field(alias="cv", ge=0, le=MAX_CV, description="std / mean of the variable",
                       **_FINITE)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def _log_params(self) -> tuple[float, float]:
        s2 = math.log1p(self.cv_**2)
        return math.log(self.mean_) - s2 / 2, math.sqrt(s2)

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return (self.mean_ * self.cv_) ** 2

    def sample(self, rng: np.random.Generator) -> float:
        mu, s = self._log_params
        return float(rng.lognormal(mu, s)) if s > 0 else self.mean_

    @property
    def upper(self) -> float:
        mu, s = self._log_params
        return math.exp(mu + _Z * s) if mu + _Z * s < 709 else math.inf

    def _cdf(self, x: float) -> float:
        if x <= 0:
            return 0.0
        mu, s = self._log_params
        if s == 0:
            return 1.0 if x >= self.mean_ else 0.0
        return _Phi((math.log(x) - mu) / s)


class Poisson(_Dist):
    """Poisson with the given ``mean`` (variance = mean)."""

    dist: Literal["poisson"] = "poisson"
    mean_: float = Field(alias="mean", ge=0, description="mean (= variance)", **_FINITE)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def variance(self) -> float:
        return self.mean_

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.poisson(self.mean_))

    def sample_count(self, rng: np.random.Generator) -> int:
        return int(rng.poisson(self.mean_))

    @property
    def upper(self) -> float:
        # Bernstein: P(X >= m + t) <= exp(-t^2 / (2 (m + t/3))); solved for exp(...) = TAIL.
        big_l = -math.log(TAIL)
        return math.ceil(self.mean_ + big_l / 3 + math.sqrt(big_l**2 / 9 + 2 * big_l * self.mean_))

    @property
    def count_upper(self) -> float:
        return self.upper

    @property
    def count_mean(self) -> float:
        return self.mean_

    @property
    def count_variance(self) -> float:
        return self.mean_


class Geometric(_Dist):
    """Number of loop iterations when each iteration continues with ``p_continue``: N >= 1."""

    dist: Literal["geometric"] = "geometric"
    p_continue: float = Field(ge=0, lt=1, description="probability of another iteration")

    @property
    def mean(self) -> float:
        return 1.0 / (1.0 - self.p_continue)

    @property
    def variance(self) -> float:
        return self.p_continue / (1.0 - self.p_continue) ** 2

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.geometric(1.0 - self.p_continue))

    def sample_count(self, rng: np.random.Generator) -> int:
        return int(rng.geometric(1.0 - self.p_continue))

    @property
    def upper(self) -> float:
        if self.p_continue == 0:
            return 1.0
        return float(max(1, math.ceil(math.log(TAIL) / math.log(self.p_continue))))

    @property
    def count_upper(self) -> float:
        return self.upper

    @property
    def count_mean(self) -> float:
        return self.mean

    @property
    def count_variance(self) -> float:
        return self.variance


class Empirical(_Dist):
    """One of ``values``, drawn with probability proportional to ``weights`` (default equal)."""

    dist: Literal["empirical"] = "empirical"
    values: list[Annotated[float, Field(ge=0, **_FINITE)]] = Field(
        min_length=1, description="the observed values"
    )
    weights: list[Annotated[float, Field(ge=0, **_FINITE)]] | None = Field(
        default=None, description="relative frequency of each value (default: equal)"
    )

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"{len(self.weights)} weights for {len(self.values)} values"
                )
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
            if not math.isfinite(sum(self.weights)):
                raise ValueError("weights sum to more than a float holds; scale them down")
        return self

    @property
    def _probs(self) -> np.ndarray:
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights)
        return w / w.sum()

    @property
    def mean(self) -> float:
        return float(np.dot(self._probs, self.values))

    @property
    def variance(self) -> float:
        v = np.asarray(self.values)
        return float(np.dot(self._probs, (v - self.mean) ** 2))

    def sample(self, rng: np.random.Generator) -> float:
        return float(self.values[rng.choice(len(self.values), p=self._probs)])

    @property
    def upper(self) -> float:
        return max(self.values)

    @property
    def count_mean(self) -> float:
        return float(np.dot(self._probs, self._rounded))

    @property
    def count_variance(self) -> float:
        return float(np.dot(self._probs, (self._rounded - self.count_mean) ** 2))

    @property
    def _rounded(self) -> np.ndarray:
        return np.floor(np.asarray(self.values) + 0.5)


Distribution = Annotated[
    Constant | Uniform | Normal | LogNormal | Poisson | Geometric | Empirical,
    Field(discriminator="dist"),
]


def _half_up(x: float) -> float:
    """``x`` rounded half up, as ``sample_count`` rounds (``inf`` stays ``inf``)."""
    return math.floor(x + 0.5) if math.isfinite(x) else x


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _Phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))
