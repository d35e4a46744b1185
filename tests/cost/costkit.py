"""Shared pieces of the octopus.cost tests: a small attention module and one-block workflows."""

from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]


class Attn(nn.Module):
    """One attention layer over ``(1, S, d)``: scores ``(1, H, S, S)`` dominate the peak."""

    def __init__(self, d: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, d = x.shape
        h = self.heads
        q = self.q(x).reshape(b, s, h, d // h).transpose(1, 2)
        k = self.k(x).reshape(b, s, h, d // h).transpose(1, 2)
        v = self.v(x).reshape(b, s, h, d // h).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-1, -2)).softmax(dim=-1)
        return torch.matmul(att, v).transpose(1, 2).reshape(b, s, d)



def torch_workflow(tmp_path: Path, name: str = "mlp", shape: str = "[64, 256]",
                   dtype: str = "float32") -> Path:
    """A workflow file with one AI block ``net`` defined by a registered torch model."""
    path = tmp_path / "wf.yaml"
    path.write_text(f"""
name: one-model
blocks:
  - id: net
    type: task
    kind: ai
    torch_model: {{name: {name}, input_shape: {shape}, dtype: {dtype}}}
""")
    return path



def flat(pair):
    """``(module, inputs)`` -> ``(module, *inputs)`` for :func:`octopus.cost.profile_module`."""
    module, inputs = pair
    return (module, *inputs)

