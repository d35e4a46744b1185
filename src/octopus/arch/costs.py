"""Analytic costs of the hardware, in integer cycles. Pure functions of the configuration.

Rounding is always up (a partly used cycle is a used cycle). Efficiencies are floats in YAML;
they are read as the decimal the user wrote (``0.8`` is exactly 4/5), so e.g. 2048 MACs on a
16x16 array at 0.8 take exactly 10 cycles, not 11 through float round-off.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from numbers import Integral
from typing import Literal

from octopus.arch.config import ArchConfig

__all__ = [
    "bottleneck_bytes_per_cycle",
    "compute_cycles",
    "config_load_cycles",
    "cycles_at_rate",
    "memory_cycles",
    "offchip_read_cycles",
    "transfer_cycles",
    "work_rate",
]

WorkKind = Literal["ai", "general"]


def compute_cycles(arch: ArchConfig, kind: WorkKind, work: float,
                   efficiency: float | Fraction | None = None) -> int:
    """Cycles for one TBU to do ``work``: ``ceil(work / (rows * cols * efficiency))``.

    Args:
        kind: ``"ai"`` (``work`` in MACs, at ``pea.ai_efficiency``) or ``"general"`` (``work``
            in operations, at ``pea.general_efficiency``).
        work: MACs or operations, >= 0. Zero work takes zero cycles.
        efficiency: overrides the preset's efficiency, in (0, 1] (e.g. a block's efficiency
            from its layer model; a ``Fraction`` keeps the rounding exact).

    Raises:
        ValueError: unknown ``kind``, negative ``work`` or an efficiency outside (0, 1].
    """
    return cycles_at_rate(work, work_rate(arch, kind, efficiency))


def work_rate(arch: ArchConfig, kind: WorkKind,
              efficiency: float | Fraction | None = None) -> tuple[int, int]:
    """Work one TBU does per cycle, ``rows * cols * efficiency``, as an exact fraction
    ``(num, den)``: what :func:`compute_cycles` divides by, to be computed once per block and
    reused with :func:`cycles_at_rate` (the simulator times every firing).

    Raises:
        ValueError: unknown ``kind`` or an efficiency outside (0, 1].
    """
    if kind == "ai":
        eff = arch.pea.ai_efficiency
    elif kind == "general":
        eff = arch.pea.general_efficiency
    else:
        raise ValueError(f"unknown work kind {kind!r} (expected 'ai' or 'general')")
    if efficiency is not None:
        if not 0 < efficiency <= 1:
            raise ValueError(f"efficiency must be in (0, 1], got {efficiency}")
        eff = efficiency
    return _rate(arch.pea.rows * arch.pea.cols, eff)


def cycles_at_rate(work: float, rate: tuple[int, int]) -> int:
    """``ceil(work / (num / den))`` cycles for ``work`` at a :func:`work_rate` ``(num, den)``;
    exact for integer work.

    Raises:
        ValueError: negative ``work``.
    """
    num, den = rate
    if type(work) is float and work >= 0:  # Speed: the common case, ahead of the ABC check
        return math.ceil(work * den / num)
    if work < 0:
        raise ValueError(f"work must be >= 0, got {work}")
    if isinstance(work, Integral):
        return -(-int(work) * den // num)  # exact integer ceil
    return math.ceil(work * den / num)


def config_load_cycles(arch: ArchConfig, nbytes: float) -> int:
    """Cycles to make a configuration of ``nbytes`` resident on a TBU, uncontended.

    ``tbu.config_setup_cycles + read`` where ``read`` is :func:`offchip_read_cycles` at the
    TBU's configuration port. Callers skip the call when the configuration is already resident;
    ``nbytes == 0`` costs the setup only.

    Raises:
        ValueError: negative ``nbytes``.
    """
    return arch.tbu.config_setup_cycles + offchip_read_cycles(
        arch, nbytes, arch.tbu.config_load_bytes_per_cycle)


def memory_cycles(arch: ArchConfig, nbytes: float) -> int:
    """Cycles to read ``nbytes`` of data (inputs, spills) from off-chip memory, uncontended:
    :func:`offchip_read_cycles` at the TBU's memory port.

    Raises:
        ValueError: negative ``nbytes``.
    """
    return offchip_read_cycles(arch, nbytes, arch.tbu.memory_bytes_per_cycle)


def offchip_read_cycles(arch: ArchConfig, nbytes: float, port_bytes_per_cycle: int) -> int:
    """Cycles for one off-chip read of ``nbytes`` into a TBU whose port moves
    ``port_bytes_per_cycle``, with nothing else in the way and the controller next to the TBU.

    Private memory: ``ceil(nbytes / port)``. Shared controllers (``memory.placement``):
    ``memory.latency_cycles + ceil(nbytes / min(port, memory.bytes_per_cycle))``. Zero bytes
    cost 0 cycles. The simulator adds the controller's queue and the NoC hops from it.

    Raises:
        ValueError: negative ``nbytes``.
    """
    if nbytes == 0:
        return 0
    mem = arch.memory
    if mem.placement == "private":
        return _ceil_div(nbytes, port_bytes_per_cycle)
    return mem.latency_cycles + _ceil_div(nbytes, min(port_bytes_per_cycle, mem.bytes_per_cycle))


def transfer_cycles(arch: ArchConfig, intra_hops: int, d2d_hops: int, nbytes: float) -> int:
    """Cycles to move ``nbytes`` along a route with the given hops, ignoring contention.

    ``intra_hops * cluster.hop_latency_cycles + d2d_hops * chip.d2d_latency_cycles
    + ceil(nbytes / bottleneck)``, where the bottleneck is the slowest link class on the route
    (``cluster.link_bytes_per_cycle`` if ``intra_hops``, ``chip.d2d_bytes_per_cycle`` if
    ``d2d_hops``): data streams cut-through, so it flows at the slowest link's rate and each hop
    adds only its latency. Zero bytes or zero hops (same TBU) cost 0 cycles.

    Raises:
        ValueError: negative hops or bytes.
    """
    if intra_hops < 0 or d2d_hops < 0:
        raise ValueError(f"hops must be >= 0, got ({intra_hops}, {d2d_hops})")
    if nbytes < 0:
        raise ValueError(f"bytes must be >= 0, got {nbytes}")
    if nbytes == 0 or intra_hops + d2d_hops == 0:
        return 0
    latency = intra_hops * arch.cluster.hop_latency_cycles + d2d_hops * arch.chip.d2d_latency_cycles
    return latency + _ceil_div(nbytes, bottleneck_bytes_per_cycle(arch, intra_hops, d2d_hops))


def bottleneck_bytes_per_cycle(arch: ArchConfig, intra_hops: int, d2d_hops: int) -> int:
    """The slowest link bandwidth (bytes/cycle) on a route with these hops.

    Raises:
        ValueError: both hop counts are zero (no link, no bandwidth).
    """
    rates = []
    if intra_hops:
        rates.append(arch.cluster.link_bytes_per_cycle)
    if d2d_hops:
        rates.append(arch.chip.d2d_bytes_per_cycle)
    if not rates:
        raise ValueError("a route with no hops has no bottleneck bandwidth")
    return min(rates)


def _ceil_div(amount: float, per_cycle: int) -> int:
    """``ceil(amount / per_cycle)``, exact for integer amounts."""
    if amount < 0:
        raise ValueError(f"bytes must be >= 0, got {amount}")
    if isinstance(amount, Integral):
        return -(-int(amount) // per_cycle)
    return math.ceil(amount / per_cycle)


@lru_cache(maxsize=256)
def _rate(pes: int, efficiency: float | Fraction) -> tuple[int, int]:
    """Work per cycle ``pes * efficiency`` as an exact fraction ``(num, den)``."""
    exact = efficiency if isinstance(efficiency, Fraction) else Fraction(repr(efficiency))
    rate = pes * exact  # repr: the shortest decimal, i.e. what YAML held
    return rate.numerator, rate.denominator
