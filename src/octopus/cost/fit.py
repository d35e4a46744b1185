"""Fit an AI Task Block's activations into its TBU's SRAM: spill, chunk with AutoChunk, or both.

Let ``peak`` be the block's activation peak (AutoChunk's estimate) and ``sram = pea.sram_bytes``.
When ``peak <= sram`` nothing happens: the firing takes :func:`~octopus.cost.roofline.tb_cycles`
with no traffic. Otherwise, by policy (:data:`SRAM_POLICIES`):

- ``spill``: walking the graph in order with AutoChunk's liveness estimate, the part of each
  node's new bytes (output and kernel temporaries) above the SRAM while it runs,
  ``min(new_i, max(0, live_i - sram))``, is written to off-chip memory once and read back once
  (:func:`spill_traffic_bytes`), over the TBU memory link and overlapped with compute (the
  roofline). Without a graph (untraceable module, or hand-made costs) the lower bound
  ``2 * (peak - sram)`` is used.
- ``autochunk``: AutoChunk plans the block at ``memory_budget = sram`` with a speed model of the
  TBU (:func:`tbu_cost_model`); the plan's predicted slowdown (``ChunkPlan.predicted_slowdown``)
  stretches the compute cycles. When no plan reaches the SRAM, plans at budgets ``sram * 2**k``
  (``k = 1, 2, ...`` up to the peak) are tried too, each with the spill traffic left in the
  chunked program, and the one with the fewest cycles is used (:func:`plan_chunks`).
- ``auto``: the cheaper of the two in cycles (``spill`` on a tie: no program change).

The TBU speed model handed to AutoChunk's :class:`~octopus.autochunk.CostModel` (documented in
``docs/cost-model.md``): ``flops_per_s = 2 * rows * cols * ai_efficiency * clock_hz``;
``launch_s = (rows + cols) / clock_hz`` (each op in a loop iteration pays the array's fill and
drain, as a firing does); ``copy_bytes_per_s = SRAM_COPY_BYTES_PER_PE_COLUMN * cols * clock_hz``
(one 32-bit word per PE column per cycle, an assumption); ``mem_bytes_per_s = inf`` (writing
activations to SRAM is not a bottleneck in the roofline, so the graph's predicted time is its
compute and the slowdown is relative to it); ``knee_rows`` AutoChunk's default.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, get_args

from octopus.arch import ArchConfig
from octopus.cost.profile import ModuleCosts, fake_inputs, profile_with_graph
from octopus.cost.roofline import firing_setup_cycles, tb_cycles
from octopus.cost.systolic import model_efficiency

__all__ = [
    "SRAM_COPY_BYTES_PER_PE_COLUMN",
    "SRAM_POLICIES",
    "ChunkSummary",
    "Fit",
    "SramPolicy",
    "chunk_ladder",
    "fit_costs",
    "fit_module",
    "plan_chunks",
    "spill_traffic_bytes",
    "tbu_cost_model",
    "tbu_cost_params",
]

SramPolicy = Literal["spill", "autochunk", "auto"]
SRAM_POLICIES: tuple[str, ...] = get_args(SramPolicy)
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
        spill_bytes: off-chip traffic left in the chunked program (:func:`spill_traffic_bytes`
            under the plan; 0 when its peak fits the SRAM).
    """

    budget_bytes: int
    peak_after_bytes: int
    predicted_slowdown: float
    regions: int
    iterations: int
    spill_bytes: int = 0

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
              chunk: ChunkSummary | None = None, spill_bytes: int | None = None) -> Fit:
    """Cycles of one firing of a block with ``costs`` on ``arch`` under ``policy`` (pure).

    ``chunk`` is the AutoChunk plan (:func:`plan_chunks`); it is required for ``autochunk`` and
    used by ``auto`` when the peak exceeds the SRAM. ``spill_bytes`` is the unchunked program's
    spill traffic (:func:`spill_traffic_bytes`); ``None`` means the lower bound
    ``2 * (peak - sram)``.

    Raises:
        ValueError: unknown policy, or ``autochunk`` without ``chunk`` while the peak exceeds
            the SRAM.
    """
    if policy not in SRAM_POLICIES:
        raise ValueError(f"unknown SRAM policy {policy!r} (choose from: "
                         f"{', '.join(SRAM_POLICIES)})")
    sram = arch.pea.sram_bytes
    timed = partial(tb_cycles, arch, costs.macs, **_layer_timing(arch, costs))
    if costs.activation_peak_bytes <= sram:
        base = timed()
        return Fit("fits", base, base, base, 0, None)
    if spill_bytes is None:
        spill_bytes = 2 * (costs.activation_peak_bytes - sram)
    spill = timed(spill_bytes)
    if chunk is None:
        if policy == "autochunk":
            raise ValueError("policy 'autochunk' needs an AutoChunk plan (see plan_chunks)")
        return Fit("spill", spill, spill, None, spill_bytes, None)
    rest = chunk.spill_bytes
    chunked = timed(rest, slowdown=chunk.predicted_slowdown)
    if policy == "spill" or (policy == "auto" and spill <= chunked):
        return Fit("spill", spill, spill, chunked, spill_bytes, chunk)
    return Fit("autochunk", chunked, spill, chunked, rest, chunk)


def _layer_timing(arch: ArchConfig, costs: ModuleCosts) -> dict[str, Any]:
    """``tb_cycles`` keywords that time a firing by its layers on the array (the layer model
    includes each layer's fill and drain: no per-firing setup on top); none without layers."""
    if not costs.layers or costs.macs == 0:
        return {}
    return {"efficiency": model_efficiency(costs.layers, arch.pea.rows, arch.pea.cols,
                                           arch.pea.dataflow), "setup_cycles": 0}


def tbu_cost_params(arch: ArchConfig) -> dict[str, float]:
    """The TBU's rates as AutoChunk ``CostModel`` fields (module doc); pure, no torch."""
    clock = arch.clock_hz
    pes = arch.pea.rows * arch.pea.cols
    return {"launch_s": firing_setup_cycles(arch) / clock,
            "flops_per_s": 2.0 * pes * arch.pea.ai_efficiency * clock,
            # activations written to SRAM cost no time in the roofline: the graph's time is
            # its compute, so the plan's slowdown is relative to the compute cycles it stretches
            "mem_bytes_per_s": math.inf,
            "copy_bytes_per_s": float(SRAM_COPY_BYTES_PER_PE_COLUMN * arch.pea.cols * clock)}


def tbu_cost_model(arch: ArchConfig) -> Any:
    """AutoChunk's :class:`~octopus.autochunk.CostModel` with the TBU's rates
    (:func:`tbu_cost_params`; ``knee_rows`` keeps AutoChunk's default)."""
    from octopus.autochunk import CostModel

    return CostModel(**tbu_cost_params(arch))


def spill_traffic_bytes(info: Any, sram_bytes: int, regions: tuple = ()) -> int:
    """Off-chip bytes (written + read back) of a program whose live set exceeds the SRAM.

    ``info`` is AutoChunk's ``GraphInfo``; ``regions`` are ``(Flow, chunk_size)`` pairs of a
    plan. Per node ``i`` (per iteration inside a chunk loop, times the iterations), with
    ``live_i`` AutoChunk's estimated live bytes while it runs and ``new_i`` its output plus kernel
    temporaries (scaled by ``chunk / extent`` in a loop): ``2 * min(new_i, max(0, live_i -
    sram))``. Mutates nothing.
    """
    from octopus.autochunk.estimate import estimate_peak

    est = estimate_peak(info, regions)
    in_loop = {k: (flow, chunk) for flow, chunk in regions for k, _ in flow.chunked}
    total = 0
    for i, live in enumerate(est.node_peak):
        new, reps = info.out_bytes[i] + info.temp_bytes[i], 1
        if i in in_loop:
            flow, chunk = in_loop[i]
            new, reps = -(-new * chunk // flow.extent), -(-flow.extent // chunk)
        total += 2 * reps * min(new, max(0, live - sram_bytes))
    return total


def _plan_regions(info: Any, plan: Any) -> tuple | None:
    """The plan's regions as ``(Flow, chunk_size)`` (``None`` if a flow cannot be re-traced)."""
    from octopus.autochunk.flow import trace_flow

    by_name = {n.name: i for i, n in enumerate(info.nodes)}
    out = []
    for r in plan.regions:
        flow = trace_flow(info, by_name[r.start], by_name[r.end], r.dim)
        names = None if flow is None else {info.nodes[k].name for k, _ in flow.chunked}
        if names != {n for n, _ in r.chunk_dims}:
            return None
        out.append((flow, r.chunk_size))
    return tuple(out)


def chunk_ladder(arch: ArchConfig, graph: Any, example_inputs: tuple[Any, ...]
                 ) -> list[ChunkSummary]:
    """AutoChunk plans of an annotated graph at budgets ``sram * 2**k``, ``k = 0, 1, ...``,
    under the TBU speed model, stopping at the first plan whose peak (estimated, and simulated on
    the generated code) fits the SRAM, at a plan with no region, or at the original peak. Each
    summary carries the spill traffic left in its program."""
    from octopus.autochunk import compile_graph
    from octopus.autochunk.estimate import estimate_peak
    from octopus.autochunk.flow import GraphInfo

    sram = arch.pea.sram_bytes
    info = GraphInfo.build(graph)
    peak = estimate_peak(info).peak_bytes
    cost = tbu_cost_model(arch)
    rungs: list[ChunkSummary] = []
    budget = sram
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a missed budget is what the ladder is for
            plan = compile_graph(graph, example_inputs, budget, on_miss="warn", cost=cost).plan
        after = int(max(plan.peak_after_bytes, plan.simulated_peak_bytes or 0))
        regions = _plan_regions(info, plan)
        spill = (0 if after <= sram else 2 * (after - sram) if regions is None
                 else spill_traffic_bytes(info, sram, regions))
        rungs.append(ChunkSummary(budget_bytes=budget, peak_after_bytes=after,
                                  predicted_slowdown=float(plan.predicted_slowdown),
                                  regions=len(plan.regions),
                                  iterations=sum(r.iterations for r in plan.regions),
                                  spill_bytes=spill))
        if after <= sram or budget >= peak or not plan.regions:
            return rungs
        budget *= 2


def plan_chunks(arch: ArchConfig, graph: Any, example_inputs: tuple[Any, ...], macs: int
                ) -> ChunkSummary:
    """The AutoChunk plan fitting ``pea.sram_bytes``: the plan at ``budget = sram`` if it fits,
    else the rung of :func:`chunk_ladder` with the fewest roofline cycles (``macs``, its
    slowdown and its remaining spill traffic; the lower budget on a tie)."""
    rungs = chunk_ladder(arch, graph, example_inputs)
    if rungs[0].meets_budget:
        return rungs[0]
    return min(rungs, key=lambda r: tb_cycles(arch, macs, r.spill_bytes,
                                              slowdown=r.predicted_slowdown))


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
    sram = arch.pea.sram_bytes
    if graph is None or costs.activation_peak_bytes <= sram:
        # untraceable: spilling (at its lower bound) is the only way left
        return fit_costs(arch, costs, "spill" if policy == "autochunk" else policy), costs
    from octopus.autochunk.flow import GraphInfo

    spill = spill_traffic_bytes(GraphInfo.build(graph), sram)
    chunk = plan_chunks(arch, graph, fakes, costs.macs) if policy != "spill" else None
    return fit_costs(arch, costs, policy, chunk, spill), costs
