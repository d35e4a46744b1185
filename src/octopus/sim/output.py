"""One directory per run: ``config.resolved.yaml``, ``summary.json``, ``firings.csv``,
``tbus.csv`` and ``trace.json`` (Chrome trace: one track per TBU, per link, per CBU).

Everything is written into a hidden staging directory beside the target and moved into place
only when the run has succeeded, so a failed or interrupted run leaves nothing half-written.
Firings and trace slices stream to disk as they happen.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from octopus.arch import Topology
from octopus.sim.metrics import BUCKETS
from octopus.sim.state import HOST, Task
from octopus.sim.trace import ChromeTraceWriter

__all__ = ["RunRecorder"]

FIRING_COLUMNS = ["instance", "firing", "block", "kind", "label", "tbu", "cluster",
                  "ready_cycle", "dispatch_cycle", "start_cycle", "end_cycle", "work"]


class RunRecorder:
    """Streams a run's firings and trace slices; :meth:`commit` writes the rest and publishes.

    Use as a context manager around the run: an exception discards the staging directory.
    """

    def __init__(self, out_dir: str | Path, topology: Topology, clock_hz: float,
                 trace: bool = True):
        self.out_dir = Path(out_dir)
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self._stage = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}.",
                                            dir=self.out_dir.parent))
        self._stage.chmod(0o755)  # mkdtemp makes it private; a run directory is for sharing
        self._topo = topology
        self._csv_file = (self._stage / "firings.csv").open("w", newline="", buffering=1 << 20)
        self._csv = csv.writer(self._csv_file)
        self._csv.writerow(FIRING_COLUMNS)
        self._trace = ChromeTraceWriter(self._stage / "trace.json", clock_hz) if trace else None
        self._host_lanes: list[int] = []  # per lane, the cycle its last host round trip ends

    # --- streaming sinks (called by the simulator and machine) ---------------------------------
    def firing(self, task: Task) -> None:
        f = task.firing
        self._csv.writerow([task.run.index, task.idx, f.block_id, f.kind, f.label, task.tbu,
                            self._topo.cluster_of(task.tbu), task.ready_cycle, task.dispatch_cycle,
                            task.start_cycle, task.end_cycle, repr(f.work)])

    def tbu_slice(self, tbu: int, name: str, start: int, dur: int, args=None) -> None:
        if self._trace is not None:
            cluster = self._topo.cluster_of(tbu)
            self._trace.slice((f"cluster {cluster}", f"tbu {tbu}"), name, start, dur, args)

    def cbu_slice(self, site: int, name: str, start: int, dur: int) -> None:
        if self._trace is None:
            return
        if site == HOST:  # round trips overlap: spread them over as few lanes as needed
            lane = next((i for i, free in enumerate(self._host_lanes) if free <= start),
                        len(self._host_lanes))
            if lane == len(self._host_lanes):
                self._host_lanes.append(0)
            self._host_lanes[lane] = start + dur
            where = f"host lane {lane}"
        else:
            where = f"cbu {site}"
        self._trace.slice(("control", where), name, start, dur)

    def link_busy(self, link: int, start: int, end: int, nbytes: int) -> None:
        if self._trace is not None:
            self._trace.slice(("links", self._topo.link_name(link)), f"{nbytes} B", start,
                              end - start)

    # --- publishing -------------------------------------------------------------------------
    def commit(self, summary: dict[str, Any], resolved: dict[str, Any],
               tbu_rows: list[dict[str, int]]) -> Path:
        """Write the summary, resolved config and per-TBU table, then move the run into place
        (replacing an older run at the same path)."""
        self._csv_file.close()
        if self._trace is not None:
            self._trace.close()
        (self._stage / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        (self._stage / "config.resolved.yaml").write_text(
            yaml.safe_dump(resolved, sort_keys=False, width=100))
        with (self._stage / "tbus.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["tbu", "cluster", *(f"{b}_cycles" for b in BUCKETS)])
            for u, row in enumerate(tbu_rows):
                w.writerow([u, self._topo.cluster_of(u), *(row[b] for b in BUCKETS)])
        if self.out_dir.exists():
            old = self.out_dir.with_name(f".{self.out_dir.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            self.out_dir.rename(old)
            shutil.rmtree(old)
        self._stage.rename(self.out_dir)
        return self.out_dir

    def discard(self) -> None:
        """Drop everything written so far."""
        self._csv_file.close()
        if self._trace is not None:
            self._trace.abort()
        shutil.rmtree(self._stage, ignore_errors=True)

    def __enter__(self) -> RunRecorder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.discard()
