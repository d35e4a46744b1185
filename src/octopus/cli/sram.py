"""``octopus sram-study``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from octopus.cli.app import app, user_errors
from octopus.experiments.sram_study import WORKFLOWS


@app.command("sram-study")
@user_errors
def sram_study(
    workflows: Annotated[list[str] | None, typer.Argument(
        help=f"Workflows with torch-defined blocks (default: {' '.join(WORKFLOWS)}).")] = None,
    instances: Annotated[int, typer.Option(min=1, help="Instances per run.")] = 256,
    scheduler: Annotated[str, typer.Option(help="Scheduler of every run.")] = "octopus",
    out: Annotated[Path, typer.Option(
        help="Report directory (replaces only an earlier study).")] = Path("runs/sram-study"),
) -> None:
    """Spill vs. AutoChunk: makespans of workflows with torch-defined blocks under each SRAM
    policy on chip and wafer, the SRAM-size sensitivity, and single models fitted on one TBU;
    writes report.md into --out."""
    from octopus.experiments.sram_study import write_study

    command = "octopus " + shlex.join(sys.argv[1:])
    path = write_study(out, tuple(workflows or WORKFLOWS), instances, scheduler, command)
    print(f"report: {path / 'report.md'}")
