"""The Chrome trace writer: valid JSON, named tracks, cycle->us conversion, atomic output."""

from __future__ import annotations

import json

import pytest

from octopus.sim.trace import ChromeTraceWriter, Track


def _events(path) -> list[dict]:
    return json.loads(path.read_text())["traceEvents"]


def test_output_parses_with_expected_events(tmp_path):
    """Slices and instants land on named tracks with us timestamps (1 GHz: 1500 cycles = 1.5)."""
    path = tmp_path / "t.json"
    with ChromeTraceWriter(path, clock_hz=1e9, other_data={"arch": "chip"}) as trace:
        tbu = trace.track("cluster 0", "TBU 3")
        trace.slice(tbu, "detector", 1500, 2500, {"instance": 7})
        trace.instant(("CBUs", "CBU 0"), "branch", 4000)
        trace.slice(("cluster 0", "TBU 3"), "nms", 4001, 0)
    doc = json.loads(path.read_text())
    assert doc["displayTimeUnit"] == "ns"
    assert doc["otherData"] == {"clock_hz": 1e9, "arch": "chip"}
    events = doc["traceEvents"]
    meta = {(e["name"], e["args"].get("name")) for e in events if e["ph"] == "M"}
    assert {("process_name", "cluster 0"), ("thread_name", "TBU 3")} <= meta
    assert {("process_name", "CBUs"), ("thread_name", "CBU 0")} <= meta
    work = [e for e in events if e["ph"] != "M"]
    assert work[0] == {
        "ph": "X",
        "pid": 1,
        "tid": 1,
        "ts": 1.5,
        "dur": 2.5,
        "name": "detector",
        "args": {"instance": 7},
    }
    assert (work[1]["ph"], work[1]["ts"], work[1]["pid"]) == ("i", 4.0, 2)
    assert (work[2]["ts"], work[2]["dur"], work[2]["tid"]) == (4.001, 0.0, 1)


def test_track_is_reused(tmp_path):
    """Asking twice for a track returns the same ids and names it once."""
    path = tmp_path / "t.json"
    with ChromeTraceWriter(path) as trace:
        a = trace.track("links", "tbu0->tbu1")
        assert trace.track("links", "tbu0->tbu1") == a == Track(1, 1)
        b = trace.track("links", "tbu1->tbu0")
        assert (b.pid, b.tid) == (1, 2)
    names = [e for e in _events(path) if e["name"] == "thread_name"]
    assert len(names) == 2


def test_names_are_escaped(tmp_path):
    """Quotes and backslashes in names survive the round trip."""
    path = tmp_path / "t.json"
    with ChromeTraceWriter(path) as trace:
        trace.slice(("p", 't"1'), 'a "b" \\ c', 0, 1)
    assert [e["name"] for e in _events(path) if e["ph"] == "X"] == ['a "b" \\ c']


def test_other_clock_keeps_cycle_resolution(tmp_path):
    """At 1.5 GHz a cycle is 0.000667 us: 4 decimals keep consecutive cycles apart."""
    path = tmp_path / "t.json"
    with ChromeTraceWriter(path, clock_hz=1.5e9) as trace:
        trace.slice(("p", "t"), "a", 3, 1)
        trace.slice(("p", "t"), "b", 4, 1)
    ts = [e["ts"] for e in _events(path) if e["ph"] == "X"]
    assert ts == [0.002, 0.0027]


def test_nothing_at_target_until_close(tmp_path):
    """While writing, only a hidden temp file exists; close() renames it onto the target."""
    path = tmp_path / "t.json"
    trace = ChromeTraceWriter(path)
    trace.slice(("p", "t"), "a", 0, 1)
    assert not path.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert trace.close() == path
    assert trace.close() == path  # idempotent
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]
    assert path.stat().st_mode & 0o777 == 0o644
    assert len(_events(path)) == 5  # 4 metadata + 1 slice


def test_error_in_block_leaves_old_file_and_no_temp(tmp_path):
    """An exception inside `with` discards the temp file and keeps the previous trace."""
    path = tmp_path / "t.json"
    path.write_text("previous")
    with pytest.raises(RuntimeError), ChromeTraceWriter(path) as trace:
        trace.slice(("p", "t"), "a", 0, 1)
        raise RuntimeError("simulation failed")
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]
    assert path.read_text() == "previous"


def test_writing_after_close_or_negative_duration_raises(tmp_path):
    """Closed writers and negative durations are errors."""
    trace = ChromeTraceWriter(tmp_path / "t.json")
    with pytest.raises(ValueError, match="negative duration"):
        trace.slice(("p", "t"), "a", 5, -1)
    trace.close()
    with pytest.raises(ValueError, match="closed"):
        trace.instant(("p", "t"), "a", 0)


def test_many_slices_stream_to_disk(tmp_path):
    """100k slices: the temp file grows while writing (events are not held in memory)."""
    path = tmp_path / "t.json"
    with ChromeTraceWriter(path) as trace:
        tbu = trace.track("cluster 0", "TBU 0")
        for i in range(100_000):
            trace.slice(tbu, "tb", 10 * i, 5)
        (tmp,) = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert tmp.stat().st_size > 2_000_000  # most of the ~5 MB already flushed
    assert trace.events_written == 100_004
    assert len(_events(path)) == 100_004
