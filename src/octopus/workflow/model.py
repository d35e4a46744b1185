"""The Orchestrated Workflow Graph as data: blocks, flows, and the workflow document.

A workflow is a list of blocks and a list of Task Flows (directed edges between block ids).

- ``task``: a Task Block, ``kind: ai`` (work in MACs) or ``kind: general`` (work in operations),
  with bytes in, bytes out and a configuration footprint per firing.
- ``branch``: exactly one of its ``paths`` runs, chosen by probability; each path starts at the
  block it names (or is empty when it names the merge) and ends in the ``merge`` block.
- ``merge``: where a branch's paths re-join.
- ``loop``: its ``body`` (a sub-graph) runs ``count`` times in sequence.
- ``fanout``: its ``body`` runs ``count`` times in parallel; an implicit join waits for all copies.

These classes check each block on its own (types, ranges, unknown fields). Whether the blocks
form a well-structured graph is checked by :func:`octopus.workflow.structure.compile_workflow`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from octopus.errors import InputError, load_yaml_mapping, validation_message
from octopus.workflow.distributions import Distribution

__all__ = [
    "Block",
    "BranchBlock",
    "FanoutBlock",
    "LoopBlock",
    "MergeBlock",
    "TaskBlock",
    "TorchModel",
    "Workflow",
    "load_workflow",
    "parse_workflow",
    "save_workflow",
]

Dtype = Literal["float32", "float16", "bfloat16"]
DTYPES: tuple[str, ...] = get_args(Dtype)
"""The dtypes a ``torch_model`` block may run in (weights and activations)."""

_ID = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$", description="unique block id")


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    id: Annotated[str, _ID]


class TorchModel(BaseModel):
    """A model ``octopus.cost`` knows, at one input shape: the Task Block runs its forward pass."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, description="registered model (see docs/cost-model.md)")
    input_shape: list[Annotated[int, Field(ge=1)]] = Field(
        min_length=1, description="input shape; its meaning is per model (e.g. [batch, tokens])")
    dtype: Dtype = Field(
        default="float32", description="dtype of weights and activations")


class TaskBlock(_Block):
    """A unit of computation that runs on one TBU per firing.

    With ``torch_model``, unset ``work``, ``config_bytes``, ``output_bytes`` and ``model`` come
    from the model's costs when the workflow is parsed (:func:`octopus.cost.resolve_torch_blocks`,
    which imports torch only then), and the simulator times its firings with the model's roofline
    and SRAM fit.
    """

    type: Literal["task"] = "task"
    kind: Literal["ai", "general"] = Field(description="ai: work in MACs; general: operations")
    work: Distribution | None = Field(
        default=None,
        description="work per firing (MACs for ai, operations for general); required unless "
        "torch_model is given")
    input_bytes: int = Field(
        default=0, ge=0, description="bytes read from off-chip memory per firing (source data)"
    )
    output_bytes: int = Field(
        default=0, ge=0, description="bytes produced per firing and sent to each consumer"
    )
    config_bytes: int = Field(
        default=0, ge=0, description="program + weights that must be resident on the TBU"
    )
    model: str | None = Field(
        default=None, description="optional note: the model family the work figures come from"
    )
    torch_model: TorchModel | None = Field(
        default=None, description="an ai block defined by a known torch model at an input shape")

    @model_validator(mode="after")
    def _work_or_model(self) -> TaskBlock:
        if self.torch_model is not None and self.kind != "ai":
            raise ValueError("torch_model needs kind: ai")
        if self.work is None and self.torch_model is None:
            raise ValueError("work is required (or give torch_model)")
        return self


class BranchBlock(_Block):
    """Exactly one path runs; ``paths`` maps each path's first block (or the merge) to its
    probability."""

    type: Literal["branch"] = "branch"
    merge: str = Field(description="id of the merge block where the paths re-join")
    paths: dict[str, Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]] = Field(
        min_length=1, description="first block of each path -> probability (sum 1)"
    )

    @field_validator("paths")
    @classmethod
    def _sums_to_one(cls, paths: dict[str, float]) -> dict[str, float]:
        total = sum(paths.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"path probabilities sum to {total:.12g}, not 1")
        return paths


class MergeBlock(_Block):
    """The point where a branch's paths re-join (costs nothing)."""

    type: Literal["merge"] = "merge"


class LoopBlock(_Block):
    """Runs ``body`` ``count`` times in sequence, then continues to its successors."""

    type: Literal["loop"] = "loop"
    count: Distribution = Field(description="iterations per execution (rounded to an integer)")
    body: list[str] = Field(min_length=1, description="ids of the blocks inside the loop")


class FanoutBlock(_Block):
    """Runs ``count`` copies of ``body`` in parallel and joins them."""

    type: Literal["fanout"] = "fanout"
    count: Distribution = Field(description="copies per execution (rounded to an integer)")
    body: list[str] = Field(min_length=1, description="ids of the blocks in each copy")


Block = Annotated[
    TaskBlock | BranchBlock | MergeBlock | LoopBlock | FanoutBlock, Field(discriminator="type")
]
ControlBlock = BranchBlock | LoopBlock | FanoutBlock


class Workflow(BaseModel):
    """A workflow document: blocks and the Task Flows between them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="workflow name")
    description: str = Field(default="", description="what the workflow models")
    blocks: list[Block] = Field(description="Task Blocks and Control Blocks")
    flows: list[Annotated[list[str], Field(min_length=2)]] = Field(
        default_factory=list,
        description="Task Flows: each entry is a chain of block ids, [a, b] meaning a -> b",
    )

    @field_validator("flows")
    @classmethod
    def _as_pairs(cls, flows: list[list[str]]) -> list[list[str]]:
        """Normalise chains ``[a, b, c]`` to pairs so that equal graphs compare equal."""
        return [[a, b] for chain in flows for a, b in zip(chain, chain[1:], strict=False)]

    @property
    def edges(self) -> list[tuple[str, str]]:
        return [(a, b) for a, b in self.flows]

    def block(self, block_id: str) -> Any:
        """The block with this id (KeyError if none)."""
        for b in self.blocks:
            if b.id == block_id:
                return b
        raise KeyError(block_id)


def parse_workflow(data: dict[str, Any], source: str | Path | None = None) -> Workflow:
    """Validate a workflow mapping (as read from YAML) into a structured, checked ``Workflow``.

    Raises:
        InputError: naming ``source``, the block and the problem.
    """
    from octopus.workflow.structure import compile_workflow

    try:
        wf = Workflow.model_validate(data)
    except ValidationError as exc:
        raise InputError(source, *_locate(exc, data)) from None
    if any(b.type == "task" and b.torch_model is not None for b in wf.blocks):
        from octopus.cost.resolve import resolve_torch_blocks  # lazy: leads to torch

        wf = resolve_torch_blocks(wf, source)
    compile_workflow(wf, source)
    return wf


def load_workflow(path: str | Path) -> Workflow:
    """Load and check a workflow YAML file (see ``docs/workflow-format.md``)."""
    return parse_workflow(load_yaml_mapping(path), source=path)


def save_workflow(wf: Workflow, path: str | Path) -> None:
    """Write ``wf`` as YAML that :func:`load_workflow` reads back to an equal model."""
    import yaml

    text = yaml.safe_dump(workflow_to_dict(wf), sort_keys=False, width=100)
    tmp = Path(path).with_suffix(Path(path).suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def workflow_to_dict(wf: Workflow) -> dict[str, Any]:
    """Plain-data form of ``wf`` (the YAML format), leaving out unset optional fields."""
    return wf.model_dump(mode="json", by_alias=True, exclude_none=True)


def _locate(exc: ValidationError, data: dict[str, Any]) -> tuple[str, str]:
    """Rewrite ``blocks.3.work.cv`` as ``block 'detect': work.cv`` for the error message."""
    field, problem = validation_message(exc)
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
