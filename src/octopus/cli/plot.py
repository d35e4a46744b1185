"""``octopus plot``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from octopus.cli.app import app, user_errors
from octopus.errors import InputError


@app.command()
@user_errors
def plot(
    results: Annotated[Path, typer.Argument(help="A sweep's results.csv.")],
    kind: Annotated[str, typer.Option(
        help="xy (needs --x and --y), speedup-vs-dynamicity or throughput-vs-clusters.")] = "xy",
    x: Annotated[str | None, typer.Option(
        help="Column on the x axis (ready-made kinds: dynamicity_cv, clusters).")] = None,
    y: Annotated[str | None, typer.Option(help="Metric on the y axis (xy only).")] = None,
    hue: Annotated[str | None, typer.Option(help="Column giving one line per value.")] = None,
    target: Annotated[str, typer.Option(
        help="speedup-vs-dynamicity: the scheduler whose speedup is shown.")] = "octopus",
    logx: Annotated[bool, typer.Option(help="xy: logarithmic x axis.")] = False,
    logy: Annotated[bool, typer.Option(help="xy: logarithmic y axis.")] = False,
    out: Annotated[Path | None, typer.Option(
        help="PNG to write (default: beside results.csv, named after the plot).")] = None,
) -> None:
    """Plot a sweep's results.csv into a PNG: y against x, one line per hue value, the mean
    over the other columns (seeds, ...) with a min-max band."""
    from octopus.experiments import plots

    rows = plots.load_results(results)
    where = results.parent
    if kind == "xy":
        if x is None or y is None:
            raise InputError(None, "--kind xy", "needs --x FIELD and --y METRIC")
        path = plots.plot_xy(rows, x, y, out or where / f"{y}-vs-{x}.png", hue=hue,
                             logx=logx, logy=logy)
    elif kind == "speedup-vs-dynamicity":
        path = plots.plot_speedup_vs_dynamicity(rows, out or where / f"{kind}.png",
                                                x=x or "dynamicity_cv", target=target)
    elif kind == "throughput-vs-clusters":
        path = plots.plot_throughput_vs_clusters(rows, out or where / f"{kind}.png",
                                                 x=x or "clusters", hue=hue or "scheduler")
    else:
        raise InputError(None, "--kind", f"unknown '{kind}' (choose from: "
                                         f"{', '.join(plots.KINDS)})")
    print(f"plot: {path}")
