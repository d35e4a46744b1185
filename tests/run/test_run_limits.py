"""Run, machine, sweep and torch-model size limits: what cannot run is refused before any work
with exit 2 and one line naming the option and the limit, and nothing is written."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from octopus.cli.main import app

SIMULATE = ["simulate", "--workflow", "face-recognition", "--instances", "2"]


def _refused(args: list[str], *needles: str) -> None:
    result = CliRunner().invoke(app, args)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.output, result.exception)
    assert lines and all(line.startswith("error: ") for line in lines), lines
    for needle in needles:
        assert needle in lines[0], lines


@pytest.mark.parametrize("extra, needles", [
    (["--instances", "100000000"], ("--instances", "5000000")),
    (["--instances", "1000000"], ("--instances", "over the limit of 5,000,000 per run")),
    (["--set", "instances=1000000"], ("--set instances", "5,000,000")),
    (["--arch", "wafer", "--set", "arch.chip.clusters_x=1000", "--set",
      "arch.chip.clusters_y=1000"], ("16,000,000 TBUs", "over the limit of 65,536")),
    (["--rate", "1e-300"], ("--rate", "0.000001")),
    (["--rate", "0"], ("--rate",)),
    (["--set", "arch.pea.ai_efficiency=1e-310"], ("--set arch.pea.ai_efficiency", "0.000001")),
    (["--set", "arch.clock_hz=1e-300"], ("--set arch.clock_hz", "1000")),
    (["--set", "arch.clock_hz=.inf"], ("--set arch.clock_hz",)),
    (["--set", "arch.pea.sram_bytes=1" + "0" * 400], ("9007199254740992",)),
    (["--set", "dynamicity_cv=1e200"], ("--set dynamicity_cv", "100")),
    (["--set", "dynamicity_cv=50"], ("--set dynamicity_cv: 50 makes block", "limit")),
])
def test_simulate_refuses_what_cannot_run(extra, needles, tmp_path):
    """Sizes and numbers over a limit exit 2 naming the option and the limit, write nothing."""
    _refused([*SIMULATE, *extra, "--out", str(tmp_path / "run")], *needles)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("grid, needles", [
    ("\n".join(f"  arch.cbu.latency_cycles: [{', '.join(map(str, range(10)))}]"
               .replace("latency_cycles", k) for k in
               ["latency_cycles", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9"]),
     ("10 x 10 x 10", "10,000,000,000 points", "limit of 100,000 per sweep")),
    ("  dynamicity_cv: [.nan, 1]", ("dynamicity_cv", "finite")),
    ("  dynamicity_cv: [1.0e200]", ("dynamicity_cv", "100")),
    ("  dynamicity_cv: [50]", ("dynamicity_cv: 50 makes block", "limit")),
])
def test_sweep_refuses_what_cannot_run_before_creating_its_folder(grid, needles, tmp_path):
    """A huge grid or a number no point could run with exits 2 and writes nothing."""
    spec = tmp_path / "sweep.yaml"
    spec.write_text(f"base: {{workflow: face-recognition, instances: 2}}\ngrid:\n{grid}\n")
    _refused(["sweep", str(spec), "--out", str(tmp_path / "out")], *needles)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name, shape, needle", [
    ("gpt", [1, 100000000], "input_shape.1: Input should be less than or equal to 16777216"),
    ("gpt", [1, 16777216], "16 GiB of weights, over the limit of 1 GiB"),
    ("mlp", [1, 16000000], "GiB of weights, over the limit of 1 GiB"),
    ("mlp", [70000, 70000], "4,900,000,000 input elements, over the limit of 4,294,967,296"),
])
def test_a_torch_model_too_large_to_build_is_refused_unbuilt(name, shape, needle, tmp_path,
                                                           monkeypatch):
    """check refuses a torch_model whose input or weights would take gigabytes, without
    allocating them (weights are counted on the meta device)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "wf.yaml"
    path.write_text("name: big\nblocks:\n  - {id: m, type: task, kind: ai, torch_model: "
                    f"{{name: {name}, input_shape: {shape}}}}}\n")
    result = CliRunner().invoke(app, ["check", str(path)])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and needle in lines[0], lines
