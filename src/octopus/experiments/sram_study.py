"""The SRAM study: spill vs. AutoChunk on workflows with torch-defined blocks.

:func:`write_study` (``octopus sram-study``) simulates each workflow (default :data:`WORKFLOWS`)
under each SRAM policy on ``chip`` and ``wafer``, fits a list of single models (:data:`SCAN`) on
one TBU, and writes ``report.md`` (the committed one is ``reports/cost/report.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from octopus.run import (
    SRAM_POLICIES,
    RunSpec,
    StagedDirectory,
    execute,
    fit_torch_model,
    resolve,
    resolve_arch,
    resolve_workflow,
)
from octopus.workflow import TorchModel

__all__ = ["SCAN", "SRAM_SIZES", "WORKFLOWS", "PolicyRun", "compare_policies",
           "report_markdown", "scan_markdown", "sram_markdown", "write_study"]

WORKFLOWS = ("protein-structure", "examples/image-generation.yaml")
"""The workflows studied by default (the second is a file of this repository)."""

SRAM_SIZES: tuple[int, ...] = (1 << 20, 2 << 20, 4 << 20, 8 << 20, 16 << 20)
"""SRAM sizes per TBU (bytes) of the sensitivity table."""

SCAN: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("evoformer", (16, 64)), ("evoformer", (32, 64)), ("evoformer", (32, 128)),
    ("evoformer", (32, 256)), ("unet", (1, 4, 32, 32)), ("unet", (1, 4, 48, 48)),
    ("gpt", (1, 512)), ("gpt", (1, 1024)), ("encoder", (1, 512)), ("encoder", (1, 1024)),
    ("vit", (1, 3, 256, 256)), ("vit", (1, 3, 512, 512)),
)
"""Models fitted one by one in the report: (registered name, input shape)."""


@dataclass(frozen=True)
class PolicyRun:
    """One simulation: architecture, policy, makespan and lower bound (cycles)."""

    arch: str
    policy: str
    makespan_cycles: int
    lower_bound_cycles: int


def compare_policies(workflow: str, archs: tuple[str, ...] = ("chip", "wafer"),
                     instances: int = 256, scheduler: str = "octopus", seed: int = 0,
                     arch_overrides: dict | None = None) -> list[PolicyRun]:
    """Simulate ``workflow`` once per architecture and SRAM policy (same seed: paired)."""
    rows = []
    for arch in archs:
        for policy in SRAM_POLICIES:
            r = execute(RunSpec(workflow=workflow, arch=arch, scheduler=scheduler,
                                instances=instances, seed=seed, sram_policy=policy,
                                arch_overrides=arch_overrides or {}))
            rows.append(PolicyRun(arch, policy, r.makespan_cycles, r.lower_bound_cycles))
    return rows


def sram_markdown(workflows: list[str], instances: int, scheduler: str,
                  sizes: tuple[int, ...] = SRAM_SIZES, arch: str = "chip") -> str:
    """Makespan under ``autochunk`` and ``auto`` relative to ``spill`` as the SRAM per TBU
    varies (``pea.sram_bytes`` overridden on ``arch``), as Markdown."""
    lines = [f"## SRAM size per TBU (`{arch}`, {instances} instances)", "",
             "Makespan relative to `spill` at the same SRAM size.", "",
             "| workflow | SRAM (MiB) | spill makespan (cycles) | autochunk | auto |",
             "|---|---:|---:|---:|---:|"]
    for workflow in workflows:
        name = resolve_workflow(workflow).name
        for size in sizes:
            rows = {r.policy: r.makespan_cycles for r in compare_policies(
                workflow, (arch,), instances, scheduler, arch_overrides={"pea.sram_bytes": size})}
            lines.append(f"| {name} | {size / 2**20:g} | {rows['spill']:,} | "
                         f"{rows['autochunk'] / rows['spill']:.3f}x | "
                         f"{rows['auto'] / rows['spill']:.3f}x |")
    return "\n".join(lines) + "\n"


def report_markdown(workflow: str, rows: list[PolicyRun], instances: int, scheduler: str) -> str:
    """One workflow's comparison as Markdown: makespans per policy and per-block fits."""
    scenario = resolve(RunSpec(workflow=workflow, arch=rows[0].arch, sram_policy="auto"))
    lines = [f"## Workflow `{scenario.workflow.name}` ({workflow})", "",
             f"{instances} instances, scheduler `{scheduler}`, seed 0 (paired across policies).",
             "", "| arch | policy | makespan (cycles) | vs. spill | lower bound (cycles) |",
             "|---|---|---:|---:|---:|"]
    spill = {r.arch: r.makespan_cycles for r in rows if r.policy == "spill"}
    for r in rows:
        lines.append(f"| {r.arch} | {r.policy} | {r.makespan_cycles:,} | "
                     f"{r.makespan_cycles / spill[r.arch]:.3f}x | {r.lower_bound_cycles:,} |")
    sram = {resolve_arch(r.arch).pea.sram_bytes for r in rows}
    lines += ["", f"Per-block fit (the same on every preset: SRAM {', '.join(map(str, sram))} B "
              "per TBU):", "", _FIT_HEADER, _FIT_RULE]
    lines += [_fit_row(f"`{bid}`", bf) for bid, bf in scenario.block_fits.items()]
    return "\n".join(lines) + "\n"


_FIT_HEADER = ("| block | MACs | activation peak (B) | spill traffic (B) | spill cycles | "
               "autochunk cycles | plan budget (B) | plan peak (B) | plan slowdown | "
               "iterations | plan spill (B) | auto |")
_FIT_RULE = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"


def _fit_row(label: str, bf) -> str:
    c, f, ch = bf.costs, bf.fit, bf.fit.chunk
    spill = f.spill_bytes if f.applied == "spill" else None
    plan = (f"{ch.budget_bytes:,} | {ch.peak_after_bytes:,} | {ch.predicted_slowdown:.1%} | "
            f"{ch.iterations} | {ch.spill_bytes:,}" if ch else "- | - | - | - | -")
    return (f"| {label} | {c.macs:,} | {c.activation_peak_bytes:,} | "
            f"{'-' if spill is None else f'{spill:,}'} | {f.spill_cycles:,} | "
            f"{f.autochunk_cycles:,} | {plan} | {f.applied} |")


def scan_markdown(arch: str = "chip") -> str:
    """Single models of :data:`SCAN` fitted on one TBU of ``arch``, as Markdown."""
    hw = resolve_arch(arch)
    lines = [f"## Single models on one `{arch}` TBU (SRAM {hw.pea.sram_bytes:,} B)", "",
             _FIT_HEADER, _FIT_RULE]
    for name, shape in SCAN:
        bf = fit_torch_model(TorchModel(name=name, input_shape=list(shape)), hw, "auto")
        lines.append(_fit_row(f"{name} {list(shape)}", bf))
    return "\n".join(lines) + "\n"


_INTRO = """# Real models as Task Blocks: spill vs. AutoChunk

Generated by `{command}`; the model is in
[docs/cost-model.md](../../docs/cost-model.md). Cycles at 1 GHz. `spill` streams what does not fit
in a TBU's SRAM through off-chip memory; `autochunk` runs the AutoChunk plan fitting the SRAM
(or, when none reaches it, the cheapest of plans at 2x, 4x, ... the SRAM, spilling the rest);
`auto` takes the cheaper per block. "spill traffic" is filled when spilling is applied.
"""


def write_study(out_dir: str | Path, workflows: tuple[str, ...] = WORKFLOWS,
                instances: int = 256, scheduler: str = "octopus", command: str = "") -> Path:
    """Simulate, fit, and write ``report.md`` into ``out_dir`` (kind ``sram-study``: it
    replaces only an earlier study); ``command`` is quoted in the report.

    Raises:
        InputError: a bad workflow, or an ``out_dir`` that may not be written (checked first).
    """
    with StagedDirectory(out_dir, "sram-study") as staged:
        parts = [_INTRO.format(command=command or "octopus sram-study")]
        for wf in workflows:
            rows = compare_policies(wf, instances=instances, scheduler=scheduler)
            parts.append(report_markdown(wf, rows, instances, scheduler))
        parts.append(sram_markdown(list(workflows), instances, scheduler))
        parts.append(scan_markdown())
        (staged.path / "report.md").write_text("\n".join(parts))
        return staged.publish()
