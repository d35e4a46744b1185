"""Goodput: the highest arrival rate at which enough instances meet their SLO, found by a search.

:func:`search_goodput` measures the SLO attainment at a grid of loads (fractions of the
machine's capacity; these points also draw the latency and attainment curves), brackets the
goodput between the highest passing load and the lowest failing load above it, and bisects
the bracket until it is narrower than ``rel_tol`` of its upper end. Goodput is at most
``max_load`` (default 1: the capacity, the highest rate any schedule sustains; a finite run may
pass above it, which says nothing about steady state), and the search extends the grid
downwards (/ ``DOWN`` per step, to ``min_load``) when no load passes; a search ending at either
limit is *censored* and says so.

The goodput is the highest load measured to pass below the lowest load measured to fail: a rate
actually run, never an interpolation. Attainment under one seed is close to monotone in the rate
(common random numbers: the arrival pattern is the same, stretched), and the rule keeps the
answer conservative where it is not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

__all__ = ["DOWN", "GoodputSearch", "Probe", "search_goodput"]

M = TypeVar("M")
DOWN = 2.0


@dataclass(frozen=True)
class Probe(Generic[M]):
    """One measured load: its fraction of capacity, its SLO attainment, and what the measure
    returned with it (``detail``)."""

    load: float
    attainment: float
    detail: M


@dataclass(frozen=True)
class GoodputSearch(Generic[M]):
    """The outcome of :func:`search_goodput`.

    Attributes:
        goodput_load: highest passing load below the lowest failing one (fraction of capacity);
            0 when no load passed.
        failing_load: the lowest load measured to fail (``None`` when none failed).
        censored: ``"above"`` when ``max_load`` passed (the goodput is at least that),
            ``"below"`` when even ``min_load`` failed (it is below that), else ``None``.
        probes: every measurement, in the order taken (the grid first).
    """

    goodput_load: float
    failing_load: float | None
    censored: Literal["above", "below"] | None
    probes: tuple[Probe[M], ...]

    def curve(self, loads: Sequence[float]) -> list[Probe[M]]:
        """The probes at ``loads`` (the grid), in that order."""
        by_load = {p.load: p for p in self.probes}
        return [by_load[x] for x in loads]


def search_goodput(measure: Callable[[float], tuple[float, M]], grid: Sequence[float],
                   target: float = 0.99, rel_tol: float = 0.05, min_load: float = 1 / 64,
                   max_load: float = 1.0) -> GoodputSearch[M]:
    """Search the goodput (module doc). ``measure(load)`` runs at ``load`` x capacity and returns
    ``(attainment, detail)``; a load passes when its attainment is at least ``target``. Grid
    loads above ``max_load`` are measured (for the curves) but never count as goodput.

    Raises:
        ValueError: an empty grid, a grid load below ``min_load``, ``target`` outside (0, 1],
            or ``rel_tol`` outside (0, 1).
    """
    loads = sorted(set(grid))
    if not loads:
        raise ValueError("an empty grid of loads")
    if loads[0] < min_load or min_load > max_load:
        raise ValueError(f"grid loads must be at least min_load {min_load:g} <= max_load "
                         f"{max_load:g}, got {loads}")
    if not 0 < target <= 1:
        raise ValueError(f"target attainment must be in (0, 1], got {target}")
    if not 0 < rel_tol < 1:
        raise ValueError(f"rel_tol must be in (0, 1), got {rel_tol}")
    probes: list[Probe[M]] = []
    passed: dict[float, bool] = {}  # loads up to max_load

    def run(load: float) -> bool:
        attainment, detail = measure(load)
        probes.append(Probe(load, attainment, detail))
        ok = attainment >= target
        if load <= max_load:
            passed[load] = ok
        return ok

    for x in loads:
        run(x)
    if all(passed.values()):  # every load up to max_load passed
        if max_load not in passed:
            run(max_load)
        if passed[max_load]:
            return GoodputSearch(max_load, None, "above", tuple(probes))
    high = min(x for x, ok in passed.items() if not ok)
    load = high
    while not any(ok for x, ok in passed.items() if x < high):  # none below passed: go down
        if load <= min_load:
            return GoodputSearch(0.0, high, "below", tuple(probes))
        load = max(min_load, load / DOWN)
        if not run(load):
            high = load
    low = max(x for x, ok in passed.items() if ok and x < high)
    while high - low > rel_tol * high * (1 + 1e-9):  # a bracket of exactly rel_tol stops
        mid = (low + high) / 2
        if run(mid):
            low = mid
        else:
            high = mid
    return GoodputSearch(low, high, None, tuple(probes))
