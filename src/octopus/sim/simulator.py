"""The simulator: workflow instances arrive, fire block by block, and a scheduler places them.

:class:`Simulator` owns the instance life cycle (arrival, release of firings whose predecessors
are done, Control Block evaluation and the reveal of the work it decides, completion) and the
time accounting. It knows schedulers only through :class:`SchedulerHooks`; every placement goes
through :class:`~octopus.sim.machine.Machine`. One run:

1. instance ``i`` is sampled from its own seeded stream when it arrives;
2. firings with no predecessors are released: Control Blocks go to the control plane (a
   cluster's CBU, or the host, as the scheduler says), Task Blocks to ``scheduler.on_ready``;
3. whenever anything was released or freed in a cycle, ``scheduler.decide()`` runs once, after
   every completion and release of that cycle (the event core's tie order);
4. a finished Control Block first reveals the firings it decided (``on_reveal``), then releases
   its successors. A loop whose count is not known ahead is decided one iteration at a time:
   each of its decisions reveals one iteration and the next decision
   (:mod:`octopus.workflow.sampling`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import numpy as np

from octopus.arch import ArchConfig, Topology
from octopus.rng import ARRIVALS, stream
from octopus.sim.core import DECISION, RELEASE, EventCore
from octopus.sim.machine import Machine
from octopus.sim.recorder import NULL_RECORDER, Recorder
from octopus.sim.state import InstanceRun, Task
from octopus.workflow import Workflow, compile_workflow, sample_instance
from octopus.workflow.analysis import BlockTiming, MakespanBound
from octopus.workflow.sampling import CONTROL

__all__ = ["BUCKETS", "SchedulerFactory", "SchedulerHooks", "Simulator", "poisson_arrivals"]

BUCKETS = ("compute", "reconfig", "wait_data", "starved", "no_work")
"""Where a TBU's cycles go (:meth:`Simulator.tbu_buckets`); the five sum to the makespan."""


class SchedulerHooks(Protocol):
    """What the simulator calls on a scheduler (implemented by ``octopus.sched.Scheduler``)."""

    stats: dict[str, int]

    def on_start(self) -> None: ...
    def on_arrival(self, run: InstanceRun) -> None: ...
    def on_ready(self, task: Task) -> None: ...
    def on_reveal(self, run: InstanceRun, control: int, revealed: list[int]) -> None: ...
    def on_task_done(self, task: Task) -> None: ...
    def on_tbu_idle(self, tbu: int) -> None: ...
    def on_instance_done(self, run: InstanceRun) -> None: ...
    def decide(self) -> None: ...
    def control_site(self, run: InstanceRun, control: int) -> int: ...


SchedulerFactory = Callable[[Machine, Workflow], SchedulerHooks]


def poisson_arrivals(n: int, rate_per_s: float, clock_hz: float, seed: int) -> list[int]:
    """``n`` open-loop arrival cycles of a Poisson process at ``rate_per_s`` instances/second."""
    if rate_per_s <= 0:
        raise ValueError(f"arrival rate must be > 0 instances/s, got {rate_per_s}")
    gaps = stream(seed, ARRIVALS).exponential(clock_hz / rate_per_s, size=n)
    return [int(t) for t in np.floor(np.cumsum(gaps))]


class Simulator:
    """One run of ``workflow`` on ``arch`` under a scheduler.

    Args:
        workflow: the workflow; instances ``0..instances-1`` are drawn under ``seed``.
        arch: the hardware.
        scheduler: builds the scheduler from the machine and the workflow.
        instances: how many instances run.
        seed: the run's seed (instances, arrivals).
        arrivals: arrival cycle of each instance; ``None`` is a closed batch at cycle 0.
        recorder: receives every timed action and finished firing (:mod:`octopus.sim.recorder`).
        block_timing: the timing of some Task Blocks, by id (the machine and the bound both
            use it; see :mod:`octopus.sim.capacity`).
        topology: ``arch``'s topology, when the caller already has it.
    """

    def __init__(self, workflow: Workflow, arch: ArchConfig, scheduler: SchedulerFactory,
                 instances: int, seed: int, arrivals: Sequence[int] | None = None,
                 recorder: Recorder = NULL_RECORDER,
                 block_timing: Mapping[str, BlockTiming] | None = None,
                 topology: Topology | None = None):
        if instances < 1:
            raise ValueError(f"need at least one instance, got {instances}")
        if arrivals is not None and len(arrivals) != instances:
            raise ValueError(f"{len(arrivals)} arrival times for {instances} instances")
        unresolved = [b.id for b in workflow.blocks if b.type == "task" and b.work is None]
        if unresolved:
            raise ValueError(f"blocks {unresolved} of '{workflow.name}' have no work yet: resolve "
                             "torch_model blocks first (octopus.run.resolve_workflow)")
        self.workflow, self.arch, self.seed = workflow, arch, seed
        self.n = instances
        self.arrivals = list(arrivals) if arrivals is not None else [0] * instances
        self.recorder = recorder
        self.core = EventCore()
        self.machine = Machine(arch, self.core, self._task_done, self._tbu_idle, recorder,
                               block_timing, topology)
        self.scheduler = scheduler(self.machine, workflow)
        self.capacity = self.machine.capacity
        self._top = compile_workflow(workflow)
        self._decision_pending = False
        self.in_flight = 0
        self._no_work_since = 0
        self.no_work_cycles = 0
        self.latencies: list[int] = []  # in the order instances finish
        self.instance_latencies: list[int] = [-1] * instances  # by instance index
        self.bound = MakespanBound(*self.machine.parallel.bound_capacities())
        self.task_firings = 0
        self.control_firings = 0
        self.makespan = 0
        self._arrival_order: list[int] = []  # instance indices by arrival cycle (then index)

    def run(self) -> Simulator:
        """Run to completion; returns ``self`` with its counters filled in."""
        # Arrivals are chained, each scheduling the next, so that the heap holds one at a time
        # (a million pending arrivals would slow every event and hold memory). Only arrivals
        # fire at RELEASE priority, so the order is the same as scheduling them all at once:
        # by time, then by index.
        self._arrival_order = sorted(range(self.n), key=self.arrivals.__getitem__)
        self.core.schedule(self.arrivals[self._arrival_order[0]], RELEASE, self._arrive, 0)
        self.scheduler.on_start()
        self.core.run()
        if len(self.latencies) != self.n:
            raise RuntimeError(f"{self.n - len(self.latencies)} instances never finished: "
                               "the scheduler left ready work unplaced")
        return self

    # --- instance life cycle -------------------------------------------------------------------
    def _arrive(self, position: int) -> None:
        """The instance ``position``-th in arrival order arrives (and the next is scheduled)."""
        order = self._arrival_order
        if position + 1 < self.n:
            self.core.schedule_at(self.arrivals[order[position + 1]], RELEASE, self._arrive,
                                  position + 1)
        i = order[position]
        now = self.core.now
        inst = sample_instance(self.workflow, self.seed, i, self._top)
        self.bound.add(now, inst)
        if self.in_flight == 0:
            self.no_work_cycles += now - self._no_work_since
        self.in_flight += 1
        run = InstanceRun(i, now, inst)
        self.scheduler.on_arrival(run)
        for k, f in enumerate(inst.firings):
            if not f.preds:
                self._release(run, k)

    def _release(self, run: InstanceRun, k: int) -> None:
        firing = run.firings[k]
        if firing.kind == CONTROL:
            site = self.scheduler.control_site(run, k)
            self.machine.evaluate_control(site, f"i{run.index}/{firing.label}",
                                          lambda: self._control_done(run, k))
            return
        task = run.tasks[k]
        task.ready_cycle = self.core.now
        self.scheduler.on_ready(task)
        self._want_decision()

    def _control_done(self, run: InstanceRun, k: int) -> None:
        self.control_firings += 1
        revealed = run.revealed.get(k)
        if revealed:
            self.scheduler.on_reveal(run, k, revealed)
        self._complete(run, k)

    def _task_done(self, task: Task) -> None:
        self.task_firings += 1
        self.recorder.task_done(task)
        self.scheduler.on_task_done(task)
        self._complete(task.run, task.idx)
        self._want_decision()

    def _complete(self, run: InstanceRun, k: int) -> None:
        run.done += 1
        remaining = run.remaining
        for s in run.succs[k]:
            remaining[s] -= 1
            if remaining[s] == 0:
                self._release(run, s)
        if run.finished:
            now = self.core.now
            run.finish_cycle = now
            self.scheduler.on_instance_done(run)
            # Tasks point back at their run: breaking the cycle lets reference counting free a
            # finished instance at once (the cyclic collector let a long run keep them all).
            run.tasks.clear()
            self.latencies.append(now - run.arrival_cycle)
            self.instance_latencies[run.index] = now - run.arrival_cycle
            self.makespan = max(self.makespan, now)
            self.in_flight -= 1
            if self.in_flight == 0:
                self._no_work_since = now
            if len(self.latencies) == self.n:
                self.core.stop()  # scheduler timers or late pre-loads must not outlive the run

    def _tbu_idle(self, tbu: int) -> None:
        self.scheduler.on_tbu_idle(tbu)
        self._want_decision()

    def _want_decision(self) -> None:
        if not self._decision_pending:
            self._decision_pending = True
            self.core.schedule(0, DECISION, self._decide)

    def _decide(self) -> None:
        self._decision_pending = False
        self.scheduler.decide()

    # --- results -------------------------------------------------------------------------------
    @property
    def lower_bound_cycles(self) -> int:
        """A makespan no schedule beats: :class:`~octopus.workflow.analysis.MakespanBound`
        with every firing at the best a dispatch can do
        (:meth:`~octopus.sim.parallel.ParallelModel.bound_capacities`)."""
        return self.bound.cycles

    def tbu_buckets(self) -> list[dict[str, int]]:
        """Per TBU, its cycles in each of :data:`BUCKETS` (compute, reconfiguring, waiting for
        data, starved and no work); the five sum to the makespan. Preloads still running at the
        end are cut there."""
        rows = []
        for state in self.machine.tbus:
            overrun = max(0, state.busy_until - self.makespan)
            reconfig = state.reconfig_cycles - overrun
            idle = self.makespan - state.compute_cycles - reconfig - state.wait_data_cycles
            no_work = min(self.no_work_cycles, idle)
            rows.append({"compute": state.compute_cycles, "reconfig": reconfig,
                         "wait_data": state.wait_data_cycles, "starved": idle - no_work,
                         "no_work": no_work})
        return rows
