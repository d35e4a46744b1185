"""The evaluation report's figures (matplotlib on Agg, imported only when drawing).

:func:`draw_figures` writes one PNG per study into a folder: ``main.png`` (makespan over the lower
bound), ``idle_breakdown.png`` (where TBU time goes), ``ablation.png`` (each mechanism flipped),
``dynamicity.png``, ``scaling.png`` and ``heatmap.png`` (per-TBU utilization on the mesh). Every
figure has a title saying what it shows, axes with units, a legend that covers no data and a
scale that shows the differences (ratios as bars from their reference, small changes in %).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from octopus.experiments.evaluate import SCHEDULERS, TARGET, Evaluation
from octopus.sim import BUCKETS

__all__ = ["draw_figures", "plot_heatmap"]

Row = dict[str, Any]


def draw_figures(ev: Evaluation, rows: Sequence[Row], ablation: Sequence[Row], out: Path) -> None:
    """Every figure of the report into ``out`` (``rows``: ``main_rows(ev)``; ``ablation``: the
    rows of ``ablation.csv``)."""
    wfs = sorted(ev.main)
    _bound_ratios(ev, rows, wfs, out / "main.png")
    _idle_breakdown(ev, rows, wfs, out / "idle_breakdown.png")
    _ablation(ev, ablation, wfs, out / "ablation.png")
    _dynamicity(ev, out / "dynamicity.png")
    _scaling(ev, out / "scaling.png")
    if ev.heatmap:
        plot_heatmap({s: [row.compute / max(1, sum(row)) for row in per_tbu]
                      for s, per_tbu in ev.heatmap.items()},
                     ev.tbu_positions, out / "heatmap.png",
                     f"{ev.size.sweep_workflow} on {ev.arch}, {ev.size.instances} instances")


def _value(rows: Sequence[Row], wf: str, sched: str, key: str) -> float:
    return next(r[key] for r in rows if r["workflow"] == wf and r["scheduler"] == sched)


def _bound_ratios(ev: Evaluation, rows: Sequence[Row], wfs: list[str], path: Path) -> None:
    plt = _pyplot()
    x = np.arange(len(wfs))
    offsets, width = _bar_slots(len(SCHEDULERS))
    fig, ax = plt.subplots(figsize=(10, 4.2))
    for offset, sched in zip(offsets, SCHEDULERS, strict=True):
        excess = [_value(rows, w, sched, "bound_ratio") - 1.0 for w in wfs]
        ax.bar(x + offset, excess, width, bottom=1.0, label=sched)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks(x, wfs, rotation=20, ha="right")
    ax.set_ylabel("makespan / lower bound (1 = optimal)")
    ax.set_title(f"Makespan over the lower bound per workflow ({ev.arch}, "
                 f"{ev.size.instances} instances; lower is better)")
    _legend_outside(ax, "scheduler")
    _save(fig, path)


def _idle_breakdown(ev: Evaluation, rows: Sequence[Row], wfs: list[str], path: Path) -> None:
    plt = _pyplot()
    x = np.arange(len(wfs))
    offsets, width = _bar_slots(len(SCHEDULERS))
    hatches = ["", "//", "..", "xx"]
    fig, ax = plt.subplots(figsize=(11, 4.5))
    for i, sched in enumerate(SCHEDULERS):
        bottom = np.zeros(len(wfs))
        pos = x + offsets[i]
        for j, b in enumerate(BUCKETS):
            vals = np.array([_value(rows, w, sched, f"{b}_fraction") for w in wfs])
            ax.bar(pos, vals, width, bottom=bottom, color=f"C{j}", hatch=hatches[i % 4],
                   edgecolor="white", linewidth=0.3, label=b.replace("_", " ") if i == 0 else None)
            bottom += vals
    for i, sched in enumerate(SCHEDULERS):  # the scheduler's hatch, for the legend only
        ax.bar([0], [0], color="lightgray", hatch=hatches[i % 4], label=sched)
    ax.set_xticks(x, wfs, rotation=20, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of TBU time (TBUs x makespan)")
    ax.set_title(f"Where TBU time goes ({ev.arch}; bars per workflow, left to right: "
                 f"{', '.join(SCHEDULERS)})")
    _legend_outside(ax, "time bucket / scheduler")
    _save(fig, path)


def _ablation(ev: Evaluation, ablation: Sequence[Row], wfs: list[str], path: Path) -> None:
    plt = _pyplot()
    variants = sorted({r["variant"] for r in ablation} - {TARGET})
    x = np.arange(len(wfs))
    offsets, width = _bar_slots(len(variants))
    fig, ax = plt.subplots(figsize=(10, 4.2))
    for offset, v in zip(offsets, variants, strict=True):
        change = [100.0 * (next(r["makespan_cycles"] for r in ablation
                                if r["workflow"] == w and r["variant"] == v)
                           / ev.makespan(w, TARGET) - 1.0) for w in wfs]
        ax.bar(x + offset, change, width, label=v)
    ax.axhline(0.0, color="k", lw=0.8)
    lim = max(1.0, *(abs(b.get_height()) * 1.15 for b in ax.patches))
    ax.set_ylim(-lim, lim)
    ax.set_xticks(x, wfs, rotation=20, ha="right")
    ax.set_ylabel("makespan change vs full Octopus (%)")
    ax.set_title("Ablation: each Octopus mechanism flipped from its default "
                 "(above 0: the variant is slower)")
    _legend_outside(ax, "variant")
    _save(fig, path)


def _dynamicity(ev: Evaluation, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    cvs = [r["cv"] for r in ev.dynamicity]
    for sched in SCHEDULERS:
        if sched != TARGET and sched in ev.dynamicity[0]:
            ax.plot(cvs, [r[sched] / r[TARGET] for r in ev.dynamicity], "o-",
                    label=f"over {sched}")
    ax.axhline(1.0, color="gray", ls="--", lw=1)
    ax.set_xlabel("coefficient of variation of every work and count distribution")
    ax.set_ylabel("Octopus speedup (baseline makespan / Octopus makespan)")
    ax.set_title(f"Speedup against dynamicity ({ev.size.sweep_workflow}, {ev.arch})")
    _legend_outside(ax, "baseline")
    _save(fig, path)


def _scaling(ev: Evaluation, path: Path) -> None:
    plt = _pyplot()
    from matplotlib import ticker

    fig, ax = plt.subplots(figsize=(7, 4.2))
    clusters = [r["clusters"] for r in ev.scaling]
    ax.plot(clusters, [r["efficiency"] for r in ev.scaling], "o-",
            label="throughput per TBU / that of 1 cluster")
    ax.plot(clusters, [r["bound_efficiency"] for r in ev.scaling], "s--",
            label="lower bound / makespan")
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(ticker.FixedLocator(clusters))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(ticker.NullLocator())
    ax.set_ylim(0, 1.05)
    ax.set_xlabel(f"clusters ({ev.size.per_cluster} instances per cluster)")
    ax.set_ylabel("efficiency (1 = ideal)")
    ax.set_title(f"Scaling of Octopus ({ev.size.sweep_workflow})")
    _legend_outside(ax, None)
    _save(fig, path)


def plot_heatmap(utilization: dict[str, list[float]], positions: list[tuple[int, int]],
                 path: Path, subtitle: str = "") -> None:
    """One panel per scheduler: each TBU's utilization (compute share of the makespan) drawn
    at its ``(x, y)`` position on the TBU mesh."""
    plt = _pyplot()
    width = max(x for x, _ in positions) + 1
    height = max(y for _, y in positions) + 1
    fig, axes = plt.subplots(1, len(utilization), figsize=(5.2 * len(utilization), 4.8))
    image = None
    for ax, (sched, util) in zip(np.atleast_1d(axes), sorted(utilization.items()), strict=True):
        grid = np.full((height, width), np.nan)
        for (x, y), u in zip(positions, util, strict=True):
            grid[y, x] = u
        image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", origin="upper")
        ax.set_title(f"{sched}: mean utilization {np.nanmean(grid):.1%}")
        ax.set_xlabel("TBU column on the mesh (x)")
        ax.set_ylabel("TBU row on the mesh (y)")
    fig.suptitle("Per-TBU utilization" + (f": {subtitle}" if subtitle else ""))
    fig.colorbar(image, ax=axes, shrink=0.8, label="utilization (compute share of makespan)")
    _save(fig, path)


def _bar_slots(members: int) -> tuple[list[float], float]:
    """Offsets from a workflow's tick, and the width, of ``members`` bars side by side."""
    width = 0.8 / max(1, members)
    return [(i - (members - 1) / 2) * width for i in range(members)], width


def _legend_outside(ax: Any, title: str | None) -> None:
    ax.legend(title=title, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              title_fontsize=8, frameon=False)


def _save(fig: Any, path: Path) -> None:
    plt = _pyplot()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
