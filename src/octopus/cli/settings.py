"""Settings from the command line: options plus ``--set KEY=VALUE`` into a run spec, with
errors that name the option or the ``--set`` key the user typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ValidationError

from octopus.errors import InputError, validation_message
from octopus.experiments.sweep import parse_assignments, spec_fields
from octopus.run import RunSpec

__all__ = ["FLAGS", "SET_KEYS", "build_spec", "with_set_names"]

FLAGS = {"workflow": "--workflow", "arch": "--arch", "scheduler": "--scheduler",
         "instances": "--instances", "seed": "--seed", "rate_per_s": "--rate",
         "sram_policy": "--sram-policy"}
"""The option that sets each run spec field."""
SET_KEYS = ("instances", "seed", "rate_per_s", "dynamicity_cv")
"""The plain run spec fields ``--set`` may change (besides ``arch.*`` and ``scheduler.*``)."""
T = TypeVar("T")


def build_spec(options: dict[str, Any], assignments: list[str]) -> RunSpec:
    """The run spec of a command's options and ``--set`` assignments (which win).

    Raises:
        InputError: naming the option (``--rate``) or the ``--set`` key that is wrong.
    """
    given = parse_assignments(assignments, "--set")
    spec_fields(given, "--set", allowed=SET_KEYS)  # rejects keys --set may not change
    fields = spec_fields(options | given)
    try:
        return RunSpec(**fields)
    except ValidationError as exc:
        field, problem = validation_message(exc)
        where = f"--set {field}" if field in given else FLAGS.get(field.split(".")[0], field)
        raise InputError(None, where, problem) from None


def with_set_names(run: Callable[[], T]) -> T:
    """Call ``run()``; an architecture override it rejects is named as its ``--set`` key."""
    try:
        return run()
    except InputError as exc:
        if exc.source != "overrides":
            raise
        raise InputError(None, f"--set arch.{exc.where}", exc.problem) from None
