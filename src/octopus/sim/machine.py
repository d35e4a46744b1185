"""The machine a scheduler drives: TBUs, CBUs, the NoC and off-chip memory.

:class:`Machine` owns the state of every unit and the cost of every action. Schedulers call
:meth:`Machine.dispatch` (one firing on one TBU) or :meth:`Machine.dispatch_batch` (a batch of
firings of one Task Block on a group of TBUs, timed by :mod:`octopus.sim.parallel`),
:meth:`Machine.preload` and :meth:`Machine.prestage`, and read the rest. Each action schedules
its own completion on the event core.

- **Residency** (:mod:`octopus.sim.residency`): a TBU holds what fits its slots and its
  configuration share of SRAM. A dispatch whose configuration (or shard) is not held loads it
  through the shared :class:`~octopus.sim.memory.MemorySystem`, then pays
  ``tbu.config_setup_cycles`` once the TBU is free. A shard too large to be held is streamed
  from memory while the group computes (``weight_passes`` times per dispatch) and the dispatch
  ends when both are done.
- **Prefetch (double buffering), for every scheduler alike**: a TBU busy with one dispatch may
  take the next (:meth:`Machine.can_take`). Its configuration and inputs are fetched at once,
  while the TBU computes (a configuration that cannot fit beside the running one waits for it),
  and the compute starts when every member is free. A TBU holds at most one dispatch behind the
  running one.
- **Time** per TBU falls in four buckets that, with idle time, sum to the run's makespan:
  compute; reconfiguring (waiting, once free, for a configuration, its setup or streamed
  weights); waiting for data (inputs, the rest of the group, the group's exchange). Fetches
  hidden under compute cost nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field

from octopus.arch import ArchConfig, Topology
from octopus.sim.capacity import arch_capacity
from octopus.sim.core import COMPLETION, EventCore
from octopus.sim.memory import MemorySystem
from octopus.sim.noc import Noc
from octopus.sim.parallel import ParallelModel
from octopus.sim.recorder import NULL_RECORDER, Recorder
from octopus.sim.residency import Residency, shard_key
from octopus.sim.state import HOST, Task
from octopus.workflow.analysis import BlockTiming

__all__ = ["Machine", "TbuState"]

_NONE: frozenset[int] = frozenset()


@dataclass(slots=True)
class TbuState:
    """One TBU: what it holds, its work in flight, and where its cycles went."""

    residency: Residency
    busy_until: int = 0
    in_flight: int = 0  # dispatches (or a preload) running or waiting to run here: 0, 1 or 2
    pinned: list[str] = field(default_factory=list)  # keys the dispatches in flight use
    compute_cycles: int = 0
    reconfig_cycles: int = 0
    wait_data_cycles: int = 0
    reconfigurations: int = 0
    firings: int = 0


class Machine:
    """TBUs, CBUs, the host link, the NoC and memory of one simulated architecture.

    Args:
        arch: the hardware.
        core: the event core that times every action.
        on_task_done: called at a Task's completion (the simulator's bookkeeping).
        on_tbu_free: called when a TBU becomes idle after a preload.
        recorder: receives every timed action (loads, stalls, compute, control, links).
        block_timing: the timing of some Task Blocks, by id, instead of
            :func:`~octopus.arch.compute_cycles` (blocks timed from a torch model or a layer
            table; see :mod:`octopus.sim.capacity`).
        topology: ``arch``'s topology, when the caller already has it.

    Attributes:
        capacity: how long firings take on one TBU (:func:`~octopus.sim.capacity.arch_capacity`
            with the block timings): what the machine charges, and what schedulers estimate with.
        parallel: how long a batch takes on a group (:class:`~octopus.sim.parallel.ParallelModel`).
        widths, batches: dispatches by group width and by batch size.
    """

    def __init__(self, arch: ArchConfig, core: EventCore,
                 on_task_done: Callable[[Task], None], on_tbu_free: Callable[[int], None],
                 recorder: Recorder = NULL_RECORDER,
                 block_timing: Mapping[str, BlockTiming] | None = None,
                 topology: Topology | None = None):
        self.arch = arch
        self.capacity = arch_capacity(arch, block_timing)
        self.parallel = ParallelModel(arch, self.capacity)
        self.topology = topology if topology is not None else Topology(arch)
        self.core = core
        def clock() -> int:
            return core.now

        self.noc = Noc(self.topology, arch, clock, recorder)
        self.memory = MemorySystem(arch, self.topology, self.noc, clock)
        self.capacity_bytes = arch.config_capacity_bytes
        self._holders: dict[str, set[int]] = {}
        self.tbus = [TbuState(Residency(arch.tbu.config_slots, self.capacity_bytes, u,
                                        self._holders))
                     for u in range(self.topology.num_tbus)]
        self.weight_loads = 0  # configuration loads and streamed dispatches, per TBU
        self.widths: Counter[int] = Counter()
        self.batches: Counter[int] = Counter()
        self.idle: set[int] = set(range(self.topology.num_tbus))
        self.idle_per_cluster = [self.topology.tbus_per_cluster] * self.topology.num_clusters
        self._cluster = [self.topology.cluster_of(u) for u in range(self.topology.num_tbus)]
        self.cbu_free_at = [0] * self.topology.num_clusters
        self._on_task_done = on_task_done
        self._on_tbu_free = on_tbu_free
        self._recorder = recorder
        self._records = recorder is not NULL_RECORDER  # Speed: skip the stall calls otherwise
        self._keys: dict[tuple[str, int], tuple[str, ...]] = {}  # (block, width) -> shard keys

    # --- what schedulers read --------------------------------------------------------------
    @property
    def now(self) -> int:
        return self.core.now

    def is_resident(self, tbu: int, key: str) -> bool:
        """Whether ``tbu`` holds ``key`` (a block id, or a shard: :func:`shard_key`)."""
        return key in self.tbus[tbu].residency

    def holders(self, key: str) -> Set[int]:
        """The TBUs holding ``key`` (a block id, or a shard: :func:`shard_key`), busy or idle,
        in no particular order; a live view, not to be modified."""
        return self._holders.get(key, _NONE)

    def shard_keys(self, block_id: str, width: int) -> tuple[str, ...]:
        """The keys the members of a ``width``-TBU group hold ``block_id``'s shards under."""
        keys = self._keys.get((block_id, width))
        if keys is None:
            keys = self._keys[(block_id, width)] = tuple(shard_key(block_id, width, i)
                                                         for i in range(width))
        return keys

    def holds_group(self, block_id: str, group: Sequence[int]) -> bool:
        """Whether every member of ``group`` holds its shard of ``block_id``."""
        holders = self._holders  # Speed: set lookups, not a Residency call per member
        return all(u in holders.get(key, _NONE)
                   for u, key in zip(group, self.shard_keys(block_id, len(group)), strict=True))

    def fits(self, config_bytes: int) -> bool:
        """Whether a configuration of ``config_bytes`` can be resident on one TBU (else its
        firings stream their weights)."""
        return config_bytes <= self.capacity_bytes

    def can_take(self, tbu: int) -> bool:
        """Whether ``tbu`` may take a dispatch now: idle, or busy with one and none waiting."""
        return self.tbus[tbu].in_flight < 2

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

    def data_ready_floor(self, task: Task, tbu: int) -> int:
        """A lower bound of :meth:`data_ready_cycle`, cheaper: producers' outputs over idle
        links, source bytes from memory left out."""
        now = self.core.now
        if task.staged_tbu == tbu:
            return max(now, task.staged_ready_cycle)
        run, unloaded, ready = task.run, self.noc.unloaded, now
        for p in task.firing.data_from:
            end = unloaded(run.tbu_of[p], tbu, run.firings[p].task.output_bytes, now)
            if end > ready:
                ready = end
        return ready

    def start_estimate(self, task: Task, tbu: int) -> int:
        """Cycle at which ``task`` would start computing if dispatched on ``tbu`` now."""
        free = max(self.core.now, self.tbus[tbu].busy_until)
        return max(free + self.reconfig_cost(task, tbu), self.data_ready_cycle(task, tbu))

    def compute_cycles(self, task: Task) -> int:
        """Cycles ``task`` computes alone on one TBU."""
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
        if self.fits(config_bytes):
            self.tbus[tbu].residency.admit(block_id, config_bytes)

    def dispatch(self, task: Task, tbu: int) -> None:
        """Run ``task`` alone on ``tbu``: :meth:`dispatch_batch` of one firing on one TBU."""
        self.dispatch_batch((task,), (tbu,))

    def dispatch_batch(self, tasks: Sequence[Task], group: Sequence[int]) -> int:
        """Run ``tasks`` (ready firings of one block) as one batch on ``group`` (its first
        member leads: inputs go there, outputs live there): fetch the configuration shards and
        inputs now, compute once every member is free (module doc), then report each task done.
        Returns the cycle its streamed weights have all arrived (its compute start if its
        shards are resident).

        Raises:
            RuntimeError: a member cannot take it, a task is not ready or already placed, the
                tasks mix blocks, the batch exceeds ``tbu.max_batch`` or the width is not one of
                the block's (a scheduler bug).
        """
        self._check(tasks, group)
        now = self.core.now
        block = tasks[0].firing.task
        width, lead, batch = len(group), group[0], len(tasks)
        shard = self.parallel.shard_bytes(block, width)
        streams = not self.fits(shard)
        keys = self.shard_keys(block.id, width)
        states = [self.tbus[u] for u in group]
        free = [now if state.busy_until < now else state.busy_until  # Speed: max(), no call
                for state in states]
        configured = self._configure(group, states, keys, shard, streams, free)
        start = max([configured] + [self._inputs_ready(t, lead, reserve=True) for t in tasks])
        compute = self.parallel.compute_cycles(block, [t.work for t in tasks], width)
        exchanged = self.noc.ring(group, self.parallel.exchange_bytes(block, batch, width),
                                  start + compute)  # the group's all-gather
        streamed = max((self.memory.read(u, shard * block.weight_passes, start, "weights")
                        for u in group), default=start) if streams else start
        end = max(exchanged, streamed)
        self._occupy(group, states, free, configured, start, start + compute, exchanged, end,
                     batch)
        members = tuple(group)
        for t in tasks:
            t.tbu, t.group, t.batch = lead, members, batch
            t.dispatch_cycle, t.start_cycle, t.end_cycle = now, start, end
        self.widths[width] += 1
        self.batches[batch] += 1
        if self._records:
            for u in group:
                self._recorder.compute(u, tasks, compute)
        self.core.schedule(end - now, COMPLETION, self._finish, tasks, keys)
        return streamed

    def preload(self, tbu: int, block_id: str, config_bytes: int) -> bool:
        """Load ``block_id``'s configuration onto idle ``tbu`` ahead of need.

        Returns False (and does nothing) if it is already resident, the TBU is not idle, or the
        configuration cannot be resident (it streams).
        """
        if tbu not in self.idle or self.is_resident(tbu, block_id) or not self.fits(config_bytes):
            return False
        now = self.core.now
        state = self.tbus[tbu]
        state.residency.admit(block_id, config_bytes)
        cycles = self._load(tbu, block_id, config_bytes, now, ahead=True) - now \
            + self.arch.tbu.config_setup_cycles
        state.busy_until = now + cycles
        state.reconfig_cycles += cycles
        state.reconfigurations += 1
        self.weight_loads += 1
        state.in_flight += 1
        state.pinned.append(block_id)
        self._set_busy((tbu,))
        self.core.schedule(cycles, COMPLETION, self._preloaded, tbu, block_id)
        return True

    def prestage(self, task: Task, tbu: int) -> bool:
        """Send ``task``'s inputs toward ``tbu`` now, before it is dispatched there.

        Only possible once every producer has finished; returns whether it happened. A later
        dispatch led by ``tbu`` finds the data there; on another TBU the data moves again.
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
    def _check(self, tasks: Sequence[Task], group: Sequence[int]) -> None:
        if not tasks or not group:
            raise RuntimeError("a dispatch needs at least one task and one TBU")
        block = tasks[0].firing.task
        label = tasks[0].label
        if any(t.firing.task is not block for t in tasks):
            raise RuntimeError(f"a batch mixes blocks: {[t.label for t in tasks]}")
        if len(tasks) > self.parallel.max_batch:
            raise RuntimeError(f"batch of {len(tasks)} over tbu.max_batch "
                               f"{self.parallel.max_batch}")
        if len(group) not in self.parallel.widths(block) or len(set(group)) != len(group):
            raise RuntimeError(f"{label}: group {list(group)} is not {block.id}'s width")
        tbus = self.tbus
        for u in group:
            if tbus[u].in_flight >= 2:  # Speed: can_take(u), without a call per member
                raise RuntimeError(f"dispatch of {label} on TBU {u}, which has one waiting")
        for t in tasks:
            if t.dispatch_cycle >= 0 or t.ready_cycle < 0:
                raise RuntimeError(f"dispatch of {t.label} that is not ready or already placed")

    def _configure(self, group: Sequence[int], states: Sequence[TbuState],
                   keys: Sequence[str], nbytes: int, streams: bool, free: Sequence[int]) -> int:
        """Make each member's shard (``keys``, ``nbytes`` each) ready on ``group`` (``states``:
        their :class:`TbuState`) for a dispatch that may start on each once it is free (at
        ``free``, in cycles); returns the cycle the last is ready (setup included). Pins the
        keys."""
        ready = 0
        for u, state, key, at in zip(group, states, keys, free, strict=True):
            state.pinned.append(key)
            if streams or not state.residency.touch(key):
                at = self._reconfigure(u, state, key, nbytes, streams, at)
            if at > ready:
                ready = at
        return ready

    def _reconfigure(self, tbu: int, state: TbuState, key: str, nbytes: int, streams: bool,
                     free: int) -> int:
        """:meth:`_configure` of ``key`` (pinned) on ``tbu``, which does not hold it or
        streams it; returns the cycle it is ready."""
        state.reconfigurations += 1
        self.weight_loads += 1
        setup = self.arch.tbu.config_setup_cycles
        if streams:
            return free + setup
        now = self.core.now
        if state.residency.admit(key, nbytes, state.pinned[:-1]):
            return max(self._load(tbu, key, nbytes, now, ahead=False), free) + setup
        state.residency.admit(key, nbytes)  # it must replace the running one: load once free
        return self._load(tbu, key, nbytes, free, ahead=False) + setup

    def _load(self, tbu: int, key: str, nbytes: int, at: int, ahead: bool) -> int:
        """Read ``key``'s bytes into ``tbu`` from ``at``; returns the cycle they have arrived."""
        arrived = self.memory.read(tbu, nbytes, at, "weights")
        self._recorder.reconfigure(tbu, key, at, arrived - at, ahead)
        return arrived

    def _occupy(self, group: Sequence[int], states: Sequence[TbuState], free: Sequence[int],
                configured: int, start: int, computed: int, exchanged: int, end: int,
                batch: int) -> None:
        """Book the cycles of each member of ``group`` (``states``) from when it is free
        (``free``) to ``end`` for a dispatch of ``batch`` firings (module doc); all in
        cycles."""
        waiting_data = start - configured + exchanged - computed  # the same on every member
        weights = end - exchanged
        compute = computed - start
        busy = []
        for u, state, at in zip(group, states, free, strict=True):
            state.reconfig_cycles += configured - at + weights
            state.wait_data_cycles += waiting_data
            state.compute_cycles += compute
            state.busy_until = end
            state.firings += batch
            if state.in_flight == 0:
                busy.append(u)
            state.in_flight += 1
        self._set_busy(busy)
        if not self._records:
            return
        record = self._recorder
        for u, at in zip(group, free, strict=True):
            for reason, a, b in (("config", at, configured), ("data", configured, start),
                                 ("exchange", computed, exchanged), ("weights", exchanged, end)):
                if b > a:
                    record.stall(u, reason, a, b - a)

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

    def _set_busy(self, tbus: Sequence[int]) -> None:
        """``tbus``, idle until now, took work."""
        self.idle.difference_update(tbus)
        per_cluster, cluster = self.idle_per_cluster, self._cluster
        for u in tbus:
            per_cluster[cluster[u]] -= 1

    def _release(self, tbus: Sequence[int], keys: Sequence[str]) -> None:
        """One dispatch (or preload) using ``keys[i]`` left ``tbus[i]``; a TBU is idle when
        none is left."""
        states, idle = self.tbus, self.idle
        per_cluster, cluster = self.idle_per_cluster, self._cluster
        for u, key in zip(tbus, keys, strict=True):
            state = states[u]
            state.pinned.remove(key)
            state.in_flight -= 1
            if state.in_flight == 0:
                idle.add(u)
                per_cluster[cluster[u]] += 1

    def _finish(self, tasks: Sequence[Task], keys: Sequence[str]) -> None:
        self._release(tasks[0].group, keys)
        for t in tasks:
            t.run.tbu_of[t.idx] = t.tbu
            self._on_task_done(t)

    def _preloaded(self, tbu: int, key: str) -> None:
        self._release((tbu,), (key,))
        if tbu in self.idle:
            self._on_tbu_free(tbu)
