"""End-to-end: every plan computes the same output and really cuts the measured peak."""

from __future__ import annotations

import re

import pytest
import torch
from models import PairUpdate, cases

from octopus.autochunk import BudgetError, autochunk, capture, plan_graph, profiler_peak_bytes

CASES = cases()


@pytest.fixture(scope="module")
def measured_original() -> dict[str, int]:
    """Allocator-level peak of each original (eager) model."""
    out = {}
    with torch.no_grad():  # module-scoped: runs before the per-test no_grad fixture
        for name, (model, inputs) in CASES.items():
            model.eval()
            out[name] = profiler_peak_bytes(lambda m=model, x=inputs: m(*x))
    return out


@pytest.mark.parametrize("fraction", [0.5, 0.2])
@pytest.mark.parametrize("name", list(CASES))
def test_plan_is_exact_and_cuts_measured_peak(name: str, fraction: float,
                                              measured_original: dict[str, int]) -> None:
    """Output equals eager; measured peak under the budget; estimate within 10% of measured."""
    model, inputs = CASES[name]
    budget = int(fraction * measured_original[name])
    chunked = autochunk(model.eval(), inputs, budget)
    plan = chunked.plan
    assert plan.regions, "a budget below the peak needs at least one region"
    torch.testing.assert_close(chunked(*inputs), model(*inputs), rtol=1e-5, atol=1e-5)
    measured = profiler_peak_bytes(lambda: chunked(*inputs))
    assert measured <= budget
    assert abs(plan.peak_after_bytes - measured) <= 0.10 * measured
    for region in plan.regions:
        assert region.iterations >= 2
        assert 1 <= region.chunk_size < region.extent
    for size, extent in re.findall(r"range\(0, (\d+), (\d+)\)", chunked.code):
        assert int(extent) < int(size), "no one-iteration loop in the generated code"


def test_barrier_op_is_never_inside_a_region() -> None:
    """``torch.flip`` has no rule: it is never chunked, and the plan does not crash on it."""
    model, inputs = CASES["barrier"]
    chunked = autochunk(model.eval(), inputs, 0.3)
    flips = [n.name for n in chunked.gm.graph.nodes if n.target is torch.flip]
    assert flips
    for region in chunked.plan.regions:
        assert not set(flips) & {n for n, _ in region.chunk_dims}  # hoisted at most
    torch.testing.assert_close(chunked(*inputs), model(*inputs), rtol=1e-5, atol=1e-5)


def test_einsum_region_is_chunked_along_a_free_index() -> None:
    """The triangle update alone must be chunked through its einsum, never along k."""
    torch.manual_seed(0)
    model, z = PairUpdate(transition=False).eval(), torch.randn(64, 64, 16)
    graph_peak = plan_graph(capture(model, (z,)), 1.0).peak_before_bytes  # eager's is higher
    chunked = autochunk(model, (z,), int(0.9 * graph_peak))
    dims = {n: d for r in chunked.plan.regions for n, d in r.chunk_dims}
    assert "einsum" in dims and dims["einsum"] in (0, 1)
    torch.testing.assert_close(chunked(z), model(z), rtol=1e-5, atol=1e-5)


def test_too_small_budget_raises_naming_the_lowest_peak() -> None:
    """An unreachable budget raises BudgetError; on_miss='warn' returns the best plan instead."""
    model, inputs = CASES["block"]
    with pytest.raises(BudgetError, match="lowest estimated activation peak reachable") as err:
        autochunk(model.eval(), inputs, 1000, simulate=False)
    lowest = err.value.lowest_peak_bytes
    assert 1000 < lowest < err.value.original_peak_bytes
    with pytest.warns(UserWarning, match="cannot meet"):
        best = autochunk(model, inputs, 1000, on_miss="warn", simulate=False)
    assert best.plan.peak_after_bytes == lowest
    torch.testing.assert_close(best(*inputs), model(*inputs), rtol=1e-5, atol=1e-5)


def test_explain_and_code_are_readable() -> None:
    """``plan.explain()`` names regions, dims, sizes and peaks; ``.code`` shows the loop."""
    model, inputs = CASES["block"]
    chunked = autochunk(model.eval(), inputs, 0.3)
    text = chunked.plan.explain()
    assert "region 0" in text and "chunk" in text and "estimated peak" in text
    code = chunked.code
    assert "for _i0 in range(" in code and "torch.empty(" in code and "del " in code
    assert ".narrow(" in code


def test_budget_above_peak_gives_empty_plan() -> None:
    """A budget the original already meets changes nothing."""
    model, inputs = CASES["block"]
    chunked = autochunk(model.eval(), inputs, 1.0)
    assert chunked.plan.regions == ()
    assert "for " not in chunked.code
