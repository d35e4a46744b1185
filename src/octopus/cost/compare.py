"""Spill vs. AutoChunk on a workflow with torch-defined blocks: makespans per architecture.

``python -m octopus.cost.compare [WORKFLOW] [--instances N] [--out reports/cost]`` simulates the
workflow (default ``examples/protein-structure.yaml``) under each SRAM policy on ``chip`` and
``wafer`` and writes ``report.md`` (a table of makespans and per-block fits) into ``--out``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from octopus.arch import load_arch
from octopus.cost.fit import SRAM_POLICIES
from octopus.cost.resolve import fit_workflow
from octopus.experiments.run import RunSpec, run_once
from octopus.workflow import resolve_workflow

__all__ = ["PolicyRun", "compare_policies", "report_markdown"]


@dataclass(frozen=True)
class PolicyRun:
    """One simulation: architecture, policy, makespan and lower bound (cycles)."""

    arch: str
    policy: str
    makespan_cycles: int
    lower_bound_cycles: int


def compare_policies(workflow: str, archs: tuple[str, ...] = ("chip", "wafer"),
                     instances: int = 256, scheduler: str = "octopus", seed: int = 0
                     ) -> list[PolicyRun]:
    """Simulate ``workflow`` once per architecture and SRAM policy (same seed: paired)."""
    wf = resolve_workflow(workflow)
    rows = []
    for arch in archs:
        for policy in SRAM_POLICIES:
            s = run_once(RunSpec(workflow=workflow, arch=arch, scheduler=scheduler,
                                 instances=instances, seed=seed, sram_policy=policy), workflow=wf)
            rows.append(PolicyRun(arch, policy, s["makespan_cycles"], s["lower_bound_cycles"]))
    return rows


def report_markdown(workflow: str, rows: list[PolicyRun], instances: int, scheduler: str) -> str:
    """The comparison as Markdown: makespans per policy and the per-block fits on each arch."""
    wf = resolve_workflow(workflow)
    lines = [f"# Spill vs. AutoChunk: `{wf.name}`", "",
             f"`python -m octopus.cost.compare {workflow} --instances {instances}` "
             f"(scheduler `{scheduler}`, seed 0). Cycles at 1 GHz; see docs/cost-model.md.", "",
             "| arch | policy | makespan (cycles) | vs. spill | lower bound (cycles) |",
             "|---|---|---:|---:|---:|"]
    spill = {r.arch: r.makespan_cycles for r in rows if r.policy == "spill"}
    for r in rows:
        lines.append(f"| {r.arch} | {r.policy} | {r.makespan_cycles:,} | "
                     f"{r.makespan_cycles / spill[r.arch]:.3f}x | {r.lower_bound_cycles:,} |")
    for arch in dict.fromkeys(r.arch for r in rows):
        hw = load_arch(arch)
        lines += ["", f"## Per-block fit on `{arch}` (SRAM {hw.pea.sram_bytes:,} B)", "",
                  "| block | MACs | activation peak (B) | spill cycles | autochunk cycles | "
                  "plan peak (B) | predicted slowdown | loop iterations |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for bid, bf in fit_workflow(wf, hw, "auto").items():
            c, f = bf.costs, bf.fit
            ch = f.chunk
            lines.append(
                f"| {bid} | {c.macs:,} | {c.activation_peak_bytes:,} | {f.spill_cycles:,} | "
                + (f"{f.autochunk_cycles:,} | {ch.peak_after_bytes:,} | "
                   f"{ch.predicted_slowdown:.1%} | {ch.iterations} |" if ch else
                   f"{f.autochunk_cycles:,} | - | - | - |"))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Command line entry: simulate, then write ``report.md`` into ``--out``."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workflow", nargs="?", default="examples/protein-structure.yaml")
    p.add_argument("--instances", type=int, default=256)
    p.add_argument("--scheduler", default="octopus")
    p.add_argument("--out", type=Path, default=Path("reports/cost"))
    args = p.parse_args(argv)
    rows = compare_policies(args.workflow, instances=args.instances, scheduler=args.scheduler)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.md").write_text(
        report_markdown(args.workflow, rows, args.instances, args.scheduler))


if __name__ == "__main__":
    main()
