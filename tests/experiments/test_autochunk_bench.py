"""The quick benchmark runs end to end: exact outputs, measured memory drops, reports written."""

from __future__ import annotations

import csv
from pathlib import Path

from octopus.experiments.autochunk_bench import run_benchmark

REQUIRED = {"family", "seq_len", "plan", "peak_original_bytes", "peak_chunked_bytes",
            "time_original_s", "time_chunked_s", "estimate_error", "search_s", "device"}


def test_quick_benchmark(tmp_path: Path) -> None:
    """Every plan matches eager; AutoChunk plans that meet their budget cut the measured peak."""
    report = run_benchmark(tmp_path, quick=True, max_seq=False, plots=False, repeats=1,
                           fractions=(0.5,), extras=False,
                           seq_lens={"gpt": [256], "vit": [256], "evoformer": [32],
                                     "unet": [256]})
    assert {r.family for r in report.rows} == {"gpt", "vit", "evoformer", "unet"}
    for row in report.rows:
        assert row.max_abs_err < 1e-4, row
        if row.plan.startswith("autochunk-") and row.meets_budget:
            assert row.peak_chunked_bytes <= row.budget_bytes, row
            assert row.peak_chunked_bytes < row.peak_original_bytes, row
    halves = [r for r in report.rows if r.plan == "autochunk-50"]
    assert len(halves) == 4
    missed = [r for r in halves if not (r.meets_budget and r.memory_cut >= 0.4)]
    assert not missed, missed
    with (tmp_path / "results.csv").open() as fh:
        assert set(csv.DictReader(fh).fieldnames or []) >= REQUIRED
    assert (tmp_path / "results.md").read_text().startswith("# AutoChunk benchmark")
