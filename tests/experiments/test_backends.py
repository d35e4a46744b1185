"""Backends: the same sweep gives the same results.csv rows on a process pool and on Dask."""

import importlib.util
import os

import pytest
from sweepkit import write_spec

from octopus.errors import InputError
from octopus.experiments.backends import LocalBackend, make_backend
from octopus.experiments.sweep import load_sweep, plan_sweep, run_sweep

HAS_DASK = importlib.util.find_spec("distributed") is not None


def _sorted_rows(path):
    lines = path.read_text().splitlines()
    return lines[0], sorted(lines[1:])


def _square(x):
    return x * x


def test_local_backend_yields_every_result_once():
    """Each item's result comes back exactly once (in completion order)."""
    assert sorted(LocalBackend(2).map(_square, list(range(7)))) == [x * x for x in range(7)]


def test_local_backend_runs_each_item_in_its_own_process():
    """Every item runs in a fresh process, never in the calling one."""
    pids = list(LocalBackend(2).map(_pid, [0, 1, 2, 3]))
    assert len(set(pids)) == 4 and os.getpid() not in pids


def _pid(_):
    return os.getpid()


@pytest.mark.skipif(not HAS_DASK, reason="dask[distributed] is not installed")
def test_twelve_points_same_rows_local_and_dask(tmp_path):
    """A 12-point sweep on the local pool and on a real 2-worker Dask LocalCluster writes the
    same header and the same rows (sorted)."""
    spec = write_spec(tmp_path)
    plan = plan_sweep(load_sweep(spec), spec)
    local = run_sweep(plan, tmp_path / "local", make_backend("local", workers=2))
    dask = run_sweep(plan, tmp_path / "dask", make_backend("dask", workers=2))
    assert (local.ran, dask.ran, local.failed, dask.failed) == (12, 12, {}, {})
    header, rows = _sorted_rows(local.results)
    assert len(rows) == 12
    assert _sorted_rows(dask.results) == (header, rows)


def test_unknown_backend_and_misplaced_address_are_input_errors():
    """--backend must be local or dask; --address belongs to dask."""
    with pytest.raises(InputError, match="unknown 'slurm'"):
        make_backend("slurm")
    with pytest.raises(InputError, match="address"):
        make_backend("local", address="tcp://127.0.0.1:8786")
