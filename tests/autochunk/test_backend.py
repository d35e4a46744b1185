"""The ``torch.compile`` backend gives eager's outputs and plans the graphs it receives."""

from __future__ import annotations

import subprocess
import sys

import torch
from models import Block, SdpaBlock

from octopus.autochunk import ChunkedModule, autochunk_backend


def test_compile_backend_matches_eager() -> None:
    """torch.compile(model, backend="autochunk", options=...) equals the eager model."""
    torch.manual_seed(0)
    model, x = Block().eval(), torch.randn(2, 256, 64)
    compiled = torch.compile(model, backend="autochunk", dynamic=False,
                             options={"memory_budget": 0.3})
    torch.testing.assert_close(compiled(x), model(x), rtol=1e-5, atol=1e-5)


def test_backend_plans_each_graph_it_receives() -> None:
    """The backend returns a chunked module whose plan meets the budget, for an SDPA block."""
    torch.manual_seed(0)
    model = SdpaBlock().eval()
    x, bias = torch.randn(2, 128, 64), torch.randn(1, 4, 128, 128)
    seen: list[ChunkedModule] = []

    def backend(gm: torch.fx.GraphModule, example_inputs: list) -> ChunkedModule:
        out = autochunk_backend(gm, example_inputs, {"memory_budget": 0.4})
        seen.append(out)
        return out

    compiled = torch.compile(model, backend=backend, dynamic=False)
    torch.testing.assert_close(compiled(x, bias), model(x, bias), rtol=1e-5, atol=1e-5)
    assert seen and all(m.plan.meets_budget and m.plan.regions for m in seen)


def test_a_fresh_process_finds_the_backend_by_name() -> None:
    """The installed package declares backend="autochunk" as a torch_dynamo_backends entry
    point: torch.compile finds it without any octopus import, and loads it once."""
    code = """
import sys, torch
m = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU()).eval()
f = torch.compile(m, backend="autochunk", dynamic=False, options={"memory_budget": 1.0})
x = torch.randn(4, 8)
with torch.no_grad():
    assert torch.equal(f(x), m(x))
assert "octopus.autochunk" in sys.modules  # loaded by torch from the entry point
print(torch._dynamo.list_backends().count("autochunk"))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "1"
