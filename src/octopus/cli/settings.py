"""Settings from the command line: options plus ``--set KEY=VALUE`` into a run spec, with
errors that name the option or the ``--set`` key the user typed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import ValidationError

from octopus.errors import InputError, raise_all, validation_message
from octopus.experiments.sweep import parse_assignments, spec_fields
from octopus.run import RunSpec

__all__ = ["FLAGS", "SET_KEYS", "build_spec", "with_set_names"]

FLAGS = {"workflow": "--workflow", "arch": "--arch", "scheduler": "--scheduler",
         "instances": "--instances", "seed": "--seed", "rate_per_s": "--rate",
         "sram_policy": "--sram-policy"}
"""The option that sets each run spec field."""
SET_KEYS = ("instances", "seed", "rate_per_s", "arrival_cv", "slo_cycles", "warmup_instances",
            "dynamicity_cv")
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


def with_set_names(run: Callable[[], T], given: Iterable[str] = ()) -> T:
    """Call ``run()``; an architecture override it rejects is named as its ``--set`` key, a
    spec field (e.g. ``instances`` over the run size limit) as its option, or as its ``--set``
    key when ``given`` holds it."""
    try:
        return run()
    except InputError as exc:
        raise_all([_renamed(p, set(given)) for p in exc.problems])
        raise  # not reached: raise_all raises


def _renamed(problem: InputError, given: set[str]) -> InputError:
    """``problem`` with its field named as the user gave it (``--set KEY`` or ``--option``)."""
    if problem.source == "overrides":
        return InputError(None, f"--set arch.{problem.where}", problem.problem)
    if problem.source is None and problem.where in given:
        return InputError(None, f"--set {problem.where}", problem.problem)
    if problem.source is None and problem.where in FLAGS:
        return InputError(None, FLAGS[problem.where], problem.problem)
    return problem
