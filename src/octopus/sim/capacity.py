"""The bridge from a hardware configuration to the workflow analysis' :class:`Capacity`, and the
per-block timings a run may give it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from typing import Protocol

from octopus.arch import ArchConfig, compute_cycles
from octopus.workflow.analysis import BlockTiming, Capacity

__all__ = ["AtEfficiency", "FixedCycles", "LayerScaling", "arch_capacity"]


def arch_capacity(arch: ArchConfig, block_timing: Mapping[str, BlockTiming] | None = None
                  ) -> Capacity:
    """All TBUs of ``arch``, timed by :func:`octopus.arch.compute_cycles` (as the simulator is)
    except the blocks in ``block_timing`` (by block id), with control blocks at the CBU
    latency."""
    return Capacity(
        units=arch.num_clusters * arch.tbus_per_cluster,
        work_cycles=partial(compute_cycles, arch),
        control_cycles=arch.cbu.latency_cycles,
        block_timing=dict(block_timing or {}),
    )


@dataclass(frozen=True)
class FixedCycles:
    """A block timing: every firing takes ``cycles`` whatever its work (a block fitted as one
    model at one shape, e.g. a torch-defined block)."""

    cycles: int

    def __call__(self, work: float) -> int:
        return self.cycles


class LayerScaling(Protocol):
    """What a block's layers say about running it on several arrays or for several inputs
    (``octopus.cost.tables.TableScaling`` implements it from a layer table)."""

    def efficiency(self, arrays: int, batch: int) -> Fraction:
        """MACs per PE-cycle of each of ``arrays`` arrays running ``batch`` inputs at once."""
        ...

    def activation_bytes(self, batch: int) -> int:
        """Bytes of all the layers' outputs for ``batch`` inputs."""
        ...


@dataclass(frozen=True)
class AtEfficiency:
    """A block timing: ``compute_cycles`` of an AI firing at the efficiency its layers get on
    one array (``scaling.efficiency(1, 1)``) instead of ``pea.ai_efficiency``; ``scaling``
    also times it on a group of arrays and in a batch (:mod:`octopus.sim.parallel`)."""

    arch: ArchConfig
    scaling: LayerScaling

    @property
    def efficiency(self) -> Fraction:
        return self.scaling.efficiency(1, 1)

    def __call__(self, work: float) -> int:
        return compute_cycles(self.arch, "ai", work, self.efficiency)
