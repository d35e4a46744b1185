"""Search a chunk plan that brings the estimated activation peak under a budget.

Reads a :class:`~.flow.GraphInfo`; returns a :class:`SearchResult`; mutates nothing. Steps:

1. estimate the current plan and find its peak node (:mod:`estimate`);
2. bound a window around the peak node (``window`` nodes each side, stopping at existing regions)
   and keep the ``max_ends`` start/end positions where the live set is smallest;
3. trace every (start, end, dim) in the window (:func:`~.flow.trace_flow`); a range overlapping an
   existing region must contain it and replaces it;
4. for each legal flow choose the largest chunk size whose region peak meets the budget (at least
   two iterations; when none does, the one reaching the lowest region peak);
5. keep the ``beam_width`` best plans, ranked by ``(max(peak, budget), predicted overhead)``: plans
   under the budget compete on speed, the others on peak. Plans reached twice are merged (the
   dynamic-programming state is the set of regions). Repeat until the best plans meet the budget
   or no candidate lowers the peak.

Never raises for an unreachable budget: :attr:`SearchResult.meets_budget` says so and
``lowest_peak_bytes`` gives the lowest peak any explored plan reached.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from .cost import CostModel
from .estimate import Estimate, estimate_peak, live_before, region_peak
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


def search(info: GraphInfo, budget_bytes: int, *, beam_width: int = 3, window: int = 40,
           max_ends: int = 6, max_stages: int = 200, cost: CostModel | None = None,
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
        grown: dict[tuple, _State] = {}
        progressed = False
        for st in beam:
            if st.est.peak_bytes <= budget_bytes:
                grown.setdefault(_key(st), st)
                continue
            for new in ctx.expand(st):
                progressed = True
                grown.setdefault(_key(new), new)
                if new.est.peak_bytes < lowest:
                    lowest, best_low = new.est.peak_bytes, new
        if not progressed:
            break
        beam = sorted(grown.values(), key=ctx.rank)[:beam_width]
        if all(s.est.peak_bytes <= budget_bytes for s in beam):
            break
    feasible = [s for s in beam if s.est.peak_bytes <= budget_bytes]
    best = min(feasible, key=ctx.rank) if feasible else best_low
    return SearchResult(best.regions, best.est, base, best.overhead_s, cost.graph_time_s(info),
                        lowest, budget_bytes)


def _key(st: _State) -> tuple:
    return tuple(sorted((f.start, f.end, f.dim, c) for f, c in st.regions))


class _Context:
    def __init__(self, info: GraphInfo, budget: int, cost: CostModel, window: int,
                 max_ends: int, max_overhead_s: float | None) -> None:
        self.info, self.budget, self.cost = info, budget, cost
        self.window, self.max_ends, self.max_overhead_s = window, max_ends, max_overhead_s
        self.flows: dict[tuple[int, int, int], Flow | None] = {}
        self.chunks: dict[tuple[int, int, int], tuple[int, float] | None] = {}
        base = estimate_peak(info)
        self.live_in = [base.node_peak[i] - info.out_bytes[i] - info.temp_bytes[i]
                        for i in range(len(info.nodes))]

    def rank(self, st: _State) -> tuple[int, float]:
        return (max(st.est.peak_bytes, self.budget), st.overhead_s)

    def expand(self, st: _State) -> list[_State]:
        info = self.info
        p = st.est.peak_index
        taken = sorted((f.start, f.end) for f, _ in st.regions)
        lo, hi = max(0, p - self.window), min(len(info.nodes) - 1, p + self.window)
        starts = [s for s in range(lo, p + 1) if self._can_start(s)]
        ends = [e for e in range(p, hi + 1) if info.is_tensor(e) and info.dims[e] is not None]
        starts = sorted(starts, key=lambda s: (self.live_in[s], -s))[: self.max_ends]
        ends = sorted(ends, key=lambda e: (self._live_out(e), e))[: self.max_ends]
        out: list[_State] = []
        for s in starts:
            for e in ends:
                kept = [r for r in st.regions if r[0].end < s or r[0].start > e]
                if any(not (r[0].end < s or r[0].start > e) and not (
                        s <= r[0].start and r[0].end <= e) for r in st.regions):
                    continue  # partial overlap with an existing region
                if len(kept) != len(st.regions) and not any(a <= p <= b for a, b in taken):
                    continue  # only grow over an existing region when it holds the peak
                for d in range(len(info.shape(e) or ())):
                    new = self._try(st, kept, s, e, d)
                    if new is not None:
                        out.append(new)
        return out

    def _can_start(self, s: int) -> bool:
        node = self.info.nodes[s]
        return node.op not in ("placeholder", "output") and (
            self.info.dims[s] is not None or node.op == "get_attr")

    def _live_out(self, e: int) -> int:
        return self.live_in[e + 1] if e + 1 < len(self.live_in) else 0

    def _try(self, st: _State, kept: Sequence[Region], s: int, e: int, d: int) -> _State | None:
        key = (s, e, d)
        if key not in self.flows:
            self.flows[key] = trace_flow(self.info, s, e, d)
        flow = self.flows[key]
        if flow is None:
            return None
        if key not in self.chunks:
            self.chunks[key] = self._chunk_size(flow)
        picked = self.chunks[key]
        if picked is None:
            return None
        chunk, overhead = picked
        regions = tuple(sorted([*kept, (flow, chunk)], key=lambda r: r[0].start))
        est = estimate_peak(self.info, regions)
        if est.peak_bytes >= st.est.peak_bytes:
            return None  # does not lower the peak
        total = sum(self.cost.region_overhead_s(self.info, f, c) for f, c in regions)
        if self.max_overhead_s is not None and total > self.max_overhead_s:
            return None
        _ = overhead
        return _State(regions, est, total)

    def _chunk_size(self, flow: Flow) -> tuple[int, float] | None:
        """Largest chunk (fewest iterations, >= 2) whose region peak meets the budget."""
        before = live_before(self.info, flow.start)
        n = flow.extent

        def peak(iters: int) -> int:
            return region_peak(self.info, flow, math.ceil(n / iters), before)

        floor = peak(n)
        target = max(self.budget, int(floor * 1.02))
        if peak(2) <= target:
            iters = 2
        else:
            lo, hi = 2, n  # peak(hi) <= target < peak(lo)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if peak(mid) <= target:
                    hi = mid
                else:
                    lo = mid
            iters = hi
        chunk = math.ceil(n / iters)
        if math.ceil(n / chunk) < 2:
            return None
        overhead = self.cost.region_overhead_s(self.info, flow, chunk)
        if self.max_overhead_s is not None and overhead > self.max_overhead_s:
            return None
        return chunk, overhead
