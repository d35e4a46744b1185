"""The calibration of the TBU cost model against SCALE-Sim (``octopus calibrate``).

For every layer of the DNNs behind the built-in workflows (the public models'
:mod:`layer tables <octopus.models.tables>` and the torch-defined blocks), on one TBU's array
and for each dataflow, it compares SCALE-Sim's compute cycles
(:func:`octopus.cost.scalesim.simulate_layer`, cached) with the closed form
(:func:`octopus.cost.systolic.layer_cycles`), re-fits the closed form's coefficients by least
squares on the layers SCALE-Sim ran whole, and writes ``layers.csv`` (one row per layer and
dataflow), ``models.csv`` (per model: MACs, cycles, utilization, the speed-up on a group of k
arrays), ``fit.json`` and ``report.md`` with the error plot. :func:`write_tables` regenerates
the shipped layer tables from the models.
"""

from __future__ import annotations

import csv
import json
import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from octopus.cost.layers import Layer, extract_layers, read_layers, write_layers
from octopus.cost.scalesim import ScaleSimResult, scalesim_version, simulate_layer
from octopus.cost.systolic import (
    DATAFLOWS,
    FOLD_TIMING,
    FoldTiming,
    fold_shape,
    layer_cycles,
    layers_cycles,
)
from octopus.models.public import PUBLIC_MODELS, build_public
from octopus.models.tables import table_names, table_path
from octopus.run import StagedDirectory

__all__ = ["CalibrationRow", "GROUP_SIZES", "TORCH_MODELS", "calibrate", "fit_fold_timing",
           "model_layers", "write_tables"]

GROUP_SIZES = (1, 2, 4, 8, 16)
"""Group widths (arrays per firing) of the speed-up table."""

TORCH_MODELS: dict[str, tuple[str, tuple[int, ...]]] = {
    "Evoformer-16x64": ("evoformer", (16, 64)),
    "MLP-64x128": ("mlp", (64, 128)),
}
"""The torch-defined blocks of the built-ins (``protein-structure``): registry name, shape."""


@dataclass(frozen=True)
class CalibrationRow:
    """One layer on one dataflow: SCALE-Sim against the closed form (cycles on one array)."""

    model: str
    layer: str
    op: str
    m: int
    n: int
    k: int
    count: int
    dataflow: str
    scalesim_cycles: int
    model_cycles: int
    rel_error: float  # (model - scalesim) / scalesim
    scope: str  # "full" or "folds" (SCALE-Sim run on fold slices, extrapolated)
    utilization: float  # MACs / (rows x cols x SCALE-Sim cycles)
    dram_reads: int  # words, SCALE-Sim
    dram_writes: int


def model_layers(name: str) -> tuple[Layer, ...]:
    """The layers of a public model (from its shipped table) or a torch-defined block of the
    built-ins (:data:`TORCH_MODELS`, recorded from the torch model).

    Raises:
        ValueError: unknown name.
    """
    path = table_path(name)
    if path is not None:
        return read_layers(path)
    if name in TORCH_MODELS:
        from octopus.models import build_known

        module, inputs = build_known(*TORCH_MODELS[name])
        return tuple(extract_layers(module, *inputs))
    raise ValueError(f"unknown model {name!r} (choose from: "
                     f"{', '.join([*table_names(), *TORCH_MODELS])})")


def write_tables(folder: str | Path) -> list[Path]:
    """Record every public model's layers and write ``<name>.csv`` into ``folder`` (the shipped
    tables are ``src/octopus/models/tables``). Needs ``transformers`` for some models."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    recorded: dict[str, list[Layer]] = {}
    written = []
    for name, entry in PUBLIC_MODELS.items():
        module, args, kwargs = build_public(name)
        layers = recorded[name] = extract_layers(module, *args, **kwargs)
        if entry.prefix is not None:  # a decode phase: drop the prompt's GEMMs
            layers = layers[len(recorded[entry.prefix]):]
        path = folder / f"{name}.csv"
        path.write_text(write_layers(layers))
        written.append(path)
    return written


def calibrate(models: Sequence[str], rows: int, cols: int,
              dataflows: Sequence[str] = DATAFLOWS,
              progress: Callable[..., Iterable] | None = None) -> list[CalibrationRow]:
    """One row per layer of each model and dataflow (SCALE-Sim runs are cached on disk).

    Raises:
        ValueError: an unknown model.
        RuntimeError: SCALE-Sim is needed (a layer not cached) and not installed.
    """
    jobs = [(name, layer, df) for name in models for layer in model_layers(name)
            for df in dataflows]
    stream: Iterable = jobs if progress is None else progress(jobs, len(jobs), "layers")
    rows_out = []
    for name, layer, df in stream:
        sim = simulate_layer(layer, rows, cols, df)
        model = layer_cycles(layer, rows, cols, df)
        rows_out.append(_row(name, layer, df, sim, model, rows * cols))
    return rows_out


def _row(name: str, layer: Layer, df: str, sim: ScaleSimResult, model: int,
         pes: int) -> CalibrationRow:
    return CalibrationRow(
        model=name, layer=layer.name, op=layer.op, m=layer.m, n=layer.n, k=layer.k,
        count=layer.count, dataflow=df, scalesim_cycles=sim.compute_cycles, model_cycles=model,
        rel_error=(model - sim.compute_cycles) / sim.compute_cycles, scope=sim.scope,
        utilization=layer.macs / (pes * sim.compute_cycles), dram_reads=sim.dram_reads,
        dram_writes=sim.dram_writes)


def fit_fold_timing(rows: Sequence[CalibrationRow], array_rows: int, array_cols: int
                    ) -> dict[str, FoldTiming]:
    """Least-squares ``cycles = folds * (stream + a R + b C + c) + d`` per dataflow on the
    layers SCALE-Sim ran whole, one GEMM at a time (``count`` divided out).

    On one array size the per-fold overhead ``a R + b C + c`` is a single number: the fit
    estimates it and ``d``, keeping ``a`` and ``b`` at :data:`FOLD_TIMING`'s (``c`` absorbs
    the rest).
    """
    out = {}
    for df in DATAFLOWS:
        full = [r for r in rows if r.dataflow == df and r.scope == "full"]
        if len(full) < 2:
            continue
        base = FOLD_TIMING[df]
        x, y = [], []
        for r in full:
            layer = Layer(r.layer, r.op, r.m, r.n, r.k)
            folds, stream = fold_shape(layer, array_rows, array_cols, df)  # type: ignore[arg-type]
            x.append((folds, 1.0))
            y.append(r.scalesim_cycles / r.count - folds * stream)
        (overhead, offset), *_ = np.linalg.lstsq(np.array(x), np.array(y), rcond=None)
        fixed = base.a * array_rows + base.b * array_cols
        out[df] = FoldTiming(base.a, base.b, float(overhead - fixed), float(offset))
    return out


# --- the report ---------------------------------------------------------------------------------
def write_report(out_dir: str | Path, rows: Sequence[CalibrationRow], models: Sequence[str],
                 array_rows: int, array_cols: int, command: str) -> Path:
    """Write ``layers.csv``, ``models.csv``, ``fit.json``, ``errors.png`` and ``report.md``
    into ``out_dir`` (kind ``calibration``: it replaces only an earlier calibration)."""
    fits = fit_fold_timing(rows, array_rows, array_cols)
    totals = _model_totals(rows, models, array_rows, array_cols)
    with StagedDirectory(out_dir, "calibration") as staged:
        folder = staged.path
        _write_csv(folder / "layers.csv", [asdict(r) for r in rows])
        _write_csv(folder / "models.csv", totals)
        (folder / "fit.json").write_text(json.dumps(
            {df: asdict(f) for df, f in fits.items()}, indent=2) + "\n")
        _error_plot(rows, folder / "errors.png")
        (folder / "report.md").write_text(_markdown(rows, totals, fits, models, array_rows,
                                                    array_cols, command))
        return staged.publish()


def _model_totals(rows: Sequence[CalibrationRow], models: Sequence[str], array_rows: int,
                  array_cols: int) -> list[dict[str, Any]]:
    out = []
    for name in models:
        layers = model_layers(name)
        macs = sum(layer.macs for layer in layers)
        row: dict[str, Any] = {"model": name, "layers": len(layers), "macs": macs}
        for df in DATAFLOWS:
            mine = [r for r in rows if r.model == name and r.dataflow == df]
            if not mine:
                continue
            sim = sum(r.scalesim_cycles for r in mine)
            model = sum(r.model_cycles for r in mine)
            row[f"{df}_scalesim_cycles"] = sim
            row[f"{df}_model_cycles"] = model
            row[f"{df}_utilization"] = round(macs / (array_rows * array_cols * sim), 4)
        base = layers_cycles(layers, array_rows, array_cols, "best")
        row["best_utilization"] = round(macs / (array_rows * array_cols * base), 4)
        for k in GROUP_SIZES[1:]:
            row[f"speedup_{k}"] = round(base / layers_cycles(layers, array_rows, array_cols,
                                                             "best", arrays=k), 3)
        out.append(row)
    return out


def _write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _error_plot(rows: Sequence[CalibrationRow], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    for i, df in enumerate(DATAFLOWS):
        mine = [r for r in rows if r.dataflow == df]
        ax.scatter([r.scalesim_cycles for r in mine], [r.model_cycles for r in mine], s=8,
                   alpha=0.6, color=f"C{i}", label=f"{df} ({len(mine)} layers)")
    low = min(r.scalesim_cycles for r in rows)
    high = max(r.scalesim_cycles for r in rows)
    ax.plot([low, high], [low, high], color="gray", lw=1, ls="--", label="model = SCALE-Sim")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("SCALE-Sim compute cycles per layer")
    ax.set_ylabel("closed-form model cycles per layer")
    ax.set_title("TBU cost model against SCALE-Sim, every layer and dataflow")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _markdown(rows: Sequence[CalibrationRow], totals: Sequence[dict[str, Any]],
              fits: dict[str, FoldTiming], models: Sequence[str], array_rows: int,
              array_cols: int, command: str) -> str:
    errors = [abs(r.rel_error) for r in rows]
    full = sum(r.scope == "full" for r in rows)
    lines = [
        "# The TBU cost model, calibrated against SCALE-Sim",
        "",
        f"Produced by `{command}` with SCALE-Sim {scalesim_version() or '(cached results)'} on "
        f"a {array_rows} x {array_cols} array: {len(rows)} rows (layers x dataflows) of "
        f"{len(models)} models; SCALE-Sim ran {full} of them whole and the rest on fold slices "
        "(see `octopus/cost/scalesim.py`). Cycles are compute cycles with operands in SRAM.",
        "",
        f"Closed form against SCALE-Sim: median |rel. error| {statistics.median(errors):.2%}, "
        f"worst {max(errors):.2%} (targets: <= 10% and <= 25%: "
        + ("met" if statistics.median(errors) <= 0.10 and max(errors) <= 0.25 else "missed")
        + ").",
        "",
        "![model vs SCALE-Sim](errors.png)",
        "",
        "## Fit",
        "",
        "`cycles = folds x (stream + a R + b C + c) + d` per dataflow, least squares on the "
        "whole-run layers (one GEMM each):",
        "",
        "| dataflow | per-fold overhead a R + b C + c (cycles) | d | in the code |",
        "|---|---:|---:|---|",
        *[f"| {df} | {f.a * array_rows + f.b * array_cols + f.c:.3f} | {f.d:.3f} | "
          f"{FOLD_TIMING[df].a:g} R + {FOLD_TIMING[df].b:g} C {FOLD_TIMING[df].c:+g}, "
          f"{FOLD_TIMING[df].d:+g} |" for df, f in fits.items()],
        "",
        "## Per model",
        "",
        "Cycles summed over the model's layers on one array; utilization = MACs / (R x C x "
        "cycles); `best` takes the faster of os and ws per layer (the presets' dataflow); "
        "x k: the compute speed-up on a group of k arrays sharing out each layer's folds (closed "
        "form; the traffic between the arrays is not in it).",
        "",
        "| model | layers | GMAC | os util. | ws util. | is util. | best util. | "
        + " | ".join(f"x{k}" for k in GROUP_SIZES[1:]) + " |",
        "|---|---:|---:|---:|---:|---:|---:|" + "---:|" * (len(GROUP_SIZES) - 1),
        *[f"| {t['model']} | {t['layers']} | {t['macs'] / 1e9:.3g} | "
          + " | ".join(f"{t.get(f'{df}_utilization', math.nan):.1%}" for df in DATAFLOWS)
          + f" | {t['best_utilization']:.1%} | "
          + " | ".join(f"{t[f'speedup_{k}']:.2f}" for k in GROUP_SIZES[1:]) + " |"
          for t in totals],
        "",
        "Layers: `layers.csv` (`model, layer, op, m, n, k, count, dataflow, scalesim_cycles, "
        "model_cycles, rel_error, scope, utilization, dram_reads, dram_writes`; a convolution "
        "is its im2col GEMM: m = output pixels, k = kernel x input channels, n = filters; "
        "`count` repeats it: heads, depthwise channels). Per model: `models.csv`.",
        "",
    ]
    return "\n".join(lines)
