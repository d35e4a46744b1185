"""The shipped layer tables as timings: a Task Block whose ``model:`` names a table
(:mod:`octopus.models.tables`) computes at the efficiency its layers get on the array, on one
array or a group of them, for one input or a batch (:class:`TableScaling`). Cached per process;
no torch."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from octopus.cost.layers import Layer, read_layers
from octopus.cost.systolic import ArrayDataflow, model_efficiency
from octopus.models.tables import table_path

__all__ = ["TableScaling", "table_efficiency", "table_layers"]


@lru_cache(maxsize=64)
def table_layers(name: str) -> tuple[Layer, ...] | None:
    """The layers of the shipped table ``name``, or ``None`` when none ships."""
    path = table_path(name)
    return read_layers(path) if path is not None else None


@lru_cache(maxsize=4096)
def table_efficiency(name: str, rows: int, cols: int, dataflow: ArrayDataflow, arrays: int = 1,
                     batch: int = 1) -> Fraction | None:
    """Efficiency of model ``name`` on ``arrays`` arrays of ``rows x cols`` for ``batch``
    inputs at once (MACs per PE-cycle of each array, exact; :meth:`Layer.batched`), or ``None``
    when no table ships for it."""
    distinct = _distinct_layers(name)
    if not distinct:
        return None
    batched = [layer.batched(batch) for layer, _ in distinct]
    return model_efficiency([layer for layer, (_, repeats) in zip(batched, distinct, strict=True)
                             for _ in range(repeats)], rows, cols, dataflow, arrays)


@lru_cache(maxsize=64)
def _distinct_layers(name: str) -> tuple[tuple[Layer, int], ...]:
    """The layers of table ``name`` that differ in what times them (op and shape), each with
    how often it occurs, in order of first occurrence; empty when no table ships. Speed: a
    transformer's table repeats a few layers hundreds of times, and each is batched once."""
    repeats: dict[tuple[str, int, int, int, int], list] = {}
    for layer in table_layers(name) or ():
        key = (layer.op, layer.m, layer.n, layer.k, layer.count)
        repeats.setdefault(key, [layer, 0])[1] += 1
    return tuple((layer, n) for layer, n in repeats.values())


@dataclass(frozen=True)
class TableScaling:
    """How a block timed by the shipped table ``name`` scales on a ``rows x cols`` array
    (``octopus.sim.capacity.LayerScaling``): its efficiency on a group of arrays for a batch,
    and the activation bytes its layers produce (one byte per element, as the built-ins'
    weights are counted)."""

    name: str
    rows: int
    cols: int
    dataflow: ArrayDataflow

    def efficiency(self, arrays: int, batch: int) -> Fraction:
        found = table_efficiency(self.name, self.rows, self.cols, self.dataflow, arrays, batch)
        if found is None:
            raise ValueError(f"no layer table ships for {self.name!r}")
        return found

    def activation_bytes(self, batch: int) -> int:
        return batch * _output_elements(self.name)


@lru_cache(maxsize=64)
def _output_elements(name: str) -> int:
    """Elements of all the outputs of table ``name``'s layers for one input (0 when no table
    ships). Speed: read per dispatch on a group."""
    return sum(layer.output_elements for layer in table_layers(name) or ())
