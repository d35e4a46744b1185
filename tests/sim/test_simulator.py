"""The simulator's instance life cycle: a SimPy oracle for greedy placement, open-loop arrivals
and the bound they imply, idle accounting, and errors."""

from __future__ import annotations

import gc
import heapq
import math
from collections import deque

import pytest
import simpy
from simkit import FIFO_WITHOUT_PREFETCH, Collector, run_sim, tiny_arch

from octopus.arch import ArchConfig
from octopus.run import RunSpec, execute
from octopus.sched import scheduler_factory
from octopus.sim import Simulator, poisson_arrivals
from octopus.sim.state import InstanceRun, Task
from octopus.workflow import (
    Constant,
    Instance,
    Normal,
    Uniform,
    Workflow,
    WorkflowBuilder,
    batch_lower_bound,
    instance_critical_path,
    load_builtin,
    sample_instance,
)
from octopus.workflow.sampling import CONTROL

# --- a SimPy model of greedy placement, written from the spec, not from the simulator --------

SETUP_CYCLES = 100


def _mixed(count_known: bool = False) -> Workflow:
    """Random works, a fan-out holding a branch, then a loop (decided per iteration unless
    ``count_known``); bytes and configurations on all."""
    return (WorkflowBuilder("mixed")
            .task("src", "ai", Uniform(low=2e3, high=6e4), input_bytes=2048, output_bytes=4096,
                  config_bytes=3200)
            .fanout("F", Uniform(low=1, high=4), ["e", "J", "hard", "M"])
            .task("e", "ai", Normal(mean=2e4, cv=0.3), output_bytes=1024, config_bytes=6400)
            .branch("J", "M", {"hard": 0.3, "M": 0.7})
            .task("hard", "general", Uniform(low=500, high=5000), output_bytes=512,
                  config_bytes=1600)
            .merge("M")
            .loop("L", Uniform(low=1, high=3), ["r"], count_known=count_known)
            .task("r", "ai", Uniform(low=1e3, high=1e4), output_bytes=256, config_bytes=9600)
            .flow("src", "F", "L").flow("e", "J").flow("hard", "M").build())


def _oracle_arch() -> ArchConfig:
    return tiny_arch(2, 2, **{"tbu.config_setup_cycles": SETUP_CYCLES})


def simpy_greedy(instances: list[Instance], arrivals: list[int], slots: int) -> list[int]:
    """Finish cycle of each instance on a 2x2 cluster under greedy placement, in SimPy.

    Greedy without prefetch: one FIFO of ready Task Block firings; after everything else that
    happens in a cycle, each idle TBU (lowest id first) takes the oldest. A dispatched firing
    loads its configuration (100 + bytes / 32 cycles, unless among the TBU's ``slots`` most
    recently used), fetches its inputs meanwhile (producers' outputs: 2 cycles per hop +
    bytes / 64; source bytes / 32), then computes (MACs / 256 or operations / 64). Control
    Blocks take 20 cycles on the one CBU, first come first served.
    """
    env = simpy.Environment()
    cbu = simpy.Resource(env, capacity=1)
    free = [0, 1, 2, 3]  # heap of idle TBU ids
    ready: deque[tuple[int, int]] = deque()
    resident: list[list[str]] = [[] for _ in range(4)]
    where: dict[tuple[int, int], int] = {}
    done = [[env.event() for _ in inst.firings] for inst in instances]
    finish = [-1] * len(instances)
    left = [len(inst.firings) for inst in instances]
    pending = [False]

    def pos(tbu: int) -> tuple[int, int]:
        return tbu % 2, tbu // 2

    def decide():
        # run after every other event of this cycle
        while env.peek() == env.now:
            yield env.timeout(0)
        pending[0] = False
        while ready and free:
            i, k = ready.popleft()
            env.process(run_task(i, k, heapq.heappop(free)))

    def want_decision() -> None:
        if not pending[0]:
            pending[0] = True
            env.process(decide())

    def finished(i: int, k: int) -> None:
        done[i][k].succeed()
        left[i] -= 1
        if left[i] == 0:
            finish[i] = env.now

    def run_task(i: int, k: int, tbu: int):
        f = instances[i].firings[k]
        blk = f.task
        load = 0
        if blk.id in resident[tbu]:
            resident[tbu].remove(blk.id)
        else:
            load = SETUP_CYCLES + math.ceil(blk.config_bytes / 32)
            if len(resident[tbu]) >= slots:
                resident[tbu].pop(0)
        resident[tbu].append(blk.id)
        data = math.ceil(blk.input_bytes / 32)
        for p in f.data_from:
            nbytes = instances[i].firings[p].task.output_bytes
            (sx, sy), (dx, dy) = pos(where[(i, p)]), pos(tbu)
            hops = abs(sx - dx) + abs(sy - dy)
            if hops and nbytes:
                data = max(data, 2 * hops + math.ceil(nbytes / 64))
        rate = 256 if f.kind == "ai" else 64
        yield env.timeout(max(load, data) + math.ceil(f.work / rate))
        where[(i, k)] = tbu
        heapq.heappush(free, tbu)
        finished(i, k)
        want_decision()

    def firing(i: int, k: int):
        f = instances[i].firings[k]
        if f.preds:
            yield env.all_of([done[i][p] for p in f.preds])
        if f.kind == CONTROL:
            with cbu.request() as req:
                yield req
                yield env.timeout(20)
            finished(i, k)
        else:
            ready.append((i, k))
            want_decision()

    def arrive(i: int):
        yield env.timeout(arrivals[i])
        for k in range(len(instances[i].firings)):
            env.process(firing(i, k))

    for i in range(len(instances)):
        env.process(arrive(i))
    env.run()
    return finish


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("slots", [1, 2])
def test_greedy_matches_simpy_model_in_a_batch(seed, slots):
    """12 instances at once on 4 TBUs finish at exactly the cycles the SimPy model gives."""
    wf, n = _mixed(), 12
    arch = tiny_arch(2, 2, **{"tbu.config_setup_cycles": SETUP_CYCLES, "tbu.config_slots": slots})
    instances = [sample_instance(wf, seed, i) for i in range(n)]
    expected = simpy_greedy(instances, [0] * n, slots)
    sim, _ = run_sim(wf, arch, FIFO_WITHOUT_PREFETCH, instances=n, seed=seed)
    assert sim.makespan == max(expected)
    assert sorted(sim.latencies) == sorted(expected)


@pytest.mark.parametrize("count_known", [False, True])
def test_greedy_matches_simpy_model_with_arrivals(count_known):
    """Instances arriving over time finish at exactly the cycles the SimPy model gives, whether
    their loop is decided per iteration or at once."""
    wf, n, seed = _mixed(count_known), 16, 5
    arrivals = [i * 777 + (i % 3) * 131 for i in range(n)]
    instances = [sample_instance(wf, seed, i) for i in range(n)]
    expected = simpy_greedy(instances, arrivals, slots=2)
    sim, _ = run_sim(wf, _oracle_arch(), FIFO_WITHOUT_PREFETCH, instances=n, seed=seed,
                     arrivals=arrivals)
    assert sim.makespan == max(expected)
    assert sorted(sim.latencies) == sorted(f - a for f, a in zip(expected, arrivals, strict=True))


# --- open-loop arrivals ---------------------------------------------------------------------


def test_poisson_arrivals_are_seeded_and_ordered():
    """Arrival cycles are non-decreasing, the same for the same seed, different for another."""
    a = poisson_arrivals(200, 1e5, 1e9, seed=4)
    assert a == poisson_arrivals(200, 1e5, 1e9, seed=4)
    assert a != poisson_arrivals(200, 1e5, 1e9, seed=5)
    assert a == sorted(a) and a[0] >= 0
    # 200 arrivals at 1e5/s on a 1 GHz clock: the mean gap is 10,000 cycles.
    assert 5_000 < a[-1] / len(a) < 20_000
    with pytest.raises(ValueError, match="rate"):
        poisson_arrivals(3, 0.0, 1e9, seed=0)


def test_no_firing_starts_before_its_instance_arrives():
    """Under open-loop arrivals every firing of an instance is ready only after it arrived."""
    wf = load_builtin("face-recognition")
    arrivals = poisson_arrivals(30, 2e4, 1e9, seed=1)
    rec = Collector()
    Simulator(wf, tiny_arch(2, 2), scheduler_factory("greedy"), 30, 1, arrivals, rec).run()
    assert len(rec.tasks) > 30
    for t in rec.tasks:
        assert t.ready_cycle >= arrivals[t.run.index] == t.run.arrival_cycle


def test_instances_arrive_by_cycle_then_index_whatever_the_order_given():
    """Arrivals given out of order arrive by cycle, ties by index (each arrival schedules the
    next, so the order must not depend on the order given)."""
    wf = WorkflowBuilder("one").task("a", "ai", 2560).build()
    arrivals = [500, 0, 500, 200]
    order: list[int] = []

    def factory(machine, workflow):
        scheduler = scheduler_factory("greedy")(machine, workflow)
        arrive = scheduler.on_arrival
        scheduler.on_arrival = lambda run: (order.append(run.index), arrive(run))[1]
        return scheduler

    sim = Simulator(wf, tiny_arch(), factory, 4, 0, arrivals).run()
    assert order == [1, 3, 0, 2]
    assert len(sim.latencies) == 4 and min(sim.instance_latencies) > 0


def test_a_finished_instance_is_freed_without_the_cyclic_collector():
    """Once an instance finishes nothing keeps it: with the cyclic garbage collector off, no
    InstanceRun (nor Task) of a finished run is left among the live objects."""
    wf = load_builtin("face-recognition")
    gc.collect()
    gc.disable()
    try:
        Simulator(wf, tiny_arch(2, 2), scheduler_factory("greedy"), 5, 0).run()
        left = [o for o in gc.get_objects() if type(o) in (InstanceRun, Task)]
    finally:
        gc.enable()
    assert left == []


def test_bound_respects_arrivals():
    """An open-loop run's bound uses the real arrival cycles and stays below the makespan."""
    wf, n, seed = load_builtin("speech-assistant"), 30, 2
    arch = tiny_arch(2, 2)
    arrivals = poisson_arrivals(n, 50.0, arch.clock_hz, seed)  # sparse: ~20 ms apart
    sim = Simulator(wf, arch, scheduler_factory("greedy"), n, seed, arrivals).run()
    work, path = sim.machine.parallel.bound_capacities()
    instances = [sample_instance(wf, seed, i) for i in range(n)]
    assert sim.lower_bound_cycles == batch_lower_bound(instances, work, arrivals, path)
    last = max(a + instance_critical_path(inst, path) for a, inst in zip(arrivals, instances,
                                                                          strict=True))
    assert sim.lower_bound_cycles >= last > batch_lower_bound(instances, work, None, path)
    assert sim.makespan >= sim.lower_bound_cycles


def test_bound_counts_the_weights_every_firing_streams():
    """Four firings of a block too large to be resident even split over both TBUs, behind one
    32 B/cycle controller: each dispatch streams all 32,000 bytes (1000 cycles) for 10 cycles
    of compute. One firing per dispatch: the memory, not the TBUs, bounds the run at 4 x 1000
    cycles, and greedy comes within the fan-out decision of it. With batches of up to 4, one
    stream could serve them all: 1000."""
    wf = (WorkflowBuilder("stream").fanout("F", Constant(value=4), ["s"])
          .task("s", "ai", 2560, config_bytes=32_000).build())
    memory = {"memory.placement": "per_cluster", "memory.bytes_per_cycle": 32,
              "memory.latency_cycles": 0, "tbu.config_share": 0.001}
    sim, _ = run_sim(wf, tiny_arch(2, 1, **memory, **{"tbu.max_batch": 1}))
    assert sim.lower_bound_cycles == 4000
    assert 4000 <= sim.makespan <= 4030
    batched, _ = run_sim(wf, tiny_arch(2, 1, **memory, **{"tbu.max_batch": 4}))
    assert batched.lower_bound_cycles == 1000 <= batched.makespan


def test_idle_gaps_between_arrivals_count_as_no_work():
    """When nothing is in flight, every TBU's idle time is 'no work', not 'starved'."""
    wf = WorkflowBuilder("one").task("a", "ai", 2560).build()  # 10 cycles
    sim, _ = run_sim(wf, tiny_arch(), instances=3, arrivals=[0, 100, 1000])
    # busy 0..10, 100..110, 1000..1010; nothing in flight 10..100 and 110..1000.
    assert sim.makespan == 1010
    assert sim.tbu_buckets() == [{"compute": 30, "reconfig": 0, "wait_data": 0, "starved": 0,
                                  "no_work": 980}]
    assert sim.latencies == [10, 10, 10]


def test_a_run_with_a_rate_reports_open_loop_metrics():
    """``rate_per_s`` runs an open-loop stream; throughput is instances over the makespan."""
    spec = RunSpec(workflow="face-recognition", arch="chip", scheduler="greedy", instances=40,
                   seed=3, rate_per_s=2000.0)
    result = execute(spec)
    assert result.instances == 40
    arrivals = poisson_arrivals(40, 2000.0, 1e9, 3)
    assert result.makespan_cycles > arrivals[-1]
    assert result.makespan_cycles >= result.lower_bound_cycles > arrivals[-1]
    assert result.throughput_instances_per_s == pytest.approx(40 / result.makespan_s)
    assert result.idle_fraction("no_work") > 0
    assert result != execute(spec.model_copy(update={"rate_per_s": None}))


# --- errors ---------------------------------------------------------------------------------


def test_rejects_bad_instance_counts_and_arrivals():
    """Zero instances, or a wrong number of arrival times, are errors before anything runs."""
    wf = WorkflowBuilder("one").task("a", "ai", 1).build()
    with pytest.raises(ValueError, match="at least one"):
        Simulator(wf, tiny_arch(), scheduler_factory("greedy"), 0, 0)
    with pytest.raises(ValueError, match="2 arrival times for 3"):
        Simulator(wf, tiny_arch(), scheduler_factory("greedy"), 3, 0, arrivals=[0, 1])


class _Lazy:
    """A scheduler that accepts work and never places it."""

    name = "lazy"

    def __init__(self, machine, workflow):
        self.stats = {"decisions": 0, "migrations": 0}

    def on_start(self): ...
    def on_arrival(self, run): ...
    def on_ready(self, task): ...
    def on_reveal(self, run, control, revealed): ...
    def on_task_done(self, task): ...
    def on_tbu_idle(self, tbu): ...
    def decide(self): ...

    def control_site(self, run, control):
        return 0


def test_unplaced_work_is_an_error_not_a_short_run():
    """Ready work left unplaced makes ``run`` raise rather than report a short makespan."""
    wf = WorkflowBuilder("one").task("a", "ai", 1).build()
    with pytest.raises(RuntimeError, match="1 instances never finished"):
        Simulator(wf, tiny_arch(), _Lazy, 1, 0).run()


def test_installing_a_resident_configuration_again_is_free():
    """A compile-time install never counts as a reconfiguration, even when repeated."""
    wf = WorkflowBuilder("one").task("a", "ai", 2560).build()
    sim = Simulator(wf, tiny_arch(), scheduler_factory("greedy"), 1, 0)
    sim.machine.install(0, "a", 0)
    sim.machine.install(0, "a", 0)
    assert sim.machine.tbus[0].reconfigurations == 0
    sim.run()
    # the firing found its configuration resident: still no reconfiguration, no load time
    assert sim.machine.tbus[0].reconfigurations == 0
    assert sim.makespan == 10
