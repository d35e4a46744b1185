"""Analytic cycle costs, hand-computed on the 'chip' preset (16x16 PEs, ai 0.8, general 0.25)."""

from __future__ import annotations

import pytest

from octopus.arch import (
    compute_cycles,
    config_load_cycles,
    load_arch,
    memory_cycles,
    transfer_cycles,
)


@pytest.fixture
def chip():
    return load_arch("chip")


def test_ai_compute_is_exact_at_a_multiple(chip):
    """256 PEs at 0.8 do 204.8 MACs/cycle: 2048 MACs take exactly 10 cycles, 2049 take 11."""
    assert compute_cycles(chip, "ai", 2048) == 10
    assert compute_cycles(chip, "ai", 2049) == 11


def test_general_compute_uses_general_efficiency(chip):
    """256 PEs at 0.25 do 64 operations/cycle."""
    assert compute_cycles(chip, "general", 640) == 10
    assert compute_cycles(chip, "general", 640.5) == 11


def test_zero_work_takes_zero_cycles(chip):
    """No work, no cycles."""
    assert compute_cycles(chip, "ai", 0) == 0


def test_compute_rejects_bad_input(chip):
    """Unknown kinds and negative work are errors."""
    with pytest.raises(ValueError, match="unknown work kind"):
        compute_cycles(chip, "fft", 10)
    with pytest.raises(ValueError, match="work must be >= 0"):
        compute_cycles(chip, "ai", -1)


def test_config_load(chip):
    """500 setup + 200 memory latency + ceil(1000 / 32) = 500 + 200 + 32; no bytes, no read."""
    assert config_load_cycles(chip, 1000) == 732
    assert config_load_cycles(chip, 1024) == 732
    assert config_load_cycles(chip, 0) == 500


def test_memory_cycles(chip):
    """200 latency + ceil(100 / 32) = 204 from a shared controller; 4 over a private link."""
    assert memory_cycles(chip, 100) == 204
    assert memory_cycles(load_arch("chip", {"memory.placement": "private"}), 100) == 4
    assert memory_cycles(chip, 0) == 0


def test_a_port_slower_than_the_controller_bounds_the_read():
    """A 32 B/cycle controller serving a 8 B/cycle TBU port: ceil(1000 / 8) + 200."""
    arch = load_arch("chip", {"tbu.memory_bytes_per_cycle": 8})
    assert memory_cycles(arch, 1000) == 325


def test_transfer_intra_only(chip):
    """2 hops x 2 cycles + ceil(1000 / 64) = 4 + 16."""
    assert transfer_cycles(chip, 2, 0, 1000) == 20


def test_transfer_with_d2d_uses_d2d_bottleneck(chip):
    """3 x 2 + 1 x 10 + ceil(1000 / 16) = 6 + 10 + 63."""
    assert transfer_cycles(chip, 3, 1, 1000) == 79


def test_transfer_trivial_cases_are_free(chip):
    """Zero bytes or zero hops (same TBU) cost nothing."""
    assert transfer_cycles(chip, 0, 0, 1000) == 0
    assert transfer_cycles(chip, 3, 1, 0) == 0


def test_transfer_rejects_negative(chip):
    """Negative hops or bytes are errors."""
    with pytest.raises(ValueError):
        transfer_cycles(chip, -1, 0, 10)
    with pytest.raises(ValueError):
        transfer_cycles(chip, 1, 0, -10)
