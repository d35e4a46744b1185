"""A group's ring all-gather (``Noc.ring``) leaves the NoC exactly as the same transfers made
one by one in ring order: the same end, stats, link windows and recorder calls, whether it is
summed in one step (no transfer can wait) or not (shared links, links booked ahead).

Machine: 'chip' on a 2x2 mesh of 2x2-TBU clusters (global 4x4 TBU mesh, ids as in
tests/arch/test_topology.py), so rings mix intra-cluster and die-to-die bottlenecks.
"""

from __future__ import annotations

import random

import pytest
from simkit import Collector

from octopus.arch import Topology, load_arch
from octopus.sim import NULL_RECORDER
from octopus.sim.noc import Noc

MESH = [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]
"""The TBU at each global mesh position, ``MESH[y][x]``."""


def _pair(model: str, clock, recorders=(NULL_RECORDER, NULL_RECORDER)) -> tuple[Noc, Noc]:
    """Two identical NoCs on one clock: one for ``ring``, one for the transfer loop."""
    arch = load_arch("chip", {"chip.clusters_x": 2, "chip.clusters_y": 2, "cluster.tbus_x": 2,
                              "cluster.tbus_y": 2, "noc.model": model})
    topo = Topology(arch)
    return tuple(Noc(topo, arch, clock, r) for r in recorders)


def _one_by_one(noc: Noc, group, nbytes: int, at: int) -> int:
    """The reference: each member's transfer to the next (the last to the first), in order."""
    pairs = zip(group, [*group[1:], group[0]], strict=True)
    return max(noc.transfer(src, dst, nbytes, at)[1] for src, dst in pairs)


def _random_group(rng: random.Random) -> list[int]:
    """Half the time any 1-10 TBUs in any order (rings that often share links), else the four
    corners of a 2x2 square of the mesh in either direction (a ring on four distinct links)."""
    if rng.random() < 0.5:
        return rng.sample(range(16), rng.randint(1, 10))
    x, y = rng.randrange(3), rng.randrange(3)
    square = [MESH[y][x], MESH[y][x + 1], MESH[y + 1][x + 1], MESH[y + 1][x]]
    return square if rng.random() < 0.5 else square[::-1]


def _assert_same(ring: Noc, loop: Noc) -> None:
    assert ring.stats == loop.stats
    links = range(len(ring.stats.link_busy_cycles))
    assert [ring.link_free_at(k) for k in links] == [loop.link_free_at(k) for k in links]
    for lanes in zip(ring._booked._lanes, loop._booked._lanes, strict=True):
        assert lanes[0]._starts == lanes[1]._starts and lanes[0]._ends == lanes[1]._ends


def _forbid_one_by_one(monkeypatch) -> None:
    def fail(*_):
        raise AssertionError("the ring was made transfer by transfer")

    monkeypatch.setattr(Noc, "_send", fail)


@pytest.mark.parametrize("model", ["analytic", "contention"])
def test_random_rings_match_the_transfer_loop(model, monkeypatch):
    """Random groups (:func:`_random_group`), bytes and request cycles, between random single
    transfers (some booked ahead of later requests) as the clock advances (old windows pruned):
    after each step both NoCs agree on everything. Under contention many rings are summed in one
    step and many are not."""
    rng = random.Random(3)
    now = [0]
    ring, loop = _pair(model, lambda: now[0])
    sends, summed, one_by_one = [0], 0, 0
    send = Noc._send

    def counted(*args):
        sends[0] += 1
        return send(*args)

    monkeypatch.setattr(Noc, "_send", counted)
    for _ in range(400):
        now[0] += rng.randrange(0, 200)
        if rng.random() < 0.4:
            src, dst = rng.randrange(16), rng.randrange(16)
            nbytes, at = rng.choice([0, 64, 1000, 6400]), now[0] + rng.randrange(0, 3000)
            assert ring.transfer(src, dst, nbytes, at) == loop.transfer(src, dst, nbytes, at)
        else:
            group = _random_group(rng)
            nbytes, at = rng.choice([0, 1, 640, 5000]), now[0] + rng.randrange(0, 1000)
            before = sends[0]
            end = ring.ring(group, nbytes, at)
            if nbytes and len(group) > 1:
                summed += sends[0] == before
                one_by_one += sends[0] > before
            assert end == _one_by_one(loop, group, nbytes, at)
        _assert_same(ring, loop)
    assert ring.stats.transfers > 900
    assert summed > 30
    assert (one_by_one > 50) if model == "contention" else (one_by_one == 0)


def test_a_ring_on_free_disjoint_links_is_summed_in_one_step(monkeypatch):
    """Ring 1 -> 4 -> 6 -> 3 -> 1 (a square across the cluster edge: four links, none shared,
    two of them d2d) on a fresh NoC: summed without a single transfer, yet equal to the loop."""
    ring, loop = _pair("contention", lambda: 0)
    expected = _one_by_one(loop, [1, 4, 6, 3], 640, 100)
    _forbid_one_by_one(monkeypatch)
    assert ring.ring([1, 4, 6, 3], 640, 100) == expected == 100 + 10 + 640 // 16
    _assert_same(ring, loop)


def test_a_ring_whose_routes_share_a_link_queues_as_the_loop_does():
    """Ring 0 -> 4 -> 1 -> 5 -> 0 along the top mesh row (TBUs 0, 1, 4, 5 from west to east):
    0 -> 4 and 1 -> 5 both take the eastward link 1 -> 4, so the second waits for the first."""
    ring, loop = _pair("contention", lambda: 0)
    assert not ring._ring((0, 4, 1, 5)).disjoint
    end = ring.ring([0, 4, 1, 5], 6400, 0)
    assert end == _one_by_one(loop, [0, 4, 1, 5], 6400, 0)
    assert ring.stats.wait_cycles > 0
    _assert_same(ring, loop)


def test_a_ring_behind_a_link_booked_ahead_waits_as_the_loop_does():
    """A transfer booked from cycle 50 on link 4 -> 6 makes the ring's 4 -> 6 transfer, asked
    at 0, fit in the gap before it or wait for it, exactly as transfer() would."""
    for nbytes, wait in ((640, 0), (6400, 60)):  # 10 or 100 cycles at 64 B/cycle
        ring, loop = _pair("contention", lambda: 0)
        for noc in (ring, loop):
            noc.transfer(4, 6, 640, 50)  # holds 4 -> 6 during [50, 60)
        assert ring.ring([1, 4, 6, 3], nbytes, 0) == _one_by_one(loop, [1, 4, 6, 3], nbytes, 0)
        assert ring.stats.wait_cycles == wait
        _assert_same(ring, loop)


def test_analytic_rings_never_go_transfer_by_transfer(monkeypatch):
    """Without contention a ring is summed in one step even when its routes share links."""
    ring, loop = _pair("analytic", lambda: 0)
    expected = _one_by_one(loop, [0, 4, 1, 5], 6400, 7)
    _forbid_one_by_one(monkeypatch)
    assert ring.ring([0, 4, 1, 5], 6400, 7) == expected
    _assert_same(ring, loop)


def test_a_recorder_sees_the_same_link_windows_in_the_same_order():
    rng = random.Random(5)
    ring_rec, loop_rec = Collector(), Collector()
    ring, loop = _pair("contention", lambda: 0, (ring_rec, loop_rec))
    for _ in range(30):
        group, at = rng.sample(range(16), rng.randint(2, 8)), rng.randrange(0, 500)
        assert ring.ring(group, 640, at) == _one_by_one(loop, group, 640, at)
    assert ring_rec.link_slices == loop_rec.link_slices
    _assert_same(ring, loop)


def test_trivial_rings_and_bad_arguments():
    """One member or zero bytes: nothing moves. Negative bytes and bad ids raise, as in
    transfer()."""
    ring, _ = _pair("contention", lambda: 0)
    assert ring.ring([3], 640, 9) == 9
    assert ring.ring([0, 15], 0, 9) == 9
    assert ring.stats.transfers == 0
    with pytest.raises(ValueError):
        ring.ring([0, 1], -1, 0)
    with pytest.raises(IndexError):
        ring.ring([0, 16], 64, 0)
