"""The workload mix: several workflows under one root branch, each block's expected firings its
workflow's times the workflow's weight, found by name, and refused when malformed."""

from __future__ import annotations

from collections import Counter

import pytest

from octopus.errors import InputError
from octopus.workflow import (
    MIX_NAME,
    WorkflowBuilder,
    builtin_names,
    expected_firings,
    expected_work,
    find_workflow,
    iter_instances,
    load_builtin,
    mix_workflow,
)
from octopus.workflow.sampling import CONTROL


def test_expected_firings_are_the_weighted_ones():
    """Every block of the mix fires its workflow's expected count times the workflow's
    probability (weights 3 and 1: 3/4 and 1/4); the root branch fires once."""
    face, llm = load_builtin("face-recognition"), load_builtin("llm-agent")
    mix = mix_workflow([(face, 3.0), (llm, 1.0)])
    got = expected_firings(mix)
    for wf, p in ((face, 0.75), (llm, 0.25)):
        for block, n in expected_firings(wf).items():
            assert got[f"{wf.name}.{block}"] == pytest.approx(p * n)
    assert got["mix_pick"] == 1.0
    assert len(got) == len(expected_firings(face)) + len(expected_firings(llm)) + 1
    for kind in ("ai", "general"):
        assert expected_work(mix)[kind] == pytest.approx(
            0.75 * expected_work(face)[kind] + 0.25 * expected_work(llm)[kind])


def test_each_instance_is_one_workflow_chosen_by_weight():
    """Over 4,000 instances each workflow is chosen about as often as its weight says, and an
    instance fires only its own workflow's blocks."""
    face, speech = load_builtin("face-recognition"), load_builtin("speech-assistant")
    mix = mix_workflow([(face, 1.0), (speech, 3.0)])
    chosen = Counter()
    for inst in iter_instances(mix, 4000, seed=5):
        names = {f.block_id.split(".")[0] for f in inst.firings if f.block_id != "mix_pick"}
        assert len(names) == 1
        chosen[names.pop()] += 1
        assert inst.firings[0].block_id == "mix_pick" and inst.firings[0].kind == CONTROL
    assert chosen["speech-assistant"] / 4000 == pytest.approx(0.75, abs=0.03)


def test_a_workflow_with_two_first_blocks_runs_inside_a_loop_of_one():
    """A branch path starts at one block: a workflow with two sources is wrapped in a loop of
    one iteration, and its blocks still fire as often as alone."""
    two = (WorkflowBuilder("two").task("a", "general", 10).task("b", "general", 20)
           .task("c", "general", 5).flow("a", "c").flow("b", "c").build())
    one = WorkflowBuilder("one").task("x", "ai", 100).build()
    mix = mix_workflow([(two, 1.0), (one, 1.0)])
    assert mix.block("two.mix_once").type == "loop"
    assert set(mix.block("mix_pick").paths) == {"two.mix_once", "one.x"}
    got = expected_firings(mix)
    assert got["two.a"] == got["two.b"] == got["two.c"] == got["one.x"] == 0.5


def test_mix_by_name():
    """``mix`` is every built-in with equal weight; ``mix:NAME=W,...`` names them and their
    weights (a name without a weight counts 1)."""
    every = find_workflow(MIX_NAME)
    assert every.name == "mix"
    paths = every.block("mix_pick").paths
    assert sorted(h.split(".")[0] for h in paths) == builtin_names()
    assert all(p == pytest.approx(1 / len(builtin_names())) for p in paths.values())
    two = find_workflow("mix:face-recognition=2,llm-agent")
    assert sorted(two.block("mix_pick").paths.values()) == pytest.approx([1 / 3, 2 / 3])


@pytest.mark.parametrize("name, needle", [
    ("mix:face-recognition=0", "positive"), ("mix:face-recognition=-1", "positive"),
    ("mix:face-recognition=x", "positive"), ("mix:", "positive"),
    ("mix:face-recognition=nan", "positive"), ("mix:nope", "no such built-in"),
    ("mix:face-recognition,face-recognition", "named twice"),
])
def test_a_malformed_mix_is_refused_in_one_line(name, needle):
    """Weights must be positive numbers, names built-ins, each once."""
    with pytest.raises(InputError) as err:
        find_workflow(name)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_an_empty_mix_is_refused():
    with pytest.raises(InputError, match="no workflows"):
        mix_workflow([])
