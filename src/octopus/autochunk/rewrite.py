"""Graph rewrites that give the search more to chunk, applied to an annotated graph.

:func:`rewrite` reads the ``ac.*`` meta of :mod:`capture` and mutates ``gm`` in place (its
caller re-annotates it); it returns the names of the rewrites applied. Both rewrites keep the
computed values exactly (same ops on the same data, only split or repeated):

1. **Split fused projections** (:func:`split_fused_projections`): a ``linear``/``addmm``/
   ``nn.Linear`` whose output is only reshaped (last dim kept) and then split along its last dim
   (``split``/``chunk`` + ``getitem``, GPT-2's ``c_attn``) becomes one projection per part, on
   views of the weight and bias. Attention chunked over queries can then compute the ``q`` part
   per chunk while ``K`` and ``V`` stay whole, instead of holding the whole fused output.
2. **Recompute cheap shared tensors** (:func:`recompute_shared`): a large tensor computed once
   from small inputs by cheap pure ops and read far apart (an attention mask or position bias
   shared by every layer) is recomputed right before each of its users, so it is not kept alive
   across the model; a chunk region can then compute its slice per chunk. Applied only when the
   tensor is at least 4x the bytes of the activations it is made from, so it never raises the
   live set, and when the repeated work stays under 5% of the graph's FLOPs.

3. **Recompute the query projection's input** (:func:`recompute_query_inputs`): when the input
   of the query projection of a ``scaled_dot_product_attention`` is also read by the key/value
   projections and is made by a few cheap pure ops (a pre-norm ``layer_norm`` or RMS norm) from
   tensors that stay alive anyway (the residual), the query side gets its own copy of those ops.
   The key/value side is then computed whole before a query-chunked loop and freed, while the
   query side is normalised chunk by chunk.

None raises; a pattern that does not match exactly is left alone.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from .flow import _hoistable

__all__ = ["recompute_query_inputs", "recompute_shared", "rewrite", "split_fused_projections"]

_VIEWS = ("view", "reshape")


def rewrite(gm: fx.GraphModule) -> list[str]:
    """Apply every rewrite of the module doc; returns the names of those that changed ``gm``."""
    done = []
    for name, fn in (("split-fused-projection", split_fused_projections),
                     ("recompute-shared", recompute_shared),
                     ("recompute-query-input", recompute_query_inputs)):
        if fn(gm):
            done.append(name)
    if done:
        gm.graph.eliminate_dead_code()
        gm.graph.lint()
        gm.recompile()
    return done


# --- 1. fused projections ------------------------------------------------------------------------

def split_fused_projections(gm: fx.GraphModule) -> int:
    """Split each fused projection (see module doc); returns how many were split."""
    count = 0
    for node in list(gm.graph.nodes):
        proj = _projection(gm, node)
        if proj is None:
            continue
        chain, split = _views_then_split(node)
        if split is None:
            continue
        sizes = _split_sizes(split, int(node.meta["val"].shape[-1]))
        if sizes is None:
            continue
        _replace(gm, node, proj, chain, split, sizes)
        count += 1
    return count


def _projection(gm: fx.GraphModule, node: fx.Node) -> tuple[str, Any, Any, fx.Node] | None:
    """``(kind, weight, bias, input)`` of a projection node, else None. Weight and bias are
    nodes, ``None`` (no bias) or, for ``nn.Linear``, attribute paths (``"fc.weight"``)."""
    args = node.args
    if node.kwargs or not args or not isinstance(args[0], fx.Node):
        return None
    if node.op == "call_function" and node.target in (F.linear, torch._C._nn.linear) and all(
            isinstance(a, fx.Node) or a is None for a in [*args, None][:3]):
        return "linear", args[1], [*args, None][2], args[0]
    if node.op == "call_function" and node.target is torch.addmm and len(args) == 3 and all(
            isinstance(a, fx.Node) for a in args):
        return "addmm", args[2], args[0], args[1]
    if node.op == "call_module" and len(args) == 1 and isinstance(
            mod := gm.get_submodule(str(node.target)), nn.Linear):
        bias = None if mod.bias is None else f"{node.target}.bias"
        return "linear", f"{node.target}.weight", bias, args[0]
    return None


def _views_then_split(node: fx.Node) -> tuple[list[fx.Node], fx.Node | None]:
    """The view/reshape chain (last dim kept) from ``node`` to a split along the last dim."""
    chain: list[fx.Node] = []
    cur = node
    last = int(node.meta["val"].shape[-1])
    while len(cur.users) == 1:
        (user,) = cur.users
        val = user.meta.get("val")
        if user.op == "call_method" and user.target in _VIEWS and isinstance(val, torch.Tensor) \
                and int(val.shape[-1]) == last:
            chain.append(user)
            cur = user
            continue
        if _is_last_dim_split(user, cur):
            return chain, user
        break
    return chain, None


def _is_last_dim_split(user: fx.Node, src: fx.Node) -> bool:
    if user.target not in ("split", "chunk", torch.split, torch.chunk) or user.args[0] is not src:
        return False
    rank = src.meta["val"].dim()
    dim = user.kwargs.get("dim", user.args[2] if len(user.args) > 2 else 0)
    return isinstance(dim, int) and dim % rank == rank - 1 and all(
        u.target is operator.getitem and isinstance(u.args[1], int) for u in user.users)


def _split_sizes(split: fx.Node, total: int) -> list[int] | None:
    arg = split.args[1] if len(split.args) > 1 else split.kwargs.get(
        "split_size_or_sections", split.kwargs.get("chunks"))
    if split.target in ("chunk", torch.chunk):
        if not isinstance(arg, int) or total % arg:
            return None
        return [total // arg] * arg
    if isinstance(arg, int):
        return [min(arg, total - i) for i in range(0, total, arg)]
    if isinstance(arg, (list, tuple)) and all(isinstance(a, int) for a in arg):
        return list(arg)
    return None


def _replace(gm: fx.GraphModule, node: fx.Node, proj: tuple, chain: list[fx.Node],
             split: fx.Node, sizes: list[int]) -> None:
    kind, weight, bias, x = proj
    g = gm.graph
    parts: list[fx.Node] = []
    offset = 0
    with g.inserting_before(node):
        weight, bias = (g.get_attr(a) if isinstance(a, str) else a for a in (weight, bias))
        for size in sizes:
            w_dim = 0 if kind == "linear" else 1  # linear: (out, in); addmm: (in, out)
            w = g.call_method("narrow", (weight, w_dim, offset, size))
            b = None if bias is None else g.call_method("narrow", (bias, 0, offset, size))
            if kind == "linear":
                out = g.call_function(F.linear, (x, w, b))
            else:
                out = g.call_function(torch.addmm, (b, x, w))
            for view in chain:
                shape = [int(s) for s in view.meta["val"].shape[:-1]] + [size]
                out = g.call_method("reshape", (out, tuple(shape)))
            parts.append(out)
            offset += size
    for user in list(split.users):
        user.replace_all_uses_with(parts[user.args[1]])
        g.erase_node(user)
    g.erase_node(split)
    for view in reversed(chain):
        g.erase_node(view)
    g.erase_node(node)


# --- 2. cheap shared tensors ---------------------------------------------------------------

def recompute_shared(gm: fx.GraphModule, *, min_span_nodes: int = 5, ratio: float = 4.0,
                     max_cone_nodes: int = 16, max_flops_share: float = 0.05) -> int:
    """Recompute each cheap shared tensor before its users (see module doc); returns how many."""
    nodes = list(gm.graph.nodes)
    order = {n: i for i, n in enumerate(nodes)}
    total_flops = sum(int(n.meta.get("ac.flops", 0)) for n in nodes) or 1
    count = 0
    done: set[fx.Node] = set()  # nodes of cones already recomputed (now dead)
    for node in nodes:
        if node in done:
            continue
        big = _nbytes(node)
        if big == 0 or node.op not in ("call_function", "call_method") or not _hoistable(node):
            continue
        readers = _readers(node)
        if len(readers) < 2 or order[readers[-1][0]] - order[readers[0][0]] < min_span_nodes:
            continue
        cone = _cone(node, big / ratio, max_cone_nodes)
        if cone is None:
            continue
        leaves = {a for n in cone for a in n.all_input_nodes if a not in cone}
        if sum(_nbytes(a) for a in leaves if a.op not in ("get_attr", "placeholder")) > big / ratio:
            continue
        flops = sum(int(n.meta.get("ac.flops", 0)) for n in cone)
        if flops * len(readers) > max_flops_share * total_flops:
            continue
        _recompute_before_readers(gm, cone, readers)
        done.update(cone)
        count += 1
    return count


def _nbytes(node: fx.Node) -> int:
    val = node.meta.get("val")
    if not isinstance(val, torch.Tensor) or node.meta.get("ac.alias") is not None:
        return 0
    return int(node.meta.get("ac.out_bytes", 0))


def _readers(node: fx.Node) -> list[tuple[fx.Node, fx.Node]]:
    """``(user, read node)`` for every user of ``node`` or of a view chain over it, in order."""
    out: list[tuple[fx.Node, fx.Node]] = []
    stack = [node]
    while stack:
        cur = stack.pop()
        for user in cur.users:
            if user.meta.get("ac.alias") is not None and _hoistable(user) and len(
                    user.all_input_nodes) == 1:
                stack.append(user)  # a view of the shared tensor: follow it
            else:
                out.append((user, cur))
    return sorted(out, key=lambda r: _position(r[0]))


def _position(node: fx.Node) -> int:
    i = 0
    for n in node.graph.nodes:
        if n is node:
            return i
        i += 1
    return i


def _cone(node: fx.Node, small_bytes: float, limit: int) -> list[fx.Node] | None:
    """Pure nodes computing ``node`` from small inputs (graph order), or None if too costly."""
    cone = _pure_cone(node, limit, lambda a: a.op in ("placeholder", "get_attr") or (
        _nbytes(a) <= small_bytes and a.meta.get("ac.alias") is None))
    return None if cone is None else sorted(cone, key=_position)


def _pure_cone(node: fx.Node, limit: int, is_leaf: Callable[[fx.Node], bool]
               ) -> set[fx.Node] | None:
    """The pure nodes computing ``node``, walking back until inputs ``is_leaf`` accepts; None
    if an impure node is reached or the cone grows past ``limit`` nodes."""
    cone: set[fx.Node] = set()
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur in cone:
            continue
        if cur.op not in ("call_function", "call_method") or not _hoistable(cur):
            return None
        cone.add(cur)
        if len(cone) > limit:
            return None
        stack.extend(a for a in cur.all_input_nodes if not is_leaf(a))
    return cone


def _recompute_before_readers(gm: fx.GraphModule, cone: list[fx.Node],
                              readers: list[tuple[fx.Node, fx.Node]]) -> None:
    """Give each reader its own copy of the cone (and of the view chain it reads through)."""
    g = gm.graph
    for user, read in readers:
        chain = _chain(read, cone)
        env = _copy_before(g, user, cone + chain)
        user.replace_input_with(read, env[read])


def _copy_before(g: fx.Graph, where: fx.Node, nodes: list[fx.Node]) -> dict[fx.Node, fx.Node]:
    """Copy ``nodes`` (in order, reading each other's copies) before ``where``; old -> new."""
    env: dict[fx.Node, fx.Node] = {}
    with g.inserting_before(where):
        for n in nodes:
            env[n] = g.node_copy(n, lambda a: env.get(a, a))
    return env


def _chain(read: fx.Node, cone: list[fx.Node]) -> list[fx.Node]:
    """The view nodes from the cone's output to ``read`` (empty when ``read`` is in the cone)."""
    chain = []
    cur = read
    while cur not in cone:
        chain.append(cur)
        cur = cur.all_input_nodes[0]
    return chain[::-1]


# --- 3. the query projection's input -----------------------------------------------------------

def recompute_query_inputs(gm: fx.GraphModule, *, max_cone_nodes: int = 12) -> int:
    """Give each attention's query projection its own copy of its cheap input (module doc)."""
    count = 0
    for sdpa in list(gm.graph.nodes):
        if sdpa.op != "call_function" or sdpa.target is not F.scaled_dot_product_attention:
            continue
        proj = _nearest_projection(gm, sdpa.args[0] if sdpa.args else sdpa.kwargs.get("query"))
        if proj is None:
            continue
        x = proj.args[0] if proj.target is not torch.addmm else proj.args[1]
        if not isinstance(x, fx.Node) or len(x.users) < 2:
            continue
        cone = _alive_cone(x, proj, max_cone_nodes)
        if cone is None:
            continue
        env = _copy_before(gm.graph, proj, cone)
        proj.replace_input_with(x, env[x])
        count += 1
    return count


def _nearest_projection(gm: fx.GraphModule, q: object, depth: int = 24) -> fx.Node | None:
    """The closest projection above the query (through views, rotary embedding, casts)."""
    frontier = [q] if isinstance(q, fx.Node) else []
    seen: set[fx.Node] = set()
    while frontier and depth > 0:
        depth -= 1
        cur = frontier.pop(0)
        if cur in seen:
            continue
        seen.add(cur)
        if cur.op in ("call_function", "call_module") and _projection_kind(gm, cur):
            return cur
        frontier += [a for a in cur.all_input_nodes if a.op != "get_attr"]
    return None


def _projection_kind(gm: fx.GraphModule, node: fx.Node) -> bool:
    if node.op == "call_module":
        return isinstance(gm.get_submodule(str(node.target)), nn.Linear)
    return node.target in (F.linear, torch._C._nn.linear, torch.addmm)


def _alive_cone(x: fx.Node, proj: fx.Node, limit: int) -> list[fx.Node] | None:
    """Pure nodes computing ``x`` from tensors still alive at ``proj`` (or parameters)."""
    position = {n: i for i, n in enumerate(x.graph.nodes)}
    at = position[proj]
    cone = _pure_cone(x, limit, lambda a: a.op in ("placeholder", "get_attr") or max(
        (position[u] for u in a.users), default=-1) > at)
    return None if cone is None else sorted(cone, key=position.__getitem__)
