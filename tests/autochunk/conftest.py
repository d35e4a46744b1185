"""Shared setup for the AutoChunk tests: passive OpenMP waits and few threads for stable timing."""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # must precede the torch import

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _no_grad():
    """Inference only: every test runs under ``torch.no_grad``."""
    with torch.no_grad():
        yield
