"""How long one dispatch takes: a batch of firings of one Task Block on a group of TBUs.

A dispatch runs ``b`` ready firings of one block at once (a *batch*, ``1 <= b <=
tbu.max_batch``) on ``k`` TBUs (a *group*; ``k`` one of :meth:`ParallelModel.widths`). The
model, in integer cycles:

- **Weights** are split across the group: member ``i`` holds shard ``i`` of
  ``ceil(config_bytes / k)`` bytes. A shard that fits a TBU's configuration share may stay
  resident; otherwise every member streams its shard from off-chip memory ``weight_passes``
  times per dispatch: once for the whole batch, which is what batching buys a memory-bound
  block.
- **Compute**: the batch's work ``W`` (the sum of its firings') over the group's arrays,
  ``ceil(W / (rows x cols x k x e(k, b)))``. A block timed by its layers
  (:class:`~octopus.sim.capacity.AtEfficiency`) gets ``e(k, b)`` from them: a batch multiplies
  each GEMM's rows (or the count of a batched matmul) and the folds of each GEMM are shared out
  among the ``k`` arrays, so small layers gain little from a wide group and a decode step gains
  much from a batch. Any other AI block keeps the preset's efficiency whatever ``k`` and ``b``
  (assumed: perfect scaling). A general block, or one timed as a whole fitted model
  (:class:`~octopus.sim.capacity.FixedCycles`), runs on one TBU; its batch takes the sum of
  its firings' cycles.
- **Exchange**: in a group every layer's output is split among the members and gathered before
  the next layer, a ring all-gather in which each member receives ``A x (k - 1) / k`` bytes,
  ``A`` being the batch's activation bytes (its layers' outputs at one byte per element; a block
  with no layers known: its output bytes). It is charged after the compute, not overlapped
  with it (conservative).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property

from octopus.arch import ArchConfig, compute_cycles, cycles_at_rate, work_rate
from octopus.sim.capacity import AtEfficiency, LayerScaling
from octopus.workflow import TaskBlock
from octopus.workflow.analysis import BlockTiming, Capacity

__all__ = ["ParallelModel"]

ROUNDING_MARGIN = Fraction(1001, 1000)
"""Bounds take a block's best efficiency 0.1% higher than the widths and batches they try: a
group's share of folds is rounded per array, so a width between those tried may do a hair
better (measured: under 0.003%)."""


class ParallelModel:
    """The dispatch model of ``arch`` (module doc), with blocks timed as ``capacity`` times
    them."""

    def __init__(self, arch: ArchConfig, capacity: Capacity):
        self.arch = arch
        self.capacity = capacity
        self.max_batch = arch.tbu.max_batch
        self._all_widths = tuple(1 << p for p in range(arch.num_tbus.bit_length()))
        self._widths: dict[str, tuple[int, ...]] = {}
        # Speed: MACs per cycle of a layer-timed block by (id, width, batch), exact, computed
        # once (a Fraction per dispatch costs more than the rest of the dispatch).
        self._rates: dict[tuple[str, int, int], tuple[int, int]] = {}

    def scalable(self, block: TaskBlock) -> bool:
        """Whether ``block`` may run on a group of TBUs (an AI block not timed as one fitted
        model)."""
        timing = self.capacity.block_timing.get(block.id)
        return block.kind == "ai" and (timing is None or isinstance(timing, AtEfficiency))

    def widths(self, block: TaskBlock) -> tuple[int, ...]:
        """Group widths ``block`` may run on: powers of two up to the machine's TBUs for a
        scalable block, else ``(1,)``."""
        found = self._widths.get(block.id)
        if found is None:
            found = self._widths[block.id] = self._all_widths if self.scalable(block) else (1,)
        return found

    def min_width(self, block: TaskBlock) -> int:
        """The narrowest width whose shards can be resident (the widest if none can)."""
        capacity = self.arch.config_capacity_bytes
        widths = self.widths(block)
        return next((k for k in widths if self.shard_bytes(block, k) <= capacity), widths[-1])

    @staticmethod
    def shard_bytes(block: TaskBlock, width: int) -> int:
        """Bytes of configuration each of ``width`` members holds."""
        return -(-block.config_bytes // width)

    def compute_cycles(self, block: TaskBlock, works: Sequence[float], width: int) -> int:
        """Cycles the group computes a batch of firings with ``works`` (module doc)."""
        timing = self.capacity.block_timing.get(block.id)
        if width == 1 and len(works) == 1:
            return self.capacity.cycles(block.kind, works[0], block.id)
        if not self.scalable(block):
            return sum(self.capacity.cycles(block.kind, w, block.id) for w in works)
        total = sum(works) / width  # each array's share of the MACs
        if isinstance(timing, AtEfficiency):
            key = (block.id, width, len(works))
            rate = self._rates.get(key)
            if rate is None:
                rate = self._rates[key] = work_rate(
                    self.arch, "ai", timing.scaling.efficiency(width, len(works)))
            return cycles_at_rate(total, rate)
        return compute_cycles(self.arch, "ai", total)

    def exchange_bytes(self, block: TaskBlock, batch: int, width: int) -> int:
        """Bytes each member of a ``width`` group receives in a batch's all-gathers."""
        if width == 1:
            return 0
        timing = self.capacity.block_timing.get(block.id)
        produced = (timing.scaling.activation_bytes(batch) if isinstance(timing, AtEfficiency)
                    else batch * block.output_bytes)
        return -(-produced * (width - 1) // width)

    def bound_capacities(self) -> tuple[Capacity, Capacity]:
        """``(work, path)``: capacities that no dispatch beats, for lower bounds. ``work`` times
        a firing in TBU-cycles at the best efficiency its layers reach on any width and batch
        (the widths at the largest batch and the batches on one array, plus
        :data:`ROUNDING_MARGIN`); ``path`` times it in cycles alone on the width that finishes
        it soonest (the exchange left out). Other AI blocks: the preset efficiency, on every
        TBU for the path; general and fitted blocks as on one TBU. Both keep the machine's
        weight traffic and add the widest group and batch a dispatch may use, so that a block
        whose shards cannot be resident even on the widest group streams in the bound
        (:class:`~octopus.workflow.analysis.MakespanBound`)."""
        cap, widest = self.capacity, self._all_widths[-1]
        work_timing: dict[str, BlockTiming] = {}
        path_timing: dict[str, BlockTiming] = {}
        single: set[str] = set()  # AI blocks timed as one fitted model run on one TBU
        for block_id, timing in cap.block_timing.items():
            if isinstance(timing, AtEfficiency):
                work_timing[block_id] = _Best(self.arch, timing.scaling, self._all_widths,
                                              self.max_batch)
                path_timing[block_id] = _Fastest(self.arch, timing.scaling, self._all_widths)
            else:
                work_timing[block_id] = path_timing[block_id] = timing
                single.add(block_id)
        groups = {"group_width": widest, "single_blocks": frozenset(single),
                  "max_batch": self.max_batch}
        work = replace(cap, block_timing=work_timing, **groups)
        path = replace(cap, work_cycles=_Spread(self.arch, widest), block_timing=path_timing,
                       **groups)
        return work, path


@dataclass(frozen=True)
class _Best:
    """TBU-cycles of a firing at its layers' best efficiency (:meth:`bound_capacities`)."""

    arch: ArchConfig
    scaling: LayerScaling
    widths: tuple[int, ...]
    max_batch: int

    @cached_property
    def efficiency(self) -> Fraction:
        tried = [self.scaling.efficiency(k, self.max_batch) for k in self.widths]
        tried += [self.scaling.efficiency(1, b) for b in range(1, self.max_batch)]
        return min(Fraction(1), max(tried) * ROUNDING_MARGIN)

    @cached_property
    def rate(self) -> tuple[int, int]:
        return work_rate(self.arch, "ai", self.efficiency)

    def __call__(self, work: float) -> int:
        return cycles_at_rate(work, self.rate)


@dataclass(frozen=True)
class _Fastest:
    """Cycles of a firing alone on the width that computes it soonest."""

    arch: ArchConfig
    scaling: LayerScaling
    widths: tuple[int, ...]

    @cached_property
    def rates(self) -> tuple[tuple[int, tuple[int, int]], ...]:
        """``(width, MACs per cycle of each array)`` for every width tried."""
        return tuple((k, work_rate(self.arch, "ai", min(
            Fraction(1), self.scaling.efficiency(k, 1) * ROUNDING_MARGIN))) for k in self.widths)

    def __call__(self, work: float) -> int:
        return min(cycles_at_rate(work / k, rate) for k, rate in self.rates)


@dataclass(frozen=True)
class _Spread:
    """``compute_cycles`` with AI work spread over ``widest`` TBUs."""

    arch: ArchConfig
    widest: int

    def __call__(self, kind: str, work: float) -> int:
        return compute_cycles(self.arch, kind, work / self.widest if kind == "ai" else work)
