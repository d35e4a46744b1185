"""Cycles of a GEMM on an R x C systolic array, per dataflow, in closed form. Pure: no torch.

A :class:`~octopus.cost.layers.Layer` ``(m x k) @ (k x n)`` is cut into *folds*: tiles of the two
dimensions the dataflow keeps spatial, each run as one pass of the third (*streamed*) dimension
through the array. Per dataflow (rows ``R``, columns ``C``):

==========  =======================  ==============  ========================================
dataflow    stationary in the array  streamed         folds
==========  =======================  ==============  ========================================
``os``      outputs (m on R, n on C)  k               ``ceil(m / R) * ceil(n / C)``
``ws``      weights (k on R, n on C)  m               ``ceil(k / R) * ceil(n / C)``
``is``      inputs (k on R, m on C)   n               ``ceil(k / R) * ceil(m / C)``
==========  =======================  ==============  ========================================

``cycles = folds * (stream + a * R + b * C + c) + d``, the pipeline of a systolic array: each
fold streams its operands in skewed, fills and drains. The coefficients :data:`FOLD_TIMING` were
fitted to SCALE-Sim v3 runs (``octopus calibrate``; ``reports/calibration/report.md``) and
reproduce its compute cycles exactly on every layer measured there: ``os``
``folds * (k + R + C - 2) - 1``; ``ws`` and ``is`` ``folds * (stream + 2R + C - 2) - 1``. They
count compute cycles with operands staged in SRAM (SCALE-Sim's stall-free bandwidth); moving
operands from off-chip memory is :func:`dram_words` and the caller's memory model.

A *group* of ``arrays`` arrays runs one layer by sharing out its folds (each array gets whole
folds; weights or inputs are replicated as needed): :func:`layer_cycles` with ``arrays > 1``.
Dataflow ``"best"`` takes, per layer, the faster of :data:`BEST_OF` (``os`` and ``ws``), as an
array that implements both (Gemmini) chooses at run time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, get_args

from octopus.cost.layers import Layer

__all__ = ["BEST_OF", "DATAFLOWS", "FOLD_TIMING", "ArrayDataflow", "Dataflow", "FoldTiming",
           "dram_words", "fold_shape", "layer_cycles", "layers_cycles", "model_efficiency",
           "utilization"]

Dataflow = Literal["os", "ws", "is"]
DATAFLOWS: tuple[str, ...] = get_args(Dataflow)
ArrayDataflow = Literal["os", "ws", "is", "best"]
BEST_OF: tuple[Dataflow, ...] = ("os", "ws")


@dataclass(frozen=True)
class FoldTiming:
    """``cycles = folds * (stream + a * rows + b * cols + c) + d`` (module doc)."""

    a: float
    b: float
    c: float
    d: float

    def cycles(self, folds: int, stream: int, rows: int, cols: int, gemms: int = 1) -> int:
        """Cycles of ``folds`` passes of ``stream`` steps on a ``rows x cols`` array, over
        ``gemms`` GEMMs run one after another (``d`` is paid once per GEMM); at least 1."""
        per_fold = stream + self.a * rows + self.b * cols + self.c
        return max(1, round(folds * per_fold + gemms * self.d))


FOLD_TIMING: dict[str, FoldTiming] = {
    # Fitted to SCALE-Sim 3.0.0 compute cycles (CALC bandwidth mode: no stalls); exact on every
    # layer of reports/calibration/layers.csv. See `octopus calibrate`.
    "os": FoldTiming(a=1.0, b=1.0, c=-2.0, d=-1.0),
    "ws": FoldTiming(a=2.0, b=1.0, c=-2.0, d=-1.0),
    "is": FoldTiming(a=2.0, b=1.0, c=-2.0, d=-1.0),
}


def fold_shape(layer: Layer, rows: int, cols: int, dataflow: Dataflow) -> tuple[int, int]:
    """``(folds, stream)`` of one of the layer's GEMMs on the array (module doc).

    Raises:
        ValueError: unknown dataflow or a non-positive array size.
    """
    if rows < 1 or cols < 1:
        raise ValueError(f"array must be at least 1 x 1, got {rows} x {cols}")
    m, n, k = layer.m, layer.n, layer.k
    if dataflow == "os":
        return _ceil(m, rows) * _ceil(n, cols), k
    if dataflow == "ws":
        return _ceil(k, rows) * _ceil(n, cols), m
    if dataflow == "is":
        return _ceil(k, rows) * _ceil(m, cols), n
    raise ValueError(f"unknown dataflow {dataflow!r} (choose from: {', '.join(DATAFLOWS)})")


def layer_cycles(layer: Layer, rows: int, cols: int, dataflow: ArrayDataflow, arrays: int = 1,
                 timing: dict[str, FoldTiming] | None = None) -> int:
    """Compute cycles of all ``layer.count`` GEMMs of ``layer`` on ``arrays`` arrays of
    ``rows x cols`` (the GEMMs run one after another; their folds are shared out evenly).

    Raises:
        ValueError: unknown dataflow, a non-positive array size or ``arrays < 1``.
    """
    if arrays < 1:
        raise ValueError(f"arrays must be >= 1, got {arrays}")
    if dataflow == "best":
        return min(layer_cycles(layer, rows, cols, df, arrays, timing) for df in BEST_OF)
    folds, stream = fold_shape(layer, rows, cols, dataflow)
    per_array = _ceil(folds * layer.count, arrays)
    gemms = _ceil(layer.count, arrays)
    return (timing or FOLD_TIMING)[dataflow].cycles(per_array, stream, rows, cols, gemms)


def layers_cycles(layers: Iterable[Layer], rows: int, cols: int, dataflow: ArrayDataflow,
                  arrays: int = 1) -> int:
    """Compute cycles of a model: its layers one after another on ``arrays`` arrays."""
    # Speed: a model repeats a few shapes (a transformer's blocks); time each shape once.
    by_shape: dict[tuple[int, int, int, int], int] = {}
    total = 0
    for layer in layers:
        shape = (layer.m, layer.n, layer.k, layer.count)
        cycles = by_shape.get(shape)
        if cycles is None:
            cycles = by_shape[shape] = layer_cycles(layer, rows, cols, dataflow, arrays)
        total += cycles
    return total


def utilization(layers: Iterable[Layer], rows: int, cols: int, dataflow: ArrayDataflow,
                arrays: int = 1) -> float:
    """MACs over the MACs the arrays could do in the model's compute cycles, in (0, 1]."""
    return float(model_efficiency(layers, rows, cols, dataflow, arrays))


def model_efficiency(layers: Iterable[Layer], rows: int, cols: int, dataflow: ArrayDataflow,
                     arrays: int = 1) -> Fraction:
    """Exactly ``MACs / (rows * cols * arrays * compute cycles)`` of a model, at most 1 (a
    1 x 1 array's fold has no fill to pay).

    Raises:
        ValueError: no layers (or no MACs).
    """
    layers = list(layers)
    macs = sum(layer.macs for layer in layers)
    if macs == 0:
        raise ValueError("a model with no layers has no efficiency")
    cycles = layers_cycles(layers, rows, cols, dataflow, arrays)
    return min(Fraction(1), Fraction(macs, rows * cols * arrays * cycles))


def dram_words(layer: Layer) -> int:
    """Operand and result words of ``layer`` (each input, weight and output element once): the
    off-chip traffic when its operands fit the array's SRAM (compulsory misses only)."""
    return (layer.m * layer.k + layer.k * layer.n + layer.m * layer.n) * layer.count


def _ceil(a: int, b: int) -> int:
    return -(-a // b)
