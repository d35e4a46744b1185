"""Helpers shared by the scheduler tests: small machines and a one-call run that keeps every
finished firing and every configuration load."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from octopus.arch import ArchConfig, load_arch
from octopus.sched import SchedulerChoice, scheduler_factory
from octopus.sim import NullRecorder, Simulator
from octopus.sim.state import Task
from octopus.workflow import Workflow


def mesh(tbus_x: int, tbus_y: int = 1, clusters_x: int = 1, **overrides: Any) -> ArchConfig:
    """``chip`` cut to ``clusters_x`` x 1 clusters of ``tbus_x`` x ``tbus_y`` TBUs: ai work at
    256 MACs/cycle, general at 64 ops/cycle, loads at 32 B/cycle with no setup, private memory
    and an analytic NoC (64 B/cycle links, 2 cycles per hop) unless overridden."""
    return load_arch("chip", {"cluster.tbus_x": tbus_x, "cluster.tbus_y": tbus_y,
                              "chip.clusters_x": clusters_x, "pea.ai_efficiency": 1.0,
                              "tbu.config_setup_cycles": 0, "memory.placement": "private",
                              "noc.model": "analytic", **overrides})


class Record(NullRecorder):
    """Keeps finished firings and configuration loads ``(tbu, block, start, ahead)``."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []
        self.loads: list[tuple[int, str, int, bool]] = []

    def task_done(self, task: Task) -> None:
        self.tasks.append(task)

    def reconfigure(self, tbu: int, block_id: str, start: int, cycles: int, ahead: bool) -> None:
        self.loads.append((tbu, block_id, start, ahead))

    def of(self, block_id: str) -> list[Task]:
        """Finished firings of ``block_id``, in completion order."""
        return [t for t in self.tasks if t.block_id == block_id]


def run(wf: Workflow, arch: ArchConfig, scheduler: SchedulerChoice, instances: int = 1,
        arrivals: Sequence[int] | None = None,
        setup: Callable[[Simulator], None] | None = None) -> tuple[Simulator, Record]:
    """Run ``wf`` (seed 0) after ``setup(sim)``; return the finished simulator and its record."""
    rec = Record()
    sim = Simulator(wf, arch, scheduler_factory(scheduler), instances, 0, arrivals, rec)
    if setup is not None:
        setup(sim)
    return sim.run(), rec
