"""Costs of a ``torch.nn.Module`` at given input shapes, measured without real activations.

:func:`profile_module` runs the module once under ``FakeTensorMode`` (shapes and dtypes only,
nothing allocated for activations) and reports:

- ``flops``: PyTorch's FLOP counter (``torch.utils.flop_counter.FlopCounterMode``), which counts
  the matmul-like ops only (mm, bmm, addmm, baddbmm, convolutions, attention); elementwise ops,
  norms and softmax count zero;
- ``macs``: ``flops // 2`` (every counted formula is two FLOPs per multiply-accumulate);
- ``weight_bytes``: parameters plus buffers (shared tensors once);
- ``input_bytes`` / ``output_bytes``: the tensors in the example inputs and in the output;
- ``activation_peak_bytes``: AutoChunk's estimate (:mod:`octopus.autochunk.estimate`) on the graph
  AutoChunk captures; inputs and weights excluded. If ``torch.fx`` cannot trace the module, the
  peak of one fake run under AutoChunk's allocation tracker is used instead
  (:func:`octopus.autochunk.simulate_peak_bytes`; ``peak_source == "dispatch"``).

torch and AutoChunk are imported inside the functions, so ``import octopus.cost`` stays cheap.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from octopus.cost.layers import Layer, extract_layers
from octopus.workflow.distributions import Constant
from octopus.workflow.model import TaskBlock

__all__ = [
    "ModuleCosts",
    "fake_inputs",
    "profile_module",
    "profile_with_graph",
    "task_block_from_module",
]


@dataclass(frozen=True)
class ModuleCosts:
    """What one forward pass of a module costs (counts and bytes, no time).

    Attributes:
        macs: multiply-accumulates (``flops // 2``).
        flops: FLOPs of matmul-like ops, from PyTorch's FLOP counter.
        weight_bytes: bytes of parameters and buffers.
        input_bytes: bytes of the example input tensors.
        output_bytes: bytes of the output tensors.
        activation_peak_bytes: estimated peak of live intermediate tensors (AutoChunk's
            estimator; inputs and weights excluded).
        peak_source: ``"autochunk"`` (graph estimate) or ``"dispatch"`` (fake run, untraceable
            module).
        layers: the GEMMs of the pass (:func:`octopus.cost.layers.extract_layers`), which time
            it on a PE array; empty when not recorded.
    """

    macs: int
    flops: int
    weight_bytes: int
    input_bytes: int
    output_bytes: int
    activation_peak_bytes: int
    peak_source: str = "autochunk"
    layers: tuple[Layer, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModuleCosts:
        layers = tuple(Layer(**layer) for layer in data.get("layers", ()))
        return cls(**{**data, "layers": layers})


def fake_inputs(example_inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """Fake CPU tensors with the shapes, strides and dtypes of ``example_inputs``.

    Each input is a tensor (any device, ``meta`` included; only its metadata is read), a shape
    (``torch.Size``, tuple or list of ints: a float32 tensor of that shape), or any other value
    (passed through). Nothing is allocated.
    """
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    mode = FakeTensorMode(allow_non_fake_inputs=True)
    out: list[Any] = []
    with mode:
        for x in example_inputs:
            if isinstance(x, torch.Tensor):
                out.append(torch.empty_strided(tuple(x.shape), tuple(x.stride()), dtype=x.dtype,
                                               device="cpu"))
            elif isinstance(x, (tuple, list)) and all(isinstance(s, int) for s in x):
                out.append(torch.empty(tuple(x), dtype=torch.float32, device="cpu"))
            else:
                out.append(x)
    return tuple(out)


def profile_module(module: Any, *example_inputs: Any) -> ModuleCosts:
    """Costs of ``module(*example_inputs)`` (see module doc); ``module`` is not modified.

    Raises:
        RuntimeError: the module cannot run on the given shapes (the message names the op).
    """
    return profile_with_graph(module, fake_inputs(example_inputs))[0]


def profile_with_graph(module: Any, fakes: tuple[Any, ...]) -> tuple[ModuleCosts, Any]:
    """Costs and the annotated AutoChunk graph (``None`` when the module is untraceable).

    ``fakes`` come from :func:`fake_inputs`; the graph is what AutoChunk plans on.
    """
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils._pytree import tree_flatten
    from torch.utils.flop_counter import FlopCounterMode

    from octopus.autochunk import capture, simulate_peak_bytes
    from octopus.autochunk.estimate import estimate_peak
    from octopus.autochunk.flow import GraphInfo

    mode = FakeTensorMode(allow_non_fake_inputs=True)
    with mode:
        run_inputs = tuple(torch.empty_strided(tuple(x.shape), tuple(x.stride()), dtype=x.dtype)
                           if isinstance(x, torch.Tensor) else x for x in fakes)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), mode, counter:
        out = module(*run_inputs)
    flops = int(counter.get_total_flops())
    out_bytes = sum(_nbytes(t) for t in tree_flatten(out)[0] if isinstance(t, torch.Tensor))
    in_bytes = sum(_nbytes(t) for t in fakes if isinstance(t, torch.Tensor))
    weights = sum(_nbytes(t) for t in [*module.parameters(), *module.buffers()])
    gm = None
    try:
        gm = capture(module, fakes)
    except (torch.fx.proxy.TraceError, TypeError, NotImplementedError):
        peak, source = simulate_peak_bytes(module, fakes), "dispatch"
    else:
        peak, source = estimate_peak(GraphInfo.build(gm)).peak_bytes, "autochunk"
    shapes = tuple(torch.empty_strided(tuple(x.shape), tuple(x.stride()), dtype=x.dtype,
                                       device="meta") if isinstance(x, torch.Tensor) else x
                   for x in fakes)
    costs = ModuleCosts(macs=flops // 2, flops=flops, weight_bytes=weights, input_bytes=in_bytes,
                        output_bytes=out_bytes, activation_peak_bytes=int(peak),
                        peak_source=source, layers=tuple(extract_layers(module, *shapes)))
    return costs, gm


def _nbytes(t: Any) -> int:
    return int(t.numel()) * int(t.element_size())


def task_block_from_module(block_id: str, module: Any, *example_inputs: Any,
                           costs: ModuleCosts | None = None, input_bytes: int = 0,
                           model: str | None = None) -> TaskBlock:
    """An AI Task Block for one forward pass of ``module`` at ``example_inputs``' shapes.

    The block has ``work`` = constant MACs, ``config_bytes`` = weight bytes (the configuration
    that must be resident), ``output_bytes`` = the output tensors' bytes. ``input_bytes`` (read
    from off-chip memory per firing) defaults to 0, as for any block fed by other blocks; pass
    ``costs.input_bytes`` for a block that reads its input from memory. ``costs`` skips the
    profiling when already known. Fitting the activation peak into a TBU's SRAM is
    :func:`octopus.cost.fit_module`'s job.
    """
    costs = costs if costs is not None else profile_module(module, *example_inputs)
    return TaskBlock(id=block_id, kind="ai", work=Constant(value=float(costs.macs)),
                     input_bytes=input_bytes, output_bytes=costs.output_bytes,
                     config_bytes=costs.weight_bytes, model=model or type(module).__name__)
