"""A run times each block as the machine would: a block whose model has a shipped layer table
at the efficiency its layers get on the array, a torch-defined block at its fit, others at the
preset's efficiency."""

from __future__ import annotations

import math

from octopus.arch import config_load_cycles
from octopus.cost.tables import table_efficiency, table_layers
from octopus.run import RunSpec, execute, resolve
from octopus.sim.capacity import AtEfficiency
from octopus.sim.parallel import ROUNDING_MARGIN
from octopus.workflow import WorkflowBuilder

MODEL = "DLRM-MLP-top50"


def _workflow(model: str):
    macs = sum(layer.macs for layer in table_layers(MODEL))
    return (WorkflowBuilder("one").task("rank", "ai", macs, config_bytes=4096, model=model)
            .build()), macs


def test_a_block_with_a_layer_table_computes_at_its_layers_efficiency():
    """One firing: makespan = configuration load + ceil(MACs / (256 x efficiency)), and the
    efficiency is the table's on the preset's 16 x 16 array ('best' dataflow)."""
    wf, macs = _workflow(MODEL)
    scenario = resolve(RunSpec(workflow=wf, arch="chip", scheduler="greedy", instances=1))
    timing = scenario.block_timing["rank"]
    efficiency = table_efficiency(MODEL, 16, 16, "best")
    assert isinstance(timing, AtEfficiency) and timing.efficiency == efficiency
    assert 0.5 < efficiency < 0.8  # the top MLP on 50 candidates: tiles of 16 rows, 50 = 3 + 2/16
    cycles = math.ceil(macs / (256 * efficiency))
    result = execute(scenario)
    assert result.makespan_cycles == config_load_cycles(scenario.arch, 4096) + cycles
    # the bound lets the firing spread over a group of the 16 TBUs at its layers' efficiency
    fastest = min(math.ceil(macs / k / (256 * min(1, table_efficiency(MODEL, 16, 16, "best", k)
                                                   * ROUNDING_MARGIN)))
                  for k in (1, 2, 4, 8, 16))
    assert result.lower_bound_cycles == fastest < cycles


def test_the_array_shape_changes_a_tabled_blocks_efficiency():
    """A 64 x 64 array wastes more of its rows on 50 candidates than a 16 x 16 one."""
    wf, _ = _workflow(MODEL)
    small = resolve(RunSpec(workflow=wf, arch="chip"))
    large = resolve(RunSpec(workflow=wf, arch="chip", arch_overrides={"pea.rows": 64,
                                                                      "pea.cols": 64}))
    assert large.block_timing["rank"].efficiency < small.block_timing["rank"].efficiency


def test_a_block_without_a_table_keeps_the_presets_efficiency():
    """An unknown model note (or none) leaves the block at pea.ai_efficiency."""
    wf, _ = _workflow("MyOwnNet")
    assert resolve(RunSpec(workflow=wf, arch="chip")).block_timing == {}
