"""First-order diffusion load balancing on a mesh of clusters.

Each cluster knows only its own load and its mesh neighbours' loads. Along every edge ``(i, j)``
whose load difference exceeds a dead band, ``alpha * (load_i - load_j)`` flows from the heavier
to the lighter cluster. Flows are computed from one snapshot, so the total is conserved, and for
``alpha <= 1 / (1 + max degree)`` the iteration converges: loads end within the dead band of
their neighbours. No global coordinator is involved.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["diffusion_flows", "diffusion_step"]


def diffusion_flows(loads: Sequence[float], neighbors: Sequence[Sequence[int]], alpha: float,
                    dead_band: float) -> list[tuple[int, int, float]]:
    """``(from, to, amount)`` per mesh edge whose load gap exceeds ``dead_band`` (each edge once).

    Args:
        loads: load per cluster (any unit; the amounts are in the same unit).
        neighbors: ``neighbors[i]`` are the clusters adjacent to ``i`` (symmetric).
        alpha: diffusion coefficient in (0, 1/2].
        dead_band: gaps at or below this move nothing.
    """
    if not 0 < alpha <= 0.5:
        raise ValueError(f"alpha must be in (0, 0.5], got {alpha}")
    flows = []
    for i, adj in enumerate(neighbors):
        for j in adj:
            if i < j:
                gap = loads[i] - loads[j]
                if abs(gap) > dead_band:
                    src, dst = (i, j) if gap > 0 else (j, i)
                    flows.append((src, dst, alpha * abs(gap)))
    return flows


def diffusion_step(loads: Sequence[float], neighbors: Sequence[Sequence[int]], alpha: float,
                   dead_band: float) -> list[float]:
    """Loads after applying one round of :func:`diffusion_flows`."""
    out = list(loads)
    for src, dst, amount in diffusion_flows(loads, neighbors, alpha, dead_band):
        out[src] -= amount
        out[dst] += amount
    return out
