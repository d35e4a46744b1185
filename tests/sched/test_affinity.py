"""``affinity`` places a firing on an idle TBU that holds its configuration, and otherwise
behaves as ``greedy``."""

from schedkit import mesh, run

from octopus.sim.residency import shard_key
from octopus.workflow import WorkflowBuilder

ONE = WorkflowBuilder("one").task("w", "ai", 256_000, config_bytes=32_000).build()  # 1000 cycles


def hold_w_on_tbu_2(sim):
    sim.machine.install(2, "w", 32_000)


def test_affinity_picks_the_idle_tbu_holding_the_configuration():
    """TBU 2 holds w: affinity runs w there with no load; greedy takes TBU 0 and loads it."""
    sim, rec = run(ONE, mesh(4), "affinity", setup=hold_w_on_tbu_2)
    assert rec.of("w")[0].tbu == 2 and rec.loads == []
    assert sim.makespan == 1000
    sim, rec = run(ONE, mesh(4), "greedy", setup=hold_w_on_tbu_2)
    assert rec.of("w")[0].tbu == 0 and rec.loads == [(0, "w", 0, False)]
    assert sim.makespan == 1000 + 32_000 // 32


def test_affinity_serves_the_oldest_firing_first():
    """The queue stays first-in, first-out: on one TBU holding w, the older ready firing x runs
    first (and loads), w waits its turn rather than jumping ahead to its resident TBU."""
    wf = (WorkflowBuilder("xw").task("x", "ai", 2560, config_bytes=3200)  # 10 cycles
          .task("w", "ai", 2560, config_bytes=3200).build())
    _, rec = run(wf, mesh(1), "affinity", setup=lambda sim: sim.machine.install(0, "w", 3200))
    assert [t.block_id for t in sorted(rec.tasks, key=lambda t: t.start_cycle)] == ["x", "w"]


def test_affinity_without_holders_takes_the_lowest_idle_tbu():
    """When no idle TBU holds the configuration, the lowest idle one loads it."""
    _, rec = run(ONE, mesh(4), "affinity")
    assert rec.of("w")[0].tbu == 0 and rec.loads == [(0, "w", 0, False)]


def test_affinity_widens_on_the_range_holding_the_shards():
    """``width`` 4 on 8 TBUs, w's four shards held by TBUs 4-7: affinity runs w on them with
    no load; greedy takes TBUs 0-3 and loads a shard on each."""
    def hold_shards_on_4_to_7(sim):
        for i in range(4):
            sim.machine.install(4 + i, shard_key("w", 4, i), 8_000)

    _, rec = run(ONE, mesh(8), {"name": "affinity", "width": 4}, setup=hold_shards_on_4_to_7)
    assert rec.of("w")[0].group == (4, 5, 6, 7) and rec.loads == []
    _, rec = run(ONE, mesh(8), {"name": "greedy", "width": 4}, setup=hold_shards_on_4_to_7)
    assert rec.of("w")[0].group == (0, 1, 2, 3) and len(rec.loads) == 4
