"""The ``octopus`` Typer app and what every command shares: one-line input errors (exit 2),
progress on long work, and stage lines from the library's log.

Commands live one module each (``octopus.cli.<command>``) and register on :data:`app`;
``octopus.cli.main`` imports them all and is the entry point.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Annotated, Any, TypeVar

import typer

from octopus import __version__
from octopus.errors import InputError

__all__ = ["JsonFlag", "app", "progress", "user_errors"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Orchestrated AI workflows on scale-out spatial accelerators.",
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
T = TypeVar("T")


def _print_version(value: bool) -> None:
    if value:
        print(f"octopus {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """Orchestrated AI workflows on scale-out spatial accelerators."""
    _log_stages()


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an :class:`InputError` into one ``error:`` line per problem and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            for problem in exc.problems:
                print(f"error: {problem}", file=sys.stderr)
            raise typer.Exit(2) from None

    return wrapper


def progress(desc: str, quiet: bool = False
             ) -> Callable[..., Iterator[T]]:
    """A wrapper ``wrap(stream, total, stage=None)`` for a stream of ``total`` results: a tqdm
    bar on a terminal, otherwise a line when the stage starts, at each quarter and when it ends
    (with its wall time), all on stderr; nothing when ``quiet``. ``stage`` names the part of
    the work the stream is (e.g. "stage 1 of 2: ...")."""

    def wrap(stream: Iterable[T], total: int, stage: str | None = None) -> Iterator[T]:
        label = f"{desc} ({stage})" if stage else desc
        if quiet:
            yield from stream
        elif sys.stderr.isatty():
            from tqdm import tqdm

            yield from tqdm(stream, total=total, desc=label, unit="run", file=sys.stderr)
        else:
            yield from _lines(stream, total, label)

    return wrap


def _lines(stream: Iterable[T], total: int, desc: str) -> Iterator[T]:
    start = time.perf_counter()
    print(f"{desc}: {total} to run", file=sys.stderr, flush=True)
    marks = {max(1, total * q // 4) for q in (1, 2, 3)}
    done = 0
    for item in stream:
        done += 1
        if done in marks and done < total:
            print(f"{desc}: {done}/{total} done", file=sys.stderr, flush=True)
        yield item
    print(f"{desc}: {done}/{total} done in {time.perf_counter() - start:.0f} s", file=sys.stderr,
          flush=True)


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (tests swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _log_stages() -> None:
    """Show the library's INFO lines (e.g. "profiling torch model ...") on stderr, once."""
    log = logging.getLogger("octopus")
    if not any(isinstance(h, _Stderr) for h in log.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
