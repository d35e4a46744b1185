"""Models built from the public libraries' own code (``transformers``, ``diffusers``), random
weights from small configs, nothing downloaded: what the real-model AutoChunk benchmark and
tests run.

:func:`build_library_model` returns ``(model, example_kwargs)`` in eval mode for one of
:data:`LIBRARY_MODELS` with ``attention="default"`` (the library's default: fused
``scaled_dot_product_attention``) or ``"eager"`` (materialised attention scores). Sizes: ``seq``
is tokens for the text models, patches for ViT and latent pixels (``h * w``) for the UNet.
Raises ``ImportError`` naming the ``octopus[models]`` extra when a library is missing and
``KeyError`` for an unknown name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

__all__ = ["LIBRARY_MODELS", "ModelSize", "build_library_model"]

Attention = Literal["default", "eager"]


@dataclass(frozen=True)
class ModelSize:
    """Width and depth of a benchmark model (the test sizes are much smaller)."""

    layers: int = 2
    width: int = 768
    heads: int = 12
    kv_heads: int = 4  # Llama's grouped-query attention
    vocab: int = 4096


LIBRARY_MODELS = ("gpt2", "llama", "bert", "vit", "unet")


def build_library_model(name: str, seq: int, attention: Attention = "default",
                        size: ModelSize | None = None, seed: int = 0
                        ) -> tuple[nn.Module, dict[str, Any]]:
    """The model and its keyword inputs (batch 1), seeded (see module doc)."""
    if name not in LIBRARY_MODELS:
        raise KeyError(f"unknown library model {name!r} (choose from {', '.join(LIBRARY_MODELS)})")
    size = size or ModelSize()
    torch.manual_seed(seed)
    model, inputs = _BUILDERS[name](seq, attention, size)
    return model.eval(), inputs


def _transformers() -> Any:
    try:
        import transformers  # noqa: PLC0415 - optional extra
    except ImportError as e:
        raise ImportError("the real-model benchmark needs transformers: pip install "
                          "'octopus[models]'") from e
    transformers.logging.set_verbosity_error()
    return transformers


def _attn(attention: Attention) -> str:
    return "eager" if attention == "eager" else "sdpa"


def _gpt2(seq: int, attention: Attention, s: ModelSize) -> tuple[nn.Module, dict[str, Any]]:
    tf = _transformers()
    cfg = tf.GPT2Config(n_layer=s.layers, n_embd=s.width, n_head=s.heads, vocab_size=s.vocab,
                        n_positions=seq, bos_token_id=0, eos_token_id=0, use_cache=False,
                        attn_implementation=_attn(attention))
    return tf.GPT2Model(cfg), {"input_ids": torch.randint(0, s.vocab, (1, seq))}


def _llama(seq: int, attention: Attention, s: ModelSize) -> tuple[nn.Module, dict[str, Any]]:
    tf = _transformers()
    cfg = tf.LlamaConfig(num_hidden_layers=s.layers, hidden_size=s.width,
                         intermediate_size=int(s.width * 8 / 3) // 64 * 64,
                         num_attention_heads=s.heads, num_key_value_heads=s.kv_heads,
                         vocab_size=s.vocab, max_position_embeddings=seq, use_cache=False,
                         bos_token_id=0, eos_token_id=0, pad_token_id=0,
                         attn_implementation=_attn(attention))
    return tf.LlamaModel(cfg), {"input_ids": torch.randint(0, s.vocab, (1, seq))}


def _bert(seq: int, attention: Attention, s: ModelSize) -> tuple[nn.Module, dict[str, Any]]:
    tf = _transformers()
    cfg = tf.BertConfig(num_hidden_layers=s.layers, hidden_size=s.width,
                        intermediate_size=4 * s.width, num_attention_heads=s.heads,
                        vocab_size=s.vocab, max_position_embeddings=seq, pad_token_id=0,
                        attn_implementation=_attn(attention))
    mask = torch.ones(1, seq, dtype=torch.long)
    mask[:, -seq // 8:] = 0  # padded tail: the mask is really used
    return tf.BertModel(cfg, add_pooling_layer=False), {
        "input_ids": torch.randint(1, s.vocab, (1, seq)), "attention_mask": mask}


def _vit(seq: int, attention: Attention, s: ModelSize) -> tuple[nn.Module, dict[str, Any]]:
    tf = _transformers()
    side = math.isqrt(seq)
    if side * side != seq:
        raise ValueError(f"ViT needs a square number of patches, got {seq}")
    patch = 16
    cfg = tf.ViTConfig(num_hidden_layers=s.layers, hidden_size=s.width,
                       intermediate_size=4 * s.width, num_attention_heads=s.heads,
                       image_size=side * patch, patch_size=patch,
                       attn_implementation=_attn(attention))
    return tf.ViTModel(cfg, add_pooling_layer=False), {
        "pixel_values": torch.randn(1, 3, side * patch, side * patch)}


def _unet(seq: int, attention: Attention, s: ModelSize) -> tuple[nn.Module, dict[str, Any]]:
    try:
        import diffusers  # noqa: PLC0415 - optional extra
        from diffusers.models.attention_processor import AttnProcessor  # noqa: PLC0415
    except ImportError as e:
        raise ImportError("the real-model benchmark needs diffusers: pip install "
                          "'octopus[models]'") from e
    side = math.isqrt(seq)
    if side * side != seq:
        raise ValueError(f"the UNet needs a square latent, got {seq} pixels")
    width = max(32, s.width // 6 // 32 * 32)  # 128 for the benchmark width of 768
    model = diffusers.UNet2DConditionModel(
        sample_size=side, in_channels=4, out_channels=4, layers_per_block=1,
        block_out_channels=(width, 2 * width),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        # diffusers' UNet reads attention_head_dim as the number of heads (SD 1.x: 8)
        cross_attention_dim=width, attention_head_dim=8,
        norm_num_groups=min(32, width // 4))
    if attention == "eager":
        model.set_attn_processor(AttnProcessor())  # baddbmm + softmax, scores materialised
    inputs = {"sample": torch.randn(1, 4, side, side), "timestep": torch.tensor(10),
              "encoder_hidden_states": torch.randn(1, 16, width)}
    return model, inputs


_BUILDERS = {"gpt2": _gpt2, "llama": _llama, "bert": _bert, "vit": _vit, "unet": _unet}
