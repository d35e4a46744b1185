"""Analytic expectations agree with sampling; bounds are bounds."""

import numpy as np
import pytest

from octopus.run import resolve_workflow
from octopus.workflow import (
    Capacity,
    batch_lower_bound,
    builtin_names,
    expected_critical_path,
    expected_firings,
    expected_work,
    instance_critical_path,
    iter_instances,
)

CAP = Capacity.from_rates(units=4, ai_work_per_cycle=200.0, general_work_per_cycle=64.0,
                          control_cycles=20)


@pytest.mark.parametrize("name", builtin_names())
def test_expectations_match_10000_samples(name):
    """Analytic expected firings per block are within 2% of the mean over 10,000 instances, and
    the exact mean and CV of the work per instance agree with them too.

    For rare blocks 2% is below the sampling noise itself (a block firing in 10% of instances has
    a 3% relative standard error at n = 10,000), so the tolerance there is 4 standard errors. The
    work's mean is held to 4 standard errors, its CV to 5% (heavy tails make the sample CV noisy).
    """
    from octopus.workflow.analysis import instance_work_cycles, work_cycles_moments

    wf = resolve_workflow(name)
    expected = expected_firings(wf)
    n = 10_000
    per_instance = {b: np.zeros(n) for b in expected}
    work = np.zeros(n)
    for k, inst in enumerate(iter_instances(wf, n, seed=7)):
        for f in inst.firings:
            per_instance[f.block_id][k] += 1
        work[k] = instance_work_cycles(inst, CAP)
    for block, e in expected.items():
        x = per_instance[block]
        tol = max(0.02 * e, 4 * x.std() / np.sqrt(n))
        assert abs(x.mean() - e) <= tol, (block, x.mean(), e)
    mean, var = work_cycles_moments(wf, CAP)
    assert abs(work.mean() - mean) <= 4 * work.std() / np.sqrt(n) + 1e-9 * mean
    assert work.std() / work.mean() == pytest.approx(np.sqrt(var) / mean, rel=0.05)


def test_expected_work_is_firings_times_mean_work(tiny_fanout):
    """E[work] = E[N] * mean work for a fan-out body."""
    assert expected_work(tiny_fanout)["ai"] == pytest.approx(2.5 * 1000.0)
    assert expected_work(tiny_fanout)["general"] == pytest.approx(10.0)


def test_critical_path_of_a_chain_is_its_sum():
    """A 3-block chain's critical path is the sum of its cycles and lists every block."""
    from octopus.workflow import WorkflowBuilder

    wf = (WorkflowBuilder("c").task("a", "ai", 400).task("b", "general", 128)
          .task("c", "ai", 200).flow("a", "b", "c").build())
    cp = expected_critical_path(wf, CAP)
    assert cp.cycles == 2 + 2 + 1 and cp.blocks == ("a", "b", "c")


@pytest.mark.parametrize("count_known, decisions, path, x_rank", [
    (False, 4, 2 + 20 + 3 * (2 + 20) + 1, 2 + 20 + 2 * (2 + 20) + 1),
    (True, 1, 2 + 20 + 3 * 2 + 1, 2 + 2 * 2 + 1)])
def test_a_loop_decided_per_iteration_puts_a_decision_on_the_path_per_iteration(
        count_known, decisions, path, x_rank):
    """``a`` (2 cycles) -> a loop of 3 over ``x`` (2 cycles) -> ``z`` (1 cycle), decisions of
    20 cycles: decided per iteration, the loop fires 4 decisions, all on the critical path;
    with its count known, one."""
    from octopus.workflow import WorkflowBuilder
    from octopus.workflow.analysis import downstream_ranks

    wf = (WorkflowBuilder("l").task("a", "ai", 400)
          .loop("L", 3, ["x"], count_known=count_known).task("x", "ai", 400)
          .task("z", "ai", 200).flow("a", "L", "z").build())
    assert expected_firings(wf) == {"a": 1, "L": decisions, "x": 3, "z": 1}
    assert expected_critical_path(wf, CAP).cycles == path
    inst = next(iter_instances(wf, 1, seed=0))
    assert instance_critical_path(inst, CAP) == path
    ranks = downstream_ranks(wf, CAP)
    assert (ranks["x"], ranks["L"], ranks["a"]) == (x_rank, 20 + x_rank, path)


def test_batch_bound_is_max_of_work_and_critical_path():
    """The bound is the larger of total work / units and the longest instance chain."""
    wf = resolve_workflow("video-analytics")
    insts = list(iter_instances(wf, 30, seed=0))
    bound = batch_lower_bound(insts, CAP)
    work = sum(CAP.cycles(f.kind, f.work) for i in insts for f in i.tasks())
    longest = max(instance_critical_path(i, CAP) for i in insts)
    assert bound == max(-(-work // CAP.units), longest)


def test_batch_bound_respects_arrivals():
    """A late arrival cannot finish before it arrives plus its own critical path."""
    wf = resolve_workflow("face-recognition")
    insts = list(iter_instances(wf, 2, seed=0))
    late = 10**9
    bound = batch_lower_bound(insts, CAP, arrivals=[0, late])
    assert bound >= late + instance_critical_path(insts[1], CAP)
    with pytest.raises(ValueError):
        batch_lower_bound(insts, CAP, arrivals=[0])


def test_work_moments_of_a_loop_and_a_branch_by_hand():
    """A loop of N ~ Poisson(3) over a body of X ~ U(0, 400) MACs (0 to 2 cycles at 200
    MACs/cycle), then a branch to 0 or 200 cycles: mean and variance by the laws of total
    expectation and variance."""
    from octopus.workflow import Constant, Poisson, Uniform, WorkflowBuilder
    from octopus.workflow.analysis import work_cycles_moments

    wf = (WorkflowBuilder("hand")
          .loop("l", Poisson(mean=3), ["x"]).task("x", "ai", Uniform(low=0, high=400))
          .branch("b", "m", {"y": 0.25, "m": 0.75}).task("y", "ai", Constant(value=40_000))
          .merge("m").flow("l", "b").flow("y", "m").build())
    mean, var = work_cycles_moments(wf, CAP)
    x_mean, x_var = 1.0, 4 / 12  # cycles: U(0, 2)
    loop_var = 3 * x_var + 3 * x_mean ** 2  # E[N] Var(X) + Var(N) E[X]^2
    branch_mean, branch_var = 0.25 * 200, 0.25 * 200 ** 2 - (0.25 * 200) ** 2
    assert mean == pytest.approx(3 * x_mean + branch_mean)
    assert var == pytest.approx(loop_var + branch_var)


def test_dynamicity_spans_low_to_high():
    """The built-ins span low (< 0.1) to high (> 1) coefficient of variation of work."""
    from octopus.workflow.analysis import instance_work_cycles

    cvs = []
    for name in builtin_names():
        w = np.array([instance_work_cycles(i, CAP)
                      for i in iter_instances(resolve_workflow(name), 1000, seed=0)])
        cvs.append(w.std() / w.mean())
    assert min(cvs) < 0.1 and max(cvs) > 1.0
    assert len(builtin_names()) >= 6


def _weights_workflow():
    """s streams (5000 B, read twice per firing, 1 cycle of compute); r is resident (800 B)."""
    from octopus.workflow import WorkflowBuilder

    return (WorkflowBuilder("weights")
            .task("s", "ai", 200, config_bytes=5000, weight_passes=2)
            .task("r", "ai", 200, config_bytes=800).flow("s", "r").build())


STREAMING = Capacity(units=4, work_cycles=CAP.work_cycles, config_capacity_bytes=1000,
                     weight_port_bytes_per_cycle=10, weight_bytes_per_cycle=10)


def test_a_streaming_firing_is_busy_for_its_stream():
    """A configuration over the capacity streams weight_passes x its bytes at the port rate:
    2 x 5000 / 10 = 1000 cycles, not its 1 cycle of compute; a resident one computes only."""
    wf = _weights_workflow()
    s, r = wf.block("s"), wf.block("r")
    assert (STREAMING.streamed_bytes(s), STREAMING.busy_cycles(s, 200)) == (10_000, 1000)
    assert (STREAMING.streamed_bytes(r), STREAMING.busy_cycles(r, 200)) == (0, 1)
    assert CAP.busy_cycles(s, 200) == 1  # no capacity limit: everything is resident


def test_batch_bound_counts_weight_traffic():
    """Three instances of s -> r on a machine moving 10 weight bytes per cycle: busy cycles give
    3 x 1001 / 4 and a path 1001, but the traffic, 3 x 10,000 streamed bytes plus one 800 B
    load of r, needs 3080 cycles: the bound. Arriving at 0, 3000 and 3000, the two late ones
    still stream 20,000 bytes after cycle 3000: 5000."""
    insts = list(iter_instances(_weights_workflow(), 3, seed=0))
    assert batch_lower_bound(insts, STREAMING) == 3080
    assert batch_lower_bound(insts, STREAMING, arrivals=[0, 3000, 3000]) == 5000
    assert batch_lower_bound(insts, CAP) == 2  # every configuration resident, nothing moves


def test_looped_blocks_are_those_in_a_loop_body_not_a_fanout():
    from octopus.workflow.analysis import looped_blocks

    # decode, and the tool call in a branch within the loop; not the prefill before it
    assert looped_blocks(resolve_workflow("llm-agent")) == {"decode", "search", "encode"}
    assert looped_blocks(resolve_workflow("face-recognition")) == set()  # a fan-out's body
