"""Schedulers, found by name: ``scheduler_factory("greedy")``.

Importing this package registers the built-in schedulers. A new scheduler is one file: a
:class:`Scheduler` subclass with its config, decorated with ``@register_scheduler("name")``.
"""

from octopus.sched import greedy, octopus, reactive, static  # noqa: F401  (register the built-ins)
from octopus.sched.base import Scheduler, SchedulerConfig
from octopus.sched.registry import (
    register_scheduler,
    scheduler_class,
    scheduler_factory,
    scheduler_names,
)

__all__ = [
    "Scheduler",
    "SchedulerConfig",
    "register_scheduler",
    "scheduler_class",
    "scheduler_factory",
    "scheduler_names",
]
