"""``octopus sweep``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from octopus.cli.app import JsonFlag, app, progress, user_errors
from octopus.cli.output import print_json


@app.command()
@user_errors
def sweep(
    spec: Annotated[Path, typer.Argument(help="Sweep spec (YAML; see docs/sweeps.md).")],
    out: Annotated[Path, typer.Option(help="Sweep directory: results.csv and points/<id>/.")],
    backend: Annotated[str, typer.Option(help="Where points run: local or dask.")] = "local",
    address: Annotated[str | None, typer.Option(
        help="Dask scheduler address (default: start a LocalCluster).")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Worker processes (default: the CPU count); for dask, LocalCluster workers.")] = None,
    json: JsonFlag = False,
) -> None:
    """Run every point of a sweep spec; re-running skips the points already finished.

    The whole spec is checked (every point's workflow, architecture with overrides, scheduler
    and parameters) before anything runs: a bad spec exits with code 2 and writes nothing.
    Exits 1 if some point failed (re-running retries only those).
    """
    from octopus.experiments.backends import make_backend
    from octopus.experiments.sweep import load_sweep, plan_sweep, run_sweep

    plan = plan_sweep(load_sweep(spec), spec)
    runner = make_backend(backend, workers, address, preload=["octopus.cli.main"])

    try:
        report = run_sweep(plan, out, runner, progress("points", quiet=json))
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished points are kept in {out}; re-run the same command to "
              "resume", file=sys.stderr)
        raise typer.Exit(130) from None
    summary = {"points": report.total, "already_finished": report.skipped, "ran": report.ran,
               "failed": report.failed, "results": str(report.results)}
    if json:
        print_json(summary)
    else:
        print(f"{report.total} points: {report.skipped} already finished, {report.ran} run, "
              f"{len(report.failed)} failed")
        for pid, error in report.failed.items():
            print(f"  failed {pid}: {error}", file=sys.stderr)
        print(f"results: {report.results}")
    if report.failed:
        raise typer.Exit(1)
