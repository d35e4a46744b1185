"""What one TBU holds: configurations (or shards of one, in a group), bounded by slots and bytes.

A configuration is held under a *key*: the block id when the block runs on one TBU, else
:func:`shard_key` (the member's shard of a group-wide configuration). A TBU holds at most
``slots`` keys whose bytes sum to at most ``capacity`` (its configuration share of SRAM);
admitting one more evicts the least recently used keys that are not pinned (in use by a firing
that is running or waiting to run on the TBU). The TBUs of a machine may share a *holders*
index, key -> the TBUs holding it, which their residencies keep exact.
"""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["Residency", "shard_key"]


def shard_key(block_id: str, width: int, index: int) -> str:
    """The key member ``index`` of a ``width``-TBU group holds ``block_id``'s shard under
    (the block id itself on one TBU)."""
    return block_id if width == 1 else f"{block_id}[{index + 1}/{width}]"


class Residency:
    """The configurations resident on one TBU, least recently used first (module doc)."""

    __slots__ = ("_held", "_holders", "_tbu", "capacity", "slots", "used_bytes")

    def __init__(self, slots: int, capacity: int, tbu: int = 0,
                 holders: dict[str, set[int]] | None = None):
        """``slots`` keys of at most ``capacity`` bytes in all, on TBU ``tbu``, which is added
        to (and removed from) ``holders[key]`` as it admits (and evicts) ``key``."""
        self.slots, self.capacity = slots, capacity
        self._held: dict[str, int] = {}  # key -> bytes, in LRU order (dicts keep insertion order)
        self._tbu = tbu
        self._holders = holders if holders is not None else {}
        self.used_bytes = 0

    def __contains__(self, key: str) -> bool:
        return key in self._held

    def held(self) -> list[str]:
        """Held keys, least recently used first."""
        return list(self._held)

    def touch(self, key: str) -> bool:
        """Mark ``key`` most recently used; returns whether it is held."""
        nbytes = self._held.pop(key, None)
        if nbytes is None:
            return False
        self._held[key] = nbytes
        return True

    def admit(self, key: str, nbytes: int, pinned: Collection[str] = ()) -> bool:
        """Hold ``key`` (``nbytes``), evicting unpinned keys least recently used first. Returns
        False, evicting nothing, when it cannot fit besides the pinned keys (or at all)."""
        if key in self._held:
            self.touch(key)
            return True
        keep = [k for k in self._held if k in pinned]
        if (nbytes > self.capacity or len(keep) >= self.slots
                or sum(self._held[k] for k in keep) + nbytes > self.capacity):
            return False
        for victim in list(self._held):
            if len(self._held) < self.slots and self.used_bytes + nbytes <= self.capacity:
                break
            if victim not in pinned:
                self.used_bytes -= self._held.pop(victim)
                self._holders[victim].discard(self._tbu)
        self._held[key] = nbytes
        self.used_bytes += nbytes
        self._holders.setdefault(key, set()).add(self._tbu)
        return True
