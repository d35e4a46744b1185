"""``octopus simulate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from octopus.arch import list_presets
from octopus.cli.app import JsonFlag, app, user_errors
from octopus.cli.output import print_json, print_table, si, si_seconds
from octopus.cli.settings import SET_KEYS, build_spec, with_set_names
from octopus.run import DEFAULT_SCHEDULER, SRAM_POLICIES, RunResult
from octopus.sched import scheduler_names

__all__ = ["print_summary", "simulate"]


@app.command()
@user_errors
def simulate(
    workflow: Annotated[str, typer.Option(help="Built-in workflow name or YAML file.")],
    arch: Annotated[str, typer.Option(
        help=f"Architecture preset ({', '.join(list_presets())}) or YAML file.")] = "chip",
    scheduler: Annotated[str, typer.Option(
        help=f"Scheduler: {', '.join(scheduler_names())}.")] = DEFAULT_SCHEDULER,
    instances: Annotated[int, typer.Option(help="Workflow instances.")] = 100,
    seed: Annotated[int, typer.Option(help="Seed of every random stream.")] = 0,
    rate: Annotated[float | None, typer.Option(
        help="Open-loop arrivals, instances per second (default: a closed batch); Poisson "
             "unless --set arrival_cv=CV (above 1: bursty).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Run directory to write (replaces only an earlier run directory).")] = None,
    trace: Annotated[bool, typer.Option(help="Write trace.json into the run directory.")] = True,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", metavar="KEY=VALUE",
        help="Override a setting (repeatable): arch.<dotted field> (e.g. arch.cluster.tbus_x=8), "
             f"scheduler.<param>, or one of {', '.join(SET_KEYS)}. Wins over the options.")
    ] = None,
    sram_policy: Annotated[str, typer.Option(
        help="Torch-defined blocks whose activations exceed the SRAM: "
             f"{', '.join(SRAM_POLICIES)} (the cheaper).")] = "auto",
    json: JsonFlag = False,
) -> None:
    """Simulate a workflow on an architecture under a scheduler; print the metrics and, with
    --out, write the run directory (config.resolved.yaml, summary.json, firings.csv, tbus.csv,
    trace.json)."""
    from octopus.run import execute

    spec = build_spec({"workflow": workflow, "arch": arch, "scheduler": scheduler,
                       "instances": instances, "seed": seed, "rate_per_s": rate,
                       "sram_policy": sram_policy}, set_ or [])
    given = {item.partition("=")[0].strip() for item in set_ or []}
    result = with_set_names(lambda: execute(spec, out_dir=out, trace=trace), given)
    if json:
        print_json(result.to_dict())
        return
    print_summary(result)
    if out is not None:
        print(f"\nrun directory: {out}")


def print_summary(r: RunResult) -> None:
    """The metrics table of one run."""
    print_table(["metric", "value"], [
        ["makespan", f"{si(r.makespan_cycles)} cycles ({si_seconds(r.makespan_s)})"],
        ["lower bound", f"{si(r.lower_bound_cycles)} cycles "
                        f"(makespan / bound = {r.bound_ratio:.3f})"],
        ["throughput", f"{r.throughput_instances_per_s:.4g} instances/s"],
        ["latency p50 / p99", f"{si(r.latency_p50_cycles)} / {si(r.latency_p99_cycles)} cycles "
                              f"({si_seconds(r.seconds(r.latency_p50_cycles))} / "
                              f"{si_seconds(r.seconds(r.latency_p99_cycles))})"],
        *([["SLO attainment", f"{r.slo_attainment:.2%} within {si(r.slo_cycles)} cycles"]]
          if r.slo_attainment is not None else []),
        ["utilization", f"{r.utilization:.1%}"],
        ["idle breakdown", ", ".join(f"{k.removesuffix('_fraction')} {v:.1%}"
                                     for k, v in r.idle_breakdown.items())],
        ["reconfigurations", r.reconfigurations],
        ["migrations", r.migrations],
        ["NoC traffic", f"{si(r.noc_bytes, 'B')}, {si(r.noc_byte_hops)} B x hops"],
    ])
