"""Budget parsing and the peak-memory meters the other tests rely on."""

from __future__ import annotations

import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorMode

from octopus.autochunk import (
    cross_checked_peak,
    dispatch_peak_bytes,
    parse_budget,
    peak_bytes,
    profiler_peak_bytes,
)
from octopus.autochunk.capture import flash_cpu_workspace_bytes


@pytest.mark.parametrize(("budget", "expected"), [
    (1000, 1000), ("2GiB", 2 * 1024**3), ("512 MB", 512 * 1000**2), ("1.5kib", 1536),
    (0.25, 250), ("30%", 300), (1.0, 1000),
])
def test_budget_forms(budget: int | float | str, expected: int) -> None:
    """Bytes, unit strings, fractions and percentages of an original peak of 1000 bytes."""
    assert parse_budget(budget, 1000) == expected


@pytest.mark.parametrize("budget", [0, -5, 1.5, 0.0, "lots", "3 parsecs", True])
def test_bad_budgets_raise(budget: object) -> None:
    """Non-positive, out-of-range and unreadable budgets raise ValueError."""
    with pytest.raises(ValueError):
        parse_budget(budget, 1000)  # type: ignore[arg-type]


def _attention(x: torch.Tensor) -> torch.Tensor:
    s = x @ x.transpose(1, 2)
    p = s.softmax(-1)
    del s
    return p @ x


def test_profiler_and_dispatch_meters_agree_on_plain_ops() -> None:
    """Scores (1 MiB) and probabilities (1 MiB) are live together: both meters read 2 MiB."""
    x = torch.randn(1, 512, 256)
    expected = 2 * 512 * 512 * 4
    assert profiler_peak_bytes(lambda: _attention(x)) == expected
    assert dispatch_peak_bytes(lambda: _attention(x)) == expected
    assert peak_bytes(lambda: _attention(x), "cpu") == expected


def test_cross_check_sees_the_flash_attention_workspace() -> None:
    """Fused SDPA allocates a per-thread buffer only the allocator sees; the gap is that buffer."""
    q, k, v = (torch.randn(1, 2, 256, 16) for _ in range(3))
    reading = cross_checked_peak(
        lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v))
    expected = flash_cpu_workspace_bytes(256, 256, 16, torch.get_num_threads())
    assert reading.kernel_internal_bytes > 0
    assert abs(reading.kernel_internal_bytes - expected) <= 0.25 * expected  # exact on 2.13


def test_dispatch_meter_predicts_on_fake_tensors() -> None:
    """Under FakeTensorMode nothing is allocated but the live-storage count is the same."""
    with FakeTensorMode():
        x = torch.randn(1, 512, 256)
        assert dispatch_peak_bytes(lambda: _attention(x)) == 2 * 512 * 512 * 4


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_meter() -> None:
    """On GPU the meter reads max_memory_allocated above the baseline."""
    x = torch.randn(1, 512, 256, device="cuda")
    assert peak_bytes(lambda: _attention(x), "cuda") >= 2 * 512 * 512 * 4
