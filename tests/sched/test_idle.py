"""The idle-TBU indexes answer like a scan of every member would."""

import random

import pytest
from schedkit import mesh

from octopus.arch import Topology, load_arch
from octopus.sched.idle import IdleMesh, IdleRanges, IdleSet


def test_idle_set_knows_its_lowest_member_through_adds_and_discards():
    """Lowest id after any mix of adds and discards, re-adds included; empty raises."""
    s = IdleSet([5, 3, 9])
    assert (len(s), s.lowest()) == (3, 3)
    s.discard(3)
    s.add(1)
    s.discard(1)
    s.add(3)
    assert s.lowest() == 3 and sorted(s) == [3, 5, 9]
    for u in (3, 5, 9):
        s.discard(u)
    with pytest.raises(IndexError):
        s.lowest()


def test_idle_set_stays_small_under_churn():
    """Stale heap entries are compacted away: 10,000 add/discard rounds keep the heap bounded."""
    s = IdleSet(range(4))
    for k in range(10_000):
        s.discard(k % 4)
        s.add(k % 4)
    assert len(s._heap) <= 2 * len(s) + 33 and s.lowest() == 0


@pytest.mark.parametrize("seed", range(20))
def test_nearest_matches_a_scan_of_every_member(seed):
    """On an 8x8 wafer corner (4 clusters of 4x4), the nearest member by bytes x hops, ties to
    a preferred member then the lowest id, is what scoring every member finds."""
    rng = random.Random(seed)
    topo = Topology(load_arch("chip-4"))
    members = rng.sample(range(topo.num_tbus), rng.randint(2, 40))
    idle = IdleMesh(topo)
    for u in members:
        idle.add(u)
    for u in members[1::3]:  # members[0] stays
        idle.discard(u)
    sources = [(rng.randrange(topo.num_tbus), rng.choice([0, 1, 2, 4096]))
               for _ in range(rng.randint(1, 4))]
    sources.append((rng.randrange(topo.num_tbus), 1))  # at least one byte
    preferred = set(rng.sample(range(topo.num_tbus), 20))

    def cost(u):
        return sum(w * sum(topo.hops(s, u)) for s, w in sources)

    expected = min(sorted(idle), key=lambda u: (cost(u), u not in preferred, u))
    assert idle.nearest(sources, preferred.__contains__) == expected


def test_nearest_needs_bytes_to_weigh():
    """Sources of zero bytes leave every member equally near: an error, not a silent pick."""
    idle = IdleMesh(Topology(mesh(2)))
    idle.add(0)
    with pytest.raises(ValueError):
        idle.nearest([(1, 0)], lambda u: False)


def test_idle_ranges_know_the_lowest_all_idle_aligned_range_of_each_width():
    ranges = IdleRanges(Topology(mesh(8)), 4)
    assert ranges.lowest(1) is None  # every TBU starts busy
    for u in (1, 2, 3, 5, 6, 7):
        ranges.free(u)
    assert (ranges.lowest(1), ranges.lowest(2), ranges.lowest(4)) == (1, 2, None)
    ranges.free(4)
    ranges.free(4)  # freeing twice counts once
    assert ranges.lowest(4) == 4
    ranges.take(5)
    assert (ranges.lowest(2), ranges.lowest(4)) == (2, None)
    ranges.free(0)
    assert ranges.lowest(4) == 0


def test_idle_ranges_match_a_scan(seed=3):
    rng, ranges, idle = random.Random(seed), IdleRanges(Topology(mesh(16)), 8), set()
    for _ in range(500):
        u = rng.randrange(16)
        if rng.random() < 0.5:
            ranges.free(u)
            idle.add(u)
        else:
            ranges.take(u)
            idle.discard(u)
        for w in (1, 2, 4, 8):
            full = [s for s in range(0, 16, w) if set(range(s, s + w)) <= idle]
            assert ranges.lowest(w) == (full[0] if full else None)
            assert ranges.any(w) == bool(full)


def test_a_range_is_chosen_by_its_holders_or_by_its_distance_to_the_sources():
    """With no source bytes the lowest all-idle range led by a holder wins (lead 0 included),
    else the lowest; with sources, the range whose lead is nearest them."""
    ranges = IdleRanges(Topology(mesh(8, 2)), 4)  # TBU ids 0-7 on row 0, 8-15 on row 1
    for u in range(16):
        ranges.free(u)
    assert ranges.nearest(4, [], IdleSet()) == 0
    assert ranges.nearest(4, [(3, 0)], IdleSet([8, 5])) == 8  # 5 leads no range
    assert ranges.nearest(4, [], IdleSet([0, 8])) == 0
    ranges.take(1)
    assert ranges.nearest(4, [], IdleSet([0])) == 4  # the holder's range is not all idle
    assert ranges.nearest(4, [(12, 1_000)], IdleSet()) == 12
    assert ranges.nearest(4, [(3, 10), (13, 1)], IdleSet()) == 4
