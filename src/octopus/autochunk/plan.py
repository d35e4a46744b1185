"""Frozen plan records: what the search decides and what code generation consumes.

A :class:`ChunkPlan` is a tuple of disjoint :class:`ChunkRegion` s in graph order plus the
estimated peaks. Node references are node *names* of the captured graph, so a plan can be
printed, compared and stored without holding the graph.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ChunkPlan", "ChunkRegion", "format_bytes"]


@dataclass(frozen=True)
class ChunkRegion:
    """One chunk loop: nodes ``start``..``end`` (inclusive, graph order) run ``iterations`` times.

    Attributes:
        start: name of the first node of the range.
        end: name of the last node; its output is always chunked along ``dim``.
        dim: chunk dimension of ``end``'s output.
        extent: size of the chunked dimension (the same on every chunked node).
        chunk_size: slice length per iteration, ``2 <= iterations`` is guaranteed.
        chunk_dims: ``(node, dim)`` for every node computed inside the loop on slices.
        hoisted: nodes of the range computed once before the loop (they do not depend on the
            chunked dimension).
        sliced_inputs: ``(node, dim)`` for tensors made outside the loop and read in slices.
        outputs: chunked nodes used after the region; pre-allocated at full size.
    """

    start: str
    end: str
    dim: int
    extent: int
    chunk_size: int
    chunk_dims: tuple[tuple[str, int], ...]
    hoisted: tuple[str, ...]
    sliced_inputs: tuple[tuple[str, int], ...]
    outputs: tuple[str, ...]

    @property
    def iterations(self) -> int:
        """Number of loop iterations, ``ceil(extent / chunk_size)``."""
        return -(-self.extent // self.chunk_size)


@dataclass(frozen=True)
class ChunkPlan:
    """A full chunking plan for one graph.

    Attributes:
        regions: disjoint regions in graph order.
        peak_before_bytes: estimated activation peak of the original graph.
        peak_after_bytes: estimated activation peak with all regions chunked.
        budget_bytes: the budget the search aimed for (``None`` if none was given).
        predicted_slowdown: the cost model's relative time overhead (0.05 means 5% slower).
        search_s: wall time of the search in seconds.
        peak_node: the node holding the peak after chunking.
        simulated_peak_bytes: peak of the generated program run once on fake tensors
            (``None`` when not simulated).
        eager_peak_bytes: activation peak of the eager module the graph was captured from
            (simulated on fake tensors or measured; ``None`` when unknown). Fractional budgets
            are fractions of it.
    """

    regions: tuple[ChunkRegion, ...]
    peak_before_bytes: int
    peak_after_bytes: int
    budget_bytes: int | None = None
    predicted_slowdown: float = 0.0
    search_s: float = 0.0
    peak_node: str = ""
    simulated_peak_bytes: int | None = None
    eager_peak_bytes: int | None = None

    @property
    def meets_budget(self) -> bool:
        """True when no budget was set or the estimated peak is within it."""
        return self.budget_bytes is None or self.peak_after_bytes <= self.budget_bytes

    def explain(self) -> str:
        """A human-readable summary: regions, chunk dims and sizes, peaks before and after."""
        budget = "none" if self.budget_bytes is None else format_bytes(self.budget_bytes)
        cut = 1.0 - self.peak_after_bytes / max(self.peak_before_bytes, 1)
        lines = [
            f"AutoChunk plan: {len(self.regions)} region(s), budget {budget}",
            f"  estimated peak {format_bytes(self.peak_before_bytes)} -> "
            f"{format_bytes(self.peak_after_bytes)} ({cut:.0%} cut) at {self.peak_node or '-'}",
            f"  predicted slowdown {self.predicted_slowdown:+.1%}, search {self.search_s:.2f} s",
        ]
        if self.eager_peak_bytes:
            lines.append(f"  eager module's peak {format_bytes(self.eager_peak_bytes)}"
                         f" (budget fractions refer to it)")
            over = self.peak_before_bytes / self.eager_peak_bytes - 1
            if over > 0.05:
                lines.append(
                    f"  note: the captured graph peaks {over:.0%} above the eager module (it "
                    f"materialises tensors eager skips, e.g. a causal mask); the real cut is "
                    f"{1 - self.peak_after_bytes / self.eager_peak_bytes:.0%} of eager")
        if self.simulated_peak_bytes is not None:
            lines.append(f"  simulated peak of the generated code "
                         f"{format_bytes(self.simulated_peak_bytes)}")
        for i, r in enumerate(self.regions):
            dims = ", ".join(f"{n}:{d}" for n, d in r.chunk_dims)
            lines.append(
                f"  region {i}: {r.start} .. {r.end}, dim {r.dim} of extent {r.extent}, "
                f"chunk {r.chunk_size} x {r.iterations} iterations"
            )
            lines.append(f"    chunked: {dims}")
            if r.hoisted:
                lines.append(f"    hoisted: {', '.join(r.hoisted)}")
            if r.sliced_inputs:
                sl = ", ".join(f"{n}[dim {d}]" for n, d in r.sliced_inputs)
                lines.append(f"    sliced inputs: {sl}")
            lines.append(f"    pre-allocated outputs: {', '.join(r.outputs)}")
        return "\n".join(lines)


def format_bytes(n: int | float) -> str:
    """``1536 -> '1.50 KiB'``; binary units."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    return f"{value:.2f} GiB"
