"""Deadlines: the order in which ``octopus`` serves ready firings when it knows the SLO scale.

A serving system is held to a latency target per request; here an instance's target is a
multiple of its latency floor (its latency alone on the machine). The scheduler cannot know an
instance's floor before it has run, but it can expect it from what has been revealed: an
instance that took a short branch has a short floor, one inside a long decode loop a long one.
So each firing gets the deadline

    ``arrival + deadline_scale x expected_floor[block]``

where ``expected_floor[block]`` (cycles) is the mean critical path of the profiled instances
that run ``block`` (:func:`expected_floors`), and the most urgent firing is the one with the
earliest deadline (EDF). A short instance that arrives behind a long one is then served first
while the long one still has slack, instead of waiting for all of it; a long instance's firings
win again once their deadline is the earliest (no starvation: deadlines are fixed at arrival).

Measured (``benchmarks/goodput_ab.py``, 100 instances, 3 seeds, goodput / capacity, oldest
first -> deadlines): speech-assistant on ``chip`` 0 -> 0.146 (a command instance behind a reply
loop of four 8 M-cycle bursts on the whole chip), on ``chip-4`` 0.027 -> 0.203; the other
built-ins on ``chip`` within their intervals.
"""

from __future__ import annotations

from collections import defaultdict

from octopus.workflow import Capacity, Workflow
from octopus.workflow.analysis import instance_critical_path
from octopus.workflow.sampling import iter_instances

__all__ = ["PROFILE_INSTANCES", "PROFILE_SEED", "expected_floors"]

PROFILE_INSTANCES = 256
"""Instances sampled to estimate the floors (enough that a branch taken one time in five is
seen about fifty times)."""
PROFILE_SEED = 0x0C70
"""Seed of the profile: fixed, and not a run's own seed, so the estimate never reads the
instances it schedules."""


def expected_floors(wf: Workflow, path: Capacity) -> dict[str, float]:
    """Per Task Block id, the mean critical path (cycles, each firing at ``path``'s timing,
    :func:`~octopus.workflow.analysis.instance_critical_path`) of the profiled instances that
    fire it at least once. A block no profiled instance fires gets the overall mean (it is
    rare; an estimate is still needed if it fires)."""
    total: dict[str, float] = defaultdict(float)
    seen: dict[str, int] = defaultdict(int)
    paths = []
    for inst in iter_instances(wf, PROFILE_INSTANCES, PROFILE_SEED):
        cp = float(instance_critical_path(inst, path))
        paths.append(cp)
        for block in {f.block_id for f in inst.firings}:
            total[block] += cp
            seen[block] += 1
    mean = sum(paths) / len(paths)
    return {b.id: total[b.id] / seen[b.id] if seen[b.id] else mean
            for b in wf.blocks if b.type == "task"}
