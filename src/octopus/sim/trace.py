"""Stream a timeline to disk as Chrome trace JSON (``chrome://tracing``, Perfetto).

Events are written as they come, through a buffered file: memory stays constant however many
slices a run produces (only the track names are kept). The file is built under a temporary name
next to the target and renamed onto it by :meth:`ChromeTraceWriter.close`, so a reader never
sees a half-written trace; if the ``with`` block raises, the temporary file is deleted and the
target is left untouched. A writer never closed (nor used in ``with``) leaves its temporary
file behind.

Time (a decision): Chrome's ``ts``/``dur`` are microseconds, so cycles are converted with the
clock, ``us = cycles * 1e6 / clock_hz``, and written with just enough decimals to keep one
cycle (3 at 1 GHz). ``displayTimeUnit`` is ``"ns"`` and ``otherData.clock_hz`` records the clock.

Tracks are ``(process, thread)`` name pairs, named with metadata events and ordered as first
used. The simulator's convention: process ``"cluster <c>"`` with a thread ``"TBU <t>"`` per TBU,
process ``"CBUs"`` with a thread per CBU, process ``"links"`` with a thread per link
(``Topology.link_name``).

Example::

    with ChromeTraceWriter("run.trace.json", clock_hz=1e9) as trace:
        tbu = trace.track("cluster 0", "TBU 3")
        trace.slice(tbu, "detector", start_cycles=100, dur_cycles=2500, args={"instance": 7})
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from json.encoder import encode_basestring
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

__all__ = ["ChromeTraceWriter", "Track"]


class Track(NamedTuple):
    """A trace row: Chrome's process id and thread id (from :meth:`ChromeTraceWriter.track`)."""

    pid: int
    tid: int


class ChromeTraceWriter:
    """Write Chrome trace events to ``path`` incrementally.

    Args:
        path: the final file; written only by :meth:`close`.
        clock_hz: cycles per second, to convert cycles to microseconds.
        other_data: extra JSON-serialisable facts stored under ``otherData`` (e.g. the arch).

    Raises:
        ValueError: ``clock_hz`` is not positive.
        OSError: the temporary file cannot be created next to ``path``.
    """

    def __init__(
        self, path: str | Path, clock_hz: float = 1e9, other_data: dict[str, Any] | None = None
    ):
        if clock_hz <= 0:
            raise ValueError(f"clock_hz must be > 0, got {clock_hz}")
        self._path = Path(path)
        self._us_per_cycle = 1e6 / clock_hz
        self._decimals = _decimals_for_one_cycle(clock_hz)
        meta = {"displayTimeUnit": "ns", "otherData": {"clock_hz": clock_hz, **(other_data or {})}}
        header = json.dumps(meta)[:-1] + ',"traceEvents":[\n'  # serialise before creating files
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self._path.name}.", suffix=".tmp", dir=self._path.parent or "."
        )
        self._tmp = Path(tmp)
        self._file = os.fdopen(fd, "w", encoding="utf-8", buffering=1 << 20)
        self._processes: dict[str, int] = {}
        self._tracks: dict[tuple[str, str], Track] = {}
        self._count = 0
        self._closed = False
        self._file.write(header)
        self._sep = ""

    @property
    def path(self) -> Path:
        """The final path of the trace."""
        return self._path

    @property
    def events_written(self) -> int:
        """Events written so far, metadata events included."""
        return self._count

    def track(self, process: str, thread: str) -> Track:
        """The track for ``(process, thread)``, named in the trace on first use."""
        key = (process, thread)
        found = self._tracks.get(key)
        if found is not None:
            return found
        pid = self._processes.get(process)
        if pid is None:
            pid = self._processes[process] = len(self._processes) + 1
            self._meta("process_name", pid, 0, {"name": process})
            self._meta("process_sort_index", pid, 0, {"sort_index": pid})
        tid = len(self._tracks) + 1  # unique across processes
        self._meta("thread_name", pid, tid, {"name": thread})
        self._meta("thread_sort_index", pid, tid, {"sort_index": tid})
        found = self._tracks[key] = Track(pid, tid)
        return found

    def slice(
        self,
        track: Track | tuple[str, str],
        name: str,
        start_cycles: int,
        dur_cycles: int,
        args: dict[str, Any] | None = None,
    ) -> None:
        """A complete event (``ph: "X"``): ``name`` on ``track`` from ``start_cycles`` on.

        Raises:
            ValueError: ``dur_cycles`` is negative, or the writer is closed.
        """
        if dur_cycles < 0:
            raise ValueError(f"slice {name!r} has negative duration {dur_cycles}")
        pid, tid = self._resolve(track)
        d, k = self._decimals, self._us_per_cycle
        self._emit(
            f'{{"ph":"X","pid":{pid},"tid":{tid},"ts":{start_cycles * k:.{d}f},'
            f'"dur":{dur_cycles * k:.{d}f},"name":{encode_basestring(name)}{_args(args)}}}'
        )

    def instant(
        self,
        track: Track | tuple[str, str],
        name: str,
        at_cycles: int,
        args: dict[str, Any] | None = None,
    ) -> None:
        """An instant event (``ph: "i"``, thread scope) at ``at_cycles`` on ``track``.

        Raises:
            ValueError: the writer is closed.
        """
        pid, tid = self._resolve(track)
        ts = at_cycles * self._us_per_cycle
        self._emit(
            f'{{"ph":"i","s":"t","pid":{pid},"tid":{tid},"ts":{ts:.{self._decimals}f},'
            f'"name":{encode_basestring(name)}{_args(args)}}}'
        )

    def close(self) -> Path:
        """Finish the JSON and move it onto :attr:`path`; return the path. Idempotent."""
        if not self._closed:
            self._closed = True
            self._file.write("\n]}\n")
            self._file.close()
            os.chmod(self._tmp, 0o644)  # mkstemp makes it private (0600); a trace is not secret
            os.replace(self._tmp, self._path)
        return self._path

    def abort(self) -> None:
        """Discard the temporary file and leave :attr:`path` untouched. Idempotent."""
        if not self._closed:
            self._closed = True
            self._file.close()
            self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> ChromeTraceWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # --- internals ---------------------------------------------------------------------------
    def _resolve(self, track: Track | tuple[str, str]) -> Track:
        return track if type(track) is Track else self.track(*track)

    def _meta(self, name: str, pid: int, tid: int, args: dict[str, Any]) -> None:
        self._emit(
            f'{{"ph":"M","pid":{pid},"tid":{tid},"name":"{name}","args":{json.dumps(args)}}}'
        )

    def _emit(self, text: str) -> None:
        if self._closed:
            raise ValueError("trace writer is closed")
        self._file.write(self._sep + text)
        self._sep = ",\n"
        self._count += 1


def _args(args: dict[str, Any] | None) -> str:
    """The ``,"args":{...}`` suffix of an event, or nothing. Non-JSON values become strings."""
    if not args:
        return ""
    return ',"args":' + json.dumps(args, separators=(",", ":"), default=str)


def _decimals_for_one_cycle(clock_hz: float) -> int:
    """Decimals of a microsecond that keep consecutive cycles apart (3 at 1 GHz, 4 at 1.5 GHz)."""
    cycles_per_us = clock_hz / 1e6
    if cycles_per_us <= 1:
        return 0
    return math.ceil(math.log10(cycles_per_us) - 1e-9)  # 1e-9: log10(1000) may be 3.0000000001
