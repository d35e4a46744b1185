"""Where sweep points run: a backend maps a function over items and yields results as they
finish (in completion order, not input order).

Two backends: :class:`LocalBackend` (a process pool on this machine) and :class:`DaskBackend`
(a Dask distributed cluster: an existing scheduler, or a ``LocalCluster`` it starts). Dask is
imported only when a :class:`DaskBackend` is built; it comes with ``pip install octopus[dask]``.

Contract of :meth:`Backend.map`: ``fn`` and every item must pickle; ``fn`` runs in a worker
process, never in the caller's; every item is run exactly once unless the consumer stops early,
in which case work not yet started is cancelled. An exception raised by ``fn`` propagates out of
the iterator (sweeps catch errors inside their point function instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from typing import Protocol, TypeVar

from octopus.errors import InputError

__all__ = ["BACKENDS", "CONNECT_TIMEOUT_S", "PRELOAD", "Backend", "DaskBackend", "LocalBackend",
           "make_backend"]

T = TypeVar("T")
R = TypeVar("R")
BACKENDS = ("local", "dask")
CONNECT_TIMEOUT_S = 5.0
"""How long :class:`DaskBackend` waits for a scheduler at ``address`` to answer."""
PRELOAD = ("octopus.experiments.sweep", "numpy.random")  # what every point needs


class Backend(Protocol):
    """Runs ``fn`` over ``items`` elsewhere, yielding each result as soon as it is done."""

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]: ...


class LocalBackend:
    """A process pool on this machine: ``workers`` processes (default: the CPU count).

    Every item runs in a fresh process (``max_tasks_per_child=1``) forked from a forkserver that
    has already imported :data:`PRELOAD` and ``preload`` (modules), so no state leaks from one
    point to the next and a new process costs a fork, not an import. A new process re-imports
    the caller's ``__main__`` file (as multiprocessing's spawn does): name the modules the main
    script imports in ``preload`` to keep that cheap; ``python -`` (a script on stdin) cannot
    start workers.
    """

    def __init__(self, workers: int | None = None, preload: Sequence[str] = ()):
        if workers is not None and workers < 1:
            raise InputError(None, "workers", f"must be at least 1 (got {workers})")
        self.workers = workers or os.cpu_count() or 1
        self.preload = [*PRELOAD, *preload]

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        if not items:
            return
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(self.preload)
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(items)), mp_context=ctx,
                                   max_tasks_per_child=1)
        try:
            futures = [pool.submit(fn, item) for item in items]
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            # On early exit (an interrupt, a closed generator) drop what has not started.
            pool.shutdown(wait=True, cancel_futures=True)


class DaskBackend:
    """A Dask distributed cluster.

    With ``address`` (e.g. ``tcp://10.0.0.5:8786``) it connects to a running scheduler; without,
    it starts a ``LocalCluster`` of ``workers`` single-threaded worker processes for the duration
    of one :meth:`map`. Points then run one at a time per worker process.

    ``address`` is checked at construction by connecting a client (a TCP address that refuses
    the connection fails at once): no Dask scheduler answering there within
    ``connect_timeout_s`` is an error before anything is created or run.

    Raises:
        InputError: ``dask[distributed]`` is not installed, ``address`` is malformed or
            unreachable (all at construction, before any run).
    """

    def __init__(self, address: str | None = None, workers: int | None = None,
                 connect_timeout_s: float = CONNECT_TIMEOUT_S):
        try:
            import distributed  # noqa: F401  (fail early: the extra is optional)
        except ImportError:
            raise InputError(None, "backend dask", "needs Dask: pip install 'octopus[dask]' "
                                                     "(or dask[distributed])") from None
        if workers is not None and workers < 1:
            raise InputError(None, "workers", f"must be at least 1 (got {workers})")
        if address:
            _check_scheduler(address, connect_timeout_s)
        self.address = address
        self.workers = workers or os.cpu_count() or 1
        self.connect_timeout_s = connect_timeout_s

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        if not items:
            return
        from distributed import Client, LocalCluster, as_completed

        with contextlib.ExitStack() as stack:
            if self.address:
                client = stack.enter_context(Client(self.address,
                                                    timeout=f"{self.connect_timeout_s}s"))
            else:
                cluster = stack.enter_context(LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=True,
                    dashboard_address=None))
                client = stack.enter_context(Client(cluster))
            futures = client.map(fn, list(items), pure=False)
            try:
                for fut in as_completed(futures):
                    yield fut.result()
            finally:
                client.cancel(futures)


def _check_scheduler(address: str, timeout_s: float) -> None:
    """Raise unless a Dask scheduler at ``address`` answers within ``timeout_s``."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        host_port = parse_host_port(location) if scheme in ("tcp", "tls", "ws", "wss") else None
    except ValueError as exc:
        raise InputError(None, "address", f"{address!r} is not a Dask address ({exc})") from None
    try:
        if host_port is not None:  # a refused connection fails at once, not after the timeout
            socket.create_connection(host_port, timeout=timeout_s).close()
        with ThreadPoolExecutor(1) as pool:  # its own event loop, whatever the caller runs
            kind = pool.submit(asyncio.run, _identity(address, timeout_s)).result()
        reason = f"a Dask {kind} answered"
    except Exception as exc:  # whatever answers there (or nothing) is no Dask scheduler
        kind, reason = None, getattr(exc, "strerror", None) or type(exc).__name__
    if kind != "Scheduler":
        raise InputError(None, "address", f"no Dask scheduler answers at {address} within "
                                          f"{timeout_s:g} s ({reason})")


async def _identity(address: str, timeout_s: float) -> str:
    """The ``type`` a Dask server at ``address`` reports (``"Scheduler"`` for a scheduler)."""
    from distributed.core import rpc

    async with rpc(address, timeout=timeout_s) as server:
        identity = await asyncio.wait_for(server.identity(), timeout_s)
    return str(identity.get("type"))


def make_backend(name: str, workers: int | None = None, address: str | None = None,
                 preload: Sequence[str] = ()) -> Backend:
    """The backend called ``name`` (one of :data:`BACKENDS`); ``preload`` goes to
    :class:`LocalBackend`.

    Raises:
        InputError: unknown name, ``address`` without Dask, Dask missing, or an ``address``
            where no scheduler answers.
    """
    if name == "local":
        if address:
            raise InputError(None, "address", "only the dask backend connects to an address")
        return LocalBackend(workers, preload)
    if name == "dask":
        return DaskBackend(address, workers)
    raise InputError(None, "backend", f"unknown '{name}' (choose from: {', '.join(BACKENDS)})")
