"""Fixtures every test folder may use."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def make_fifo() -> Iterator[Callable[[Path], Path]]:
    """``make_fifo(path)`` makes a named pipe at ``path``. Should a reader block on it, a writer
    unblocks it after 10 s, so that a regression fails its test instead of hanging the suite."""
    done = threading.Event()
    threads = []

    def make(path: Path) -> Path:
        os.mkfifo(path)

        def unblock() -> None:
            if done.wait(10):
                return
            try:  # non-blocking: fails at once when nobody is reading
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                return
            os.write(fd, b"name: x\n")
            os.close(fd)

        threads.append(threading.Thread(target=unblock, daemon=True))
        threads[-1].start()
        return path

    yield make
    done.set()
    for thread in threads:
        thread.join()
