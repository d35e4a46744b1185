"""Layer tables of the public DNNs, shipped with the package: ``tables/<name>.csv`` holds the
GEMMs of :data:`octopus.models.public.PUBLIC_MODELS` entry ``name`` (columns
``name, op, m, n, k, count``; read with :func:`octopus.cost.layers.read_layers`).

They are generated from the models by ``octopus calibrate --tables`` and committed, so a run
times a block whose ``model:`` names one without torch or the model's library.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["TABLES_DIR", "table_names", "table_path"]

TABLES_DIR = Path(str(resources.files("octopus.models") / "tables"))


def table_names() -> list[str]:
    """Names of the shipped layer tables, sorted."""
    return sorted(p.stem for p in TABLES_DIR.glob("*.csv"))


def table_path(name: str) -> Path | None:
    """The layer table of ``name``, or ``None`` when none ships."""
    path = TABLES_DIR / f"{name}.csv"
    return path if path.is_file() else None
