"""Sweeps: spec expansion, checks before running, streaming results and resuming."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sweepkit import SPEC_12, SerialBackend, write_spec
from typer.testing import CliRunner

from octopus.cli.main import app
from octopus.errors import InputError
from octopus.experiments import sweep as sweep_mod
from octopus.experiments.sweep import (
    METRICS,
    load_sweep,
    parse_assignments,
    plan_sweep,
    run_sweep,
    spec_fields,
)


def _plan(tmp_path, text=SPEC_12):
    path = write_spec(tmp_path, text)
    return plan_sweep(load_sweep(path), path)


def _summaries(out):
    """Finished points' summary files (hidden names are staging directories of running points)."""
    return [p for p in out.glob("points/*/summary.json") if not p.parent.name.startswith(".")]


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


# --- expansion ----------------------------------------------------------------------------------
def test_grid_times_points_gives_every_combination(tmp_path):
    """2 schedulers x 2 seeds x 3 points make 12 points with distinct ids and resolved values."""
    plan = _plan(tmp_path)
    assert len(plan.points) == 12 and len({p.id for p in plan.points}) == 12
    combos = {(p.params["scheduler"], p.params["seed"], p.params["arch.chip.clusters_x"],
               p.params["arch.chip.clusters_y"]) for p in plan.points}
    assert combos == {(s, seed, x, y) for s in ("greedy", "octopus") for seed in (0, 1)
                      for x, y in ((1, 1), (2, 1), (2, 2))}
    assert {p.clusters for p in plan.points} == {1, 2, 4}
    assert all(p.params["instances"] == 20 and p.params["arch"] == "chip" for p in plan.points)


def test_point_ids_depend_only_on_resolved_parameters(tmp_path):
    """Writing a default explicitly, or a number as text, keeps the id; a new value changes it."""
    a = _plan(tmp_path, "base: {workflow: face-recognition, instances: 20}\ngrid: {seed: [0]}\n")
    b = _plan(tmp_path, "base: {workflow: face-recognition, arch: chip, instances: '20', "
                        "scheduler: octopus}\npoints: [{seed: 0}]\n")
    c = _plan(tmp_path, "base: {workflow: face-recognition, instances: 21}\ngrid: {seed: [0]}\n")
    assert a.points[0].id == b.points[0].id != c.points[0].id


def test_dynamicity_axis_reshapes_the_workflow(tmp_path):
    """dynamicity_cv sets the CV of every task's work distribution in the workflow a point runs."""
    from octopus.run import resolve

    plan = _plan(tmp_path, "base: {workflow: face-recognition, instances: 20}\n"
                           "grid: {dynamicity_cv: [0, 1.5]}\n")
    for point, cv in zip(plan.points, (0.0, 1.5), strict=True):
        works = [b.work.model_dump(by_alias=True) for b in resolve(point.spec).workflow.blocks
                 if b.type == "task"]
        assert point.params["dynamicity_cv"] == cv
        if cv:
            assert all(w["dist"] == "lognormal" and w["cv"] == cv for w in works)
        else:
            assert all(w["dist"] == "constant" for w in works)


# --- checks before running ----------------------------------------------------------------------
BAD_SPECS = [
    ("gird: {seed: [0]}\nbase: {workflow: face-recognition}\n", "gird"),
    ("base: {workflow: face-recognition}\ngrid: {schedulr: [greedy]}\n", "unknown key 'schedulr'"),
    ("base: {workflow: face-recognition}\ngrid: {arch.cluster.tbusx: [2]}\n", "tbusx"),
    ("base: {workflow: face-recognition}\ngrid: {}\n", "empty grid"),
    ("base: {workflow: face-recognition}\ngrid: {seed: []}\n", "axis 'seed' has no values"),
    ("base: {workflow: face-recognition}\n", "nothing to sweep"),
    ("base: {workflow: face-recognition}\ngrid: {seed: 3}\n", "valid list"),
    ("base: {workflow: face-recognition}\ngrid: {seed: [[0, 1]]}\n",
     "grid.seed.0: expected a single value"),
    ("base: {workflow: face-recognition}\ngrid: {seed: [0, zero]}\n", "valid integer"),
    ("base: {workflow: face-recognition}\ngrid: {arch.cluster.tbus_x: [4, x]}\n", "valid integer"),
    ("base: {workflow: face-recognition}\ngrid: {scheduler: [greedy, reactive], "
     "scheduler.window_cycles: [5]}\n", "window_cycles"),
    ("base: {workflow: no-such-flow}\ngrid: {seed: [0]}\n", "no-such-flow"),
    ("base: {workflow: face-recognition}\ngrid: {dynamicity_cv: [0.5, -1]}\n", "dynamicity_cv"),
    ("base: {workflow: face-recognition}\npoints: [{seed: 0}, {seed: 0}]\n", "same run"),
    ("grid: {seed: [0]}\n", "workflow"),
]


@pytest.mark.parametrize(("text", "needle"), BAD_SPECS)
def test_bad_spec_exits_2_before_anything_runs(tmp_path, text, needle):
    """A bad spec (unknown field, empty grid, wrong type, bad value in any point) exits 2 with
    a one-line message naming the problem, and writes nothing."""
    spec = write_spec(tmp_path, text)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert needle in result.stderr and result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_a_bad_last_point_is_caught_before_the_first_runs(tmp_path):
    """The message names the failing point (1-based, with its settings) and nothing runs."""
    spec = write_spec(tmp_path, "base: {workflow: face-recognition, instances: 20}\n"
                                "points: [{seed: 0}, {seed: 1}, {seed: -1}]\n")
    with pytest.raises(InputError, match=r"point 3 of 3 \(seed=-1\): seed"):
        plan_sweep(load_sweep(spec), spec)


# --- running and resuming -----------------------------------------------------------------------
def test_sweep_writes_one_run_directory_and_row_per_point(tmp_path):
    """Every point gets points/<id>/summary.json and one results.csv row with its metrics."""
    plan = _plan(tmp_path)
    report = run_sweep(plan, tmp_path / "out", SerialBackend())
    assert (report.total, report.skipped, report.ran, report.failed) == (12, 0, 12, {})
    rows = _rows(tmp_path / "out" / "results.csv")
    assert sorted(r["point"] for r in rows) == sorted(p.id for p in plan.points)
    assert list(rows[0]) == plan.columns
    for row in rows:
        summary = json.loads((tmp_path / "out" / "points" / row["point"] / "summary.json")
                             .read_text())
        assert float(row["makespan_cycles"]) == summary["makespan_cycles"]
        assert all(row[m] != "" for m in METRICS if m != "slo_attainment")
        assert row["slo_attainment"] == ""  # no SLO in the spec
        assert not (tmp_path / "out" / "points" / row["point"] / "trace.json").exists()
    assert int(next(r for r in rows if r["clusters"] == "4")["tbus"]) == 64


def test_interrupted_sweep_resumes_without_recomputing(tmp_path):
    """After an interrupt at 5 of 12 points, results.csv holds those 5 rows, and a re-run runs
    exactly the other 7 and ends with all 12 rows."""
    plan = _plan(tmp_path)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(plan, out, SerialBackend(stop_after=5))
    first = {r["point"] for r in _rows(out / "results.csv")}
    assert len(first) == 5
    again = SerialBackend()
    report = run_sweep(plan, out, again)
    assert (report.skipped, report.ran) == (5, 7)
    assert {p.id for p in again.seen} == {p.id for p in plan.points} - first
    assert sorted(r["point"] for r in _rows(out / "results.csv")) == sorted(
        p.id for p in plan.points)


def test_results_csv_is_rebuilt_from_finished_points(tmp_path):
    """A results.csv that lost rows (or gained junk) is rebuilt from points/ on the next run."""
    plan = _plan(tmp_path)
    out = tmp_path / "out"
    run_sweep(plan, out, SerialBackend())
    (out / "results.csv").write_text("junk\n")
    report = run_sweep(plan, out, SerialBackend())
    assert (report.skipped, report.ran) == (12, 0)
    assert len(_rows(out / "results.csv")) == 12


def test_failed_point_is_reported_and_retried(tmp_path, monkeypatch):
    """A point whose run raises is left out of results.csv, reported, and run again next time."""
    plan = _plan(tmp_path)
    real = sweep_mod.execute

    def flaky(spec, **kw):
        if spec.scheduler.name == "octopus" and spec.seed == 1:
            raise RuntimeError("boom")
        return real(spec, **kw)

    monkeypatch.setattr(sweep_mod, "execute", flaky)
    report = run_sweep(plan, tmp_path / "out", SerialBackend())
    assert report.ran == 9 and len(report.failed) == 3
    assert all("RuntimeError: boom" in e for e in report.failed.values())
    monkeypatch.setattr(sweep_mod, "execute", real)
    again = SerialBackend()
    report = run_sweep(plan, tmp_path / "out", again)
    assert {p.id for p in again.seen} == set(report.failed) | {
        p.id for p in plan.points if p.spec.scheduler.name == "octopus" and p.spec.seed == 1}
    assert (report.ran, report.failed) == (3, {})


def test_killed_sweep_completes_on_rerun_without_recomputing(tmp_path):
    """SIGKILL of a running `octopus sweep` (and its workers) midway; the re-run finishes the
    rest, leaves the finished points' files untouched, and no staging directory survives."""
    spec = write_spec(tmp_path, SPEC_12.replace("instances: 20", "instances: 60"))
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", "from octopus.cli.main import main; main()",
           "sweep", str(spec), "--out", str(out), "--workers", "1"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while len(_summaries(out)) < 3 and proc.poll() is None:
            assert time.monotonic() < deadline, "the sweep made no progress"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done = {p.parent.name: (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in _summaries(out)}
    assert 3 <= len(done) < 12

    result = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(out), "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert f"12 points: {len(done)} already finished, {12 - len(done)} run, 0 failed" \
        in result.stdout
    for pid, stamp in done.items():
        path = out / "points" / pid / "summary.json"
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == stamp
    assert len(_summaries(out)) == 12
    assert not list((out / "points").glob(".*"))
    assert len({r["point"] for r in _rows(out / "results.csv")}) == 12


# --- settings (--set) ---------------------------------------------------------------------------
def test_assignments_read_values_like_yaml_files():
    """Values are YAML scalars with the config files' rules (1e9 is a float)."""
    got = parse_assignments(["a=8", "b=0.5", "c=1e9", "d=true", "e=greedy", "f="])
    assert got == {"a": 8, "b": 0.5, "c": 1e9, "d": True, "e": "greedy", "f": None}
    assert type(got["c"]) is float


@pytest.mark.parametrize("items", [["novalue"], ["=3"], ["a=1", "a=2"], ["a=[1, 2]"]])
def test_bad_assignments_are_input_errors(items):
    """Missing '=', empty or repeated keys and non-scalar values are rejected."""
    with pytest.raises(InputError):
        parse_assignments(items)


def test_settings_become_run_spec_fields():
    """arch.* become overrides, scheduler.* the scheduler's parameters (of the default scheduler
    unless one is named), the rest run fields; others are refused."""
    assert spec_fields({"arch.cluster.tbus_x": 2, "scheduler.window_cycles": 5, "seed": 3,
                        "scheduler": "reactive"}) == {
        "arch_overrides": {"cluster.tbus_x": 2}, "seed": 3,
        "scheduler": {"name": "reactive", "window_cycles": 5}}
    assert spec_fields({"scheduler.dual": False})["scheduler"] == {"name": "octopus",
                                                                   "dual": False}
    with pytest.raises(InputError, match="unknown key"):
        spec_fields({"workflow": "x"}, allowed=("seed",))


def test_files_in_a_spec_are_found_beside_the_spec(tmp_path, monkeypatch):
    """A workflow or architecture file named in a spec is relative to the spec's folder, not to
    the current directory; the id keeps the path as written."""
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "wf.yaml").write_text(
        "name: one\nblocks:\n  - {id: a, type: task, kind: ai, work: {dist: constant, value: 5}}\n")
    from octopus.arch import PRESET_DIR

    (folder / "hw.yaml").write_text((PRESET_DIR / "chip.yaml").read_text())
    spec = write_spec(folder, "base: {workflow: wf.yaml, arch: hw.yaml, instances: 2}\n"
                              "grid: {seed: [0, 1]}\n")
    monkeypatch.chdir(tmp_path)  # not the spec's folder
    plan = plan_sweep(load_sweep(spec), spec)
    assert [p.params["workflow"] for p in plan.points] == ["wf.yaml", "wf.yaml"]
    assert plan.points[0].spec.workflow == str(folder / "wf.yaml")
    assert plan.points[0].spec.arch == str(folder / "hw.yaml")
