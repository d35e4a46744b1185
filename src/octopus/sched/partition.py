"""The compile-time spatial mapping shared by the static baselines.

A static spatial compiler sizes pipeline stages from a profile and lays them out on the mesh:

- :func:`block_demand`: expected TBU-cycles per instance of every Task Block (its firings'
  busy cycles, streamed weights included), in flow order.
- :func:`proportional_partition`: splits ``n`` TBUs among the blocks in proportion to demand.
- :func:`static_layout`: the partition over the whole machine, or the same partition in every
  cluster, each region's TBUs taken along a serpentine path so that consecutive blocks of the
  flow (producer and consumer) sit next to each other.
- :func:`estimated_load`: the expected cycles per instance of a layout's most loaded TBU,
  counting residency and transfers: what ``static``'s ``auto`` compares.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from octopus.arch import config_load_cycles, transfer_cycles
from octopus.sim.machine import Machine
from octopus.workflow import Capacity, Workflow, expected_firings, iter_instances

__all__ = ["PROFILE_INSTANCES", "Layout", "block_demand", "estimated_load",
           "proportional_partition", "static_layout"]

PROFILE_INSTANCES = 64
"""Instances a static compiler profiles (seed 0) to learn how often each block feeds another."""
_PAIRS_PER_SIDE = 32  # TBUs of a group sampled (evenly) when averaging transfer costs


def block_demand(wf: Workflow, capacity: Capacity) -> dict[str, float]:
    """Expected TBU-cycles per instance of every Task Block, by id in flow order (the order of
    the compiled workflow): expected firings x :meth:`~octopus.workflow.Capacity.busy_cycles`
    of the mean work (a firing that streams its weights holds its TBU at least that long)."""
    firings = expected_firings(wf)
    blocks = {b.id: b for b in wf.blocks if b.type == "task"}
    return {bid: firings[bid] * capacity.busy_cycles(blocks[bid], blocks[bid].work.mean)
            for bid in firings if bid in blocks}


def proportional_partition(demand: dict[str, float], tbus: int) -> list[list[str]]:
    """Blocks served by each of ``tbus`` TBUs (index = TBU offset in the region).

    With at least as many TBUs as blocks, every block gets one TBU and each further TBU goes to
    the block with the highest demand per TBU so far (minimising the most loaded partition);
    each block's TBUs are consecutive, blocks in the order of ``demand``. With fewer, blocks are
    packed onto the least loaded TBU, largest first. Ties go to the order of ``demand``, so the
    result is deterministic.
    """
    blocks = list(demand)
    if len(blocks) <= tbus:
        count = dict.fromkeys(blocks, 1)
        for _ in range(tbus - len(blocks)):
            b = max(blocks, key=lambda x: demand[x] / count[x])
            count[b] += 1
        return [[b] for b in blocks for _ in range(count[b])]
    load = [0.0] * tbus
    served: list[list[str]] = [[] for _ in range(tbus)]
    for b in sorted(blocks, key=lambda x: -demand[x]):
        u = min(range(tbus), key=load.__getitem__)
        served[u].append(b)
        load[u] += demand[b]
    return served


@dataclass(frozen=True, slots=True)
class Layout:
    """A static mapping: ``serves[u]`` are the blocks TBU ``u`` runs (most demanded first when
    it runs several). ``per_cluster``: every cluster holds the same mapping and instances are
    homed on clusters round-robin; else one mapping spans the machine and any TBU serving a
    block takes any instance's firing of it. ``path``: every region's TBUs along its
    serpentine path, region after region (a block's TBUs are consecutive on it)."""

    serves: tuple[tuple[str, ...], ...]
    per_cluster: bool
    path: tuple[int, ...]


def static_layout(wf: Workflow, machine: Machine, per_cluster: bool) -> Layout:
    """The proportional partition of :func:`block_demand` over each region (every cluster, or
    the whole machine), laid along the region's serpentine path (:func:`_serpentine`)."""
    topo = machine.topology
    demand = block_demand(wf, machine.capacity)
    regions = ([topo.tbus_of(c) for c in range(topo.num_clusters)] if per_cluster
               else [range(topo.num_tbus)])
    serves: list[tuple[str, ...]] = [()] * topo.num_tbus
    paths: list[int] = []
    for region in regions:
        path = _serpentine(machine, region)
        for u, blocks in zip(path, proportional_partition(demand, len(path)), strict=True):
            serves[u] = tuple(blocks)
        paths += path
    return Layout(tuple(serves), per_cluster, tuple(paths))


def estimated_load(wf: Workflow, machine: Machine, layout: Layout) -> float:
    """Expected cycles per instance that ``layout``'s busiest resource works, in a stream of
    instances spread over its regions (every cluster takes ``1 / clusters`` of them when
    ``per_cluster``): the most loaded TBU, or, with shared memory, the most loaded controller.

    A block's expected work per instance is shared evenly by the TBUs serving it in a region.
    A TBU's cycles: the :func:`block_demand` of its blocks, plus the uncontended transfer of
    each input (producer block -> block, as often as a profile of :data:`PROFILE_INSTANCES`
    instances shows, averaged over the TBU pairs of the two blocks; a TBU waits for its
    inputs), plus, on a TBU whose resident blocks do not fit its configuration slots and bytes
    together, an uncontended configuration load per firing (a pessimistic LRU thrash). A
    controller's cycles: the bytes its TBUs read (streamed weights, source inputs, those
    reloads) over its ``memory.bytes_per_cycle``.
    """
    topo, arch, cap = machine.topology, machine.arch, machine.capacity
    tasks = {b.id: b for b in wf.blocks if b.type == "task"}
    demand = block_demand(wf, cap)
    firings = expected_firings(wf)
    profile = _transfer_profile(wf)
    regions = ([topo.tbus_of(c) for c in range(topo.num_clusters)] if layout.per_cluster
               else [range(topo.num_tbus)])
    share = 1 / len(regions)
    busiest = 0.0
    read: dict[int, float] = defaultdict(float)  # bytes per instance by controller
    for region in regions:
        groups: dict[str, list[int]] = defaultdict(list)
        for u in region:
            for b in layout.serves[u]:
                groups[b].append(u)
        work = dict(demand)
        for (src, dst), per_instance in profile.items():
            work[dst] += per_instance * _mean_transfer(machine, groups[src], groups[dst],
                                                       tasks[src].output_bytes)
        for u in region:
            blocks = [tasks[b] for b in layout.serves[u]]
            resident = [b for b in blocks if cap.fits(b.config_bytes)]
            thrash = (len(resident) > arch.tbu.config_slots
                      or sum(b.config_bytes for b in resident) > arch.config_capacity_bytes)
            cycles = nbytes = 0.0
            for b in blocks:
                per_tbu = firings[b.id] / len(groups[b.id])
                cycles += work[b.id] / len(groups[b.id])
                nbytes += per_tbu * (cap.streamed_bytes(b) + b.input_bytes)
                if thrash and b in resident:
                    cycles += per_tbu * config_load_cycles(arch, b.config_bytes)
                    nbytes += per_tbu * b.config_bytes
            busiest = max(busiest, share * cycles)
            if machine.memory.controllers:
                read[machine.memory.controller_of(u)] += share * nbytes
    return max(busiest, max(read.values(), default=0.0) / arch.memory.bytes_per_cycle)


def _serpentine(machine: Machine, region: Sequence[int]) -> list[int]:
    """``region``'s TBUs row by row over the mesh, every other row right to left: consecutive
    TBUs are always mesh neighbours."""
    pos = machine.topology.position
    top = min(pos(u)[1] for u in region)
    return sorted(region, key=lambda u: (pos(u)[1], pos(u)[0] * (-1) ** (pos(u)[1] - top)))


def _transfer_profile(wf: Workflow) -> dict[tuple[str, str], float]:
    """Expected producer -> consumer firing transfers per instance, by block pair, from the
    first :data:`PROFILE_INSTANCES` instances of seed 0."""
    counts: dict[tuple[str, str], float] = defaultdict(float)
    for inst in iter_instances(wf, PROFILE_INSTANCES, seed=0):
        for f in inst.tasks():
            for p in f.data_from:
                counts[(inst.firings[p].block_id, f.block_id)] += 1 / PROFILE_INSTANCES
    return counts


def _mean_transfer(machine: Machine, src: list[int], dst: list[int], nbytes: int) -> float:
    """Mean uncontended cycles to move ``nbytes`` from a TBU of ``src`` to one of ``dst`` (up to
    ``_PAIRS_PER_SIDE`` evenly spaced TBUs of each side)."""
    if not nbytes:
        return 0.0
    topo, arch = machine.topology, machine.arch
    src = src[::math.ceil(len(src) / _PAIRS_PER_SIDE)]
    dst = dst[::math.ceil(len(dst) / _PAIRS_PER_SIDE)]
    total = sum(transfer_cycles(arch, *topo.hops(s, d), nbytes) for s in src for d in dst)
    return total / (len(src) * len(dst))
