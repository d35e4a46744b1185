"""Booked windows: the earliest common free window, gaps before later bookings reused."""

from __future__ import annotations

import random

from octopus.sim.windows import BookedWindows


def _fits(booked: list[list[tuple[int, int]]], resources, start: int, hold: int) -> bool:
    return all(e <= start or s >= start + hold for r in resources for s, e in booked[r])


def test_a_request_takes_the_gap_before_a_later_booking():
    w = BookedWindows(2, lambda: 0)
    w.book([0], 100, 50)
    assert w.earliest([0], 0, 100) == 0
    assert w.earliest([0], 0, 101) == 150
    assert w.earliest([0, 1], 120, 10) == 150
    w.book([1], 150, 10)
    assert w.earliest([0, 1], 120, 10) == 160
    assert w.last_end == [150, 160]


def test_earliest_is_the_first_free_start_of_a_brute_force_search():
    """Random bookings on 4 resources, requests over random subsets: ``earliest`` is the
    smallest start >= the request that overlaps no booking of the subset (searched cycle by
    cycle), and booking there keeps every resource's windows disjoint."""
    rng = random.Random(7)
    w = BookedWindows(4, lambda: 0)
    booked: list[list[tuple[int, int]]] = [[] for _ in range(4)]
    for _ in range(300):
        resources = rng.sample(range(4), rng.randint(1, 4))
        at, hold = rng.randrange(0, 2000), rng.randint(1, 60)
        expected = next(t for t in range(at, 10**6) if _fits(booked, resources, t, hold))
        assert w.earliest(resources, at, hold) == expected
        w.book(resources, expected, hold)
        for r in resources:
            booked[r].append((expected, expected + hold))
    assert w.last_end == [max((e for _, e in b), default=0) for b in booked]


def test_windows_that_ended_before_the_clock_are_forgotten_without_changing_answers():
    now = [0]
    w = BookedWindows(1, lambda: now[0])
    for k in range(40):
        now[0] = 10 * k
        w.book([0], w.earliest([0], now[0], 5), 5)
    assert len(w._ends[0]) <= 9
    assert w.earliest([0], now[0], 5) == now[0] + 5


def test_booking_free_resources_at_once_is_booking_them_one_by_one():
    """``book_free`` on resources free from the start leaves the same windows (and prunes the
    same past ones) as ``book``, as the clock advances past old windows."""
    rng = random.Random(11)
    now = [0]
    bulk, single = BookedWindows(6, lambda: now[0]), BookedWindows(6, lambda: now[0])
    booked = 0
    for _ in range(300):
        now[0] += rng.randrange(0, 30)
        at, hold = now[0] + rng.randrange(0, 40), rng.randint(1, 20)
        free = [r for r in rng.sample(range(6), rng.randint(0, 6)) if single.last_end[r] <= at]
        bulk.book_free(free, at, hold)
        booked += len(free)
        single.book(free, at, hold)
        assert (bulk._starts, bulk._ends, bulk.last_end) == (single._starts, single._ends,
                                                              single.last_end)
    assert sum(map(len, bulk._ends)) < booked // 4  # most were pruned
