"""`octopus calibrate`'s report: one row per layer and dataflow, the fit recovers the closed
form's coefficients from cycles that follow it, every file is written (SCALE-Sim replaced by a
stand-in so the test is fast; SCALE-Sim itself is checked in tests/cost/test_scalesim.py)."""

from __future__ import annotations

import csv
import json

import pytest

from octopus.cost.scalesim import ScaleSimResult
from octopus.cost.systolic import FOLD_TIMING, layer_cycles
from octopus.experiments import calibration

pytest.importorskip("matplotlib")


@pytest.fixture
def stand_in(monkeypatch):
    """SCALE-Sim answering with the closed form's cycles (a whole run for every layer)."""

    def simulate(layer, rows, cols, dataflow, **_):
        cycles = layer_cycles(layer, rows, cols, dataflow)
        return ScaleSimResult(cycles, layer.macs / (rows * cols * cycles), 1, 1, 1, 1, "full",
                              "stand-in")

    monkeypatch.setattr(calibration, "simulate_layer", simulate)


def test_the_report_has_every_layer_and_the_fit_recovers_the_closed_form(tmp_path, stand_in):
    rows = calibration.calibrate(["DLRM-MLP-top50", "MobileFaceNet-112"], 16, 16)
    layers = {name: calibration.model_layers(name) for name in ("DLRM-MLP-top50",
                                                                 "MobileFaceNet-112")}
    assert len(rows) == 3 * sum(len(v) for v in layers.values())
    assert all(r.rel_error == 0 for r in rows)
    fits = calibration.fit_fold_timing(rows, 16, 16)
    for df, fit in fits.items():
        code = FOLD_TIMING[df]
        assert fit.a * 16 + fit.b * 16 + fit.c == pytest.approx(code.a * 16 + code.b * 16 + code.c)
        assert fit.d == pytest.approx(code.d, abs=1e-6)
    out = calibration.write_report(tmp_path / "cal", rows, list(layers), 16, 16, "test")
    assert {p.name for p in out.iterdir()} >= {"layers.csv", "models.csv", "fit.json",
                                                "errors.png", "report.md"}
    with (out / "layers.csv").open() as fh:
        header = next(csv.reader(fh))
    assert header[:11] == ["model", "layer", "op", "m", "n", "k", "count", "dataflow",
                           "scalesim_cycles", "model_cycles", "rel_error"]
    assert set(json.loads((out / "fit.json").read_text())) == {"os", "ws", "is"}
    assert "median |rel. error| 0.00%" in (out / "report.md").read_text()
