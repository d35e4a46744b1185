"""Run invariants of every registered scheduler on every built-in workflow, on 'chip' and
'chip-4' (both NoC models), in a batch and under open-loop arrivals: each sampled Task Block
firing runs exactly once, after its predecessors, for at least its dispatch's compute time
(exactly, alone on one TBU with its configuration resident), one dispatch at a time per TBU;
per-TBU time accounting sums to the makespan; the makespan is at least the bound."""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Iterator

import pytest

from octopus.arch import ArchConfig, compute_cycles, load_arch
from octopus.run import resolve_workflow
from octopus.sched import scheduler_factory, scheduler_names
from octopus.sim import NullRecorder, Simulator, poisson_arrivals
from octopus.sim.capacity import arch_capacity
from octopus.sim.state import Task
from octopus.workflow import (
    batch_lower_bound,
    builtin_names,
    expected_lower_bound,
    sample_instance,
)
from octopus.workflow.sampling import CONTROL

INSTANCES = 40
SEED = 7


class _Firings(NullRecorder):
    """A recorder that keeps finished firings and ignores trace slices."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []

    def task_done(self, task: Task) -> None:
        self.tasks.append(task)


@pytest.fixture
def deadline() -> Iterator[None]:
    """Turn a run that never ends (a scheduler that livelocks) into a failure after 60 s."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError("the run did not finish within 60 s: a scheduler livelock?")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


ARCHS = {"chip": {}, "chip-4": {}, "chip-4/analytic": {"noc.model": "analytic"}}


@pytest.fixture(scope="module", params=sorted(ARCHS))
def arch(request):
    return load_arch(request.param.split("/")[0], ARCHS[request.param])


@pytest.mark.parametrize("scheduler", scheduler_names())
@pytest.mark.parametrize("workflow", builtin_names())
def test_run_invariants(workflow, scheduler, arch, deadline):
    """In a closed batch every invariant of the module docstring holds."""
    _check_run(workflow, scheduler, arch, arrivals=None)


@pytest.mark.parametrize("scheduler", scheduler_names())
@pytest.mark.parametrize("workflow", builtin_names())
def test_open_loop_invariants(workflow, scheduler, deadline):
    """The same invariants under Poisson arrivals on chip-4 at half its capacity."""
    arch = load_arch("chip-4")
    wf = resolve_workflow(workflow)
    # half the rate the machine sustains (mean TBU-cycles per instance spread over all TBUs):
    # busy, with queues that build in bursts and drain
    cycles_per_instance = expected_lower_bound(wf, 1000, arch_capacity(arch)) / 1000
    rate = 0.5 * arch.clock_hz / cycles_per_instance
    arrivals = poisson_arrivals(INSTANCES, rate, arch.clock_hz, SEED)
    _check_run(workflow, scheduler, arch, arrivals)


def _check_run(workflow: str, scheduler: str, arch: ArchConfig,
               arrivals: list[int] | None) -> None:
    wf = resolve_workflow(workflow)
    rec = _Firings()
    sim = Simulator(wf, arch, scheduler_factory(scheduler), INSTANCES, SEED, arrivals,
                    recorder=rec).run()
    instances = [sample_instance(wf, SEED, i) for i in range(INSTANCES)]

    # every sampled Task Block firing ran exactly once, and nothing else ran
    expected = Counter((inst.index, k) for inst in instances
                       for k, f in enumerate(inst.firings) if f.kind != CONTROL)
    ran = Counter((t.run.index, t.idx) for t in rec.tasks)
    assert ran == expected
    assert sim.task_firings == len(rec.tasks)
    assert sim.control_firings == sum(f.kind == CONTROL for i in instances for f in i.firings)

    # each firing: ready after its instance arrived and its Task Block predecessors ended,
    # dispatched once ready, its dispatch's compute cycles long or longer (exactly, alone on one
    # TBU with its configuration resident: longer only for a group's exchange or streamed weights)
    ends = {(t.run.index, t.idx): t.end_cycle for t in rec.tasks}
    dispatches: dict[tuple[tuple[int, ...], int], list[Task]] = {}
    for t in rec.tasks:
        task_preds = [p for p in t.firing.preds if t.run.firings[p].kind != CONTROL]
        assert t.ready_cycle >= max((ends[(t.run.index, p)] for p in task_preds), default=0)
        assert t.run.arrival_cycle <= t.ready_cycle <= t.dispatch_cycle <= t.start_cycle
        assert t.tbu == t.group[0] and 1 <= t.batch <= arch.tbu.max_batch
        dispatches.setdefault((t.group, t.start_cycle), []).append(t)
        if arrivals is not None:
            assert t.run.arrival_cycle == arrivals[t.run.index]
    computed = {}
    for (group, start), tasks in dispatches.items():
        assert len(tasks) == tasks[0].batch and len({t.end_cycle for t in tasks}) == 1
        block = tasks[0].firing.task
        computed[(group, start)] = compute = sim.machine.parallel.compute_cycles(
            block, [t.work for t in tasks], len(group))
        if len(group) == 1 and len(tasks) == 1:
            assert compute == compute_cycles(arch, tasks[0].kind, tasks[0].work)
        if len(group) == 1 and sim.machine.fits(block.config_bytes):
            assert tasks[0].end_cycle - start == compute
        else:
            assert tasks[0].end_cycle - start >= compute

    # a TBU runs one dispatch at a time (start .. end windows of its dispatches do not overlap)
    by_tbu: dict[int, list[tuple[int, int]]] = {}
    for (group, start), tasks in dispatches.items():
        for u in group:
            by_tbu.setdefault(u, []).append((start, tasks[0].end_cycle))
    for windows in by_tbu.values():
        windows.sort()
        for (_, end), (start, _) in zip(windows, windows[1:], strict=False):
            assert start >= end

    # time accounting: five non-negative buckets per TBU summing to the makespan
    # the run ends with its last firing: a Task Block, or a Control Block after it (a branch
    # whose taken path is empty ends its instance with the decision itself)
    last_task = max(t.end_cycle for t in rec.tasks)
    control = arch.host.cb_roundtrip_cycles if scheduler in ("static", "reactive") \
        else arch.cbu.latency_cycles
    assert last_task <= sim.makespan <= last_task + control * max(
        sum(f.kind == CONTROL for f in i.firings) for i in instances)
    buckets = sim.tbu_buckets()
    assert len(buckets) == arch.num_tbus
    for row in buckets:
        assert sum(row.values()) == sim.makespan
        assert min(row.values()) >= 0
    assert sum(row["compute"] for row in buckets) == sum(
        compute * len(group) for (group, _), compute in computed.items())
    assert all(u.reconfigurations >= 0 for u in sim.machine.tbus)

    # the bound is the analysis' batch bound of the same instances at the same arrivals, and
    # no run beats it
    work, path = sim.machine.parallel.bound_capacities()
    bound = batch_lower_bound(instances, work, arrivals, path)
    assert sim.lower_bound_cycles == bound
    assert sim.makespan >= bound
    assert len(sim.latencies) == INSTANCES


@pytest.mark.parametrize("scheduler", scheduler_names())
def test_same_seed_same_run(scheduler, deadline):
    """Two runs with the same seed place every firing at the same TBU and cycles."""
    wf, arch = resolve_workflow("face-recognition"), load_arch("chip-4")

    def placements() -> list[tuple[int, int, int, int, int]]:
        rec = _Firings()
        Simulator(wf, arch, scheduler_factory(scheduler), 20, 3, recorder=rec).run()
        return [(t.run.index, t.idx, t.tbu, t.start_cycle, t.end_cycle) for t in rec.tasks]

    assert placements() == placements()


def test_every_scheduler_registered_is_a_baseline_or_more():
    """The three baselines of the spec are registered (others may be added)."""
    assert {"static", "reactive", "greedy"} <= set(scheduler_names())
