"""SCALE-Sim v3 as the reference for a layer's cycles on one array, cached on disk.

SCALE-Sim (``pip install 'octopus[calibrate]'``; https://github.com/scalesim-project/scale-sim-v3)
simulates a GEMM on an R x C systolic array cycle by cycle, with double-buffered SRAMs in front of
the array. :func:`simulate_layer` runs one :class:`~octopus.cost.layers.Layer` and returns its
compute cycles (SCALE-Sim's "Total Cycles" in its stall-free ``CALC`` bandwidth mode, i.e.
operands staged in SRAM), utilization, and SRAM and DRAM accesses in words.

Cost and scope. SCALE-Sim walks every cycle (about 10^4 cycles per second here), so a layer of
millions of cycles would take hours. A layer above ``full_limit_cycles`` (estimated) is run on
small slices that keep its partial tiles, one fold and two folds (and, when it streams more
than 512 elements through each fold, one fold at two streamed lengths, 256 and 512), and
extrapolated linearly: a fold is one pass of the streamed dimension, so a layer's cycles are
``folds * (a * stream + b) + c``. ``scope`` says ``"full"`` or ``"folds"``, and the tests check
the extrapolation against full runs.
``count`` repeated GEMMs (heads, depthwise channels) are one run times ``count``.

Results are cached as JSON under ``$XDG_CACHE_HOME/octopus/scalesim`` keyed by the layer's shape,
the array, the dataflow, the SRAM sizes and the SCALE-Sim version, so a cache hit needs no
SCALE-Sim. SCALE-Sim 3.0.0 converts one-element arrays with ``int()``, which NumPy 2.4 made an
error: the extra pins ``numpy<2.4``.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import tempfile
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from octopus.cost.layers import Layer
from octopus.cost.systolic import Dataflow, fold_shape, layer_cycles

__all__ = ["FULL_LIMIT_CYCLES", "ScaleSimResult", "cache_folder", "scalesim_version",
           "simulate_layer"]

FULL_LIMIT_CYCLES = 20_000
"""Layers estimated above this many cycles are extrapolated from fold slices (module doc)."""


@dataclass(frozen=True)
class ScaleSimResult:
    """SCALE-Sim's account of one layer (all ``count`` GEMMs); accesses in words."""

    compute_cycles: int
    utilization: float  # SCALE-Sim's compute utilization, 0..1
    sram_reads: int
    sram_writes: int
    dram_reads: int
    dram_writes: int
    scope: str  # "full" or "folds" (extrapolated from fold slices)
    version: str


def scalesim_version() -> str | None:
    """The installed SCALE-Sim version, or ``None`` when it is not installed."""
    try:
        return metadata.version("scalesim")
    except metadata.PackageNotFoundError:
        return None


def cache_folder() -> Path:
    """Where SCALE-Sim results are cached (created on first write)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "octopus" / "scalesim"


def simulate_layer(layer: Layer, rows: int, cols: int, dataflow: Dataflow,
                   sram_kib: tuple[int, int, int] = (768, 768, 512),
                   full_limit_cycles: int = FULL_LIMIT_CYCLES) -> ScaleSimResult:
    """SCALE-Sim's cycles and accesses of ``layer`` on a ``rows x cols`` array (module doc).

    ``sram_kib`` are the input, weight and output SRAM sizes in KiB. A cached result is
    returned without running (or importing) SCALE-Sim.

    Raises:
        RuntimeError: not cached and SCALE-Sim is not installed (``pip install
            'octopus[calibrate]'``).
    """
    version = scalesim_version()
    key = _key(layer, rows, cols, dataflow, sram_kib, full_limit_cycles)
    cached = _read(key, version)
    if cached is not None:
        return cached
    if version is None:
        raise RuntimeError("SCALE-Sim is not installed and this layer is not cached: pip "
                           "install 'octopus[calibrate]'")
    one = Layer(layer.name, layer.op, layer.m, layer.n, layer.k)
    folds, _ = fold_shape(one, rows, cols, dataflow)
    if layer_cycles(one, rows, cols, dataflow) <= full_limit_cycles or folds <= 1:
        raw, scope = _run(one, rows, cols, dataflow, sram_kib), "full"
    else:
        raw, scope = _extrapolated(one, rows, cols, dataflow, sram_kib), "folds"
    result = ScaleSimResult(raw["cycles"] * layer.count, raw["util"],
                            *(int(raw[k]) * layer.count
                              for k in ("sram_reads", "sram_writes", "dram_reads", "dram_writes")),
                            scope, version or "")
    _write(key, result)
    return result


# --- running SCALE-Sim --------------------------------------------------------------------------
def _slice(layer: Layer, rows: int, cols: int, dataflow: Dataflow, first: int, second: int,
           stream: int | None = None) -> Layer:
    """``layer`` cut to at most ``first`` tiles in its first spatial dimension and ``second`` in
    the other (each keeping its partial tile), and its streamed dimension to ``stream``."""
    def cut(size: int, tile: int, keep: int) -> int:
        if size <= tile * keep:
            return size
        return tile * (keep - 1) + (size % tile or tile)

    m, n, k = layer.m, layer.n, layer.k
    if dataflow == "os":
        m, n, k = cut(m, rows, first), cut(n, cols, second), min(k, stream or k)
    elif dataflow == "ws":
        k, n, m = cut(k, rows, first), cut(n, cols, second), min(m, stream or m)
    else:
        k, m, n = cut(k, rows, first), cut(m, cols, second), min(n, stream or n)
    return Layer(layer.name, layer.op, m, n, k)


STREAM_SLICES = (256, 512)
"""Streamed lengths run when a layer streams more than the larger (module doc)."""


def _extrapolated(layer: Layer, rows: int, cols: int, dataflow: Dataflow,
                  sram_kib: tuple[int, int, int]) -> dict[str, float]:
    """SCALE-Sim on small slices, extrapolated linearly (module doc): cycles (and accesses)
    ``= folds * (a * stream + b) + c``, with ``a``, ``b``, ``c`` from a one-fold slice at two
    streamed lengths and a two-fold slice (one length when the stream is short)."""
    folds, stream = fold_shape(layer, rows, cols, dataflow)
    second = 1 if fold_shape(_slice(layer, rows, cols, dataflow, 2, 1), rows, cols,
                             dataflow)[0] > 1 else 2
    first = 3 - second
    s1, s2 = (min(stream, cut) for cut in STREAM_SLICES) if stream > STREAM_SLICES[1] \
        else (stream, stream)
    one = _run(_slice(layer, rows, cols, dataflow, 1, 1, s1), rows, cols, dataflow, sram_kib)
    two = _run(_slice(layer, rows, cols, dataflow, first, second, s1), rows, cols, dataflow,
               sram_kib)
    longer = (_run(_slice(layer, rows, cols, dataflow, 1, 1, s2), rows, cols, dataflow, sram_kib)
              if s2 != s1 else one)
    out = {}
    for key in one:
        if key == "util":
            continue
        slope = (longer[key] - one[key]) / (s2 - s1) if s2 != s1 else 0.0
        per_fold = two[key] - one[key]  # a * s1 + b
        offset = one[key] - per_fold  # c
        out[key] = folds * (per_fold + slope * (stream - s1)) + offset
    out["cycles"] = round(out["cycles"])
    out["util"] = layer.macs / (rows * cols * out["cycles"])
    return out


def _run(layer: Layer, rows: int, cols: int, dataflow: Dataflow,
         sram_kib: tuple[int, int, int]) -> dict[str, float]:
    """One SCALE-Sim run of one GEMM, in a temporary folder."""
    from scalesim.scale_sim import scalesim

    with tempfile.TemporaryDirectory(prefix="octopus-scalesim-") as tmp:
        folder = Path(tmp)
        (folder / "arch.cfg").write_text(_CONFIG.format(rows=rows, cols=cols, df=dataflow,
                                                        ifmap=sram_kib[0], filt=sram_kib[1],
                                                        ofmap=sram_kib[2]))
        (folder / "gemm.csv").write_text(f"Layer, M, N, K,\nl0, {layer.m}, {layer.n}, "
                                         f"{layer.k},\n")
        (folder / "layout.csv").write_text("Layer name,\n")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NumPy deprecation noise from SCALE-Sim
            sim = scalesim(save_disk_space=True, verbose=False, config=str(folder / "arch.cfg"),
                           topology=str(folder / "gemm.csv"), layout=str(folder / "layout.csv"),
                           input_type_gemm=True)
            sim.run_scale(top_path=str(folder))
        report = next(p for p in folder.iterdir() if p.is_dir())
        compute = _row(report / "COMPUTE_REPORT.csv")
        access = _row(report / "DETAILED_ACCESS_REPORT.csv")
    return {"cycles": int(float(compute[2])), "util": float(compute[6]) / 100,
            "sram_reads": float(access[3]) + float(access[6]), "sram_writes": float(access[9]),
            "dram_reads": float(access[12]) + float(access[15]),
            "dram_writes": float(access[18])}


def _row(path: Path) -> list[str]:
    with path.open(newline="") as fh:
        return [cell.strip() for cell in list(csv.reader(fh))[1]]


_CONFIG = """[general]
run_name = octopus

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: {ifmap}
FilterSramSzkB: {filt}
OfmapSramSzkB: {ofmap}
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth: 10
Dataflow: {df}
MemoryBanks: 1
ReadRequestBuffer: 512
WriteRequestBuffer: 512

[layout]
IfmapCustomLayout: False
FilterCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""


# --- the cache ----------------------------------------------------------------------------------
def _key(layer: Layer, rows: int, cols: int, dataflow: str, sram_kib: tuple[int, int, int],
         full_limit_cycles: int) -> str:
    parts = {"m": layer.m, "n": layer.n, "k": layer.k, "count": layer.count, "rows": rows,
             "cols": cols, "dataflow": dataflow, "sram_kib": list(sram_kib),
             "full_limit": full_limit_cycles}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def _read(key: str, version: str | None) -> ScaleSimResult | None:
    """The result cached under ``key`` by SCALE-Sim ``version``; by any version when SCALE-Sim
    is not installed (a cache hit needs no SCALE-Sim)."""
    folder = cache_folder()
    paths = ([folder / f"{key}.{version}.json"] if version is not None
             else sorted(folder.glob(f"{key}.*.json")))
    for path in paths:
        try:
            return ScaleSimResult(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            continue
    return None


def _write(key: str, result: ScaleSimResult) -> None:
    folder = cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{key}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(dataclasses.asdict(result)))
    tmp.replace(folder / f"{key}.{result.version}.json")
