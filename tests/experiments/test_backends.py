"""Backends: the same sweep gives the same results.csv rows on a process pool and on Dask."""

import importlib.util
import os
import socket
import threading
import time

import pytest
from sweepkit import write_spec

from octopus.errors import InputError
from octopus.experiments.backends import CONNECT_TIMEOUT_S, LocalBackend, make_backend
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


@pytest.fixture
def not_dask():
    """The address of a TCP server that accepts a connection, writes junk and closes it."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4)

    threading.Thread(target=serve, daemon=True).start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    server.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not HAS_DASK, reason="dask[distributed] is not installed")
@pytest.mark.parametrize("address, reason", [
    (None, "Connection refused"), ("not_dask", "no Dask scheduler answers"),
    ("no-port", "is not a Dask address")])
def test_a_dask_address_without_a_scheduler_fails_before_the_sweep_folder(address, reason,
                                                                         tmp_path, request):
    """--address where no scheduler answers exits 2 in one line, quickly, and creates nothing
    (a refused port, a server that is not Dask, a malformed address)."""
    from typer.testing import CliRunner

    from octopus.cli.main import app

    if address is None:
        address = f"tcp://127.0.0.1:{_closed_port()}"
    elif address == "no-port":
        address = "somehost"
    else:
        address = request.getfixturevalue(address)
    spec = write_spec(tmp_path)
    start = time.monotonic()
    result = CliRunner().invoke(app, ["sweep", str(spec), "--out", str(tmp_path / "out"),
                                      "--backend", "dask", "--address", address])
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "address" in lines[0] and reason in lines[0], lines
    assert time.monotonic() - start < CONNECT_TIMEOUT_S + 5
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not HAS_DASK, reason="dask[distributed] is not installed")
def test_a_running_scheduler_passes_the_address_check():
    """The check accepts a real scheduler (and map then runs on it)."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        backend = make_backend("dask", address=cluster.scheduler_address)
        assert sorted(backend.map(_square, [1, 2, 3])) == [1, 4, 9]
