"""The goodput search on cases with a known answer: step-shaped attainment (the goodput is the
step, found to the tolerance and never above it), the limits (capacity above, the lowest load
below), loads past capacity measured for the curves only, and a simulated machine whose
periodic arrivals never queue below capacity."""

from __future__ import annotations

import math

import pytest

from octopus.experiments.goodput import search_goodput
from octopus.experiments.serving import (
    SearchJob,
    capacity_bounds,
    capacity_per_s,
    goodput_job,
    measure_floor,
    run_point,
)
from octopus.run import RunSpec, resolve
from octopus.workflow import WorkflowBuilder

GRID = (0.4, 0.7, 0.9, 1.1)


def step(edge: float, below: float = 1.0, above: float = 0.9):
    """Attainment ``below`` up to load ``edge``, ``above`` past it; counts the calls."""
    calls: list[float] = []

    def measure(load: float) -> tuple[float, None]:
        calls.append(load)
        return (below if load <= edge else above), None

    return measure, calls


@pytest.mark.parametrize("edge", [0.05, 0.31, 0.55, 0.77, 0.93, 0.999])
def test_the_goodput_is_the_step_to_the_tolerance(edge):
    """The search returns a load that passed, within 5% of the step, with the failing load
    above it; every grid load was measured first."""
    measure, calls = step(edge)
    found = search_goodput(measure, GRID, rel_tol=0.05)
    assert found.censored is None
    assert found.goodput_load <= edge < found.failing_load
    assert found.failing_load - found.goodput_load <= 0.05 * found.failing_load + 1e-12
    assert calls[:len(GRID)] == list(GRID)
    assert [p.load for p in found.curve(GRID)] == list(GRID)


def test_goodput_is_capped_at_capacity():
    """A machine that passes every load, even past capacity, has goodput = capacity (load 1,
    measured), censored above; the grid's 1.1 was run for the curve but does not count."""
    measure, calls = step(10.0)
    found = search_goodput(measure, GRID)
    assert (found.goodput_load, found.censored, found.failing_load) == (1.0, "above", None)
    assert 1.1 in calls and 1.0 in calls


def test_no_goodput_when_even_the_lowest_load_fails():
    """Attainment below target everywhere: the search halves the load down to ``min_load``
    and reports 0, censored below."""
    measure, calls = step(-1.0)
    found = search_goodput(measure, GRID, min_load=1 / 16)
    assert (found.goodput_load, found.censored) == (0.0, "below")
    assert min(calls) == pytest.approx(1 / 16)


def test_the_target_is_at_least_not_more_than():
    """Attainment exactly at the target passes; a hair below fails."""
    found = search_goodput(lambda load: (0.99 if load <= 0.5 else 0.9899, None), GRID)
    assert found.goodput_load <= 0.5 < found.failing_load


def test_a_non_monotone_curve_gives_the_pass_below_the_lowest_fail():
    """A load that passes above a failing one never counts: the answer is conservative."""
    found = search_goodput(lambda load: (0.5 if 0.6 < load < 0.8 else 1.0, None), GRID)
    assert found.goodput_load <= 0.6 and found.failing_load <= 0.7


@pytest.mark.parametrize("kwargs, match", [
    ({"grid": ()}, "empty"), ({"grid": (0.001,)}, "min_load"), ({"target": 0.0}, "target"),
    ({"rel_tol": 1.0}, "rel_tol"),
])
def test_bad_search_arguments(kwargs, match):
    args = {"grid": GRID} | kwargs
    with pytest.raises(ValueError, match=match):
        search_goodput(step(0.5)[0], **args)


def _one_block_spec(**kw) -> RunSpec:
    """One AI task of 2,560,000 MACs (10,000 cycles at 100% of a 16x16 array) per instance, on
    chip (16 TBUs, each loading the block's configuration once: 500 cycles)."""
    wf = WorkflowBuilder("one").task("a", "ai", 2_560_000).build()
    return RunSpec(**{"workflow": wf, "arch": "chip", "scheduler": "greedy", "instances": 60,
                      "arch_overrides": {"pea.ai_efficiency": 1.0}} | kw)


def test_capacity_is_the_work_bound():
    """Capacity = TBUs x clock / expected cycles of an instance."""
    spec = _one_block_spec()
    clock = resolve(spec).arch.clock_hz
    assert capacity_per_s(spec) == pytest.approx(16 * clock / 10_000)


def test_the_memory_bound_counts_inputs_and_unavoidable_streams():
    """On chip (one memory controller of 32 B/cycle; 16 TBUs of 1.5 MiB configuration share;
    batches of up to 16) an instance reads 3,200 input bytes and fires a 32 MiB block twice
    per firing (too large even in shards over all 16 TBUs: 2 MiB each), so it needs at least
    3,200 + 2 x 32 MiB / 16 bytes; a 4 MiB block is left out (resident in shards over a group
    of 4); private memory has a port per TBU for each purpose."""
    huge, big = 32 * 2**20, 4 * 2**20
    wf = (WorkflowBuilder("mem").task("a", "ai", 25_600, input_bytes=3_200, config_bytes=huge)
          .task("b", "ai", 25_600, config_bytes=big).flow("a", "b").build())
    wf = wf.model_copy(update={"blocks": [wf.blocks[0].model_copy(update={"weight_passes": 2}),
                                          wf.blocks[1]]})
    spec = RunSpec(workflow=wf, arch="chip")
    clock = resolve(spec).arch.clock_hz
    bounds = capacity_bounds(spec)
    assert bounds["memory"] == pytest.approx(32 * clock / (3_200 + 2 * huge / 16))
    assert capacity_per_s(spec) == min(bounds.values())
    private = capacity_bounds(spec.model_copy(update={"arch_overrides": {
        "memory.placement": "private"}}))
    assert private["memory"] == pytest.approx(16 * 32 * clock / (2 * huge / 16))  # weights
    assert capacity_bounds(_one_block_spec())["memory"] == math.inf  # nothing to read


def test_a_floor_run_keeps_instances_apart_and_measures_the_isolated_latency():
    """Under greedy (one TBU per firing) every instance of the one-block workflow takes its
    10,000 cycles alone (the first also loads the configuration); its critical path, the
    fastest any dispatch could run it (spread over a group), is no longer; no instance overlaps
    the next: they ran at least the longest latency apart."""
    floor = measure_floor(_one_block_spec())
    assert floor.latencies[1:] == (10_000,) * 59 and floor.latencies[0] > 10_000
    assert len(set(floor.critical_paths)) == 1 and 0 < floor.critical_paths[0] <= 10_000
    assert floor.gap_cycles >= max(floor.latencies)


def test_periodic_arrivals_meet_the_slo_up_to_capacity_but_not_at_it():
    """Periodic arrivals (CV 0) on 16 TBUs never find all 16 busy below capacity, so after
    the warm-up (the TBUs loading the configuration) every instance meets an SLO of 1x its
    floor; at exactly capacity the time lost loading never drains. The search brackets the
    goodput between 0.9 and 1 and bisects to 5%: at least 0.95 (0.95 passes)."""
    spec = _one_block_spec(warmup_instances=20)
    cap = capacity_per_s(spec)
    floors = tuple(float(x) for x in measure_floor(spec).latencies)
    job = SearchJob(spec, 0.0, cap, floors, GRID, 1.0, (1.0, 2.0), 0.99, 0.05, 1 / 32)
    found = goodput_job(job)
    assert found.censored is None and 0.95 <= found.goodput_load < found.failing_load <= 1.0
    assert found.failing_load - found.goodput_load <= 0.05 * found.failing_load + 1e-12
    assert [p.load for p in found.probes][:len(GRID) + 2] == [*GRID, 1.0, 0.95]
    point = found.curve([0.7])[0].detail
    assert point.attainment == 1.0 and point.slowdown_p99 == 1.0
    assert point.attainment_by_scale == (1.0, 1.0)
    assert point.rate_per_s == pytest.approx(0.7 * cap)
    assert point.metrics["instances"] == 60 and "scheduler_stats.dispatches" not in point.metrics


def test_poisson_arrivals_past_capacity_miss_the_slo():
    """Poisson arrivals at 1.5x capacity build a queue: far fewer than 99% of 200 instances
    meet 2x their floor."""
    spec = _one_block_spec(instances=200, warmup_instances=20)
    floors = measure_floor(spec).latencies
    point = run_point(spec.model_copy(update={"rate_per_s": 1.5 * capacity_per_s(spec)}),
                      floors, 2.0, ())
    assert point.attainment < 0.5 and point.slowdown_p99 > 2.0
