"""The bridge from a hardware configuration to the workflow analysis' :class:`Capacity`."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from octopus.arch import ArchConfig, compute_cycles
from octopus.workflow.analysis import Capacity

__all__ = ["arch_capacity"]


def arch_capacity(arch: ArchConfig, block_cycles: Mapping[str, int] | None = None) -> Capacity:
    """All TBUs of ``arch``, timed by :func:`octopus.arch.compute_cycles` (as the simulator is)
    except the blocks in ``block_cycles`` (fixed cycles per firing, by block id), with control
    blocks at the CBU latency."""
    return Capacity(
        units=arch.num_clusters * arch.tbus_per_cluster,
        work_cycles=partial(compute_cycles, arch),
        control_cycles=arch.cbu.latency_cycles,
        block_cycles=dict(block_cycles or {}),
    )
