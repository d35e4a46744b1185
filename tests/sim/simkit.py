"""Helpers shared by the simulator tests: tiny machines, a recorder that keeps everything, a
one-call run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from octopus.arch import ArchConfig, load_arch
from octopus.sched import scheduler_factory
from octopus.sim import NullRecorder, Simulator
from octopus.sim.state import Task
from octopus.workflow import Workflow


def tiny_arch(tbus_x: int = 1, tbus_y: int = 1, **overrides: Any) -> ArchConfig:
    """The ``chip`` preset cut to one cluster of ``tbus_x`` x ``tbus_y`` TBUs, with round rates.

    AI work runs at 256 MACs/cycle (16x16 PEs at efficiency 1.0), general work at 64
    operations/cycle (efficiency 0.25), memory and configuration loads at 32 B/cycle, mesh
    links at 64 B/cycle with 2 cycles per hop, die-to-die links at 16 B/cycle with 10 cycles per
    hop, a CBU decision takes 20 cycles and a host round trip 2000. Configuration setup is 0
    cycles, memory is private (no controller queue, no latency) and the NoC analytic (no link
    contention) unless overridden (``**{"tbu.config_setup_cycles": 500, "noc.model":
    "contention"}``).
    """
    base = {"cluster.tbus_x": tbus_x, "cluster.tbus_y": tbus_y, "pea.ai_efficiency": 1.0,
            "tbu.config_setup_cycles": 0, "memory.placement": "private", "noc.model": "analytic"}
    return load_arch("chip", {**base, **overrides})


class Collector(NullRecorder):
    """A :class:`~octopus.sim.recorder.Recorder` that keeps every finished firing and every
    timed action in memory: TBU windows as ``(tbu, name, start, cycles)`` named as the trace
    names them (``load B`` and ``preload B`` for configuration reads, ``wait config``, ``wait
    data``, ``wait exchange``, ``wait weights``, the block id or ``B xN`` for a batch), control
    windows as ``(site, label, start, cycles)`` and link windows as ``(link, start, end,
    bytes)``."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []
        self.tbu_slices: list[tuple[int, str, int, int]] = []
        self.cbu_slices: list[tuple[int, str, int, int]] = []
        self.link_slices: list[tuple[int, int, int, int]] = []

    def task_done(self, task: Task) -> None:
        self.tasks.append(task)

    def reconfigure(self, tbu: int, key: str, start: int, cycles: int, ahead: bool) -> None:
        self.tbu_slices.append((tbu, f"{'preload' if ahead else 'load'} {key}", start, cycles))

    def stall(self, tbu: int, reason: str, start: int, cycles: int) -> None:
        self.tbu_slices.append((tbu, f"wait {reason}", start, cycles))

    def compute(self, tbu: int, tasks: Sequence[Task], cycles: int) -> None:
        t = tasks[0]
        name = t.block_id + (f" x{len(tasks)}" if len(tasks) > 1 else "")
        self.tbu_slices.append((tbu, name, t.start_cycle, cycles))

    def control(self, site: int, label: str, start: int, cycles: int) -> None:
        self.cbu_slices.append((site, label, start, cycles))

    def link(self, link: int, start: int, end: int, nbytes: int) -> None:
        self.link_slices.append((link, start, end, nbytes))

    def schedule(self) -> dict[str, tuple[int, int, int]]:
        """``label -> (tbu, start_cycle, end_cycle)`` of every finished firing."""
        return {t.label: (t.tbu, t.start_cycle, t.end_cycle) for t in self.tasks}


def run_sim(wf: Workflow, arch: ArchConfig, scheduler: str = "greedy", instances: int = 1,
            seed: int = 0, arrivals: Sequence[int] | None = None) -> tuple[Simulator, Collector]:
    """Run ``wf`` to completion and return the simulator and everything it recorded."""
    rec = Collector()
    sim = Simulator(wf, arch, scheduler_factory(scheduler), instances, seed, arrivals, rec)
    return sim.run(), rec
