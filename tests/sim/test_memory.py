"""Off-chip memory and SRAM-bounded residency, on tiny runs worked out by hand.

Rates of :func:`simkit.tiny_arch` unless overridden: ai 256 MACs/cycle, TBU memory ports 32
B/cycle, mesh links 64 B/cycle + 2 cycles/hop, configuration setup 0 cycles, 2 MiB of SRAM.
"""

from __future__ import annotations

from simkit import run_sim, tiny_arch

from octopus.arch import Topology
from octopus.sim.memory import MemorySystem
from octopus.sim.noc import Noc
from octopus.sim.windows import CLASS_RATIO
from octopus.workflow import WorkflowBuilder


def _no_clock() -> int:
    return 0


def _memory(placement: str, **overrides):
    arch = tiny_arch(2, 2, **{"memory.placement": placement, "memory.bytes_per_cycle": 16,
                              "memory.latency_cycles": 100, **overrides})
    topo = Topology(arch)
    return MemorySystem(arch, topo, Noc(topo, arch, _no_clock), _no_clock), arch


def test_private_links_are_never_shared():
    """Every TBU reads at its own 32 B/cycle, at once, with no latency."""
    memory, _ = _memory("private")
    assert [memory.read(u, 3200, 0, "inputs") for u in (0, 1)] == [100, 100]
    assert memory.stats.bytes_by_purpose == {"weights": 0, "inputs": 6400}


def test_a_shared_controller_serves_first_come_first_served():
    """One controller at TBU 0 (16 B/cycle, 100 cycles latency) for a 2x2 cluster: TBU 0 reads
    1,600 B in 100 cycles + 100 latency; TBU 3 (two hops away) waits for it, then 100 more
    cycles of transfer (the NoC's 64 B/cycle is faster: the controller bounds it)."""
    memory, _ = _memory("per_cluster")
    assert memory.controllers == [0]
    assert memory.read(0, 1600, 0, "weights") == 200
    assert memory.estimate(3, 1600, 0, "inputs") == 300
    assert memory.read(3, 1600, 0, "inputs") == 300
    assert memory.stats.wait_cycles == 100 and memory.stats.total_bytes == 3200


def test_a_read_asked_for_later_leaves_the_gap_before_it():
    """A load asked for cycle 1,000 (behind a busy TBU) books the controller from there; a read
    asked afterwards for cycle 0 that fits before it is served at once, one that does not fit
    waits for its end."""
    memory, _ = _memory("per_cluster")
    assert memory.read(0, 1600, 1000, "weights") == 1200
    assert memory.read(0, 1600, 0, "inputs") == 200
    assert memory.read(0, 16000, 0, "inputs") == 1100 + 1000 + 100
    assert memory.stats.wait_cycles == 1100


def test_smaller_reads_go_ahead_of_larger_ones_and_the_next_larger_read_pays():
    """``interleave`` (the default): a 1,600 B input and a 3.2 MB stream (one size class up
    from a TBU's 1.5 MiB configuration capacity) asked while a 32 MB stream (three classes up)
    holds the controller are served at once; the next 32 MB stream waits for the first and for
    the smaller reads' cycles; a second 3.2 MB stream waits only for the first. ``fifo``: the
    input waits out the stream."""
    memory, arch = _memory("per_cluster")
    small, large = 3_200_000, 32_000_000  # 200,000 and 2,000,000 cycles at 16 B/cycle
    assert 1600 <= arch.config_capacity_bytes < small < CLASS_RATIO * arch.config_capacity_bytes
    assert large > CLASS_RATIO ** 2 * arch.config_capacity_bytes
    assert memory.read(0, large, 0, "weights") == 2_000_100
    assert memory.estimate(1, 1600, 10, "inputs") == 10 + 100 + 100
    assert memory.read(1, 1600, 10, "inputs") == 10 + 100 + 100
    assert memory.read(1, small, 10, "weights") == 110 + 200_000 + 100
    assert memory.read(0, large, 10, "weights") == 2_000_000 + 100 + 200_000 + 2_000_000 + 100
    assert memory.read(1, small, 10, "weights") == 200_110 + 200_000 + 100
    assert memory.stats.total_bytes == 2 * large + 2 * small + 1600

    fifo, _ = _memory("per_cluster", **{"memory.arbitration": "fifo"})
    fifo.read(0, large, 0, "weights")
    assert fifo.read(1, 1600, 10, "inputs") == 2_000_000 + 100 + 100


def test_chip_edge_controllers_sit_on_every_edge_cluster():
    """A 3 x 3 mesh of 2 x 2-TBU clusters: 8 edge clusters get a controller, the centre none,
    each on the TBU of its cluster that faces the chip's edge."""
    arch = tiny_arch(2, 2, **{"chip.clusters_x": 3, "chip.clusters_y": 3,
                              "memory.placement": "chip_edge"})
    topo = Topology(arch)
    sites = MemorySystem(arch, topo, Noc(topo, arch, _no_clock), _no_clock).controllers
    assert sorted({topo.cluster_of(u) for u in sites}) == [0, 1, 2, 3, 5, 6, 7, 8]
    assert len(sites) == arch.memory_controllers
    for u in sites:
        x, y = topo.position(u)
        assert x in (0, 5) or y in (0, 5)


def test_per_cluster_memory_serves_each_tbu_from_its_own_clusters_controller():
    """Two 4 x 1-TBU clusters side by side, controllers at their first TBUs (x = 0 and 4):
    TBU 3 (x = 3) is one hop from cluster 1's controller and three from its own, yet reads
    through its own die's."""
    arch = tiny_arch(4, 1, **{"chip.clusters_x": 2, "memory.placement": "per_cluster"})
    topo = Topology(arch)
    memory = MemorySystem(arch, topo, Noc(topo, arch, _no_clock), _no_clock)
    assert memory.controllers == [0, 4] and topo.position(3) == (3, 0)
    assert [memory.controller_of(u) for u in range(8)] == [0, 0, 0, 0, 1, 1, 1, 1]


def test_residency_is_bounded_by_the_sram_share():
    """Two 1 MiB configurations on a TBU whose share holds 1.5 MiB: the second evicts the
    first although a slot is free, so a -> b -> a loads three times."""
    arch = tiny_arch(**{"tbu.config_share": 0.75, "tbu.config_slots": 4})
    mib = 1 << 20
    wf = (WorkflowBuilder("ab").task("a", "ai", 2560, config_bytes=mib)
          .task("b", "ai", 2560, config_bytes=mib).task("a2", "ai", 2560, config_bytes=mib)
          .flow("a", "b", "a2").build())
    sim, _ = run_sim(wf, arch)
    assert sim.machine.tbus[0].reconfigurations == 3
    assert sim.machine.tbus[0].residency.used_bytes <= arch.config_capacity_bytes


def test_a_configuration_too_large_for_a_tbu_streams_its_weights_every_firing():
    """A 4 MiB configuration on 2 MiB of SRAM is never resident: each of two firings (one TBU,
    one firing per dispatch) streams 4 MiB x 2 passes at 32 B/cycle = 262,144 cycles, longer
    than its 10 cycles of compute, and the time beyond the compute counts as reconfiguration."""
    big = 4 << 20
    wf = (WorkflowBuilder("big").task("x", "ai", 2560, config_bytes=big).build())
    wf = wf.model_copy(update={"blocks": [wf.blocks[0].model_copy(update={"weight_passes": 2})]})
    sim, rec = run_sim(wf, tiny_arch(), {"name": "greedy", "batch": False}, instances=2)
    stream = 2 * big // 32
    assert sim.makespan == 2 * stream
    assert sim.machine.tbus[0].residency.held() == [] and sim.machine.weight_loads == 2
    assert sim.machine.memory.stats.bytes_by_purpose["weights"] == 2 * 2 * big
    row = sim.tbu_buckets()[0]
    assert (row["compute"], row["reconfig"]) == (20, 2 * stream - 20)
