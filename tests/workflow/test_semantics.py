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


def _loop(count, count_known: bool = False):
    """``before -> L -> after``, L a loop of ``count`` over the chain ``p -> q``."""
    return (WorkflowBuilder("lp").task("before", "general", 1, output_bytes=8)
            .loop("L", count, ["p", "q"], count_known=count_known).task("p", "ai", 5)
            .task("q", "general", 1).task("after", "general", 1)
            .flow("p", "q").flow("before", "L", "after").build())


def test_loop_with_a_known_count_runs_body_n_times_in_order_after_one_decision():
    """A loop of 4 whose count is known runs its 2-block body 4 times, each iteration after the
    previous one; its one decision reveals all 8 body firings."""
    inst = sample_instance(_loop(4, count_known=True), seed=0, index=0)
    body = [f"L[{k}]/{b}" for k in range(4) for b in "pq"]
    assert _labels(inst) == ["before", "L", *body, "after"]
    for i, f in enumerate(inst.firings[2:], start=2):
        assert f.preds == (i - 1,)  # strictly sequential: p0 <- L, q0 <- p0, p1 <- q0, ...
    assert inst.firings[1].outcome == 4
    assert [f.revealed_by for f in inst.firings] == [-1, -1] + [1] * 8 + [-1]


def test_loop_decides_one_iteration_at_a_time():
    """A loop of 3 with no known count fires 4 decisions: at entry and after each iteration.
    Decisions 0-2 continue, each revealing its iteration and the next decision; decision 3
    ends the loop, reveals nothing, and is what the loop's successor waits for."""
    inst = sample_instance(_loop(3), seed=0, index=0)
    assert _labels(inst) == ["before", "L[0]?", "L[0]/p", "L[0]/q", "L[1]?", "L[1]/p", "L[1]/q",
                             "L[2]?", "L[2]/p", "L[2]/q", "L[3]?", "after"]
    for i, f in enumerate(inst.firings[1:], start=1):
        assert f.preds == (i - 1,)  # strictly sequential: decision, p, q, decision, ...
    decisions = [i for i, f in enumerate(inst.firings) if f.block_id == "L"]
    assert decisions == [1, 4, 7, 10]
    assert [inst.firings[d].outcome for d in decisions] == [1, 1, 1, 0]
    revealed = {d: [i for i, f in enumerate(inst.firings) if f.revealed_by == d]
                for d in decisions}
    assert revealed == {1: [2, 3, 4], 4: [5, 6, 7], 7: [8, 9, 10], 10: []}
    assert inst.firings[1].revealed_by == inst.firings[-1].revealed_by == -1
    assert [inst.firings[i].data_from for i in (2, 5, 8)] == [(0,), (3,), (6,)]
    assert inst.firings[-1].data_from == (9,)  # the last iteration's output, past the decision


def test_loop_of_zero_ends_at_its_first_decision():
    """A loop of 0 fires one decision, which ends it; the successor gets the loop's input."""
    for count_known in (False, True):
        inst = sample_instance(_loop(0, count_known), seed=0, index=0)
        assert [f.block_id for f in inst.firings] == ["before", "L", "after"]
        assert inst.firings[1].outcome == 0
        assert inst.firings[2].preds == (1,) and inst.firings[2].data_from == (0,)


def test_nested_loops_decide_each_level_one_iteration_at_a_time():
    """An outer loop of 2 around an inner loop of 2: 3 outer decisions and, in each outer
    iteration, 3 inner ones; an inner loop's first decision is revealed by its outer
    iteration's decision."""
    wf = (WorkflowBuilder("nest").loop("O", 2, ["I", "w"]).loop("I", 2, ["w"])
          .task("w", "ai", 1).build())
    inst = sample_instance(wf, 0, 0)
    assert _labels(inst) == ["O[0]?", "O[0]/I[0]?", "O[0]/I[0]/w", "O[0]/I[1]?", "O[0]/I[1]/w",
                             "O[0]/I[2]?", "O[1]?", "O[1]/I[0]?", "O[1]/I[0]/w", "O[1]/I[1]?",
                             "O[1]/I[1]/w", "O[1]/I[2]?", "O[2]?"]
    by = [f.revealed_by for f in inst.firings]
    assert by == [-1, 0, 1, 1, 3, 3, 0, 6, 7, 7, 9, 9, 6]


def test_known_and_unknown_counts_draw_the_same_instance_work():
    """Declaring a loop's count known changes what is revealed when, not the draws: the same
    seed gives the same counts and the same Task Block works either way."""
    for index in range(20):
        by_iteration = sample_instance(_loop(Poisson(mean=3)), 11, index)
        known = sample_instance(_loop(Poisson(mean=3), count_known=True), 11, index)
        assert [(f.label, f.work) for f in by_iteration.tasks()] == \
            [(f.label, f.work) for f in known.tasks()]


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
