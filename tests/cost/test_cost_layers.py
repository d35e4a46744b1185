"""Layers recorded from torch modules: every GEMM-like op with its shape, MACs as PyTorch's
FLOP counter counts them; the shipped tables of the public DNNs against published figures."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from octopus.cost.layers import Layer, extract_layers, read_layers, write_layers
from octopus.models.tables import table_names, table_path


def _flop_macs(module, *args) -> int:
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        module(*args)
    return counter.get_total_flops() // 2


def test_convolutions_become_im2col_gemms_named_by_module():
    """A strided conv, a depthwise conv (a GEMM per channel) and a transposed conv."""
    net = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1),
                        nn.Conv2d(16, 16, 3, padding=1, groups=16),
                        nn.ConvTranspose2d(16, 8, 2, stride=2))
    x = torch.zeros(1, 3, 32, 32)
    layers = extract_layers(net, x)
    assert [(layer.op, layer.m, layer.n, layer.k, layer.count) for layer in layers] == [
        ("conv", 16 * 16, 16, 27, 1), ("dwconv", 16 * 16, 1, 9, 16), ("conv", 256, 32, 16, 1)]
    assert [layer.name.split("#")[0] for layer in layers] == ["0", "1", "2"]
    assert sum(layer.macs for layer in layers) == _flop_macs(net, x)


def test_attention_gives_its_batched_gemms_on_meta_tensors():
    """Linear projections and the two batched matmuls of attention (heads as count), from a
    module built on the meta device (nothing allocated)."""
    with torch.device("meta"):
        attn = nn.MultiheadAttention(64, 4, batch_first=True)
    x = torch.empty(2, 10, 64, device="meta")
    layers = extract_layers(attn, x, x, x, need_weights=False)
    assert {(layer.m, layer.n, layer.k, layer.count) for layer in layers
            if layer.op == "matmul" and layer.count > 1} == {(10, 10, 16, 8), (10, 16, 10, 8)}
    assert sum(layer.macs for layer in layers) == 2 * 10 * 64 * 64 * 4 + 2 * (2 * 4 * 10 * 10 * 16)


def test_tables_round_trip_and_reject_bad_rows(tmp_path):
    """write_layers -> read_layers is the identity; a non-positive size names the row."""
    layers = [Layer("a", "linear", 3, 4, 5), Layer("b", "dwconv", 9, 1, 9, 32)]
    path = tmp_path / "t.csv"
    path.write_text(write_layers(layers))
    assert read_layers(path) == tuple(layers)
    path.write_text("name,op,m,n,k,count\nx,linear,0,1,1,1\n")
    with pytest.raises(ValueError, match="row 2"):
        read_layers(path)


# Published multiply-accumulates per inference (GFLOPs / 2 where a paper counts FLOPs).
PUBLISHED_GMAC = {
    "YOLOv5s-640": 8.25,          # Ultralytics YOLOv5 v6.0 README: 16.5 GFLOPs at 640
    "YOLOv5m-640": 24.5,          # 49.0 GFLOPs
    "MobileFaceNet-112": 0.221,   # Chen et al. 2018: 221 M MAdds
    "MobileNetV2-224": 0.300,     # Sandler et al. 2018: 300 M multiply-adds
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_GMAC))
def test_shipped_tables_match_published_figures(name):
    """The shipped layer table of a public DNN has its published MACs within 2%."""
    macs = sum(layer.macs for layer in read_layers(table_path(name)))
    assert macs / 1e9 == pytest.approx(PUBLISHED_GMAC[name], rel=0.02)


def test_every_model_a_builtin_names_has_a_table_or_is_documented_as_fallback():
    """Every AI block of the built-ins with a model: note has a shipped table, except the
    BEV policy MLP (no published architecture: it keeps the preset's efficiency)."""
    from octopus.workflow import builtin_names, load_builtin

    named = {b.model for w in builtin_names() for b in load_builtin(w).blocks
             if b.type == "task" and b.kind == "ai" and b.model}
    assert named - set(table_names()) == {"BEV-MLP-policy"}
