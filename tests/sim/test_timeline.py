"""The Chrome trace of a run nests on every track (what Perfetto needs), whatever the NoC model:
overlapping windows of one resource go to separate lanes."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from octopus.run import RunSpec, execute
from octopus.sim.timeline import Lanes


def test_lanes_reuse_the_first_free_lane():
    """A window takes the lowest lane free at its start; a new lane only when all are busy."""
    lanes = Lanes()
    assert [lanes.place(0, 10), lanes.place(5, 8), lanes.place(8, 12), lanes.place(10, 11),
            lanes.place(9, 20)] == [0, 1, 1, 0, 2]


def _overlaps(trace: dict) -> dict[tuple[int, int], int]:
    """Per track, how many pairs of complete slices overlap without nesting (by more than the
    round-off of cycles as float microseconds, 1e-6 us, a thousandth of a cycle at 1 GHz)."""
    spans: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
    for e in trace["traceEvents"]:
        if e["ph"] == "X":
            spans[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"]))
    bad = {}
    for track, windows in spans.items():
        windows.sort()
        n, open_ends = 0, []
        for start, end in windows:
            open_ends = [x for x in open_ends if x > start + 1e-6]
            n += sum(1 for x in open_ends if end > x + 1e-6)  # starts inside, ends outside
            open_ends.append(end)
        if n:
            bad[track] = n
    return bad


@pytest.mark.parametrize("noc", ["analytic", "contention"])
@pytest.mark.parametrize("workflow, arch, scheduler", [
    ("face-recognition", "chip-4", "octopus"),    # the README's own command, smaller
    ("llm-agent", "chip-4", "static"),            # host round trips
    ("recommendation", "wafer", "greedy"),        # die-to-die links
])
def test_every_track_nests(workflow, arch, scheduler, noc, tmp_path):
    """No two slices of one track overlap without one containing the other."""
    spec = RunSpec(workflow=workflow, arch=arch, scheduler=scheduler, instances=60, seed=1,
                   arch_overrides={"noc.model": noc})
    execute(spec, out_dir=tmp_path / "r")
    trace = json.loads((tmp_path / "r" / "trace.json").read_text())
    assert sum(e["ph"] == "X" for e in trace["traceEvents"]) > 100
    assert _overlaps(trace) == {}


def test_overlapping_link_windows_get_numbered_lanes(tmp_path):
    """Under the contention-free NoC concurrent transfers share a link: they are drawn on lanes
    '<link>', '<link> #2', ... of the links process."""
    spec = RunSpec(workflow="face-recognition", arch="chip-4", scheduler="octopus", instances=60,
                   seed=1, arch_overrides={"noc.model": "analytic"})
    execute(spec, out_dir=tmp_path / "r")
    events = json.loads((tmp_path / "r" / "trace.json").read_text())["traceEvents"]
    names = {e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert any(n.endswith(" #2") and "->" in n for n in names)
