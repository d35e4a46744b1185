"""What a run can record as it goes: the :class:`Recorder` protocol and the :data:`NULL_RECORDER`.

The simulator, the machine and the NoC report every timed action to one recorder, always; a run
that keeps nothing gets :data:`NULL_RECORDER`, whose methods do nothing. Hooks are semantic (a
reconfiguration, a firing's compute, a link window), so what they become on disk (CSV rows,
trace slices on nested tracks) is the recorder's business. Times are integer cycles; every
window is ``[start, start + cycles)``.
"""

from __future__ import annotations

from typing import Protocol

from octopus.sim.state import Task

__all__ = ["NULL_RECORDER", "NullRecorder", "Recorder"]


class Recorder(Protocol):
    """Receives a run's timed actions in simulation order (by start cycle within a TBU)."""

    def task_done(self, task: Task) -> None:
        """``task`` finished (its ``tbu`` and ``*_cycle`` fields are final)."""

    def reconfigure(self, tbu: int, block_id: str, start: int, cycles: int, ahead: bool) -> None:
        """``tbu`` loads ``block_id``'s configuration; ``ahead``: a preload before any firing
        needs it."""

    def wait_data(self, tbu: int, start: int, cycles: int) -> None:
        """``tbu`` holds a firing whose inputs are still on their way."""

    def compute(self, tbu: int, task: Task) -> None:
        """``tbu`` computes ``task`` from ``task.start_cycle`` to ``task.end_cycle``."""

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

    def reconfigure(self, tbu: int, block_id: str, start: int, cycles: int, ahead: bool) -> None:
        pass

    def wait_data(self, tbu: int, start: int, cycles: int) -> None:
        pass

    def compute(self, tbu: int, task: Task) -> None:
        pass

    def control(self, site: int, label: str, start: int, cycles: int) -> None:
        pass

    def link(self, link: int, start: int, end: int, nbytes: int) -> None:
        pass


NULL_RECORDER = NullRecorder()
