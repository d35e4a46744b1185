"""octopus.cost.profile: FLOPs, MACs, bytes and the activation peak of modules."""


import torch
from costkit import Attn, flat
from torch import nn

from octopus.autochunk import capture, plan_graph
from octopus.cost import (
    profile_module,
    task_block_from_module,
)


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


def test_half_precision_model_has_half_the_weight_and_output_bytes():
    """dtype float16 halves weights and outputs; MACs do not change."""
    from octopus.models import build_known

    full = profile_module(*flat(build_known("mlp", [8, 32])))
    half = profile_module(*flat(build_known("mlp", [8, 32], "float16")))
    assert half.macs == full.macs
    assert 2 * half.weight_bytes == full.weight_bytes and 2 * half.output_bytes == full.output_bytes

