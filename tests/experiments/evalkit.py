"""A tiny serving evaluation shared by the evaluation, report and figure tests: two workflows
on chip, 16 instances per run, two seeds, Poisson and bursty arrivals, run in this process
(computed once per test process)."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from sweepkit import SerialBackend

from octopus.experiments.evaluate import evaluate
from octopus.experiments.evaluation import REACTIVE_GRID, WIDTH_GRID, Evaluation, Size

WORKFLOWS = ("face-recognition", "video-analytics")


def tiny_size() -> Size:
    return replace(Size.quick(), name="tiny", presets=("chip",), workflows=WORKFLOWS,
                   min_instances=16, max_instances={"chip": 16}, seeds=(0, 1),
                   loads=(0.5, 1.1), reference_load=0.5, rel_tol=0.2,
                   closed_instances={"chip": 16},
                   tuning={"reactive": REACTIVE_GRID[:2], "greedy": WIDTH_GRID[:2]})


@cache
def tiny_evaluation() -> Evaluation:
    return evaluate(tiny_size(), SerialBackend())
