"""``clairvoyant`` uses what only it knows (every outcome and duration at arrival) where it
matters: rank, waiting for a resident TBU, preloading."""

from schedkit import mesh, run

from octopus.workflow import Constant, WorkflowBuilder


def test_clairvoyant_beats_greedy_by_running_the_long_chain_first():
    """Two TBUs; x and y (100 cycles each) are ready before a (10), which heads b (300).
    greedy runs x and y first: b ends at 410. The longest remaining path first: a then b on
    one TBU, x then y on the other: 310."""
    wf = (WorkflowBuilder("chain").task("x", "ai", 25_600).task("y", "ai", 25_600)
          .task("a", "ai", 2560).task("b", "ai", 76_800).flow("a", "b").build())
    greedy, _ = run(wf, mesh(2), "greedy")
    clairvoyant, rec = run(wf, mesh(2), "clairvoyant")
    assert (greedy.makespan, clairvoyant.makespan) == (410, 310)
    assert rec.of("a")[0].start_cycle == 0


def test_clairvoyant_ranks_by_the_work_a_loop_will_reveal():
    """On one TBU, q (10 cycles) heads a loop of 5 x 200 cycles that the others learn one
    iteration per decision; p (1000) is older. Knowing the count, q goes first and the loop's
    first decision overlaps p."""
    wf = (WorkflowBuilder("loop").task("p", "ai", 256_000).task("q", "ai", 2560)
          .loop("L", Constant(value=5), ["z"]).task("z", "ai", 51_200).flow("q", "L").build())
    greedy, _ = run(wf, mesh(1), "greedy")
    clairvoyant, rec = run(wf, mesh(1), "clairvoyant")
    assert rec.of("q")[0].start_cycle == 0 and rec.of("p")[0].start_cycle == 10
    # greedy: p 0..1000, q ..1010, then 5 x (decision 20 + z 200) and a last decision: 2130;
    # clairvoyant: q 0..10, p 10..1010 while L decides its first iteration, z from 1010: 2110.
    assert (greedy.makespan, clairvoyant.makespan) == (2130, 2110)


def test_clairvoyant_waits_for_the_busy_tbu_holding_a_costly_configuration():
    """w loads in 10,000 cycles and runs 100. When the second instance's w is ready (cycle
    9000) TBU 1 is idle but would finish at 19,100; TBU 0 holds w and frees at 10,100: the
    firing waits for it and finishes at 10,200 with one load in all."""
    wf = WorkflowBuilder("w").task("w", "ai", 25_600, config_bytes=320_000).build()
    sim, rec = run(wf, mesh(2), "clairvoyant", instances=2, arrivals=[0, 9000])
    assert [t.tbu for t in rec.of("w")] == [0, 0]
    assert sim.makespan == 10_200 and rec.loads == [(0, "w", 0, False)]
    affinity, _ = run(wf, mesh(2), "affinity", instances=2, arrivals=[0, 9000])
    assert affinity.makespan == 19_100


def test_clairvoyant_preloads_configurations_it_knows_are_coming():
    """While src runs (1000 cycles), the idle TBU loads w, known to follow: w starts the
    moment src ends. Without preloads it pays the 1000-cycle load after src."""
    wf = (WorkflowBuilder("pre").task("src", "ai", 256_000)
          .task("w", "ai", 2560, config_bytes=32_000).flow("src", "w").build())
    on, rec = run(wf, mesh(2), "clairvoyant")
    assert (1, "w", 0, True) in rec.loads
    assert (rec.of("w")[0].tbu, rec.of("w")[0].start_cycle, on.makespan) == (1, 1000, 1010)
    off, _ = run(wf, mesh(2), {"name": "clairvoyant", "preload": False})
    assert off.makespan == 2010
