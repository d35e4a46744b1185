"""Models the workflow format can name: ``torch_model: {name, input_shape, dtype}``.

Each entry builds a module with random weights (nothing downloaded) and example inputs on the
``meta`` device (shapes only) from ``input_shape``, whose meaning is per model:

=============  ===========================  ===================================================
name           input_shape                  model (in :mod:`octopus.models`)
=============  ===========================  ===================================================
``gpt``        ``[batch, tokens]``          :class:`~.gpt.GPT` prefill (2 layers, d 256, 4 heads)
``vit``        ``[batch, 3, H, W]``         :class:`~.vit.ViT` (16x16 patches, 2 layers, d 256)
``evoformer``  ``[msa_seqs, residues]``     :class:`~.evoformer.Evoformer` block (c_m 64, c_z 32)
``unet``       ``[batch, 4, h, w]``         :class:`~.unet.UNet` (two levels, 77 context tokens)
``encoder``    ``[batch, tokens]``          :class:`~.zoo.Encoder` (2 layers, d 256)
``convnet``    ``[batch, 3, H, W]``         :class:`~.zoo.ConvNet` (width 32)
``mlp``        ``[batch, features]``        :class:`~.zoo.MLP` (hidden 1024)
=============  ===========================  =================================================

torch is imported only when a model is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["KNOWN_MODELS", "MAX_WEIGHT_BYTES", "KnownModel", "build_known"]

MAX_WEIGHT_BYTES = 2**30
"""Largest weights a model may have at its input shape (1 GiB; position embeddings grow with
the tokens or patches, an MLP's first layer with the features). Checked on the ``meta``
device before anything is allocated."""


@dataclass(frozen=True)
class KnownModel:
    """A named model family: what its ``input_shape`` means and how to build it."""

    name: str
    shape_meaning: str
    rank: int  # length of input_shape
    build: Callable[[tuple[int, ...]], tuple[Any, tuple[Any, ...]]]


def _meta(*shape: int, dtype: Any = None) -> Any:
    import torch

    return torch.empty(shape, dtype=dtype or torch.float32, device="meta")


def _gpt(shape: tuple[int, ...]) -> tuple[Any, tuple[Any, ...]]:
    import torch

    from octopus.models.gpt import GPT

    b, s = shape
    return GPT(max_len=s), (_meta(b, s, dtype=torch.int64),)


def _vit(shape: tuple[int, ...]) -> tuple[Any, tuple[Any, ...]]:
    from octopus.models.vit import ViT

    b, c, h, w = shape
    if c != 3 or h % 16 or w % 16:
        raise ValueError(f"vit needs [batch, 3, H, W] with H and W multiples of 16, got {shape}")
    return ViT((h // 16) * (w // 16)), (_meta(b, 3, h, w),)


def _evoformer(shape: tuple[int, ...]) -> tuple[Any, tuple[Any, ...]]:
    from octopus.models.evoformer import Evoformer

    s, r = shape
    return Evoformer(), (_meta(s, r, 64), _meta(r, r, 32))


def _unet(shape: tuple[int, ...]) -> tuple[Any, tuple[Any, ...]]:
    from octopus.models.unet import UNet

    b, c, h, w = shape
    if c != 4 or h % 2 or w % 2:
        raise ValueError(f"unet needs [batch, 4, h, w] with even h and w, got {shape}")
    return UNet(), (_meta(b, 4, h, w), _meta(b, 128), _meta(b, 77, 128))


def _encoder(shape: tuple[int, ...]) -> tuple[Any, tuple[Any, ...]]:
    import torch

    from octopus.models.zoo import Encoder

    b, s = shape
    return Encoder(max_len=s), (_meta(b, s, dtype=torch.int64),)


def _convnet(shape: tuple[int, ...]) -> tuple[Any, tuple[Any, ...]]:
    from octopus.models.zoo import ConvNet

    b, c, h, w = shape
    if c != 3:
        raise ValueError(f"convnet needs [batch, 3, H, W], got {shape}")
    return ConvNet(), (_meta(b, 3, h, w),)


def _mlp(shape: tuple[int, ...]) -> tuple[Any, tuple[Any, ...]]:
    from octopus.models.zoo import MLP

    b, f = shape
    return MLP(f), (_meta(b, f),)


KNOWN_MODELS: dict[str, KnownModel] = {m.name: m for m in (
    KnownModel("gpt", "[batch, tokens]", 2, _gpt),
    KnownModel("vit", "[batch, 3, H, W]", 4, _vit),
    KnownModel("evoformer", "[msa_seqs, residues]", 2, _evoformer),
    KnownModel("unet", "[batch, 4, h, w]", 4, _unet),
    KnownModel("encoder", "[batch, tokens]", 2, _encoder),
    KnownModel("convnet", "[batch, 3, H, W]", 4, _convnet),
    KnownModel("mlp", "[batch, features]", 2, _mlp),
)}


def build_known(name: str, input_shape: tuple[int, ...] | list[int], dtype: str = "float32"
                ) -> tuple[Any, tuple[Any, ...]]:
    """The module (eval mode, random weights, seed 0) and meta-device example inputs.

    Floating-point weights and inputs are cast to ``dtype`` (the name of a torch floating-point
    dtype; the workflow format admits ``octopus.workflow.model.DTYPES``); integer inputs (token
    ids) stay.

    Raises:
        ValueError: unknown ``name`` (the message lists the valid ones), a ``dtype`` that names
            no floating-point dtype, a shape of the wrong rank or form for the model, or weights
            over :data:`MAX_WEIGHT_BYTES` at that shape.
    """
    import torch

    if name not in KNOWN_MODELS:
        raise ValueError(f"unknown model {name!r} (choose from: {', '.join(KNOWN_MODELS)})")
    dt = getattr(torch, dtype, None)
    if not isinstance(dt, torch.dtype) or not dt.is_floating_point:
        raise ValueError(f"{dtype!r} is not a torch floating-point dtype")
    spec = KNOWN_MODELS[name]
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != spec.rank or any(s < 1 for s in shape):
        raise ValueError(f"{name} takes input_shape {spec.shape_meaning} (positive sizes), "
                         f"got {list(shape)}")
    _check_weight_bytes(spec, shape, dt)
    torch.manual_seed(0)
    module, inputs = spec.build(shape)
    module = module.to(dt).eval()
    inputs = tuple(x.to(dt) if x.is_floating_point() else x for x in inputs)
    return module, inputs


def _check_weight_bytes(spec: KnownModel, shape: tuple[int, ...], dtype: Any) -> None:
    """Raise unless the model's weights at ``shape`` fit :data:`MAX_WEIGHT_BYTES` (built on
    the ``meta`` device: no memory is allocated)."""
    import torch

    with torch.device("meta"):
        module, _ = spec.build(shape)
    numel = sum(t.numel() for t in [*module.parameters(), *module.buffers()])
    nbytes = numel * dtype.itemsize
    if nbytes > MAX_WEIGHT_BYTES:
        raise ValueError(f"{spec.name} at input_shape {list(shape)} has {nbytes / 2**30:.3g} GiB "
                         f"of weights, over the limit of {MAX_WEIGHT_BYTES // 2**30} GiB")
