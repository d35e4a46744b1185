"""AutoChunk benchmark on the model families: memory, speed, estimator error, max sequence length.

:func:`run_benchmark` runs everything in one process and writes to ``out_dir``:

- ``results.csv``: one row per (family, seq_len, plan) with measured peaks (allocator level, the
  profiler's memory events on CPU; ``torch.cuda.max_memory_allocated`` on GPU), median times of
  interleaved runs after a warm-up, the median of per-pair time ratios, estimator error, search
  time and correctness against the eager model;
- ``max_seq_len.csv``: the longest sequence fitting a fixed budget, original vs. chunked (doubling
  then bisection; the original is measured at every probe, the chunked model is probed by the
  planner and its answer verified by a measured run);
- ``search_time.csv``: planning time of a 12-layer GPT-2-small-shaped graph (no real run);
- ``results.md`` and ``frontier.png`` / ``max_seq_len.png``.

Plans per (family, seq_len): ``original`` (explicit attention, eager),
``autochunk-50/30/20/10`` (budgets as fractions of the measured original peak),
``autochunk-noslow`` (the lowest budget whose plan the cost model predicts at most 1% slower),
``sdpa`` (fused attention), ``sdpa+autochunk`` (AutoChunk at 20% of the SDPA model's peak),
``hand-chunked`` (attention over queries and feed-forward over tokens chunked by hand).
Logging only; returns a :class:`BenchReport`.
"""

from __future__ import annotations

import csv
import logging
import math
import shutil
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from octopus.autochunk import BudgetError, ChunkPlan, autochunk, capture, peak_bytes, plan_graph
from octopus.autochunk.plan import format_bytes
from octopus.models.families import FAMILIES, build, effective_seq_len
from octopus.run import StagedDirectory

__all__ = ["BenchReport", "BenchRow", "MaxSeqRow", "run_benchmark"]

log = logging.getLogger(__name__)

FULL_SEQ = {"gpt": [1024, 2048], "vit": [1024, 2304], "evoformer": [128, 192],
            "unet": [1024, 2304]}
QUICK_SEQ = {"gpt": [256], "vit": [256], "evoformer": [48], "unet": [256]}
# fixed budgets for the longest-sequence search, and the search granularity
MAXSEQ_BUDGET = {"gpt": 64 * 2**20, "vit": 64 * 2**20, "evoformer": 128 * 2**20,
                 "unet": 32 * 2**20}
QUICK_MAXSEQ_BUDGET = {"gpt": 8 * 2**20, "vit": 8 * 2**20, "evoformer": 16 * 2**20,
                       "unet": 8 * 2**20}
MAXSEQ_START = {"gpt": 256, "vit": 256, "evoformer": 32, "unet": 256}
FRACTIONS = (0.5, 0.3, 0.2, 0.1)


@dataclass(frozen=True)
class BenchRow:
    """One measured plan."""

    family: str
    seq_len: int
    plan: str
    peak_original_bytes: int
    peak_chunked_bytes: int
    time_original_s: float
    time_chunked_s: float
    slowdown: float
    memory_cut: float
    estimate_error: float | None
    simulated_error: float | None
    search_s: float | None
    compile_s: float | None
    regions: int
    budget_bytes: int | None
    meets_budget: bool | None
    max_abs_err: float
    device: str


@dataclass(frozen=True)
class MaxSeqRow:
    """Longest sequence under a fixed budget."""

    family: str
    budget_bytes: int
    max_seq_original: int
    max_seq_chunked: int
    peak_original_at_max: int
    peak_chunked_at_max: int
    ratio: float


@dataclass
class BenchReport:
    """Everything :func:`run_benchmark` measured."""

    rows: list[BenchRow] = field(default_factory=list)
    max_seq: list[MaxSeqRow] = field(default_factory=list)
    search_time: list[dict[str, Any]] = field(default_factory=list)
    command: str = ""
    wall_s: float = 0.0


def _outputs(x: Any) -> list[torch.Tensor]:
    return list(x) if isinstance(x, (tuple, list)) else [x]


def _max_err(a: Any, b: Any) -> float:
    return max(float((x - y).abs().max()) for x, y in zip(_outputs(a), _outputs(b), strict=True))


def time_pairs(base: Callable[[], Any], other: Callable[[], Any],
                repeats: int) -> tuple[float, float, float]:
    """Interleaved timings after one warm-up each: medians of base, other and other/base."""
    base()
    other()
    tb, to, ratios = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        base()
        t1 = time.perf_counter()
        other()
        t2 = time.perf_counter()
        tb.append(t1 - t0)
        to.append(t2 - t1)
        ratios.append((t2 - t1) / (t1 - t0))
    return statistics.median(tb), statistics.median(to), statistics.median(ratios)


def _bench_point(family: str, seq: int, repeats: int, device: str,
                 fractions: Sequence[float] = FRACTIONS, extras: bool = True) -> list[BenchRow]:
    model, inputs = build(family, seq)
    ref = model(*inputs)
    base_peak = peak_bytes(lambda: model(*inputs), device)
    rows: list[BenchRow] = []

    def run(name: str, fn: Callable[..., Any], *, est: int | None = None,
            sim: int | None = None, search_s: float | None = None,
            compile_s: float | None = None, regions: int = 0, meets: bool | None = None,
            budget: int | None = None) -> None:
        err = _max_err(fn(*inputs), ref)
        peak = peak_bytes(lambda: fn(*inputs), device)
        tb, tp, ratio = time_pairs(lambda: model(*inputs), lambda: fn(*inputs), repeats)
        rows.append(BenchRow(
            family, seq, name, base_peak, peak, tb, tp, ratio - 1.0, 1.0 - peak / base_peak,
            None if est is None else (est - peak) / peak,
            None if sim is None else (sim - peak) / peak, search_s, compile_s, regions, budget,
            meets, err, device))
        log.info("%s S=%d %-16s peak %s (%.0f%% cut) slowdown %+.1f%% err %.1e", family, seq,
                 name, format_bytes(peak), 100 * (1 - peak / base_peak), 100 * (ratio - 1), err)

    def compiled(target: nn.Module, budget: Any, **kw: Any) -> tuple[nn.Module, float]:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cm = autochunk(target, inputs, budget, on_miss="warn", **kw)
        return cm, time.perf_counter() - t0

    run("original", model)
    for frac in fractions:
        cm, cs = compiled(model, int(frac * base_peak))
        run(f"autochunk-{round(frac * 100)}", cm, est=cm.plan.peak_after_bytes,
            sim=cm.plan.simulated_peak_bytes, search_s=cm.plan.search_s, compile_s=cs,
            regions=len(cm.plan.regions), meets=_meets(cm.plan), budget=cm.plan.budget_bytes)
    if not extras:
        return rows
    cm, cs = compiled(model, None, max_slowdown=0.01)
    run("autochunk-noslow", cm, est=cm.plan.peak_after_bytes, sim=cm.plan.simulated_peak_bytes,
        search_s=cm.plan.search_s, compile_s=cs, regions=len(cm.plan.regions))
    sdpa, _ = build(family, seq, sdpa=True)
    run("sdpa", sdpa)
    sdpa_peak = peak_bytes(lambda: sdpa(*inputs), device)
    cm, cs = compiled(sdpa, int(0.2 * sdpa_peak))
    run("sdpa+autochunk", cm, est=cm.plan.peak_after_bytes, sim=cm.plan.simulated_peak_bytes,
        search_s=cm.plan.search_s, compile_s=cs, regions=len(cm.plan.regions),
        meets=_meets(cm.plan), budget=cm.plan.budget_bytes)
    chunk = max(16, effective_seq_len(family, seq) // 16)
    hand, _ = build(family, seq, chunk_size=chunk)
    run(f"hand-chunked-{chunk}", hand)
    return rows


def _meets(plan: ChunkPlan) -> bool:
    """Budget met by both the estimate and the simulation of the generated code."""
    worst = max(plan.peak_after_bytes, plan.simulated_peak_bytes or 0)
    return plan.budget_bytes is None or worst <= plan.budget_bytes


def _largest(fits: Callable[[int], bool], start: int, step: int, limit: int) -> int:
    """Largest multiple of ``step`` (>= start) with ``fits``: doubling, then bisection."""
    if not fits(start):
        return 0
    lo = start
    hi = start * 2
    while hi <= limit and fits(hi):
        lo, hi = hi, hi * 2
    hi = min(hi, limit + step)
    while hi - lo > step:
        mid = (lo + hi) // 2 // step * step
        if mid <= lo:
            break
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _max_seq(family: str, budget: int, start: int, device: str, limit: int) -> MaxSeqRow:
    step = max(start // 8, 4)

    def eager_peak(seq: int) -> int:
        model, inputs = build(family, seq)
        return peak_bytes(lambda: model(*inputs), device)

    def chunk_fits(seq: int) -> bool:
        model, inputs = build(family, seq)
        gm = capture(model, inputs)
        try:
            plan_graph(gm, budget)
        except BudgetError:
            return False
        return True

    orig = _largest(lambda s: eager_peak(s) <= budget, start, step, limit)
    chunked = _largest(chunk_fits, start, step, limit)
    peak_c = 0
    while chunked > 0:  # verify the planner's answer with a measured run
        model, inputs = build(family, chunked)
        cm = autochunk(model, inputs, budget, simulate=False)
        peak_c = peak_bytes(lambda m=cm, x=inputs: m(*x), device)
        if peak_c <= budget:
            break
        chunked -= step
    peak_o = eager_peak(orig) if orig else 0
    ratio = chunked / orig if orig else math.inf
    log.info("%s budget %s: max seq %d -> %d (%.1fx)", family, format_bytes(budget), orig,
             chunked, ratio)
    return MaxSeqRow(family, budget, effective_seq_len(family, orig),
                     effective_seq_len(family, chunked), peak_o, peak_c, ratio)


def _search_time(layers: int = 12, seq: int = 1024) -> dict[str, Any]:
    """Plan a GPT-2-small-shaped graph (12 x 768, 12 heads) at 20%: capture and search time."""
    from octopus.models.gpt import GPT

    torch.manual_seed(0)
    model = GPT(layers=layers, d=768, heads=12, vocab=4096).eval()
    idx = torch.randint(0, 4096, (1, seq))
    t0 = time.perf_counter()
    gm = capture(model, (idx,))
    t1 = time.perf_counter()
    plan = plan_graph(gm, 0.2)
    return {"model": f"gpt-{layers}x768", "seq_len": seq, "nodes": len(gm.graph.nodes),
            "capture_s": round(t1 - t0, 3), "search_s": round(plan.search_s, 3),
            "regions": len(plan.regions), "estimated_cut": round(
                1 - plan.peak_after_bytes / plan.peak_before_bytes, 3)}


def run_benchmark(out_dir: str | Path, quick: bool = False, *,
                  families: Sequence[str] | None = None,
                  seq_lens: dict[str, list[int]] | None = None, repeats: int | None = None,
                  threads: int = 1, max_seq: bool = True, plots: bool = True,
                  fractions: Sequence[float] | None = None, extras: bool = True,
                  command: str = "") -> BenchReport:
    """Run the benchmark (see module doc) and write the reports into ``out_dir``.

    ``quick`` uses tiny sizes, budgets of 50% and 20% and one timed pair; ``fractions`` overrides
    the budgets; ``extras=False`` skips the no-slowdown, SDPA and hand-chunked baselines.

    Raises:
        InputError: ``out_dir`` holds something other than an earlier benchmark report
            (checked before anything runs; see :mod:`octopus.run.outdir`).
    """
    with StagedDirectory(out_dir, "autochunk-bench") as staged:
        report = _measure(quick, families, seq_lens, repeats, threads, max_seq, fractions,
                          extras, command)
        write_report(report, staged.path, plots=plots)
        _keep_real_models_report(Path(out_dir), staged.path)
        staged.publish()
    return report


def _keep_real_models_report(target: Path, staged: Path) -> None:
    """Carry the real-model report (``octopus autochunk-real-models``) over to the new one."""
    for name in ("real-models.md", "real-models.csv"):
        if (target / name).is_file():
            shutil.copy2(target / name, staged / name)


def _measure(quick: bool, families: Sequence[str] | None, seq_lens: dict[str, list[int]] | None,
             repeats: int | None, threads: int, max_seq: bool, fractions: Sequence[float] | None,
             extras: bool, command: str) -> BenchReport:
    t_start = time.perf_counter()
    torch.set_num_threads(threads)
    device = "cpu"
    families = list(families or FAMILIES)
    seqs = seq_lens or (QUICK_SEQ if quick else FULL_SEQ)
    repeats = repeats or (1 if quick else 3)
    report = BenchReport(command=command)
    with torch.no_grad():
        for fam in families:
            for seq in seqs[fam]:
                fracs = fractions or ((0.5, 0.2) if quick else FRACTIONS)
                report.rows.extend(_bench_point(fam, seq, repeats, device, fracs, extras))
        if max_seq:
            budgets = QUICK_MAXSEQ_BUDGET if quick else MAXSEQ_BUDGET
            limit = 4096 if quick else 65536
            for fam in families:
                start = MAXSEQ_START[fam] // (4 if quick and fam != "evoformer" else 1)
                report.max_seq.append(_max_seq(fam, budgets[fam], start, device, limit))
        if not quick:
            report.search_time.append(_search_time())
    report.wall_s = time.perf_counter() - t_start
    return report


def write_report(report: BenchReport, out: Path, plots: bool = True) -> None:
    """Write the CSVs, the markdown summary and (optionally) the plots into ``out``."""
    _write_csv(out / "results.csv", [asdict(r) for r in report.rows])
    _write_csv(out / "max_seq_len.csv", [asdict(r) for r in report.max_seq])
    if report.search_time:
        _write_csv(out / "search_time.csv", report.search_time)
    (out / "results.md").write_text(render_markdown(report))
    if plots:
        _plots(report, out)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def render_markdown(report: BenchReport) -> str:
    """The markdown tables of a report."""
    lines = ["# AutoChunk benchmark", "", f"Command: `{report.command}`" if report.command else "",
             f"Wall time: {report.wall_s:.0f} s. Device: "
             f"{report.rows[0].device if report.rows else '-'}, torch {torch.__version__}, "
             f"{torch.get_num_threads()} thread(s).", ""]

    def fmt(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    lines += _md_table(
        ["family", "seq", "plan", "peak", "cut", "slowdown", "est. error", "sim. error",
         "search s", "max abs err"],
        [[r.family, r.seq_len, r.plan + (" (budget missed)" if r.meets_budget is False else ""),
          format_bytes(r.peak_chunked_bytes), f"{r.memory_cut:.0%}", f"{r.slowdown:+.0%}",
          fmt(r.estimate_error, "+.1%"), fmt(r.simulated_error, "+.1%"), fmt(r.search_s, ".2f"),
          f"{r.max_abs_err:.1e}"] for r in report.rows])
    if report.max_seq:
        lines += ["", *_md_table(
            ["family", "budget", "max seq original", "max seq chunked", "ratio"],
            [[m.family, format_bytes(m.budget_bytes), m.max_seq_original, m.max_seq_chunked,
              f"{m.ratio:.1f}x"] for m in report.max_seq])]
    if report.search_time:
        keys = ["model", "seq_len", "nodes", "capture_s", "search_s", "regions"]
        lines += ["", *_md_table(["graph", "seq", "nodes", "capture s", "search s", "regions"],
                                 [[t[k] for k in keys] for t in report.search_time])]
    return "\n".join(lines) + "\n"


def _md_table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    """A markdown table: header, separator and one line per row."""
    return [f"| {' | '.join(headers)} |", "|" + "---|" * len(headers),
            *(f"| {' | '.join(str(v) for v in row)} |" for row in rows)]


def _plots(report: BenchReport, out: Path) -> None:
    try:
        import matplotlib  # noqa: PLC0415  (optional, heavy)

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:  # pragma: no cover - plots are optional
        log.warning("matplotlib missing: no plots")
        return
    fams = sorted({r.family for r in report.rows})
    fig, axes = plt.subplots(1, len(fams), figsize=(4 * len(fams), 3.5), squeeze=False)
    for ax, fam in zip(axes[0], fams, strict=True):
        for r in (r for r in report.rows if r.family == fam):
            marker = "o" if r.plan.startswith("autochunk") else "s"
            ax.scatter(100 * r.slowdown, 100 * r.memory_cut, marker=marker)
            ax.annotate(f"{r.plan}@{r.seq_len}", (100 * r.slowdown, 100 * r.memory_cut),
                        fontsize=6)
        ax.set_title(fam)
        ax.set_xlabel("slowdown (%)")
        ax.set_ylabel("activation memory cut (%)")
        ax.axvline(10, color="grey", lw=0.5)
        ax.axhline(80, color="grey", lw=0.5)
    fig.tight_layout()
    fig.savefig(out / "frontier.png", dpi=120)
    plt.close(fig)
    if report.max_seq:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        xs = range(len(report.max_seq))
        ax.bar([x - 0.2 for x in xs], [m.max_seq_original for m in report.max_seq], 0.4,
               label="original")
        ax.bar([x + 0.2 for x in xs], [m.max_seq_chunked for m in report.max_seq], 0.4,
               label="AutoChunk")
        ax.set_xticks(list(xs), [m.family for m in report.max_seq])
        ax.set_ylabel("max sequence length")
        ax.set_yscale("log")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "max_seq_len.png", dpi=120)
        plt.close(fig)
