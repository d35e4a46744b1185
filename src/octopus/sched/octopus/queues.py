"""Ready firings by block, most urgent first: what every ``octopus`` mechanism draws from."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from itertools import count

from octopus.sim.state import Task

__all__ = ["BlockQueues"]


class BlockQueues:
    """A priority queue of ready firings per block, ordered by ``key(task)`` (smallest first,
    then arrival order)."""

    def __init__(self, key: Callable[[Task], tuple]):
        self._key = key
        self._heaps: dict[str, list[tuple[tuple, int, Task]]] = {}
        self._seq = count().__next__
        self.total = 0

    def push(self, task: Task) -> None:
        heap = self._heaps.setdefault(task.block_id, [])
        heapq.heappush(heap, (self._key(task), self._seq(), task))
        self.total += 1

    def count(self, block: str) -> int:
        return len(self._heaps.get(block, ()))

    def peek(self, block: str, n: int) -> list[Task]:
        """The ``n`` most urgent firings of ``block`` (fewer if fewer wait), left queued, in
        ``O(n log n)`` whatever the queue's length: the heap is walked from its root, a child
        becoming a candidate once its parent is taken."""
        heap = self._heaps[block]
        if n == 1 or len(heap) <= 1:
            return [heap[0][2]] if heap and n > 0 else []
        out: list[Task] = []
        frontier = [(heap[0], 0)]
        while frontier and len(out) < n:
            entry, i = heapq.heappop(frontier)
            out.append(entry[2])
            for child in (2 * i + 1, 2 * i + 2):
                if child < len(heap):
                    heapq.heappush(frontier, (heap[child], child))
        return out

    def pop(self, block: str, n: int) -> list[Task]:
        """The ``n`` most urgent firings of ``block`` (fewer if fewer wait), removed."""
        heap = self._heaps[block]
        out = [heapq.heappop(heap)[2] for _ in range(min(n, len(heap)))]
        self.total -= len(out)
        return out

    def by_urgency(self) -> list[str]:
        """Blocks with firings waiting, the one whose head is most urgent first."""
        heads = [(heap[0][:2], block) for block, heap in self._heaps.items() if heap]
        return [block for _, block in sorted(heads)]
