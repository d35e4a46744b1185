"""``octopus workflows``, ``octopus check`` and ``octopus analyze``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from octopus.arch import list_presets
from octopus.cli.app import JsonFlag, app, user_errors
from octopus.cli.output import print_json, print_table, si, si_seconds
from octopus.errors import InputError

PRESETS = ", ".join(list_presets())


@app.command()
@user_errors
def workflows(
    json: JsonFlag = False,
    arch: Annotated[str, typer.Option(
        help=f"Preset ({PRESETS}) or file that weighs work in cycles.")] = "chip",
) -> None:
    """List the built-in workflows with their size, expected work and dynamicity (the
    coefficient of variation of the work per instance, in TBU-cycles)."""
    from octopus.experiments.catalog import workflow_summaries

    rows = workflow_summaries(arch)
    if json:
        print_json([r.to_dict() for r in rows])
        return
    print_table(
        ["workflow", "TBs", "CBs", "AI work/inst", "general work/inst", "dynamicity (CV)"],
        [[r.name, r.task_blocks, r.control_blocks, si(r.expected_ai_macs, "MAC"),
          si(r.expected_general_ops, "op"), r.dynamicity_cv] for r in rows],
    )


@app.command()
def check(files: Annotated[list[Path], typer.Argument(help="Workflow YAML files.")]) -> None:
    """Validate workflow files: exit 0 when all are valid, 2 with one line per problem."""
    from octopus.run import resolve_workflow

    bad = 0
    for f in files:
        try:
            resolve_workflow(f)
            print(f"ok: {f}")
        except InputError as exc:
            for problem in exc.problems:
                print(f"error: {problem}", file=sys.stderr)
            bad += 1
    if bad:
        raise typer.Exit(2)


@app.command()
@user_errors
def analyze(
    workflow: Annotated[str, typer.Argument(help="A built-in name or a workflow YAML file.")],
    arch: Annotated[str, typer.Option(
        help=f"Preset ({PRESETS}) or file that turns work into cycles.")] = "chip",
    instances: Annotated[int, typer.Option(min=1, help="Batch size for the lower bound.")] = 1000,
    json: JsonFlag = False,
) -> None:
    """Expected firings and work per instance, the critical path of the mean instance (every
    work at its mean, loops at their mean count, branches weighted by their probabilities) and
    a lower bound on the makespan of a batch."""
    from octopus.experiments.catalog import analyze_workflow

    a = analyze_workflow(workflow, arch, instances)
    if json:
        print_json(a.to_dict())
        return
    print(f"{a.workflow}: {a.description}")
    print_table(["block", "type", "E[firings]/inst", "work/firing", "E[cycles]/inst"],
                [[r.block, r.type, r.expected_firings, si(r.mean_work),
                  si(r.expected_cycles)] for r in a.blocks])
    print(f"\ncritical path (mean instance): {si(a.critical_path_cycles)} cycles "
          f"({si_seconds(a.seconds(a.critical_path_cycles))} at {a.clock_hz / 1e9:g} GHz): "
          + " -> ".join(a.critical_path_blocks))
    print(f"lower bound, {a.lower_bound_instances} instances on {a.arch} ({a.tbus} TBUs): "
          f"{si(a.lower_bound_cycles)} cycles ({si_seconds(a.seconds(a.lower_bound_cycles))})")
