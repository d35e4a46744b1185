"""Helpers for the sweep tests: a 12-point spec on the single-cluster chip and an in-process
backend that can stop early."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

SPEC_12 = """\
name: ci-12
base: {workflow: face-recognition, arch: chip, instances: 20}
grid:
  scheduler: [greedy, octopus]
  seed: [0, 1]
points:
  - {arch.chip.clusters_x: 1}
  - {arch.chip.clusters_x: 2}
  - {arch.chip.clusters_x: 2, arch.chip.clusters_y: 2}
"""


def write_spec(tmp_path: Path, text: str = SPEC_12, name: str = "sweep.yaml") -> Path:
    """Write ``text`` as a spec file under ``tmp_path``; return its path."""
    path = tmp_path / name
    path.write_text(text)
    return path


class SerialBackend:
    """Runs items in this process, in order; records them; raises ``KeyboardInterrupt`` after
    ``stop_after`` results (None: never), like a user pressing Ctrl-C mid-sweep."""

    def __init__(self, stop_after: int | None = None):
        self.stop_after = stop_after
        self.seen: list = []

    def map(self, fn: Callable, items: Sequence) -> Iterator:
        for n, item in enumerate(items):
            if self.stop_after is not None and n == self.stop_after:
                raise KeyboardInterrupt
            self.seen.append(item)
            yield fn(item)
