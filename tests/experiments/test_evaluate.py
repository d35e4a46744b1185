"""`octopus evaluate` end to end at CI size, and the dynamicity transform it relies on."""

import json

import pytest
from typer.testing import CliRunner

from octopus.cli.main import app
from octopus.experiments.evaluate import CV_LEVELS
from octopus.workflow import expected_firings, expected_work, load_builtin, with_dynamicity


def test_evaluate_quick_writes_the_report_and_headline(tmp_path):
    """A tiny --quick run on chip-4 writes every CSV, plot and report.md, and --json prints
    the headline keys with a speedup per baseline and an efficiency per cluster count."""
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["evaluate", "--arch", "chip-4", "--quick", "--instances",
                                      "16", "--workers", "1", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output + str(result.exception)
    head = json.loads(result.stdout)
    for key in ("geomean_speedup", "max_speedup", "per_workflow", "mean_bound_ratio",
                "scaling_efficiency"):
        assert key in head
    assert set(head["geomean_speedup"]) == {"static", "reactive", "greedy"}
    assert set(head["scaling_efficiency"]) == {"1", "4", "16", "64"}
    assert head["mean_bound_ratio"] >= 1.0
    for wf, makespans in head["per_workflow"].items():
        assert set(makespans) == {"static", "reactive", "greedy", "octopus"}, wf
    for name in ("main.csv", "ablation.csv", "dynamicity.csv", "scaling.csv", "report.md",
                 "main.png", "ablation.png", "dynamicity.png", "scaling.png", "heatmap.png",
                 "idle_breakdown.png", "headline.json"):
        assert (out / name).is_file(), name
    report = (out / "report.md").read_text()
    assert "reactive` was tuned per workflow" in report and "### Targets" in report


def test_evaluate_rejects_a_bad_preset_before_running(tmp_path):
    """An unknown preset exits 2 with one line and writes nothing."""
    result = CliRunner().invoke(app, ["evaluate", "--arch", "nope", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "nope" in result.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("cv", CV_LEVELS)
def test_dynamicity_transform_keeps_means_and_sets_cv(cv):
    """Every work and count distribution keeps its mean and takes the requested CV (counts are
    rounded to integers when sampled, which moves their mean by far less than 0.1%)."""
    wf = load_builtin("face-recognition")
    new = with_dynamicity(wf, cv)
    assert expected_work(new)["ai"] == pytest.approx(expected_work(wf)["ai"], rel=1e-3)
    assert expected_firings(new)["embed"] == pytest.approx(expected_firings(wf)["embed"],
                                                            rel=0.02)
    for b in new.blocks:
        dist = b.work if b.type == "task" else getattr(b, "count", None)
        if dist is not None:
            assert dist.cv == pytest.approx(cv, abs=1e-9)
