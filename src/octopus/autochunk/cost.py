"""A speed model for chunk regions: how much slower a plan runs than the original graph.

Pure functions of :class:`~.flow.GraphInfo` facts (FLOPs, bytes, node counts); no timing is run.
Overhead of one region with ``iters = ceil(extent / chunk)`` iterations:

- per-iteration dispatch: ``(iters - 1) * body_ops * launch_s`` (each op in the loop body, plus the
  ``narrow`` of each sliced input and the copy into each pre-allocated output, is launched once per
  iteration instead of once);
- small kernels: the region's FLOP time times ``knee_rows / chunk`` (kernels lose efficiency when
  the chunked dim gets short);
- copies: writing outputs into the pre-allocated buffers, plus contiguous copies of
  non-contiguous slices, at ``copy_bytes_per_s``; a chunk dim that is not the outermost non-unit
  dim of a sliced input counts as non-contiguous.

The graph's own time is ``FLOPs / flops_per_s + bytes written / mem_bytes_per_s + ops *
launch_s``; the defaults were fitted to eager times of the four benchmark families on this
machine (one thread, torch 2.13 CPU: within 10% on GPT, ViT, Evoformer and UNet). The ranking of
candidates matters more than the absolute value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .flow import Flow, GraphInfo

__all__ = ["CostModel"]


@dataclass(frozen=True)
class CostModel:
    """Coefficients of the speed model (seconds, FLOP/s, bytes/s)."""

    launch_s: float = 8e-6
    flops_per_s: float = 6.0e10
    mem_bytes_per_s: float = 1.5e9
    copy_bytes_per_s: float = 4.0e9
    knee_rows: float = 2.0

    def graph_time_s(self, info: GraphInfo) -> float:
        """Predicted time of the unchunked graph."""
        ops = sum(1 for n in info.nodes if n.op.startswith("call"))
        return (sum(info.flops) / self.flops_per_s + sum(info.out_bytes) / self.mem_bytes_per_s
                + ops * self.launch_s)

    def region_overhead_s(self, info: GraphInfo, flow: Flow, chunk: int) -> float:
        """Predicted extra time of running ``flow`` in chunks of ``chunk``."""
        iters = math.ceil(flow.extent / chunk)
        body_ops = len(flow.chunked) + len(flow.sliced) + len(flow.outputs)
        flop_s = sum(info.flops[k] for k, _ in flow.chunked) / self.flops_per_s
        copied = sum(info.full_bytes[o] for o in flow.outputs)
        for j, d in flow.sliced:
            shape = info.shape(j) or ()
            if math.prod(shape[:d]) > 1:
                copied += info.full_bytes[j]
        return ((iters - 1) * body_ops * self.launch_s + flop_s * self.knee_rows / chunk
                + copied / self.copy_bytes_per_s)
