"""A DNN as a systolic array sees it: the list of its matrix operations (:class:`Layer`).

Every layer is a GEMM of an ``(m x k)`` by a ``(k x n)`` matrix, repeated ``count`` times:

- a linear layer or matmul over ``m`` rows (tokens, batch) with ``k`` inputs and ``n`` outputs;
- a batched matmul (attention scores, attention times values): ``count`` = batch x heads;
- a convolution, by im2col: ``m`` = batch x output height x width, ``k`` = input channels per
  group x kernel height x width, ``n`` = output channels per group, ``count`` = groups (a
  depthwise convolution is ``count`` = channels GEMMs with ``n`` = 1, as SCALE-Sim runs it).

:func:`extract_layers` records them from a ``torch.nn.Module`` run once on fake tensors (nothing
is allocated): every ``mm``, ``addmm``, ``bmm``, ``baddbmm``, ``convolution`` and fused attention
call, named by the innermost module that made it. :func:`read_layers` and :func:`write_layers`
keep a layer table as CSV (the tables of the public DNNs ship in ``octopus/cost/tables``), so a
run needs neither torch nor the model to time them.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["LAYER_COLUMNS", "Layer", "extract_layers", "read_layers", "write_layers"]

LAYER_COLUMNS = ("name", "op", "m", "n", "k", "count")


@dataclass(frozen=True)
class Layer:
    """One GEMM of a model, ``count`` times: ``(m x k) @ (k x n)``; ``op`` says what it was
    (``linear``, ``matmul``, ``conv``, ``dwconv``, ``attention``)."""

    name: str
    op: str
    m: int
    n: int
    k: int
    count: int = 1

    def __post_init__(self) -> None:
        for dim in ("m", "n", "k", "count"):
            if getattr(self, dim) < 1:
                raise ValueError(f"layer {self.name!r}: {dim} must be >= 1, got "
                                 f"{getattr(self, dim)}")

    @property
    def macs(self) -> int:
        """Multiply-accumulates of all ``count`` GEMMs."""
        return self.m * self.n * self.k * self.count

    @property
    def output_elements(self) -> int:
        """Elements of all ``count`` GEMMs' outputs."""
        return self.m * self.n * self.count

    def batched(self, batch: int) -> Layer:
        """The layer for ``batch`` inputs at once: a batched matmul (``matmul``, ``attention``:
        one per input) repeats ``batch`` times more; any other layer has ``batch`` times the
        rows and shares its weights."""
        if batch == 1:
            return self
        if self.op in ("matmul", "attention"):
            return dataclasses.replace(self, count=self.count * batch)
        return dataclasses.replace(self, m=self.m * batch)


def write_layers(layers: Iterable[Layer]) -> str:
    """A layer table as CSV text (header :data:`LAYER_COLUMNS`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LAYER_COLUMNS)
    for layer in layers:
        writer.writerow(dataclasses.astuple(layer))
    return out.getvalue()


def read_layers(path: str | Path) -> tuple[Layer, ...]:
    """The layer table in CSV file ``path``.

    Raises:
        ValueError: a missing column or a row that is not a valid layer (naming the row).
    """
    with Path(path).open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    layers = []
    for i, row in enumerate(rows, start=2):
        try:
            layers.append(Layer(row["name"], row["op"], int(row["m"]), int(row["n"]),
                                int(row["k"]), int(row["count"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: row {i}: not a layer ({exc})") from None
    return tuple(layers)


def extract_layers(module: Any, *args: Any, **kwargs: Any) -> list[Layer]:
    """The GEMMs of one forward pass of ``module(*args, **kwargs)`` (module doc), in call order.

    Tensor arguments only give shapes and dtypes: the pass runs on fake tensors on the device of
    the module's parameters (``meta`` for a module built under ``torch.device("meta")``, which
    allocates no weights either); tensors the module creates go to that device too. ``module``
    is not modified.

    Raises:
        RuntimeError: the module cannot run on the given shapes.
    """
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils._pytree import tree_map

    device = next((p.device for p in module.parameters()), torch.device("cpu"))
    mode = FakeTensorMode(allow_non_fake_inputs=True)

    def fake(x: Any) -> Any:
        if isinstance(x, torch.Tensor):
            return torch.empty_strided(tuple(x.shape), tuple(x.stride()), dtype=x.dtype,
                                       device=device)
        return x

    with mode:
        args, kwargs = tree_map(fake, (args, kwargs))
    recorder = _GemmRecorder()
    names = _ModuleNames(module, recorder)
    try:
        with torch.no_grad(), torch.device(device), mode, recorder:
            module(*args, **kwargs)
    finally:
        names.remove()
    return recorder.layers


def _gemm_ops() -> dict[Any, Any]:
    """aten overload packet -> function ``(args, kwargs, out) -> [(op, m, n, k, count)]``."""
    import torch

    aten = torch.ops.aten

    def mm(args, kwargs, out):
        (m, k), n = args[0].shape, args[1].shape[-1]
        return [("matmul", m, n, k, 1)]

    def addmm(args, kwargs, out):
        (m, k), n = args[1].shape, args[2].shape[-1]
        return [("linear", m, n, k, 1)]

    def bmm(args, kwargs, out, first=0):
        b, m, k = args[first].shape
        return [("matmul", m, args[first + 1].shape[-1], k, b)]

    def conv(args, kwargs, out):  # aten.convolution(x, w, bias, stride, padding, dilation,
        x, w = args[0], args[1]    # transposed, output_padding, groups)
        transposed, groups = bool(args[6]), int(args[8])
        if transposed:  # im2col of the input: each pixel scatters a (c_out x kh x kw) patch
            m, k = x.shape[0] * _prod(x.shape[2:]), w.shape[0] // groups
            n = w.shape[1] * _prod(w.shape[2:])
        else:
            m, k, n = out.shape[0] * _prod(out.shape[2:]), w.shape[1] * _prod(w.shape[2:]), \
                w.shape[0] // groups
        depthwise = groups > 1 and n == 1 and not transposed
        return [("dwconv" if depthwise else "conv", m, n, k, groups)]

    def attention(args, kwargs, out):
        q, k, v = args[0], args[1], args[2]
        batch = _prod(q.shape[:-2])
        return [("attention", q.shape[-2], k.shape[-2], q.shape[-1], batch),
                ("attention", q.shape[-2], v.shape[-1], k.shape[-2], batch)]

    table = {aten.mm: mm, aten.addmm: addmm, aten.bmm: bmm,
             aten.baddbmm: lambda a, kw, o: bmm(a, kw, o, first=1),
             aten.convolution: conv}
    fused = ("flash_attention_for_cpu", "attention_math", "flash_attention",
             "efficient_attention", "cudnn_attention")
    for name in (f"_scaled_dot_product_{kind}" for kind in fused):
        if hasattr(aten, name):
            table[getattr(aten, name)] = attention
    return table


def _prod(dims: Sequence[int]) -> int:
    out = 1
    for d in dims:
        out *= int(d)
    return out


class _GemmRecorder:
    """A dispatch mode that records a :class:`Layer` per GEMM-like aten call."""

    def __init__(self) -> None:
        from torch.utils._python_dispatch import TorchDispatchMode

        self.layers: list[Layer] = []
        self.scope = "model"
        self._ops = _gemm_ops()
        recorder = self

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                handler = recorder._ops.get(func.overloadpacket)
                if handler is not None:
                    for op, m, n, k, count in handler(args, kwargs or {}, out):
                        recorder.layers.append(Layer(
                            f"{recorder.scope}#{len(recorder.layers)}", op, int(m), int(n),
                            int(k), int(count)))
                return out

        self._mode = Mode()

    def __enter__(self) -> _GemmRecorder:
        self._mode.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._mode.__exit__(*exc)


class _ModuleNames:
    """Forward hooks that keep ``recorder.scope`` at the innermost running module's name."""

    def __init__(self, module: Any, recorder: _GemmRecorder) -> None:
        stack: list[str] = []
        self._handles = []
        for name, sub in module.named_modules():
            label = name or type(module).__name__

            def enter(mod, inputs, label=label):
                stack.append(label)
                recorder.scope = label

            def leave(mod, inputs, output):
                stack.pop()
                recorder.scope = stack[-1] if stack else "model"

            self._handles.append(sub.register_forward_pre_hook(enter))
            self._handles.append(sub.register_forward_hook(leave))

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
