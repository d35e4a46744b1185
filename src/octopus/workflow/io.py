"""Workflow files: parse a mapping, load and save YAML (the format of ``docs/workflow-format.md``).

Pure data: a ``torch_model`` block stays unresolved here (its ``work`` may be ``None``); a run
fills it from the model's costs (:func:`octopus.run.resolve_workflow`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from octopus.errors import InputError, load_yaml_mapping, raise_all, validation_messages
from octopus.workflow.limits import check_limits
from octopus.workflow.model import Workflow
from octopus.workflow.structure import compile_workflow

__all__ = ["load_workflow", "parse_workflow", "save_workflow", "workflow_to_dict"]


def parse_workflow(data: dict[str, Any], source: str | Path | None = None) -> Workflow:
    """Validate a workflow mapping (as read from YAML) into a structured, checked ``Workflow``.

    Raises:
        InputError: naming ``source``, the block and the problem; :class:`~octopus.errors.
            InputErrors` when there are several (every field problem, or every problem of the
            first structural check that fails); a size over a limit of
            :mod:`octopus.workflow.limits`.
    """
    try:
        wf = Workflow.model_validate(data)
    except ValidationError as exc:
        raise_all([InputError(source, *_locate(loc, problem, data))
                   for loc, problem in validation_messages(exc)])
    check_limits(wf, compile_workflow(wf, source), source)
    return wf


def load_workflow(path: str | Path) -> Workflow:
    """Load and check a workflow YAML file (see :func:`parse_workflow`)."""
    return parse_workflow(load_yaml_mapping(path), source=path)


def save_workflow(wf: Workflow, path: str | Path) -> None:
    """Write ``wf`` as YAML that :func:`load_workflow` reads back to an equal model."""
    text = yaml.safe_dump(workflow_to_dict(wf), sort_keys=False, width=100)
    tmp = Path(path).with_suffix(Path(path).suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def workflow_to_dict(wf: Workflow) -> dict[str, Any]:
    """Plain-data form of ``wf`` (the YAML format), leaving out unset optional fields."""
    return wf.model_dump(mode="json", by_alias=True, exclude_none=True)


def _locate(field: str, problem: str, data: dict[str, Any]) -> tuple[str, str]:
    """Rewrite ``blocks.3.work.cv`` as ``block 'detect': work.cv`` for the error message."""
    parts = field.split(".")
    blocks = data.get("blocks")
    if parts[0] == "blocks" and len(parts) > 1 and parts[1].isdigit() and isinstance(blocks, list):
        raw = blocks[int(parts[1])]
        name = raw.get("id", f"#{parts[1]}") if isinstance(raw, dict) else f"#{parts[1]}"
        # Drop the union tag pydantic inserts (e.g. "task") after the index.
        rest = parts[3:] if len(parts) > 2 and parts[2] in _TYPES else parts[2:]
        rest = [p for p in rest if p not in _DISTS]
        return f"block '{name}'" + (f": {'.'.join(rest)}" if rest else ""), problem
    return field, problem


_TYPES = {"task", "branch", "merge", "loop", "fanout"}
_DISTS = {"constant", "uniform", "normal", "lognormal", "poisson", "geometric", "empirical"}
