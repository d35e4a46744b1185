"""User-facing input errors shared by every loader.

A loader that rejects input raises :class:`InputError`; the CLI prints its one-line message and
exits with code 2. A loader that finds several independent problems raises them together as
:class:`InputErrors` (one line each). Nothing else in the package catches them, so library users
get the exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["InputError", "InputErrors", "load_yaml_mapping", "parse_yaml_value", "raise_all",
           "validation_message", "validation_messages"]


class InputError(ValueError):
    """Bad user input: ``str(error)`` is one line naming the source, the field and the problem."""

    def __init__(self, source: str | Path | None, where: str | None, problem: str):
        self.source = str(source) if source is not None else None
        self.where = where
        self.problem = problem
        parts = [p for p in (self.source, where) if p]
        super().__init__(": ".join([*parts, problem]))

    @property
    def problems(self) -> tuple[InputError, ...]:
        """Every problem this error reports, one line each (here: itself)."""
        return (self,)


class InputErrors(InputError):
    """Several independent problems found in one input; ``str(error)`` has one line each.

    Its ``source``, ``where`` and ``problem`` are the first problem's."""

    def __init__(self, problems: Sequence[InputError]):
        if not problems:
            raise ValueError("InputErrors needs at least one problem")
        self._problems = tuple(p for e in problems for p in e.problems)
        first = self._problems[0]
        super().__init__(first.source, first.where, first.problem)

    @property
    def problems(self) -> tuple[InputError, ...]:
        return self._problems

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self._problems)


def raise_all(problems: Sequence[InputError]) -> None:
    """Raise the one problem, or all of them as :class:`InputErrors`; nothing when empty."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InputErrors(problems)


def load_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML file whose top level is a mapping.

    Raises:
        InputError: the file is missing, unreadable, not YAML, or not a mapping.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(path, None, f"cannot read file ({exc.strerror})") from None
    try:
        data = yaml.load(text, Loader=_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise InputError(path, where, f"not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if not isinstance(data, dict):
        raise InputError(path, None, "expected a mapping at the top level")
    return data


def parse_yaml_value(text: str) -> Any:
    """Read one value (e.g. from ``--set key=value``) with the same rules as config files.

    Raises:
        yaml.YAMLError: ``text`` is not YAML.
    """
    return yaml.load(text, Loader=_loader())


@cache
def _loader() -> type:
    """A safe loader that reads YAML 1.2 floats: ``4.0e9`` and ``1e-3`` are numbers, not strings
    (PyYAML's YAML 1.1 rules need a dot and a signed exponent)."""
    import re

    class Loader(yaml.SafeLoader):
        pass

    exponent = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")
    Loader.add_implicit_resolver("tag:yaml.org,2002:float", exponent, list("-+0123456789."))
    return Loader


def validation_message(exc: Any) -> tuple[str, str]:
    """Turn a pydantic ``ValidationError`` into ``(field path, problem)`` for its most telling
    error: an unknown field (a typo explains the "missing" errors it causes) or else the first."""
    errors = exc.errors()
    first = next((e for e in errors if e.get("type") == "extra_forbidden"), errors[0])
    return _described(first)


def validation_messages(exc: Any) -> list[tuple[str, str]]:
    """Every error of a pydantic ``ValidationError`` as ``(field path, problem)``, except a
    missing field beside an unknown one in the same mapping (the typo explains it)."""
    errors = exc.errors()
    typo_parents = {tuple(e["loc"][:-1]) for e in errors if e.get("type") == "extra_forbidden"}
    return [_described(e) for e in errors
            if not (e.get("type") == "missing" and tuple(e["loc"][:-1]) in typo_parents)]


def _described(error: dict[str, Any]) -> tuple[str, str]:
    loc = ".".join(str(p) for p in error.get("loc", ()) if not str(p).startswith("function-"))
    msg = error.get("msg", "invalid value")
    if error.get("type") == "extra_forbidden":
        msg = "unknown field (check the spelling)"
    return loc or "<root>", msg.removeprefix("Value error, ")
