"""Discriminate Dual-Scheduling: which TBUs keep which blocks resident, and which are elastic.

A *replica* is a group of TBUs, an aligned range of ``width`` ids (so it spans as few clusters as
it can), that keeps one block's configuration resident: that block's firings run there without
loading anything. Replicas go to the blocks whose residency pays:

- *large* blocks, whose configuration does not fit one TBU and whose weights take more than a
  tenth of their compute to stream: elastic dispatch would stream them, or reload a group's
  worth of them, every time. They get replicas only where the machine can hold them (their
  narrowest resident width is at most its TBUs);
- *streamed* blocks, memory-bound ones (:meth:`~.adaptive.Sizing.memory_bound`) too large
  for any group to hold: left elastic, their firings spread over narrow groups, each streaming
  the whole weights through one controller for one firing, and the controllers saturate. Their
  replica streams: as wide as the TBUs one memory controller serves, so that its stream has a
  controller of its own and the firings that queue meanwhile ride along in its next batch, as
  a spatial compiler gives a network a region of its own (measured, ``goodput_ab.py``, 3
  seeds, goodput / capacity: recommendation ``chip-4``, its 110 MB query tower, 0.069 ->
  0.316; llm-agent ``chip-4`` 0.029 -> 0.317; speech-assistant ``chip-4`` 0.203 -> 0.240;
  unchanged on ``chip``, whose one controller serves all 16 TBUs, more than the reserve,
  and on ``wafer``, where those blocks can be resident);
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
    used = 0  # replicas fill TBUs 0, 1, ...: widest first, so each next range is aligned
    replicas: dict[str, list[tuple[int, ...]]] = {}
    for block in sorted(candidates, key=lambda b: (-widths[b], -demand[b], b)):
        k = widths[block]
        wanted = round(num_tbus * demand[block] / total / k)
        for _ in range(wanted):
            if used + k > budget:
                break
            replicas.setdefault(block, []).append(tuple(range(used, used + k)))
            used += k
    return Plan({b: tuple(r) for b, r in replicas.items()}, tuple(range(used, num_tbus)))
