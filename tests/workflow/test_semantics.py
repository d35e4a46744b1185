"""Control Block semantics of sampled instances."""

from collections import Counter

from octopus.workflow import (
    Constant,
    Poisson,
    WorkflowBuilder,
    iter_instances,
    sample_instance,
)


def _labels(inst):
    return [f.label for f in inst.firings]


def test_branch_fires_exactly_one_path():
    """Every instance runs exactly one of the two paths, then the block after the merge."""
    wf = (WorkflowBuilder("br").task("a", "general", 1).branch("b", "m", {"x": 0.3, "y": 0.7})
          .task("x", "general", 1).task("y", "general", 1).merge("m").task("z", "general", 1)
          .flow("a", "b").flow("x", "m").flow("y", "m").flow("m", "z").build())
    taken = Counter()
    for inst in iter_instances(wf, 2000, seed=3):
        names = [f.block_id for f in inst.firings]
        assert ("x" in names) != ("y" in names)
        assert names[-1] == "z"
        taken["x" if "x" in names else "y"] += 1
    assert abs(taken["x"] / 2000 - 0.3) < 0.04


def test_loop_runs_body_n_times_in_order():
    """A loop of 4 runs its 2-block body 4 times, each iteration after the previous one."""
    wf = (WorkflowBuilder("lp").loop("L", 4, ["p", "q"]).task("p", "ai", 5)
          .task("q", "general", 1).task("after", "general", 1)
          .flow("p", "q").flow("L", "after").build())
    inst = sample_instance(wf, seed=0, index=0)
    assert _labels(inst) == ["L"] + [f"L[{k}]/{b}" for k in range(4) for b in "pq"] + ["after"]
    for i, f in enumerate(inst.firings[1:-1], start=1):
        assert f.preds == (i - 1,)  # strictly sequential: p0 <- L, q0 <- p0, p1 <- q0, ...
    assert inst.firings[-1].preds == (len(inst.firings) - 2,)


def test_fanout_runs_n_parallel_copies_and_joins():
    """A fan-out of N runs N independent copies; the successor waits for all of them."""
    wf = (WorkflowBuilder("fo").task("src", "general", 1, output_bytes=8)
          .fanout("F", Poisson(mean=5), ["w"]).task("w", "ai", 3, output_bytes=4)
          .task("sink", "general", 1).flow("src", "F", "sink").build())
    for inst in iter_instances(wf, 50, seed=1):
        fan = next(f for f in inst.firings if f.block_id == "F")
        copies = [i for i, f in enumerate(inst.firings) if f.block_id == "w"]
        assert len(copies) == fan.outcome
        fan_index = inst.firings.index(fan)
        for c in copies:
            assert inst.firings[c].preds == (fan_index,)
            assert inst.firings[c].data_from == (0,)  # src's output, through the control block
            assert inst.firings[c].revealed_by == fan_index
        sink = inst.firings[-1]
        assert set(sink.preds) == (set(copies) or {fan_index})


def test_empty_branch_path_passes_straight_to_merge():
    """A path that names the merge runs nothing."""
    wf = (WorkflowBuilder("skip").task("a", "general", 1).branch("b", "m", {"m": 1.0})
          .merge("m").task("z", "general", 1).flow("a", "b").flow("m", "z").build())
    inst = sample_instance(wf, 0, 0)
    assert [f.block_id for f in inst.firings] == ["a", "b", "z"]
    assert inst.firings[2].data_from == (0,)


def test_nested_fanout_in_loop_multiplies_firings():
    """Constant loop 3 x constant fan-out 2 gives 6 firings of the inner block."""
    wf = (WorkflowBuilder("nest").loop("L", Constant(value=3), ["F"])
          .fanout("F", Constant(value=2), ["w"]).task("w", "ai", 1).build())
    inst = sample_instance(wf, 0, 0)
    assert sum(f.block_id == "w" for f in inst.firings) == 6


def test_same_seed_gives_same_instances_whatever_the_batch():
    """Instance i is identical whether drawn alone or within a batch, and differs across seeds."""
    from octopus.workflow import load_builtin

    wf = load_builtin("face-recognition")
    batch = list(iter_instances(wf, 20, seed=42))
    assert sample_instance(wf, 42, 13) == batch[13]
    assert list(iter_instances(wf, 20, seed=42)) == batch
    assert list(iter_instances(wf, 20, seed=43)) != batch
