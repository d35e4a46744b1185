"""One directory per run: ``config.resolved.yaml``, ``summary.json``, ``firings.csv``,
``tbus.csv`` and ``trace.json`` (Chrome trace, see :mod:`octopus.sim.timeline`).

:class:`RunFiles` is the run's :class:`~octopus.sim.recorder.Recorder`: firings and trace slices
stream to disk as they happen, into a :class:`~octopus.run.outdir.StagedDirectory` that
:meth:`RunFiles.commit` completes and publishes (kind ``run``), so a failed or interrupted run
leaves nothing half-written and an earlier run at the same path untouched.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from octopus.arch import Topology
from octopus.run.outdir import StagedDirectory
from octopus.run.result import RunResult
from octopus.sim.recorder import NULL_RECORDER, Recorder
from octopus.sim.simulator import BUCKETS
from octopus.sim.state import Task
from octopus.sim.timeline import TimelineRecorder
from octopus.sim.trace import ChromeTraceWriter

__all__ = ["FIRING_COLUMNS", "RUN_FILES", "RunFiles"]

FIRING_COLUMNS = ["instance", "firing", "block", "kind", "label", "tbu", "cluster", "group_width",
                  "batch", "ready_cycle", "dispatch_cycle", "start_cycle", "end_cycle", "work"]
RUN_FILES = ("config.resolved.yaml", "summary.json", "firings.csv", "tbus.csv", "trace.json")


class RunFiles:
    """Records a run into ``out_dir`` (see the module doc); ``trace=False`` skips trace.json.

    Raises:
        InputError: ``out_dir`` may not be written (see :func:`~octopus.run.outdir.check_target`).
    """

    def __init__(self, out_dir: str | Path, topology: Topology, clock_hz: float,
                 trace: bool = True):
        self._dir = StagedDirectory(out_dir, "run")
        self._topo = topology
        self._csv_file = None
        self._writer: ChromeTraceWriter | None = None
        try:
            self._open(trace, clock_hz)
        except BaseException:  # a failed set-up leaves no staging directory either
            self.discard()
            raise

    def _open(self, trace: bool, clock_hz: float) -> None:
        stage = self._dir.path
        self._csv_file = (stage / "firings.csv").open("w", newline="", buffering=1 << 20)
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(FIRING_COLUMNS)
        self._writer = ChromeTraceWriter(stage / "trace.json", clock_hz) if trace else None
        self._timeline: Recorder = (TimelineRecorder(self._writer, self._topo)
                                    if self._writer is not None else NULL_RECORDER)

    @property
    def target(self) -> Path:
        """Where the run is published."""
        return self._dir.target

    # --- Recorder ------------------------------------------------------------------------------
    def task_done(self, task: Task) -> None:
        f = task.firing
        self._csv.writerow([task.run.index, task.idx, f.block_id, f.kind, f.label, task.tbu,
                            self._topo.cluster_of(task.tbu), len(task.group), task.batch,
                            task.ready_cycle, task.dispatch_cycle,
                            task.start_cycle, task.end_cycle, repr(f.work)])

    def reconfigure(self, tbu: int, key: str, start: int, cycles: int, ahead: bool) -> None:
        self._timeline.reconfigure(tbu, key, start, cycles, ahead)

    def stall(self, tbu: int, reason: str, start: int, cycles: int) -> None:
        self._timeline.stall(tbu, reason, start, cycles)

    def compute(self, tbu: int, tasks: Sequence[Task], cycles: int) -> None:
        self._timeline.compute(tbu, tasks, cycles)

    def control(self, site: int, label: str, start: int, cycles: int) -> None:
        self._timeline.control(site, label, start, cycles)

    def link(self, link: int, start: int, end: int, nbytes: int) -> None:
        self._timeline.link(link, start, end, nbytes)

    # --- publishing ----------------------------------------------------------------------------
    def commit(self, result: RunResult, resolved: dict[str, Any]) -> Path:
        """Write the summary, the resolved config and the per-TBU table, then publish the run
        (replacing an earlier run at the same path); returns its path."""
        self._csv_file.close()
        if self._writer is not None:
            self._writer.close()
        stage = self._dir.path
        (stage / "summary.json").write_text(result.to_json())
        (stage / "config.resolved.yaml").write_text(
            yaml.safe_dump(resolved, sort_keys=False, width=100))
        with (stage / "tbus.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["tbu", "cluster", *(f"{b}_cycles" for b in BUCKETS)])
            for u, row in enumerate(result.per_tbu):
                w.writerow([u, self._topo.cluster_of(u), *row])
        return self._dir.publish()

    def discard(self) -> None:
        """Drop everything written so far. Idempotent."""
        try:
            if self._csv_file is not None:
                self._csv_file.close()
            if self._writer is not None:
                self._writer.abort()
        finally:
            self._dir.discard()

    def __enter__(self) -> RunFiles:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.discard()
