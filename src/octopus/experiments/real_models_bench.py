"""AutoChunk on models built from the libraries' own code: capture, memory, speed, outputs.

:func:`run_real_models` builds each model of :mod:`~octopus.experiments.library_models` (GPT-2,
Llama with grouped-query attention, BERT, ViT, diffusers' ``UNet2DConditionModel``; random
weights, batch 1, eval, ``no_grad``) with the library's default attention and with eager
attention, and for each runs:

- ``original``: the eager model;
- ``captured``: the captured graph run without chunk regions (it frees each tensor at its last
  use, where eager keeps Python locals alive; sometimes it materialises more, e.g. a mask),
  to show how much of a cut comes from capture alone;
- ``autochunk-30``: ``autochunk(model, inputs, 0.3)``, 30% of the *measured* eager peak;
- ``autochunk-floor`` (default attention only): a budget of 1.10 x the structural floor,
  ``floor = K + V + 2 x residual`` of the largest attention (the key and value tensors the fused
  kernel reads whole, the residual stream entering the block and the block's pre-allocated
  output); the UNet's floor is not defined this way and is not reported.

Memory is the profiler's allocator peak (:func:`~octopus.autochunk.profiler_peak_bytes`), time
the median of per-pair ratios of interleaved runs after one warm-up, outputs compared with
``torch.testing.assert_close`` (rtol = atol = 1e-5). It writes ``real-models.md`` and
``real-models.csv`` into ``out_dir`` (a report directory of the ``autochunk-bench`` kind: files
of the family benchmark already there are kept). Logging only; returns the rows.
"""

from __future__ import annotations

import csv
import logging
import shutil
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from octopus.autochunk import ChunkedModule, autochunk, profiler_peak_bytes
from octopus.autochunk.plan import format_bytes
from octopus.experiments.autochunk_bench import time_pairs
from octopus.experiments.library_models import LIBRARY_MODELS, ModelSize, build_library_model
from octopus.run import StagedDirectory

__all__ = ["FULL_SEQ", "QUICK_SEQ", "RealRow", "run_real_models"]

log = logging.getLogger(__name__)

REPORT_FILES = ("real-models.md", "real-models.csv")
FULL_SEQ = {"gpt2": 2048, "llama": 2048, "bert": 2048, "vit": 1024, "unet": 2304}
QUICK_SEQ = {"gpt2": 256, "llama": 256, "bert": 256, "vit": 256, "unet": 256}
QUICK_SIZE = ModelSize(layers=1, width=64, heads=4, kv_heads=2, vocab=128)
ATTENTIONS = ("default", "eager")
_NO_BUDGET = 2**62  # the captured graph without chunk regions


@dataclass(frozen=True)
class RealRow:
    """One measured plan of one model."""

    model: str
    attention: str
    seq: int
    plan: str
    route: str
    rewrites: str
    eager_peak_bytes: int
    budget_bytes: int | None
    peak_bytes: int
    estimated_bytes: int | None
    floor_bytes: int | None
    cut: float
    slowdown: float
    promised: bool | None
    budget_met: bool | None
    equal: bool
    max_abs_err: float
    regions: int
    compile_s: float | None


def run_real_models(out_dir: str | Path, *, quick: bool = False,
                    models: Sequence[str] | None = None, repeats: int | None = None,
                    threads: int = 1, command: str = "") -> list[RealRow]:
    """Run the benchmark (see module doc) and write its report into ``out_dir``.

    Raises:
        InputError: ``out_dir`` holds something other than an AutoChunk benchmark report.
        ImportError: ``transformers`` or ``diffusers`` is missing (the ``models`` extra).
    """
    with StagedDirectory(out_dir, "autochunk-bench") as staged:
        t0 = time.perf_counter()
        rows = measure(quick=quick, models=models, repeats=repeats, threads=threads)
        _carry_over(Path(out_dir), staged.path)
        _write_csv(staged.path / "real-models.csv", rows)
        (staged.path / "real-models.md").write_text(
            render(rows, command, time.perf_counter() - t0))
        staged.publish()
    return rows


def _carry_over(target: Path, staged: Path) -> None:
    """Keep the family benchmark's files of an existing report (all but this report's)."""
    if not target.is_dir():
        return
    for f in target.iterdir():
        if f.is_file() and f.name not in REPORT_FILES and f.name != ".octopus":
            shutil.copy2(f, staged / f.name)


def measure(*, quick: bool = False, models: Sequence[str] | None = None,
            repeats: int | None = None, threads: int = 1) -> list[RealRow]:
    """Every model and attention mode of the module doc; rows in run order."""
    torch.set_num_threads(threads)
    seqs = QUICK_SEQ if quick else FULL_SEQ
    size = QUICK_SIZE if quick else ModelSize()
    repeats = repeats or (1 if quick else 5)
    rows: list[RealRow] = []
    with torch.no_grad():
        for name in models or LIBRARY_MODELS:
            for attention in ATTENTIONS:
                rows += _bench_model(name, attention, seqs[name], size, repeats)
    return rows


def _bench_model(name: str, attention: str, seq: int, size: ModelSize,
                 repeats: int) -> list[RealRow]:
    model, inputs = build_library_model(name, seq, attention, size)
    ref = model(**inputs)
    eager = profiler_peak_bytes(lambda: model(**inputs))
    rows = [RealRow(name, attention, seq, "original", "-", "-", eager, None, eager, None, None,
                    0.0, 0.0, None, None, True, 0.0, 0, None)]
    plans: list[tuple[str, Any]] = [("captured", _NO_BUDGET), ("autochunk-30", 0.3)]
    floor = None
    for plan_name, budget in plans:
        chunked, compile_s = _compile(model, inputs, budget, eager)
        if plan_name == "captured" and attention == "default" and name != "unet":
            floor = structural_floor(chunked, size)
            plans.append(("autochunk-floor", int(1.10 * floor)))
        row = _measure_plan(name, attention, seq, plan_name, model, chunked, inputs, ref, eager,
                            floor, compile_s, repeats)
        if budget is _NO_BUDGET:
            row = replace(row, budget_bytes=None, promised=None, budget_met=None)
        rows.append(row)
        del chunked
    return rows


def _compile(model: nn.Module, inputs: dict[str, Any], budget: Any,
             eager: int) -> tuple[ChunkedModule, float]:
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a missed budget is a row of the report
        chunked = autochunk(model, inputs, budget, on_miss="warn", eager_peak_bytes=eager)
    return chunked, time.perf_counter() - t0


def _measure_plan(name: str, attention: str, seq: int, plan_name: str, model: nn.Module,
                  chunked: ChunkedModule, inputs: dict[str, Any], ref: Any, eager: int,
                  floor: int | None, compile_s: float, repeats: int) -> RealRow:
    out = chunked(**inputs)
    a, b = _main(out), _main(ref)
    err = float((a - b).abs().max())
    try:
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
        equal = type(out) is type(ref)
    except AssertionError:
        equal = False
    del out
    peak = profiler_peak_bytes(lambda: chunked(**inputs))
    ratio = time_pairs(lambda: model(**inputs), lambda: chunked(**inputs), repeats)[2]
    plan = chunked.plan
    met = None if plan.budget_bytes is None else peak <= 1.05 * plan.budget_bytes
    promised = None if plan.budget_bytes is None else max(
        plan.peak_after_bytes, plan.simulated_peak_bytes or 0) <= plan.budget_bytes
    row = RealRow(name, attention, seq, plan_name, chunked.gm.meta.get("ac.route", "?"),
                  ",".join(chunked.gm.meta.get("ac.rewrites", ())) or "-", eager,
                  plan.budget_bytes, peak, plan.peak_after_bytes, floor, 1 - peak / eager,
                  ratio - 1, promised, met, equal, err, len(plan.regions), round(compile_s, 1))
    log.info("%s/%s %s: %s -> %s (%.0f%% cut), %+.0f%% time, equal %s", name, attention,
             plan_name, format_bytes(eager), format_bytes(peak), 100 * row.cut,
             100 * row.slowdown, equal)
    return row


def _main(out: Any) -> torch.Tensor:
    return out.sample if hasattr(out, "sample") else out[0]


def structural_floor(chunked: ChunkedModule, size: ModelSize) -> int | None:
    """``K + V + 2 x residual`` of the largest fused attention of the captured graph (bytes)."""
    best = None
    for node in chunked.gm.graph.nodes:
        if node.op != "call_function" or node.target is not torch.nn.functional.\
                scaled_dot_product_attention:
            continue
        q, k, v = (node.args[i].meta["val"] for i in range(3))
        tokens = q.shape[-2]
        residual = tokens * q.shape[-1] * q.shape[-3] * q.element_size()  # (1, S, heads*dim)
        kv = k.numel() * k.element_size() + v.numel() * v.element_size()
        best = max(best or 0, kv + 2 * residual)
    return best


def _write_csv(path: Path, rows: list[RealRow]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(asdict(rows[0])))
        writer.writeheader()
        writer.writerows(asdict(r) for r in rows)


def render(rows: list[RealRow], command: str, wall_s: float) -> str:
    """The markdown report: one table, then the targets as measured."""
    lines = ["# AutoChunk on library models (transformers, diffusers)", "",
             f"Command: `{command}`" if command else "",
             f"Wall time {wall_s:.0f} s; torch {torch.__version__}, "
             f"{torch.get_num_threads()} thread(s), CPU. Memory: the profiler's allocator peak; "
             "time: median of per-pair ratios of interleaved runs; `equal`: assert_close at "
             "rtol = atol = 1e-5 and the same output type.", "",
             "| model | attention | seq | plan | route | peak | budget | cut | slowdown | "
             "equal | plan meets budget | measured meets | floor | peak / floor | regions | "
             "compile s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r.model} | {r.attention} | {r.seq} | {r.plan} | {r.route} | "
            f"{format_bytes(r.peak_bytes)} | "
            f"{'-' if r.budget_bytes is None else format_bytes(r.budget_bytes)} | "
            f"{r.cut:.0%} | {r.slowdown:+.0%} | {'yes' if r.equal else 'NO'} | "
            f"{_yes(r.promised)} | {_yes(r.budget_met)} | "
            f"{'-' if r.floor_bytes is None else format_bytes(r.floor_bytes)} | "
            f"{'-' if not r.floor_bytes or r.plan == 'original' else f'{r.peak_bytes / r.floor_bytes:.2f}'} | "  # noqa: E501
            f"{r.regions} | {'-' if r.compile_s is None else r.compile_s} |")
    lines += ["", "## Targets, as measured by this run", "", *_targets(rows)]
    return "\n".join(lines) + "\n"


def _yes(flag: bool | None) -> str:
    return "-" if flag is None else ("yes" if flag else "no")


def _targets(rows: list[RealRow]) -> list[str]:
    chunked = [r for r in rows if r.plan != "original"]
    captured = {(r.model, r.attention) for r in chunked}
    total = {(r.model, r.attention) for r in rows}
    out = [f"- capture through `autochunk()`: {len(captured)} of {len(total)} model/attention "
           f"pairs."]
    eager30 = [r for r in chunked if r.attention == "eager" and r.plan == "autochunk-30"]
    ok = [r for r in eager30 if r.cut >= 0.70 and r.equal and r.slowdown <= 0.10]
    out.append(f"- eager attention at 30%: >= 70% cut, equal, <= 10% slower: {len(ok)} of "
               f"{len(eager30)} (" + ", ".join(
                   f"{r.model} {r.cut:.0%} {r.slowdown:+.0%}" for r in eager30) + ").")
    floors = [r for r in chunked if r.plan == "autochunk-floor" and r.floor_bytes]
    ok = [r for r in floors if r.peak_bytes <= 1.10 * r.floor_bytes]
    out.append(f"- default attention within 10% of the floor: {len(ok)} of {len(floors)} (" +
               ", ".join(f"{r.model} {r.peak_bytes / r.floor_bytes:.2f}x {r.slowdown:+.0%}"
                         for r in floors) + ").")
    unet = [r for r in chunked if r.model == "unet" and r.attention == "default"]
    out.append("- UNet, default attention, batch 1: " + ", ".join(
        f"{r.plan} {r.cut:.0%} cut at {r.slowdown:+.0%}" for r in unet) + " (target >= 50% at "
        "<= 10%).")
    promised = [r for r in chunked if r.promised]
    silent = [r for r in promised if not r.budget_met]
    missed = [r for r in chunked if r.promised is False]
    out.append(f"- no silent miss (measured <= budget + 5% whenever the plan says it meets the "
               f"budget): {len(promised) - len(silent)} of {len(promised)}" + (
                   f"; silent misses: {', '.join(f'{r.model}/{r.attention} {r.plan}' for r in silent)}"  # noqa: E501
                   if silent else "") + f". {len(missed)} plan(s) said they missed (an "
               "unreachable budget, returned with on_miss='warn').")
    return out
