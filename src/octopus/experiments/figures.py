"""The serving report's figures (matplotlib on Agg, imported only when drawing).

:func:`draw_figures` writes into a folder: ``goodput.png`` (goodput per workflow as a fraction
of capacity, with 95% intervals; a panel per preset and arrival process), per preset
``latency_<preset>.png`` (p50 and p99 latency over the latency floor against the offered load)
and ``attainment_<preset>.png`` (SLO attainment against the load), ``slo_scale.png``
(attainment against the SLO scale at the reference load) and ``ablation.png`` (goodput without
each Octopus mechanism over with it). Every figure has a title, axes with units, a legend
beside the data and error bars where several seeds give an interval.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from octopus.experiments.evaluation import Evaluation
from octopus.experiments.stats import Interval

__all__ = ["draw_figures"]

SLOWDOWN_MIN = 0.9
"""Where the log axis of latency / floor stops: a p99 of latency over the instance's own
floor is at least about 1, so an interval reaching below only says the seeds disagree."""


def draw_figures(ev: Evaluation, out: Path) -> list[str]:
    """Every figure of the report into ``out``; returns their file names."""
    names = [_goodput(ev, out / "goodput.png")]
    for preset in ev.size.presets:
        names.append(_curves(ev, preset, out / f"latency_{preset}.png", "latency"))
        names.append(_curves(ev, preset, out / f"attainment_{preset}.png", "attainment"))
    names.append(_slo_scale(ev, out / "slo_scale.png"))
    names.append(_ablation(ev, out / "ablation.png"))
    return names


def _goodput(ev: Evaluation, path: Path) -> str:
    plt = _pyplot()
    size = ev.size
    wfs, scheds = size.workflows, ev.schedulers
    fig, axes = plt.subplots(len(size.arrival_cvs), len(size.presets), squeeze=False,
                             figsize=(5.2 * len(size.presets), 3.6 * len(size.arrival_cvs)),
                             sharey=True)
    x = np.arange(len(wfs))
    offsets, width = _bar_slots(len(scheds))
    for row, cv in enumerate(size.arrival_cvs):
        for col, preset in enumerate(size.presets):
            ax = axes[row][col]
            for i, (offset, sched) in enumerate(zip(offsets, scheds, strict=True)):
                cis = [_clipped(_scaled(ev.goodput(w, preset, sched, cv),
                                        1 / ev.capacity[(w, preset)]), 0.0, 1.0) for w in wfs]
                ax.bar(x + offset, [c.mean for c in cis], width, color=f"C{i}", label=sched,
                       yerr=_yerr(cis), capsize=1.5, error_kw={"lw": 0.7})
            ax.axhline(1.0, color="k", lw=0.6, ls=":")
            ax.set_ylim(0, 1.08)
            ax.set_xticks(x, wfs, rotation=35, ha="right", fontsize=7)
            ax.set_title(f"{preset}, {_process(cv)}", fontsize=9)
            if col == 0:
                ax.set_ylabel("goodput / capacity")
    fig.suptitle(f"Goodput: highest rate with >= {size.target:.0%} of instances within "
                 f"{size.slo_scale:g}x their latency floor\n(mean and 95% interval over "
                 f"{len(size.seeds)} seeds, clipped to [0, capacity]; dotted: capacity)",
                 fontsize=10)
    _legend_outside(axes[0][-1], "scheduler")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return _save(fig, path)


def _curves(ev: Evaluation, preset: str, path: Path, kind: str) -> str:
    plt = _pyplot()
    from matplotlib import ticker

    size = ev.size
    panels = [(w, cv) for cv in size.arrival_cvs for w in size.workflows]
    cols = 4
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, squeeze=False, figsize=(4.0 * cols, 2.9 * rows))
    loads = np.asarray(size.loads)
    for ax, (wf, cv) in zip(axes.flat, panels, strict=False):
        for i, sched in enumerate(ev.schedulers):
            if kind == "latency":
                p99 = [_clipped(c, SLOWDOWN_MIN, math.inf)
                       for c in ev.curve(wf, preset, sched, cv, "slowdown_p99")]
                p50 = ev.curve(wf, preset, sched, cv, "slowdown_p50")
                ax.errorbar(loads, [c.mean for c in p99], yerr=_yerr(p99), color=f"C{i}",
                            marker="o", ms=3, lw=1, capsize=2, label=f"{sched} p99")
                ax.plot(loads, [c.mean for c in p50], color=f"C{i}", ls=":", lw=1,
                        label=f"{sched} p50")
            else:
                att = [_clipped(c, 0.0, 1.0) for c in ev.curve(wf, preset, sched, cv,
                                                                "attainment")]
                ax.errorbar(loads, [c.mean for c in att], yerr=_yerr(att), color=f"C{i}",
                            marker="o", ms=3, lw=1, capsize=2, label=sched)
        if kind == "latency":
            ax.axhline(size.slo_scale, color="k", lw=0.6, ls="--")
            ax.set_yscale("log")
            plain = ticker.FuncFormatter(lambda v, _: f"{v:g}")
            ax.yaxis.set_major_formatter(plain)
            ax.yaxis.set_minor_formatter(plain)
            ax.tick_params(axis="y", which="minor", labelsize=6)
            ax.set_ylabel("latency / floor")
        else:
            ax.axhline(size.target, color="k", lw=0.6, ls="--")
            ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel("SLO attainment")
        ax.axvline(1.0, color="gray", lw=0.6, ls=":")
        ax.set_xlabel("offered load (rate / capacity)")
        ax.set_title(f"{wf}, {_process(cv)}", fontsize=9)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    what = ("p99 (solid) and p50 (dotted) of latency / the instance's floor; dashed: the SLO;\n"
            f"intervals cut at {SLOWDOWN_MIN:g}"
            if kind == "latency" else
            f"share of instances within {size.slo_scale:g}x their floor; dashed: the target")
    fig.suptitle(f"{preset}: {what} (mean and 95% interval over {len(size.seeds)} seeds)",
                 fontsize=10)
    _legend_outside(axes[0][-1], "scheduler")
    fig.tight_layout(rect=(0, 0, 0.88, 0.96))
    return _save(fig, path)


def _slo_scale(ev: Evaluation, path: Path) -> str:
    plt = _pyplot()
    size = ev.size
    cols = len(size.workflows)
    fig, axes = plt.subplots(len(size.presets), cols, squeeze=False,
                             figsize=(2.6 * cols, 2.5 * len(size.presets)), sharey=True)
    for r, preset in enumerate(size.presets):
        for c, wf in enumerate(size.workflows):
            ax = axes[r][c]
            for i, sched in enumerate(ev.schedulers):
                att = [_clipped(c, 0.0, 1.0) for c in ev.scale_curve(wf, preset, sched)]
                ax.errorbar(size.slo_scales, [a.mean for a in att], yerr=_yerr(att),
                            color=f"C{i}", marker="o", ms=2.5, lw=1, capsize=1.5, label=sched)
            ax.axhline(size.target, color="k", lw=0.6, ls="--")
            ax.set_xscale("log")
            ax.set_xticks(size.slo_scales, [f"{k:g}" for k in size.slo_scales], fontsize=6)
            ax.minorticks_off()
            ax.set_title(f"{wf}\n{preset}", fontsize=8)
            ax.set_xlabel("SLO scale (x floor)", fontsize=7)
            if c == 0:
                ax.set_ylabel("SLO attainment")
    fig.suptitle(f"SLO attainment against the SLO scale at load {size.reference_load:g} x "
                 "capacity, Poisson arrivals (mean and 95% interval over seeds)", fontsize=10)
    _legend_outside(axes[0][-1], "scheduler")
    fig.tight_layout(rect=(0, 0, 0.92, 0.95))
    return _save(fig, path)


def _ablation(ev: Evaluation, path: Path) -> str:
    plt = _pyplot()
    wfs, mechs = ev.size.workflows, list(ev.mechanisms)
    x = np.arange(len(wfs))
    offsets, width = _bar_slots(len(mechs))
    fig, ax = plt.subplots(figsize=(10, 4.2))
    for i, (offset, mech) in enumerate(zip(offsets, mechs, strict=True)):
        cis = [ev.ablation_interval(mech, w) for w in wfs]
        change = [_scaled(c, 100.0, -100.0) for c in cis]
        ax.bar(x + offset, [c.mean for c in change], width, color=f"C{i}", label=mech,
               yerr=_yerr(change), capsize=1.5, error_kw={"lw": 0.7})
    ax.axhline(0.0, color="k", lw=0.8)
    ax.axhline(-5.0, color="gray", lw=0.6, ls="--")
    lim = max(10.0, *(abs(b.get_height()) * 1.15 for b in ax.patches))
    ax.set_ylim(-lim, lim)
    ax.set_xticks(x, wfs, rotation=20, ha="right")
    ax.set_ylabel("goodput without / with the mechanism - 1 (%)")
    ax.set_title(f"Ablation on {ev.size.ablation_on}, Poisson: goodput change when a mechanism "
                 "is removed (below 0: it helps; dashed: -5%)")
    _legend_outside(ax, "mechanism")
    return _save(fig, path)


def _scaled(ci: Interval, factor: float, shift: float = 0.0) -> Interval:
    return Interval(ci.mean * factor + shift, ci.low * factor + shift, ci.high * factor + shift,
                    ci.n)


def _clipped(ci: Interval, low: float, high: float) -> Interval:
    """``ci`` within what the metric can be (an interval of a mean near a limit crosses it)."""
    return Interval(ci.mean, min(max(ci.low, low), high), max(min(ci.high, high), low), ci.n)


def _yerr(cis: list[Interval]) -> list[list[float]]:
    """Error bar lengths below and above each mean (lists: matplotlib warns on a 2 x 1 array)."""
    return [[max(0.0, c.mean - c.low) for c in cis], [max(0.0, c.high - c.mean) for c in cis]]


def _process(cv: float) -> str:
    return "Poisson" if cv == 1 else f"bursty (CV {cv:g})"


def _bar_slots(members: int) -> tuple[list[float], float]:
    """Offsets from a workflow's tick, and the width, of ``members`` bars side by side."""
    width = 0.8 / max(1, members)
    return [(i - (members - 1) / 2) * width for i in range(members)], width


def _legend_outside(ax: Any, title: str | None) -> None:
    """The legend of the figure's first panel, beside ``ax`` (the last used one of its row)."""
    row = [a for a in ax.figure.axes if a.get_visible() and a.get_subplotspec() is not None
           and a.get_subplotspec().rowspan.start == 0]
    handles, labels = row[0].get_legend_handles_labels() if row else ([], [])
    target = max(row, key=lambda a: a.get_subplotspec().colspan.start) if row else ax
    target.legend(handles, labels, title=title, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  fontsize=7, title_fontsize=8, frameon=False)


def _save(fig: Any, path: Path) -> str:
    plt = _pyplot()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path.name


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt

