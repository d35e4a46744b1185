"""Real models as Task Blocks: torch cost model, roofline cycles and SRAM fitting.

- :func:`profile_module` (``module, *example_inputs``) -> :class:`ModuleCosts` (MACs, weight,
  input, output bytes, activation peak), measured on fake tensors;
- :func:`task_block_from_module` builds the AI Task Block;
- :func:`tb_cycles`: roofline cycles of a firing on a TBU (``setup + max(compute, memory)``);
- :func:`fit_module` / :func:`fit_workflow`: fit the activation peak into the TBU's SRAM by the
  ``spill``, ``autochunk`` or ``auto`` policy;
- :func:`resolve_torch_blocks`: fill ``torch_model`` blocks of a workflow (cached on disk).

Importing this package does not import torch; see ``docs/cost-model.md``.
"""

from octopus.cost.fit import (
    SRAM_POLICIES,
    ChunkSummary,
    Fit,
    SramPolicy,
    fit_costs,
    fit_module,
    plan_chunks,
    spill_traffic_bytes,
    tbu_cost_model,
    tbu_cost_params,
)
from octopus.cost.profile import ModuleCosts, fake_inputs, profile_module, task_block_from_module
from octopus.cost.resolve import (
    BlockFit,
    cache_dir,
    fit_known,
    fit_workflow,
    has_torch_blocks,
    known_costs,
    resolve_torch_blocks,
)
from octopus.cost.roofline import firing_setup_cycles, tb_cycles

__all__ = [
    "SRAM_POLICIES",
    "BlockFit",
    "ChunkSummary",
    "Fit",
    "ModuleCosts",
    "SramPolicy",
    "cache_dir",
    "fake_inputs",
    "firing_setup_cycles",
    "fit_costs",
    "fit_known",
    "fit_module",
    "fit_workflow",
    "has_torch_blocks",
    "known_costs",
    "plan_chunks",
    "profile_module",
    "resolve_torch_blocks",
    "spill_traffic_bytes",
    "task_block_from_module",
    "tb_cycles",
    "tbu_cost_model",
    "tbu_cost_params",
]
