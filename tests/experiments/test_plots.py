"""Plots from results.csv: pairing for speedups, and PNGs from `octopus plot`."""

import csv

import pytest
from typer.testing import CliRunner

from octopus.cli.main import app
from octopus.errors import InputError
from octopus.experiments.plots import load_results, speedup_rows

pytest.importorskip("matplotlib")

MAKESPANS = {  # (dynamicity_cv, seed, scheduler) -> makespan; octopus 2x, 4x faster
    (cv, seed, s): m * (1 + seed) * (1 + cv)
    for cv in (0.0, 1.0) for seed in (0, 1)
    for s, m in (("greedy", 200), ("static", 400), ("octopus", 100))}


def _write_results(path):
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["point", "workflow", "dynamicity_cv", "scheduler", "seed", "clusters",
                    "makespan_cycles", "throughput_instances_per_s"])
        for i, ((cv, seed, s), m) in enumerate(MAKESPANS.items()):
            w.writerow([f"p{i}", "face-recognition", cv, s, seed, 1 + int(cv) * 3, m, 1e9 / m])
    return path


def test_speedups_pair_runs_on_every_other_parameter(tmp_path):
    """Each (cv, seed) pair gives octopus's speedup over greedy (2x) and static (4x)."""
    rows = speedup_rows(load_results(_write_results(tmp_path / "r.csv")))
    assert len(rows) == 8
    assert {(r["baseline"], r["speedup"]) for r in rows} == {("greedy", 2.0), ("static", 4.0)}
    assert {(r["dynamicity_cv"], r["seed"]) for r in rows} == {(0.0, 0), (0.0, 1), (1.0, 0),
                                                               (1.0, 1)}


def test_speedups_need_the_target_scheduler(tmp_path):
    """Without any run of the target there is nothing to pair: an input error."""
    with pytest.raises(InputError, match="no runs of 'ideal'"):
        speedup_rows(load_results(_write_results(tmp_path / "r.csv")), target="ideal")


@pytest.mark.parametrize("args", [
    ["--x", "seed", "--y", "makespan_cycles", "--hue", "scheduler"],
    ["--x", "workflow", "--y", "makespan_cycles", "--logy"],
    ["--kind", "speedup-vs-dynamicity"],
    ["--kind", "throughput-vs-clusters"],
])
def test_plot_writes_a_png(tmp_path, args):
    """Each kind of plot writes a non-empty PNG where --out says."""
    results = _write_results(tmp_path / "results.csv")
    out = tmp_path / "plots" / "p.png"
    result = CliRunner().invoke(app, ["plot", str(results), *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    from matplotlib.image import imread

    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert imread(out).shape[0] > 100


@pytest.mark.parametrize(("args", "needle"), [
    (["--x", "nope", "--y", "makespan_cycles"], "nope: not a column"),
    (["--x", "seed", "--y", "scheduler"], "scheduler: not a numeric column"),
    (["--x", "seed"], "needs --x FIELD and --y METRIC"),
    (["--kind", "pie"], "unknown 'pie'"),
])
def test_bad_plot_requests_exit_2(tmp_path, args, needle):
    """Unknown columns, a text metric, a missing axis or kind exit 2 and write no PNG."""
    results = _write_results(tmp_path / "results.csv")
    result = CliRunner().invoke(app, ["plot", str(results), *args])
    assert result.exit_code == 2 and needle in result.stderr
    assert not list(tmp_path.glob("*.png"))
