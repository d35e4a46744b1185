"""Search a chunk plan that brings the estimated activation peak under a budget.

Reads a :class:`~.flow.GraphInfo`; returns a :class:`SearchResult`; mutates nothing. Stages:

1. estimate the current plan (:mod:`estimate`) and find its peak node ``p``;
2. candidate ranges: every start in ``[p - window, p]`` and the ``max_ends`` ends in
   ``[p, p + window]`` where the live set is smallest (plus ``p`` itself);
3. trace every (start, end, dim) (:func:`~.flow.trace_flow`, cached); a range overlapping an
   existing region must contain it and replaces it;
4. for each legal flow choose the largest chunk size whose region peak meets the budget (at least
   two iterations; when none does, the one reaching the lowest region peak; with an overhead cap,
   fewer iterations until the cap holds), also cached;
5. a candidate must lower the peak at ``p`` (other nodes, e.g. identical layers, may tie); the
   new plan's peak comes from the old per-node peaks outside the range and the region's own walk;
6. keep the ``beam_width`` best plans ranked by ``(max(peak, budget), bytes over budget left,
   predicted overhead)``: plans under the budget compete on speed, the others on memory. Plans
   reached twice are merged (the dynamic-programming state is the set of regions). Repeat until
   the best plans meet the budget or no candidate lowers the peak.

Never raises for an unreachable budget: :attr:`SearchResult.meets_budget` says so and
``lowest_peak_bytes`` gives the lowest peak any explored plan reached.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .cost import CostModel
from .estimate import Estimate, estimate_peak, live_before, region_peak, region_peaks
from .flow import Flow, GraphInfo, trace_flow

__all__ = ["SearchResult", "search"]

Region = tuple[Flow, int]


@dataclass(frozen=True)
class SearchResult:
    """The chosen regions, their estimate and predicted overhead."""

    regions: tuple[Region, ...]
    estimate: Estimate
    base: Estimate
    overhead_s: float
    base_time_s: float
    lowest_peak_bytes: int
    budget_bytes: int | None

    @property
    def meets_budget(self) -> bool:
        """Whether the chosen plan's estimated peak is within the budget."""
        return self.budget_bytes is None or self.estimate.peak_bytes <= self.budget_bytes


@dataclass(frozen=True)
class _State:
    regions: tuple[Region, ...]
    est: Estimate
    overhead_s: float


def search(info: GraphInfo, budget_bytes: int, *, beam_width: int = 3, window: int = 64,
           max_ends: int = 6, max_stages: int = 400, cost: CostModel | None = None,
           max_overhead_s: float | None = None) -> SearchResult:
    """Beam search over stages (see module doc). ``max_overhead_s`` caps predicted slowdown."""
    cost = cost or CostModel()
    ctx = _Context(info, budget_bytes, cost, window, max_ends, max_overhead_s)
    base = estimate_peak(info)
    start = _State((), base, 0.0)
    beam = [start]
    lowest = base.peak_bytes
    best_low = start
    for _ in range(max_stages):
        grown: dict[tuple, tuple[tuple[Region, ...], int, int, float]] = {}
        progressed = False
        for st in beam:
            if st.est.peak_bytes <= budget_bytes:
                grown.setdefault(_key(st.regions), (st.regions, st.est.peak_bytes, 0,
                                                    st.overhead_s))
                continue
            for cand in ctx.expand(st):
                progressed = True
                grown.setdefault(_key(cand[0]), cand)
        if not progressed:
            break
        ranked = sorted(grown.values(), key=lambda c: ctx.rank(c[1], c[3], c[2]))[:beam_width]
        beam = [_State(r, estimate_peak(info, r), o) for r, _, _, o in ranked]
        for st in beam:
            if st.est.peak_bytes < lowest:
                lowest, best_low = st.est.peak_bytes, st
        if all(s.est.peak_bytes <= budget_bytes for s in beam):
            break
    feasible = [s for s in beam if s.est.peak_bytes <= budget_bytes]
    best = min(feasible, key=lambda s: ctx.rank(s.est.peak_bytes, s.overhead_s)) if feasible \
        else best_low
    return SearchResult(best.regions, best.est, base, best.overhead_s, cost.graph_time_s(info),
                        lowest, budget_bytes)


def _key(regions: Sequence[Region]) -> tuple:
    return tuple(sorted((f.start, f.end, f.dim, c) for f, c in regions))


class _Context:
    def __init__(self, info: GraphInfo, budget: int, cost: CostModel, window: int,
                 max_ends: int, max_overhead_s: float | None) -> None:
        self.info, self.budget, self.cost = info, budget, cost
        self.window, self.max_ends, self.max_overhead_s = window, max_ends, max_overhead_s
        self.flows: dict[tuple[int, int, int], Flow | None] = {}
        self.picked: dict[tuple[int, int, int], tuple[int, float, int, int] | None] = {}
        base = estimate_peak(info)
        self.live_in = [base.node_peak[i] - info.out_bytes[i] - info.temp_bytes[i]
                        for i in range(len(info.nodes))]

    def rank(self, peak: int, overhead_s: float, excess: int = 0) -> tuple[int, int, float]:
        """Lower is better: peak (clipped at the budget), bytes-over-budget left, overhead."""
        return (max(peak, self.budget), excess, overhead_s)

    def excess(self, peaks: Sequence[int]) -> int:
        """Sum over nodes of bytes above the budget: the work later stages still face."""
        return sum(p - self.budget for p in peaks if p > self.budget)

    def expand(self, st: _State) -> list[tuple[tuple[Region, ...], int, int, float]]:
        """Candidate plans (regions, peak, excess, overhead) lowering the peak at its node."""
        info = self.info
        p = st.est.peak_index
        old = st.est.node_peak
        prefix = list(itertools.accumulate(old, max))
        suffix = list(itertools.accumulate(reversed(old), max))[::-1]
        over = [0, *itertools.accumulate(max(0, x - self.budget) for x in old)]
        lo, hi = max(0, p - self.window), min(len(info.nodes) - 1, p + self.window)
        starts = [s for s in range(lo, p + 1) if self._can_start(s)]
        ends = [e for e in range(p, hi + 1) if info.is_tensor(e) and info.dims[e] is not None]
        ends = sorted(ends, key=lambda e: (self._live_out(e), e))[: self.max_ends]
        if p in range(lo, hi + 1) and p not in ends and info.is_tensor(p):
            ends.append(p)
        out = []
        for s in starts:
            for e in ends:
                shrunk = self._shrink(st.regions, s, e)
                if shrunk is None:
                    continue  # partial overlap that cannot be resolved
                kept, tail = shrunk
                for d in range(len(info.shape(e) or ())):
                    picked = self._pick(s, e, d)
                    if picked is None:
                        continue
                    flow = self.flows[(s, e, d)]
                    chunk, overhead, region_max, region_excess = picked
                    if region_max >= st.est.peak_bytes:
                        continue  # does not lower the peak where it is
                    last = e
                    if tail is not None:  # the shrunk region after the new one
                        t_pick = self._pick(tail[0].start, tail[0].end, tail[0].dim)
                        region_max = max(region_max, t_pick[2])
                        region_excess += t_pick[3]
                        last = tail[0].end
                    peak = max(prefix[s - 1] if s else 0, region_max,
                               suffix[last + 1] if last + 1 < len(old) else 0)
                    excess = over[s] + region_excess + over[-1] - over[last + 1]
                    new_regions = [*kept, (flow, chunk)] + ([tail] if tail else [])
                    regions = tuple(sorted(new_regions, key=lambda r: r[0].start))
                    total = overhead + sum(self._pick(f.start, f.end, f.dim)[1]
                                           for f, _ in [*kept, *([tail] if tail else [])])
                    if self.max_overhead_s is not None and total > self.max_overhead_s:
                        continue
                    out.append((regions, peak, excess, total))
        return out

    def _shrink(self, regions: Sequence[Region], s: int,
                e: int) -> tuple[list[Region], Region | None] | None:
        """Regions kept beside a new range ``s..e``, and an existing region cut to start after it.

        Regions inside ``s..e`` are replaced; one that starts inside and ends after it is cut to
        ``e+1..end`` if that flow is legal (its head, e.g. a hoisted computation, moves into the
        new region); any other overlap makes the range unusable (``None``).
        """
        kept: list[Region] = []
        tail: Region | None = None
        for flow, chunk in regions:
            if flow.end < s or flow.start > e or (s <= flow.start and flow.end <= e):
                if flow.end < s or flow.start > e:
                    kept.append((flow, chunk))
                continue
            if s <= flow.start <= e < flow.end and tail is None:
                picked = self._pick(e + 1, flow.end, flow.dim)
                if picked is None:
                    return None
                tail = (self.flows[(e + 1, flow.end, flow.dim)], picked[0])
                continue
            return None
        return kept, tail

    def _can_start(self, s: int) -> bool:
        node = self.info.nodes[s]
        return node.op not in ("placeholder", "output") and (
            self.info.dims[s] is not None or node.op == "get_attr")

    def _live_out(self, e: int) -> int:
        return self.live_in[e + 1] if e + 1 < len(self.live_in) else 0

    def _pick(self, s: int, e: int, d: int) -> tuple[int, float, int, int] | None:
        """Cached (chunk, overhead, region peak, region excess) for flow ``(s, e, d)``."""
        key = (s, e, d)
        if key not in self.picked:
            flow = trace_flow(self.info, s, e, d)
            self.flows[key] = flow
            self.picked[key] = None if flow is None else self._chunk_size(flow)
        return self.picked[key]

    def _chunk_size(self, flow: Flow) -> tuple[int, float, int, int] | None:
        """Largest chunk (fewest iterations, >= 2) whose region peak meets the budget.

        Node peaks in a region are close to linear in ``chunk / extent``: two walks (at 0 and at
        the full extent) give the answer, checked by a third; bisection if the check fails.
        """
        before = live_before(self.info, flow.start)
        n = flow.extent

        def peak(iters: int) -> int:
            return region_peak(self.info, flow, math.ceil(n / iters), before)

        p0 = region_peaks(self.info, flow, 0, before)
        p1 = region_peaks(self.info, flow, n, before)
        floor = max(a + (b - a) / n for a, b in zip(p0, p1, strict=True))
        target = max(self.budget, int(floor * 1.02))
        frac = min(((target - a) / (b - a) for a, b in zip(p0, p1, strict=True) if b > a),
                   default=1.0)
        chunk = max(1, min(math.ceil(n / 2), int(frac * n)))
        iters = math.ceil(n / chunk)
        for _ in range(3):
            if peak(iters) <= target:
                break
            iters = min(n, iters + 1)
        else:
            # peak(n) <= target (floor), target < peak(2): the fewest iterations that fit
            iters = _bisect(2, n, lambda it: peak(it) <= target)[1]
        if self.max_overhead_s is not None:
            iters = self._cap_iterations(flow, iters)
            if iters is None:
                return None
        chunk = math.ceil(n / iters)
        if math.ceil(n / chunk) < 2:
            return None
        overhead = self.cost.region_overhead_s(self.info, flow, chunk)
        peaks = region_peaks(self.info, flow, chunk, before)
        return chunk, overhead, max(peaks), self.excess(peaks)

    def _cap_iterations(self, flow: Flow, iters: int) -> int | None:
        """Fewer iterations (larger chunks) until the predicted overhead fits the cap."""
        n, cap = flow.extent, self.max_overhead_s or 0.0

        def over(it: int) -> float:
            return self.cost.region_overhead_s(self.info, flow, math.ceil(n / it))

        if over(iters) <= cap:
            return iters
        if over(2) > cap:
            return None
        # over(2) <= cap < over(iters): the most iterations whose overhead fits
        return _bisect(2, iters, lambda it: over(it) > cap)[0]


def _bisect(lo: int, hi: int, at_hi: Callable[[int], bool]) -> tuple[int, int]:
    """Narrow ``[lo, hi]`` to adjacent integers, keeping ``at_hi(hi)`` true and ``at_hi(lo)``
    false (``at_hi`` must be monotone: false up to some point, true from there)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if at_hi(mid):
            hi = mid
        else:
            lo = mid
    return lo, hi
