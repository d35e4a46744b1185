"""User-facing input errors shared by every loader.

A loader that rejects input raises :class:`InputError`; the CLI prints its one-line message and
exits with code 2. Nothing else in the package catches it, so library users get the exception.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["InputError", "load_yaml_mapping", "parse_yaml_value", "validation_message"]


class InputError(ValueError):
    """Bad user input: ``str(error)`` is one line naming the source, the field and the problem."""

    def __init__(self, source: str | Path | None, where: str | None, problem: str):
        self.source = str(source) if source is not None else None
        self.where = where
        self.problem = problem
        parts = [p for p in (self.source, where) if p]
        super().__init__(": ".join([*parts, problem]))


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
    loc = ".".join(str(p) for p in first.get("loc", ()) if not str(p).startswith("function-"))
    msg = first.get("msg", "invalid value")
    if first.get("type") == "extra_forbidden":
        msg = "unknown field (check the spelling)"
    msg = msg.removeprefix("Value error, ")
    return loc or "<root>", msg
