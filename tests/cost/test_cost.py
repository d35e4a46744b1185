"""octopus.cost: FLOPs and bytes of modules, roofline cycles, SRAM fitting, workflow resolution."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from octopus.arch import config_load_cycles, load_arch
from octopus.autochunk import capture, plan_graph
from octopus.autochunk.flow import GraphInfo
from octopus.cost import (
    ChunkSummary,
    ModuleCosts,
    fake_inputs,
    fit_costs,
    fit_module,
    profile_module,
    spill_traffic_bytes,
    task_block_from_module,
    tb_cycles,
)
from octopus.experiments.run import RunSpec, run_once
from octopus.workflow import load_workflow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


class Attn(nn.Module):
    """One attention layer over ``(1, S, d)``: scores ``(1, H, S, S)`` dominate the peak."""

    def __init__(self, d: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, d = x.shape
        h = self.heads
        q = self.q(x).reshape(b, s, h, d // h).transpose(1, 2)
        k = self.k(x).reshape(b, s, h, d // h).transpose(1, 2)
        v = self.v(x).reshape(b, s, h, d // h).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-1, -2)).softmax(dim=-1)
        return torch.matmul(att, v).transpose(1, 2).reshape(b, s, d)


def test_linear_flops_macs_and_bytes_match_hand_computed():
    """Linear(64 -> 32) on (8, 64): 8*64*32 MACs, twice the FLOPs, weights and I/O in bytes."""
    c = profile_module(nn.Linear(64, 32), torch.empty(8, 64, device="meta"))
    assert c.macs == 8 * 64 * 32 and c.flops == 2 * 8 * 64 * 32
    assert c.weight_bytes == (64 * 32 + 32) * 4
    assert (c.input_bytes, c.output_bytes) == (8 * 64 * 4, 8 * 32 * 4)


def test_small_conv_net_macs_match_hand_computed():
    """3x3 conv 3->8 and 1x1 conv 8->4 on 16x16: out pixels x out ch x in ch x kernel, summed."""
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 1))
    c = profile_module(net, (1, 3, 16, 16))  # a shape means a float32 tensor
    assert c.macs == 16 * 16 * 8 * 3 * 9 + 16 * 16 * 4 * 8
    assert c.output_bytes == 4 * 16 * 16 * 4


def test_activation_peak_equals_autochunk_estimate():
    """The bridge's peak is AutoChunk's estimated original peak for the same graph."""
    m, x = Attn().eval(), torch.randn(1, 256, 32)
    expected = plan_graph(capture(m, (x,)), 1.0).peak_before_bytes
    assert profile_module(m, x).activation_peak_bytes == expected


def test_task_block_from_module_carries_macs_weights_and_output():
    """The Task Block's work is the MACs, its configuration the weights, its output the bytes."""
    m = nn.Linear(16, 16)
    tb = task_block_from_module("lin", m, (4, 16))
    assert tb.kind == "ai" and tb.work.mean == 4 * 16 * 16
    assert tb.config_bytes == (16 * 16 + 16) * 4 and tb.output_bytes == 4 * 16 * 4


def test_roofline_is_setup_plus_max_of_compute_and_memory():
    """chip: 2048 MACs = 10 cycles, 640 B = 20 cycles at 32 B/cycle, setup 16 + 16 cycles."""
    chip = load_arch("chip")
    assert tb_cycles(chip, 2048, 0) == 32 + 10
    assert tb_cycles(chip, 2048, 640) == 32 + 20
    assert tb_cycles(chip, 2048, 0, slowdown=0.5) == 32 + 15


def test_peak_over_sram_is_chunked_under_autochunk_and_the_plan_fits():
    """An attention layer with a 4 MiB peak on a 2 MiB TBU is chunked, its plan fits, no spill."""
    chip = load_arch("chip")
    fit, costs = fit_module(chip, Attn().eval(), (1, 512, 32), policy="autochunk")
    assert costs.activation_peak_bytes > chip.pea.sram_bytes
    assert fit.applied == "autochunk" and fit.chunk is not None and fit.chunk.regions >= 1
    assert fit.chunk.peak_after_bytes <= chip.pea.sram_bytes and fit.spill_bytes == 0


def test_spill_policy_moves_the_overflow_of_every_node_over_the_memory_link():
    """spill: the per-node overflow traffic (at least twice the excess at the peak), timed by
    the roofline."""
    chip = load_arch("chip")
    m, x = Attn().eval(), torch.empty(1, 512, 32)
    fit, costs = fit_module(chip, m, x, policy="spill")
    traffic = spill_traffic_bytes(GraphInfo.build(capture(m, (x,))), chip.pea.sram_bytes)
    assert fit.applied == "spill" and fit.spill_bytes == traffic and fit.chunk is None
    assert traffic >= 2 * (costs.activation_peak_bytes - chip.pea.sram_bytes)
    assert fit.cycles == tb_cycles(chip, costs.macs, traffic)


def test_spill_traffic_of_a_chain_is_hand_computed():
    """Three 1 MiB tensors alive at once over a 2 MiB SRAM: the third overflows by 1 MiB."""

    class Chain(nn.Module):
        def forward(self, x):
            a = x + 1
            b = a * 2
            c = b - 3
            return a + b + c

    info = GraphInfo.build(capture(Chain(), (torch.empty(1 << 18),)))
    mib = 1 << 20
    # a, b, c live together (3 MiB): c overflows 1 MiB; a + b (4 MiB live) and the sum
    # (5 MiB) overflow by their whole 1 MiB outputs.
    assert spill_traffic_bytes(info, 2 * mib) == 2 * (mib + mib + mib)


def test_a_peak_within_sram_is_left_alone_by_every_policy():
    """Nothing to fit: every policy gives the plain roofline time."""
    chip = load_arch("chip")
    costs = ModuleCosts(macs=10**6, flops=2 * 10**6, weight_bytes=0, input_bytes=0,
                        output_bytes=0, activation_peak_bytes=chip.pea.sram_bytes)
    fits = {p: fit_costs(chip, costs, p) for p in ("spill", "autochunk", "auto")}
    assert {f.applied for f in fits.values()} == {"fits"}
    assert {f.cycles for f in fits.values()} == {tb_cycles(chip, 10**6)}


@pytest.mark.parametrize(("peak", "slowdown", "cheaper"),
                         [(10**9, 0.01, "autochunk"), (4 * 10**6, 5.0, "spill")])
def test_auto_picks_the_cheaper_policy(peak, slowdown, cheaper):
    """auto applies whichever of spill and autochunk takes fewer cycles."""
    chip = load_arch("chip")
    costs = ModuleCosts(macs=10**8, flops=2 * 10**8, weight_bytes=0, input_bytes=0,
                        output_bytes=0, activation_peak_bytes=peak)
    chunk = ChunkSummary(budget_bytes=chip.pea.sram_bytes, peak_after_bytes=10**6,
                         predicted_slowdown=slowdown, regions=1, iterations=64)
    auto = fit_costs(chip, costs, "auto", chunk)
    assert auto.applied == cheaper
    assert auto.cycles == min(auto.spill_cycles, auto.autochunk_cycles)


def test_unfit_plan_spills_only_its_remaining_traffic():
    """A plan above the SRAM spills what its summary says, with its slowdown applied."""
    chip = load_arch("chip")
    sram = chip.pea.sram_bytes
    costs = ModuleCosts(macs=10**8, flops=2 * 10**8, weight_bytes=0, input_bytes=0,
                        output_bytes=0, activation_peak_bytes=10**9)
    chunk = ChunkSummary(sram, sram + 1000, 0.25, 2, 16, spill_bytes=2000)
    fit = fit_costs(chip, costs, "autochunk", chunk)
    assert fit.spill_bytes == 2000 and fit.cycles == tb_cycles(chip, 10**8, 2000, slowdown=0.25)


def _torch_workflow(tmp_path: Path, name: str = "mlp", shape: str = "[64, 256]") -> Path:
    path = tmp_path / "wf.yaml"
    path.write_text(f"""
name: one-model
blocks:
  - {{id: net, type: task, kind: ai, torch_model: {{name: {name}, input_shape: {shape}}}}}
""")
    return path


def test_torch_model_block_gets_macs_weights_and_output_from_its_model(tmp_path):
    """A torch_model block parses into constant work = MACs, config = weights, output bytes."""
    tb = load_workflow(_torch_workflow(tmp_path)).block("net")
    from octopus.cost.registry import build_known

    costs = profile_module(*_flat(build_known("mlp", [64, 256])))
    assert tb.work.mean == costs.macs and tb.config_bytes == costs.weight_bytes
    assert tb.output_bytes == costs.output_bytes and tb.model == "mlp[64, 256]"


def _flat(pair):
    module, inputs = pair
    return (module, *inputs)


def test_unknown_torch_model_is_an_input_error_naming_the_block(tmp_path):
    """An unregistered model name fails at load with the block and the valid names."""
    from octopus.errors import InputError

    with pytest.raises(InputError, match=r"block 'net'.*choose from: gpt"):
        load_workflow(_torch_workflow(tmp_path, name="resnet999"))


def test_simulation_times_torch_blocks_by_policy_and_the_bound_agrees(tmp_path):
    """One firing: makespan = configuration load + fitted cycles; the bound is the fitted
    cycles; spill and autochunk differ as their fits do."""
    path = _torch_workflow(tmp_path, "encoder", "[1, 512]")
    wf = load_workflow(path)
    from octopus.cost import fit_workflow

    chip = load_arch("chip")
    for policy in ("spill", "autochunk"):
        fit = fit_workflow(wf, chip, policy)["net"].fit
        s = run_once(RunSpec(workflow=str(path), instances=1, scheduler="greedy",
                             sram_policy=policy))
        assert s["lower_bound_cycles"] == fit.cycles
        assert s["makespan_cycles"] == config_load_cycles(chip, wf.block("net").config_bytes) \
            + fit.cycles


def test_fits_are_cached_on_disk(tmp_path):
    """A resolved model leaves JSON files in the cache directory."""
    from octopus.cost import cache_dir, fit_workflow

    wf = load_workflow(_torch_workflow(tmp_path, "encoder", "[1, 512]"))
    fit_workflow(wf, load_arch("chip", {"pea.sram_bytes": 1 << 20}), "auto")
    files = list(cache_dir().glob("*.json"))
    assert len(files) == 3 and all(json.loads(f.read_text()) for f in files)


def test_simulate_on_plain_workflows_never_imports_torch():
    """`octopus simulate` on a workflow without torch blocks leaves torch unimported."""
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom octopus.cli.main import app\n"
            "r = CliRunner().invoke(app, ['simulate', '--workflow', 'face-recognition', "
            "'--instances', '5', '--sram-policy', 'autochunk'])\n"
            "assert r.exit_code == 0, r.output\nprint('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_unreachable_sram_takes_the_cheapest_plan_of_the_budget_ladder():
    """When no plan reaches the SRAM, plans at doubling budgets are made and the one with the
    fewest cycles is used."""
    from octopus.cost.fit import chunk_ladder, plan_chunks

    tiny = load_arch("chip", {"pea.sram_bytes": 64 * 1024})
    m = Attn().eval()
    fakes = fake_inputs(((1, 512, 32),))
    gm, macs = capture(m, fakes), profile_module(m, *fakes).macs
    rungs = chunk_ladder(tiny, gm, fakes)
    assert len(rungs) > 1 and not rungs[0].meets_budget
    assert [r.budget_bytes for r in rungs] == [64 * 1024 * 2**k for k in range(len(rungs))]
    cycles = [tb_cycles(tiny, macs, r.spill_bytes, slowdown=r.predicted_slowdown) for r in rungs]
    chosen = plan_chunks(tiny, gm, fakes, macs)
    assert chosen == rungs[cycles.index(min(cycles))]


def test_schedulers_estimate_torch_blocks_with_their_fitted_cycles(tmp_path):
    """Expected demand (static partition, Octopus quotas) takes fitted cycles over MAC cycles."""
    from octopus.sched.partition import block_demand

    wf = load_workflow(_torch_workflow(tmp_path))
    by_macs = block_demand(wf, lambda kind, work: 1)
    assert by_macs == {"net": 1.0}
    assert block_demand(wf, lambda kind, work: 1, {"net": 777}) == {"net": 777.0}


def test_tbu_speed_model_times_a_graph_by_compute_and_launches_only():
    """AutoChunk's graph time under the TBU model has no memory term (the roofline's view)."""
    from octopus.cost import tbu_cost_model

    model = tbu_cost_model(load_arch("chip"))
    info = GraphInfo.build(capture(Attn(), (torch.empty(1, 64, 32),)))
    ops = sum(1 for n in info.nodes if n.op.startswith("call"))
    expected = sum(info.flops) / model.flops_per_s + ops * model.launch_s
    assert model.graph_time_s(info) == pytest.approx(expected)


def test_half_precision_model_has_half_the_weight_and_output_bytes():
    """dtype float16 halves weights and outputs; MACs do not change."""
    from octopus.cost.registry import build_known

    full = profile_module(*_flat(build_known("mlp", [8, 32])))
    half = profile_module(*_flat(build_known("mlp", [8, 32], "float16")))
    assert half.macs == full.macs
    assert 2 * half.weight_bytes == full.weight_bytes and 2 * half.output_bytes == full.output_bytes


def test_bad_sram_policy_on_the_command_line_exits_2():
    """--sram-policy rejects an unknown policy with a one-line error naming the option."""
    from typer.testing import CliRunner

    from octopus.cli.main import app

    r = CliRunner().invoke(app, ["simulate", "--workflow", "face-recognition",
                                 "--sram-policy", "bogus", "--instances", "2"])
    assert r.exit_code == 2 and "--sram-policy" in r.output


def test_a_warm_cache_simulates_torch_workflows_without_importing_torch(tmp_path):
    """Once profiles and plans are cached, simulating a torch-defined workflow imports no torch."""
    path = _torch_workflow(tmp_path, "encoder", "[1, 512]")
    run_once(RunSpec(workflow=str(path), instances=2, sram_policy="auto"))  # fills the cache
    code = ("import sys\nfrom octopus.experiments.run import RunSpec, run_once\n"
            f"run_once(RunSpec(workflow={str(path)!r}, instances=2, sram_policy='auto'))\n"
            "print('torch' in sys.modules)")
    import os

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env=env)
    assert out.stdout.strip() == "False"


def test_policy_comparison_of_a_one_block_workflow_has_auto_at_the_cheaper(tmp_path):
    """compare_policies runs every policy; with one block, auto's makespan is the smaller."""
    from octopus.cost.compare import compare_policies, report_markdown

    path = str(_torch_workflow(tmp_path, "encoder", "[1, 512]"))
    rows = compare_policies(path, archs=("chip",), instances=2, scheduler="greedy")
    span = {r.policy: r.makespan_cycles for r in rows}
    assert set(span) == {"spill", "autochunk", "auto"}
    assert span["auto"] == min(span["spill"], span["autochunk"])
    assert "| chip | auto |" in report_markdown(path, rows, 2, "greedy")
