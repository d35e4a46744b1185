"""Batches, groups and prefetch (octopus.sim.parallel, octopus.sim.machine), worked by hand.

Rates of :func:`simkit.tiny_arch` unless overridden: ai 256 MACs/cycle, configuration and memory
ports 32 B/cycle (private memory, no latency), links 64 B/cycle with 2 cycles per hop, setup 0,
1.5 MiB of each TBU's 2 MiB for configurations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from simkit import Collector, tiny_arch

from octopus.sched.base import Scheduler, SchedulerConfig
from octopus.sim import Simulator
from octopus.sim.state import Task
from octopus.workflow import WorkflowBuilder

MIB = 1 << 20


class _Plan(Scheduler):
    """Dispatches exactly as ``plan(ready tasks, machine)`` says, whenever it returns a list of
    ``(tasks, group)``; keeps the rest waiting."""

    plan: Callable[[list[Task], object], list[tuple[list[Task], list[int]]]]

    def on_start(self) -> None:
        self.ready: list[Task] = []

    def on_ready(self, task: Task) -> None:
        self.ready.append(task)

    def decide(self) -> None:
        for tasks, group in type(self).plan(self.ready, self.machine):
            for t in tasks:
                self.ready.remove(t)
            self.machine.dispatch_batch(tasks, group)


def _run(wf, arch, plan, instances: int = 1) -> tuple[Simulator, Collector]:
    scheduler = type("Planned", (_Plan,), {"plan": staticmethod(plan)})
    rec = Collector()
    sim = Simulator(wf, arch, lambda m, w: scheduler(SchedulerConfig(name="plan"), m, w),
                    instances, 0, None, rec)
    return sim.run(), rec


def _all_at_once(count: int, group: Sequence[int]):
    """A plan: once ``count`` firings are ready, run them as one batch on ``group``."""
    return lambda ready, machine: [(list(ready), list(group))] if len(ready) == count else []


def test_a_batch_computes_its_summed_work_once_and_ends_together():
    """Three 10-cycle firings of one block (no layer table) as one batch: 30 cycles, one
    configuration load, every firing ends at 100 + 30."""
    wf = WorkflowBuilder("b").task("x", "ai", 2560, config_bytes=3200).build()
    sim, rec = _run(wf, tiny_arch(), _all_at_once(3, [0]), instances=3)
    assert {t.end_cycle for t in rec.tasks} == {130}
    assert {(t.start_cycle, t.batch, t.group) for t in rec.tasks} == {(100, 3, (0,))}
    assert sim.machine.batches == {3: 1} and sim.machine.tbus[0].reconfigurations == 1
    assert (0, "x x3", 100, 30) in rec.tbu_slices


def test_a_batch_streams_a_too_large_configuration_once_for_all_its_firings():
    """A 4 MiB configuration cannot be resident: two firings in one batch stream 4 MiB once
    (131,072 cycles at 32 B/cycle), where two dispatches would stream it twice."""
    big = 4 * MIB
    wf = WorkflowBuilder("s").task("x", "ai", 2560, config_bytes=big).build()
    sim, _ = _run(wf, tiny_arch(), _all_at_once(2, [0]), instances=2)
    assert sim.makespan == big // 32
    assert sim.machine.memory.stats.bytes_by_purpose["weights"] == big
    row = sim.tbu_buckets()[0]
    assert (row["compute"], row["reconfig"]) == (20, big // 32 - 20)


def test_a_group_holds_a_configuration_too_large_for_one_tbu_in_shards():
    """3 MiB does not fit a TBU's 1.5 MiB share but its two halves do: a 2-TBU group loads one
    half on each (49,152 cycles in parallel), computes 2 x 25,600 MACs at 512 MACs/cycle (100
    cycles), then all-gathers half the 12,800 output bytes over one hop (2 + 6,400 / 64 = 102
    cycles). A second firing finds both shards resident."""
    wf = (WorkflowBuilder("g").task("x", "ai", 51_200, config_bytes=3 * MIB, output_bytes=12_800)
          .build())
    sim, rec = _run(wf, tiny_arch(2, 1), lambda ready, m: [([t], [0, 1]) for t in ready[:1]]
                    if m.can_take(0) and m.tbus[0].in_flight == 0 else [], instances=2)
    load = 3 * MIB // 2 // 32
    first, second = sorted(rec.tasks, key=lambda t: t.start_cycle)
    assert (first.start_cycle, first.end_cycle) == (load, load + 100 + 102)
    assert second.end_cycle - second.start_cycle == 202 and first.group == (0, 1)
    assert sim.machine.widths == {2: 2}
    assert [u.reconfigurations for u in sim.machine.tbus] == [1, 1]
    assert sim.machine.is_resident(1, "x[2/2]") and not sim.machine.is_resident(0, "x")
    assert sim.machine.holders("x[2/2]") == {1} and not sim.machine.holders("x")
    assert (0, "wait exchange", load + 100, 102) in rec.tbu_slices


def _one_behind_another(ready, machine):
    """A plan: keep TBU 0 running one firing with the next waiting behind it."""
    return [([t], [0]) for t in ready[:2 - machine.tbus[0].in_flight]]


def test_a_busy_tbu_prefetches_the_next_configuration_while_it_computes():
    """b is dispatched behind a (1,000 cycles of compute) on the same TBU: b's 3,200 B load
    (100 cycles) runs during a's compute, so b starts the cycle a ends and the TBU never waits
    for a configuration after the first."""
    wf = (WorkflowBuilder("p").task("a", "ai", 256_000, config_bytes=3200)
          .task("b", "ai", 2560, config_bytes=3200).build())


    sim, rec = _run(wf, tiny_arch(), _one_behind_another)
    times = {t.block_id: (t.dispatch_cycle, t.start_cycle, t.end_cycle) for t in rec.tasks}
    assert times == {"a": (0, 100, 1100), "b": (0, 1100, 1110)}
    assert sim.tbu_buckets()[0]["reconfig"] == 100  # a's load only; b's was hidden
    assert sim.machine.tbus[0].reconfigurations == 2


def test_a_prefetch_that_cannot_fit_beside_the_running_configuration_waits_for_it():
    """Two 1 MiB configurations on a 1.5 MiB share: b's load must wait until a ends."""
    wf = (WorkflowBuilder("p").task("a", "ai", 256_000, config_bytes=MIB)
          .task("b", "ai", 2560, config_bytes=MIB).build())


    _, rec = _run(wf, tiny_arch(), _one_behind_another)
    load = MIB // 32
    times = {t.block_id: (t.start_cycle, t.end_cycle) for t in rec.tasks}
    assert times == {"a": (load, load + 1000), "b": (2 * load + 1000, 2 * load + 1010)}


@pytest.mark.parametrize(("tasks", "group", "problem"), [
    (2, [0], "over tbu.max_batch"), (1, [0, 1, 2], "width"), (1, [0, 0], "width")])
def test_a_dispatch_the_machine_cannot_run_is_refused(tasks, group, problem):
    """A batch over tbu.max_batch, a width that is not a power of two, or a TBU twice in a
    group is a scheduler bug: RuntimeError."""
    wf = WorkflowBuilder("r").task("x", "ai", 2560).build()
    arch = tiny_arch(2, 2, **{"tbu.max_batch": 1})
    with pytest.raises(RuntimeError, match=problem):
        _run(wf, arch, _all_at_once(tasks, group), instances=tasks)


def test_general_blocks_run_on_one_tbu():
    """General (irregular) code does not split over a group."""
    wf = WorkflowBuilder("r").task("x", "general", 640).build()
    with pytest.raises(RuntimeError, match="width"):
        _run(wf, tiny_arch(2, 1), _all_at_once(1, [0, 1]))


def test_a_third_dispatch_on_a_tbu_is_refused():
    """A TBU holds one dispatch running and one waiting, no more."""
    wf = WorkflowBuilder("r").task("x", "ai", 2560).build()
    with pytest.raises(RuntimeError, match="one waiting"):
        _run(wf, tiny_arch(), lambda ready, m: [([t], [0]) for t in ready] if len(ready) == 3
             else [], instances=3)
