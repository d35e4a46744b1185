"""Plain-text tables and JSON for the CLI (the only place that prints)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

__all__ = ["print_json", "print_table", "si", "si_seconds"]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print ``rows`` under ``headers`` in aligned columns (numbers right-aligned)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(_is_num(r[i]) for r in rows) and bool(rows) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) if numeric[i] and n else c.ljust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, sort_keys=False))


def si(x: float, unit: str = "") -> str:
    """``1.23e9`` -> ``'1.23 G'`` + unit."""
    for scale, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g} {prefix}{unit}"
    return f"{x:.3g} {unit}".rstrip()


def si_seconds(seconds: float) -> str:
    """A duration with a readable unit: ``5.38 s``, ``12.3 ms``, ``4.1 min``, ``2.5 h``."""
    size = abs(seconds)
    if size >= 7200:
        return f"{seconds / 3600:.3g} h"
    if size >= 120:
        return f"{seconds / 60:.3g} min"
    if size >= 1 or size == 0:
        return f"{seconds:.3g} s"
    if size >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} us"


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float)
