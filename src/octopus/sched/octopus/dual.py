"""Discriminate Dual-Scheduling: which TBUs keep which blocks resident, and which are elastic.

A *replica* is a group of TBUs, an aligned range of ``width`` ids (so it spans as few clusters as
it can), that keeps one block's configuration resident: that block's firings run there without
loading anything. Replicas go to the blocks whose residency pays:

- *large* blocks, whose configuration does not fit one TBU and whose weights take more than a
  tenth of their compute to stream: elastic dispatch would stream them, or reload a group's
  worth of them, every time. They get replicas only where the machine can hold them (their
  narrowest resident width is at most its TBUs);
- *stable* blocks (work CV at most ``stable_cv``), whose steady demand keeps a replica busy.

A candidate gets replicas in proportion to its share of the demand (TBU-cycles), rounded,
widest first (so aligned ranges stay free), within ``reserve_share`` of the machine. The other
TBUs are *elastic*: any block runs there, reconfigured as work comes (least recently used out).
Off: no replicas; every TBU is elastic.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

__all__ = ["Plan", "plan_replicas"]


@dataclass(frozen=True)
class Plan:
    """Replicas by block (each a tuple of TBU ids, the first leading) and the elastic TBUs."""

    replicas: Mapping[str, tuple[tuple[int, ...], ...]]
    elastic: tuple[int, ...]

    @classmethod
    def all_elastic(cls, num_tbus: int) -> Plan:
        return cls({}, tuple(range(num_tbus)))


def plan_replicas(demand: Mapping[str, float], widths: Mapping[str, int],
                  candidates: Collection[str], num_tbus: int, reserve_share: float) -> Plan:
    """Replicas for ``candidates`` (module doc).

    Args:
        demand: TBU-cycles each block needs (any common scale; all blocks, candidates or not).
        widths: each candidate's replica width (a power of two at most ``num_tbus``).
        candidates: blocks that may get replicas.
        num_tbus: TBUs of the machine.
        reserve_share: most of the machine that replicas may take, in (0, 1].
    """
    total = sum(demand.values()) or 1.0
    budget = int(num_tbus * reserve_share)
    taken = [False] * num_tbus
    replicas: dict[str, list[tuple[int, ...]]] = {}
    for block in sorted(candidates, key=lambda b: (-widths[b], -demand[b], b)):
        k = widths[block]
        wanted = round(num_tbus * demand[block] / total / k)
        for _ in range(wanted):
            start = _free_range(taken, k) if budget >= k else None
            if start is None:
                break
            taken[start:start + k] = [True] * k
            budget -= k
            replicas.setdefault(block, []).append(tuple(range(start, start + k)))
    return Plan({b: tuple(r) for b, r in replicas.items()},
                tuple(u for u in range(num_tbus) if not taken[u]))


def _free_range(taken: list[bool], width: int) -> int | None:
    """The first aligned range of ``width`` untaken TBUs, or None."""
    for start in range(0, len(taken) - width + 1, width):
        if not any(taken[start:start + width]):
            return start
    return None
