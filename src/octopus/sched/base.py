"""The scheduler interface: one base class, hooks with fixed signatures, a config per kind.

A scheduler reacts to events (an instance arrives, a Task Block firing becomes ready, a Control
Block reveals work, a firing finishes) and places ready work in :meth:`Scheduler.decide`, which
the simulator calls once per cycle in which anything was released or freed, after all of that
cycle's completions and releases. It acts only through its :class:`~octopus.sim.machine.Machine`
(``dispatch``, ``preload``, ``prestage``) and decides where Control Blocks are evaluated.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from octopus.sim.machine import Machine
from octopus.sim.state import InstanceRun, Task
from octopus.workflow import Workflow

__all__ = ["Scheduler", "SchedulerConfig"]


class SchedulerConfig(BaseModel):
    """Parameters of a scheduler. Each scheduler's config subclasses this, narrows ``name`` to
    its registered name (``name: Literal["greedy"] = "greedy"``) and adds fields (with units in
    their names); ``name`` discriminates the configs (see ``octopus.sched.registry``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="the registered scheduler these parameters are for")


class Scheduler:
    """Base class. Subclasses set ``config_cls`` and implement ``on_ready`` and ``decide``.

    Attributes:
        config: the validated parameters.
        machine: the hardware it places work on.
        workflow: the workflow being run (for static analysis such as expected demand).
        stats: counters reported in the run summary (``decisions`` and ``migrations`` always).
    """

    name: ClassVar[str] = ""
    config_cls: ClassVar[type[SchedulerConfig]] = SchedulerConfig

    def __init__(self, config: SchedulerConfig, machine: Machine, workflow: Workflow):
        self.config = config
        self.machine = machine
        self.workflow = workflow
        self.topology = machine.topology
        self.stats: dict[str, int] = {"decisions": 0, "migrations": 0}

    def on_start(self) -> None:
        """Cycle 0, before any arrival: set up static state (e.g. install configurations)."""

    def on_arrival(self, run: InstanceRun) -> None:
        """An instance arrived; by default it is homed on clusters round-robin."""
        run.site = run.index % self.topology.num_clusters

    def on_ready(self, task: Task) -> None:
        """``task``'s predecessors are done; queue it for :meth:`decide`."""
        raise NotImplementedError

    def on_reveal(self, run: InstanceRun, control: int, revealed: list[int]) -> None:
        """Control firing ``control`` decided; ``revealed`` are the firings it created (for a
        loop decided per iteration: one iteration's firings and the next decision)."""

    def on_task_done(self, task: Task) -> None:
        """``task`` finished on ``task.tbu`` (which is idle again)."""

    def on_tbu_idle(self, tbu: int) -> None:
        """``tbu`` became idle after a pre-load (it held no firing)."""

    def on_instance_done(self, run: InstanceRun) -> None:
        """Every firing of ``run`` has finished."""

    def decide(self) -> None:
        """Place queued work on idle TBUs through ``self.machine``."""
        raise NotImplementedError

    def control_site(self, run: InstanceRun, control: int) -> int:
        """Where Control Block firing ``control`` is evaluated: a cluster id (its CBU) or
        ``octopus.sim.state.HOST``. By default the instance's home cluster."""
        return run.site

    def dispatch(self, task: Task, tbu: int) -> None:
        """Place ``task`` on ``tbu`` and count the decision."""
        self.stats["decisions"] += 1
        self.machine.dispatch(task, tbu)
