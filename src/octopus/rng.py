"""Seeded random streams: one seed, one ``SeedSequence``, one named child stream per purpose.

A stream is addressed by ``(purpose, *index)``, so instance 7 draws from the same stream whether
one instance or a million are sampled, and whatever scheduler consumes it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ARRIVALS", "INSTANCES", "stream"]

INSTANCES = 0  # one stream per workflow instance: its CB outcomes and TB works
ARRIVALS = 1  # open-loop arrival times


def stream(seed: int, purpose: int, *index: int) -> np.random.Generator:
    """The generator for ``purpose`` (and ``index``) under ``seed``.

    Equal to the child reached by ``SeedSequence(seed).spawn(...)`` along the same key path.
    """
    seq = np.random.SeedSequence(seed, spawn_key=(purpose, *index))
    return np.random.Generator(np.random.PCG64(seq))
