"""torch_model blocks in workflows: resolved by a run (octopus.cost.resolve through
octopus.run), cached on disk, simulated; the SRAM study on them."""

import json
import os
import subprocess
import sys

import pytest
from costkit import ROOT, flat, torch_workflow

from octopus.arch import config_load_cycles, load_arch, offchip_read_cycles
from octopus.cost import (
    profile_module,
)
from octopus.run import RunSpec, execute, resolve_workflow
from octopus.workflow import load_workflow


def test_torch_model_block_gets_macs_weights_and_output_from_its_model(tmp_path):
    """A torch_model block resolves into constant work = MACs, config = weights, output bytes;
    loading the file alone leaves it unresolved (the workflow package never imports cost)."""
    assert load_workflow(torch_workflow(tmp_path)).block("net").work is None
    tb = resolve_workflow(torch_workflow(tmp_path)).block("net")
    from octopus.models import build_known

    costs = profile_module(*flat(build_known("mlp", [64, 256])))
    assert tb.work.mean == costs.macs and tb.config_bytes == costs.weight_bytes
    assert tb.output_bytes == costs.output_bytes and tb.model == "mlp[64, 256]"


def test_unknown_torch_model_is_an_input_error_naming_the_block(tmp_path):
    """An unregistered model name fails at resolution with the block and the valid names."""
    from octopus.errors import InputError

    with pytest.raises(InputError, match=r"block 'net'.*choose from: gpt"):
        resolve_workflow(torch_workflow(tmp_path, name="resnet999"))


def test_simulation_times_torch_blocks_by_policy_and_the_bound_agrees(tmp_path):
    """One firing: the bound is the fitted cycles; the makespan adds the configuration: loaded
    first where it fits a TBU (a small MLP in float16), streamed while computing where it does
    not (the encoder's 6.6 MB of weights on 2 MiB of SRAM); spill and autochunk differ as their
    fits do."""
    from octopus.cost import fit_workflow

    chip = load_arch("chip")
    setup, port = chip.tbu.config_setup_cycles, chip.tbu.config_load_bytes_per_cycle
    for model, shape, dtype in (("encoder", "[1, 512]", "float32"), ("mlp", "[1, 64]", "float16")):
        path = torch_workflow(tmp_path, model, shape, dtype)
        config = resolve_workflow(path).block("net").config_bytes
        streams = config > chip.config_capacity_bytes
        assert streams == (model == "encoder")
        stream = offchip_read_cycles(chip, config, port)
        for policy in ("spill", "autochunk"):
            fit = fit_workflow(resolve_workflow(path), chip, policy)["net"].fit
            r = execute(RunSpec(workflow=str(path), instances=1, scheduler="greedy",
                                sram_policy=policy))
            assert r.lower_bound_cycles == fit.cycles
            expected = (setup + max(fit.cycles, stream) if streams
                        else config_load_cycles(chip, config) + fit.cycles)
            assert r.makespan_cycles == expected


def test_fits_are_cached_on_disk(tmp_path):
    """A resolved model leaves JSON files in the cache directory."""
    from octopus.cost import cache_dir, fit_workflow

    wf = resolve_workflow(torch_workflow(tmp_path, "encoder", "[1, 512]"))
    fit_workflow(wf, load_arch("chip", {"pea.sram_bytes": 1 << 20}), "auto")
    files = list(cache_dir().glob("*.json"))
    assert len(files) == 3 and all(json.loads(f.read_text()) for f in files)


def test_a_warm_cache_simulates_torch_workflows_without_importing_torch(tmp_path):
    """Once profiles and plans are cached, simulating a torch-defined workflow imports no torch."""
    path = torch_workflow(tmp_path, "encoder", "[1, 512]")
    execute(RunSpec(workflow=str(path), instances=2, sram_policy="auto"))  # fills the cache
    code = ("import sys\nfrom octopus.run import RunSpec, execute\n"
            f"execute(RunSpec(workflow={str(path)!r}, instances=2, sram_policy='auto'))\n"
            "print('torch' in sys.modules)")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env=env)
    assert out.stdout.strip() == "False"


def test_schedulers_estimate_torch_blocks_with_their_fitted_cycles(tmp_path):
    """Expected demand (static partition, Octopus quotas) takes a block's own timing over the
    MAC cycles."""
    from octopus.sched.partition import block_demand
    from octopus.sim.capacity import FixedCycles
    from octopus.workflow import Capacity

    wf = resolve_workflow(torch_workflow(tmp_path))
    assert block_demand(wf, Capacity(1, lambda kind, work: 1)) == {"net": 1.0}
    timed = Capacity(1, lambda kind, work: 1, block_timing={"net": FixedCycles(777)})
    assert block_demand(wf, timed) == {"net": 777.0}


def test_policy_comparison_of_a_one_block_workflow_has_auto_at_the_cheaper(tmp_path):
    """compare_policies runs every policy; with one block, auto's makespan is the smaller."""
    from octopus.experiments.sram_study import compare_policies, report_markdown

    path = str(torch_workflow(tmp_path, "encoder", "[1, 512]"))
    rows = compare_policies(path, archs=("chip",), instances=2, scheduler="greedy")
    span = {r.policy: r.makespan_cycles for r in rows}
    assert set(span) == {"spill", "autochunk", "auto"}
    assert span["auto"] == min(span["spill"], span["autochunk"])
    assert "| chip | auto |" in report_markdown(path, rows, 2, "greedy")

