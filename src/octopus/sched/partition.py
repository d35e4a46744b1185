"""The compile-time spatial mapping shared by the static baselines.

``proportional_partition`` splits one cluster's TBUs among a workflow's Task Blocks in
proportion to their *expected* demand (expected firings x cycles of the mean work), the way a
static spatial compiler sizes pipeline stages from a profile.
"""

from __future__ import annotations

from octopus.workflow import Capacity, Workflow, expected_firings

__all__ = ["block_demand", "proportional_partition"]


def block_demand(wf: Workflow, capacity: Capacity) -> dict[str, float]:
    """Expected TBU-cycles per instance of every Task Block, by id, timed as ``capacity``
    (the machine's) times its mean firing."""
    firings = expected_firings(wf)
    return {b.id: firings[b.id] * capacity.cycles(b.kind, b.work.mean, b.id)
            for b in wf.blocks if b.type == "task"}


def proportional_partition(demand: dict[str, float], tbus: int) -> list[list[str]]:
    """Blocks served by each of ``tbus`` TBUs (index = TBU offset in the cluster).

    With at least as many TBUs as blocks, every block gets one TBU and each further TBU goes to
    the block with the highest demand per TBU so far (minimising the most loaded partition).
    With fewer, blocks are packed onto the least loaded TBU, largest first. Ties go to
    declaration order, so the result is deterministic.
    """
    blocks = list(demand)
    if len(blocks) <= tbus:
        count = dict.fromkeys(blocks, 1)
        for _ in range(tbus - len(blocks)):
            b = max(blocks, key=lambda x: demand[x] / count[x])
            count[b] += 1
        return [[b] for b in blocks for _ in range(count[b])]
    load = [0.0] * tbus
    served: list[list[str]] = [[] for _ in range(tbus)]
    for b in sorted(blocks, key=lambda x: -demand[x]):
        u = min(range(tbus), key=load.__getitem__)
        served[u].append(b)
        load[u] += demand[b]
    return served
