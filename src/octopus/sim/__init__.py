"""The event-driven simulator: event core, NoC, machine state, instance life cycle, outputs.

The simulator knows schedulers only through :class:`~octopus.sim.simulator.SchedulerHooks`;
compose a run with :func:`octopus.experiments.run.run_once`.
"""

from octopus.sim.core import COMPLETION, DECISION, RELEASE, EventCore
from octopus.sim.machine import Machine
from octopus.sim.noc import Noc
from octopus.sim.simulator import SchedulerHooks, Simulator, poisson_arrivals
from octopus.sim.trace import ChromeTraceWriter

__all__ = [
    "COMPLETION",
    "DECISION",
    "RELEASE",
    "ChromeTraceWriter",
    "EventCore",
    "Machine",
    "Noc",
    "SchedulerHooks",
    "Simulator",
    "poisson_arrivals",
]
