"""What a run can record as it goes: the :class:`Recorder` protocol and the :data:`NULL_RECORDER`.

The simulator, the machine and the NoC report every timed action to one recorder, always; a run
that keeps nothing gets :data:`NULL_RECORDER`, whose methods do nothing. Hooks are semantic (a
reconfiguration, a firing's compute, a link window), so what they become on disk (CSV rows,
trace slices on nested tracks) is the recorder's business. Times are integer cycles; every
window is ``[start, start + cycles)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from octopus.sim.state import Task

__all__ = ["NULL_RECORDER", "NullRecorder", "Recorder"]


class Recorder(Protocol):
    """Receives a run's timed actions in simulation order (by start cycle within a TBU)."""

    def task_done(self, task: Task) -> None:
        """``task`` finished (its ``tbu`` and ``*_cycle`` fields are final)."""

    def reconfigure(self, tbu: int, key: str, start: int, cycles: int, ahead: bool) -> None:
        """``tbu`` reads configuration ``key`` (a block id, or a shard of one) from memory;
        ``ahead``: a preload before any firing needs it. May overlap the TBU's compute (a
        prefetch)."""

    def stall(self, tbu: int, reason: str, start: int, cycles: int) -> None:
        """``tbu`` holds a dispatch that cannot compute: waiting for its ``config`` (load and
        setup), ``data`` (inputs, or the rest of its group), the group's ``exchange``, or
        streamed ``weights``."""

    def compute(self, tbu: int, tasks: Sequence[Task], cycles: int) -> None:
        """``tbu`` computes the batch ``tasks`` for ``cycles`` from their ``start_cycle`` (a
        group's exchange and streamed weights may keep it until their ``end_cycle``)."""

    def control(self, site: int, label: str, start: int, cycles: int) -> None:
        """A Control Block firing ``label`` is evaluated at ``site`` (a cluster's CBU or the
        host, ``octopus.sim.state.HOST``)."""

    def link(self, link: int, start: int, end: int, nbytes: int) -> None:
        """NoC link ``link`` carries ``nbytes`` of one transfer during ``[start, end)``."""


class NullRecorder:
    """A :class:`Recorder` that keeps nothing."""

    __slots__ = ()

    def task_done(self, task: Task) -> None:
        pass

    def reconfigure(self, tbu: int, key: str, start: int, cycles: int, ahead: bool) -> None:
        pass

    def stall(self, tbu: int, reason: str, start: int, cycles: int) -> None:
        pass

    def compute(self, tbu: int, tasks: Sequence[Task], cycles: int) -> None:
        pass

    def control(self, site: int, label: str, start: int, cycles: int) -> None:
        pass

    def link(self, link: int, start: int, end: int, nbytes: int) -> None:
        pass


NULL_RECORDER = NullRecorder()
