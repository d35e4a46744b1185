"""Dimension-tracing rules: how each op's output dims descend from its input dims.

A rule looks at one FX node (args and kwargs normalised against the op's signature) and returns
a :class:`DimMap`, or ``None`` when it cannot vouch for the node (unsupported arguments). A node
whose target has no rule, or whose rule returns ``None``, is a *barrier*: no chunk region may
contain it. Rules never raise on odd arguments; they return ``None``.

Rules live in one table filled by :func:`register_rule`, keyed by function object
(``torch.softmax``, ``F.softmax``, ``operator.add``), by method name string (``"softmax"`` for
``x.softmax(...)``) or by module class (``nn.Softmax``).
Registering a key twice raises ``ValueError``.

Reads ``node.meta["val"]`` (FakeTensor or tuple of them) of the node and of its inputs.
The whole table lives in this one file on purpose (one place to audit legality), hence its size.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import fx, nn

__all__ = ["DimMap", "RULES", "dim_map", "lookup_rule", "node_shape", "pointwise_rule",
           "register_rule"]

Resize = Literal["reshape", "expand", "factory"] | None


@dataclass(frozen=True)
class DimMap:
    """How the output dims of a node relate to its tensor inputs.

    Attributes:
        inputs: tensor-valued input nodes, in a fixed order.
        out_map: ``out_map[d][i]`` is the dim of ``inputs[i]`` that output dim ``d`` descends from,
            or ``None`` when input ``i`` has no such dim or broadcasts it (size 1): that input is
            then used whole when ``d`` is chunked.
        blocked: output dims that are computed along (reduced, normalised, contracted, sliced
            with an offset...) and may never be chunked.
        resize: how code generation rewrites a size argument when the node is chunked:
            ``"reshape"``/``"expand"`` (shape argument) or ``"factory"`` (creation op size).
        size_args: for ``"factory"``: how many leading positional args form the size.
    """

    inputs: tuple[fx.Node, ...]
    out_map: tuple[tuple[int | None, ...], ...]
    blocked: frozenset[int] = frozenset()
    resize: Resize = None
    size_args: int = 0

    def chunkable(self, d: int) -> bool:
        """Whether output dim ``d`` may be chunked."""
        return 0 <= d < len(self.out_map) and d not in self.blocked

    def out_dim_for(self, i: int, k: int) -> int | None:
        """The unblocked output dim that descends from dim ``k`` of input ``i``, if any."""
        for d, row in enumerate(self.out_map):
            if row[i] == k and d not in self.blocked:
                return d
        return None


RuleFn = Callable[[fx.Node, dict[str, Any], nn.Module | None], DimMap | None]
RULES: dict[object, tuple[RuleFn, Callable[..., Any] | None]] = {}


def register_rule(
    *keys: object, sig: Callable[..., Any] | None = None
) -> Callable[[RuleFn], RuleFn]:
    """Decorator: ``fn`` becomes the dim rule of every key (public; see module doc).

    A key is what a graph node calls: a function object (``torch.addmm``, a user function kept
    as one node by ``torch.fx.wrap`` or ``torch._dynamo.allow_in_graph``), a method name
    (``"softmax"``) or a module class. ``fn(node, args, module) -> DimMap | None`` gets the node,
    its arguments bound to ``sig`` by name (``{}`` without ``sig``) and, for module calls, the
    module; it returns how each output dim descends from the tensor inputs and which dims are
    computed along (``blocked``), or ``None`` to leave this node a barrier. Example::

        @torch.fx.wrap
        def scaled_gelu(x, s):  # elementwise in x
            return torch.nn.functional.gelu(x) * s

        register_rule(scaled_gelu)(pointwise_rule)

    Raises:
        ValueError: a key already has a rule.
    """

    def deco(fn: RuleFn) -> RuleFn:
        # dict.fromkeys: some public names are aliases of one object (F.conv1d is torch.conv1d)
        for key in dict.fromkeys(keys):
            if key in RULES:
                raise ValueError(f"duplicate dim rule for {key!r}")
            RULES[key] = (fn, sig)
        return fn

    return deco


def lookup_rule(node: fx.Node, root: nn.Module) -> tuple[RuleFn, Callable[..., Any] | None,
                                                      nn.Module | None] | None:
    """The rule for ``node`` and its module (for ``call_module``), or ``None`` (barrier)."""
    mod = None
    if node.op == "call_function":
        key: object = node.target
    elif node.op == "call_method":
        key = node.target
    elif node.op == "call_module":
        mod = root.get_submodule(str(node.target))
        key = type(mod)
    else:
        return None
    try:
        entry = RULES.get(key)
    except TypeError:  # unhashable target
        return None
    return None if entry is None else (entry[0], entry[1], mod)


def dim_map(node: fx.Node, root: nn.Module) -> DimMap | None:
    """Apply the node's rule. ``None`` means barrier (no rule, odd args, non-tensor output)."""
    found = lookup_rule(node, root)
    if found is None or node_shape(node) is None:
        return None
    fn, sig, mod = found
    try:
        bound = _bind(sig, node) if sig is not None else {}
    except TypeError:
        return None
    try:
        return fn(node, bound, mod)
    except (IndexError, KeyError, TypeError, ValueError):
        return None  # a rule that cannot read its arguments makes a barrier, never a crash


def _bind(sig: Callable[..., Any], node: fx.Node) -> dict[str, Any]:
    ba = inspect.signature(sig).bind(*node.args, **node.kwargs)
    ba.apply_defaults()
    return dict(ba.arguments)


def node_shape(node: object) -> tuple[int, ...] | None:
    """Static shape of a tensor node, or of the first element of a tuple-of-tensors node."""
    if not isinstance(node, fx.Node):
        return None
    val = node.meta.get("val")
    if isinstance(val, (tuple, list)) and val and isinstance(val[0], torch.Tensor):
        val = val[0]
    if isinstance(val, torch.Tensor):
        return tuple(int(s) for s in val.shape)
    return None


def _tensor_nodes(args: Sequence[Any]) -> list[fx.Node]:
    out: list[fx.Node] = []
    for a in args:
        if isinstance(a, fx.Node) and isinstance(a.meta.get("val"), torch.Tensor):
            out.append(a)
        elif isinstance(a, (list, tuple)):
            out.extend(_tensor_nodes(a))
    return out


def _norm_dims(dim: Any, rank: int) -> list[int]:
    dims = [dim] if isinstance(dim, int) else list(dim)
    return sorted({d % rank for d in dims}) if rank else []


def _broadcast(node: fx.Node, inputs: list[fx.Node], blocked: Sequence[int] = (),
               resize: Resize = None) -> DimMap:
    """Pointwise with numpy broadcasting: inputs align to the right; size-1 dims map to None."""
    out = node_shape(node) or ()
    r = len(out)
    rows = []
    for d in range(r):
        row: list[int | None] = []
        for x in inputs:
            s = node_shape(x) or ()
            j = d - (r - len(s))
            row.append(j if j >= 0 and s[j] == out[d] else None)
        rows.append(tuple(row))
    return DimMap(tuple(inputs), tuple(rows), frozenset(d % r for d in blocked) if r else
                  frozenset(), resize)


def _same_rank(node: fx.Node, x: fx.Node, blocked: Sequence[int]) -> DimMap:
    """Output has the input's shape; dims in ``blocked`` are computed along."""
    r = len(node_shape(node) or ())
    return DimMap((x,), tuple((d,) for d in range(r)), frozenset(d % r for d in blocked))


# --- pointwise -------------------------------------------------------------------------------

_POINTWISE_FN = [
    operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.pow,
    operator.neg, operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge,
    operator.and_, operator.or_, operator.invert, operator.mod, operator.pos,
    torch.add, torch.sub, torch.mul, torch.div, torch.true_divide, torch.pow, torch.neg,
    torch.exp, torch.log, torch.sqrt, torch.rsqrt, torch.tanh, torch.sigmoid, torch.relu,
    torch.abs, torch.sin, torch.cos, torch.erf, torch.clamp, torch.maximum, torch.minimum,
    torch.where, torch.masked_fill, torch.logical_not, torch.logical_and, torch.logical_or,
    torch.eq, torch.ne, torch.lt, torch.gt, torch.le, torch.ge, torch.square, torch.reciprocal,
    torch.zeros_like, torch.ones_like, torch.full_like, torch.empty_like, torch.log1p, torch.expm1,
    torch.sign, torch.nan_to_num, torch.clone,
    F.gelu, F.relu, F.silu, F.mish, F.softplus, F.sigmoid, F.tanh, F.leaky_relu, F.elu, F.hardtanh,
    F.relu6, F.hardswish, F.hardsigmoid, F.logsigmoid, torch.nn.functional.selu,
]
_POINTWISE_METHODS = [
    "add", "sub", "mul", "div", "truediv", "pow", "neg", "exp", "log", "sqrt", "rsqrt", "tanh",
    "sigmoid", "relu", "abs", "sin", "cos", "erf", "clamp", "clamp_min", "clamp_max",
    "masked_fill", "float", "half", "bfloat16", "double", "bool", "int", "long", "to", "type",
    "type_as", "contiguous", "clone", "detach", "logical_not", "eq", "ne", "lt", "gt", "le",
    "ge", "square", "reciprocal", "sign", "expand_as", "log1p", "softplus", "where",
    "__add__", "__sub__", "__mul__", "__truediv__", "__radd__", "__rmul__", "__rsub__",
    "__rtruediv__", "__neg__", "__pow__", "__and__", "__or__", "__invert__",
]
_POINTWISE_MODULES = [
    nn.ReLU, nn.GELU, nn.SiLU, nn.Mish, nn.Tanh, nn.Sigmoid, nn.Identity, nn.LeakyReLU,
    nn.ELU, nn.Softplus, nn.Hardswish, nn.ReLU6, nn.Hardtanh,
]


def pointwise_rule(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    """The rule of an elementwise op with numpy broadcasting over all its tensor arguments.

    Public so a user can declare their own elementwise function:
    ``register_rule(my_activation)(pointwise_rule)``.
    """
    if node.op == "call_method" and node.target == "expand_as":
        return _broadcast(node, _tensor_nodes(node.args))
    return _broadcast(node, _tensor_nodes([*node.args, *node.kwargs.values()]))


register_rule(*_POINTWISE_FN, *_POINTWISE_METHODS, *_POINTWISE_MODULES)(pointwise_rule)


def _dropout_sig(input, p=0.5, training=True, inplace=False): ...  # noqa: ANN001, ANN202, E704


@register_rule(F.dropout, torch.dropout, sig=_dropout_sig)
def _dropout(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    if a["training"] and a["p"] > 0:
        return None  # random masks differ per chunk shape: barrier
    return _broadcast(node, [a["input"]])


@register_rule(nn.Dropout, nn.Dropout1d, nn.Dropout2d)
def _dropout_mod(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    if mod is None or (mod.training and getattr(mod, "p", 0) > 0):
        return None
    return _broadcast(node, _tensor_nodes(node.args))


# --- reductions, softmax, norms ----------------------------------------------------------------

def _reduce_sig(input, dim=None, keepdim=False, *args, **kwargs): ...  # noqa: ANN001, ANN002, ANN003, ANN202, E704


@register_rule(torch.sum, torch.mean, torch.amax, torch.amin, torch.prod, torch.var, torch.std,
               torch.logsumexp, torch.argmax, torch.argmin, torch.all, torch.any, torch.max,
               torch.min, "sum", "mean", "amax", "amin", "prod", "var", "std", "logsumexp",
               "argmax", "argmin", "all", "any", "max", "min", sig=_reduce_sig)
def _reduction(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    x, dim, keep = a["input"], a["dim"], a["keepdim"]
    if isinstance(dim, fx.Node):  # torch.max(a, b): elementwise
        return _broadcast(node, _tensor_nodes([x, dim]))
    rank = len(node_shape(x) or ())
    if dim is None or (isinstance(dim, (list, tuple)) and len(dim) == 0):
        return DimMap((x,), tuple((None,) for _ in node_shape(node) or ()), frozenset(
            range(len(node_shape(node) or ()))))
    red = _norm_dims(dim, rank)
    if keep:
        return DimMap((x,), tuple((d,) for d in range(rank)), frozenset(red))
    kept = [d for d in range(rank) if d not in red]
    return DimMap((x,), tuple((d,) for d in kept))


def _softmax_sig(input, dim=None, *args, **kwargs): ...  # noqa: ANN001, ANN002, ANN003, ANN202, E704


@register_rule(torch.softmax, F.softmax, torch.log_softmax, F.log_softmax, torch.cumsum,
               torch.cumprod, "softmax", "log_softmax", "cumsum", "cumprod", sig=_softmax_sig)
def _softmax(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    if a["dim"] is None:
        return None
    return _same_rank(node, a["input"], [a["dim"]])


@register_rule(nn.Softmax, nn.LogSoftmax)
def _softmax_mod(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    if mod is None or mod.dim is None:
        return None
    return _same_rank(node, node.args[0], [mod.dim])


def _normalize_sig(input, p=2.0, dim=1, eps=1e-12, out=None): ...  # noqa: ANN001, ANN202, E704


@register_rule(F.normalize, sig=_normalize_sig)
def _normalize(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    return _same_rank(node, a["input"], [a["dim"]])


def _layer_norm_sig(input, normalized_shape, weight=None, bias=None, eps=1e-5): ...  # noqa: ANN001, ANN202, E704


@register_rule(F.layer_norm, torch.layer_norm, F.rms_norm, sig=_layer_norm_sig)
def _layer_norm(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    shape = a["normalized_shape"]
    k = 1 if isinstance(shape, int) else len(shape)
    return _same_rank(node, a["input"], [-i for i in range(1, k + 1)])


@register_rule(nn.LayerNorm, nn.RMSNorm)
def _layer_norm_mod(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    k = len(mod.normalized_shape)  # type: ignore[union-attr]
    return _same_rank(node, node.args[0], [-i for i in range(1, k + 1)])


def _group_norm_sig(input, num_groups, weight=None, bias=None, eps=1e-5): ...  # noqa: ANN001, ANN202, E704


@register_rule(F.group_norm, sig=_group_norm_sig)
def _group_norm(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    rank = len(node_shape(node) or ())
    return _same_rank(node, a["input"], range(1, rank))


@register_rule(nn.GroupNorm)
def _group_norm_mod(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    rank = len(node_shape(node) or ())
    return _same_rank(node, node.args[0], range(1, rank))


@register_rule(nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
def _batch_norm_mod(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    if mod is None or mod.training:
        return None  # batch statistics are computed over the batch and spatial dims
    return _same_rank(node, node.args[0], [1])


# --- linear algebra ----------------------------------------------------------------------------

def _linear_sig(input, weight, bias=None): ...  # noqa: ANN001, ANN202, E704


@register_rule(F.linear, sig=_linear_sig)
def _linear(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    return _same_rank(node, a["input"], [-1])


@register_rule(nn.Linear)
def _linear_mod(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    return _same_rank(node, node.args[0], [-1])


def _matmul_sig(input, other, *, out=None): ...  # noqa: ANN001, ANN202, E704


@register_rule(torch.matmul, torch.bmm, operator.matmul, "matmul", "bmm", "__matmul__",
               sig=_matmul_sig)
def _matmul(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    x, y = a["input"], a["other"]
    sx, sy, so = node_shape(x), node_shape(y), node_shape(node)
    if sx is None or sy is None or so is None or len(sx) < 2 or len(sy) < 2:
        return None  # vector products: leave as barrier
    r = len(so)
    rows: list[tuple[int | None, ...]] = []
    for d in range(r - 2):  # batch dims broadcast from the right
        jx, jy = d - (r - len(sx)), d - (r - len(sy))
        rows.append((jx if jx >= 0 and sx[jx] == so[d] else None,
                     jy if jy >= 0 and sy[jy] == so[d] else None))
    rows.append((len(sx) - 2, None))  # rows of x
    rows.append((None, len(sy) - 1))  # columns of y; the contraction dim has no output dim
    return DimMap((x, y), tuple(rows))


def _addmm_sig(input, mat1, mat2, *, beta=1, alpha=1, out=None): ...  # noqa: ANN001, ANN202, E704


@register_rule(torch.addmm, "addmm", sig=_addmm_sig)
def _addmm(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    """``beta * input + alpha * mat1 @ mat2`` (GPT-2's ``Conv1D``): rows of mat1, columns of
    mat2, both broadcast from ``input``; the contraction has no output dim."""
    return _mm_plus(node, a["input"], a["mat1"], a["mat2"], 2)


def _baddbmm_sig(input, batch1, batch2, *, beta=1, alpha=1, out=None): ...  # noqa: ANN001, ANN202, E704


@register_rule(torch.baddbmm, "baddbmm", sig=_baddbmm_sig)
def _baddbmm(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    """``beta * input + alpha * batch1 @ batch2`` (diffusers' eager attention scores)."""
    return _mm_plus(node, a["input"], a["batch1"], a["batch2"], 3)


def _mm_plus(node: fx.Node, inp: Any, x: Any, y: Any, rank: int) -> DimMap | None:
    so, sx, sy = node_shape(node), node_shape(x), node_shape(y)
    if so is None or sx is None or sy is None or len(so) != rank or len(sx) != rank:
        return None
    added = _broadcast(node, [inp]) if isinstance(inp, fx.Node) else None
    rows = []
    for d in range(rank):
        jx = d if d < rank - 1 else None  # batch and rows of x
        jy = d if d != rank - 2 else None  # batch and columns of y
        row = [jx, jy] + ([added.out_map[d][0]] if added else [])
        rows.append(tuple(row))
    return DimMap(tuple([x, y] + ([inp] if added else [])), tuple(rows))


@register_rule(torch.einsum)
def _einsum(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    eq = node.args[0]
    ops = node.args[1:]
    if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
        ops = tuple(ops[0])
    if not isinstance(eq, str) or not all(isinstance(o, fx.Node) for o in ops):
        return None
    eq = eq.replace(" ", "")
    lhs, _, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ops):
        return None
    shapes = [node_shape(o) or () for o in ops]
    ell = max((len(s) - len(t.replace("...", "")) for t, s in zip(terms, shapes, strict=True)
               if "..." in t), default=0)
    letters = [_expand_ellipsis(t, len(s), ell) for t, s in zip(terms, shapes, strict=True)]
    if "->" not in eq:
        counts: dict[str, int] = {}
        for ls in letters:
            for c in ls:
                counts[c] = counts.get(c, 0) + 1
        out_letters = [c for c in letters[0] + sum(letters[1:], []) if c.startswith("...")]
        out_letters = list(dict.fromkeys(out_letters))
        out_letters += sorted(c for c, n in counts.items() if n == 1 and not c.startswith("..."))
    else:
        out_letters = _expand_ellipsis(rhs, len(node_shape(node) or ()), ell)
    if any(len(set(ls)) != len(ls) for ls in letters):
        return None  # diagonals
    so = node_shape(node) or ()
    if len(out_letters) != len(so):
        return None
    rows = []
    for d, c in enumerate(out_letters):
        row = []
        for ls, s in zip(letters, shapes, strict=True):
            j = ls.index(c) if c in ls else None
            row.append(j if j is not None and s[j] == so[d] else None)
        rows.append(tuple(row))
    return DimMap(tuple(ops), tuple(rows))


def _expand_ellipsis(term: str, rank: int, width: int) -> list[str]:
    if "..." not in term:
        return list(term)
    head, tail = term.split("...")
    n = rank - len(head) - len(tail)
    return list(head) + [f"...{width - n + i}" for i in range(n)] + list(tail)


def _sdpa_sig(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,  # noqa: ANN001, ANN202, E501
              enable_gqa=False): ...  # noqa: E704


@register_rule(F.scaled_dot_product_attention, sig=_sdpa_sig)
def _sdpa(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    if a["dropout_p"]:
        return None
    q, k, v, m = a["query"], a["key"], a["value"], a["attn_mask"]
    ins = [q, k, v] + ([m] if isinstance(m, fx.Node) else [])
    so = node_shape(node) or ()
    r = len(so)
    rows = []
    for d in range(r):
        row: list[int | None] = []
        for i, x in enumerate(ins):
            s = node_shape(x) or ()
            j = d - (r - len(s))
            ok = j >= 0 and s[j] == so[d]
            if d == r - 1:
                ok = False  # head dim of v: contracted with nothing but kept whole
            elif d == r - 2:
                ok = ok and i in (0, 3)  # query rows (and mask rows); keys stay whole
            row.append(j if ok else None)
        rows.append(tuple(row))
    blocked = {r - 1}
    if a["is_causal"]:
        blocked.add(r - 2)  # the causal mask depends on absolute query positions
    if a["enable_gqa"]:
        blocked.update(range(r - 2))
    return DimMap(tuple(ins), tuple(rows), frozenset(blocked))


# --- convolution and spatial ops -----------------------------------------------------------------

def _batch_only(node: fx.Node, x: fx.Node) -> DimMap | None:
    so, sx = node_shape(node) or (), node_shape(x) or ()
    if len(so) != len(sx) or len(so) < 3:
        return None
    return DimMap((x,), tuple((d,) if d == 0 else (None,) for d in range(len(so))),
                  frozenset(range(1, len(so))))


def _first_sig(input, *args, **kwargs): ...  # noqa: ANN001, ANN002, ANN003, ANN202, E704


def _conv_sig(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1): ...  # noqa: ANN001, ANN202, E501, E704


@register_rule(F.conv1d, F.conv2d, F.conv3d, torch.conv1d, torch.conv2d, torch.conv3d,
               sig=_conv_sig)
def _conv(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    w = node_shape(a["weight"]) or ()
    pointwise = _is_pointwise_conv(w[2:], a["stride"], a["padding"], a["dilation"])
    return _conv_map(node, a["input"], pointwise)


@register_rule(F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d, sig=_first_sig)
def _conv_transpose(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    return _batch_only(node, a["input"])


@register_rule(nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
               nn.ConvTranspose3d)
def _conv_mod(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    pointwise = isinstance(mod, (nn.Conv1d, nn.Conv2d, nn.Conv3d)) and _is_pointwise_conv(
        mod.kernel_size, mod.stride, mod.padding, mod.dilation) and mod.padding_mode == "zeros"
    return _conv_map(node, node.args[0], pointwise)


def _is_pointwise_conv(kernel: Sequence[int], stride: Any, padding: Any, dilation: Any) -> bool:
    """A 1x1 convolution with stride 1 and no padding: a matmul over channels per position."""
    def ones(v: Any, value: int) -> bool:
        return all(x == value for x in ((v,) if isinstance(v, int) else v))

    return (bool(kernel) and all(k == 1 for k in kernel) and ones(stride, 1)
            and not isinstance(padding, str) and ones(padding, 0))


def _conv_map(node: fx.Node, x: fx.Node, pointwise: bool) -> DimMap | None:
    """Batch always maps; spatial dims map too for a pointwise conv; channels are computed."""
    if not pointwise:
        return _batch_only(node, x)
    so, sx = node_shape(node) or (), node_shape(x) or ()
    if len(so) != len(sx) or len(so) < 3 or so[2:] != sx[2:]:
        return None
    rows = tuple((None,) if d == 1 else (d,) for d in range(len(so)))
    return DimMap((x,), rows, frozenset([1]))


def _spatial(node: fx.Node, x: fx.Node) -> DimMap | None:
    """Batch and channel map through; spatial dims are computed (pooling, interpolation)."""
    so, sx = node_shape(node) or (), node_shape(x) or ()
    if len(so) != len(sx) or len(so) < 3:
        return None
    rows = tuple((d,) if d < 2 else (None,) for d in range(len(so)))
    return DimMap((x,), rows, frozenset(range(2, len(so))))


@register_rule(F.interpolate, F.avg_pool1d, F.avg_pool2d, F.avg_pool3d, F.max_pool1d,
               F.max_pool2d, F.max_pool3d, F.adaptive_avg_pool1d, F.adaptive_avg_pool2d,
               F.adaptive_avg_pool3d, sig=_first_sig)
def _spatial_fn(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    return _spatial(node, a["input"])


@register_rule(nn.Upsample, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d, nn.MaxPool1d, nn.MaxPool2d,
               nn.MaxPool3d, nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)
def _spatial_mod(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    return _spatial(node, node.args[0])


# --- shape ops ---------------------------------------------------------------------------------

def _group_map(sin: Sequence[int], sout: Sequence[int]) -> list[int | None]:
    """For a reshape ``sin -> sout``, the input dim each output dim equals one-to-one, else None.

    Dims are grouped by equal running products (size-1 dims skipped); only groups of exactly one
    input and one output dim map.
    """
    res: list[int | None] = [None] * len(sout)
    a = [i for i, s in enumerate(sin) if s != 1]
    b = [j for j, s in enumerate(sout) if s != 1]
    i = j = 0
    while i < len(a) and j < len(b):
        ga, gb = [a[i]], [b[j]]
        pa, pb = sin[a[i]], sout[b[j]]
        i, j = i + 1, j + 1
        while pa != pb:
            if pa < pb and i < len(a):
                pa *= sin[a[i]]
                ga.append(a[i])
                i += 1
            elif pb < pa and j < len(b):
                pb *= sout[b[j]]
                gb.append(b[j])
                j += 1
            else:
                return res
        if len(ga) == 1 and len(gb) == 1:
            res[gb[0]] = ga[0]
    return res


@register_rule(torch.reshape, "view", "reshape", torch.flatten, "flatten", torch.unflatten,
               "unflatten", torch.squeeze, "squeeze", torch.unsqueeze, "unsqueeze", nn.Flatten,
               nn.Unflatten)
def _reshape(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    x = node.args[0]
    sx, so = node_shape(x), node_shape(node)
    if sx is None or so is None:
        return None
    groups = _group_map(sx, so)
    rows = tuple((j,) for j in groups)
    # a dim made by merging or splitting input dims does not descend from one input dim: it
    # may not be chunked (slicing it would need a strided slice of the input)
    merged = frozenset(d for d, j in enumerate(groups) if j is None and so[d] != 1)
    sized = node.target in (torch.reshape, "view", "reshape")
    return DimMap((x,), rows, merged, resize="reshape" if sized else None)  # type: ignore[arg-type]


@register_rule(torch.permute, "permute", torch.transpose, "transpose", torch.swapaxes, "swapaxes",
               torch.t, "t", torch.movedim, "movedim")
def _permute(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    x = node.args[0]
    rank = len(node_shape(x) or ())
    rest = list(node.args[1:]) + list(node.kwargs.values())
    order = list(range(rank))
    name = node.target if isinstance(node.target, str) else node.target.__name__
    if name == "permute":
        dims = rest[0] if len(rest) == 1 and isinstance(rest[0], (list, tuple)) else rest
        order = [d % rank for d in dims]
    elif name in ("transpose", "swapaxes"):
        i, j = rest[0] % rank, rest[1] % rank
        order[i], order[j] = order[j], order[i]
    elif name == "t":
        order = order[::-1]
    elif name == "movedim":
        src, dst = rest[0] % rank, rest[1] % rank
        order.pop(src)
        order.insert(dst, src)
    return DimMap((x,), tuple((o,) for o in order))


@register_rule(getattr)
def _getattr(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    x, attr = node.args[0], node.args[1]
    rank = len(node_shape(x) or ())
    if attr == "T" or (attr == "mT" and rank >= 2):
        order = list(range(rank))[::-1] if attr == "T" else [*range(rank - 2), rank - 1, rank - 2]
        return DimMap((x,), tuple((o,) for o in order))
    return None


@register_rule("expand", "broadcast_to", torch.broadcast_to)
def _expand(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    return _broadcast(node, [node.args[0]], resize="expand")


@register_rule(operator.getitem)
def _getitem(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    x, idx = node.args[0], node.args[1]
    so, sx = node_shape(node), node_shape(x)
    if not isinstance(x, fx.Node) or so is None or sx is None:
        return None
    if isinstance(x.meta.get("val"), (tuple, list)):  # element of a multi-output op
        elem = x.meta["val"][idx]
        if not isinstance(elem, torch.Tensor) or tuple(elem.shape) != tuple(sx) and len(
                elem.shape) != len(sx):
            return None
        return DimMap((x,), tuple((d,) for d in range(len(so))))
    items = list(idx) if isinstance(idx, tuple) else [idx]
    if any(isinstance(i, (fx.Node, list, torch.Tensor)) for i in items):
        return None  # advanced (tensor) indexing
    n_real = sum(1 for i in items if i is not None and i is not Ellipsis)
    if Ellipsis in items:
        k = items.index(Ellipsis)
        items = items[:k] + [slice(None)] * (len(sx) - n_real) + items[k + 1:]
    items += [slice(None)] * (len(sx) - sum(1 for i in items if i is not None))
    rows: list[tuple[int | None]] = []
    blocked: set[int] = set()
    j = 0
    for it in items:
        if it is None:
            rows.append((None,))
        elif isinstance(it, int):
            j += 1
        elif isinstance(it, slice):
            full = (it.start in (None, 0) and it.step in (None, 1)
                    and (it.stop is None or (isinstance(it.stop, int) and it.stop >= sx[j])))
            if not full:
                blocked.add(len(rows))
            rows.append((j,))
            j += 1
        else:
            return None
    if len(rows) != len(so):
        return None
    return DimMap((x,), tuple(rows), frozenset(blocked))


def _select_sig(input, dim, index): ...  # noqa: ANN001, ANN202, E704


@register_rule(torch.select, "select", sig=_select_sig)
def _select(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    x = a["input"]
    rank = len(node_shape(x) or ())
    k = a["dim"] % rank
    return DimMap((x,), tuple((d,) for d in range(rank) if d != k))


@register_rule(torch.narrow, "narrow", torch.index_select, "index_select", sig=_select_sig)
def _narrow(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    x = a["input"]
    rank = len(node_shape(x) or ())
    return DimMap((x,), tuple((d,) for d in range(rank)), frozenset([a["dim"] % rank]))


def _cat_sig(tensors, dim=0, *, out=None): ...  # noqa: ANN001, ANN202, E704


@register_rule(torch.cat, torch.concat, torch.concatenate, sig=_cat_sig)
def _cat(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    ins = _tensor_nodes(a["tensors"])
    if len(ins) != len(a["tensors"]):
        return None
    so = node_shape(node) or ()
    k = a["dim"] % len(so)
    rows = tuple(tuple(d for _ in ins) if d != k else tuple(None for _ in ins)
                 for d in range(len(so)))
    return DimMap(tuple(ins), rows, frozenset([k]))


@register_rule(torch.stack, sig=_cat_sig)
def _stack(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    ins = _tensor_nodes(a["tensors"])
    if len(ins) != len(a["tensors"]):
        return None
    so = node_shape(node) or ()
    k = a["dim"] % len(so)
    rows = tuple(tuple((d if d < k else d - 1) for _ in ins) if d != k
                 else tuple(None for _ in ins) for d in range(len(so)))
    return DimMap(tuple(ins), rows, frozenset([k]))


def _split_sig(input, split_size_or_sections, dim=0): ...  # noqa: ANN001, ANN202, E704


@register_rule(torch.split, "split", torch.chunk, "chunk", torch.tensor_split, "tensor_split",
               sig=_split_sig)
def _split(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    x = a["input"]
    rank = len(node_shape(x) or ())
    return DimMap((x,), tuple((d,) for d in range(rank)), frozenset([a["dim"] % rank]))


def _unbind_sig(input, dim=0): ...  # noqa: ANN001, ANN202, E704


@register_rule(torch.unbind, "unbind", sig=_unbind_sig)
def _unbind(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    x = a["input"]
    rank = len(node_shape(x) or ())
    k = a["dim"] % rank
    return DimMap((x,), tuple((d,) for d in range(rank) if d != k))


def _embedding_sig(input, weight, *args, **kwargs): ...  # noqa: ANN001, ANN002, ANN003, ANN202, E704


@register_rule(F.embedding, sig=_embedding_sig)
def _embedding(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    return _embedding_map(node, a["input"])


@register_rule(nn.Embedding)
def _embedding_mod(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    return _embedding_map(node, node.args[0])


def _embedding_map(node: fx.Node, idx: fx.Node) -> DimMap:
    r = len(node_shape(node) or ())
    return DimMap((idx,), tuple((d,) if d < r - 1 else (None,) for d in range(r)),
                  frozenset([r - 1]))


@register_rule(torch.tril, torch.triu, "tril", "triu")
def _tri(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    # the kept triangle depends on absolute row/column positions: the last two dims are computed
    return _same_rank(node, node.args[0], [-1, -2])


# --- creation ops ------------------------------------------------------------------------------

@register_rule(torch.full, torch.zeros, torch.ones, torch.empty)
def _factory(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    so = node_shape(node) or ()
    args = node.args
    if args and isinstance(args[0], (list, tuple)):
        n = 1
    elif node.target is torch.full:
        return None
    else:
        n = 0
        while n < len(args) and isinstance(args[n], int):
            n += 1
    if n == 0:
        return None  # size passed by keyword: not rewritten, so not chunkable
    return DimMap((), tuple(() for _ in so), resize="factory", size_args=n)


@register_rule(torch.arange, torch.linspace)
def _arange(node: fx.Node, a: dict[str, Any], mod: nn.Module | None) -> DimMap | None:
    so = node_shape(node) or ()
    return DimMap((), tuple(() for _ in so), frozenset(range(len(so))))

