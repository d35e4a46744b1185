"""Generate a readable chunked ``forward`` from an annotated graph and a :class:`ChunkPlan`.

Reads ``node.meta["val"]`` (dtypes and shapes for pre-allocation and rewritten sizes) and the dim
rules of :mod:`rules`. The source is built statement by statement from the graph's nodes (never by
patching another program's text):

- nodes outside regions become one assignment each;
- a region emits its hoisted nodes, then ``torch.empty`` buffers for its outputs (dtype from the
  graph, device taken at run time from a sliced input), then
  ``for _i in range(0, extent, chunk)`` with ``narrow`` slices of outside tensors, the chunked
  nodes (``view``/``reshape``/``expand``/creation sizes rewritten to the chunk length ``_n``), and
  slice assignment of each output chunk;
- every variable is deleted right after its last use (inside the loop for chunk buffers, after the
  loop for tensors the loop reads), so memory matches :mod:`estimate`.

Returns a new :class:`ChunkedModule`; the input graph module is shared, not modified. Raises
``ValueError`` if the plan names nodes the graph does not have.
"""

from __future__ import annotations

import builtins
import importlib
import linecache
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn

from .plan import ChunkPlan, ChunkRegion
from .rules import DimMap, dim_map
from .signature import CallSpec, InputMismatchError

__all__ = ["ChunkedModule", "generate"]


class ChunkedModule(nn.Module):
    """The chunked program: owns the captured graph module and runs the generated forward.

    Called like the original module (positional and keyword inputs; the original output
    structure is returned). Every call is checked against the inputs it was compiled for
    (``gm.meta["ac.call"]``): other shapes, dtypes or non-tensor values are planned anew (cached
    per shape) when :attr:`replan` is set (as :func:`~.api.autochunk` does), and otherwise raise
    :class:`~.signature.InputMismatchError` naming the compiled shapes. When the module it was
    compiled from (:attr:`origin`) has switched between train and eval mode since, the call
    raises ``RuntimeError``.
    """

    def __init__(self, gm: fx.GraphModule, source: str, namespace: dict[str, Any],
                 plan: ChunkPlan, probe_source: str | None = None) -> None:
        super().__init__()
        self.gm = gm
        self.plan = plan
        self.call_spec: CallSpec | None = gm.meta.get("ac.call")
        self.replan: Callable[[tuple, dict], ChunkedModule] | None = None
        self.__dict__["origin"] = None  # the source module: not a submodule (no state twice)
        self._compiled_training = False
        self._variants: dict[tuple, ChunkedModule] = {}
        self._source = source
        self._fn = _compile(source, f"<autochunk-{id(self):x}>", namespace)
        self._probe = _compile(probe_source or source, f"<autochunk-probe-{id(self):x}>",
                               namespace)

    def bind_origin(self, module: nn.Module) -> None:
        """Remember the module this was compiled from and its current train/eval mode."""
        self.__dict__["origin"] = module
        self._compiled_training = module.training

    @property
    def code(self) -> str:
        """The generated Python source of ``forward``."""
        return self._source

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Run the generated program on the original call's inputs (see the class doc).

        Raises:
            InputMismatchError: inputs other than the compiled ones and no :attr:`replan`.
            RuntimeError: :attr:`origin` changed train/eval mode since compilation.
        """
        origin = self.__dict__["origin"]
        if origin is not None and origin.training != self._compiled_training:
            modes = ("eval", "training") if origin.training else ("training", "eval")
            raise RuntimeError(
                f"AutoChunk compiled {type(origin).__name__} in {modes[0]} mode, and it is in "
                f"{modes[1]} mode now: the captured graph keeps the old mode (dropout, norms). "
                f"Switch it back, or compile it again in the new mode.")
        spec = self.call_spec
        if spec is None:
            if kwargs:
                raise InputMismatchError("this graph takes positional inputs only")
            return self._fn(self, *args)
        flat = spec.flatten(args, kwargs)
        why = spec.mismatch(flat)
        if why is None:
            return spec.unflatten(self._fn(self, *flat))
        if self.replan is None:
            raise InputMismatchError(
                f"AutoChunk compiled this module for {spec.describe()}; this call differs "
                f"({why}). Compile it for these inputs too (autochunk() re-plans per shape), "
                f"or use torch.compile(..., backend='autochunk', dynamic=False).")
        key = spec.key(flat)
        if key not in self._variants:
            self._variants[key] = self.replan(args, kwargs)
        return self._variants[key](*args, **kwargs)

    @property
    def variants(self) -> dict[tuple, ChunkedModule]:
        """Modules planned for other input shapes, by :meth:`CallSpec.key` (read-only view)."""
        return dict(self._variants)

    def probe(self, *flat: Any) -> Any:
        """Run the program with every loop cut to its first iteration (for memory simulation:
        iterations allocate alike, the first chunk is the largest). Takes the graph's flat
        inputs; outputs are incomplete."""
        return self._probe(self, *flat)


def _compile(source: str, filename: str, namespace: dict[str, Any]) -> Any:
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    ns = dict(namespace)
    exec(compile(source, filename, "exec"), ns)
    return ns["forward"]


@dataclass
class _Stmt:
    lines: list[str]
    uses: set[str] = field(default_factory=set)
    defines: str | None = None


class _Emitter:
    def __init__(self, gm: fx.GraphModule) -> None:
        self.gm = gm
        self.ns: dict[str, Any] = {"torch": torch, "operator": operator}
        self._n_globals = 0

    # --- rendering of values -----------------------------------------------------------------
    def fmt(self, a: Any, env: dict[fx.Node, str], uses: set[str]) -> str:
        if isinstance(a, fx.Node):
            name = env.get(a, a.name)
            uses.add(name)
            return name
        if isinstance(a, tuple):
            inner = ", ".join(self.fmt(x, env, uses) for x in a)
            return f"({inner},)" if len(a) == 1 else f"({inner})"
        if isinstance(a, list):
            return "[" + ", ".join(self.fmt(x, env, uses) for x in a) + "]"
        if isinstance(a, slice):
            parts = (self.fmt(x, env, uses) for x in (a.start, a.stop, a.step))
            return f"slice({', '.join(parts)})"
        if isinstance(a, dict):
            return "{" + ", ".join(f"{k!r}: {self.fmt(v, env, uses)}" for k, v in a.items()) + "}"
        if a is Ellipsis:
            return "..."
        if isinstance(a, float) and (math.isinf(a) or math.isnan(a)):
            return f"float('{a}')"
        if isinstance(a, (torch.dtype, torch.memory_format, torch.layout)):
            return str(a)
        if isinstance(a, torch.device):
            return f"torch.device({str(a)!r})"
        if a is None or isinstance(a, (bool, int, float, str)):
            return repr(a)
        return self.bind(a)

    def bind(self, obj: Any) -> str:
        """A global name for ``obj``: its dotted import path when that resolves, else a slot."""
        name = _qualified(obj)
        if name is not None:
            root = name.split(".")[0]
            self.ns.setdefault(root, importlib.import_module(root))
            return name
        self._n_globals += 1
        slot = f"_g{self._n_globals}"
        self.ns[slot] = obj
        return slot

    def attr(self, target: str) -> str:
        expr = "self.gm"
        for part in target.split("."):
            expr = f"{expr}.{part}" if part.isidentifier() else f"getattr({expr}, {part!r})"
        return expr

    def call(self, node: fx.Node, env: dict[fx.Node, str], uses: set[str],
             args: tuple | None = None) -> str:
        args = node.args if args is None else args
        pos = [self.fmt(a, env, uses) for a in args]
        kw = [f"{k}={self.fmt(v, env, uses)}" for k, v in node.kwargs.items()]
        if node.op == "call_method":
            return f"{pos[0]}.{node.target}({', '.join(pos[1:] + kw)})"
        if node.op == "call_module":
            return f"{self.attr(str(node.target))}({', '.join(pos + kw)})"
        if node.op == "get_attr":
            return self.attr(str(node.target))
        if node.target is builtins.getattr and len(pos) == 2 and isinstance(args[1], str):
            return f"{pos[0]}.{args[1]}"
        if node.target is operator.getitem and not kw:
            return f"{pos[0]}[{_index(args[1], pos[1])}]"
        return f"{self.bind(node.target)}({', '.join(pos + kw)})"


def _index(raw: Any, rendered: str) -> str:
    if isinstance(raw, tuple) and raw:
        inner = rendered[1:-1].rstrip(",")
        return inner.replace("slice(None, None, None)", ":")
    return rendered.replace("slice(None, None, None)", ":")


def _qualified(obj: Any) -> str | None:
    mod = getattr(obj, "__module__", None)
    qual = getattr(obj, "__qualname__", getattr(obj, "__name__", None))
    if obj in (getattr, len, int, float):
        return None
    candidates = []
    if mod is not None and qual is not None:
        candidates.append(f"{mod.replace('_operator', 'operator')}.{qual}")
    name = getattr(obj, "__name__", None)
    if name:
        candidates += [f"torch.{name}", f"torch.nn.functional.{name}", f"operator.{name}",
                       f"torch.Tensor.{name}"]
    for cand in candidates:
        root, *rest = cand.split(".")
        try:
            val: Any = importlib.import_module(root)
            for part in rest:
                val = getattr(val, part)
        except (ImportError, AttributeError):
            continue
        if val is obj:
            return cand
    return None


def generate(gm: fx.GraphModule, plan: ChunkPlan) -> ChunkedModule:
    """Emit the chunked forward of ``gm`` under ``plan`` (see module doc)."""
    source, ns = _source(gm, plan, first_only=False)
    probe, _ = _source(gm, plan, first_only=True)
    return ChunkedModule(gm, source, ns, plan, probe)


def _source(gm: fx.GraphModule, plan: ChunkPlan, first_only: bool) -> tuple[str, dict[str, Any]]:
    nodes = list(gm.graph.nodes)
    by_name = {n.name: n for n in nodes}
    for r in plan.regions:
        for name in (r.start, r.end, *(n for n, _ in r.chunk_dims), *r.hoisted):
            if name not in by_name:
                raise ValueError(f"plan names node {name!r}, which the graph does not have")
    em = _Emitter(gm)
    starts = {r.start: (i, r) for i, r in enumerate(plan.regions)}
    params: list[str] = []
    top: list[_Stmt] = []
    env: dict[fx.Node, str] = {}
    idx = 0
    while idx < len(nodes):
        node = nodes[idx]
        if node.name in starts:
            rid, region = starts[node.name]
            top.extend(_emit_region(em, gm, by_name, rid, region, first_only))
            idx = nodes.index(by_name[region.end]) + 1
            continue
        if node.op == "placeholder":
            default = f"={em.fmt(node.args[0], env, set())}" if node.args else ""
            params.append(f"{node.name}{default}")
        elif node.op == "output":
            uses: set[str] = set()
            top.append(_Stmt([f"return {em.fmt(node.args[0], env, uses)}"], uses))
        else:
            uses = set()
            rhs = em.call(node, env, uses)
            top.append(_Stmt([f"{node.name} = {rhs}"], uses, node.name))
        idx += 1
    keep = {n.name for n in nodes if n.op == "output"}
    body = _with_dels(top, keep)
    header = f"def forward(self, {', '.join(params)}):" if params else "def forward(self):"
    source = "\n".join([header, *("    " + line for line in body)]) + "\n"
    return source, em.ns


def _with_dels(stmts: list[_Stmt], keep: set[str]) -> list[str]:
    """Flatten statements, deleting each name after its last use (or definition if unused)."""
    last: dict[str, int] = {}
    for i, st in enumerate(stmts):
        if st.defines:
            last.setdefault(st.defines, i)
        for name in st.uses:
            last[name] = i
    out: list[str] = []
    for i, st in enumerate(stmts):
        out.extend(st.lines)
        dead = sorted(n for n, j in last.items() if j == i and n not in keep)
        if dead and not st.lines[-1].startswith("return"):
            out.append(f"del {', '.join(dead)}")
    return out


def _emit_region(em: _Emitter, gm: fx.GraphModule, by_name: dict[str, fx.Node], rid: int,
                 r: ChunkRegion, first_only: bool = False) -> list[_Stmt]:
    nodes = list(gm.graph.nodes)
    lo, hi = nodes.index(by_name[r.start]), nodes.index(by_name[r.end])
    chunk_dim = {by_name[n]: d for n, d in r.chunk_dims}
    hoisted = {by_name[n] for n in r.hoisted}
    i_var, n_var = f"_i{rid}", f"_n{rid}"
    stmts: list[_Stmt] = [_Stmt([f"# chunk region {rid}: {r.start} .. {r.end}, dim {r.dim}, "
                                 f"{r.iterations} x {r.chunk_size} of {r.extent}"])]
    for node in nodes[lo:hi + 1]:
        if node in hoisted:
            uses: set[str] = set()
            stmts.append(_Stmt([f"{node.name} = {em.call(node, {}, uses)}"], uses, node.name))
    sliced = {(by_name[n], d) for n, d in r.sliced_inputs}
    dev_src = next((n.name for n, _ in sorted(sliced, key=lambda x: x[0].name)
                    if isinstance(n.meta.get("val"), torch.Tensor)), None)
    for name in r.outputs:
        val = by_name[name].meta["val"]
        dev = f"{dev_src}.device" if dev_src else em.fmt(val.device, {}, set())
        uses = {dev_src} if dev_src else set()
        stmts.append(_Stmt([f"{name} = torch.empty({tuple(val.shape)}, dtype={val.dtype}, "
                            f"device={dev})"], uses, name))
    body: list[_Stmt] = []
    slice_names: dict[tuple[fx.Node, int], str] = {}
    for src, d in sorted(sliced, key=lambda x: (x[0].name, x[1])):
        var = f"{src.name}_s" if sum(1 for s, _ in sliced if s is src) == 1 else (
            f"{src.name}_s{d}")
        slice_names[(src, d)] = var
        body.append(_Stmt([f"{var} = {src.name}.narrow({d}, {i_var}, {n_var})"], {src.name}, var))
    for node in nodes[lo:hi + 1]:
        if node not in chunk_dim:
            continue
        dm = dim_map(node, gm)
        assert dm is not None
        d = chunk_dim[node]
        env = _chunk_env(dm, d, chunk_dim, slice_names)
        uses = set()
        rhs = _chunk_call(em, node, dm, d, env, uses, n_var)
        var = f"{node.name}_c"
        body.append(_Stmt([f"{var} = {rhs}"], uses, var))
        if node.name in r.outputs:
            index = ", ".join([":"] * d + [f"{i_var}:{i_var} + {n_var}"])
            body.append(_Stmt([f"{node.name}[{index}] = {var}"], {var, node.name}))
    outer = {n for st in body for n in st.uses} - {st.defines for st in body if st.defines}
    inner = [f"    {line}" for line in _with_dels(body, keep=outer)]
    stop = r.chunk_size if first_only else r.extent
    loop = [f"for {i_var} in range(0, {stop}, {r.chunk_size}):",
            f"    {n_var} = min({r.chunk_size}, {r.extent} - {i_var})", *inner]
    stmts.append(_Stmt(loop, outer))
    return stmts


def _chunk_env(dm: DimMap, d: int, chunk_dim: dict[fx.Node, int],
               slice_names: dict[tuple[fx.Node, int], str]) -> dict[fx.Node, str]:
    env: dict[fx.Node, str] = {}
    for pos, inp in enumerate(dm.inputs):
        if inp in env:
            continue
        if inp in chunk_dim:
            env[inp] = f"{inp.name}_c"
        else:
            jd = dm.out_map[d][pos]
            if jd is not None and (inp, jd) in slice_names:
                env[inp] = slice_names[(inp, jd)]
    return env


def _chunk_call(em: _Emitter, node: fx.Node, dm: DimMap, d: int, env: dict[fx.Node, str],
                uses: set[str], n_var: str) -> str:
    if dm.resize is None:
        return em.call(node, env, uses)
    shape = list(node.meta["val"].shape)
    dims = ", ".join(n_var if i == d else str(int(s)) for i, s in enumerate(shape))
    shape_expr = f"({dims},)" if len(shape) == 1 else f"({dims})"
    if dm.resize == "reshape":
        return f"torch.reshape({em.fmt(node.args[0], env, uses)}, {shape_expr})"
    if dm.resize == "expand":
        return f"{em.fmt(node.args[0], env, uses)}.expand({shape_expr})"
    rest = [em.fmt(a, env, uses) for a in node.args[dm.size_args:]]
    kw = [f"{k}={em.fmt(v, env, uses)}" for k, v in node.kwargs.items()]
    return f"{em.bind(node.target)}({', '.join([shape_expr, *rest, *kw])})"
