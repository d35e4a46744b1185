"""Turn ``torch_model`` Task Blocks into numbers, with a disk cache.

- :func:`resolve_torch_blocks` fills a workflow's torch-defined blocks from their model's costs:
  ``work`` = constant MACs, ``config_bytes`` = weight bytes, ``output_bytes`` = output bytes and
  ``model`` = ``name[shape]``, each only where the author left it unset.
- :func:`fit_workflow` gives each torch-defined block its firing cycles on an architecture under
  an SRAM policy (:mod:`octopus.cost.fit`); the simulator times those blocks with them.

Profiles and AutoChunk plans are cached as JSON under ``$XDG_CACHE_HOME/octopus/cost`` (default
``~/.cache/octopus/cost``), keyed by model, shape, dtype, the torch version and a hash of the
source of ``octopus.cost`` and ``octopus.autochunk``; a cache hit imports no torch. Writes are
atomic (a temporary file renamed), so parallel processes may share the cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from octopus.arch import ArchConfig
from octopus.cost.fit import (
    ChunkSummary,
    Fit,
    SramPolicy,
    fit_costs,
    plan_chunks,
    spill_traffic_bytes,
    tbu_cost_params,
)
from octopus.cost.profile import ModuleCosts, fake_inputs, profile_with_graph
from octopus.errors import InputError, raise_all
from octopus.workflow.distributions import Constant
from octopus.workflow.model import Workflow

__all__ = ["BlockFit", "cache_dir", "fit_known", "fit_workflow", "has_torch_blocks", "known_costs",
           "resolve_torch_blocks"]

log = logging.getLogger(__name__)


def has_torch_blocks(wf: Workflow) -> bool:
    """True when some Task Block of ``wf`` is defined by a ``torch_model``."""
    return any(getattr(b, "torch_model", None) is not None for b in wf.blocks)


def cache_dir() -> Path:
    """Where profiles and plans are cached (created on first write)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "octopus" / "cost"


@cache
def _code_version() -> str:
    """A hash of the sources whose change may change a profile or a plan."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent  # by path: importing autochunk imports torch
    for folder in ("cost", "autochunk", "models"):
        for f in sorted((root / folder).glob("*.py")):
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _key(kind: str, ref: Any, **extra: Any) -> str:
    parts = {"kind": kind, "name": ref.name, "input_shape": list(ref.input_shape),
             "dtype": ref.dtype, "torch": metadata.version("torch"), "code": _code_version(),
             **extra}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def _read(key: str) -> dict[str, Any] | None:
    try:
        return json.loads((cache_dir() / f"{key}.json").read_text())
    except (OSError, ValueError):
        return None


def _write(key: str, data: dict[str, Any]) -> None:
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{key}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data))
    tmp.replace(folder / f"{key}.json")


_graphs: dict[str, tuple[Any, tuple[Any, ...]]] = {}  # profile key -> (graph, fakes), this process


def _build(ref: Any) -> tuple[ModuleCosts, Any, tuple[Any, ...]]:
    from octopus.models import build_known

    module, inputs = build_known(ref.name, ref.input_shape, ref.dtype)
    log.info("profiling torch model %s %s (%s) on fake tensors (cached afterwards)", ref.name,
             list(ref.input_shape), ref.dtype)
    fakes = fake_inputs(inputs)
    costs, graph = profile_with_graph(module, fakes)
    return costs, graph, fakes


def known_costs(ref: Any) -> ModuleCosts:
    """Costs of a registered model reference (``name``, ``input_shape``, ``dtype``), cached.

    Raises:
        ValueError: unknown model, dtype or badly formed shape (from the registry).
    """
    key = _key("profile", ref)
    data = _read(key)
    if data is not None:
        return ModuleCosts.from_dict(data)
    costs, graph, fakes = _build(ref)
    _graphs[key] = (graph, fakes)
    _write(key, costs.to_dict())
    return costs


def _graph(ref: Any) -> tuple[Any, tuple[Any, ...], ModuleCosts]:
    """The annotated graph, fake inputs and costs of a reference (built once per process)."""
    pkey = _key("profile", ref)
    if pkey not in _graphs:
        costs, graph, fakes = _build(ref)
        _graphs[pkey] = (graph, fakes)
        _write(pkey, costs.to_dict())
    graph, fakes = _graphs[pkey]
    return graph, fakes, known_costs(ref)


def _known_spill(ref: Any, arch: ArchConfig) -> int | None:
    """Spill traffic of the unchunked model on ``arch``'s SRAM, cached (``None``: untraceable,
    the caller uses the lower bound)."""
    key = _key("spill", ref, sram=arch.pea.sram_bytes)
    data = _read(key)
    if data is None:
        graph, _, _ = _graph(ref)
        spill = None
        if graph is not None:
            from octopus.autochunk.flow import GraphInfo

            spill = spill_traffic_bytes(GraphInfo.build(graph), arch.pea.sram_bytes)
        data = {"spill_bytes": spill}
        _write(key, data)
    return data["spill_bytes"]


def _known_chunk(ref: Any, arch: ArchConfig) -> ChunkSummary | None:
    """The AutoChunk plan fitting ``arch``'s SRAM for a registered model, cached (``None``: the
    model is untraceable)."""
    key = _key("chunk", ref, sram=arch.pea.sram_bytes, **tbu_cost_params(arch))
    data = _read(key)
    if data is None:
        graph, fakes, costs = _graph(ref)
        log.info("planning AutoChunk for %s %s to fit %g MiB of SRAM (cached afterwards)",
                 ref.name, list(ref.input_shape), arch.pea.sram_bytes / 2**20)
        chunk = plan_chunks(arch, graph, fakes, costs.macs) if graph is not None else None
        data = {"chunk": chunk.to_dict() if chunk else None}
        _write(key, data)
    return ChunkSummary.from_dict(data["chunk"]) if data["chunk"] else None


def resolve_torch_blocks(wf: Workflow, source: str | Path | None = None) -> Workflow:
    """``wf`` with every ``torch_model`` block's unset fields filled from its costs (module doc).

    Raises:
        InputError: a block names an unknown model, dtype or a malformed shape (every such
            block, one line each).
    """
    blocks, problems = [], []
    for b in wf.blocks:
        ref = getattr(b, "torch_model", None)
        if ref is None:
            blocks.append(b)
            continue
        try:
            costs = known_costs(ref)
        except ValueError as exc:
            problems.append(InputError(source, f"block '{b.id}': torch_model", str(exc)))
            continue
        update: dict[str, Any] = {}
        if b.work is None:
            update["work"] = Constant(value=float(costs.macs))
        if "config_bytes" not in b.model_fields_set:
            update["config_bytes"] = costs.weight_bytes
        if "output_bytes" not in b.model_fields_set:
            update["output_bytes"] = costs.output_bytes
        if b.model is None:
            update["model"] = f"{ref.name}{list(ref.input_shape)}"
        blocks.append(b.model_copy(update=update))
    raise_all(problems)
    return wf.model_copy(update={"blocks": blocks})


@dataclass(frozen=True)
class BlockFit:
    """One torch-defined block on one architecture: its costs and how it fits the SRAM."""

    block_id: str
    costs: ModuleCosts
    fit: Fit


def fit_workflow(wf: Workflow, arch: ArchConfig, policy: SramPolicy = "auto"
                 ) -> dict[str, BlockFit]:
    """Fit every ``torch_model`` block of ``wf`` into ``arch``'s SRAM under ``policy``.

    Returns ``{block id: BlockFit}``; ``{k: v.fit.cycles}`` is what the simulator takes as its
    per-block cycles. AutoChunk plans only for blocks whose peak exceeds the SRAM and only when
    the policy may use them.

    Raises:
        InputError: an unknown model (see :func:`resolve_torch_blocks`).
        ValueError: unknown policy.
    """
    out: dict[str, BlockFit] = {}
    for b in wf.blocks:
        ref = getattr(b, "torch_model", None)
        if ref is None:
            continue
        try:
            out[b.id] = fit_known(ref, arch, policy, b.id)
        except ValueError as exc:
            raise InputError(None, f"block '{b.id}': torch_model", str(exc)) from None
    return out


def fit_known(ref: Any, arch: ArchConfig, policy: SramPolicy = "auto", block_id: str = ""
              ) -> BlockFit:
    """Fit one registered model reference (``name``, ``input_shape``, ``dtype``; e.g. a
    :class:`~octopus.workflow.model.TorchModel`) into ``arch``'s SRAM under ``policy``, cached.

    Raises:
        ValueError: unknown model, dtype, malformed shape, or unknown policy.
    """
    costs = known_costs(ref)
    chunk, spill, applied = None, None, policy
    if costs.activation_peak_bytes > arch.pea.sram_bytes:
        spill = _known_spill(ref, arch)
        if policy != "spill":
            chunk = _known_chunk(ref, arch)
        if chunk is None and policy == "autochunk":
            applied = "spill"  # untraceable: spilling is the only way left
    return BlockFit(block_id, costs, fit_costs(arch, costs, applied, chunk, spill))
