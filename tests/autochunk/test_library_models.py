"""AutoChunk on models built from transformers' and diffusers' own code (tiny configs, random
weights, nothing downloaded): captured through autochunk(), same outputs, measured cut.
Skipped without the ``octopus[models]`` extra."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers")
pytest.importorskip("diffusers")

from octopus.autochunk import autochunk, profiler_peak_bytes  # noqa: E402
from octopus.experiments.library_models import ModelSize, build_library_model  # noqa: E402

TINY = ModelSize(layers=1, width=64, heads=4, kv_heads=2, vocab=128)
CASES = [("gpt2", "default", 256), ("gpt2", "eager", 256), ("llama", "default", 256),
         ("bert", "eager", 256), ("vit", "eager", 576), ("unet", "eager", 256)]


def _main(out: object) -> torch.Tensor:
    """The first tensor of a ModelOutput / UNet output."""
    return out.sample if hasattr(out, "sample") else out[0]


@pytest.mark.parametrize(("name", "attention", "seq"), CASES)
def test_library_model_is_captured_exact_and_cut(name: str, attention: str, seq: int) -> None:
    """autochunk(model, kwargs, 40%) captures the library model, returns its own output type,
    equals eager, and the measured peak drops below the eager model's."""
    model, inputs = build_library_model(name, seq, attention, TINY)
    chunked = autochunk(model, inputs, 0.4, on_miss="warn")
    out, ref = chunked(**inputs), model(**inputs)
    assert type(out) is type(ref)
    torch.testing.assert_close(_main(out), _main(ref), rtol=1e-5, atol=1e-5)
    assert chunked.plan.regions
    eager = profiler_peak_bytes(lambda: model(**inputs))
    assert profiler_peak_bytes(lambda: chunked(**inputs)) < 0.8 * eager
