"""The bridge from a hardware configuration to the workflow analysis' :class:`Capacity`, and the
per-block timings a run may give it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property, partial
from typing import Protocol

from octopus.arch import ArchConfig, compute_cycles, cycles_at_rate, work_rate
from octopus.workflow.analysis import BlockTiming, Capacity

__all__ = ["AtEfficiency", "FixedCycles", "LayerScaling", "arch_capacity"]


def arch_capacity(arch: ArchConfig, block_timing: Mapping[str, BlockTiming] | None = None
                  ) -> Capacity:
    """All TBUs of ``arch``, timed by :func:`octopus.arch.compute_cycles` (as the simulator is)
    except the blocks in ``block_timing`` (by block id), with control blocks at the CBU
    latency, and the machine's weight traffic as :mod:`octopus.sim.memory` charges it: a TBU
    holds configurations up to :attr:`ArchConfig.config_capacity_bytes`; it receives weights at
    its ``tbu.config_load_bytes_per_cycle`` port, or at a shared controller's
    ``memory.bytes_per_cycle`` if slower; the machine moves weights at every private port
    together, or at every shared controller together."""
    port = arch.tbu.config_load_bytes_per_cycle
    if arch.memory.placement == "private":
        machine_rate = arch.num_tbus * port
    else:
        port = min(port, arch.memory.bytes_per_cycle)
        machine_rate = arch.offchip_bytes_per_cycle
    return Capacity(
        units=arch.num_tbus,
        work_cycles=partial(compute_cycles, arch),
        control_cycles=arch.cbu.latency_cycles,
        block_timing=dict(block_timing or {}),
        config_capacity_bytes=arch.config_capacity_bytes,
        weight_port_bytes_per_cycle=port,
        weight_bytes_per_cycle=machine_rate,
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

    @cached_property
    def rate(self) -> tuple[int, int]:
        """MACs per cycle at :attr:`efficiency`, exact (:func:`~octopus.arch.work_rate`)."""
        return work_rate(self.arch, "ai", self.efficiency)

    def __call__(self, work: float) -> int:
        return cycles_at_rate(work, self.rate)
