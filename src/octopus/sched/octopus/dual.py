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
  the whole weights for one firing, and the controllers saturate. Their replicas stream,
  firings that queue meanwhile riding along in the next batch, as a spatial compiler gives a
  network a region of its own. Batched, a streamed block costs about its compute, so its
  replicas are sized to it: as many TBUs as its share of the workflow's compute, in replicas
  as wide as that (at least the TBUs one memory controller serves, at most half the machine),
  within half the machine and outside the reserve below. It runs on them only: on an elastic
  group its stream would take the bandwidth of the controllers the elastic pool loads
  through. Measured (``goodput_ab.py``, ``chip-4``, 3 seeds, goodput / capacity): with
  replicas one controller wide, recommendation 0.069 -> 0.316 and llm-agent 0.029 -> 0.317
  over none; sized to the compute (recommendation's query tower, 63% of it, 32 wide),
  recommendation -> 0.486 (5 seeds); on replicas only (with each TBU reading through its own
  cluster's controller), llm-agent 0.044 -> 0.883, its decode otherwise streaming on 2-4-wide
  elastic groups, recommendation 0.214 -> 0.498. ``chip``'s one controller serves all 16
  TBUs, more than half of it, so no streamed replicas there; on ``wafer`` those blocks can be
  resident;
- *stable* blocks (work CV at most ``stable_cv``), whose steady demand keeps a replica busy.

The other candidates get replicas in proportion to their share of the demand (TBU-cycles),
rounded, within ``reserve_share`` of the TBUs the streamed replicas leave. Replicas are laid
out widest first (so aligned ranges stay free). The other TBUs are *elastic*: any block runs
there, reconfigured as work comes (least recently used out). Off: no replicas; every TBU is
elastic.
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
                  candidates: Collection[str], num_tbus: int, reserve_share: float,
                  streamed: Mapping[str, int] | None = None) -> Plan:
    """Replicas for ``candidates`` (module doc).

    Args:
        demand: TBU-cycles each block needs (any common scale; all blocks, candidates or not).
        widths: each candidate's replica width (a power of two at most ``num_tbus``).
        candidates: blocks that may get replicas.
        num_tbus: TBUs of the machine.
        reserve_share: most of the TBUs left to the other candidates (after the streamed
            replicas) that their replicas may take, in (0, 1].
        streamed: replicas wanted by each streamed candidate (sized by the caller to its
            compute), within half the machine.
    """
    streamed = streamed or {}
    total = sum(demand.values()) or 1.0
    widest_first = sorted(candidates, key=lambda b: (-widths[b], b not in streamed, -demand[b], b))
    counts = _counts([b for b in widest_first if b in streamed], streamed, widths,
                     num_tbus // 2)
    taken = sum(counts[b] * widths[b] for b in counts)
    others = [b for b in widest_first if b not in streamed]
    counts |= _counts(others, {b: round(num_tbus * demand[b] / total / widths[b]) for b in others},
                      widths, int((num_tbus - taken) * reserve_share))
    replicas: dict[str, tuple[tuple[int, ...], ...]] = {}
    used = 0  # replicas fill TBUs 0, 1, ...: widest first, so each next range is aligned
    for block in widest_first:
        k = widths[block]
        if counts[block]:
            replicas[block] = tuple(tuple(range(used + i * k, used + (i + 1) * k))
                                    for i in range(counts[block]))
            used += counts[block] * k
    return Plan(replicas, tuple(range(used, num_tbus)))


def _counts(blocks: list[str], wanted: Mapping[str, int], widths: Mapping[str, int],
            budget: int) -> dict[str, int]:
    """Replicas of each of ``blocks``, in order, as many as wanted while ``budget`` TBUs last."""
    counts = {}
    for block in blocks:
        counts[block] = min(wanted[block], budget // widths[block])
        budget -= counts[block] * widths[block]
    return counts
