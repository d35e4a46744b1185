"""Rules and rewrites real models need: addmm/baddbmm, user rules, hoisted barriers, split
projections, recomputed shared tensors; and budgets measured against the eager module."""

from __future__ import annotations

import math
import operator

import pytest
import torch
import torch.nn.functional as F
from models import SdpaBlock
from torch import fx, nn

from octopus.autochunk import (
    BudgetError,
    autochunk,
    capture,
    compile_graph,
    plan_graph,
    pointwise_rule,
    profiler_peak_bytes,
    register_rule,
    simulate_peak_bytes,
)
from octopus.autochunk.rules import RULES


def _close(a: torch.Tensor, b: torch.Tensor) -> None:
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def _chunked_nodes(chunked: nn.Module) -> set[str]:
    return {n for r in chunked.plan.regions for n, _ in r.chunk_dims}


class Conv1dMLP(nn.Module):
    """GPT-2's MLP: ``Conv1D`` is ``addmm`` on the flattened tokens."""

    def __init__(self, d: int = 64) -> None:
        super().__init__()
        self.w1, self.b1 = nn.Parameter(torch.randn(d, 8 * d) / 8), nn.Parameter(torch.zeros(8 * d))
        self.w2, self.b2 = nn.Parameter(torch.randn(8 * d, d) / 8), nn.Parameter(torch.zeros(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.addmm(self.b1, x.view(-1, x.shape[-1]), self.w1).view(*x.shape[:-1], -1)
        h = F.gelu(h)
        return x + torch.addmm(self.b2, h.view(-1, h.shape[-1]), self.w2).view(x.shape)


class BaddbmmAttention(nn.Module):
    """diffusers' eager attention: scores by ``baddbmm`` on an empty tensor with ``beta=0``."""

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        empty = torch.empty(q.shape[0], q.shape[1], k.shape[1], dtype=q.dtype)
        scores = torch.baddbmm(empty, q, k.transpose(-1, -2), beta=0, alpha=q.shape[-1] ** -0.5)
        return torch.bmm(scores.softmax(-1), v)


class BiasedAttention(nn.Module):
    """Scores plus a relative-position bias gathered from a parameter table by a buffer index
    (advanced indexing: a barrier that reads no chunked data)."""

    def __init__(self, s: int, heads: int = 2) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.randn(2 * s - 1, heads))
        pos = torch.arange(s)
        self.register_buffer("index", pos[None, :] - pos[:, None] + s - 1)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        scores = q @ k.transpose(-1, -2)
        bias = self.table[self.index].permute(2, 0, 1)  # (heads, s, s)
        return (scores + bias).softmax(-1) @ v


class SharedMask(nn.Module):
    """Two attention layers sharing an (s, s) additive mask built from a (1, s) padding mask."""

    def __init__(self, d: int = 32) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(d, 3 * d) for _ in range(2))

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        s = x.shape[1]
        keep = pad[:, None, :].expand(1, s, s) > 0.5
        mask = torch.zeros(1, s, s).masked_fill(~keep, -1e4)
        for layer in self.layers:
            q, k, v = layer(x).chunk(3, dim=-1)
            x = x + F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return x


@fx.wrap
def _scaled_gelu(x: torch.Tensor, s: float) -> torch.Tensor:
    return F.gelu(x) * s


class UsesLeaf(nn.Module):
    """A model calling a user leaf function (kept as one node by ``torch.fx.wrap``)."""

    def __init__(self, d: int = 32) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, 16 * d), nn.Linear(16 * d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(_scaled_gelu(self.fc1(x), 0.5))


def test_addmm_conv1d_mlp_is_chunked_over_tokens() -> None:
    """The addmm MLP is chunked over the flattened tokens: equal output, measured cut."""
    torch.manual_seed(0)
    model, x = Conv1dMLP().eval(), torch.randn(1, 512, 64)
    chunked = autochunk(model, (x,), 0.3)
    assert any("addmm" in n for n in _chunked_nodes(chunked))
    _close(chunked(x), model(x))
    assert profiler_peak_bytes(lambda: chunked(x)) < 0.5 * profiler_peak_bytes(lambda: model(x))


def test_baddbmm_scores_are_chunked_over_queries() -> None:
    """The baddbmm scores and their empty input are built per query chunk."""
    torch.manual_seed(0)
    model = BaddbmmAttention().eval()
    q, k, v = (torch.randn(4, 512, 16) for _ in range(3))
    chunked = autochunk(model, (q, k, v), 0.3)
    dims = {n: d for r in chunked.plan.regions for n, d in r.chunk_dims}
    assert dims.get("scores") == 1 and dims.get("empty") == 1  # scores: the baddbmm node
    _close(chunked(q, k, v), model(q, k, v))
    assert profiler_peak_bytes(lambda: chunked(q, k, v)) < 0.5 * profiler_peak_bytes(
        lambda: model(q, k, v))


def test_a_user_rule_opens_a_leaf_function_to_chunking() -> None:
    """Without a rule the leaf is a barrier; registered as pointwise, the MLP is chunked
    through it."""
    torch.manual_seed(0)
    model, x = UsesLeaf().eval(), torch.randn(1, 512, 32)
    with pytest.warns(UserWarning, match="cannot meet"):  # nothing to chunk around a barrier
        before = autochunk(model, (x,), 0.5, on_miss="warn")
    assert not any("scaled_gelu" in n for n in _chunked_nodes(before))
    register_rule(_scaled_gelu)(pointwise_rule)
    try:
        after = autochunk(model, (x,), 0.3)
        assert any("scaled_gelu" in n for n in _chunked_nodes(after))
        _close(after(x), model(x))
    finally:
        RULES.pop(_scaled_gelu)


def test_a_barrier_on_parameters_is_hoisted_out_of_the_region() -> None:
    """The position-bias gather has no rule but reads only parameters and buffers: it is
    computed before the loop and the scores are still chunked over queries."""
    torch.manual_seed(0)
    s = 256
    model = BiasedAttention(s).eval()
    q, k, v = (torch.randn(2, s, 16) for _ in range(3))
    chunked = autochunk(model, (q, k, v), 0.4)
    gathers = [n.name for n in chunked.gm.graph.nodes
               if n.target is operator.getitem and isinstance(n.args[1], fx.Node)]
    assert gathers and any(set(gathers) & set(r.hoisted) for r in chunked.plan.regions)
    assert "softmax" in _chunked_nodes(chunked)
    _close(chunked(q, k, v), model(q, k, v))


def test_fused_qkv_is_split_so_keys_and_values_stay_whole() -> None:
    """SdpaBlock's fused qkv + chunk(3) becomes three projections; q is projected per chunk
    and the lowest reachable peak drops below the unsplit graph's."""
    torch.manual_seed(0)
    model = SdpaBlock().eval()
    x, bias = torch.randn(1, 512, 64), torch.randn(1, 4, 512, 512) * 0
    split = capture(model, (x, bias))
    assert "split-fused-projection" in split.meta["ac.rewrites"]
    fused = capture(model, (x, bias), rewrites=False)
    with pytest.warns(UserWarning):
        low_split = plan_graph(split, 1, on_miss="warn").peak_after_bytes
    with pytest.warns(UserWarning):
        low_fused = plan_graph(fused, 1, on_miss="warn").peak_after_bytes
    assert low_split < low_fused
    chunked = compile_graph(split, [x, bias], low_split)
    _close(chunked(x, bias), model(x, bias))


def test_a_shared_mask_is_recomputed_per_layer_and_per_chunk() -> None:
    """The (s, s) mask shared by two layers is rebuilt before each; the measured peak of the
    lowest plan is below the one without the rewrite, and outputs are equal."""
    torch.manual_seed(0)
    model, s = SharedMask().eval(), 512
    x, pad = torch.randn(1, s, 32), (torch.arange(s) < 400).float()[None]
    peaks = {}
    for rewrites in (True, False):
        gm = capture(model, (x, pad), rewrites=rewrites)
        with pytest.warns(UserWarning):
            chunked = compile_graph(gm, [x, pad], 1, on_miss="warn")
        _close(chunked(x, pad), model(x, pad))
        peaks[rewrites] = profiler_peak_bytes(lambda c=chunked: c(x, pad))
    assert "recompute-shared" in capture(model, (x, pad)).meta["ac.rewrites"]
    assert peaks[True] < peaks[False] - s * s * 4 // 2


def test_a_fraction_is_of_the_eager_peak() -> None:
    """budget 0.5 = half of the eager module's simulated peak; explain() says so."""
    torch.manual_seed(0)
    model, x = Conv1dMLP().eval(), torch.randn(1, 512, 64)
    eager = simulate_peak_bytes(model, (x,))
    chunked = autochunk(model, (x,), 0.5)
    assert chunked.plan.budget_bytes == int(0.5 * eager)
    assert chunked.plan.eager_peak_bytes == eager
    assert "eager module's peak" in chunked.plan.explain()
    assert profiler_peak_bytes(lambda: chunked(x)) <= 1.05 * chunked.plan.budget_bytes


class GraphOnlyTemp(nn.Module):
    """Library-style code that builds an (s, s) tensor only while being compiled (as
    transformers materialises a causal mask under tracing)."""

    def __init__(self) -> None:
        super().__init__()
        self.mlp = Conv1dMLP(32)

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        x = args[0]
        if torch.compiler.is_compiling():
            x = x + torch.ones(x.shape[1], x.shape[1]).tril().sum(0)[None, :, None] * 0
        return self.mlp(x)


def test_explain_says_when_the_graph_peaks_above_eager() -> None:
    """A graph that materialises what eager skips: explain() flags it."""
    model, x = GraphOnlyTemp().eval(), torch.randn(1, 1024, 32)
    with pytest.warns(UserWarning, match="cannot meet"):  # tril blocks both dims of the temp
        chunked = autochunk(model, (x,), 0.6, on_miss="warn")
    assert chunked.plan.peak_before_bytes > chunked.plan.eager_peak_bytes
    assert "above the eager module" in chunked.plan.explain()


def test_budget_error_reports_one_lowest_peak_whatever_the_budget() -> None:
    """Two unreachable budgets report the same lowest peak, the true floor of the search."""
    torch.manual_seed(0)
    model, x = Conv1dMLP().eval(), torch.randn(1, 512, 64)
    lows = []
    for budget in (1000, 50_000):
        with pytest.raises(BudgetError) as err:
            autochunk(model, (x,), budget, simulate=False)
        lows.append(err.value.lowest_peak_bytes)
    assert lows[0] == lows[1] and lows[0] > 50_000
    assert math.isfinite(lows[0])


class PointwiseConvs(nn.Module):
    """An inverted bottleneck of 1x1 convolutions (pointwise over H, W) at batch 1."""

    def __init__(self, c: int = 8) -> None:
        super().__init__()
        self.up, self.down = nn.Conv2d(c, 16 * c, 1), nn.Conv2d(16 * c, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.down(F.silu(self.up(x)))


def test_pointwise_convolutions_are_chunked_spatially_at_batch_one() -> None:
    """Batch 1 leaves nothing to chunk but H and W: 1x1 convs chunk along them."""
    torch.manual_seed(0)
    model, x = PointwiseConvs().eval(), torch.randn(1, 8, 64, 64)
    chunked = autochunk(model, (x,), 0.3)
    dims = {d for r in chunked.plan.regions for _, d in r.chunk_dims}
    assert dims and dims <= {2, 3}
    _close(chunked(x), model(x))
    assert profiler_peak_bytes(lambda: chunked(x)) < 0.5 * profiler_peak_bytes(lambda: model(x))
