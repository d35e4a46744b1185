"""A run as a serving system: the arrival CV, the SLO and the warm-up in the spec; per-instance
latencies and the SLO attainment in the result."""

from __future__ import annotations

import json

import numpy as np
import pytest

from octopus.errors import InputError
from octopus.run import RunSpec, execute, resolve
from octopus.run.result import slo_attainment
from octopus.sim.arrivals import arrival_cycles
from octopus.workflow import WorkflowBuilder


def test_slo_attainment_counts_latencies_within_their_slo():
    """One SLO for all, or one per latency; a latency equal to its SLO meets it."""
    assert slo_attainment([1, 2, 3, 4], 2.5) == 0.5
    assert slo_attainment([1, 2, 3, 4], 4) == 1.0
    assert slo_attainment([1, 2, 3, 4], [1, 1, 3, 3]) == 0.5
    with pytest.raises(ValueError, match="2 SLOs for 4"):
        slo_attainment([1, 2, 3, 4], [1, 2])
    with pytest.raises(ValueError, match="no latencies"):
        slo_attainment([], 1.0)


def test_latencies_are_per_instance_and_the_metrics_leave_out_the_warmup():
    """``latencies`` holds every instance's latency by index (arrival to finish); p50, p99,
    the mean and the SLO attainment are over the instances after the warm-up."""
    spec = RunSpec(workflow="face-recognition", arch="chip", scheduler="greedy", instances=60,
                   seed=2, rate_per_s=300.0, arrival_cv=3.0, warmup_instances=12,
                   slo_cycles=8.5e7)
    sim = resolve(spec).simulator().run()
    result = execute(spec)
    assert result.latencies == tuple(sim.instance_latencies)
    assert sorted(result.latencies) == sorted(sim.latencies)
    measured = np.asarray(result.latencies[12:])
    assert result.latency_p50_cycles == pytest.approx(np.percentile(measured, 50))
    assert result.latency_p99_cycles == pytest.approx(np.percentile(measured, 99))
    assert result.latency_mean_cycles == pytest.approx(measured.mean())
    assert result.slo_attainment == pytest.approx(np.mean(measured <= 8.5e7))
    assert 0 < result.slo_attainment < 1  # the SLO is tight enough to be missed sometimes
    assert result.slo_cycles == 8.5e7


def test_a_run_uses_the_spec_arrival_process():
    """The scenario's arrivals are :func:`arrival_cycles` of the spec's rate, CV and seed."""
    spec = RunSpec(workflow="face-recognition", instances=50, seed=7, rate_per_s=200.0,
                   arrival_cv=2.5)
    scenario = resolve(spec)
    assert scenario.arrivals == tuple(arrival_cycles(50, 200.0, scenario.arch.clock_hz, 7, 2.5))
    assert "Gamma (CV 2.5) arrivals" in repr(scenario)


def test_summary_json_has_the_slo_but_not_the_latencies(tmp_path):
    """summary.json gains slo_cycles and slo_attainment (null without an SLO), not the
    per-instance latencies; reading it back gives an equal result."""
    spec = RunSpec(workflow="face-recognition", instances=8, rate_per_s=100.0)
    result = execute(spec, out_dir=tmp_path / "run", trace=False)
    data = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert data["slo_cycles"] is None and data["slo_attainment"] is None
    assert "latencies" not in data and "per_tbu" not in data
    assert list(data).index("slo_attainment") == list(data).index("latency_mean_cycles") + 2
    assert type(result).from_dict(data) == result
    assert len(result.latencies) == 8


def test_a_periodic_stream_far_apart_gives_every_instance_its_isolated_latency():
    """A one-task workflow with periodic arrivals far apart: after the first instance (which
    loads the block's configuration), every latency is the task's cycles (2,560 MACs on a
    16x16 array at 100% efficiency: 10 cycles); with the first as warm-up, an SLO of 10
    cycles is met by all."""
    wf = WorkflowBuilder("one").task("a", "ai", 2560).build()
    spec = RunSpec(workflow=wf, arch="chip", scheduler="greedy", instances=5, rate_per_s=1e6,
                   arrival_cv=0.0, slo_cycles=10, warmup_instances=1,
                   arch_overrides={"pea.ai_efficiency": 1.0})
    result = execute(spec)
    assert result.latencies[1:] == (10, 10, 10, 10) and result.latencies[0] > 10
    assert result.slo_attainment == 1.0
    assert execute(spec.model_copy(update={"warmup_instances": 0})).slo_attainment == 0.8


@pytest.mark.parametrize("fields, where", [
    ({"arrival_cv": 2.0}, "arrival_cv"),  # bursty without a rate
    ({"arrival_cv": -1.0, "rate_per_s": 1.0}, "arrival_cv"),
    ({"arrival_cv": 11.0, "rate_per_s": 1.0}, "arrival_cv"),
    ({"slo_cycles": 0.0}, "slo_cycles"),
    ({"slo_cycles": float("inf")}, "slo_cycles"),
    ({"warmup_instances": 10}, "warmup_instances"),  # all 10 instances
    ({"warmup_instances": -1}, "warmup_instances"),
])
def test_bad_serving_fields_are_one_line_naming_the_field(fields, where):
    """Each bad value is an InputError whose one line names the field."""
    with pytest.raises(InputError) as err:
        RunSpec.checked(workflow="face-recognition", instances=10, **fields)
    assert str(err.value).startswith(f"{where}: ") and "\n" not in str(err.value)
