"""Each Octopus mechanism changes behaviour where it must; each switch really turns it off."""

from __future__ import annotations

import pytest

from octopus.arch import Topology, load_arch
from octopus.sched import scheduler_factory
from octopus.sched.octopus.dual import plan_replicas
from octopus.sched.octopus.groups import GroupIndex
from octopus.sched.octopus.proactive import Homes
from octopus.sched.octopus.queues import BlockQueues
from octopus.sim import NullRecorder, Simulator
from octopus.sim.state import InstanceRun
from octopus.workflow import Constant, Normal, WorkflowBuilder, sample_instance

MIB = 1 << 20


def arch(tbus: int, clusters: int = 1, **overrides):
    """``chip`` cut to ``clusters`` x 1 clusters of ``tbus`` x 1 TBUs (ai: 256 MACs/cycle), with
    private memory and an analytic NoC so that each case isolates one mechanism."""
    return load_arch("chip", {"cluster.tbus_x": tbus, "cluster.tbus_y": 1,
                              "chip.clusters_x": clusters, "pea.ai_efficiency": 1.0,
                              "memory.placement": "private", "noc.model": "analytic",
                              **overrides})


class Firings(NullRecorder):
    def __init__(self):
        self.tasks = []

    def task_done(self, task):
        self.tasks.append(task)

    def of(self, block):
        return [t for t in self.tasks if t.block_id == block]


def run(wf, hw, instances=1, arrivals=None, setup=None, **params):
    rec = Firings()
    factory = scheduler_factory({"name": "octopus", **params})
    sim = Simulator(wf, hw, factory, instances, 0, arrivals, rec)
    if setup:
        setup(sim)
    return sim.run(), rec


# --- Discriminate Dual-Scheduling -------------------------------------------------------------
def test_replicas_are_aligned_proportional_and_within_the_reserve():
    """8 TBUs, 75% reservable: the 4-wide block with 60% of demand gets one aligned range
    (0-3), the 1-wide stable block with 30% gets round(8 x 0.3) = 2 TBUs; the rest is elastic."""
    plan = plan_replicas({"big": 6.0, "small": 3.0, "other": 1.0}, {"big": 4, "small": 1},
                         {"big", "small"}, 8, 0.75)
    assert plan.replicas == {"big": ((0, 1, 2, 3),), "small": ((4,), (5,))}
    assert plan.elastic == (6, 7)


def test_streamed_replicas_come_first_within_half_the_machine_and_outside_the_reserve():
    """16 TBUs: the streamed block wants two 8-wide replicas but half the machine holds one;
    the reserve (25%) is of the 8 TBUs left, so the 2-wide block with 30% of the demand gets
    one replica (8, 9), not round(16 x 0.3 / 2) = 2."""
    plan = plan_replicas({"s": 6.0, "big": 3.0, "other": 1.0}, {"s": 8, "big": 2},
                         {"s", "big"}, 16, 0.25, streamed={"s": 2})
    assert plan.replicas == {"s": (tuple(range(8)),), "big": ((8, 9),)}
    assert plan.elastic == tuple(range(10, 16))


def test_a_block_with_too_little_demand_gets_no_replica():
    plan = plan_replicas({"rare": 1.0, "hot": 99.0}, {"rare": 1}, {"rare"}, 16, 0.75)
    assert plan.replicas == {} and plan.elastic == tuple(range(16))


def _memory_bound_large_block():
    """3 MiB of weights (two 1.5 MiB shards) and 100 cycles of compute: streaming them would
    take 98,304 cycles a firing."""
    return WorkflowBuilder("big").task("x", "ai", 25_600, config_bytes=3 * MIB).build()


def test_a_large_memory_bound_block_runs_on_its_resident_replica_without_loads():
    """The block gets a 2-TBU replica (half the machine may be replicas), loaded at cycle 0
    (every run starts cold): 5 firings, 1000 cycles apart once it is loaded, run there and
    read the weights no more. Without Dual-Scheduling each dispatch on elastic TBUs loads (or
    streams) its weights."""
    hw, arrivals = arch(4), [100_000 + 1000 * i for i in range(5)]
    on, rec = run(_memory_bound_large_block(), hw, instances=5, arrivals=arrivals,
                  reserve_share=0.5)
    assert {t.group for t in rec.tasks} == {(0, 1)}
    assert on.machine.weight_loads == 2  # the preload, one per replica TBU, and no more
    assert on.machine.memory.stats.bytes_by_purpose["weights"] == 3 * MIB  # the preload
    off, _ = run(_memory_bound_large_block(), hw, instances=5, arrivals=arrivals, dual=False)
    assert off.machine.weight_loads > 2 and off.makespan > on.makespan


def test_a_block_no_group_can_hold_streams_on_a_replica_of_one_controllers_tbus():
    """64 MiB of weights fit no group of the 8 TBUs (1.5 MiB each): the block is memory-bound
    and gets a streamed replica as wide as a controller's 4 TBUs (one controller per cluster).
    Six firings 1000 cycles apart, all on it: the first streams alone, the second waits
    behind it (prefetched, alone), the four that queued meanwhile ride along in one batch: the
    weights are read three times, not six."""
    hw = arch(4, clusters=2, **{"memory.placement": "per_cluster"})
    wf = WorkflowBuilder("huge").task("x", "ai", 25_600, config_bytes=64 * MIB).build()
    arrivals = [1000 * i for i in range(6)]
    sim, rec = run(wf, hw, instances=6, arrivals=arrivals, reserve_share=0.5)
    assert sim.scheduler.plan.replicas == {"x": ((0, 1, 2, 3),)}
    assert {t.group for t in rec.tasks} == {(0, 1, 2, 3)}
    assert sorted(t.batch for t in rec.tasks) == [1, 1, 4, 4, 4, 4]
    assert sim.machine.memory.stats.bytes_by_purpose["weights"] == 3 * 64 * MIB


def test_a_streamed_replica_is_as_wide_as_its_blocks_share_of_the_compute():
    """16 TBUs, a controller per 4: x streams (64 MiB) and does 5/8 of the compute, 10 TBUs'
    worth, so its replica is 8 wide (not a controller's 4); y's compute is the rest."""
    hw = arch(4, clusters=4, **{"memory.placement": "per_cluster"})
    wf = (WorkflowBuilder("share").task("x", "ai", 25_600, config_bytes=64 * MIB)
          .task("y", "ai", Normal(mean=15_360, cv=0.5)).flow("x", "y").build())
    sim, _ = run(wf, hw)
    assert sim.scheduler.plan.replicas == {"x": (tuple(range(8)),)}


def _replica_and_long_elastic_work() -> object:
    """x (replicated: 3 MiB, constant, 200,000 cycles a firing on its 2-TBU replica) then a
    short varying general block g; beside them a varying block keeps the elastic TBUs busy
    (about 500,000 cycles on both)."""
    return (WorkflowBuilder("lend").task("x", "ai", 102_400_000, config_bytes=3 * MIB)
            .task("g", "general", Normal(mean=1000, cv=0.1))
            .task("long", "ai", Normal(mean=256_000_000, cv=0.01)).flow("x", "g").build())


def test_an_idle_replica_tbu_runs_a_short_firing_when_no_elastic_tbu_is_idle():
    """g becomes ready once x is done (about 300,000 cycles, its preload included), while the
    long firing holds both elastic TBUs: g runs on an idle TBU of x's replica at once instead
    of waiting for them."""
    sim, rec = run(_replica_and_long_elastic_work(), arch(4), reserve_share=0.5)
    (g,), (long,) = rec.of("g"), rec.of("long")
    assert sim.scheduler.plan.replicas == {"x": ((0, 1),)}
    assert g.group == (0,) and g.end_cycle < long.end_cycle
    assert sim.scheduler.stats["lent"] == 1


def test_control_blocks_use_the_cbu_only_with_dual_scheduling():
    """Decoupled control plane: CBs on the CBU (20 cycles) with dual on, the host (2000) off."""
    wf = (WorkflowBuilder("cb").fanout("F", Constant(value=1), ["w"])
          .task("w", "ai", 2560).build())
    on, _ = run(wf, arch(1))
    off, _ = run(wf, arch(1), dual=False)
    assert off.makespan - on.makespan == 2000 - 20


# --- Adaptive TBU Scheduling --------------------------------------------------------------------
def test_firings_of_a_streaming_block_are_batched_only_when_adaptive():
    """A 4 MiB block cannot be resident on a TBU: four queued firings share one stream of its
    weights as a batch; without the mechanism each streams them alone."""
    wf = WorkflowBuilder("s").task("x", "ai", 2560, config_bytes=4 * MIB).build()
    on, rec = run(wf, arch(1), instances=4)
    assert on.machine.batches == {3: 1, 1: 1} or on.machine.batches == {4: 1}
    off, _ = run(wf, arch(1), instances=4, adaptive=False)
    assert off.machine.batches == {1: 4}
    assert on.machine.memory.stats.bytes_by_purpose["weights"] \
        < off.machine.memory.stats.bytes_by_purpose["weights"]
    assert on.makespan < off.makespan


def test_a_lone_firing_spreads_over_idle_tbus_only_when_adaptive():
    """One ~256,000-MAC firing (a varying block: no replica) on 4 idle TBUs: a 4-wide group
    computes it in a quarter of the time (its 4 KiB output all-gathered after); one TBU without
    the mechanism."""
    wf = (WorkflowBuilder("w").task("x", "ai", Normal(mean=256_000, cv=0.5), output_bytes=4096)
          .build())
    on, rec = run(wf, arch(4))
    assert rec.tasks[0].group == (0, 1, 2, 3)
    off, rec_off = run(wf, arch(4), adaptive=False)
    assert rec_off.tasks[0].group == (0,)
    assert on.makespan < off.makespan


def test_a_firing_waits_for_a_busy_wide_group_when_it_ends_sooner_there():
    """5 TBUs: the first firing (10,000 cycles on one TBU) takes the widest idle range, 0-3.
    The second, arriving while it runs, would end at about 10,100 on idle TBU 4 but near 5,000
    on 0-3 once they free: it reserves them and waits. Without adaptive each runs alone on an
    idle TBU."""
    wf = WorkflowBuilder("w").task("x", "ai", Normal(mean=2_560_000, cv=0.01)).build()
    on, rec = run(wf, arch(5), instances=2, arrivals=[0, 100])
    first, second = sorted(rec.tasks, key=lambda t: t.run.index)
    assert first.group == second.group == (0, 1, 2, 3)
    assert second.start_cycle >= first.end_cycle and on.scheduler.stats["drains"] == 1
    off, rec_off = run(wf, arch(5), instances=2, arrivals=[0, 100], adaptive=False)
    assert sorted(t.group for t in rec_off.tasks) == [(0,), (1,)]
    assert on.makespan < off.makespan


@pytest.mark.parametrize("seed", range(5))
def test_the_group_index_finds_what_a_scan_of_every_group_finds(seed):
    """Random busy-until cycles, dispatches in flight, elastic TBUs and a reservation on 2
    clusters of 8: for each width, the idle group nearest the home cluster (then lowest) and
    the takeable busy group that frees first (then lowest), as a loop over every group."""
    import random
    from types import SimpleNamespace

    rng = random.Random(seed)
    topo = Topology(arch(8, 2))
    tbus = [SimpleNamespace(busy_until=rng.choice([0, 50, 100, 400]),
                            in_flight=rng.choice([0, 0, 1, 2])) for _ in range(16)]
    index = GroupIndex(SimpleNamespace(tbus=tbus), topo)
    elastic = {u for u in range(16) if rng.random() < 0.85}
    index.set_elastic(elastic)
    reserved = tuple(sorted(rng.sample(range(16), 2)))
    for width in (1, 2, 4, 8, 16):
        groups = [tuple(range(s, s + width)) for s in range(0, 16, width)]
        usable = [g for g in groups if set(g) <= elastic and not set(g) & set(reserved)]
        idle = [g for g in usable if all(tbus[u].in_flight == 0 for u in g)]
        busy = [g for g in usable if g not in idle and all(tbus[u].in_flight <= 1 for u in g)]
        near = min(idle, key=lambda g: (topo.cluster_distance(1, topo.cluster_of(g[0])), g[0]),
                   default=None)
        soon = min(((max(10, *(tbus[u].busy_until for u in g)), g[0]) for g in busy),
                   default=None)
        assert index.search(width, 10, 1, reserved, True) == (near and near[0], soon)



def test_the_group_index_sees_a_change_after_a_refresh_and_lists_idle_leads():
    """Searches between two changes share one scan; a refresh (here: TBU 0 becomes busy)
    must be seen by the next search, and ``idle_leads`` lists the idle usable groups."""
    from types import SimpleNamespace

    topo = Topology(arch(4))
    tbus = [SimpleNamespace(busy_until=0, in_flight=0) for _ in range(4)]
    index = GroupIndex(SimpleNamespace(tbus=tbus), topo)
    index.set_elastic(range(4))
    assert index.search(2, 0, 0, (), True) == (0, None)
    assert index.idle_leads(2, ()) == {0, 2}
    tbus[0].busy_until, tbus[0].in_flight = 70, 1
    assert index.search(2, 0, 0, (), True) == (0, None)  # not refreshed yet: the old answer
    index.refresh((0,))
    assert index.search(2, 0, 0, (), True) == (2, (70, 0))
    assert index.idle_leads(2, ()) == {2}
    assert index.idle_leads(1, (3,)) == {1, 2}


@pytest.mark.parametrize("seed", range(3))
def test_peek_returns_the_most_urgent_in_order_and_leaves_them_queued(seed):
    """``peek(n)`` walks only the top of the heap; it must give what sorting the whole queue
    gives, for every ``n``, ties kept in arrival order."""
    import random
    from types import SimpleNamespace

    rng = random.Random(seed)
    queues = BlockQueues(lambda task: (task.urgency,))
    tasks = [SimpleNamespace(block_id="b", urgency=rng.randint(0, 9), n=i) for i in range(40)]
    for t in tasks:
        queues.push(t)
    order = [t.n for t in sorted(tasks, key=lambda t: (t.urgency, t.n))]
    for n in (0, 1, 2, 7, 40, 50):
        assert [t.n for t in queues.peek("b", n)] == order[:n]
    assert queues.count("b") == 40
    assert [t.n for t in queues.pop("b", 3)] == order[:3]
    assert [t.n for t in queues.peek("b", 5)] == order[3:8]

# --- Proactive Cluster Scheduling and diffusion -------------------------------------------------
def _run(index: int, site: int) -> InstanceRun:
    wf = WorkflowBuilder("one").task("x", "ai", 2560).build()
    run_ = InstanceRun(index, 0, sample_instance(wf, 0, index))
    run_.site = site
    return run_


def test_homes_go_to_the_least_predicted_load_only_when_balanced():
    topo = Topology(arch(1, clusters=3))
    homes = Homes(topo, balanced=True)
    first = _run(0, 0)
    homes.place(first)
    homes.add(first, 100.0)
    second = _run(1, 0)
    homes.place(second)
    assert (first.site, second.site) == (0, 1)
    plain = Homes(topo, balanced=False)
    third = _run(2, 0)
    plain.place(third)
    assert third.site == 2  # round-robin by index


def test_diffusion_rehomes_instances_down_the_load_gradient():
    """Cluster 0 holds four instances of 100 cycles each, cluster 1 none: a round moves some to
    cluster 1, never more than closes the gap, and the totals are conserved."""
    topo = Topology(arch(1, clusters=2))
    homes = Homes(topo, balanced=False)
    runs = [_run(i, 0) for i in range(4)]
    for r in runs:
        homes.place(r)
        homes.homed[r.site].pop(r.index)
        r.site = 0
        homes.homed[0][r.index] = r
        homes.add(r, 100.0)
    moved = []
    assert homes.diffuse(0.5, moved.append) == len(moved) >= 1
    assert homes.predicted[1] == 100.0 * len(moved) <= 200.0
    assert sum(homes.predicted) == 400.0
    assert all(r.site == 1 for r in moved)


def test_a_diffusion_round_after_a_round_that_moved_nothing_and_no_change_is_skipped():
    """Balanced homes: a round moves nothing, and so would the next; once work is revealed
    on one cluster the next round runs and moves instances again."""
    topo = Topology(arch(1, clusters=2))
    homes = Homes(topo, balanced=False)
    runs = [_run(i, 0) for i in range(4)]
    for r in runs:
        homes.place(r)  # round-robin: two homes on each cluster
        homes.add(r, 100.0)
    moved = []
    assert homes.diffuse(0.5, moved.append) == 0
    assert homes.diffuse(0.5, moved.append) == 0 and not moved
    for r in runs:
        if r.site == 0:
            homes.add(r, 400.0)
    assert homes.diffuse(0.5, moved.append) == len(moved) >= 1


def test_work_revealed_ahead_is_preloaded_by_proactive_scheduling():
    """When a fan-out reveals 3 copies of a -> b, b's configuration is loaded onto spare idle
    TBUs while the a's run; without the mechanism nothing is preloaded."""
    wf = (WorkflowBuilder("fo").task("src", "ai", 2560)
          .fanout("F", Constant(value=3), ["a", "b"])
          .task("a", "ai", 256_000, config_bytes=3200)
          .task("b", "ai", 25_600, config_bytes=320_000)
          .flow("src", "F").flow("a", "b").build())
    hw = arch(8)
    on, _ = run(wf, hw, adaptive=False)
    off, _ = run(wf, hw, adaptive=False, proactive=False)
    assert on.scheduler.stats.get("preloads", 0) >= 1
    assert "preloads" not in off.scheduler.stats


@pytest.mark.parametrize("count_known", [False, True])
def test_a_loop_reveals_one_iteration_per_decision_unless_its_count_is_known(count_known):
    """A loop of 3 over ``p -> q`` (10 cycles each) after ``src`` (10 cycles), on one TBU with
    free configuration loads and 20-cycle CBU decisions: octopus is told of one iteration
    (and the next decision) per ``on_reveal``, each when the iteration before it has finished:
    at 30, 70 and 110. The decision that ends the loop reveals nothing. With the count known,
    one reveal of all, at 30."""
    wf = (WorkflowBuilder("lp").task("src", "ai", 2560)
          .loop("L", Constant(value=3), ["p", "q"], count_known=count_known)
          .task("p", "ai", 2560).task("q", "ai", 2560).flow("src", "L").flow("p", "q").build())
    reveals = []

    def record(sim):
        seen = sim.scheduler.on_reveal

        def on_reveal(run, control, revealed):
            labels = [run.firings[k].label for k in revealed]
            reveals.append((sim.machine.now, run.firings[control].label, labels))
            seen(run, control, revealed)

        sim.scheduler.on_reveal = on_reveal

    sim, _ = run(wf, arch(1, **{"tbu.config_setup_cycles": 0}), setup=record)
    if count_known:
        assert reveals == [(30, "L", [f"L[{k}]/{b}" for k in range(3) for b in "pq"])]
        assert sim.makespan == 30 + 6 * 10
    else:
        assert reveals == [(30 + 40 * k, f"L[{k}]?", [f"L[{k}]/p", f"L[{k}]/q", f"L[{k + 1}]?"])
                           for k in range(3)]
        assert sim.makespan == 30 + 3 * (20 + 20)  # L[3]? ends the loop at 150



@pytest.mark.parametrize("switch", ["dual", "adaptive", "proactive", "diffusion"])
def test_every_switch_runs_a_builtin_to_completion(switch):
    """Each ablation runs (the evaluation flips every switch)."""
    from octopus.run import resolve_workflow

    wf = resolve_workflow("llm-agent")
    sim, _ = run(wf, load_arch("chip-4"), instances=6, **{switch: False})
    assert len(sim.latencies) == 6


def test_a_lone_firing_takes_no_width_whose_exchange_wastes_the_group():
    """8 TBUs in two 4-TBU clusters; a ~40,000-cycle firing (on one TBU) all-gathers a 300 kB
    output. Within a cluster the exchange is cheap: 4 wide keeps 74% of the one-TBU efficiency;
    across the die-to-die link, 8 wide keeps 24%. With ``min_efficiency`` 0.5 the firing runs
    4 wide; with 0 (every width) 8 wide."""
    wf = (WorkflowBuilder("w").task("x", "ai", Normal(mean=10_240_000, cv=0.5),
                                    output_bytes=300_000).build())
    hw = arch(4, clusters=2)
    capped, rec = run(wf, hw, min_efficiency=0.5)
    assert capped.scheduler.sizing.efficient_widths(capped.scheduler.blocks["x"]) == (1, 2, 4)
    assert rec.tasks[0].group == (0, 1, 2, 3)
    _, rec_all = run(wf, hw, min_efficiency=0.0)
    assert rec_all.tasks[0].group == tuple(range(8))


def test_a_firing_among_others_takes_no_width_below_the_crowded_efficiency():
    """The machine and block above (4 wide keeps 74%, 2 wide more than 80%), fanned out to
    ``n`` firings at once. With ``crowded_efficiency`` 0.8 a lone firing still runs 4 wide;
    of two, the first placed (the other waiting) runs 2 wide and the last 4 wide. With 0.5
    both run 4 wide, one per cluster."""
    def widths(n, crowded_efficiency):
        wf = (WorkflowBuilder("w").fanout("F", Constant(value=n), ["x"])
              .task("x", "ai", Constant(value=10_240_000), output_bytes=300_000).build())
        _, rec = run(wf, arch(4, clusters=2), min_efficiency=0.5,
                     crowded_efficiency=crowded_efficiency)
        return sorted(len(t.group) for t in rec.tasks)

    assert widths(1, 0.8) == [4]
    assert widths(2, 0.8) == [2, 4]
    assert widths(2, 0.5) == [4, 4]


def test_a_reservation_holds_back_only_less_urgent_work():
    """4 TBUs; instance 0's firing of x runs 4 wide, instance 1's x reserves the same group
    behind it. When it frees, instance 0's short follow-up g (older, so more urgent) runs
    first on one of its TBUs, and instance 1's x waits the few cycles g takes, instead of g
    waiting for the whole of x."""
    wf = (WorkflowBuilder("r").task("x", "ai", Normal(mean=25_600_000, cv=0.01))
          .task("g", "general", Normal(mean=1000, cv=0.1)).flow("x", "g").build())
    sim, rec = run(wf, arch(4), instances=2, arrivals=[0, 100])
    x0, x1 = sorted(rec.of("x"), key=lambda t: t.run.index)
    g0 = next(t for t in rec.of("g") if t.run.index == 0)
    assert x0.group == x1.group == (0, 1, 2, 3) and sim.scheduler.stats["drains"] >= 1
    assert x0.end_cycle <= g0.start_cycle and g0.end_cycle <= x1.start_cycle


def test_a_reservation_lapses_when_more_urgent_work_takes_one_of_its_tbus():
    """4 TBUs; instance 1's x reserves 0-3 behind instance 0's x. When they free, instance 0's
    long follow-up y (1,000,000 cycles, more urgent) takes one of them: the group would now free
    a million cycles later, so instance 1's x chooses again and runs 2 wide on idle TBUs at
    once, instead of waiting out y."""
    wf = (WorkflowBuilder("r").task("x", "ai", Normal(mean=25_600_000, cv=0.01))
          .task("y", "general", Normal(mean=64_000_000, cv=0.01)).flow("x", "y").build())
    _, rec = run(wf, arch(4), instances=2, arrivals=[0, 100])
    x0, x1 = sorted(rec.of("x"), key=lambda t: t.run.index)
    y0 = next(t for t in rec.of("y") if t.run.index == 0)
    assert x0.group == (0, 1, 2, 3) and x1.start_cycle >= x0.end_cycle
    assert y0.start_cycle <= x1.start_cycle < y0.end_cycle
    assert len(x1.group) == 2 and y0.tbu not in x1.group


# --- Adaptive TBU Scheduling: deadlines ---------------------------------------------------------
def _short_or_long():
    """a (10 cycles), then either s (10 cycles) or l1 -> l2 (1,000,000 cycles each)."""
    return (WorkflowBuilder("sl").task("a", "ai", 2560)
            .branch("B", "M", {"s": 0.5, "l1": 0.5})
            .task("s", "ai", 2560)
            .task("l1", "ai", 256_000_000).task("l2", "ai", 256_000_000)
            .merge("M")
            .flow("a", "B").flow("s", "M").flow("l1", "l2", "M").build())


def test_expected_floors_tell_the_short_path_from_the_long_one():
    """A block on the long path expects the long floor, one on the short path the short one,
    a block every instance runs their mean (half the profile takes each path)."""
    from octopus.sched.octopus.deadlines import expected_floors

    wf = _short_or_long()
    machine = Simulator(wf, arch(1), scheduler_factory({"name": "octopus"}), 1, 0).machine
    _, path = machine.parallel.bound_capacities()
    floors = expected_floors(wf, path)
    assert floors["l1"] == floors["l2"] > 2_000_000 > 100 > floors["s"] > 0
    assert floors["s"] < floors["a"] < floors["l1"]
    assert floors["a"] == pytest.approx((floors["s"] + floors["l1"]) / 2, rel=0.2)


def test_a_short_instance_behind_a_long_one_runs_first_by_deadline():
    """One TBU: instance 0 takes the long path, instance 1 (arriving 1,000 cycles later) the
    short one. By deadline, instance 1's a (deadline 1,000 + 5 x the mean floor) runs before
    instance 0's l1 (0 + 5 x the long floor), and its s before l2: instance 1 is done before l2
    starts. Oldest first (scale 0), instance 1 waits behind l1 and l2, two million cycles."""
    wf = _short_or_long()
    seed = next(s for s in range(200)
                if {f.block_id for f in sample_instance(wf, s, 0).firings} >= {"l1"}
                and {f.block_id for f in sample_instance(wf, s, 1).firings} >= {"s"})
    for scale, short_first in ((5.0, True), (0.0, False)):
        rec = Firings()
        factory = scheduler_factory({"name": "octopus", "deadline_scale": scale})
        Simulator(wf, arch(1), factory, 2, seed, [0, 1000], rec).run()
        (s,), (l2,) = rec.of("s"), rec.of("l2")
        assert (s.end_cycle <= l2.start_cycle) == short_first
        assert (s.end_cycle - 1000 < 1_100_000) == short_first


# --- Adaptive TBU Scheduling: one stream per block and controller -------------------------------
def test_a_streamed_block_waits_for_its_stream_in_flight_and_batches(monkeypatch):
    """Two TBUs behind one shared controller; a 4 MiB block streams its weights (131,072
    cycles at 32 B/cycle) and computes for 100 cycles. Instance 0 streams alone; instances 1
    and 2 arrive meanwhile and, although TBU 1 is idle, wait for that stream to end and then
    share the next: two streams in all. With the gate open they each start at once on a TBU
    free for them, and stream three times."""
    from octopus.sched.octopus.streams import StreamGate

    wf = WorkflowBuilder("s").task("x", "ai", 25_600, config_bytes=4 * MIB).build()
    hw = arch(2, **{"memory.placement": "per_cluster"})
    arrivals = [0, 1000, 2000]
    gated, _ = run(wf, hw, instances=3, arrivals=arrivals)
    assert gated.machine.batches == {1: 1, 2: 1}
    assert gated.machine.memory.stats.bytes_by_purpose["weights"] == 2 * 4 * MIB
    monkeypatch.setattr(StreamGate, "until", lambda self, block_id, lead, width: 0)
    open_, _ = run(wf, hw, instances=3, arrivals=arrivals)
    assert open_.machine.memory.stats.bytes_by_purpose["weights"] == 3 * 4 * MIB


def test_a_looped_streamed_block_waits_for_the_next_iterations_to_rejoin(monkeypatch):
    """The streamed block of the test above in a loop of 4 iterations; instance 1 arrives
    while instance 0's first iteration streams. The gate stays closed until that batch ends
    and the loop decides again, so instance 0's next iteration and instance 1's first go as
    one batch: two batches of 2 among the 6 dispatches (24 MiB streamed). Opened at the
    stream's end, as for a block outside a loop, the two alternate, 8 streams of one firing."""
    wf = (WorkflowBuilder("d").loop("L", Constant(value=4), ["x"])
          .task("x", "ai", 25_600, config_bytes=4 * MIB).build())
    hw = arch(2, **{"memory.placement": "per_cluster"})
    rejoined, _ = run(wf, hw, instances=2, arrivals=[0, 50_000])
    assert rejoined.machine.batches == {1: 4, 2: 2}
    assert rejoined.machine.memory.stats.bytes_by_purpose["weights"] == 6 * 4 * MIB
    monkeypatch.setattr("octopus.sched.octopus.scheduler.looped_blocks", lambda wf: set())
    alternating, _ = run(wf, hw, instances=2, arrivals=[0, 50_000])
    assert alternating.machine.batches == {1: 8}
    assert alternating.makespan > rejoined.makespan


@pytest.mark.parametrize("workflow", ["recommendation", "speech-assistant"])
def test_the_pruned_elastic_search_picks_what_trying_every_candidate_picks(monkeypatch, workflow):
    """``_best_elastic`` stops at the first candidate whose lower bound (its inputs over idle
    links) exceeds the best end found;
    on every decision of a run on ``chip-4`` (shared memory, a contended NoC, many idle
    holders) its choice equals the best of each candidate tried alone."""
    from octopus.run import resolve_workflow
    from octopus.sched.octopus.scheduler import Octopus

    pruned = Octopus._best_elastic
    checked = []

    def exhaustive(self, blk, candidates):
        best = pruned(self, blk, candidates)
        assert best == min(pruned(self, blk, [c]) for c in candidates)
        checked.append(len(candidates))
        return best

    monkeypatch.setattr(Octopus, "_best_elastic", exhaustive)
    run(resolve_workflow(workflow), load_arch("chip-4"), instances=12)
    assert max(checked) > 1  # decisions with a choice were made
