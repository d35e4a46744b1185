"""A run's timeline as a Chrome trace: a :class:`~octopus.sim.recorder.Recorder` that writes
slices to a :class:`~octopus.sim.trace.ChromeTraceWriter`.

Tracks (process / thread): ``cluster <c>`` / ``tbu <u>`` for every TBU (stalls and compute; a
batch is one slice named ``<block> x<b>``) and ``cluster <c>`` / ``tbu <u> loads`` for its
configuration reads, ``control`` / ``cbu <c>`` and ``control`` / ``host lane <k>`` for Control
Block evaluations, ``links`` / ``<link name>`` for NoC links.

Every track nests: the Chrome trace format and Perfetto need the complete slices of one track to
be disjoint or nested. A TBU's array, a CBU and a link under the ``contention`` NoC do one thing
at a time. A TBU's configuration reads (a prefetch runs while it computes, and may overlap an
earlier read), host round trips and link windows under the ``analytic`` NoC (contention-free:
transfers share a link at full bandwidth each) can overlap, so they are spread over lanes: a
window goes to the first lane of its resource that is free at its start, a new lane only when
all are busy. Lanes after the first are named ``<name> #2``, ``#3``, ... (A ``contention``
link's window that fills a gap before one recorded earlier also takes a second lane: lanes
only look at where each one's last window ends.)
"""

from __future__ import annotations

from collections.abc import Sequence

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
        self._loads: dict[int, Lanes] = {}

    def task_done(self, task: Task) -> None:
        pass

    def reconfigure(self, tbu: int, key: str, start: int, cycles: int, ahead: bool) -> None:
        lane = _lane(self._loads, tbu, start, start + cycles)
        track = f"tbu {tbu} loads" + (f" #{lane + 1}" if lane else "")
        self._writer.slice((f"cluster {self._topo.cluster_of(tbu)}", track),
                           f"{'preload' if ahead else 'load'} {key}", start, cycles)

    def stall(self, tbu: int, reason: str, start: int, cycles: int) -> None:
        self._tbu(tbu, f"wait {reason}", start, cycles)

    def compute(self, tbu: int, tasks: Sequence[Task], cycles: int) -> None:
        first = tasks[0]
        name = first.block_id + (f" x{len(tasks)}" if len(tasks) > 1 else "")
        args = {"firing": ", ".join(t.label for t in tasks), "group": list(first.group)}
        self._tbu(tbu, name, first.start_cycle, cycles, args)

    def control(self, site: int, label: str, start: int, cycles: int) -> None:
        if site == HOST:
            where = f"host lane {self._host.place(start, start + cycles)}"
        else:
            where = f"cbu {site}"
        self._writer.slice(("control", where), label, start, cycles)

    def link(self, link: int, start: int, end: int, nbytes: int) -> None:
        lane = _lane(self._links, link, start, end)
        name = self._topo.link_name(link) + (f" #{lane + 1}" if lane else "")
        self._writer.slice(("links", name), f"{nbytes} B", start, end - start)

    def _tbu(self, tbu: int, name: str, start: int, cycles: int, args=None) -> None:
        self._writer.slice((f"cluster {self._topo.cluster_of(tbu)}", f"tbu {tbu}"), name, start,
                           cycles, args)


def _lane(lanes: dict[int, Lanes], resource: int, start: int, end: int) -> int:
    """The lane of ``resource``'s window ``[start, end)``, among ``lanes`` (one per resource)."""
    found = lanes.get(resource)
    if found is None:
        found = lanes[resource] = Lanes()
    return found.place(start, end)
