"""The machine a scheduler drives: TBUs with resident configurations, CBUs, the NoC, memory.

:class:`Machine` owns the state of every unit and the cost of every action; schedulers call
:meth:`Machine.dispatch`, :meth:`Machine.preload` and :meth:`Machine.prestage` and read the
rest. Each action schedules its own completion on the event core. Per-TBU time is accounted in
four buckets (compute, reconfiguring, waiting for data, idle) that sum to the run's makespan.

Residency is bounded twice: a TBU holds at most ``tbu.config_slots`` configurations whose bytes
fit its configuration share of SRAM (:attr:`ArchConfig.config_capacity_bytes`), evicting the
least recently used. A configuration larger than that share is never resident: each firing of
its block streams the weights from off-chip memory while it computes, ``weight_passes`` times
(once per token of a decode burst), and ends when both the compute and the stream are done;
time spent waiting for the stream beyond the compute counts as reconfiguration. Configuration
loads, streamed weights and ``input_bytes`` all go through the shared :class:`MemorySystem`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from octopus.arch import ArchConfig, Topology
from octopus.sim.capacity import arch_capacity
from octopus.sim.core import COMPLETION, EventCore
from octopus.sim.memory import MemorySystem
from octopus.sim.noc import Noc
from octopus.sim.recorder import NULL_RECORDER, Recorder
from octopus.sim.state import HOST, Task
from octopus.workflow.analysis import BlockTiming

__all__ = ["Machine", "TbuState"]


@dataclass(slots=True)
class TbuState:
    """One TBU: what it holds, until when it is busy, and where its cycles went."""

    resident: list[str]  # block ids, least recently used first
    resident_bytes: int = 0
    busy_until: int = 0
    compute_cycles: int = 0
    reconfig_cycles: int = 0
    wait_data_cycles: int = 0
    reconfigurations: int = 0
    firings: int = 0
    preload_block: str | None = None  # a configuration being loaded ahead of need


class Machine:
    """TBUs, CBUs, the host link and the NoC of one simulated architecture.

    Args:
        arch: the hardware.
        core: the event core that times every action.
        on_task_done: called at a Task's completion (the simulator's bookkeeping).
        on_tbu_free: called when a TBU becomes idle after a preload.
        recorder: receives every timed action (loads, waits, compute, control, links).
        block_timing: the timing of some Task Blocks, by id, instead of
            :func:`~octopus.arch.compute_cycles` (blocks timed from a torch model or a layer
            table; see :mod:`octopus.sim.capacity`).
        topology: ``arch``'s topology, when the caller already has it.

    Attributes:
        capacity: how long firings take (:func:`~octopus.sim.capacity.arch_capacity` with the
            block timings): what the machine charges, and what schedulers estimate with.
    """

    def __init__(self, arch: ArchConfig, core: EventCore,
                 on_task_done: Callable[[Task], None], on_tbu_free: Callable[[int], None],
                 recorder: Recorder = NULL_RECORDER,
                 block_timing: Mapping[str, BlockTiming] | None = None,
                 topology: Topology | None = None):
        self.arch = arch
        self.capacity = arch_capacity(arch, block_timing)
        self.topology = topology if topology is not None else Topology(arch)
        self.core = core
        self.noc = Noc(self.topology, arch, recorder)
        self.memory = MemorySystem(arch, self.topology, self.noc)
        self.capacity_bytes = arch.config_capacity_bytes
        self.tbus = [TbuState([]) for _ in range(self.topology.num_tbus)]
        self.weight_loads = 0  # configuration loads and streamed-weight firings
        self._config_bytes: dict[str, int] = {}  # by block id, as first loaded
        self.idle: set[int] = set(range(self.topology.num_tbus))
        self.idle_per_cluster = [self.topology.tbus_per_cluster] * self.topology.num_clusters
        self.cbu_free_at = [0] * self.topology.num_clusters
        self._on_task_done = on_task_done
        self._on_tbu_free = on_tbu_free
        self._recorder = recorder

    # --- what schedulers read --------------------------------------------------------------
    @property
    def now(self) -> int:
        return self.core.now

    def is_resident(self, tbu: int, block_id: str) -> bool:
        return block_id in self.tbus[tbu].resident

    def fits(self, config_bytes: int) -> bool:
        """Whether a configuration of ``config_bytes`` can be resident on one TBU (else its
        firings stream their weights)."""
        return config_bytes <= self.capacity_bytes

    def idle_in(self, cluster: int) -> list[int]:
        """Idle TBUs of ``cluster``, lowest id first."""
        if not self.idle_per_cluster[cluster]:
            return []
        return [u for u in self.topology.tbus_of(cluster) if u in self.idle]

    def reconfig_cost(self, task: Task, tbu: int) -> int:
        """Cycles to make ``task``'s configuration resident on ``tbu`` now (0 if it is; the
        setup only for a configuration that streams), counting the memory's queue."""
        if self.is_resident(tbu, task.block_id):
            return 0
        setup = self.arch.tbu.config_setup_cycles
        if not self.fits(task.config_bytes):
            return setup
        now = self.core.now
        return setup + self.memory.estimate(tbu, task.config_bytes, now, "weights") - now

    def data_ready_cycle(self, task: Task, tbu: int) -> int:
        """When ``task``'s inputs would all be on ``tbu`` if sent now (nothing is reserved)."""
        return self._inputs_ready(task, tbu, reserve=False)

    def start_estimate(self, task: Task, tbu: int) -> int:
        """Cycle at which ``task`` would start computing if dispatched on ``tbu`` now."""
        free = max(self.core.now, self.tbus[tbu].busy_until)
        return max(free + self.reconfig_cost(task, tbu), self.data_ready_cycle(task, tbu))

    def compute_cycles(self, task: Task) -> int:
        """Cycles ``task`` computes on one TBU."""
        return self.capacity.cycles(task.kind, task.work, task.block_id)

    # --- what schedulers do ----------------------------------------------------------------
    def install(self, tbu: int, block_id: str, config_bytes: int) -> None:
        """Make ``block_id`` resident on ``tbu`` at no cost: a compile-time mapping, allowed
        only before the first cycle has run. A configuration that cannot be resident (it
        streams) is left out.

        Raises:
            RuntimeError: called after simulation time has started.
        """
        if self.core.now != 0 or any(t.firings for t in self.tbus):
            raise RuntimeError("configurations can be installed for free only before the run")
        state = self.tbus[tbu]
        if block_id in state.resident or not self.fits(config_bytes):
            return
        self._evict_for(state, config_bytes)
        state.resident.append(block_id)
        state.resident_bytes += config_bytes
        self._config_bytes[block_id] = config_bytes

    def dispatch(self, task: Task, tbu: int) -> None:
        """Run ``task`` on idle ``tbu`` now: load its configuration if needed, fetch its
        inputs (in parallel with the load), compute, then report completion.

        Raises:
            RuntimeError: ``tbu`` is busy or ``task`` was already dispatched (a scheduler bug).
        """
        if tbu not in self.idle:
            raise RuntimeError(f"dispatch of {task.label} on busy TBU {tbu}")
        if task.dispatch_cycle >= 0 or task.ready_cycle < 0:
            raise RuntimeError(f"dispatch of {task.label} that is not ready or already placed")
        now = self.core.now
        state = self.tbus[tbu]
        reconfig, streamed = self._make_resident(tbu, task.block_id, task.config_bytes,
                                                 task.firing.task.weight_passes)
        data_ready = self._inputs_ready(task, tbu, reserve=True)
        start = max(now + reconfig, data_ready)
        compute = self.compute_cycles(task)
        end = max(start + compute, streamed)
        state.busy_until = end
        state.reconfig_cycles += reconfig + end - start - compute  # waiting for streamed weights
        state.wait_data_cycles += start - now - reconfig
        state.compute_cycles += compute
        state.firings += 1
        self._set_busy(tbu)
        task.tbu, task.dispatch_cycle, task.start_cycle, task.end_cycle = tbu, now, start, end
        if reconfig:
            self._recorder.reconfigure(tbu, task.block_id, now, reconfig, False)
        if start > now + reconfig:
            self._recorder.wait_data(tbu, now + reconfig, start - now - reconfig)
        self._recorder.compute(tbu, task)
        self.core.schedule(end - now, COMPLETION, self._finish, task)

    def preload(self, tbu: int, block_id: str, config_bytes: int) -> bool:
        """Load ``block_id``'s configuration onto idle ``tbu`` ahead of need.

        Returns False (and does nothing) if it is already resident, the TBU is busy, or the
        configuration cannot be resident (it streams).
        """
        if tbu not in self.idle or self.is_resident(tbu, block_id) or not self.fits(config_bytes):
            return False
        now = self.core.now
        cycles, _ = self._make_resident(tbu, block_id, config_bytes)
        state = self.tbus[tbu]
        state.busy_until = now + cycles
        state.reconfig_cycles += cycles
        state.preload_block = block_id
        self._set_busy(tbu)
        self._recorder.reconfigure(tbu, block_id, now, cycles, True)
        self.core.schedule(cycles, COMPLETION, self._preloaded, tbu)
        return True

    def prestage(self, task: Task, tbu: int) -> bool:
        """Send ``task``'s inputs toward ``tbu`` now, before it is dispatched there.

        Only possible once every producer has finished; returns whether it happened. A later
        dispatch on ``tbu`` finds the data there; on another TBU the data moves again.
        """
        run = task.run
        if task.dispatch_cycle >= 0 or any(run.tbu_of[p] < 0 for p in task.firing.data_from):
            return False
        task.staged_ready_cycle = self._inputs_ready(task, tbu, reserve=True)
        task.staged_tbu = tbu
        return True

    def evaluate_control(self, site: int, name: str, done: Callable[[], None]) -> int:
        """Evaluate a Control Block at ``site`` (a cluster's CBU, or :data:`HOST`) and call
        ``done`` when it is decided; returns the completion cycle. A CBU evaluates one block at
        a time; the host is a pure round-trip latency."""
        now = self.core.now
        if site == HOST:
            start, end = now, now + self.arch.host.cb_roundtrip_cycles
        else:
            start = max(now, self.cbu_free_at[site])
            end = start + self.arch.cbu.latency_cycles
            self.cbu_free_at[site] = end
        self._recorder.control(site, name, start, end - start)
        self.core.schedule(end - now, COMPLETION, done)
        return end

    # --- internals ---------------------------------------------------------------------------
    def _make_resident(self, tbu: int, block_id: str, config_bytes: int,
                       weight_passes: int = 1) -> tuple[int, int]:
        """Make ``block_id`` most recently used on ``tbu``, loading it if needed; return the
        load cycles (0 on a hit; the setup only for a configuration that streams) and the cycle
        its streamed weights have all arrived (now, when nothing streams)."""
        state, now = self.tbus[tbu], self.core.now
        resident = state.resident
        if block_id in resident:
            resident.remove(block_id)
            resident.append(block_id)
            return 0, now
        setup = self.arch.tbu.config_setup_cycles
        state.reconfigurations += 1
        self.weight_loads += 1
        if not self.fits(config_bytes):  # never resident: stream the weights while computing
            return setup, self.memory.read(tbu, config_bytes * weight_passes, now + setup,
                                           "weights")
        self._evict_for(state, config_bytes)
        resident.append(block_id)
        state.resident_bytes += config_bytes
        self._config_bytes[block_id] = config_bytes
        return setup + self.memory.read(tbu, config_bytes, now, "weights") - now, now

    def _evict_for(self, state: TbuState, config_bytes: int) -> None:
        """Evict least recently used configurations until one more of ``config_bytes`` fits
        both the slots and the bytes."""
        while state.resident and (len(state.resident) >= self.arch.tbu.config_slots
                                  or state.resident_bytes + config_bytes > self.capacity_bytes):
            state.resident_bytes -= self._config_bytes[state.resident.pop(0)]

    def _inputs_ready(self, task: Task, tbu: int, reserve: bool) -> int:
        """When ``task``'s inputs are all on ``tbu``: producers' outputs over the NoC (sent now
        if ``reserve``, else only estimated) and its source bytes from off-chip memory."""
        now = self.core.now
        if task.staged_tbu == tbu:
            return max(now, task.staged_ready_cycle)
        run, firing = task.run, task.firing
        ready = now
        for p in firing.data_from:
            src, nbytes = run.tbu_of[p], run.firings[p].task.output_bytes
            end = (self.noc.transfer(src, tbu, nbytes, now)[1] if reserve
                   else self.noc.estimate(src, tbu, nbytes, now))
            ready = max(ready, end)
        if firing.task.input_bytes:
            read = self.memory.read if reserve else self.memory.estimate
            ready = max(ready, read(tbu, firing.task.input_bytes, now, "inputs"))
        return ready

    def _set_busy(self, tbu: int) -> None:
        self.idle.discard(tbu)
        self.idle_per_cluster[self.topology.cluster_of(tbu)] -= 1

    def _set_idle(self, tbu: int) -> None:
        self.idle.add(tbu)
        self.idle_per_cluster[self.topology.cluster_of(tbu)] += 1

    def _finish(self, task: Task) -> None:
        self._set_idle(task.tbu)
        task.run.tbu_of[task.idx] = task.tbu
        self._on_task_done(task)

    def _preloaded(self, tbu: int) -> None:
        self.tbus[tbu].preload_block = None
        self._set_idle(tbu)
        self._on_tbu_free(tbu)
