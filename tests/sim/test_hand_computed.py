"""Tiny runs whose every cycle is worked out by hand in the comments.

Rates of :func:`simkit.tiny_arch`: ai 256 MACs/cycle, general 64 ops/cycle, memory and
configuration loads 32 B/cycle, mesh links 64 B/cycle + 2 cycles/hop, die-to-die 16 B/cycle + 10
cycles/hop, CBU 20 cycles, host 2000 cycles, configuration setup 0 cycles unless stated.
"""

from __future__ import annotations

import pytest
from simkit import run_sim, tiny_arch

from octopus.sim.state import HOST
from octopus.workflow import Constant, WorkflowBuilder, sample_instance


def _buckets(sim, tbu: int) -> tuple[int, int, int, int, int]:
    row = sim.tbu_buckets()[tbu]
    return row["compute"], row["reconfig"], row["wait_data"], row["starved"], row["no_work"]


def _chain():
    # a: 2560 MACs / 256 = 10 cycles, and 640 source bytes / 32 = 20 cycles from memory.
    # b: 640 ops / 64 = 10 cycles.  c: 5120 MACs / 256 = 20 cycles.
    return (WorkflowBuilder("chain")
            .task("a", "ai", 2560, input_bytes=640, output_bytes=1000)
            .task("b", "general", 640, output_bytes=1000)
            .task("c", "ai", 5120)
            .flow("a", "b", "c").build())


def test_chain_on_one_tbu():
    """a -> b -> c on one TBU: a waits 20 cycles for its source bytes, then 10 + 10 + 20."""
    sim, rec = run_sim(_chain(), tiny_arch())
    # a: dispatched at 0, data at 0 + 20, runs 20..30; b 30..40; c 40..60 (outputs stay local).
    assert rec.schedule() == {"i0/a": (0, 20, 30), "i0/b": (0, 30, 40), "i0/c": (0, 40, 60)}
    assert sim.makespan == 60
    # compute 10 + 10 + 20 = 40, waiting for data 20, nothing else.
    assert _buckets(sim, 0) == (40, 0, 20, 0, 0)
    # bound: work 40 on 1 TBU, critical path 40 (source bytes are not in the bound).
    assert sim.lower_bound_cycles == 40
    assert sim.machine.noc.stats.transfers == 0


def test_chain_two_instances_interleave_oldest_first():
    """Two chains on one TBU: greedy takes the oldest ready firing, so instances interleave."""
    sim, rec = run_sim(_chain(), tiny_arch(), instances=2)
    # t=0: ready [a0, a1]; a0 dispatched, data at 20, runs 20..30.
    # t=30: ready [a1, b0]; a1 dispatched at 30, data at 30 + 20 = 50, runs 50..60.
    # t=60: ready [b0, b1]: b0 60..70; t=70: [b1, c0]: b1 70..80; t=80: c0 80..100; c1 100..120.
    assert {k: v[1:] for k, v in rec.schedule().items()} == {
        "i0/a": (20, 30), "i1/a": (50, 60), "i0/b": (60, 70), "i1/b": (70, 80),
        "i0/c": (80, 100), "i1/c": (100, 120)}
    assert sim.makespan == 120
    assert sorted(sim.latencies) == [100, 120]
    # compute 2 x 40 = 80, waiting 2 x 20 = 40.
    assert _buckets(sim, 0) == (80, 0, 40, 0, 0)
    assert sim.lower_bound_cycles == 80  # work 80 on one TBU > critical path 40


def test_fanout_on_four_tbus():
    """Six fan-out copies spread over a 2x2 cluster; remote copies wait for their input."""
    wf = (WorkflowBuilder("fan")
          .task("src", "ai", 2560, output_bytes=640)   # 10 cycles; 640 B = 10 cycles on a link
          .fanout("F", Constant(value=6), ["w"])
          .task("w", "ai", 5120)                       # 20 cycles
          .task("sink", "general", 640)                # 10 cycles
          .flow("src", "F", "sink").build())
    sim, rec = run_sim(wf, tiny_arch(2, 2))
    # TBUs: 0 (0,0), 1 (1,0), 2 (0,1), 3 (1,1). src on TBU 0, 0..10. F on the CBU, 10..30.
    # t=30: copies 0..3 go to TBUs 0..3. Data from TBU 0: local 0; 1 hop: 2 + 640/64 = 12;
    # 2 hops (to TBU 3): 4 + 10 = 14. So w0 30..50, w1 42..62, w2 42..62, w3 44..64.
    # t=50: TBU 0 frees, w4 local 50..70. t=62: TBUs 1 and 2 free, w5 takes TBU 1 (lowest id),
    # data 62 + 12 = 74, runs 74..94. t=94: sink on the lowest idle TBU (0), 94..104.
    assert rec.schedule() == {
        "i0/src": (0, 0, 10),
        "i0/F[0]/w": (0, 30, 50), "i0/F[1]/w": (1, 42, 62), "i0/F[2]/w": (2, 42, 62),
        "i0/F[3]/w": (3, 44, 64), "i0/F[4]/w": (0, 50, 70), "i0/F[5]/w": (1, 74, 94),
        "i0/sink": (0, 94, 104)}
    assert sim.makespan == 104
    assert rec.cbu_slices == [(0, "i0/F", 10, 20)]
    # (compute, reconfig, wait_data, starved, no_work), each row summing to 104:
    # TBU 0 computes 10 + 20 + 20 + 10; TBU 1 computes 2 x 20 and waits 2 x 12; TBU 2 20 and 12;
    # TBU 3 20 and 14.
    assert [_buckets(sim, u) for u in range(4)] == [
        (60, 0, 0, 44, 0), (40, 0, 24, 40, 0), (20, 0, 12, 72, 0), (20, 0, 14, 70, 0)]
    # 4 remote copies moved 640 B each over 1 + 1 + 2 + 1 hops.
    stats = sim.machine.noc.stats
    assert (stats.transfers, stats.total_bytes, stats.byte_hops) == (4, 2560, 640 * 5)
    # bound: work 10 + 6 x 20 + 10 = 140 over 4 TBUs = 35; path with each AI firing on a group
    # of all 4 TBUs (a dispatch may be that wide): 3 + 20 (CBU) + 5 + 10 = 38.
    assert sim.lower_bound_cycles == 38


def _branch():
    return (WorkflowBuilder("br")
            .task("a", "ai", 2560)                     # 10 cycles
            .branch("B", "M", {"x": 0.5, "y": 0.5})
            .task("x", "ai", 7680)                     # 30 cycles
            .task("y", "ai", 12800)                    # 50 cycles
            .merge("M")
            .task("z", "general", 640)                 # 10 cycles
            .flow("a", "B").flow("x", "M").flow("y", "M").flow("M", "z").build())


@pytest.mark.parametrize("path, makespan", [("x", 70), ("y", 90)])
def test_branch_runs_only_the_taken_path(path, makespan):
    """Exactly one path of a branch runs: a, the CBU decision, x or y, then z."""
    wf = _branch()
    # Find a seed whose instance 0 takes ``path`` (the same draw the simulator makes).
    seed = next(s for s in range(100)
                if any(f.block_id == path for f in sample_instance(wf, s, 0).firings))
    sim, rec = run_sim(wf, tiny_arch(), seed=seed)
    # a 0..10, B on the CBU 10..30, then x 30..60 (or y 30..80), then z for 10 more.
    body_end = 30 + {"x": 30, "y": 50}[path]
    assert rec.schedule() == {"i0/a": (0, 0, 10), f"i0/{path}": (0, 30, body_end),
                              "i0/z": (0, body_end, body_end + 10)}
    assert sim.makespan == makespan
    assert (sim.task_firings, sim.control_firings) == (3, 1)
    # the TBU is starved (work exists but is not ready) only while B is decided.
    assert _buckets(sim, 0) == (makespan - 20, 0, 0, 20, 0)


def _loop(count_known: bool = False):
    return (WorkflowBuilder("lp")
            .task("a", "ai", 2560)                     # 10 cycles
            .loop("L", Constant(value=3), ["b"], count_known=count_known)
            .task("b", "ai", 5120)                     # 20 cycles
            .task("c", "general", 640)                 # 10 cycles
            .flow("a", "L", "c").build())


def test_loop_with_a_known_count_runs_body_in_sequence_after_one_decision():
    """A loop of 3 whose count is known runs its body three times one after another, after
    one CBU decision."""
    sim, rec = run_sim(_loop(count_known=True), tiny_arch())
    # a 0..10, L on the CBU 10..30, b 30..50, 50..70, 70..90, c 90..100.
    assert {k: v[1:] for k, v in rec.schedule().items()} == {
        "i0/a": (0, 10), "i0/L[0]/b": (30, 50), "i0/L[1]/b": (50, 70), "i0/L[2]/b": (70, 90),
        "i0/c": (90, 100)}
    assert sim.makespan == 100
    assert (sim.task_firings, sim.control_firings) == (5, 1)
    # bound = critical path 10 + 20 + 3 x 20 + 10 = 100: this run meets it.
    assert sim.lower_bound_cycles == 100


def test_loop_decided_per_iteration_pays_a_decision_per_iteration():
    """A loop of 3 with no known count decides before each iteration and once more to end:
    4 CBU decisions, 3 x 20 cycles more than the loop whose count is known."""
    sim, rec = run_sim(_loop(), tiny_arch())
    # a 0..10, L[0]? 10..30, b 30..50, L[1]? 50..70, b 70..90, L[2]? 90..110, b 110..130,
    # L[3]? (ends the loop) 130..150, c 150..160.
    assert {k: v[1:] for k, v in rec.schedule().items()} == {
        "i0/a": (0, 10), "i0/L[0]/b": (30, 50), "i0/L[1]/b": (70, 90), "i0/L[2]/b": (110, 130),
        "i0/c": (150, 160)}
    assert rec.cbu_slices == [(0, f"i0/L[{k}]?", 10 + 40 * k, 20) for k in range(4)]
    assert sim.makespan == 100 + 3 * 20
    assert (sim.task_firings, sim.control_firings) == (5, 4)
    # bound = critical path 10 + 4 x 20 + 3 x 20 + 10 = 160: this run meets it.
    assert sim.lower_bound_cycles == 160
    # compute 10 + 3 x 20 + 10 = 80; starved while the CBU decides: 4 x 20.
    assert _buckets(sim, 0) == (80, 0, 0, 80, 0)


@pytest.mark.parametrize("count_known, b_starts, decisions", [
    (True, [2010, 2030, 2050], [("i0/L", 10)]),
    (False, [2010, 4030, 6050], [(f"i0/L[{k}]?", 10 + 2020 * k) for k in range(4)])])
def test_static_resolves_control_on_the_host(count_known, b_starts, decisions):
    """Under static a loop decision is a 2000-cycle host round trip, paid once when the count
    is known and before every iteration (and once to end) when it is not."""
    sim, rec = run_sim(_loop(count_known), tiny_arch(), scheduler="static")
    # Known: a 0..10, host 10..2010, b 2010..2030..2050..2070, c 2070..2080.
    # Per iteration: a 0..10, host 10..2010, b 2010..2030, host 2030..4030, b 4030..4050,
    # host 4050..6050, b 6050..6070, host 6070..8070, c 8070..8080.
    makespan = 2080 if count_known else 8080
    assert {k: v[1:] for k, v in rec.schedule().items()} == {
        "i0/a": (0, 10), **{f"i0/L[{k}]/b": (t, t + 20) for k, t in enumerate(b_starts)},
        "i0/c": (makespan - 10, makespan)}
    assert sim.makespan == makespan
    # resolved by the host, not a CBU
    assert rec.cbu_slices == [(HOST, label, t, 2000) for label, t in decisions]
    # One TBU serves a, b, c; by demand b (60) then a (10) are installed, c (10) is loaded at
    # run time (setup 0 cycles, 0 bytes: one reconfiguration that takes no time).
    assert sim.machine.tbus[0].reconfigurations == 1
    # compute 10 + 3 x 20 + 10 = 80; starved while the host decides: 2000 per decision.
    assert _buckets(sim, 0) == (80, 0, 0, 2000 * len(decisions), 0)


@pytest.mark.parametrize("slots, makespan, loads", [(1, 2660, 4), (2, 1360, 2)])
def test_reconfiguration_costs_setup_plus_bytes(slots, makespan, loads):
    """Each configuration load costs setup + bytes / 32; two slots keep both blocks resident."""
    wf = (WorkflowBuilder("rc")                     # one decision: loads are the point here
          .loop("L", Constant(value=2), ["a", "b"], count_known=True)
          .task("a", "ai", 2560, config_bytes=3200)   # 10 cycles; load 500 + 3200/32 = 600
          .task("b", "ai", 2560, config_bytes=6400)   # 10 cycles; load 500 + 6400/32 = 700
          .flow("a", "b").build())
    arch = tiny_arch(**{"tbu.config_setup_cycles": 500, "tbu.config_slots": slots})
    sim, rec = run_sim(wf, arch)
    # L on the CBU 0..20. a: load 20..620, runs 620..630. b: load 630..1330, runs 1330..1340.
    # One slot: a again loads 1340..1940, runs ..1950; b loads ..2650, runs ..2660.
    # Two slots: a runs 1340..1350, b 1350..1360.
    second = ((1940, 1950), (2650, 2660)) if slots == 1 else ((1340, 1350), (1350, 1360))
    assert {k: v[1:] for k, v in rec.schedule().items()} == {
        "i0/L[0]/a": (620, 630), "i0/L[0]/b": (1330, 1340),
        "i0/L[1]/a": second[0], "i0/L[1]/b": second[1]}
    assert sim.makespan == makespan
    assert sim.machine.tbus[0].reconfigurations == loads
    reconfig = 600 + 700 if slots == 2 else 2 * (600 + 700)
    assert _buckets(sim, 0) == (40, reconfig, 0, 20, 0)
    # the trace shows each read (3200 / 32, 6400 / 32) and the TBU waiting for it and the setup
    assert [s for s in rec.tbu_slices if s[1].startswith("load")][:2] == [
        (0, "load a", 20, 100), (0, "load b", 630, 200)]
    assert [s for s in rec.tbu_slices if s[1] == "wait config"][:2] == [
        (0, "wait config", 20, 600), (0, "wait config", 630, 700)]


def test_configuration_load_overlaps_data_fetch():
    """Loading a configuration and fetching source bytes happen in parallel; the slower wins."""
    wf = (WorkflowBuilder("ov")
          .task("a", "ai", 2560, input_bytes=32000, config_bytes=3200).build())
    sim, rec = run_sim(wf, tiny_arch(**{"tbu.config_setup_cycles": 500}))
    # load 500 + 100 = 600 cycles; memory 32000 / 32 = 1000 cycles; start at max = 1000.
    assert rec.schedule() == {"i0/a": (0, 1000, 1010)}
    # reconfiguring 600, then 400 more waiting for data, 10 computing.
    assert _buckets(sim, 0) == (10, 600, 400, 0, 0)


def test_transfer_between_static_partitions():
    """static maps a and b to neighbouring TBUs; b waits for a's 6400 B over one hop."""
    wf = (WorkflowBuilder("tx")
          .task("a", "ai", 2560, output_bytes=6400)   # 10 cycles
          .task("b", "ai", 2560)                      # 10 cycles
          .flow("a", "b").build())
    sim, rec = run_sim(wf, tiny_arch(2, 1), scheduler="static")
    # a on TBU 0, 0..10; transfer 2 + 6400 / 64 = 102 cycles, so b on TBU 1 runs 112..122.
    assert rec.schedule() == {"i0/a": (0, 0, 10), "i0/b": (1, 112, 122)}
    assert sim.makespan == 122
    # the link TBU 0 -> TBU 1 carries 6400 B for 100 cycles from cycle 10.
    assert [(sim.machine.topology.link_name(k), s, e, n) for k, s, e, n in rec.link_slices] == [
        ("tbu0->tbu1", 10, 110, 6400)]
    stats = sim.machine.noc.stats
    assert (stats.transfers, stats.total_bytes, stats.byte_hops, stats.d2d_byte_hops) == (
        1, 6400, 6400, 0)
    assert _buckets(sim, 1) == (10, 0, 102, 10, 0)


def _fan(copies: int):
    return (WorkflowBuilder("fan")
            .task("src", "ai", 2560, output_bytes=6400)   # 10 cycles
            .fanout("F", Constant(value=copies), ["w"])
            .task("w", "ai", 5120)                        # 20 cycles
            .flow("src", "F").build())


def test_transfer_across_a_die_to_die_link():
    """A copy placed on the other cluster gets its input over a slower die-to-die link."""
    arch = tiny_arch(**{"chip.clusters_x": 2})  # TBU 0 in cluster 0, TBU 1 in cluster 1
    sim, rec = run_sim(_fan(2), arch)
    # src 0..10 on TBU 0; F on cluster 0's CBU 10..30; w0 local 30..50; w1 on TBU 1 waits
    # 10 + 6400 / 16 = 410 cycles: 440..460.
    assert rec.schedule() == {"i0/src": (0, 0, 10), "i0/F[0]/w": (0, 30, 50),
                              "i0/F[1]/w": (1, 440, 460)}
    assert sim.makespan == 460
    assert sim.machine.noc.stats.d2d_byte_hops == 6400


@pytest.mark.parametrize("model, w2_start, wait", [("analytic", 134, 0), ("contention", 234, 100)])
def test_contention_delays_a_transfer_sharing_a_link(model, w2_start, wait):
    """Two transfers sharing a link overlap under 'analytic' and queue under 'contention'."""
    arch = tiny_arch(3, 1, **{"noc.model": model})  # TBUs 0 - 1 - 2 in a row
    sim, rec = run_sim(_fan(3), arch)
    # src 0..10, F 10..30. w1 on TBU 1: 2 + 100 = 102 cycles -> 132..152, holding link 0->1 over
    # [30, 130). w2 on TBU 2 needs links 0->1 and 1->2: analytic 4 + 100 -> starts 134; under
    # contention its window starts at 130 when link 0->1 frees: 130 + 4 + 100 = 234.
    assert rec.schedule() == {"i0/src": (0, 0, 10), "i0/F[0]/w": (0, 30, 50),
                              "i0/F[1]/w": (1, 132, 152), "i0/F[2]/w": (2, w2_start, w2_start + 20)}
    assert sim.makespan == w2_start + 20
    assert sim.machine.noc.stats.wait_cycles == wait


@pytest.mark.parametrize("count_known", [True, False])
def test_cbu_evaluates_one_control_block_at_a_time(count_known):
    """Two instances' loop decisions queue on the cluster's single CBU."""
    sim, rec = run_sim(_loop(count_known), tiny_arch(2, 1), instances=2)
    sched = rec.schedule()
    # a0 on TBU 0 and a1 on TBU 1, both 0..10. L of i0 on the CBU 10..30, L of i1 30..50.
    assert sched["i0/L[0]/b"][1] == 30 and sched["i1/L[0]/b"][1] == 50
    if count_known:
        assert [s[2:] for s in rec.cbu_slices] == [(10, 20), (30, 20)]
        # i0's body: 30..50..70..90, c 90..100. i1's body 50..70..90..110, c 110..120.
        assert sched["i0/c"][1:] == (90, 100) and sched["i1/c"][1:] == (110, 120)
        assert sim.makespan == 120
        return
    # Per iteration the two instances alternate on the CBU, i1 20 cycles behind: i0 decides
    # at 10, 50, 90, 130 (b 30..50, 70..90, 110..130; c 150..160), i1 at 30, 70, 110, 150
    # (b 50..70, 90..110, 130..150; c 170..180). Only i1's first decision waits (10..30).
    assert [s[2:] for s in rec.cbu_slices] == [(10 + 20 * k, 20) for k in range(8)]
    assert [s[1] for s in rec.cbu_slices[:3]] == ["i0/L[0]?", "i1/L[0]?", "i0/L[1]?"]
    assert sched["i0/c"][1:] == (150, 160) and sched["i1/c"][1:] == (170, 180)
    assert sim.makespan == 180
