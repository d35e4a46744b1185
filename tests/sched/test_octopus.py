"""Each Octopus mechanism changes behaviour where it must; each flag really switches it off."""

import random

import pytest

from octopus.arch import load_arch
from octopus.sched import scheduler_factory
from octopus.sched.diffusion import diffusion_flows, diffusion_step
from octopus.sim import NullRecorder, Simulator
from octopus.workflow import Constant, WorkflowBuilder


def arch(tbus: int, clusters: int = 1, **overrides):
    """``chip`` cut to ``clusters`` x 1 clusters of ``tbus`` x 1 TBUs (ai: 256 MACs/cycle), with
    private memory and an analytic NoC so that each case isolates one mechanism."""
    return load_arch("chip", {"cluster.tbus_x": tbus, "cluster.tbus_y": 1,
                              "chip.clusters_x": clusters, "pea.ai_efficiency": 1.0,
                              "memory.placement": "private", "noc.model": "analytic",
                              **overrides})


class Placements(NullRecorder):
    """A recorder keeping every finished firing."""

    def __init__(self):
        self.tasks = []

    def task_done(self, task):
        self.tasks.append(task)

    def of(self, block):
        return [t for t in self.tasks if t.block_id == block]


def home_on_0(sim):
    """Home every arriving instance on cluster 0."""
    sim.scheduler.home_cluster = lambda run: 0


def run(wf, hw, instances=1, setup=None, arrivals=None, **params):
    rec = Placements()
    factory = scheduler_factory({"name": "octopus", **params})
    sim = Simulator(wf, hw, factory, instances, 0, arrivals, rec)
    if setup:
        setup(sim)
    return sim.run(), rec


def test_resident_tbu_is_preferred_over_an_equally_free_elastic_one():
    """Dual scheduling puts a firing on the idle TBU holding its configuration; with the
    mechanism off, the first free TBU takes it and reconfigures."""
    wf = WorkflowBuilder("one").task("w", "ai", 256_000, config_bytes=32_000).build()
    hold_on_tbu1 = lambda sim: sim.machine.install(1, "w", 32_000)  # noqa: E731
    sim, rec = run(wf, arch(2), setup=hold_on_tbu1)
    assert rec.of("w")[0].tbu == 1 and sim.machine.tbus[1].reconfigurations == 0
    sim, rec = run(wf, arch(2), setup=hold_on_tbu1, dual=False)
    assert rec.of("w")[0].tbu == 0 and sim.machine.tbus[0].reconfigurations == 1


def test_control_blocks_use_the_cbu_only_with_dual_scheduling():
    """Decoupled control plane: CBs on the CBU (20 cycles) with dual on, the host (2000) off."""
    wf = (WorkflowBuilder("cb").fanout("F", Constant(value=1), ["w"])
          .task("w", "ai", 2560).build())
    on, _ = run(wf, arch(1))
    off, _ = run(wf, arch(1), dual=False)
    assert off.makespan - on.makespan == 2000 - 20


def test_fanout_revealed_early_is_preloaded_by_proactive_scheduling():
    """When a fan-out reveals 3 copies of a -> b, b's configuration is loaded on spare idle TBUs
    while the a's run, so b never waits for a load; without the mechanism it does."""
    wf = (WorkflowBuilder("fo").task("src", "ai", 2560)
          .fanout("F", Constant(value=3), ["a", "b"])
          .task("a", "ai", 256_000, config_bytes=3200)
          .task("b", "ai", 25_600, config_bytes=320_000)
          .flow("src", "F").flow("a", "b").build())
    hw = arch(8)
    on, rec_on = run(wf, hw)
    off, rec_off = run(wf, hw, proactive=False)
    assert on.scheduler.stats.get("preloads") == 3
    assert "preloads" not in off.scheduler.stats
    assert all(t.start_cycle == t.dispatch_cycle for t in rec_on.of("b"))  # config was there
    assert all(t.start_cycle > t.dispatch_cycle for t in rec_off.of("b"))  # paid the load
    assert on.makespan < off.makespan


def test_adaptive_scheduling_runs_the_critical_chain_first():
    """On one TBU, the source that heads a long chain runs before an equally ready short block
    (urgency by critical-path rank); first-come order without the mechanism."""
    wf = (WorkflowBuilder("two").task("short", "ai", 2560).task("head", "ai", 2560)
          .task("tail", "ai", 2_560_000).flow("head", "tail").build())
    _, rec = run(wf, arch(1))
    assert rec.tasks[0].block_id == "head"
    _, rec = run(wf, arch(1), adaptive=False)
    assert rec.tasks[0].block_id == "short"


def test_idle_clusters_take_work_from_backlogged_neighbours_only_when_adaptive():
    """With everything homed on cluster 0, cluster 1's idle TBU steals queued work (adaptive);
    switched off, cluster 1 stays idle and the run takes longer."""
    wf = WorkflowBuilder("w").task("w", "ai", 256_000).build()
    hw = arch(1, clusters=2)
    on, _ = run(wf, hw, instances=4, setup=home_on_0)
    off, _ = run(wf, hw, instances=4, setup=home_on_0, adaptive=False)
    assert on.scheduler.stats.get("steals", 0) > 0 and "steals" not in off.scheduler.stats
    assert on.makespan < off.makespan


def test_diffusion_moves_queued_work_to_neighbours_only_when_switched_on():
    """Diffusion moves queued firings down the load gradient between clusters; off, nothing
    moves by diffusion."""
    wf = WorkflowBuilder("w").task("w", "ai", 2_560_000).build()
    hw = arch(1, clusters=2)
    on, _ = run(wf, hw, instances=8, setup=home_on_0, diffusion=True, adaptive=False,
                diffusion_period_cycles=1000)
    off, _ = run(wf, hw, instances=8, setup=home_on_0, adaptive=False)
    assert on.scheduler.stats.get("diffusion_moves", 0) > 0
    assert "diffusion_moves" not in off.scheduler.stats
    assert on.makespan < off.makespan


def _mesh(side):
    def idx(x, y):
        return y * side + x
    return [[idx(x + dx, y + dy) for dx, dy in ((0, -1), (-1, 0), (1, 0), (0, 1))
             if 0 <= x + dx < side and 0 <= y + dy < side]
            for y in range(side) for x in range(side)]


def test_diffusion_conserves_work_and_converges_on_a_mesh():
    """On an 8x8 mesh, every round conserves the total; after enough rounds every neighbour gap
    is within the dead band."""
    rng = random.Random(7)
    nbrs = _mesh(8)
    loads = [rng.uniform(0, 1000) for _ in range(64)]
    loads[0] = 50_000.0  # one hot spot
    total = sum(loads)
    for _ in range(3000):
        loads = diffusion_step(loads, nbrs, alpha=0.2, dead_band=1.0)
        assert sum(loads) == pytest.approx(total, rel=1e-12)
    gaps = [abs(loads[i] - loads[j]) for i, adj in enumerate(nbrs) for j in adj]
    assert max(gaps) <= 1.0 + 1e-9
    assert not diffusion_flows(loads, nbrs, alpha=0.2, dead_band=1.0)


def test_diffusion_flows_only_between_neighbours_beyond_the_dead_band():
    """A 1x3 line: flow goes from the heavy end to its neighbour only, and gaps within the
    dead band move nothing."""
    nbrs = [[1], [0, 2], [1]]
    assert diffusion_flows([10.0, 0.0, 0.0], nbrs, 0.25, 1.0) == [(0, 1, 2.5)]
    assert diffusion_flows([1.0, 0.5, 0.0], nbrs, 0.25, 1.0) == []
    with pytest.raises(ValueError):
        diffusion_flows([1.0], [[]], 0.9, 0.0)
