"""``octopus simulate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from octopus.cli.main import JsonFlag, app, user_errors
from octopus.cli.output import print_json, print_table, si
from octopus.errors import InputError


@app.command()
@user_errors
def simulate(
    workflow: Annotated[str, typer.Option(help="Built-in workflow name or YAML file.")],
    arch: Annotated[str, typer.Option(help="Architecture preset or YAML file.")] = "chip",
    scheduler: Annotated[str, typer.Option(help="Scheduler name.")] = "greedy",
    instances: Annotated[int, typer.Option(min=1, help="Workflow instances.")] = 100,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream.")] = 0,
    rate: Annotated[float | None, typer.Option(
        help="Open-loop Poisson arrivals, instances per second (default: a closed batch).")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory to write.")] = None,
    trace: Annotated[bool, typer.Option(help="Write trace.json into the run directory.")] = True,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE",
        help="Override a setting (repeatable): arch.<dotted field> (e.g. arch.cluster.tbus_x=8), "
             "scheduler.<param>, instances, seed or rate_per_s. Wins over the options.")] = None,
    sram_policy: Annotated[str, typer.Option(
        help="Torch-defined blocks whose activations exceed the SRAM: spill, autochunk or auto "
             "(the cheaper).")] = "auto",
    json: JsonFlag = False,
) -> None:
    """Simulate a workflow on an architecture under a scheduler."""
    from octopus.arch import load_arch
    from octopus.experiments.run import RunSpec, run_once
    from octopus.experiments.sweep import parse_assignments, split_settings

    if sram_policy not in ("spill", "autochunk", "auto"):
        raise InputError("--sram-policy", None,
                         f"{sram_policy!r} is not one of: spill, autochunk, auto")
    extra = split_settings(parse_assignments(set_ or []), "--set",
                           allowed=("instances", "seed", "rate_per_s"))
    fields = {"instances": instances, "seed": seed, "rate_per_s": rate} | extra.run
    spec = RunSpec.checked("--set", workflow=workflow, arch=arch, scheduler=scheduler,
                           scheduler_params=extra.scheduler_params,
                           arch_overrides=extra.arch_overrides, sram_policy=sram_policy,
                           **fields)
    try:  # bad overrides fail before any run output, named as given
        load_arch(spec.arch, spec.arch_overrides)
    except InputError as exc:
        if exc.source != "overrides":
            raise
        raise InputError("--set", f"arch.{exc.where}", exc.problem) from None
    summary = run_once(spec, out_dir=out, trace=trace)
    if json:
        print_json(summary)
        return
    idle = summary["idle_breakdown"]
    print_table(["metric", "value"], [
        ["makespan", f"{si(summary['makespan_cycles'])} cycles ({summary['makespan_s']:.4g} s)"],
        ["lower bound", f"{si(summary['lower_bound_cycles'])} cycles "
                        f"(makespan / bound = {summary['bound_ratio']:.3f})"],
        ["throughput", f"{summary['throughput_instances_per_s']:.4g} instances/s"],
        ["latency p50 / p99", f"{si(summary['latency_p50_cycles'])} / "
                              f"{si(summary['latency_p99_cycles'])} cycles"],
        ["utilization", f"{summary['utilization']:.1%}"],
        ["idle breakdown", ", ".join(f"{k.removesuffix('_fraction')} {v:.1%}"
                                     for k, v in idle.items())],
        ["reconfigurations", summary["reconfigurations"]],
        ["migrations", summary["migrations"]],
        ["NoC traffic",
         f"{si(summary['noc_bytes'], 'B')}, {si(summary['noc_byte_hops'])} B x hops"],
    ])
    if out is not None:
        print(f"\nrun directory: {out}")
