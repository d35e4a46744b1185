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
    arch: Annotated[list[str] | None, typer.Option(
        metavar="PRESET",
        help=f"Architecture preset ({', '.join(list_presets())}) or YAML file (repeatable; "
             "default: chip, chip-4 and wafer).")] = None,
    workflow: Annotated[list[str] | None, typer.Option(
        metavar="WORKFLOW",
        help="Workflow to evaluate: a built-in, mix (all built-ins on one machine) or "
             "mix:NAME=WEIGHT,... (repeatable; default: the built-ins and mix).")] = None,
    out: Annotated[Path, typer.Option(
        help="Report directory to write (replaces only an earlier evaluation report).")
    ] = Path("runs/evaluation"),
    quick: Annotated[bool, typer.Option(
        help="A small evaluation (under 3 minutes on 2 cores) instead of the full one.")
    ] = False,
    instances: Annotated[int | None, typer.Option(
        min=2, help="Instances per open-loop run on every preset (overrides the size's "
                    "run-length rule).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="arch.FIELD=VALUE",
        help="Override an architecture field in every run (repeatable), e.g. "
             "arch.cluster.tbus_x=8.")] = None,
    json: JsonFlag = False,
) -> None:
    """Octopus as a serving system: every workflow and their mix on each preset, under every
    scheduler, open-loop Poisson and bursty arrivals swept past capacity; goodput at an SLO
    of 5x each instance's latency floor, latency and attainment curves, the ablation and a
    closed-batch throughput check. Writes report.md with its CSV files and plots into --out."""
    from dataclasses import replace

    from octopus.cli.settings import with_set_names
    from octopus.experiments.backends import LocalBackend
    from octopus.experiments.evaluate import PRELOAD, Size
    from octopus.experiments.evaluate import evaluate as run_evaluation
    from octopus.experiments.report import write_report
    from octopus.experiments.sweep import parse_assignments
    from octopus.run import check_target, resolve_arch, resolve_workflow

    overrides: dict[str, object] = {}
    for key, value in parse_assignments(set_ or [], "--set").items():
        if not key.startswith("arch.") or key == "arch.":
            raise InputError("--set", key, "evaluate takes only arch.<dotted field> overrides "
                                           "(it picks schedulers, seeds and sizes itself)")
        overrides[key.removeprefix("arch.")] = value
    size = Size.quick() if quick else Size.full()
    if arch:
        if len(set(arch)) < len(arch):
            raise InputError(None, "--arch", "a preset named twice")
        size = replace(size, presets=tuple(arch),
                       max_instances={a: size.max_instances.get(a, max(size.max_instances
                                                                       .values()))
                                      for a in arch},
                       closed_instances={a: size.closed_instances.get(
                           a, max(size.closed_instances.values())) for a in arch})
    if workflow:
        if len(set(workflow)) < len(workflow):
            raise InputError(None, "--workflow", "a workflow named twice")
        size = replace(size, workflows=tuple(workflow))
    for a in size.presets:  # fail fast, before any run starts
        with_set_names(lambda a=a: resolve_arch(a, overrides))
    for w in size.workflows:
        resolve_workflow(w)
    check_target(out, "evaluation")
    if instances is not None:
        size = size.with_instances(instances)

    ev = run_evaluation(size, LocalBackend(workers, PRELOAD), progress("evaluate", quiet=json),
                        arch_overrides=overrides)
    command = "octopus evaluate " + shlex.join(sys.argv[2:] if sys.argv[1:2] == ["evaluate"]
                                               else sys.argv[1:])
    write_report(ev, out, command.strip())
    headline = ev.headline()
    if json:
        print_json(headline)
        return
    print_table(["workflow", "preset", *ev.schedulers],
                [[wf, p, *(f"{ev.goodput(wf, p, s).mean / ev.capacity[(wf, p)]:.3f}"
                           for s in ev.schedulers)]
                 for wf in size.workflows for p in size.presets])
    print("\n(goodput / capacity, Poisson arrivals, mean over seeds)")
    speed = headline["goodput_speedup"]
    print("Octopus goodput over each baseline, geometric mean (max): " + ", ".join(
        f"{b} {_x(speed['geomean'][b])} ({_x(speed['max'][b])})" for b in ev.baselines))
    print(f"\nreport: {out / 'report.md'} ({ev.wall_s / 60:.1f} minutes)")


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}x"
