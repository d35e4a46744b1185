"""Legality decisions of the dim-tracing rules and of flow tracing, on 2-6 node graphs."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import fx, nn

from octopus.autochunk import capture
from octopus.autochunk.flow import GraphInfo, trace_flow
from octopus.autochunk.rules import RULES, dim_map, register_rule


def _info(fn, *inputs: torch.Tensor) -> GraphInfo:  # noqa: ANN001
    """Trace a function or module (placeholders keep the argument names) and collect facts."""
    return GraphInfo.build(capture(fn, inputs))


def _node(info: GraphInfo, name: str) -> int:
    return next(i for i, n in enumerate(info.nodes) if n.name == name)


def _ops(info: GraphInfo) -> list[int]:
    return [i for i, n in enumerate(info.nodes) if n.op.startswith("call")]


@pytest.mark.parametrize("fn", [
    lambda x: torch.softmax(x, -1),
    lambda x: torch.softmax(x, dim=-1),
    lambda x: x.softmax(-1),
    lambda x: F.softmax(x, dim=3),
    nn.Softmax(dim=-1),
])
def test_softmax_dim_is_never_chunked_whatever_the_spelling(fn) -> None:  # noqa: ANN001
    """softmax(x, -1), softmax(x, dim=-1), x.softmax(-1), F.softmax, nn.Softmax: same decision."""
    info = _info(fn, torch.randn(2, 3, 8, 8))
    (i,) = _ops(info)
    dm = info.dims[i]
    assert dm is not None and dm.blocked == frozenset({3})
    assert trace_flow(info, i, i, 3) is None
    assert all(trace_flow(info, i, i, d) is not None for d in range(3))


def test_matmul_contraction_dim_is_never_chunked() -> None:
    """x @ y: rows of x and columns of y may be chunked; the shared k dim of either never."""
    info = _info(lambda x, y: x @ y, torch.randn(2, 6, 5), torch.randn(2, 5, 7))
    (i,) = _ops(info)
    dm = info.dims[i]
    assert dm.out_map == ((0, 0), (1, None), (None, 2))
    flow = trace_flow(info, i, i, 1)
    assert flow is not None and flow.sliced == ((_node(info, "x"), 1),)
    flow = trace_flow(info, i, i, 2)
    assert flow is not None and flow.sliced == ((_node(info, "y"), 2),)
    for d in range(3):  # the contraction dim (x dim 2, y dim 1) is sliced by no flow
        f = trace_flow(info, i, i, d)
        assert (_node(info, "x"), 2) not in f.sliced and (_node(info, "y"), 1) not in f.sliced


@pytest.mark.parametrize("fn", [
    lambda x, w: F.linear(x, w),
    lambda x, w: torch.einsum("bsk,nk->bsn", x, w),
])
def test_linear_and_einsum_contractions_are_not_outputs(fn) -> None:  # noqa: ANN001
    """linear/einsum: the contracted dim has no output dim; the weight is used whole."""
    info = _info(fn, torch.randn(2, 6, 5), torch.randn(4, 5))
    (i,) = _ops(info)
    flow = trace_flow(info, i, i, 1)
    assert flow is not None and flow.sliced == ((_node(info, "x"), 1),)
    if info.dims[i].blocked:  # linear blocks its output features; einsum maps them to w
        assert trace_flow(info, i, i, 2) is None


def test_broadcast_dims_get_no_chunk_dim() -> None:
    """x (2,6,5) + b (1,6,5): chunking dim 0 slices x only; b is used whole."""
    info = _info(lambda x, b: x + b, torch.randn(2, 6, 5), torch.randn(1, 6, 5))
    (i,) = _ops(info)
    assert info.dims[i].out_map[0] == (0, None)
    flow = trace_flow(info, i, i, 0)
    assert flow.sliced == ((_node(info, "x"), 0),)
    flow = trace_flow(info, i, i, 1)
    assert set(flow.sliced) == {(_node(info, "x"), 1), (_node(info, "b"), 1)}


def test_reductions_and_norms_block_their_dims() -> None:
    """sum over a dim, layer norm's last dim and group norm's channel dims are computed."""
    info = _info(lambda x: x.sum(1, keepdim=True) + F.layer_norm(x, (5,)), torch.randn(2, 6, 5))
    s, ln = _node(info, "sum_1"), _node(info, "layer_norm")
    assert info.dims[s].blocked == frozenset({1})
    assert info.dims[ln].blocked == frozenset({2})
    gn = _info(lambda x: F.group_norm(x, 2), torch.randn(3, 4, 5, 5))
    (i,) = _ops(gn)
    assert gn.dims[i].blocked == frozenset({1, 2, 3})


def test_conv_only_batch_is_chunkable() -> None:
    """conv2d mixes channels and neighbouring pixels: only dim 0 flows."""
    conv = nn.Conv2d(3, 4, 3, padding=1)
    info = _info(conv, torch.randn(2, 3, 8, 8))
    (i,) = _ops(info)
    assert [trace_flow(info, i, i, d) is not None for d in range(4)] == [True, False, False, False]


def test_view_maps_only_one_to_one_dims() -> None:
    """(2,6,8) -> (2,6,2,4): dims 0 and 1 flow, the split channel dims do not."""
    info = _info(lambda x: x.view(2, 6, 2, 4), torch.randn(2, 6, 8))
    (i,) = _ops(info)
    assert info.dims[i].out_map == ((0,), (1,), (None,), (None,))


def test_getitem_with_offset_slice_is_blocked() -> None:
    """x[:, 1:] shifts positions along dim 1, so dim 1 may not be chunked; dim 0 may."""
    info = _info(lambda x: x[:, 1:] * 2, torch.randn(4, 6))
    gi = _node(info, "getitem")
    assert info.dims[gi].blocked == frozenset({1})


def test_sdpa_keys_stay_whole_and_causal_blocks_queries() -> None:
    """SDPA chunks query rows (slicing q and the mask rows); causal attention cannot."""
    q, k, v = (torch.randn(1, 2, 8, 4) for _ in range(3))
    m = torch.randn(1, 1, 8, 8)
    info = _info(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m), q, k,
                 v, m)
    (i,) = _ops(info)
    flow = trace_flow(info, i, i, 2)
    assert set(flow.sliced) == {(_node(info, "q"), 2), (_node(info, "m"), 2)}
    causal = _info(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                   q, k, v)
    (j,) = _ops(causal)
    assert trace_flow(causal, j, j, 2) is None and trace_flow(causal, j, j, 1) is not None


def test_creation_ops_are_resized_not_sliced() -> None:
    """torch.full inside a region is re-created at chunk size; arange is computed whole."""
    info = _info(lambda x: x + torch.full(x.shape, 1.0), torch.randn(6, 5))
    full, add = _node(info, "full"), _node(info, "add")
    flow = trace_flow(info, full, add, 0)
    assert dict(flow.chunked)[full] == 0 and info.dims[full].resize == "factory"
    ar = _info(lambda x: x + torch.arange(x.shape[1]), torch.randn(6, 5))
    a, add = _node(ar, "arange"), _node(ar, "add")
    flow = trace_flow(ar, a, add, 1)
    assert a in flow.hoisted and (a, 0) in flow.sliced


def test_unknown_op_is_a_barrier_not_a_crash() -> None:
    """An op with no rule gets no DimMap and is never chunked: a pure one is computed whole
    before the loop (hoisted), an in-place one makes the range illegal."""
    info = _info(lambda x: torch.flip(x, dims=[0]) * 2, torch.randn(6, 5))
    flip, mul = _node(info, "flip"), _node(info, "mul")
    assert info.dims[flip] is None
    flow = trace_flow(info, flip, mul, 1)
    assert flow is not None and flip in flow.hoisted and (flip, 1) in flow.sliced
    assert trace_flow(info, mul, mul, 1) is not None
    inplace = _info(lambda x: (x * 2).add_(1) * 3, torch.randn(6, 5))
    first, add_, last = (_node(inplace, n) for n in ("mul", "add_", "mul_1"))
    assert inplace.dims[add_] is None
    assert trace_flow(inplace, first, last, 1) is None


def test_node_reached_two_ways_gets_one_dim() -> None:
    """x @ x.T chunked on rows would need x sliced on two dims: x is read whole on one side."""
    info = _info(lambda y: (lambda x: x @ x.transpose(0, 1))(y.relu()), torch.randn(6, 5))
    relu, mm = _node(info, "relu"), _node(info, "matmul")
    flow = trace_flow(info, relu, mm, 0)
    assert flow is not None and relu in flow.hoisted


def test_register_rule_rejects_duplicates() -> None:
    """The rule table refuses a second rule for a key it already has."""
    assert torch.softmax in RULES
    with pytest.raises(ValueError, match="duplicate"):
        register_rule(torch.softmax)(lambda node, a, mod: None)


def test_odd_arguments_make_a_barrier() -> None:
    """A rule that cannot read its arguments returns None (barrier), it does not raise."""
    g = fx.Graph()
    x = g.placeholder("x")
    x.meta["val"] = torch.randn(2, 3)
    n = g.call_function(torch.softmax, (x,), {"bogus": 1})
    n.meta["val"] = torch.randn(2, 3)
    assert dim_map(n, nn.Module()) is None


def test_reshape_never_chunks_a_merged_dim() -> None:
    """(2, 3, 4) -> (6, 4): dim 0 merges two input dims (as repeat_kv's reshape does), so it is
    blocked; dim 1 maps one to one."""
    info = _info(lambda x: (x * 2).reshape(6, 4), torch.randn(2, 3, 4))
    r = _node(info, "reshape")
    assert info.dims[r].blocked == frozenset({0})
    assert info.dims[r].out_map[1] == (2,)
