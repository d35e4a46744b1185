"""Schedulers, found by name: ``scheduler_factory("greedy")`` or
``scheduler_factory({"name": "octopus", "dual": False})``.

Importing this package registers the built-in schedulers. A new scheduler is one file: a
:class:`Scheduler` subclass with its config (``name: Literal["mine"] = "mine"``), decorated with
``@register_scheduler("mine")``.
"""

from octopus.sched import (  # noqa: F401  (register the built-ins)
    affinity,
    clairvoyant,
    greedy,
    locality,
    octopus,
    reactive,
    static,
)
from octopus.sched.base import Scheduler, SchedulerConfig
from octopus.sched.registry import (
    SchedulerChoice,
    parse_scheduler_config,
    register_scheduler,
    scheduler_class,
    scheduler_config,
    scheduler_factory,
    scheduler_names,
)

__all__ = [
    "Scheduler",
    "SchedulerChoice",
    "SchedulerConfig",
    "parse_scheduler_config",
    "register_scheduler",
    "scheduler_class",
    "scheduler_config",
    "scheduler_factory",
    "scheduler_names",
]
