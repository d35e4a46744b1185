"""``octopus evaluate``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from octopus.arch import list_presets
from octopus.cli.app import JsonFlag, app, progress, user_errors
from octopus.cli.output import print_json, print_table
from octopus.errors import InputError


@app.command()
@user_errors
def evaluate(
    arch: Annotated[str, typer.Option(
        help=f"Architecture preset ({', '.join(list_presets())}) or YAML file.")] = "wafer",
    out: Annotated[Path, typer.Option(
        help="Report directory to write (replaces only an earlier evaluation report).")
    ] = Path("runs/evaluation"),
    quick: Annotated[bool, typer.Option(
        help="A small suite (minutes on 2 cores) instead of the full one.")] = False,
    instances: Annotated[int | None, typer.Option(
        min=1, help="Instances per run (overrides the size's default).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="arch.FIELD=VALUE",
        help="Override an architecture field in every run (repeatable), e.g. "
             "arch.cluster.tbus_x=8.")] = None,
    json: JsonFlag = False,
) -> None:
    """Every built-in workflow under every scheduler, with ablation, dynamicity and scaling;
    writes report.md with its CSV files and plots into --out."""
    from dataclasses import replace

    from octopus.cli.settings import with_set_names
    from octopus.experiments.backends import LocalBackend
    from octopus.experiments.evaluate import Size, evaluate
    from octopus.experiments.report import main_rows, write_report
    from octopus.experiments.sweep import parse_assignments
    from octopus.run import check_target, resolve_arch

    overrides: dict[str, object] = {}
    for key, value in parse_assignments(set_ or [], "--set").items():
        if not key.startswith("arch.") or key == "arch.":
            raise InputError("--set", key, "evaluate takes only arch.<dotted field> overrides "
                                           "(it picks schedulers, seeds and sizes itself)")
        overrides[key.removeprefix("arch.")] = value
    with_set_names(lambda: resolve_arch(arch, overrides))  # fail fast, before any run starts
    check_target(out, "evaluation")
    size = Size.quick() if quick else Size.full()
    if instances is not None:
        size = replace(size, instances=instances)

    ev = evaluate(arch, size, LocalBackend(workers), progress("evaluate", quiet=json),
                  arch_overrides=overrides)
    command = "octopus evaluate " + shlex.join(sys.argv[2:] if sys.argv[1:2] == ["evaluate"]
                                               else sys.argv[1:])
    write_report(ev, out, command.strip())
    headline = ev.headline()
    if json:
        print_json(headline)
        return
    print_table(["workflow", "scheduler", "makespan (cycles)", "octopus speedup", "/ bound",
                 "utilization", "starved"],
                [[r["workflow"], r["scheduler"], f"{r['makespan_cycles']:.4g}",
                  f"{r['octopus_speedup']:.3f}x", f"{r['bound_ratio']:.3f}",
                  f"{r['utilization']:.1%}", f"{r['starved_fraction']:.1%}"]
                 for r in main_rows(ev)])
    g, m = headline["geomean_speedup"], headline["max_speedup"]
    print("\nOctopus speedup, geometric mean (max): "
          + ", ".join(f"over {b} {g[b]:.3f}x ({m[b]:.3f}x)" for b in g))
    print(f"mean makespan / lower bound: {headline['mean_bound_ratio']:.3f}")
    print("scaling efficiency: " + ", ".join(
        f"{k} clusters {v:.3f}" for k, v in headline["scaling_efficiency"].items()))
    print(f"\nreport: {out / 'report.md'}")
