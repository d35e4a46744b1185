"""Capture routes, keyword inputs, output structures, and what a compiled module accepts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from models import Block
from torch import nn

from octopus.autochunk import (
    CaptureError,
    InputMismatchError,
    autochunk,
    capture,
    profiler_peak_bytes,
)


class KwargsBlock(nn.Module):
    """A block taking keyword inputs and returning a dict (fx-traceable)."""

    def __init__(self) -> None:
        super().__init__()
        self.block = Block()

    def forward(self, hidden: torch.Tensor, scale: float = 1.0, *, bias: torch.Tensor | None = None
                ) -> dict[str, torch.Tensor]:
        h = self.block(hidden) * scale
        return {"out": h if bias is None else h + bias, "first": h[:, :1]}


@dataclass
class Output:
    """A library-style output record."""

    hidden: torch.Tensor
    extra: tuple[torch.Tensor, ...]


class LibraryStyle(nn.Module):
    """What fx cannot trace: a ``*args, **kwargs`` forward, ``len()`` of a shape, a loop over
    ``x.shape`` and a dataclass output; dynamo can."""

    def __init__(self) -> None:
        super().__init__()
        self.block = Block()

    def forward(self, *args: torch.Tensor, **kwargs: torch.Tensor) -> Output:
        x = kwargs["hidden_states"] if "hidden_states" in kwargs else args[0]
        assert len(x.shape) == 3
        n = 1
        for s in x.shape:
            n *= s
        return Output(self.block(x), (x.mean() * 0 + n,))


class DataDependent(nn.Module):
    """A branch on tensor data: neither route can make one static graph."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x.relu()
        return x.sigmoid()


def test_fx_route_takes_keyword_inputs_and_returns_the_dict() -> None:
    """Inputs as a mapping, a non-tensor input fixed, the dict output kept; equal to eager."""
    torch.manual_seed(0)
    model, x, b = KwargsBlock().eval(), torch.randn(1, 256, 64), torch.randn(64)
    chunked = autochunk(model, {"hidden": x, "scale": 0.5, "bias": b}, 0.4)
    assert chunked.plan.regions
    out = chunked(hidden=x, bias=b, scale=0.5)  # another keyword order
    ref = model(x, 0.5, bias=b)
    assert set(out) == {"out", "first"}
    torch.testing.assert_close(out["out"], ref["out"], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out["first"], ref["first"], rtol=1e-5, atol=1e-5)


def test_dynamo_route_captures_library_style_code_and_its_dataclass() -> None:
    """fx fails on this forward; the dynamo route captures it, and the dataclass comes back."""
    torch.manual_seed(0)
    model, x = LibraryStyle().eval(), torch.randn(1, 256, 64)
    with pytest.raises(CaptureError):
        capture(model, (), {"hidden_states": x}, route="fx")
    chunked = autochunk(model, {"hidden_states": x}, 0.4)
    out, ref = chunked(hidden_states=x), model(hidden_states=x)
    assert isinstance(out, Output)
    torch.testing.assert_close(out.hidden, ref.hidden, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out.extra[0], ref.extra[0])
    assert profiler_peak_bytes(lambda: chunked(hidden_states=x)) < 0.5 * profiler_peak_bytes(
        lambda: model(hidden_states=x))


def test_capture_error_names_the_module_and_the_other_route() -> None:
    """Both routes fail on a data-dependent branch: one CaptureError says what and what next."""
    with pytest.raises(CaptureError) as err:
        autochunk(DataDependent(), (torch.randn(4, 4),), 0.5)
    text = str(err.value)
    assert "DataDependent" in text and "backend='autochunk'" in text
    assert set(err.value.failures) == {"fx", "dynamo"}


def test_another_shape_is_planned_again_never_computed_on_the_old_one() -> None:
    """Compiled for 512 tokens, called with 600: a new plan (cached), eager's answer; without
    re-planning, an error naming the compiled shape."""
    torch.manual_seed(0)
    model = Block().eval()
    x512, x600 = torch.randn(1, 512, 64), torch.randn(1, 600, 64)
    chunked = autochunk(model, (x512,), 0.3)
    out = chunked(x600)
    assert out.shape == (1, 600, 64)
    torch.testing.assert_close(out, model(x600), rtol=1e-5, atol=1e-5)
    chunked(x600)
    assert len(chunked.variants) == 1  # planned once for 600
    chunked.replan = None
    with pytest.raises(InputMismatchError, match=r"\(1, 512, 64\)"):
        chunked(torch.randn(1, 1024, 64))
    with pytest.raises(InputMismatchError, match="float64"):
        chunked(x512.double())


def test_switching_to_train_mode_after_compiling_is_refused() -> None:
    """The graph keeps the mode it was captured in; a module switched to train() is refused."""
    model, x = Block().eval(), torch.randn(1, 128, 64)
    chunked = autochunk(model, (x,), 0.5)
    model.train()
    with pytest.raises(RuntimeError, match="eval mode"):
        chunked(x)
    model.eval()
    torch.testing.assert_close(chunked(x), model(x), rtol=1e-5, atol=1e-5)


def test_compile_dynamic_true_plans_each_shape() -> None:
    """torch.compile(dynamic=True) with the backend: each concrete shape gets eager's answer."""
    torch.manual_seed(0)
    model = Block().eval()
    compiled = torch.compile(model, backend="autochunk", dynamic=True,
                             options={"memory_budget": 0.3})
    for s in (256, 320):
        x = torch.randn(2, s, 64)
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-5, atol=1e-5)


def test_plain_functions_are_captured_too() -> None:
    """A function (not a module) goes through the fx route with its own signature."""
    gm = capture(lambda x, y: F.gelu(x) @ y, (torch.randn(8, 4), torch.randn(4, 8)))
    assert [n.op for n in gm.graph.nodes].count("placeholder") == 2
