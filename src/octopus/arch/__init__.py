"""The hardware model of a scale-out spatial architecture.

Configs (:mod:`~octopus.arch.config`), YAML presets and loading (:mod:`~octopus.arch.loader`),
TBU/link numbering and XY routing (:mod:`~octopus.arch.topology`) and analytic cycle costs
(:mod:`~octopus.arch.costs`). See ``docs/hardware.md``.
"""

from octopus.arch.config import (
    ArchConfig,
    CBUConfig,
    ChipConfig,
    ClusterConfig,
    HostConfig,
    MemoryConfig,
    NocConfig,
    PEAConfig,
    TBUConfig,
)
from octopus.arch.costs import (
    bottleneck_bytes_per_cycle,
    compute_cycles,
    config_load_cycles,
    cycles_at_rate,
    memory_cycles,
    offchip_read_cycles,
    transfer_cycles,
    work_rate,
)
from octopus.arch.loader import PRESET_DIR, apply_overrides, list_presets, load_arch
from octopus.arch.topology import TbuCoords, Topology

__all__ = [
    "PRESET_DIR",
    "ArchConfig",
    "CBUConfig",
    "ChipConfig",
    "ClusterConfig",
    "HostConfig",
    "MemoryConfig",
    "NocConfig",
    "PEAConfig",
    "TBUConfig",
    "TbuCoords",
    "Topology",
    "apply_overrides",
    "bottleneck_bytes_per_cycle",
    "compute_cycles",
    "config_load_cycles",
    "cycles_at_rate",
    "list_presets",
    "load_arch",
    "memory_cycles",
    "offchip_read_cycles",
    "transfer_cycles",
    "work_rate",
]
