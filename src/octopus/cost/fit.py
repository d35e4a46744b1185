"""Fit an AI Task Block's activations into its TBU's SRAM: spill, chunk with AutoChunk, or both.

Let ``peak`` be the block's activation peak (AutoChunk's estimate) and ``sram = pea.sram_bytes``.
When ``peak <= sram`` nothing happens: the firing takes :func:`~octopus.cost.roofline.tb_cycles`
with no traffic. Otherwise, by policy (:data:`SRAM_POLICIES`):

- ``spill``: the bytes that do not fit are written to off-chip memory once and read back once,
  ``spill_bytes = 2 * (peak - sram)`` over the TBU memory link, overlapped with compute (the
  roofline). This counts only the excess at the peak, a *lower bound* on real spill traffic, so
  the gains reported for chunking are conservative.
- ``autochunk``: AutoChunk plans the block at ``memory_budget = sram`` with a speed model of the
  TBU (:func:`tbu_cost_model`); the plan's predicted slowdown (``ChunkPlan.predicted_slowdown``)
  stretches the compute cycles. When no plan fits, the plan reaching the lowest peak is used and
  its remaining excess spills as above (``2 * (plan_peak - sram)``).
- ``auto``: the cheaper of the two in cycles (``spill`` on a tie: no program change).

The TBU speed model handed to AutoChunk's :class:`~octopus.autochunk.CostModel` (documented in
``docs/cost-model.md``): ``flops_per_s = 2 * rows * cols * ai_efficiency * clock_hz``;
``launch_s = (rows + cols) / clock_hz`` (each op in a loop iteration pays the array's fill and
drain, as a firing does); ``copy_bytes_per_s = SRAM_COPY_BYTES_PER_PE_COLUMN * cols * clock_hz``
(one 32-bit word per PE column per cycle, an assumption); ``knee_rows`` AutoChunk's default.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from typing import Any, Literal

from octopus.arch import ArchConfig
from octopus.cost.profile import ModuleCosts, fake_inputs, profile_with_graph
from octopus.cost.roofline import firing_setup_cycles, tb_cycles

__all__ = ["SRAM_POLICIES", "SRAM_COPY_BYTES_PER_PE_COLUMN", "ChunkSummary", "Fit", "SramPolicy",
           "fit_costs", "fit_module", "plan_chunks", "tbu_cost_model", "tbu_cost_params"]

SramPolicy = Literal["spill", "autochunk", "auto"]
SRAM_POLICIES: tuple[str, ...] = ("spill", "autochunk", "auto")
SRAM_COPY_BYTES_PER_PE_COLUMN = 4  # assumed: one fp32 word per PE column per cycle


@dataclass(frozen=True)
class ChunkSummary:
    """What the fit needs from an AutoChunk plan (storable without the graph).

    Attributes:
        budget_bytes: the budget planned for (the SRAM size).
        peak_after_bytes: the plan's peak: the larger of AutoChunk's estimate and the peak of
            the generated program run on fake tensors.
        predicted_slowdown: AutoChunk's predicted relative overhead under the TBU speed model.
        regions: chunk loops in the plan.
        iterations: loop iterations summed over the regions.
    """

    budget_bytes: int
    peak_after_bytes: int
    predicted_slowdown: float
    regions: int
    iterations: int

    @property
    def meets_budget(self) -> bool:
        return self.peak_after_bytes <= self.budget_bytes

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChunkSummary:
        return cls(**data)


@dataclass(frozen=True)
class Fit:
    """The cycles of one firing under a policy, with both alternatives for comparison.

    Attributes:
        applied: what was done: ``"fits"`` (peak within SRAM), ``"spill"`` or ``"autochunk"``.
        cycles: cycles of one firing with ``applied``.
        spill_cycles: cycles under ``spill``.
        autochunk_cycles: cycles under ``autochunk`` (``None`` when not planned).
        spill_bytes: off-chip spill traffic of ``applied``, bytes per firing.
        chunk: the AutoChunk plan's summary (``None`` when not planned).
    """

    applied: str
    cycles: int
    spill_cycles: int
    autochunk_cycles: int | None
    spill_bytes: int
    chunk: ChunkSummary | None = None


def fit_costs(arch: ArchConfig, costs: ModuleCosts, policy: SramPolicy,
              chunk: ChunkSummary | None = None) -> Fit:
    """Cycles of one firing of a block with ``costs`` on ``arch`` under ``policy`` (pure).

    ``chunk`` is the AutoChunk plan at ``budget = sram`` (:func:`plan_chunks`); it is required
    for ``autochunk`` and used by ``auto`` when the peak exceeds the SRAM.

    Raises:
        ValueError: unknown policy, or ``autochunk`` without ``chunk`` while the peak exceeds
            the SRAM.
    """
    if policy not in SRAM_POLICIES:
        raise ValueError(f"unknown SRAM policy {policy!r} (choose from: "
                         f"{', '.join(SRAM_POLICIES)})")
    sram = arch.pea.sram_bytes
    if costs.activation_peak_bytes <= sram:
        base = tb_cycles(arch, costs.macs)
        return Fit("fits", base, base, base, 0, None)
    spill_bytes = 2 * (costs.activation_peak_bytes - sram)
    spill = tb_cycles(arch, costs.macs, spill_bytes)
    if chunk is None:
        if policy == "autochunk":
            raise ValueError("policy 'autochunk' needs an AutoChunk plan (see plan_chunks)")
        return Fit("spill", spill, spill, None, spill_bytes, None)
    rest = 2 * max(0, chunk.peak_after_bytes - sram)
    chunked = tb_cycles(arch, costs.macs, rest, slowdown=chunk.predicted_slowdown)
    if policy == "spill" or (policy == "auto" and spill <= chunked):
        return Fit("spill", spill, spill, chunked, spill_bytes, chunk)
    return Fit("autochunk", chunked, spill, chunked, rest, chunk)


def tbu_cost_params(arch: ArchConfig) -> dict[str, float]:
    """The TBU's rates as AutoChunk ``CostModel`` fields (module doc); pure, no torch."""
    clock = arch.clock_hz
    pes = arch.pea.rows * arch.pea.cols
    return {"launch_s": firing_setup_cycles(arch) / clock,
            "flops_per_s": 2.0 * pes * arch.pea.ai_efficiency * clock,
            "copy_bytes_per_s": float(SRAM_COPY_BYTES_PER_PE_COLUMN * arch.pea.cols * clock)}


def tbu_cost_model(arch: ArchConfig) -> Any:
    """AutoChunk's :class:`~octopus.autochunk.CostModel` with the TBU's rates
    (:func:`tbu_cost_params`; ``knee_rows`` keeps AutoChunk's default)."""
    from octopus.autochunk import CostModel

    return CostModel(**tbu_cost_params(arch))


def plan_chunks(arch: ArchConfig, graph: Any, example_inputs: tuple[Any, ...]) -> ChunkSummary:
    """Plan an annotated AutoChunk graph at ``budget = pea.sram_bytes`` under the TBU speed
    model. When no plan meets the budget, the lowest-peak plan found is summarised instead (its
    ``meets_budget`` is False). The generated program is checked on fake tensors."""
    from octopus.autochunk import compile_graph

    budget = arch.pea.sram_bytes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a missed budget is reported by meets_budget
        chunked = compile_graph(graph, example_inputs, budget, on_miss="warn",
                                cost=tbu_cost_model(arch))
    plan = chunked.plan
    peak = max(plan.peak_after_bytes, plan.simulated_peak_bytes or 0)
    return ChunkSummary(budget_bytes=budget, peak_after_bytes=int(peak),
                        predicted_slowdown=float(plan.predicted_slowdown),
                        regions=len(plan.regions),
                        iterations=sum(r.iterations for r in plan.regions))


def fit_module(arch: ArchConfig, module: Any, *example_inputs: Any,
               policy: SramPolicy = "auto") -> tuple[Fit, ModuleCosts]:
    """Profile ``module`` at ``example_inputs``' shapes and fit it into ``arch``'s SRAM.

    AutoChunk plans only when the policy may use it and the peak exceeds the SRAM. Returns the
    fit and the costs. Raises ``ValueError`` for an unknown policy; an untraceable module (no
    AutoChunk graph) can only spill.
    """
    if policy not in SRAM_POLICIES:
        raise ValueError(f"unknown SRAM policy {policy!r}")
    fakes = fake_inputs(example_inputs)
    costs, graph = profile_with_graph(module, fakes)
    chunk = None
    if (policy != "spill" and graph is not None
            and costs.activation_peak_bytes > arch.pea.sram_bytes):
        chunk = plan_chunks(arch, graph, fakes)
    if chunk is None and policy == "autochunk":
        policy = "auto"  # untraceable: spilling is the only way left
    return fit_costs(arch, costs, policy, chunk), costs
