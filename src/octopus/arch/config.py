"""Typed, validated configuration of a scale-out spatial architecture.

Every size is a parameter; units are in the field names (``_cycles``, ``_bytes``,
``_bytes_per_cycle``, ``_hz``). All models are frozen and reject unknown fields, so a typo in a
YAML file is an error rather than a silently ignored key. Validators never do I/O; loading lives in
:mod:`octopus.arch.loader`.

Limits, so that every accepted machine simulates: every integer is at most :data:`MAX_INT`
(exact as a float), the clock lies in [:data:`MIN_CLOCK_HZ`, :data:`MAX_CLOCK_HZ`], an
efficiency in [:data:`MIN_EFFICIENCY`, 1], and the machine has at most :data:`MAX_TBUS` TBUs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "MAX_CLOCK_HZ",
    "MAX_INT",
    "MAX_TBUS",
    "MIN_CLOCK_HZ",
    "MIN_EFFICIENCY",
    "ArchConfig",
    "CBUConfig",
    "ChipConfig",
    "ClusterConfig",
    "HostConfig",
    "MemoryConfig",
    "NocConfig",
    "PEAConfig",
    "TBUConfig",
]


MAX_INT = 2**53
"""Largest value of an integer field (sizes, bandwidths, latencies): exact as a float."""
MAX_TBUS = 65_536
"""Largest machine, in TBUs (64 times the ``wafer`` preset; about 0.7 GB of simulator state)."""
MIN_EFFICIENCY = 1e-6
"""Smallest fraction of a PE array's peak an efficiency may be."""
MIN_CLOCK_HZ = 1e3
"""Slowest clock (1 kHz)."""
MAX_CLOCK_HZ = 1e12
"""Fastest clock (1 THz)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PEAConfig(_Frozen):
    """A processing-element array: ``rows * cols`` PEs, one MAC (or operation) per PE per cycle."""

    rows: int = Field(gt=0, le=MAX_INT, description="PE rows in the array.")
    cols: int = Field(gt=0, le=MAX_INT, description="PE columns in the array.")
    ai_efficiency: float = Field(
        ge=MIN_EFFICIENCY,
        le=1,
        description="Fraction of peak (one MAC per PE per cycle) achieved on AI work with no layer "
        "model, in [1e-6, 1]: the fallback for blocks whose model has no layer table.",
    )
    dataflow: Literal["os", "ws", "is", "best"] = Field(
        default="best",
        description="Systolic dataflow of the array for the layer model (output, weight or input "
        "stationary); 'best': per layer the faster of os and ws, as an array that supports both "
        "chooses at run time.",
    )
    general_efficiency: float = Field(
        ge=MIN_EFFICIENCY,
        le=1,
        description="Fraction of peak (one operation per PE per cycle) achieved on general work, "
        "in [1e-6, 1].",
    )
    sram_bytes: int = Field(gt=0, le=MAX_INT, description="Local SRAM next to the array, in bytes.")


class TBUConfig(_Frozen):
    """A Task Block Unit: one PEA, its SRAM and a configuration buffer."""

    config_slots: int = Field(
        ge=1, le=MAX_INT,
        description="Configurations resident at once in the configuration buffer (>= 1)."
    )
    config_share: float = Field(
        default=1.0, gt=0, le=1,
        description="Share of pea.sram_bytes that holds resident configurations (weights and "
        "program); the rest is for activations. A configuration larger than the share cannot "
        "be resident: its firings stream their weights from off-chip memory.",
    )
    max_batch: int = Field(
        default=16, ge=1, le=4096,
        description="Most ready firings of one Task Block a TBU (or a group of TBUs) runs as "
        "one batch, reading their weights once (their activations share the rest of SRAM).",
    )
    config_load_bytes_per_cycle: int = Field(
        gt=0, le=MAX_INT,
        description="Bandwidth for loading a non-resident configuration, bytes per cycle."
    )
    config_setup_cycles: int = Field(
        ge=0, le=MAX_INT,
        description="Fixed cost of switching to a newly loaded configuration, cycles."
    )
    memory_bytes_per_cycle: int = Field(
        gt=0, le=MAX_INT,
        description="Off-chip (DRAM) link bandwidth of one TBU, bytes per cycle (spills)."
    )


class CBUConfig(_Frozen):
    """A Control Block Unit: evaluates control blocks off the data plane, one per cluster."""

    latency_cycles: int = Field(
        ge=0, le=MAX_INT,
        description="Cycles to evaluate one control block."
    )


class ClusterConfig(_Frozen):
    """A cluster: a ``tbus_x`` by ``tbus_y`` mesh of TBUs with one CBU."""

    tbus_x: int = Field(gt=0, le=MAX_INT, description="TBU columns in the cluster mesh.")
    tbus_y: int = Field(gt=0, le=MAX_INT, description="TBU rows in the cluster mesh.")
    link_bytes_per_cycle: int = Field(
        gt=0, le=MAX_INT,
        description="Bandwidth of one intra-cluster mesh link (one direction), bytes/cycle."
    )
    hop_latency_cycles: int = Field(
        ge=0, le=MAX_INT, description="Latency of one intra-cluster hop (router plus wire), cycles."
    )


class ChipConfig(_Frozen):
    """A chip or wafer: a ``clusters_x`` by ``clusters_y`` mesh of clusters (dies)."""

    clusters_x: int = Field(gt=0, le=MAX_INT, description="Cluster columns in the chip mesh.")
    clusters_y: int = Field(gt=0, le=MAX_INT, description="Cluster rows in the chip mesh.")
    d2d_bytes_per_cycle: int = Field(
        gt=0, le=MAX_INT,
        description="Bandwidth of one die-to-die link (one direction; one link per TBU row or "
        "column on a cluster edge), bytes/cycle.",
    )
    d2d_latency_cycles: int = Field(
        ge=0, le=MAX_INT,
        description="Latency of one die-to-die hop, cycles."
    )


class MemoryConfig(_Frozen):
    """Off-chip memory: where its controllers sit and what each one serves."""

    placement: Literal["private", "per_cluster", "chip_edge"] = Field(
        default="private",
        description="'private': every TBU has its own link to memory at its tbu.*_bytes_per_cycle "
        "(nothing shared, no latency); 'per_cluster': one controller per cluster, at its first "
        "TBU, serving that cluster; 'chip_edge': one controller per cluster on the edge of the "
        "chip mesh, at the TBU on that edge, serving the TBUs nearest it. A request waits for "
        "its controller (see arbitration), and its data crosses the NoC from the controller's "
        "TBU.",
    )
    arbitration: Literal["interleave", "fifo"] = Field(
        default="interleave",
        description="How a shared controller orders reads. 'interleave': smaller reads first: "
        "a read waits only for reads of its size class and smaller ones (classes: up to one "
        "TBU's configuration capacity, then each up to 4x larger), as a controller interleaves "
        "requests between the bursts of a long stream, and its cycles are booked after the "
        "larger reads (bandwidth is conserved). 'fifo': every read whole, first come, first "
        "served (a configuration waits out a multi-GB stream ahead of it).",
    )
    bytes_per_cycle: int = Field(
        default=32, gt=0, le=MAX_INT,
        description="Bandwidth of one shared controller, bytes per cycle.")
    latency_cycles: int = Field(
        default=0, ge=0, le=MAX_INT,
        description="Access latency of a shared controller, cycles (added to every request).")


class NocConfig(_Frozen):
    """Which network model the simulator uses."""

    model: Literal["analytic", "contention"] = Field(
        default="contention",
        description="'analytic': hops x latency + bytes / bottleneck bandwidth, no contention; "
        "'contention': the same plus per-link busy times along the XY route.",
    )
    arbitration: Literal["interleave", "fifo"] = Field(
        default="interleave",
        description="Under 'contention', how a link orders transfers. 'interleave': smaller "
        "transfers first, by the size classes of memory.arbitration (a router interleaves the "
        "packets of a long stream with others), the larger ones behind paying for what "
        "overtook them. 'fifo': every transfer holds its route whole, first come, first served "
        "(an activation waits out a weight stream's whole transfer from a memory controller).",
    )


class HostConfig(_Frozen):
    """The host processor, used by the static baseline to resolve control blocks."""

    cb_roundtrip_cycles: int = Field(
        ge=0, le=MAX_INT,
        description="Cycles for one control-block resolution round trip to the host."
    )


class ArchConfig(_Frozen):
    """A whole machine: clock, the unit configurations and the two mesh levels."""

    name: str = Field(min_length=1, description="Short name of this architecture (e.g. 'chip').")
    description: str = Field(default="", description="One line saying what this machine is.")
    clock_hz: float = Field(ge=MIN_CLOCK_HZ, le=MAX_CLOCK_HZ, description="Clock frequency in Hz, "
                            "from 1e3 to 1e12; converts cycles to seconds.")
    pea: PEAConfig = Field(description="The PE array inside every TBU.")
    tbu: TBUConfig = Field(description="The Task Block Unit.")
    cbu: CBUConfig = Field(description="The Control Block Unit (one per cluster).")
    cluster: ClusterConfig = Field(description="The cluster: a mesh of TBUs.")
    chip: ChipConfig = Field(description="The chip or wafer: a mesh of clusters.")
    noc: NocConfig = Field(default_factory=NocConfig, description="Network model fidelity.")
    memory: MemoryConfig = Field(default_factory=MemoryConfig,
                                 description="Off-chip memory controllers.")
    host: HostConfig = Field(description="The host that resolves control blocks for baselines.")

    @model_validator(mode="after")
    def _not_too_many_tbus(self) -> ArchConfig:
        if self.num_tbus > MAX_TBUS:
            raise ValueError(
                f"{self.chip.clusters_x}x{self.chip.clusters_y} clusters of "
                f"{self.cluster.tbus_x}x{self.cluster.tbus_y} TBUs make {self.num_tbus:,} TBUs, "
                f"over the limit of {MAX_TBUS:,}")
        return self

    @property
    def tbus_per_cluster(self) -> int:
        """TBUs in one cluster."""
        return self.cluster.tbus_x * self.cluster.tbus_y

    @property
    def num_clusters(self) -> int:
        """Clusters on the chip or wafer."""
        return self.chip.clusters_x * self.chip.clusters_y

    @property
    def num_tbus(self) -> int:
        """TBUs on the whole machine."""
        return self.num_clusters * self.tbus_per_cluster

    @property
    def memory_controllers(self) -> int:
        """Shared off-chip memory controllers (0 when memory is private): one per cluster, or
        one per cluster on the edge of the chip mesh."""
        cx, cy = self.chip.clusters_x, self.chip.clusters_y
        if self.memory.placement == "per_cluster":
            return cx * cy
        if self.memory.placement == "chip_edge":
            return cx * cy - max(cx - 2, 0) * max(cy - 2, 0)
        return 0

    @property
    def offchip_bytes_per_cycle(self) -> int:
        """Off-chip bandwidth of the whole machine, bytes per cycle: the controllers', or every
        TBU's private link."""
        if self.memory.placement == "private":
            return self.num_tbus * self.tbu.memory_bytes_per_cycle
        return self.memory_controllers * self.memory.bytes_per_cycle

    @property
    def machine_balance(self) -> float:
        """Peak operations per byte of off-chip bandwidth (a MAC is two operations): 250-300
        on current accelerators (H100 SXM ~295)."""
        peak_ops = 2 * self.pea.rows * self.pea.cols * self.num_tbus
        return peak_ops / self.offchip_bytes_per_cycle

    @property
    def config_capacity_bytes(self) -> int:
        """Bytes of configurations one TBU can hold (``tbu.config_share`` of its SRAM)."""
        return int(self.tbu.config_share * self.pea.sram_bytes)
