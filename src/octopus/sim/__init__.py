"""The event-driven simulator: event core, NoC, machine state, instance life cycle, recorders.

The simulator knows schedulers only through :class:`~octopus.sim.simulator.SchedulerHooks`;
compose a run with :mod:`octopus.run`.
"""

from octopus.sim.core import COMPLETION, DECISION, RELEASE, EventCore
from octopus.sim.machine import Machine
from octopus.sim.noc import Noc
from octopus.sim.recorder import NULL_RECORDER, NullRecorder, Recorder
from octopus.sim.simulator import BUCKETS, SchedulerHooks, Simulator, poisson_arrivals
from octopus.sim.timeline import TimelineRecorder
from octopus.sim.trace import ChromeTraceWriter

__all__ = [
    "BUCKETS",
    "COMPLETION",
    "DECISION",
    "NULL_RECORDER",
    "RELEASE",
    "ChromeTraceWriter",
    "EventCore",
    "Machine",
    "Noc",
    "NullRecorder",
    "Recorder",
    "SchedulerHooks",
    "Simulator",
    "TimelineRecorder",
    "poisson_arrivals",
]
