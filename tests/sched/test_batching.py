"""Every baseline batches the firings that ride along for free: as many of a block's ready
firings as compute within the time one of them alone would hold its TBU."""

import pytest
from schedkit import mesh, run

from octopus.sched.batching import batch_limit
from octopus.workflow import Constant, WorkflowBuilder

BASELINES = ["greedy", "affinity", "locality", "static", "reactive", "clairvoyant"]
STREAMING = mesh(1, **{"tbu.config_share": 0.01})  # holds 20,971 B: 32,000 B stream


def _fanout(config_bytes: int):
    """A fan-out of 4 copies of x (100 cycles each) whose configuration is ``config_bytes``."""
    return (WorkflowBuilder("fan").fanout("F", Constant(value=4), ["x"])
            .task("x", "ai", 25_600, config_bytes=config_bytes).build())


def test_the_limit_is_what_one_stream_hides():
    """32,000 B streamed at 32 B/cycle take 1000 cycles with nothing queued at memory: ten
    firings of 100 cycles compute in that time. A resident block computes a batch of two in
    200 cycles, longer than one alone: no batch."""
    sim, rec = run(_fanout(32_000), STREAMING, "greedy")
    assert batch_limit(sim.machine, rec.tasks[0], 0) == 10
    sim, rec = run(_fanout(3_200), STREAMING, "greedy")
    assert batch_limit(sim.machine, rec.tasks[0], 0) == 1


@pytest.mark.parametrize("scheduler", BASELINES)
def test_baselines_share_one_stream_among_ready_firings(scheduler):
    """Four copies ready at once on one TBU: one dispatch streams the weights once for all
    four (1000 cycles, their compute hidden); with batching off, four streams one after
    another."""
    on, rec = run(_fanout(32_000), STREAMING, scheduler)
    assert on.machine.batches == {4: 1} and {t.batch for t in rec.tasks} == {4}
    assert on.machine.memory.stats.bytes_by_purpose["weights"] == 32_000
    off, _ = run(_fanout(32_000), STREAMING, {"name": scheduler, "batch": False})
    assert off.machine.batches == {1: 4}
    assert off.makespan - on.makespan >= 3 * 1000


@pytest.mark.parametrize("scheduler", BASELINES)
def test_baselines_do_not_batch_what_runs_faster_alone(scheduler):
    """A resident block computes linearly in its batch: each copy runs alone."""
    sim, _ = run(_fanout(3_200), STREAMING, scheduler)
    assert sim.machine.batches == {1: 4}


def test_greedy_runs_a_widening_block_on_a_fixed_width_and_the_rest_alone():
    """``width`` 4 on 4 TBUs: each of the 4 copies of x runs on all four (a quarter of its
    compute each, one after another, the next prefetched behind); the general sink runs on one.
    Width 1 runs the copies side by side, one per TBU."""
    wf = (WorkflowBuilder("fan").fanout("F", Constant(value=4), ["x"])
          .task("x", "ai", 25_600).task("sink", "general", 640).flow("F", "sink").build())
    arch = mesh(4, **{"tbu.max_batch": 1})
    wide, rec = run(wf, arch, {"name": "greedy", "width": 4})
    assert {t.group for t in rec.of("x")} == {(0, 1, 2, 3)}
    assert [len(t.group) for t in rec.of("sink")] == [1]
    assert wide.machine.widths == {4: 4, 1: 1}
    narrow, rec = run(wf, arch, "greedy")
    assert sorted(t.group for t in rec.of("x")) == [(0,), (1,), (2,), (3,)]


def test_greedy_width_is_a_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        run(_fanout(3_200), mesh(4), {"name": "greedy", "width": 3})
