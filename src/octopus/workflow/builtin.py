"""The built-in workflow library (YAML files shipped in ``octopus/workflow/builtins``), and
finding a workflow by a name (a built-in or a mix of built-ins, :mod:`octopus.workflow.mix`) or
a path."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from octopus.errors import InputError
from octopus.workflow.io import load_workflow
from octopus.workflow.mix import find_mix, is_mix_name
from octopus.workflow.model import Workflow

__all__ = ["builtin_names", "find_workflow", "load_builtin"]


def _dir() -> Path:
    return Path(str(resources.files("octopus.workflow") / "builtins"))


def builtin_names() -> list[str]:
    """Names of the built-in workflows, sorted."""
    return sorted(p.stem for p in _dir().glob("*.yaml"))


@cache
def load_builtin(name: str) -> Workflow:
    """The built-in workflow ``name``.

    Raises:
        InputError: no built-in has that name (the message lists them).
    """
    path = _dir() / f"{name}.yaml"
    if not path.is_file():
        raise InputError(None, f"workflow '{name}'",
                         f"no such built-in (choose from: {', '.join(builtin_names())})")
    return load_workflow(path)


def find_workflow(name_or_path: str | Path) -> Workflow:
    """A built-in by name, a mix of built-ins (``mix``, ``mix:NAME=WEIGHT,...``), or a workflow
    YAML file by path (checked, torch blocks unresolved).

    Raises:
        InputError: no such built-in, a malformed mix, or a bad file.
    """
    text = str(name_or_path)
    if text in builtin_names():
        return load_builtin(text)
    if is_mix_name(text):
        return find_mix(text, load_builtin, builtin_names())
    if text.endswith((".yaml", ".yml")) or Path(text).exists():
        return load_workflow(text)
    return load_builtin(text)
