"""``octopus workflows``, ``octopus check`` and ``octopus analyze``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from octopus.cli.main import JsonFlag, app, user_errors
from octopus.cli.output import print_json, print_table, si
from octopus.errors import InputError


def dynamicity(wf, cap, samples: int = 2000, seed: int = 0) -> float:
    """Coefficient of variation of a workflow's work per instance (TBU-cycles), estimated from
    ``samples`` seeded instances."""
    from octopus.workflow import iter_instances
    from octopus.workflow.analysis import instance_work_cycles

    work = np.array([instance_work_cycles(i, cap) for i in iter_instances(wf, samples, seed)])
    return float(work.std() / work.mean()) if work.mean() > 0 else 0.0


def _summary(name: str, arch_name: str) -> dict:
    from octopus.arch import load_arch
    from octopus.sim.capacity import arch_capacity
    from octopus.workflow import expected_work, resolve_workflow

    wf = resolve_workflow(name)
    cap = arch_capacity(load_arch(arch_name))
    work = expected_work(wf)
    return {
        "name": wf.name,
        "task_blocks": sum(b.type == "task" for b in wf.blocks),
        "control_blocks": sum(b.type in ("branch", "loop", "fanout") for b in wf.blocks),
        "expected_ai_macs": work["ai"],
        "expected_general_ops": work["general"],
        "dynamicity_cv": round(dynamicity(wf, cap), 4),
        "description": wf.description,
    }


@app.command()
@user_errors
def workflows(
    json: JsonFlag = False,
    arch: Annotated[str, typer.Option(help="Preset or file that weighs work in cycles.")] = "chip",
) -> None:
    """List the built-in workflows with their size, expected work and dynamicity."""
    from octopus.workflow import builtin_names

    rows = [_summary(n, arch) for n in builtin_names()]
    if json:
        print_json(rows)
        return
    print_table(
        ["workflow", "TBs", "CBs", "AI work/inst", "general work/inst", "dynamicity (CV)"],
        [[r["name"], r["task_blocks"], r["control_blocks"], si(r["expected_ai_macs"], "MAC"),
          si(r["expected_general_ops"], "op"), r["dynamicity_cv"]] for r in rows],
    )


@app.command()
def check(files: Annotated[list[Path], typer.Argument(help="Workflow YAML files.")]) -> None:
    """Validate workflow files: exit 0 when all are valid, 2 with one message per bad file."""
    from octopus.workflow import load_workflow

    bad = 0
    for f in files:
        try:
            load_workflow(f)
            print(f"ok: {f}")
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            bad += 1
    if bad:
        raise typer.Exit(2)


@app.command()
@user_errors
def analyze(
    workflow: Annotated[str, typer.Argument(help="A built-in name or a workflow YAML file.")],
    arch: Annotated[str, typer.Option(help="Preset or file that turns work into cycles.")] = "chip",
    instances: Annotated[int, typer.Option(min=1, help="Batch size for the lower bound.")] = 1000,
    json: JsonFlag = False,
) -> None:
    """Expected firings and work per instance, critical path, and a batch lower bound."""
    from octopus.arch import load_arch
    from octopus.sim.capacity import arch_capacity
    from octopus.workflow import (
        expected_critical_path,
        expected_firings,
        expected_lower_bound,
        resolve_workflow,
    )

    wf = resolve_workflow(workflow)
    hw = load_arch(arch)
    cap = arch_capacity(hw)
    firings = expected_firings(wf)
    path = expected_critical_path(wf, cap)
    blocks = []
    for b in wf.blocks:
        if b.type == "merge":
            continue
        work = b.work.mean if b.type == "task" else 0.0
        blocks.append({
            "block": b.id, "type": b.type if b.type != "task" else b.kind,
            "expected_firings": firings[b.id],
            "mean_work": work, "expected_work": firings[b.id] * work,
            "expected_cycles": firings[b.id] * cap.cycles(b.kind, work) if b.type == "task"
            else firings[b.id] * cap.control_cycles,
        })
    result = {
        "workflow": wf.name, "arch": hw.name, "units": cap.units,
        "blocks": blocks,
        "critical_path_cycles": path.cycles,
        "critical_path_blocks": list(path.blocks),
        "lower_bound_instances": instances,
        "lower_bound_cycles": expected_lower_bound(wf, instances, cap),
    }
    if json:
        print_json(result)
        return
    print(f"{wf.name}: {wf.description}")
    print_table(["block", "type", "E[firings]/inst", "work/firing", "E[cycles]/inst"],
                [[r["block"], r["type"], r["expected_firings"], si(r["mean_work"]),
                  si(r["expected_cycles"])] for r in blocks])
    sec = 1.0 / hw.clock_hz
    print(f"\ncritical path (mean instance): {si(path.cycles)} cycles "
          f"({path.cycles * sec * 1e3:.3g} ms at {hw.clock_hz / 1e9:g} GHz): "
          + " -> ".join(path.blocks))
    print(f"lower bound, {instances} instances on {hw.name} ({cap.units} TBUs): "
          f"{si(result['lower_bound_cycles'])} cycles "
          f"({result['lower_bound_cycles'] * sec:.3g} s)")
