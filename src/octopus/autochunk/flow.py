"""Graph facts for the search, and chunk-flow tracing of one candidate region.

:class:`GraphInfo` reads the meta written by :mod:`capture` (``val``, ``ac.out_bytes``,
``ac.temp_bytes``, ``ac.alias``, ``ac.flops``) plus the dim rules of :mod:`rules`, into flat
per-node arrays. :func:`trace_flow` decides whether nodes ``start..end`` can run chunked along
output dim ``dim`` of ``end`` and returns the :class:`Flow` (which node is chunked along which dim,
which are hoisted, which outside tensors are sliced), or ``None`` when any legality rule fails:

1. every chunked dim descends from a chunked input dim through the op's rule;
2. no chunked dim is blocked (computed along) by its op;
3. every chunked node has the same extent along its dim;
4. a node reached along two paths gets one dim (else it is hoisted if it may be, or the flow fails);
5. inputs used by a chunked node are sliced along their mapped dim or used whole (broadcast);
6. every chunked node used after the region is a tensor with a legal chunk dim (pre-allocated).

Barrier nodes (no rule) are never chunked. One inside the range is *hoisted* (computed whole
before the loop) when it does not depend on chunked data and is pure (not in-place, no side
effect; e.g. a position-bias gather from parameters); otherwise the range is illegal. Nothing here
mutates the graph.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

import torch
from torch import fx

from .rules import DimMap, dim_map, node_shape

__all__ = ["Flow", "GraphInfo", "trace_flow"]

# ops that copy a non-contiguous input before computing (matched by name: function, method or
# module class); used by the estimator to add a copy of sliced inputs read by them
_CONTIGUOUS_OPS = ("linear", "matmul", "bmm", "einsum", "conv", "scaled_dot_product", "Linear",
                   "Conv", "reshape", "view", "layer_norm", "LayerNorm", "group_norm", "GroupNorm")


@dataclass
class GraphInfo:
    """Flat per-node facts of an annotated graph (index = position in graph order)."""

    gm: fx.GraphModule
    nodes: list[fx.Node] = field(default_factory=list)
    index: dict[fx.Node, int] = field(default_factory=dict)
    dims: list[DimMap | None] = field(default_factory=list)
    out_bytes: list[int] = field(default_factory=list)
    temp_bytes: list[int] = field(default_factory=list)
    full_bytes: list[int] = field(default_factory=list)
    flops: list[int] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)  # storage owner index, -1 = input/parameter
    free_at: list[int] = field(default_factory=list)  # for owners: last use; n = never (output)
    users: list[list[int]] = field(default_factory=list)
    inputs: list[list[int]] = field(default_factory=list)
    needs_contiguous: list[bool] = field(default_factory=list)
    workspace: list[tuple[int, int, int, int] | None] = field(default_factory=list)
    frees: list[list[int]] = field(default_factory=list)  # owners freed after node i

    @classmethod
    def build(cls, gm: fx.GraphModule) -> GraphInfo:
        """Collect the facts; barrier nodes get ``dims[i] = None``."""
        info = cls(gm)
        info.nodes = list(gm.graph.nodes)
        info.index = {n: i for i, n in enumerate(info.nodes)}
        by_name = {n.name: i for i, n in enumerate(info.nodes)}
        n_nodes = len(info.nodes)
        for i, node in enumerate(info.nodes):
            is_op = node.op in ("call_function", "call_method", "call_module")
            info.dims.append(dim_map(node, gm) if is_op else None)
            info.out_bytes.append(int(node.meta.get("ac.out_bytes", 0)))
            info.temp_bytes.append(int(node.meta.get("ac.temp_bytes", 0)))
            info.flops.append(int(node.meta.get("ac.flops", 0)))
            info.workspace.append(node.meta.get("ac.workspace"))
            val = node.meta.get("val")
            info.full_bytes.append(val.numel() * val.element_size()
                                   if isinstance(val, torch.Tensor) else 0)
            alias = node.meta.get("ac.alias")
            if node.op in ("placeholder", "get_attr", "output"):
                info.owner.append(-1)
            elif alias is not None:
                j = by_name.get(alias, -1)
                info.owner.append(info.owner[j] if j >= 0 else -1)
            else:
                info.owner.append(i if info.out_bytes[i] > 0 else -1)
            info.inputs.append([info.index[a] for a in node.all_input_nodes])
            name = node.target if isinstance(node.target, str) else getattr(
                node.target, "__name__", "")
            if node.op == "call_module":
                name = type(gm.get_submodule(str(node.target))).__name__
            info.needs_contiguous.append(any(k in str(name) for k in _CONTIGUOUS_OPS))
        info.users = [[] for _ in info.nodes]
        for i, ins in enumerate(info.inputs):
            for j in ins:
                info.users[j].append(i)
        info.free_at = [-1] * n_nodes
        for i in range(n_nodes):
            o = info.owner[i]
            if o < 0:
                continue
            last = max([i, *info.users[i]])
            if info.nodes[last].op == "output":
                last = n_nodes
            info.free_at[o] = max(info.free_at[o], last)
        info.frees = [[] for _ in info.nodes]
        for o, last in enumerate(info.free_at):
            if 0 <= last < n_nodes:
                info.frees[last].append(o)
        return info

    def shape(self, i: int) -> tuple[int, ...] | None:
        """Static shape of node ``i`` (first element for tuple outputs)."""
        return node_shape(self.nodes[i])

    def is_tensor(self, i: int) -> bool:
        """Whether node ``i`` outputs a single tensor."""
        return isinstance(self.nodes[i].meta.get("val"), torch.Tensor)


@dataclass(frozen=True)
class Flow:
    """A legal chunk flow over nodes ``start..end`` (indices into :class:`GraphInfo`)."""

    start: int
    end: int
    dim: int
    extent: int
    chunked: tuple[tuple[int, int], ...]  # (node, dim) in graph order
    hoisted: tuple[int, ...]
    sliced: tuple[tuple[int, int], ...]  # (outside or hoisted node, dim)
    outputs: tuple[int, ...]


_WHOLE = -1


def trace_flow(info: GraphInfo, start: int, end: int, dim: int) -> Flow | None:
    """The flow chunking ``end`` along ``dim`` over ``start..end``, or ``None`` if illegal."""
    region = range(start, end + 1)
    if info.dims[end] is None:
        return None
    for i in region:
        if info.dims[i] is None and not _hoistable(info.nodes[i]):
            return None  # a barrier that may not move before the loop
    shape = info.shape(end)
    if shape is None or not info.is_tensor(end) or not 0 <= dim < len(shape) or shape[dim] < 2:
        return None
    extent = shape[dim]
    forced: set[int] = set()
    for _ in range(end - start + 2):  # each restart hoists one more node
        result = _solve(info, start, end, dim, extent, forced)
        if isinstance(result, Flow) or result is None or result in forced:
            return result if not isinstance(result, int) else None
        forced.add(result)
    return None


def _hoistable(node: fx.Node) -> bool:
    """Whether a barrier node may be computed before the loop: a pure op (not in-place, not
    ``setitem``, no side effect). Whether it depends on chunked data is checked by the flow."""
    if node.op == "get_attr":
        return True
    if node.op not in ("call_function", "call_method", "call_module") or node.is_impure():
        return False
    name = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", "")
    if "setitem" in name:
        return False
    if getattr(node.target, "__module__", None) in ("_operator", "operator"):
        return not (name.startswith("i") and hasattr(operator, name[1:]))  # iadd, imul: in place
    return not (name.endswith("_") and not name.endswith("__"))  # x.add_(y), torch.relu_(x)


def _solve(info: GraphInfo, start: int, end: int, dim: int, extent: int,
           forced: set[int]) -> Flow | int | None:
    """One propagation. Returns a Flow, ``None`` (illegal) or a node index to hoist and retry."""
    if end in forced:
        return None
    state: dict[int, int] = {end: dim}  # node -> chunk dim, or _WHOLE (hoisted)
    sliced: set[tuple[int, int]] = set()
    work = [end]
    while work:
        k = work.pop()
        d = state[k]
        dm = info.dims[k]
        assert dm is not None
        if not dm.chunkable(d):
            return k if k != end else None
        # backward: what each input must supply
        for pos, inp in enumerate(dm.inputs):
            j = info.index[inp]
            jd = dm.out_map[d][pos]
            ishape = info.shape(j) or ()
            if jd is not None and ishape[jd] == 1:
                jd = None
            if jd is not None and ishape[jd] != extent:
                return None  # rule 3
            whole_j = not (start <= j <= end) or state.get(j) == _WHOLE or j in forced
            if jd is not None and whole_j and not info.is_tensor(j):
                return k if k != end else None  # a tuple cannot be sliced: compute k whole
            if start <= j <= end:
                want = _WHOLE if jd is None else jd
                have = state.get(j)
                if have is None:
                    jdm = info.dims[j]
                    if want != _WHOLE and (j in forced or jdm is None or not jdm.chunkable(want)):
                        if not info.is_tensor(j):
                            return k if k != end else None
                        want = _WHOLE  # computed whole before the loop, then sliced
                    state[j] = want
                    if want != _WHOLE:
                        work.append(j)
                    elif jd is not None:
                        sliced.add((j, jd))
                elif have == _WHOLE:
                    if jd is not None:
                        sliced.add((j, jd))
                elif have != want:
                    return j  # rule 4: two dims (or chunked and whole): hoist it and retry
            elif jd is not None:
                sliced.add((j, jd))
        # forward: every in-region user of a chunked node must be chunked consistently
        for u in info.users[k]:
            if not start <= u <= end:
                continue
            udm = info.dims[u]
            if udm is None:
                return k  # a barrier reads k: compute k whole (the barrier is hoisted)
            pos = [p for p, x in enumerate(udm.inputs) if info.index[x] == k]
            if not pos:
                return k  # used through a non-tensor argument: hoist it
            ud = udm.out_dim_for(pos[0], d)
            if ud is None or any(udm.out_map[ud][p] != d for p in pos):
                return k  # the dim is reduced by a user: hoist k (fails if k is the end)
            have = state.get(u)
            if have is None:
                if u in forced:
                    return k
                state[u] = ud
                work.append(u)
            elif have != ud:
                return k  # u is read whole, or along another dim: compute k whole instead
    # hoisted nodes must not depend on chunked nodes (checked by forward propagation above);
    # nodes never reached are hoisted as well
    chunked = tuple(sorted((i, dd) for i, dd in state.items() if dd != _WHOLE))
    hoisted = tuple(i for i in range(start, end + 1) if state.get(i, _WHOLE) == _WHOLE)
    for i in hoisted:
        if any(state.get(j, _WHOLE) != _WHOLE for j in info.inputs[i] if start <= j <= end):
            return None
    outputs = []
    for i, _ in chunked:
        if any(u > end for u in info.users[i]):
            if not info.is_tensor(i):
                return None  # rule 6: tuples cannot be pre-allocated
            outputs.append(i)
    return Flow(start, end, dim, extent, chunked, hoisted, tuple(sorted(sliced)), tuple(outputs))
