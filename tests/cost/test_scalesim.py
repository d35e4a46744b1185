"""SCALE-Sim as the reference: cached results need no SCALE-Sim; with SCALE-Sim installed, the
closed form agrees with it on small layers and the fold-slice extrapolation equals a whole run."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from octopus.cost import scalesim as scalesim_module
from octopus.cost.layers import Layer
from octopus.cost.scalesim import simulate_layer
from octopus.cost.systolic import layer_cycles

needs_scalesim = pytest.mark.skipif(importlib.util.find_spec("scalesim") is None,
                                    reason="SCALE-Sim is not installed (octopus[calibrate])")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _write_cached(layer: Layer, version: str = "3.0.0") -> None:
    result = scalesim_module.ScaleSimResult(1234, 0.5, 10, 20, 30, 40, "full", version)
    key = scalesim_module._key(layer, 16, 16, "os", (768, 768, 512),
                               scalesim_module.FULL_LIMIT_CYCLES)
    scalesim_module._write(key, result)


def test_a_cache_hit_needs_no_scalesim(monkeypatch):
    """With SCALE-Sim absent (not importable), a cached layer is answered from the cache, from
    whichever SCALE-Sim version wrote it."""
    layer = Layer("x", "matmul", 32, 32, 32)
    _write_cached(layer)
    monkeypatch.setattr(scalesim_module, "scalesim_version", lambda: None)
    monkeypatch.setitem(sys.modules, "scalesim", None)  # any import of it would fail
    result = simulate_layer(layer, 16, 16, "os")
    assert result.compute_cycles == 1234 and result.version == "3.0.0"


def test_an_uncached_layer_without_scalesim_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(scalesim_module, "scalesim_version", lambda: None)
    with pytest.raises(RuntimeError, match=r"octopus\[calibrate\]"):
        simulate_layer(Layer("y", "matmul", 8, 8, 8), 16, 16, "os")


@needs_scalesim
@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_closed_form_agrees_with_scalesim_on_small_layers(df):
    """Three small layers per dataflow (one tile, partial tiles, a repeated GEMM): equal."""
    for layer in (Layer("a", "matmul", 16, 16, 16), Layer("b", "conv", 33, 17, 50),
                  Layer("c", "dwconv", 20, 1, 9, count=3)):
        result = simulate_layer(layer, 16, 16, df)
        assert result.scope == "full"
        assert result.compute_cycles == layer_cycles(layer, 16, 16, df), layer
        assert 0 < result.utilization <= 1 and result.dram_reads > 0


@needs_scalesim
def test_fold_slices_extrapolate_to_the_whole_run():
    """A 9 x 3-fold layer run on its 1- and 2-fold slices gives the whole run's cycles."""
    layer = Layer("d", "conv", 140, 40, 24)
    whole = simulate_layer(layer, 16, 16, "os", full_limit_cycles=10 ** 9)
    sliced = simulate_layer(layer, 16, 16, "os", full_limit_cycles=100)
    assert (whole.scope, sliced.scope) == ("full", "folds")
    assert sliced.compute_cycles == whole.compute_cycles


@needs_scalesim
def test_a_long_stream_extrapolates_to_the_whole_run():
    """A weight-stationary layer streaming 1,200 rows per fold, from slices streaming 256 and
    512: the whole run's cycles."""
    layer = Layer("e", "conv", 1200, 20, 40)
    whole = simulate_layer(layer, 16, 16, "ws", full_limit_cycles=10 ** 9)
    sliced = simulate_layer(layer, 16, 16, "ws", full_limit_cycles=100)
    assert (whole.scope, sliced.scope) == ("full", "folds")
    assert sliced.compute_cycles == whole.compute_cycles
