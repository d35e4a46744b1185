"""`--set KEY=VALUE` on simulate and evaluate: applied like config values, checked before runs."""

import json

import pytest
import yaml
from typer.testing import CliRunner

from octopus.cli.main import app

SIM = ["simulate", "--workflow", "face-recognition", "--instances", "20", "--json"]


def _summary(*sets):
    result = CliRunner().invoke(app, [*SIM, *(a for s in sets for a in ("--set", s))])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_simulate_set_overrides_arch_and_run_fields():
    """arch.* changes the machine; instances and seed given by --set win over the options."""
    plain = _summary()
    small = _summary("arch.cluster.tbus_x=2", "instances=10", "seed=3")
    assert (plain["tbus"], small["tbus"]) == (16, 8)
    assert (small["instances"], small["seed"]) == (10, 3)


def test_simulate_set_reaches_the_scheduler_config(tmp_path):
    """scheduler.* values land, coerced, in the run's resolved scheduler config."""
    out = tmp_path / "run"
    result = CliRunner().invoke(app, [*SIM, "--scheduler", "reactive", "--out", str(out),
                                      "--set", "scheduler.window_cycles=7",
                                      "--set", "scheduler.threshold_tasks_per_tbu=3"])
    assert result.exit_code == 0, result.output
    resolved = yaml.safe_load((out / "config.resolved.yaml").read_text())
    assert resolved["scheduler"]["window_cycles"] == 7
    assert resolved["scheduler"]["threshold_tasks_per_tbu"] == 3.0


@pytest.mark.parametrize(("sets", "needle"), [
    (["foo=1"], "foo: unknown key"),
    (["workflow=llm-agent"], "workflow: unknown key"),
    (["arch.cluster.tbusx=2"], "arch.cluster.tbusx: unknown field 'tbusx'"),
    (["arch.cluster.tbus_x=-1"], "greater than 0"),
    (["seed=x"], "seed: Input should be a valid integer"),
    (["scheduler.window_cycles=5"], "window_cycles: unknown field"),
    (["novalue"], "expected key=value"),
])
def test_simulate_bad_set_exits_2(tmp_path, sets, needle):
    """Unknown keys, fields and bad values exit 2 with one line, before any output is written."""
    out = tmp_path / "run"
    result = CliRunner().invoke(app, [*SIM, "--out", str(out),
                                      *(a for s in sets for a in ("--set", s))])
    assert result.exit_code == 2 and needle in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(("sets", "needle"), [
    (["seed=1"], "only arch.<dotted field>"),
    (["scheduler.window_cycles=5"], "only arch.<dotted field>"),
    (["arch.chip.clusters_x=0"], "greater than 0"),
    (["arch.nope=1"], "arch.nope: unknown field"),
])
def test_evaluate_bad_set_exits_2_before_running(tmp_path, sets, needle):
    """evaluate takes arch.* overrides only; bad ones exit 2 and write no report."""
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["evaluate", "--arch", "chip", "--quick", "--out", str(out),
                                      *(a for s in sets for a in ("--set", s))])
    assert result.exit_code == 2 and needle in result.stderr
    assert not out.exists()
