"""The ``octopus`` scheduler: the mechanisms of this package, wired to the simulator's hooks.

Ready firings wait in per-block queues, most urgent first (the earliest deadline,
:mod:`.deadlines`; oldest instance without ``adaptive``; then the block's downstream
critical-path rank). Each ``decide()`` walks the blocks by the urgency of their heads and
places as many dispatches of each as it can:

1. a dispatch goes where its most urgent firing would end first: its block's replica
   (:mod:`.dual`; idle, or prefetched behind the one that frees first) or an idle elastic
   group near its instance's home (:mod:`.proactive`), one holding its configuration first,
   as wide as :mod:`.adaptive` says, counting its load and when its inputs arrive; or a busy
   elastic group that would end it sooner than both is reserved (if more urgent work takes one
   of its TBUs meanwhile, so that it frees later than when reserved, the block chooses again).
   A streamed block with replicas runs on them only (:mod:`.dual`);
2. with no elastic TBU idle, a short one-TBU firing (at most a tenth of a replica's) may run
   on an idle replica TBU: replicas idle between their firings, and a general block waiting
   millions of cycles for an elastic TBU next to them costs its instance its SLO;
3. otherwise it is prefetched behind the busy elastic TBU where it would start first;
4. each dispatch takes the batch :mod:`.adaptive` says pays; a memory-bound block waits for
   its stream in flight through the same controllers to end, or, inside a loop, for that
   batch to end and its instances' next iterations to be revealed (:mod:`.streams`).
"""

from __future__ import annotations

from collections import defaultdict
from operator import itemgetter

from octopus.sched.base import Scheduler
from octopus.sched.octopus.adaptive import Sizing
from octopus.sched.octopus.config import OctopusConfig
from octopus.sched.octopus.deadlines import expected_floors
from octopus.sched.octopus.dual import Plan, plan_replicas
from octopus.sched.octopus.groups import GroupIndex
from octopus.sched.octopus.proactive import Homes
from octopus.sched.octopus.queues import BlockQueues
from octopus.sched.octopus.streams import StreamGate
from octopus.sched.partition import block_demand
from octopus.sched.registry import register_scheduler
from octopus.sim.core import DECISION
from octopus.sim.residency import shard_key
from octopus.sim.state import HOST, InstanceRun, Task
from octopus.workflow import TaskBlock, compile_workflow
from octopus.workflow.analysis import downstream_ranks, expected_firings, looped_blocks
from octopus.workflow.structure import TaskItem

__all__ = ["Octopus"]

LEND_SHARE = 10  # an idle replica TBU runs a firing at most 1/LEND_SHARE of a replica's


@register_scheduler("octopus")
class Octopus(Scheduler):
    config_cls = OctopusConfig
    config: OctopusConfig

    # --- set-up ------------------------------------------------------------------------------
    def on_start(self) -> None:
        machine, wf, cfg = self.machine, self.workflow, self.config
        self.blocks: dict[str, TaskBlock] = {b.id: b for b in wf.blocks if b.type == "task"}
        self.rank = downstream_ranks(wf, machine.capacity)
        self.mean_cycles = {b: float(machine.capacity.cycles(blk.kind, blk.work.mean, b))
                            for b, blk in self.blocks.items()}
        self.slack = self._deadline_slack()  # block -> cycles from arrival to deadline
        self.queues = BlockQueues(self._urgency)
        self.gate = StreamGate(machine.memory) if cfg.adaptive else None
        self.looped = looped_blocks(wf)
        self.decision_cycles = machine.arch.cbu.latency_cycles if cfg.dual \
            else machine.arch.host.cb_roundtrip_cycles  # one Control Block decision
        self.sizing = Sizing(machine, cfg.adaptive, cfg.min_efficiency, cfg.crowded_efficiency)
        self.homes = Homes(self.topology, cfg.proactive)
        self.demand = block_demand(wf, machine.capacity)
        self.used: dict[str, float] = defaultdict(float)  # TBU-cycles since the last re-plan
        self.firings = expected_firings(wf)
        self.candidates = self._replica_candidates() if cfg.dual else set()
        self.streamed_tbus = self._streamed_tbus()
        self.plan = Plan.all_elastic(self.topology.num_tbus)
        # A block, the group it awaits and the cycle that group was to free when reserved.
        self.draining: tuple[str, tuple[int, ...], int] | None = None
        self.groups = GroupIndex(machine, self.topology)
        self.loaded: dict[tuple[str, int], set[int]] = defaultdict(set)  # (block, width): leads
        self._replan()
        for block, groups in self.plan.replicas.items():
            blk = self.blocks[block]
            for group in groups:
                shard = machine.parallel.shard_bytes(blk, len(group))
                for i, u in enumerate(group):  # every run starts cold: the plan is loaded
                    machine.preload(u, shard_key(block, len(group), i), shard)
                self.groups.refresh(group)
        if cfg.adaptive and self.candidates:
            machine.core.schedule(cfg.replan_cycles, DECISION, self._tick_replan)
        if cfg.diffusion and self.topology.num_clusters > 1:
            machine.core.schedule(cfg.diffusion_period_cycles, DECISION, self._tick_diffusion)

    def _replica_candidates(self) -> set[str]:
        """Blocks that may get replicas: large ones the machine can hold, memory-bound ones it
        cannot (streamed replicas), and stable top-level ones (:mod:`.dual`)."""
        parallel, n = self.machine.parallel, self.topology.num_tbus
        top = {it.block.id for it in compile_workflow(self.workflow).items
               if isinstance(it, TaskItem)}
        out = set()
        for b, blk in self.blocks.items():
            width = parallel.min_width(blk)
            if self.sizing.streams(blk, width):
                if self.sizing.memory_bound(blk):
                    out.add(b)
                continue
            if width > n:
                continue
            if (width > 1 and not self.sizing.streams_cheaply(blk)) or (
                    b in top and blk.work.cv <= self.config.stable_cv):
                out.add(b)
        return out

    def _streamed_tbus(self) -> dict[str, float]:
        """TBUs each streamed candidate's compute takes at capacity: its share of every
        block's expected compute (batched, a streamed block costs about its compute), times
        the machine's TBUs."""
        capacity, n = self.machine.capacity, self.topology.num_tbus
        compute = {b: self.firings[b] * capacity.cycles(blk.kind, blk.work.mean, b)
                   for b, blk in self.blocks.items() if b in self.firings}
        total = sum(compute.values()) or 1.0
        return {b: n * compute[b] / total for b in self.candidates
                if self.sizing.streams(self.blocks[b], self.machine.parallel.min_width(
                    self.blocks[b]))}

    def _replica_width(self, blk: TaskBlock) -> int:
        """The width of ``blk``'s replicas: the narrowest its shards can be resident on; for a
        block that streams on every width, the widest up to the TBUs its compute takes, and at
        least up to the TBUs one memory controller serves (its stream then has controllers of
        its own)."""
        parallel = self.machine.parallel
        narrowest = parallel.min_width(blk)
        if blk.id not in self.streamed_tbus:
            return narrowest
        most = max(min(self.streamed_tbus[blk.id], self.topology.num_tbus // 2),
                   self.sizing.tbus_per_controller)
        return max(w for w in parallel.widths(blk) if w <= most)

    def _replan(self) -> None:
        widths = {b: self._replica_width(self.blocks[b]) for b in self.candidates}
        streamed = {b: round(t / widths[b]) for b, t in self.streamed_tbus.items()}
        self.plan = plan_replicas(self.demand, widths, self.candidates, self.topology.num_tbus,
                                  self.config.reserve_share, streamed)
        self.elastic = set(self.plan.elastic)
        self.pinned = self.streamed_tbus.keys() & self.plan.replicas.keys()  # replicas only
        self.groups.set_elastic(self.elastic)
        self.stats["replicas"] = sum(len(r) for r in self.plan.replicas.values())

    def _tick_replan(self) -> None:
        """Adaptive re-plan from the demand of the last window (:mod:`.adaptive`)."""
        a = self.config.ewma_alpha
        total_used = sum(self.used.values())
        if total_used:
            scale = sum(self.demand.values()) / total_used
            for b in self.demand:
                self.demand[b] = (1 - a) * self.demand[b] + a * self.used[b] * scale
            self.used.clear()
            self._replan()
            self.stats["replans"] = self.stats.get("replans", 0) + 1
        self.machine.core.schedule(self.config.replan_cycles, DECISION, self._tick_replan)

    def _tick_diffusion(self) -> None:
        moved = self.homes.diffuse(self.config.diffusion_alpha, lambda run: None)
        if moved:
            self.stats["migrations"] += moved
            self.stats["diffusion_moves"] = self.stats.get("diffusion_moves", 0) + moved
        self.machine.core.schedule(self.config.diffusion_period_cycles, DECISION,
                                   self._tick_diffusion)

    # --- events ------------------------------------------------------------------------------
    def on_arrival(self, run: InstanceRun) -> None:
        self.homes.place(run)
        self._reveal(run, [k for k, f in enumerate(run.firings) if f.revealed_by < 0])

    def on_reveal(self, run: InstanceRun, control: int, revealed: list[int]) -> None:
        self._reveal(run, revealed)
        if self.config.proactive:
            self._preload(run, control, revealed)

    def control_site(self, run: InstanceRun, control: int) -> int:
        return run.site if self.config.dual else HOST

    def on_ready(self, task: Task) -> None:
        self.queues.push(task)

    def on_tbu_idle(self, tbu: int) -> None:
        self.groups.refresh((tbu,))

    def on_task_done(self, task: Task) -> None:
        self.groups.refresh(task.group)
        self.homes.add(task.run, -self.mean_cycles[task.block_id])
        self.used[task.block_id] += (task.end_cycle - task.start_cycle) * len(task.group) \
            / task.batch

    def on_instance_done(self, run: InstanceRun) -> None:
        self.homes.finish(run)

    def _reveal(self, run: InstanceRun, firings: list[int]) -> None:
        cycles = sum(self.mean_cycles[run.firings[k].block_id] for k in firings
                     if run.firings[k].task is not None)
        self.homes.add(run, cycles)

    # --- decisions -----------------------------------------------------------------------------
    def decide(self) -> None:
        if self.draining and not self.queues.count(self.draining[0]):
            self.draining = None
        for block in self.queues.by_urgency():
            while self.queues.count(block) and self._place(self.blocks[block]):
                pass

    def _place(self, blk: TaskBlock) -> bool:
        """Dispatch the most urgent firings of ``blk`` where they would finish first: on a
        replica (idle, or prefetched behind the one that frees first) or an idle elastic group
        (paying a load, or streaming); or reserve a busy elastic group that would finish
        sooner than both (not for a streamed block with replicas); with none of these,
        prefetch behind the busy elastic TBU where they would start first. Returns whether it
        dispatched."""
        replica = self._replica_for(self.plan.replicas.get(blk.id, ()))
        beat = None if replica is None else self._finish(blk, replica)
        elastic = None if blk.id in self.pinned else self._elastic_choice(blk, beat)
        if elastic is not None and (beat is None or elastic[0] < beat):
            if self.draining is not None and elastic[1] == self.draining[1]:
                self.draining = None
            return self._run(blk, elastic[1])
        draining = self.draining
        reserved = draining[1] if draining is not None and draining[0] == blk.id else None
        if replica is not None and (reserved is None or beat <= self._finish(blk, reserved)):
            return self._run(blk, replica)
        lent = self._lent_replica_tbu(blk)
        if lent is not None:
            if reserved is not None:
                self.draining = None
            self.stats["lent"] = self.stats.get("lent", 0) + 1
            return self._run(blk, lent)
        target = self._prefetch_target(blk)
        if target is None or (reserved is not None and target[0] > self._replica_free(reserved)):
            return False  # nowhere, or the group reserved for it frees sooner
        return self._run(blk, target[1])

    def _lent_replica_tbu(self, blk: TaskBlock) -> tuple[int] | None:
        """An idle replica TBU for one firing of ``blk``, a block without replicas that can
        run on one TBU and whose firings take at most a tenth of a replica's (so a replicated
        firing waits for at most that), one holding its configuration first; None if there is
        none."""
        if blk.id in self.plan.replicas or not self.plan.replicas or \
                self.sizing.widths(blk, 1) != [1] or self.sizing.streams(blk, 1):
            return None
        shortest = min(self.mean_cycles[b] / len(groups[0])
                       for b, groups in self.plan.replicas.items())
        if LEND_SHARE * self.mean_cycles[blk.id] > shortest:
            return None
        machine = self.machine
        idle = machine.idle.difference(self.elastic)
        if not idle:
            return None
        return (min(idle, key=lambda u: (not machine.is_resident(u, blk.id), u)),)

    def _replica_for(self, replicas: tuple[tuple[int, ...], ...]) -> tuple[int, ...] | None:
        """An idle replica, else the one that frees first with room for one more dispatch."""
        machine, best = self.machine, None
        tbus = machine.tbus
        for group in replicas:
            if machine.idle.issuperset(group):
                return group
            if all(tbus[u].in_flight < 2 for u in group):  # Speed: can_take without a call
                free = self._replica_free(group)
                if best is None or free < best[0]:
                    best = (free, group)
        return best[1] if best is not None else None

    def _replica_free(self, group: tuple[int, ...]) -> int:
        """The cycle the last member of ``group`` frees."""
        tbus = self.machine.tbus
        return max([tbus[u].busy_until for u in group])  # Speed: a list, for up to 256 members

    def _finish(self, blk: TaskBlock, group: tuple[int, ...], start: int | None = None) -> int:
        """When the most urgent firing of ``blk`` would end on ``group``, started at ``start``
        (default: once the group is free)."""
        start = self._replica_free(group) if start is None else start
        head = self.queues.peek(blk.id, 1)[0]
        return max(start, self.machine.now) + self.sizing.dispatch_cycles(blk, [head.work],
                                                                          len(group))

    def _elastic_choice(self, blk: TaskBlock, beat: int | None
                        ) -> tuple[int, tuple[int, ...]] | None:
        """Elastic TBUs for the block's next dispatch and the cycle its most urgent firing
        would end there (after loading, or streaming, its configuration), or None.

        With ``adaptive`` the group is the one, of any width, on which that firing would end
        first (:mod:`.adaptive`); if it is still busy, it is reserved (``self.draining``:
        nothing less urgent starts there until it is idle, or until more urgent work there
        makes it free later than when reserved, when the choice is made again) and None is
        returned, unless another block's reservation is pending, when the best idle group is
        taken instead, or the firing would end there no sooner than at ``beat`` (a replica's
        end). Off: the narrowest width residency allows, on idle TBUs only."""
        machine = self.machine
        draining = self.draining
        if draining is not None and draining[0] == blk.id:
            if all(u in machine.idle for u in draining[1]):
                return self._finish(blk, draining[1], machine.now), draining[1]
            if self._replica_free(draining[1]) <= draining[2]:
                return None
            self.draining = draining = None  # it frees later than reserved for: choose again
        reserved = draining[1] if draining is not None and not self._outranks(
            blk.id, draining[0]) else ()
        busy_too = self.config.adaptive and draining is None
        if not busy_too and (machine.idle.isdisjoint(self.elastic) or (
                reserved and machine.idle.intersection(self.elastic).issubset(reserved))):
            return None
        crowded = self.queues.total > 1  # other ready firings wait besides the head
        candidates = [c for width in self.sizing.widths(blk, len(self.elastic), crowded)
                      for c in self._elastic_candidates(blk, width, reserved, busy_too)]
        if not candidates:
            return None
        end, _, group, idle = self._best_elastic(blk, candidates)
        if idle or (beat is not None and end >= beat):
            return (end, group) if idle else None
        self.draining = (blk.id, group, self._replica_free(group))  # (none was pending)
        self.stats["drains"] = self.stats.get("drains", 0) + 1
        return None

    def _outranks(self, block: str, other: str) -> bool:
        """Whether ``block``'s most urgent firing is more urgent than ``other``'s (a reservation
        holds back only less urgent work)."""
        if not self.queues.count(other):
            return True
        return self._urgency(self.queues.peek(block, 1)[0]) \
            < self._urgency(self.queues.peek(other, 1)[0])

    def _elastic_candidates(self, blk: TaskBlock, width: int, reserved: tuple[int, ...],
                            busy_too: bool) -> list[tuple[int, int, int, int, bool]]:
        """``(bound, lead, width, free, idle)`` of the elastic groups of ``width`` outside
        ``reserved`` worth comparing (:class:`.groups.GroupIndex`): the idle ones where the
        block's shards may still be held, the idle one nearest the head firing's home, and
        (``busy_too``) the busy one that frees first. ``free`` is the cycle its last member
        frees; ``bound`` = ``free`` + the head's dispatch cycles, a lower bound on when the head
        would end there."""
        now = self.machine.now
        head = self.queues.peek(blk.id, 1)[0]
        cycles = self.sizing.dispatch_cycles(blk, [head.work], width)
        nearest, busy = self.groups.search(width, now, head.run.site, reserved, busy_too)
        holders = self._idle_holders(blk, width, reserved)
        leads = list(holders)
        if nearest is not None and nearest not in holders:  # the same option once is enough
            leads.append(nearest)
        out = [(now + cycles, lead, width, now, True) for lead in leads]
        if busy is not None:
            out.append((busy[0] + cycles, busy[1], width, busy[0], False))
        if self.gate is not None and self.sizing.streams(blk, width):
            out = [c for c in out if not self._waits_for_stream(blk, c[1], width)]
        return out

    def _best_elastic(self, blk: TaskBlock, candidates: list[tuple[int, int, int, int, bool]]
                      ) -> tuple[int, tuple, tuple[int, ...], bool]:
        """``(end, preference, group, idle)`` of the candidate (:meth:`_elastic_candidates`)
        on which the head firing would end first: after loading its shards unless held and
        once its inputs reach the lead. Preference on equal ends: holding the shards, then
        near home, then the lowest id.

        Candidates are tried by a lower bound on their end (their bound, or later if the
        inputs cannot reach the lead sooner over idle links), and the search stops at the first
        lower bound past the best end found: the same choice as trying all, without the
        residency check and the input estimate (a NoC estimate per producer) of the groups
        that cannot win."""
        machine, topo = self.machine, self.topology
        head = self.queues.peek(blk.id, 1)[0]
        home, rate = head.run.site, machine.arch.memory.bytes_per_cycle
        inputs: dict[int, int] = {}  # lead -> when the head's inputs would be there
        floors: dict[int, int] = {}  # lead -> a lower bound of that
        lows = []
        for bound, lead, width, free, idle in candidates:
            floor = floors.get(lead)
            if floor is None:
                floor = floors[lead] = machine.data_ready_floor(head, lead)
            lows.append((max(free, floor) + bound - free, lead, width, free, idle, bound))
        lows.sort(key=itemgetter(0))
        best = None
        for low, lead, width, free, idle, bound in lows:
            if best is not None and low > best[0]:
                break
            group = tuple(range(lead, lead + width))
            held = machine.holds_group(blk.id, group)
            load = 0 if held or self.sizing.streams(blk, width) else \
                -(-machine.parallel.shard_bytes(blk, width) // rate)
            ready = inputs.get(lead)
            if ready is None:
                ready = inputs[lead] = machine.data_ready_cycle(head, lead)
            end = max(free + load, ready) + (bound - free)  # + the head's dispatch cycles
            option = (end, (not held, topo.cluster_distance(home, topo.cluster_of(lead)), lead),
                      group, idle)
            if best is None or option < best:
                best = option
        return best

    def _idle_holders(self, blk: TaskBlock, width: int, reserved: tuple[int, ...]
                      ) -> set[int]:
        """Leads of idle elastic groups of ``width`` outside ``reserved`` where ``blk`` last
        ran or was loaded (its shards may have been evicted since: the caller checks)."""
        loaded = self.loaded.get((blk.id, width))
        return loaded.intersection(self.groups.idle_leads(width, reserved)) if loaded else set()

    def _prefetch_target(self, blk: TaskBlock) -> tuple[int, tuple[int]] | None:
        """``(start, (tbu,))``: the busy elastic TBU with room for the next dispatch on which
        it would start first (one holding ``blk``'s configuration once it frees, any other
        once it frees and has loaded it), its inputs and configuration fetched meanwhile."""
        machine = self.machine
        draining = self.draining[1] if self.draining else ()
        options = [(machine.tbus[u].busy_until, u)
                   for u in self.elastic.intersection(machine.holders(blk.id))
                   if machine.tbus[u].in_flight == 1 and u not in draining]
        if blk.kind != "ai" or self.machine.parallel.min_width(blk) == 1:
            _, busy = self.groups.search(1, machine.now, 0, draining, True)
            if busy is not None:
                load = -(-blk.config_bytes // machine.arch.memory.bytes_per_cycle)
                options.append((busy[0] + load, busy[1]))
        if self.gate is not None and self.sizing.streams(blk, 1):
            options = [o for o in options if not self._waits_for_stream(blk, o[1], 1)]
        if not options:
            return None
        start, u = min(options)
        return start, (u,)

    def _run(self, blk: TaskBlock, group: tuple[int, ...]) -> bool:
        """Dispatch a batch of ``blk``'s most urgent firings on ``group``. Unless its weights
        stream (a batch then saves shared memory traffic), the batch takes no more than its
        share of the queue among the places that could run it (elastic groups of its width,
        and this one), so other TBUs get firings before a batch grows."""
        machine, width = self.machine, len(group)
        queued = self.queues.peek(blk.id, machine.parallel.max_batch)
        if not self.sizing.streams(blk, width):
            places = 1 + len(self.elastic.difference(group)) // width
            queued = queued[:-(-len(queued) // places)]
        tasks = self.queues.pop(blk.id, self.sizing.batch(blk, queued, width))
        self.stats["decisions"] += 1
        streamed = self.machine.dispatch_batch(tasks, group)
        if self.gate is not None and streamed > self.machine.now and \
                self.sizing.streams(blk, width):
            opens = streamed if blk.id not in self.looped else \
                tasks[0].end_cycle + self.decision_cycles  # the batch's next iterations rejoin
            self.gate.started(blk.id, group[0], width, opens)
            self.machine.core.schedule_at(opens, DECISION, self.decide)  # the gate opens
        self.groups.refresh(group)
        self.loaded[(blk.id, width)].add(group[0])
        return True

    def _waits_for_stream(self, blk: TaskBlock, lead: int, width: int) -> bool:
        """Whether a streamed dispatch of ``blk`` on ``[lead, lead + width)`` waits for the
        block's stream in flight through the group's controllers (:mod:`.streams`; only a
        block that some width of it leaves memory-bound waits)."""
        return self.sizing.memory_bound(blk) and \
            self.gate.until(blk.id, lead, width) > self.machine.now

    def _preload(self, run: InstanceRun, control: int, revealed: list[int]) -> None:
        """Load revealed, not-yet-ready elastic blocks onto spare idle TBUs of the home
        cluster (:mod:`.proactive`)."""
        later = sorted({run.firings[k].block_id for k in revealed
                        if run.firings[k].task is not None and run.firings[k].preds != (control,)
                        and run.firings[k].block_id not in self.plan.replicas},
                       key=lambda b: -self.rank[b])
        if not later:
            return
        machine = self.machine
        spare = [u for u in machine.idle_in(run.site) if u in self.elastic][self.queues.total:]
        for b in later:
            blk = self.blocks[b]
            if not spare or not machine.fits(blk.config_bytes) or any(
                    machine.is_resident(u, b) for u in machine.idle_in(run.site)):
                continue
            u = spare.pop()
            if machine.preload(u, b, blk.config_bytes):
                self.groups.refresh((u,))
                self.loaded[(b, 1)].add(u)
                self.stats["preloads"] = self.stats.get("preloads", 0) + 1

    # --- queues ------------------------------------------------------------------------------
    def _deadline_slack(self) -> dict[str, float]:
        """Per block, ``deadline_scale`` x its instances' expected floor (:mod:`.deadlines`);
        zeros (oldest instance first) without ``adaptive`` or with a scale of 0."""
        cfg = self.config
        if not (cfg.adaptive and cfg.deadline_scale):
            return dict.fromkeys(self.blocks, 0.0)
        _, path = self.machine.parallel.bound_capacities()
        return {b: cfg.deadline_scale * floor
                for b, floor in expected_floors(self.workflow, path).items()}

    def _urgency(self, task: Task) -> tuple:
        """Earliest deadline first, then the longest expected remaining path, then the
        earlier instance."""
        block = task.block_id
        return (task.run.arrival_cycle + self.slack[block], -self.rank[block], task.run.index)

