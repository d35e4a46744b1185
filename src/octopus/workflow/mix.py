"""A workload mix: several workflows sharing one machine, as one workflow.

:func:`mix_workflow` joins workflows under a root branch that picks one per instance with the
given weights (normalised to probabilities). Every block keeps its definition, its id prefixed
with its workflow's name (``face-recognition.detect``), so per-block statistics stay apart and
the simulator needs nothing new: an instance of the mix *is* an instance of the workflow its
branch chose, plus the branch's one Control Block evaluation. A workflow whose top level has
several first blocks runs inside a loop of one iteration (a branch path starts at one block).

By name (:func:`find_mix`; :func:`octopus.workflow.find_workflow` accepts the same names):
``mix`` is every built-in with equal weight; ``mix:face-recognition=2,llm-agent=1`` names the
built-ins and their weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from octopus.errors import InputError
from octopus.workflow.io import parse_workflow, workflow_to_dict
from octopus.workflow.model import Workflow
from octopus.workflow.structure import BranchItem, compile_workflow

__all__ = ["MIX_NAME", "find_mix", "is_mix_name", "mix_workflow"]

MIX_NAME = "mix"
"""The name of the mix of every built-in, and the prefix (``mix:``) of a weighted one."""
_PICK, _DONE = "mix_pick", "mix_done"


def is_mix_name(name: str) -> bool:
    """Whether ``name`` names a mix (``mix`` or ``mix:...``)."""
    return name == MIX_NAME or name.startswith(MIX_NAME + ":")


def mix_workflow(parts: Sequence[tuple[Workflow, float]], name: str = MIX_NAME) -> Workflow:
    """One workflow whose instances are instances of ``parts``' workflows, each chosen with
    probability ``weight / sum of weights`` (see the module doc).

    Raises:
        InputError: no parts, a weight that is not a positive finite number, or two parts of
            the same name.
    """
    if not parts:
        raise InputError(None, "mix", "no workflows to mix")
    names = [wf.name for wf, _ in parts]
    for wf, weight in parts:
        if not (isinstance(weight, int | float) and math.isfinite(weight) and weight > 0):
            raise InputError(None, "mix", f"weight of '{wf.name}' must be a positive number, "
                                          f"got {weight!r}")
        if names.count(wf.name) > 1:
            raise InputError(None, "mix", f"'{wf.name}' named twice")
    total = math.fsum(w for _, w in parts)
    blocks: list[dict[str, Any]] = [{"id": _PICK, "type": "branch", "merge": _DONE, "paths": {}}]
    flows: list[list[str]] = []
    for wf, weight in parts:
        head = _add(wf, blocks, flows)
        blocks[0]["paths"][head] = weight / total
    blocks.append({"id": _DONE, "type": "merge"})
    description = "mix of " + ", ".join(f"{wf.name} ({w / total:.3g})" for wf, w in parts)
    return parse_workflow({"name": name, "description": description, "blocks": blocks,
                           "flows": flows}, source=f"<mix {name}>")


def _add(wf: Workflow, blocks: list[dict[str, Any]], flows: list[list[str]]) -> str:
    """Append ``wf``'s blocks and flows, prefixed, ending in the mix's merge; returns the id of
    its path's first block."""
    prefix = f"{wf.name}."

    def rename(block_id: str) -> str:
        return prefix + block_id

    for doc in workflow_to_dict(wf)["blocks"]:
        doc["id"] = rename(doc["id"])
        if doc["type"] == "branch":
            doc["merge"] = rename(doc["merge"])
            doc["paths"] = {rename(h): p for h, p in doc["paths"].items()}
        elif doc["type"] in ("loop", "fanout"):
            doc["body"] = [rename(b) for b in doc["body"]]
        blocks.append(doc)
    flows.extend([rename(a), rename(b)] for a, b in wf.edges)
    top = compile_workflow(wf)
    firsts = [top.items[i].block.id for i, preds in enumerate(top.preds) if not preds]
    lasts = [_exit(top.items[i]) for i in top.sinks]
    if len(firsts) == 1:
        flows.extend([rename(x), _DONE] for x in lasts)
        return rename(firsts[0])
    wrapper = prefix + "mix_once"  # several first blocks: a path starts at one
    blocks.append({"id": wrapper, "type": "loop", "count": {"dist": "constant", "value": 1},
                   "body": [rename(b.id) for b in wf.blocks]})
    flows.append([wrapper, _DONE])
    return wrapper


def _exit(item: Any) -> str:
    """The block a flow leaves ``item`` from: a branch's merge, else the item's block."""
    return item.block.merge if isinstance(item, BranchItem) else item.block.id


def find_mix(name: str, load: Any, default_names: Sequence[str]) -> Workflow:
    """The mix ``name`` names (module doc): ``load(name)`` gives each workflow, and ``mix``
    alone takes ``default_names`` with equal weights.

    Raises:
        InputError: a malformed weight list (naming ``workflow``) or an unknown workflow.
    """
    if name == MIX_NAME:
        return mix_workflow([(load(n), 1.0) for n in default_names], name)
    parts = []
    for item in name.removeprefix(MIX_NAME + ":").split(","):
        part, sep, weight = item.partition("=")
        try:
            value = float(weight) if sep else 1.0
        except ValueError:
            value = math.nan
        if not part.strip() or not math.isfinite(value) or value <= 0:
            raise InputError(None, "workflow", f"'{name}': expected mix:NAME=WEIGHT,... with "
                                               f"positive weights, got '{item}'")
        parts.append((load(part.strip()), value))
    return mix_workflow(parts, name)

