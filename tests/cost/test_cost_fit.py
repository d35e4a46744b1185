"""octopus.cost.roofline and octopus.cost.fit: cycles of a firing, spill, AutoChunk, auto."""


import pytest
import torch
from costkit import Attn
from torch import nn

from octopus.arch import load_arch
from octopus.autochunk import capture
from octopus.autochunk.flow import GraphInfo
from octopus.cost import (
    ChunkSummary,
    ModuleCosts,
    fake_inputs,
    fit_costs,
    fit_module,
    profile_module,
    spill_traffic_bytes,
    tb_cycles,
)


def test_roofline_is_setup_plus_max_of_compute_and_memory():
    """chip: 2048 MACs = 10 cycles, 640 B = 200 latency + 20 cycles at 32 B/cycle, setup
    16 + 16 cycles."""
    chip = load_arch("chip")
    assert tb_cycles(chip, 2048, 0) == 32 + 10
    assert tb_cycles(chip, 2048, 640) == 32 + 220
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
    the roofline with the array's efficiency on the module's own layers (no setup: the layer
    model counts every layer's fill and drain)."""
    from octopus.cost.systolic import model_efficiency

    chip = load_arch("chip")
    m, x = Attn().eval(), torch.empty(1, 512, 32)
    fit, costs = fit_module(chip, m, x, policy="spill")
    traffic = spill_traffic_bytes(GraphInfo.build(capture(m, (x,))), chip.pea.sram_bytes)
    assert fit.applied == "spill" and fit.spill_bytes == traffic and fit.chunk is None
    assert traffic >= 2 * (costs.activation_peak_bytes - chip.pea.sram_bytes)
    assert [layer.op for layer in costs.layers] == ["linear"] * 3 + ["matmul"] * 2
    efficiency = model_efficiency(costs.layers, 16, 16, chip.pea.dataflow)
    assert fit.cycles == tb_cycles(chip, costs.macs, traffic, efficiency=efficiency,
                                   setup_cycles=0)


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


def test_tbu_speed_model_times_a_graph_by_compute_and_launches_only():
    """AutoChunk's graph time under the TBU model has no memory term (the roofline's view)."""
    from octopus.cost import tbu_cost_model

    model = tbu_cost_model(load_arch("chip"))
    info = GraphInfo.build(capture(Attn(), (torch.empty(1, 64, 32),)))
    ops = sum(1 for n in info.nodes if n.op.startswith("call"))
    expected = sum(info.flops) / model.flops_per_s + ops * model.launch_s
    assert model.graph_time_s(info) == pytest.approx(expected)

