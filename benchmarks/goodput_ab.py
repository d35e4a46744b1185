"""Goodput of a few scheduler configurations on one workflow and preset, side by side.

The full evaluation (``octopus evaluate``, about 30 minutes) answers "how does every scheduler
do everywhere"; this answers "does this change to a scheduler help here" in a few minutes, with
the evaluation's own pieces (:mod:`octopus.experiments.serving`): per seed, every configuration's
latency floor (each instance alone on the machine), an SLO per instance of ``--slo-scale`` times
the lowest floor over the configurations (so every configuration is held to the same SLOs), then
a goodput search per configuration (open-loop Poisson arrivals; the highest load, as a fraction
of the capacity bound, at which ``--target`` of the instances after the warm-up meet their SLO).

Note that the SLO depends on the set compared: adding a configuration that runs an instance
alone faster tightens every configuration's SLO. Compare configurations within one run.

Each ``--config NAME=JSON`` is a scheduler config (the ``scheduler`` of a run spec), e.g.::

    .venv/bin/python benchmarks/goodput_ab.py --workflow face-recognition --arch chip-4 \\
        --instances 64 --seeds 0 1 2 \\
        --config 'octopus={"name": "octopus"}' \\
        --config 'no-dual={"name": "octopus", "dual": false}' \\
        --config 'greedy16={"name": "greedy", "width": 16}'

prints each configuration's goodput per seed and its mean with a 95% interval over seeds, as a
fraction of capacity and in instances per second.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from pydantic import ValidationError

from octopus.errors import InputError, validation_message
from octopus.experiments.evaluation import Size
from octopus.experiments.serving import SearchJob, capacity_per_s, goodput_job, measure_floor
from octopus.experiments.stats import interval
from octopus.run import RunSpec

FULL = Size.full()  # the evaluation's load grid, search tolerance and lowest load


def parse_config(text: str) -> tuple[str, dict]:
    """``NAME=JSON`` into ``(name, scheduler config)`` (an argparse type: bad input exits 2)."""
    name, sep, body = text.partition("=")
    try:
        config = json.loads(body) if sep and name else None
    except json.JSONDecodeError as e:
        raise argparse.ArgumentTypeError(f"{text!r}: the part after '=' is not JSON "
                                         f"({e.msg})") from None
    if not isinstance(config, dict) or "name" not in config:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME={{\"name\": SCHEDULER, "
                                         "...}")
    return name, config


def goodputs(args: argparse.Namespace, configs: dict[str, dict], seed: int) -> dict[str, float]:
    """Each configuration's goodput load (fraction of capacity) under one seed."""
    bases = {name: RunSpec(workflow=args.workflow, arch=args.arch, scheduler=config,
                           instances=args.instances, seed=seed,
                           warmup_instances=int(args.instances * args.warmup))
             for name, config in configs.items()}
    capacity = capacity_per_s(next(iter(bases.values())))
    floors = np.min([measure_floor(base).latencies for base in bases.values()], axis=0)
    out = {}
    for name, base in bases.items():
        job = SearchJob(base=base, arrival_cv=1.0, capacity_per_s=capacity,
                        floors=tuple(floors.tolist()), grid=tuple(FULL.loads),
                        slo_scale=args.slo_scale, slo_scales=(args.slo_scale,),
                        target=args.target, rel_tol=FULL.rel_tol, min_load=FULL.min_load)
        out[name] = goodput_job(job).goodput_load
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workflow", required=True)
    ap.add_argument("--arch", required=True, help="a preset or an architecture YAML")
    ap.add_argument("--instances", type=int, default=64, help="per open-loop run")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--config", action="append", required=True, metavar="NAME=JSON",
                    type=parse_config)
    ap.add_argument("--slo-scale", type=float, default=5.0)
    ap.add_argument("--target", type=float, default=0.99, help="SLO attainment to pass")
    ap.add_argument("--warmup", type=float, default=0.1, help="share of instances left out")
    args = ap.parse_args(argv)
    configs = dict(args.config)
    try:
        specs = [RunSpec(workflow=args.workflow, arch=args.arch, scheduler=config, instances=1)
                 for config in configs.values()]
        capacity = capacity_per_s(specs[0])
    except ValidationError as e:
        field, problem = validation_message(e)
        ap.error(f"--config: {field}: {problem}")
    except InputError as e:
        ap.error(str(e))
    print(f"{args.workflow} on {args.arch}: capacity {capacity:,.1f} instances/s; "
          f"{args.instances} instances per run, seeds {args.seeds}, SLO {args.slo_scale:g}x "
          "the lowest floor")
    start = time.perf_counter()
    per_seed = [goodputs(args, configs, seed) for seed in args.seeds]
    for name in configs:
        loads = [g[name] for g in per_seed]
        ci = interval(loads)  # its low end clipped at 0, as a goodput cannot be negative
        print(f"  {name:16} goodput / capacity {ci.mean:.3f} [{max(0.0, ci.low):.3f}, "
              f"{ci.high:.3f}] ({ci.mean * capacity:,.1f} instances/s); "
              f"per seed {' '.join(f'{x:.3f}' for x in loads)}")
    print(f"({time.perf_counter() - start:,.0f} s)")


if __name__ == "__main__":
    main()
