"""Run directories: determinism, their files, the Chrome trace, and what bad input or a failing
run leaves behind (nothing)."""

from __future__ import annotations

import csv
import importlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from octopus.arch import load_arch
from octopus.cli.main import app
from octopus.run import RunResult, RunSpec, execute
from octopus.run.outdir import MARKER
from octopus.sched.greedy import Greedy, GreedyConfig
from octopus.sim.state import Task

resolve_module = importlib.import_module("octopus.run.resolve")  # the module, not the function
FILES = {"config.resolved.yaml", "summary.json", "firings.csv", "tbus.csv", "trace.json", MARKER}


def _spec(**kw) -> RunSpec:
    base = {"workflow": "face-recognition", "arch": "chip-4", "scheduler": "greedy",
            "instances": 30, "seed": 11}
    return RunSpec(**{**base, **kw})


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """One greedy run of face-recognition on chip-4, written to disk."""
    out = tmp_path_factory.mktemp("runs") / "r"
    execute(_spec(), out_dir=out)
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


# --- determinism ----------------------------------------------------------------------------


@pytest.mark.parametrize("scheduler", ["greedy", "static", "reactive"])
def test_same_seed_gives_byte_identical_files(scheduler, tmp_path):
    """Two runs of one spec write byte-identical summary, firings, TBU table and trace."""
    spec = _spec(scheduler=scheduler, instances=20)
    first = execute(spec, out_dir=tmp_path / "a")
    second = execute(spec, out_dir=tmp_path / "b")
    assert first == second
    for name in ("summary.json", "firings.csv", "tbus.csv", "trace.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_per_iteration_loop_decisions_repeat_byte_for_byte_and_are_traced_one_each(tmp_path):
    """llm-agent's decode loop is decided one iteration at a time: two octopus runs of one spec
    write byte-identical files, and the trace holds one control slice per decision
    (``i<n>/agent[k]?``, k = 0 .. the instance's count), all of the run's control firings."""
    from octopus.run import resolve_workflow
    from octopus.workflow import sample_instance

    spec = _spec(workflow="llm-agent", scheduler="octopus", instances=10)
    first = execute(spec, out_dir=tmp_path / "a")
    assert execute(spec, out_dir=tmp_path / "b") == first
    for name in ("summary.json", "firings.csv", "tbus.csv", "trace.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    events = json.loads((tmp_path / "a" / "trace.json").read_text())["traceEvents"]
    control = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"
               and e["args"]["name"] == "control"}
    slices = sorted(e["name"] for e in events if e["ph"] == "X" and e["pid"] in control)
    wf = resolve_workflow("llm-agent")
    decisions = []
    for i in range(10):
        steps = sum(f.block_id == "decode" for f in sample_instance(wf, spec.seed, i).firings)
        decisions += [f"i{i}/agent[{k}]?" for k in range(steps + 1)]
    assert [n for n in slices if n.endswith("?")] == sorted(decisions)
    assert len(slices) == first.control_firings


def test_another_seed_gives_another_run(tmp_path):
    """A different seed samples different instances, so the firings differ."""
    execute(_spec(instances=20), out_dir=tmp_path / "a")
    execute(_spec(instances=20, seed=12), out_dir=tmp_path / "b")
    assert ((tmp_path / "a" / "firings.csv").read_bytes()
            != (tmp_path / "b" / "firings.csv").read_bytes())


def test_summary_without_a_directory_equals_the_written_one(run_dir):
    """``execute`` without ``out_dir`` returns the result that a run directory holds."""
    result = execute(_spec())
    assert result.to_json() == (run_dir / "summary.json").read_text()
    assert RunResult.from_dict(json.loads((run_dir / "summary.json").read_text())) == result


# --- the files ------------------------------------------------------------------------------


def test_run_directory_holds_consistent_files(run_dir):
    """summary.json, firings.csv, tbus.csv and the resolved config agree with each other."""
    assert {p.name for p in run_dir.iterdir()} == FILES
    summary = json.loads((run_dir / "summary.json").read_text())
    makespan = summary["makespan_cycles"]
    firings = _rows(run_dir / "firings.csv")
    assert len(firings) == summary["task_firings"]
    assert len({(r["instance"], r["firing"]) for r in firings}) == len(firings)
    assert max(int(r["end_cycle"]) for r in firings) == makespan
    tbus = _rows(run_dir / "tbus.csv")
    assert [int(r["tbu"]) for r in tbus] == list(range(summary["tbus"]))
    for r in tbus:
        assert sum(int(v) for k, v in r.items() if k.endswith("_cycles")) == makespan
    assert sum(int(r["compute_cycles"]) for r in tbus) == summary["tbu_cycles"]["compute"]
    assert sum(summary["idle_breakdown"].values()) == pytest.approx(1.0)
    assert makespan >= summary["lower_bound_cycles"] > 0
    resolved = (run_dir / "config.resolved.yaml").read_text()
    assert "face-recognition" in resolved and "chip-4" in resolved and "greedy" in resolved


def test_trace_is_chrome_trace_json_with_one_track_per_unit(run_dir):
    """trace.json parses, with X slices on one track per used TBU, link and CBU."""
    doc = json.loads((run_dir / "trace.json").read_text())
    assert doc["displayTimeUnit"] == "ns" and doc["otherData"]["clock_hz"] == 1e9
    events = doc["traceEvents"]
    procs = {e["pid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "process_name"}
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
               if e["ph"] == "M" and e["name"] == "thread_name"}
    assert len(set(threads.values())) == len(threads)  # every track named once
    slices = [e for e in events if e["ph"] == "X"]
    assert slices and {e["ph"] for e in events} == {"M", "X"}
    for e in slices:
        assert (e["pid"], e["tid"]) in threads and e["dur"] >= 0 and e["ts"] >= 0

    kinds: dict[str, set[str]] = {}
    for (pid, _), name in threads.items():
        kinds.setdefault(procs[pid].split()[0], set()).add(name)
    # a 'tbu <id>' track under 'cluster <c>' for every TBU that ran a firing (chip-4: 16 TBUs
    # per cluster), and no other TBU tracks but their configuration reads ('tbu <id> loads')
    firings = _rows(run_dir / "firings.csv")
    used = {int(r["tbu"]) for r in firings}
    per = load_arch("chip-4").tbus_per_cluster
    tbu_tracks = {name: procs[pid] for (pid, _), name in threads.items()
                  if procs[pid].startswith("cluster") and "loads" not in name}
    loads_tracks = {name.split(" loads")[0] for (pid, _), name in threads.items()
                    if procs[pid].startswith("cluster") and "loads" in name}
    assert loads_tracks and loads_tracks <= set(tbu_tracks)
    assert tbu_tracks == {f"tbu {u}": f"cluster {u // per}" for u in used}
    assert kinds["control"] == {f"cbu {c}" for c in range(4)}  # instances round-robin
    assert kinds["links"] and all("tbu" in name and "->" in name for name in kinds["links"])

    # per TBU track: slices in time order never overlap (one thing at a time)
    by_track: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for e in slices:
        if procs[e["pid"]].startswith("cluster"):
            by_track.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"]))
    for spans in by_track.values():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end - 1e-9

    # every firing appears as a slice named after its block at start_cycle / 1000 us
    # (its compute; streamed weights may hold the TBU a while after it)
    firing_slices = {(e["args"]["firing"], e["ts"]): e["dur"] for e in slices
                     if "firing" in e.get("args", {})}
    assert len(firing_slices) == len(firings)
    for r in firings:
        start, end = int(r["start_cycle"]), int(r["end_cycle"])
        key = (f"i{r['instance']}/{r['label']}", round(start / 1000, 3))
        assert 0 <= firing_slices[key] <= round((end - start) / 1000, 3)


def test_contention_trace_shows_one_transfer_per_link_at_a_time(tmp_path):
    """Under the 'contention' NoC, the windows on each link's track never overlap."""
    execute(_spec(arch_overrides={"noc.model": "contention"}), out_dir=tmp_path / "r")
    doc = json.loads((tmp_path / "r" / "trace.json").read_text())
    events = doc["traceEvents"]
    links = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"
             and e["args"]["name"] == "links"}
    spans: dict[int, list[tuple[float, float]]] = {}
    for e in events:
        if e["ph"] == "X" and e["pid"] in links:
            spans.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"]))
    assert sum(len(v) for v in spans.values()) > 10
    for windows in spans.values():
        windows.sort()
        for (_, end), (start, _) in zip(windows, windows[1:], strict=False):
            assert start >= end - 1e-9


def test_host_round_trips_are_traced_on_lanes_that_never_overlap(tmp_path):
    """Under static, every Control Block's host round trip is a slice on a host lane, and the
    slices of one lane never overlap (overlapping round trips take separate lanes)."""
    from octopus.workflow import Constant, WorkflowBuilder

    starts_with_a_branch = (WorkflowBuilder("branchy")  # every instance asks the host at once
                            .branch("pick", "done", {"a": 0.5, "done": 0.5})
                            .task("a", "ai", 1e6).merge("done").flow("a", "done")
                            .fanout("again", Constant(value=2), ["b"]).task("b", "ai", 1e6)
                            .flow("done", "again").build())
    summary = execute(_spec(scheduler="static", workflow=starts_with_a_branch),
                      out_dir=tmp_path / "r")
    events = json.loads((tmp_path / "r" / "trace.json").read_text())["traceEvents"]
    lanes = {e["tid"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"
             and e["args"]["name"].startswith("host lane")}
    spans: dict[int, list[tuple[float, float]]] = {}
    for e in events:
        if e["ph"] == "X" and e["tid"] in lanes:
            spans.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"]))
    assert sum(len(v) for v in spans.values()) == summary.control_firings
    assert len(lanes) > 1  # 30 instances start at once: their first round trips overlap
    for windows in spans.values():
        windows.sort()
        for (_, end), (start, _) in zip(windows, windows[1:], strict=False):
            assert start >= end - 1e-9


def test_no_trace_option_skips_the_trace(tmp_path):
    """``trace=False`` writes every file but trace.json."""
    execute(_spec(instances=5), out_dir=tmp_path / "r", trace=False)
    assert {p.name for p in (tmp_path / "r").iterdir()} == FILES - {"trace.json"}


# --- failures leave nothing -----------------------------------------------------------------


class _Crashing(Greedy):
    """greedy that breaks down after ten firings."""

    def on_task_done(self, task: Task) -> None:
        super().on_task_done(task)
        if self.stats["decisions"] >= 10:
            raise RuntimeError("scheduler crashed")


def test_a_failing_run_leaves_nothing_half_written(tmp_path, monkeypatch):
    """A run that raises mid-way writes nothing and leaves an older run in place untouched."""
    monkeypatch.setattr(resolve_module, "scheduler_factory",
                        lambda choice: lambda m, w: _Crashing(GreedyConfig(), m, w))
    with pytest.raises(RuntimeError, match="crashed"):
        execute(_spec(), out_dir=tmp_path / "new")
    assert list(tmp_path.iterdir()) == []

    monkeypatch.undo()
    old = tmp_path / "old"
    execute(_spec(instances=5), out_dir=old)
    before = {p.name: p.read_bytes() for p in old.iterdir()}
    monkeypatch.setattr(resolve_module, "scheduler_factory",
                        lambda choice: lambda m, w: _Crashing(GreedyConfig(), m, w))
    with pytest.raises(RuntimeError, match="crashed"):
        execute(_spec(), out_dir=old)
    assert [p.name for p in tmp_path.iterdir()] == ["old"]
    assert {p.name: p.read_bytes() for p in old.iterdir()} == before


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("args, named", [
    (["--workflow", "no-such-flow"], "no-such-flow"),
    (["--workflow", "face-recognition", "--arch", "no-such-chip"], "no-such-chip"),
    (["--workflow", "face-recognition", "--scheduler", "no-such-sched"], "no-such-sched"),
    (["--workflow", "missing.yaml"], "missing.yaml"),
])
def test_cli_bad_input_exits_2_with_one_line_and_no_output(args, named, tmp_path, runner,
                                                           monkeypatch):
    """An unknown workflow, arch or scheduler exits 2 with one line and writes nothing."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["simulate", *args, "--instances", "3", "--out", str(out)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("rate", ["0", "-5"])
def test_cli_non_positive_rate_exits_2_with_one_line(rate, tmp_path, runner):
    """A rate that is not positive is bad input like any other: exit 2, one line, no output."""
    out = tmp_path / "out"
    result = runner.invoke(app, ["simulate", "--workflow", "face-recognition", "--instances",
                                 "3", "--rate", rate, "--out", str(out)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not out.exists()


def test_cli_writes_the_run_and_prints_its_summary(tmp_path, runner):
    """``octopus simulate --json --out DIR`` prints the summary that DIR/summary.json holds."""
    out = tmp_path / "out"
    result = runner.invoke(app, ["simulate", "--workflow", "recommendation", "--instances", "5",
                                 "--rate", "1000", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == json.loads((out / "summary.json").read_text())
    assert {p.name for p in out.iterdir()} == FILES


def test_result_objects_print_readably():
    """A run's result, scenario and spec print as one short line that says what ran."""
    from octopus.run import resolve

    spec = _spec(instances=5)
    for obj in (execute(spec), resolve(spec)):
        text = repr(obj)
        assert len(text) < 300 and "\n" not in text, text
        assert "face-recognition" in text and "chip-4" in text and "greedy" in text
