"""The shipped layer tables as timings: a Task Block whose ``model:`` names a table
(:mod:`octopus.models.tables`) computes at the efficiency its layers get on the array.
Cached per process; no torch."""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

from octopus.cost.layers import Layer, read_layers
from octopus.cost.systolic import ArrayDataflow, model_efficiency
from octopus.models.tables import table_path

__all__ = ["table_efficiency", "table_layers"]


@lru_cache(maxsize=64)
def table_layers(name: str) -> tuple[Layer, ...] | None:
    """The layers of the shipped table ``name``, or ``None`` when none ships."""
    path = table_path(name)
    return read_layers(path) if path is not None else None


@lru_cache(maxsize=256)
def table_efficiency(name: str, rows: int, cols: int, dataflow: ArrayDataflow
                     ) -> Fraction | None:
    """Efficiency of model ``name`` on a ``rows x cols`` array (MACs per PE-cycle, exact), or
    ``None`` when no table ships for it."""
    layers = table_layers(name)
    return model_efficiency(layers, rows, cols, dataflow) if layers else None
