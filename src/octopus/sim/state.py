"""Run-time state of workflow instances inside a simulation.

An :class:`InstanceRun` wraps one sampled :class:`~octopus.workflow.Instance` with its arrival
time, dependency counters and where each firing's output lives. A :class:`Task` is one Task Block
firing as schedulers see it: ready or not, placed or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from octopus.workflow.sampling import CONTROL, Firing, Instance

__all__ = ["HOST", "InstanceRun", "Task"]

HOST = -1  # control site: resolve the Control Block on the host, not on a cluster's CBU


@dataclass(slots=True, eq=False)
class Task:
    """One Task Block firing. Times are cycles; -1 means "not yet"."""

    run: InstanceRun
    idx: int
    firing: Firing
    ready_cycle: int = -1
    dispatch_cycle: int = -1
    start_cycle: int = -1
    end_cycle: int = -1
    tbu: int = -1  # where it ran (its group's lead) and its output lives
    group: tuple[int, ...] = ()  # every TBU of the group it ran on
    batch: int = 1  # firings in the dispatch it was part of
    staged_tbu: int = -1  # where the scheduler pre-staged its input data, if anywhere
    staged_ready_cycle: int = -1

    @property
    def block_id(self) -> str:
        return self.firing.block_id

    @property
    def kind(self) -> str:
        return self.firing.kind

    @property
    def work(self) -> float:
        return self.firing.work

    @property
    def config_bytes(self) -> int:
        return self.firing.task.config_bytes

    @property
    def label(self) -> str:
        return f"i{self.run.index}/{self.firing.label}"


@dataclass(slots=True, eq=False)
class InstanceRun:
    """An instance in flight: dependency counters, outputs' locations, completion."""

    index: int
    arrival_cycle: int
    instance: Instance
    remaining: list[int] = field(init=False)
    succs: list[list[int]] = field(init=False)
    revealed: dict[int, list[int]] = field(init=False)  # control firing -> firings it reveals
    tasks: dict[int, Task] = field(init=False)  # emptied once the instance finishes
    tbu_of: list[int] = field(init=False)
    site: int = 0  # cluster the instance was placed on at arrival (schedulers may set it)
    done: int = 0
    finish_cycle: int = -1

    def __post_init__(self) -> None:
        firings = self.instance.firings
        self.remaining = [len(f.preds) for f in firings]
        self.succs = [[] for _ in firings]
        self.revealed = {}
        for k, f in enumerate(firings):
            for p in f.preds:
                self.succs[p].append(k)
            if f.revealed_by >= 0:
                self.revealed.setdefault(f.revealed_by, []).append(k)
        self.tasks = {k: Task(self, k, f) for k, f in enumerate(firings) if f.kind != CONTROL}
        self.tbu_of = [-1] * len(firings)

    @property
    def firings(self) -> tuple[Firing, ...]:
        return self.instance.firings

    @property
    def finished(self) -> bool:
        return self.done == len(self.instance.firings)
