"""Plots of a sweep's ``results.csv`` (matplotlib, Agg backend, imported only when drawing).

:func:`plot_xy` is the general plot: ``y`` against ``x``, one line per ``hue`` value, the mean
over every other column with a min-max band. Two ready-made plots build on it:
:func:`plot_speedup_vs_dynamicity` and :func:`plot_throughput_vs_clusters`.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from octopus.errors import InputError, read_text_file
from octopus.experiments.sweep import METRICS

__all__ = ["KINDS", "load_results", "plot_speedup_vs_dynamicity", "plot_throughput_vs_clusters",
           "plot_xy", "speedup_rows"]

KINDS = ("xy", "speedup-vs-dynamicity", "throughput-vs-clusters")
Row = dict[str, Any]


def load_results(path: str | Path) -> list[Row]:
    """Rows of a results CSV; numbers become ``int``/``float``, empty cells ``None``.

    Raises:
        InputError: the file cannot be read (see :func:`~octopus.errors.read_text_file`: a
            regular UTF-8 file), is not CSV, or has no rows.
    """
    path = Path(path)
    text = read_text_file(path)
    try:
        rows = [{k: _number(v) for k, v in r.items()}
                for r in csv.DictReader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise InputError(path, None, f"not CSV ({exc})") from None
    if not rows:
        raise InputError(path, None, "no rows (has any point finished?)")
    return rows


def _number(text: str | None) -> Any:
    if text is None or text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def speedup_rows(rows: Sequence[Row], target: str = "octopus") -> list[Row]:
    """Speedup of ``target`` over every other scheduler, paired on all other parameters.

    Rows are matched on every parameter column except ``scheduler`` (so seeds, workflows and
    architecture settings pair up); each match gives ``{**params, "baseline": name, "speedup":
    baseline makespan / target makespan}``.

    Raises:
        InputError: no row ran ``target``, or no row pairs with one.
    """
    skip = {"point", "scheduler", *METRICS}
    params = [k for k in rows[0] if k not in skip]
    groups: dict[tuple, dict[str, Row]] = defaultdict(dict)
    for r in rows:
        groups[tuple(r[k] for k in params)][r["scheduler"]] = r
    out = []
    for key, by_sched in groups.items():
        if target not in by_sched:
            continue
        for name, r in sorted(by_sched.items()):
            if name != target:
                out.append(dict(zip(params, key, strict=True)) | {
                    "baseline": name,
                    "speedup": r["makespan_cycles"] / by_sched[target]["makespan_cycles"]})
    if not out:
        raise InputError(None, "scheduler", f"no runs of '{target}' paired with another "
                                            "scheduler on the same parameters")
    return out


def plot_xy(rows: Sequence[Row], x: str, y: str, out: str | Path, hue: str | None = None,
            title: str | None = None, logx: bool = False, logy: bool = False,
            ylabel: str | None = None, reference_y: float | None = None) -> Path:
    """Draw ``y`` against ``x`` (one line per ``hue`` value) into the PNG ``out``.

    Rows sharing ``(hue, x)`` are averaged (over seeds and any other column); a band shows their
    min and max. Text values of ``x`` become evenly spaced categories. ``reference_y`` draws a
    dashed horizontal line (e.g. 1 for speedups).

    Raises:
        InputError: ``x``, ``y`` or ``hue`` is not a column, or ``y`` is not numeric.
    """
    _check_columns(rows, [c for c in (x, y, hue) if c])
    if not all(isinstance(r[y], int | float) for r in rows if r[y] is not None):
        raise InputError(None, y, "not a numeric column")
    series: dict[Any, dict[Any, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r[y] is not None:
            series[r[hue] if hue else None][r[x]].append(float(r[y]))
    xs = sorted({r[x] for r in rows}, key=_order)
    categorical = not all(isinstance(v, int | float) for v in xs)
    pos = {v: i for i, v in enumerate(xs)} if categorical else {v: v for v in xs}

    plt = _pyplot()
    from matplotlib import ticker

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    try:
        for name in sorted(series, key=_order):
            pts = sorted(series[name].items(), key=lambda kv: _order(kv[0]))
            px = [pos[k] for k, _ in pts]
            mean = [sum(v) / len(v) for _, v in pts]
            label = f"{hue}={name}" if hue and not isinstance(name, str) else name
            ax.plot(px, mean, marker="o", label=label)
            if any(len(v) > 1 for _, v in pts):
                ax.fill_between(px, [min(v) for _, v in pts], [max(v) for _, v in pts],
                                alpha=0.2)
        if reference_y is not None:
            ax.axhline(reference_y, color="gray", linestyle="--", linewidth=1)
        if logx:
            ax.set_xscale("log", base=2)
            if not categorical:
                ax.set_xticks(xs)
        if logy:
            ax.set_yscale("log")
            # 1-2-5 ticks: a range of one decade or less still gets several labelled ticks
            ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        plain = ticker.FuncFormatter(lambda v, _: f"{v:g}")  # 300, not 3x10^2
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(plain)
            axis.set_minor_formatter(ticker.NullFormatter())
        if categorical:
            ax.set_xticks(range(len(xs)), [str(v) for v in xs])
        ax.set_xlabel(x)
        ax.set_ylabel(ylabel or y)
        ax.grid(True, alpha=0.3)
        if hue:
            ax.legend(title=hue, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        if title:
            ax.set_title(title)
        fig.tight_layout()
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out)
    finally:
        plt.close(fig)
    return out


def plot_speedup_vs_dynamicity(rows: Sequence[Row], out: str | Path,
                               x: str = "dynamicity_cv", target: str = "octopus") -> Path:
    """Speedup of ``target`` over each other scheduler against ``x`` (default: the sweep's
    ``dynamicity_cv``; ``workflow`` works too), one line per baseline, with a 1x reference."""
    rows = speedup_rows(rows, target)
    _check_columns(rows, [x])
    return plot_xy(rows, x, "speedup", out, hue="baseline", reference_y=1.0,
                   title=f"{target} speedup (baseline makespan / {target} makespan)",
                   ylabel=f"speedup of {target}")


def plot_throughput_vs_clusters(rows: Sequence[Row], out: str | Path, x: str = "clusters",
                                hue: str = "scheduler") -> Path:
    """Throughput (instances per second) against the number of clusters, one line per
    scheduler, on log-log axes."""
    return plot_xy(rows, x, "throughput_instances_per_s", out, hue=hue, logx=True, logy=True,
                   title="throughput vs. cluster count", ylabel="throughput (instances/s)")


def _check_columns(rows: Sequence[Row], names: Sequence[str]) -> None:
    columns = list(rows[0]) if rows else []
    for name in names:
        if name not in columns:
            raise InputError(None, name, f"not a column (columns: {', '.join(columns)})")


def _order(value: Any) -> tuple:
    """Sort key mixing numbers, text and None: numbers first, by value."""
    if isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value)):
        return (0, value, "")
    return (1, 0, str(value))


def _pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (imported here: it is slow and optional).

    Raises:
        InputError: matplotlib is not installed.
    """
    try:
        import matplotlib
    except ImportError:
        raise InputError(None, "plot", "needs matplotlib: pip install 'octopus[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
