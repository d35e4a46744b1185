"""``octopus evaluate`` as a serving study: the headline's schema and arithmetic (on a
hand-made evaluation with known goodputs, and on a tiny real one), the report it writes, and
the command line end to end at CI size."""

from __future__ import annotations

import json
import math

import pytest
from evalkit import WORKFLOWS, tiny_evaluation, tiny_size
from typer.testing import CliRunner

from octopus.cli.main import app
from octopus.experiments.evaluate import mechanisms, roles
from octopus.experiments.evaluation import POISSON, TARGET, Evaluation, Size
from octopus.experiments.goodput import GoodputSearch, Probe
from octopus.experiments.report import write_report
from octopus.experiments.serving import Floor, Point


def _search(load: float) -> GoodputSearch:
    point = Point(load, 1.0, 1.0, 1.0, 1.0, 1.0, (1.0,), {"instances": 2.0, "utilization": 0.5})
    return GoodputSearch(load, None, None, (Probe(0.5, 1.0, point), Probe(1.1, 0.5, point)))


def _made_up() -> Evaluation:
    """Two workflows on one preset, capacity 100/s, two seeds; goodput loads chosen so the
    answers are known: Octopus 0.8 and 0.9; greedy 0.4 and 0.45 (2x); static 0 on one
    workflow (no goodput) and 0.9 on the other (1x)."""
    size = Size("made-up", ("chip",), 4.0, 2, {"chip": 2}, (0, 1), (0.5, 1.1), (POISSON,),
                0.0, {"chip": 2}, workflows=("a", "b"), reference_load=0.5)
    ev = Evaluation(size, ("greedy", "static"), (), {"dual": True, "diffusion": False})
    goodput = {("a", TARGET): (0.8, 0.8), ("b", TARGET): (0.9, 0.9),
               ("a", "greedy"): (0.4, 0.4), ("b", "greedy"): (0.45, 0.45),
               ("a", "static"): (0.0, 0.0), ("b", "static"): (0.9, 0.9)}
    for (wf, sched), loads in goodput.items():
        ev.searches[(wf, "chip", sched, POISSON)] = [_search(x) for x in loads]
    for wf in ("a", "b"):
        ev.capacity[(wf, "chip")] = 100.0
        ev.instances[(wf, "chip")] = ev.wanted_instances[(wf, "chip")] = 2
        for seed in (0, 1):
            ev.floors[(wf, "chip", seed)] = {
                s: Floor((10, 20), (10, 10), 80) for s in ("greedy", "static", TARGET)}
        # without dual: 0.72 of 0.8 / 0.9; with diffusion (off by default): the same as without
        ev.ablation[("dual", wf)] = [_search(0.9 * x) for x in goodput[(wf, TARGET)]]
        ev.ablation[("diffusion", wf)] = [_search(x) for x in goodput[(wf, TARGET)]]
    ev.clock_hz["chip"] = 1e9
    return ev


def test_a_mechanism_earns_its_place_only_by_costs_beyond_the_seeds_noise():
    """dual costs 10% in both seeds of both workflows: met. Then, on both workflows, removing
    dual leaves no goodput in one seed and changes nothing in the other: the ratio of means
    (0.5) says 50%, but the per-seed ratios (0 and 1) reach 1: not counted, missed."""
    from octopus.experiments.targets import check_targets

    ev = _made_up()
    line = next(x for x in check_targets(ev, ev.headline()) if x.startswith("- `dual`"))
    assert "on 2 (a, b)" in line and line.endswith("**met**.")
    for wf, loads in (("a", (0.8, 0.8)), ("b", (0.9, 0.9))):
        ev.ablation[("dual", wf)] = [_search(0.0), _search(loads[1])]
    line = next(x for x in check_targets(ev, ev.headline()) if x.startswith("- `dual`"))
    assert "on 0; by the mean alone, its interval reaching 1, on 2 more (a, b)" in line
    assert line.endswith("**missed**.")


def test_the_headline_on_known_goodputs():
    """goodput[wf][preset][sched] in instances/s; the speedup over greedy is 2x everywhere;
    static's cell without goodput is left out of its mean and counted; the ablation is
    without / with (0.9 for dual, 1 for diffusion switched on); capacity_ratio is Octopus's
    goodput over capacity."""
    h = json.loads(json.dumps(_made_up().headline()))
    assert h["goodput"]["a"]["chip"] == {"greedy": 40.0, "static": 0.0, TARGET: 80.0}
    speed = h["goodput_speedup"]
    assert speed["geomean"]["greedy"] == pytest.approx(2.0)
    assert speed["max"]["greedy"] == pytest.approx(2.0)
    assert speed["geomean"]["static"] == pytest.approx(1.0)
    assert speed["baseline_no_goodput"] == {"greedy": 0, "static": 1}
    assert speed["octopus_no_goodput"] == speed["neither_goodput"] == {"greedy": 0, "static": 0}
    assert speed["better"]["greedy"] == 2 and speed["tie"]["static"] == 1
    assert h["ablation"]["dual"] == {"a": pytest.approx(0.9), "b": pytest.approx(0.9)}
    assert h["ablation"]["diffusion"] == {"a": 1.0, "b": 1.0}
    assert h["capacity_ratio"] == {"a": {"chip": 0.8}, "b": {"chip": 0.9}}
    assert h["latency_floor_cycles"]["a"]["chip"] == 15.0
    assert h["critical_path_cycles"]["a"]["chip"] == 10.0
    assert h["goodput_interval"]["a"]["chip"][TARGET] == [80.0, 80.0]


def test_a_tiny_evaluation_fills_the_issue_schema():
    """Every workflow, preset and scheduler (references too) has a goodput no higher than
    capacity, a speedup per baseline (none per reference), an ablation ratio per mechanism and
    workflow, a capacity ratio, and the bursty process its own block."""
    ev = tiny_evaluation()
    h = json.loads(json.dumps(ev.headline()))
    baselines, references = roles()
    assert set(h["goodput"]) == set(WORKFLOWS)
    for wf in WORKFLOWS:
        assert set(h["goodput"][wf]["chip"]) == {*baselines, *references, TARGET}
        for sched, g in h["goodput"][wf]["chip"].items():
            low, high = h["goodput_interval"][wf]["chip"][sched]
            assert 0 <= low <= g <= high and g <= h["capacity"][wf]["chip"] * (1 + 1e-9)
        assert 0 <= h["capacity_ratio"][wf]["chip"] <= 1
    assert set(h["goodput_speedup"]["geomean"]) == set(h["goodput_speedup"]["max"]) \
        == set(baselines)
    assert set(h["ablation"]) == set(mechanisms())
    assert all(set(v) == set(WORKFLOWS) for v in h["ablation"].values())
    assert set(h["by_arrival_cv"]) == {"3"}
    assert h["by_arrival_cv"]["3"]["arrival_cv"] == 3.0
    assert h["size"]["seeds"] == [0, 1] and h["wall_s"] > 0 and h["cpu_s"] > 0
    parts = h["cpu_s_by_part"]
    assert set(parts) == {"latency floors", "tuning", "goodput searches", "closed batch",
                          "ablation"}
    assert all(set(by) == {"chip"} for by in parts.values())
    assert sum(s for by in parts.values() for s in by.values()) == pytest.approx(h["cpu_s"])


def test_the_tiny_evaluation_measured_floors_and_searched_every_cell():
    """Floors are at least the analytic critical path on today's machine; each search ran
    the grid first; each tuned baseline was tuned to one of its grid settings."""
    ev = tiny_evaluation()
    size = tiny_size()
    for wf in WORKFLOWS:
        assert ev.floor_cycles(wf, "chip") >= ev.critical_path_cycles(wf, "chip")
        for sched, grid in size.tuning.items():
            assert ev.tuned[(sched, wf, "chip")] in grid
        for sched in ev.schedulers:
            for cv in size.arrival_cvs:
                searches = ev.searches[(wf, "chip", sched, cv)]
                assert len(searches) == len(size.seeds)
                for s in searches:
                    assert [p.load for p in s.probes[:2]] == list(size.loads)
                    assert s.goodput_load <= 1.0
            assert math.isfinite(ev.closed[(wf, "chip", sched)]["throughput_instances_per_s"])


def test_the_report_holds_every_file_and_states_the_targets(tmp_path):
    """report.md, headline.json, the CSV files and the figures are written; the report states
    the protocol, each target met or missed, and links every figure."""
    out = write_report(tiny_evaluation(), tmp_path / "report", "octopus evaluate (test)")
    names = {p.name for p in out.iterdir()}
    assert {"report.md", "headline.json", "bounds.csv", "goodput.csv", "curves.csv",
            "points.csv", "ablation.csv", "closed.csv", "goodput.png", "latency_chip.png",
            "attainment_chip.png", "slo_scale.png", "ablation.png"} <= names
    report = (out / "report.md").read_text()
    for needle in ("## Protocol", "## Targets", "## Bounds", "## Goodput, Poisson arrivals",
                   "## Goodput, bursty arrivals (Gamma, CV 3)", "## Ablation",
                   "## Closed batch", "octopus evaluate (test)"):
        assert needle in report, needle
    assert report.count("**met**") + report.count("**missed**") \
        + report.count("**not evaluated**") >= 6
    for name in names:
        if name.endswith(".png"):
            assert f"]({name})" in report, name
    rows = (out / "points.csv").read_text().splitlines()
    assert rows[0].startswith("study,workflow,preset,scheduler,arrival_cv,seed,load")


def test_evaluate_command_at_ci_size(tmp_path):
    """--quick on chip for one workflow at 12 instances prints the headline with --json and
    writes the report."""
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["evaluate", "--quick", "--arch", "chip", "--workflow",
                                      "face-recognition", "--instances", "12", "--workers", "1",
                                      "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output + str(result.exception)
    head = json.loads(result.stdout)
    assert list(head["goodput"]) == ["face-recognition"]
    assert list(head["goodput"]["face-recognition"]) == ["chip"]
    assert (out / "report.md").is_file() and (out / "headline.json").is_file()


@pytest.mark.parametrize("args, needle", [
    (["--arch", "nope"], "nope"),
    (["--workflow", "nope"], "nope"),
    (["--arch", "chip", "--arch", "chip"], "--arch"),
    (["--set", "scheduler.dual=false"], "arch."),
])
def test_evaluate_refuses_bad_input_before_running(tmp_path, args, needle):
    """A bad preset, workflow or override exits 2 with one line and writes nothing."""
    result = CliRunner().invoke(app, ["evaluate", *args, "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and needle in result.stderr, result.output
    assert not (tmp_path / "r").exists()


def test_a_size_must_include_poisson_and_its_reference_load():
    with pytest.raises(ValueError, match="reference_load"):
        Size.quick().__class__(**{**Size.quick().__dict__, "reference_load": 0.33})
    with pytest.raises(ValueError, match="min_load"):
        Size.quick().__class__(**{**Size.quick().__dict__, "min_load": 0.5})
    with pytest.raises(ValueError, match="Poisson"):
        Size.quick().__class__(**{**Size.quick().__dict__, "arrival_cvs": (3.0,)})


def test_references_are_shown_but_are_no_baselines(monkeypatch):
    """`clairvoyant`, and a scheduler class flagged ``reference``, are references; every other
    registered scheduler but the target is a baseline."""
    import octopus.experiments.evaluate as evaluate_module

    class Flagged:
        reference = True

    class Plain:
        pass

    classes = {"clairvoyant": Plain, "oracle": Flagged, "greedy": Plain, TARGET: Plain}
    monkeypatch.setattr(evaluate_module, "scheduler_names", lambda: sorted(classes))
    monkeypatch.setattr(evaluate_module, "scheduler_class", classes.__getitem__)
    assert roles() == (("greedy",), ("clairvoyant", "oracle"))
