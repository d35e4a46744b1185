"""Batches as every baseline forms them: firings that ride along for free.

The machine runs ready firings of one Task Block as one batch (:meth:`~octopus.sim.machine.
Machine.dispatch_batch`): a configuration that streams is read once for the whole batch, and a
block timed by its layers computes a batch at a better efficiency than one firing alone (a
decode step's matrix-vector products become matrix products). A baseline with ``batch`` on
takes, with the firing it places, the next ready firings of the same block, as many as fit in
the time that firing would hold its TBU alone (:func:`batch_limit`; a streamed configuration
counts the memory's queue): the batch ends about when its first firing alone would have, so
nobody waits for it, and the rest are done early, on no other TBU, with their weights read
once.

:class:`PrefetchingConfig` adds the baselines' other shared feature, ``prefetch``: placing a
firing behind a busy TBU, its configuration and inputs fetched while that TBU computes;
:class:`GroupWidthConfig` adds a fixed group width, tuned per workflow by the evaluation like
any baseline parameter, for the baselines that can run a firing on a group of TBUs.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from octopus.sched.base import SchedulerConfig
from octopus.sim.machine import Machine
from octopus.sim.state import Task

__all__ = ["BatchingConfig", "GroupWidthConfig", "PrefetchingConfig", "batch_limit"]


class BatchingConfig(SchedulerConfig):
    """Parameters of a scheduler that batches the firings that ride along (module doc)."""

    batch: bool = Field(
        default=True, description="dispatch with each firing the next ready firings of its "
        "block that fit in the time it takes alone (off: one firing per dispatch)")


class PrefetchingConfig(BatchingConfig):
    """Parameters of a baseline that batches and prefetches (the machine's double buffering:
    one dispatch may wait on a TBU behind the one it computes)."""

    prefetch: bool = Field(
        default=True, description="with no idle TBU for the oldest ready firing, place it behind "
        "the busy TBU that frees first, fetching its configuration and inputs meanwhile")


class GroupWidthConfig(PrefetchingConfig):
    """Parameters of a baseline that batches, prefetches and runs a block that may widen on a
    fixed number of TBUs per firing."""

    width: int = Field(default=1, ge=1, description="TBUs per firing of a block that may widen "
                       "(a power of two; capped by the block's widths)")

    @field_validator("width")
    @classmethod
    def _power_of_two(cls, width: int) -> int:
        if width & (width - 1):
            raise ValueError(f"width must be a power of two, not {width}")
        return width


def batch_limit(machine: Machine, task: Task, tbu: int, width: int = 1) -> int:
    """The most firings of ``task``'s block, ``task`` included, the idle group of ``width``
    TBUs led by ``tbu`` should run as one batch now: the largest ``b <= tbu.max_batch`` whose
    batch computes, at ``task``'s work each, within the cycles ``task`` alone would hold the
    group: its compute, or, if its configuration (shard) streams, the time its weights take
    to arrive behind the memory's queue (``MemorySystem.estimate``), if longer."""
    block, parallel = task.firing.task, machine.parallel
    if width == 1:
        alone, nbytes = machine.compute_cycles(task), machine.capacity.streamed_bytes(block)
    else:
        shard = parallel.shard_bytes(block, width)
        alone = parallel.compute_cycles(block, [task.work], width)
        nbytes = 0 if machine.fits(shard) else shard * block.weight_passes
    if nbytes:
        now = machine.now
        alone = max(alone, machine.memory.estimate(tbu, nbytes, now, "weights") - now)
    size = 1
    while (size < parallel.max_batch
           and parallel.compute_cycles(block, [task.work] * (size + 1), width) <= alone):
        size += 1
    return size
