"""A run's timeline as a Chrome trace: a :class:`~octopus.sim.recorder.Recorder` that writes
slices to a :class:`~octopus.sim.trace.ChromeTraceWriter`.

Tracks (process / thread): ``cluster <c>`` / ``tbu <u>`` for every TBU (loads, waits for data,
compute), ``control`` / ``cbu <c>`` and ``control`` / ``host lane <k>`` for Control Block
evaluations, ``links`` / ``<link name>`` for NoC links.

Every track nests: the Chrome trace format and Perfetto need the complete slices of one track to
be disjoint or nested. A TBU, a CBU and a link under the ``contention`` NoC do one thing at a
time. Host round trips and link windows under the ``analytic`` NoC (contention-free: transfers
share a link at full bandwidth each) can overlap, so they are spread over lanes: a window goes to
the first lane of its resource that is free at its start, a new lane only when all are busy.
Lanes after the first are named ``<link name> #2``, ``#3``, ...
"""

from __future__ import annotations

from octopus.arch import Topology
from octopus.sim.state import HOST, Task
from octopus.sim.trace import ChromeTraceWriter

__all__ = ["Lanes", "TimelineRecorder"]


class Lanes:
    """Packs possibly overlapping windows of one resource into non-overlapping lanes."""

    __slots__ = ("_free_at",)

    def __init__(self) -> None:
        self._free_at: list[int] = []  # per lane, the cycle its last window ends

    def place(self, start: int, end: int) -> int:
        """The lane (0, 1, ...) for the window ``[start, end)``; marks it busy until ``end``."""
        free_at = self._free_at
        for lane, free in enumerate(free_at):
            if free <= start:
                free_at[lane] = end
                return lane
        free_at.append(end)
        return len(free_at) - 1


class TimelineRecorder:
    """Writes the timed actions of a run on ``topology`` as slices of ``writer`` (module doc)."""

    def __init__(self, writer: ChromeTraceWriter, topology: Topology):
        self._writer = writer
        self._topo = topology
        self._host = Lanes()
        self._links: dict[int, Lanes] = {}

    def task_done(self, task: Task) -> None:
        pass

    def reconfigure(self, tbu: int, block_id: str, start: int, cycles: int, ahead: bool) -> None:
        self._tbu(tbu, f"{'preload' if ahead else 'load'} {block_id}", start, cycles)

    def wait_data(self, tbu: int, start: int, cycles: int) -> None:
        self._tbu(tbu, "wait data", start, cycles)

    def compute(self, tbu: int, task: Task) -> None:
        self._tbu(tbu, task.block_id, task.start_cycle, task.end_cycle - task.start_cycle,
                  {"firing": task.label})

    def control(self, site: int, label: str, start: int, cycles: int) -> None:
        if site == HOST:
            where = f"host lane {self._host.place(start, start + cycles)}"
        else:
            where = f"cbu {site}"
        self._writer.slice(("control", where), label, start, cycles)

    def link(self, link: int, start: int, end: int, nbytes: int) -> None:
        lanes = self._links.get(link)
        if lanes is None:
            lanes = self._links[link] = Lanes()
        lane = lanes.place(start, end)
        name = self._topo.link_name(link) + (f" #{lane + 1}" if lane else "")
        self._writer.slice(("links", name), f"{nbytes} B", start, end - start)

    def _tbu(self, tbu: int, name: str, start: int, cycles: int, args=None) -> None:
        self._writer.slice((f"cluster {self._topo.cluster_of(tbu)}", f"tbu {tbu}"), name, start,
                           cycles, args)
