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

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Protocol, TypeVar

from octopus.errors import InputError

__all__ = ["BACKENDS", "PRELOAD", "Backend", "DaskBackend", "LocalBackend", "make_backend"]

T = TypeVar("T")
R = TypeVar("R")
BACKENDS = ("local", "dask")
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

    Raises:
        InputError: ``dask[distributed]`` is not installed (at construction, before any run).
    """

    def __init__(self, address: str | None = None, workers: int | None = None):
        try:
            import distributed  # noqa: F401  (fail early: the extra is optional)
        except ImportError:
            raise InputError(None, "backend dask", "needs Dask: pip install 'octopus[dask]' "
                                                     "(or dask[distributed])") from None
        if workers is not None and workers < 1:
            raise InputError(None, "workers", f"must be at least 1 (got {workers})")
        self.address = address
        self.workers = workers or os.cpu_count() or 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        if not items:
            return
        from distributed import Client, LocalCluster, as_completed

        with contextlib.ExitStack() as stack:
            if self.address:
                client = stack.enter_context(Client(self.address))
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


def make_backend(name: str, workers: int | None = None, address: str | None = None,
                 preload: Sequence[str] = ()) -> Backend:
    """The backend called ``name`` (one of :data:`BACKENDS`); ``preload`` goes to
    :class:`LocalBackend`.

    Raises:
        InputError: unknown name, ``address`` without Dask, or Dask missing.
    """
    if name == "local":
        if address:
            raise InputError(None, "address", "only the dask backend connects to an address")
        return LocalBackend(workers, preload)
    if name == "dask":
        return DaskBackend(address, workers)
    raise InputError(None, "backend", f"unknown '{name}' (choose from: {', '.join(BACKENDS)})")
