"""The compile-time spatial mapping shared by the static baselines.

``proportional_partition`` splits one cluster's TBUs among a workflow's Task Blocks in
proportion to their *expected* demand (expected firings x cycles of the mean work), the way a
static spatial compiler sizes pipeline stages from a profile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from octopus.workflow import Workflow, expected_firings

__all__ = ["block_demand", "proportional_partition"]


def block_demand(wf: Workflow, cycles: Callable[[str, float], int],
                 block_cycles: Mapping[str, int] | None = None) -> dict[str, float]:
    """Expected TBU-cycles per instance of every Task Block, by id (``block_cycles``: fixed
    cycles per firing of some blocks, as the machine times them)."""
    firings = expected_firings(wf)
    fixed = block_cycles or {}
    return {b.id: firings[b.id] * (fixed[b.id] if b.id in fixed else cycles(b.kind, b.work.mean))
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
