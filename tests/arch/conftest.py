"""Fixtures for the hardware-model tests: small, hand-checkable machines."""

from __future__ import annotations

import pytest

from octopus.arch import ArchConfig, load_arch


@pytest.fixture
def mesh2x2() -> ArchConfig:
    """The 'chip' preset shrunk to a 2x2 mesh of clusters, each 2x2 TBUs (a 4x4 TBU mesh)."""
    overrides = {"chip.clusters_x": 2, "chip.clusters_y": 2, "cluster.tbus_x": 2}
    return load_arch("chip", {**overrides, "cluster.tbus_y": 2})
