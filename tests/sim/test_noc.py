"""NoC timing at both fidelities, contention on a shared link, stats and the recorder's link
windows.

Machine: 'chip' on a 2x2 mesh of 2x2-TBU clusters (global 4x4 TBU mesh, ids as in
tests/arch/test_topology.py). Intra links: 64 B/cycle, 2 cycles/hop; d2d: 16 B/cycle, 10 cycles.
"""

from __future__ import annotations

import pytest

from octopus.arch import Topology, load_arch, transfer_cycles
from octopus.sim import NULL_RECORDER, NullRecorder
from octopus.sim.noc import Noc


class _Links(NullRecorder):
    """A recorder passing every link window to ``fn(link, start, end, nbytes)``."""

    def __init__(self, fn) -> None:
        self.fn = fn

    def link(self, link: int, start: int, end: int, nbytes: int) -> None:
        self.fn(link, start, end, nbytes)


def _no_clock() -> int:
    return 0


def _noc(model: str, on_link=None, arbitration: str = "interleave") -> tuple[Noc, Topology]:
    arch = load_arch(
        "chip",
        {
            "chip.clusters_x": 2,
            "chip.clusters_y": 2,
            "cluster.tbus_x": 2,
            "cluster.tbus_y": 2,
            "noc.model": model,
            "noc.arbitration": arbitration,
        },
    )
    topo = Topology(arch)
    return Noc(topo, arch, _no_clock, _Links(on_link) if on_link else NULL_RECORDER), topo


@pytest.mark.parametrize("model", ["analytic", "contention"])
def test_lone_transfer_matches_formula(model):
    """0 -> 15: 4 intra + 2 d2d hops, 640 B: 4*2 + 2*10 + ceil(640/16) = 68 cycles."""
    noc, topo = _noc(model)
    assert noc.transfer(0, 15, 640, now=100) == (100, 168)
    assert transfer_cycles(load_arch("chip"), *topo.hops(0, 15), 640) == 68


@pytest.mark.parametrize("model", ["analytic", "contention"])
def test_local_and_empty_transfers_are_free(model):
    """Same TBU or zero bytes: done at `now`, nothing counted."""
    noc, _ = _noc(model)
    assert noc.transfer(3, 3, 10**6, now=5) == (5, 5)
    assert noc.transfer(0, 15, 0, now=5) == (5, 5)
    assert noc.stats.transfers == 0


def test_contention_delays_second_transfer_by_first_hold():
    """A: 0->1 holds link 0->1 for ceil(640/64) = 10 cycles; B: 0->4 shares it, so waits 10.

    B alone: 1 intra + 1 d2d hop = 2 + 10 latency + ceil(640/16) = 40 -> (0, 52);
    behind A it is (10, 62).
    """
    noc, _ = _noc("contention")
    assert noc.transfer(0, 1, 640, now=0) == (0, 12)
    assert noc.transfer(0, 4, 640, now=0) == (10, 62)
    assert noc.stats.wait_cycles == 10


def test_analytic_ignores_the_shared_link():
    """The same two transfers under the analytic model do not wait."""
    noc, _ = _noc("analytic")
    assert noc.transfer(0, 1, 640, now=0) == (0, 12)
    assert noc.transfer(0, 4, 640, now=0) == (0, 52)
    assert noc.stats.wait_cycles == 0


def test_disjoint_routes_do_not_interfere():
    """A transfer on other links starts at once, even while others are busy."""
    noc, _ = _noc("contention")
    noc.transfer(0, 4, 640, now=0)  # holds 0->1 and 1->4 until 40
    assert noc.transfer(4, 5, 640, now=0) == (0, 12)
    assert noc.transfer(1, 4, 64, now=3) == (40, 40 + 10 + 4)


def test_a_transfer_asked_for_later_leaves_the_gap_before_it():
    """A group's exchange is booked ahead (from when its compute ends): a transfer asked
    afterwards for an earlier cycle runs in the gap if it fits, else after the booking."""
    noc, _ = _noc("contention")
    assert noc.transfer(0, 1, 640, now=1000) == (1000, 1012)
    assert noc.transfer(0, 1, 640, now=0) == (0, 12)
    assert noc.estimate(0, 1, 64000, now=0) == 1010 + 2 + 1000
    assert noc.transfer(0, 1, 64000, now=0) == (1010, 1010 + 2 + 1000)
    assert noc.link_free_at(0) == 2010


def test_a_small_transfer_goes_ahead_of_a_stream_on_the_link_and_the_next_stream_pays():
    """``interleave``: a 64 MB stream (far above a TBU's 1.5 MiB configuration capacity) holds
    link 0 -> 1 for 1,000,000 cycles; a 640 B activation asked meanwhile crosses at once, and
    the next stream waits for the first and the activation's 10 cycles. ``fifo``: the activation
    waits out the stream."""
    noc, _ = _noc("contention")
    stream = 64_000_000
    assert noc.transfer(0, 1, stream, now=0) == (0, 1_000_002)
    assert noc.estimate(0, 1, 640, now=5) == 5 + 2 + 10
    assert noc.transfer(0, 1, 640, now=5) == (5, 17)
    assert noc.transfer(0, 1, stream, now=5) == (1_000_010, 2_000_012)
    assert noc.link_free_at(0) == 2_000_010
    fifo, _ = _noc("contention", arbitration="fifo")
    fifo.transfer(0, 1, stream, now=0)
    assert fifo.transfer(0, 1, 640, now=5) == (1_000_000, 1_000_012)


def test_link_free_after_reservation_ends():
    """A request after the window ends starts at its own `now`."""
    noc, _ = _noc("contention")
    noc.transfer(0, 1, 640, now=0)
    assert noc.transfer(0, 1, 640, now=10) == (10, 22)


def test_estimate_has_no_side_effects():
    """estimate() predicts transfer()'s end without reserving links or counting."""
    noc, _ = _noc("contention")
    noc.transfer(0, 1, 640, now=0)
    assert noc.estimate(0, 4, 640, now=0) == 62
    assert noc.estimate(0, 4, 640, now=0) == 62
    assert noc.stats.transfers == 1


def test_an_unloaded_transfer_bounds_the_estimate_from_below():
    """Over idle links the two agree; behind a booked link only the estimate waits."""
    noc, _ = _noc("contention")
    assert noc.unloaded(0, 4, 640, now=0) == noc.estimate(0, 4, 640, now=0) == 52
    noc.transfer(0, 1, 640, now=0)
    assert noc.unloaded(0, 4, 640, now=0) == 52 < noc.estimate(0, 4, 640, now=0) == 62
    assert noc.unloaded(0, 0, 640, now=5) == noc.unloaded(0, 4, 0, now=5) == 5


def test_stats_and_link_windows():
    """Bytes, bytes x hops, per-link busy cycles and the recorded windows add up."""
    windows = []
    noc, topo = _noc("contention", lambda *w: windows.append(w))
    noc.transfer(0, 1, 640, now=0)
    noc.transfer(0, 4, 640, now=0)
    s = noc.stats
    assert (s.transfers, s.total_bytes, s.byte_hops, s.d2d_byte_hops) == (2, 1280, 1920, 640)
    link01, link14 = topo.route(0, 4)
    assert s.link_busy_cycles[link01] == 10 + 40
    assert s.link_busy_cycles[link14] == 40
    assert sum(s.link_busy_cycles) == 90
    assert windows == [(link01, 0, 10, 640), (link01, 10, 50, 640), (link14, 10, 50, 640)]
    assert noc.link_free_at(link14) == 50


def test_negative_bytes_raise():
    """Negative sizes are errors."""
    noc, _ = _noc("analytic")
    with pytest.raises(ValueError):
        noc.transfer(0, 1, -1, now=0)


def test_link_windows_feed_a_chrome_trace(tmp_path):
    """The recorder can write one slice per link window to a trace, on a track per link."""
    import json

    from octopus.sim.trace import ChromeTraceWriter

    path = tmp_path / "links.json"
    with ChromeTraceWriter(path) as trace:

        def draw(link, start, end, nbytes):
            trace.slice(("links", topo.link_name(link)), "xfer", start, end - start, {"B": nbytes})

        noc, topo = _noc("contention", draw)
        noc.transfer(0, 4, 640, now=0)
    events = json.loads(path.read_text())["traceEvents"]
    threads = [e["args"]["name"] for e in events if e["name"] == "thread_name"]
    assert threads == ["tbu0->tbu1", "tbu1->tbu4 d2d"]
    assert [(e["ts"], e["dur"]) for e in events if e["ph"] == "X"] == [(0.0, 0.04)] * 2


def _per_link_ends(topo: Topology, arch, requests) -> list[int]:
    """The optimistic reference: virtual cut-through with unbounded router buffers, each link
    reserved only for its own window, the head moving on hop by hop as links free."""
    busy = [0] * topo.num_links
    ends = []
    for src, dst, nbytes, now in requests:
        hold = transfer_cycles(arch, *topo.hops(src, dst), nbytes) - sum(
            lat * n for lat, n in zip((arch.cluster.hop_latency_cycles,
                                       arch.chip.d2d_latency_cycles), topo.hops(src, dst),
                                      strict=True))
        t = now
        for link in topo.route(src, dst):
            start = max(t, busy[link])
            busy[link] = start + hold
            t = start + (arch.chip.d2d_latency_cycles if "d2d" in topo.link_name(link)
                         else arch.cluster.hop_latency_cycles)
        ends.append(t + hold)
    return ends


def test_whole_route_reservation_is_close_to_a_per_link_model_on_small_cases():
    """The contention model holds every link of a route for one window. Against per-link
    reservation with unbounded buffers (the optimistic end) on 50 random sets of 30 transfers
    on chip-4 at a heavy load, a set's transfer times sum to within 10% of the per-link model's
    on average (docs/hardware.md)."""
    import random

    arch = load_arch("chip-4")
    topo = Topology(arch)
    rng = random.Random(1)
    ratios = []
    for _ in range(50):
        now, requests = 0, []
        for _ in range(30):
            now += int(rng.expovariate(1 / 500))
            requests.append((rng.randrange(topo.num_tbus), rng.randrange(topo.num_tbus),
                             rng.choice([4096, 65536, 262144]), now))
        noc = Noc(topo, arch, _no_clock)
        whole = [noc.transfer(s, d, n, t)[1] for s, d, n, t in requests]
        optimistic = _per_link_ends(topo, arch, requests)
        took = sum(w - r[3] for w, r in zip(whole, requests, strict=True))
        ratios.append(took / sum(o - r[3] for o, r in zip(optimistic, requests, strict=True)))
    assert sum(ratios) / len(ratios) < 1.10
