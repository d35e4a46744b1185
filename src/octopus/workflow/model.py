"""The Orchestrated Workflow Graph as data: blocks, flows, and the workflow document.

A workflow is a list of blocks and a list of Task Flows (directed edges between block ids).

- ``task``: a Task Block, ``kind: ai`` (work in MACs) or ``kind: general`` (work in operations),
  with bytes in, bytes out and a configuration footprint per firing.
- ``branch``: exactly one of its ``paths`` runs, chosen by probability; each path starts at the
  block it names (or is empty when it names the merge) and ends in the ``merge`` block.
- ``merge``: where a branch's paths re-join.
- ``loop``: its ``body`` (a sub-graph) runs ``count`` times in sequence, decided one iteration
  at a time unless ``count_known``.
- ``fanout``: its ``body`` runs ``count`` times in parallel; an implicit join waits for all copies.

These classes check each block on its own (types, ranges, unknown fields). Whether the blocks
form a well-structured graph is checked by :func:`octopus.workflow.structure.compile_workflow`;
reading and writing files is :mod:`octopus.workflow.io`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from octopus.workflow.distributions import Distribution

__all__ = [
    "DTYPES",
    "MAX_BYTES",
    "MAX_INPUT_ELEMENTS",
    "MAX_SHAPE_SIZE",
    "Block",
    "BranchBlock",
    "Dtype",
    "FanoutBlock",
    "LoopBlock",
    "MergeBlock",
    "TaskBlock",
    "TorchModel",
    "Workflow",
]

MAX_BYTES = 2**53
"""Largest byte count of a Task Block (8 PiB: every byte count stays exact as a float)."""
MAX_SHAPE_SIZE = 2**24
"""Largest size of one dimension of a ``torch_model``'s ``input_shape`` (16,777,216)."""
MAX_INPUT_ELEMENTS = 2**32
"""Largest number of elements of a ``torch_model``'s input (the product of its shape)."""

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
    input_shape: list[Annotated[int, Field(ge=1, le=MAX_SHAPE_SIZE)]] = Field(
        min_length=1, max_length=8,
        description="input shape; its meaning is per model (e.g. [batch, tokens])")
    dtype: Dtype = Field(
        default="float32", description="dtype of weights and activations")

    @field_validator("input_shape")
    @classmethod
    def _few_elements(cls, shape: list[int]) -> list[int]:
        if math.prod(shape) > MAX_INPUT_ELEMENTS:
            raise ValueError(f"{math.prod(shape):,} input elements, over the limit of "
                             f"{MAX_INPUT_ELEMENTS:,}")
        return shape


class TaskBlock(_Block):
    """A unit of computation that runs on one TBU per firing.

    With ``torch_model``, unset ``work``, ``config_bytes``, ``output_bytes`` and ``model`` come
    from the model's costs when a run resolves the workflow (:mod:`octopus.run.resolve`, which
    imports torch only then), and the simulator times its firings with the model's roofline and
    SRAM fit. Until then the block is *unresolved* (``work`` may be ``None``).
    """

    type: Literal["task"] = "task"
    kind: Literal["ai", "general"] = Field(description="ai: work in MACs; general: operations")
    work: Distribution | None = Field(
        default=None,
        description="work per firing (MACs for ai, operations for general); required unless "
        "torch_model is given")
    input_bytes: int = Field(
        default=0, ge=0, le=MAX_BYTES,
        description="bytes read from off-chip memory per firing (source data)")
    output_bytes: int = Field(
        default=0, ge=0, le=MAX_BYTES,
        description="bytes produced per firing and sent to each consumer")
    config_bytes: int = Field(
        default=0, ge=0, le=MAX_BYTES,
        description="program + weights that must be resident on the TBU (one larger than a "
        "TBU's configuration share of SRAM streams its weights on every firing)")
    weight_passes: int = Field(
        default=1, ge=1, le=1_000_000,
        description="times one firing reads all its weights in sequence (e.g. the tokens of a "
        "decode burst); what a firing streams when its configuration cannot be resident")
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
    """Runs ``body`` ``count`` times in sequence, then continues to its successors.

    Unless ``count_known``, the count is not known ahead: the loop is decided one iteration at
    a time, a "continue?" firing of the loop at entry and after every iteration (``count`` + 1
    firings per execution, the last one ending the loop). With ``count_known`` one firing at
    entry decides every iteration.
    """

    type: Literal["loop"] = "loop"
    count: Distribution = Field(description="iterations per execution (rounded to an integer)")
    body: list[str] = Field(min_length=1, description="ids of the blocks inside the loop")
    count_known: bool = Field(
        default=False,
        description="the iteration count is known when the loop starts (e.g. a fixed number of "
        "denoising steps): one decision at entry reveals every iteration; otherwise a decision "
        "before each iteration reveals only that one (e.g. decoding until an end token)")


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
