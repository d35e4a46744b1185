"""``octopus autochunk-bench``: the AutoChunk benchmark (``experiments.autochunk_bench``)."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from octopus.cli.app import app, user_errors
from octopus.models.families import FAMILIES


@app.command("autochunk-bench")
@user_errors
def autochunk_bench(
    out: Annotated[Path, typer.Option(
        help="Report directory (replaces only an earlier benchmark report).")
    ] = Path("runs/autochunk"),
    quick: Annotated[bool, typer.Option(help="Tiny sizes: a smoke test.")] = False,
    family: Annotated[list[str] | None, typer.Option(
        help=f"Model family to run (repeatable; default all of {', '.join(FAMILIES)}).")] = None,
    threads: Annotated[int, typer.Option(min=1, help="torch threads.")] = 1,
    max_seq: Annotated[bool, typer.Option(
        help="Search the longest sequence that fits a fixed budget.")] = True,
) -> None:
    """Benchmark AutoChunk: memory and time of each model family, original and chunked, and the
    longest sequence that fits a fixed budget; writes results.csv, max_seq_len.csv, results.md
    and plots into --out."""
    from octopus.errors import InputError

    for f in family or ():
        if f not in FAMILIES:
            raise InputError(None, "--family", f"unknown family '{f}' (choose from: "
                             f"{', '.join(FAMILIES)})")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: no spin-waits
    from octopus.experiments.autochunk_bench import run_benchmark

    command = "octopus " + shlex.join(sys.argv[1:])
    report = run_benchmark(out, quick, families=family, threads=threads, max_seq=max_seq,
                           command=command)
    print((out / "results.md").read_text())
    print(f"wall time {report.wall_s:.0f} s")


@app.command("autochunk-real-models")
@user_errors
def autochunk_real_models(
    out: Annotated[Path, typer.Option(
        help="Report directory (an AutoChunk benchmark report; its other files are kept).")
    ] = Path("runs/autochunk"),
    quick: Annotated[bool, typer.Option(help="Tiny models: a smoke test.")] = False,
    model: Annotated[list[str] | None, typer.Option(
        help="Model to run (repeatable; default gpt2, llama, bert, vit, unet).")] = None,
    threads: Annotated[int, typer.Option(min=1, help="torch threads.")] = 1,
) -> None:
    """Benchmark AutoChunk on models built from transformers' and diffusers' own code (needs
    the octopus[models] extra): capture, allocator peak, interleaved time and outputs against
    eager, with default and eager attention; writes real-models.md and real-models.csv."""
    from octopus.errors import InputError

    known = ("gpt2", "llama", "bert", "vit", "unet")
    for m in model or ():
        if m not in known:
            raise InputError(None, "--model", f"unknown model '{m}' (choose from: "
                             f"{', '.join(known)})")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: no spin-waits
    from octopus.experiments.real_models_bench import run_real_models

    command = "octopus " + shlex.join(sys.argv[1:])
    run_real_models(out, quick=quick, models=model, threads=threads, command=command)
    print((out / "real-models.md").read_text())
