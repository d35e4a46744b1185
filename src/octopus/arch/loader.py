"""Load an :class:`ArchConfig` from a shipped preset or a YAML file, with dotted overrides.

Presets are the ``*.yaml`` files in ``octopus/arch/presets``; each documents where its numbers
come from. Every failure is an :class:`octopus.errors.InputError` naming the file, the dotted
field path and the problem.

Example::

    >>> from octopus.arch import load_arch
    >>> load_arch("chip-4", {"cluster.tbus_x": 8}).cluster.tbus_x
    8
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from octopus.arch.config import ArchConfig
from octopus.errors import InputError, load_yaml_mapping, validation_message

__all__ = ["PRESET_DIR", "apply_overrides", "list_presets", "load_arch"]

PRESET_DIR = Path(__file__).parent / "presets"
_YAML_SUFFIXES = (".yaml", ".yml")


def list_presets() -> list[str]:
    """Names of the shipped presets, sorted (e.g. ``['chip', 'chip-4', 'wafer']``)."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load_arch(name_or_path: str | Path, overrides: Mapping[str, Any] | None = None) -> ArchConfig:
    """Load and validate an architecture.

    Args:
        name_or_path: a preset name from :func:`list_presets`, or the path of a YAML file. A
            ``Path``, or a string with a ``.yaml``/``.yml`` suffix or a path separator, is a file.
        overrides: dotted keys to values, e.g. ``{"cluster.tbus_x": 8}``, applied to the raw
            mapping before validation, so values are checked (and coerced: ``"8"`` becomes ``8``)
            exactly like YAML values.

    Raises:
        InputError: unknown preset, unreadable file or YAML, an unknown override key, or a value
            that fails validation (unknown fields included).
    """
    path = _resolve(name_or_path)
    data = load_yaml_mapping(path)
    overrides = dict(overrides or {})
    data = apply_overrides(data, overrides)
    try:
        return ArchConfig.model_validate(data)
    except ValidationError as exc:
        where, problem = validation_message(exc)
        if where in overrides:  # the override is wrong, not the file
            raise InputError("overrides", where,
                             f"{problem} (got {overrides[where]!r})") from None
        if where == "<root>":  # a rule over several fields (the machine's size)
            where = f"with overrides {', '.join(overrides)}" if overrides else None
        raise InputError(path, where, problem) from None


def apply_overrides(data: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Return a deep copy of ``data`` with each dotted key of ``overrides`` set to its value.

    Keys are checked against the fields of :class:`ArchConfig` (not against ``data``), so a
    field a file leaves to its default can still be overridden. ``data`` is not mutated.

    Raises:
        InputError: a key names no field, or passes through a value that is not a mapping.
    """
    out = copy.deepcopy(dict(data))
    for key, value in overrides.items():
        parts = _check_key(key)
        node = out
        for i, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                where = ".".join(parts[: i + 1])
                raise InputError("overrides", key, f"'{where}' is not a mapping in the input")
            node = child
        node[parts[-1]] = value
    return out


def _check_key(key: str) -> list[str]:
    """Split a dotted override key and check every part names a field; return the parts."""
    parts = str(key).split(".")
    model: type[BaseModel] | None = ArchConfig
    for i, part in enumerate(parts):
        if model is None:
            where = ".".join(parts[:i])
            raise InputError("overrides", key, f"'{where}' has no sub-fields")
        fields = model.model_fields
        if part not in fields:
            valid = ", ".join(fields)
            raise InputError("overrides", key, f"unknown field '{part}' (valid: {valid})")
        ann = fields[part].annotation
        model = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
    return parts


def _resolve(name_or_path: str | Path) -> Path:
    """Map a preset name or a file name to the path of a YAML file (existence checked later)."""
    if isinstance(name_or_path, Path):
        return name_or_path
    text = str(name_or_path)
    if text.endswith(_YAML_SUFFIXES) or "/" in text or "\\" in text:
        return Path(text)
    if text in list_presets():
        return PRESET_DIR / f"{text}.yaml"
    presets = ", ".join(list_presets())
    raise InputError(
        None, None, f"unknown architecture '{text}' (presets: {presets}; or a .yaml file path)"
    )
