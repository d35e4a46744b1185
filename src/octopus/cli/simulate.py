"""``octopus simulate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from octopus.cli.main import JsonFlag, app, user_errors
from octopus.cli.output import print_json, print_table, si


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
    json: JsonFlag = False,
) -> None:
    """Simulate a workflow on an architecture under a scheduler."""
    from octopus.experiments.run import RunSpec, run_once

    spec = RunSpec.checked(workflow=workflow, arch=arch, scheduler=scheduler, instances=instances,
                           seed=seed, rate_per_s=rate)
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
