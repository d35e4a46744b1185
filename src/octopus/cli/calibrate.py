"""``octopus calibrate``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from octopus.cli.app import app, progress, user_errors
from octopus.errors import InputError


@app.command()
@user_errors
def calibrate(
    out: Annotated[Path, typer.Option(
        help="Report directory (replaces only an earlier calibration).")
    ] = Path("runs/calibration"),
    arch: Annotated[str, typer.Option(help="Preset or file whose PE array is calibrated.")
                    ] = "chip",
    model: Annotated[list[str] | None, typer.Option(
        help="A model to calibrate (repeatable; default: every layer table and torch-defined "
             "block of the built-ins).")] = None,
    tables: Annotated[Path | None, typer.Option(
        help="First regenerate the layer tables of the public models into this folder "
             "(the shipped ones: src/octopus/models/tables; needs octopus[models]).")] = None,
) -> None:
    """Compare the closed-form TBU cost model with SCALE-Sim on every layer of the built-ins'
    DNNs (needs octopus[calibrate] unless the SCALE-Sim runs are cached); writes layers.csv,
    models.csv, fit.json, errors.png and report.md into --out."""
    from octopus.experiments.calibration import TORCH_MODELS, calibrate, write_report
    from octopus.experiments.calibration import write_tables as regenerate
    from octopus.models.tables import table_names
    from octopus.run import check_target, resolve_arch

    check_target(out, "calibration")
    hw = resolve_arch(arch)
    if tables is not None:
        for path in regenerate(tables):
            print(f"table: {path}", file=sys.stderr)
    names = list(model or [*table_names(), *TORCH_MODELS])
    try:
        rows = calibrate(names, hw.pea.rows, hw.pea.cols, progress=progress("calibrate"))
    except (ValueError, RuntimeError) as exc:
        raise InputError(None, "calibrate", str(exc)) from None
    command = "octopus " + shlex.join(sys.argv[1:])
    path = write_report(out, rows, names, hw.pea.rows, hw.pea.cols, command)
    print(f"report: {path / 'report.md'}")
