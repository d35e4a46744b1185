"""Capture a static-shape FX graph annotated with shapes, bytes and FLOPs, without real data.

:func:`capture` takes one of two routes and keeps the first that works:

- ``"fx"``: ``torch.fx.symbolic_trace`` of ``forward``, its non-tensor inputs fixed to the given
  values (``concrete_args``); used when ``forward`` has a plain signature;
- ``"dynamo"``: ``torch._dynamo.export`` (static shapes, torch-level ops, traced on fake tensors):
  library code that fx cannot trace (``*args, **kwargs`` wrappers, ``len()`` of shapes, loops
  over ``x.shape``...) and outputs such as ``ModelOutput`` or dataclasses.

Either way the graph's ``meta["ac.call"]`` is a :class:`~.signature.CallSpec` mapping the user's
call (positional and keyword inputs) to the placeholders and rebuilding the model's own output
structure. When both routes fail, :class:`CaptureError` names the module, what each route
stumbled on, and the route left to try (``torch.compile(..., backend="autochunk")``, which
splits the model into several graphs around what it cannot capture).

:func:`annotate` (also used on graphs handed to the ``torch.compile`` backend) runs the graph under
``FakeTensorMode``, so no real activation is allocated, and writes on every node:

- ``meta["val"]``: the FakeTensor output (or tuple of them, or a Python value);
- ``meta["ac.out_bytes"]``: bytes of storages newly allocated by the node and held by its output
  (0 for views and other aliases);
- ``meta["ac.temp_bytes"]``: bytes allocated and freed inside the node (kernel temporaries above
  its output, as seen by aten dispatch);
- ``meta["ac.alias"]``: name of the node that owns the output's storage when the output aliases an
  input (``None`` otherwise);
- ``meta["ac.flops"]``: FLOPs from ``torch.utils.flop_counter`` formulas, else the output numel;
- conv on CPU: :func:`conv_cpu_workspace_bytes` is added to ``ac.temp_bytes``;
- ``meta["ac.workspace"]``: for CPU flash attention, ``(q_len, kv_len, head_dim, threads)``; the
  kernel's internal buffer (invisible to dispatch, measured with the profiler) is added to
  ``ac.temp_bytes`` using :func:`flash_cpu_workspace_bytes`.

Then non-tensor values (sizes from ``x.shape``/``x.size()``, dtypes) are folded into their users as
constants, making the graph static-shape. Raises ``RuntimeError`` naming the node if propagation
fails; the input module is not modified (``annotate`` mutates only the graph it is given).
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import torch
from torch import fx, nn
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils._pytree import SUPPORTED_NODES, register_dataclass, tree_flatten, tree_map
from torch.utils.flop_counter import flop_registry

from .measure import LiveStorageMode
from .rewrite import rewrite
from .signature import CallSpec, Leaf

__all__ = [
    "AllocTracker",
    "CaptureError",
    "annotate",
    "capture",
    "conv_cpu_workspace_bytes",
    "fake_constants",
    "flash_cpu_workspace_bytes",
    "is_symbolic",
    "prepare",
    "specialize",
]

log = logging.getLogger(__name__)

_FOLDABLE = (int, float, bool, str, torch.dtype, torch.device, torch.memory_format, type(None))
Route = Literal["auto", "fx", "dynamo"]


class CaptureError(RuntimeError):
    """Neither capture route could turn the module into one static graph.

    ``failures`` maps each route tried to the first line of what stopped it.
    """

    def __init__(self, module: nn.Module, failures: dict[str, str]):
        self.failures = failures
        tried = "; ".join(f"{route}: {why}" for route, why in failures.items())
        super().__init__(
            f"AutoChunk cannot capture {type(module).__name__} as one graph ({tried}). Try "
            "torch.compile(model, backend='autochunk', dynamic=False, options={'memory_budget': "
            "...}), which chunks each graph it gets around what it cannot capture; or register "
            "the offending function as a leaf.")


def capture(module: nn.Module, example_inputs: Sequence[Any] = (),
            example_kwargs: Mapping[str, Any] | None = None, *,
            route: Route = "auto", rewrites: bool = True) -> fx.GraphModule:
    """Trace ``module`` for ``module(*example_inputs, **example_kwargs)`` and :func:`prepare` it.

    ``route="auto"`` tries fx, then dynamo (see module doc). The result's ``meta["ac.call"]`` is
    its :class:`~.signature.CallSpec`, ``meta["ac.route"]`` the route taken. Raises
    :class:`CaptureError` when no route works.
    """
    args, kwargs = tuple(example_inputs), dict(example_kwargs or {})
    routes = ("fx", "dynamo") if route == "auto" else (route,)
    failures: dict[str, str] = {}
    for name in routes:
        try:
            gm, flat = _ROUTES[name](module, args, kwargs)
            gm.meta["ac.route"] = name
            return prepare(gm, flat, rewrites)
        except Exception as e:  # noqa: BLE001 - every failure is reported in the CaptureError
            failures[name] = _first_line(e)
            log.debug("capture route %s failed on %s: %s", name, type(module).__name__, e)
    raise CaptureError(module, failures)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:300]


def _fx_route(module: nn.Module, args: tuple, kwargs: dict) -> tuple[fx.GraphModule, list]:
    sig = inspect.signature(module.forward if isinstance(module, nn.Module) else module)
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in sig.parameters.values()):
        raise TypeError("forward takes *args or **kwargs: fx cannot bind inputs to it")
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    concrete = {k: v for k, v in bound.arguments.items() if not isinstance(v, torch.Tensor)}
    gm = fx.symbolic_trace(module, concrete_args=concrete or None)
    flat = list(bound.arguments.values())
    names = [n.name for n in gm.graph.nodes if n.op == "placeholder"]
    if len(names) != len(flat):
        raise TypeError(f"fx made {len(names)} placeholders for {len(flat)} inputs")
    leaves = tuple(Leaf.of(p, x) for p, x in zip(sig.parameters, flat, strict=True))
    gm.meta["ac.call"] = CallSpec(leaves, signature=sig)
    return gm, flat


def _dynamo_route(module: nn.Module, args: tuple, kwargs: dict) -> tuple[fx.GraphModule, list]:
    import torch._dynamo  # noqa: PLC0415 - heavy, only when fx fails

    def export() -> Any:
        return torch._dynamo.export(module, aten_graph=False, tracing_mode="static")(
            *args, **kwargs)

    try:
        result = export()
    except Exception as e:
        if "pytree" not in str(e) or not _register_output_dataclasses(module, args, kwargs):
            raise
        result = export()  # the output's dataclasses are pytree nodes now
    gm = result.graph_module
    codegen = gm.graph._codegen
    in_spec = codegen.pytree_info.in_spec
    out_spec = codegen.pytree_info.out_spec
    gm.graph._codegen = fx.graph.CodeGen()  # flat inputs in, flat outputs out
    gm.recompile()
    flat, spec = tree_flatten((args, kwargs))
    if spec != in_spec:
        raise TypeError("dynamo flattened the inputs differently from the call")
    names = _leaf_names(args, kwargs)
    gm.meta["ac.call"] = CallSpec(tuple(Leaf.of(n, x) for n, x in zip(names, flat, strict=True)),
                                  in_spec=in_spec, out_spec=out_spec)
    return gm, flat


def _register_output_dataclasses(module: nn.Module, args: tuple, kwargs: dict) -> bool:
    """Register the dataclass types of the module's output with pytree (as dynamo needs to
    return them); found by one run on fake tensors. Returns whether any was registered.

    The registration is global and stays: the types flatten into their fields from then on.
    """
    mode = FakeTensorMode(allow_non_fake_inputs=True)
    with mode:
        fake_args, fake_kwargs = tree_map(_to_fake, (args, kwargs))
    with torch.no_grad(), mode:
        out = module(*fake_args, **fake_kwargs)
    found: list[type] = []
    stack = [out]
    while stack:
        cur = stack.pop()
        if dataclasses.is_dataclass(cur) and not isinstance(cur, type):
            if type(cur) not in SUPPORTED_NODES and type(cur) not in found:
                found.append(type(cur))
            stack += [getattr(cur, f.name) for f in dataclasses.fields(cur)]
        elif isinstance(cur, (list, tuple)):
            stack += list(cur)
        elif isinstance(cur, dict):
            stack += list(cur.values())
    for cls in found:
        register_dataclass(cls)
    return bool(found)


def _leaf_names(args: tuple, kwargs: dict) -> list[str]:
    """Readable names of the pytree leaves of ``(args, kwargs)``: ``arg0``, ``input_ids``..."""
    names = []
    for i, a in enumerate(args):
        n = len(tree_flatten(a)[0])
        names += [f"arg{i}"] if n == 1 else [f"arg{i}[{j}]" for j in range(n)]
    for k, v in kwargs.items():
        n = len(tree_flatten(v)[0])
        names += [k] if n == 1 else [f"{k}[{j}]" for j in range(n)]
    return names


_ROUTES = {"fx": _fx_route, "dynamo": _dynamo_route}


def prepare(gm: fx.GraphModule, example_inputs: Sequence[Any],
            rewrites: bool = True) -> fx.GraphModule:
    """:func:`annotate` ``gm``, apply the :mod:`rewrite` passes and annotate again if any
    applied (``gm.meta["ac.rewrites"]`` lists them). Mutates and returns ``gm``."""
    annotate(gm, example_inputs)
    done = rewrite(gm) if rewrites else []
    gm.meta["ac.rewrites"] = tuple(done)
    if done:
        annotate(gm, example_inputs)
    return gm


def is_symbolic(gm: fx.GraphModule, example_inputs: Sequence[Any]) -> bool:
    """Whether a graph from ``torch.compile`` has symbolic sizes (``dynamic=True``)."""
    if any(isinstance(x, (torch.SymInt, torch.SymFloat)) for x in example_inputs):
        return True
    for node in gm.graph.nodes:
        val = node.meta.get("example_value", node.meta.get("val"))
        if node.op == "placeholder" and isinstance(val, (torch.SymInt, torch.SymFloat)):
            return True
        if node.op == "placeholder" and isinstance(val, torch.Tensor) and any(
                isinstance(s, torch.SymInt) and not isinstance(s.node.maybe_as_int(), int)
                for s in val.shape):
            return True
    return False


def specialize(gm: fx.GraphModule, inputs: Sequence[Any]) -> fx.GraphModule:
    """A copy of ``gm`` (sharing its parameters) with scalar inputs fixed to ``inputs``' values.

    Sizes passed as ints (``torch.compile(dynamic=True)`` graphs take them as inputs) and
    0-dim tensors read only through ``.item()`` (floats such as a norm's ``eps``) become
    constants, so the copy can be annotated and planned for these shapes. ``gm`` is unchanged.
    """
    graph = fx.Graph()
    env: dict[fx.Node, fx.Node] = {}
    out = graph.graph_copy(gm.graph, env)
    graph.output(out)
    for old, x in zip((n for n in gm.graph.nodes if n.op == "placeholder"), inputs,
                      strict=False):
        node = env[old]
        if isinstance(x, (bool, int, float)):
            _replace_uses(node, x)
        elif isinstance(x, torch.Tensor) and x.dim() == 0 and node.users and all(
                u.op == "call_method" and u.target == "item" for u in node.users):
            for item in list(node.users):
                _replace_uses(item, x.item())
                graph.erase_node(item)
    return fx.GraphModule(gm, graph)


def _replace_uses(node: fx.Node, value: Any) -> None:
    for user in list(node.users):
        user.args = _subst(user.args, node, value)
        user.kwargs = _subst(user.kwargs, node, value)


def annotate(gm: fx.GraphModule, example_inputs: Sequence[Any]) -> fx.GraphModule:
    """Propagate fake tensors through ``gm`` and write the ``ac.*`` meta keys (see module doc)."""
    fake_mode = FakeTensorMode(allow_non_fake_inputs=True)
    with fake_mode:
        fakes = [_to_fake(x) for x in example_inputs]
    tracker = AllocTracker()
    tracker.ignore = fake_constants(fake_mode, gm)
    with torch.no_grad(), fake_mode, tracker:
        _Annotator(gm, tracker).run(*fakes)
    _fold_constants(gm)
    return gm


class _KeptKeys(set):
    """A set of storage keys that also keeps the fakes owning them alive (keys are addresses)."""

    fakes: list[torch.Tensor]


def fake_constants(fake_mode: FakeTensorMode, module: nn.Module) -> set[int]:
    """Convert ``module``'s parameters and buffers to fakes now; return their storage keys.

    The mode memoises conversions, so ops meeting these real tensors later reuse the same fakes;
    allocation trackers must not count them (they are not activations). The returned set holds
    the fakes alive, so their keys stay valid while the set lives.
    """
    keys = _KeptKeys()
    keys.fakes = [fake_mode.from_tensor(t) for t in [*module.parameters(), *module.buffers()]]
    keys.update(_key(f) for f in keys.fakes)
    return keys


def _to_fake(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        return torch.empty_strided(tuple(x.shape), tuple(x.stride()), dtype=x.dtype,
                                   device=x.device)
    return x


def flash_cpu_workspace_bytes(q_len: int, kv_len: int, head_dim: int, threads: int) -> int:
    """Bytes of the per-thread buffer the CPU flash-attention kernel allocates (float32).

    Matches the profiler exactly for torch 2.11-2.13 (q block 32/64/256 by query length, kv
    block 512): per thread ``q_block * kv_block + 2 * q_block + q_block * head_dim`` floats.
    """
    q_split = 256 if q_len >= 768 else 64 if q_len >= 192 else 32
    q_split, kv_split = min(q_split, q_len), min(512, kv_len)
    return 4 * threads * (q_split * kv_split + 2 * q_split + q_split * head_dim)


_FLASH_CPU = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)
_CONV = torch.ops.aten.convolution


def conv_cpu_workspace_bytes(x: torch.Tensor, w: torch.Tensor, out: torch.Tensor,
                             stride: Sequence[int]) -> int:
    """Bytes a CPU convolution allocates internally (fitted to profiler readings, torch 2.13).

    1x1 stride-1 convs run as matmuls (none). Small single-sample inputs (at most 16384
    elements) take the im2col path: the column buffer (or the weight, if larger). Otherwise
    oneDNN reorders the weight and the larger of input and output, plus the output again when
    it has fewer than 16 channels. Within about 12% of the profiler on the shapes we tried.
    """
    k = math.prod(w.shape[2:])
    if k == 1 and all(s == 1 for s in stride):
        return 0
    nw, nx, no = _nbytes(w), _nbytes(x), _nbytes(out)
    if x.dim() >= 3 and x.shape[0] == 1 and x.numel() <= 16384:
        cols = x.shape[1] * k * math.prod(out.shape[2:]) * x.element_size()
        return max(cols, nw)
    return nw + max(nx, no) + (no if out.dim() > 1 and out.shape[1] < 16 else 0)


def _nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def _key(t: torch.Tensor) -> int:
    return t.untyped_storage()._cdata


class AllocTracker(LiveStorageMode):
    """:class:`~.measure.LiveStorageMode` plus FLOPs and the CPU kernel workspaces.

    ``peak_bytes`` also covers the buffers dispatch cannot see (flash attention, convolution), so
    running a program under it and ``FakeTensorMode`` predicts the allocator's peak without
    allocating anything. ``flops`` sums ``torch.utils.flop_counter`` formulas.
    """

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0
        self.workspace: tuple[int, int, int, int] | None = None

    def after_op(self, func: Any, args: tuple, kwargs: dict, out: Any) -> None:
        """Count FLOPs and raise the peak by the kernel's internal workspace, if any."""
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.flops += int(formula(*args, **kwargs, out_val=out))
        if _FLASH_CPU is not None and func._overloadpacket is _FLASH_CPU and (
                args[0].device.type == "cpu"):
            q, k = args[0], args[1]
            self.workspace = (int(q.shape[-2]), int(k.shape[-2]), int(q.shape[-1]),
                              torch.get_num_threads())
            ws = flash_cpu_workspace_bytes(*self.workspace)
            self.peak_bytes = max(self.peak_bytes, self.live_bytes + ws)
        elif func._overloadpacket is _CONV and args[0].device.type == "cpu":
            ws = conv_cpu_workspace_bytes(args[0], args[1], out, args[3])
            self.peak_bytes = max(self.peak_bytes, self.live_bytes + ws)


class _Annotator(fx.Interpreter):
    """Run each node under the tracker and record its allocation, aliasing and FLOPs."""

    def __init__(self, gm: fx.GraphModule, tracker: AllocTracker) -> None:
        super().__init__(gm)
        self.tracker = tracker
        self.owner: dict[int, str] = {}  # storage key -> node that created it

    def run_node(self, n: fx.Node) -> Any:
        tr = self.tracker
        live0, flops0 = tr.live_bytes, tr.flops
        tr.peak_bytes = live0
        tr.workspace = None
        try:
            out = super().run_node(n)
        except Exception as e:  # re-raise naming the node, as ShapeProp does
            raise RuntimeError(f"AutoChunk capture failed at node {n.format_node()}: {e}") from e
        live1 = tr.live_bytes
        tensors = [t for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor)]
        alias = None
        for t in tensors:
            k = _key(t)
            if k in self.owner:
                alias = alias or self.owner[k]
            else:
                self.owner[k] = n.name
        n.meta["val"] = out
        n.meta["ac.out_bytes"] = max(0, live1 - live0) if n.op not in ("placeholder",
                                                                        "get_attr") else 0
        n.meta["ac.temp_bytes"] = max(0, tr.peak_bytes - live1)
        n.meta["ac.alias"] = alias if n.meta["ac.out_bytes"] == 0 else None
        flops = tr.flops - flops0
        n.meta["ac.flops"] = flops if flops else sum(t.numel() for t in tensors)
        n.meta["ac.workspace"] = tr.workspace
        return out


def _fold_constants(gm: fx.GraphModule) -> None:
    """Replace nodes holding sizes/dtypes/devices by their values in their users."""
    for node in list(gm.graph.nodes):
        if node.op in ("placeholder", "output", "get_attr") or node.is_impure():
            continue
        val = node.meta.get("val")
        if not _is_constant(val):
            continue
        const = tuple(int(s) for s in val) if isinstance(val, torch.Size) else val
        for user in list(node.users):
            user.args = _subst(user.args, node, const)
            user.kwargs = _subst(user.kwargs, node, const)
        gm.graph.erase_node(node)
    gm.graph.lint()
    gm.recompile()


def _is_constant(val: Any) -> bool:
    if isinstance(val, (torch.Size, tuple, list)):
        return all(_is_constant(v) for v in val)
    return isinstance(val, _FOLDABLE) and not isinstance(val, torch.SymInt)


def _subst(obj: Any, node: fx.Node, const: Any) -> Any:
    return fx.node.map_arg(obj, lambda n: const if n is node else n)
