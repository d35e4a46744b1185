"""Estimate the activation peak of a graph under a chunk plan by a liveness walk.

Reads :class:`~.flow.GraphInfo` (built from the ``ac.*`` meta of :mod:`capture`); mutates
nothing. Counting rules, mirroring the code :mod:`codegen` emits:

- inputs and parameters are never counted; a node adds its newly allocated bytes when it runs
  (plus its kernel temporaries for the duration of the node); a storage is freed after the last
  use of any node aliasing it; graph outputs are never freed;
- a region first runs its hoisted nodes, then pre-allocates its outputs at full size, then runs
  one loop iteration with every chunked node's bytes and temporaries scaled by
  ``chunk_size / extent`` (rounded up), plus a temporary copy where an op that needs contiguous
  memory reads a non-contiguous slice; tensors from outside the loop that the loop reads stay alive
  until the loop ends.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .capture import flash_cpu_workspace_bytes
from .flow import Flow, GraphInfo

__all__ = ["Estimate", "estimate_peak", "live_before", "region_peak", "region_peaks"]


@dataclass(frozen=True)
class Estimate:
    """Result of a walk: the peak in bytes, where it happens and the live bytes per node."""

    peak_bytes: int
    peak_index: int
    node_peak: tuple[int, ...]


def estimate_peak(info: GraphInfo, regions: Sequence[tuple[Flow, int]] = ()) -> Estimate:
    """Walk the graph with ``regions`` (``(flow, chunk_size)``, disjoint) chunked."""
    by_start = {f.start: (f, c) for f, c in regions}
    n = len(info.nodes)
    node_peak = [0] * n
    live: dict[int, int] = {}  # owner index -> bytes counted
    total = 0
    i = 0
    while i < n:
        if i in by_start:
            flow, chunk = by_start[i]
            total = _walk_region(info, flow, chunk, live, total, node_peak)
            i = flow.end + 1
            continue
        out = info.out_bytes[i]
        node_peak[i] = total + out + info.temp_bytes[i]
        if out and info.owner[i] == i:
            live[i] = out
            total += out
        total = _free(info, i, live, total)
        i += 1
    peak_index = max(range(n), key=node_peak.__getitem__) if n else -1
    return Estimate(max(node_peak, default=0), peak_index, tuple(node_peak))


def region_peak(info: GraphInfo, flow: Flow, chunk: int, before: Sequence[int] = ()) -> int:
    """Peak inside one region alone, on top of the bytes live when it starts (``before``)."""
    return max(region_peaks(info, flow, chunk, before), default=0)


def region_peaks(info: GraphInfo, flow: Flow, chunk: int, before: Sequence[int] = ()) -> list[int]:
    """Per-node peaks of nodes ``flow.start..flow.end`` when the region runs chunked."""
    node_peak = [0] * len(info.nodes)
    base = sum(info.out_bytes[o] for o in before)
    _walk_region(info, flow, chunk, {o: info.out_bytes[o] for o in before}, base, node_peak)
    return node_peak[flow.start:flow.end + 1]


def live_before(info: GraphInfo, index: int) -> list[int]:
    """Owners alive just before node ``index`` in the unchunked graph."""
    return [o for o in range(index) if info.owner[o] == o and info.free_at[o] >= index]


def _free(info: GraphInfo, i: int, live: dict[int, int], total: int) -> int:
    for o in info.frees[i]:
        total -= live.pop(o, 0)
    return total


def _walk_region(info: GraphInfo, flow: Flow, chunk: int, live: dict[int, int], total: int,
                 node_peak: list[int]) -> int:
    frac = chunk / flow.extent
    chunked = dict(flow.chunked)
    loop_used = {info.owner[j] for k in chunked for j in info.inputs[k] if j not in chunked}
    frees = info.frees
    # 1. hoisted nodes, computed whole before the loop
    for h in flow.hoisted:
        out = info.out_bytes[h]
        node_peak[h] = total + out + info.temp_bytes[h]
        if out and info.owner[h] == h:
            live[h] = out
            total += out
        for o in frees[h]:
            if o not in loop_used:
                total -= live.pop(o, 0)
    # 2. outputs pre-allocated at full size
    for o in flow.outputs:
        total += info.full_bytes[o]
    # 3. one loop iteration on slices
    body: dict[int, int] = {}
    body_total = 0
    last_in_body: dict[int, int] = {}  # chunk buffer owner -> last loop node reading it
    for k in chunked:
        o = info.owner[k]
        if o in chunked:
            uses = [k, *[u for u in info.users[k] if u in chunked]]
            last_in_body[o] = max(last_in_body.get(o, k), *uses)
    for k in sorted(chunked):
        out = math.ceil(info.out_bytes[k] * frac)
        temp = _chunk_temp(info, k, chunked[k], chunk, frac) + _copy_bytes(info, k, chunked, frac)
        node_peak[k] = total + body_total + out + temp
        o = info.owner[k]
        if out and o == k:
            body[k] = out
            body_total += out
        for b in [b for b, last in last_in_body.items() if last == k]:
            body_total -= body.pop(b, 0)
    # 4. after the loop: chunk buffers are gone, outputs are whole, loop inputs may die
    for o in flow.outputs:
        total -= info.full_bytes[o]
        owner = info.owner[o] if info.owner[o] >= 0 else o
        live[owner] = live.get(owner, 0) + info.full_bytes[o]
        total += info.full_bytes[o]
    for k in range(flow.start, flow.end + 1):
        for o in frees[k]:
            total -= live.pop(o, 0)
    return total


def _chunk_temp(info: GraphInfo, k: int, d: int, chunk: int, frac: float) -> int:
    """Kernel temporaries of chunked node ``k``: scaled, except a flash-attention workspace."""
    ws = info.workspace[k]
    if ws is None:
        return math.ceil(info.temp_bytes[k] * frac)
    full = flash_cpu_workspace_bytes(*ws)
    rank = len(info.shape(k) or ())
    q_len = chunk if d == rank - 2 else ws[0]
    rest = max(0, info.temp_bytes[k] - full)
    return math.ceil(rest * frac) + flash_cpu_workspace_bytes(q_len, *ws[1:])


def _copy_bytes(info: GraphInfo, k: int, chunked: dict[int, int], frac: float) -> int:
    """Bytes of a contiguous copy of non-contiguous slices read by op ``k``."""
    if not info.needs_contiguous[k]:
        return 0
    dm = info.dims[k]
    assert dm is not None
    d = chunked[k]
    extra = 0
    for pos, inp in enumerate(dm.inputs):
        j = info.index[inp]
        jd = dm.out_map[d][pos]
        if j in chunked or jd is None:
            continue
        val = inp.meta.get("val")
        if not isinstance(val, torch.Tensor) or not val.is_contiguous():
            continue
        if math.prod(val.shape[:jd]) > 1:
            extra += math.ceil(info.full_bytes[j] * frac)
    return extra
