"""The closed-form systolic model on hand-worked cases (the numbers are SCALE-Sim 3.0.0's own
compute cycles for these layers on these arrays), groups of arrays, and the layer tables."""

from __future__ import annotations

from fractions import Fraction

import pytest

from octopus.cost.layers import Layer
from octopus.cost.systolic import (
    dram_words,
    fold_shape,
    layer_cycles,
    layers_cycles,
    model_efficiency,
)

# (dataflow, rows, cols, m, n, k) -> SCALE-Sim compute cycles (probe runs, CALC bandwidth)
SCALESIM = {
    ("os", 16, 16, 16, 16, 16): 45,     # one tile: 1 fold x (k + R + C - 2) - 1
    ("os", 16, 16, 20, 16, 16): 91,     # a partial tile costs a whole fold
    ("os", 16, 16, 16, 16, 32): 61,     # k streams: one cycle more per element
    ("os", 8, 32, 100, 1, 9): 610,      # a tall, thin GEMM on a wide array: 13 folds
    ("ws", 16, 16, 16, 16, 32): 123,    # k larger than the array: 2 folds of k
    ("ws", 16, 16, 100, 1, 9): 145,     # m streams: 1 fold x (m + 2R + C - 2) - 1
    ("ws", 8, 32, 64, 48, 40): 1099,
    ("is", 16, 16, 1, 100, 64): 583,    # n streams, k x m stationary
    ("is", 8, 32, 33, 17, 50): 881,
}


@pytest.mark.parametrize("case", sorted(SCALESIM))
def test_closed_form_equals_scalesim_on_hand_worked_layers(case):
    """Every case: one tile, a partial tile, k beyond the array, each dataflow."""
    df, rows, cols, m, n, k = case
    assert layer_cycles(Layer("x", "matmul", m, n, k), rows, cols, df) == SCALESIM[case]


def test_folds_and_streams_by_dataflow():
    """os tiles m x n and streams k; ws tiles k x n, streams m; is tiles k x m, streams n."""
    layer = Layer("x", "matmul", 40, 20, 70)
    assert fold_shape(layer, 16, 16, "os") == (3 * 2, 70)
    assert fold_shape(layer, 16, 16, "ws") == (5 * 2, 40)
    assert fold_shape(layer, 16, 16, "is") == (5 * 3, 20)
    with pytest.raises(ValueError, match="unknown dataflow"):
        fold_shape(layer, 16, 16, "rs")


def test_repeated_gemms_pay_the_pipeline_offset_once_each():
    """count = 4 heads: 4 x the cycles of one (each GEMM runs on its own)."""
    one = Layer("h", "matmul", 64, 64, 32)
    four = Layer("h", "matmul", 64, 64, 32, count=4)
    for df in ("os", "ws", "is"):
        assert layer_cycles(four, 16, 16, df) == 4 * layer_cycles(one, 16, 16, df)


def test_a_group_of_arrays_shares_out_the_folds():
    """16 folds on 4 arrays: 4 folds each; 3 arrays: 6 folds on the busiest; never below one
    fold's time; best is the faster of os and ws per layer."""
    layer = Layer("x", "matmul", 64, 64, 100)  # os: 4 x 4 folds of 100 + 30 cycles
    assert layer_cycles(layer, 16, 16, "os") == 16 * 130 - 1
    assert layer_cycles(layer, 16, 16, "os", arrays=4) == 4 * 130 - 1
    assert layer_cycles(layer, 16, 16, "os", arrays=3) == 6 * 130 - 1
    assert layer_cycles(layer, 16, 16, "os", arrays=64) == 130 - 1
    assert layer_cycles(layer, 16, 16, "best") == min(layer_cycles(layer, 16, 16, df)
                                                       for df in ("os", "ws"))
    with pytest.raises(ValueError):
        layer_cycles(layer, 16, 16, "os", arrays=0)


def test_efficiency_is_exact_and_a_decode_step_wastes_the_array():
    """A 256^3 GEMM keeps the array busy; a matrix-vector product uses one row of 16."""
    big = [Layer("big", "linear", 256, 256, 256)]
    assert model_efficiency(big, 16, 16, "os") == Fraction(256 ** 3, 256 * (256 * 286 - 1))
    decode = [Layer("step", "linear", 1, 1024, 1024)]
    assert model_efficiency(decode, 16, 16, "best") < Fraction(1, 16)
    assert layers_cycles(big + decode, 16, 16, "os") == (layer_cycles(big[0], 16, 16, "os")
                                                         + layer_cycles(decode[0], 16, 16, "os"))


def test_compulsory_dram_words_count_each_operand_once():
    """Inputs m x k, weights k x n, outputs m x n, per repeated GEMM."""
    assert dram_words(Layer("x", "matmul", 2, 3, 4, count=5)) == (8 + 12 + 6) * 5
