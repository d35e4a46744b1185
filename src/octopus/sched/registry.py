"""Schedulers by name: ``@register_scheduler("name")`` on the class is all a new one needs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from octopus.errors import InputError, validation_message
from octopus.sched.base import Scheduler

__all__ = ["register_scheduler", "scheduler_class", "scheduler_factory", "scheduler_names"]

_REGISTRY: dict[str, type[Scheduler]] = {}


def register_scheduler(name: str) -> Callable[[type[Scheduler]], type[Scheduler]]:
    """Class decorator adding a scheduler under ``name``.

    Raises:
        ValueError: ``name`` is already taken.
    """

    def add(cls: type[Scheduler]) -> type[Scheduler]:
        if name in _REGISTRY:
            raise ValueError(f"scheduler name {name!r} is already registered")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return add


def scheduler_names() -> list[str]:
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


def scheduler_factory(name: str, params: Mapping[str, Any] | None = None,
                      source: str | None = None):
    """A factory ``(machine, workflow) -> scheduler`` with validated ``params``.

    Raises:
        InputError: unknown scheduler, or parameters its config rejects.
    """
    cls = scheduler_class(name)
    try:
        config = cls.config_cls.model_validate(dict(params or {}))
    except ValidationError as exc:
        field, problem = validation_message(exc)
        raise InputError(source, f"scheduler '{name}': {field}", problem) from None
    return lambda machine, workflow: cls(config, machine, workflow)
