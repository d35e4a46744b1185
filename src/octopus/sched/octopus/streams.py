"""One weight stream per block per memory controller: streamed dispatches wait to batch.

A block whose shards cannot be resident streams its weights from off-chip memory on every
dispatch, through the controller that serves the group. A controller serves one read at a time
(:class:`~octopus.sim.memory.MemorySystem`), so a second dispatch of the same block started while
the first still streams through that controller only queues there, holding its own TBUs idle,
with the one firing it took. Waiting instead costs that firing nothing (its stream could not
have started sooner) and lets the next dispatch take every firing that queued meanwhile, the
weights read once for all of them: the continuous batching of LLM serving, with one batch in
flight per set of weights.

:class:`StreamGate` keeps, per (block, controller), the cycle the block's latest stream there
ends; ``octopus`` starts no streamed dispatch of a block that some efficient width leaves
memory-bound (:meth:`~.adaptive.Sizing.memory_bound`) on a group whose controllers are still
streaming it, and decides again when that stream ends. A block compute-bound on every efficient
width does not wait: its stream is over long before its compute, and waiting would only delay
it (one memory-bound on its wide groups waits on its narrow ones too: several narrow streams at
once queue at the controller just the same). With private memory ports nothing is shared and
nothing waits.

Inside a loop (an LLM's decode steps) the gate stays closed until the batch in flight has
*ended* and one Control Block decision later, when its instances' next iterations are ready:
they rejoin the next batch with the firings that waited. Opened at the stream's end instead,
the waiting firing went alone, the finishing instance's next step then waited for its stream,
and two instances alternated, each at half speed, never batching (iteration-level batching,
as Orca serves LLMs). Measured (same benchmark, 3 seeds): llm-agent ``chip`` 0.055 -> 0.146,
``chip-4`` 0 -> 0.013; recommendation, whose streamed block runs once per instance, keeps the
stream's end (with the batch's end it lost 0.224 -> 0.172 on ``chip``).

Measured (``benchmarks/goodput_ab.py``, 100 instances, 3 seeds, goodput / capacity, deadlines on,
without -> with): ``chip`` llm-agent 0 -> 0.055 (16-pass decode steps streaming 355 MB each, two
or three at once on narrow groups), recommendation 0.190 -> 0.224; video-analytics,
driving-perception, speech-assistant unchanged. Every streamed block waiting (compute-bound ones
too) gained more on ``chip`` (llm-agent 0.103, video-analytics 0.433) but cost speech-assistant
on ``chip-4`` 0.203 -> 0.141 (its reply is compute-bound).
"""

from __future__ import annotations

from octopus.sim.memory import MemorySystem

__all__ = ["StreamGate"]


class StreamGate:
    """Per (block, controller), the cycle the block's latest stream through it ends."""

    __slots__ = ("_controller_of", "_groups", "_until")

    def __init__(self, memory: MemorySystem):
        self._controller_of = memory.controller_of if memory.controllers else None
        self._until: dict[tuple[str, int], int] = {}
        self._groups: dict[tuple[int, int], tuple[int, ...]] = {}

    def until(self, block_id: str, lead: int, width: int) -> int:
        """The cycle the latest stream of ``block_id`` through a controller of the group
        ``[lead, lead + width)`` ends (0 if none ever ran)."""
        return max((self._until.get((block_id, c), 0) for c in self._controllers(lead, width)),
                   default=0)

    def started(self, block_id: str, lead: int, width: int, end: int) -> None:
        """Record a stream of ``block_id`` on ``[lead, lead + width)`` that ends at ``end``."""
        for c in self._controllers(lead, width):
            key = (block_id, c)
            self._until[key] = max(self._until.get(key, 0), end)

    def _controllers(self, lead: int, width: int) -> tuple[int, ...]:
        """The shared controllers serving the group (none with private ports)."""
        found = self._groups.get((lead, width))
        if found is None:
            of = self._controller_of
            found = () if of is None else tuple(sorted({of(u) for u in range(lead, lead + width)}))
            self._groups[(lead, width)] = found
        return found
