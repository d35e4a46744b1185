"""A layer table's efficiency on a group of arrays and for a batch (octopus.cost.tables)."""

from octopus.cost.layers import Layer
from octopus.cost.systolic import model_efficiency
from octopus.cost.tables import TableScaling, table_layers


def test_a_batch_stacks_rows_of_a_layer_and_repeats_a_batched_matmul():
    linear, scores = Layer("fc", "linear", 1, 64, 32), Layer("qk", "matmul", 1, 9, 64, 16)
    assert linear.batched(8) == Layer("fc", "linear", 8, 64, 32)
    assert scores.batched(8) == Layer("qk", "matmul", 1, 9, 64, 128)
    assert linear.batched(8).macs == 8 * linear.macs


def test_a_decode_step_gains_from_a_batch_and_a_detector_gains_nothing_from_one():
    """One token uses one row of the array; 16 sequences at once use 16 (3.8x the efficiency
    here); YOLOv5s already fills the array."""
    decode = TableScaling("GPT2-medium-16tok", 16, 16, "best")
    assert decode.efficiency(1, 16) > 3 * decode.efficiency(1, 1)
    yolo = TableScaling("YOLOv5s-640", 16, 16, "best")
    assert yolo.efficiency(1, 16) - yolo.efficiency(1, 1) < 0.02


def test_a_wide_group_shares_out_folds_so_small_layers_lose_efficiency():
    """BERT at 32 tokens on 256 arrays: fewer folds than arrays in most layers."""
    bert = TableScaling("BERT-base-32tok", 16, 16, "best")
    layers = table_layers("BERT-base-32tok")
    assert bert.efficiency(1, 1) == model_efficiency(layers, 16, 16, "best")
    assert bert.efficiency(256, 1) < 0.6 * bert.efficiency(1, 1)
    assert bert.activation_bytes(2) == 2 * sum(x.m * x.n * x.count for x in layers)
