"""Roofline cycles of one Task Block firing on one TBU. Pure: no torch.

One firing of an AI Task Block with ``macs`` multiply-accumulates that moves ``bytes_moved``
bytes over its TBU's off-chip memory link takes::

    cycles = setup + max(compute, memory)
    compute = ceil(macs / (pea.rows * pea.cols * efficiency))   # octopus.arch.compute_cycles
    memory  = ceil(bytes_moved / tbu.memory_bytes_per_cycle)    # octopus.arch.memory_cycles
    setup   = pea.rows + pea.cols                                # fill + drain of the array

``efficiency`` is the array's efficiency on the firing's own layers when they are known (the
systolic layer model, :mod:`octopus.cost.systolic`, which includes every layer's fill and drain,
so ``setup`` is then 0), else the preset's ``pea.ai_efficiency``.

Compute and memory traffic overlap perfectly (the roofline's optimistic assumption), so a firing is
compute-bound until its traffic needs more cycles than its MACs. ``bytes_moved`` counts only the
traffic *inside* the firing that the simulator does not already model: the configuration (weights)
is loaded by a reconfiguration, inputs arrive over the NoC (or as ``input_bytes`` from memory),
outputs leave over the NoC. What remains is activation spill (see :mod:`octopus.cost.fit`).
"""

from __future__ import annotations

import math
from fractions import Fraction

from octopus.arch import ArchConfig, compute_cycles, memory_cycles

__all__ = ["firing_setup_cycles", "tb_cycles"]


def firing_setup_cycles(arch: ArchConfig) -> int:
    """Fixed cycles per firing (and per kernel launch): ``pea.rows + pea.cols``, the time for
    operands to enter a systolic array and results to drain out of it."""
    return arch.pea.rows + arch.pea.cols


def tb_cycles(arch: ArchConfig, macs: float, bytes_moved: float = 0, *,
              slowdown: float = 0.0, setup_cycles: int | None = None,
              efficiency: float | Fraction | None = None) -> int:
    """Cycles of one AI firing: ``setup + max(ceil(compute * (1 + slowdown)), memory)``.

    Args:
        arch: the hardware (PEA size and efficiency, the TBU memory link).
        macs: multiply-accumulates of the firing, >= 0.
        bytes_moved: bytes over the TBU's off-chip memory link during the firing, >= 0.
        slowdown: relative extra compute time (e.g. a chunked program's loop overhead), >= 0.
        setup_cycles: fixed cost per firing; ``None`` means :func:`firing_setup_cycles`.
        efficiency: the array's efficiency on this firing's layers (``None``:
            ``pea.ai_efficiency``).

    Raises:
        ValueError: negative ``macs``, ``bytes_moved``, ``slowdown`` or ``setup_cycles``.
    """
    if slowdown < 0:
        raise ValueError(f"slowdown must be >= 0, got {slowdown}")
    setup = firing_setup_cycles(arch) if setup_cycles is None else setup_cycles
    if setup < 0:
        raise ValueError(f"setup_cycles must be >= 0, got {setup}")
    compute = compute_cycles(arch, "ai", macs, efficiency)
    if slowdown:
        compute = math.ceil(compute * (1.0 + slowdown))
    return setup + max(compute, memory_cycles(arch, bytes_moved))
