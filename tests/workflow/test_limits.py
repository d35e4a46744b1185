"""Workflow size limits: every number ``check`` accepts must simulate, in bounded memory, and
every number over a limit is refused by ``check`` with exit 2 and one line naming the limit."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from octopus.cli.main import app
from octopus.run import RunSpec, execute
from octopus.workflow import MAX_COUNT, Constant, LogNormal, Poisson, WorkflowBuilder
from octopus.workflow.distributions import Empirical, Geometric, Normal, Uniform
from octopus.workflow.limits import max_firings
from octopus.workflow.structure import compile_workflow

TEMPLATE = """name: limits
blocks:
  - {{id: a, type: task, kind: ai, work: {{dist: constant, value: 1.0e6}}}}
  - {{id: f, type: {control}, count: {count}, body: [b]}}
  - {{id: b, type: task, kind: general, work: {work}{extra}}}
flows:
  - [a, f]
"""
ONE = "{dist: constant, value: 1000}"


def _workflow(count: str = "{dist: constant, value: 2}", work: str = ONE, extra: str = "",
              control: str = "fanout") -> str:
    return TEMPLATE.format(count=count, work=work, extra=extra, control=control)


@pytest.mark.parametrize("text, needle", [
    (_workflow(count="{dist: constant, value: 1.0e9}"), "over the limit of 1,000,000 per"),
    (_workflow(count="{dist: constant, value: 1.0e9}", control="loop"),
     "over the limit of 1,000,000 per"),
    (_workflow(work="{dist: lognormal, mean: 1000, cv: 1.0e200}"),
     "cv: Input should be less than or equal to 100"),
    (_workflow(work="{dist: normal, mean: 1.0e308, cv: 0.5}"), "over the limit of 1e+18"),
    (_workflow(count="{dist: uniform, low: 0.2, high: 0.8}"), "holds no integer"),
    (_workflow(count="{dist: poisson, mean: 1.0e20}"), "over the limit of 1,000,000 per"),
    (_workflow(work="{dist: poisson, mean: 1.0e20}"), "over the limit of 1e+18"),
    (_workflow(extra=", config_bytes: 1" + "0" * 400),
     "config_bytes: Input should be less than or equal to 9007199254740992"),
    (_workflow(count="{dist: lognormal, mean: 3, cv: 100}"), "over the limit of 1,000,000"),
    (_workflow(count="{dist: geometric, p_continue: 0.99999999}", control="loop"),
     "over the limit of 1,000,000"),
    (_workflow(count="{dist: empirical, values: [1, 2], weights: [1.0e308, 1.0e308]}"),
     "weights sum to more than a float holds"),
])
def test_check_refuses_what_cannot_simulate_in_one_line(text, needle, tmp_path):
    """Counts, work and bytes that used to pass check and then crash (or loop a billion times,
    or exhaust memory) are refused by check, exit 2, one line naming the limit."""
    path = tmp_path / "wf.yaml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["check", str(path)])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.output, result.exception)
    assert len(lines) == 1 and needle in lines[0] and str(path) in lines[0], lines


def test_nested_counts_are_bounded_per_instance(tmp_path):
    """A fan-out of 1,000 around a loop of 2,000 may fire 4 million blocks in one instance
    (each iteration a body firing and a decision): refused, though each count is under its own
    limit."""
    text = """name: nested
blocks:
  - {id: f, type: fanout, count: {dist: constant, value: 1000}, body: [l]}
  - {id: l, type: loop, count: {dist: constant, value: 2000}, body: [b]}
  - {id: b, type: task, kind: general, work: {dist: constant, value: 10}}
"""
    path = tmp_path / "wf.yaml"
    path.write_text(text)
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    assert "up to 4e+06 blocks" in result.stderr and "limit of 1,000,000 per instance" in \
        result.stderr


def test_max_firings_takes_every_count_at_its_bound_and_the_largest_path():
    """The worst instance: counts at their upper bounds, branches on their largest path."""
    wf = (WorkflowBuilder("w").task("a", "ai", 1)
          .fanout("f", Uniform(low=1, high=4.7), ["b", "c"])
          .task("b", "ai", 1).task("c", "ai", 1).flow("b", "c").flow("a", "f").build())
    assert max_firings(compile_workflow(wf)) == 1 + 1 + 4 * 2


def test_max_firings_counts_a_loop_decision_per_iteration_unless_the_count_is_known():
    """A loop of up to 5 iterations of a 2-block body fires 1 + 5 * (2 + 1) blocks when decided
    per iteration, 1 + 5 * 2 when its count is known at entry."""
    def loop(count_known: bool):
        return (WorkflowBuilder("w").loop("l", Uniform(low=2, high=5), ["b", "c"],
                                          count_known=count_known)
                .task("b", "ai", 1).task("c", "ai", 1).flow("b", "c").build())

    assert max_firings(compile_workflow(loop(False))) == 1 + 5 * 3
    assert max_firings(compile_workflow(loop(True))) == 1 + 5 * 2


@pytest.mark.parametrize("dist", [
    Constant(value=7), Uniform(low=2, high=9), Normal(mean=50, cv=0.3), LogNormal(mean=20, cv=2),
    Poisson(mean=4), Geometric(p_continue=0.7), Empirical(values=[1, 5, 30])])
def test_upper_bounds_hold_for_twenty_thousand_draws(dist):
    """No draw exceeds ``count_upper`` (a bound exceeded with probability below 1e-15)."""
    import numpy as np

    rng = np.random.default_rng(5)
    assert max(dist.sample_count(rng) for _ in range(20_000)) <= dist.count_upper
    assert dist.count_upper <= MAX_COUNT


@pytest.mark.parametrize("work, count", [
    ("{dist: lognormal, mean: 1.0e9, cv: 100}", "{dist: constant, value: 3}"),
    ("{dist: normal, mean: 1.0e17, cv: 1}", "{dist: uniform, low: 0.5, high: 1.4}"),
    ("{dist: poisson, mean: 1.0e17}", "{dist: geometric, p_continue: 0.99}"),
    (ONE, "{dist: poisson, mean: 1000}"),
    (ONE, "{dist: lognormal, mean: 5, cv: 1}"),
])
def test_accepted_extremes_simulate(work, count, tmp_path):
    """Values near the limits that check accepts run to the end."""
    path = tmp_path / "wf.yaml"
    path.write_text(_workflow(count=count, work=work))
    assert CliRunner().invoke(app, ["check", str(path)]).exit_code == 0
    result = execute(RunSpec(workflow=str(path), instances=2, scheduler="greedy"))
    assert result.makespan_cycles > 0 and result.task_firings >= 2
