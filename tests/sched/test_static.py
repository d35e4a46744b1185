"""``static``: a compile-time partition over the whole machine or every cluster, ``auto``
picking the one that runs faster, started cold like every scheduler."""

import pytest
from schedkit import mesh, run

from octopus.arch import load_arch
from octopus.sched import scheduler_factory
from octopus.sched.partition import estimated_load, proportional_partition, static_layout
from octopus.sim import Simulator
from octopus.workflow import WorkflowBuilder


def chain(n: int, config_bytes: int = 0, output_bytes: int = 0):
    """Blocks b0 -> b1 -> ... of 256,000 MACs each (1250 cycles on ``chip``)."""
    wf = WorkflowBuilder(f"chain{n}")
    for k in range(n):
        wf = wf.task(f"b{k}", "ai", 256_000, config_bytes=config_bytes, output_bytes=output_bytes)
    for k in range(n - 1):
        wf = wf.flow(f"b{k}", f"b{k + 1}")
    return wf.build()


def machine_of(wf, arch):
    return Simulator(wf, arch, scheduler_factory("greedy"), 1, 0).machine


def test_proportional_partition_follows_demand():
    """Every block gets a TBU, the rest go where demand per TBU is highest; packing when
    blocks outnumber TBUs."""
    assert proportional_partition({"a": 1.0, "b": 3.0}, 4) == [["a"], ["b"], ["b"], ["b"]]
    assert proportional_partition({"a": 1.0, "b": 3.0, "c": 2.0}, 2) == [["b"], ["c", "a"]]


def test_machine_layout_spans_every_cluster_along_a_serpentine():
    """On chip-4 (8x8 TBUs in 2x2 clusters) a 3-block chain is split 22/21/21 over all 64 TBUs;
    the TBUs taken one after another are mesh neighbours, so b0's last TBU touches b1's first."""
    arch = load_arch("chip-4")
    machine = machine_of(chain(3), arch)
    layout = static_layout(chain(3), machine, per_cluster=False)
    at = machine.topology.tbu_at
    order = [at(x if y % 2 == 0 else 7 - x, y) for y in range(8) for x in range(8)]
    assert [layout.serves[u] for u in order] == [("b0",)] * 22 + [("b1",)] * 21 + [("b2",)] * 21
    for u, v in zip(order, order[1:], strict=False):
        assert sum(machine.topology.hops(u, v)) == 1


def test_cluster_layout_repeats_in_every_cluster():
    """Per cluster, each of the four clusters holds the same 16-TBU partition."""
    machine = machine_of(chain(3), load_arch("chip-4"))
    layout = static_layout(chain(3), machine, per_cluster=True)
    per = [sorted(layout.serves[u] for u in machine.topology.tbus_of(c)) for c in range(4)]
    assert per[0] == per[1] == per[2] == per[3]
    assert per[0].count(("b0",)) == 6 and per[0].count(("b2",)) == 5


def test_auto_takes_the_whole_machine_when_clusters_would_thrash():
    """20 blocks of 1 MB on chip-4: a cluster's 16 TBUs must pack two 1 MB configurations on
    some TBU (they do not fit together in 1.5 MiB: a reload per firing); the whole machine
    gives each block its own TBUs. auto picks the machine, which runs faster."""
    wf, arch = chain(20, config_bytes=1_000_000), load_arch("chip-4")
    machine = machine_of(wf, arch)
    assert (estimated_load(wf, machine, static_layout(wf, machine, False))
            < estimated_load(wf, machine, static_layout(wf, machine, True)))
    spans = {mode: run(wf, arch, {"name": "static", "partition": mode}, instances=64)[0]
             for mode in ("auto", "machine", "cluster")}
    assert spans["auto"].scheduler.per_cluster is False
    assert spans["auto"].makespan == spans["machine"].makespan < spans["cluster"].makespan


def test_auto_keeps_clusters_when_the_whole_machine_moves_data_across_dies():
    """b0 -> b1 passing 2 MB: over the whole machine b0 and b1 fill opposite halves of chip-4
    and every transfer crosses a 16 B/cycle die-to-die link; per cluster they are neighbours
    on 64 B/cycle links. auto keeps the clusters, which run about ten times faster."""
    wf, arch = chain(2, output_bytes=2_000_000), load_arch("chip-4")
    spans = {mode: run(wf, arch, {"name": "static", "partition": mode}, instances=64)[0]
             for mode in ("auto", "machine", "cluster")}
    assert spans["auto"].scheduler.per_cluster is True
    assert spans["auto"].makespan == spans["cluster"].makespan
    assert 8 * spans["cluster"].makespan < spans["machine"].makespan


@pytest.mark.parametrize("partition", ["machine", "cluster"])
def test_static_starts_cold_and_preloads_its_mapping(partition):
    """Nothing is resident for free: at cycle 0 every TBU pre-loads the first block it serves
    through memory; a block a TBU serves besides loads when it first runs there."""
    wf = chain(3, config_bytes=32_000)
    sim, rec = run(wf, mesh(2), {"name": "static", "partition": partition})
    # 2 TBUs, 3 blocks: TBU 0 serves b0 (most demanded first, ties in flow order), then b2
    assert sim.scheduler.serves == [["b0", "b2"], ["b1"]]
    assert rec.loads[:2] == [(0, "b0", 0, True), (1, "b1", 0, True)]
    assert (0, "b2", rec.of("b2")[0].dispatch_cycle, False) in rec.loads
    assert rec.of("b0")[0].start_cycle == 32_000 // 32  # waited for its own preload


def test_static_runs_each_firing_on_a_server_cut_from_its_partition():
    """``width`` 4 on a row of 8 TBUs: each block's four TBUs are one server, whose members
    each pre-load their shard; b0 runs on TBUs 0-3, b1 on 4-7. ``width`` 2 cuts each partition
    into two servers: two instances run b0 side by side on 0-1 and 2-3."""
    wf = chain(2, config_bytes=32_000)
    _, rec = run(wf, mesh(8), {"name": "static", "partition": "machine", "width": 4}, 2)
    assert {t.group for t in rec.of("b0")} == {(0, 1, 2, 3)}
    assert {t.group for t in rec.of("b1")} == {(4, 5, 6, 7)}
    assert sorted(rec.loads) == [(u, f"b{u // 4}[{u % 4 + 1}/4]", 0, True) for u in range(8)]
    _, rec = run(wf, mesh(8), {"name": "static", "partition": "machine", "width": 2}, 2)
    assert sorted(t.group for t in rec.of("b0")) == [(0, 1), (2, 3)]
    assert rec.of("b0")[0].start_cycle == rec.of("b0")[1].start_cycle


def test_static_servers_are_equal_and_leave_the_rest_idle():
    """Seven TBUs serve one block at ``width`` 4: one server of 4; the three left over serve
    nothing (a narrower server would hold a fan-out back). Three TBUs at ``width`` 4: a
    server of 2."""
    wf = chain(1)
    sim, _ = run(wf, mesh(7), {"name": "static", "partition": "machine", "width": 4})
    assert list(sim.scheduler.servers[(0, "b0")].values()) == [(0, 1, 2, 3)]
    assert sim.scheduler.serves[4:] == [[], [], []]
    assert sim.scheduler.stats["tbus_left_over"] == 3
    sim, _ = run(wf, mesh(3), {"name": "static", "partition": "machine", "width": 4})
    assert list(sim.scheduler.servers[(0, "b0")].values()) == [(0, 1)]
