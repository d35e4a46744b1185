"""The event core: time order, the named tie order, run/step/peek/stop, and a SimPy oracle."""

from __future__ import annotations

import pytest
import simpy

from octopus.sim.core import COMPLETION, DECISION, RELEASE, EventCore


@pytest.fixture
def core() -> EventCore:
    return EventCore()


def test_fires_in_time_order(core):
    """Events fire by time whatever order they were scheduled in; the clock follows."""
    seen = []
    for t in (30, 10, 20):
        core.schedule(t, RELEASE, lambda t=t: seen.append((t, core.now)))
    assert core.run() == 30
    assert seen == [(10, 10), (20, 20), (30, 30)]


def test_tie_order_completion_release_decision(core):
    """At equal time: completions, then releases, then decisions, regardless of call order."""
    seen = []
    core.schedule(5, DECISION, seen.append, "decision")
    core.schedule(5, RELEASE, seen.append, "release")
    core.schedule(5, COMPLETION, seen.append, "completion")
    core.run()
    assert seen == ["completion", "release", "decision"]
    assert COMPLETION < RELEASE < DECISION


def test_equal_time_and_priority_is_fifo(core):
    """Same time and priority: first scheduled, first fired."""
    seen = []
    for i in range(5):
        core.schedule(3, RELEASE, seen.append, i)
    core.run()
    assert seen == [0, 1, 2, 3, 4]


def test_zero_delay_completion_preempts_pending_decisions(core):
    """A completion scheduled at `now` by a decision fires before the other decisions at `now`."""
    seen = []

    def first_decision():
        seen.append("d1")
        core.schedule(0, COMPLETION, seen.append, "c")

    core.schedule(1, DECISION, first_decision)
    core.schedule(1, DECISION, seen.append, "d2")
    core.run()
    assert seen == ["d1", "c", "d2"]


def test_scheduling_in_the_past_raises(core):
    """Negative delays and absolute times before now are errors."""
    core.schedule(10, RELEASE, lambda: None)
    core.run()
    with pytest.raises(ValueError, match="past"):
        core.schedule(-1, RELEASE, lambda: None)
    with pytest.raises(ValueError, match="cannot schedule at cycle 9"):
        core.schedule_at(9, RELEASE, lambda: None)
    core.schedule_at(10, RELEASE, lambda: None)  # now itself is allowed
    assert len(core) == 1


def test_run_until_stops_and_sets_clock(core):
    """run(until) fires events at times <= until, sets now = until, and keeps the rest."""
    seen = []
    for t in (5, 10, 15):
        core.schedule(t, RELEASE, seen.append, t)
    assert core.run(until=10) == 10
    assert seen == [5, 10]
    assert core.peek() == 15
    assert core.run(until=12) == 12
    assert core.run() == 15
    assert seen == [5, 10, 15]
    with pytest.raises(ValueError):
        core.run(until=3)


def test_step_and_peek(core):
    """step fires one event and returns False when empty; peek shows the next time."""
    assert core.peek() is None
    assert core.step() is False
    core.schedule(7, RELEASE, lambda: None)
    assert core.peek() == 7
    assert core.step() is True
    assert (core.now, core.peek(), len(core)) == (7, None, 0)


def test_stop_returns_after_current_callback(core):
    """stop() ends run() once the callback returns; pending events survive for the next run."""
    seen = []

    def stopper():
        seen.append("stopper")
        core.stop()
        seen.append("after stop()")

    core.schedule(1, RELEASE, stopper)
    core.schedule(1, RELEASE, seen.append, "same time")
    core.schedule(2, RELEASE, seen.append, "later")
    assert core.run() == 1
    assert seen == ["stopper", "after stop()"]
    assert core.run() == 2
    assert seen[2:] == ["same time", "later"]


def test_callback_exception_propagates_with_clock_at_event(core):
    """An error in a callback escapes run() with now at that event and the event consumed."""

    def boom():
        raise RuntimeError("boom")

    core.schedule(4, RELEASE, boom)
    core.schedule(9, RELEASE, lambda: None)
    with pytest.raises(RuntimeError):
        core.run()
    assert (core.now, len(core)) == (4, 1)


# A small job shop: jobs (arrival, duration) on 2 identical machines, FIFO. Ties included.
JOBS = [(0, 7), (0, 3), (2, 5), (3, 3), (3, 8), (6, 1), (10, 4), (10, 4), (25, 2)]
MACHINES = 2


def _simpy_finish_times() -> list[int]:
    env = simpy.Environment()
    machines = simpy.Resource(env, capacity=MACHINES)
    finish = [0] * len(JOBS)

    def job(i, arrival, duration):
        yield env.timeout(arrival)
        with machines.request() as req:
            yield req
            yield env.timeout(duration)
        finish[i] = env.now

    for i, (arrival, duration) in enumerate(JOBS):
        env.process(job(i, arrival, duration))
    env.run()
    return finish


def _core_finish_times() -> list[int]:
    core = EventCore()
    queue: list[int] = []
    free = [MACHINES]
    finish = [0] * len(JOBS)

    def dispatch():
        while free[0] and queue:
            i = queue.pop(0)
            free[0] -= 1
            core.schedule(JOBS[i][1], COMPLETION, done, i)

    def done(i):
        finish[i] = core.now
        free[0] += 1
        core.schedule(0, DECISION, dispatch)

    def arrive(i):
        queue.append(i)
        core.schedule(0, DECISION, dispatch)

    for i, (arrival, _) in enumerate(JOBS):
        core.schedule_at(arrival, RELEASE, arrive, i)
    core.run()
    return finish


def test_matches_simpy_on_a_job_shop():
    """The same FIFO job shop gives the same per-job finish times (and makespan) as SimPy."""
    ours, theirs = _core_finish_times(), _simpy_finish_times()
    assert ours == theirs
    assert max(ours) == 27  # hand check: the last job arrives at 25 to idle machines


def test_module_docstring_example_runs():
    """The example in the module docstring runs and prints what it says."""
    import doctest

    import octopus.sim.core as module

    result = doctest.testmod(module)
    assert (result.failed, result.attempted > 0) == (0, True)
