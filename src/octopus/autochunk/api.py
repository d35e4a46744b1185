"""The user entry points: :func:`autochunk`, :func:`plan_graph` and the ``torch.compile`` backend.

``autochunk(module, example_inputs, memory_budget)`` captures the module (:mod:`capture`),
searches a plan (:mod:`search`), generates the chunked program (:mod:`codegen`) and returns it as a
:class:`~.codegen.ChunkedModule` with ``.plan`` and ``.code``. The backend does the same for each
graph ``torch.compile`` hands it; use ``dynamic=False`` so sizes are static.

Budgets: bytes (``int``), a string with a unit (``"2GiB"``, ``"512 MB"``) or a percentage
(``"30%"``), or a ``float`` in (0, 1]: a fraction of the estimated original activation peak.

When no plan meets the budget, :class:`BudgetError` names the lowest peak the search reached;
with ``on_miss="warn"`` the best plan found is returned with a ``warnings.warn`` instead.
"""

from __future__ import annotations

import logging
import re
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

import torch
from torch import fx, nn
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils._pytree import tree_map

from .capture import AllocTracker, capture, fake_constants, is_symbolic, prepare, specialize
from .codegen import ChunkedModule, generate
from .cost import CostModel
from .estimate import estimate_peak
from .flow import GraphInfo
from .plan import ChunkPlan, ChunkRegion, format_bytes
from .search import SearchResult, search
from .signature import CallSpec, Leaf, split_inputs

__all__ = ["BudgetError", "autochunk", "autochunk_backend", "compile_graph", "parse_budget",
           "plan_graph", "simulate_peak_bytes"]

log = logging.getLogger(__name__)

Budget = int | float | str | None
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2,
          "mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gib": 1024**3, "t": 1000**4,
          "tb": 1000**4, "tib": 1024**4}


class BudgetError(ValueError):
    """No plan meets the memory budget; ``lowest_peak_bytes`` is the lowest peak reachable."""

    def __init__(self, budget_bytes: int, lowest_peak_bytes: int, original_peak_bytes: int):
        self.budget_bytes = budget_bytes
        self.lowest_peak_bytes = lowest_peak_bytes
        self.original_peak_bytes = original_peak_bytes
        super().__init__(
            f"AutoChunk cannot meet the memory budget of {format_bytes(budget_bytes)}: the lowest "
            f"estimated activation peak reachable is {format_bytes(lowest_peak_bytes)} "
            f"(original {format_bytes(original_peak_bytes)}). Raise the budget to at least "
            f"{lowest_peak_bytes} bytes, or pass on_miss='warn' to get that plan anyway.")


def parse_budget(budget: Budget, original_peak_bytes: int) -> int | None:
    """Budget in bytes. ``float`` in (0, 1] and ``"NN%"`` are fractions of the original peak.

    Raises ``ValueError`` for negative, zero or unreadable budgets.
    """
    if budget is None:
        return None
    if isinstance(budget, bool):
        raise ValueError(f"memory budget must be bytes, a size string or a fraction: {budget!r}")
    if isinstance(budget, float):
        if not 0 < budget <= 1:
            raise ValueError(f"a float budget is a fraction of the peak in (0, 1], got {budget}")
        return int(budget * original_peak_bytes)
    if isinstance(budget, int):
        if budget <= 0:
            raise ValueError(f"memory budget must be positive, got {budget}")
        return budget
    text = str(budget).strip().lower()
    m = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*(%|[a-z]*)", text)
    if not m or (m.group(2) not in _UNITS and m.group(2) != "%"):
        raise ValueError(f"cannot read memory budget {budget!r} (try '2GiB', '512MB' or '30%')")
    value = float(m.group(1))
    if m.group(2) == "%":
        return parse_budget(value / 100, original_peak_bytes)
    return parse_budget(int(value * _UNITS[m.group(2)]), original_peak_bytes)


def plan_graph(gm: fx.GraphModule, memory_budget: Budget = 0.5, *,
               on_miss: Literal["raise", "warn"] = "raise", beam_width: int = 3,
               max_slowdown: float | None = None, cost: CostModel | None = None,
               target_scale: float = 1.0, eager_peak_bytes: int | None = None) -> ChunkPlan:
    """Search a plan for an annotated graph (see :mod:`capture`). Does not modify ``gm``.

    A fractional budget is a fraction of ``eager_peak_bytes`` when given (the module's own
    peak), else of the graph's estimated peak. ``max_slowdown`` (e.g. ``0.01``) rejects regions
    whose predicted overhead would exceed that fraction of the predicted graph time. With
    ``memory_budget=None`` it picks the lowest budget (bisection over fractions of the original
    peak, 6 searches) whose plan is predicted at most that much slower: the "no-slowdown" plan.
    ``target_scale`` (<= 1) aims the search below the budget (used when a simulation of the
    generated code found the estimate too low).

    Raises:
        BudgetError: no plan meets the budget (with ``on_miss="raise"``); its
            ``lowest_peak_bytes`` is the lowest peak of every search run, including one aimed
            at the lowest reachable peak, so it does not depend on the budget asked.
    """
    t0 = time.perf_counter()
    info = GraphInfo.build(gm)
    cost = cost or CostModel()
    base_peak = _base_peak(info)
    budget = parse_budget(memory_budget, eager_peak_bytes or base_peak)
    if budget is None and max_slowdown is not None:
        plan = _lowest_within_slowdown(info, base_peak, max_slowdown, beam_width, cost, t0)
        return replace(plan, eager_peak_bytes=eager_peak_bytes)
    max_overhead = None if max_slowdown is None else max_slowdown * cost.graph_time_s(info)
    # aim 0.5% + 4 KiB under the budget: small allocations (scalars, loop bookkeeping) exist
    # that the estimate does not see
    target = 0 if budget is None else max(1, int(budget * target_scale) - budget // 200 - 4096)
    if budget is not None and base_peak <= budget:
        target = budget  # nothing to do: never chunk a graph that already fits
    result = search(info, target, beam_width=beam_width, cost=cost, max_overhead_s=max_overhead)
    if budget is not None and not result.meets_budget:
        floor = search(info, 1, beam_width=beam_width, cost=cost, max_overhead_s=max_overhead)
        if floor.lowest_peak_bytes < result.estimate.peak_bytes:
            result = replace(floor, budget_bytes=target)
    plan = replace(_to_plan(info, result, budget, time.perf_counter() - t0),
                   eager_peak_bytes=eager_peak_bytes)
    if budget is not None and not plan.meets_budget:
        err = BudgetError(budget, plan.peak_after_bytes, plan.peak_before_bytes)
        if on_miss == "raise":
            raise err
        warnings.warn(str(err), stacklevel=2)
    log.debug("%s", plan.explain())
    return plan


def _lowest_within_slowdown(info: GraphInfo, base_peak: int, max_slowdown: float,
                            beam_width: int, cost: CostModel, t0: float) -> ChunkPlan:
    base_time = cost.graph_time_s(info)
    best = search(info, base_peak, beam_width=beam_width, cost=cost)  # the empty plan
    lo, hi = 0.0, 1.0  # hi: a fraction known to fit the slowdown
    for _ in range(6):
        mid = (lo + hi) / 2
        res = search(info, int(mid * base_peak), beam_width=beam_width, cost=cost)
        if res.meets_budget and res.overhead_s <= max_slowdown * base_time:
            hi, best = mid, res
        else:
            lo = mid
    return _to_plan(info, best, None, time.perf_counter() - t0)


def _base_peak(info: GraphInfo) -> int:
    return estimate_peak(info).peak_bytes


def _to_plan(info: GraphInfo, res: SearchResult, budget: int | None, search_s: float) -> ChunkPlan:
    name = [n.name for n in info.nodes]
    regions = tuple(
        ChunkRegion(start=name[f.start], end=name[f.end], dim=f.dim, extent=f.extent,
                    chunk_size=c, chunk_dims=tuple((name[i], d) for i, d in f.chunked),
                    hoisted=tuple(name[i] for i in f.hoisted),
                    sliced_inputs=tuple((name[i], d) for i, d in f.sliced),
                    outputs=tuple(name[i] for i in f.outputs))
        for f, c in res.regions)
    slowdown = res.overhead_s / res.base_time_s if res.base_time_s else 0.0
    return ChunkPlan(regions, res.base.peak_bytes, res.estimate.peak_bytes, budget, slowdown,
                     search_s, name[res.estimate.peak_index] if res.estimate.peak_index >= 0
                     else "")


def simulate_peak_bytes(fn: Callable[..., Any], example_inputs: Sequence[Any],
                        example_kwargs: Mapping[str, Any] | None = None) -> int:
    """Peak bytes of ``fn(*example_inputs, **example_kwargs)`` run on fake tensors (nothing real
    allocated).

    Counts storages created by aten ops plus the CPU kernel workspaces modelled in
    :class:`~.capture.AllocTracker`; parameters and inputs are not counted. A
    :class:`ChunkedModule` runs its probe (first iteration of each loop only). Raises whatever
    ``fn`` raises on fake tensors (e.g. a data-dependent branch).
    """
    if isinstance(fn, ChunkedModule):  # one iteration per loop suffices
        args, kwargs = tuple(example_inputs), dict(example_kwargs or {})
        flat = fn.call_spec.flatten(args, kwargs) if fn.call_spec else list(args)
        return _fake_peak(fn.probe, fn, flat, {})
    return _fake_peak(fn, fn, example_inputs, example_kwargs or {})


def _fake_peak(fn: Callable[..., Any], owner: Any, args: Sequence[Any],
               kwargs: Mapping[str, Any]) -> int:
    """Peak of ``fn(*args, **kwargs)`` on fakes; ``owner``'s parameters are not counted."""
    mode = FakeTensorMode(allow_non_fake_inputs=True)
    with mode:
        args, kwargs = tree_map(_fake_like, (tuple(args), dict(kwargs)))
    tracker = AllocTracker()
    if isinstance(owner, nn.Module):
        tracker.ignore = fake_constants(mode, owner)
    with torch.no_grad(), mode, tracker:
        out = fn(*args, **kwargs)
    del out
    return tracker.peak_bytes


def _fake_like(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return torch.empty_strided(tuple(x.shape), tuple(x.stride()), dtype=x.dtype,
                                   device=x.device)
    return x


def compile_graph(gm: fx.GraphModule, example_inputs: Sequence[Any], memory_budget: Budget,
                  *, simulate: bool = True, rounds: int = 3, on_miss: Literal["raise", "warn"]
                  = "raise", **options: Any) -> ChunkedModule:
    """Plan and generate code for an annotated graph; with ``simulate``, check and correct.

    The generated program is run once on fake tensors; when that simulated peak exceeds the
    budget, the search is repeated aiming proportionally lower (at most ``rounds`` times).
    Raises :class:`BudgetError` (or warns, with ``on_miss="warn"``) if no round fits.
    """
    scale = 1.0
    chunked: ChunkedModule | None = None
    for _ in range(max(1, rounds)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a miss is reported once, after the last round
            plan = plan_graph(gm, memory_budget, on_miss="warn", target_scale=scale, **options)
        chunked = generate(gm, plan)
        if not simulate:
            break
        sim = _fake_peak(chunked.probe, chunked, example_inputs, {})
        chunked.plan = replace(plan, simulated_peak_bytes=sim)
        if plan.budget_bytes is None or sim <= plan.budget_bytes or not plan.meets_budget:
            break
        scale *= 0.99 * plan.budget_bytes / sim
    assert chunked is not None
    plan = chunked.plan
    worst = max(plan.peak_after_bytes, plan.simulated_peak_bytes or 0)
    if plan.budget_bytes is not None and worst > plan.budget_bytes:
        err = BudgetError(plan.budget_bytes, worst, plan.peak_before_bytes)
        if on_miss == "raise":
            raise err
        warnings.warn(str(err), stacklevel=3)
    return chunked


def autochunk(module: nn.Module, example_inputs: Any = (), memory_budget: Budget = 0.5, *,
              example_kwargs: Mapping[str, Any] | None = None,
              on_miss: Literal["raise", "warn"] = "raise", beam_width: int = 3,
              max_slowdown: float | None = None, cost: CostModel | None = None,
              simulate: bool = True, eager_peak_bytes: int | None = None) -> ChunkedModule:
    """Compile ``module`` for its example inputs' shapes so its activation peak meets the budget.

    ``example_inputs``: a tuple of positional inputs, one tensor, or a mapping of keyword inputs
    (``{"input_ids": ids, "attention_mask": mask}``); ``example_kwargs`` adds keyword inputs to
    positional ones. A fractional budget (``0.3``, ``"30%"``) is a fraction of the *eager*
    module's activation peak: ``eager_peak_bytes`` when given (e.g. measured), else the eager
    module run once on fake tensors (:func:`simulate_peak_bytes`), else (if that run fails) the
    captured graph's estimated peak.

    Returns a :class:`ChunkedModule` (``.plan``, ``.code``) called like ``module`` and returning
    its output structure; called with other input shapes it plans again (cached per shape).
    Raises :class:`BudgetError` (see module doc) and :class:`~.capture.CaptureError`.
    With ``simulate`` the generated program is also run on fake tensors,
    ``plan.simulated_peak_bytes`` is filled, and the plan is re-searched lower when the
    simulation exceeds the budget.
    """
    args, kwargs = split_inputs(example_inputs)
    kwargs.update(example_kwargs or {})
    gm = capture(module, args, kwargs)
    if eager_peak_bytes is None:
        eager_peak_bytes = _eager_peak(module, args, kwargs)
    options = {"on_miss": on_miss, "beam_width": beam_width, "max_slowdown": max_slowdown,
               "cost": cost, "simulate": simulate}
    flat = gm.meta["ac.call"].flatten(args, kwargs)
    chunked = compile_graph(gm, flat, memory_budget, eager_peak_bytes=eager_peak_bytes,
                            **options)
    chunked.bind_origin(module)

    def replan(call_args: tuple, call_kwargs: dict) -> ChunkedModule:
        log.info("AutoChunk: planning %s again for new input shapes", type(module).__name__)
        return autochunk(module, call_args, memory_budget, example_kwargs=call_kwargs,
                         **options)  # type: ignore[arg-type]

    chunked.replan = replan
    return chunked


def _eager_peak(module: nn.Module, args: tuple, kwargs: dict) -> int | None:
    """The eager module's activation peak on fake tensors, or ``None`` if it cannot run so."""
    try:
        return simulate_peak_bytes(module, args, kwargs)
    except Exception as e:  # noqa: BLE001 - e.g. data-dependent Python branches
        log.info("AutoChunk: eager peak not simulated (%s); fractions refer to the graph",
                 str(e).splitlines()[0] if str(e) else type(e).__name__)
        return None


def autochunk_backend(gm: fx.GraphModule, example_inputs: Sequence[Any],
                      options: dict[str, Any] | None = None) -> Callable[..., Any]:
    """``torch.compile`` backend: plan and chunk each graph it receives.

    ``options`` takes the keyword arguments of :func:`autochunk` (``memory_budget``,
    ``on_miss``, ``beam_width``, ``max_slowdown``, ``simulate``); a fractional budget is a
    fraction of the graph's estimated peak. Registered as ``backend="autochunk"``. With
    ``dynamic=False`` each new shape reaches the backend as a new static graph (dynamo's guards
    re-plan it); with ``dynamic=True`` the graph has symbolic sizes, so a :class:`PerShape`
    plans it at each concrete shape it is called with (cached).
    """
    opts = dict(options or {})
    budget = opts.pop("memory_budget", 0.5)
    if is_symbolic(gm, example_inputs):
        return PerShape(gm, budget, opts)
    names = [n.name for n in gm.graph.nodes if n.op == "placeholder"]
    gm.meta["ac.call"] = CallSpec(tuple(Leaf.of(n, x) for n, x in zip(names, example_inputs,
                                                                    strict=True)))
    prepare(gm, example_inputs)
    return compile_graph(gm, example_inputs, budget, **opts)


class PerShape:
    """A graph with symbolic sizes, planned anew for each concrete input shape (cached).

    Raises ``RuntimeError`` (naming ``dynamic=False``) when the graph cannot be specialised.
    """

    def __init__(self, gm: fx.GraphModule, budget: Budget, options: dict[str, Any]) -> None:
        self.gm, self.budget, self.options = gm, budget, options
        self.compiled: dict[tuple, ChunkedModule] = {}

    def __call__(self, *args: Any) -> Any:
        """Run the module planned for these inputs' shapes (planning it first if new)."""
        key = tuple((tuple(x.shape), x.dtype) if isinstance(x, torch.Tensor) else repr(x)
                    for x in args)
        if key not in self.compiled:
            try:
                gm = prepare(specialize(self.gm, args), args)
            except Exception as e:
                raise RuntimeError(
                    "AutoChunk plans static shapes and could not specialise this dynamic graph "
                    f"({str(e).splitlines()[0] if str(e) else type(e).__name__}); use "
                    "torch.compile(..., backend='autochunk', dynamic=False)") from e
            log.info("AutoChunk: planning a dynamic graph for shapes %s", key)
            self.compiled[key] = compile_graph(gm, args, self.budget, **self.options)
        return self.compiled[key](*args)


def _register() -> None:
    """Register ``backend="autochunk"`` for a source tree without package metadata; an installed
    package declares it as a ``torch_dynamo_backends`` entry point, which torch loads itself
    (registering here too would make that load a duplicate)."""
    from importlib.metadata import entry_points  # noqa: PLC0415

    from torch._dynamo.backends.registry import _COMPILER_FNS, register_backend  # noqa: PLC0415

    declared = any(ep.name == "autochunk" for ep in entry_points(group="torch_dynamo_backends"))
    if not declared and "autochunk" not in _COMPILER_FNS:
        register_backend(autochunk_backend, name="autochunk")


_register()
