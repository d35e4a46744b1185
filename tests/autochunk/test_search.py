"""Search: chunk sizes are the largest under the budget; the no-slowdown mode respects its cap."""

from __future__ import annotations

import math

import torch
from models import Block

from octopus.autochunk import capture, plan_graph
from octopus.autochunk.estimate import estimate_peak
from octopus.autochunk.flow import GraphInfo
from octopus.autochunk.search import search


def _info(model: torch.nn.Module, *inputs: torch.Tensor) -> GraphInfo:
    return GraphInfo.build(capture(model.eval(), inputs))


def test_chunk_size_is_the_largest_under_the_budget() -> None:
    """One iteration fewer in any region (a larger chunk) would break the budget."""
    torch.manual_seed(0)
    info = _info(Block(), torch.randn(2, 512, 64))
    budget = estimate_peak(info).peak_bytes // 5
    res = search(info, budget)
    assert res.meets_budget and res.regions
    for k, (flow, chunk) in enumerate(res.regions):
        iters = math.ceil(flow.extent / chunk)
        assert iters >= 2
        if iters == 2:
            continue
        bigger = math.ceil(flow.extent / (iters - 1))
        regions = list(res.regions)
        regions[k] = (flow, bigger)
        assert estimate_peak(info, regions).peak_bytes > budget


def test_identical_layers_are_all_chunked() -> None:
    """Two equal layers tie on the peak; the search must chunk both, not stop at the first."""
    torch.manual_seed(0)
    info = _info(torch.nn.Sequential(Block(), Block()), torch.randn(1, 256, 64))
    res = search(info, int(estimate_peak(info).peak_bytes * 0.5))
    assert res.meets_budget
    second = next(i for i, n in enumerate(info.nodes) if n.target == "1.ln1")
    layers = {i >= second for f, _ in res.regions for i, _ in f.chunked}
    assert layers == {False, True}


def test_no_slowdown_mode_stays_within_its_predicted_cap() -> None:
    """memory_budget=None with max_slowdown: a real cut, predicted slowdown under the cap."""
    torch.manual_seed(0)
    gm = capture(Block().eval(), (torch.randn(1, 1024, 64),))
    plan = plan_graph(gm, None, max_slowdown=0.01)
    assert plan.regions and plan.predicted_slowdown <= 0.01
    assert plan.peak_after_bytes < 0.7 * plan.peak_before_bytes
