"""Schedulers by name: ``@register_scheduler("name")`` on the class is all a new one needs.

A scheduler's parameters are its config (a :class:`~octopus.sched.base.SchedulerConfig`
subclass whose ``name`` is the registered name), so the configs form a union discriminated by
``name`` over this registry: :func:`scheduler_config` turns a name, a mapping with a ``name``
or a config into the validated config, and :func:`scheduler_factory` into the factory the
simulator takes. Schedulers registered later (a user's own file) join the union.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from octopus.errors import InputError, validation_message
from octopus.sched.base import Scheduler, SchedulerConfig
from octopus.sim.simulator import SchedulerFactory

__all__ = ["SchedulerChoice", "parse_scheduler_config", "register_scheduler", "scheduler_class",
           "scheduler_config", "scheduler_factory", "scheduler_names"]

SchedulerChoice = str | Mapping[str, Any] | SchedulerConfig
"""A scheduler as a user names it: its name (default parameters), a mapping of ``name`` and
parameters, or a config."""

_REGISTRY: dict[str, type[Scheduler]] = {}


def register_scheduler(name: str) -> Callable[[type[Scheduler]], type[Scheduler]]:
    """Class decorator adding a scheduler under ``name``.

    Raises:
        ValueError: ``name`` is already taken, or the class's ``config_cls`` does not default
            its ``name`` to ``name``.
    """

    def add(cls: type[Scheduler]) -> type[Scheduler]:
        if name in _REGISTRY:
            raise ValueError(f"scheduler name {name!r} is already registered")
        declared = cls.config_cls.model_fields["name"].default
        if declared != name:
            raise ValueError(f"{cls.config_cls.__name__}.name defaults to {declared!r}, not "
                             f"{name!r}: declare name: Literal[{name!r}] = {name!r}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return add


def scheduler_names() -> list[str]:
    """Registered scheduler names, sorted."""
    return sorted(_REGISTRY)


def scheduler_class(name: str) -> type[Scheduler]:
    """The class registered as ``name``.

    Raises:
        InputError: unknown name (the message lists the valid ones).
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InputError(None, f"scheduler '{name}'",
                         f"unknown (choose from: {', '.join(scheduler_names())})") from None


def parse_scheduler_config(choice: SchedulerChoice) -> SchedulerConfig:
    """The config ``choice`` names (see :data:`SchedulerChoice`); for pydantic validators.

    Raises:
        ValueError: no ``name``, or an unknown one (the message lists the valid ones).
        pydantic.ValidationError: parameters the scheduler's config rejects.
    """
    if isinstance(choice, SchedulerConfig):
        return choice
    fields = {"name": choice} if isinstance(choice, str) else dict(choice)
    name = fields.get("name")
    if name not in _REGISTRY:
        raise ValueError(f"unknown scheduler {name!r} (choose from: "
                         f"{', '.join(scheduler_names())})")
    return _REGISTRY[name].config_cls.model_validate(fields)


def scheduler_config(choice: SchedulerChoice, source: str | None = None) -> SchedulerConfig:
    """:func:`parse_scheduler_config`, with input errors as :class:`InputError`.

    Raises:
        InputError: unknown scheduler, or parameters its config rejects (naming ``source``).
    """
    try:
        return parse_scheduler_config(choice)
    except ValidationError as exc:
        field, problem = validation_message(exc)
        name = choice if isinstance(choice, str) else dict(choice).get("name")
        raise InputError(source, f"scheduler '{name}': {field}", problem) from None
    except ValueError as exc:
        raise InputError(source, "scheduler", str(exc)) from None


def scheduler_factory(choice: SchedulerChoice, source: str | None = None) -> SchedulerFactory:
    """The factory ``(machine, workflow) -> scheduler`` for ``choice``.

    Raises:
        InputError: see :func:`scheduler_config`.
    """
    config = scheduler_config(choice, source)
    cls = _REGISTRY[config.name]
    return lambda machine, workflow: cls(config, machine, workflow)
